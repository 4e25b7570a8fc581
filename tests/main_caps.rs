//! The main agent's portfolio caps hold at every entry of a real backtest (DESIGN §11), checked
//! by this file's own arithmetic from the report's trades and the raw kline files, not by the
//! crates' code.
//!
//! The run: `main-agent backtest` (its library entry point) over the 30 pairs of
//! ../shared/data/spot-1h that cover 2024-10-01 to 2026-02-19, every feature on, the shipped
//! config. For every trade, at the close of its decision bar `T` (one interval before its fill),
//! the portfolio held is rebuilt from the other trades: positions entered at or before `T` and
//! not yet sold at `T`'s close, plus orders decided at the same close for pairs earlier in
//! symbol order. Then, from the raw closes:
//! - correlation cap: the Pearson correlation of 1-bar log returns over the `correlation_window`
//!   hours ending at `T` (only hours where both pairs have both closes) with every held pair is
//!   at most `correlation_cap`, over at least `correlation_min_pairs` hours;
//! - VaR limit: the 5 % tail of the portfolio's one-day P&L (overlapping 24-hour returns at each
//!   of the last `var_lookback_bars` hours, complete scenarios only, each held pair valued at
//!   `qty * close[T]`, the new one included), `k = ceil(n * 0.05)`-th worst, is at most
//!   `var_limit` of the equity at `T`;
//! - sizing: the new position is worth at most `max_position_fraction` of that equity, and at
//!   most `max_positions` are held with it.
//!
//! The run must also show the caps at work (orders shrunk by the VaR limit, signals refused by
//! the correlation cap), so the check cannot pass vacuously.
//!
//! Needs ../shared/data (DESIGN §14): skips loudly without it unless `REQUIRE_SHARED_DATA=1`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use agent_core::dotenv::Layers;
use agent_core::spot::{SpotExitReason, SpotTrade};
use exchange_core::marketdata::{load_klines, shared_data_dir};
use main_agent::backtest::{BacktestArgs, run_backtest};
use rust_decimal::prelude::ToPrimitive;

const HOUR: i64 = 3_600_000;

const PAIRS: [&str; 30] = [
    "AAVEUSDT", "ADAUSDT", "ARBUSDT", "AVAXUSDT", "AXSUSDT", "BCHUSDT", "BNBUSDT", "BTCUSDT", "DASHUSDT",
    "DOGEUSDT", "DOTUSDT", "ENAUSDT", "ETHUSDT", "INJUSDT", "LINKUSDT", "LTCUSDT", "NEARUSDT", "OMUSDT",
    "OPUSDT", "PAXGUSDT", "SNXUSDT", "SOLUSDT", "SUIUSDT", "TAOUSDT", "TRXUSDT", "UNIUSDT", "XRPUSDT",
    "XTZUSDT", "ZECUSDT", "ZROUSDT",
];

fn spot_dir() -> Option<PathBuf> {
    match shared_data_dir() {
        Ok(Some(dir)) => Some(dir.join("spot-1h")),
        Ok(None) => None,
        Err(message) => panic!("{message}"),
    }
}

/// Closes by open time, per pair, read from the raw files.
fn closes(dir: &std::path::Path) -> HashMap<String, HashMap<i64, f64>> {
    PAIRS
        .iter()
        .map(|p| {
            let series = load_klines(&dir.join(format!("{p}.csv"))).unwrap();
            let map = series.bars.iter().map(|b| (b.open_time_ms, b.close.get().to_f64().unwrap())).collect();
            ((*p).to_owned(), map)
        })
        .collect()
}

/// Pearson correlation over pairs where both are present; `(correlation, pairs)`.
fn correlation(x: &[Option<f64>], y: &[Option<f64>]) -> (f64, usize) {
    let both: Vec<(f64, f64)> = x.iter().zip(y).filter_map(|(a, b)| Some(((*a)?, (*b)?))).collect();
    let n = both.len() as f64;
    let (mx, my) = (both.iter().map(|p| p.0).sum::<f64>() / n, both.iter().map(|p| p.1).sum::<f64>() / n);
    let cov: f64 = both.iter().map(|(a, b)| (a - mx) * (b - my)).sum();
    let vx: f64 = both.iter().map(|(a, _)| (a - mx).powi(2)).sum();
    let vy: f64 = both.iter().map(|(_, b)| (b - my).powi(2)).sum();
    (cov / (vx * vy).sqrt(), both.len())
}

#[test]
fn every_entry_respects_the_correlation_cap_the_var_limit_and_the_sizing() {
    let Some(dir) = spot_dir() else { return };
    let args = BacktestArgs {
        data: dir.clone(),
        symbols: Some(PAIRS.iter().map(|s| (*s).to_owned()).collect()),
        from: Some("2024-10-01".to_owned()),
        to: Some("2026-02-19".to_owned()),
        config: Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config/main_agent.toml")),
        overrides: Vec::new(),
        report: PathBuf::from("unused.json"),
        ablation: false,
        save_model: None,
    };
    let report = run_backtest(&args, &Layers::from_parts(HashMap::new(), &[]).unwrap()).unwrap().report;
    let p = &report.params.strategy;
    assert!(p.features.ml_gate && p.features.regime && p.features.correlation_filter && p.features.var_limit);
    assert_eq!(report.params.symbols.len(), 30);
    let c = &report.caps;
    assert_eq!(
        (c.cancelled_by_gap, c.cancelled_by_cash, c.shrunk_by_cash),
        (0, 0, 0),
        "every order filled as decided"
    );
    assert!(c.var_shrunk > 0 && c.correlation_refused > 0, "the caps must have acted: {c:?}");
    assert!(report.trades.len() > 100, "{} trades", report.trades.len());
    assert!(report.gate.fits > 10 && report.gate.refused > 0, "{:?}", report.gate);

    let closes = closes(&dir);
    let close = |pair: &str, t: i64| closes[pair].get(&t).copied();
    let equity: BTreeMap<i64, f64> = report.equity.iter().copied().collect();
    let r = &p.risk;
    let mut checked_corr = 0;
    let mut binding_var = 0;
    for trade in &report.trades {
        let t = trade.decision_time;
        assert_eq!(trade.entry_time, t + HOUR);
        let held: Vec<&SpotTrade> = report
            .trades
            .iter()
            .filter(|o| o.symbol != trade.symbol)
            .filter(|o| {
                let open =
                    o.entry_time <= t && (t < o.exit_time || o.exit_reason == SpotExitReason::EndOfData);
                let same_close = o.decision_time == t && o.symbol < trade.symbol;
                open || same_close
            })
            .collect();
        assert!(held.len() < r.max_positions, "{} at {t}: {} held", trade.symbol, held.len());
        let eq = equity[&t];
        let price = close(trade.symbol.as_str(), t).unwrap();
        let value = trade.qty.get().to_f64().unwrap() * price;
        let max_value = p.risk.max_position_fraction.to_f64().unwrap() * eq;
        assert!(value <= max_value * (1.0 + 1e-9), "{} at {t}: {value} over {max_value}", trade.symbol);

        // Correlation of 1-bar log returns with every held pair.
        let log_returns = |pair: &str| -> Vec<Option<f64>> {
            (0..r.correlation_window as i64)
                .rev()
                .map(|k| {
                    let s = t - k * HOUR;
                    Some((close(pair, s)? / close(pair, s - HOUR)?).ln())
                })
                .collect()
        };
        let mine = log_returns(trade.symbol.as_str());
        for other in &held {
            let (corr, pairs) = correlation(&mine, &log_returns(other.symbol.as_str()));
            assert!(
                pairs >= r.correlation_min_pairs,
                "{} vs {} at {t}: {pairs} pairs",
                trade.symbol,
                other.symbol
            );
            assert!(
                corr <= r.correlation_cap + 1e-9,
                "{} vs {} at {t}: correlation {corr} over the cap",
                trade.symbol,
                other.symbol
            );
            checked_corr += 1;
        }

        // One-day historical VaR of the portfolio with the new position.
        let mut book: Vec<(&str, f64)> = held
            .iter()
            .map(|o| {
                (o.symbol.as_str(), o.qty.get().to_f64().unwrap() * close(o.symbol.as_str(), t).unwrap())
            })
            .collect();
        book.push((trade.symbol.as_str(), value));
        let day = r.var_horizon_bars as i64 * HOUR;
        let mut pnl: Vec<f64> = (0..r.var_lookback_bars as i64)
            .filter_map(|k| {
                let s = t - k * HOUR;
                book.iter().map(|(pair, v)| Some(v * (close(pair, s)? / close(pair, s - day)? - 1.0))).sum()
            })
            .collect();
        assert!(pnl.len() >= r.var_min_scenarios, "{} at {t}: {} scenarios", trade.symbol, pnl.len());
        pnl.sort_by(f64::total_cmp);
        let k = ((pnl.len() as f64 * (1.0 - r.var_confidence)) - 1e-9).ceil().max(1.0) as usize;
        let var = (-pnl[k - 1]).max(0.0);
        let limit = r.var_limit * eq;
        assert!(
            var <= limit * (1.0 + 1e-9) + 1e-6,
            "{} at {t}: VaR {var} over the limit {limit}",
            trade.symbol
        );
        if var > 0.98 * limit {
            binding_var += 1;
        }
    }
    assert!(checked_corr > 100, "only {checked_corr} correlations checked");
    assert!(binding_var > 0, "no entry came near the VaR limit");
}
