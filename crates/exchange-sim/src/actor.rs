//! The engine task: the one owner of the exchange state ([`Exchange`]: the engine, its clock and the
//! listenKeys). Request handlers send it jobs (closures over `&mut Exchange`) on a bounded channel
//! and wait for the reply on a oneshot ([`EngineHandle::call`]). Between jobs it advances the market
//! clock on a timer (when `speed > 0`), expires listenKeys, and after every job or tick publishes the
//! queued events: market snapshots on one broadcast channel, user-data messages on another.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::api_error::ApiError;
use crate::catalog::Venue;
use crate::engine::Engine;
use crate::listen_keys::ListenKeys;
use crate::market::feed::{Interest, MarketTick};
use crate::wire::events::{event_json, listen_key_expired};

/// Wall-time interval of the clock timer.
const TICK_EVERY: Duration = Duration::from_millis(20);
/// Jobs that may wait for the engine.
const QUEUE: usize = 1024;
/// Most ticks one timer-driven catch-up runs, so a fast clock cannot stall the task.
const MAX_TICKS_PER_SYNC: i64 = 20_000;

/// The market clock: market time runs at `speed` market seconds per wall second from an anchor,
/// and admin steps move the anchor.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    speed: f64,
    anchor_wall: Instant,
    anchor_market: i64,
}

impl Clock {
    /// A clock at `market_ms` now.
    pub fn new(speed: f64, market_ms: i64) -> Self {
        Self { speed, anchor_wall: Instant::now(), anchor_market: market_ms }
    }

    /// Market time now, ms.
    pub fn now(&self) -> i64 {
        let elapsed = self.anchor_wall.elapsed().as_secs_f64() * 1000.0 * self.speed;
        self.anchor_market + elapsed as i64
    }

    /// Moves market time forward by `ms`.
    pub fn step(&mut self, ms: i64) {
        self.anchor_market += ms.max(0);
    }

    /// Changes the speed from now on.
    pub fn set_speed(&mut self, speed: f64) {
        self.anchor_market = self.now();
        self.anchor_wall = Instant::now();
        self.speed = speed.max(0.0);
    }

    /// Market seconds per wall second.
    pub fn speed(&self) -> f64 {
        self.speed
    }
}

/// A user-data message for the streams of one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserMessage {
    /// The account.
    pub account: usize,
    /// Spot (WebSocket API) or USD-M (listenKey stream).
    pub venue: Venue,
    /// The event JSON.
    pub json: String,
    /// Set for `listenKeyExpired`: only the stream of this key gets it, and then closes.
    pub expired_key: Option<String>,
}

/// The state the engine task owns.
#[derive(Debug)]
pub struct Exchange {
    /// Orders, accounts, market.
    pub engine: Engine,
    /// Market clock.
    pub clock: Clock,
    /// listenKeys.
    pub listen_keys: ListenKeys,
    /// Which kline streams have subscribers.
    pub interest: Arc<Interest>,
    /// Set to expire every listenKey at the next housekeeping pass.
    pub expire_all_keys: bool,
}

impl Exchange {
    /// Runs the market up to the clock (at most 20,000 ticks at a time: a clock
    /// faster than the engine makes the market lag behind it rather than stall the task).
    pub fn sync(&mut self) {
        let market = self.engine.market();
        let limit = market.time_ms().saturating_add(MAX_TICKS_PER_SYNC * market.tick_ms());
        let target = self.clock.now().min(limit);
        if target > market.time_ms() || target > self.engine.now() {
            let watched = self.interest.snapshot();
            self.engine.advance_to(target, &watched);
        }
    }

    /// Steps market time by `ms` at once (admin), running every tick on the way.
    pub fn step(&mut self, ms: i64) -> u64 {
        self.sync();
        self.clock.step(ms);
        let watched = self.interest.snapshot();
        self.engine.advance_to(self.clock.now(), &watched)
    }
}

type Job = Box<dyn FnOnce(&mut Exchange) + Send>;

/// A cloneable handle to the engine task.
#[derive(Debug, Clone)]
pub struct EngineHandle {
    tx: mpsc::Sender<Job>,
}

impl EngineHandle {
    /// Runs `job` on the engine task (after bringing the market up to the clock) and returns its
    /// result.
    ///
    /// # Errors
    /// 503 "Service Unavailable." when the engine task has stopped (shutdown).
    pub async fn call<R, F>(&self, job: F) -> Result<R, ApiError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Exchange) -> R + Send + 'static,
    {
        let (reply_tx, reply_rx) = oneshot::channel();
        let wrapped: Job = Box::new(move |exchange: &mut Exchange| {
            // The caller may have gone (client disconnected): then nobody wants the reply.
            let _ = reply_tx.send(job(exchange));
        });
        self.tx.send(wrapped).await.map_err(|_| ApiError::service_unavailable())?;
        reply_rx.await.map_err(|_| ApiError::service_unavailable())
    }
}

/// The channels the engine task publishes on.
#[derive(Debug, Clone)]
pub struct Publish {
    /// Market snapshots.
    pub market: broadcast::Sender<Arc<MarketTick>>,
    /// User-data messages.
    pub user: broadcast::Sender<Arc<UserMessage>>,
}

/// Starts the engine task; it runs until `shutdown` and then returns the exchange (to save it).
pub fn spawn(
    exchange: Exchange,
    publish: Publish,
    shutdown: CancellationToken,
) -> (EngineHandle, tokio::task::JoinHandle<Exchange>) {
    let (tx, rx) = mpsc::channel(QUEUE);
    let task = tokio::spawn(run(exchange, rx, publish, shutdown));
    (EngineHandle { tx }, task)
}

fn flush(exchange: &mut Exchange, publish: &Publish) {
    for tick in exchange.engine.take_feed() {
        // No subscriber is fine: nobody is watching the market.
        let _ = publish.market.send(Arc::new(tick));
    }
    let events = exchange.engine.take_events();
    if publish.user.receiver_count() == 0 {
        return;
    }
    let catalog = exchange.engine.catalog().clone();
    for event in events {
        let venue = if event.is_spot() { Venue::Spot } else { Venue::Futures };
        let json = event_json(&catalog, &event).to_string();
        let _ = publish.user.send(Arc::new(UserMessage {
            account: event.account(),
            venue,
            json,
            expired_key: None,
        }));
    }
}

fn expire_keys(exchange: &mut Exchange, publish: &Publish) {
    let force = std::mem::take(&mut exchange.expire_all_keys);
    let now = exchange.engine.now();
    for (key, account, venue) in exchange.listen_keys.expire(Instant::now(), force) {
        let json = listen_key_expired(&key, now).to_string();
        let _ = publish.user.send(Arc::new(UserMessage { account, venue, json, expired_key: Some(key) }));
    }
}

async fn run(
    mut exchange: Exchange,
    mut rx: mpsc::Receiver<Job>,
    publish: Publish,
    shutdown: CancellationToken,
) -> Exchange {
    let mut clock_timer = tokio::time::interval(TICK_EVERY);
    clock_timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut housekeeping = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            job = rx.recv() => {
                let Some(job) = job else { break };
                // A bug that panics in one job must not take the exchange down: the caller gets
                // no reply (503) and the task goes on.
                let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    exchange.sync();
                    job(&mut exchange);
                }));
                if ran.is_err() {
                    tracing::error!("an engine job panicked; its request was answered 503");
                }
                if exchange.expire_all_keys {
                    expire_keys(&mut exchange, &publish);
                }
            }
            _ = clock_timer.tick(), if exchange.clock.speed() > 0.0 => {
                if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| exchange.sync())).is_err() {
                    tracing::error!("the market clock panicked");
                }
            }
            _ = housekeeping.tick() => expire_keys(&mut exchange, &publish),
        }
        flush(&mut exchange, &publish);
    }
    exchange
}
