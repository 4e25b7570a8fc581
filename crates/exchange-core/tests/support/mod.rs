//! Loopback servers for the transport tests: a scripted HTTP/1.1 server (hyper) that records
//! every request, and helpers for a WebSocket server (tokio-tungstenite). Everything binds
//! 127.0.0.1 on an ephemeral port.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::result_large_err)]

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// One request as the mock received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: String,
    pub api_key: Option<String>,
}

impl Recorded {
    /// The value of query parameter `name` (first occurrence, still percent-encoded).
    pub fn param(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (k == name).then(|| v.to_owned())
        })
    }
}

/// A scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub headers: Vec<(String, String)>,
    pub delay: Duration,
}

impl Reply {
    pub fn ok(body: impl Into<String>) -> Self {
        Self { status: 200, body: body.into(), headers: Vec::new(), delay: Duration::ZERO }
    }
    pub fn status(status: u16, body: impl Into<String>) -> Self {
        Self { status, body: body.into(), headers: Vec::new(), delay: Duration::ZERO }
    }
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

type Handler = dyn Fn(&Recorded, usize) -> Reply + Send + Sync;

/// A running mock HTTP server.
pub struct MockHttp {
    pub base: String,
    log: Arc<Mutex<Vec<Recorded>>>,
}

impl MockHttp {
    /// Starts a server answering each request with `handler(request, n)`, where `n` counts the
    /// earlier requests to the same method and path.
    pub async fn start(handler: impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let log: Arc<Mutex<Vec<Recorded>>> = Arc::default();
        let handler: Arc<Handler> = Arc::new(handler);
        let counts: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let server_log = log.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let (log, handler, counts) = (server_log.clone(), handler.clone(), counts.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                        let recorded = Recorded {
                            method: request.method().to_string(),
                            path: request.uri().path().to_owned(),
                            query: request.uri().query().unwrap_or("").to_owned(),
                            api_key: request
                                .headers()
                                .get("x-mbx-apikey")
                                .map(|v| v.to_str().unwrap().to_owned()),
                        };
                        let n = {
                            let mut counts = counts.lock().unwrap();
                            let n =
                                counts.entry(format!("{} {}", recorded.method, recorded.path)).or_insert(0);
                            *n += 1;
                            *n - 1
                        };
                        log.lock().unwrap().push(recorded.clone());
                        let reply = handler(&recorded, n);
                        async move {
                            tokio::time::sleep(reply.delay).await;
                            let mut response = Response::builder().status(reply.status);
                            for (name, value) in &reply.headers {
                                response = response.header(name, value);
                            }
                            Ok::<_, Infallible>(response.body(Full::new(Bytes::from(reply.body))).unwrap())
                        }
                    });
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
        Self { base, log }
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.log.lock().unwrap().clone()
    }

    /// The requests to `method path`.
    pub fn requests_to(&self, method: &str, path: &str) -> Vec<Recorded> {
        self.requests().into_iter().filter(|r| r.method == method && r.path == path).collect()
    }
}

/// Waits for `condition` to hold, checking every 10 ms, failing after `deadline`.
pub async fn wait_for(deadline: Duration, what: &str, mut condition: impl FnMut() -> bool) {
    let start = tokio::time::Instant::now();
    while !condition() {
        assert!(start.elapsed() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Awaits `future`, failing the test after `deadline`.
pub async fn within<T>(deadline: Duration, what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(deadline, future).await.unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// A fixture's text.
pub fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/binance").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Local wall-clock ms.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

/// A WebSocket server that hands each accepted connection, with its request path and query, to
/// the test.
pub struct MockWs {
    pub url: String,
    connections: tokio::sync::mpsc::Receiver<(String, WsConn)>,
}

/// The server side of one WebSocket connection.
pub type WsConn = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

impl MockWs {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let uri: Arc<Mutex<String>> = Arc::default();
                let seen = uri.clone();
                let callback = move |request: &tokio_tungstenite::tungstenite::handshake::server::Request,
                                     response: tokio_tungstenite::tungstenite::handshake::server::Response| {
                    *seen.lock().unwrap() = request.uri().to_string();
                    Ok(response)
                };
                let Ok(ws) = tokio_tungstenite::accept_hdr_async(stream, callback).await else { continue };
                let path = uri.lock().unwrap().clone();
                if tx.send((path, ws)).await.is_err() {
                    return;
                }
            }
        });
        Self { url, connections: rx }
    }

    /// The next connection (path with query, socket), failing after 5 s.
    pub async fn next(&mut self) -> (String, WsConn) {
        within(Duration::from_secs(5), "a websocket connection", self.connections.recv()).await.unwrap()
    }
}
