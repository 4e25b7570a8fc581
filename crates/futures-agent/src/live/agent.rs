//! futures-agent as agent-core's runtime sees it: the engine plus the latest mark prices (for
//! the status snapshot and funding), behind the `LiveEngine` trait.

use std::collections::{BTreeMap, HashMap};

use agent_core::journal::JournalRecord;
use agent_core::live::{Command, Holdings, LiveEngine, Mismatch, StatusContext, orders_sent};
use agent_core::status::StatusSnapshot;
use exchange_core::paper::{PaperSnapshot, RestingOrder};
use exchange_core::venue::{AccountUpdate, MarkPrice};
use exchange_core::{Bar, ClientOrderId, Fill, MarginMode, OrderUpdate, Position, Price, Qty, Symbol};
use risk_core::params::FuturesRiskParams;
use rust_decimal::Decimal;

use super::engine::LiveEngine as Engine;
use super::reconcile;
use super::status::snapshot;

/// The futures engine with the marks the runtime streams to it.
#[derive(Debug)]
pub struct FuturesLive {
    engine: Engine,
    marks: HashMap<Symbol, MarkPrice>,
}

impl FuturesLive {
    /// Wraps `engine`.
    pub fn new(engine: Engine) -> Self {
        Self { engine, marks: HashMap::new() }
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Funding settled: each open position pays or receives `qty * mark * rate` at the latest
    /// mark and rate of its symbol (Binance's formula; longs pay a positive rate).
    fn funding(&mut self, ts: i64) -> Vec<Command> {
        let positions: Vec<(Symbol, Decimal)> = self
            .engine
            .books()
            .filter_map(|(symbol, book, _)| {
                let pos = book.position.as_ref()?;
                let mark = self.marks.get(symbol)?;
                Some((symbol.clone(), -pos.side.sign() * pos.qty * mark.mark_price.get() * mark.funding_rate))
            })
            .collect();
        let mut out = Vec::new();
        for (symbol, amount) in positions {
            out.extend(self.engine.on_funding(&symbol, amount, ts));
        }
        out
    }
}

impl LiveEngine for FuturesLive {
    type Params = FuturesRiskParams;

    fn agent(&self) -> &'static str {
        "futures-agent"
    }

    fn symbols(&self) -> Vec<Symbol> {
        self.engine.books().map(|(s, _, _)| s.clone()).collect()
    }

    fn history_len(&self) -> u16 {
        u16::try_from(self.engine.params().window + 50).unwrap_or(1000).min(1000)
    }

    fn setup(&self) -> Vec<Command> {
        self.symbols()
            .into_iter()
            .map(|symbol| Command::SetMarginMode { symbol, mode: MarginMode::Isolated })
            .collect()
    }

    fn replay(&mut self, records: &[JournalRecord]) -> Result<(), String> {
        self.engine.replay(records)
    }

    fn begin_session(&mut self, session_ms: u64, ts: i64) -> Command {
        self.engine.begin_session(session_ms, ts)
    }

    fn seed_history(&mut self, symbol: &Symbol, bars: &[Bar]) -> Vec<Command> {
        self.engine.seed_history(symbol, bars)
    }

    fn on_bar_closed(&mut self, symbol: &Symbol, bar: Bar) -> Vec<Command> {
        self.engine.on_bar_closed(symbol, bar)
    }

    fn on_bar_forming(&mut self, symbol: &Symbol, bar: Bar, now: i64) -> Vec<Command> {
        self.engine.on_bar_forming(symbol, bar, now)
    }

    fn flush_closes(&mut self) -> Vec<Command> {
        self.engine.flush_closes()
    }

    fn is_gathering(&self) -> bool {
        self.engine.is_gathering()
    }

    fn last_bar_time(&self, symbol: &Symbol) -> Option<i64> {
        self.engine.last_bar_time(symbol)
    }

    fn last_event_ms(&self) -> i64 {
        self.engine.last_event_ms()
    }

    fn on_order_update(&mut self, update: &OrderUpdate) -> Vec<Command> {
        self.engine.on_order_update(update)
    }

    fn on_fill(&mut self, fill: &Fill) -> Vec<Command> {
        self.engine.on_fill(fill)
    }

    fn on_place_failed(
        &mut self,
        id: &ClientOrderId,
        symbol: &Symbol,
        reason: &str,
        ts: i64,
    ) -> Vec<Command> {
        self.engine.on_place_failed(id, symbol, reason, ts)
    }

    fn on_mark(&mut self, mark: &MarkPrice) {
        self.marks.insert(mark.symbol.clone(), mark.clone());
    }

    fn on_account(&mut self, update: &AccountUpdate) -> Vec<Command> {
        if update.reason == "FUNDING_FEE" { self.funding(update.time_exchange) } else { Vec::new() }
    }

    fn flatten(&mut self, ts: i64) -> Vec<Command> {
        self.engine.flatten(ts)
    }

    fn awaited_orders(&self) -> Vec<(Symbol, ClientOrderId)> {
        reconcile::awaited_orders(&self.engine)
    }

    fn on_queried(&mut self, update: &OrderUpdate, _now: i64) -> Vec<Command> {
        reconcile::on_queried(&mut self.engine, update)
    }

    fn on_unknown_order(&mut self, id: &ClientOrderId, symbol: &Symbol, now: i64) -> Vec<Command> {
        reconcile::on_unknown_order(&mut self.engine, id, symbol, now)
    }

    fn history_wanted(&self, holdings: &Holdings) -> Vec<(Symbol, i64)> {
        reconcile::history_wanted(&self.engine, holdings)
    }

    fn reconcile_holdings(
        &mut self,
        holdings: &Holdings,
        adopt: bool,
        now: i64,
    ) -> Result<Vec<Command>, Mismatch> {
        reconcile::reconcile_holdings(&mut self.engine, holdings, adopt, now)
    }

    /// The USDT wallet (capital + realized P&L - fees + funding), every open position with its
    /// leverage, and each open position's protective orders as their `order_sent` records sent
    /// them. A trailing stop's peak is not journaled: it tracks afresh after the restart.
    fn paper_account(&self, records: &[JournalRecord]) -> PaperSnapshot {
        let sent = orders_sent(records);
        let mut snapshot = PaperSnapshot {
            balances: BTreeMap::from([("USDT".to_owned(), self.engine.wallet())]),
            ..PaperSnapshot::default()
        };
        for (symbol, book, _) in self.engine.books() {
            let Some(pos) = &book.position else { continue };
            snapshot.positions.push(Position {
                symbol: symbol.clone(),
                side: pos.side,
                qty: Qty::new(pos.qty),
                entry_price: Price::new(pos.entry_price),
                leverage: pos.leverage,
                margin_mode: MarginMode::Isolated,
                liquidation_price: None,
            });
            for id in pos.protection.ids() {
                match sent.get(&id) {
                    Some(order) => snapshot.orders.push(RestingOrder { order: order.clone(), peak: None }),
                    None => {
                        tracing::warn!(%id, %symbol, "protective order missing from the journal: not restored")
                    }
                }
            }
        }
        snapshot
    }

    fn set_params(&mut self, params: FuturesRiskParams) {
        self.engine.set_params(params);
    }

    fn status(&self, context: &StatusContext) -> StatusSnapshot {
        snapshot(&self.engine, &self.marks, context)
    }
}
