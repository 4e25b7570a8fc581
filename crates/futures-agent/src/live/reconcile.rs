//! Reconciliation with the venue (DESIGN §6, issue 5): after a restart, and after any gap in the
//! user stream, the journal's view (replayed into the engine) is checked against the venue's in
//! two phases (driven by agent-core's runtime, which queries the venue and carries out the first
//! phase's commands before the second runs). These functions are the pure halves.
//!
//! 1. Orders: every order the engine still waits on (entry, market close, protective order) is
//!    queried by client id. What it did while nobody listened is fed to the engine; executions
//!    the stream never delivered are rebuilt from the query (average price and filled quantity;
//!    the fee estimated at the taker rate). A protective order found ended unfilled means an
//!    unprotected position: the engine closes it at market. A protective order the venue does not
//!    know was never placed (the agent died or the request was lost before it arrived): phase 2
//!    places it.
//! 2. Positions and resting orders: each configured symbol's position on the venue must match the
//!    engine's, once the venue's trade history since the position opened has filled in the
//!    executions no order of phase 1 names (a liquidation during a stream gap). A position the journal does not know, one that vanished without a fill of ours, or
//!    a size that differs stops the agent naming it, unless `--adopt` (then the venue's state is
//!    taken: unknown positions are adopted and protected, vanished ones recorded as closed
//!    externally). Open positions missing protective orders get the missing ones placed again;
//!    orders of ours the engine no longer knows are cancelled.

use std::collections::HashSet;

use agent_core::live::runtime::fill_from_query;
use agent_core::live::{Command, Holdings};
use exchange_core::{AgentTag, ClientOrderId, OrderPurpose, OrderUpdate, Qty, Symbol};
use rust_decimal::Decimal;

use super::engine::LiveEngine;

pub use agent_core::live::Mismatch;

/// Phase 1: every order the engine waits on (entries, market closes, protective orders).
pub fn awaited_orders(engine: &LiveEngine) -> Vec<(Symbol, ClientOrderId)> {
    let mut waiting = Vec::new();
    for (symbol, book, _) in engine.books() {
        if let Some(entry) = &book.entry {
            waiting.push((symbol.clone(), entry.id.clone()));
        }
        if let Some(pos) = &book.position {
            for id in pos.protection.ids().into_iter().chain(pos.closing.as_ref().map(|(id, _)| id.clone())) {
                waiting.push((symbol.clone(), id));
            }
        }
    }
    waiting
}

/// Phase 1: a queried order's state. The update goes to the engine; executions it reports that
/// the books do not hold yet are rebuilt (average price, filled quantity, the fee estimated at
/// the taker rate).
pub fn on_queried(engine: &mut LiveEngine, update: &OrderUpdate) -> Vec<Command> {
    let symbol = &update.symbol;
    let position = engine.books().find(|(s, _, _)| *s == symbol).and_then(|(_, b, _)| b.position.clone());
    let awaited_entry = engine
        .books()
        .find(|(s, _, _)| *s == symbol)
        .is_some_and(|(_, b, _)| b.entry.as_ref().is_some_and(|e| e.id == update.client_order_id));
    let mut out = engine.on_order_update(update);
    let missing = if update.client_order_id.purpose() == Some(OrderPurpose::Entry) {
        if awaited_entry {
            update.filled_qty.get() - position.as_ref().map_or(Decimal::ZERO, |p| p.qty)
        } else {
            Decimal::ZERO
        }
    } else {
        // An exit order: whatever of the position it filled is not in our books yet when the
        // position is still open.
        match position {
            Some(pos) if update.filled_qty.is_positive() => update.filled_qty.get().min(pos.qty),
            _ => Decimal::ZERO,
        }
    };
    if missing > Decimal::ZERO {
        let mut rebuilt = update.clone();
        rebuilt.filled_qty = Qty::new(missing);
        if let Some(fill) = fill_from_query(&rebuilt, engine.params().fee, "USDT") {
            out.extend(engine.on_rebuilt_fill(&fill));
        }
    }
    out
}

/// Phase 2: positions and resting orders against the engine's books.
///
/// # Errors
/// [`Mismatch`] when the states differ and `adopt` is false.
pub fn reconcile_holdings(
    engine: &mut LiveEngine,
    holdings: &Holdings,
    adopt: bool,
    now: i64,
) -> Result<Vec<Command>, Mismatch> {
    let venue_positions = &holdings.positions;
    let open_orders = &holdings.open_orders;
    let mut out = Vec::new();
    let resting: HashSet<ClientOrderId> = open_orders.iter().map(|o| o.client_order_id.clone()).collect();
    let mut problems = Vec::new();
    let symbols: Vec<(Symbol, Option<Decimal>)> =
        engine.books().map(|(s, _, close)| (s.clone(), close)).collect();
    for (symbol, last_close) in &symbols {
        let ours = engine.books().find(|(s, _, _)| *s == symbol).and_then(|(_, b, _)| b.position.clone());
        let theirs = venue_positions.iter().find(|p| &p.symbol == symbol && p.qty.is_positive());
        match (ours, theirs) {
            (Some(o), Some(t)) if o.side == t.side && o.qty == t.qty.get() => {
                let ids = o.protection.ids();
                let missing: Vec<ClientOrderId> =
                    ids.iter().filter(|id| !resting.contains(*id)).cloned().collect();
                if o.closing.is_none() && (!missing.is_empty() || ids.len() < 3) {
                    out.extend(engine.reprotect(symbol, &missing, now));
                }
            }
            (None, None) => {}
            (Some(o), None) => {
                if adopt {
                    out.extend(engine.drop_position(symbol, last_close.unwrap_or(o.entry_price), now));
                } else {
                    problems.push(format!(
                        "{symbol}: the journal has a {:?} position of {} but the venue has none, and no fill of ours explains it",
                        o.side, o.qty
                    ));
                }
            }
            (ours, Some(t)) => {
                if adopt {
                    if ours.is_some() {
                        out.extend(engine.drop_position(symbol, t.entry_price.get(), now));
                    }
                    out.extend(engine.adopt_position(
                        symbol,
                        t.side,
                        t.qty.get(),
                        t.entry_price.get(),
                        t.leverage,
                        now,
                    ));
                } else {
                    let known =
                        ours.map_or_else(|| "no position".to_owned(), |o| format!("{:?} {}", o.side, o.qty));
                    problems.push(format!(
                        "{symbol}: the venue has a {:?} position of {} at {} that the journal does not know (journal: {known})",
                        t.side, t.qty, t.entry_price
                    ));
                }
            }
        }
    }
    for p in
        venue_positions.iter().filter(|p| p.qty.is_positive() && !symbols.iter().any(|(s, _)| *s == p.symbol))
    {
        tracing::warn!(symbol = %p.symbol, "position on a symbol this agent does not trade: left alone");
    }
    if !problems.is_empty() {
        return Err(Mismatch { problems });
    }
    let known: HashSet<ClientOrderId> = engine
        .books()
        .flat_map(|(_, b, _)| {
            let mut ids = b.position.as_ref().map(|p| p.protection.ids()).unwrap_or_default();
            ids.extend(b.entry.as_ref().map(|e| e.id.clone()));
            ids.extend(b.position.as_ref().and_then(|p| p.closing.as_ref().map(|(id, _)| id.clone())));
            ids
        })
        .collect();
    for order in open_orders {
        let id = &order.client_order_id;
        if id.agent() == Some(AgentTag::Futures) && !known.contains(id) && !out_has_place(&out, id) {
            tracing::warn!(%id, symbol = %order.symbol, "cancelling an order of ours the journal no longer tracks");
            out.push(Command::Cancel { symbol: order.symbol.clone(), id: id.clone() });
        }
    }
    Ok(out)
}

/// Executions the user stream lost (a liquidation, a stop that triggered during a gap, whose
/// orders phase 1 cannot name): every symbol whose position on the venue differs from ours, with
/// the time our position opened. The runtime feeds the venue's trade history since then to the
/// engine before phase 2 (executions it has already counted are recognised by trade id, or as the
/// twin of a fill rebuilt from a query).
pub fn history_wanted(engine: &LiveEngine, holdings: &Holdings) -> Vec<(Symbol, i64)> {
    engine
        .books()
        .filter_map(|(symbol, book, _)| {
            let ours = book.position.as_ref()?;
            let theirs = holdings.positions.iter().find(|p| &p.symbol == symbol && p.qty.is_positive());
            let same = theirs.is_some_and(|t| t.side == ours.side && t.qty.get() == ours.qty);
            (!same).then(|| (symbol.clone(), ours.entry_time))
        })
        .collect()
}

/// Phase 1: an awaited order the venue does not know. A protective order the venue never got
/// (the agent died, or the request was lost, before it arrived) is left to phase 2, which finds
/// it missing and places it again; anything else failed.
pub fn on_unknown_order(
    engine: &mut LiveEngine,
    id: &ClientOrderId,
    symbol: &Symbol,
    now: i64,
) -> Vec<Command> {
    if is_protective(id) {
        Vec::new()
    } else {
        engine.on_place_failed(id, symbol, "unknown to the venue after a restart or stream gap", now)
    }
}

fn is_protective(id: &ClientOrderId) -> bool {
    matches!(
        id.purpose(),
        Some(
            exchange_core::OrderPurpose::StopLoss
                | exchange_core::OrderPurpose::TakeProfit
                | exchange_core::OrderPurpose::TrailingStop
        )
    )
}

fn out_has_place(out: &[Command], id: &ClientOrderId) -> bool {
    out.iter().any(|c| matches!(c, Command::Place(o) if &o.client_order_id == id))
}
