//! A loopback HTTP/1.1 server standing in for Telegram and Discord: records every request,
//! answers with scripted replies (then a default), and can hold its answers back to play a
//! service that does not respond. One request per connection (`Connection: close`).
#![allow(dead_code)] // each test crate uses part of it

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use exchange_core::signing::Secret;
use notify::{ChatId, DeliveryConfig, DiscordConfig, NotifyConfig, TelegramConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// The bot token the tests configure; it must never show up outside a request path.
pub const TOKEN: &str = "123456:TEST-secret_token";
/// The webhook path the tests configure; the URL must never show up outside the request.
pub const WEBHOOK_PATH: &str = "/api/webhooks/42/secret-webhook-token";
/// Telegram's path for `TOKEN`.
pub const TELEGRAM_PATH: &str = "/bot123456:TEST-secret_token/sendMessage";

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub at: Instant,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }

    /// Telegram's `text` or Discord's `content`.
    pub fn text(&self) -> String {
        let json = self.json();
        let text = json.get("text").or_else(|| json.get("content")).expect("text or content");
        text.as_str().expect("a string").to_owned()
    }
}

/// A scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn new(status: u16, body: &str) -> Self {
        Self { status, headers: Vec::new(), body: body.to_owned() }
    }

    pub fn telegram_ok() -> Self {
        Self::new(200, r#"{"ok":true,"result":{"message_id":1}}"#)
    }

    pub fn discord_ok() -> Self {
        Self::new(204, "")
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

#[derive(Debug)]
struct State {
    requests: Mutex<Vec<Recorded>>,
    script: Mutex<VecDeque<Reply>>,
    default: Reply,
    received: watch::Sender<usize>,
    open: watch::Sender<bool>,
}

/// The server; it stops with the test's runtime.
#[derive(Debug, Clone)]
pub struct Server {
    port: u16,
    state: Arc<State>,
}

impl Server {
    /// Listens on 127.0.0.1 on an ephemeral port, answering `default` unless scripted otherwise.
    pub async fn start(default: Reply) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let port = listener.local_addr().expect("local addr").port();
        let state = Arc::new(State {
            requests: Mutex::new(Vec::new()),
            script: Mutex::new(VecDeque::new()),
            default,
            received: watch::Sender::new(0),
            open: watch::Sender::new(true),
        });
        let accepting = state.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, accepting.clone()));
            }
        });
        Self { port, state }
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The next answers, in order, before the default.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.state.script.lock().unwrap().extend(replies);
    }

    /// Answers nothing until [`Server::release`] (requests are still recorded).
    pub fn hold(&self) {
        self.state.open.send_replace(false);
    }

    pub fn release(&self) {
        self.state.open.send_replace(true);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    /// Waits until `n` requests have arrived (at most 10 s) and returns them all.
    pub async fn wait_for_requests(&self, n: usize) -> Vec<Recorded> {
        let mut received = self.state.received.subscribe();
        let arrived =
            tokio::time::timeout(Duration::from_secs(10), received.wait_for(|count| *count >= n)).await;
        assert!(arrived.is_ok(), "{n} requests expected, {} arrived", self.requests().len());
        self.requests()
    }
}

async fn serve(mut stream: TcpStream, state: Arc<State>) {
    let Some(request) = read_request(&mut stream).await else { return };
    state.requests.lock().unwrap().push(request);
    state.received.send_modify(|count| *count += 1);
    let mut open = state.open.subscribe();
    if open.wait_for(|open| *open).await.is_err() {
        return;
    }
    let reply = state.script.lock().unwrap().pop_front().unwrap_or_else(|| state.default.clone());
    let mut head = format!("HTTP/1.1 {} Scripted\r\nConnection: close\r\n", reply.status);
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !reply.body.is_empty() {
        head.push_str("Content-Type: application/json\r\n");
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", reply.body.len()));
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(reply.body.as_bytes()).await;
    let _ = stream.shutdown().await;
}

async fn read_request(stream: &mut TcpStream) -> Option<Recorded> {
    let mut data = Vec::new();
    let mut chunk = [0_u8; 4096];
    let head_end = loop {
        if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let n = stream.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        data.extend_from_slice(&chunk[..n]);
    };
    let at = Instant::now();
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let (method, path) = (request_line.next()?.to_owned(), request_line.next()?.to_owned());
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = data[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Recorded { method, path, headers, body, at })
}

/// Fast retries for tests: 3 attempts, 20 ms first backoff.
pub fn fast_delivery() -> DeliveryConfig {
    DeliveryConfig {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        ..DeliveryConfig::default()
    }
}

/// Channels pointed at the given servers.
pub fn config(telegram: Option<&Server>, discord: Option<&Server>) -> NotifyConfig {
    NotifyConfig {
        telegram: telegram.map(|server| TelegramConfig {
            bot_token: Secret::new(TOKEN.to_owned()),
            chat_id: ChatId::Id(-1_001_234_567_890),
            api_url: server.base_url(),
        }),
        discord: discord.map(|server| DiscordConfig {
            webhook_url: Secret::new(format!("{}{WEBHOOK_PATH}", server.base_url())),
        }),
        delivery: fast_delivery(),
        label: None,
    }
}
