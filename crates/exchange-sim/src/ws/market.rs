//! A market-stream session: the streams named in the URL plus live `SUBSCRIBE` / `UNSUBSCRIBE` /
//! `LIST_SUBSCRIPTIONS` / `SET_PROPERTY` / `GET_PROPERTY` frames (PROTOCOL.md §4.1). Combined mode
//! wraps every payload as `{"stream":<name>,"data":<payload>}`. Bad frames get Binance's error
//! frames (`{"code":3,"msg":"Invalid JSON..."}`, `{"code":2,"msg":"Invalid request..."}`), never a
//! disconnect, except past the inbound limit (5 frames a second on spot, 10 on USD-M). The server
//! pings every 20 s (spot) or 3 min (USD-M) and drops a peer silent for 1 min or 10 min.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;
use tokio_tungstenite::tungstenite::Message;

use super::streams::{self, Kind, Stream};
use super::{Receivers, Socket, send_text};
use crate::catalog::Venue;
use crate::http::Shared;

/// Ping period and silence limit of a product's streams.
pub fn keepalive(venue: Venue) -> (Duration, Duration) {
    match venue {
        Venue::Spot => (Duration::from_secs(20), Duration::from_secs(60)),
        Venue::Futures => (Duration::from_secs(180), Duration::from_secs(600)),
    }
}

/// Inbound frames allowed per second.
fn inbound_limit(venue: Venue) -> u32 {
    if venue == Venue::Spot { 5 } else { 10 }
}

/// A market-stream session's subscriptions and mode.
#[derive(Debug)]
pub struct Session {
    shared: Arc<Shared>,
    venue: Venue,
    combined: bool,
    subs: Vec<Stream>,
}

impl Session {
    /// A session on `venue` subscribed to the parseable `names` (their kline interest registered).
    pub fn new(shared: Arc<Shared>, venue: Venue, names: &[String], combined: bool) -> Self {
        let mut session = Self { shared, venue, combined, subs: Vec::new() };
        for name in names {
            if let Some(stream) = streams::parse(name, &session.shared.catalog, venue) {
                session.add(stream);
            }
        }
        session
    }

    fn add(&mut self, stream: Stream) {
        if self.subs.iter().any(|s| s.name == stream.name) {
            return;
        }
        if let (Kind::Kline(interval), Some(id)) = (stream.kind, stream.symbol) {
            self.shared.interest.add(id, interval);
        }
        self.subs.push(stream);
    }

    fn remove(&mut self, name: &str) {
        let interest = &self.shared.interest;
        self.subs.retain(|s| {
            let keep = s.name != name;
            if !keep && let (Kind::Kline(interval), Some(id)) = (s.kind, s.symbol) {
                interest.remove(id, interval);
            }
            keep
        });
    }

    fn clear(&mut self) {
        let names: Vec<String> = self.subs.iter().map(|s| s.name.clone()).collect();
        for name in names {
            self.remove(&name);
        }
    }

    /// Answers one control frame.
    fn control(&mut self, text: &str) -> Value {
        let request: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(err) => return json!({"code": 3, "msg": format!("Invalid JSON: {err}")}),
        };
        let id = request.get("id").cloned().unwrap_or(Value::Null);
        if !(id.is_null() || id.is_u64() || id.as_str().is_some_and(|s| s.len() <= 36)) {
            return json!({"code": 2, "msg": "Invalid request: request ID must be an unsigned integer", "id": Value::Null});
        }
        let params: Vec<Value> = request.get("params").and_then(Value::as_array).cloned().unwrap_or_default();
        let names = || params.iter().filter_map(Value::as_str).map(str::to_owned).collect::<Vec<_>>();
        match request.get("method").and_then(Value::as_str) {
            Some("SUBSCRIBE") => {
                let mut parsed = Vec::new();
                for name in names() {
                    match streams::parse(&name, &self.shared.catalog, self.venue) {
                        Some(stream) => parsed.push(stream),
                        None => {
                            return json!({"code": 2, "msg": format!("Invalid request: unknown stream '{name}'"), "id": id});
                        }
                    }
                }
                parsed.into_iter().for_each(|s| self.add(s));
                json!({"result": null, "id": id})
            }
            Some("UNSUBSCRIBE") => {
                names().iter().for_each(|n| self.remove(n));
                json!({"result": null, "id": id})
            }
            Some("LIST_SUBSCRIPTIONS") => {
                json!({"result": self.subs.iter().map(|s| s.name.clone()).collect::<Vec<_>>(), "id": id})
            }
            Some("SET_PROPERTY") => {
                match (params.first().and_then(Value::as_str), params.get(1).and_then(Value::as_bool)) {
                    (Some("combined"), Some(on)) => {
                        self.combined = on;
                        json!({"result": null, "id": id})
                    }
                    (Some("combined"), None) => {
                        json!({"code": 1, "msg": "Invalid value type: expected Boolean", "id": id})
                    }
                    _ => json!({"code": 0, "msg": "Unknown property", "id": id}),
                }
            }
            Some("GET_PROPERTY") => match params.first().and_then(Value::as_str) {
                Some("combined") => json!({"result": self.combined, "id": id}),
                _ => json!({"code": 0, "msg": "Unknown property", "id": id}),
            },
            _ => json!({"code": 2, "msg": "Invalid request: unknown method", "id": id}),
        }
    }
}

/// Runs a market-stream session until the peer leaves, the server stops or a drop is ordered.
pub async fn run(mut socket: Socket, mut session: Session, receivers: Receivers) {
    let Receivers { market: mut market_rx, drop: mut drop_rx, .. } = receivers;
    let shared = session.shared.clone();
    let venue = session.venue;
    let (ping_every, silence_limit) = keepalive(venue);
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
    let (mut last_heard, mut window_start, mut window_count) = (Instant::now(), Instant::now(), 0u32);
    loop {
        tokio::select! {
            () = shared.shutdown.cancelled() => {
                let _ = socket.close(None).await;
                break;
            }
            _ = drop_rx.changed() => break,
            tick = market_rx.recv() => match tick {
                Ok(tick) => {
                    for stream in &session.subs {
                        let Some(data) = streams::payload(stream, &tick, &shared.catalog) else { continue };
                        let frame = if session.combined { json!({"stream": stream.name, "data": data}) } else { data };
                        if !send_text(&mut socket, frame.to_string()).await {
                            return;
                        }
                    }
                }
                Err(RecvError::Lagged(skipped)) => tracing::debug!(skipped, "market stream lagged"),
                Err(RecvError::Closed) => break,
            },
            frame = socket.next() => {
                last_heard = Instant::now();
                match frame {
                    Some(Ok(Message::Text(text))) => {
                        if window_start.elapsed() >= Duration::from_secs(1) {
                            (window_start, window_count) = (Instant::now(), 0);
                        }
                        window_count += 1;
                        if window_count > inbound_limit(venue) {
                            break;
                        }
                        let answer = session.control(text.as_str());
                        if !send_text(&mut socket, answer.to_string()).await {
                            break;
                        }
                    }
                    Some(Ok(Message::Binary(_))) => {
                        if !send_text(&mut socket, json!({"code": 3, "msg": "Invalid JSON: binary frames are not accepted"}).to_string()).await {
                            break;
                        }
                    }
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => {}
                }
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > silence_limit {
                    break;
                }
                let payload = bytes::Bytes::from(shared.wall_ms().to_string());
                if futures_util::SinkExt::send(&mut socket, Message::Ping(payload)).await.is_err() {
                    break;
                }
            }
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.clear();
    }
}
