//! What the paper broker does when prices move, and how an execution is booked.
//!
//! Prices come from the broker's own market stream: the close of each 1-minute kline update is
//! the last trade price; the mark price stream (USD-M) gives the mark and the funding rate.
//! - A resting limit order fills at its limit price, with the maker fee, once the last price
//!   reaches it (a buy when it trades at or below the limit, a sell at or above).
//! - A stop-market, take-profit-market or trailing stop watches the price [`TriggerSource`]
//!   names and, once triggered, executes as a taker at the newer of the last price and the
//!   mark, and when both carry the same exchange time at the worse of the two for the trader (a
//!   gap shows on one stream before the other: a stop must not fill at the pre-gap price of the
//!   stream that has not caught up), moved by the slippage against the trader, with the taker
//!   fee. A market order executes at the last price (the mark when newer) the same way.
//! - A trailing stop tracks the best price since activation (since placement without an
//!   activation price) and fires on a retracement of its callback rate from it.
//! - On USD-M, a close-position order takes the whole position when it fires and expires ("No
//!   position to close.") when there is none; a reduce-only order is cut to the position and
//!   rejected ("ReduceOnly Order is rejected.") when it would open or grow one. Neither ever
//!   flips a position.
//! - Funding (USD-M): when the mark stream's next funding time moves on, the funding due at the
//!   previous one is settled at the rate announced for it and the current mark
//!   (`-qty * mark * rate`) and reported as an account update with reason `FUNDING_FEE`.
//!
//! Every execution reports an order update carrying the fill, the fill, and an account update,
//! timed at the exchange time of the price it executed at; its trade id is
//! `paper-<stamp>-t<n>`, unique within and across sessions.
//!
//! [`TriggerSource`]: super::TriggerSource

use rust_decimal::Decimal;

use super::broker::{Broker, Obs, PaperOrder, Refusal, Trail, fires};
use super::config::TriggerSource;
use super::ledger::{Booking, Hold};
use crate::model::{Fill, OrderKind, OrderStatus, Price, PriceRounding, Qty, Side, Symbol};
use crate::venue::{MarkPrice, MarketEvent, Product, VenueEvent};

/// Which price an update carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Feed {
    Last,
    Mark,
}

/// What a resting order does at a price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Act {
    /// Fill at this limit price as a maker.
    Maker(Price),
    /// Execute at the market as a taker.
    Taker,
}

/// One trailing step at `price`; true when the stop fires.
fn trail_step(trail: &mut Trail, side: Side, rate: Decimal, activation: Option<Price>, price: Price) -> bool {
    if !trail.active {
        match activation {
            Some(level) if !fires(false, side, level, price) => return false,
            _ => {
                trail.active = true;
                trail.extreme = None;
            }
        }
    }
    let p = price.get();
    let extreme = match (side, trail.extreme) {
        (_, None) => p,
        (Side::Sell, Some(e)) => e.max(p),
        (Side::Buy, Some(e)) => e.min(p),
    };
    trail.extreme = Some(extreme);
    match side {
        Side::Sell => p <= extreme * (Decimal::ONE - rate),
        Side::Buy => p >= extreme * (Decimal::ONE + rate),
    }
}

impl Broker {
    /// One event of the broker's market stream.
    pub(crate) fn on_market(&mut self, event: &MarketEvent) {
        match event {
            MarketEvent::Kline(k) => {
                self.on_price(&k.symbol, Feed::Last, Obs { price: k.bar.close, time: k.time_exchange });
            }
            MarketEvent::MarkPrice(m) => {
                self.settle_funding(m);
                self.on_price(&m.symbol, Feed::Mark, Obs { price: m.mark_price, time: m.time_exchange });
            }
            MarketEvent::StreamGap { .. } => {
                for quote in self.quotes.values_mut() {
                    quote.stale = true;
                }
            }
            MarketEvent::Reconnected => {}
        }
    }

    fn on_price(&mut self, symbol: &Symbol, feed: Feed, obs: Obs) {
        let quote = self.quotes.entry(symbol.clone()).or_default();
        match feed {
            Feed::Last => quote.last = Some(obs),
            Feed::Mark => quote.mark = Some(obs),
        }
        quote.stale = false;
        self.now = self.now.max(obs.time);
        let watches = match self.config.trigger {
            TriggerSource::Mark => feed == Feed::Mark,
            TriggerSource::Last => feed == Feed::Last,
        };
        let mut i = 0;
        while i < self.open.len() {
            let act = if &self.open[i].request.symbol == symbol {
                evaluate(&mut self.open[i], feed, watches, obs.price)
            } else {
                None
            };
            match act {
                Some(act) => {
                    let paper = self.open.remove(i);
                    self.execute(paper, act);
                }
                None => i += 1,
            }
        }
    }

    /// A resting order whose price came: filled, or ended with the venue's reason.
    fn execute(&mut self, mut paper: PaperOrder, act: Act) {
        self.ledger.release(&paper.hold);
        paper.hold = Hold::default();
        paper.time = self.now;
        let done = match act {
            Act::Maker(limit) => {
                let at = Obs { price: limit, time: self.now };
                self.fill(&mut paper, at, self.config.maker_fee)
            }
            Act::Taker => self.take(&mut paper),
        };
        if let Err(refusal) = done {
            paper.status = refusal.status;
            paper.reason = Some(refusal.msg);
            self.finish_unfilled(paper);
        }
    }

    /// Executes `paper` at the market as a taker (a conditional order at the price a triggered
    /// order gets).
    pub(super) fn take(&mut self, paper: &mut PaperOrder) -> Result<Fill, Refusal> {
        let symbol = paper.request.symbol.clone();
        let market = if paper.request.kind.is_conditional() {
            self.triggered_price(&symbol, paper.request.side)
        } else {
            self.market_price(&symbol)
        };
        let market = market
            .ok_or_else(|| Refusal::rejected(-2010, &format!("no market price known for {symbol} yet")))?;
        let price = self.slipped(&symbol, paper.request.side, market.price);
        self.fill(paper, Obs { price, time: market.time }, self.config.taker_fee)
    }

    /// `price` moved by the slippage against a trader on `side`, on the tick grid.
    fn slipped(&self, symbol: &Symbol, side: Side, price: Price) -> Price {
        let s = self.config.slippage;
        let (moved, rounding) = match side {
            Side::Buy => (price.get() * (Decimal::ONE + s), PriceRounding::Up),
            Side::Sell => (price.get() * (Decimal::ONE - s), PriceRounding::Down),
        };
        match self.rules.get(symbol) {
            Some(rules) => rules.round_price(Price::new(moved), rounding),
            None => Price::new(moved),
        }
    }

    /// How much of `paper` can execute at `price` now: the position rules on USD-M
    /// (close-position, reduce-only, margin), the funds on spot.
    fn executable(
        &self,
        paper: &PaperOrder,
        price: Decimal,
        base: &str,
        quote: &str,
    ) -> Result<Decimal, Refusal> {
        let r = &paper.request;
        let qty = r.qty.get();
        let Some(margin) = self.ledger.margin() else {
            let (asset, amount) = match r.side {
                Side::Buy => (quote, qty * price),
                Side::Sell => (base, qty),
            };
            return if self.ledger.can_pay(asset, amount) {
                Ok(qty)
            } else {
                Err(Refusal::rejected(-2010, "Account has insufficient balance for requested action."))
            };
        };
        let held = margin.position_qty(&r.symbol);
        let reduces = !held.is_zero() && held.is_sign_positive() != (r.side == Side::Buy);
        if r.close_position {
            return if reduces {
                Ok(held.abs())
            } else {
                Err(Refusal {
                    code: -2022,
                    status: OrderStatus::Expired,
                    msg: "No position to close.".into(),
                })
            };
        }
        if r.reduce_only {
            return if reduces {
                Ok(qty.min(held.abs()))
            } else {
                Err(Refusal::rejected(-2022, "ReduceOnly Order is rejected."))
            };
        }
        if self.ledger.can_pay(quote, margin.margin_needed(&r.symbol, r.side, qty, price)) {
            Ok(qty)
        } else {
            Err(Refusal::rejected(-2019, "Margin is insufficient."))
        }
    }

    /// Books one execution of `paper` at `at` with fee rate `fee_rate` and reports it.
    fn fill(&mut self, paper: &mut PaperOrder, at: Obs, fee_rate: Decimal) -> Result<Fill, Refusal> {
        let (base, quote) =
            self.split(&paper.request.symbol).map_err(|e| Refusal::rejected(-1121, &e.to_string()))?;
        let price = at.price.get();
        let qty = self.executable(paper, price, &base, &quote)?;
        let time = self.now.max(at.time);
        let spot_buy = self.config.product == Product::Spot && paper.request.side == Side::Buy;
        let (fee, fee_asset) =
            if spot_buy { (qty * fee_rate, base.clone()) } else { (qty * price * fee_rate, quote.clone()) };
        self.next_trade += 1;
        let fill = Fill {
            client_order_id: paper.request.client_order_id.clone(),
            trade_id: format!("paper-{}-t{}", self.config.id_stamp, self.next_trade),
            symbol: paper.request.symbol.clone(),
            side: paper.request.side,
            qty: Qty::new(qty),
            price: at.price,
            fee,
            fee_asset,
            time_exchange: time,
        };
        let account = self.ledger.book(&Booking {
            symbol: &fill.symbol,
            base: &base,
            quote: &quote,
            side: fill.side,
            qty,
            price,
            fee,
            time,
        });
        paper.filled += qty;
        paper.avg = Some(at.price);
        paper.status = OrderStatus::Filled;
        paper.time = time;
        self.events.push(VenueEvent::Order(paper.update(Some(fill.clone()))));
        self.events.push(VenueEvent::Fill(fill.clone()));
        self.events.push(VenueEvent::Account(account));
        self.done.insert(fill.client_order_id.clone(), paper.update(None));
        Ok(fill)
    }

    /// Settles the funding due when the mark stream's next funding time moves past it.
    fn settle_funding(&mut self, m: &MarkPrice) {
        let quote = self.quotes.entry(m.symbol.clone()).or_default();
        let due = quote.funding.filter(|(next, _)| m.next_funding_time > *next && m.time_exchange >= *next);
        quote.funding = Some((m.next_funding_time, m.funding_rate));
        if let Some((time, rate)) = due
            && let Some(update) = self.ledger.fund(&m.symbol, m.mark_price.get(), rate, time)
        {
            self.events.push(VenueEvent::Account(update));
        }
    }
}

/// What resting `order` does at `price` from `feed` (`watches`: the feed its trigger watches).
fn evaluate(order: &mut PaperOrder, feed: Feed, watches: bool, price: Price) -> Option<Act> {
    let side = order.request.side;
    match order.request.kind {
        OrderKind::Limit { price: limit, .. } => {
            (feed == Feed::Last && fires(false, side, limit, price)).then_some(Act::Maker(limit))
        }
        OrderKind::StopMarket { trigger } => {
            (watches && fires(true, side, trigger, price)).then_some(Act::Taker)
        }
        OrderKind::TakeProfitMarket { trigger } => {
            (watches && fires(false, side, trigger, price)).then_some(Act::Taker)
        }
        OrderKind::TrailingStop { callback_rate, activation } => {
            if !watches {
                return None;
            }
            let trail = order.trail.get_or_insert(Trail { active: activation.is_none(), extreme: None });
            trail_step(trail, side, callback_rate, activation, price).then_some(Act::Taker)
        }
        OrderKind::Market => Some(Act::Taker),
    }
}
