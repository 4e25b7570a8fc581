//! One WebSocket connection as the stream tasks use it: connect with a timeout, read text
//! frames, answer pings, and report the end of the connection, including the planned end
//! before the venue's 24 h limit and a connection gone silent.
//!
//! Pongs: tungstenite queues a pong echoing the ping's payload as soon as the ping is read;
//! [`Socket::next_text`] flushes it at once, so the answer does not wait for our next write.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::WsConfig;
use crate::venue::{GapReason, VenueError};

type WsStream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What reading a connection produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// A text frame.
    Text(String),
    /// The connection is over.
    Closed(GapReason),
}

/// An open connection.
#[derive(Debug)]
pub struct Socket {
    ws: WsStream,
    retire_at: Instant,
    idle_timeout: Duration,
}

/// `url` with everything after the last `/` hidden when it may carry a listenKey.
pub(crate) fn loggable(url: &str) -> &str {
    match url.find("/private/").or_else(|| url.find("/ws/")) {
        Some(at) => &url[..at],
        None => url.split('?').next().unwrap_or(url),
    }
}

impl Socket {
    /// Connects to `url`.
    ///
    /// # Errors
    /// [`VenueError::Transport`] when the connection or handshake fails or times out.
    pub async fn connect(url: &str, config: &WsConfig) -> Result<Self, VenueError> {
        let attempt =
            tokio::time::timeout(config.connect_timeout, tokio_tungstenite::connect_async(url)).await;
        let (ws, _) = match attempt {
            Ok(Ok(connected)) => connected,
            Ok(Err(error)) => {
                return Err(VenueError::transport(format!("websocket connect to {}", loggable(url)), error));
            }
            Err(_) => {
                return Err(VenueError::Transport {
                    message: format!("websocket connect to {} timed out", loggable(url)),
                    source: None,
                });
            }
        };
        tracing::info!(url = loggable(url), "websocket connected");
        Ok(Self { ws, retire_at: Instant::now() + config.max_lifetime, idle_timeout: config.idle_timeout })
    }

    /// The next text frame, or how the connection ended. Answers pings; skips binary frames.
    /// Cancel-safe between frames (for use in `select!`).
    pub async fn next_text(&mut self) -> Incoming {
        loop {
            let deadline = (Instant::now() + self.idle_timeout).min(self.retire_at);
            let next = match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Ok(next) => next,
                Err(_) if Instant::now() >= self.retire_at => return Incoming::Closed(GapReason::Rollover),
                Err(_) => {
                    tracing::warn!("websocket silent past the idle timeout; reconnecting");
                    return Incoming::Closed(GapReason::Disconnected);
                }
            };
            match next {
                Some(Ok(Message::Text(text))) => return Incoming::Text(text.as_str().to_owned()),
                Some(Ok(Message::Ping(_))) => {
                    if let Err(error) = self.ws.flush().await {
                        tracing::warn!(%error, "websocket pong failed");
                        return Incoming::Closed(GapReason::Disconnected);
                    }
                }
                Some(Ok(Message::Binary(bytes))) => {
                    tracing::warn!(len = bytes.len(), "skipping a binary websocket frame")
                }
                Some(Ok(Message::Pong(_) | Message::Frame(_))) => {}
                Some(Ok(Message::Close(frame))) => {
                    tracing::info!(?frame, "websocket closed by the server");
                    return Incoming::Closed(GapReason::Disconnected);
                }
                Some(Err(error)) => {
                    tracing::warn!(%error, "websocket read failed");
                    return Incoming::Closed(GapReason::Disconnected);
                }
                None => return Incoming::Closed(GapReason::Disconnected),
            }
        }
    }

    /// Sends a text frame.
    ///
    /// # Errors
    /// [`VenueError::Transport`] when the write fails.
    pub async fn send_text(&mut self, text: String) -> Result<(), VenueError> {
        self.ws.send(Message::text(text)).await.map_err(|e| VenueError::transport("websocket send", e))
    }

    /// Closes the connection politely (errors ignored: it is going away anyway).
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_logged_without_keys() {
        let cases = [
            ("wss://fstream.binance.com/private/ws/SECRETKEY", "wss://fstream.binance.com"),
            ("ws://127.0.0.1:9/ws/SECRETKEY", "ws://127.0.0.1:9"),
            (
                "wss://fstream.binance.com/market/stream?streams=a/b",
                "wss://fstream.binance.com/market/stream",
            ),
        ];
        for (url, shown) in cases {
            assert_eq!(loggable(url), shown);
        }
    }
}
