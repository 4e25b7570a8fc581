//! Faults and limits over real HTTP: 429 and 418 (bursts and the weight limit) with Retry-After,
//! order-rate limits, the unknown-outcome 503 and the unanswered order, 5xx, latency, clock skew,
//! partial fills, and garbage input that must always get a Binance JSON error.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{start, start_with, test_config};
use exchange_sim::DEMO_API_KEY;
use exchange_sim::config::LimitConfig;
use proptest::prelude::*;

#[tokio::test]
async fn bursts_of_429_and_418_carry_retry_after() {
    let sim = start().await;
    sim.admin("POST", "/sim/fault?burst_429=2&burst_418=1&retry_after=7").await;
    let banned = sim.get("/api/v3/ping", &[]).await;
    assert_eq!(
        (banned.status, banned.code(), banned.header("retry-after").as_deref()),
        (418, -1003, Some("7"))
    );
    for _ in 0..2 {
        let limited = sim.get("/fapi/v1/ping", &[]).await;
        assert_eq!(
            (limited.status, limited.code(), limited.header("retry-after").as_deref()),
            (429, -1003, Some("7"))
        );
    }
    assert_eq!(sim.get("/api/v3/ping", &[]).await.status, 200);
}

#[tokio::test]
async fn weight_limit_then_ban_then_reset() {
    let config = exchange_sim::SimConfig {
        limits: LimitConfig {
            spot_weight_per_minute: 25,
            ban_after: 2,
            ban_seconds: 60,
            ..LimitConfig::default()
        },
        ..test_config()
    };
    let sim = start_with(config, None).await;
    assert_eq!(sim.get("/api/v3/exchangeInfo", &[]).await.status, 200);
    let limited = sim.get("/api/v3/exchangeInfo", &[]).await;
    assert_eq!((limited.status, limited.code()), (429, -1003));
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(sim.get("/api/v3/exchangeInfo", &[]).await.status, 429);
    let banned = sim.get("/api/v3/ping", &[]).await;
    assert_eq!((banned.status, banned.code()), (418, -1003));
    assert!(banned.json["msg"].as_str().unwrap().contains("banned until"));
    assert_eq!(sim.get("/fapi/v1/ping", &[]).await.status, 200, "USD-M has its own weight");
    sim.admin("DELETE", "/sim/fault").await;
    assert_eq!(sim.get("/api/v3/ping", &[]).await.status, 200);
}

#[tokio::test]
async fn order_rate_limit() {
    let config = exchange_sim::SimConfig {
        limits: LimitConfig { orders_per_10s: 2, ..LimitConfig::default() },
        ..test_config()
    };
    let sim = start_with(config, None).await;
    let params = [
        ("symbol", "BTCUSDT"),
        ("side", "BUY"),
        ("type", "LIMIT"),
        ("timeInForce", "GTC"),
        ("quantity", "0.002"),
        ("price", "80000"),
    ];
    let first = sim.signed("POST", "/fapi/v1/order", &params).await;
    assert_eq!(first.header("x-mbx-order-count-10s").as_deref(), Some("1"));
    assert_eq!(
        sim.signed("POST", "/fapi/v1/order", &params).await.header("x-mbx-order-count-10s").as_deref(),
        Some("2")
    );
    let third = sim.signed("POST", "/fapi/v1/order", &params).await;
    assert_eq!((third.status, third.code()), (429, -1015));
}

#[tokio::test]
async fn unknown_outcome_503_places_the_order() {
    let sim = start().await;
    sim.set_price("BTCUSDT", "100000").await;
    sim.admin("POST", "/sim/fault?unanswered_orders=1&unanswered_mode=503").await;
    let params = [
        ("symbol", "BTCUSDT"),
        ("side", "BUY"),
        ("type", "MARKET"),
        ("quantity", "0.002"),
        ("newClientOrderId", "maybe-1"),
    ];
    let reply = sim.signed("POST", "/fapi/v1/order", &params).await;
    assert_eq!(reply.status, 503);
    assert_eq!(reply.json["msg"], "Unknown error, please check your request or try again later.");
    let query =
        sim.signed("GET", "/fapi/v1/order", &[("symbol", "BTCUSDT"), ("origClientOrderId", "maybe-1")]).await;
    assert_eq!((query.status, query.json["status"].as_str()), (200, Some("FILLED")), "the order exists");
    let retry = sim.signed("POST", "/fapi/v1/order", &params).await;
    assert_eq!(retry.status, 200, "the fault applied once");
    let spot = [
        ("symbol", "BTCUSDT"),
        ("side", "BUY"),
        ("type", "LIMIT"),
        ("timeInForce", "GTC"),
        ("quantity", "0.001"),
        ("price", "80000"),
        ("newClientOrderId", "maybe-2"),
    ];
    sim.admin("POST", "/sim/fault?unanswered_orders=1&unanswered_mode=hang&hang_ms=200").await;
    let started = Instant::now();
    let hung = sim
        .http
        .post(format!("{}/api/v3/order", sim.base))
        .header("X-MBX-APIKEY", DEMO_API_KEY)
        .query(&signed_pairs(&sim, &spot))
        .send()
        .await;
    assert!(hung.is_err(), "no answer, the connection is closed");
    assert!(started.elapsed() >= Duration::from_millis(200));
    let placed =
        sim.signed("GET", "/api/v3/order", &[("symbol", "BTCUSDT"), ("origClientOrderId", "maybe-2")]).await;
    assert_eq!(placed.json["status"], "NEW");
    let dup = sim.signed("POST", "/api/v3/order", &spot).await;
    assert_eq!(dup.json["msg"], "Duplicate order sent.", "resending blind is refused");
}

#[tokio::test]
async fn a_stalled_path_neither_executes_nor_answers_and_history_shows_it() {
    let sim = start().await;
    sim.set_price("BTCUSDT", "100000").await;
    let entry = [
        ("symbol", "BTCUSDT"),
        ("side", "BUY"),
        ("type", "MARKET"),
        ("quantity", "0.002"),
        ("newClientOrderId", "entry-1"),
    ];
    assert_eq!(sim.signed("POST", "/fapi/v1/order", &entry).await.status, 200);
    sim.admin("POST", "/sim/fault?stall_path=/fapi/v1/algoOrder&stall_method=post&hang_ms=200").await;
    let stop = [
        ("symbol", "BTCUSDT"),
        ("side", "SELL"),
        ("algoType", "CONDITIONAL"),
        ("type", "STOP_MARKET"),
        ("triggerPrice", "90000"),
        ("closePosition", "true"),
        ("clientAlgoId", "stop-1"),
    ];
    let started = Instant::now();
    let stalled = sim
        .http
        .post(format!("{}/fapi/v1/algoOrder", sim.base))
        .header("X-MBX-APIKEY", DEMO_API_KEY)
        .query(&signed_pairs(&sim, &stop))
        .send()
        .await;
    assert!(stalled.is_err(), "no answer, the connection is closed");
    assert!(started.elapsed() >= Duration::from_millis(200));
    let query = sim.signed("GET", "/fapi/v1/algoOrder", &[("clientAlgoId", "stop-1")]).await;
    assert_eq!(query.status, 400, "queries pass, and the stop was never placed: {}", query.json);
    let mut second = entry;
    second[4] = ("newClientOrderId", "entry-2");
    assert_eq!(sim.signed("POST", "/fapi/v1/order", &second).await.status, 200, "other paths pass");
    sim.admin("DELETE", "/sim/fault").await;
    assert_eq!(sim.signed("POST", "/fapi/v1/algoOrder", &stop).await.status, 200, "a reset ends the stall");

    let history = sim.admin("GET", "/sim/history").await;
    let ids: Vec<&str> =
        history["orders"].as_array().unwrap().iter().map(|o| o["clientOrderId"].as_str().unwrap()).collect();
    assert_eq!(ids, ["entry-1", "entry-2"]);
    let algos: Vec<&str> = history["algoOrders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["clientAlgoId"].as_str().unwrap())
        .collect();
    assert_eq!(algos, ["stop-1"]);
    let fills: Vec<(&str, &str)> = history["trades"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["clientOrderId"].as_str().unwrap(), t["qty"].as_str().unwrap()))
        .collect();
    assert_eq!(fills, [("entry-1", "0.002"), ("entry-2", "0.002")]);
    assert_eq!(sim.raw("GET", "/sim/history?account=9", None, None).await.status, 400);
}

fn signed_pairs(sim: &common::Sim, params: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut query = exchange_core::signing::binance::QueryString::new();
    for (k, v) in params {
        query.push(k, v);
    }
    query.push("timestamp", &common::now_ms().to_string());
    let signed = query.finish_signed(&sim.secret);
    signed
        .split('&')
        .map(|kv| kv.split_once('=').unwrap())
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[tokio::test]
async fn errors_latency_skew_and_partial_fills() {
    let sim = start().await;
    sim.set_price("BTCUSDT", "100000").await;
    sim.admin("POST", "/sim/fault?error_rate=1").await;
    let params = [
        ("symbol", "BTCUSDT"),
        ("side", "BUY"),
        ("type", "MARKET"),
        ("quantity", "0.002"),
        ("newClientOrderId", "never"),
    ];
    let failed = sim.signed("POST", "/fapi/v1/order", &params).await;
    assert_eq!((failed.status, failed.json["msg"].as_str()), (503, Some("Service Unavailable.")));
    sim.admin("POST", "/sim/fault?error_rate=0&latency_ms=150").await;
    assert_eq!(
        sim.signed("GET", "/fapi/v1/order", &[("symbol", "BTCUSDT"), ("origClientOrderId", "never")])
            .await
            .code(),
        -2013
    );
    let started = Instant::now();
    assert_eq!(sim.get("/api/v3/ping", &[]).await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
    sim.admin("POST", "/sim/fault?latency_ms=0&clock_skew_ms=-10000").await;
    let server = sim.get("/fapi/v1/time", &[]).await.json["serverTime"].as_i64().unwrap();
    assert!((common::now_ms() as i64 - server - 10_000).abs() < 2_000);
    assert_eq!(sim.signed("GET", "/fapi/v3/balance", &[]).await.code(), -1021, "client clock now 10 s ahead");
    sim.admin("POST", "/sim/fault?clock_skew_ms=0&partial_fills=1").await;
    let partial = sim
        .signed(
            "POST",
            "/fapi/v1/order",
            &[
                ("symbol", "BTCUSDT"),
                ("side", "BUY"),
                ("type", "MARKET"),
                ("quantity", "0.004"),
                ("newOrderRespType", "RESULT"),
            ],
        )
        .await;
    assert_eq!(
        (partial.json["status"].as_str(), partial.json["executedQty"].as_str()),
        (Some("PARTIALLY_FILLED"), Some("0.002"))
    );
    sim.step(60).await;
    let id = partial.json["orderId"].to_string();
    let done = sim.signed("GET", "/fapi/v1/order", &[("symbol", "BTCUSDT"), ("orderId", &id)]).await;
    assert_eq!(done.json["status"], "FILLED");
}

/// Builds a runtime and a simulator once for the property test below.
fn fuzz_target() -> (tokio::runtime::Runtime, common::Sim) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let sim = runtime.block_on(start());
    (runtime, sim)
}

fn garbage() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("symbol=BTCUSDT".to_owned()),
        Just("side=BUY".to_owned()),
        Just("type=LIMIT".to_owned()),
        Just("timestamp=1".to_owned()),
        Just("signature=zz".to_owned()),
        Just("%".to_owned()),
        Just("&&".to_owned()),
        Just("quantity=1e9999".to_owned()),
        "[a-zA-Z%=&.0-9\\-_ ]{0,24}".prop_map(|s| s),
        any::<Vec<u8>>().prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ];
    prop::collection::vec(token, 0..8).prop_map(|parts| parts.join("&"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, .. ProptestConfig::default() })]

    #[test]
    fn garbage_always_gets_a_json_error(query in garbage(), body in garbage(), path in prop_oneof![Just("/fapi/v1/order"), Just("/api/v3/order"), Just("/fapi/v1/algoOrder"), Just("/api/v3/klines")]) {
        thread_local! { static TARGET: (tokio::runtime::Runtime, common::Sim) = fuzz_target(); }
        TARGET.with(|(runtime, sim)| {
            let reply = runtime.block_on(async {
                let response = sim
                    .http
                    .post(format!("{}{}?{}", sim.base, path, query.replace(['#', ' '], "")))
                    .header("X-MBX-APIKEY", DEMO_API_KEY)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body.clone())
                    .send()
                    .await
                    .expect("the server answers");
                let status = response.status().as_u16();
                (status, response.text().await.unwrap_or_default())
            });
            let json: serde_json::Value = serde_json::from_str(&reply.1).unwrap_or_else(|_| panic!("not JSON: {}", reply.1));
            prop_assert!(reply.0 >= 400 && json["code"].as_i64().is_some_and(|c| c < 0), "{:?}", reply);
            prop_assert!(json["msg"].is_string());
            Ok(())
        })?;
    }
}
