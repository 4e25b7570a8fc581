//! One symbol's live book: its position, the orders that move it (entry, protective, close), and
//! the accounting of fills into a position and, when it ends, a trade.
//!
//! Fills are the only thing that moves a position. They are deduplicated by trade id (Binance
//! reports a trade both inside the order update and on its own) and attributed by direction: a
//! fill on the entry side grows the position, one on the exit side shrinks it, whatever order it
//! came from. That way a triggered stop whose market order carries a venue-made id, a
//! liquidation (`autoclose-...`) or a close by hand are all accounted; [`Book::exit_reason`] says
//! which it was.

use std::collections::HashSet;

use agent_core::backtest::{ExitReason, TradeRecord};
use exchange_core::{ClientOrderId, Fill, OrderPurpose, PositionSide, Qty, Symbol};
use rust_decimal::Decimal;

/// The resting orders that protect an open position.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Protection {
    /// Stop loss (STOP_MARKET, close position).
    pub stop_loss: Option<ClientOrderId>,
    /// Take profit (TAKE_PROFIT_MARKET, close position).
    pub take_profit: Option<ClientOrderId>,
    /// Trailing stop (TRAILING_STOP_MARKET, reduce-only).
    pub trailing: Option<ClientOrderId>,
    /// The quantity the trailing stop was placed for (the position may grow past it while the
    /// entry's later executions arrive).
    pub trailing_qty: Decimal,
}

impl Protection {
    /// The ids of the orders still resting.
    pub fn ids(&self) -> Vec<ClientOrderId> {
        [&self.stop_loss, &self.take_profit, &self.trailing].into_iter().flatten().cloned().collect()
    }

    /// Forgets `id` (it filled, was cancelled or vanished); true if it was one of these.
    pub fn remove(&mut self, id: &ClientOrderId) -> bool {
        for slot in [&mut self.stop_loss, &mut self.take_profit, &mut self.trailing] {
            if slot.as_ref() == Some(id) {
                *slot = None;
                return true;
            }
        }
        false
    }

    /// True when `id` is one of these.
    pub fn contains(&self, id: &ClientOrderId) -> bool {
        [&self.stop_loss, &self.take_profit, &self.trailing].into_iter().flatten().any(|p| p == id)
    }
}

/// An entry order in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEntry {
    /// Its id.
    pub id: ClientOrderId,
    /// Long or short.
    pub side: PositionSide,
    /// Quantity ordered.
    pub qty: Decimal,
    /// Leverage set for it.
    pub leverage: u32,
    /// Initial margin reserved at the decision (`qty * close / leverage`).
    pub reserved_margin: Decimal,
    /// Event time of the decision (the bar close).
    pub decided_at: i64,
    /// Once the venue says the order is done: how much it filled. The entry completes when the
    /// position holds that much (fills may arrive after the final order update).
    pub final_filled: Option<Decimal>,
}

/// An open position, as far as this agent's fills built it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenPosition {
    /// Long or short.
    pub side: PositionSide,
    /// Size now.
    pub qty: Decimal,
    /// Size at its largest (what the trade record reports).
    pub entry_qty: Decimal,
    /// Average entry price.
    pub entry_price: Decimal,
    /// Leverage.
    pub leverage: u32,
    /// Exchange time of the first entry fill.
    pub entry_time: i64,
    /// Fees paid so far (entry and partial exits).
    pub fees: Decimal,
    /// Funding received (negative: paid) while open.
    pub funding: Decimal,
    /// Realized P&L of partial exits so far, before fees.
    pub realized: Decimal,
    /// Sum of exit fill values (qty * price), for the average exit price.
    pub exit_value: Decimal,
    /// Resting protective orders.
    pub protection: Protection,
    /// A market close in flight, and why.
    pub closing: Option<(ClientOrderId, ExitReason)>,
    /// The protective order the venue reported as triggered, if any.
    pub triggered: Option<OrderPurpose>,
    /// A market close that failed, to send again at the next bar close.
    pub retry_close: Option<ExitReason>,
}

/// What a fill did to the book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FillEffect {
    /// Already seen (same trade id); nothing changed.
    Duplicate,
    /// The position grew (or opened).
    Grew,
    /// The position shrank but is still open.
    Shrank,
    /// The position is now flat; the trade is complete.
    Closed(Box<TradeRecord>),
    /// A fill on a symbol with no position and no entry: not ours to account.
    Stray,
}

/// One symbol's live state.
#[derive(Debug, Clone, Default)]
pub struct Book {
    /// Entry in flight.
    pub entry: Option<PendingEntry>,
    /// Open position.
    pub position: Option<OpenPosition>,
    seen_trades: HashSet<String>,
}

impl Book {
    /// True when the symbol has a position or an entry in flight.
    pub fn is_busy(&self) -> bool {
        self.entry.is_some() || self.position.is_some()
    }

    /// Initial margin this symbol ties up: the open position's, else the entry's reservation.
    pub fn margin(&self) -> Decimal {
        match (&self.position, &self.entry) {
            (Some(p), _) => p.qty * p.entry_price / Decimal::from(p.leverage.max(1)),
            (None, Some(e)) => e.reserved_margin,
            (None, None) => Decimal::ZERO,
        }
    }

    /// True when the execution `trade_id` was already accounted.
    pub fn has_seen(&self, trade_id: &str) -> bool {
        self.seen_trades.contains(trade_id)
    }

    /// Records `trade_id` as accounted without applying it (its quantity was already counted);
    /// false when it was already known.
    pub fn mark_seen(&mut self, trade_id: &str) -> bool {
        self.seen_trades.insert(trade_id.to_owned())
    }

    /// Accounts one fill of this symbol.
    pub fn apply_fill(&mut self, fill: &Fill) -> FillEffect {
        if !self.seen_trades.insert(fill.trade_id.clone()) {
            return FillEffect::Duplicate;
        }
        let (qty, price) = (fill.qty.get(), fill.price.get());
        let entry_side = self.position.as_ref().map(|p| p.side).or(self.entry.as_ref().map(|e| e.side));
        let Some(side) = entry_side else { return FillEffect::Stray };
        if fill.side == side.entry_side() {
            let leverage = self.entry.as_ref().map_or(1, |e| e.leverage);
            let pos = self.position.get_or_insert_with(|| OpenPosition {
                side,
                qty: Decimal::ZERO,
                entry_qty: Decimal::ZERO,
                entry_price: Decimal::ZERO,
                leverage,
                entry_time: fill.time_exchange,
                fees: Decimal::ZERO,
                funding: Decimal::ZERO,
                realized: Decimal::ZERO,
                exit_value: Decimal::ZERO,
                protection: Protection::default(),
                closing: None,
                triggered: None,
                retry_close: None,
            });
            let value = pos.qty * pos.entry_price + qty * price;
            pos.qty += qty;
            pos.entry_qty = pos.entry_qty.max(pos.qty);
            pos.entry_price = value / pos.qty;
            pos.fees += fill.fee;
            return FillEffect::Grew;
        }
        let Some(pos) = self.position.as_mut() else { return FillEffect::Stray };
        let closed_qty = qty.min(pos.qty);
        pos.realized += side.sign() * closed_qty * (price - pos.entry_price);
        pos.exit_value += closed_qty * price;
        pos.fees += fill.fee;
        pos.qty -= closed_qty;
        if pos.qty > Decimal::ZERO {
            return FillEffect::Shrank;
        }
        let reason = Self::exit_reason(pos, &fill.client_order_id);
        let pos = self.position.take();
        self.seen_trades.clear();
        self.seen_trades.insert(fill.trade_id.clone());
        match pos {
            Some(pos) => {
                FillEffect::Closed(Box::new(trade_record(&fill.symbol, pos, fill.time_exchange, reason)))
            }
            None => FillEffect::Stray,
        }
    }

    /// Why a position closed, from the order whose fill closed it: one of ours by its purpose,
    /// a venue-made id by the protective order reported triggered, Binance's `autoclose-` ids as
    /// a liquidation, anything else as external.
    pub fn exit_reason(pos: &OpenPosition, id: &ClientOrderId) -> ExitReason {
        if let Some((close_id, reason)) = &pos.closing
            && close_id == id
        {
            return *reason;
        }
        let purpose = if pos.protection.contains(id) { id.purpose() } else { pos.triggered };
        match purpose {
            Some(OrderPurpose::StopLoss) => ExitReason::StopLoss,
            Some(OrderPurpose::TakeProfit) => ExitReason::TakeProfit,
            Some(OrderPurpose::TrailingStop) => ExitReason::TrailingStop,
            _ if id.as_str().starts_with("autoclose") => ExitReason::Liquidation,
            _ => ExitReason::External,
        }
    }
}

fn trade_record(symbol: &Symbol, pos: OpenPosition, exit_time: i64, reason: ExitReason) -> TradeRecord {
    let exit_price = if pos.entry_qty.is_zero() { Decimal::ZERO } else { pos.exit_value / pos.entry_qty };
    TradeRecord {
        symbol: symbol.clone(),
        side: pos.side,
        entry_time: pos.entry_time,
        exit_time,
        entry_price: pos.entry_price,
        exit_price,
        qty: Qty::new(pos.entry_qty),
        leverage: pos.leverage,
        fees: pos.fees,
        funding: pos.funding,
        pnl: pos.realized - pos.fees + pos.funding,
        exit_reason: reason,
    }
}
