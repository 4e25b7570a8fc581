//! Telegram and Discord delivery behind a non-blocking dispatcher (DESIGN §13).
//!
//! Callers build a [`Notification`] (or an [`Event`], which renders to one) and call
//! [`Notifier::send`]: synchronous, constant time, never failing. The notification's [`Kind`]
//! picks the channels: trade alerts go to Telegram, performance summaries to Discord, critical
//! events to both. Each channel has a bounded queue (a full queue drops its oldest message and
//! counts it) and one worker task that delivers in order, with retries, backoff and the services'
//! rate limits. A dead service never slows trading.
//!
//! ```no_run
//! # async fn demo() -> Result<(), notify::NotifyError> {
//! use std::time::Duration;
//! use notify::{Kind, Notification, NotifyConfig, Notifier};
//!
//! let config = NotifyConfig::from_env(|key| std::env::var(key).ok())?;
//! let notifier = Notifier::start(config)?;
//! notifier.send(Notification::new(Kind::Critical, "Daily loss breaker tripped", "day -20.5%"));
//! let report = notifier.shutdown(Duration::from_secs(5)).await;
//! # let _ = report;
//! # Ok(())
//! # }
//! ```
//!
//! Files: `event` (what is sent, and where), `format` (escaping and length limits per service),
//! `config` (environment variables), `transport` (one request and what its answer means), `queue`
//! (the bounded drop-oldest queue and counters), `worker` (delivery with retries), `dispatcher`
//! (the [`Notifier`]).
//!
//! Secrets (the bot token, the webhook URL) are [`exchange_core::signing::Secret`]s: redacted in
//! `Debug`, scrubbed from every error, and logs name the channel only.

mod config;
mod dispatcher;
mod event;
pub mod format;
mod queue;
mod transport;
mod worker;

pub use config::{
    ChatId, ConfigProblem, DEFAULT_TELEGRAM_API_URL, DeliveryConfig, DiscordConfig, NotifyConfig,
    NotifyConfigError, TelegramConfig,
};
pub use dispatcher::{Notifier, NotifyError, NotifySender, ShutdownReport};
pub use event::{Channel, Event, Kind, Notification};
pub use queue::ChannelStats;
pub use transport::DeliveryError;
