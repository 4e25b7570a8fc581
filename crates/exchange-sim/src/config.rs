//! The simulator's configuration: `config/exchange_sim.toml` (every key optional, unknown keys
//! refused), defaults in one place ([`SimConfig::default`]), command-line overrides, and
//! [`SimConfig::validate`], which reports every problem at once and yields the checked [`Settings`].
//!
//! The API keys and secrets here are the simulator's own demo credentials (it is the exchange, not
//! a client), so unlike the agents' secrets they live in its TOML; they grant nothing outside this
//! loopback process.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use exchange_core::signing::Secret;
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::engine::{AccountSeed, Fees};
use crate::time::{DAY_MS, parse_utc};

/// The demo API key shipped in `config/exchange_sim.toml`.
pub const DEMO_API_KEY: &str = "exsimDemoKeycat9ag498dyT5bl5GhcqrGi0qx020vorwNIvVaP3RjdmSlPUxYu3";
/// The demo API secret shipped in `config/exchange_sim.toml`.
pub const DEMO_API_SECRET: &str = "exsimDemoSecretM8TVWzZRBb0WLaAUvFMZ44k8cRvicmQivfnSqy3Vl6OG0fLzI";
/// The default start of market time: 2026-01-01T00:00:00Z.
pub const DEFAULT_START: &str = "2026-01-01T00:00:00Z";

/// The TOML file as written (every key optional).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimConfig {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Generator seed.
    pub seed: u64,
    /// Market seconds per wall second; 0: the clock moves only through `/sim/step`.
    pub speed: f64,
    /// Market start time, RFC 3339 UTC (`2026-01-01T00:00:00Z`), or `now` (the wall clock).
    pub start_time: String,
    /// Market seconds per generator tick (divides 60).
    pub tick_seconds: u32,
    /// Days of history generated before the start.
    pub backfill_days: f64,
    /// Days of minute bars kept.
    pub minute_history_days: u32,
    /// Days of hour bars kept.
    pub hour_history_days: u32,
    /// Multiplier on every asset's volatility.
    pub volatility: f64,
    /// Folder of `<SYMBOL>.csv` kline files to replay instead of generating.
    pub replay_dir: Option<PathBuf>,
    /// Commission rates.
    pub fees: FeeConfig,
    /// Rate limits.
    pub limits: LimitConfig,
    /// Accounts, one per API key.
    pub accounts: Vec<AccountConfig>,
}

/// Commission rates as decimal strings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeeConfig {
    /// Spot maker rate.
    pub spot_maker: String,
    /// Spot taker rate.
    pub spot_taker: String,
    /// USD-M maker rate.
    pub futures_maker: String,
    /// USD-M taker rate.
    pub futures_taker: String,
}

/// Rate limits (per IP for weight, per account for orders; all clients share 127.0.0.1).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitConfig {
    /// Spot request weight per minute.
    pub spot_weight_per_minute: u64,
    /// USD-M request weight per minute.
    pub futures_weight_per_minute: u64,
    /// Orders per 10 seconds.
    pub orders_per_10s: u64,
    /// Orders per minute.
    pub orders_per_minute: u64,
    /// Requests tolerated while rate limited before the IP is banned (418).
    pub ban_after: u64,
    /// Length of a ban, seconds.
    pub ban_seconds: u64,
    /// listenKey validity without keepalive, minutes (wall clock).
    pub listen_key_minutes: u64,
}

/// One account.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    /// Name shown in `/sim/state`.
    pub name: String,
    /// API key (`X-MBX-APIKEY`).
    pub api_key: String,
    /// API secret (HMAC key).
    pub api_secret: String,
    /// Spot balances by asset, decimal strings.
    #[serde(default)]
    pub spot: BTreeMap<String, String>,
    /// USD-M USDT wallet, decimal string.
    #[serde(default = "default_futures_usdt")]
    pub futures_usdt: String,
}

fn default_futures_usdt() -> String {
    "10000".to_owned()
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            port: 8765,
            seed: 42,
            speed: 3600.0,
            start_time: DEFAULT_START.to_owned(),
            tick_seconds: 60,
            backfill_days: 30.0,
            minute_history_days: 7,
            hour_history_days: 730,
            volatility: 1.0,
            replay_dir: None,
            fees: FeeConfig::default(),
            limits: LimitConfig::default(),
            accounts: vec![AccountConfig::demo()],
        }
    }
}

impl Default for FeeConfig {
    fn default() -> Self {
        Self {
            spot_maker: "0.001".to_owned(),
            spot_taker: "0.001".to_owned(),
            futures_maker: "0.0002".to_owned(),
            futures_taker: "0.0005".to_owned(),
        }
    }
}

impl Default for LimitConfig {
    fn default() -> Self {
        Self {
            spot_weight_per_minute: 6000,
            futures_weight_per_minute: 2400,
            orders_per_10s: 300,
            orders_per_minute: 1200,
            ban_after: 20,
            ban_seconds: 120,
            listen_key_minutes: 60,
        }
    }
}

impl AccountConfig {
    /// The demo account: the shipped key and secret, 10,000 USDT on spot and on USD-M.
    pub fn demo() -> Self {
        Self {
            name: "demo".to_owned(),
            api_key: DEMO_API_KEY.to_owned(),
            api_secret: DEMO_API_SECRET.to_owned(),
            spot: BTreeMap::from([("USDT".to_owned(), "10000".to_owned())]),
            futures_usdt: default_futures_usdt(),
        }
    }
}

/// A config that cannot be used: every problem found, each naming its key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration{}:\n  {}", .file.as_ref().map(|f| format!(" in {}", f.display())).unwrap_or_default(), .problems.join("\n  "))]
pub struct ConfigError {
    /// The file, if one was read.
    pub file: Option<PathBuf>,
    /// One line per problem, `key: what is wrong`.
    pub problems: Vec<String>,
}

/// One API key and what it opens.
#[derive(Debug, Clone)]
pub struct ApiKey {
    /// The key.
    pub key: String,
    /// Its secret.
    pub secret: Secret,
    /// The account index.
    pub account: usize,
}

/// The checked configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Port (0 = ephemeral).
    pub port: u16,
    /// Seed.
    pub seed: u64,
    /// Market seconds per wall second.
    pub speed: f64,
    /// Market start, ms; `None` for "now" (resolved at start).
    pub start_ms: Option<i64>,
    /// Tick length, ms.
    pub tick_ms: i64,
    /// History before the start, ms.
    pub backfill_ms: i64,
    /// Minute bars kept.
    pub max_minutes: usize,
    /// Hour bars kept.
    pub max_hours: usize,
    /// Volatility multiplier.
    pub volatility: f64,
    /// Replay folder.
    pub replay_dir: Option<PathBuf>,
    /// Commission rates.
    pub fees: Fees,
    /// Rate limits.
    pub limits: LimitConfig,
    /// Starting funds per account.
    pub accounts: Vec<AccountSeed>,
    /// API keys.
    pub keys: Vec<ApiKey>,
}

fn decimal(problems: &mut Vec<String>, key: &str, text: &str) -> Decimal {
    match Decimal::from_str(text.trim()) {
        Ok(d) if d >= Decimal::ZERO => d,
        _ => {
            problems.push(format!("{key}: {text:?} is not a non-negative decimal"));
            Decimal::ZERO
        }
    }
}

impl SimConfig {
    /// Reads a TOML file.
    ///
    /// # Errors
    /// When the file cannot be read or is not valid TOML for this config (unknown keys included).
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let fail = |problem: String| ConfigError { file: Some(path.to_owned()), problems: vec![problem] };
        let text = std::fs::read_to_string(path).map_err(|e| fail(format!("cannot read: {e}")))?;
        toml::from_str(&text).map_err(|e| fail(e.to_string().trim().replace('\n', " ")))
    }

    /// Checks everything and builds [`Settings`].
    ///
    /// # Errors
    /// A [`ConfigError`] listing every problem.
    pub fn validate(&self) -> Result<Settings, ConfigError> {
        let mut problems = Vec::new();
        if !(self.speed.is_finite() && (0.0..=1e6).contains(&self.speed)) {
            problems.push(format!("speed: {} must be within 0..=1000000", self.speed));
        }
        let start_ms = if self.start_time.trim().eq_ignore_ascii_case("now") {
            None
        } else {
            let parsed = parse_utc(&self.start_time);
            if parsed.is_none() {
                problems.push(format!(
                    "start_time: {:?} is not `now` or a UTC time like {DEFAULT_START}",
                    self.start_time
                ));
            }
            parsed
        };
        if self.tick_seconds == 0 || 60 % self.tick_seconds != 0 {
            problems.push(format!("tick_seconds: {} must divide 60", self.tick_seconds));
        }
        if !(0.0..=3650.0).contains(&self.backfill_days) {
            problems.push(format!("backfill_days: {} must be within 0..=3650", self.backfill_days));
        }
        if !(self.volatility.is_finite() && self.volatility >= 0.0 && self.volatility <= 20.0) {
            problems.push(format!("volatility: {} must be within 0..=20", self.volatility));
        }
        if self.minute_history_days == 0 || self.hour_history_days == 0 {
            problems.push("minute_history_days, hour_history_days: must be at least 1".to_owned());
        }
        let fees = Fees {
            spot_maker: decimal(&mut problems, "fees.spot_maker", &self.fees.spot_maker),
            spot_taker: decimal(&mut problems, "fees.spot_taker", &self.fees.spot_taker),
            futures_maker: decimal(&mut problems, "fees.futures_maker", &self.fees.futures_maker),
            futures_taker: decimal(&mut problems, "fees.futures_taker", &self.fees.futures_taker),
        };
        if self.accounts.is_empty() {
            problems.push("accounts: at least one account is needed".to_owned());
        }
        let mut accounts = Vec::new();
        let mut keys: Vec<ApiKey> = Vec::new();
        for (index, account) in self.accounts.iter().enumerate() {
            let key = &account.api_key;
            if key.is_empty() || key.len() > 128 || !key.bytes().all(|b| b.is_ascii_alphanumeric()) {
                problems.push(format!("accounts[{index}].api_key: must be 1 to 128 letters and digits"));
            }
            if keys.iter().any(|k| &k.key == key) {
                problems.push(format!("accounts[{index}].api_key: used by another account"));
            }
            if account.api_secret.is_empty() {
                problems.push(format!("accounts[{index}].api_secret: must not be empty"));
            }
            let spot = account
                .spot
                .iter()
                .map(|(asset, amount)| {
                    (
                        asset.to_ascii_uppercase(),
                        decimal(&mut problems, &format!("accounts[{index}].spot.{asset}"), amount),
                    )
                })
                .collect();
            let futures_wallet =
                decimal(&mut problems, &format!("accounts[{index}].futures_usdt"), &account.futures_usdt);
            accounts.push(AccountSeed { name: account.name.clone(), spot, futures_wallet });
            keys.push(ApiKey {
                key: key.clone(),
                secret: Secret::new(account.api_secret.clone()),
                account: index,
            });
        }
        if !problems.is_empty() {
            return Err(ConfigError { file: None, problems });
        }
        let tick_ms = i64::from(self.tick_seconds) * 1000;
        Ok(Settings {
            port: self.port,
            seed: self.seed,
            speed: self.speed,
            start_ms,
            tick_ms,
            backfill_ms: ((self.backfill_days * DAY_MS as f64) as i64 / tick_ms) * tick_ms,
            max_minutes: usize::try_from(self.minute_history_days).unwrap_or(7) * 1440,
            max_hours: usize::try_from(self.hour_history_days).unwrap_or(730) * 24,
            volatility: self.volatility,
            replay_dir: self.replay_dir.clone(),
            fees,
            limits: self.limits.clone(),
            accounts,
            keys,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_config_is_valid_and_matches_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/exchange_sim.toml");
        let shipped = SimConfig::load(&path).unwrap();
        assert_eq!(shipped, SimConfig::default());
        let settings = shipped.validate().unwrap();
        assert_eq!(settings.keys[0].key, DEMO_API_KEY);
        assert_eq!(settings.start_ms, parse_utc(DEFAULT_START));
    }

    #[test]
    fn every_problem_is_reported_with_its_key() {
        let bad: SimConfig = toml::from_str(
            r#"
            speed = -1.0
            start_time = "yesterday"
            tick_seconds = 7
            [fees]
            spot_maker = "abc"
            [[accounts]]
            name = "x"
            api_key = "not a key"
            api_secret = ""
            "#,
        )
        .unwrap();
        let err = bad.validate().unwrap_err();
        let text = err.to_string();
        for key in [
            "speed",
            "start_time",
            "tick_seconds",
            "fees.spot_maker",
            "accounts[0].api_key",
            "accounts[0].api_secret",
        ] {
            assert!(text.contains(key), "{key} missing from {text}");
        }
        let unknown = toml::from_str::<SimConfig>("colour = 1");
        assert!(unknown.is_err());
    }
}
