//! The live commands of main-agent: `run` (the daemon), `check` and `bars`, over agent-core's
//! shared runtime (`live::runtime`) and command pieces (`live::cli`). Settings resolve with
//! DESIGN §9's precedence (command line > environment > `main_agent_config.env` and `.env` >
//! the TOML file > defaults); the venue (URLs, credentials, the real-money guard) as for the
//! futures agent (`agent_core::live::venue`), on Binance spot. Paper mode trades through
//! exchange-core's `PaperVenue` over the spot client, its account rebuilt from the journal.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use agent_core::dotenv::Layers;
use agent_core::live::cli::{self, BarsArgs, CheckInput, Daemon, LiveArgs, LiveCommands, RunArgs};
use agent_core::live::runtime::AgentSettings;
use agent_core::live::venue::{VenueRequest, VenueSettings};
use agent_core::spot::SpotParams;
use exchange_core::binance::{BinanceSpot, BinanceSpotConfig};
use exchange_core::paper::PaperConfig;
use exchange_core::signing::ApiCredentials;
use exchange_core::venue::{Endpoints, Environment, KlineInterval, Product, install_crypto_provider};
use exchange_core::{InstrumentRules, Symbol};
use rust_decimal::Decimal;

use crate::config::MainConfig;
use crate::live::{MODEL_FILE, SpotEngineConfig, SpotLiveEngine};
use crate::settings::{DOTENV_FILES, resolve};

/// Resolved settings of a live run.
#[derive(Debug, Clone)]
pub struct LiveSettings {
    /// The config after environment and command-line overrides.
    pub config: MainConfig,
    /// The venue.
    pub environment: Environment,
    /// Its URLs.
    pub endpoints: Endpoints,
    /// API credentials (never logged: the secret's Debug is redacted).
    pub credentials: Option<ApiCredentials>,
    /// Warnings for the log.
    pub warnings: Vec<String>,
    /// The command line's options, for reloads.
    args: LiveArgs,
}

impl LiveSettings {
    /// Resolves the settings from the config file, the environment `layers` and the command
    /// line.
    ///
    /// # Errors
    /// Every problem at once: bad config or environment values, a missing secret for a real
    /// venue, live trading without all three conditions, a loose dotenv file for live trading.
    pub fn resolve(args: &LiveArgs, layers: &Layers) -> Result<Self, agent_core::config::ConfigError> {
        let mut config = resolve(args.config.as_deref(), layers, &[])?;
        if let Some(venue) = &args.venue {
            config.venue.clone_from(venue);
        }
        config.paper |= args.paper;
        let source = args.config.as_ref().map_or_else(|| "settings".to_owned(), |p| p.display().to_string());
        let mut problems = config.validate(&source).err().map(|e| e.problems).unwrap_or_default();
        let venue = VenueSettings::resolve(
            &VenueRequest {
                venue: &config.venue,
                paper: config.paper,
                product: Product::Spot,
                sim_config: &config.sim_config,
                rest_url: config.rest_url.as_deref(),
                ws_url: config.ws_url.as_deref(),
                dotenv_names: ".env or main_agent_config.env",
            },
            layers,
            &mut problems,
        );
        if !problems.is_empty() {
            return Err(agent_core::config::ConfigError { source, problems });
        }
        let VenueSettings { environment, endpoints, credentials, warnings } = venue;
        Ok(Self { config, environment, endpoints, credentials, warnings, args: args.clone() })
    }

    /// `paper` or `live`.
    pub fn mode(&self) -> &'static str {
        if self.config.paper { "paper" } else { "live" }
    }

    /// The credentials the venue client gets: none in paper mode, so that it could not place an
    /// order even by mistake (the paper broker never asks it to).
    pub fn client_credentials(&self) -> Option<ApiCredentials> {
        if self.config.paper { None } else { self.credentials.clone() }
    }

    /// The paper broker's account: the agent's capital in USDT, the strategy's taker fee and
    /// slippage (paper fills cost what the backtest charges), the pairs streamed from the start.
    pub fn paper_config(&self) -> PaperConfig {
        let costs = &self.config.costs;
        PaperConfig {
            taker_fee: costs.fee,
            slippage: costs.slippage_bps / Decimal::from(10_000),
            ..PaperConfig::spot(BTreeMap::from([("USDT".to_owned(), self.config.capital)]))
        }
        .watching(self.config.symbols.clone())
    }

    /// The engine for `rules` (the venue's, per pair) and the session starting at `session_ms`,
    /// with the gate model saved earlier in `run_dir`, if any.
    fn engine(&self, rules: Vec<(Symbol, InstrumentRules)>, session_ms: u64) -> SpotLiveEngine {
        let model_path = self.config.run_dir.join(MODEL_FILE);
        let saved_model = std::fs::read_to_string(&model_path).ok();
        SpotLiveEngine::new(SpotEngineConfig {
            params: self.config.params(),
            symbols: rules,
            interval_ms: KlineInterval::H1.millis(),
            session_ms,
            capital: self.config.capital,
            saved_model,
        })
    }
}

impl AgentSettings for LiveSettings {
    type Params = SpotParams;

    fn pid_path(&self) -> PathBuf {
        self.config.run_dir.join("main-agent.pid")
    }

    fn journal_path(&self) -> PathBuf {
        self.config.log_dir.join("main_trades.jsonl")
    }

    fn status_path(&self) -> PathBuf {
        self.config.run_dir.join("main-agent.status.json")
    }

    fn run_dir(&self) -> &Path {
        &self.config.run_dir
    }

    fn venue_name(&self) -> String {
        self.environment.to_string()
    }

    fn mode(&self) -> &'static str {
        LiveSettings::mode(self)
    }

    fn flatten_on_stop(&self) -> bool {
        self.config.flatten_on_stop
    }

    fn params(&self) -> SpotParams {
        self.config.params()
    }

    fn reload(&self) -> Result<Self, String> {
        let layers = dotenv_layers().map_err(|e| e.to_string())?;
        let next = Self::resolve(&self.args, &layers).map_err(|e| e.to_string())?;
        if next.environment != self.environment || next.config.symbols != self.config.symbols {
            return Err(
                "venue and symbols cannot change while running; restart the agent for that".to_owned()
            );
        }
        Ok(next)
    }
}

fn dotenv_layers() -> Result<Layers, agent_core::config::ConfigError> {
    let files: Vec<PathBuf> = DOTENV_FILES.iter().map(PathBuf::from).collect();
    Layers::load(&files)
}

impl LiveCommands for LiveSettings {
    type Venue = BinanceSpot;

    fn from_args(args: &LiveArgs) -> Result<(Self, Layers), ExitCode> {
        let fail = |e: &dyn std::fmt::Display| {
            eprintln!("error: {e}");
            ExitCode::from(2)
        };
        let layers = dotenv_layers().map_err(|e| fail(&e))?;
        let settings = LiveSettings::resolve(args, &layers).map_err(|e| fail(&e))?;
        Ok((settings, layers))
    }

    fn venue_client(&self) -> Result<BinanceSpot, ExitCode> {
        install_crypto_provider();
        BinanceSpot::new(BinanceSpotConfig::new(self.endpoints.clone(), self.client_credentials())).map_err(
            |e| {
                eprintln!("error: cannot set up the venue client: {e}");
                ExitCode::from(1)
            },
        )
    }

    fn check_input(&self) -> CheckInput<'_> {
        CheckInput {
            venue: self.environment.to_string(),
            mode: self.mode(),
            symbols: &self.config.symbols,
            warnings: &self.warnings,
            has_credentials: self.client_credentials().is_some(),
            paper: self.config.paper,
            rest_url: &self.endpoints.rest,
        }
    }
}

/// `main-agent run`: the daemon.
pub fn run(args: &RunArgs) -> ExitCode {
    match run_inner(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => code,
    }
}

fn run_inner(args: &RunArgs) -> Result<(), ExitCode> {
    let (settings, layers) = LiveSettings::from_args(&args.live)?;
    let venue = settings.venue_client()?;
    let engine_settings = settings.clone();
    let build = move |rules, session_ms| engine_settings.engine(rules, session_ms);
    let log_dir = settings.config.log_dir.clone();
    let warnings = settings.warnings.clone();
    cli::run_daemon(Daemon {
        log: (&log_dir, "main_agent.log", "MAIN_AGENT_LOG"),
        warnings: &warnings,
        layers: &layers,
        venue,
        paper: settings.config.paper.then(|| settings.paper_config()),
        symbols: settings.config.symbols.clone(),
        settings,
        adopt: args.adopt,
        build,
    })
}

/// `main-agent check`: says what is wrong, one line per check.
pub fn check(args: &LiveArgs) -> ExitCode {
    cli::check_command::<LiveSettings>(args)
}

/// `main-agent bars SYMBOL INTERVAL N`: the last N bars from the venue.
pub fn bars(args: &BarsArgs) -> ExitCode {
    cli::bars_command::<LiveSettings>(args)
}
