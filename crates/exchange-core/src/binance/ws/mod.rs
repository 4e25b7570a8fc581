//! The Binance WebSocket side: one task owns each socket, a cloneable [`StreamControl`] talks to
//! it over a bounded channel, and events come out of an [`EventStream`].
//!
//! Venue facts (PROTOCOL.md §4.1): a connection lives at most 24 h; the server pings (spot every
//! 20 s, USD-M every 3 min) and drops a connection that does not answer with a pong echoing the
//! payload; inbound messages are limited to 5/s (spot) or 10/s (USD-M); subscription control
//! frames are `{"method":"SUBSCRIBE","params":[..],"id":n}`. Every task here answers pings,
//! reconnects with exponential backoff and jitter, reconnects on its own shortly before the
//! 24 h limit, resubscribes, and reports each gap ([`GapReason`]) and each recovery, so the
//! caller reconciles over REST. Malformed frames are logged and skipped.
//!
//! | file           | owns                                                              |
//! |----------------|-------------------------------------------------------------------|
//! | `backoff`      | the reconnect delay schedule                                      |
//! | `socket`       | connect, read text frames, pongs, lifetime and idle limits        |
//! | `market`       | the market-stream task (klines, mark price)                       |
//! | `recovery`     | listenKey keepalive and rotation (USD-M user data)                |
//! | `user_futures` | the USD-M user-data task                                          |
//! | `user_spot`    | the spot user-data task over the WebSocket API                    |
//!
//! [`StreamControl`]: crate::venue::StreamControl
//! [`EventStream`]: crate::venue::EventStream
//! [`GapReason`]: crate::venue::GapReason

mod backoff;
mod market;
mod recovery;
mod socket;
mod user_futures;
mod user_spot;

pub use backoff::Backoff;
pub use market::{spawn_market_stream, spawn_market_stream_with_cache};
pub use recovery::{KeepAlive, ListenKeyKeeper};
pub use socket::{Incoming, Socket};
pub use user_futures::spawn_usdm_user_stream;
pub use user_spot::spawn_spot_user_stream;

use std::time::Duration;

/// WebSocket settings; [`WsConfig::default`] holds the defaults.
#[derive(Debug, Clone)]
pub struct WsConfig {
    /// Give up a connection attempt after this long.
    pub connect_timeout: Duration,
    /// First reconnect delay (before jitter).
    pub backoff_base: Duration,
    /// Longest reconnect delay.
    pub backoff_max: Duration,
    /// Reconnect on our own after this long (the venue cuts at 24 h).
    pub max_lifetime: Duration,
    /// A connection silent for this long (no data, no ping) is considered dead.
    pub idle_timeout: Duration,
    /// listenKey keepalive period (the key lives 60 minutes).
    pub listen_key_keepalive: Duration,
    /// Capacity of the event channel; a full channel holds the socket task back.
    pub event_buffer: usize,
}

impl Default for WsConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            backoff_base: Duration::from_millis(250),
            backoff_max: Duration::from_secs(30),
            max_lifetime: Duration::from_secs(23 * 3600 + 30 * 60),
            idle_timeout: Duration::from_secs(600),
            listen_key_keepalive: Duration::from_secs(30 * 60),
            event_buffer: 1024,
        }
    }
}

/// Capacity of a stream's command channel.
const COMMAND_BUFFER: usize = 16;
