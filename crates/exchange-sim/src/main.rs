//! The `exchange-sim` binary: parse the command line, load `config/exchange_sim.toml` (when present),
//! apply the flags, start logging, run until SIGINT or SIGTERM, exit 0 (2 for a bad config, 1 for a
//! runtime failure).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use exchange_sim::SimConfig;
use tokio_util::sync::CancellationToken;

/// A Binance-compatible exchange on 127.0.0.1 (spot /api/v3, USD-M /fapi, WebSocket streams).
#[derive(Debug, Parser)]
#[command(name = "exchange-sim", version)]
struct Cli {
    /// Config file [default: config/exchange_sim.toml when it exists, else built-in defaults].
    #[arg(long)]
    config: Option<PathBuf>,
    /// Port on 127.0.0.1 (0: any free port, printed on stdout).
    #[arg(long)]
    port: Option<u16>,
    /// Market seconds per wall second (0: only `POST /sim/step` moves the clock).
    #[arg(long)]
    speed: Option<f64>,
    /// Generator seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Market start time (`2026-01-01T00:00:00Z`) or `now`.
    #[arg(long)]
    start_time: Option<String>,
    /// Days of history to generate before the start.
    #[arg(long)]
    backfill_days: Option<f64>,
    /// Replay `<SYMBOL>.csv` kline files from this folder instead of generating prices.
    #[arg(long)]
    replay: Option<PathBuf>,
    /// Load state from this file at start (if it exists) and save it there on shutdown.
    #[arg(long)]
    state: Option<PathBuf>,
}

/// The config file to read, if any: `--config`, else `config/exchange_sim.toml` when present.
fn config_path(cli: &Cli) -> Option<PathBuf> {
    let default_path = PathBuf::from("config/exchange_sim.toml");
    cli.config.clone().or_else(|| default_path.exists().then_some(default_path))
}

fn config(cli: &Cli) -> anyhow::Result<SimConfig> {
    let mut config = match config_path(cli) {
        Some(path) => SimConfig::load(&path)?,
        None => SimConfig::default(),
    };
    if let Some(port) = cli.port {
        config.port = port;
    }
    if let Some(speed) = cli.speed {
        config.speed = speed;
    }
    if let Some(seed) = cli.seed {
        config.seed = seed;
    }
    if let Some(start) = &cli.start_time {
        config.start_time.clone_from(start);
    }
    if let Some(days) = cli.backfill_days {
        config.backfill_days = days;
    }
    if let Some(dir) = &cli.replay {
        config.replay_dir = Some(dir.clone());
    }
    Ok(config)
}

async fn signals(shutdown: CancellationToken) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
        () = shutdown.cancelled() => {}
    }
    shutdown.cancel();
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let checked = config(&cli).and_then(|c| {
        c.validate().map_err(|mut err| {
            err.file = config_path(&cli);
            anyhow::Error::from(err)
        })
    });
    let settings = match checked {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("exchange-sim: {err:#}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("exchange-sim: cannot start the runtime: {err}");
            return ExitCode::from(1);
        }
    };
    let shutdown = CancellationToken::new();
    let result = runtime.block_on(async {
        let signal_shutdown = shutdown.clone();
        let signal_task = tokio::spawn(async move {
            let result = signals(signal_shutdown.clone()).await;
            if let Err(err) = &result {
                eprintln!("exchange-sim: {err:#}");
                signal_shutdown.cancel();
            }
            result
        });
        let result = exchange_sim::run(settings, cli.state.clone(), shutdown.clone()).await;
        shutdown.cancel();
        if let Ok(Err(err)) = signal_task.await {
            tracing::warn!("{err:#}");
        }
        result
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("exchange-sim: {err}");
            ExitCode::from(1)
        }
    }
}
