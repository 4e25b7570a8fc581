//! Execution in the live engine: what order updates, fills and failed placements do to the
//! books, the resting stop's life, and exits.
//!
//! - Entry: a market buy. Once the venue calls it done and its fills are in, the holding gets a
//!   resting STOP_LOSS sell of its quantity (rounded down to the step) at the ATR stop.
//! - Ratchet: at a close where the strategy's stop level rose (by at least one tick, since
//!   levels are on the tick grid), the resting stop is cancelled and, once the venue confirms
//!   the cancel (order update `CANCELED`), placed again at the new level. On spot both cannot
//!   rest at once: the first stop locks the coins, and a second sell of the same quantity is
//!   refused for insufficient balance. The holding is unprotected between the cancel's
//!   confirmation and the new stop's acceptance: one round trip to the venue, right after a
//!   close, with the price at least one tick above the new, higher level (a stop that would
//!   trigger at once is refused, and then the holding is sold at market as the backtest sells
//!   a bar opening under its stop). A stop that fills before its cancel lands closes the
//!   holding as usual and nothing is placed. Binance's atomic cancel-replace
//!   (`POST /api/v3/order/cancelReplace`) would close that window; the venue-neutral commands
//!   have no such command yet.
//! - Exits (regime flip, daily loss cap, flatten): the stop is cancelled first and, once
//!   confirmed, the holding (rounded down to the step) is sold at market; a sale that fails is
//!   sent again at the next close. A cancel still unconfirmed at the next close is sent again
//!   and the venue re-read.
//! - Never unprotected: a stop that cannot be placed, or that ends without filling when this
//!   engine did not cancel it, gets the holding sold at market and a critical alert. A stop
//!   that fills closes the holding (exit reason `trailing_stop`).
//! - Fills are deduplicated by trade id; an execution rebuilt from a query (fills missed in a
//!   stream gap) is not counted again when the real one arrives late.

use agent_core::live::{Command, record, uncovered_rest};
use agent_core::spot::{SpotExitReason, trailing_stop_level};
use exchange_core::{
    ClientOrderId, Fill, OrderKind, OrderPurpose, OrderRequest, OrderStatus, OrderUpdate, Price, Side, Symbol,
};
use rust_decimal::Decimal;
use serde_json::json;

use super::book::{AfterCancel, FillEffect, StopState};
use super::engine::{SpotLiveEngine, floor_qty};

/// True when a venue's refusal says the stop's price is already passed.
fn would_trigger_now(error: &str) -> bool {
    let lower = error.to_ascii_lowercase();
    lower.contains("trigger immediately") || lower.contains("immediately trigger") || lower.contains("-2021")
}

impl SpotLiveEngine {
    /// An order changed state on the venue.
    pub fn on_order_update(&mut self, update: &OrderUpdate) -> Vec<Command> {
        let mut out = std::mem::take(&mut self.pending);
        out.push(record("order_update", update.time_exchange, json!(update)));
        self.last_event_ms = self.last_event_ms.max(update.time_exchange);
        if let Some(fill) = &update.fill {
            out.extend(self.on_fill(fill));
        }
        let Some(i) = self.index(&update.symbol) else { return out };
        let id = &update.client_order_id;
        let ts = update.time_exchange;
        if !update.status.is_final() {
            return out;
        }
        let unaccounted = update.filled_qty.get() > self.accounted.get(id).copied().unwrap_or(Decimal::ZERO);
        let book = &mut self.pairs[i].book;
        if let Some(entry) = book.entry.as_mut().filter(|e| &e.id == id) {
            entry.final_filled = Some(update.filled_qty.get());
            if update.filled_qty.get().is_zero() {
                out.push(Command::entry_failed(update));
            }
            out.extend(self.complete_entry(i, ts));
            return out;
        }
        let Some(pos) = book.position.as_mut() else { return out };
        if pos.stop.id() == Some(id) {
            if unaccounted {
                // It traded and the execution is not in yet: it will close (or shrink) the
                // holding. An order that ended otherwise is looked up, so that the query's
                // answer rebuilds what the stream lost before the holding is acted on.
                if update.status != OrderStatus::Filled {
                    out.push(Command::Reconcile);
                }
                return out;
            }
            match std::mem::take(&mut pos.stop) {
                StopState::Cancelling { then: AfterCancel::Replace, .. } => {
                    out.extend(self.place_stop(i, ts))
                }
                StopState::Cancelling { then: AfterCancel::Sell(reason), .. } => {
                    out.extend(self.sell_now(i, reason, ts));
                }
                StopState::Resting { .. } if update.status != OrderStatus::Filled => {
                    out.push(Command::critical(format!(
                        "main-agent: the stop {id} of {} ended ({:?}{}) while the holding is open: selling at market",
                        update.symbol,
                        update.status,
                        update.reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default()
                    )));
                    out.extend(self.sell_now(i, SpotExitReason::Unprotected, ts));
                }
                other => pos.stop = other,
            }
        } else if pos.closing.as_ref().is_some_and(|(c, _)| c == id) && !unaccounted {
            pos.retry_close = pos.closing.take().map(|(_, reason)| reason);
            out.push(Command::critical(format!(
                "main-agent: the market sale {id} of {} ended ({:?}) with the holding still open; sent again at the next close",
                update.symbol, update.status
            )));
        }
        out
    }

    /// One execution (deduplicated by trade id). When its order was accounted from a query
    /// while the stream was down (a rebuilt fill), the execution arriving late counts only for
    /// what that did not cover: `fill_covered` journals it, and a replay repeats the same split.
    pub fn on_fill(&mut self, fill: &Fill) -> Vec<Command> {
        let Some(left) = self.rebuilt.get_mut(&fill.client_order_id).filter(|l| **l > Decimal::ZERO) else {
            return self.apply_fill_record(fill, "fill");
        };
        // The same execution reported twice (order update and trade event) counts once.
        let Some(pair) = self.pairs.iter_mut().find(|p| p.symbol == fill.symbol) else { return Vec::new() };
        if pair.book.has_seen(&fill.trade_id) {
            return Vec::new();
        }
        let mut out = vec![record("fill_covered", fill.time_exchange, json!(fill))];
        match uncovered_rest(left, fill) {
            None => {
                pair.book.mark_seen(&fill.trade_id);
            }
            Some(rest) => out.extend(self.apply_fill_record(&rest, "fill")),
        }
        out
    }

    /// An execution rebuilt from an order query: applied like a fill, and remembered so that
    /// the real fill, if it still arrives, is not counted twice.
    pub fn on_rebuilt_fill(&mut self, fill: &Fill) -> Vec<Command> {
        *self.rebuilt.entry(fill.client_order_id.clone()).or_insert(Decimal::ZERO) += fill.qty.get();
        self.apply_fill_record(fill, "fill_rebuilt")
    }

    fn apply_fill_record(&mut self, fill: &Fill, kind: &'static str) -> Vec<Command> {
        let Some(i) = self.index(&fill.symbol) else { return Vec::new() };
        self.last_event_ms = self.last_event_ms.max(fill.time_exchange);
        let (fee_rate, step) = (self.params.costs.fee, self.pairs[i].rules.step_size.get());
        let pair = &mut self.pairs[i];
        let stop = pair.book.position.as_ref().and_then(|p| p.stop.id().cloned());
        let (effect, cash) = pair.book.apply_fill(fill, &pair.base, fee_rate, step);
        if effect == FillEffect::Duplicate {
            return Vec::new();
        }
        let mut out = vec![record(kind, fill.time_exchange, json!(fill))];
        self.cash += cash;
        if effect != FillEffect::Stray {
            *self.accounted.entry(fill.client_order_id.clone()).or_insert(Decimal::ZERO) += fill.qty.get();
        }
        match effect {
            FillEffect::Bought => out.extend(self.complete_entry(i, fill.time_exchange)),
            FillEffect::Closed(trade) => {
                let pair = &mut self.pairs[i];
                pair.book.cooldown_until = fill.time_exchange.div_euclid(self.interval_ms)
                    + self.params.entries.cooldown_bars as i64;
                if let Some(stop) = stop.filter(|s| s != &fill.client_order_id) {
                    out.push(Command::Cancel { symbol: fill.symbol.clone(), id: stop });
                }
                out.push(record("position_closed", fill.time_exchange, trade_fields(&trade)));
                out.push(Command::trade_alert(format!(
                    "main-agent: sold {} {} at {} ({}): P&L {} USDT",
                    trade.qty,
                    trade.symbol,
                    trade.exit_price.round_dp(8).normalize(),
                    trade.exit_reason.as_str(),
                    trade.pnl.round_dp(2)
                )));
                self.trades.push(*trade);
            }
            FillEffect::Stray if fill.client_order_id.agent() == Some(exchange_core::AgentTag::Main) => {
                out.push(Command::critical(format!(
                    "main-agent: fill {} of {} for {} matches no entry or holding of ours: not accounted",
                    fill.trade_id, fill.symbol, fill.client_order_id
                )));
            }
            FillEffect::Sold | FillEffect::Stray | FillEffect::Duplicate => {}
        }
        out
    }

    /// Finishes pair `i`'s entry once the venue has called it done and its fills are in: the
    /// entry (and what is left of its reservation) is cleared and, if anything was bought, the
    /// holding is protected.
    pub(super) fn complete_entry(&mut self, i: usize, ts: i64) -> Vec<Command> {
        let book = &mut self.pairs[i].book;
        let Some(entry) = book.entry.as_ref().filter(|e| e.final_filled.is_some_and(|done| e.filled >= done))
        else {
            return Vec::new();
        };
        let atr = entry.atr;
        book.entry = None;
        if book.position.as_ref().is_none_or(|p| p.stop != StopState::None || p.is_exiting()) {
            return Vec::new();
        }
        if self.halted {
            // Bought while a flatten was under way: sold at once, not protected.
            return self.sell_now(i, SpotExitReason::Flatten, ts);
        }
        self.protect(i, atr, ts)
    }

    /// The first stop of pair `i`'s fresh holding: `atr_multiple` ATRs (the decision's) under
    /// the fill price, as the backtest sets it at the buy.
    fn protect(&mut self, i: usize, atr: f64, ts: i64) -> Vec<Command> {
        let multiple = self.params.risk.atr_multiple;
        let pair = &mut self.pairs[i];
        let Some(pos) = pair.book.position.as_mut() else { return Vec::new() };
        let entry_price = pos.entry_price();
        pos.peak = pos.peak.max(entry_price);
        pos.level = pos.level.max(trailing_stop_level(&pair.rules, entry_price, atr, multiple));
        let mut out = vec![
            record(
                "position_opened",
                ts,
                json!({"symbol": pair.symbol, "side": "long", "qty": pos.qty.to_string(), "entry_price": entry_price.to_string(), "leverage": 1, "fees": pos.fees.to_string(), "strategy": pos.signal.as_str(), "regime": pos.regime.as_str(), "probability": pos.probability, "stop": pos.level.to_string()}),
            ),
            Command::trade_alert(format!(
                "main-agent: bought {} {} at {} ({}, {}); stop {}",
                pos.qty.normalize(),
                pair.symbol,
                entry_price.round_dp(8).normalize(),
                pos.signal.as_str(),
                pos.regime.as_str(),
                pos.level
            )),
        ];
        out.extend(self.place_stop(i, ts));
        out
    }

    /// Places pair `i`'s stop at its holding's level for the holding's quantity.
    pub(super) fn place_stop(&mut self, i: usize, ts: i64) -> Vec<Command> {
        let id = self.next_id(OrderPurpose::StopLoss);
        let pair = &mut self.pairs[i];
        let Some(pos) = pair.book.position.as_mut() else { return Vec::new() };
        let qty = floor_qty(&pair.rules, pos.qty);
        if !qty.is_positive() {
            return vec![Command::critical(format!(
                "main-agent: cannot place a stop for {} {}: less than one step",
                pos.qty, pair.symbol
            ))];
        }
        // A level of 0 (ATRs beyond the price) rests one tick above 0: no stop in effect, as in
        // the backtest, but an order the venue takes.
        let trigger = pos.level.max(pair.rules.tick_size.get());
        let order = OrderRequest {
            client_order_id: id.clone(),
            symbol: pair.symbol.clone(),
            side: Side::Sell,
            kind: OrderKind::StopMarket { trigger: Price::new(trigger) },
            qty,
            reduce_only: false,
            close_position: false,
        };
        pos.stop = StopState::Resting { id, level: pos.level };
        vec![record("order_sent", ts, json!({"purpose": "stop_loss", "order": order})), Command::Place(order)]
    }

    /// Stops whose level rose at this close are cancelled, to be placed again once confirmed.
    pub(super) fn move_stops(&mut self, ts: i64) -> Vec<Command> {
        let mut out = Vec::new();
        for pair in &mut self.pairs {
            let Some(pos) = pair.book.position.as_mut().filter(|p| p.closing.is_none()) else { continue };
            let StopState::Resting { id, level } = &pos.stop else { continue };
            if pos.level <= *level {
                continue;
            }
            let (id, from) = (id.clone(), *level);
            out.push(record(
                "stop_move",
                ts,
                json!({"symbol": pair.symbol, "id": id, "from": from.to_string(), "to": pos.level.to_string()}),
            ));
            out.push(Command::Cancel { symbol: pair.symbol.clone(), id: id.clone() });
            pos.stop = StopState::Cancelling { id, then: AfterCancel::Replace, since: ts };
        }
        out
    }

    /// Sells pair `i`'s holding for `reason`: its stop cancelled first, the sale once that is
    /// confirmed (at once when no stop rests). Nothing when it is already being sold.
    pub(super) fn close_position(&mut self, i: usize, reason: SpotExitReason, ts: i64) -> Vec<Command> {
        let pair = &mut self.pairs[i];
        let Some(pos) = pair.book.position.as_mut().filter(|p| !p.is_exiting()) else { return Vec::new() };
        pos.retry_close = None;
        match std::mem::take(&mut pos.stop) {
            StopState::Resting { id, .. } => {
                pos.stop =
                    StopState::Cancelling { id: id.clone(), then: AfterCancel::Sell(reason), since: ts };
                vec![
                    record(
                        "exit",
                        ts,
                        json!({"symbol": pair.symbol, "reason": reason.as_str(), "cancel": id}),
                    ),
                    Command::Cancel { symbol: pair.symbol.clone(), id },
                ]
            }
            StopState::Cancelling { id, since, .. } => {
                pos.stop = StopState::Cancelling { id, then: AfterCancel::Sell(reason), since };
                vec![record("exit", ts, json!({"symbol": pair.symbol, "reason": reason.as_str()}))]
            }
            StopState::None => self.sell_now(i, reason, ts),
        }
    }

    /// Sends the market sale of pair `i`'s holding (no stop resting).
    pub(super) fn sell_now(&mut self, i: usize, reason: SpotExitReason, ts: i64) -> Vec<Command> {
        let id = self.next_id(OrderPurpose::Close);
        let pair = &mut self.pairs[i];
        let Some(pos) = pair.book.position.as_mut().filter(|p| p.closing.is_none()) else {
            return Vec::new();
        };
        let qty = floor_qty(&pair.rules, pos.qty);
        if !qty.is_positive() {
            return vec![Command::critical(format!(
                "main-agent: {} {} is under one step: nothing to sell",
                pos.qty, pair.symbol
            ))];
        }
        pos.closing = Some((id.clone(), reason));
        let order = OrderRequest {
            client_order_id: id,
            symbol: pair.symbol.clone(),
            side: Side::Sell,
            kind: OrderKind::Market,
            qty,
            reduce_only: false,
            close_position: false,
        };
        vec![
            record("order_sent", ts, json!({"purpose": "close", "reason": reason.as_str(), "order": order})),
            Command::Place(order),
        ]
    }

    /// At a close: failed sales are sent again, and cancels unconfirmed since an earlier close
    /// are sent again with a reconciliation.
    pub(super) fn resume_exits(&mut self, ts: i64) -> Vec<Command> {
        let mut out = Vec::new();
        let interval = self.interval_ms;
        for i in 0..self.pairs.len() {
            let pair = &mut self.pairs[i];
            let Some(pos) = pair.book.position.as_mut() else { continue };
            if let StopState::Cancelling { id, since, .. } = &mut pos.stop
                && *since + interval <= ts
            {
                *since = ts;
                out.push(Command::Cancel { symbol: pair.symbol.clone(), id: id.clone() });
                out.push(Command::Reconcile);
            }
            if let Some(reason) = pos.retry_close.take() {
                out.extend(self.close_position(i, reason, ts));
            }
        }
        out
    }

    /// The venue refused an order for certain, or does not know it.
    pub fn on_place_failed(
        &mut self,
        id: &ClientOrderId,
        symbol: &Symbol,
        error: &str,
        ts: i64,
    ) -> Vec<Command> {
        let mut out = std::mem::take(&mut self.pending);
        let Some(i) = self.index(symbol) else { return out };
        self.last_event_ms = self.last_event_ms.max(ts);
        out.push(record("order_failed", ts, json!({"symbol": symbol, "id": id, "error": error})));
        let book = &mut self.pairs[i].book;
        if let Some(entry) = book.entry.as_mut().filter(|e| &e.id == id) {
            // Whatever it bought before failing is protected; the rest of the cash is freed.
            entry.final_filled = Some(entry.filled);
            out.push(Command::critical(format!("main-agent: the entry {id} on {symbol} failed: {error}")));
            out.extend(self.complete_entry(i, ts));
            return out;
        }
        let Some(pos) = book.position.as_mut() else { return out };
        if pos.stop.id() == Some(id) {
            match std::mem::take(&mut pos.stop) {
                // The venue does not know the order being cancelled: it is gone.
                StopState::Cancelling { then: AfterCancel::Replace, .. } => {
                    out.extend(self.place_stop(i, ts))
                }
                StopState::Cancelling { then: AfterCancel::Sell(reason), .. } => {
                    out.extend(self.sell_now(i, reason, ts));
                }
                StopState::Resting { .. } if would_trigger_now(error) => {
                    // The price is already under the stop: the live twin of a bar opening below
                    // it, sold at market as a trailing stop.
                    out.push(Command::trade_alert(format!(
                        "main-agent: {symbol} is already under its stop ({error}): selling at market"
                    )));
                    out.extend(self.sell_now(i, SpotExitReason::TrailingStop, ts));
                }
                StopState::Resting { .. } | StopState::None => {
                    out.push(Command::critical(format!(
                        "main-agent: could not place the stop {id} on {symbol} ({error}): selling the holding at market"
                    )));
                    out.extend(self.sell_now(i, SpotExitReason::Unprotected, ts));
                }
            }
        } else if pos.closing.as_ref().is_some_and(|(c, _)| c == id) {
            pos.retry_close = pos.closing.take().map(|(_, reason)| reason);
            out.push(Command::critical(format!(
                "main-agent: the market sale {id} on {symbol} failed ({error}); sent again at the next close"
            )));
        }
        out
    }

    /// Emergency flatten (SIGUSR2): stops cancelled, everything sold at market, no entries
    /// until restarted.
    pub fn flatten(&mut self, ts: i64) -> Vec<Command> {
        let mut out = std::mem::take(&mut self.pending);
        self.halted = true;
        self.last_event_ms = self.last_event_ms.max(ts);
        out.push(record("flatten", ts, json!({})));
        for i in 0..self.pairs.len() {
            out.extend(self.close_position(i, SpotExitReason::Flatten, ts));
        }
        out
    }
}

/// A closed trade as journaled: the fields of agent-core's `TradeRecord` (side `long`,
/// leverage 1, no funding), plus the rule that opened it (`strategy`), the regime, the decision
/// time and the gate's probability.
pub(super) fn trade_fields(trade: &agent_core::spot::SpotTrade) -> serde_json::Value {
    json!({
        "symbol": trade.symbol,
        "side": "long",
        "entry_time": trade.entry_time,
        "exit_time": trade.exit_time,
        "entry_price": trade.entry_price.to_string(),
        "exit_price": trade.exit_price.to_string(),
        "qty": trade.qty,
        "leverage": 1,
        "fees": trade.fees.to_string(),
        "funding": "0",
        "pnl": trade.pnl.to_string(),
        "exit_reason": trade.exit_reason.as_str(),
        "strategy": trade.signal.as_str(),
        "regime": trade.regime.as_str(),
        "decision_time": trade.decision_time,
        "probability": trade.probability,
    })
}
