//! Configuration: which channels are on (from the environment, DESIGN §9: secrets never come from
//! TOML) and how delivery behaves (queue size, attempts, backoff, timeouts).
//!
//! Variables read by [`NotifyConfig::from_env`]:
//! - `TELEGRAM_BOT_TOKEN` (secret) and `TELEGRAM_CHAT_ID` (a number such as `-1001234567890`, or
//!   `@channelname`): both set turns Telegram on; only one of them set is an error.
//!   `TELEGRAM_API_URL`: the Bot API base, default `https://api.telegram.org`.
//! - `DISCORD_WEBHOOK_URL` (secret): set turns Discord on.
//! - `NOTIFY_QUEUE_CAPACITY`, `NOTIFY_MAX_ATTEMPTS`: override [`DeliveryConfig`]'s defaults.
//!
//! An empty value counts as unset. Errors name the variable, never a secret's value.

use std::fmt;
use std::time::Duration;

use exchange_core::signing::Secret;

/// Default Telegram Bot API base URL.
pub const DEFAULT_TELEGRAM_API_URL: &str = "https://api.telegram.org";

/// Telegram delivery: where and as whom.
#[derive(Debug, Clone)]
pub struct TelegramConfig {
    /// The bot token (`123456:ABC-DEF...`); it is part of every request's path.
    pub bot_token: Secret,
    /// The chat to post to.
    pub chat_id: ChatId,
    /// The Bot API base URL without a trailing `/` (a loopback server in tests).
    pub api_url: String,
}

/// A Telegram chat: a numeric id or a public `@username`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatId {
    /// A numeric chat id (negative for groups and channels).
    Id(i64),
    /// `@channelusername`.
    Username(String),
}

/// Discord delivery: the webhook, which is its own credential.
#[derive(Debug, Clone)]
pub struct DiscordConfig {
    /// `https://discord.com/api/webhooks/{id}/{token}`, possibly with a query (`?thread_id=`).
    pub webhook_url: Secret,
}

/// How the dispatcher queues and retries; the same for every channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryConfig {
    /// Messages waiting per channel; when full, the oldest is dropped.
    pub queue_capacity: usize,
    /// Requests per message part before it is given up (the first one included).
    pub max_attempts: u32,
    /// Backoff before the first retry after a transport error or 5xx; doubles each retry.
    pub initial_backoff: Duration,
    /// Ceiling of the doubling backoff.
    pub max_backoff: Duration,
    /// Ceiling of a wait asked for by the service (429 `retry_after`, rate-limit reset).
    pub max_rate_limit_wait: Duration,
    /// Whole-request timeout.
    pub request_timeout: Duration,
    /// TCP and TLS connect timeout.
    pub connect_timeout: Duration,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            queue_capacity: 256,
            max_attempts: 5,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_rate_limit_wait: Duration::from_secs(300),
            request_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// Everything the notifier needs. A channel set to `None` is off.
#[derive(Debug, Clone, Default)]
pub struct NotifyConfig {
    /// Telegram, when on.
    pub telegram: Option<TelegramConfig>,
    /// Discord, when on.
    pub discord: Option<DiscordConfig>,
    /// Queueing and retries.
    pub delivery: DeliveryConfig,
    /// Shown before every title as `[label]` (`futures-agent`), to tell senders apart.
    pub label: Option<String>,
}

/// One problem in the notification settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The variable or field (`TELEGRAM_CHAT_ID`, `delivery.queue_capacity`).
    pub key: String,
    /// What is wrong (never a secret's value).
    pub message: String,
}

/// Every problem found in the notification settings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct NotifyConfigError {
    /// The problems, in the order checked.
    pub problems: Vec<ConfigProblem>,
}

impl fmt::Display for NotifyConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid notification settings: ")?;
        for (i, problem) in self.problems.iter().enumerate() {
            let separator = if i == 0 { "" } else { "; " };
            write!(f, "{separator}{}: {}", problem.key, problem.message)?;
        }
        Ok(())
    }
}

impl NotifyConfig {
    /// Reads the variables listed in the module docs through `get` (the process environment, or
    /// the agents' dotenv layers); channels whose variables are unset stay off.
    ///
    /// # Errors
    /// Every problem at once: half a Telegram setting, a malformed token, chat id, URL or number,
    /// and whatever [`NotifyConfig::validate`] reports.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Self, NotifyConfigError> {
        let get = |key: &str| get(key).filter(|value| !value.trim().is_empty());
        let mut problems = Vec::new();
        let mut problem = |key: &str, message: &str| {
            problems.push(ConfigProblem { key: key.to_owned(), message: message.to_owned() })
        };
        let mut config = Self::default();

        let token = get("TELEGRAM_BOT_TOKEN").map(Secret::new);
        let chat = get("TELEGRAM_CHAT_ID");
        let api_url = get("TELEGRAM_API_URL").unwrap_or_else(|| DEFAULT_TELEGRAM_API_URL.to_owned());
        let api_url_ok = is_http_url(api_url.trim());
        if !api_url_ok {
            problem("TELEGRAM_API_URL", "not an http(s) URL");
        }
        match (token, chat) {
            (Some(bot_token), Some(chat)) => {
                let token_ok = bot_token.expose().contains(':')
                    && bot_token.expose().chars().all(|c| c.is_ascii_alphanumeric() || "_-:".contains(c));
                if !token_ok {
                    problem("TELEGRAM_BOT_TOKEN", "not a bot token (expected `<digits>:<key>`)");
                }
                let chat_id = parse_chat_id(chat.trim());
                if chat_id.is_none() {
                    problem("TELEGRAM_CHAT_ID", "expected a number or @channelname");
                }
                if let (true, true, Some(chat_id)) = (token_ok, api_url_ok, chat_id) {
                    let api_url = api_url.trim().trim_end_matches('/').to_owned();
                    config.telegram = Some(TelegramConfig { bot_token, chat_id, api_url });
                }
            }
            (Some(_), None) => {
                problem("TELEGRAM_CHAT_ID", "not set, but TELEGRAM_BOT_TOKEN is (set both or neither)")
            }
            (None, Some(_)) => {
                problem("TELEGRAM_BOT_TOKEN", "not set, but TELEGRAM_CHAT_ID is (set both or neither)")
            }
            (None, None) => {}
        }

        if let Some(webhook_url) = get("DISCORD_WEBHOOK_URL").map(Secret::new) {
            if is_http_url(webhook_url.expose().trim()) {
                config.discord = Some(DiscordConfig { webhook_url });
            } else {
                problem("DISCORD_WEBHOOK_URL", "not an http(s) URL");
            }
        }

        if let Some(text) = get("NOTIFY_QUEUE_CAPACITY") {
            match text.trim().parse() {
                Ok(capacity) => config.delivery.queue_capacity = capacity,
                Err(_) => problem("NOTIFY_QUEUE_CAPACITY", "expected a whole number"),
            }
        }
        if let Some(text) = get("NOTIFY_MAX_ATTEMPTS") {
            match text.trim().parse() {
                Ok(attempts) => config.delivery.max_attempts = attempts,
                Err(_) => problem("NOTIFY_MAX_ATTEMPTS", "expected a whole number"),
            }
        }
        if let Err(invalid) = config.validate() {
            problems.extend(invalid.problems);
        }
        if problems.is_empty() { Ok(config) } else { Err(NotifyConfigError { problems }) }
    }

    /// No channel on: every notification is discarded.
    pub fn disabled() -> Self {
        Self::default()
    }

    /// True when at least one channel is on.
    pub fn is_enabled(&self) -> bool {
        self.telegram.is_some() || self.discord.is_some()
    }

    /// Checks the channels' URLs and the delivery settings.
    ///
    /// # Errors
    /// Every problem at once: a URL that is not http(s), a zero capacity, attempt count or
    /// timeout, a backoff above its ceiling.
    pub fn validate(&self) -> Result<(), NotifyConfigError> {
        let d = &self.delivery;
        let bad_api_url = self.telegram.as_ref().is_some_and(|t| !is_http_url(&t.api_url));
        let bad_webhook = self.discord.as_ref().is_some_and(|d| !is_http_url(d.webhook_url.expose().trim()));
        let checks = [
            (bad_api_url, "telegram.api_url", "not an http(s) URL"),
            (bad_webhook, "discord.webhook_url", "not an http(s) URL"),
            (d.queue_capacity == 0, "delivery.queue_capacity", "must be at least 1"),
            (d.max_attempts == 0, "delivery.max_attempts", "must be at least 1"),
            (d.initial_backoff > d.max_backoff, "delivery.initial_backoff", "must not exceed max_backoff"),
            (d.request_timeout.is_zero(), "delivery.request_timeout", "must be above zero"),
            (d.connect_timeout.is_zero(), "delivery.connect_timeout", "must be above zero"),
        ];
        let problems: Vec<ConfigProblem> = checks
            .into_iter()
            .filter(|(bad, _, _)| *bad)
            .map(|(_, key, message)| ConfigProblem { key: key.to_owned(), message: message.to_owned() })
            .collect();
        if problems.is_empty() { Ok(()) } else { Err(NotifyConfigError { problems }) }
    }
}

fn parse_chat_id(text: &str) -> Option<ChatId> {
    if let Ok(id) = text.parse::<i64>() {
        return Some(ChatId::Id(id));
    }
    let name = text.strip_prefix('@')?;
    let ok = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    ok.then(|| ChatId::Username(text.to_owned()))
}

fn is_http_url(text: &str) -> bool {
    reqwest::Url::parse(text)
        .is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const TOKEN: &str = "123456:AAH-secret_token";
    const WEBHOOK: &str = "https://discord.com/api/webhooks/1/secret-webhook-token";

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |key| map.get(key).cloned()
    }

    fn keys(error: &NotifyConfigError) -> Vec<&str> {
        error.problems.iter().map(|p| p.key.as_str()).collect()
    }

    #[test]
    fn nothing_set_means_disabled() {
        let config = NotifyConfig::from_env(env(&[("DISCORD_WEBHOOK_URL", "")])).unwrap();
        assert!(!config.is_enabled());
        assert_eq!(config.delivery, DeliveryConfig::default());
    }

    #[test]
    fn both_channels_from_their_variables() {
        let config = NotifyConfig::from_env(env(&[
            ("TELEGRAM_BOT_TOKEN", TOKEN),
            ("TELEGRAM_CHAT_ID", "-1001234567890"),
            ("TELEGRAM_API_URL", "http://127.0.0.1:9/"),
            ("DISCORD_WEBHOOK_URL", WEBHOOK),
            ("NOTIFY_QUEUE_CAPACITY", "16"),
            ("NOTIFY_MAX_ATTEMPTS", "2"),
        ]))
        .unwrap();
        let telegram = config.telegram.as_ref().unwrap();
        assert_eq!(telegram.bot_token.expose(), TOKEN);
        assert_eq!(telegram.chat_id, ChatId::Id(-1_001_234_567_890));
        assert_eq!(telegram.api_url, "http://127.0.0.1:9");
        assert_eq!(config.discord.as_ref().unwrap().webhook_url.expose(), WEBHOOK);
        assert_eq!((config.delivery.queue_capacity, config.delivery.max_attempts), (16, 2));
        let telegram_only = NotifyConfig::from_env(env(&[
            ("TELEGRAM_BOT_TOKEN", TOKEN),
            ("TELEGRAM_CHAT_ID", "@my_channel"),
        ]))
        .unwrap();
        let telegram = telegram_only.telegram.unwrap();
        assert_eq!(telegram.chat_id, ChatId::Username("@my_channel".to_owned()));
        assert_eq!(telegram.api_url, DEFAULT_TELEGRAM_API_URL);
        assert!(telegram_only.discord.is_none());
    }

    #[test]
    fn every_problem_is_reported_at_once_without_secret_values() {
        let error = NotifyConfig::from_env(env(&[
            ("TELEGRAM_BOT_TOKEN", "no colon/in it"),
            ("TELEGRAM_CHAT_ID", "chat"),
            ("DISCORD_WEBHOOK_URL", "discord.com/api/webhooks/1/secret-webhook-token"),
            ("NOTIFY_QUEUE_CAPACITY", "0"),
            ("NOTIFY_MAX_ATTEMPTS", "many"),
        ]))
        .unwrap_err();
        assert_eq!(
            keys(&error),
            [
                "TELEGRAM_BOT_TOKEN",
                "TELEGRAM_CHAT_ID",
                "DISCORD_WEBHOOK_URL",
                "NOTIFY_MAX_ATTEMPTS",
                "delivery.queue_capacity"
            ]
        );
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("no colon") && !shown.contains("secret-webhook-token"), "{shown}");
    }

    #[test]
    fn half_a_telegram_setting_is_an_error() {
        let error = NotifyConfig::from_env(env(&[("TELEGRAM_BOT_TOKEN", TOKEN)])).unwrap_err();
        assert_eq!(keys(&error), ["TELEGRAM_CHAT_ID"]);
        let error = NotifyConfig::from_env(env(&[("TELEGRAM_CHAT_ID", "42")])).unwrap_err();
        assert_eq!(keys(&error), ["TELEGRAM_BOT_TOKEN"]);
        let error = NotifyConfig::from_env(env(&[("TELEGRAM_API_URL", "ftp://x")])).unwrap_err();
        assert_eq!(keys(&error), ["TELEGRAM_API_URL"]);
    }

    #[test]
    fn debug_output_redacts_the_secrets() {
        let config = NotifyConfig::from_env(env(&[
            ("TELEGRAM_BOT_TOKEN", TOKEN),
            ("TELEGRAM_CHAT_ID", "42"),
            ("DISCORD_WEBHOOK_URL", WEBHOOK),
        ]))
        .unwrap();
        for shown in [format!("{config:?}"), format!("{config:#?}")] {
            assert!(!shown.contains("secret"), "{shown}");
            assert!(shown.contains("[REDACTED]"), "{shown}");
        }
    }

    #[test]
    fn delivery_settings_are_validated_together() {
        let mut config = NotifyConfig::disabled();
        config.delivery.max_attempts = 0;
        config.delivery.initial_backoff = Duration::from_secs(60);
        config.delivery.request_timeout = Duration::ZERO;
        config.discord = Some(DiscordConfig { webhook_url: Secret::new("secret-webhook-token".to_owned()) });
        let error = config.validate().unwrap_err();
        assert_eq!(
            keys(&error),
            [
                "discord.webhook_url",
                "delivery.max_attempts",
                "delivery.initial_backoff",
                "delivery.request_timeout"
            ]
        );
        assert!(!error.to_string().contains("secret"), "{error}");
        assert!(error.to_string().starts_with("invalid notification settings: discord.webhook_url: "));
    }
}
