//! The live commands both agents offer, written once: the options of `run`, `check` and `bars`,
//! the log and the notifier a daemon starts with, `check` (config, secrets, connectivity, clock
//! offset, permissions, symbols) and `bars` (the last bars from the configured venue). Each
//! agent's `commands.rs` resolves its own settings and venue client, then calls these.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use exchange_core::paper::PaperConfig;
use exchange_core::venue::{Execution, KlineInterval, KlineQuery, MarketData, MarketFeed, UserDataFeed};
use exchange_core::{InstrumentRules, Symbol};
use notify::{Notifier, NotifyConfig};
use tokio_util::sync::CancellationToken;

use super::LiveEngine;
use super::paper::paper_venue;
use super::runtime::{Agent, AgentSettings, RunError};
use crate::dotenv::Layers;
use crate::logfile::{DailyFile, wall_clock_ms};
use crate::time::format_utc_minute;

/// Options shared by the live commands.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LiveArgs {
    /// Config file (default: the agent's file in config/ if it exists, else built-in defaults).
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
    /// Take the venue's holdings as they are when they differ from the journal.
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

/// Sends the human log to `log_dir/file` (rotated daily, 14 kept), filtered by the environment
/// variable `filter_var` (default `info`).
///
/// # Errors
/// The log cannot be opened: exit code 1, with the message printed.
pub fn init_logging(log_dir: &Path, file: &str, filter_var: &str) -> Result<(), ExitCode> {
    let log = DailyFile::open(log_dir, file, 14).map_err(|e| {
        eprintln!("error: cannot open the log in {}: {e}", log_dir.display());
        ExitCode::from(1)
    })?;
    tracing_subscriber::fmt()
        .with_writer(move || log.writer())
        .with_ansi(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env(filter_var)
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    Ok(())
}

/// The notifier of the Telegram and Discord settings in `layers`; disabled (with a warning in
/// the log) when they are absent or wrong.
pub fn notifier(layers: &Layers) -> Notifier {
    match NotifyConfig::from_env(|k| layers.get(k).map(|(v, _)| v.to_owned())) {
        Ok(config) if config.is_enabled() => Notifier::start(config).unwrap_or_else(|e| {
            tracing::warn!("notifications off: {e}");
            Notifier::disabled()
        }),
        Ok(_) => Notifier::disabled(),
        Err(e) => {
            tracing::warn!("notifications off: {e}");
            Notifier::disabled()
        }
    }
}

/// What `run` starts: an agent's resolved settings and venue client, and how to build its engine.
#[allow(missing_debug_implementations)] // holds the engine-building closure
pub struct Daemon<'a, V, S, B> {
    /// The human log's folder, file name and filter variable (`logs`, `main_agent.log`,
    /// `MAIN_AGENT_LOG`).
    pub log: (&'a Path, &'a str, &'a str),
    /// Warnings of the settings, for the log.
    pub warnings: &'a [String],
    /// The environment layers (for the notifier).
    pub layers: &'a Layers,
    /// The venue client.
    pub venue: V,
    /// The settings.
    pub settings: S,
    /// Paper mode: the paper account's config (the venue then only gives market data).
    pub paper: Option<PaperConfig>,
    /// The symbols traded.
    pub symbols: Vec<Symbol>,
    /// `--adopt`.
    pub adopt: bool,
    /// The engine for the venue's rules of `symbols` and a session start.
    pub build: B,
}

/// `run`: the log, the notifier, the paper venue when asked (rebuilt from the journal), then the
/// runtime until a signal stops it. An error is logged and printed, and becomes the exit code.
///
/// # Errors
/// The exit code: 1 for a runtime failure, 2 for a state a person must look at.
pub fn run_daemon<V, S, E, B>(daemon: Daemon<'_, V, S, B>) -> Result<(), ExitCode>
where
    V: MarketData + Execution + UserDataFeed + MarketFeed + 'static,
    S: AgentSettings,
    E: LiveEngine<Params = S::Params>,
    B: Fn(Vec<(Symbol, InstrumentRules)>, u64) -> E,
{
    let (dir, file, filter) = daemon.log;
    init_logging(dir, file, filter)?;
    for warning in daemon.warnings {
        tracing::warn!("{warning}");
    }
    let rt = runtime()?;
    rt.block_on(async {
        let notifier = notifier(daemon.layers);
        let outcome = match daemon.paper {
            Some(config) => {
                let journal = daemon.settings.journal_path();
                match paper_venue(daemon.venue, config, &journal, &daemon.symbols, &daemon.build).await {
                    Ok(paper) => {
                        trade(paper, daemon.settings, notifier, &daemon.symbols, daemon.adopt, &daemon.build)
                            .await
                    }
                    Err(e) => Err(e),
                }
            }
            None => {
                trade(daemon.venue, daemon.settings, notifier, &daemon.symbols, daemon.adopt, &daemon.build)
                    .await
            }
        };
        outcome.map_err(|e| {
            tracing::error!("{e}");
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        })
    })
}

/// Runs an agent on `venue` until it stops.
async fn trade<V, S, E>(
    venue: V,
    settings: S,
    notifier: Notifier,
    symbols: &[Symbol],
    adopt: bool,
    build: impl FnOnce(Vec<(Symbol, InstrumentRules)>, u64) -> E,
) -> Result<(), RunError>
where
    V: MarketData + Execution + UserDataFeed + MarketFeed,
    S: AgentSettings,
    E: LiveEngine<Params = S::Params>,
{
    let (agent, _pid) = Agent::prepare(venue, settings, notifier, symbols, build).await?;
    agent.run(adopt, CancellationToken::new()).await
}

/// A current-thread tokio runtime for one agent.
///
/// # Errors
/// It cannot be built: exit code 1, with the message printed.
pub fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| {
        eprintln!("error: cannot start the async runtime: {e}");
        ExitCode::from(1)
    })
}

/// What the shared `check` and `bars` commands need of an agent's resolved settings.
pub trait LiveCommands: Sized {
    /// The venue client.
    type Venue: MarketData + Execution;

    /// Resolves the settings from the command line, the environment and the files.
    ///
    /// # Errors
    /// Any problem, printed: exit code 2.
    fn from_args(args: &LiveArgs) -> Result<(Self, Layers), ExitCode>;
    /// The venue client of these settings.
    ///
    /// # Errors
    /// It cannot be set up, printed: exit code 1.
    fn venue_client(&self) -> Result<Self::Venue, ExitCode>;
    /// What `check` reports about them.
    fn check_input(&self) -> CheckInput<'_>;
}

/// `check` for agent `A`: its settings, then [`check`] on its venue.
pub fn check_command<A: LiveCommands>(args: &LiveArgs) -> ExitCode {
    let (settings, _) = match A::from_args(args) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match settings.venue_client() {
        Ok(venue) => check(&venue, &settings.check_input()),
        Err(code) => code,
    }
}

/// `bars SYMBOL INTERVAL N` for agent `A`: the query checked first, then [`bars`] on its venue.
pub fn bars_command<A: LiveCommands>(args: &BarsArgs) -> ExitCode {
    let (symbol, interval) = match bars_query(args) {
        Ok(q) => q,
        Err(code) => return code,
    };
    let (settings, _) = match A::from_args(&args.live) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match settings.venue_client() {
        Ok(venue) => bars(&venue, &symbol, interval, args.count, settings.check_input().rest_url),
        Err(code) => code,
    }
}

/// What `check` reports about the resolved settings.
#[derive(Debug, Clone)]
pub struct CheckInput<'a> {
    /// The venue's name.
    pub venue: String,
    /// `live` or `paper`.
    pub mode: &'a str,
    /// The symbols traded.
    pub symbols: &'a [Symbol],
    /// Warnings of the settings.
    pub warnings: &'a [String],
    /// True when the client holds API credentials.
    pub has_credentials: bool,
    /// Paper trading: the account is the paper broker's, not the venue's.
    pub paper: bool,
    /// The REST base URL.
    pub rest_url: &'a str,
}

/// `check`: says what is wrong, one line per check; exit 1 when anything failed.
pub fn check<V: MarketData + Execution>(venue: &V, input: &CheckInput<'_>) -> ExitCode {
    let symbols: Vec<&str> = input.symbols.iter().map(Symbol::as_str).collect();
    println!("ok    config: venue {}, {} mode, symbols {}", input.venue, input.mode, symbols.join(","));
    for warning in input.warnings {
        println!("warn  {warning}");
    }
    println!(
        "ok    secrets: {}",
        if input.has_credentials {
            "API key present (not shown)"
        } else {
            "no API key used (paper: market data only)"
        }
    );
    let Ok(rt) = runtime() else { return ExitCode::from(1) };
    rt.block_on(async {
        let mut failed = false;
        let before = wall_clock_ms();
        match venue.server_time().await {
            Ok(server) => {
                let offset = server - (before + wall_clock_ms()) / 2;
                let verdict = if offset.abs() < 1000 { "ok  " } else { "warn" };
                println!("ok    connectivity: {} answers", input.rest_url);
                println!("{verdict}  clock offset: {offset} ms (the client corrects for it; over 1000 ms means fix the system clock)");
            }
            Err(e) => {
                println!("FAIL  connectivity: {}: {e}", input.rest_url);
                failed = true;
            }
        }
        if !failed && input.paper {
            println!("ok    paper: orders fill locally on the venue's prices; no API key is used");
        }
        if !failed && !input.paper {
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
        }
        if !failed {
            for symbol in input.symbols {
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

/// The symbol and interval of `bars`, checked before any settings are read.
///
/// # Errors
/// A malformed symbol or interval: exit code 2, with the message printed.
pub fn bars_query(args: &BarsArgs) -> Result<(Symbol, KlineInterval), ExitCode> {
    let symbol = Symbol::new(&args.symbol.to_ascii_uppercase()).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    })?;
    let interval: KlineInterval = args.interval.parse().map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    })?;
    Ok((symbol, interval))
}

/// `bars SYMBOL INTERVAL N`: the last N bars (the newest still open) from the venue.
pub fn bars<V: MarketData>(
    venue: &V,
    symbol: &Symbol,
    interval: KlineInterval,
    count: u16,
    rest_url: &str,
) -> ExitCode {
    let Ok(rt) = runtime() else { return ExitCode::from(1) };
    rt.block_on(async {
        match venue.klines(symbol, KlineQuery::latest(interval, count.max(1))).await {
            Ok(bars) => {
                println!("{symbol} {} from {rest_url}", interval.as_str());
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
