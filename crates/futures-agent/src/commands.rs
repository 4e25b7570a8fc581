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

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use agent_core::dotenv::Layers;
use agent_core::journal::JournalRecord;
use agent_core::live::cli::{self, CheckInput};
use agent_core::live::runtime::{Agent, RunError};
use exchange_core::binance::{BinanceUsdm, BinanceUsdmConfig};
use exchange_core::paper::{PaperSnapshot, PaperVenue, RestingOrder};
use exchange_core::venue::{
    Execution, KlineInterval, MarketData, MarketFeed, UserDataFeed, install_crypto_provider,
};
use exchange_core::{ClientOrderId, MarginMode, OrderRequest, Position, Price, Qty};
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

/// Paper mode's venue: a [`PaperVenue`] over `venue` (market data only), holding the paper account
/// the journal describes ([`paper_snapshot`]). Call it before `Agent::prepare` and hand the result
/// to it: the runtime then reconciles against a venue that knows the journal's positions and
/// protective orders.
///
/// # Errors
/// A venue error (rules, prices), a journal that cannot be read or replayed, or a snapshot the
/// paper broker refuses.
pub async fn paper_venue(
    venue: BinanceUsdm,
    settings: &Settings,
) -> Result<PaperVenue<BinanceUsdm>, RunError> {
    let paper = PaperVenue::start(venue, settings.paper_config())?;
    let snapshot = paper_snapshot(paper.inner(), settings).await?;
    if !snapshot.positions.is_empty() {
        tracing::info!(
            positions = snapshot.positions.len(),
            orders = snapshot.orders.len(),
            "paper account restored from the journal"
        );
    }
    paper.restore(snapshot).await?;
    Ok(paper)
}

/// The paper account as the journal at `settings.journal_path()` left it: the journal replayed
/// through a [`LiveEngine`] (as `Agent::prepare` does), then [`snapshot_of`] it. A missing or empty
/// journal is a fresh account. The file is only read here (the agent opens it for writing, under
/// its PID file, right after): a torn last line is skipped, as opening the journal will cut it.
///
/// # Errors
/// The journal unreadable, a line before the last that is not a record, a record the engine
/// cannot replay, or the venue failing to give a symbol's rules.
pub async fn paper_snapshot<V: MarketData>(
    venue: &V,
    settings: &Settings,
) -> Result<PaperSnapshot, RunError> {
    let records = read_journal(&settings.journal_path())?;
    if records.is_empty() {
        return Ok(PaperSnapshot::default());
    }
    let mut symbols = Vec::new();
    for symbol in &settings.config.symbols {
        symbols.push((symbol.clone(), venue.instrument_rules(symbol).await?));
    }
    let mut engine = LiveEngine::new(EngineConfig {
        params: settings.config.strategy.clone(),
        symbols,
        interval_ms: KlineInterval::H1.millis(),
        session_ms: 0,
    });
    engine.replay(&records).map_err(RunError::Replay)?;
    Ok(snapshot_of(&engine, &records))
}

/// The paper account a replayed engine describes: the USDT wallet (capital + realized P&L - fees
/// + funding), every open position with its leverage, and each open position's protective orders
///   still resting, as their `order_sent` records sent them (same client order ids). A trailing
///   stop's peak is not journaled: it tracks afresh after the restart.
pub fn snapshot_of(engine: &LiveEngine, records: &[JournalRecord]) -> PaperSnapshot {
    let sent: HashMap<ClientOrderId, OrderRequest> = records
        .iter()
        .filter(|r| r.kind == "order_sent")
        .filter_map(|r| serde_json::from_value::<OrderRequest>(r.fields.get("order")?.clone()).ok())
        .map(|o| (o.client_order_id.clone(), o))
        .collect();
    let mut snapshot = PaperSnapshot {
        balances: BTreeMap::from([("USDT".to_owned(), engine.wallet())]),
        ..PaperSnapshot::default()
    };
    for (symbol, book, _) in engine.books() {
        let Some(pos) = &book.position else { continue };
        snapshot.positions.push(Position {
            symbol: symbol.clone(),
            side: pos.side,
            qty: Qty::new(pos.qty),
            entry_price: Price::new(pos.entry_price),
            leverage: pos.leverage,
            margin_mode: MarginMode::Isolated,
            liquidation_price: None,
        });
        for id in pos.protection.ids() {
            match sent.get(&id) {
                Some(order) => snapshot.orders.push(RestingOrder { order: order.clone(), peak: None }),
                None => {
                    tracing::warn!(%id, %symbol, "protective order missing from the journal: not restored")
                }
            }
        }
    }
    snapshot
}

/// The journal's records, read without opening it for writing; empty when there is none.
fn read_journal(path: &Path) -> Result<Vec<JournalRecord>, RunError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(RunError::Io { context: format!("reading {}", path.display()), source }),
    };
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut records = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        let last = i + 1 == lines.len();
        match serde_json::from_str::<JournalRecord>(line.trim_end()) {
            Ok(record) if line.ends_with('\n') => records.push(record),
            Err(e) if !last => {
                return Err(RunError::Replay(format!("journal {} line {}: {e}", path.display(), i + 1)));
            }
            // A torn last line: never acknowledged, cut off when the journal is opened.
            _ => {}
        }
    }
    Ok(records)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn journal_file(name: &str, text: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!("fa-paper-journal-{}-{name}.jsonl", std::process::id()));
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn the_journal_is_read_without_its_torn_last_line_and_a_bad_middle_line_is_an_error() {
        let good = "{\"seq\":1,\"ts\":5,\"kind\":\"session\",\"session_ms\":5}\n";
        let torn = journal_file("torn", &format!("{good}{{\"seq\":2,\"ts\":6,\"ki"));
        let records = read_journal(&torn).unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!((records[0].seq, records[0].kind.as_str()), (1, "session"));
        let unterminated = journal_file("unterminated", good.trim_end());
        assert!(read_journal(&unterminated).unwrap().is_empty(), "a last line without its newline is torn");
        let bad = journal_file("bad", &format!("not json\n{good}"));
        let err = read_journal(&bad).unwrap_err();
        assert!(matches!(err, RunError::Replay(ref text) if text.contains("line 1")), "{err}");
        assert!(read_journal(Path::new("/nonexistent/fa-journal.jsonl")).unwrap().is_empty());
        for path in [torn, unterminated, bad] {
            let _ = std::fs::remove_file(path);
        }
    }
}
