//! The admin API under `/sim/...` (no authentication; the server listens on 127.0.0.1 only):
//! step the clock, change its speed, shock or set a price, fix a funding rate, set and reset faults,
//! drop WebSockets, expire listenKeys, read the whole state, and read an account's order and fill
//! history. Every route is documented with an
//! example in the crate README.

use std::sync::Arc;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Value, json};

use super::Shared;
use super::params::Params;
use super::reply::{self, Body};
use crate::actor::Exchange;
use crate::api_error::ApiError;
use crate::catalog::{SymbolId, Venue};
use crate::faults::Unanswered;
use crate::time::{Interval, format_utc};
use crate::wire::{money, orders as render, plain};

/// Longest single step: one year of market time.
const MAX_STEP_MS: i64 = 366 * crate::time::DAY_MS;
/// Fastest clock: a million market seconds per wall second.
const MAX_SPEED: f64 = 1e6;

/// Serves one admin request.
pub async fn handle(
    shared: &Arc<Shared>,
    method: &str,
    path: &str,
    query: &str,
    body: &[u8],
) -> hyper::Response<Body> {
    let body = String::from_utf8_lossy(body);
    let result = match Params::parse(query, &body) {
        Ok(params) => dispatch(shared, method, path, &params).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(value) => reply::json(200, value.to_string(), &[]),
        Err(err) => reply::error(&err, &[]),
    }
}

/// Finds `symbol` on futures first, then spot.
fn any_symbol(shared: &Shared, params: &Params) -> Result<SymbolId, ApiError> {
    let name = params.required("symbol")?.to_ascii_uppercase();
    let venue = match params.get("venue") {
        Some("spot") => Some(Venue::Spot),
        Some("futures") => Some(Venue::Futures),
        _ => None,
    };
    let found = match venue {
        Some(v) => shared.catalog.find(v, &name),
        None => {
            shared.catalog.find(Venue::Futures, &name).or_else(|| shared.catalog.find(Venue::Spot, &name))
        }
    };
    found.map(|s| s.id).ok_or_else(ApiError::bad_symbol)
}

fn float(params: &Params, key: &str) -> Result<Option<f64>, ApiError> {
    params
        .get(key)
        .map(|t| t.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| ApiError::invalid_param(key)))
        .transpose()
}

fn signed_int(params: &Params, key: &str) -> Result<Option<i64>, ApiError> {
    params.get(key).map(|t| t.parse::<i64>().map_err(|_| ApiError::invalid_param(key))).transpose()
}

async fn dispatch(
    shared: &Arc<Shared>,
    method: &str,
    path: &str,
    params: &Params,
) -> Result<Value, ApiError> {
    let engine = &shared.engine;
    match (method, path.trim_end_matches('/')) {
        ("GET", "/sim/health") => Ok(json!({"ok": true})),
        ("GET", "/sim/state") => {
            let faults = serde_json::to_value(shared.faults.get()).unwrap_or(Value::Null);
            engine.call(move |ex| state_json(ex, faults)).await
        }
        ("GET", "/sim/history") => {
            let account = params.int::<usize>("account")?.unwrap_or(0);
            engine.call(move |ex| history_json(ex, account)).await?
        }
        ("POST", "/sim/step") => {
            let ms = match (params.int::<i64>("seconds")?, params.int::<i64>("bars")?) {
                (Some(seconds), _) => seconds.checked_mul(1000),
                (None, Some(bars)) => {
                    let interval = Interval::parse(params.get("interval").unwrap_or("1m"))
                        .ok_or_else(ApiError::bad_interval)?;
                    bars.checked_mul(interval.ms())
                }
                (None, None) => return Err(ApiError::mandatory("seconds")),
            };
            let ms = ms.filter(|ms| *ms <= MAX_STEP_MS).ok_or_else(|| ApiError::invalid_param("seconds"))?;
            engine
                .call(move |ex| {
                    let ticks = ex.step(ms);
                    let now = ex.engine.now();
                    json!({"marketTime": now, "marketTimeUtc": format_utc(now), "ticks": ticks})
                })
                .await
        }
        ("POST", "/sim/speed") => {
            let speed = float(params, "value")?.ok_or_else(|| ApiError::mandatory("value"))?;
            if !(0.0..=MAX_SPEED).contains(&speed) {
                return Err(ApiError::invalid_param("value"));
            }
            engine
                .call(move |ex| {
                    ex.sync();
                    ex.clock.set_speed(speed);
                    json!({"speed": speed})
                })
                .await
        }
        ("POST", "/sim/shock") | ("POST", "/sim/price") => {
            let id = any_symbol(shared, params)?;
            let shock = path.ends_with("shock");
            let (key, range) = if shock { ("pct", -99.99..=1_000.0) } else { ("price", 1e-8..=1e8) };
            let amount = if shock {
                float(params, key)?
            } else {
                params.decimal(key, 12, false)?.and_then(|p| p.to_f64())
            };
            let amount = amount.ok_or_else(|| ApiError::mandatory(key))?;
            if !range.contains(&amount) {
                return Err(ApiError::invalid_param(key));
            }
            engine
                .call(move |ex| {
                    let price = if shock {
                        ex.engine.shock(id, amount)
                    } else {
                        Decimal::from_f64_retain(amount).and_then(|p| ex.engine.set_price(id, p))
                    };
                    let price = price.ok_or_else(|| ApiError::invalid_param(if shock { "pct" } else { "price" }))?;
                    Ok(json!({"symbol": ex.engine.catalog().get(id).symbol.as_str(), "price": plain(price), "marketTime": ex.engine.now()}))
                })
                .await?
        }
        ("POST", "/sim/funding") => {
            let id = shared
                .catalog
                .find(Venue::Futures, &params.required("symbol")?.to_ascii_uppercase())
                .map(|s| s.id)
                .ok_or_else(ApiError::bad_symbol)?;
            let rate = match params.get("rate") {
                None | Some("auto") => None,
                Some(text) => Some(text.parse::<Decimal>().map_err(|_| ApiError::invalid_param("rate"))?),
            };
            engine.call(move |ex| ex.engine.set_funding_rate(id, rate)).await?;
            Ok(json!({"rate": rate.map(money)}))
        }
        ("POST", "/sim/fault") => set_faults(shared, params).await,
        ("DELETE", "/sim/fault") | ("POST", "/sim/fault/reset") => {
            shared.faults.reset();
            shared.limiter.reset();
            engine.call(|ex| ex.engine.set_partial_fills(0)).await?;
            Ok(json!({"faults": "reset"}))
        }
        ("POST", "/sim/ws/drop") => {
            shared.ws_drop.send_modify(|generation| *generation += 1);
            Ok(json!({"dropped": true}))
        }
        ("POST", "/sim/listenkeys/expire") => {
            engine.call(|ex| ex.expire_all_keys = true).await?;
            Ok(json!({"expired": true}))
        }
        _ => Err(ApiError::unknown_path(method, path)),
    }
}

async fn set_faults(shared: &Arc<Shared>, params: &Params) -> Result<Value, ApiError> {
    let error_rate = float(params, "error_rate")?;
    if error_rate.is_some_and(|r| !(0.0..=1.0).contains(&r)) {
        return Err(ApiError::invalid_param("error_rate"));
    }
    let mode = match params.get("unanswered_mode") {
        None => None,
        Some("503") => Some(Unanswered::Status503),
        Some("hang") => Some(Unanswered::Hang),
        Some(_) => return Err(ApiError::invalid_param("unanswered_mode")),
    };
    let (burst_429, burst_418, retry_after) =
        (params.int::<u32>("burst_429")?, params.int::<u32>("burst_418")?, params.int::<u64>("retry_after")?);
    let (latency, skew, unanswered, hang) = (
        params.int::<u64>("latency_ms")?,
        signed_int(params, "clock_skew_ms")?,
        params.int::<u32>("unanswered_orders")?,
        params.int::<u64>("hang_ms")?,
    );
    let partial = params.int::<u32>("partial_fills")?;
    let stall_path = params.get("stall_path").map(str::to_owned);
    let stall_method = params.get("stall_method").map(str::to_ascii_uppercase);
    let (ws_drop, expire) =
        (params.boolean("ws_drop")?.unwrap_or(false), params.boolean("expire_listen_keys")?.unwrap_or(false));
    shared.faults.update(|f| {
        if let Some(v) = error_rate {
            f.error_rate = v;
        }
        if let Some(v) = burst_429 {
            f.burst_429 = v;
        }
        if let Some(v) = burst_418 {
            f.burst_418 = v;
        }
        if let Some(v) = retry_after {
            f.retry_after = v;
        }
        if let Some(v) = latency {
            f.latency_ms = v;
        }
        if let Some(v) = skew {
            f.clock_skew_ms = v;
        }
        if let Some(v) = unanswered {
            f.unanswered_orders = v;
        }
        if let Some(v) = mode {
            f.unanswered_mode = v;
        }
        if let Some(v) = hang {
            f.hang_ms = v;
        }
        if stall_path.is_some() {
            f.stall_path = stall_path;
        }
        if stall_method.is_some() {
            f.stall_method = stall_method;
        }
    });
    if ws_drop {
        shared.ws_drop.send_modify(|generation| *generation += 1);
    }
    let partial_now = shared
        .engine
        .call(move |ex| {
            if let Some(n) = partial {
                ex.engine.set_partial_fills(n);
            }
            if expire {
                ex.expire_all_keys = true;
            }
            ex.engine.partial_fills()
        })
        .await?;
    let mut value = serde_json::to_value(shared.faults.get()).unwrap_or(Value::Null);
    if let Some(map) = value.as_object_mut() {
        map.insert("partial_fills".into(), json!(partial_now));
    }
    Ok(value)
}

/// Every stored USD-M order, algo order and fill of one account (oldest first), each fill with
/// the client id of its order, and the same for spot (`spotOrders`, `spotTrades`): what
/// end-to-end tests check an agent's journal against.
fn history_json(ex: &Exchange, account: usize) -> Result<Value, ApiError> {
    let engine = &ex.engine;
    if account >= engine.accounts().len() {
        return Err(ApiError::invalid_param("account"));
    }
    let catalog = engine.catalog();
    let book = engine.book();
    let mut orders = Vec::new();
    let mut trades = Vec::new();
    for spec in catalog.of_venue(Venue::Futures) {
        orders.extend(
            book.orders_of(account, spec.id).into_iter().map(|o| render::futures_order(catalog, o, true)),
        );
        trades.extend(book.trades_of(account, Venue::Futures, spec.id).map(|t| {
            let mut value = render::futures_trade(catalog, t);
            let client_id = book.order(t.order_id).map(|o| o.client_id.clone());
            if let Some(map) = value.as_object_mut() {
                map.insert("clientOrderId".into(), json!(client_id));
            }
            value
        }));
    }
    let mut spot_orders = Vec::new();
    let mut spot_trades = Vec::new();
    for spec in catalog.of_venue(Venue::Spot) {
        spot_orders
            .extend(book.orders_of(account, spec.id).into_iter().map(|o| render::spot_order(catalog, o)));
        spot_trades.extend(book.trades_of(account, Venue::Spot, spec.id).map(|t| {
            let mut value = render::spot_trade(catalog, t);
            let client_id = book.order(t.order_id).map(|o| o.client_id.clone());
            if let Some(map) = value.as_object_mut() {
                map.insert("clientOrderId".into(), json!(client_id));
            }
            value
        }));
    }
    let algos: Vec<Value> =
        book.algos_of(account).into_iter().map(|a| render::algo_order(catalog, a)).collect();
    Ok(json!({
        "orders": orders,
        "algoOrders": algos,
        "trades": trades,
        "spotOrders": spot_orders,
        "spotTrades": spot_trades,
    }))
}

fn state_json(ex: &Exchange, faults: Value) -> Value {
    let engine = &ex.engine;
    let catalog = engine.catalog();
    let market = engine.market();
    let prices: serde_json::Map<String, Value> = catalog
        .symbols
        .iter()
        .map(|s| {
            let key = format!("{}:{}", if s.venue == Venue::Spot { "spot" } else { "futures" }, s.symbol);
            let value = if s.venue == Venue::Futures {
                json!({"last": plain(market.last(s.id)), "mark": plain(market.mark(s.id)), "fundingRate": plain(market.funding_rate(s.id))})
            } else {
                json!({"last": plain(market.last(s.id))})
            };
            (key, value)
        })
        .collect();
    let accounts: Vec<Value> = engine
        .accounts()
        .iter()
        .enumerate()
        .map(|(index, acc)| {
            let balances: serde_json::Map<String, Value> = acc
                .spot
                .balances
                .iter()
                .map(|(asset, b)| (asset.clone(), json!({"free": plain(b.free), "locked": plain(b.locked)})))
                .collect();
            let positions: Vec<Value> = acc
                .futures
                .positions
                .iter()
                .map(|(id, p)| {
                    let config = acc.futures.config(*id);
                    json!({
                        "symbol": catalog.get(*id).symbol.as_str(),
                        "positionAmt": plain(p.amount),
                        "entryPrice": plain(p.entry),
                        "unrealizedProfit": plain(engine.upnl(index, *id).round_dp(8)),
                        "leverage": config.leverage,
                        "marginType": config.margin_type.as_lower(),
                        "isolatedWallet": plain(p.isolated_wallet),
                        "liquidationPrice": engine.liquidation_price(index, *id).map(|lp| plain(lp.round_dp(2))),
                    })
                })
                .collect();
            let open_orders: Vec<Value> = engine
                .book()
                .open_orders(index, Venue::Spot)
                .map(|o| render::spot_order(catalog, o))
                .chain(engine.book().open_orders(index, Venue::Futures).map(|o| render::futures_order(catalog, o, true)))
                .collect();
            let algos: Vec<Value> = engine.book().open_algos(index).map(|a| render::algo_order(catalog, a)).collect();
            json!({
                "name": acc.name,
                "spot": {"balances": balances},
                "futures": {
                    "walletBalance": plain(acc.futures.wallet),
                    "availableBalance": plain(engine.futures_available(index).round_dp(8)),
                    "positions": positions,
                },
                "openOrders": open_orders,
                "algoOrders": algos,
            })
        })
        .collect();
    json!({
        "clock": {
            "marketTime": engine.now(),
            "marketTimeUtc": format_utc(engine.now()),
            "lastTick": market.time_ms(),
            "speed": ex.clock.speed(),
            "tickSeconds": market.tick_ms() / 1000,
            "regime": format!("{:?}", market.regime()),
        },
        "prices": prices,
        "accounts": accounts,
        "faults": faults,
    })
}
