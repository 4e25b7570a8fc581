//! The status snapshot of main-agent (DESIGN §6) from the live engine: equity (cash plus
//! holdings and dust at their latest closes), the day's opening equity and P&L, holdings with
//! their marks (the latest close) and stop ids, today's trades and win rate, the daily loss cap,
//! and the regime of every pair and of the market (issue 6).

use std::collections::BTreeMap;

use agent_core::live::{EngineStatus, StatusContext};
use agent_core::status::{PositionStatus, StatusSnapshot};
use exchange_core::{PositionSide, Qty};

use super::engine::SpotLiveEngine;

/// The key of the market's regime in [`StatusSnapshot::regimes`].
pub const MARKET_KEY: &str = "market";

impl SpotLiveEngine {
    /// The snapshot now.
    pub fn status(&self, context: &StatusContext) -> StatusSnapshot {
        let equity = self.equity();
        let positions = self
            .pairs
            .iter()
            .filter_map(|pair| {
                let pos = pair.book.position.as_ref()?;
                let entry = pos.entry_price();
                let mark = pair.last_close().unwrap_or(entry);
                Some(PositionStatus {
                    symbol: pair.symbol.clone(),
                    side: PositionSide::Long,
                    qty: Qty::new(pos.qty),
                    entry,
                    mark,
                    unrealized_pnl: pos.qty * (mark - entry),
                    leverage: 1,
                    liquidation_price: None,
                    stop_ids: pos.stop.id().map(ToString::to_string).into_iter().collect(),
                })
            })
            .collect();
        let mut regimes: BTreeMap<String, String> = self
            .pairs
            .iter()
            .filter_map(|p| Some((p.symbol.to_string(), p.snap?.regime.regime.as_str().to_owned())))
            .collect();
        if let Some(market) = self.market_regime() {
            regimes.insert(MARKET_KEY.to_owned(), market.as_str().to_owned());
        }
        context.snapshot(EngineStatus {
            agent: "main-agent",
            now: self.last_event_ms,
            equity,
            breaker: &self.breaker,
            halted: self.halted,
            closed: self.trades.iter().map(|t| (t.exit_time, t.pnl)).collect(),
            positions,
            regimes,
        })
    }
}
