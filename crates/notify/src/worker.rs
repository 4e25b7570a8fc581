//! One channel's delivery task: takes messages from its queue in order, renders each for the
//! channel, and posts it with retries until it is delivered or given up.
//!
//! Retry rules: a transport error or a 5xx waits an exponential backoff with jitter (each wait
//! is drawn between half and all of `initial * 2^(retry-1)`, capped at `max_backoff`); a 429
//! waits exactly as long as the service asked (capped at `max_rate_limit_wait`); any other 4xx
//! is final. After `max_attempts` requests the message is given up. A success that empties
//! Discord's rate-limit bucket delays the next request until the bucket resets.

use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::config::DeliveryConfig;
use crate::event::{Channel, Notification};
use crate::format::{discord_parts, telegram_text};
use crate::queue::Queue;
use crate::transport::{DeliveryError, Transport};

/// The worker's retry settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
}

impl RetryPolicy {
    pub fn new(delivery: &DeliveryConfig) -> Self {
        Self {
            max_attempts: delivery.max_attempts.max(1),
            initial_backoff: delivery.initial_backoff,
            max_backoff: delivery.max_backoff,
        }
    }

    /// The wait before retry number `retry` (1 for the first), given a jitter fraction in [0, 1].
    fn backoff(&self, retry: u32, jitter: f64) -> Duration {
        let doubling = 2_u32.saturating_pow(retry.saturating_sub(1));
        let full = self.initial_backoff.saturating_mul(doubling).min(self.max_backoff);
        full / 2 + (full / 2).mul_f64(jitter.clamp(0.0, 1.0))
    }
}

/// A fraction in [0, 1), different on every call (std's randomly keyed hasher over the clock).
fn jitter() -> f64 {
    let bits = RandomState::new().hash_one(std::time::Instant::now()) >> 11;
    // 53 bits fit an f64 mantissa exactly.
    bits as f64 / (1_u64 << 53) as f64
}

/// A message that was given up.
#[derive(Debug)]
struct GaveUp {
    error: DeliveryError,
    attempts: u32,
}

/// One channel's worker; [`Worker::run`] returns when the queue is closed and empty, or at once
/// when `cancel` fires (counting a message cut off in flight as failed).
#[derive(Debug)]
pub(crate) struct Worker {
    pub queue: Arc<Queue>,
    pub transport: Transport,
    pub policy: RetryPolicy,
    pub label: Option<String>,
    pub cancel: CancellationToken,
}

impl Worker {
    pub async fn run(self) {
        let channel = self.queue.channel().name();
        let mut next_request_at: Option<Instant> = None;
        let mut rejection_logged = false;
        loop {
            let message = tokio::select! {
                biased;
                () = self.cancel.cancelled() => break,
                message = self.queue.pop() => match message {
                    Some(message) => message,
                    None => break,
                },
            };
            let texts = self.render(&message);
            let outcome = tokio::select! {
                biased;
                () = self.cancel.cancelled() => None,
                outcome = self.deliver(&texts, &mut next_request_at) => Some(outcome),
            };
            match outcome {
                Some(Ok(())) => self.queue.count_delivered(),
                Some(Err(gave_up)) => {
                    self.queue.count_failed();
                    log_gave_up(channel, &message.title, gave_up, &mut rejection_logged);
                }
                None => {
                    self.queue.count_failed();
                    let title = &message.title;
                    tracing::warn!(channel, %title, "notification cut off by the shutdown deadline");
                    break;
                }
            }
        }
    }

    fn render(&self, message: &Notification) -> Vec<String> {
        let title = match &self.label {
            Some(label) => format!("[{label}] {}", message.title),
            None => message.title.clone(),
        };
        match self.queue.channel() {
            Channel::Telegram => vec![telegram_text(&title, &message.body)],
            Channel::Discord => discord_parts(&title, &message.body),
        }
    }

    /// Posts every part in order, each with its own attempts; stops at the first part given up.
    async fn deliver(&self, texts: &[String], next_request_at: &mut Option<Instant>) -> Result<(), GaveUp> {
        let channel = self.queue.channel().name();
        for text in texts {
            let mut attempts = 0;
            loop {
                if let Some(at) = next_request_at.take() {
                    tokio::time::sleep_until(at).await;
                }
                attempts += 1;
                match self.transport.post(text).await {
                    Ok(delivered) => {
                        *next_request_at = delivered.pause.map(|pause| Instant::now() + pause);
                        break;
                    }
                    Err(error) if !error.is_retryable() || attempts >= self.policy.max_attempts => {
                        return Err(GaveUp { error, attempts });
                    }
                    Err(error) => {
                        let backoff = || self.policy.backoff(attempts, jitter());
                        let wait = error.retry_after().unwrap_or_else(backoff);
                        tracing::debug!(channel, %error, attempts, ?wait, "notification failed; retrying");
                        *next_request_at = Some(Instant::now() + wait);
                    }
                }
            }
        }
        Ok(())
    }
}

/// Logs a message given up: the first rejection of the channel as an error (it usually means a
/// wrong token or chat), later ones at debug level; other failures as warnings.
fn log_gave_up(channel: &str, title: &str, gave_up: GaveUp, rejection_logged: &mut bool) {
    let GaveUp { error, attempts } = gave_up;
    match error {
        DeliveryError::Rejected { .. } if !*rejection_logged => {
            *rejection_logged = true;
            tracing::error!(
                channel, %error, %title,
                "notification rejected; check the channel's settings (later rejections: debug level)"
            );
        }
        DeliveryError::Rejected { .. } => tracing::debug!(channel, %error, %title, "notification rejected"),
        _ => tracing::warn!(channel, %error, attempts, %title, "notification not delivered; giving up"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(initial_ms: u64, max_ms: u64) -> RetryPolicy {
        let delivery = DeliveryConfig {
            initial_backoff: Duration::from_millis(initial_ms),
            max_backoff: Duration::from_millis(max_ms),
            max_attempts: 0,
            ..DeliveryConfig::default()
        };
        RetryPolicy::new(&delivery)
    }

    #[test]
    fn backoff_doubles_up_to_the_ceiling_with_jitter_in_the_upper_half() {
        let policy = policy(100, 1000);
        let ms = |retry, jitter| policy.backoff(retry, jitter).as_millis();
        let cases =
            [(1, 0.0, 50), (1, 1.0, 100), (2, 0.0, 100), (2, 0.5, 150), (3, 1.0, 400), (5, 1.0, 1000)];
        for (retry, jitter, expected) in cases {
            assert_eq!(ms(retry, jitter), expected, "retry {retry} jitter {jitter}");
        }
        assert_eq!(ms(200, 1.0), 1000, "no overflow on absurd retry counts");
        assert_eq!(ms(1, 7.0), 100, "jitter is clamped");
        assert_eq!(policy.max_attempts, 1, "at least one attempt");
    }

    #[test]
    fn jitter_is_a_fraction_that_varies() {
        let draws: Vec<f64> = (0..64).map(|_| jitter()).collect();
        assert!(draws.iter().all(|j| (0.0..1.0).contains(j)));
        assert!(draws.iter().any(|j| (j - draws[0]).abs() > f64::EPSILON), "{draws:?}");
    }
}
