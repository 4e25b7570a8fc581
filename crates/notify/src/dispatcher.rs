//! [`Notifier`]: the non-blocking front of the crate. `send` routes a notification by its kind
//! and pushes it onto each of its channels' bounded queues, synchronously and in constant time,
//! whatever state the services are in; one worker task per channel delivers in order. A dead
//! service never slows trading: its queue fills, the oldest messages are dropped and counted.
//!
//! Lifecycle: [`Notifier::start`] inside a Tokio runtime, [`Notifier::sender`] for other tasks,
//! [`Notifier::shutdown`] at exit, which delivers what is queued until a deadline and then gives
//! up. Dropping a `Notifier` without `shutdown` aborts the workers and discards what is queued.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::{NotifyConfig, NotifyConfigError};
use crate::event::{Channel, Notification};
use crate::queue::{ChannelStats, Pushed, Queue};
use crate::transport::Transport;
use crate::worker::{RetryPolicy, Worker};

/// Why the notifier could not start.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The settings are invalid.
    #[error(transparent)]
    Config(#[from] NotifyConfigError),
    /// [`Notifier::start`] was called outside a Tokio runtime.
    #[error("the notifier must be started inside a Tokio runtime")]
    NoRuntime,
    /// The HTTP client could not be built (TLS setup).
    #[error("cannot build the HTTP client: {detail}")]
    Client {
        /// What failed, without any URL.
        detail: String,
    },
}

/// A cheap, cloneable handle that sends notifications; hand one to every task that reports.
#[derive(Debug, Clone)]
pub struct NotifySender {
    /// One queue per channel that is on, indexed by [`Channel::index`].
    queues: Arc<[Option<Arc<Queue>>; 2]>,
}

impl NotifySender {
    /// Queues `notification` for each of its kind's channels that is on. Never blocks, never
    /// fails, never waits for the network: a full queue drops its oldest message instead (the
    /// channel's `dropped` counter and a warning at 1, 2, 4, 8... drops say so).
    pub fn send(&self, notification: impl Into<Notification>) {
        let notification = notification.into();
        let Some((last, others)) = notification.kind.channels().split_last() else { return };
        for queue in others.iter().filter_map(|channel| self.queue(*channel)) {
            log_push(queue.channel(), queue.push(notification.clone()));
        }
        if let Some(queue) = self.queue(*last) {
            log_push(queue.channel(), queue.push(notification));
        }
    }

    fn queue(&self, channel: Channel) -> Option<&Arc<Queue>> {
        self.queues[channel.index()].as_ref()
    }
}

fn log_push(channel: Channel, pushed: Pushed) {
    let channel = channel.name();
    match pushed {
        Pushed::Queued => {}
        Pushed::DroppedOldest { dropped } if dropped.is_power_of_two() => {
            tracing::warn!(channel, dropped, "notification queue full: dropped the oldest message");
        }
        Pushed::DroppedOldest { dropped } => {
            tracing::debug!(channel, dropped, "notification queue full: dropped the oldest message");
        }
        Pushed::Closed => tracing::debug!(channel, "notification sent after shutdown: dropped"),
    }
}

/// What [`Notifier::shutdown`] achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShutdownReport {
    /// True when every queued message was dealt with (delivered or given up) before the deadline.
    pub drained: bool,
    /// Final counters of each channel that was on.
    pub channels: Vec<(Channel, ChannelStats)>,
}

impl ShutdownReport {
    /// The final counters of `channel`, if it was on.
    pub fn stats(&self, channel: Channel) -> Option<ChannelStats> {
        self.channels.iter().find(|(c, _)| *c == channel).map(|(_, stats)| *stats)
    }
}

/// Routes notifications to Telegram and Discord through one bounded queue and one worker per
/// channel. Owns the workers; see the module docs for the lifecycle.
#[derive(Debug)]
pub struct Notifier {
    sender: NotifySender,
    tasks: JoinSet<()>,
    cancel: CancellationToken,
}

impl Notifier {
    /// Starts one worker per channel that `config` turns on (none: same as
    /// [`Notifier::disabled`]). Must be called inside a Tokio runtime, where the workers run.
    ///
    /// # Errors
    /// [`NotifyError::Config`] when `config` is invalid, [`NotifyError::NoRuntime`] outside a
    /// runtime, [`NotifyError::Client`] when the HTTP client cannot be built.
    pub fn start(config: NotifyConfig) -> Result<Self, NotifyError> {
        config.validate()?;
        if !config.is_enabled() {
            return Ok(Self::disabled());
        }
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| NotifyError::NoRuntime)?;
        let delivery = &config.delivery;
        let http = reqwest::Client::builder()
            .timeout(delivery.request_timeout)
            .connect_timeout(delivery.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("dual-agent-notify/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| NotifyError::Client { detail: e.without_url().to_string() })?;
        let transports = [
            config.telegram.as_ref().map(|t| Transport::telegram(http.clone(), t, delivery)),
            config.discord.as_ref().map(|d| Transport::discord(http.clone(), d, delivery)),
        ];
        let cancel = CancellationToken::new();
        let mut tasks = JoinSet::new();
        let mut queues: [Option<Arc<Queue>>; 2] = [None, None];
        for (channel, transport) in Channel::ALL.into_iter().zip(transports) {
            let Some(transport) = transport else { continue };
            let queue = Arc::new(Queue::new(channel, delivery.queue_capacity));
            queues[channel.index()] = Some(queue.clone());
            let worker = Worker {
                queue,
                transport,
                policy: RetryPolicy::new(delivery),
                label: config.label.clone(),
                cancel: cancel.clone(),
            };
            tasks.spawn_on(worker.run(), &runtime);
            tracing::info!(channel = channel.name(), "notifications on");
        }
        Ok(Self { sender: NotifySender { queues: Arc::new(queues) }, tasks, cancel })
    }

    /// A notifier with no channel: `send` discards everything. Needs no runtime.
    pub fn disabled() -> Self {
        let sender = NotifySender { queues: Arc::new([None, None]) };
        Self { sender, tasks: JoinSet::new(), cancel: CancellationToken::new() }
    }

    /// See [`NotifySender::send`].
    pub fn send(&self, notification: impl Into<Notification>) {
        self.sender.send(notification);
    }

    /// A handle for other tasks; it outlives nothing: after shutdown its messages are dropped.
    pub fn sender(&self) -> NotifySender {
        self.sender.clone()
    }

    /// True when `channel` is on.
    pub fn is_enabled(&self, channel: Channel) -> bool {
        self.sender.queue(channel).is_some()
    }

    /// Messages of `channel` dropped so far (0 when the channel is off).
    pub fn dropped(&self, channel: Channel) -> u64 {
        self.sender.queue(channel).map_or(0, |queue| queue.dropped())
    }

    /// The counters of `channel` now, if it is on.
    pub fn stats(&self, channel: Channel) -> Option<ChannelStats> {
        self.sender.queue(channel).map(|queue| queue.stats())
    }

    /// Stops accepting messages, delivers what is queued for at most `within`, then cuts off
    /// what is still in flight (counted failed) or queued (counted dropped) and stops the
    /// workers. Returns the final counters.
    pub async fn shutdown(mut self, within: Duration) -> ShutdownReport {
        let queues: Vec<Arc<Queue>> = self.sender.queues.iter().flatten().cloned().collect();
        for queue in &queues {
            queue.close();
        }
        let mut tasks = std::mem::take(&mut self.tasks);
        let drained = tokio::time::timeout(within, join_all(&mut tasks)).await.is_ok();
        if !drained {
            self.cancel.cancel();
            join_all(&mut tasks).await;
        }
        let mut channels = Vec::with_capacity(queues.len());
        for queue in &queues {
            let discarded = queue.discard_all();
            if discarded > 0 {
                tracing::warn!(
                    channel = queue.channel().name(),
                    discarded,
                    "shutdown deadline: queued notifications dropped"
                );
            }
            channels.push((queue.channel(), queue.stats()));
        }
        ShutdownReport { drained, channels }
    }
}

impl Drop for Notifier {
    fn drop(&mut self) {
        for queue in self.sender.queues.iter().flatten() {
            queue.close();
        }
        self.cancel.cancel();
    }
}

async fn join_all(tasks: &mut JoinSet<()>) {
    while let Some(joined) = tasks.join_next().await {
        if let Err(error) = joined
            && error.is_panic()
        {
            tracing::error!(%error, "notification worker panicked");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Kind;

    #[test]
    fn a_disabled_notifier_discards_without_a_runtime() {
        let notifier = Notifier::disabled();
        notifier.send(Notification::new(Kind::Critical, "t", "b"));
        for channel in Channel::ALL {
            assert!(!notifier.is_enabled(channel));
            assert_eq!((notifier.dropped(channel), notifier.stats(channel)), (0, None));
        }
        assert!(
            matches!(Notifier::start(NotifyConfig::disabled()), Ok(n) if !n.is_enabled(Channel::Telegram))
        );
    }

    #[test]
    fn starting_outside_a_runtime_is_an_error_not_a_panic() {
        let config = NotifyConfig {
            discord: Some(crate::config::DiscordConfig {
                webhook_url: exchange_core::signing::Secret::new("http://127.0.0.1:9/hook".to_owned()),
            }),
            ..NotifyConfig::default()
        };
        assert!(matches!(Notifier::start(config), Err(NotifyError::NoRuntime)));
    }

    #[test]
    fn invalid_settings_are_refused() {
        let mut config = NotifyConfig::disabled();
        config.delivery.queue_capacity = 0;
        let error = Notifier::start(config).unwrap_err();
        assert!(error.to_string().contains("delivery.queue_capacity"), "{error}");
    }
}
