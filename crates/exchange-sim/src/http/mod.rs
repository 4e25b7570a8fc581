//! The HTTP side: one hyper HTTP/1.1 server on 127.0.0.1 serving the REST APIs, the admin API and
//! the WebSocket upgrades on the same port.
//!
//! | file           | owns                                                          |
//! |----------------|---------------------------------------------------------------|
//! | `server`       | accept loop, per-connection tasks, dispatch by path           |
//! | `reply`        | JSON responses and headers                                    |
//! | `routes`       | the REST route table (method, path, security, weight)         |
//! | `rest`         | the REST pipeline: faults, limits, params, auth, dispatch     |
//! | `params`       | parameter decoding and typed getters                          |
//! | `auth`         | API key, signature, timestamp and recvWindow checks           |
//! | `limits`       | request-weight and order-rate limits                          |
//! | `market_data`  | public endpoints of both products                             |
//! | `spot`         | spot trading and account endpoints                            |
//! | `futures`      | USD-M trading, account and listenKey endpoints                |
//! | `algo`         | USD-M algo order endpoints                                    |
//! | `admin`        | `/sim/...`                                                    |

pub mod admin;
pub mod algo;
pub mod auth;
pub mod futures;
pub mod limits;
pub mod market_data;
pub mod params;
pub mod reply;
pub mod rest;
pub mod routes;
pub mod server;
pub mod spot;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::actor::{EngineHandle, UserMessage};
use crate::catalog::Catalog;
use crate::config::{ApiKey, LimitConfig};
use crate::faults::Faults;
use crate::market::feed::{Interest, MarketTick};
use limits::Limiter;

/// What every request handler and WebSocket session shares.
#[derive(Debug)]
pub struct Shared {
    /// The instruments.
    pub catalog: Arc<Catalog>,
    /// API keys.
    pub keys: Vec<ApiKey>,
    /// Rate-limit settings.
    pub limits: LimitConfig,
    /// The engine task.
    pub engine: EngineHandle,
    /// Injected faults.
    pub faults: Faults,
    /// Rate-limit counters.
    pub limiter: Limiter,
    /// Market snapshots.
    pub market_tx: broadcast::Sender<Arc<MarketTick>>,
    /// User-data messages.
    pub user_tx: broadcast::Sender<Arc<UserMessage>>,
    /// Kline stream subscriptions.
    pub interest: Arc<Interest>,
    /// Bumped to drop every WebSocket connection.
    pub ws_drop: watch::Sender<u64>,
    /// Server shutdown.
    pub shutdown: CancellationToken,
    /// Connection and session tasks.
    pub tracker: TaskTracker,
}

impl Shared {
    /// The server's wall clock in ms, with the clock-skew fault applied.
    pub fn wall_ms(&self) -> i64 {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
        i64::try_from(now).unwrap_or(i64::MAX) + self.faults.skew_ms()
    }
}
