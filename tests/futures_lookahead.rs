//! Lookahead-free (DESIGN §10, issue 4): a backtest over the data cut at any bar makes exactly
//! the trades the full run made before the cut, and marks the same equity at every close before
//! it. Checked on real data (BTC, ETH, SOL perpetuals) at random cut points.
//!
//! Needs ../shared/data (DESIGN §14): skips loudly without it unless `REQUIRE_SHARED_DATA=1`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use agent_core::backtest::{self, ExitReason, RunOutput, SymbolSeries, load_dir};
use exchange_core::marketdata::shared_data_dir;
use futures_agent::config::FuturesConfig;
use futures_agent::strategy::Momentum;
use proptest::prelude::*;
use risk_core::params::FuturesRiskParams;

fn full_data() -> Option<(Vec<SymbolSeries>, FuturesRiskParams)> {
    let dir = match shared_data_dir() {
        Ok(Some(dir)) => dir.join("futures-1h"),
        Ok(None) => return None,
        Err(message) => panic!("{message}"),
    };
    let cfg = FuturesConfig::default();
    let symbols: Vec<_> = cfg.symbols.iter().map(|s| (s.clone(), cfg.rules_for(s).unwrap())).collect();
    Some((load_dir(&dir, &symbols, None, None).unwrap().series, cfg.strategy))
}

fn run(series: &[SymbolSeries], params: &FuturesRiskParams) -> RunOutput {
    backtest::run(series, params, &Momentum::new(params))
}

/// Checks the prefix property for a cut before the bars opening at `cut`.
fn check_cut(series: &[SymbolSeries], params: &FuturesRiskParams, full: &RunOutput, cut: i64) {
    let prefix_series: Vec<SymbolSeries> = series
        .iter()
        .map(|s| SymbolSeries {
            bars: s.bars.iter().copied().filter(|b| b.open_time_ms < cut).collect(),
            ..s.clone()
        })
        .collect();
    let prefix = run(&prefix_series, params);

    // Trades that ended inside the prefix are the same, in the same order.
    let closed_before: Vec<_> = full.trades.iter().filter(|t| t.exit_time < cut).collect();
    let closed_in_prefix: Vec<_> =
        prefix.trades.iter().filter(|t| t.exit_reason != ExitReason::EndOfData).collect();
    assert_eq!(closed_in_prefix, closed_before, "cut at {cut}");

    // Positions still open at the cut are the full run's, entered the same way.
    let mut open_at_cut: Vec<_> = full
        .trades
        .iter()
        .filter(|t| t.entry_time < cut && t.exit_time >= cut)
        .map(|t| (t.symbol.clone(), t.side, t.entry_time, t.entry_price, t.qty, t.leverage))
        .collect();
    let mut closed_by_end: Vec<_> = prefix
        .trades
        .iter()
        .filter(|t| t.exit_reason == ExitReason::EndOfData)
        .map(|t| (t.symbol.clone(), t.side, t.entry_time, t.entry_price, t.qty, t.leverage))
        .collect();
    open_at_cut.sort_by_key(|p| (p.2, p.0.clone()));
    closed_by_end.sort_by_key(|p| (p.2, p.0.clone()));
    assert_eq!(closed_by_end, open_at_cut, "cut at {cut}: open positions");

    // Equity at every close before the last one of the prefix (whose point is replaced by the
    // wallet after the end-of-data closes).
    let n = prefix.equity.len();
    assert!(n >= 1 && full.equity.len() > n, "cut at {cut}");
    assert_eq!(prefix.equity[..n - 1], full.equity[..n - 1], "cut at {cut}: equity");
    assert_eq!(
        prefix.breaker_trips,
        full.breaker_trips.iter().copied().filter(|t| *t < cut).collect::<Vec<_>>()
    );
}

#[test]
fn a_prefix_run_makes_the_full_runs_decisions() {
    let Some((series, params)) = full_data() else { return };
    let full = run(&series, &params);
    let times: Vec<i64> = full.equity.iter().map(|(t, _)| *t).collect();
    // Fixed cuts at both ends and around the first trades, then random ones.
    let first_entry = full.trades[0].entry_time;
    for cut in [times[1], first_entry, first_entry + 3_600_000, times[times.len() - 1]] {
        check_cut(&series, &params, &full, cut);
    }
    let config = ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() };
    proptest!(config, |(k in 1..times.len())| {
        check_cut(&series, &params, &full, times[k]);
    });
}
