//! The REST side of the Binance clients against a loopback mock over real sockets: rate limits
//! (429, 418), clock skew (-1021), signing, order rounding and checking, the algo order API, and
//! the resolution of orders whose outcome is unknown (never re-sent blind).

#![cfg(feature = "net")]
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use exchange_core::binance::{BinanceSpot, BinanceSpotConfig, BinanceUsdm, BinanceUsdmConfig, ResolvePolicy};
use exchange_core::model::{
    AgentTag, ClientOrderId, OrderKind, OrderPurpose, OrderRequest, OrderStatus, Price, Qty, Side, Symbol,
    TimeInForce,
};
use exchange_core::signing::binance::strip_signature;
use exchange_core::signing::{ApiCredentials, Secret, verify_hmac_sha256_hex};
use exchange_core::venue::{Endpoints, Execution, KlineInterval, KlineQuery, MarketData, VenueError};
use rust_decimal_macros::dec;
use support::{MockHttp, Recorded, Reply, now_ms};

const KEY: &str = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83";
const SECRET: &str = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";

const EXCHANGE_INFO: &str = r#"{"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":2400}],
 "symbols":[{"symbol":"BTCUSDT","status":"TRADING","contractType":"PERPETUAL","filters":[
  {"filterType":"PRICE_FILTER","minPrice":"556.80","maxPrice":"4529764","tickSize":"0.10"},
  {"filterType":"LOT_SIZE","minQty":"0.001","maxQty":"1000","stepSize":"0.001"},
  {"filterType":"MARKET_LOT_SIZE","minQty":"0.001","maxQty":"120","stepSize":"0.001"},
  {"filterType":"MIN_NOTIONAL","notional":"100"}]}]}"#;

fn credentials() -> ApiCredentials {
    ApiCredentials::new(KEY.to_owned(), Secret::new(SECRET.to_owned()))
}

fn fast_resolve() -> ResolvePolicy {
    ResolvePolicy {
        first_delay: Duration::from_millis(20),
        interval: Duration::from_millis(20),
        max_queries: 3,
        not_found_confirmations: 2,
    }
}

fn usdm(mock: &MockHttp) -> BinanceUsdm {
    let mut config =
        BinanceUsdmConfig::new(Endpoints::sim(&mock.base, "ws://127.0.0.1:9"), Some(credentials()));
    config.http.timeout = Duration::from_millis(500);
    config.http.retry_base = Duration::from_millis(10);
    config.resolve = fast_resolve();
    BinanceUsdm::new(config).unwrap()
}

/// Answers the time and exchangeInfo endpoints.
fn common(r: &Recorded) -> Option<Reply> {
    match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/fapi/v1/time" | "/api/v3/time") => {
            Some(Reply::ok(format!(r#"{{"serverTime":{}}}"#, now_ms())))
        }
        ("GET", "/fapi/v1/exchangeInfo" | "/api/v3/exchangeInfo") => Some(Reply::ok(EXCHANGE_INFO)),
        _ => None,
    }
}

fn order_json(client_order_id: &str, status: &str, executed: &str) -> String {
    format!(
        r#"{{"orderId":77,"symbol":"BTCUSDT","status":"{status}","clientOrderId":"{client_order_id}","price":"30000.1",
        "avgPrice":"30000.1","origQty":"0.010","executedQty":"{executed}","type":"LIMIT","side":"BUY","updateTime":1700000000000}}"#
    )
}

fn id(seq: u64) -> ClientOrderId {
    ClientOrderId::generate(AgentTag::Futures, OrderPurpose::Entry, 1_764_226_800_000, seq)
}

fn limit_buy(seq: u64) -> OrderRequest {
    OrderRequest {
        client_order_id: id(seq),
        symbol: Symbol::new("BTCUSDT").unwrap(),
        side: Side::Buy,
        kind: OrderKind::Limit { price: Price::new(dec!(30000.14)), time_in_force: TimeInForce::Gtc },
        qty: Qty::new(dec!(0.0109)),
        reduce_only: false,
        close_position: false,
    }
}

fn not_found() -> Reply {
    Reply::status(400, r#"{"code":-2013,"msg":"Order does not exist."}"#)
}

#[tokio::test]
async fn unknown_503_on_post_is_resolved_by_query_and_the_order_is_not_sent_twice() {
    let mock = MockHttp::start(|r, _| {
        common(r).unwrap_or_else(|| match (r.method.as_str(), r.path.as_str()) {
            ("POST", "/fapi/v1/order") => Reply::status(
                503,
                r#"{"code":-1000,"msg":"Unknown error, please check your request or try again later."}"#,
            ),
            ("GET", "/fapi/v1/order") => {
                Reply::ok(order_json(&r.param("origClientOrderId").unwrap(), "FILLED", "0.010"))
            }
            _ => Reply::status(404, ""),
        })
    })
    .await;
    let ack = usdm(&mock).place(&limit_buy(1)).await.unwrap();
    assert!(ack.recovered);
    assert_eq!((ack.order.status, ack.order.filled_qty.get()), (OrderStatus::Filled, dec!(0.010)));
    assert_eq!(ack.order.client_order_id, id(1));
    let posts = mock.requests_to("POST", "/fapi/v1/order");
    assert_eq!(posts.len(), 1, "the order was sent once");
    assert_eq!(posts[0].param("price").as_deref(), Some("30000.1"), "limit buy rounded down to the tick");
    assert_eq!(posts[0].param("quantity").as_deref(), Some("0.01"), "quantity floored to the step");
    let query = &mock.requests_to("GET", "/fapi/v1/order")[0];
    assert_eq!(query.param("origClientOrderId"), Some(id(1).to_string()));
}

#[tokio::test]
async fn timeout_on_post_then_not_found_means_never_accepted() {
    let mock = MockHttp::start(|r, _| {
        common(r).unwrap_or_else(|| match (r.method.as_str(), r.path.as_str()) {
            ("POST", "/fapi/v1/order") => {
                Reply::ok(order_json("late", "NEW", "0")).delayed(Duration::from_secs(3))
            }
            ("GET", "/fapi/v1/order") => not_found(),
            _ => Reply::status(404, ""),
        })
    })
    .await;
    let error = usdm(&mock).place(&limit_buy(2)).await.unwrap_err();
    match &error {
        VenueError::NeverAccepted { client_order_id, .. } => assert_eq!(client_order_id, id(2).as_str()),
        other => panic!("expected NeverAccepted, got {other:?}"),
    }
    assert!(error.to_string().contains("never accepted"), "{error}");
    assert!(error.is_retryable());
    assert_eq!(mock.requests_to("POST", "/fapi/v1/order").len(), 1, "never re-sent blind");
    assert_eq!(mock.requests_to("GET", "/fapi/v1/order").len(), 2, "not found confirmed twice");
}

#[tokio::test]
async fn unknown_outcome_stays_unknown_when_the_query_fails_too() {
    let mock = MockHttp::start(|r, _| {
        common(r).unwrap_or_else(|| match (r.method.as_str(), r.path.as_str()) {
            ("POST", "/fapi/v1/order") => Reply::status(
                400,
                r#"{"code":-1007,"msg":"Timeout waiting for response from backend server."}"#,
            ),
            ("GET", "/fapi/v1/order") => Reply::status(503, r#"{"code":-1000,"msg":"Service Unavailable."}"#),
            _ => Reply::status(404, ""),
        })
    })
    .await;
    let error = usdm(&mock).place(&limit_buy(3)).await.unwrap_err();
    assert!(error.is_unknown_outcome(), "{error:?}");
    assert!(!error.is_retryable());
    assert_eq!(mock.requests_to("POST", "/fapi/v1/order").len(), 1);
}

#[tokio::test]
async fn conditional_orders_go_to_the_algo_api() {
    let mock = MockHttp::start(|r, _| {
        common(r).unwrap_or_else(|| match (r.method.as_str(), r.path.as_str()) {
            ("POST", "/fapi/v1/algoOrder") => Reply::ok(
                support::fixture("usdm/algo_order_new.json")
                    .replace("6B2I9XVcJpCjqPAJ4YoFX7", &r.param("clientAlgoId").unwrap())
                    .replace("BNBUSDT", "BTCUSDT"),
            ),
            _ => Reply::status(404, ""),
        })
    })
    .await;
    let order = OrderRequest {
        client_order_id: ClientOrderId::generate(AgentTag::Futures, OrderPurpose::StopLoss, 1, 9),
        kind: OrderKind::StopMarket { trigger: Price::new(dec!(29000.04)) },
        side: Side::Sell,
        reduce_only: true,
        ..limit_buy(0)
    };
    let ack = usdm(&mock).place(&order).await.unwrap();
    assert_eq!(
        (ack.order.status, ack.order.client_order_id.clone()),
        (OrderStatus::New, order.client_order_id.clone())
    );
    assert!(mock.requests_to("POST", "/fapi/v1/order").is_empty(), "never the plain order endpoint (-4120)");
    let sent = &mock.requests_to("POST", "/fapi/v1/algoOrder")[0];
    let params =
        ["algoType", "type", "triggerPrice", "reduceOnly", "workingType", "quantity"].map(|p| sent.param(p));
    let want =
        ["CONDITIONAL", "STOP_MARKET", "29000", "true", "MARK_PRICE", "0.01"].map(|v| Some(v.to_owned()));
    assert_eq!(params, want);
    assert_eq!(sent.param("clientAlgoId"), Some(order.client_order_id.to_string()));
}

#[tokio::test]
async fn an_order_breaking_a_filter_is_refused_and_never_sent() {
    let mock = MockHttp::start(|r, _| common(r).unwrap_or_else(|| Reply::status(500, ""))).await;
    let client = usdm(&mock);
    let small = OrderRequest { qty: Qty::new(dec!(0.0009)), ..limit_buy(4) };
    let cheap = OrderRequest { qty: Qty::new(dec!(0.003)), ..limit_buy(5) };
    for (order, filter) in [(small, "LOT_SIZE"), (cheap, "MIN_NOTIONAL")] {
        match client.place(&order).await {
            Err(VenueError::InvalidOrder { filter: got, .. }) => assert_eq!(got, filter),
            other => panic!("{order:?}: {other:?}"),
        }
    }
    assert!(mock.requests_to("POST", "/fapi/v1/order").is_empty());
}

#[tokio::test]
async fn rate_limit_429_obeys_retry_after_then_succeeds() {
    let mock = MockHttp::start(|r, n| match r.path.as_str() {
        "/fapi/v1/klines" if n == 0 => {
            Reply::status(429, r#"{"code":-1003,"msg":"Too many requests."}"#).header("Retry-After", "1")
        }
        "/fapi/v1/klines" => {
            Reply::ok(support::fixture("usdm/klines.json")).header("X-MBX-USED-WEIGHT-1M", "12")
        }
        _ => Reply::status(404, ""),
    })
    .await;
    let client = usdm(&mock);
    let symbol = Symbol::new("BTCUSDT").unwrap();
    let query = KlineQuery::latest(KlineInterval::H1, 10);
    let retry_after = match client.klines(&symbol, query).await {
        Err(VenueError::RateLimited { retry_after }) => retry_after,
        other => panic!("{other:?}"),
    };
    assert!(retry_after > Duration::ZERO && retry_after <= Duration::from_secs(1), "{retry_after:?}");
    assert!(matches!(client.klines(&symbol, query).await, Err(VenueError::RateLimited { .. })));
    assert_eq!(mock.requests().len(), 1, "nothing is sent while rate limited");
    tokio::time::sleep(retry_after + Duration::from_millis(20)).await;
    let bars = client.klines(&symbol, query).await.unwrap();
    assert_eq!(bars[0].open_time_ms, 1_499_040_000_000);
    assert_eq!(mock.requests().len(), 2);
}

#[tokio::test]
async fn ban_418_stops_all_requests() {
    let mock = MockHttp::start(|_, _| {
        Reply::status(418, r#"{"code":-1003,"msg":"Way too many requests; IP banned."}"#)
            .header("Retry-After", "120")
    })
    .await;
    let client = usdm(&mock);
    let symbol = Symbol::new("BTCUSDT").unwrap();
    match client.last_price(&symbol).await {
        Err(VenueError::Banned { retry_after }) => {
            assert!(retry_after > Duration::from_secs(110), "{retry_after:?}")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        client.klines(&symbol, KlineQuery::latest(KlineInterval::H1, 5)).await,
        Err(VenueError::Banned { .. })
    ));
    assert!(matches!(client.positions().await, Err(VenueError::Banned { .. })), "signed requests too");
    assert!(matches!(client.place(&limit_buy(6)).await, Err(VenueError::Banned { .. })), "orders too");
    assert_eq!(mock.requests().len(), 1, "only the request that got the 418 reached the server");
}

#[tokio::test]
async fn timestamp_refused_resyncs_the_clock_and_retries_once() {
    let skew = Arc::new(AtomicI64::new(0));
    let always_refuse = Arc::new(AtomicBool::new(false));
    let (s, refuse) = (skew.clone(), always_refuse.clone());
    let mock = MockHttp::start(move |r, _| {
        let server_now = now_ms() + s.load(Ordering::SeqCst);
        match r.path.as_str() {
            "/fapi/v1/time" => Reply::ok(format!(r#"{{"serverTime":{server_now}}}"#)),
            "/fapi/v2/positionRisk" => {
                let ts: i64 = r.param("timestamp").unwrap().parse().unwrap();
                let in_window = ts < server_now + 1000 && server_now - ts <= 5000;
                if in_window && !refuse.load(Ordering::SeqCst) {
                    Reply::ok("[]")
                } else {
                    Reply::status(
                        400,
                        r#"{"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}"#,
                    )
                }
            }
            _ => Reply::status(404, ""),
        }
    })
    .await;
    let client = usdm(&mock);
    assert!(client.positions().await.unwrap().is_empty());
    skew.store(10_000, Ordering::SeqCst);
    assert!(client.positions().await.unwrap().is_empty(), "resynced and retried");
    assert_eq!(mock.requests_to("GET", "/fapi/v1/time").len(), 2);
    let risk = mock.requests_to("GET", "/fapi/v2/positionRisk");
    assert_eq!(risk.len(), 3);
    let last_ts: i64 = risk[2].param("timestamp").unwrap().parse().unwrap();
    assert!((last_ts - (now_ms() + 10_000)).abs() < 1_000, "the retry used the new offset");

    always_refuse.store(true, Ordering::SeqCst);
    assert!(matches!(client.positions().await, Err(VenueError::ClockSkew { .. })));
    assert_eq!(mock.requests_to("GET", "/fapi/v2/positionRisk").len(), 5, "exactly one retry");
}

#[tokio::test]
async fn signed_requests_carry_the_key_and_put_the_signature_last_over_the_bytes_sent() {
    let mock = MockHttp::start(|r, _| common(r).unwrap_or_else(|| Reply::ok("[]"))).await;
    let client = usdm(&mock);
    client.open_orders(Some(&Symbol::new("BTCUSDT").unwrap())).await.unwrap();
    let request = &mock.requests_to("GET", "/fapi/v1/openOrders")[0];
    assert_eq!(request.api_key.as_deref(), Some(KEY));
    let (signed, signature) = strip_signature(&request.query).expect("signature is the last parameter");
    assert!(signed.starts_with("symbol=BTCUSDT&recvWindow=5000&timestamp="), "{signed}");
    assert!(verify_hmac_sha256_hex(&Secret::new(SECRET.to_owned()), signed.as_bytes(), signature));
    let public = &mock.requests_to("GET", "/fapi/v1/time")[0];
    assert_eq!(
        (public.api_key.as_deref(), public.query.as_str()),
        (None, ""),
        "public requests carry nothing"
    );
}

#[tokio::test]
async fn spot_unknown_outcome_is_resolved_by_query() {
    let mock = MockHttp::start(|r, _| {
        common(r).unwrap_or_else(|| match (r.method.as_str(), r.path.as_str()) {
            ("POST", "/api/v3/order") => Reply::status(502, "<html>Bad Gateway</html>"),
            ("GET", "/api/v3/order") => Reply::ok(
                support::fixture("spot/order_query.json")
                    .replace("myOrder1", &r.param("origClientOrderId").unwrap())
                    .replace("LTCBTC", "BTCUSDT"),
            ),
            _ => Reply::status(404, ""),
        })
    })
    .await;
    let mut config =
        BinanceSpotConfig::new(Endpoints::sim(&mock.base, "ws://127.0.0.1:9"), Some(credentials()));
    config.resolve = fast_resolve();
    let spot = BinanceSpot::new(config).unwrap();
    let ack = spot.place(&limit_buy(7)).await.unwrap();
    assert!(ack.recovered);
    assert_eq!((ack.order.status, ack.order.client_order_id.clone()), (OrderStatus::New, id(7)));
    assert_eq!(mock.requests_to("POST", "/api/v3/order").len(), 1);
}

#[tokio::test]
async fn open_orders_list_plain_and_algo_orders_and_skip_ids_the_model_cannot_hold() {
    let mock = MockHttp::start(|r, _| {
        common(r).unwrap_or_else(|| match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/fapi/v1/openOrders") => Reply::ok(format!(
                "[{},{}]",
                order_json(id(8).as_str(), "NEW", "0"),
                order_json("ios:123", "NEW", "0")
            )),
            ("GET", "/fapi/v1/openAlgoOrders") => Reply::ok(support::fixture("usdm/open_algo_orders.json")),
            ("DELETE", "/fapi/v1/algoOrder") => Reply::ok(support::fixture("usdm/algo_cancel.json")),
            ("GET", "/fapi/v1/algoOrder") => Reply::ok(
                support::fixture("usdm/algo_order_query.json")
                    .replace("6B2I9XVcJpCjqPAJ4YoFX7", &r.param("clientAlgoId").unwrap()),
            ),
            _ => Reply::status(404, ""),
        })
    })
    .await;
    let client = usdm(&mock);
    let orders = client.open_orders(None).await.unwrap();
    let ids: Vec<&str> = orders.iter().map(|o| o.client_order_id.as_str()).collect();
    assert_eq!(ids, [id(8).as_str(), "MRumok0dkhrP4kCm12AHaB"]);

    let stop = ClientOrderId::generate(AgentTag::Futures, OrderPurpose::StopLoss, 1, 2);
    let cancelled = client.cancel(&Symbol::new("BNBUSDT").unwrap(), &stop).await.unwrap();
    assert_eq!((cancelled.status, cancelled.client_order_id), (OrderStatus::Canceled, stop.clone()));
    assert!(mock.requests_to("DELETE", "/fapi/v1/order").is_empty(), "our stop ids go to the algo API first");
    assert_eq!(
        mock.requests_to("DELETE", "/fapi/v1/algoOrder")[0].param("clientAlgoId"),
        Some(stop.to_string())
    );
}
