//! The live commands of the binary: `run` (the daemon, also the default), `check` (what is wrong
//! with the config, secrets, connectivity, clock and permissions) and `bars` (the last bars from
//! the configured venue), each returning the process exit code.

use std::path::PathBuf;
use std::process::ExitCode;

use agent_core::dotenv::Layers;
use agent_core::logfile::{DailyFile, wall_clock_ms};
use agent_core::time::format_utc_minute;
use exchange_core::Symbol;
use exchange_core::binance::{BinanceUsdm, BinanceUsdmConfig};
use exchange_core::venue::{Execution, KlineInterval, KlineQuery, MarketData, install_crypto_provider};
use notify::{Notifier, NotifyConfig};
use tokio_util::sync::CancellationToken;

use agent_core::live::runtime::Agent;

use crate::live::FuturesLive;
use crate::live::engine::{EngineConfig, LiveEngine};
use crate::live::settings::{CliOverrides, DOTENV_FILES, Settings};

/// Options shared by the live commands.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LiveArgs {
    /// Config file (default: config/futures_agent.toml if it exists, else built-in defaults).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Venue: sim, binance-demo, binance-testnet or binance (overrides the config).
    #[arg(long)]
    pub venue: Option<String>,
    /// Paper trading: fill locally on the venue's prices, send nothing.
    #[arg(long)]
    pub paper: bool,
}

/// `run` options.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RunArgs {
    /// Shared options.
    #[command(flatten)]
    pub live: LiveArgs,
    /// Take the venue's positions as they are when they differ from the journal.
    #[arg(long)]
    pub adopt: bool,
}

/// `bars` options.
#[derive(Debug, Clone, clap::Args)]
pub struct BarsArgs {
    /// The symbol (BTCUSDT).
    pub symbol: String,
    /// The interval (1m, 1h, ...).
    pub interval: String,
    /// How many bars.
    #[arg(default_value_t = 5)]
    pub count: u16,
    /// Shared options.
    #[command(flatten)]
    pub live: LiveArgs,
}

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
    BinanceUsdm::new(BinanceUsdmConfig::new(settings.endpoints.clone(), settings.credentials.clone()))
        .map_err(|e| {
            eprintln!("error: cannot set up the venue client: {e}");
            ExitCode::from(1)
        })
}

fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| {
        eprintln!("error: cannot start the async runtime: {e}");
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
    if settings.config.paper {
        eprintln!(
            "error: paper = true: futures-agent run does not have its paper broker yet; use venue = \"sim\" or \"binance-demo\" to trade without real money"
        );
        return Err(ExitCode::from(2));
    }
    let log = DailyFile::open(&settings.config.log_dir, "futures_agent.log", 14).map_err(|e| {
        eprintln!("error: cannot open the log in {}: {e}", settings.config.log_dir.display());
        ExitCode::from(1)
    })?;
    let writer = log.clone();
    tracing_subscriber::fmt()
        .with_writer(move || writer.writer())
        .with_ansi(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("FUTURES_AGENT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    for warning in &settings.warnings {
        tracing::warn!("{warning}");
    }
    let venue = venue(&settings)?;
    let rt = runtime()?;
    rt.block_on(async {
        let notifier = match NotifyConfig::from_env(|k| layers.get(k).map(|(v, _)| v.to_owned())) {
            Ok(config) if config.is_enabled() => Notifier::start(config).unwrap_or_else(|e| {
                tracing::warn!("notifications off: {e}");
                Notifier::disabled()
            }),
            Ok(_) => Notifier::disabled(),
            Err(e) => {
                tracing::warn!("notifications off: {e}");
                Notifier::disabled()
            }
        };
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
        let outcome = match Agent::prepare(venue, settings, notifier, &symbols, build).await {
            Ok((agent, _pid)) => agent.run(args.adopt, CancellationToken::new()).await,
            Err(e) => Err(e),
        };
        outcome.map_err(|e| {
            tracing::error!("{e}");
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        })
    })
}

/// `futures-agent check`: says what is wrong, one line per check.
pub fn check(args: &LiveArgs) -> ExitCode {
    let (settings, _) = match settings(args) {
        Ok(s) => s,
        Err(code) => return code,
    };
    println!(
        "ok    config: venue {}, {} mode, symbols {}",
        settings.environment,
        settings.mode(),
        symbols(&settings)
    );
    for warning in &settings.warnings {
        println!("warn  {warning}");
    }
    println!(
        "ok    secrets: {}",
        if settings.credentials.is_some() { "API key present (not shown)" } else { "none needed (paper)" }
    );
    let Ok(venue) = venue(&settings) else { return ExitCode::from(1) };
    let Ok(rt) = runtime() else { return ExitCode::from(1) };
    rt.block_on(async {
        let mut failed = false;
        let before = wall_clock_ms();
        match venue.server_time().await {
            Ok(server) => {
                let offset = server - (before + wall_clock_ms()) / 2;
                let verdict = if offset.abs() < 1000 { "ok  " } else { "warn" };
                println!("ok    connectivity: {} answers", settings.endpoints.rest);
                println!("{verdict}  clock offset: {offset} ms (the client corrects for it; over 1000 ms means fix the system clock)");
            }
            Err(e) => {
                println!("FAIL  connectivity: {}: {e}", settings.endpoints.rest);
                failed = true;
            }
        }
        if !failed {
            match venue.balances().await {
                Ok(balances) => {
                    let usdt = balances.iter().find(|b| b.asset == "USDT").map_or_else(|| "0".to_owned(), |b| b.wallet.to_string());
                    println!("ok    permissions: account readable, USDT wallet {usdt}");
                }
                Err(e) => {
                    println!("FAIL  permissions: the account cannot be read with this key: {e}");
                    failed = true;
                }
            }
            for symbol in &settings.config.symbols {
                match venue.instrument_rules(symbol).await {
                    Ok(rules) => println!("ok    {rules}"),
                    Err(e) => {
                        println!("FAIL  {symbol}: {e}");
                        failed = true;
                    }
                }
            }
        }
        if failed { ExitCode::from(1) } else { ExitCode::SUCCESS }
    })
}

fn symbols(settings: &Settings) -> String {
    settings.config.symbols.iter().map(Symbol::as_str).collect::<Vec<_>>().join(",")
}

/// `futures-agent bars SYMBOL INTERVAL N`: the last N closed and open bars from the venue.
pub fn bars(args: &BarsArgs) -> ExitCode {
    let symbol = match Symbol::new(&args.symbol.to_ascii_uppercase()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let interval: KlineInterval = match args.interval.parse() {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let (settings, _) = match settings(&args.live) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let Ok(venue) = venue(&settings) else { return ExitCode::from(1) };
    let Ok(rt) = runtime() else { return ExitCode::from(1) };
    rt.block_on(async {
        match venue.klines(&symbol, KlineQuery::latest(interval, args.count.max(1))).await {
            Ok(bars) => {
                println!("{symbol} {} from {}", interval.as_str(), settings.endpoints.rest);
                println!(
                    "{:<17} {:>14} {:>14} {:>14} {:>14} {:>16}",
                    "open (UTC)", "open", "high", "low", "close", "volume"
                );
                for b in bars {
                    println!(
                        "{:<17} {:>14} {:>14} {:>14} {:>14} {:>16}",
                        format_utc_minute(b.open_time_ms),
                        b.open,
                        b.high,
                        b.low,
                        b.close,
                        b.volume
                    );
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(1)
            }
        }
    })
}
