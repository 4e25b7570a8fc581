//! Everything `futures-agent run` needs, resolved with DESIGN §9's precedence: command-line flags
//! over the process environment over the dotenv files (`.env`, `futures_agent_config.env` in the
//! working directory) over `config/futures_agent.toml` over defaults.
//!
//! The seed's variable names are honoured: `FUTURES_AGENT_CAPITAL`, `FUTURES_MAX_LEVERAGE`,
//! `FUTURES_RISK_PER_TRADE`, `FUTURES_MAX_DAILY_LOSS`, `FUTURES_SYMBOLS`,
//! `FUTURES_MOMENTUM_WINDOW`, `FUTURES_MIN_MOMENTUM_THRESHOLD`, `FUTURES_PAPER_TRADING` and
//! `TB_PAPER_TRADING`; `FUTURES_VENUE` picks the venue. API keys come only from
//! `BINANCE_API_KEY` / `BINANCE_API_SECRET` in the environment or the dotenv files; for the
//! simulator, from its config's demo account. Real money needs all three of DESIGN §4:
//! `venue = "binance"`, `paper = false` and `DUAL_AGENT_LIVE=yes`. In paper mode the venue
//! client gets no API key at all (it only reads market data; exchange-core's paper broker fills
//! the orders), and the paper account starts from the strategy's capital, fee and slippage.

use std::path::{Path, PathBuf};

use agent_core::config::ConfigError;
use agent_core::dotenv::Layers;
use agent_core::live::runtime::AgentSettings;
use agent_core::live::venue::{VenueRequest, VenueSettings, truthy};
use exchange_core::Symbol;
use exchange_core::paper::PaperConfig;
use exchange_core::signing::ApiCredentials;
use exchange_core::venue::{Endpoints, Environment, Product};
use risk_core::params::FuturesRiskParams;
use rust_decimal::Decimal;

use crate::config::FuturesConfig;

/// The dotenv files read from the working directory, earlier ones winning.
pub const DOTENV_FILES: [&str; 2] = ["futures_agent_config.env", ".env"];

/// Resolved settings of a live run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The config after environment overrides.
    pub config: FuturesConfig,
    /// The venue.
    pub environment: Environment,
    /// Its URLs.
    pub endpoints: Endpoints,
    /// API credentials (never logged: the secret's Debug is redacted).
    pub credentials: Option<ApiCredentials>,
    /// Warnings for the log (loose dotenv permissions, and the like).
    pub warnings: Vec<String>,
    /// The config file given on the command line, for reloads.
    pub config_path: Option<PathBuf>,
    /// The command-line overrides, for reloads.
    pub cli: CliOverrides,
}

/// Command-line overrides of `run`.
#[derive(Debug, Clone, Default)]
pub struct CliOverrides {
    /// `--venue`.
    pub venue: Option<String>,
    /// `--paper`.
    pub paper: bool,
}

/// Applies the environment's seed variables to `config`; every bad value is a problem.
fn apply_env(config: &mut FuturesConfig, layers: &Layers, problems: &mut Vec<String>) {
    let params = [
        ("FUTURES_AGENT_CAPITAL", "capital"),
        ("FUTURES_MAX_LEVERAGE", "max_leverage"),
        ("FUTURES_RISK_PER_TRADE", "risk_per_trade"),
        ("FUTURES_MAX_DAILY_LOSS", "max_daily_loss"),
        ("FUTURES_MOMENTUM_WINDOW", "window"),
        ("FUTURES_MIN_MOMENTUM_THRESHOLD", "threshold"),
    ];
    for (var, key) in params {
        if let Some((value, _)) = layers.get(var)
            && let Err(e) = config.strategy.set(key, value)
        {
            problems.push(format!("{var}: {e}"));
        }
    }
    if let Some((value, _)) = layers.get("FUTURES_SYMBOLS") {
        let parsed: Result<Vec<Symbol>, _> =
            value.split(',').map(str::trim).filter(|s| !s.is_empty()).map(Symbol::new).collect();
        match parsed {
            Ok(symbols) => config.symbols = symbols,
            Err(e) => problems.push(format!("FUTURES_SYMBOLS: {e}")),
        }
    }
    for var in ["FUTURES_PAPER_TRADING", "TB_PAPER_TRADING"] {
        if let Some((value, _)) = layers.get(var) {
            match truthy(value) {
                Some(paper) => config.paper = paper,
                None => problems.push(format!("{var}: {value:?} is not true/false/1/0/yes/no")),
            }
        }
    }
    if let Some((value, _)) = layers.get("FUTURES_VENUE") {
        config.venue = value.to_owned();
    }
}

impl Settings {
    /// Resolves the settings from the config file (absent: defaults), the environment `layers`
    /// and the command line.
    ///
    /// # Errors
    /// Every problem at once: bad config or environment values, a missing secret for a real
    /// venue, live trading without all three conditions, a loose dotenv file for live trading.
    pub fn resolve(
        config_path: Option<&Path>,
        layers: &Layers,
        cli: &CliOverrides,
    ) -> Result<Self, ConfigError> {
        let default_path = Path::new("config/futures_agent.toml");
        let (mut config, source) = match config_path {
            Some(path) => (FuturesConfig::load(path)?, path.display().to_string()),
            None if default_path.exists() => {
                (FuturesConfig::load(default_path)?, default_path.display().to_string())
            }
            None => (FuturesConfig::default(), "built-in defaults".to_owned()),
        };
        let mut problems = Vec::new();
        apply_env(&mut config, layers, &mut problems);
        if let Some(venue) = &cli.venue {
            config.venue = venue.clone();
        }
        config.paper |= cli.paper;
        if let Err(e) = config.validate("settings") {
            problems.extend(e.problems);
        }
        let venue = VenueSettings::resolve(
            &VenueRequest {
                venue: &config.venue,
                paper: config.paper,
                product: Product::UsdM,
                sim_config: &config.sim_config,
                rest_url: config.rest_url.as_deref(),
                ws_url: config.ws_url.as_deref(),
                dotenv_names: ".env or futures_agent_config.env",
            },
            layers,
            &mut problems,
        );
        let VenueSettings { environment, endpoints, credentials, warnings } = venue;
        if problems.is_empty() {
            Ok(Self {
                config,
                environment,
                endpoints,
                credentials,
                warnings,
                config_path: config_path.map(Path::to_path_buf),
                cli: cli.clone(),
            })
        } else {
            Err(ConfigError { source, problems })
        }
    }

    /// Resolves the settings again from the same sources (SIGHUP): the file and the dotenv
    /// files are read anew. The venue cannot change while running.
    ///
    /// # Errors
    /// As [`Settings::resolve`], and a changed venue.
    pub fn resolve_again(current: &Self) -> Result<Self, ConfigError> {
        let files: Vec<PathBuf> = DOTENV_FILES.iter().map(PathBuf::from).collect();
        let layers = Layers::load(&files)?;
        let next = Self::resolve(current.config_path.as_deref(), &layers, &current.cli)?;
        if next.environment != current.environment || next.config.symbols != current.config.symbols {
            return Err(ConfigError::one(
                "reload",
                "venue and symbols cannot change while running; restart the agent for that",
            ));
        }
        Ok(next)
    }

    /// `paper` or `live`.
    pub fn mode(&self) -> &'static str {
        if self.config.paper { "paper" } else { "live" }
    }

    /// The credentials the venue client gets: none in paper mode, so that the client could not
    /// place an order even by mistake (the paper broker never asks it to).
    pub fn client_credentials(&self) -> Option<ApiCredentials> {
        if self.config.paper { None } else { self.credentials.clone() }
    }

    /// The paper broker's config: the strategy's capital, taker fee and slippage (paper fills
    /// cost what the backtest charges), the configured symbols streamed from the start.
    pub fn paper_config(&self) -> PaperConfig {
        let s = &self.config.strategy;
        PaperConfig {
            taker_fee: s.fee,
            slippage: s.slippage_bps / Decimal::from(10_000),
            ..PaperConfig::usdm(s.capital)
        }
        .watching(self.config.symbols.clone())
    }

    /// The journal file.
    pub fn journal_path(&self) -> PathBuf {
        self.config.log_dir.join("futures_trades.jsonl")
    }

    /// The PID file.
    pub fn pid_path(&self) -> PathBuf {
        self.config.run_dir.join("futures-agent.pid")
    }

    /// The status snapshot.
    pub fn status_path(&self) -> PathBuf {
        self.config.run_dir.join("futures-agent.status.json")
    }
}

impl AgentSettings for Settings {
    type Params = FuturesRiskParams;

    fn pid_path(&self) -> PathBuf {
        Settings::pid_path(self)
    }

    fn journal_path(&self) -> PathBuf {
        Settings::journal_path(self)
    }

    fn status_path(&self) -> PathBuf {
        Settings::status_path(self)
    }

    fn run_dir(&self) -> &Path {
        &self.config.run_dir
    }

    fn venue_name(&self) -> String {
        self.environment.to_string()
    }

    fn mode(&self) -> &'static str {
        Settings::mode(self)
    }

    fn flatten_on_stop(&self) -> bool {
        self.config.flatten_on_stop
    }

    fn params(&self) -> FuturesRiskParams {
        self.config.strategy.clone()
    }

    fn reload(&self) -> Result<Self, String> {
        Self::resolve_again(self).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn layers(vars: &[(&str, &str)]) -> Layers {
        let process: HashMap<String, String> =
            vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Layers::from_parts(process, &[]).unwrap()
    }

    fn config_file(extra: &str) -> tempfile_path::TempConfig {
        tempfile_path::TempConfig::new(extra)
    }

    /// A config file in a temp dir, pointing at a sim config beside it.
    mod tempfile_path {
        use std::path::PathBuf;

        pub struct TempConfig {
            pub dir: PathBuf,
            pub path: PathBuf,
        }

        impl TempConfig {
            pub fn new(extra: &str) -> Self {
                static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
                let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let dir = std::env::temp_dir().join(format!("fa-settings-{}-{n}", std::process::id()));
                std::fs::create_dir_all(&dir).unwrap();
                let sim = dir.join("sim.toml");
                std::fs::write(
                    &sim,
                    "port = 9999\n[[accounts]]\nname = \"demo\"\napi_key = \"k\"\napi_secret = \"s\"\n",
                )
                .unwrap();
                let path = dir.join("futures.toml");
                std::fs::write(&path, format!("sim_config = {:?}\n{extra}", sim.display().to_string()))
                    .unwrap();
                Self { dir, path }
            }
        }

        impl Drop for TempConfig {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.dir);
            }
        }
    }

    #[test]
    fn sim_reads_port_and_demo_account_from_its_config() {
        let cfg = config_file("");
        let s = Settings::resolve(Some(&cfg.path), &layers(&[]), &CliOverrides::default()).unwrap();
        assert_eq!(s.environment, Environment::Sim);
        assert_eq!(s.endpoints.rest, "http://127.0.0.1:9999");
        assert_eq!(s.credentials.as_ref().unwrap().api_key, "k");
        assert_eq!(s.mode(), "live");
    }

    #[test]
    fn environment_overrides_the_file_and_the_cli_overrides_both() {
        let cfg = config_file("paper = false\n[strategy]\ncapital = 5000\n");
        let env = layers(&[
            ("FUTURES_AGENT_CAPITAL", "2500"),
            ("FUTURES_SYMBOLS", "ETHUSDT, BTCUSDT"),
            ("TB_PAPER_TRADING", "1"),
            ("FUTURES_MIN_MOMENTUM_THRESHOLD", "0.03"),
        ]);
        let s = Settings::resolve(
            Some(&cfg.path),
            &env,
            &CliOverrides { venue: Some("sim".into()), paper: false },
        )
        .unwrap();
        assert_eq!(s.config.strategy.capital.to_string(), "2500");
        assert_eq!(s.config.strategy.threshold.to_string(), "0.03");
        assert_eq!(s.config.symbols.iter().map(Symbol::as_str).collect::<Vec<_>>(), ["ETHUSDT", "BTCUSDT"]);
        assert!(s.config.paper);
    }

    #[test]
    fn live_money_needs_all_three_conditions_and_says_what_is_missing() {
        let cfg = config_file("venue = \"binance\"\n");
        let err = Settings::resolve(Some(&cfg.path), &layers(&[]), &CliOverrides::default()).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("DUAL_AGENT_LIVE=yes"), "{text}");
        assert!(text.contains("BINANCE_API_KEY and BINANCE_API_SECRET"), "{text}");
        let ok = layers(&[("DUAL_AGENT_LIVE", "yes"), ("BINANCE_API_KEY", "a"), ("BINANCE_API_SECRET", "b")]);
        let s = Settings::resolve(Some(&cfg.path), &ok, &CliOverrides::default()).unwrap();
        assert_eq!(s.endpoints.rest, "https://fapi.binance.com");
        assert!(!format!("{s:?}").contains("\"b\""), "the secret must not show in Debug");
        // Paper trading on live prices needs neither the confirmation nor keys.
        let paper =
            Settings::resolve(Some(&cfg.path), &layers(&[]), &CliOverrides { venue: None, paper: true })
                .unwrap();
        assert_eq!(paper.mode(), "paper");
        assert!(paper.client_credentials().is_none());
    }

    #[test]
    fn paper_mode_gives_the_client_no_key_and_the_broker_the_strategy_costs() {
        let cfg = config_file("paper = true\n[strategy]\ncapital = 2500\nfee = 0.0004\nslippage_bps = 2\n");
        let s = Settings::resolve(Some(&cfg.path), &layers(&[]), &CliOverrides::default()).unwrap();
        assert!(s.credentials.is_some(), "the sim's demo key is read");
        assert!(s.client_credentials().is_none(), "but not handed to the client in paper mode");
        let paper = s.paper_config();
        assert_eq!(paper.balances.get("USDT").map(ToString::to_string).as_deref(), Some("2500"));
        assert_eq!(
            (paper.taker_fee.to_string(), paper.slippage.to_string()),
            ("0.0004".into(), "0.0002".into())
        );
        assert_eq!(paper.symbols, s.config.symbols);
        let live =
            Settings::resolve(Some(&config_file("").path), &layers(&[]), &CliOverrides::default()).unwrap();
        assert!(live.client_credentials().is_some());
    }

    #[test]
    fn a_dotenv_readable_by_others_is_refused_for_live_money_and_warned_about_otherwise() {
        use std::os::unix::fs::PermissionsExt;
        let cfg = config_file("venue = \"binance\"\n");
        let env_file = cfg.dir.join(".env");
        std::fs::write(&env_file, "BINANCE_API_KEY=a\nBINANCE_API_SECRET=b\nDUAL_AGENT_LIVE=yes\n").unwrap();
        std::fs::set_permissions(&env_file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let layers = Layers::from_parts(HashMap::new(), std::slice::from_ref(&env_file)).unwrap();
        let err = Settings::resolve(Some(&cfg.path), &layers, &CliOverrides::default()).unwrap_err();
        assert!(err.to_string().contains("readable by group or others"), "{err}");
        let paper =
            Settings::resolve(Some(&cfg.path), &layers, &CliOverrides { venue: None, paper: true }).unwrap();
        assert!(paper.warnings.iter().any(|w| w.contains("readable by group or others")));
        std::fs::set_permissions(&env_file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let layers = Layers::from_parts(HashMap::new(), std::slice::from_ref(&env_file)).unwrap();
        let live = Settings::resolve(Some(&cfg.path), &layers, &CliOverrides::default()).unwrap();
        assert_eq!(live.mode(), "live");
    }

    #[test]
    fn bad_environment_values_are_all_listed() {
        let cfg = config_file("");
        let env = layers(&[
            ("FUTURES_MAX_LEVERAGE", "lots"),
            ("FUTURES_PAPER_TRADING", "maybe"),
            ("FUTURES_VENUE", "kraken"),
        ]);
        let err = Settings::resolve(Some(&cfg.path), &env, &CliOverrides::default()).unwrap_err();
        assert_eq!(err.problems.len(), 3, "{err}");
    }
}
