//! `--ablation`: the backtest with every feature on, then with each one off in turn (the ML
//! gate, regime detection, the correlation filter, the VaR limit), everything else equal, and a
//! table of what each feature changes: return, Sharpe, max drawdown and trades.

use std::fmt::Write as _;

use agent_core::spot::{FeatureSwitches, SpotParams, SpotRunOutput, SpotSeries, run_spot};
use risk_core::metrics::Metrics;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;

use crate::report::fmt_opt;

/// One run of the ablation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AblationRow {
    /// `all_on`, or `no_<feature>`.
    pub run: &'static str,
    /// The switches it ran with.
    pub features: FeatureSwitches,
    /// Final equity over capital, minus 1.
    pub total_return: Option<f64>,
    /// Annualized Sharpe of daily returns.
    pub sharpe: Option<f64>,
    /// Max drawdown, a negative fraction.
    pub max_drawdown: f64,
    /// Closed trades.
    pub trades: usize,
    /// Cash at the end.
    #[serde(with = "rust_decimal::serde::str")]
    pub final_equity: Decimal,
}

/// The runs, in table order: the name and the feature it switches off.
pub const VARIANTS: [(&str, Option<&str>); 5] = [
    ("all_on", None),
    ("no_ml_gate", Some("ml_gate")),
    ("no_regime", Some("regime")),
    ("no_correlation_filter", Some("correlation_filter")),
    ("no_var_limit", Some("var_limit")),
];

fn switches(off: Option<&str>) -> FeatureSwitches {
    let mut f = FeatureSwitches::default();
    match off {
        Some("ml_gate") => f.ml_gate = false,
        Some("regime") => f.regime = false,
        Some("correlation_filter") => f.correlation_filter = false,
        Some("var_limit") => f.var_limit = false,
        _ => {}
    }
    f
}

/// The row of one run.
pub fn row(
    run: &'static str,
    features: FeatureSwitches,
    output: &SpotRunOutput,
    capital: Decimal,
) -> AblationRow {
    let equity: Vec<(i64, f64)> =
        output.equity.iter().map(|(t, e)| (*t, e.to_f64().unwrap_or(f64::NAN))).collect();
    let pnls: Vec<Decimal> = output.trades.iter().map(|t| t.pnl).collect();
    let metrics = Metrics::from_equity_and_trades(&equity, &pnls, capital.to_f64().unwrap_or(0.0));
    AblationRow {
        run,
        features,
        total_return: metrics.total_return,
        sharpe: metrics.sharpe,
        max_drawdown: metrics.max_drawdown,
        trades: output.trades.len(),
        final_equity: output.final_equity,
    }
}

/// Runs every variant of `params` over `series`; `all_on`, when given, is the output of the
/// all-on run already made (it is not run again).
pub fn run_ablation(
    series: &[SpotSeries],
    interval_ms: i64,
    params: &SpotParams,
    all_on: Option<&SpotRunOutput>,
) -> Vec<AblationRow> {
    VARIANTS
        .iter()
        .map(|(name, off)| {
            let features = switches(*off);
            match all_on.filter(|_| off.is_none()) {
                Some(done) => row(name, features, done, params.capital),
                None => {
                    let variant = SpotParams { features, ..params.clone() };
                    row(name, features, &run_spot(series, interval_ms, &variant), params.capital)
                }
            }
        })
        .collect()
}

/// The table printed on stdout: each run's figures and their change from the all-on run.
pub fn ablation_table(rows: &[AblationRow]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<22} {:>9} {:>7} {:>9} {:>7}   {:>9} {:>7} {:>9} {:>7}",
        "ablation", "return", "sharpe", "max dd", "trades", "d return", "d sharpe", "d max dd", "d trades"
    );
    let base = rows.iter().find(|r| r.run == "all_on");
    let pct = |v: Option<f64>| fmt_opt(v.map(|x| x * 100.0), "%");
    for r in rows {
        let diff = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(a, b)| a - b);
        let (d_ret, d_sharpe, d_dd, d_trades) = match base {
            Some(b) if b.run != r.run => (
                pct(diff(r.total_return, b.total_return)),
                fmt_opt(diff(r.sharpe, b.sharpe), ""),
                pct(Some(r.max_drawdown - b.max_drawdown)),
                format!("{:+}", r.trades as i64 - b.trades as i64),
            ),
            _ => ("-".to_owned(), "-".to_owned(), "-".to_owned(), "-".to_owned()),
        };
        let _ = writeln!(
            out,
            "{:<22} {:>9} {:>7} {:>9} {:>7}   {:>9} {:>7} {:>9} {:>7}",
            r.run,
            pct(r.total_return),
            fmt_opt(r.sharpe, ""),
            pct(Some(r.max_drawdown)),
            r.trades,
            d_ret,
            d_sharpe,
            d_dd,
            d_trades
        );
    }
    out
}
