//! The status snapshot of futures-agent (DESIGN §6) built from the engine's state: equity, the
//! day's P&L, open positions with their marks, liquidation prices and protective order ids,
//! today's trades, the breaker.

use std::collections::HashMap;

use agent_core::live::StatusContext;
use agent_core::status::{BreakerStatus, PositionStatus, StatusSnapshot};
use agent_core::time::{DAY_MS, format_utc_date, utc_day};
use exchange_core::venue::MarkPrice;
use exchange_core::{Price, PriceRounding, Qty, Symbol};
use risk_core::day::utc_day_of_close;
use risk_core::liquidation::isolated_liquidation_price_at_leverage;
use rust_decimal::Decimal;

use super::engine::LiveEngine;

/// The snapshot of the agent now.
pub fn snapshot(
    engine: &LiveEngine,
    marks: &HashMap<Symbol, MarkPrice>,
    context: &StatusContext,
) -> StatusSnapshot {
    let equity = engine.equity();
    let day_start_equity = engine.breaker().day_open_equity();
    let mmr = engine.params().mmr;
    let positions = engine
        .books()
        .filter_map(|(symbol, book, close)| {
            let pos = book.position.as_ref()?;
            let mark = marks.get(symbol).map(|m| m.mark_price.get()).or(close).unwrap_or(pos.entry_price);
            Some(PositionStatus {
                symbol: symbol.clone(),
                side: pos.side,
                qty: Qty::new(pos.qty),
                entry: pos.entry_price,
                mark,
                unrealized_pnl: pos.side.sign() * pos.qty * (mark - pos.entry_price),
                leverage: pos.leverage,
                // Shown at the symbol's tick: the exact figure has 28 decimals.
                liquidation_price: isolated_liquidation_price_at_leverage(
                    pos.side,
                    pos.qty,
                    pos.entry_price,
                    pos.leverage,
                    mmr,
                )
                .map(|p| match engine.rules(symbol) {
                    Some(rules) => rules.round_price(Price::new(p), PriceRounding::Nearest).get(),
                    None => p.round_dp(8),
                }),
                stop_ids: pos.protection.ids().iter().map(ToString::to_string).collect(),
            })
        })
        .collect();
    let now = engine.last_event_ms();
    let today = utc_day(now);
    let today_trades: Vec<_> = engine.trades().iter().filter(|t| utc_day(t.exit_time) == today).collect();
    let wins = today_trades.iter().filter(|t| t.pnl > Decimal::ZERO).count();
    let tripped_day = engine.breaker().tripped_day();
    let tripped = tripped_day.is_some_and(|d| d == utc_day_of_close(now));
    StatusSnapshot {
        agent: "futures-agent".to_owned(),
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
            tripped: tripped || engine.is_halted(),
            tripped_on: tripped_day.filter(|_| tripped).map(|d| format_utc_date(d * DAY_MS)),
        },
        last_error: context.last_error.clone(),
        regimes: Default::default(),
    }
}
