//! [`Broker`]: the paper account as a synchronous state machine with no I/O and no clock. Orders
//! go in (`place`, `cancel`), prices go in (`on_market`), and what a venue would report comes out
//! as [`VenueEvent`]s (`take_events`). This file owns the account's state and the order entry
//! side: duplicate ids, the instrument's filters, immediate fills of market and marketable limit
//! orders, funds held by resting orders, cancels, queries, leverage. What resting orders do when
//! prices move is in `matching`; seeding the account from a snapshot is in `restore`.

use std::collections::{BTreeSet, HashMap};

use rust_decimal::Decimal;

use super::config::{PaperConfig, TriggerSource};
use super::ledger::{Hold, Ledger};
use crate::binance::cache::SymbolRules;
use crate::binance::encode::{CheckedOrder, round_and_check};
use crate::binance::spot::encode_spot_order;
use crate::binance::usdm::{WorkingType, encode_usdm_order};
use crate::model::{
    Balance, ClientOrderId, InstrumentRules, MarginMode, OrderKind, OrderRequest, OrderStatus, OrderUpdate,
    Position, Price, Side, Symbol, TimeInForce,
};
use crate::venue::{OrderAck, Product, VenueError, VenueEvent};

/// A price seen at an exchange time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Obs {
    /// The price.
    pub price: Price,
    /// Exchange time, ms.
    pub time: i64,
}

/// Prices fetched over REST for a symbol the stream has not priced yet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct RestQuote {
    /// Last trade price.
    pub last: Option<Obs>,
    /// Mark price (USD-M).
    pub mark: Option<Obs>,
}

/// What the broker knows of one symbol's prices.
#[derive(Debug, Clone, Default)]
pub(super) struct Quote {
    pub last: Option<Obs>,
    pub mark: Option<Obs>,
    /// Next funding time and the rate announced for it.
    pub funding: Option<(i64, Decimal)>,
    /// True after a stream gap until the next price.
    pub stale: bool,
}

/// A trailing stop's tracking state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Trail {
    /// Tracking (the activation price was reached, or there is none).
    pub active: bool,
    /// Best price since activation; `None` until the first price.
    pub extreme: Option<Decimal>,
}

/// An order the broker holds.
#[derive(Debug, Clone)]
pub(super) struct PaperOrder {
    /// The order, rounded onto the instrument's grid.
    pub request: OrderRequest,
    pub venue_id: String,
    pub status: OrderStatus,
    pub filled: Decimal,
    pub avg: Option<Price>,
    /// Funds held while it rests.
    pub hold: Hold,
    pub trail: Option<Trail>,
    pub reason: Option<String>,
    pub time: i64,
}

/// Why an execution did not happen: the venue's code, the order's end status, its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Refusal {
    pub code: i64,
    pub status: OrderStatus,
    pub msg: String,
}

impl Refusal {
    pub(super) fn rejected(code: i64, msg: &str) -> Self {
        Self { code, status: OrderStatus::Rejected, msg: msg.to_owned() }
    }

    fn into_error(self) -> VenueError {
        VenueError::Rejected { code: self.code, msg: self.msg }
    }
}

impl PaperOrder {
    /// Its state as a venue reports it.
    pub(super) fn update(&self, fill: Option<crate::model::Fill>) -> OrderUpdate {
        OrderUpdate {
            client_order_id: self.request.client_order_id.clone(),
            venue_order_id: Some(self.venue_id.clone()),
            symbol: self.request.symbol.clone(),
            side: self.request.side,
            status: self.status,
            filled_qty: crate::model::Qty::new(self.filled),
            avg_price: self.avg,
            fill,
            reason: self.reason.clone(),
            time_exchange: self.time,
        }
    }
}

/// The paper account.
#[derive(Debug)]
pub(crate) struct Broker {
    pub(super) config: PaperConfig,
    pub(super) ledger: Ledger,
    pub(super) quotes: HashMap<Symbol, Quote>,
    pub(super) rules: HashMap<Symbol, InstrumentRules>,
    /// Resting orders, oldest first (the order they are matched in).
    pub(super) open: Vec<PaperOrder>,
    /// Final states of orders that ended, by client id.
    pub(super) done: HashMap<ClientOrderId, OrderUpdate>,
    pub(super) events: Vec<VenueEvent>,
    /// Latest exchange time seen, ms.
    pub(super) now: i64,
    next_order: u64,
    pub(super) next_trade: u64,
    watched: BTreeSet<Symbol>,
    unwatched: Vec<Symbol>,
    pub(super) traded: bool,
}

fn duplicate(product: Product) -> VenueError {
    match product {
        Product::Spot => VenueError::Rejected { code: -2010, msg: "Duplicate order sent.".into() },
        Product::UsdM => VenueError::Rejected { code: -4116, msg: "ClientOrderId is duplicated.".into() },
    }
}

/// True when a stop (`stop`) or take-profit order on `side` fires at `price` for `trigger`:
/// a stop sell when the price falls to it, a stop buy when it rises to it, take profits the
/// other way.
pub(super) fn fires(stop: bool, side: Side, trigger: Price, price: Price) -> bool {
    if stop == (side == Side::Buy) { price >= trigger } else { price <= trigger }
}

impl Broker {
    /// A broker holding the configured starting balances.
    ///
    /// # Errors
    /// [`VenueError::Config`] naming every problem of `config`.
    pub(crate) fn new(config: PaperConfig) -> Result<Self, VenueError> {
        let problems = config.problems();
        if !problems.is_empty() {
            return Err(VenueError::Config(format!("paper trading: {}", problems.join("; "))));
        }
        let ledger =
            Ledger::new(config.product == Product::UsdM, config.balances.clone(), config.default_leverage);
        let mut broker = Self {
            ledger,
            quotes: HashMap::new(),
            rules: HashMap::new(),
            open: Vec::new(),
            done: HashMap::new(),
            events: Vec::new(),
            now: 0,
            next_order: 0,
            next_trade: 0,
            watched: BTreeSet::new(),
            unwatched: Vec::new(),
            traded: false,
            config,
        };
        for symbol in broker.config.symbols.clone() {
            broker.watch(&symbol);
        }
        Ok(broker)
    }

    /// Starts streaming `symbol`'s prices (once).
    pub(crate) fn watch(&mut self, symbol: &Symbol) {
        if self.watched.insert(symbol.clone()) {
            self.unwatched.push(symbol.clone());
        }
    }

    /// Symbols to subscribe to since the last call.
    pub(crate) fn take_new_symbols(&mut self) -> Vec<Symbol> {
        std::mem::take(&mut self.unwatched)
    }

    /// Events for the user stream since the last call.
    pub(crate) fn take_events(&mut self) -> Vec<VenueEvent> {
        std::mem::take(&mut self.events)
    }

    /// True when the stream has priced `symbol` (last price, and the mark when triggers watch
    /// it) and no gap has made the prices stale since.
    pub(crate) fn is_priced(&self, symbol: &Symbol) -> bool {
        self.quotes.get(symbol).is_some_and(|q| {
            !q.stale && q.last.is_some() && (self.config.trigger == TriggerSource::Last || q.mark.is_some())
        })
    }

    /// Takes REST prices for a symbol the stream has not priced (newer stream prices win).
    pub(super) fn absorb(&mut self, symbol: &Symbol, rest: RestQuote) {
        let quote = self.quotes.entry(symbol.clone()).or_default();
        for (slot, obs) in [(&mut quote.last, rest.last), (&mut quote.mark, rest.mark)] {
            if let Some(obs) = obs
                && slot.is_none_or(|old| old.time <= obs.time)
            {
                *slot = Some(obs);
                self.now = self.now.max(obs.time);
            }
        }
        quote.stale = false;
    }

    /// The price conditional orders of `symbol` watch now.
    pub(super) fn watched_price(&self, symbol: &Symbol) -> Option<Obs> {
        let q = self.quotes.get(symbol)?;
        match self.config.trigger {
            TriggerSource::Mark => q.mark.or(q.last),
            TriggerSource::Last => q.last,
        }
    }

    /// The price a market order gets now: the last trade, unless the mark is newer.
    pub(super) fn market_price(&self, symbol: &Symbol) -> Option<Obs> {
        let q = self.quotes.get(symbol)?;
        match (q.last, q.mark) {
            (Some(last), Some(mark)) if mark.time > last.time => Some(mark),
            (last, mark) => last.or(mark),
        }
    }

    /// The price a triggered order on `side` gets: the newer of the last trade and the mark, and
    /// at the same exchange time the worse for the trader. A gap shows on the two streams one
    /// after the other at one exchange time, so a stop triggered by the first must not fill at
    /// the other's pre-gap price.
    pub(super) fn triggered_price(&self, symbol: &Symbol, side: Side) -> Option<Obs> {
        let q = self.quotes.get(symbol)?;
        match (q.last, q.mark) {
            (Some(last), Some(mark)) if last.time == mark.time => {
                let mark_worse =
                    if side == Side::Buy { mark.price > last.price } else { mark.price < last.price };
                Some(if mark_worse { mark } else { last })
            }
            _ => self.market_price(symbol),
        }
    }

    pub(super) fn split(&self, symbol: &Symbol) -> Result<(String, String), VenueError> {
        self.config.split(symbol).ok_or(VenueError::Unsupported {
            what: "paper trading on a symbol whose quote asset is not configured",
        })
    }

    pub(super) fn known(&self, id: &ClientOrderId) -> bool {
        self.done.contains_key(id) || self.open.iter().any(|o| &o.request.client_order_id == id)
    }

    /// Rounds and checks `order` as the real client would before sending it.
    pub(super) fn check(
        &self,
        order: &OrderRequest,
        rules: &InstrumentRules,
    ) -> Result<CheckedOrder, VenueError> {
        let symbol_rules = SymbolRules { rules: rules.clone(), market_max_qty: None };
        let quote = self.quotes.get(&order.symbol);
        let reference = match self.config.product {
            Product::UsdM => quote.and_then(|q| q.mark.or(q.last)),
            Product::Spot => quote.and_then(|q| q.last),
        };
        let exempt = self.config.product == Product::UsdM && (order.reduce_only || order.close_position);
        let checked = round_and_check(order, &symbol_rules, reference.map(|o| o.price), exempt)?;
        match self.config.product {
            Product::UsdM => encode_usdm_order(order, &checked, WorkingType::default()).map(|_| ())?,
            Product::Spot => encode_spot_order(order, &checked).map(|_| ())?,
        }
        Ok(checked)
    }

    pub(super) fn new_order(&mut self, order: &OrderRequest, checked: CheckedOrder) -> PaperOrder {
        self.next_order += 1;
        let trail = match checked.kind {
            OrderKind::TrailingStop { activation, .. } => {
                Some(Trail { active: activation.is_none(), extreme: None })
            }
            _ => None,
        };
        PaperOrder {
            request: OrderRequest { qty: checked.qty, kind: checked.kind, ..order.clone() },
            venue_id: format!("paper-{}-o{}", self.config.id_stamp, self.next_order),
            status: OrderStatus::New,
            filled: Decimal::ZERO,
            avg: None,
            hold: Hold::default(),
            trail,
            reason: None,
            time: self.now,
        }
    }

    /// Places `order` (rules of its symbol given; `rest` prices when the stream has none).
    ///
    /// # Errors
    /// A duplicate client order id (spot -2010, USD-M -4116), a filter violation
    /// ([`VenueError::InvalidOrder`]), an order that cannot execute or rest (-2010 funds or
    /// immediate trigger on spot, -2019 margin, -2021 immediate trigger, -2022 reduce-only, -5022
    /// post-only that would take).
    pub(crate) fn place(
        &mut self,
        order: &OrderRequest,
        rules: InstrumentRules,
        rest: Option<RestQuote>,
    ) -> Result<OrderAck, VenueError> {
        if self.known(&order.client_order_id) {
            return Err(duplicate(self.config.product));
        }
        self.split(&order.symbol)?;
        self.watch(&order.symbol);
        if let Some(rest) = rest {
            self.absorb(&order.symbol, rest);
        }
        self.rules.insert(order.symbol.clone(), rules.clone());
        let checked = self.check(order, &rules)?;
        let mut paper = self.new_order(order, checked);
        self.traded = true;
        match paper.request.kind {
            OrderKind::Market => self.take_now(paper),
            OrderKind::Limit { price, time_in_force } => {
                let market = self.market_price(&order.symbol);
                let marketable = market.is_some_and(|m| fires(false, order.side, price, m.price));
                if marketable && time_in_force == TimeInForce::Gtx {
                    return Err(match self.config.product {
                        Product::Spot => {
                            Refusal::rejected(-2010, "Order would immediately match and take.").into_error()
                        }
                        Product::UsdM => Refusal::rejected(
                            -5022,
                            "Due to the order could not be executed as maker, the Post Only order will be rejected.",
                        )
                        .into_error(),
                    });
                }
                if marketable {
                    return self.take_now(paper);
                }
                if matches!(time_in_force, TimeInForce::Ioc | TimeInForce::Fok) {
                    paper.status = OrderStatus::Expired;
                    return Ok(self.finish_unfilled(paper));
                }
                self.rest(paper)
            }
            _ => {
                self.check_not_triggered(&paper)?;
                self.rest(paper)
            }
        }
    }

    /// A market (or marketable limit) order: filled now, or refused with the venue's error.
    fn take_now(&mut self, mut paper: PaperOrder) -> Result<OrderAck, VenueError> {
        let fill = self.take(&mut paper).map_err(Refusal::into_error)?;
        let update = paper.update(None);
        self.done.insert(update.client_order_id.clone(), update.clone());
        Ok(OrderAck { order: update, fills: vec![fill], recovered: false })
    }

    pub(super) fn finish_unfilled(&mut self, paper: PaperOrder) -> OrderAck {
        let update = paper.update(None);
        self.events.push(VenueEvent::Order(update.clone()));
        self.done.insert(update.client_order_id.clone(), update.clone());
        OrderAck { order: update, fills: Vec::new(), recovered: false }
    }

    /// A conditional order whose trigger the price has already passed is refused, as Binance
    /// does (USD-M -2021; spot -2010).
    fn check_not_triggered(&self, paper: &PaperOrder) -> Result<(), VenueError> {
        let Some(now) = self.watched_price(&paper.request.symbol) else { return Ok(()) };
        let side = paper.request.side;
        let already = match paper.request.kind {
            OrderKind::StopMarket { trigger } => fires(true, side, trigger, now.price),
            OrderKind::TakeProfitMarket { trigger } => fires(false, side, trigger, now.price),
            // Activation is a take-profit-like level: a sell trails once the price rises to it.
            OrderKind::TrailingStop { activation: Some(a), .. } => fires(false, side, a, now.price),
            _ => false,
        };
        if !already {
            return Ok(());
        }
        Err(match self.config.product {
            Product::UsdM => Refusal::rejected(-2021, "Order would immediately trigger.").into_error(),
            Product::Spot => Refusal::rejected(-2010, "Stop price would trigger immediately.").into_error(),
        })
    }

    /// What a resting order holds: a spot sell its base quantity, a spot limit buy its quote
    /// value, a USD-M limit that grows the position its initial margin. Conditional USD-M orders
    /// hold nothing until they trigger (as on Binance's algo API).
    pub(super) fn hold_for(&self, paper: &PaperOrder) -> Result<Hold, VenueError> {
        let r = &paper.request;
        let (base, quote) = self.split(&r.symbol)?;
        let qty = r.qty.get();
        Ok(match (self.config.product, r.kind, r.side) {
            (Product::Spot, _, Side::Sell) => Hold { asset: base, amount: qty },
            (Product::Spot, OrderKind::Limit { price, .. }, Side::Buy) => {
                Hold { asset: quote, amount: qty * price.get() }
            }
            (Product::UsdM, OrderKind::Limit { price, .. }, side) if !r.reduce_only => {
                let margin = self
                    .ledger
                    .margin()
                    .map_or(Decimal::ZERO, |m| m.margin_needed(&r.symbol, side, qty, price.get()));
                Hold { asset: quote, amount: margin }
            }
            _ => Hold::default(),
        })
    }

    /// Puts `paper` on the book, holding what it needs.
    fn rest(&mut self, mut paper: PaperOrder) -> Result<OrderAck, VenueError> {
        let hold = self.hold_for(&paper)?;
        if !self.ledger.hold(&hold) {
            return Err(match self.config.product {
                Product::Spot => {
                    Refusal::rejected(-2010, "Account has insufficient balance for requested action.")
                }
                Product::UsdM => Refusal::rejected(-2019, "Margin is insufficient."),
            }
            .into_error());
        }
        paper.hold = hold;
        if let (Some(trail), Some(now)) = (paper.trail.as_mut(), self.watched_price(&paper.request.symbol))
            && trail.active
        {
            trail.extreme = Some(now.price.get());
        }
        let update = paper.update(None);
        self.events.push(VenueEvent::Order(update.clone()));
        self.open.push(paper);
        Ok(OrderAck { order: update, fills: Vec::new(), recovered: false })
    }

    /// The order's state; `None` when the broker does not know it.
    pub(crate) fn query(&self, symbol: &Symbol, id: &ClientOrderId) -> Option<OrderUpdate> {
        let found = self
            .open
            .iter()
            .find(|o| &o.request.client_order_id == id)
            .map(|o| o.update(None))
            .or_else(|| self.done.get(id).cloned())?;
        (&found.symbol == symbol).then_some(found)
    }

    /// Cancels a resting order.
    ///
    /// # Errors
    /// [`VenueError::NotFound`] when no such order rests (unknown, or already ended).
    pub(crate) fn cancel(&mut self, symbol: &Symbol, id: &ClientOrderId) -> Result<OrderUpdate, VenueError> {
        let Some(i) =
            self.open.iter().position(|o| &o.request.client_order_id == id && &o.request.symbol == symbol)
        else {
            return Err(VenueError::NotFound { what: format!("open order {id} on {symbol}") });
        };
        let mut paper = self.open.remove(i);
        self.ledger.release(&paper.hold);
        paper.status = OrderStatus::Canceled;
        paper.time = self.now;
        Ok(self.finish_unfilled(paper).order)
    }

    /// Resting orders, of `symbol` or all.
    pub(crate) fn open_orders(&self, symbol: Option<&Symbol>) -> Vec<OrderUpdate> {
        self.open
            .iter()
            .filter(|o| symbol.is_none_or(|s| s == &o.request.symbol))
            .map(|o| o.update(None))
            .collect()
    }

    /// Open positions (none on spot).
    pub(crate) fn positions(&self) -> Vec<Position> {
        self.ledger.margin().map(super::ledger::Margin::positions).unwrap_or_default()
    }

    /// Balances held.
    pub(crate) fn balances(&self) -> Vec<Balance> {
        self.ledger.balances()
    }

    /// Sets a USD-M symbol's leverage.
    ///
    /// # Errors
    /// [`VenueError::Unsupported`] on spot; -4028 for a leverage outside 1..=125.
    pub(crate) fn set_leverage(&mut self, symbol: &Symbol, leverage: u32) -> Result<(), VenueError> {
        let margin = self.ledger.margin_mut().ok_or(VenueError::Unsupported { what: "leverage on spot" })?;
        if !(1..=125).contains(&leverage) {
            return Err(Refusal::rejected(-4028, &format!("Leverage {leverage} is not valid")).into_error());
        }
        margin.set_leverage(symbol, leverage);
        Ok(())
    }

    /// Sets a USD-M symbol's margin mode: isolated is what the paper broker keeps.
    ///
    /// # Errors
    /// [`VenueError::Unsupported`] on spot and for cross margin.
    pub(crate) fn set_margin_mode(&mut self, _symbol: &Symbol, mode: MarginMode) -> Result<(), VenueError> {
        if self.ledger.margin().is_none() {
            return Err(VenueError::Unsupported { what: "margin mode on spot" });
        }
        match mode {
            MarginMode::Isolated => Ok(()),
            MarginMode::Cross => Err(VenueError::Unsupported {
                what: "cross margin in paper trading (positions are isolated)",
            }),
        }
    }
}
