//! One pair's live book: the entry order in flight, the holding its fills built, the resting
//! stop and the orders that move it, the dust that sales rounded to the step leave behind, and
//! the accounting of fills into a holding and, when it ends, a trade.
//!
//! Spot fees (Binance, exchange-sim): a buy's commission is taken in the base asset, so a buy
//! of `q` leaves `q - fee` in the account; a sale's is taken in USDT. A fee in another asset
//! (BNB) is not taken from this portfolio's assets; it is valued at the taker rate and charged
//! to the cash, so the P&L stays honest. Every fee is valued in USDT in `fees` (a base-asset fee
//! at its fill's price).
//!
//! Sales are rounded down to the step, so less than one step can remain after the last one:
//! that is dust. It is never sold, is no mismatch, and counts in equity at the latest close. A
//! trade's P&L is its cash flow (sales less purchases less the fees paid from the portfolio)
//! plus the dust it left, valued at the trade's exit price; with the fees in USDT (as the
//! backtester charges them) that is exactly the backtester's `qty * (exit - entry) - fees`.
//!
//! Only this agent's orders move a holding: a buy fill of the entry in flight, a sell fill of an
//! order of ours (`ma-sl-...`, `ma-cl-...`). Anything else on the pair (a sale by hand of coins
//! this agent does not own) is not accounted.

use std::collections::HashSet;

use agent_core::regime::Regime;
use agent_core::spot::{SignalKind, SpotExitReason, SpotTrade};
use exchange_core::{AgentTag, ClientOrderId, Fill, OrderPurpose, PositionSide, Qty, Side, Symbol};
use rust_decimal::Decimal;

/// The quote asset of every pair this agent trades.
pub const QUOTE: &str = "USDT";

/// An entry (a market buy) in flight.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingEntry {
    /// Its id.
    pub id: ClientOrderId,
    /// Quantity ordered.
    pub qty: Decimal,
    /// Cash set aside at the decision: `qty * close * (1 + fee)`.
    pub reserved: Decimal,
    /// Open time of the bar at whose close it was decided.
    pub decision_time: i64,
    /// ATR at the decision: the first stop sits `atr_multiple` of it under the fill.
    pub atr: f64,
    /// The rule that fired.
    pub signal: SignalKind,
    /// The pair's regime at the decision.
    pub regime: Regime,
    /// The gate's probability.
    pub probability: Option<f64>,
    /// Base bought so far (before fees).
    pub filled: Decimal,
    /// Cash paid so far.
    pub spent: Decimal,
    /// Once the venue says the order is done: how much it filled. The entry completes when the
    /// fills have brought that much (they may arrive after the final order update).
    pub final_filled: Option<Decimal>,
}

impl PendingEntry {
    /// The part of the reservation not spent yet.
    pub fn reserved_left(&self) -> Decimal {
        (self.reserved - self.spent).max(Decimal::ZERO)
    }
}

/// What happens once a stop's cancel is confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterCancel {
    /// Place the stop again at the holding's (higher) level: the ratchet.
    Replace,
    /// Sell the holding at market, for this reason.
    Sell(SpotExitReason),
}

/// The protective stop of a holding, as far as the venue is concerned.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum StopState {
    /// None on the venue (before the entry completed, or after it ended).
    #[default]
    None,
    /// Resting (or its placement in flight) at `level`.
    Resting {
        /// The order.
        id: ClientOrderId,
        /// Its trigger.
        level: Decimal,
    },
    /// Its cancel was sent at `since`; once the venue confirms, `then` happens. On spot a second
    /// stop for the same quantity is refused (the first one locks the coins), hence the order.
    Cancelling {
        /// The order being cancelled.
        id: ClientOrderId,
        /// What follows.
        then: AfterCancel,
        /// Event time the cancel was sent, ms.
        since: i64,
    },
}

impl StopState {
    /// The order resting or being cancelled.
    pub fn id(&self) -> Option<&ClientOrderId> {
        match self {
            Self::None => None,
            Self::Resting { id, .. } | Self::Cancelling { id, .. } => Some(id),
        }
    }
}

/// A holding, as far as this agent's fills built it.
#[derive(Debug, Clone, PartialEq)]
pub struct Holding {
    /// Base held now: bought, less base-asset fees, less sold.
    pub qty: Decimal,
    /// Base the entry left in the account (the trade's quantity).
    pub entry_qty: Decimal,
    /// Base bought (before fees).
    pub bought: Decimal,
    /// Sum of `qty * price` of the buys.
    pub cost: Decimal,
    /// Base sold.
    pub sold: Decimal,
    /// Sum of `qty * price` of the sales.
    pub proceeds: Decimal,
    /// Cash the portfolio paid for it (buys and fees not taken in the base asset).
    pub cash_out: Decimal,
    /// Cash it received (sales less their fees).
    pub cash_in: Decimal,
    /// Every fee, valued in USDT.
    pub fees: Decimal,
    /// Exchange time of the first buy fill.
    pub entry_time: i64,
    /// Open time of the decision bar.
    pub decision_time: i64,
    /// Highest high since the entry (the fill price at first).
    pub peak: Decimal,
    /// The strategy's trailing stop level now (ratcheted at closes; the backtest's `stop`).
    pub level: Decimal,
    /// The rule that opened it.
    pub signal: SignalKind,
    /// The pair's regime at the decision.
    pub regime: Regime,
    /// The gate's probability at the decision.
    pub probability: Option<f64>,
    /// The stop on the venue.
    pub stop: StopState,
    /// A market sale in flight, and why.
    pub closing: Option<(ClientOrderId, SpotExitReason)>,
    /// A market sale that failed, sent again at the next close.
    pub retry_close: Option<SpotExitReason>,
}

impl Holding {
    /// Average buy price.
    pub fn entry_price(&self) -> Decimal {
        if self.bought.is_zero() { Decimal::ZERO } else { self.cost / self.bought }
    }

    /// True while it is being sold (or waits for its stop's cancel to sell).
    pub fn is_exiting(&self) -> bool {
        self.closing.is_some()
            || matches!(self.stop, StopState::Cancelling { then: AfterCancel::Sell(_), .. })
    }
}

/// What a fill did to the book.
#[derive(Debug, Clone, PartialEq)]
pub enum FillEffect {
    /// Already seen (same trade id); nothing changed.
    Duplicate,
    /// The entry bought.
    Bought,
    /// A sale, the holding still open.
    Sold,
    /// The holding is sold (down to dust): the trade is complete.
    Closed(Box<SpotTrade>),
    /// Not an order of ours that moves this book: not accounted.
    Stray,
}

/// One pair's live state.
#[derive(Debug, Clone, Default)]
pub struct Book {
    /// Entry in flight.
    pub entry: Option<PendingEntry>,
    /// Holding.
    pub position: Option<Holding>,
    /// Base left over by sales rounded to the step: ours, never sold.
    pub dust: Decimal,
    /// No entry decided at a step before this one (the cooldown after an exit).
    pub cooldown_until: i64,
    seen_trades: HashSet<String>,
}

/// The fee of `fill` split by what it costs: `(base, cash, value)`: base asset taken from the
/// coins, USDT taken from the cash, and its whole value in USDT. A fee in another asset is
/// valued at `fee_rate` and charged to the cash.
fn fee_split(fill: &Fill, base: &str, fee_rate: Decimal) -> (Decimal, Decimal, Decimal) {
    let price = fill.price.get();
    if fill.fee_asset == base {
        (fill.fee, Decimal::ZERO, fill.fee * price)
    } else if fill.fee_asset == QUOTE || fill.fee.is_zero() {
        (Decimal::ZERO, fill.fee, fill.fee)
    } else {
        let value = fill.qty.get() * price * fee_rate;
        (Decimal::ZERO, value, value)
    }
}

/// True for an order of this agent that sells a holding (a stop or a market sale).
pub fn is_our_exit(id: &ClientOrderId) -> bool {
    id.agent() == Some(AgentTag::Main)
        && matches!(id.purpose(), Some(OrderPurpose::StopLoss | OrderPurpose::Close))
}

impl Book {
    /// True when the pair has a holding or an entry in flight.
    pub fn is_busy(&self) -> bool {
        self.entry.is_some() || self.position.is_some()
    }

    /// True when the execution `trade_id` was already accounted.
    pub fn has_seen(&self, trade_id: &str) -> bool {
        self.seen_trades.contains(trade_id)
    }

    /// Records `trade_id` as accounted without applying it; false when it was already known.
    pub fn mark_seen(&mut self, trade_id: &str) -> bool {
        self.seen_trades.insert(trade_id.to_owned())
    }

    /// Accounts one fill of this pair; returns what it did and the change in cash.
    pub fn apply_fill(
        &mut self,
        fill: &Fill,
        base: &str,
        fee_rate: Decimal,
        step: Decimal,
    ) -> (FillEffect, Decimal) {
        if !self.seen_trades.insert(fill.trade_id.clone()) {
            return (FillEffect::Duplicate, Decimal::ZERO);
        }
        let (qty, price) = (fill.qty.get(), fill.price.get());
        let (base_fee, cash_fee, fee_value) = fee_split(fill, base, fee_rate);
        match fill.side {
            Side::Buy => {
                let Some(entry) = self.entry.as_mut().filter(|e| e.id == fill.client_order_id) else {
                    return (FillEffect::Stray, Decimal::ZERO);
                };
                let paid = qty * price + cash_fee;
                entry.filled += qty;
                entry.spent += paid;
                let pos = self.position.get_or_insert(Holding {
                    qty: Decimal::ZERO,
                    entry_qty: Decimal::ZERO,
                    bought: Decimal::ZERO,
                    cost: Decimal::ZERO,
                    sold: Decimal::ZERO,
                    proceeds: Decimal::ZERO,
                    cash_out: Decimal::ZERO,
                    cash_in: Decimal::ZERO,
                    fees: Decimal::ZERO,
                    entry_time: fill.time_exchange,
                    decision_time: entry.decision_time,
                    peak: price,
                    level: Decimal::ZERO,
                    signal: entry.signal,
                    regime: entry.regime,
                    probability: entry.probability,
                    stop: StopState::None,
                    closing: None,
                    retry_close: None,
                });
                pos.bought += qty;
                pos.cost += qty * price;
                pos.qty += qty - base_fee;
                pos.entry_qty += qty - base_fee;
                pos.cash_out += paid;
                pos.fees += fee_value;
                (FillEffect::Bought, -paid)
            }
            Side::Sell => {
                let Some(pos) = self.position.as_mut().filter(|_| is_our_exit(&fill.client_order_id)) else {
                    return (FillEffect::Stray, Decimal::ZERO);
                };
                let sold = qty.min(pos.qty);
                let received = qty * price - cash_fee;
                pos.qty -= sold + base_fee.min(pos.qty - sold);
                pos.sold += qty;
                pos.proceeds += qty * price;
                pos.cash_in += received;
                pos.fees += fee_value;
                if pos.qty >= step && pos.qty > Decimal::ZERO {
                    return (FillEffect::Sold, received);
                }
                let reason = exit_reason(pos, &fill.client_order_id);
                let dust = pos.qty.max(Decimal::ZERO);
                let trade = self
                    .position
                    .take()
                    .map(|pos| trade_of(&fill.symbol, &pos, fill.time_exchange, reason, dust));
                self.dust += dust;
                self.seen_trades.clear();
                self.seen_trades.insert(fill.trade_id.clone());
                match trade {
                    Some(trade) => (FillEffect::Closed(Box::new(trade)), received),
                    None => (FillEffect::Stray, received),
                }
            }
        }
    }

    /// Ends the holding without a sale of ours (gone from the account, `--adopt`): what is left
    /// counts as sold at `price` with no fee.
    pub fn close_externally(&mut self, symbol: &Symbol, price: Decimal, time: i64) -> Option<SpotTrade> {
        let mut pos = self.position.take()?;
        pos.proceeds += pos.qty * price;
        pos.sold += pos.qty;
        pos.cash_in += pos.qty * price;
        pos.qty = Decimal::ZERO;
        self.seen_trades.clear();
        Some(trade_of(symbol, &pos, time, SpotExitReason::External, Decimal::ZERO))
    }
}

/// Why a holding closed, from the order whose fill sold it.
fn exit_reason(pos: &Holding, id: &ClientOrderId) -> SpotExitReason {
    match &pos.closing {
        Some((close_id, reason)) if close_id == id => *reason,
        _ if id.purpose() == Some(OrderPurpose::StopLoss) => SpotExitReason::TrailingStop,
        _ => SpotExitReason::External,
    }
}

/// The trade of a holding sold down to `dust` (valued at the exit price, see the module notes).
fn trade_of(
    symbol: &Symbol,
    pos: &Holding,
    exit_time: i64,
    reason: SpotExitReason,
    dust: Decimal,
) -> SpotTrade {
    let exit_price = if pos.sold.is_zero() { Decimal::ZERO } else { pos.proceeds / pos.sold };
    SpotTrade {
        symbol: symbol.clone(),
        side: PositionSide::Long,
        decision_time: pos.decision_time,
        entry_time: pos.entry_time,
        exit_time,
        entry_price: pos.entry_price(),
        exit_price,
        qty: Qty::new(pos.entry_qty),
        fees: pos.fees,
        pnl: pos.cash_in - pos.cash_out + dust * exit_price,
        exit_reason: reason,
        signal: pos.signal,
        regime: pos.regime,
        probability: pos.probability,
    }
}
