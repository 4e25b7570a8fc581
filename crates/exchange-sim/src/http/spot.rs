//! Spot trading and account endpoints (`/api/v3`): order (new, test, query, cancel), openOrders
//! (list, cancel all), allOrders, myTrades, account, and the retired userDataStream listenKeys.
//!
//! Parameter rules (PROTOCOL.md §3.1): decimals with at most 8 decimals (-1111 beyond), `side`
//! BUY/SELL (-1117), `type` one of the spot types (-1116), `timeInForce` GTC/IOC/FOK (-1115),
//! `newOrderRespType` ACK/RESULT/FULL (MARKET and LIMIT default to FULL, the rest to ACK).

use std::sync::Arc;

use serde_json::{Value, json};

use super::Shared;
use super::params::Params;
use super::rest::Call;
use super::routes::Endpoint;
use crate::api_error::ApiError;
use crate::catalog::{SymbolId, Venue};
use crate::engine::spot::SpotOrderRequest;
use crate::engine::types::{OrderType, Tif, parse_side};
use crate::wire::orders::{self as render, RespType};

const SPOT_DECIMALS: u32 = 8;

/// Reads a spot new-order request from `params`.
///
/// # Errors
/// Binance's parameter errors.
pub fn order_request(shared: &Shared, params: &Params) -> Result<(SpotOrderRequest, RespType), ApiError> {
    let symbol = params.symbol(&shared.catalog, Venue::Spot)?.id;
    let side = parse_side(params.required("side")?).ok_or_else(ApiError::bad_side)?;
    let order_type = OrderType::parse_spot(params.required("type")?).ok_or_else(ApiError::bad_order_type)?;
    let tif = params.choice("timeInForce", |t| Tif::parse(t, Venue::Spot), ApiError::bad_tif)?;
    let resp =
        params.choice("newOrderRespType", RespType::parse, || ApiError::invalid_param("newOrderRespType"))?;
    let default_resp = if matches!(order_type, OrderType::Market | OrderType::Limit) {
        RespType::Full
    } else {
        RespType::Ack
    };
    let request = SpotOrderRequest {
        symbol,
        side,
        order_type,
        tif,
        qty: params.decimal("quantity", SPOT_DECIMALS, false)?,
        quote_qty: params.decimal("quoteOrderQty", SPOT_DECIMALS, false)?,
        price: params.decimal("price", SPOT_DECIMALS, false)?,
        stop_price: params.decimal("stopPrice", SPOT_DECIMALS, false)?,
        trailing_delta: params.int("trailingDelta")?,
        client_id: params.get("newClientOrderId").map(str::to_owned),
    };
    Ok((request, resp.unwrap_or(default_resp)))
}

fn order_ref(params: &Params) -> Result<(Option<u64>, Option<String>), ApiError> {
    let order_id = params.int("orderId")?;
    let client = params.get("origClientOrderId").map(str::to_owned);
    if order_id.is_none() && client.is_none() {
        return Err(ApiError::mandatory("orderId"));
    }
    Ok((order_id, client))
}

fn window(params: &Params) -> Result<(Option<i64>, Option<i64>, usize), ApiError> {
    let limit: usize = params.int("limit")?.unwrap_or(500);
    if limit == 0 || limit > 1000 {
        return Err(ApiError::invalid_param("limit"));
    }
    Ok((params.int("startTime")?, params.int("endTime")?, limit))
}

/// Serves a spot endpoint.
///
/// # Errors
/// Binance's parameter and engine errors.
pub async fn handle(shared: &Arc<Shared>, call: &Call<'_>) -> Result<Value, ApiError> {
    let account = call.account()?;
    let params = call.params;
    let engine = &shared.engine;
    match call.route.endpoint {
        Endpoint::NewOrder => {
            let (request, resp) = order_request(shared, params)?;
            engine
                .call(move |ex| {
                    let placed = ex.engine.spot_place(account, request)?;
                    Ok(render::spot_new_order(ex.engine.catalog(), &placed.order, &placed.fills, resp))
                })
                .await?
        }
        Endpoint::TestOrder => order_request(shared, params).map(|_| json!({})),
        Endpoint::QueryOrder => {
            let symbol = params.symbol(&shared.catalog, Venue::Spot)?.id;
            let (order_id, client) = order_ref(params)?;
            engine
                .call(move |ex| {
                    let order =
                        ex.engine.find_order(account, Venue::Spot, symbol, order_id, client.as_deref())?;
                    Ok(render::spot_order(ex.engine.catalog(), order))
                })
                .await?
        }
        Endpoint::CancelOrder => {
            let symbol = params.symbol(&shared.catalog, Venue::Spot)?.id;
            let (order_id, client) = order_ref(params)?;
            let cancel_id = params.get("newClientOrderId").map(str::to_owned);
            engine
                .call(move |ex| {
                    let order =
                        ex.engine.cancel_order(account, Venue::Spot, symbol, order_id, client.as_deref())?;
                    let cancel_id = cancel_id.unwrap_or_else(|| format!("cancel{}", order.order_id));
                    Ok(render::spot_cancel(ex.engine.catalog(), &order, &cancel_id))
                })
                .await?
        }
        Endpoint::CancelAll => {
            let symbol = params.symbol(&shared.catalog, Venue::Spot)?.id;
            engine
                .call(move |ex| {
                    let cancelled = ex.engine.cancel_all(account, Venue::Spot, symbol);
                    if cancelled.is_empty() {
                        return Err(ApiError::cancel_unknown());
                    }
                    let catalog = ex.engine.catalog().clone();
                    Ok(Value::Array(
                        cancelled
                            .iter()
                            .map(|o| render::spot_cancel(&catalog, o, &format!("cancel{}", o.order_id)))
                            .collect(),
                    ))
                })
                .await?
        }
        Endpoint::OpenOrders => {
            let symbol = params.symbol_opt(&shared.catalog, Venue::Spot)?.map(|s| s.id);
            engine
                .call(move |ex| {
                    let rows = ex
                        .engine
                        .book()
                        .open_orders(account, Venue::Spot)
                        .filter(|o| symbol.is_none_or(|s| o.symbol == s))
                        .map(|o| render::spot_order(ex.engine.catalog(), o));
                    Value::Array(rows.collect())
                })
                .await
        }
        Endpoint::AllOrders => {
            let symbol = params.symbol(&shared.catalog, Venue::Spot)?.id;
            all_orders(shared, account, symbol, params, Venue::Spot).await
        }
        Endpoint::MyTrades => {
            let symbol = params.symbol(&shared.catalog, Venue::Spot)?.id;
            trades(shared, account, symbol, params, Venue::Spot).await
        }
        Endpoint::Account => {
            let omit_zero = params.boolean("omitZeroBalances")?.unwrap_or(false);
            engine.call(move |ex| crate::wire::accounts::spot_account(&ex.engine, account, omit_zero)).await
        }
        Endpoint::ListenKeyCreate | Endpoint::ListenKeyKeepalive | Endpoint::ListenKeyClose => {
            super::futures::listen_key(shared, call, Venue::Spot).await
        }
        _ => Err(ApiError::unknown_path("GET", call.route.path)),
    }
}

/// `allOrders` of either product: orders of `symbol`, filtered by `orderId` (at or after),
/// `startTime`, `endTime`, at most `limit`.
///
/// # Errors
/// Parameter errors; 503 if the engine has stopped.
pub async fn all_orders(
    shared: &Arc<Shared>,
    account: usize,
    symbol: SymbolId,
    params: &Params,
    venue: Venue,
) -> Result<Value, ApiError> {
    let (start, end, limit) = window(params)?;
    let from_id: Option<u64> = params.int("orderId")?;
    shared
        .engine
        .call(move |ex| {
            let catalog = ex.engine.catalog();
            let rows: Vec<Value> = ex
                .engine
                .book()
                .orders_of(account, symbol)
                .into_iter()
                .filter(|o| o.venue == venue && from_id.is_none_or(|id| o.order_id >= id))
                .filter(|o| start.is_none_or(|s| o.time >= s) && end.is_none_or(|e| o.time <= e))
                .map(|o| {
                    if venue == Venue::Spot {
                        render::spot_order(catalog, o)
                    } else {
                        render::futures_order(catalog, o, true)
                    }
                })
                .collect();
            let skip =
                if from_id.is_some() || start.is_some() { 0 } else { rows.len().saturating_sub(limit) };
            Value::Array(rows.into_iter().skip(skip).take(limit).collect())
        })
        .await
}

/// `myTrades` / `userTrades` of either product.
///
/// # Errors
/// Parameter errors; 503 if the engine has stopped.
pub async fn trades(
    shared: &Arc<Shared>,
    account: usize,
    symbol: SymbolId,
    params: &Params,
    venue: Venue,
) -> Result<Value, ApiError> {
    let (start, end, limit) = window(params)?;
    let (order_id, from_id): (Option<u64>, Option<u64>) = (params.int("orderId")?, params.int("fromId")?);
    shared
        .engine
        .call(move |ex| {
            let catalog = ex.engine.catalog();
            let rows: Vec<Value> = ex
                .engine
                .book()
                .trades_of(account, venue, symbol)
                .filter(|t| order_id.is_none_or(|id| t.order_id == id) && from_id.is_none_or(|id| t.id >= id))
                .filter(|t| start.is_none_or(|s| t.time >= s) && end.is_none_or(|e| t.time <= e))
                .map(|t| {
                    if venue == Venue::Spot {
                        render::spot_trade(catalog, t)
                    } else {
                        render::futures_trade(catalog, t)
                    }
                })
                .collect();
            let skip =
                if from_id.is_some() || start.is_some() { 0 } else { rows.len().saturating_sub(limit) };
            Value::Array(rows.into_iter().skip(skip).take(limit).collect())
        })
        .await
}
