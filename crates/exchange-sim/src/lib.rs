//! exchange-sim: a Binance-compatible exchange on 127.0.0.1 — spot `/api/v3`, USD-M `/fapi`, the
//! WebSocket market streams, the USD-M user-data stream, the spot WebSocket API and the algo order
//! API — with a seeded synthetic market (or a replay of kline files), real API keys and HMAC checks,
//! Binance's error codes and rate limits, faults on demand and an admin API (DESIGN §5).
//!
//! URL layout (one port; `http://` for REST, `ws://` for the rest):
//!
//! | base                                   | stands in for                      |
//! |----------------------------------------|------------------------------------|
//! | `/api/v3/...`                          | `https://api.binance.com/api/v3`   |
//! | `/fapi/v1/...`, `/fapi/v2`, `/fapi/v3` | `https://fapi.binance.com/fapi/..` |
//! | `/ws/<stream>`, `/stream?streams=`     | `wss://stream.binance.com:9443`    |
//! | `/fstream/...`; `/market`, `/public`, `/private` (with or without `/fstream`) | `wss://fstream.binance.com` (old and routed paths) |
//! | `/ws-api/v3`                           | `wss://ws-api.binance.com/ws-api/v3` |
//! | `/sim/...`                             | the admin API (no auth)            |
//!
//! Times: every timestamp in answers and events is MARKET time (the simulated clock), except
//! `serverTime` (`/time`, `exchangeInfo`), which is the server's wall clock, the clock that
//! `timestamp`/`recvWindow` are checked against.
//!
//! Architecture: one engine task owns all exchange state ([`actor`]); the HTTP and WebSocket
//! handlers ([`http`], [`ws`]) send it jobs over a bounded channel and get the answer on a oneshot;
//! the matching logic ([`engine`]) and the market ([`market`]) are synchronous and do no I/O.
//!
//! | module        | owns                                                         |
//! |---------------|--------------------------------------------------------------|
//! | `config`      | the TOML config, defaults, validation                        |
//! | `catalog`     | the instruments and their filters                            |
//! | `market`      | prices, generator, replay, kline history                     |
//! | `engine`      | accounts, orders, matching, algo orders, funding, liquidation |
//! | `actor`       | the engine task, its clock, publishing events                |
//! | `http`        | REST, admin API, auth, rate limits                           |
//! | `ws`          | market streams, user-data streams, spot WebSocket API        |
//! | `wire`        | Binance JSON shapes                                          |
//! | `faults`      | injected faults                                              |
//! | `listen_keys` | listenKeys                                                   |
//! | `persist`     | `--state` save and load                                      |

pub mod actor;
pub mod api_error;
pub mod catalog;
pub mod config;
pub mod engine;
pub mod error;
pub mod faults;
pub mod http;
pub mod listen_keys;
pub mod market;
pub mod persist;
pub mod time;
pub mod wire;
pub mod ws;

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use actor::{Clock, Exchange, Publish};
use catalog::Catalog;
use config::Settings;
use engine::{Engine, EngineSettings};
use error::SimError;
use faults::Faults;
use http::Shared;
use http::limits::Limiter;
use listen_keys::ListenKeys;
use market::MarketSettings;
use market::feed::Interest;
use market::replay::ReplayTrack;

pub use config::{DEMO_API_KEY, DEMO_API_SECRET, SimConfig};

/// A running simulator.
#[derive(Debug)]
pub struct RunningSim {
    addr: SocketAddr,
    shutdown: CancellationToken,
    done: tokio::task::JoinHandle<Result<(), SimError>>,
}

impl RunningSim {
    /// The bound address (127.0.0.1 and the actual port).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `ws://127.0.0.1:PORT`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// The token that stops the simulator.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Stops the simulator and waits until it is down (state saved if `--state` was given).
    ///
    /// # Errors
    /// When saving the state fails.
    pub async fn stop(self) -> Result<(), SimError> {
        self.shutdown.cancel();
        self.wait().await
    }

    /// Waits until the simulator has been stopped through its token.
    ///
    /// # Errors
    /// When saving the state fails.
    pub async fn wait(self) -> Result<(), SimError> {
        self.done.await.map_err(|e| SimError::Engine(e.to_string()))?
    }
}

/// Replay tracks by asset, and the span `[first open, end)` of all their data.
type Replay = (Vec<Option<ReplayTrack>>, Option<(i64, i64)>);

/// Loads the replay tracks and maps them to assets.
fn load_replay(catalog: &Catalog, settings: &Settings) -> Result<Replay, SimError> {
    let Some(dir) = &settings.replay_dir else { return Ok((Vec::new(), None)) };
    let mut tracks: Vec<Option<ReplayTrack>> = vec![None; catalog.assets.len()];
    let mut span: Option<(i64, i64)> = None;
    for (name, track) in market::replay::load_dir(dir)? {
        let Some(spec) = catalog.symbols.iter().find(|s| s.symbol.as_str() == name) else { continue };
        let (first, end) = (track.first_open(), track.end());
        span = Some(span.map_or((first, end), |(a, b)| (a.min(first), b.max(end))));
        if let Some(slot) = tracks.get_mut(spec.asset) {
            *slot = Some(track);
        }
    }
    if span.is_none() {
        return Err(SimError::ReplayEmpty(dir.clone()));
    }
    Ok((tracks, span))
}

fn wall_now_ms() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    i64::try_from(now).unwrap_or(0)
}

/// Starts the simulator on 127.0.0.1 (port from `settings`, 0 for any free port) and returns at
/// once; it runs until its token is cancelled. With `state_file`, state is loaded from it (if it
/// exists) and saved to it on the way down.
///
/// # Errors
/// When the port cannot be bound, a replay file or the state file cannot be read.
pub async fn start(
    settings: Settings,
    state_file: Option<PathBuf>,
    shutdown: CancellationToken,
) -> Result<RunningSim, SimError> {
    let catalog = Arc::new(Catalog::builtin().map_err(SimError::Catalog)?);
    let (replay, span) = load_replay(&catalog, &settings)?;
    let tick = settings.tick_ms;
    let mut start_ms = settings.start_ms.unwrap_or_else(wall_now_ms).div_euclid(tick) * tick;
    if let Some((first, end)) = span
        && !(first..end).contains(&start_ms)
    {
        // Replay without a start inside the data: start after the backfill, within the data.
        start_ms = (first + settings.backfill_ms).min(end - tick).div_euclid(tick) * tick;
    }
    let engine_settings = EngineSettings {
        market: MarketSettings {
            seed: settings.seed,
            tick_ms: tick,
            vol_scale: settings.volatility,
            start_ms,
            backfill_ms: span
                .map_or(settings.backfill_ms, |(first, _)| settings.backfill_ms.min(start_ms - first)),
            max_minutes: settings.max_minutes,
            max_hours: settings.max_hours,
            start_prices: Vec::new(),
        },
        fees: settings.fees,
        accounts: settings.accounts.clone(),
    };
    let saved = match &state_file {
        Some(path) => persist::load(path)?,
        None => None,
    };
    let engine = match saved {
        Some(saved) => Engine::restore(catalog.clone(), &engine_settings, replay, saved),
        None => Engine::build(catalog.clone(), &engine_settings, replay),
    };
    let listener = TcpListener::bind(("127.0.0.1", settings.port))
        .await
        .map_err(|source| SimError::Bind { port: settings.port, source })?;
    let addr = listener.local_addr().map_err(|source| SimError::Bind { port: settings.port, source })?;
    let interest = Arc::new(Interest::default());
    let exchange = Exchange {
        clock: Clock::new(settings.speed, engine.now()),
        engine,
        listen_keys: ListenKeys::new(
            Duration::from_secs(settings.limits.listen_key_minutes * 60),
            settings.seed,
        ),
        interest: interest.clone(),
        expire_all_keys: false,
    };
    let publish = Publish { market: broadcast::channel(4096).0, user: broadcast::channel(65_536).0 };
    let (engine_handle, engine_task) = actor::spawn(exchange, publish.clone(), shutdown.clone());
    let tracker = TaskTracker::new();
    let shared = Arc::new(Shared {
        catalog,
        keys: settings.keys.clone(),
        limits: settings.limits.clone(),
        engine: engine_handle,
        faults: Faults::new(settings.seed),
        limiter: Limiter::new(settings.limits.clone()),
        market_tx: publish.market,
        user_tx: publish.user,
        interest,
        ws_drop: watch::channel(0).0,
        shutdown: shutdown.clone(),
        tracker: tracker.clone(),
    });
    tracker.spawn(http::server::serve(listener, shared));
    let token = shutdown.clone();
    let done = tokio::spawn(async move {
        token.cancelled().await;
        let exchange = engine_task.await.map_err(|e| SimError::Engine(e.to_string()))?;
        tracker.close();
        if tokio::time::timeout(Duration::from_secs(3), tracker.wait()).await.is_err() {
            tracing::warn!("some connections did not close within 3 s");
        }
        if let Some(path) = state_file {
            persist::save(&path, &exchange.engine.saved_state())?;
            tracing::info!(path = %path.display(), "state saved");
        }
        Ok(())
    });
    Ok(RunningSim { addr, shutdown, done })
}

/// The binary's body: starts the simulator, prints `exchange-sim listening on http://127.0.0.1:PORT`
/// on stdout (tests and scripts parse it), and runs until `shutdown` is cancelled.
///
/// # Errors
/// As [`start`], and when saving the state on the way down fails.
pub async fn run(
    settings: Settings,
    state_file: Option<PathBuf>,
    shutdown: CancellationToken,
) -> Result<(), SimError> {
    let sim = start(settings, state_file, shutdown).await?;
    let mut stdout = std::io::stdout();
    // stdout gone (closed pipe) only loses the announcement; the server still runs.
    let _ = writeln!(stdout, "exchange-sim listening on {}", sim.http_url());
    let _ = stdout.flush();
    tracing::info!(addr = %sim.addr(), "exchange-sim ready");
    sim.wait().await
}
