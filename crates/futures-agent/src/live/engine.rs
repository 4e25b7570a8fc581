//! The live decision engine of futures-agent: DESIGN §10 bar for bar, as a synchronous state
//! machine. Events go in (a closed bar, an order update, a fill, funding, a failed placement, a
//! flatten request); commands come out (set leverage, place, cancel, a journal record, an alert).
//! It does no I/O and reads no clock, so it is tested without a venue and rebuilt after a restart
//! by replaying the journaled events through it.
//!
//! It runs the backtester's strategy (`Momentum`) and risk code (`size_entry`, `DailyBreaker`)
//! unchanged. What differs from the backtest is execution: the entry is a market order sent at
//! the close (it fills at about the next open), and the exits are orders resting on the venue
//! (stop loss and take profit as close-position orders, the trailing stop as a reduce-only
//! trailing order) placed as soon as the entry has filled. The books follow fills only.
//!
//! Never unprotected: a protective order that cannot be placed, or that disappears while its
//! position is open, gets the position closed at market and an alert.

use std::collections::{BTreeMap, HashMap, HashSet};

use agent_core::backtest::{EntryStrategy, ExitReason, SignalInput, TradeRecord};
use agent_core::journal::JournalRecord;
use exchange_core::{
    AgentTag, Bar, ClientOrderId, Fill, InstrumentRules, OrderKind, OrderPurpose, OrderRequest, OrderStatus,
    OrderUpdate, PositionSide, Price, PriceRounding, Qty, Symbol,
};
use risk_core::breaker::DailyBreaker;
use risk_core::decision::Decision;
use risk_core::params::FuturesRiskParams;
use risk_core::sizing::{SizingInput, size_entry};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Value, json};

use super::book::{Book, FillEffect, OpenPosition, PendingEntry, Protection};
use crate::strategy::Momentum;

/// Bars kept per symbol: enough for the momentum window with room to spare.
const HISTORY: usize = 512;
/// How long before a bar's close its forming price may prepare an entry's leverage.
const PREPARE_WINDOW_MS: i64 = 5 * 60_000;

pub use agent_core::live::{AlertLevel, Command};
use agent_core::live::{record, uncovered_rest};

fn trade_alert(text: String) -> Command {
    Command::trade_alert(text)
}

fn critical(text: String) -> Command {
    Command::critical(text)
}

/// The engine's configuration.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Strategy and risk keys.
    pub params: FuturesRiskParams,
    /// Symbols in priority order with their rules.
    pub symbols: Vec<(Symbol, InstrumentRules)>,
    /// Bar length, ms.
    pub interval_ms: i64,
    /// Start time of this session, ms: makes client order ids unique across restarts.
    pub session_ms: u64,
}

#[derive(Debug, Clone)]
struct SymbolSlot {
    symbol: Symbol,
    rules: InstrumentRules,
    bars: Vec<Bar>,
    closes: Vec<f64>,
    book: Book,
    /// The leverage last asked for ahead of a close (`on_bar_forming`), not yet used.
    prepared: Option<u32>,
}

/// The futures agent's live state and rules.
#[derive(Debug, Clone)]
pub struct LiveEngine {
    params: FuturesRiskParams,
    interval_ms: i64,
    strategy: Momentum,
    slots: Vec<SymbolSlot>,
    breaker: DailyBreaker,
    closed_pnl: Decimal,
    trades: Vec<TradeRecord>,
    session_ms: u64,
    seq: u64,
    gathering: BTreeMap<i64, HashSet<usize>>,
    cancelling: HashSet<ClientOrderId>,
    suspect_expired: HashSet<ClientOrderId>,
    /// Quantity per order accounted from queries, not yet matched by a real fill.
    rebuilt: HashMap<ClientOrderId, Decimal>,
    halted: bool,
    last_event_ms: i64,
}

impl LiveEngine {
    /// A fresh engine with no positions.
    pub fn new(config: EngineConfig) -> Self {
        let params = config.params;
        Self {
            strategy: Momentum::new(&params),
            breaker: DailyBreaker::new(params.max_daily_loss, params.capital),
            slots: config
                .symbols
                .into_iter()
                .map(|(symbol, rules)| SymbolSlot {
                    symbol,
                    rules,
                    bars: Vec::new(),
                    closes: Vec::new(),
                    book: Book::default(),
                    prepared: None,
                })
                .collect(),
            interval_ms: config.interval_ms,
            params,
            closed_pnl: Decimal::ZERO,
            trades: Vec::new(),
            session_ms: config.session_ms,
            seq: 0,
            gathering: BTreeMap::new(),
            cancelling: HashSet::new(),
            suspect_expired: HashSet::new(),
            rebuilt: HashMap::new(),
            halted: false,
            last_event_ms: 0,
        }
    }

    /// Continues with new client order ids after a replay (a new session).
    pub fn start_session(&mut self, session_ms: u64) {
        self.session_ms = session_ms;
        self.seq = 0;
    }

    /// Backfilled history (no decisions are taken on it). The bars are journaled too, since later
    /// decisions depend on them and a replay must see the same history.
    pub fn seed_history(&mut self, symbol: &Symbol, bars: &[Bar]) -> Vec<Command> {
        let Some(slot) = self.slot_mut(symbol) else { return Vec::new() };
        let newest = slot.bars.last().map_or(i64::MIN, |b| b.open_time_ms);
        let fresh: Vec<Bar> = bars.iter().filter(|b| b.open_time_ms > newest).copied().collect();
        if fresh.is_empty() {
            return Vec::new();
        }
        for bar in &fresh {
            push_bar(slot, *bar);
        }
        let ts = fresh.last().map_or(0, |b| b.open_time_ms + self.interval_ms);
        vec![record("history", ts, json!({"symbol": symbol, "bars": fresh}))]
    }

    /// A bar of `symbol` closed. When every symbol has closed the bar of that open time (or a
    /// later bar shows one never will), step d runs for the whole portfolio.
    pub fn on_bar_closed(&mut self, symbol: &Symbol, bar: Bar) -> Vec<Command> {
        let Some(i) = self.index(symbol) else { return Vec::new() };
        let open_time = bar.open_time_ms;
        if self.slots[i].bars.last().is_some_and(|b| b.open_time_ms >= open_time) {
            return Vec::new();
        }
        push_bar(&mut self.slots[i], bar);
        self.slots[i].prepared = None;
        self.gathering.entry(open_time).or_default().insert(i);
        let mut out =
            vec![record("bar_close", open_time + self.interval_ms, json!({"symbol": symbol, "bar": bar}))];
        while let Some((&t, got)) = self.gathering.iter().next() {
            let complete = got.len() == self.slots.len();
            let overtaken = self.gathering.keys().any(|k| *k > t);
            if !(complete || overtaken) {
                break;
            }
            let active: Vec<usize> = got.iter().copied().collect();
            self.gathering.remove(&t);
            out.extend(self.at_close(t, &active));
        }
        out
    }

    /// The bar of `symbol` is still forming (an update at event time `now`). In the last
    /// [`PREPARE_WINDOW_MS`] of the bar, the leverage an entry would take if the bar closed at
    /// this price is set on the venue ahead, so that the entry at the close does not wait for
    /// that round trip (the runtime skips setting a leverage already set; a final signal that
    /// differs sets its own). Only for a symbol with no position and no entry in flight: a new
    /// leverage would change an open isolated position's margin. Nothing is decided or journaled
    /// here; the decision at the close is unchanged.
    pub fn on_bar_forming(&mut self, symbol: &Symbol, bar: Bar, now: i64) -> Vec<Command> {
        let Some(i) = self.index(symbol) else { return Vec::new() };
        let close_time = bar.open_time_ms + self.interval_ms;
        let slot = &self.slots[i];
        let next = slot.bars.last().is_some_and(|b| b.open_time_ms + self.interval_ms == bar.open_time_ms);
        if !next
            || now < close_time - PREPARE_WINDOW_MS
            || slot.book.is_busy()
            || self.halted
            || self.breaker.is_tripped(close_time)
        {
            return Vec::new();
        }
        let Some(close) = bar.close.get().to_f64() else { return Vec::new() };
        let strategy = &self.strategy;
        let slot = &mut self.slots[i];
        slot.bars.push(bar);
        slot.closes.push(close);
        let signal = strategy.signal(SignalInput { bars: &slot.bars, closes: &slot.closes });
        slot.bars.pop();
        slot.closes.pop();
        match signal {
            Some(signal) if slot.prepared != Some(signal.leverage) => {
                slot.prepared = Some(signal.leverage);
                vec![Command::SetLeverage { symbol: symbol.clone(), leverage: signal.leverage }]
            }
            _ => Vec::new(),
        }
    }

    /// Runs step d for every gathered open time (when the runtime's deadline passes). The
    /// `flush` record makes a replay decide at the same point.
    pub fn flush_closes(&mut self) -> Vec<Command> {
        let gathered = std::mem::take(&mut self.gathering);
        let Some(last) = gathered.keys().next_back() else { return Vec::new() };
        let mut out = vec![record("flush", last + self.interval_ms, json!({}))];
        for (t, got) in gathered {
            out.extend(self.at_close(t, &got.into_iter().collect::<Vec<_>>()));
        }
        out
    }

    /// Step d at the close of the bars opened at `open_time`.
    fn at_close(&mut self, open_time: i64, active: &[usize]) -> Vec<Command> {
        let mut out = Vec::new();
        self.last_event_ms = self.last_event_ms.max(open_time + self.interval_ms);
        let equity = self.equity();
        let event = self.breaker.on_close(open_time + self.interval_ms, equity);
        let ts = open_time + self.interval_ms;
        if let Some(day) = event.day_start {
            out.push(record(
                "day_rollover",
                ts,
                json!({"day": day.day, "open_equity": day.open_equity.to_string()}),
            ));
        }
        if let Some(trip) = event.trip {
            out.push(record(
                "breaker",
                ts,
                json!({"day": trip.day, "equity": trip.equity.to_string(), "day_open_equity": trip.day_open_equity.to_string()}),
            ));
            out.push(critical(format!(
                "futures-agent: daily loss breaker tripped: equity {} at or below {} (day open {}); closing all, no entries until 00:00 UTC",
                trip.equity.round_dp(2),
                trip.threshold.round_dp(2),
                trip.day_open_equity.round_dp(2)
            )));
            for i in 0..self.slots.len() {
                out.extend(self.close_at_market(i, ExitReason::Breaker, ts));
            }
        }
        for i in 0..self.slots.len() {
            let retry = self.slots[i].book.position.as_mut().and_then(|p| p.retry_close.take());
            if let Some(reason) = retry {
                out.extend(self.close_at_market(i, reason, ts));
            }
        }
        if self.halted || self.breaker.is_tripped(ts) {
            return out;
        }
        let wallet = self.wallet();
        let mut committed: Decimal = self.slots.iter().map(|s| s.book.margin()).sum();
        let mut busy = self.slots.iter().filter(|s| s.book.is_busy()).count();
        let mut order: Vec<usize> = active.to_vec();
        order.sort_unstable();
        for i in order {
            if busy >= self.params.max_positions {
                break;
            }
            let slot = &self.slots[i];
            if slot.book.is_busy() {
                continue;
            }
            let Some(signal) = self.strategy.signal(SignalInput { bars: &slot.bars, closes: &slot.closes })
            else {
                continue;
            };
            let Some(price) = slot.bars.last().map(|b| b.close.get()) else { continue };
            let sizing = size_entry(&SizingInput {
                equity,
                free: wallet - committed,
                risk_per_trade: self.params.risk_per_trade,
                stop_loss: self.params.stop_loss,
                leverage: signal.leverage,
                price,
                rules: &slot.rules,
            });
            let sized = match sizing {
                Decision::Approved(sized) => sized,
                Decision::Refused { reason } => {
                    out.push(record(
                        "entry_refused",
                        ts,
                        json!({"symbol": slot.symbol, "reason": reason.to_string()}),
                    ));
                    continue;
                }
            };
            committed += sized.initial_margin;
            busy += 1;
            let id = self.next_id(OrderPurpose::Entry);
            let slot = &mut self.slots[i];
            let order = OrderRequest {
                client_order_id: id.clone(),
                symbol: slot.symbol.clone(),
                side: signal.side.entry_side(),
                kind: OrderKind::Market,
                qty: sized.qty,
                reduce_only: false,
                close_position: false,
            };
            slot.book.entry = Some(PendingEntry {
                id,
                side: signal.side,
                qty: sized.qty.get(),
                leverage: signal.leverage,
                reserved_margin: sized.initial_margin,
                decided_at: ts,
                final_filled: None,
            });
            out.push(Command::SetLeverage { symbol: slot.symbol.clone(), leverage: signal.leverage });
            out.push(record(
                "order_sent",
                ts,
                json!({"purpose": "entry", "order": order, "leverage": signal.leverage}),
            ));
            out.push(Command::Place(order));
        }
        out
    }

    /// An order changed state on the venue.
    pub fn on_order_update(&mut self, update: &OrderUpdate) -> Vec<Command> {
        let mut out = vec![record("order_update", update.time_exchange, json!(update))];
        self.last_event_ms = self.last_event_ms.max(update.time_exchange);
        if let Some(fill) = &update.fill {
            out.extend(self.on_fill(fill));
        }
        let Some(i) = self.index(&update.symbol) else { return out };
        let id = &update.client_order_id;
        let ts = update.time_exchange;
        let final_state = update.status.is_final();
        let slot = &mut self.slots[i];
        if let Some(entry) = slot.book.entry.as_mut().filter(|e| &e.id == id) {
            if final_state {
                entry.final_filled = Some(update.filled_qty.get());
                if update.filled_qty.get().is_zero() {
                    out.push(Command::entry_failed(update));
                }
                out.extend(self.complete_entry(i, ts));
            }
            return out;
        }
        let Some(pos) = self.slots[i].book.position.as_mut() else { return out };
        if pos.protection.contains(id) {
            // A triggered order (Binance ALGO_UPDATE TRIGGERED/FINISHED) is executing: its fill
            // closes the position, and the venue cancels its close-position siblings first.
            let triggered = update.filled_qty.is_positive()
                || update
                    .reason
                    .as_deref()
                    .is_some_and(|r| r.starts_with("TRIGGERED") || r.starts_with("FINISHED"));
            if triggered {
                pos.triggered = id.purpose();
            }
            let vanished = final_state && !update.filled_qty.is_positive() && !triggered;
            // Binance reports a triggered algo order FINISHED, which without its fill quantity
            // reads as Expired; its execution may have been lost in a stream gap. The first time,
            // keep it and have the venue queried (the query carries the fill); only an order still
            // unfilled after that counts as vanished.
            if vanished
                && update.status == OrderStatus::Expired
                && !self.cancelling.contains(id)
                && self.suspect_expired.insert(id.clone())
            {
                out.push(Command::Reconcile);
                return out;
            }
            self.suspect_expired.remove(id);
            if vanished
                && pos.protection.remove(id)
                && !self.cancelling.remove(id)
                && pos.closing.is_none()
                && pos.triggered.is_none()
            {
                out.push(critical(format!(
                    "futures-agent: {} protective order {id} ended ({:?}) while the position is open: closing at market",
                    update.symbol, update.status
                )));
                out.extend(self.close_at_market(i, ExitReason::Unprotected, ts));
            }
        } else if pos.closing.as_ref().is_some_and(|(c, _)| c == id)
            && final_state
            && !update.filled_qty.is_positive()
        {
            pos.retry_close = pos.closing.take().map(|(_, reason)| reason);
            out.push(critical(format!(
                "futures-agent: market close {id} of {} ended unfilled ({:?}); it will be retried at the next bar",
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
            return self.apply_fill_record(fill);
        };
        // The same execution reported twice (order update and trade event) counts once.
        let Some(slot) = self.slots.iter_mut().find(|s| s.symbol == fill.symbol) else { return Vec::new() };
        if slot.book.has_seen(&fill.trade_id) {
            return Vec::new();
        }
        let mut out = vec![record("fill_covered", fill.time_exchange, json!(fill))];
        match uncovered_rest(left, fill) {
            None => {
                slot.book.mark_seen(&fill.trade_id);
            }
            Some(rest) => out.extend(self.apply_fill_record(&rest)),
        }
        out
    }

    /// An execution rebuilt from an order query (fills missed in a stream gap): applied like a
    /// fill, and remembered so that the real fill, if it still arrives, is not counted twice.
    pub fn on_rebuilt_fill(&mut self, fill: &Fill) -> Vec<Command> {
        *self.rebuilt.entry(fill.client_order_id.clone()).or_insert(Decimal::ZERO) += fill.qty.get();
        let mut out = vec![record("fill_rebuilt", fill.time_exchange, json!(fill))];
        out.extend(
            self.apply_fill_record(fill)
                .into_iter()
                .filter(|c| !matches!(c, Command::Record { kind: "fill", .. })),
        );
        out
    }

    fn apply_fill_record(&mut self, fill: &Fill) -> Vec<Command> {
        let Some(i) = self.index(&fill.symbol) else { return Vec::new() };
        self.last_event_ms = self.last_event_ms.max(fill.time_exchange);
        let protection =
            self.slots[i].book.position.as_ref().map(|p| p.protection.clone()).unwrap_or_default();
        let mut out = vec![record("fill", fill.time_exchange, json!(fill))];
        match self.slots[i].book.apply_fill(fill) {
            FillEffect::Duplicate => return Vec::new(),
            FillEffect::Closed(trade) => {
                for id in protection.ids() {
                    if id != fill.client_order_id {
                        self.cancelling.insert(id.clone());
                        out.push(Command::Cancel { symbol: fill.symbol.clone(), id });
                    }
                }
                self.closed_pnl += trade.pnl;
                out.push(record("position_closed", fill.time_exchange, json!(*trade)));
                out.push(trade_alert(format!(
                    "futures-agent: closed {} {:?} {} at {} ({}): P&L {} USDT",
                    trade.symbol,
                    trade.side,
                    trade.qty,
                    trade.exit_price.round_dp(4),
                    trade.exit_reason.as_str(),
                    trade.pnl.round_dp(2)
                )));
                self.trades.push(*trade);
            }
            FillEffect::Stray => {
                out.push(critical(format!(
                    "futures-agent: fill {} of {} with no position or entry of ours ({}): not accounted",
                    fill.trade_id, fill.symbol, fill.client_order_id
                )));
            }
            FillEffect::Grew => out.extend(self.complete_entry(i, fill.time_exchange)),
            FillEffect::Shrank => {}
        }
        out
    }

    /// Protects slot `i`'s position from the entry's first execution on (a partially filled
    /// entry may wait for the rest of its fills for a long time), and finishes the entry once the
    /// venue has called it done and every fill it reported is in the position; a trailing stop
    /// placed for less than the final size is then replaced by one for all of it.
    fn complete_entry(&mut self, i: usize, ts: i64) -> Vec<Command> {
        let mut out = Vec::new();
        let book = &self.slots[i].book;
        let unprotected = book
            .position
            .as_ref()
            .is_some_and(|p| p.protection.ids().is_empty() && p.closing.is_none() && p.triggered.is_none());
        if book.entry.is_some() && unprotected {
            out.extend(self.protect(i, ts));
        }
        let book = &mut self.slots[i].book;
        let Some(done) = book.entry.as_ref().and_then(|e| e.final_filled) else { return out };
        let held = book.position.as_ref().map_or(Decimal::ZERO, |p| p.qty);
        if held < done {
            return out;
        }
        book.entry = None;
        out.extend(self.resize_trailing(i, ts));
        out
    }

    /// Replaces slot `i`'s trailing stop by one for the whole position when it was placed for
    /// less (the new one goes out before the old one is cancelled: both are reduce-only).
    fn resize_trailing(&mut self, i: usize, ts: i64) -> Vec<Command> {
        let size = {
            let slot = &self.slots[i];
            let Some(pos) =
                slot.book.position.as_ref().filter(|p| p.closing.is_none() && p.triggered.is_none())
            else {
                return Vec::new();
            };
            let size = slot.rules.floor_qty(Qty::new(pos.qty)).get();
            if pos.protection.trailing.is_none() || size <= pos.protection.trailing_qty {
                return Vec::new();
            }
            size
        };
        let id = self.next_id(OrderPurpose::TrailingStop);
        let symbol = self.slots[i].symbol.clone();
        let Some(pos) = self.slots[i].book.position.as_mut() else { return Vec::new() };
        let old = pos.protection.trailing.replace(id.clone());
        pos.protection.trailing_qty = size;
        let mut out = self.send_protective(i, id, ts);
        if let Some(old) = old {
            self.cancelling.insert(old.clone());
            out.push(Command::Cancel { symbol, id: old });
        }
        out
    }

    /// Funding paid or received (`amount` > 0 received) on `symbol`'s position.
    pub fn on_funding(&mut self, symbol: &Symbol, amount: Decimal, ts: i64) -> Vec<Command> {
        let Some(pos) = self.slot_mut(symbol).and_then(|s| s.book.position.as_mut()) else {
            return Vec::new();
        };
        pos.funding += amount;
        vec![record("funding", ts, json!({"symbol": symbol, "amount": amount.to_string()}))]
    }

    /// The venue refused an order for certain (or its outcome stayed unknown after a query).
    pub fn on_place_failed(
        &mut self,
        id: &ClientOrderId,
        symbol: &Symbol,
        error: &str,
        ts: i64,
    ) -> Vec<Command> {
        let Some(i) = self.index(symbol) else { return Vec::new() };
        let mut out = vec![record("order_failed", ts, json!({"symbol": symbol, "id": id, "error": error}))];
        let book = &mut self.slots[i].book;
        if book.entry.as_ref().is_some_and(|e| &e.id == id) {
            book.entry = None;
            out.push(critical(format!("futures-agent: entry {id} on {symbol} failed: {error}")));
        } else if let Some(pos) = book.position.as_mut() {
            if pos.protection.contains(id) && pos.closing.is_none() && failed_for_now(error) {
                // Not placed, but nothing says it cannot be: the id stays expected, and the
                // reconciliation at the runtime's next tick finds it missing and places it again
                // (a pause that also lets a 429 or 418 block run out). The other protective orders
                // keep resting meanwhile.
                out.push(critical(format!(
                    "futures-agent: protective order {id} on {symbol} was not placed ({error}); placing it again at the next check"
                )));
                out.push(Command::Reconcile);
            } else if pos.protection.remove(id) && pos.closing.is_none() {
                // "Would immediately trigger" (-2021): the price is already beyond the level, the
                // live twin of a bar opening beyond it; the level's own exit, at market.
                let beyond =
                    error.contains("-2021") || error.to_ascii_lowercase().contains("immediately trigger");
                let reason = match id.purpose() {
                    Some(OrderPurpose::StopLoss) if beyond => ExitReason::StopLoss,
                    Some(OrderPurpose::TakeProfit) if beyond => ExitReason::TakeProfit,
                    Some(OrderPurpose::TrailingStop) if beyond => ExitReason::TrailingStop,
                    _ => ExitReason::Unprotected,
                };
                let text = if beyond {
                    format!(
                        "futures-agent: {symbol} is already beyond the level of {id} ({error}): closing at market"
                    )
                } else {
                    format!(
                        "futures-agent: could not place protective order {id} on {symbol} ({error}): closing the position at market"
                    )
                };
                out.push(if beyond { trade_alert(text) } else { critical(text) });
                out.extend(self.close_at_market(i, reason, ts));
            } else if pos.closing.as_ref().is_some_and(|(c, _)| c == id) {
                pos.retry_close = pos.closing.take().map(|(_, reason)| reason);
                out.push(critical(format!(
                    "futures-agent: market close {id} on {symbol} failed ({error}); retrying at the next bar"
                )));
            }
        }
        out
    }

    /// Rebuilds the state by feeding the journal's input records (seeded history, bar closes, order updates,
    /// fills, funding, failed placements, flattens, protection placed again) back through the engine; the commands they
    /// produce were carried out when the records were first written, so they are dropped.
    ///
    /// # Errors
    /// A record of an input kind whose fields do not parse, naming its `seq`.
    pub fn replay(&mut self, records: &[JournalRecord]) -> Result<(), String> {
        for r in records {
            let fields = Value::Object(r.fields.clone());
            let field = |name: &str| fields.get(name).cloned().unwrap_or(Value::Null);
            let bad = |e: serde_json::Error| format!("journal record {} ({}): {e}", r.seq, r.kind);
            match r.kind.as_str() {
                "history" => {
                    let symbol: Symbol = serde_json::from_value(field("symbol")).map_err(bad)?;
                    let bars: Vec<Bar> = serde_json::from_value(field("bars")).map_err(bad)?;
                    self.seed_history(&symbol, &bars);
                }
                "bar_close" => {
                    let symbol: Symbol = serde_json::from_value(field("symbol")).map_err(bad)?;
                    let bar: Bar = serde_json::from_value(field("bar")).map_err(bad)?;
                    self.on_bar_closed(&symbol, bar);
                }
                "order_update" => {
                    let update: OrderUpdate = serde_json::from_value(fields.clone()).map_err(bad)?;
                    self.on_order_update(&update);
                }
                // A late execution partly covered by a rebuilt fill is journaled whole as
                // `fill_covered` and its rest as `fill`: replaying the first makes the same split
                // (the second is then a duplicate).
                "fill" | "fill_covered" => {
                    let fill: Fill = serde_json::from_value(fields.clone()).map_err(bad)?;
                    self.on_fill(&fill);
                }
                "fill_rebuilt" => {
                    let fill: Fill = serde_json::from_value(fields.clone()).map_err(bad)?;
                    self.on_rebuilt_fill(&fill);
                }
                "funding" => {
                    let symbol: Symbol = serde_json::from_value(field("symbol")).map_err(bad)?;
                    let amount: Decimal = serde_json::from_value(field("amount")).map_err(bad)?;
                    self.on_funding(&symbol, amount, r.ts);
                }
                "order_failed" => {
                    let symbol: Symbol = serde_json::from_value(field("symbol")).map_err(bad)?;
                    let id: ClientOrderId = serde_json::from_value(field("id")).map_err(bad)?;
                    let error: String = serde_json::from_value(field("error")).map_err(bad)?;
                    self.on_place_failed(&id, &symbol, &error, r.ts);
                }
                "flatten" => {
                    self.flatten(r.ts);
                }
                "flush" => {
                    self.flush_closes();
                }
                "reprotect" => {
                    let symbol: Symbol = serde_json::from_value(field("symbol")).map_err(bad)?;
                    let missing: Vec<ClientOrderId> =
                        serde_json::from_value(field("missing")).map_err(bad)?;
                    self.reprotect(&symbol, &missing, r.ts);
                }
                "session" => {
                    let session: u64 = serde_json::from_value(field("session_ms")).map_err(bad)?;
                    self.start_session(session);
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Starts a new session and the record that makes a replay switch to it too.
    pub fn begin_session(&mut self, session_ms: u64, ts: i64) -> Command {
        self.start_session(session_ms);
        record("session", ts, json!({"session_ms": session_ms}))
    }

    /// Places again the protective orders of `symbol`'s open position that the venue does not
    /// have (`missing`: a restart or a reconnect found them absent, or their placement failed),
    /// each under a new id; the ones still resting stay. Journaled as an input record, so that a
    /// replay makes the same ids.
    pub fn reprotect(&mut self, symbol: &Symbol, missing: &[ClientOrderId], ts: i64) -> Vec<Command> {
        let Some(i) = self.index(symbol) else { return Vec::new() };
        let purposes = [OrderPurpose::StopLoss, OrderPurpose::TakeProfit, OrderPurpose::TrailingStop];
        let mut fresh = Vec::new();
        for purpose in purposes {
            let Some(pos) = self.slots[i].book.position.as_ref() else { return Vec::new() };
            if pos.closing.is_some() || pos.triggered.is_some() {
                return Vec::new();
            }
            let slot = match purpose {
                OrderPurpose::StopLoss => &pos.protection.stop_loss,
                OrderPurpose::TakeProfit => &pos.protection.take_profit,
                _ => &pos.protection.trailing,
            };
            if slot.as_ref().is_some_and(|id| !missing.contains(id)) {
                continue;
            }
            let id = self.next_id(purpose);
            let rules = self.slots[i].rules.clone();
            if let Some(pos) = self.slots[i].book.position.as_mut() {
                let slot = match purpose {
                    OrderPurpose::StopLoss => &mut pos.protection.stop_loss,
                    OrderPurpose::TakeProfit => &mut pos.protection.take_profit,
                    _ => {
                        pos.protection.trailing_qty = rules.floor_qty(Qty::new(pos.qty)).get();
                        &mut pos.protection.trailing
                    }
                };
                *slot = Some(id.clone());
            }
            fresh.push(id);
        }
        if fresh.is_empty() {
            return Vec::new();
        }
        let mut out = vec![
            record("reprotect", ts, json!({"symbol": symbol, "missing": missing})),
            critical(format!(
                "futures-agent: {symbol} position is missing protective orders on the venue: placing {} again",
                fresh.len()
            )),
        ];
        for id in fresh {
            out.extend(self.send_protective(i, id, ts));
        }
        out
    }

    /// Takes over a position found on the venue that the journal does not know (`--adopt`),
    /// and protects it.
    pub fn adopt_position(
        &mut self,
        symbol: &Symbol,
        side: PositionSide,
        qty: Decimal,
        entry_price: Decimal,
        leverage: u32,
        ts: i64,
    ) -> Vec<Command> {
        let Some(i) = self.index(symbol) else { return Vec::new() };
        let book = &mut self.slots[i].book;
        book.entry = None;
        book.position = Some(OpenPosition {
            side,
            qty,
            entry_qty: qty,
            entry_price,
            leverage: leverage.max(1),
            entry_time: ts,
            fees: Decimal::ZERO,
            funding: Decimal::ZERO,
            realized: Decimal::ZERO,
            exit_value: Decimal::ZERO,
            protection: Protection::default(),
            closing: None,
            triggered: None,
            retry_close: None,
        });
        let mut out = vec![record(
            "position_adopted",
            ts,
            json!({"symbol": symbol, "side": side, "qty": qty.to_string(), "entry_price": entry_price.to_string(), "leverage": leverage}),
        )];
        out.extend(self.protect(i, ts));
        out
    }

    /// Forgets a position the venue no longer has and no fill of ours explains (`--adopt`): it is
    /// recorded as closed externally at `price` (the latest close), with what it is known to
    /// have paid.
    pub fn drop_position(&mut self, symbol: &Symbol, price: Decimal, ts: i64) -> Vec<Command> {
        let Some(i) = self.index(symbol) else { return Vec::new() };
        let Some(pos) = self.slots[i].book.position.take() else { return Vec::new() };
        let gross = pos.realized + pos.side.sign() * pos.qty * (price - pos.entry_price);
        let trade = TradeRecord {
            symbol: symbol.clone(),
            side: pos.side,
            entry_time: pos.entry_time,
            exit_time: ts,
            entry_price: pos.entry_price,
            exit_price: price,
            qty: Qty::new(pos.entry_qty),
            leverage: pos.leverage,
            fees: pos.fees,
            funding: pos.funding,
            pnl: gross - pos.fees + pos.funding,
            exit_reason: ExitReason::External,
        };
        self.closed_pnl += trade.pnl;
        let out = vec![
            record("position_closed", ts, json!(trade)),
            critical(format!(
                "futures-agent: {symbol} position is gone from the venue with no fill of ours to explain it; recorded as closed externally at {price}"
            )),
        ];
        self.trades.push(trade);
        out
    }

    /// Replaces the strategy and risk keys (SIGHUP reload); positions keep their levels.
    pub fn set_params(&mut self, params: FuturesRiskParams) {
        self.strategy = Momentum::new(&params);
        self.params = params;
    }

    /// Emergency flatten (SIGUSR2): cancel protections, close everything at market, open nothing
    /// until restarted.
    pub fn flatten(&mut self, ts: i64) -> Vec<Command> {
        self.halted = true;
        let mut out = vec![record("flatten", ts, json!({}))];
        for i in 0..self.slots.len() {
            out.extend(self.close_at_market(i, ExitReason::Flatten, ts));
        }
        out
    }

    /// Places the three protective orders of slot `i`'s fresh position.
    fn protect(&mut self, i: usize, ts: i64) -> Vec<Command> {
        let ids = [
            self.next_id(OrderPurpose::StopLoss),
            self.next_id(OrderPurpose::TakeProfit),
            self.next_id(OrderPurpose::TrailingStop),
        ];
        let slot = &mut self.slots[i];
        let Some(pos) = slot.book.position.as_mut() else { return Vec::new() };
        let [stop, take, trail] = ids.clone();
        pos.protection = Protection {
            stop_loss: Some(stop),
            take_profit: Some(take),
            trailing: Some(trail),
            trailing_qty: slot.rules.floor_qty(Qty::new(pos.qty)).get(),
        };
        let mut out = vec![record(
            "position_opened",
            ts,
            json!({"symbol": slot.symbol, "side": pos.side, "qty": pos.qty.to_string(), "entry_price": pos.entry_price.to_string(), "leverage": pos.leverage}),
        )];
        out.push(trade_alert(format!(
            "futures-agent: opened {} {:?} {} at {} ({}x)",
            slot.symbol,
            pos.side,
            pos.qty,
            pos.entry_price.round_dp(4),
            pos.leverage
        )));
        for id in ids {
            out.extend(self.send_protective(i, id, ts));
        }
        out
    }

    /// The order_sent record and the placement of protective order `id` (its purpose says
    /// which) for slot `i`'s position, at the levels of DESIGN §10 rule 5 from the entry price.
    fn send_protective(&self, i: usize, id: ClientOrderId, ts: i64) -> Vec<Command> {
        let slot = &self.slots[i];
        let Some(pos) = slot.book.position.as_ref() else { return Vec::new() };
        let (one, sign, e) = (Decimal::ONE, pos.side.sign(), pos.entry_price);
        let tick = |p: Decimal| slot.rules.round_price(Price::new(p), PriceRounding::Nearest);
        let (kind, qty) = match id.purpose() {
            Some(OrderPurpose::StopLoss) => {
                (OrderKind::StopMarket { trigger: tick(e * (one - sign * self.params.stop_loss)) }, None)
            }
            Some(OrderPurpose::TakeProfit) => (
                OrderKind::TakeProfitMarket { trigger: tick(e * (one + sign * self.params.take_profit)) },
                None,
            ),
            Some(OrderPurpose::TrailingStop) => (
                OrderKind::TrailingStop { callback_rate: self.params.trailing_stop, activation: None },
                Some(slot.rules.floor_qty(Qty::new(pos.qty))),
            ),
            _ => return Vec::new(),
        };
        // The stop loss and take profit close the whole position; the trailing stop is a
        // reduce-only order for its size.
        let order = OrderRequest {
            client_order_id: id,
            symbol: slot.symbol.clone(),
            side: pos.side.exit_side(),
            kind,
            qty: qty.unwrap_or(Qty::ZERO),
            reduce_only: qty.is_some(),
            close_position: qty.is_none(),
        };
        vec![
            record("order_sent", ts, json!({"purpose": order.client_order_id.purpose(), "order": order})),
            Command::Place(order),
        ]
    }

    /// Closes slot `i`'s position at market, if it has one that is not already closing. Its
    /// protective orders keep resting until the close has filled (the fill that flattens the
    /// position cancels them): a close that fails leaves the position protected while it waits
    /// for its retry. They cannot overfill it: the stop loss and take profit close the position
    /// (whatever is left of it), the trailing stop and the close are reduce-only.
    fn close_at_market(&mut self, i: usize, reason: ExitReason, ts: i64) -> Vec<Command> {
        let id = self.next_id(OrderPurpose::Close);
        let slot = &mut self.slots[i];
        let Some(pos) = slot.book.position.as_mut().filter(|p| p.closing.is_none()) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        pos.closing = Some((id.clone(), reason));
        let order = OrderRequest {
            client_order_id: id,
            symbol: slot.symbol.clone(),
            side: pos.side.exit_side(),
            kind: OrderKind::Market,
            qty: Qty::new(pos.qty),
            reduce_only: true,
            close_position: false,
        };
        out.push(record("order_sent", ts, json!({"purpose": "close", "reason": reason, "order": order})));
        out.push(Command::Place(order));
        out
    }

    fn next_id(&mut self, purpose: OrderPurpose) -> ClientOrderId {
        self.seq += 1;
        ClientOrderId::generate(AgentTag::Futures, purpose, self.session_ms, self.seq)
    }

    /// The venue's rules of `symbol`.
    pub fn rules(&self, symbol: &Symbol) -> Option<&InstrumentRules> {
        self.slots.iter().find(|s| &s.symbol == symbol).map(|s| &s.rules)
    }

    fn index(&self, symbol: &Symbol) -> Option<usize> {
        self.slots.iter().position(|s| &s.symbol == symbol)
    }

    fn slot_mut(&mut self, symbol: &Symbol) -> Option<&mut SymbolSlot> {
        self.slots.iter_mut().find(|s| &s.symbol == symbol)
    }

    /// Capital plus closed P&L plus what open positions have realized, paid and received.
    pub fn wallet(&self) -> Decimal {
        let open: Decimal = self
            .slots
            .iter()
            .filter_map(|s| s.book.position.as_ref())
            .map(|p| p.realized - p.fees + p.funding)
            .sum();
        self.params.capital + self.closed_pnl + open
    }

    /// Wallet plus unrealized P&L at the latest closes.
    pub fn equity(&self) -> Decimal {
        let unrealized: Decimal = self
            .slots
            .iter()
            .filter_map(|s| {
                let pos = s.book.position.as_ref()?;
                let close = s.bars.last()?.close.get();
                Some(pos.side.sign() * pos.qty * (close - pos.entry_price))
            })
            .sum();
        self.wallet() + unrealized
    }

    /// Trades closed so far (this process's replay included).
    pub fn trades(&self) -> &[TradeRecord] {
        &self.trades
    }

    /// Each symbol's book, in config order.
    pub fn books(&self) -> impl Iterator<Item = (&Symbol, &Book, Option<Decimal>)> {
        self.slots.iter().map(|s| (&s.symbol, &s.book, s.bars.last().map(|b| b.close.get())))
    }

    /// The daily breaker.
    pub fn breaker(&self) -> &DailyBreaker {
        &self.breaker
    }

    /// True after a flatten: no entries until restarted.
    pub fn is_halted(&self) -> bool {
        self.halted
    }

    /// Open time of the latest bar of `symbol` the engine has (seeded or closed).
    pub fn last_bar_time(&self, symbol: &Symbol) -> Option<i64> {
        self.slots.iter().find(|s| &s.symbol == symbol)?.bars.last().map(|b| b.open_time_ms)
    }

    /// The strategy and risk keys in force.
    pub fn params(&self) -> &FuturesRiskParams {
        &self.params
    }

    /// True while some symbols' bars of an open time are in and others are awaited.
    pub fn is_gathering(&self) -> bool {
        !self.gathering.is_empty()
    }

    /// Latest event time seen, ms.
    pub fn last_event_ms(&self) -> i64 {
        self.last_event_ms
    }
}

fn push_bar(slot: &mut SymbolSlot, bar: Bar) {
    if slot.bars.last().is_some_and(|b| b.open_time_ms >= bar.open_time_ms) {
        return;
    }
    slot.bars.push(bar);
    slot.closes.push(bar.close.get().to_f64().unwrap_or(f64::NAN));
    if slot.bars.len() > HISTORY * 2 {
        slot.bars.drain(..HISTORY);
        slot.closes.drain(..HISTORY);
    }
}

/// True when a placement failed in a way that says nothing against sending it again: the venue
/// was unavailable, limited or banned us for a while, the request never got through or was never
/// accepted, or the clocks disagreed ([`exchange_core::venue::VenueError::is_retryable`]). The
/// runtime hands the engine the error's text, and the journal keeps only that text, so the class
/// is read back from it (the texts are `VenueError`'s own, checked against it in the tests), plus
/// the runtime's and the reconciliation's own words for an order the venue does not know.
pub fn failed_for_now(error: &str) -> bool {
    const FOR_NOW: [&str; 11] = [
        "rate limited:",
        "IP banned by the venue",
        "venue unavailable",
        "transport error",
        "clock skew",
        "was never accepted",
        "the venue does not know it",
        "unknown to the venue",
        "code -1003:",
        "code -1008:",
        "code -1015:",
    ];
    FOR_NOW.iter().any(|text| error.contains(text))
}
