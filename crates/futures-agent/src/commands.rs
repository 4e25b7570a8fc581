//! The live commands of the binary: `run` (the daemon, also the default), `check` (what is wrong
//! with the config, secrets, connectivity, clock and permissions) and `bars` (the last bars from
//! the configured venue), each returning the process exit code. The pieces both agents share
//! are agent-core's `live::cli` and `live::runtime`.
//!
//! Paper mode (`paper = true`, `--paper`, `FUTURES_PAPER_TRADING=1`, `TB_PAPER_TRADING=1`): `run`
//! trades through exchange-core's [`PaperVenue`] over the USD-M client (market data from the
//! venue, orders filled locally, nothing sent), rebuilt from the journal at start
//! ([`paper_venue`]) so that the reconciliation finds the paper positions and protective orders
//! the journal left.

use std::path::PathBuf;
use std::process::ExitCode;

use agent_core::dotenv::Layers;
use agent_core::live::cli::{self, CheckInput, Daemon, LiveCommands};
use exchange_core::binance::{BinanceUsdm, BinanceUsdmConfig};
use exchange_core::venue::{KlineInterval, install_crypto_provider};

pub use agent_core::live::cli::{BarsArgs, LiveArgs, RunArgs};

use crate::live::FuturesLive;
use crate::live::engine::{EngineConfig, LiveEngine};
use crate::live::settings::{CliOverrides, DOTENV_FILES, Settings};

impl LiveCommands for Settings {
    type Venue = BinanceUsdm;

    fn from_args(live: &LiveArgs) -> Result<(Self, Layers), ExitCode> {
        let files: Vec<PathBuf> = DOTENV_FILES.iter().map(PathBuf::from).collect();
        let fail = |e: &dyn std::fmt::Display| {
            eprintln!("error: {e}");
            ExitCode::from(2)
        };
        let layers = Layers::load(&files).map_err(|e| fail(&e))?;
        let cli = CliOverrides { venue: live.venue.clone(), paper: live.paper };
        let settings = Settings::resolve(live.config.as_deref(), &layers, &cli).map_err(|e| fail(&e))?;
        Ok((settings, layers))
    }

    fn venue_client(&self) -> Result<BinanceUsdm, ExitCode> {
        install_crypto_provider();
        BinanceUsdm::new(BinanceUsdmConfig::new(self.endpoints.clone(), self.client_credentials())).map_err(
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

/// `futures-agent run`: the daemon.
pub fn run(args: &RunArgs) -> ExitCode {
    match run_inner(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => code,
    }
}

fn run_inner(args: &RunArgs) -> Result<(), ExitCode> {
    let (settings, layers) = Settings::from_args(&args.live)?;
    let venue = settings.venue_client()?;
    let params = settings.config.strategy.clone();
    let build = move |rules, session_ms| {
        FuturesLive::new(LiveEngine::new(EngineConfig {
            params: params.clone(),
            symbols: rules,
            interval_ms: KlineInterval::H1.millis(),
            session_ms,
        }))
    };
    let log_dir = settings.config.log_dir.clone();
    let warnings = settings.warnings.clone();
    cli::run_daemon(Daemon {
        log: (&log_dir, "futures_agent.log", "FUTURES_AGENT_LOG"),
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

/// `futures-agent check`: says what is wrong, one line per check.
pub fn check(args: &LiveArgs) -> ExitCode {
    cli::check_command::<Settings>(args)
}

/// `futures-agent bars SYMBOL INTERVAL N`: the last N closed and open bars from the venue.
pub fn bars(args: &BarsArgs) -> ExitCode {
    cli::bars_command::<Settings>(args)
}
