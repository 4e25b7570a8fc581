//! Paper mode's venue for either agent (DESIGN §4): exchange-core's [`PaperVenue`] over the real
//! client (market data only), holding the paper account the journal describes, so that the
//! runtime's reconciliation after a restart finds the paper holdings and protective orders the
//! journal left. The journal is only read here (the agent opens it for writing, under its PID
//! file, right after), and replayed into a throwaway engine whose
//! [`LiveEngine::paper_account`] is the account to restore.

use std::path::Path;

use exchange_core::paper::{PaperConfig, PaperVenue};
use exchange_core::venue::{MarketData, MarketFeed};
use exchange_core::{InstrumentRules, Symbol};

use super::LiveEngine;
use super::runtime::RunError;
use crate::journal::Journal;

/// A paper venue over `inner` with the account of the journal at `journal_path`, as an engine
/// made by `build` (rules of `symbols`, session 0) rebuilds it.
///
/// # Errors
/// The venue failing to give a symbol's rules, a journal that cannot be read or replayed, or an
/// account the paper broker refuses.
pub async fn paper_venue<V, E>(
    inner: V,
    config: PaperConfig,
    journal_path: &Path,
    symbols: &[Symbol],
    build: impl FnOnce(Vec<(Symbol, InstrumentRules)>, u64) -> E,
) -> Result<PaperVenue<V>, RunError>
where
    V: MarketData + MarketFeed + 'static,
    E: LiveEngine,
{
    let paper = PaperVenue::start(inner, config)?;
    let records = Journal::read(journal_path)?;
    if records.is_empty() {
        return Ok(paper);
    }
    let mut rules = Vec::new();
    for symbol in symbols {
        rules.push((symbol.clone(), paper.inner().instrument_rules(symbol).await?));
    }
    let mut engine = build(rules, 0);
    engine.replay(&records).map_err(RunError::Replay)?;
    let account = engine.paper_account(&records);
    tracing::info!(
        positions = account.positions.len(),
        balances = account.balances.len(),
        orders = account.orders.len(),
        "paper account restored from the journal"
    );
    paper.restore(account).await?;
    Ok(paper)
}
