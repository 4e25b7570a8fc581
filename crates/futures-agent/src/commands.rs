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
use agent_core::live::cli::{self, CheckInput};
use agent_core::live::paper;
use agent_core::live::runtime::{Agent, RunError};
use exchange_core::binance::{BinanceUsdm, BinanceUsdmConfig};
use exchange_core::paper::PaperVenue;
use exchange_core::venue::{
    Execution, KlineInterval, MarketData, MarketFeed, UserDataFeed, install_crypto_provider,
};
use notify::Notifier;
use tokio_util::sync::CancellationToken;

pub use agent_core::live::cli::{BarsArgs, LiveArgs, RunArgs};

use crate::live::FuturesLive;
use crate::live::engine::{EngineConfig, LiveEngine};
use crate::live::settings::{CliOverrides, DOTENV_FILES, Settings};

fn settings(live: &LiveArgs) -> Result<(Settings, Layers), ExitCode> {
    let files: Vec<PathBuf> = DOTENV_FILES.iter().map(PathBuf::from).collect();
    let layers = Layers::load(&files).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    })?;
    let cli = CliOverrides { venue: live.venue.clone(), paper: live.paper };
    let settings = Settings::resolve(live.config.as_deref(), &layers, &cli).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    })?;
    Ok((settings, layers))
}

fn venue(settings: &Settings) -> Result<BinanceUsdm, ExitCode> {
    install_crypto_provider();
    BinanceUsdm::new(BinanceUsdmConfig::new(settings.endpoints.clone(), settings.client_credentials()))
        .map_err(|e| {
            eprintln!("error: cannot set up the venue client: {e}");
            ExitCode::from(1)
        })
}

/// `futures-agent run`: the daemon.
pub fn run(args: &RunArgs) -> ExitCode {
    match run_inner(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => code,
    }
}

fn run_inner(args: &RunArgs) -> Result<(), ExitCode> {
    let (settings, layers) = settings(&args.live)?;
    cli::init_logging(&settings.config.log_dir, "futures_agent.log", "FUTURES_AGENT_LOG")?;
    for warning in &settings.warnings {
        tracing::warn!("{warning}");
    }
    let venue = venue(&settings)?;
    let rt = cli::runtime()?;
    rt.block_on(async {
        let notifier = cli::notifier(&layers);
        let outcome = if settings.config.paper {
            match paper_venue(venue, &settings).await {
                Ok(paper) => trade(paper, settings, notifier, args.adopt).await,
                Err(e) => Err(e),
            }
        } else {
            trade(venue, settings, notifier, args.adopt).await
        };
        outcome.map_err(|e| {
            tracing::error!("{e}");
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        })
    })
}

/// Runs the agent on `venue` until it stops.
async fn trade<V>(venue: V, settings: Settings, notifier: Notifier, adopt: bool) -> Result<(), RunError>
where
    V: MarketData + Execution + UserDataFeed + MarketFeed,
{
    let symbols = settings.config.symbols.clone();
    let params = settings.config.strategy.clone();
    let build = |rules, session_ms| {
        FuturesLive::new(LiveEngine::new(EngineConfig {
            params,
            symbols: rules,
            interval_ms: KlineInterval::H1.millis(),
            session_ms,
        }))
    };
    let (agent, _pid) = Agent::prepare(venue, settings, notifier, &symbols, build).await?;
    agent.run(adopt, CancellationToken::new()).await
}

/// Paper mode's venue: a `PaperVenue` over `venue` holding the paper account the journal
/// describes (agent-core's `live::paper`).
async fn paper_venue(venue: BinanceUsdm, settings: &Settings) -> Result<PaperVenue<BinanceUsdm>, RunError> {
    let params = settings.config.strategy.clone();
    let build = |rules, session_ms| {
        FuturesLive::new(LiveEngine::new(EngineConfig {
            params,
            symbols: rules,
            interval_ms: KlineInterval::H1.millis(),
            session_ms,
        }))
    };
    paper::paper_venue(
        venue,
        settings.paper_config(),
        &settings.journal_path(),
        &settings.config.symbols,
        build,
    )
    .await
}

/// `futures-agent check`: says what is wrong, one line per check.
pub fn check(args: &LiveArgs) -> ExitCode {
    let (settings, _) = match settings(args) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let Ok(venue) = venue(&settings) else { return ExitCode::from(1) };
    cli::check(
        &venue,
        &CheckInput {
            venue: settings.environment.to_string(),
            mode: settings.mode(),
            symbols: &settings.config.symbols,
            warnings: &settings.warnings,
            has_credentials: settings.client_credentials().is_some(),
            paper: settings.config.paper,
            rest_url: &settings.endpoints.rest,
        },
    )
}

/// `futures-agent bars SYMBOL INTERVAL N`: the last N closed and open bars from the venue.
pub fn bars(args: &BarsArgs) -> ExitCode {
    let (symbol, interval) = match cli::bars_query(args) {
        Ok(q) => q,
        Err(code) => return code,
    };
    let (settings, _) = match settings(&args.live) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let Ok(venue) = venue(&settings) else { return ExitCode::from(1) };
    cli::bars(&venue, &symbol, interval, args.count, &settings.endpoints.rest)
}
