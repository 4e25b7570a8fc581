//! The signed HTTP transport shared by the spot and USD-M raw clients: it signs, keeps the clock
//! offset, budgets request weight, classifies answers and retries only what is safe to retry.
//!
//! Venue facts (PROTOCOL.md §1, §5, §6): the API key travels in `X-MBX-APIKEY`; a signed
//! request adds `recvWindow` and `timestamp` and then `signature` as the LAST parameter, an
//! HMAC-SHA256 over exactly the query bytes sent (all parameters go in the query string here,
//! for every method, so the signed bytes are the sent bytes). Retry policy:
//! - `-1021` (timestamp outside recvWindow): the request was refused, so resync the clock and
//!   send it once more, whatever the endpoint;
//! - reads (`GET`) and idempotent writes (cancel, leverage, listenKey): retried with backoff
//!   (200, 400, 800 ms) on transport errors, 5XX, 503 "Service Unavailable." and `-1008`;
//! - new orders: never retried here. A refused connection is a definite failure; a timeout, a
//!   5XX, a 503 "Unknown error..." or `-1006`/`-1007` is an UNKNOWN outcome, returned as
//!   [`VenueError::UnknownOutcome`] for the caller to resolve by querying the order;
//! - 429 blocks every request until `Retry-After`; 418 blocks every request until the ban ends.
//!
//! Logs name the method, path and status only: never the query (it carries the signature) and
//! never the key.

mod classify;
mod clock;
mod limits;

pub use classify::{Class, classify, parse_retry_after};
pub use clock::{ClockSync, offset_from_sample};
pub use limits::{Gate, WeightLimiter};

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::Method;
use serde::de::DeserializeOwned;

use crate::binance::models::BinanceServerTime;
use crate::signing::ApiCredentials;
use crate::signing::binance::QueryString;
use crate::venue::VenueError;

/// Transport settings; [`HttpConfig::default`] holds the defaults.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// `recvWindow` sent with signed requests, ms (Binance default 5000).
    pub recv_window_ms: u64,
    /// Whole-request timeout; past it an order's outcome is unknown.
    pub timeout: Duration,
    /// Connection timeout; past it nothing was sent.
    pub connect_timeout: Duration,
    /// Retries of reads and idempotent writes after a transient failure.
    pub retries: u32,
    /// First retry delay; doubled for each further retry.
    pub retry_base: Duration,
    /// How often the clock offset is re-measured.
    pub clock_resync_every: Duration,
    /// Request weight per minute until exchangeInfo says otherwise.
    pub weight_limit: u32,
    /// Pause after a 429 without `Retry-After`.
    pub default_rate_limit_wait: Duration,
    /// Pause after a 418 without `Retry-After` (the shortest ban is 2 minutes).
    pub default_ban_wait: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            recv_window_ms: 5_000,
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            retries: 3,
            retry_base: Duration::from_millis(200),
            clock_resync_every: Duration::from_secs(600),
            weight_limit: 2_400,
            default_rate_limit_wait: Duration::from_secs(60),
            default_ban_wait: Duration::from_secs(120),
        }
    }
}

/// How a request authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// No key.
    Public,
    /// `X-MBX-APIKEY` only (listenKey endpoints).
    ApiKey,
    /// Key, `timestamp`, `recvWindow` and `signature`.
    Signed,
}

/// What a request does, which decides what may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind<'a> {
    /// A read: retried on transient failures.
    Read,
    /// An idempotent write (cancel, settings, listenKey): retried on transient failures.
    Write,
    /// A new order: never retried blind; an unknown outcome names its client order id.
    Order {
        /// The order's client order id.
        client_order_id: &'a str,
    },
}

#[derive(Debug)]
struct State {
    clock: ClockSync,
    limiter: WeightLimiter,
    /// When the latest new-order request was handed to the HTTP client.
    order_handed_at: Option<Instant>,
}

#[derive(Debug)]
struct Inner {
    client: reqwest::Client,
    base: String,
    time_path: &'static str,
    credentials: Option<ApiCredentials>,
    config: HttpConfig,
    state: Mutex<State>,
}

/// The shared, cloneable HTTP transport of one product (one base URL).
#[derive(Debug, Clone)]
pub struct BinanceHttp {
    inner: Arc<Inner>,
}

/// Local wall-clock time, ms since the Unix epoch.
pub fn local_now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl BinanceHttp {
    /// A transport for `base` (`https://fapi.binance.com`), measuring the clock at `time_path`
    /// (`/fapi/v1/time`).
    ///
    /// # Errors
    /// [`VenueError::Config`] when the HTTP client cannot be built.
    pub fn new(
        base: &str,
        time_path: &'static str,
        credentials: Option<ApiCredentials>,
        config: HttpConfig,
    ) -> Result<Self, VenueError> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .build()
            .map_err(|e| VenueError::Config(format!("http client: {e}")))?;
        let state = State {
            clock: ClockSync::new(config.clock_resync_every),
            limiter: WeightLimiter::new(config.weight_limit),
            order_handed_at: None,
        };
        let inner = Inner {
            client,
            base: base.trim_end_matches('/').to_owned(),
            time_path,
            credentials,
            config,
            state: Mutex::new(state),
        };
        Ok(Self { inner: Arc::new(inner) })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the plain-data state inconsistent.
        self.inner.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The credentials, when configured.
    pub fn credentials(&self) -> Option<&ApiCredentials> {
        self.inner.credentials.as_ref()
    }

    /// The settings.
    pub fn config(&self) -> &HttpConfig {
        &self.inner.config
    }

    /// Replaces the request-weight budget (from exchangeInfo `rateLimits`).
    pub fn set_weight_limit(&self, limit: u32) {
        self.state().limiter.set_limit(limit);
    }

    /// The venue's time now, by our clock and the measured offset, ms.
    pub fn venue_now_ms(&self) -> i64 {
        self.state().clock.timestamp(local_now_ms())
    }

    /// When the latest new-order request ([`Kind::Order`]) was handed to the HTTP client, signed
    /// and built: its connection writes it to the socket from there without waiting on
    /// anything of ours.
    pub fn last_order_handed_at(&self) -> Option<Instant> {
        self.state().order_handed_at
    }

    /// The measured offset `server - local`, ms.
    pub fn clock_offset_ms(&self) -> i64 {
        self.state().clock.offset_ms()
    }

    /// Measures the clock offset with one `GET` of the time endpoint; returns the server time.
    ///
    /// # Errors
    /// Any error of the request.
    pub async fn sync_clock(&self) -> Result<i64, VenueError> {
        self.wait_gate(1).await?;
        let sent = local_now_ms();
        let (status, body) = self
            .send(Method::GET, self.inner.time_path, "", Auth::Public, false)
            .await
            .map_err(|e| VenueError::transport(format!("GET {}", self.inner.time_path), e.without_url()))?;
        let received = local_now_ms();
        if classify(status, &body, None) != Class::Success {
            return Err(VenueError::Unavailable { status, msg: body.chars().take(200).collect() });
        }
        let time: BinanceServerTime = decode(&body)?;
        self.state().clock.record(sent, time.server_time, received, Instant::now());
        tracing::debug!(offset_ms = self.clock_offset_ms(), "binance clock synced");
        Ok(time.server_time)
    }

    async fn ensure_clock(&self) -> Result<(), VenueError> {
        let (needs, never) = {
            let state = self.state();
            (state.clock.needs_sync(Instant::now()), !state.clock.is_measured())
        };
        if needs && let Err(error) = self.sync_clock().await {
            if never {
                return Err(error);
            }
            tracing::warn!(%error, "binance clock resync failed; keeping the previous offset");
        }
        Ok(())
    }

    async fn wait_gate(&self, weight: u32) -> Result<(), VenueError> {
        loop {
            let gate = {
                let state = self.state();
                let now_ms = state.clock.timestamp(local_now_ms());
                state.limiter.check(weight, Instant::now(), now_ms)
            };
            match gate {
                Gate::Go => {
                    let mut state = self.state();
                    let now_ms = state.clock.timestamp(local_now_ms());
                    state.limiter.reserve(weight, now_ms);
                    return Ok(());
                }
                Gate::Wait(delay) => {
                    tracing::debug!(delay_ms = delay.as_millis() as u64, "binance weight budget: pacing");
                    tokio::time::sleep(delay).await;
                }
                Gate::Refuse(error) => return Err(error),
            }
        }
    }

    fn query(&self, params: &QueryString, auth: Auth) -> Result<String, VenueError> {
        if auth != Auth::Signed {
            return Ok(params.as_str().to_owned());
        }
        let credentials = self
            .credentials()
            .ok_or_else(|| VenueError::Config("signed request without credentials".into()))?;
        let mut signed = params.clone();
        signed.push("recvWindow", &self.inner.config.recv_window_ms.to_string());
        signed.push("timestamp", &self.venue_now_ms().to_string());
        Ok(signed.finish_signed(&credentials.secret))
    }

    /// Sends one request and reads the whole answer; `Err` only for transport failures. For an
    /// `order`, notes when it was handed to the client.
    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &str,
        auth: Auth,
        order: bool,
    ) -> Result<(u16, String), reqwest::Error> {
        let url = if query.is_empty() {
            format!("{}{path}", self.inner.base)
        } else {
            format!("{}{path}?{query}", self.inner.base)
        };
        let mut request = self.inner.client.request(method.clone(), url);
        if auth != Auth::Public
            && let Some(credentials) = self.credentials()
        {
            request = request.header("X-MBX-APIKEY", credentials.api_key.as_str());
        }
        if order {
            self.state().order_handed_at = Some(Instant::now());
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let header =
            |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let used = header("x-mbx-used-weight-1m").and_then(|v| v.trim().parse::<u32>().ok());
        let retry_after = header("retry-after");
        if let Some(used) = used {
            let mut state = self.state();
            let now_ms = state.clock.timestamp(local_now_ms());
            state.limiter.record_used(used, now_ms);
        }
        let now = Instant::now();
        let retry_after = parse_retry_after(retry_after.as_deref());
        match status {
            429 => self
                .state()
                .limiter
                .rate_limited(now, retry_after.unwrap_or(self.inner.config.default_rate_limit_wait)),
            418 => {
                self.state().limiter.banned(now, retry_after.unwrap_or(self.inner.config.default_ban_wait))
            }
            _ => {}
        }
        tracing::debug!(%method, path, status, "binance request");
        let body = response.text().await?;
        Ok((status, body))
    }

    fn block_remaining(&self) -> Duration {
        match self.state().limiter.check(0, Instant::now(), 0) {
            Gate::Refuse(e) => e.retry_after().unwrap_or_default(),
            _ => Duration::ZERO,
        }
    }

    /// Sends a request with the retry policy of the module doc and decodes the answer.
    ///
    /// # Errors
    /// Every [`VenueError`] the module doc describes; [`VenueError::NotFound`] for `-2013` and
    /// `-2011` "Unknown order sent.".
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        params: &QueryString,
        weight: u32,
        auth: Auth,
        kind: Kind<'_>,
    ) -> Result<T, VenueError> {
        let retries = if matches!(kind, Kind::Order { .. }) { 0 } else { self.inner.config.retries };
        let mut attempt = 0;
        let mut resynced = false;
        loop {
            if auth == Auth::Signed {
                self.ensure_clock().await?;
            }
            self.wait_gate(weight).await?;
            let query = self.query(params, auth)?;
            let order = matches!(kind, Kind::Order { .. });
            let failure = match self.send(method.clone(), path, &query, auth, order).await {
                Err(error) => {
                    let not_sent = error.is_connect() || error.is_builder();
                    // Without the URL: it carries the signature.
                    let failure = VenueError::transport(format!("{method} {path}"), error.without_url());
                    match kind {
                        Kind::Order { client_order_id } if !not_sent => {
                            return Err(VenueError::UnknownOutcome {
                                client_order_id: client_order_id.to_owned(),
                                source: Box::new(failure),
                            });
                        }
                        _ => failure,
                    }
                }
                Ok((status, body)) => match classify(status, &body, None) {
                    Class::Success => return decode(&body),
                    Class::ClockSkew { msg } if !resynced => {
                        tracing::warn!(path, %msg, "binance timestamp refused; resyncing the clock and retrying once");
                        resynced = true;
                        self.state().clock.invalidate();
                        continue;
                    }
                    Class::ClockSkew { msg } => return Err(VenueError::ClockSkew { msg }),
                    Class::RateLimited { .. } => {
                        return Err(VenueError::RateLimited { retry_after: self.block_remaining() });
                    }
                    Class::Banned { .. } => {
                        return Err(VenueError::Banned { retry_after: self.block_remaining() });
                    }
                    Class::NotFound { code, msg } => {
                        return Err(VenueError::NotFound { what: format!("{code}: {msg}") });
                    }
                    Class::Auth { code, msg } => return Err(VenueError::Auth { code, msg }),
                    Class::Rejected { code, msg } => return Err(VenueError::Rejected { code, msg }),
                    Class::Unknown { status, msg } => {
                        let failure = VenueError::Unavailable { status, msg };
                        if let Kind::Order { client_order_id } = kind {
                            return Err(VenueError::UnknownOutcome {
                                client_order_id: client_order_id.to_owned(),
                                source: Box::new(failure),
                            });
                        }
                        failure
                    }
                    Class::Unavailable { status, msg } => VenueError::Unavailable { status, msg },
                },
            };
            if attempt >= retries {
                return Err(failure);
            }
            attempt += 1;
            let delay = self.inner.config.retry_base * 2u32.saturating_pow(attempt - 1);
            tracing::warn!(path, attempt, error = %failure, "binance request failed; retrying");
            tokio::time::sleep(delay).await;
        }
    }
}

/// Decodes a JSON answer.
fn decode<T: DeserializeOwned>(body: &str) -> Result<T, VenueError> {
    serde_json::from_str(body).map_err(|e| VenueError::decode(body, e))
}
