//! Test fixtures: an exchange-sim started in-process on 127.0.0.1:0 with the clock stopped
//! (speed 0, moved only by `/sim/step`), a keep-alive HTTP client that signs like a Binance
//! client, and WebSocket helpers that wait on conditions with deadlines (never sleeps).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use exchange_core::signing::Secret;
use exchange_core::signing::binance::QueryString;
use exchange_sim::{DEMO_API_KEY, DEMO_API_SECRET, RunningSim, SimConfig};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;

/// A client WebSocket.
pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long any wait in a test may take.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// A running simulator and a client for it.
pub struct Sim {
    pub sim: Option<RunningSim>,
    pub http: reqwest::Client,
    pub base: String,
    pub ws: String,
    pub secret: Secret,
}

/// The test config: speed 0, one day of history, a fixed seed, port 0.
pub fn test_config() -> SimConfig {
    SimConfig { port: 0, speed: 0.0, backfill_days: 1.0, seed: 7, ..SimConfig::default() }
}

/// Starts a simulator with the test config.
pub async fn start() -> Sim {
    start_with(test_config(), None).await
}

/// Starts a simulator with `config` (and an optional state file).
pub async fn start_with(config: SimConfig, state: Option<std::path::PathBuf>) -> Sim {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let settings = config.validate().expect("valid test config");
    let sim = exchange_sim::start(settings, state, CancellationToken::new()).await.expect("sim starts");
    let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().expect("client");
    Sim {
        base: sim.http_url(),
        ws: sim.ws_url(),
        sim: Some(sim),
        http,
        secret: Secret::new(DEMO_API_SECRET.to_owned()),
    }
}

/// Wall clock in ms.
pub fn now_ms() -> u64 {
    u64::try_from(SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis()).unwrap()
}

/// A response: status, JSON body, headers.
pub struct Reply {
    pub status: u16,
    pub json: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    pub fn code(&self) -> i64 {
        self.json["code"].as_i64().unwrap_or(0)
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
    }
}

impl Sim {
    pub async fn stop(&mut self) {
        if let Some(sim) = self.sim.take() {
            sim.stop().await.expect("clean stop");
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let json = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
        Reply { status, json, headers }
    }

    /// An unsigned request with a raw query string.
    pub async fn raw(
        &self,
        method: &str,
        path_and_query: &str,
        key: Option<&str>,
        body: Option<String>,
    ) -> Reply {
        let url = format!("{}{}", self.base, path_and_query);
        let mut request = self.http.request(method.parse().unwrap(), url);
        if let Some(key) = key {
            request = request.header("X-MBX-APIKEY", key);
        }
        if let Some(body) = body {
            request = request.header("content-type", "application/x-www-form-urlencoded").body(body);
        }
        self.send(request).await
    }

    /// A public GET.
    pub async fn get(&self, path: &str, params: &[(&str, &str)]) -> Reply {
        let mut query = QueryString::new();
        for (k, v) in params {
            query.push(k, v);
        }
        self.raw("GET", &format!("{path}?{}", query.finish()), None, None).await
    }

    /// A signed request with the demo key, params in the query string plus `timestamp`.
    pub async fn signed(&self, method: &str, path: &str, params: &[(&str, &str)]) -> Reply {
        let mut query = QueryString::new();
        for (k, v) in params {
            query.push(k, v);
        }
        query.push("timestamp", &now_ms().to_string());
        let signed = query.finish_signed(&self.secret);
        self.raw(method, &format!("{path}?{signed}"), Some(DEMO_API_KEY), None).await
    }

    /// An admin request; panics unless it answers 200.
    pub async fn admin(&self, method: &str, path_and_query: &str) -> Value {
        let reply = self.raw(method, path_and_query, None, None).await;
        assert_eq!(reply.status, 200, "{path_and_query}: {}", reply.json);
        reply.json
    }

    /// Steps the market clock.
    pub async fn step(&self, seconds: u64) -> Value {
        self.admin("POST", &format!("/sim/step?seconds={seconds}")).await
    }

    /// Sets the price of a symbol's asset exactly.
    pub async fn set_price(&self, symbol: &str, price: &str) -> Value {
        self.admin("POST", &format!("/sim/price?symbol={symbol}&price={price}")).await
    }

    /// Opens a WebSocket on `path`.
    pub async fn connect(&self, path: &str) -> Ws {
        let (ws, _) =
            tokio_tungstenite::connect_async(format!("{}{}", self.ws, path)).await.expect("ws connects");
        ws
    }

    /// A futures listenKey of the demo account.
    pub async fn listen_key(&self) -> String {
        let reply = self.raw("POST", "/fapi/v1/listenKey", Some(DEMO_API_KEY), None).await;
        reply.json["listenKey"].as_str().expect("listenKey").to_owned()
    }
}

/// The next text frame as JSON, or `None` when the socket closed or the deadline passed.
pub async fn next_json(ws: &mut Ws, within: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let frame = tokio::time::timeout_at(deadline, ws.next()).await.ok()??;
        match frame.ok()? {
            Message::Text(text) => return serde_json::from_str(text.as_str()).ok(),
            Message::Close(_) => return None,
            _ => {}
        }
    }
}

/// Waits for the first frame matching `pred`; panics at the deadline.
pub async fn wait_for(ws: &mut Ws, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match next_json(ws, left).await {
            Some(v) if pred(&v) => return v,
            Some(_) => {}
            None => panic!("no frame matching {what} before the deadline or close"),
        }
    }
}

/// Collects frames until `pred` matches one (included).
pub async fn collect_until(ws: &mut Ws, what: &str, pred: impl Fn(&Value) -> bool) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match next_json(ws, left).await {
            Some(v) => {
                let done = pred(&v);
                seen.push(v);
                if done {
                    return seen;
                }
            }
            None => panic!("no frame matching {what}; saw {seen:?}"),
        }
    }
}

/// Sends a text frame.
pub async fn send(ws: &mut Ws, text: &str) {
    ws.send(Message::text(text.to_owned())).await.expect("ws send");
}

/// True when the socket closes (or errors) before the deadline.
pub async fn closes(ws: &mut Ws) -> bool {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return false,
            Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => return true,
            Ok(Some(Ok(_))) => {}
        }
    }
}
