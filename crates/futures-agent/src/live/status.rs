//! The status snapshot of futures-agent (DESIGN §6) built from the engine's state: equity, the
//! day's P&L, open positions with their marks, liquidation prices and protective order ids,
//! today's trades, the breaker.

use std::collections::HashMap;

use agent_core::live::{EngineStatus, StatusContext};
use agent_core::status::{PositionStatus, StatusSnapshot};
use exchange_core::venue::MarkPrice;
use exchange_core::{Price, PriceRounding, Qty, Symbol};
use risk_core::liquidation::isolated_liquidation_price_at_leverage;

use super::engine::LiveEngine;

/// The snapshot of the agent now.
pub fn snapshot(
    engine: &LiveEngine,
    marks: &HashMap<Symbol, MarkPrice>,
    context: &StatusContext,
) -> StatusSnapshot {
    let equity = engine.equity();
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
    context.snapshot(EngineStatus {
        agent: "futures-agent",
        now: engine.last_event_ms(),
        equity,
        breaker: engine.breaker(),
        halted: engine.is_halted(),
        closed: engine.trades().iter().map(|t| (t.exit_time, t.pnl)).collect(),
        positions,
        regimes: Default::default(),
    })
}
