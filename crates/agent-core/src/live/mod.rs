//! What the two agents' live loops share (DESIGN §3): the commands a decision engine hands the
//! runtime, and the [`LiveEngine`] trait the runtime drives. An engine is a synchronous state
//! machine with no I/O and no clock: events go in (a closed bar, an order update, a fill, a failed
//! placement, a query's answer, a flatten request), commands come out (place, cancel, journal,
//! alert). A restart rebuilds it by replaying the journal through it, then reconciles it with the
//! venue in two phases: the orders it waits on ([`LiveEngine::awaited_orders`], answered through
//! [`LiveEngine::on_queried`]), then the holdings ([`LiveEngine::reconcile_holdings`]).
//!
//! The runtime that carries the commands out over a venue is `runtime`. The module needs the
//! crate feature `runtime` (venue clients, tokio, notify), which the agents turn on.

pub mod cli;
pub mod paper;
pub mod runtime;
pub mod venue;

use std::collections::{BTreeMap, HashMap};

use exchange_core::paper::PaperSnapshot;
use exchange_core::venue::{AccountUpdate, MarkPrice};
use exchange_core::{
    Balance, Bar, ClientOrderId, Fill, MarginMode, OrderRequest, OrderUpdate, Position, Qty, Symbol,
};
use serde_json::Value;

use crate::journal::JournalRecord;
use risk_core::breaker::DailyBreaker;
use risk_core::day::utc_day_of_close;
use rust_decimal::Decimal;

use crate::status::{BreakerStatus, PositionStatus, StatusSnapshot};
use crate::time::{DAY_MS, format_utc_date, utc_day};

/// What an engine asks the runtime to do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Set the symbol's margin mode on the venue (at start; a failure is logged, not fatal).
    SetMarginMode {
        /// The instrument.
        symbol: Symbol,
        /// The mode.
        mode: MarginMode,
    },
    /// Set the symbol's leverage on the venue (before its entry). When it fails, the next entry
    /// order of that symbol in the same batch is not sent and the engine hears of it through
    /// [`LiveEngine::on_place_failed`].
    SetLeverage {
        /// The instrument.
        symbol: Symbol,
        /// The leverage.
        leverage: u32,
    },
    /// Send an order; its answer comes back as an order update or a failed placement.
    Place(OrderRequest),
    /// Cancel a resting order.
    Cancel {
        /// The instrument.
        symbol: Symbol,
        /// The order.
        id: ClientOrderId,
    },
    /// Re-read the venue's orders and holdings at the next tick (after an ambiguous state).
    Reconcile,
    /// Append a journal record (DESIGN §6).
    Record {
        /// `order_sent`, `position_opened`, `position_closed`, `breaker`, `day_rollover`, ...
        kind: &'static str,
        /// Event time, ms.
        ts: i64,
        /// The record's fields.
        fields: Value,
    },
    /// Write a file of the agent's state (the main agent's gate model) into `run_dir`,
    /// atomically; a failure is logged and reported in the status, not fatal.
    SaveFile {
        /// File name inside `run_dir` (no directories).
        name: &'static str,
        /// The whole content.
        contents: String,
    },
    /// Tell a person (the log, and Telegram/Discord by level).
    Alert {
        /// How urgent.
        level: AlertLevel,
        /// What happened.
        text: String,
    },
}

/// How urgent an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertLevel {
    /// A trade opened or closed: real time to Telegram.
    Trade,
    /// Breaker, unprotected position, failures: to every channel.
    Critical,
}

/// Every order the journal's `order_sent` records carry, by client order id: what an engine's
/// [`LiveEngine::paper_account`] restores resting orders from.
pub fn orders_sent(records: &[JournalRecord]) -> HashMap<ClientOrderId, OrderRequest> {
    records
        .iter()
        .filter(|r| r.kind == "order_sent")
        .filter_map(|r| serde_json::from_value::<OrderRequest>(r.fields.get("order")?.clone()).ok())
        .map(|o| (o.client_order_id.clone(), o))
        .collect()
}

/// A real execution against the quantity of its order already accounted from an order query
/// (`left`: fills rebuilt while the stream was down, not yet matched by real executions). `left`
/// is reduced by what `fill` covers; the rest is returned with its share of the fee (the covered
/// part's fee was estimated in the rebuilt fill), or `None` when `fill` is covered whole.
pub fn uncovered_rest(left: &mut Decimal, fill: &Fill) -> Option<Fill> {
    let qty = fill.qty.get();
    let covered = qty.min(*left).max(Decimal::ZERO);
    *left -= covered;
    if covered == qty {
        return None;
    }
    let mut rest = fill.clone();
    rest.qty = Qty::new(qty - covered);
    rest.fee = fill.fee * rest.qty.get() / qty;
    Some(rest)
}

/// A journal record of `kind` at event time `ts`.
pub fn record(kind: &'static str, ts: i64, fields: Value) -> Command {
    Command::Record { kind, ts, fields }
}

impl Command {
    /// The `entry_failed` record of an entry order that ended (`update` final) without filling.
    pub fn entry_failed(update: &OrderUpdate) -> Self {
        let why = update.reason.clone().unwrap_or_else(|| format!("{:?}", update.status));
        record(
            "entry_failed",
            update.time_exchange,
            serde_json::json!({"symbol": update.symbol, "id": update.client_order_id, "reason": why}),
        )
    }

    /// A trade alert.
    pub fn trade_alert(text: String) -> Self {
        Self::Alert { level: AlertLevel::Trade, text }
    }

    /// A critical alert.
    pub fn critical(text: String) -> Self {
        Self::Alert { level: AlertLevel::Critical, text }
    }
}

/// The venue disagrees with the journal in ways the agent cannot explain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the venue's state differs from the journal's: {}. Check the account; start with --adopt to take the venue's state as it is", .problems.join("; "))]
pub struct Mismatch {
    /// One line per difference, naming the symbol.
    pub problems: Vec<String>,
}

/// What the venue holds, read for reconciliation phase 2.
#[derive(Debug, Clone, Default)]
pub struct Holdings {
    /// Open positions (futures; empty on spot).
    pub positions: Vec<Position>,
    /// Asset balances.
    pub balances: Vec<Balance>,
    /// Open orders (regular and conditional) of every symbol.
    pub open_orders: Vec<OrderUpdate>,
}

/// What the runtime knows that a status snapshot shows.
#[derive(Debug, Clone)]
pub struct StatusContext {
    /// `live` or `paper`.
    pub mode: String,
    /// The venue's name.
    pub venue: String,
    /// Wall-clock start, ms.
    pub started_ms: i64,
    /// True once trading.
    pub ready: bool,
    /// The last error worth a person's attention.
    pub last_error: Option<String>,
}

/// An engine's side of its status snapshot: what the shared fields are computed from.
#[derive(Debug)]
pub struct EngineStatus<'a> {
    /// `main-agent` or `futures-agent`.
    pub agent: &'static str,
    /// The latest event time, ms: "now" for the day's figures.
    pub now: i64,
    /// Equity now (realized plus unrealized).
    pub equity: Decimal,
    /// The daily breaker: the day's opening equity and the day it tripped.
    pub breaker: &'a DailyBreaker,
    /// Entries halted besides the breaker (an emergency flatten).
    pub halted: bool,
    /// Exit time (ms) and P&L of every closed trade.
    pub closed: Vec<(i64, Decimal)>,
    /// Open positions.
    pub positions: Vec<PositionStatus>,
    /// Regimes by pair (main-agent), else empty.
    pub regimes: BTreeMap<String, String>,
}

impl StatusContext {
    /// The snapshot (DESIGN §6) of `engine` in this context: the day's P&L, today's trades and
    /// win rate, and the breaker computed the same way for both agents.
    pub fn snapshot(&self, engine: EngineStatus<'_>) -> StatusSnapshot {
        let now = engine.now;
        let today = utc_day(now);
        let today_pnl: Vec<Decimal> =
            engine.closed.iter().filter(|(exit, _)| utc_day(*exit) == today).map(|(_, pnl)| *pnl).collect();
        let wins = today_pnl.iter().filter(|pnl| **pnl > Decimal::ZERO).count();
        let day_start_equity = engine.breaker.day_open_equity();
        let tripped_day = engine.breaker.tripped_day();
        let tripped = tripped_day.is_some_and(|d| d == utc_day_of_close(now));
        StatusSnapshot {
            agent: engine.agent.to_owned(),
            pid: std::process::id(),
            ready: self.ready,
            mode: self.mode.clone(),
            venue: self.venue.clone(),
            started_ms: self.started_ms,
            last_activity_ms: now,
            equity: engine.equity,
            day_start_equity,
            daily_pnl: engine.equity - day_start_equity,
            positions: engine.positions,
            trades_today: u32::try_from(today_pnl.len()).unwrap_or(u32::MAX),
            win_rate_today: (!today_pnl.is_empty()).then(|| wins as f64 / today_pnl.len() as f64),
            breaker: BreakerStatus {
                tripped: tripped || engine.halted,
                tripped_on: tripped_day.filter(|_| tripped).map(|d| format_utc_date(d * DAY_MS)),
            },
            last_error: self.last_error.clone(),
            regimes: engine.regimes,
        }
    }
}

/// A live decision engine the runtime drives. Every method is synchronous and pure: no I/O, no
/// clock (times come in as arguments, in event time).
pub trait LiveEngine: Send {
    /// Strategy and risk keys, replaced on a config reload.
    type Params: Clone + Send;

    /// `main-agent` or `futures-agent`: logs, alerts, status.
    fn agent(&self) -> &'static str;
    /// The symbols traded, in priority order.
    fn symbols(&self) -> Vec<Symbol>;
    /// Closed bars of history wanted per symbol at start (at most 1000).
    fn history_len(&self) -> u16;
    /// Commands to run once before trading (margin modes).
    fn setup(&self) -> Vec<Command> {
        Vec::new()
    }

    /// Rebuilds the state from the journal.
    ///
    /// # Errors
    /// A record the engine cannot replay, named.
    fn replay(&mut self, records: &[JournalRecord]) -> Result<(), String>;
    /// Starts a new process session (client order ids stay unique across restarts); returns the
    /// record that marks it.
    fn begin_session(&mut self, session_ms: u64, ts: i64) -> Command;
    /// Seeds closed bars without deciding on them.
    fn seed_history(&mut self, symbol: &Symbol, bars: &[Bar]) -> Vec<Command>;
    /// A bar closed. The engine may wait for the other symbols' bars of the same open time.
    fn on_bar_closed(&mut self, symbol: &Symbol, bar: Bar) -> Vec<Command>;
    /// A bar still forming (a kline update at event time `now`): a chance to prepare what the
    /// close will need (the futures agent sets an entry's leverage ahead). Nothing by default.
    fn on_bar_forming(&mut self, _symbol: &Symbol, _bar: Bar, _now: i64) -> Vec<Command> {
        Vec::new()
    }
    /// Decides on the bars it was waiting with (some symbols' bars never came).
    fn flush_closes(&mut self) -> Vec<Command>;
    /// True while it holds closed bars waiting for the rest of their open time.
    fn is_gathering(&self) -> bool;
    /// Open time of the symbol's latest closed bar.
    fn last_bar_time(&self, symbol: &Symbol) -> Option<i64>;
    /// Event time of the latest input, ms.
    fn last_event_ms(&self) -> i64;

    /// An order changed state.
    fn on_order_update(&mut self, update: &OrderUpdate) -> Vec<Command>;
    /// An order traded.
    fn on_fill(&mut self, fill: &Fill) -> Vec<Command>;
    /// An order was refused, or the venue does not know it.
    fn on_place_failed(&mut self, id: &ClientOrderId, symbol: &Symbol, reason: &str, ts: i64)
    -> Vec<Command>;
    /// A mark price (futures); kept for unrealized P&L and funding.
    fn on_mark(&mut self, _mark: &MarkPrice) {}
    /// A balance or position change on the user stream (funding on futures).
    fn on_account(&mut self, _update: &AccountUpdate) -> Vec<Command> {
        Vec::new()
    }
    /// Emergency flatten: cancel, close everything at market, halt entries.
    fn flatten(&mut self, ts: i64) -> Vec<Command>;

    /// Reconciliation phase 1: the orders whose outcome the engine waits on.
    fn awaited_orders(&self) -> Vec<(Symbol, ClientOrderId)>;
    /// Reconciliation phase 1: a queried order's state. Applies it and rebuilds any execution the
    /// stream never delivered.
    fn on_queried(&mut self, update: &OrderUpdate, now: i64) -> Vec<Command>;
    /// Reconciliation phase 1: an awaited order the venue does not know (by default, a failed
    /// placement).
    fn on_unknown_order(&mut self, id: &ClientOrderId, symbol: &Symbol, now: i64) -> Vec<Command> {
        self.on_place_failed(id, symbol, "unknown to the venue after a restart or stream gap", now)
    }
    /// Reconciliation phase 2, first: the symbols whose execution history since the given time
    /// (ms) the runtime should read from the venue and feed as fills (what a stream gap hid and
    /// no awaited order names, such as a liquidation). None by default.
    fn history_wanted(&self, _holdings: &Holdings) -> Vec<(Symbol, i64)> {
        Vec::new()
    }
    /// Reconciliation phase 2: the venue's holdings against the books.
    ///
    /// # Errors
    /// A difference the engine cannot explain, when `adopt` is false.
    fn reconcile_holdings(
        &mut self,
        holdings: &Holdings,
        adopt: bool,
        now: i64,
    ) -> Result<Vec<Command>, Mismatch>;

    /// The account the books describe, for a paper venue rebuilt after a restart: the quote
    /// balance (and on spot the held assets), the open positions, and each holding's protective
    /// orders still resting, as the journal's `order_sent` records in `records` sent them.
    fn paper_account(&self, records: &[JournalRecord]) -> PaperSnapshot;

    /// Replaces the strategy and risk keys (config reload).
    fn set_params(&mut self, params: Self::Params);
    /// The status snapshot now.
    fn status(&self, context: &StatusContext) -> StatusSnapshot;
}
