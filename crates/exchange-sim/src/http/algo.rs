//! USD-M algo order endpoints: `POST/GET/DELETE /fapi/v1/algoOrder`, `GET /fapi/v1/openAlgoOrders`,
//! `GET /fapi/v1/allAlgoOrders`, `DELETE /fapi/v1/algoOpenOrders` (PROTOCOL.md §3.3).
//!
//! `algoType` must be `CONDITIONAL` (-1130 otherwise); `triggerPrice` replaces the old
//! `stopPrice` and `activatePrice` the old `activationPrice` (sending only the old names is a
//! missing parameter); `callbackRate` takes at most two decimals.

use std::sync::Arc;

use serde_json::{Value, json};

use super::Shared;
use super::params::Params;
use super::rest::Call;
use super::routes::Endpoint;
use crate::api_error::ApiError;
use crate::catalog::Venue;
use crate::engine::algo::AlgoRequest;
use crate::engine::types::{OrderType, Tif, WorkingType, parse_side};
use crate::wire::orders as render;

fn algo_request(shared: &Shared, params: &Params) -> Result<AlgoRequest, ApiError> {
    match params.required("algoType")? {
        "CONDITIONAL" => {}
        _ => return Err(ApiError::invalid_param("algoType")),
    }
    let spec = params.symbol(&shared.catalog, Venue::Futures)?;
    let side = parse_side(params.required("side")?).ok_or_else(ApiError::bad_side)?;
    let order_type =
        OrderType::parse_futures(params.required("type")?).ok_or_else(ApiError::bad_order_type)?;
    let working_type = params.choice(
        "workingType",
        |w| match w {
            "CONTRACT_PRICE" => Some(WorkingType::ContractPrice),
            "MARK_PRICE" => Some(WorkingType::MarkPrice),
            _ => None,
        },
        || ApiError::bad(-4031, "Invalid parameter working type"),
    )?;
    let price_decimals = spec.price_precision;
    Ok(AlgoRequest {
        symbol: spec.id,
        side,
        order_type,
        tif: params.choice("timeInForce", |t| Tif::parse(t, Venue::Futures), ApiError::bad_tif)?,
        qty: params.decimal("quantity", spec.qty_precision, true)?,
        price: params.decimal("price", price_decimals, true)?,
        trigger_price: params.decimal("triggerPrice", price_decimals, true)?,
        working_type: working_type.unwrap_or(WorkingType::ContractPrice),
        close_position: params.boolean("closePosition")?.unwrap_or(false),
        reduce_only: params.boolean("reduceOnly")?.unwrap_or(false),
        price_protect: params.boolean("priceProtect")?.unwrap_or(false),
        activate_price: params.decimal("activatePrice", price_decimals, true)?,
        callback_rate: params.decimal("callbackRate", 2, true)?,
        position_side: params.get("positionSide").map(str::to_owned),
        client_algo_id: params.get("clientAlgoId").map(str::to_owned),
    })
}

/// Serves an algo endpoint.
///
/// # Errors
/// Binance's parameter and engine errors.
pub async fn handle(shared: &Arc<Shared>, call: &Call<'_>) -> Result<Value, ApiError> {
    let account = call.account()?;
    let params = call.params;
    let engine = &shared.engine;
    match call.route.endpoint {
        Endpoint::AlgoNew => {
            let request = algo_request(shared, params)?;
            engine
                .call(move |ex| {
                    ex.engine
                        .algo_place(account, request)
                        .map(|a| render::algo_order(ex.engine.catalog(), &a))
                })
                .await?
        }
        Endpoint::AlgoQuery | Endpoint::AlgoCancel => {
            let algo_id: Option<u64> = params.int("algoId")?;
            let client = params.get("clientAlgoId").map(str::to_owned);
            let cancel = call.route.endpoint == Endpoint::AlgoCancel;
            engine
                .call(move |ex| {
                    if cancel {
                        let algo = ex.engine.algo_cancel(account, algo_id, client.as_deref())?;
                        return Ok(json!({"algoId": algo.algo_id, "clientAlgoId": algo.client_algo_id, "code": "200", "msg": "success"}));
                    }
                    let algo = ex.engine.algo_find(account, algo_id, client.as_deref())?;
                    Ok(render::algo_order(ex.engine.catalog(), algo))
                })
                .await?
        }
        Endpoint::AlgoOpen | Endpoint::AlgoAll => {
            let symbol = params.symbol_opt(&shared.catalog, Venue::Futures)?.map(|s| s.id);
            let open_only = call.route.endpoint == Endpoint::AlgoOpen;
            let limit: usize = params.int("limit")?.unwrap_or(500).min(1000);
            engine
                .call(move |ex| {
                    let catalog = ex.engine.catalog();
                    let book = ex.engine.book();
                    let rows: Vec<Value> = if open_only {
                        book.open_algos(account)
                            .filter(|a| symbol.is_none_or(|s| a.symbol == s))
                            .map(|a| render::algo_order(catalog, a))
                            .collect()
                    } else {
                        book.algos_of(account)
                            .into_iter()
                            .filter(|a| symbol.is_none_or(|s| a.symbol == s))
                            .map(|a| render::algo_order(catalog, a))
                            .collect()
                    };
                    let skip = rows.len().saturating_sub(limit);
                    Value::Array(rows.into_iter().skip(skip).collect())
                })
                .await
        }
        Endpoint::AlgoCancelAll => {
            let symbol = params.symbol(&shared.catalog, Venue::Futures)?.id;
            engine.call(move |ex| ex.engine.algo_cancel_all(account, symbol)).await?;
            Ok(json!({"code": 200, "msg": "The operation of cancel all open order is done."}))
        }
        _ => Err(ApiError::unknown_path("GET", call.route.path)),
    }
}
