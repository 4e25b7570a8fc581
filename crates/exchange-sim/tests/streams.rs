//! WebSocket streams over real sockets: kline frames and their close, combined streams, the
//! routed and old USD-M paths, live subscriptions and bad frames, the USD-M user-data stream
//! (orders, algo triggers, funding, liquidation, listenKey expiry) and the spot WebSocket API.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Sim, closes, collect_until, next_json, now_ms, send, start, wait_for};
use exchange_core::signing::binance::sign_ws_api;
use exchange_sim::DEMO_API_KEY;
use serde_json::{Value, json};
use std::time::Duration;

#[tokio::test]
async fn kline_frames_close_with_x_true_and_combined_wrapper() {
    let sim = start().await;
    let mut raw = sim.connect("/ws/btcusdt@kline_1m").await;
    let mut combined = sim.connect("/stream?streams=ethusdt@kline_1h/btcusdt@trade").await;
    let state = sim.admin("GET", "/sim/state").await;
    let now = state["clock"]["marketTime"].as_i64().unwrap();
    sim.step(60).await;
    let k = wait_for(&mut raw, "closed 1m kline", |v| v["k"]["x"] == true).await;
    assert_eq!(
        (k["e"].as_str(), k["s"].as_str(), k["k"]["i"].as_str()),
        (Some("kline"), Some("BTCUSDT"), Some("1m"))
    );
    assert_eq!(k["k"]["t"].as_i64(), Some(now), "the bar that just closed");
    assert_eq!(k["E"].as_i64(), Some(now + 60_000), "event time is market time");
    let trade = wait_for(&mut combined, "trade", |v| v["stream"] == "btcusdt@trade").await;
    assert_eq!(trade["data"]["e"], "trade");
    sim.step(3_600).await;
    let hour = wait_for(&mut combined, "closed 1h kline", |v| {
        v["stream"] == "ethusdt@kline_1h" && v["data"]["k"]["x"] == true
    })
    .await;
    assert_eq!(hour["data"]["k"]["T"].as_i64().unwrap() + 1, hour["data"]["E"].as_i64().unwrap());
}

#[tokio::test]
async fn futures_routed_and_old_paths() {
    let sim = start().await;
    let mut routed = sim.connect("/market/ws/btcusdt@markPrice").await;
    let mut routed_combined =
        sim.connect("/fstream/market/stream?streams=solusdt@kline_1m/!markPrice@arr").await;
    let mut old = sim.connect("/fstream/ws/ethusdt@markPrice@1s").await;
    let mut spot_root = sim.connect("/ws/btcusdt@markPrice").await;
    sim.step(60).await;
    let mark = wait_for(&mut routed, "markPriceUpdate", |v| v["e"] == "markPriceUpdate").await;
    assert_eq!(mark["s"], "BTCUSDT");
    assert!(mark["T"].as_i64().unwrap() % (8 * 3_600_000) == 0, "next funding time");
    let frames = collect_until(&mut routed_combined, "array", |v| v["stream"] == "!markPrice@arr").await;
    assert_eq!(frames.last().unwrap()["data"].as_array().unwrap().len(), 3);
    let sol = frames.iter().find(|v| v["stream"] == "solusdt@kline_1m").expect("sol kline in the same tick");
    assert!(
        sol["data"]["k"]["c"].as_str().unwrap().split('.').nth(1).unwrap().len() == 4,
        "SOL futures prints 4 decimals"
    );
    assert_eq!(wait_for(&mut old, "eth mark", |v| v["e"] == "markPriceUpdate").await["s"], "ETHUSDT");
    assert_eq!(
        wait_for(&mut spot_root, "mark on the spot path", |v| v["e"] == "markPriceUpdate").await["s"],
        "BTCUSDT"
    );
}

#[tokio::test]
async fn live_subscriptions_and_bad_frames() {
    let sim = start().await;
    let mut ws = sim.connect("/ws").await;
    send(&mut ws, r#"{"method":"SUBSCRIBE","params":["btcusdt@kline_1m","ethusdt@aggTrade"],"id":1}"#).await;
    assert_eq!(next_json(&mut ws, common::DEADLINE).await, Some(json!({"result": null, "id": 1})));
    send(&mut ws, r#"{"method":"LIST_SUBSCRIPTIONS","id":2}"#).await;
    let list = next_json(&mut ws, common::DEADLINE).await.unwrap();
    assert_eq!(list["result"], json!(["btcusdt@kline_1m", "ethusdt@aggTrade"]));
    send(&mut ws, r#"{"method":"UNSUBSCRIBE","params":["ethusdt@aggTrade"],"id":3}"#).await;
    assert_eq!(next_json(&mut ws, common::DEADLINE).await.unwrap()["id"], 3);
    send(&mut ws, "this is not json").await;
    assert_eq!(next_json(&mut ws, common::DEADLINE).await.unwrap()["code"], 3);
    send(&mut ws, r#"{"method":"SUBSCRIBE","params":["nope@kline_1m"],"id":4}"#).await;
    assert_eq!(next_json(&mut ws, common::DEADLINE).await.unwrap()["code"], 2);
    sim.step(60).await;
    let k = wait_for(&mut ws, "kline after garbage", |v| v["e"] == "kline").await;
    assert_eq!(k["s"], "BTCUSDT");
}

#[tokio::test]
async fn ws_drop_fault_closes_every_socket() {
    let sim = start().await;
    let mut market = sim.connect("/ws/btcusdt@trade").await;
    let key = sim.listen_key().await;
    let mut user = sim.connect(&format!("/private/ws/{key}")).await;
    sim.admin("POST", "/sim/fault?ws_drop=true").await;
    assert!(closes(&mut market).await);
    assert!(closes(&mut user).await);
    let mut again = sim.connect("/ws/btcusdt@trade").await;
    sim.step(60).await;
    assert!(next_json(&mut again, common::DEADLINE).await.is_some(), "new connections work");
}

async fn order(sim: &Sim, params: &[(&str, &str)]) -> Value {
    let reply = sim.signed("POST", "/fapi/v1/order", params).await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    reply.json
}

#[tokio::test]
async fn user_stream_orders_and_algo_triggers() {
    let sim = start().await;
    sim.set_price("BTCUSDT", "100000").await;
    let key = sim.listen_key().await;
    let mut ws = sim.connect(&format!("/private/ws/{key}")).await;
    order(&sim, &[("symbol", "BTCUSDT"), ("side", "BUY"), ("type", "MARKET"), ("quantity", "0.01")]).await;
    let fill = wait_for(&mut ws, "fill", |v| v["e"] == "ORDER_TRADE_UPDATE" && v["o"]["X"] == "FILLED").await;
    assert_eq!((fill["o"]["x"].as_str(), fill["o"]["L"].as_str()), (Some("TRADE"), Some("100000")));
    let account = wait_for(&mut ws, "account", |v| v["e"] == "ACCOUNT_UPDATE").await;
    assert_eq!(
        (account["a"]["m"].as_str(), account["a"]["P"][0]["pa"].as_str()),
        (Some("ORDER"), Some("0.010"))
    );
    let algo = sim
        .signed(
            "POST",
            "/fapi/v1/algoOrder",
            &[
                ("algoType", "CONDITIONAL"),
                ("symbol", "BTCUSDT"),
                ("side", "SELL"),
                ("type", "STOP_MARKET"),
                ("triggerPrice", "97000"),
                ("closePosition", "true"),
                ("clientAlgoId", "sl-1"),
            ],
        )
        .await;
    assert_eq!((algo.status, algo.json["algoStatus"].as_str()), (200, Some("NEW")), "{}", algo.json);
    assert_eq!(wait_for(&mut ws, "algo new", |v| v["e"] == "ALGO_UPDATE").await["o"]["X"], "NEW");
    let hidden =
        sim.signed("GET", "/fapi/v1/order", &[("symbol", "BTCUSDT"), ("origClientOrderId", "sl-1")]).await;
    assert_eq!(hidden.code(), -2013, "algo orders are invisible to /fapi/v1/order");
    let tp = sim
        .signed(
            "POST",
            "/fapi/v1/algoOrder",
            &[
                ("algoType", "CONDITIONAL"),
                ("symbol", "BTCUSDT"),
                ("side", "SELL"),
                ("type", "TAKE_PROFIT_MARKET"),
                ("triggerPrice", "99000"),
                ("closePosition", "true"),
            ],
        )
        .await;
    assert_eq!(tp.code(), -2021, "would trigger at once");
    let trail = sim
        .signed(
            "POST",
            "/fapi/v1/algoOrder",
            &[
                ("algoType", "CONDITIONAL"),
                ("symbol", "BTCUSDT"),
                ("side", "SELL"),
                ("type", "TRAILING_STOP_MARKET"),
                ("quantity", "0.01"),
                ("reduceOnly", "true"),
                ("callbackRate", "5"),
            ],
        )
        .await;
    assert_eq!(trail.status, 200, "{}", trail.json);
    let open = sim.signed("GET", "/fapi/v1/openAlgoOrders", &[("symbol", "BTCUSDT")]).await;
    assert_eq!(open.json.as_array().unwrap().len(), 2);
    sim.set_price("BTCUSDT", "96000").await;
    let events =
        collect_until(&mut ws, "algo finished", |v| v["e"] == "ALGO_UPDATE" && v["o"]["X"] == "FINISHED")
            .await;
    let kinds: Vec<String> = events
        .iter()
        .map(|v| {
            format!(
                "{} {}",
                v["e"].as_str().unwrap(),
                v["o"]["X"].as_str().or(v["a"]["m"].as_str()).unwrap_or("")
            )
        })
        .collect();
    assert!(kinds.contains(&"ALGO_UPDATE TRIGGERED".to_owned()), "{kinds:?}");
    assert!(kinds.contains(&"ORDER_TRADE_UPDATE FILLED".to_owned()), "{kinds:?}");
    let query = sim.signed("GET", "/fapi/v1/algoOrder", &[("clientAlgoId", "sl-1")]).await;
    assert_eq!(query.json["algoStatus"], "FINISHED");
    let position = sim.signed("GET", "/fapi/v3/positionRisk", &[]).await;
    assert_eq!(position.json.as_array().unwrap().len(), 0, "closed by the stop");
    // The 5 % trailing stop (best price 100000) was not reached by the gap to 96000: cancel it.
    let trail_id = trail.json["algoId"].to_string();
    let cancelled = sim.signed("DELETE", "/fapi/v1/algoOrder", &[("algoId", &trail_id)]).await;
    assert_eq!(cancelled.json["msg"], "success");
    let update = wait_for(&mut ws, "trailing stop cancelled", |v| {
        v["e"] == "ALGO_UPDATE" && v["o"]["X"] == "CANCELED"
    })
    .await;
    assert_eq!(update["o"]["o"], "TRAILING_STOP_MARKET");
    assert_eq!(sim.signed("DELETE", "/fapi/v1/algoOrder", &[("algoId", &trail_id)]).await.code(), -2011);
}

#[tokio::test]
async fn funding_and_liquidation_reach_the_user_stream() {
    let sim = start().await;
    sim.set_price("BTCUSDT", "100000").await;
    sim.admin("POST", "/sim/funding?symbol=BTCUSDT&rate=0.0003").await;
    let key = sim.listen_key().await;
    let mut ws = sim.connect(&format!("/ws/{key}")).await;
    assert_eq!(
        sim.signed("POST", "/fapi/v1/leverage", &[("symbol", "BTCUSDT"), ("leverage", "20")]).await.status,
        200
    );
    assert_eq!(
        sim.signed("POST", "/fapi/v1/marginType", &[("symbol", "BTCUSDT"), ("marginType", "ISOLATED")])
            .await
            .status,
        200
    );
    order(&sim, &[("symbol", "BTCUSDT"), ("side", "BUY"), ("type", "MARKET"), ("quantity", "0.1")]).await;
    let state = sim.admin("GET", "/sim/state").await;
    let now = state["clock"]["marketTime"].as_i64().unwrap();
    let next_funding = (now / 28_800_000 + 1) * 28_800_000;
    sim.step(u64::try_from((next_funding - now) / 1000).unwrap()).await;
    let funding =
        wait_for(&mut ws, "funding", |v| v["e"] == "ACCOUNT_UPDATE" && v["a"]["m"] == "FUNDING_FEE").await;
    assert_eq!(funding["E"].as_i64(), Some(next_funding));
    let history = sim.get("/fapi/v1/fundingRate", &[("symbol", "BTCUSDT")]).await;
    let last = history.json.as_array().unwrap().last().unwrap().clone();
    let mark: f64 = last["markPrice"].as_str().unwrap().parse().unwrap();
    let paid: f64 = funding["a"]["B"][0]["bc"].as_str().unwrap().parse().unwrap();
    assert!(
        (paid - (-0.1 * mark * 0.0003)).abs() < 1e-6,
        "income = -positionAmt * mark * rate: {paid} vs mark {mark}"
    );
    assert_eq!(funding["a"]["P"][0]["mt"], "isolated");
    sim.admin("POST", "/sim/shock?symbol=BTCUSDT&pct=-30").await;
    let liq =
        wait_for(&mut ws, "liquidation", |v| v["e"] == "ORDER_TRADE_UPDATE" && v["o"]["o"] == "LIQUIDATION")
            .await;
    assert!(liq["o"]["c"].as_str().unwrap().starts_with("autoclose-"));
    let risk = sim.signed("GET", "/fapi/v3/positionRisk", &[]).await;
    assert!(risk.json.as_array().unwrap().is_empty());
}

#[tokio::test]
async fn listen_key_expiry_event() {
    let sim = start().await;
    let key = sim.listen_key().await;
    assert_eq!(sim.raw("PUT", "/fapi/v1/listenKey", Some(DEMO_API_KEY), None).await.json["listenKey"], key);
    let mut ws = sim.connect(&format!("/private/stream?streams={key}")).await;
    sim.admin("POST", "/sim/listenkeys/expire").await;
    let expired = wait_for(&mut ws, "listenKeyExpired", |v| v["data"]["e"] == "listenKeyExpired").await;
    assert_eq!(
        (expired["stream"].as_str(), expired["data"]["listenKey"].as_str()),
        (Some(key.as_str()), Some(key.as_str()))
    );
    assert!(closes(&mut ws).await);
    assert_eq!(sim.raw("PUT", "/fapi/v1/listenKey", Some(DEMO_API_KEY), None).await.code(), -1125);
    assert_ne!(sim.listen_key().await, key, "a new key after expiry");
}

#[tokio::test]
async fn spot_user_data_through_the_websocket_api() {
    let sim = start().await;
    sim.set_price("BTCUSDT", "90000").await;
    let mut ws = sim.connect("/ws-api/v3").await;
    let ts = now_ms().to_string();
    let bad = json!({"id": "b", "method": "userDataStream.subscribe.signature", "params": {"apiKey": DEMO_API_KEY, "timestamp": ts, "signature": "00"}});
    send(&mut ws, &bad.to_string()).await;
    let answer = next_json(&mut ws, common::DEADLINE).await.unwrap();
    assert_eq!((answer["status"].as_i64(), answer["error"]["code"].as_i64()), (Some(400), Some(-1022)));
    let ts: u64 = now_ms();
    let signature = sign_ws_api(&sim.secret, &[("apiKey", DEMO_API_KEY), ("timestamp", &ts.to_string())]);
    let subscribe = json!({"id": 1, "method": "userDataStream.subscribe.signature", "params": {"apiKey": DEMO_API_KEY, "timestamp": ts, "signature": signature}});
    send(&mut ws, &subscribe.to_string()).await;
    let answer = next_json(&mut ws, common::DEADLINE).await.unwrap();
    assert_eq!(answer["result"]["subscriptionId"], 0, "{answer}");
    let placed = sim
        .signed(
            "POST",
            "/api/v3/order",
            &[("symbol", "BTCUSDT"), ("side", "BUY"), ("type", "MARKET"), ("quantity", "0.01")],
        )
        .await;
    assert_eq!(placed.status, 200);
    let report = wait_for(&mut ws, "executionReport TRADE", |v| {
        v["event"]["e"] == "executionReport" && v["event"]["x"] == "TRADE"
    })
    .await;
    assert_eq!((report["subscriptionId"].as_i64(), report["event"]["X"].as_str()), (Some(0), Some("FILLED")));
    let balances =
        wait_for(&mut ws, "outboundAccountPosition", |v| v["event"]["e"] == "outboundAccountPosition").await;
    assert!(balances["event"]["B"].as_array().unwrap().iter().any(|b| b["a"] == "BTC"));
    send(&mut ws, r#"{"id":9,"method":"ping"}"#).await;
    assert_eq!(wait_for(&mut ws, "pong", |v| v["id"] == 9).await["status"], 200);
    send(&mut ws, "garbage{").await;
    assert_eq!(wait_for(&mut ws, "error", |v| v["status"] == 400).await["id"], Value::Null);
    let _ = Duration::ZERO;
}

#[tokio::test]
async fn retired_spot_listen_key_stream_still_serves_old_clients() {
    let sim = start().await;
    sim.set_price("BTCUSDT", "90000").await;
    let created = sim.raw("POST", "/api/v3/userDataStream", Some(DEMO_API_KEY), None).await;
    let key = created.json["listenKey"].as_str().unwrap().to_owned();
    let mut ws = sim.connect(&format!("/ws/{key}")).await;
    let order = sim
        .signed(
            "POST",
            "/api/v3/order",
            &[("symbol", "BTCUSDT"), ("side", "SELL"), ("type", "MARKET"), ("quantity", "0.0001")],
        )
        .await;
    assert_eq!(order.code(), -2010, "no BTC yet: insufficient balance");
    let buy = sim
        .signed(
            "POST",
            "/api/v3/order",
            &[("symbol", "BTCUSDT"), ("side", "BUY"), ("type", "MARKET"), ("quoteOrderQty", "100")],
        )
        .await;
    assert_eq!(buy.json["status"], "FILLED");
    let report =
        wait_for(&mut ws, "executionReport", |v| v["e"] == "executionReport" && v["X"] == "FILLED").await;
    assert_eq!(report["z"], "0.00111000", "100 USDT / 90000 floored to the step");
    let keepalive =
        sim.raw("PUT", &format!("/api/v3/userDataStream?listenKey={key}"), Some(DEMO_API_KEY), None).await;
    assert_eq!(keepalive.json, json!({}));
    let missing = sim.raw("GET", "/fapi/v1/listenKey", Some(DEMO_API_KEY), None).await;
    assert_eq!(missing.status, 404);
}
