//! A listenKey user-data session (USD-M, and the retired spot listenKey stream): every event of the
//! key's account and product, raw or (on `/stream`) wrapped as `{"stream":<listenKey>,"data":..}`.
//! When the key expires the session gets `listenKeyExpired` and is closed.

use std::sync::Arc;

use futures_util::StreamExt;
use tokio::sync::broadcast::error::RecvError;
use tokio_tungstenite::tungstenite::Message;

use super::market::keepalive;
use super::{Receivers, Socket, send_text};
use crate::catalog::Venue;
use crate::http::Shared;

/// Runs a user-data session for `key` (of `account` on `venue`).
pub async fn run(
    mut socket: Socket,
    shared: Arc<Shared>,
    receivers: Receivers,
    key: String,
    account: usize,
    venue: Venue,
    combined: bool,
) {
    let Receivers { user: mut user_rx, drop: mut drop_rx, .. } = receivers;
    let (ping_every, _) = keepalive(venue);
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
    let wrap = |json: &str| {
        if combined { format!("{{\"stream\":\"{key}\",\"data\":{json}}}") } else { json.to_owned() }
    };
    loop {
        tokio::select! {
            () = shared.shutdown.cancelled() => {
                let _ = socket.close(None).await;
                break;
            }
            _ = drop_rx.changed() => break,
            message = user_rx.recv() => match message {
                Ok(message) => {
                    if let Some(expired) = &message.expired_key {
                        if *expired == key {
                            let _ = send_text(&mut socket, wrap(&message.json)).await;
                            let _ = socket.close(None).await;
                            break;
                        }
                        continue;
                    }
                    if message.account == account && message.venue == venue && !send_text(&mut socket, wrap(&message.json)).await {
                        break;
                    }
                }
                Err(RecvError::Lagged(skipped)) => tracing::warn!(skipped, "user stream lagged: events lost"),
                Err(RecvError::Closed) => break,
            },
            frame = socket.next() => match frame {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                let payload = bytes::Bytes::from(shared.wall_ms().to_string());
                if futures_util::SinkExt::send(&mut socket, Message::Ping(payload)).await.is_err() {
                    break;
                }
            }
        }
    }
}
