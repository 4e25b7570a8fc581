//! Account answers: spot `/api/v3/account`, USD-M `/fapi/v2|v3/account`, `/fapi/v2|v3/balance`,
//! `/fapi/v2|v3/positionRisk` and `/fapi/v1/income`. They read the engine (margins depend on marks),
//! so they are rendered inside the engine task.

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{money, plain, qty};
use crate::catalog::{SymbolId, Venue};
use crate::engine::Engine;

/// `/api/v3/account` of `account` (`omit_zero` drops empty balances).
pub fn spot_account(engine: &Engine, account: usize, omit_zero: bool) -> Value {
    let Some(acc) = engine.accounts().get(account) else { return json!({}) };
    let fees = engine.fees();
    let bips = |rate: Decimal| (rate * Decimal::from(10_000)).round().mantissa();
    let balances: Vec<Value> = acc
        .spot
        .balances
        .iter()
        .filter(|(_, b)| !(omit_zero && b.free.is_zero() && b.locked.is_zero()))
        .map(|(asset, b)| json!({ "asset": asset, "free": money(b.free), "locked": money(b.locked) }))
        .collect();
    json!({
        "makerCommission": bips(fees.spot_maker),
        "takerCommission": bips(fees.spot_taker),
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {
            "maker": money(fees.spot_maker),
            "taker": money(fees.spot_taker),
            "buyer": money(Decimal::ZERO),
            "seller": money(Decimal::ZERO),
        },
        "canTrade": true,
        "canWithdraw": true,
        "canDeposit": true,
        "brokered": false,
        "requireSelfTradePrevention": false,
        "preventSor": false,
        "updateTime": acc.spot.update_time,
        "accountType": "SPOT",
        "balances": balances,
        "permissions": ["SPOT"],
        "uid": 100_000 + account,
    })
}

fn break_even(engine: &Engine, entry: Decimal, amount: Decimal) -> Decimal {
    let fee = engine.fees().futures_taker;
    if amount.is_sign_negative() { entry * (Decimal::ONE - fee) } else { entry * (Decimal::ONE + fee) }
}

/// Symbols of `account` with a position or an open order.
fn active_symbols(engine: &Engine, account: usize) -> Vec<SymbolId> {
    let mut ids: Vec<SymbolId> = engine
        .accounts()
        .get(account)
        .map(|a| a.futures.positions.keys().copied().collect())
        .unwrap_or_default();
    ids.extend(engine.book().open_orders(account, Venue::Futures).map(|o| o.symbol));
    ids.sort();
    ids.dedup();
    ids
}

/// One `/fapi/v3/positionRisk` (or, with `v2`, `/fapi/v2/positionRisk`) row.
fn position_row(engine: &Engine, account: usize, id: SymbolId, v2: bool) -> Value {
    let spec = engine.catalog().get(id);
    let Some(acc) = engine.accounts().get(account) else { return json!({}) };
    let position = acc.futures.position(id);
    let config = acc.futures.config(id);
    let mark = engine.market().mark(id);
    let upnl = position.upnl(mark);
    let (im, mm) = engine.position_margins(account, id);
    let notional = position.amount * mark;
    let isolated_margin =
        if position.isolated_wallet.is_zero() { Decimal::ZERO } else { position.isolated_wallet + upnl };
    let liquidation = engine.liquidation_price(account, id).unwrap_or(Decimal::ZERO);
    let mut row = json!({
        "symbol": spec.symbol.as_str(),
        "positionSide": "BOTH",
        "positionAmt": qty(spec, position.amount),
        "entryPrice": plain(position.entry),
        "breakEvenPrice": plain(break_even(engine, position.entry, position.amount)),
        "markPrice": money(mark),
        "unRealizedProfit": money(upnl),
        "liquidationPrice": plain(liquidation.round_dp(spec.price_precision)),
        "isolatedMargin": money(isolated_margin),
        "notional": money(notional),
        "isolatedWallet": money(position.isolated_wallet),
        "updateTime": position.update_time,
    });
    if let Some(map) = row.as_object_mut() {
        let extra = if v2 {
            json!({
                "marginType": config.margin_type.as_lower(),
                "isAutoAddMargin": "false",
                "leverage": config.leverage.to_string(),
                "maxNotionalValue": plain(spec.max_notional(config.leverage)),
            })
        } else {
            let open_im: Decimal = engine
                .book()
                .open_orders(account, Venue::Futures)
                .filter(|o| o.symbol == id && !o.reduce_only)
                .map(|o| o.remaining() * o.price / Decimal::from(config.leverage.max(1)))
                .sum();
            json!({
                "marginAsset": "USDT",
                "initialMargin": money(im + open_im),
                "maintMargin": money(mm),
                "positionInitialMargin": money(im),
                "openOrderInitialMargin": money(open_im),
                "adl": 0,
                "bidNotional": "0",
                "askNotional": "0",
            })
        };
        if let Some(extra) = extra.as_object() {
            map.extend(extra.clone());
        }
    }
    row
}

/// `/fapi/v2/positionRisk` (every futures symbol, or only `symbol`) or `/fapi/v3/positionRisk`
/// (only symbols with a position or open orders).
pub fn position_risk(engine: &Engine, account: usize, symbol: Option<SymbolId>, v2: bool) -> Value {
    let ids: Vec<SymbolId> = if v2 {
        engine.catalog().of_venue(Venue::Futures).map(|s| s.id).collect()
    } else {
        active_symbols(engine, account)
    };
    let rows = ids
        .into_iter()
        .filter(|id| symbol.is_none_or(|s| s == *id))
        .map(|id| position_row(engine, account, id, v2));
    Value::Array(rows.collect())
}

/// `/fapi/v3/account` (`v2`: the older shape, with every symbol in `positions`).
pub fn futures_account(engine: &Engine, account: usize, v2: bool) -> Value {
    let Some(acc) = engine.accounts().get(account) else { return json!({}) };
    let totals = engine.futures_totals(account);
    let wallet = acc.futures.wallet;
    let cross_wallet = acc.futures.cross_wallet();
    let margin_balance = wallet + totals.total_upnl;
    let available = totals.available;
    let asset = json!({
        "asset": "USDT",
        "walletBalance": money(wallet),
        "unrealizedProfit": money(totals.total_upnl),
        "marginBalance": money(margin_balance),
        "maintMargin": money(totals.maint_margin),
        "initialMargin": money(totals.position_im + totals.open_order_im),
        "positionInitialMargin": money(totals.position_im),
        "openOrderInitialMargin": money(totals.open_order_im),
        "crossWalletBalance": money(cross_wallet),
        "crossUnPnl": money(totals.cross_upnl),
        "availableBalance": money(available),
        "maxWithdrawAmount": money(available.max(Decimal::ZERO)),
        "marginAvailable": true,
        "updateTime": acc.futures.update_time,
    });
    let positions = if v2 {
        engine.catalog().of_venue(Venue::Futures).map(|s| position_row(engine, account, s.id, true)).collect()
    } else {
        active_symbols(engine, account)
            .into_iter()
            .map(|id| position_row(engine, account, id, false))
            .collect()
    };
    json!({
        "feeTier": 0,
        "canTrade": true,
        "canDeposit": true,
        "canWithdraw": true,
        "updateTime": acc.futures.update_time,
        "multiAssetsMargin": false,
        "tradeGroupId": -1,
        "totalInitialMargin": money(totals.position_im + totals.open_order_im),
        "totalMaintMargin": money(totals.maint_margin),
        "totalWalletBalance": money(wallet),
        "totalUnrealizedProfit": money(totals.total_upnl),
        "totalMarginBalance": money(margin_balance),
        "totalPositionInitialMargin": money(totals.position_im),
        "totalOpenOrderInitialMargin": money(totals.open_order_im),
        "totalCrossWalletBalance": money(cross_wallet),
        "totalCrossUnPnl": money(totals.cross_upnl),
        "availableBalance": money(available),
        "maxWithdrawAmount": money(available.max(Decimal::ZERO)),
        "assets": [asset],
        "positions": Value::Array(positions),
    })
}

/// `/fapi/v2|v3/balance`.
pub fn futures_balance(engine: &Engine, account: usize) -> Value {
    let Some(acc) = engine.accounts().get(account) else { return json!([]) };
    let totals = engine.futures_totals(account);
    json!([{
        "accountAlias": "SimAccount",
        "asset": "USDT",
        "balance": money(acc.futures.wallet),
        "crossWalletBalance": money(acc.futures.cross_wallet()),
        "crossUnPnl": money(totals.cross_upnl),
        "availableBalance": money(totals.available),
        "maxWithdrawAmount": money(totals.available.max(Decimal::ZERO)),
        "marginAvailable": true,
        "updateTime": acc.futures.update_time,
    }])
}

/// `/fapi/v1/income`, filtered by symbol, type and time, at most `limit` newest-last.
pub fn income(
    engine: &Engine,
    account: usize,
    symbol: Option<&str>,
    kind: Option<&str>,
    start: Option<i64>,
    end: Option<i64>,
    limit: usize,
) -> Value {
    let rows: Vec<Value> = engine
        .book()
        .income_of(account)
        .filter(|i| symbol.is_none_or(|s| i.symbol == s))
        .filter(|i| kind.is_none_or(|k| i.kind == k))
        .filter(|i| start.is_none_or(|s| i.time >= s) && end.is_none_or(|e| i.time <= e))
        .map(|i| {
            json!({
                "symbol": i.symbol,
                "incomeType": i.kind,
                "income": plain(i.amount),
                "asset": "USDT",
                "info": "",
                "time": i.time,
                "tranId": i.tran_id,
                "tradeId": i.trade_id,
            })
        })
        .collect();
    let skip = rows.len().saturating_sub(limit);
    Value::Array(rows.into_iter().skip(skip).collect())
}
