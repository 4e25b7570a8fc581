//! Lookahead-free (DESIGN §11): a main-agent backtest over the data cut at any bar makes exactly
//! the decisions the full run made before the cut: the same trades closed, the same positions
//! open at the cut (entered the same way), the same equity at every close, the same daily loss
//! cap trips, and the same entry signals with the same gate probabilities and outcomes. The gate
//! refits every 48 bars here, so the probabilities check its walk-forward training too.
//!
//! Real data (../shared/data/spot-1h), 9 pairs from 2024-08-01 to 2024-10-16: pairs with a hole
//! (AAVE and SUI a week, ENA 24 days, around 2024-09-07), one that ends inside the range
//! (ATOM, 2024-09-07), late starters (BNB from 2024-09-14, AXS from 2024-10-01), and full ones.
//!
//! Needs ../shared/data (DESIGN §14): skips loudly without it unless `REQUIRE_SHARED_DATA=1`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use agent_core::spot::{
    SignalOutcome, SpotExitReason, SpotParams, SpotRunOutput, SpotSeries, load_spot_dir, run_spot,
};
use agent_core::time::parse_date_ms;
use exchange_core::Symbol;
use exchange_core::marketdata::shared_data_dir;
use main_agent::config::MainConfig;
use proptest::prelude::*;

const PAIRS: [&str; 9] =
    ["AAVEUSDT", "ATOMUSDT", "AXSUSDT", "BNBUSDT", "BTCUSDT", "ENAUSDT", "ETHUSDT", "SOLUSDT", "SUIUSDT"];

fn data() -> Option<(Vec<SpotSeries>, i64, SpotParams)> {
    let dir = match shared_data_dir() {
        Ok(Some(dir)) => dir.join("spot-1h"),
        Ok(None) => return None,
        Err(message) => panic!("{message}"),
    };
    let cfg = MainConfig::default();
    let symbols: Vec<Symbol> = PAIRS.iter().map(|s| Symbol::new(s).unwrap()).collect();
    let from = parse_date_ms("2024-08-01").unwrap();
    let to = parse_date_ms("2024-10-16").unwrap();
    let loaded = load_spot_dir(&dir, &symbols, &|s, b| cfg.rules_for(s, b), Some(from), Some(to)).unwrap();
    assert_eq!(loaded.series.len(), PAIRS.len());
    let mut params = cfg.params();
    params.gate.min_train_samples = 300;
    params.gate.train_window = 1200;
    params.gate.retrain_every = 48;
    // More orders, and more of them shrunk by the VaR limit, than the defaults give here.
    params.gate.threshold = 0.45;
    params.risk.var_limit = 0.01;
    Some((loaded.series, loaded.interval_ms, params))
}

/// Entry facts of a trade, without its exit.
type Entry = (Symbol, i64, i64, String, String, Option<u64>);

fn entry_of(t: &agent_core::spot::SpotTrade) -> Entry {
    (
        t.symbol.clone(),
        t.decision_time,
        t.entry_time,
        t.entry_price.to_string(),
        t.qty.to_string(),
        t.probability.map(f64::to_bits),
    )
}

/// Asserts two sequences are equal, printing only the first difference.
fn assert_same<T: PartialEq + std::fmt::Debug>(what: &str, got: &[T], want: &[T]) {
    if let Some(i) = got.iter().zip(want).position(|(a, b)| a != b) {
        panic!("{what}: first difference at {i}:\n  prefix: {:?}\n  full:   {:?}", got[i], want[i]);
    }
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
}

/// Checks the prefix property for a cut before the bars opening at `cut`.
fn check_cut(series: &[SpotSeries], interval: i64, params: &SpotParams, full: &SpotRunOutput, cut: i64) {
    let prefix_series: Vec<SpotSeries> = series
        .iter()
        .map(|s| SpotSeries {
            bars: s.bars.iter().copied().filter(|b| b.open_time_ms < cut).collect(),
            ..s.clone()
        })
        .filter(|s| !s.bars.is_empty())
        .collect();
    // A pair that starts after the cut drops out; the grid and indices of the others stay.
    assert_eq!(prefix_series.len(), series.iter().filter(|s| s.bars[0].open_time_ms < cut).count());
    let prefix = run_spot(&prefix_series, interval, params);

    let closed_before: Vec<_> = full
        .trades
        .iter()
        .filter(|t| t.exit_time < cut && t.exit_reason != SpotExitReason::EndOfData)
        .collect();
    let closed_in_prefix: Vec<_> =
        prefix.trades.iter().filter(|t| t.exit_reason != SpotExitReason::EndOfData).collect();
    assert_same(&format!("cut at {cut}: closed trades"), &closed_in_prefix, &closed_before);

    let mut open_at_cut: Vec<Entry> = full
        .trades
        .iter()
        .filter(|t| t.entry_time < cut && (t.exit_time >= cut || t.exit_reason == SpotExitReason::EndOfData))
        .map(entry_of)
        .collect();
    let mut held_at_end: Vec<Entry> =
        prefix.trades.iter().filter(|t| t.exit_reason == SpotExitReason::EndOfData).map(entry_of).collect();
    open_at_cut.sort();
    held_at_end.sort();
    assert_same(&format!("cut at {cut}: positions open at the cut"), &held_at_end, &open_at_cut);

    let n = prefix.equity.len();
    assert!(n >= 1 && full.equity.len() > n, "cut at {cut}");
    assert_same(&format!("cut at {cut}: equity"), &prefix.equity[..n - 1], &full.equity[..n - 1]);
    assert_eq!(
        prefix.breaker_trips,
        full.breaker_trips.iter().copied().filter(|t| *t < cut).collect::<Vec<_>>(),
        "cut at {cut}: daily loss cap"
    );

    // Signals, keyed by symbol (indices differ when a late starter dropped out).
    let key = |out: &SpotRunOutput, s: &agent_core::spot::SignalRecord| {
        (s.time, out.symbols[s.asset].clone(), s.kind, s.probability.map(f64::to_bits), s.outcome, s.qty)
    };
    let full_signals: Vec<_> = full.signals.iter().filter(|s| s.time < cut).map(|s| key(full, s)).collect();
    let prefix_signals: Vec<_> = prefix.signals.iter().map(|s| key(&prefix, s)).collect();
    let what = format!("cut at {cut}: signals, gate probabilities, outcomes, order sizes");
    assert_same(&what, &prefix_signals, &full_signals);
}

#[test]
fn a_prefix_run_makes_the_full_runs_decisions() {
    let Some((series, interval, params)) = data() else { return };
    let full = run_spot(&series, interval, &params);
    // The run must exercise what the property is about.
    assert!(full.fits >= 20, "{} fits", full.fits);
    assert!(full.trades.len() >= 10, "{} trades", full.trades.len());
    assert!(full.signals.iter().filter(|s| s.probability.is_some()).count() >= 100);
    let times: Vec<i64> = full.equity.iter().map(|(t, _)| *t).collect();
    let first_entry = full.trades.iter().map(|t| t.entry_time).min().unwrap();
    let hole_end = parse_date_ms("2024-09-14").unwrap();
    for cut in [times[1], first_entry, first_entry + 3_600_000, hole_end, times[times.len() - 1]] {
        check_cut(&series, interval, &params, &full, cut);
    }
    // Random cuts anywhere, and right after random signals: a lookahead of one bar can only
    // show in the decisions at the prefix's last close, so those cuts put a decision there.
    let config = ProptestConfig { cases: 6, failure_persistence: None, ..ProptestConfig::default() };
    proptest!(config, |(k in 1..times.len())| {
        check_cut(&series, interval, &params, &full, times[k]);
    });
    let ordered: Vec<i64> =
        full.signals.iter().filter(|s| s.outcome.ordered()).map(|s| s.time + interval).collect();
    proptest!(config, |(k in 0..ordered.len())| {
        check_cut(&series, interval, &params, &full, ordered[k]);
    });
    // Every order the VaR limit shrank: its size depends on the whole scenario window.
    let shrunk = full.signals.iter().filter(|s| s.outcome == SignalOutcome::OrderedShrunk);
    let shrunk: Vec<i64> = shrunk.map(|s| s.time + interval).take(8).collect();
    assert!(!shrunk.is_empty(), "no order was shrunk by the VaR limit");
    for cut in shrunk {
        check_cut(&series, interval, &params, &full, cut);
    }
}
