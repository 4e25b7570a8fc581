//! The status snapshot of main-agent (DESIGN §6) from the live engine: equity (cash plus
//! holdings and dust at their latest closes), the day's opening equity and P&L, holdings with
//! their marks (the latest close) and stop ids, today's trades and win rate, the daily loss cap,
//! and the regime of every pair and of the market (issue 6).

use std::collections::BTreeMap;

use agent_core::live::StatusContext;
use agent_core::status::{BreakerStatus, PositionStatus, StatusSnapshot};
use agent_core::time::{DAY_MS, format_utc_date, utc_day};
use exchange_core::{PositionSide, Qty};
use risk_core::day::utc_day_of_close;
use rust_decimal::Decimal;

use super::engine::SpotLiveEngine;

/// The key of the market's regime in [`StatusSnapshot::regimes`].
pub const MARKET_KEY: &str = "market";

impl SpotLiveEngine {
    /// The snapshot now.
    pub fn status(&self, context: &StatusContext) -> StatusSnapshot {
        let equity = self.equity();
        let day_start_equity = self.breaker.day_open_equity();
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
        let now = self.last_event_ms;
        let today = utc_day(now);
        let today_trades: Vec<_> = self.trades.iter().filter(|t| utc_day(t.exit_time) == today).collect();
        let wins = today_trades.iter().filter(|t| t.pnl > Decimal::ZERO).count();
        let tripped_day = self.breaker.tripped_day();
        let tripped = tripped_day.is_some_and(|d| d == utc_day_of_close(now));
        let mut regimes: BTreeMap<String, String> = self
            .pairs
            .iter()
            .filter_map(|p| Some((p.symbol.to_string(), p.snap?.regime.regime.as_str().to_owned())))
            .collect();
        if let Some(market) = self.market_regime() {
            regimes.insert(MARKET_KEY.to_owned(), market.as_str().to_owned());
        }
        StatusSnapshot {
            agent: "main-agent".to_owned(),
            pid: std::process::id(),
            ready: context.ready,
            mode: context.mode.clone(),
            venue: context.venue.clone(),
            started_ms: context.started_ms,
            last_activity_ms: now,
            equity,
            day_start_equity,
            daily_pnl: equity - day_start_equity,
            positions,
            trades_today: u32::try_from(today_trades.len()).unwrap_or(u32::MAX),
            win_rate_today: (!today_trades.is_empty()).then(|| wins as f64 / today_trades.len() as f64),
            breaker: BreakerStatus {
                tripped: tripped || self.halted,
                tripped_on: tripped_day.filter(|_| tripped).map(|d| format_utc_date(d * DAY_MS)),
            },
            last_error: context.last_error.clone(),
            regimes,
        }
    }
}
