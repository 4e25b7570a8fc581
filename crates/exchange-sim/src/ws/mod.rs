//! WebSocket endpoints on the same port as REST, reached by HTTP upgrade (hyper's upgrade plus
//! tokio-tungstenite's `from_raw_socket`).
//!
//! Path layout (the sim's stand-ins for `stream.binance.com`, `fstream.binance.com` and
//! `ws-api.binance.com`):
//!
//! | path                                                       | what                                   |
//! |------------------------------------------------------------|----------------------------------------|
//! | `/ws`, `/ws/<s1>/<s2>`                                     | spot raw streams (mark price: USD-M)   |
//! | `/stream?streams=<s1>/<s2>`                                | spot combined streams                  |
//! | `/fstream/ws/...`, `/fstream/stream?streams=...`           | USD-M streams, old unrouted paths      |
//! | `/market/ws/...`, `/market/stream?...` (also `/public/...`, with or without `/fstream`) | USD-M routed paths |
//! | `/private/ws/<listenKey>`, `/private/ws?listenKey=<key>`, `/private/stream?streams=<key>` | USD-M user data |
//! | `/ws/<listenKey>`, `/fstream/ws/<listenKey>`                 | user data on the old paths             |
//! | `/ws-api/v3`                                               | spot WebSocket API (user data)         |
//!
//! Every session closes on server shutdown and on the admin "drop WebSockets" fault.

pub mod api;
pub mod market;
pub mod streams;
pub mod user;

use std::sync::Arc;

use bytes::Bytes;
use futures_util::SinkExt;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONNECTION, HeaderValue, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, UPGRADE};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;

use crate::api_error::ApiError;
use crate::catalog::Venue;
use crate::http::Shared;
use crate::http::params::Params;
use crate::http::reply::{self, Body};

/// The socket of a session.
pub type Socket = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// The broadcast receivers of a session, taken before the upgrade is answered.
#[derive(Debug)]
pub struct Receivers {
    /// Market snapshots.
    pub market: tokio::sync::broadcast::Receiver<Arc<crate::market::feed::MarketTick>>,
    /// User-data messages.
    pub user: tokio::sync::broadcast::Receiver<Arc<crate::actor::UserMessage>>,
    /// The drop-everything signal.
    pub drop: tokio::sync::watch::Receiver<u64>,
}

/// True for a WebSocket upgrade request.
pub fn is_upgrade<B>(req: &Request<B>) -> bool {
    let has = |name, word: &str| {
        req.headers()
            .get_all(name)
            .iter()
            .any(|v| v.to_str().is_ok_and(|s| s.to_ascii_lowercase().contains(word)))
    };
    has(UPGRADE, "websocket") && has(CONNECTION, "upgrade")
}

/// Where an upgrade goes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Market { venue: Venue, streams: Vec<String>, combined: bool },
    User { key: String, combined: bool },
    Api,
}

fn target(path: &str, query: &str) -> Option<Target> {
    let params = Params::parse(query, "").unwrap_or_default();
    let (futures, rest) = match path.strip_prefix("/fstream") {
        Some(rest) => (true, rest),
        None => (false, path),
    };
    if rest == "/ws-api/v3" && !futures {
        return Some(Target::Api);
    }
    let (routed, rest) =
        match ["/market", "/public", "/private"].iter().find_map(|p| rest.strip_prefix(p).map(|r| (*p, r))) {
            Some((prefix, rest)) => (Some(prefix), rest),
            None => (None, rest),
        };
    let venue = if futures || routed.is_some() { Venue::Futures } else { Venue::Spot };
    let (combined, names): (bool, Vec<String>) = if rest == "/stream" {
        let list = params.get("streams").unwrap_or("");
        (true, list.split('/').filter(|s| !s.is_empty()).map(str::to_owned).collect())
    } else if rest == "/ws" || rest.starts_with("/ws/") {
        (
            false,
            rest.trim_start_matches("/ws").split('/').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        )
    } else {
        return None;
    };
    let listen_key = params.get("listenKey").map(str::to_owned).or_else(|| {
        let looks_like_key = |s: &String| s.len() >= 32 && s.bytes().all(|b| b.is_ascii_alphanumeric());
        (names.len() == 1 && looks_like_key(&names[0])).then(|| names[0].clone())
    });
    match (routed, listen_key) {
        (_, Some(key)) => Some(Target::User { key, combined }),
        (Some("/private"), None) => None,
        _ => Some(Target::Market { venue, streams: names, combined }),
    }
}

fn refuse(err: &ApiError) -> Response<Body> {
    reply::error(err, &[])
}

/// Answers an upgrade request and starts the session on the upgraded connection.
pub async fn upgrade(shared: Arc<Shared>, req: Request<Incoming>) -> Response<Body> {
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let Some(target) = target(&path, &query) else {
        return refuse(&ApiError::unknown_path("GET", &path));
    };
    let Some(accept) = req.headers().get(SEC_WEBSOCKET_KEY).map(|k| derive_accept_key(k.as_bytes())) else {
        return refuse(&ApiError::bad(-1102, "Missing Sec-WebSocket-Key."));
    };
    let user = if let Target::User { key, .. } = &target {
        let key = key.clone();
        match shared.engine.call(move |ex| ex.listen_keys.lookup(&key, std::time::Instant::now())).await {
            Ok(Some(found)) => Some(found),
            Ok(None) => return refuse(&ApiError::bad_listen_key()),
            Err(err) => return refuse(&err),
        }
    } else {
        None
    };
    // Subscribe before answering 101: whatever happens after the client sees the upgrade reaches it.
    let receivers = Receivers {
        market: shared.market_tx.subscribe(),
        user: shared.user_tx.subscribe(),
        drop: shared.ws_drop.subscribe(),
    };
    let market_session = match &target {
        Target::Market { venue, streams, combined } => {
            Some(market::Session::new(shared.clone(), *venue, streams, *combined))
        }
        _ => None,
    };
    let session_shared = shared.clone();
    shared.tracker.spawn(async move {
        let upgraded = match hyper::upgrade::on(req).await {
            Ok(upgraded) => upgraded,
            Err(err) => {
                tracing::debug!(%err, "websocket upgrade failed");
                return;
            }
        };
        let socket = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
        match (target, user, market_session) {
            (Target::Market { .. }, _, Some(session)) => market::run(socket, session, receivers).await,
            (Target::User { key, combined }, Some((account, venue)), _) => {
                user::run(socket, session_shared, receivers, key, account, venue, combined).await;
            }
            (Target::Api, ..) => api::run(socket, session_shared, receivers).await,
            _ => {}
        }
    });
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(value) = HeaderValue::from_str(&accept) {
        headers.insert(SEC_WEBSOCKET_ACCEPT, value);
    }
    response
}

/// Sends a text frame; false when the peer is gone.
pub async fn send_text(socket: &mut Socket, text: String) -> bool {
    socket.send(Message::text(text)).await.is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_layout() {
        let market = |venue, streams: &[&str], combined| Target::Market {
            venue,
            streams: streams.iter().map(|s| s.to_string()).collect(),
            combined,
        };
        let key = "A".repeat(64);
        let cases: Vec<(String, &str, Option<Target>)> = vec![
            ("/ws/btcusdt@kline_1h".into(), "", Some(market(Venue::Spot, &["btcusdt@kline_1h"], false))),
            ("/ws".into(), "", Some(market(Venue::Spot, &[], false))),
            (
                "/stream".into(),
                "streams=a@trade/b@trade",
                Some(market(Venue::Spot, &["a@trade", "b@trade"], true)),
            ),
            (
                "/market/ws/btcusdt@markPrice".into(),
                "",
                Some(market(Venue::Futures, &["btcusdt@markPrice"], false)),
            ),
            (
                "/fstream/market/stream".into(),
                "streams=x@trade",
                Some(market(Venue::Futures, &["x@trade"], true)),
            ),
            (
                "/fstream/ws/btcusdt@kline_1m".into(),
                "",
                Some(market(Venue::Futures, &["btcusdt@kline_1m"], false)),
            ),
            (
                "/public/ws/btcusdt@bookTicker".into(),
                "",
                Some(market(Venue::Futures, &["btcusdt@bookTicker"], false)),
            ),
            (format!("/private/ws/{key}"), "", Some(Target::User { key: key.clone(), combined: false })),
            (
                "/private/ws".into(),
                "listenKey=abc",
                Some(Target::User { key: "abc".into(), combined: false }),
            ),
            (format!("/ws/{key}"), "", Some(Target::User { key: key.clone(), combined: false })),
            ("/ws-api/v3".into(), "", Some(Target::Api)),
            ("/private/ws".into(), "", None),
            ("/nope".into(), "", None),
        ];
        for (path, query, want) in cases {
            assert_eq!(target(&path, query), want, "{path}?{query}");
        }
    }
}
