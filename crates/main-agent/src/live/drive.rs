//! [`SpotLiveEngine`] as the [`LiveEngine`] the runtime drives: each trait method is the
//! engine's own method of the same name (the paper account is built here).

use std::collections::BTreeMap;

use agent_core::journal::JournalRecord;
use agent_core::live::{Command, Holdings, LiveEngine, Mismatch, StatusContext, orders_sent};
use agent_core::spot::SpotParams;
use agent_core::status::StatusSnapshot;
use exchange_core::paper::{PaperSnapshot, RestingOrder};
use exchange_core::{Bar, ClientOrderId, Fill, OrderUpdate, Symbol};
use rust_decimal::Decimal;

use super::book::StopState;
use super::engine::SpotLiveEngine;

/// The quote asset of every pair.
const QUOTE: &str = "USDT";

impl LiveEngine for SpotLiveEngine {
    type Params = SpotParams;

    /// USDT is the engine's cash; each pair's base asset is its holding plus dust; each resting
    /// stop is restored as its `order_sent` record sent it.
    fn paper_account(&self, records: &[JournalRecord]) -> PaperSnapshot {
        let sent = orders_sent(records);
        let mut account = PaperSnapshot {
            balances: BTreeMap::from([(QUOTE.to_owned(), self.cash())]),
            ..PaperSnapshot::default()
        };
        for (symbol, book, _) in self.books() {
            let held = book.position.as_ref().map_or(Decimal::ZERO, |h| h.qty) + book.dust;
            let Some(base) = symbol.as_str().strip_suffix(QUOTE) else { continue };
            if held > Decimal::ZERO {
                *account.balances.entry(base.to_owned()).or_default() += held;
            }
            if let Some(StopState::Resting { id, .. }) = book.position.as_ref().map(|h| &h.stop)
                && let Some(order) = sent.get(id)
            {
                account.orders.push(RestingOrder { order: order.clone(), peak: None });
            }
        }
        account
    }

    fn agent(&self) -> &'static str {
        "main-agent"
    }

    fn symbols(&self) -> Vec<Symbol> {
        self.pairs.iter().map(|p| p.symbol.clone()).collect()
    }

    fn history_len(&self) -> u16 {
        SpotLiveEngine::history_len(self)
    }

    fn replay(&mut self, records: &[JournalRecord]) -> Result<(), String> {
        SpotLiveEngine::replay(self, records)
    }

    fn begin_session(&mut self, session_ms: u64, ts: i64) -> Command {
        SpotLiveEngine::begin_session(self, session_ms, ts)
    }

    fn seed_history(&mut self, symbol: &Symbol, bars: &[Bar]) -> Vec<Command> {
        SpotLiveEngine::seed_history(self, symbol, bars)
    }

    fn on_bar_closed(&mut self, symbol: &Symbol, bar: Bar) -> Vec<Command> {
        SpotLiveEngine::on_bar_closed(self, symbol, bar)
    }

    fn flush_closes(&mut self) -> Vec<Command> {
        SpotLiveEngine::flush_closes(self)
    }

    fn is_gathering(&self) -> bool {
        SpotLiveEngine::is_gathering(self)
    }

    fn last_bar_time(&self, symbol: &Symbol) -> Option<i64> {
        SpotLiveEngine::last_bar_time(self, symbol)
    }

    fn last_event_ms(&self) -> i64 {
        SpotLiveEngine::last_event_ms(self)
    }

    fn on_order_update(&mut self, update: &OrderUpdate) -> Vec<Command> {
        SpotLiveEngine::on_order_update(self, update)
    }

    fn on_fill(&mut self, fill: &Fill) -> Vec<Command> {
        SpotLiveEngine::on_fill(self, fill)
    }

    fn on_place_failed(
        &mut self,
        id: &ClientOrderId,
        symbol: &Symbol,
        reason: &str,
        ts: i64,
    ) -> Vec<Command> {
        SpotLiveEngine::on_place_failed(self, id, symbol, reason, ts)
    }

    fn flatten(&mut self, ts: i64) -> Vec<Command> {
        SpotLiveEngine::flatten(self, ts)
    }

    fn awaited_orders(&self) -> Vec<(Symbol, ClientOrderId)> {
        SpotLiveEngine::awaited_orders(self)
    }

    fn on_queried(&mut self, update: &OrderUpdate, now: i64) -> Vec<Command> {
        SpotLiveEngine::on_queried(self, update, now)
    }

    fn reconcile_holdings(
        &mut self,
        holdings: &Holdings,
        adopt: bool,
        now: i64,
    ) -> Result<Vec<Command>, Mismatch> {
        SpotLiveEngine::reconcile_holdings(self, holdings, adopt, now)
    }

    fn set_params(&mut self, params: SpotParams) {
        SpotLiveEngine::set_params(self, params);
    }

    fn status(&self, context: &StatusContext) -> StatusSnapshot {
        SpotLiveEngine::status(self, context)
    }
}
