//! One HTTP request to Telegram or Discord, and what its answer means: delivered (perhaps with a
//! pause before the next request), retry later, or give up. Secrets never leave this file in an
//! error: reqwest errors are stripped of their URL and every text is scrubbed of the token.
//!
//! Service facts this depends on:
//! - Telegram `POST {api}/bot{token}/sendMessage`, JSON `chat_id`, `text`, `parse_mode`,
//!   `disable_web_page_preview` (<https://core.telegram.org/bots/api#sendmessage>). Answers carry
//!   `{"ok": bool, "description": ...}`; a 429 carries `parameters.retry_after` (whole seconds):
//!   `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 5",
//!   "parameters":{"retry_after":5}}`.
//! - Discord `POST {webhook}`, JSON `content` and `allowed_mentions`
//!   (<https://discord.com/developers/docs/resources/webhook#execute-webhook>): 204 (200 with
//!   `?wait=true`). A 429 carries `Retry-After` (seconds) and a body `retry_after` (float
//!   seconds); every answer may carry `X-RateLimit-Remaining` and `X-RateLimit-Reset-After`
//!   (float seconds): at 0 remaining, wait for the reset before the next request
//!   (<https://discord.com/developers/docs/topics/rate-limits>).
//! - Redirects are not followed: the token would go to whatever host a redirect names.

use std::error::Error as _;
use std::time::Duration;

use exchange_core::signing::Secret;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::json;

use crate::config::{ChatId, DeliveryConfig, DiscordConfig, TelegramConfig};

/// Wait after a 429 that says nothing about how long.
const DEFAULT_RATE_LIMIT_WAIT: Duration = Duration::from_secs(1);
/// Longest service description kept in an error.
const MAX_DESCRIPTION_CHARS: usize = 200;

/// Why one delivery request failed. Its `Display` never contains the bot token or webhook URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// The request was not answered: connection refused or reset, timeout, unreadable answer.
    /// The reqwest error is not kept as a source: it carries the URL.
    #[error("transport error: {detail}")]
    Transport {
        /// The error chain, without the URL.
        detail: String,
        /// True when it was a timeout.
        timeout: bool,
    },
    /// The service failed (5xx); worth retrying after a backoff.
    #[error("server error (HTTP {status}): {description}")]
    Server {
        /// HTTP status.
        status: u16,
        /// The service's description, or the start of its answer.
        description: String,
    },
    /// Too many requests (429): retry after `retry_after`.
    #[error("rate limited: retry after {retry_after:?}")]
    RateLimited {
        /// How long the service asked to wait (capped by the configuration).
        retry_after: Duration,
    },
    /// The service refused the message (a 4xx other than 429: bad token, unknown chat, malformed
    /// text). Sending it again would fail the same way.
    #[error("rejected (HTTP {status}): {description}")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// The service's description.
        description: String,
    },
}

impl DeliveryError {
    /// True when the same request may succeed later: transport errors, 5xx and 429.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, Self::Rejected { .. })
    }

    /// The wait the service asked for, if any (429).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after } => Some(*retry_after),
            _ => None,
        }
    }
}

/// A successful request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Delivered {
    /// Wait this long before the next request (the rate-limit bucket is empty).
    pub pause: Option<Duration>,
}

/// One channel's endpoint: posts one rendered text.
#[derive(Debug)]
pub(crate) struct Transport {
    http: reqwest::Client,
    url: Secret,
    target: Target,
    /// Texts scrubbed from every error message.
    secrets: Vec<Secret>,
    max_wait: Duration,
}

#[derive(Debug)]
enum Target {
    Telegram(ChatId),
    Discord,
}

impl Transport {
    /// The Telegram endpoint of `config`.
    pub fn telegram(http: reqwest::Client, config: &TelegramConfig, delivery: &DeliveryConfig) -> Self {
        let token = config.bot_token.expose();
        let url = Secret::new(format!("{}/bot{token}/sendMessage", config.api_url));
        let target = Target::Telegram(config.chat_id.clone());
        Self {
            http,
            url,
            target,
            secrets: vec![config.bot_token.clone()],
            max_wait: delivery.max_rate_limit_wait,
        }
    }

    /// The Discord endpoint of `config`.
    pub fn discord(http: reqwest::Client, config: &DiscordConfig, delivery: &DeliveryConfig) -> Self {
        let url = config.webhook_url.expose().trim().to_owned();
        let mut secrets = vec![Secret::new(url.clone())];
        // The webhook's own token is the last path segment; scrub it on its own too.
        let path = url.split(['?', '#']).next().unwrap_or_default();
        if let Some(token) = path.trim_end_matches('/').rsplit('/').next().filter(|t| t.len() >= 8) {
            secrets.push(Secret::new(token.to_owned()));
        }
        Self {
            http,
            url: Secret::new(url),
            target: Target::Discord,
            secrets,
            max_wait: delivery.max_rate_limit_wait,
        }
    }

    /// Sends `text` once.
    ///
    /// # Errors
    /// A [`DeliveryError`] saying whether and when to try again.
    pub async fn post(&self, text: &str) -> Result<Delivered, DeliveryError> {
        let payload = match &self.target {
            Target::Telegram(chat) => json!({
                "chat_id": match chat {
                    ChatId::Id(id) => json!(id),
                    ChatId::Username(name) => json!(name),
                },
                "text": text,
                "parse_mode": "MarkdownV2",
                "disable_web_page_preview": true,
            }),
            Target::Discord => json!({ "content": text, "allowed_mentions": { "parse": [] } }),
        };
        let sent = self.http.post(self.url.expose()).json(&payload).send().await;
        let response = sent.map_err(|e| self.transport_error(e))?;
        let status = response.status().as_u16();
        let headers = RateHeaders::from_headers(response.headers());
        let body = response.bytes().await.map_err(|e| self.transport_error(e))?;
        let answer = match self.target {
            Target::Telegram(_) => classify_telegram(status, &headers, &body, self.max_wait),
            Target::Discord => classify_discord(status, &headers, &body, self.max_wait),
        };
        answer.map_err(|e| self.scrub(e))
    }

    fn transport_error(&self, error: reqwest::Error) -> DeliveryError {
        let timeout = error.is_timeout();
        let error = error.without_url();
        let mut detail = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            detail.push_str(": ");
            detail.push_str(&cause.to_string());
            source = cause.source();
        }
        DeliveryError::Transport { detail: self.redact(&detail), timeout }
    }

    fn scrub(&self, error: DeliveryError) -> DeliveryError {
        match error {
            DeliveryError::Server { status, description } => {
                DeliveryError::Server { status, description: self.redact(&description) }
            }
            DeliveryError::Rejected { status, description } => {
                DeliveryError::Rejected { status, description: self.redact(&description) }
            }
            other => other,
        }
    }

    fn redact(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for secret in &self.secrets {
            if !secret.expose().is_empty() {
                text = text.replace(secret.expose(), "[REDACTED]");
            }
        }
        text
    }
}

/// The rate-limit headers of an answer, as numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct RateHeaders {
    /// `Retry-After`, seconds.
    pub retry_after: Option<f64>,
    /// `X-RateLimit-Remaining`.
    pub remaining: Option<u64>,
    /// `X-RateLimit-Reset-After`, seconds.
    pub reset_after: Option<f64>,
}

impl RateHeaders {
    fn from_headers(headers: &HeaderMap) -> Self {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
        Self {
            retry_after: text("retry-after").and_then(|t| t.parse().ok()),
            remaining: text("x-ratelimit-remaining").and_then(|t| t.parse().ok()),
            reset_after: text("x-ratelimit-reset-after").and_then(|t| t.parse().ok()),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct TelegramAnswer {
    ok: Option<bool>,
    description: Option<String>,
    parameters: Option<TelegramParameters>,
}

#[derive(Debug, Default, Deserialize)]
struct TelegramParameters {
    retry_after: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
struct DiscordAnswer {
    message: Option<String>,
    retry_after: Option<f64>,
}

/// What a Telegram answer means.
pub(crate) fn classify_telegram(
    status: u16,
    headers: &RateHeaders,
    body: &[u8],
    max_wait: Duration,
) -> Result<Delivered, DeliveryError> {
    let answer: TelegramAnswer = serde_json::from_slice(body).unwrap_or_default();
    let description = || answer.description.clone().unwrap_or_else(|| body_start(body));
    match status {
        200..=299 if answer.ok != Some(false) => Ok(Delivered::default()),
        429 => {
            let asked = answer.parameters.as_ref().and_then(|p| p.retry_after).or(headers.retry_after);
            Err(DeliveryError::RateLimited {
                retry_after: wait(asked, max_wait).unwrap_or(DEFAULT_RATE_LIMIT_WAIT),
            })
        }
        500..=599 => Err(DeliveryError::Server { status, description: description() }),
        _ => Err(DeliveryError::Rejected { status, description: description() }),
    }
}

/// What a Discord answer means.
pub(crate) fn classify_discord(
    status: u16,
    headers: &RateHeaders,
    body: &[u8],
    max_wait: Duration,
) -> Result<Delivered, DeliveryError> {
    let answer: DiscordAnswer = serde_json::from_slice(body).unwrap_or_default();
    let description = || answer.message.clone().unwrap_or_else(|| body_start(body));
    match status {
        200..=299 => {
            let exhausted = headers.remaining == Some(0);
            Ok(Delivered { pause: if exhausted { wait(headers.reset_after, max_wait) } else { None } })
        }
        429 => {
            let header = wait(headers.retry_after, max_wait);
            let in_body = wait(answer.retry_after, max_wait);
            let retry_after = header.max(in_body).or_else(|| wait(headers.reset_after, max_wait));
            Err(DeliveryError::RateLimited { retry_after: retry_after.unwrap_or(DEFAULT_RATE_LIMIT_WAIT) })
        }
        500..=599 => Err(DeliveryError::Server { status, description: description() }),
        _ => Err(DeliveryError::Rejected { status, description: description() }),
    }
}

/// `seconds` as a wait of at most `max` (`None` when absent, negative or not a number).
fn wait(seconds: Option<f64>, max: Duration) -> Option<Duration> {
    let seconds = seconds.filter(|s| *s >= 0.0)?;
    Some(Duration::try_from_secs_f64(seconds).map_or(max, |d| d.min(max)))
}

fn body_start(body: &[u8]) -> String {
    String::from_utf8_lossy(body).chars().take(MAX_DESCRIPTION_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "123456:AAH-secret_token";
    const WEBHOOK: &str = "http://127.0.0.1:9/api/webhooks/1/secret-webhook-token?thread_id=7";
    const MAX: Duration = Duration::from_secs(60);

    /// Status, rate headers, body, and what they mean.
    type Case = (u16, RateHeaders, &'static [u8], Result<Delivered, DeliveryError>);

    fn rate(retry_after: Option<f64>, remaining: Option<u64>, reset_after: Option<f64>) -> RateHeaders {
        RateHeaders { retry_after, remaining, reset_after }
    }

    fn limited(seconds: f64) -> Result<Delivered, DeliveryError> {
        Err(DeliveryError::RateLimited { retry_after: Duration::from_secs_f64(seconds) })
    }

    fn rejected(status: u16, description: &str) -> Result<Delivered, DeliveryError> {
        Err(DeliveryError::Rejected { status, description: description.to_owned() })
    }

    #[test]
    fn telegram_answers() {
        let none = RateHeaders::default();
        // The documented 429 body (https://core.telegram.org/bots/api#responseparameters).
        let too_many = concat!(
            r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 5","#,
            r#""parameters":{"retry_after":5}}"#
        )
        .as_bytes();
        let cases: [Case; 9] = [
            (200, none, br#"{"ok":true,"result":{}}"#, Ok(Delivered::default())),
            (200, none, br#"{"ok":false,"description":"odd"}"#, rejected(200, "odd")),
            (429, none, too_many, limited(5.0)),
            (429, rate(Some(3.0), None, None), br#"{"ok":false}"#, limited(3.0)),
            (429, none, b"", limited(1.0)),
            (429, none, br#"{"ok":false,"parameters":{"retry_after":1e12}}"#, limited(60.0)),
            (
                502,
                none,
                b"<html>Bad Gateway</html>",
                Err(DeliveryError::Server {
                    status: 502,
                    description: "<html>Bad Gateway</html>".to_owned(),
                }),
            ),
            (
                400,
                none,
                br#"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#,
                rejected(400, "Bad Request: chat not found"),
            ),
            (
                401,
                none,
                br#"{"ok":false,"error_code":401,"description":"Unauthorized"}"#,
                rejected(401, "Unauthorized"),
            ),
        ];
        for (status, headers, body, expected) in cases {
            assert_eq!(classify_telegram(status, &headers, body, MAX), expected, "{status}");
        }
    }

    #[test]
    fn discord_answers() {
        let none = RateHeaders::default();
        let pause = |s: f64| Ok(Delivered { pause: Some(Duration::from_secs_f64(s)) });
        let cases: [Case; 10] = [
            (204, none, b"", Ok(Delivered::default())),
            (200, rate(None, Some(0), Some(0.25)), b"{}", pause(0.25)),
            (204, rate(None, Some(3), Some(0.25)), b"", Ok(Delivered::default())),
            (
                429,
                rate(Some(0.5), None, None),
                br#"{"message":"You are being rate limited.","retry_after":1.25,"global":false}"#,
                limited(1.25),
            ),
            (429, rate(Some(2.0), Some(0), Some(0.1)), b"", limited(2.0)),
            (429, none, br#"{"retry_after":0.3}"#, limited(0.3)),
            (429, rate(None, Some(0), Some(0.7)), b"", limited(0.7)),
            (429, rate(Some(f64::NAN), None, None), b"", limited(1.0)),
            (
                503,
                none,
                br#"{"message":"upstream"}"#,
                Err(DeliveryError::Server { status: 503, description: "upstream".to_owned() }),
            ),
            (404, none, br#"{"message":"Unknown Webhook","code":10015}"#, rejected(404, "Unknown Webhook")),
        ];
        for (status, headers, body, expected) in cases {
            assert_eq!(classify_discord(status, &headers, body, MAX), expected, "{status} {headers:?}");
        }
    }

    #[test]
    fn only_rejections_are_final() {
        assert!(!DeliveryError::Rejected { status: 403, description: String::new() }.is_retryable());
        assert!(DeliveryError::Server { status: 500, description: String::new() }.is_retryable());
        assert!(DeliveryError::Transport { detail: String::new(), timeout: true }.is_retryable());
        let limited = DeliveryError::RateLimited { retry_after: Duration::from_secs(2) };
        assert!(limited.is_retryable());
        assert_eq!(limited.retry_after(), Some(Duration::from_secs(2)));
    }

    fn telegram_at(api_url: String) -> Transport {
        let config =
            TelegramConfig { bot_token: Secret::new(TOKEN.to_owned()), chat_id: ChatId::Id(42), api_url };
        Transport::telegram(reqwest::Client::new(), &config, &DeliveryConfig::default())
    }

    fn discord_at(url: &str) -> Transport {
        let config = DiscordConfig { webhook_url: Secret::new(url.to_owned()) };
        Transport::discord(reqwest::Client::new(), &config, &DeliveryConfig::default())
    }

    #[tokio::test]
    async fn a_refused_connection_is_reported_without_the_url() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let webhook = format!("http://127.0.0.1:{port}/api/webhooks/1/secret-webhook-token");
        let transports = [telegram_at(format!("http://127.0.0.1:{port}")), discord_at(&webhook)];
        for transport in transports {
            let error = transport.post("hello").await.unwrap_err();
            assert!(matches!(error, DeliveryError::Transport { timeout: false, .. }), "{error:?}");
            assert!(error.is_retryable());
            for shown in [error.to_string(), format!("{error:?}"), format!("{transport:?}")] {
                assert!(
                    !shown.contains("secret_token") && !shown.contains("secret-webhook-token"),
                    "{shown}"
                );
                assert!(!shown.contains("/bot") && !shown.contains("/api/webhooks"), "{shown}");
            }
            assert!(error.to_string().starts_with("transport error: error sending request"), "{error}");
        }
    }

    #[test]
    fn descriptions_that_echo_a_secret_are_scrubbed() {
        let telegram = telegram_at("http://127.0.0.1:9".to_owned());
        let echoed = DeliveryError::Rejected { status: 404, description: format!("no bot{TOKEN} here") };
        assert_eq!(telegram.scrub(echoed).to_string(), "rejected (HTTP 404): no bot[REDACTED] here");
        let discord = discord_at(WEBHOOK);
        let echoed =
            DeliveryError::Server { status: 500, description: format!("{WEBHOOK} and secret-webhook-token") };
        assert_eq!(discord.scrub(echoed).to_string(), "server error (HTTP 500): [REDACTED] and [REDACTED]");
    }
}
