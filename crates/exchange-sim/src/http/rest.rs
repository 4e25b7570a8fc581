//! The REST pipeline, in Binance's order: route (-5000 / 404 for unknown paths), injected faults
//! (429/418 bursts, random 503, latency), request weight (429 then 418), parameters (query beats
//! body), authentication (§1), order-rate limits, then the endpoint; every answer carries
//! `X-MBX-USED-WEIGHT-1M`, successful orders also `X-MBX-ORDER-COUNT-10S` and `-1M`. An order hit by
//! the unanswered-order fault is placed for real and then answered with 503 "Unknown error..." or
//! not at all (the connection is closed after the hang time); a request hit by the stall fault is
//! not executed at all and not answered either (lost on the way).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::{HeaderMap, Response};
use serde_json::{Value, json};

use super::Shared;
use super::params::Params;
use super::reply::{self, Body};
use super::routes::{self, Endpoint, Route, Security};
use super::{algo, auth, futures, market_data, spot};
use crate::api_error::ApiError;
use crate::catalog::Venue;
use crate::faults::{Unanswered, Verdict};

/// A request that is deliberately left without an answer (unanswered-order fault, hang mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("request deliberately left unanswered")]
pub struct Hung;

/// One decoded REST request.
#[derive(Debug)]
pub struct Call<'a> {
    /// The route.
    pub route: &'static Route,
    /// Decoded parameters.
    pub params: &'a Params,
    /// The authenticated account, for ApiKey and Signed routes.
    pub account: Option<usize>,
}

impl Call<'_> {
    /// The account of an authenticated route.
    ///
    /// # Errors
    /// -2015 if the route was not authenticated (cannot happen for ApiKey and Signed routes).
    pub fn account(&self) -> Result<usize, ApiError> {
        self.account.ok_or_else(ApiError::rejected_api_key)
    }
}

/// The weight of a call whose weight depends on its parameters.
fn weight(route: &Route, params: &Params) -> u64 {
    let all = !params.has("symbol");
    match (route.venue, route.endpoint) {
        (Venue::Spot, Endpoint::TickerPrice | Endpoint::BookTicker) if all => 4,
        (Venue::Spot, Endpoint::Ticker24h) if all => 80,
        (Venue::Spot, Endpoint::OpenOrders) if all => 80,
        (Venue::Futures, Endpoint::OpenOrders | Endpoint::AlgoOpen) if all => 40,
        (Venue::Futures, Endpoint::PremiumIndex | Endpoint::Ticker24h) if all => 10,
        (Venue::Futures, Endpoint::TickerPrice | Endpoint::BookTicker) if all => 2,
        (Venue::Futures, Endpoint::Klines) => {
            match params.get("limit").and_then(|l| l.parse::<u64>().ok()).unwrap_or(500) {
                0..100 => 1,
                100..500 => 2,
                500..=1000 => 5,
                _ => 10,
            }
        }
        _ => route.weight,
    }
}

fn error_with(err: &ApiError, used: u64) -> Response<Body> {
    reply::error(err, &[("x-mbx-used-weight-1m", used.to_string())])
}

/// Serves one REST request.
///
/// # Errors
/// [`Hung`] when the unanswered-order fault says not to answer.
pub async fn handle(
    shared: &Arc<Shared>,
    method: &str,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response<Body>, Hung> {
    let now = shared.wall_ms();
    let route = match routes::find(method, path) {
        Ok(route) => route,
        Err(err) => return Ok(error_with(&err, 0)),
    };
    if let Some(hold_ms) = shared.faults.stall_ms(method, path) {
        hold(shared, hold_ms).await;
        return Err(Hung);
    }
    let latency = shared.faults.latency_ms();
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let used_before = shared.limiter.used(route.venue, now);
    match shared.faults.verdict() {
        Verdict::TooMany(retry) => {
            let err = ApiError {
                retry_after: Some(retry),
                ..ApiError::too_many_requests(shared.limits.spot_weight_per_minute, retry)
            };
            return Ok(error_with(&err, used_before));
        }
        Verdict::Banned(retry) => {
            return Ok(error_with(
                &ApiError::banned(now + 1000 * i64::try_from(retry).unwrap_or(1), retry),
                used_before,
            ));
        }
        Verdict::Unavailable => return Ok(error_with(&ApiError::service_unavailable(), used_before)),
        Verdict::Pass => {}
    }
    let body_text = String::from_utf8_lossy(&body);
    let params = match Params::parse(query, &body_text) {
        Ok(params) => params,
        Err(err) => return Ok(error_with(&err, used_before)),
    };
    let used = match shared.limiter.admit(route.venue, weight(route, &params), now) {
        Ok(used) => used,
        Err(err) => return Ok(error_with(&err, used_before)),
    };
    let weight_header = ("x-mbx-used-weight-1m", used.to_string());
    let account = match authenticate(shared, route, headers, query, &body_text, &params, now) {
        Ok(account) => account,
        Err(err) => return Ok(reply::error(&err, &[weight_header])),
    };
    let mut extra = vec![weight_header];
    let mut unanswered = None;
    if route.endpoint.places_order() {
        let (ten, minute) = match shared.limiter.admit_order(account.unwrap_or(0), now) {
            Ok(counts) => counts,
            Err(err) => return Ok(reply::error(&err, &extra)),
        };
        extra.push(("x-mbx-order-count-10s", ten.to_string()));
        extra.push(("x-mbx-order-count-1m", minute.to_string()));
        unanswered = shared.faults.take_unanswered();
    }
    let call = Call { route, params: &params, account };
    let result = dispatch(shared, &call).await;
    match unanswered {
        Some((Unanswered::Status503, _)) => Ok(reply::error(&ApiError::unknown_outcome(), &extra[..1])),
        Some((Unanswered::Hang, hang_ms)) => {
            hold(shared, hang_ms).await;
            Err(Hung)
        }
        None => Ok(match result {
            Ok(value) => reply::json(200, value.to_string(), &extra),
            Err(err) => reply::error(&err, &extra[..1]),
        }),
    }
}

/// Holds a request for `ms` (or until shutdown) before its connection is closed unanswered.
async fn hold(shared: &Shared, ms: u64) {
    tokio::select! {
        () = tokio::time::sleep(Duration::from_millis(ms)) => {}
        () = shared.shutdown.cancelled() => {}
    }
}

fn authenticate(
    shared: &Shared,
    route: &Route,
    headers: &HeaderMap,
    query: &str,
    body: &str,
    params: &Params,
    now: i64,
) -> Result<Option<usize>, ApiError> {
    if route.security == Security::None {
        return Ok(None);
    }
    let header = headers.get("x-mbx-apikey").and_then(|v| v.to_str().ok());
    let key = auth::api_key(&shared.keys, header)?;
    if route.security == Security::Signed {
        auth::check_signed(key, query, body, params, now)?;
    }
    Ok(Some(key.account))
}

async fn dispatch(shared: &Arc<Shared>, call: &Call<'_>) -> Result<Value, ApiError> {
    use Endpoint::*;
    match call.route.endpoint {
        Ping => Ok(json!({})),
        Time => Ok(json!({ "serverTime": shared.wall_ms() })),
        ExchangeInfo | Klines | TickerPrice | Ticker24h | BookTicker | Depth | AvgPrice | PremiumIndex
        | FundingRate | FundingInfo => market_data::handle(shared, call).await,
        AlgoNew | AlgoQuery | AlgoCancel | AlgoOpen | AlgoAll | AlgoCancelAll => {
            algo::handle(shared, call).await
        }
        _ if call.route.venue == Venue::Spot => spot::handle(shared, call).await,
        _ => futures::handle(shared, call).await,
    }
}
