//! User-data events as Binance sends them (PROTOCOL.md §4.4): spot `executionReport` and
//! `outboundAccountPosition` (wrapped by the WebSocket API as `{"subscriptionId":N,"event":{..}}`),
//! USD-M `ORDER_TRADE_UPDATE`, `ACCOUNT_UPDATE`, `ALGO_UPDATE`, `ACCOUNT_CONFIG_UPDATE` and
//! `listenKeyExpired`. Times are market time.

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{money, plain, price, qty};
use crate::catalog::Catalog;
use crate::engine::events::{Event, ExecType, FillInfo};
use crate::engine::types::Order;

fn spot_execution(
    catalog: &Catalog,
    order: &Order,
    exec: ExecType,
    fill: Option<&FillInfo>,
    time: i64,
) -> Value {
    let spec = catalog.get(order.symbol);
    let (last_qty, last_price, commission, commission_asset, trade_id, maker) = match fill {
        Some(f) => (
            f.qty,
            f.price,
            f.commission,
            Value::from(f.commission_asset.clone()),
            f.trade_id as i64,
            f.maker,
        ),
        None => (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, Value::Null, -1, false),
    };
    let cancelled = exec == ExecType::Canceled;
    json!({
        "e": "executionReport",
        "E": time,
        "s": spec.symbol.as_str(),
        "c": order.client_id,
        "S": order.side.as_str(),
        "o": order.order_type.as_str(),
        "f": order.tif.as_str(),
        "q": qty(spec, order.qty),
        "p": price(spec, order.price),
        "P": price(spec, order.stop_price),
        "F": "0.00000000",
        "g": -1,
        "C": if cancelled { order.client_id.clone() } else { String::new() },
        "x": exec.as_str(),
        "X": order.status.as_str(),
        "r": "NONE",
        "i": order.order_id,
        "l": qty(spec, last_qty),
        "z": qty(spec, order.executed),
        "L": price(spec, last_price),
        "n": money(commission),
        "N": commission_asset,
        "T": time,
        "t": trade_id,
        "v": 0,
        "I": order.order_id * 2 + u64::from(fill.is_some()),
        "w": order.working && !order.status.is_final(),
        "m": maker,
        "M": false,
        "O": order.time,
        "Z": money(order.cum_quote),
        "Y": money(last_price * last_qty),
        "Q": money(order.quote_qty),
        "W": order.working_time,
        "V": "NONE",
    })
}

fn futures_order(
    catalog: &Catalog,
    order: &Order,
    exec: ExecType,
    fill: Option<&FillInfo>,
    time: i64,
) -> Value {
    let spec = catalog.get(order.symbol);
    let (last_qty, last_price, commission, trade_id, maker, realized) = match fill {
        Some(f) => (f.qty, f.price, f.commission, f.trade_id, f.maker, f.realized_pnl),
        None => (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, 0, false, Decimal::ZERO),
    };
    json!({
        "e": "ORDER_TRADE_UPDATE",
        "E": time,
        "T": time,
        "o": {
            "s": spec.symbol.as_str(),
            "c": order.client_id,
            "S": order.side.as_str(),
            "o": order.order_type.as_str(),
            "f": order.tif.as_str(),
            "q": qty(spec, order.qty),
            "p": price(spec, order.price),
            "ap": plain(order.avg_price()),
            "sp": price(spec, order.stop_price),
            "x": exec.as_str(),
            "X": order.status.as_str(),
            "i": order.order_id,
            "l": qty(spec, last_qty),
            "z": qty(spec, order.executed),
            "L": plain(last_price),
            "N": "USDT",
            "n": plain(commission),
            "T": time,
            "t": trade_id,
            "b": "0",
            "a": "0",
            "m": maker,
            "R": order.reduce_only,
            "wt": "CONTRACT_PRICE",
            "ot": order.orig_type.as_str(),
            "ps": "BOTH",
            "cp": order.close_position,
            "rp": plain(realized),
            "pP": false,
            "si": 0,
            "ss": 0,
            "V": "EXPIRE_MAKER",
            "pm": "NONE",
            "gtd": 0,
            "er": "0",
        }
    })
}

/// The JSON of `event` (spot events unwrapped; the WebSocket API wraps them).
pub fn event_json(catalog: &Catalog, event: &Event) -> Value {
    match event {
        Event::SpotExecution { order, exec, fill, time, .. } => {
            spot_execution(catalog, order, *exec, fill.as_ref(), *time)
        }
        Event::SpotBalances { assets, time, .. } => {
            let balances: Vec<Value> =
                assets.iter().map(|(a, f, l)| json!({"a": a, "f": money(*f), "l": money(*l)})).collect();
            json!({"e": "outboundAccountPosition", "E": time, "u": time, "B": balances})
        }
        Event::FuturesOrder { order, exec, fill, time, .. } => {
            futures_order(catalog, order, *exec, fill.as_ref(), *time)
        }
        Event::FuturesAccount {
            reason,
            wallet,
            cross_wallet,
            balance_change,
            positions,
            symbol,
            time,
            ..
        } => {
            let rows: Vec<Value> = positions
                .iter()
                .map(|p| {
                    let spec = catalog.get(p.symbol);
                    json!({
                        "s": spec.symbol.as_str(),
                        "pa": qty(spec, p.amount),
                        "ep": plain(p.entry),
                        "bep": plain(p.entry),
                        "cr": plain(p.realized),
                        "up": plain(p.upnl.round_dp(8)),
                        "mt": p.margin_type,
                        "iw": plain(p.isolated_wallet),
                        "ps": "BOTH",
                    })
                })
                .collect();
            let mut a = json!({
                "m": reason,
                "B": [{"a": "USDT", "wb": plain(*wallet), "cw": plain(*cross_wallet), "bc": plain(*balance_change)}],
                "P": rows,
            });
            if let (Some(id), Some(map)) = (symbol, a.as_object_mut()) {
                map.insert("S".into(), json!(catalog.get(*id).symbol.as_str()));
            }
            json!({"e": "ACCOUNT_UPDATE", "E": time, "T": time, "a": a})
        }
        Event::FuturesAlgo { algo, reason, time, .. } => {
            let spec = catalog.get(algo.symbol);
            json!({
                "e": "ALGO_UPDATE",
                "T": time,
                "E": time,
                "o": {
                    "caid": algo.client_algo_id,
                    "aid": algo.algo_id,
                    "at": "CONDITIONAL",
                    "o": algo.order_type.as_str(),
                    "s": spec.symbol.as_str(),
                    "S": algo.side.as_str(),
                    "ps": "BOTH",
                    "f": algo.tif.as_str(),
                    "q": qty(spec, algo.qty),
                    "X": algo.status.as_str(),
                    "ai": algo.actual_order_id.map_or_else(String::new, |id| id.to_string()),
                    "ap": plain(algo.actual_price),
                    "aq": plain(algo.actual_qty),
                    "act": algo.order_type.as_str(),
                    "tp": price(spec, algo.trigger_price),
                    "p": price(spec, algo.price),
                    "V": "EXPIRE_MAKER",
                    "wt": algo.working_type.as_str(),
                    "pm": "NONE",
                    "cp": algo.close_position,
                    "pP": algo.price_protect,
                    "R": algo.reduce_only,
                    "tt": algo.trigger_time,
                    "gtd": 0,
                    "rm": reason,
                }
            })
        }
        Event::FuturesConfig { symbol, leverage, time, .. } => json!({
            "e": "ACCOUNT_CONFIG_UPDATE",
            "E": time,
            "T": time,
            "ac": {"s": catalog.get(*symbol).symbol.as_str(), "l": leverage},
        }),
    }
}

/// `listenKeyExpired` for `key` at market time `time`.
pub fn listen_key_expired(key: &str, time: i64) -> Value {
    json!({"e": "listenKeyExpired", "E": time, "listenKey": key})
}
