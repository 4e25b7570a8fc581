//! The WebSocket side of the Binance clients against loopback servers: market-stream
//! reconnection with resubscription and gap events, pongs, skipped garbage, listenKey expiry
//! and rotation (event and `-1125`), and the spot WS-API user stream.

#![cfg(feature = "net")]
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use exchange_core::binance::ws::{WsConfig, spawn_market_stream};
use exchange_core::binance::{BinanceSpot, BinanceSpotConfig, BinanceUsdm, BinanceUsdmConfig};
use exchange_core::signing::binance::sign_ws_api;
use exchange_core::signing::{ApiCredentials, Secret};
use exchange_core::venue::{
    Endpoints, EventStream, GapReason, MarketEvent, Product, UserDataFeed, VenueEvent,
};
use futures_util::{SinkExt, StreamExt};
use support::{MockHttp, MockWs, Reply, WsConn, fixture, now_ms, wait_for, within};
use tokio_tungstenite::tungstenite::Message;

const KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
const SECOND: Duration = Duration::from_secs(5);

fn fast_ws() -> WsConfig {
    WsConfig {
        backoff_base: Duration::from_millis(10),
        backoff_max: Duration::from_millis(50),
        ..WsConfig::default()
    }
}

fn credentials() -> ApiCredentials {
    ApiCredentials::new(KEY.to_owned(), Secret::new(SECRET.to_owned()))
}

async fn next<E>(events: &mut EventStream<E>) -> E {
    within(SECOND, "an event", events.recv()).await.expect("the stream ended")
}

async fn send(ws: &mut WsConn, text: &str) {
    ws.send(Message::text(text.to_owned())).await.unwrap();
}

fn combined(stream: &str, fixture_name: &str) -> String {
    format!(r#"{{"stream":"{stream}","data":{}}}"#, fixture(fixture_name))
}

#[tokio::test]
async fn market_stream_skips_garbage_reconnects_resubscribes_and_reports_the_gap() {
    let mut server = MockWs::start().await;
    let endpoints = Endpoints::sim("http://127.0.0.1:9", &server.url);
    let mut stream =
        spawn_market_stream(endpoints, Product::UsdM, vec!["btcusdt@kline_1m".into()], fast_ws())
            .await
            .unwrap();

    let (path, mut ws) = server.next().await;
    assert_eq!(path, "/market/stream?streams=btcusdt@kline_1m");
    send(&mut ws, &combined("btcusdt@kline_1m", "usdm/ws_kline.json")).await;
    send(&mut ws, "this is not json").await;
    send(&mut ws, r#"{"stream":"btcusdt@kline_1m","data":{"e":"kline","E":1}}"#).await;
    send(&mut ws, r#"{"e":"aggTrade","E":1,"s":"BTCUSDT"}"#).await;
    ws.send(Message::binary(vec![1u8, 2, 3])).await.unwrap();
    send(&mut ws, &combined("btcusdt@markPrice", "usdm/ws_mark_price.json")).await;
    assert!(
        matches!(next(&mut stream.events).await, MarketEvent::Kline(k) if k.symbol.as_str() == "BTCUSDT")
    );
    assert!(
        matches!(next(&mut stream.events).await, MarketEvent::MarkPrice(_)),
        "garbage and unknown frames skipped"
    );

    let control = stream.control.clone();
    within(SECOND, "subscribe", control.subscribe(vec!["ethusdt@kline_1m".into()])).await.unwrap();
    let frame = within(SECOND, "the SUBSCRIBE frame", ws.next()).await.unwrap().unwrap();
    let frame: serde_json::Value = serde_json::from_str(frame.to_text().unwrap()).unwrap();
    assert_eq!(
        (frame["method"].as_str(), frame["params"][0].as_str()),
        (Some("SUBSCRIBE"), Some("ethusdt@kline_1m"))
    );

    drop(ws);
    assert_eq!(next(&mut stream.events).await, MarketEvent::StreamGap { reason: GapReason::Disconnected });
    let (path, mut ws) = server.next().await;
    assert_eq!(path, "/market/stream?streams=btcusdt@kline_1m/ethusdt@kline_1m", "every stream resubscribed");
    assert_eq!(next(&mut stream.events).await, MarketEvent::Reconnected);
    send(&mut ws, &fixture("usdm/ws_kline.json")).await;
    assert!(matches!(next(&mut stream.events).await, MarketEvent::Kline(_)));

    within(SECOND, "shutdown", stream.control.shutdown()).await;
    assert!(within(SECOND, "the end of the stream", stream.events.recv()).await.is_none());
}

#[tokio::test]
async fn server_ping_is_answered_with_a_pong_echoing_the_payload() {
    let mut server = MockWs::start().await;
    let endpoints = Endpoints::sim("http://127.0.0.1:9", &server.url);
    let stream = spawn_market_stream(endpoints, Product::Spot, vec!["btcusdt@kline_1h".into()], fast_ws())
        .await
        .unwrap();
    let (path, mut ws) = server.next().await;
    assert_eq!(path, "/stream?streams=btcusdt@kline_1h", "spot streams are not routed");
    ws.send(Message::Ping(b"ping-payload-42".to_vec().into())).await.unwrap();
    match within(SECOND, "a pong", ws.next()).await.unwrap().unwrap() {
        Message::Pong(payload) => assert_eq!(payload.as_ref(), b"ping-payload-42"),
        other => panic!("expected a pong, got {other:?}"),
    }
    stream.control.shutdown().await;
}

/// A listenKey mock: POST answers `key-<n>`, PUT answers `put`, DELETE answers `{}`.
async fn listen_key_server(put: Reply) -> MockHttp {
    MockHttp::start(move |r, n| match (r.method.as_str(), r.path.as_str()) {
        ("POST", "/fapi/v1/listenKey") => Reply::ok(format!(r#"{{"listenKey":"key-{n}"}}"#)),
        ("PUT", "/fapi/v1/listenKey") => put.clone(),
        ("DELETE", "/fapi/v1/listenKey") => Reply::ok("{}"),
        _ => Reply::status(404, ""),
    })
    .await
}

fn usdm(http: &MockHttp, ws: &MockWs, keepalive: Duration) -> BinanceUsdm {
    let mut config = BinanceUsdmConfig::new(Endpoints::sim(&http.base, &ws.url), Some(credentials()));
    config.ws = WsConfig { listen_key_keepalive: keepalive, ..fast_ws() };
    BinanceUsdm::new(config).unwrap()
}

#[tokio::test]
async fn listen_key_expired_event_rotates_the_key_and_reconnects() {
    let http = listen_key_server(Reply::ok(r#"{"listenKey":"key-0"}"#)).await;
    let mut server = MockWs::start().await;
    let client = usdm(&http, &server, Duration::from_secs(1800));
    let mut stream = within(SECOND, "the user stream", client.start_user_stream()).await.unwrap();

    let (path, mut ws) = server.next().await;
    assert_eq!(path, "/private/ws/key-0");
    send(&mut ws, &fixture("usdm/ws_order_trade_update.json")).await;
    send(&mut ws, "{\"e\":").await;
    send(&mut ws, &fixture("usdm/ws_listen_key_expired.json")).await;
    assert!(
        matches!(next(&mut stream.events).await, VenueEvent::Order(o) if o.client_order_id.as_str() == "TEST")
    );
    assert_eq!(next(&mut stream.events).await, VenueEvent::StreamGap { reason: GapReason::ListenKeyExpired });

    let (path, mut ws) = server.next().await;
    assert_eq!(path, "/private/ws/key-1", "a new key, a new connection");
    assert_eq!(next(&mut stream.events).await, VenueEvent::Reconnected);
    send(&mut ws, &fixture("usdm/ws_account_update.json")).await;
    assert!(matches!(next(&mut stream.events).await, VenueEvent::Account(a) if a.reason == "ORDER"));
    assert_eq!(http.requests_to("POST", "/fapi/v1/listenKey").len(), 2);

    within(SECOND, "shutdown", stream.control.shutdown()).await;
    assert_eq!(http.requests_to("DELETE", "/fapi/v1/listenKey").len(), 1, "the key is closed on shutdown");
}

#[tokio::test]
async fn keepalive_answered_1125_rotates_the_key_and_reconnects() {
    let gone = Reply::status(400, r#"{"code":-1125,"msg":"This listenKey does not exist."}"#);
    let http = listen_key_server(gone).await;
    let mut server = MockWs::start().await;
    let client = usdm(&http, &server, Duration::from_millis(100));
    let mut stream = within(SECOND, "the user stream", client.start_user_stream()).await.unwrap();
    let (path, _ws) = server.next().await;
    assert_eq!(path, "/private/ws/key-0");
    assert_eq!(next(&mut stream.events).await, VenueEvent::StreamGap { reason: GapReason::ListenKeyExpired });
    let (path, _ws2) = server.next().await;
    assert_eq!(path, "/private/ws/key-1");
    assert_eq!(next(&mut stream.events).await, VenueEvent::Reconnected);
    wait_for(SECOND, "the keepalive", || !http.requests_to("PUT", "/fapi/v1/listenKey").is_empty()).await;
    stream.control.shutdown().await;
}

async fn answer_subscription(ws: &mut WsConn) {
    let request = within(SECOND, "the subscribe request", ws.next()).await.unwrap().unwrap();
    let request: serde_json::Value = serde_json::from_str(request.to_text().unwrap()).unwrap();
    assert_eq!(request["method"], "userDataStream.subscribe.signature");
    let params = &request["params"];
    let timestamp = params["timestamp"].as_i64().expect("timestamp is a JSON integer");
    assert!((timestamp - now_ms()).abs() < 2_000);
    assert_eq!(params["apiKey"], KEY);
    let expected = sign_ws_api(
        &Secret::new(SECRET.to_owned()),
        &[("apiKey", KEY), ("timestamp", &timestamp.to_string())],
    );
    assert_eq!(params["signature"].as_str(), Some(expected.as_str()), "HMAC over the sorted params");
    send(ws, &fixture("spot/ws_api_subscribe_response.json")).await;
}

#[tokio::test]
async fn spot_user_stream_subscribes_with_a_signature_and_resubscribes_after_termination() {
    let http = MockHttp::start(|r, _| match r.path.as_str() {
        "/api/v3/time" => Reply::ok(format!(r#"{{"serverTime":{}}}"#, now_ms())),
        _ => Reply::status(404, ""),
    })
    .await;
    let mut server = MockWs::start().await;
    let mut config = BinanceSpotConfig::new(Endpoints::sim(&http.base, &server.url), Some(credentials()));
    config.ws = fast_ws();
    let client = BinanceSpot::new(config).unwrap();
    // The start returns once the venue has confirmed the subscription.
    let serve = async {
        let (path, mut ws) = server.next().await;
        assert_eq!(path, "/ws-api/v3");
        answer_subscription(&mut ws).await;
        ws
    };
    let (stream, mut ws) =
        within(SECOND, "the user stream", async { tokio::join!(client.start_user_stream(), serve) }).await;
    let mut stream = stream.unwrap();
    send(&mut ws, &fixture("spot/ws_execution_report.json")).await;
    send(&mut ws, &fixture("spot/ws_balance_update.json")).await;
    send(&mut ws, &fixture("spot/ws_outbound_account_position.json")).await;
    assert!(
        matches!(next(&mut stream.events).await, VenueEvent::Order(o) if o.venue_order_id.as_deref() == Some("4293153"))
    );
    assert!(matches!(next(&mut stream.events).await, VenueEvent::Account(_)));

    send(&mut ws, r#"{"subscriptionId":0,"event":{"e":"eventStreamTerminated","E":1728973001334}}"#).await;
    assert_eq!(next(&mut stream.events).await, VenueEvent::StreamGap { reason: GapReason::Terminated });
    let (_, mut ws) = server.next().await;
    answer_subscription(&mut ws).await;
    assert_eq!(next(&mut stream.events).await, VenueEvent::Reconnected);
    stream.control.shutdown().await;
}

#[tokio::test]
async fn connections_are_renewed_before_the_lifetime_limit() {
    let mut server = MockWs::start().await;
    let endpoints = Endpoints::sim("http://127.0.0.1:9", &server.url);
    let config = WsConfig { max_lifetime: Duration::from_millis(150), ..fast_ws() };
    let mut stream = spawn_market_stream(endpoints, Product::UsdM, vec!["btcusdt@markPrice".into()], config)
        .await
        .unwrap();
    let (_, _first) = server.next().await;
    assert_eq!(next(&mut stream.events).await, MarketEvent::StreamGap { reason: GapReason::Rollover });
    let (path, _second) = server.next().await;
    assert_eq!(path, "/market/stream?streams=btcusdt@markPrice");
    assert_eq!(next(&mut stream.events).await, MarketEvent::Reconnected);
    stream.control.shutdown().await;
}

/// A market stream returns once its first connection is up; when that connection comes later
/// than the connect timeout, the stream returns anyway and reports `Reconnected` when it is up,
/// so that the caller catches up on the frames sent before it (a bar closing meanwhile).
#[tokio::test]
async fn a_late_first_market_connection_is_reported_as_reconnected() {
    // A port nothing listens on yet: the first attempts are refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("ws://127.0.0.1:{port}");
    let endpoints = Endpoints::sim("http://127.0.0.1:9", &url);
    let config = WsConfig { connect_timeout: Duration::from_millis(200), ..fast_ws() };
    let started = std::time::Instant::now();
    let mut stream =
        spawn_market_stream(endpoints, Product::UsdM, vec!["btcusdt@kline_1h".into()], config).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(200), "returned before the connect timeout");

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let (socket, _) = within(SECOND, "the late connection", listener.accept()).await.unwrap();
    let mut ws = tokio_tungstenite::accept_async(socket).await.unwrap();
    assert_eq!(next(&mut stream.events).await, MarketEvent::Reconnected, "the caller must catch up");
    send(&mut ws, &combined("btcusdt@markPrice", "usdm/ws_mark_price.json")).await;
    assert!(matches!(next(&mut stream.events).await, MarketEvent::MarkPrice(_)));
    stream.control.shutdown().await;
}
