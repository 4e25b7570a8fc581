//! Reconciliation of the live engine with the venue (DESIGN §6), after a restart and after a
//! gap in the user stream; the runtime runs phase 1, carries out its commands, then phase 2.
//!
//! 1. Orders: every order the engine waits on (the entry in flight, the resting or cancelling
//!    stop, the market sale) is queried. Executions the stream never delivered are rebuilt from
//!    the answer (filled quantity less what is accounted, at the average price; the fee
//!    estimated at the taker rate, in the base asset for a buy as Binance charges it), then the
//!    answer is applied as an order update: a stop found ended unfilled is a holding left
//!    unprotected, sold at market.
//! 2. Holdings: spot has no positions, so each held pair's quantity is compared with the
//!    account's balance of its base asset (free plus locked).
//!    - Less than the holding: the coins went elsewhere. A mismatch naming the pair, unless
//!      `adopt`: then the holding is recorded as closed externally at the latest close (its
//!      stop cancelled).
//!    - Less than the holding plus its dust: the dust went (Binance's small-balance
//!      conversion); the dust is lowered to what is there.
//!    - More: the surplus is not this agent's (bought by hand, another program, BNB-paid fees);
//!      left alone, noted in the journal (`holding_surplus`). The engine has no logger: the
//!      record is the warning.
//!    - A held pair whose stop is not among the open orders gets a new stop (a cancel still
//!      awaiting its confirmation is taken as confirmed), and resting orders with this agent's
//!      tag that the engine does not know are cancelled.
//!
//! Every state change here is journaled as an input the replay applies again (`order_update`,
//! `fill_rebuilt`, `reprotect`, `external_close`, `dust`).

use std::collections::HashSet;

use agent_core::live::{Command, Holdings, Mismatch, record};
use exchange_core::{AgentTag, ClientOrderId, Fill, OrderStatus, OrderUpdate, Qty, Side, Symbol};
use rust_decimal::Decimal;
use serde_json::json;

use super::book::{StopState, is_our_exit};
use super::engine::SpotLiveEngine;

impl SpotLiveEngine {
    /// Phase 1: the orders whose outcome the engine waits on.
    pub fn awaited_orders(&self) -> Vec<(Symbol, ClientOrderId)> {
        let mut out = Vec::new();
        for pair in &self.pairs {
            let book = &pair.book;
            out.extend(book.entry.as_ref().map(|e| (pair.symbol.clone(), e.id.clone())));
            if let Some(pos) = &book.position {
                out.extend(pos.stop.id().map(|id| (pair.symbol.clone(), id.clone())));
                out.extend(pos.closing.as_ref().map(|(id, _)| (pair.symbol.clone(), id.clone())));
            }
        }
        out
    }

    /// Phase 1: a queried order's state. The executions it shows that the books lack are
    /// rebuilt first (at the answer's exchange time), then it is applied as an order update.
    /// Everything it does is journaled as those two inputs, so `_now` is not used: a replay
    /// must not depend on when the query ran.
    pub fn on_queried(&mut self, update: &OrderUpdate, _now: i64) -> Vec<Command> {
        let mut out = std::mem::take(&mut self.pending);
        if let Some(i) = self.index(&update.symbol) {
            let book = &self.pairs[i].book;
            let id = &update.client_order_id;
            let known = match (&book.entry, &book.position) {
                (Some(entry), _) if &entry.id == id => Some(entry.filled),
                (_, Some(_)) if is_our_exit(id) => {
                    Some(self.accounted.get(id).copied().unwrap_or(Decimal::ZERO))
                }
                _ => None,
            };
            let missing = known.map_or(Decimal::ZERO, |known| update.filled_qty.get() - known);
            if missing > Decimal::ZERO {
                match self.rebuilt_fill(i, update, missing) {
                    Some(fill) => out.extend(self.on_rebuilt_fill(&fill)),
                    None => out.push(Command::critical(format!(
                        "main-agent: {id} on {} filled {missing} more than the books know, with no average price to account it at",
                        update.symbol
                    ))),
                }
            }
        }
        out.extend(self.on_order_update(update));
        out
    }

    /// The execution a query shows beyond the books: `qty` at the average price, the fee at the
    /// taker rate (in the base asset for a buy, in USDT for a sale).
    fn rebuilt_fill(&self, i: usize, update: &OrderUpdate, qty: Decimal) -> Option<Fill> {
        let price = update.avg_price?.get();
        let rate = self.params.costs.fee;
        let (fee, fee_asset) = match update.side {
            Side::Buy => (qty * rate, self.pairs[i].base.clone()),
            Side::Sell => (qty * price * rate, super::book::QUOTE.to_owned()),
        };
        let venue_id = update.venue_order_id.as_deref().unwrap_or(update.client_order_id.as_str());
        Some(Fill {
            client_order_id: update.client_order_id.clone(),
            trade_id: format!("query-{venue_id}-{}", update.filled_qty),
            symbol: update.symbol.clone(),
            side: update.side,
            qty: Qty::new(qty),
            price: exchange_core::Price::new(price),
            fee,
            fee_asset,
            time_exchange: update.time_exchange,
        })
    }

    /// Phase 2: the account's balances and open orders against the books (see the module notes).
    ///
    /// # Errors
    /// [`Mismatch`] naming every pair holding less than the books say, when `adopt` is false.
    pub fn reconcile_holdings(
        &mut self,
        holdings: &Holdings,
        adopt: bool,
        now: i64,
    ) -> Result<Vec<Command>, Mismatch> {
        let balance = |base: &str| {
            holdings
                .balances
                .iter()
                .filter(|b| b.asset == base)
                .map(|b| b.free.get() + b.locked.get())
                .sum::<Decimal>()
        };
        let problems: Vec<String> = self
            .pairs
            .iter()
            .filter_map(|p| {
                let pos = p.book.position.as_ref()?;
                let venue = balance(&p.base);
                (venue < pos.qty).then(|| {
                    format!(
                        "{}: the journal holds {} {} but the account has {venue} (free plus locked), and no sale of ours explains it",
                        p.symbol, pos.qty, p.base
                    )
                })
            })
            .collect();
        if !problems.is_empty() && !adopt {
            return Err(Mismatch { problems });
        }
        let mut out = std::mem::take(&mut self.pending);
        let resting: HashSet<&ClientOrderId> =
            holdings.open_orders.iter().map(|o| &o.client_order_id).collect();
        for i in 0..self.pairs.len() {
            let venue = balance(&self.pairs[i].base);
            let held = self.pairs[i].book.position.as_ref().map(|p| p.qty);
            if held.is_some_and(|q| venue < q) {
                let price = self.pairs[i]
                    .last_close()
                    .or_else(|| self.pairs[i].book.position.as_ref().map(|p| p.entry_price()));
                out.extend(self.external_close(i, price.unwrap_or(Decimal::ZERO), now));
            }
            let pair = &self.pairs[i];
            let ours = pair.book.position.as_ref().map_or(Decimal::ZERO, |p| p.qty);
            let extra = (venue - ours).max(Decimal::ZERO);
            if extra < pair.book.dust {
                out.extend(self.set_dust(i, extra, now));
            } else if extra > pair.book.dust && pair.book.position.is_some() {
                out.push(record(
                    "holding_surplus",
                    now,
                    json!({"symbol": pair.symbol, "asset": pair.base, "ours": (ours + pair.book.dust).to_string(), "account": venue.to_string(), "note": "not this agent's: left alone"}),
                ));
            }
            out.extend(self.check_stop(i, &resting, now));
        }
        let known: HashSet<ClientOrderId> = self.awaited_orders().into_iter().map(|(_, id)| id).collect();
        for order in &holdings.open_orders {
            let id = &order.client_order_id;
            if id.agent() == Some(AgentTag::Main) && !known.contains(id) {
                out.push(record("stray_order", now, json!({"symbol": order.symbol, "id": id})));
                out.push(Command::Cancel { symbol: order.symbol.clone(), id: id.clone() });
            }
        }
        Ok(out)
    }

    /// A held pair's stop against the open orders: a cancel whose order is gone is taken as
    /// confirmed; a missing stop is placed again.
    fn check_stop(&mut self, i: usize, resting: &HashSet<&ClientOrderId>, now: i64) -> Vec<Command> {
        let pair = &self.pairs[i];
        let Some(pos) = pair.book.position.as_ref().filter(|p| p.closing.is_none()) else {
            return Vec::new();
        };
        match &pos.stop {
            StopState::Resting { id, .. } if resting.contains(id) => Vec::new(),
            StopState::Cancelling { id, .. } if resting.contains(id) => Vec::new(),
            StopState::Cancelling { id, .. } => {
                let gone = OrderUpdate {
                    client_order_id: id.clone(),
                    venue_order_id: None,
                    symbol: pair.symbol.clone(),
                    side: Side::Sell,
                    status: OrderStatus::Canceled,
                    filled_qty: Qty::new(self.accounted.get(id).copied().unwrap_or(Decimal::ZERO)),
                    avg_price: None,
                    fill: None,
                    reason: Some("not among the open orders at reconciliation".into()),
                    time_exchange: now,
                };
                self.on_order_update(&gone)
            }
            StopState::Resting { .. } | StopState::None => self.reprotect(&pair.symbol.clone(), now),
        }
    }

    /// Places a new stop for `symbol`'s holding, found without its stop on the venue; what is
    /// left of the old one is cancelled first.
    pub fn reprotect(&mut self, symbol: &Symbol, ts: i64) -> Vec<Command> {
        let Some(i) = self.index(symbol) else { return Vec::new() };
        let Some(pos) = self.pairs[i].book.position.as_mut().filter(|p| p.closing.is_none()) else {
            return Vec::new();
        };
        let mut out = vec![
            record("reprotect", ts, json!({"symbol": symbol})),
            Command::critical(format!(
                "main-agent: the {symbol} holding has no stop on the venue: placing it again"
            )),
        ];
        if let Some(old) = std::mem::take(&mut pos.stop).id() {
            out.push(Command::Cancel { symbol: symbol.clone(), id: old.clone() });
        }
        out.extend(self.place_stop(i, ts));
        out
    }

    /// Records pair `i`'s holding as gone from the account without a sale of ours (`--adopt`),
    /// sold at `price`.
    pub(super) fn external_close(&mut self, i: usize, price: Decimal, ts: i64) -> Vec<Command> {
        let symbol = self.pairs[i].symbol.clone();
        let mut out =
            vec![record("external_close", ts, json!({"symbol": symbol, "price": price.to_string()}))];
        let book = &mut self.pairs[i].book;
        let Some(pos) = book.position.as_ref() else { return out };
        let left = pos.qty;
        if let Some(id) = pos.stop.id().cloned() {
            out.push(Command::Cancel { symbol: symbol.clone(), id });
        }
        let Some(trade) = book.close_externally(&symbol, price, ts) else { return out };
        self.cash += left * price;
        out.push(record("position_closed", ts, super::orders::trade_fields(&trade)));
        out.push(Command::critical(format!(
            "main-agent: the {symbol} holding is gone from the account with no sale of ours to explain it; recorded as sold externally at {price}"
        )));
        self.trades.push(trade);
        out
    }

    /// Sets pair `i`'s dust (the account holds less than it).
    pub(super) fn set_dust(&mut self, i: usize, dust: Decimal, ts: i64) -> Vec<Command> {
        let pair = &mut self.pairs[i];
        pair.book.dust = dust.max(Decimal::ZERO);
        vec![record("dust", ts, json!({"symbol": pair.symbol, "dust": pair.book.dust.to_string()}))]
    }
}
