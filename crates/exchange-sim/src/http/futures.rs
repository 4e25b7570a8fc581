//! USD-M trading, account and listenKey endpoints (`/fapi`): order (new, test, query, cancel),
//! allOpenOrders, openOrders, openOrder, allOrders, userTrades, account v2/v3, balance v2/v3,
//! positionRisk v2/v3, leverage, marginType, positionSide/dual, multiAssetsMargin, symbolConfig,
//! income, leverageBracket, listenKey.
//!
//! Parameter rules (PROTOCOL.md §3.3): `quantity` and `price` may not carry more decimals than the
//! symbol's quantity and price precision (-1111); conditional types are refused with -4120 before
//! anything else; `newOrderRespType` ACK (default: the order as accepted, before any fill) or RESULT.

use std::sync::Arc;
use std::time::Instant;

use serde_json::{Value, json};

use super::Shared;
use super::params::Params;
use super::rest::Call;
use super::routes::Endpoint;
use super::spot::{all_orders, trades};
use crate::api_error::ApiError;
use crate::catalog::Venue;
use crate::engine::accounts::MarginType;
use crate::engine::futures::FuturesOrderRequest;
use crate::engine::types::{Order, OrderType, Status, Tif, parse_side};
use crate::wire::{accounts, market, orders as render, plain};

/// Reads a USD-M new-order request; returns it and whether the answer is RESULT (not ACK).
///
/// # Errors
/// Binance's parameter errors, -4120 for conditional types.
pub fn order_request(shared: &Shared, params: &Params) -> Result<(FuturesOrderRequest, bool), ApiError> {
    let spec = params.symbol(&shared.catalog, Venue::Futures)?;
    let order_type =
        OrderType::parse_futures(params.required("type")?).ok_or_else(ApiError::bad_order_type)?;
    if !matches!(order_type, OrderType::Limit | OrderType::Market) {
        return Err(ApiError::use_algo_api());
    }
    let side = parse_side(params.required("side")?).ok_or_else(ApiError::bad_side)?;
    let tif = params.choice("timeInForce", |t| Tif::parse(t, Venue::Futures), ApiError::bad_tif)?;
    let result = match params.get("newOrderRespType") {
        None | Some("ACK") => false,
        Some("RESULT") => true,
        Some(_) => return Err(ApiError::bad(-1136, "Invalid newOrderRespType.")),
    };
    let request = FuturesOrderRequest {
        symbol: spec.id,
        side,
        order_type,
        tif,
        qty: params.decimal("quantity", spec.qty_precision, true)?,
        price: params.decimal("price", spec.price_precision, true)?,
        reduce_only: params.boolean("reduceOnly")?.unwrap_or(false),
        position_side: params.get("positionSide").map(str::to_owned),
        client_id: params.get("newClientOrderId").map(str::to_owned),
    };
    Ok((request, result))
}

/// The order as it was accepted, before any fill (the ACK view).
fn as_accepted(order: &Order) -> Order {
    Order {
        executed: rust_decimal::Decimal::ZERO,
        cum_quote: rust_decimal::Decimal::ZERO,
        status: Status::New,
        update_time: order.time,
        ..order.clone()
    }
}

fn order_ref(params: &Params) -> Result<(Option<u64>, Option<String>), ApiError> {
    let order_id = params.int("orderId")?;
    let client = params.get("origClientOrderId").map(str::to_owned);
    if order_id.is_none() && client.is_none() {
        return Err(ApiError::mandatory("orderId"));
    }
    Ok((order_id, client))
}

/// Serves a USD-M endpoint (algo orders excepted).
///
/// # Errors
/// Binance's parameter and engine errors.
pub async fn handle(shared: &Arc<Shared>, call: &Call<'_>) -> Result<Value, ApiError> {
    let account = call.account()?;
    let params = call.params;
    let engine = &shared.engine;
    let catalog = &shared.catalog;
    match call.route.endpoint {
        Endpoint::NewOrder => {
            let (request, result) = order_request(shared, params)?;
            engine
                .call(move |ex| {
                    let placed = ex.engine.futures_place(account, request)?;
                    let order = if result { placed.order } else { as_accepted(&placed.order) };
                    Ok(render::futures_order(ex.engine.catalog(), &order, false))
                })
                .await?
        }
        Endpoint::TestOrder => order_request(shared, params).map(|_| json!({})),
        Endpoint::QueryOrder | Endpoint::OpenOrder | Endpoint::CancelOrder => {
            let symbol = params.symbol(catalog, Venue::Futures)?.id;
            let (order_id, client) = order_ref(params)?;
            let endpoint = call.route.endpoint;
            engine
                .call(move |ex| {
                    let order = if endpoint == Endpoint::CancelOrder {
                        ex.engine.cancel_order(
                            account,
                            Venue::Futures,
                            symbol,
                            order_id,
                            client.as_deref(),
                        )?
                    } else {
                        let order = ex.engine.find_order(
                            account,
                            Venue::Futures,
                            symbol,
                            order_id,
                            client.as_deref(),
                        )?;
                        if endpoint == Endpoint::OpenOrder && !ex.engine.book().is_open(order.order_id) {
                            return Err(ApiError::no_such_order());
                        }
                        order.clone()
                    };
                    Ok(render::futures_order(ex.engine.catalog(), &order, endpoint != Endpoint::CancelOrder))
                })
                .await?
        }
        Endpoint::CancelAll => {
            let symbol = params.symbol(catalog, Venue::Futures)?.id;
            engine.call(move |ex| ex.engine.cancel_all(account, Venue::Futures, symbol)).await?;
            Ok(json!({"code": 200, "msg": "The operation of cancel all open order is done."}))
        }
        Endpoint::OpenOrders => {
            let symbol = params.symbol_opt(catalog, Venue::Futures)?.map(|s| s.id);
            engine
                .call(move |ex| {
                    let rows = ex
                        .engine
                        .book()
                        .open_orders(account, Venue::Futures)
                        .filter(|o| symbol.is_none_or(|s| o.symbol == s))
                        .map(|o| render::futures_order(ex.engine.catalog(), o, true));
                    Value::Array(rows.collect())
                })
                .await
        }
        Endpoint::AllOrders => {
            all_orders(shared, account, params.symbol(catalog, Venue::Futures)?.id, params, Venue::Futures)
                .await
        }
        Endpoint::MyTrades => {
            trades(shared, account, params.symbol(catalog, Venue::Futures)?.id, params, Venue::Futures).await
        }
        Endpoint::Account | Endpoint::AccountV2 => {
            let v2 = call.route.endpoint == Endpoint::AccountV2;
            engine.call(move |ex| accounts::futures_account(&ex.engine, account, v2)).await
        }
        Endpoint::Balance => engine.call(move |ex| accounts::futures_balance(&ex.engine, account)).await,
        Endpoint::PositionRisk | Endpoint::PositionRiskV2 => {
            let v2 = call.route.endpoint == Endpoint::PositionRiskV2;
            let symbol = params.symbol_opt(catalog, Venue::Futures)?.map(|s| s.id);
            engine.call(move |ex| accounts::position_risk(&ex.engine, account, symbol, v2)).await
        }
        Endpoint::Leverage => {
            let spec = params.symbol(catalog, Venue::Futures)?;
            let (id, name) = (spec.id, spec.symbol.to_string());
            let leverage: u32 = params.int("leverage")?.ok_or_else(|| ApiError::mandatory("leverage"))?;
            let (leverage, max_notional) =
                engine.call(move |ex| ex.engine.set_leverage(account, id, leverage)).await??;
            Ok(json!({"leverage": leverage, "maxNotionalValue": plain(max_notional), "symbol": name}))
        }
        Endpoint::MarginType => {
            let id = params.symbol(catalog, Venue::Futures)?.id;
            let margin_type = MarginType::parse(params.required("marginType")?)
                .ok_or_else(|| ApiError::invalid_param("marginType"))?;
            engine.call(move |ex| ex.engine.set_margin_type(account, id, margin_type)).await??;
            Ok(json!({"code": 200, "msg": "success"}))
        }
        Endpoint::PositionSideGet => Ok(json!({"dualSidePosition": false})),
        Endpoint::PositionSideSet => match params.boolean("dualSidePosition")? {
            Some(false) => Err(ApiError::bad(-4059, "No need to change position side.")),
            Some(true) => Err(ApiError::invalid_param("dualSidePosition")),
            None => Err(ApiError::mandatory("dualSidePosition")),
        },
        Endpoint::MultiAssets => Ok(json!({"multiAssetsMargin": false})),
        Endpoint::SymbolConfig => {
            let symbol = params.symbol_opt(catalog, Venue::Futures)?.map(|s| s.id);
            engine
                .call(move |ex| {
                    let Some(acc) = ex.engine.accounts().get(account) else { return json!([]) };
                    let rows = ex.engine.catalog().of_venue(Venue::Futures).filter(|s| symbol.is_none_or(|id| id == s.id)).map(|s| {
                        let config = acc.futures.config(s.id);
                        json!({
                            "symbol": s.symbol.as_str(),
                            "marginType": if config.margin_type == MarginType::Cross { "CROSSED" } else { "ISOLATED" },
                            "isAutoAddMargin": false,
                            "leverage": config.leverage,
                            "maxNotionalValue": plain(s.max_notional(config.leverage)),
                        })
                    });
                    Value::Array(rows.collect())
                })
                .await
        }
        Endpoint::Income => {
            let symbol = params.symbol_opt(catalog, Venue::Futures)?.map(|s| s.symbol.to_string());
            let kind = params.get("incomeType").map(str::to_owned);
            let (start, end): (Option<i64>, Option<i64>) = (params.int("startTime")?, params.int("endTime")?);
            let limit: usize = params.int("limit")?.unwrap_or(100).min(1000);
            engine
                .call(move |ex| {
                    accounts::income(
                        &ex.engine,
                        account,
                        symbol.as_deref(),
                        kind.as_deref(),
                        start,
                        end,
                        limit,
                    )
                })
                .await
        }
        Endpoint::LeverageBracket => Ok(match params.symbol_opt(catalog, Venue::Futures)? {
            Some(spec) => market::leverage_bracket(spec),
            None => Value::Array(catalog.of_venue(Venue::Futures).map(market::leverage_bracket).collect()),
        }),
        Endpoint::ListenKeyCreate | Endpoint::ListenKeyKeepalive | Endpoint::ListenKeyClose => {
            listen_key(shared, call, Venue::Futures).await
        }
        _ => Err(ApiError::unknown_path("GET", call.route.path)),
    }
}

/// listenKey create (POST), keepalive (PUT) and close (DELETE), for `venue`'s user stream.
///
/// # Errors
/// -1125 on keepalive of an unknown or expired key.
pub async fn listen_key(shared: &Arc<Shared>, call: &Call<'_>, venue: Venue) -> Result<Value, ApiError> {
    let account = call.account()?;
    let key = call.params.get("listenKey").map(str::to_owned);
    let endpoint = call.route.endpoint;
    shared
        .engine
        .call(move |ex| match endpoint {
            Endpoint::ListenKeyCreate => {
                Ok(json!({"listenKey": ex.listen_keys.create(account, venue, Instant::now())}))
            }
            Endpoint::ListenKeyKeepalive => {
                let key = ex.listen_keys.keepalive(key.as_deref(), account, venue, Instant::now())?;
                Ok(if venue == Venue::Futures { json!({"listenKey": key}) } else { json!({}) })
            }
            _ => {
                ex.listen_keys.close(key.as_deref(), account, venue);
                Ok(json!({}))
            }
        })
        .await?
}
