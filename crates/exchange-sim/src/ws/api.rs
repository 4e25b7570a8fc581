//! The spot WebSocket API at `/ws-api/v3`, as far as user data needs it (PROTOCOL.md §1.4, §4.4):
//! `ping`, `time`, `userDataStream.subscribe.signature` (params `apiKey`, `timestamp`, `signature`,
//! optional `recvWindow`; signed over every other param sorted by name, values raw) and
//! `userDataStream.unsubscribe`. Answers are `{"id":..,"status":200,"result":..}` or
//! `{"id":..,"status":4xx,"error":{"code":..,"msg":..}}`; events arrive as
//! `{"subscriptionId":N,"event":{..}}` (executionReport, outboundAccountPosition).

use std::sync::Arc;

use exchange_core::signing::binance::ws_api_payload;
use exchange_core::signing::verify_hmac_sha256_hex;
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;
use tokio_tungstenite::tungstenite::Message;

use super::market::keepalive;
use super::{Receivers, Socket, send_text};
use crate::api_error::ApiError;
use crate::catalog::Venue;
use crate::http::Shared;
use crate::http::auth::{api_key, check_timing};
use crate::http::params::Params;

struct Subscription {
    id: u64,
    account: usize,
}

fn ok(id: &Value, result: Value) -> Value {
    json!({"id": id, "status": 200, "result": result, "rateLimits": []})
}

fn fail(id: &Value, err: &ApiError) -> Value {
    json!({"id": id, "status": err.status, "error": {"code": err.code, "msg": err.msg}})
}

/// The request's params as text pairs (numbers and booleans in their JSON spelling).
fn text_params(params: Option<&Value>) -> Vec<(String, String)> {
    params
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
                .collect()
        })
        .unwrap_or_default()
}

fn subscribe(shared: &Shared, pairs: Vec<(String, String)>) -> Result<usize, ApiError> {
    let params = Params::from_pairs(pairs.clone());
    let key = api_key(&shared.keys, params.get("apiKey"))?;
    let signature = params.required("signature")?;
    let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    params.required("timestamp")?;
    if !verify_hmac_sha256_hex(&key.secret, ws_api_payload(&refs).as_bytes(), signature) {
        return Err(ApiError::bad_signature());
    }
    check_timing(&params, shared.wall_ms())?;
    Ok(key.account)
}

/// Runs a WebSocket API session.
pub async fn run(mut socket: Socket, shared: Arc<Shared>, receivers: Receivers) {
    let Receivers { user: mut user_rx, drop: mut drop_rx, .. } = receivers;
    let mut subs: Vec<Subscription> = Vec::new();
    let mut next_id = 0u64;
    let (ping_every, _) = keepalive(Venue::Spot);
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
    loop {
        tokio::select! {
            () = shared.shutdown.cancelled() => {
                let _ = socket.close(None).await;
                break;
            }
            _ = drop_rx.changed() => break,
            message = user_rx.recv() => match message {
                Ok(message) => {
                    if message.venue != Venue::Spot || message.expired_key.is_some() {
                        continue;
                    }
                    for sub in subs.iter().filter(|s| s.account == message.account) {
                        let frame = format!("{{\"subscriptionId\":{},\"event\":{}}}", sub.id, message.json);
                        if !send_text(&mut socket, frame).await {
                            return;
                        }
                    }
                }
                Err(RecvError::Lagged(skipped)) => tracing::warn!(skipped, "ws-api user data lagged: events lost"),
                Err(RecvError::Closed) => break,
            },
            frame = socket.next() => {
                let text = match frame {
                    Some(Ok(Message::Text(text))) => text.as_str().to_owned(),
                    Some(Ok(Message::Binary(_))) => String::new(),
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => continue,
                };
                let answer = match serde_json::from_str::<Value>(&text) {
                    Err(_) => fail(&Value::Null, &ApiError::bad(-1100, "Illegal characters found in a parameter: the request is not valid JSON.")),
                    Ok(request) => {
                        let id = request.get("id").cloned().unwrap_or(Value::Null);
                        match request.get("method").and_then(Value::as_str) {
                            Some("ping") => ok(&id, json!({})),
                            Some("time") => ok(&id, json!({"serverTime": shared.wall_ms()})),
                            Some("userDataStream.subscribe.signature") => match subscribe(&shared, text_params(request.get("params"))) {
                                Ok(account) => {
                                    subs.push(Subscription { id: next_id, account });
                                    next_id += 1;
                                    ok(&id, json!({"subscriptionId": next_id - 1}))
                                }
                                Err(err) => fail(&id, &err),
                            },
                            Some("userDataStream.unsubscribe") => {
                                let which = request.get("params").and_then(|p| p.get("subscriptionId")).and_then(Value::as_u64);
                                subs.retain(|s| which.is_some_and(|w| w != s.id));
                                ok(&id, json!({}))
                            }
                            Some(_) => fail(&id, &ApiError::bad(-1020, "This operation is not supported.")),
                            None => fail(&id, &ApiError::mandatory("method")),
                        }
                    }
                };
                if !send_text(&mut socket, answer.to_string()).await {
                    break;
                }
            }
            _ = ping.tick() => {
                let payload = bytes::Bytes::from(shared.wall_ms().to_string());
                if futures_util::SinkExt::send(&mut socket, Message::Ping(payload)).await.is_err() {
                    break;
                }
            }
        }
    }
}
