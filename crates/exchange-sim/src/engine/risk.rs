//! Funding settlement and liquidation of USD-M positions.
//!
//! Funding (PROTOCOL.md §7.3): at 00:00, 08:00 and 16:00 UTC of market time every open position
//! receives `income = -positionAmt * markPrice * fundingRate` (longs pay a positive rate), recorded
//! as `FUNDING_FEE` income and reported in `ACCOUNT_UPDATE` with `m = FUNDING_FEE` (cross: balances
//! only; isolated: balances and that position, whose isolated wallet takes the amount).
//!
//! Liquidation (at the mark price, price from risk-core's formula): an isolated position loses its
//! whole isolated margin; a cross position is closed at the liquidation price and the rest of its
//! maintenance margin is charged as `INSURANCE_CLEAR` (the wallet never goes below zero). Either way
//! the user sees an `ORDER_TRADE_UPDATE` for an order of type `LIQUIDATION` with client id
//! `autoclose-<time><n>` (unique per order, as Binance's `autoclose-1596107620040000020`) and execution type `CALCULATED`, then an `ACCOUNT_UPDATE`; the account's other
//! open orders on the symbol are cancelled. No fee is charged.

use exchange_core::Side;
use rust_decimal::Decimal;

use super::Engine;
use super::accounts::{MarginType, maint_margin};
use super::book::FundingRecord;
use super::events::{Event, ExecType, FillInfo};
use super::types::{Income, Order, OrderType, Status, Tif, Trade, Trail};
use crate::catalog::{SymbolId, Venue};

impl Engine {
    /// Settles funding for every futures symbol at market time `time`.
    pub(super) fn settle_funding(&mut self, time: i64) {
        let symbols: Vec<SymbolId> = self.catalog.of_venue(Venue::Futures).map(|s| s.id).collect();
        for symbol in symbols {
            let rate = self.market.funding_rate(symbol);
            let mark = self.market.mark(symbol);
            self.book.push_funding(FundingRecord { symbol, time, rate, mark });
            let name = self.spec(symbol).symbol.to_string();
            for account in 0..self.accounts.len() {
                let Some(acc) = self.accounts.get_mut(account) else { continue };
                let Some(position) = acc.futures.positions.get_mut(&symbol) else { continue };
                let income = (-position.amount * mark * rate).round_dp(8);
                if income.is_zero() {
                    continue;
                }
                let isolated =
                    acc.futures.configs.get(&symbol).is_some_and(|c| c.margin_type == MarginType::Isolated);
                if isolated {
                    position.isolated_wallet = (position.isolated_wallet + income).max(Decimal::ZERO);
                }
                position.update_time = time;
                acc.futures.wallet += income;
                acc.futures.update_time = time;
                let tran_id = self.book.next_tran_id();
                self.book.push_income(Income {
                    account,
                    symbol: name.clone(),
                    kind: "FUNDING_FEE".to_owned(),
                    amount: income,
                    time,
                    tran_id,
                    trade_id: String::new(),
                });
                let positions: &[SymbolId] = if isolated { &[symbol] } else { &[] };
                self.emit_futures_account(account, "FUNDING_FEE", income, positions, Some(symbol));
            }
        }
    }

    /// Liquidates `account`'s position on `symbol` at `price`.
    pub(super) fn liquidate(&mut self, account: usize, symbol: SymbolId, price: Decimal) {
        let catalog = self.catalog.clone();
        let spec = catalog.get(symbol);
        let Some(acc) = self.accounts.get_mut(account) else { return };
        let Some(position) = acc.futures.positions.remove(&symbol) else { return };
        let isolated = acc.futures.config(symbol).margin_type == MarginType::Isolated;
        let qty = position.amount.abs();
        let (price, realized, clearance) = if isolated {
            // The whole isolated margin is lost: the execution is reported at the bankruptcy
            // price, where the position's loss is exactly that margin (as Binance reports it).
            let bankruptcy = position.entry - position.isolated_wallet / position.amount;
            (
                bankruptcy.round_dp(spec.price_precision).max(Decimal::ZERO),
                -position.isolated_wallet,
                Decimal::ZERO,
            )
        } else {
            let price = price.round_dp(spec.price_precision);
            let realized = (position.amount * (price - position.entry)).round_dp(8);
            let clearance = maint_margin(spec, qty * price).max(Decimal::ZERO).round_dp(8);
            (price, realized, clearance)
        };
        let before = acc.futures.wallet;
        acc.futures.wallet = (before + realized - clearance).max(Decimal::ZERO);
        acc.futures.update_time = self.now;
        // What the wallet could pay of the clearance fee.
        let cleared = (before + realized - acc.futures.wallet).max(Decimal::ZERO).min(clearance);
        let side = if position.amount.is_sign_positive() { Side::Sell } else { Side::Buy };
        let order_id = self.book.next_order_id();
        let order = Order {
            order_id,
            account,
            venue: Venue::Futures,
            symbol,
            client_id: autoclose_id(self.now, order_id),
            side,
            order_type: OrderType::Liquidation,
            orig_type: OrderType::Liquidation,
            tif: Tif::Ioc,
            price,
            qty,
            quote_qty: Decimal::ZERO,
            executed: qty,
            cum_quote: price * qty,
            status: Status::Filled,
            stop_price: Decimal::ZERO,
            trailing_delta: None,
            trail: Trail::default(),
            reduce_only: true,
            close_position: false,
            working: true,
            time: self.now,
            update_time: self.now,
            working_time: self.now,
            deferred: Decimal::ZERO,
            locked: Decimal::ZERO,
            algo_id: None,
        };
        self.book.insert(order.clone());
        let trade_id = self.market.take_trade_ids(symbol, 1);
        self.book.push_trade(Trade {
            id: trade_id,
            account,
            venue: Venue::Futures,
            symbol,
            order_id,
            side,
            price,
            qty,
            quote_qty: price * qty,
            commission: Decimal::ZERO,
            commission_asset: "USDT".to_owned(),
            realized_pnl: realized,
            maker: false,
            time: self.now,
        });
        let name = self.spec(symbol).symbol.to_string();
        for (kind, amount) in [("REALIZED_PNL", realized), ("INSURANCE_CLEAR", -cleared)] {
            if !amount.is_zero() {
                let tran_id = self.book.next_tran_id();
                self.book.push_income(Income {
                    account,
                    symbol: name.clone(),
                    kind: kind.to_owned(),
                    amount,
                    time: self.now,
                    tran_id,
                    trade_id: trade_id.to_string(),
                });
            }
        }
        let fill = FillInfo {
            price,
            qty,
            commission: Decimal::ZERO,
            commission_asset: "USDT".to_owned(),
            trade_id,
            maker: false,
            realized_pnl: realized,
        };
        self.events.push(Event::FuturesOrder {
            account,
            order,
            exec: ExecType::Calculated,
            fill: Some(fill),
            time: self.now,
        });
        self.emit_futures_account(account, "ORDER", Decimal::ZERO, &[symbol], None);
        self.cancel_all(account, Venue::Futures, symbol);
    }
}

/// The client id of a liquidation order: its time and a number unique to the order, so two
/// positions liquidated in the same tick do not share one.
fn autoclose_id(now: i64, order_id: u64) -> String {
    format!("autoclose-{now}{:06}", order_id % 1_000_000)
}

#[cfg(test)]
mod tests;
