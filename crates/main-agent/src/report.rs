//! The backtest report (DESIGN §12) of the main agent, in the shape of the futures one
//! (`params` with the instrument rules used, `trades`, `equity`, `metrics`, `summary`) plus:
//! - `regimes`: bars per regime and their shares, per pair and for the market symbol (its
//!   regime at each timestamp of the run);
//! - `gate`: signals that reached the gate, passed or refused (by the model's probability, or
//!   for want of a model), what became of every signal, and how the signals would have done:
//!   their forward return over the gate's horizon, from the open after the signal (where the
//!   order would have filled) to the close `horizon` bars after the signal's bar, net of the
//!   round-trip fee and slippage (a signal without both bars in the data is not measured);
//! - `caps`: the caps' activity (VaR shrinks and refusals, correlation refusals, sizing,
//!   slots, orders cancelled by holes or by cash, signals blocked by regimes);
//! - `ablation`, with `--ablation`: the same run with each feature off in turn.
//!
//! Money is written as decimal strings; the equity curve as `[time_ms, equity]` numbers rounded
//! to 1e-8, each point the close of the bar opening at `time_ms`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

pub use agent_core::backtest::Summary;
pub use agent_core::backtest::fmt_opt;
use agent_core::spot::{
    CapCounters, RegimeCounts, SignalOutcome, SpotParams, SpotRunOutput, SpotSeries, SpotTrade,
};
use agent_core::time::format_utc_minute;
use exchange_core::{InstrumentRules, Symbol};
use risk_core::metrics::Metrics;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;

use crate::ablation::AblationRow;

/// The parameters of a run.
#[derive(Debug, Clone, Serialize)]
pub struct ReportParams {
    /// Every strategy key.
    #[serde(flatten)]
    pub strategy: SpotParams,
    /// Pairs run, sorted.
    pub symbols: Vec<Symbol>,
    /// Pairs without data in the range, left out.
    pub skipped: Vec<Symbol>,
    /// Instrument rules used, per pair (from the config, or derived from the data).
    pub instruments: BTreeMap<Symbol, InstrumentRules>,
    /// First day included (`YYYY-MM-DD`), if limited.
    pub from: Option<String>,
    /// First day excluded (`YYYY-MM-DD`), if limited.
    pub to: Option<String>,
    /// The bar interval in ms.
    pub interval_ms: i64,
}

/// Bars per regime and their shares of all bars counted.
#[derive(Debug, Clone, Serialize)]
pub struct RegimeShares {
    /// Counts.
    pub bars: RegimeCounts,
    /// Shares (0 to 1) per regime, and of the warm-up.
    pub share: BTreeMap<&'static str, f64>,
}

impl RegimeShares {
    fn new(bars: RegimeCounts) -> Self {
        let total = bars.total().max(1) as f64;
        let share = [
            ("trend_up", bars.trend_up),
            ("trend_down", bars.trend_down),
            ("range", bars.range),
            ("high_vol", bars.high_vol),
            ("warmup", bars.warmup),
        ]
        .into_iter()
        .map(|(k, v)| (k, v as f64 / total))
        .collect();
        Self { bars, share }
    }
}

/// Regime statistics.
#[derive(Debug, Clone, Serialize)]
pub struct RegimeReport {
    /// The market symbol.
    pub market_symbol: Symbol,
    /// The market's regime at each timestamp (`None` when the symbol is not in the run).
    pub market: Option<RegimeShares>,
    /// Per pair.
    pub assets: BTreeMap<Symbol, RegimeShares>,
}

/// Forward returns of a group of signals.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ForwardStats {
    /// Signals in the group.
    pub signals: usize,
    /// Signals whose forward return could be measured.
    pub measured: usize,
    /// Mean net forward return.
    pub mean_net_return: Option<f64>,
    /// Share of measured signals with a positive net forward return.
    pub hit_rate: Option<f64>,
}

/// Gate statistics.
#[derive(Debug, Clone, Serialize)]
pub struct GateReport {
    /// Whether the gate was on.
    pub enabled: bool,
    /// Probability needed.
    pub threshold: f64,
    /// Label and forward-return horizon in bars.
    pub horizon: usize,
    /// Model fits.
    pub fits: usize,
    /// Samples labelled.
    pub labelled_samples: u64,
    /// TA signals that reached the gate.
    pub signals: usize,
    /// Signals the gate passed.
    pub passed: usize,
    /// Signals refused by the model's probability.
    pub refused: usize,
    /// Signals refused for want of a model (before the first fit).
    pub refused_no_model: usize,
    /// What became of every signal, by outcome.
    pub outcomes: BTreeMap<&'static str, usize>,
    /// How the forward return is measured.
    pub forward_return_method: &'static str,
    /// Forward returns of the passed signals.
    pub passed_forward: ForwardStats,
    /// Forward returns of the signals the model refused.
    pub refused_forward: ForwardStats,
    /// Forward returns of the signals refused for want of a model.
    pub no_model_forward: ForwardStats,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Parameters and instrument rules.
    pub params: ReportParams,
    /// Every closed trade.
    pub trades: Vec<SpotTrade>,
    /// `[time_ms, equity]` at every close.
    pub equity: Vec<(i64, f64)>,
    /// DESIGN §12 metrics.
    pub metrics: Metrics,
    /// Headline figures.
    pub summary: Summary,
    /// Regime statistics.
    pub regimes: RegimeReport,
    /// Gate statistics.
    pub gate: GateReport,
    /// The caps' activity.
    pub caps: CapCounters,
    /// With `--ablation`: each feature off in turn, against the all-on run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ablation: Option<Vec<AblationRow>>,
}

/// How the gate's forward returns are measured (written into the report).
pub const FORWARD_METHOD: &str = "close[signal bar + horizon] / open[signal bar + 1] - 1 - round-trip costs";

fn outcome_name(outcome: SignalOutcome) -> &'static str {
    match outcome {
        SignalOutcome::GateRefused => "gate_refused",
        SignalOutcome::NoModel => "no_model",
        SignalOutcome::MaxPositions => "max_positions",
        SignalOutcome::CorrelationRefused => "correlation_refused",
        SignalOutcome::CorrelationUnknown => "correlation_unknown",
        SignalOutcome::SizeRefused => "size_refused",
        SignalOutcome::VarRefused => "var_refused",
        SignalOutcome::VarShrunkBelowMinimum => "var_shrunk_below_minimum",
        SignalOutcome::VarInsufficientHistory => "var_insufficient_history",
        SignalOutcome::Ordered => "ordered",
        SignalOutcome::OrderedShrunk => "ordered_shrunk",
    }
}

/// The net forward return of a signal at `time` on `series` (see the module notes).
fn forward_return(series: &SpotSeries, time: i64, interval: i64, horizon: usize, costs: f64) -> Option<f64> {
    let at = |t: i64| series.bars.binary_search_by_key(&t, |b| b.open_time_ms).ok().map(|i| series.bars[i]);
    let entry = at(time + interval)?.open.get().to_f64()?;
    let exit = at(time + horizon as i64 * interval)?.close.get().to_f64()?;
    (entry > 0.0).then(|| exit / entry - 1.0 - costs)
}

fn forward_stats(returns: &[Option<f64>]) -> ForwardStats {
    let measured: Vec<f64> = returns.iter().flatten().copied().collect();
    let n = measured.len();
    ForwardStats {
        signals: returns.len(),
        measured: n,
        mean_net_return: (n > 0).then(|| measured.iter().sum::<f64>() / n as f64),
        hit_rate: (n > 0).then(|| measured.iter().filter(|r| **r > 0.0).count() as f64 / n as f64),
    }
}

impl Report {
    /// Builds the report of a run over `series` (the run's data, for the forward returns).
    pub fn new(params: ReportParams, run: SpotRunOutput, series: &[SpotSeries]) -> Self {
        let capital = params.strategy.capital;
        let equity: Vec<(i64, f64)> = run
            .equity
            .iter()
            .map(|(t, e)| (*t, (e.to_f64().unwrap_or(f64::NAN) * 1e8).round() / 1e8))
            .collect();
        let pnls: Vec<Decimal> = run.trades.iter().map(|t| t.pnl).collect();
        let metrics = Metrics::from_equity_and_trades(&equity, &pnls, capital.to_f64().unwrap_or(0.0));
        let mut exits = BTreeMap::new();
        for t in &run.trades {
            *exits.entry(t.exit_reason.as_str()).or_insert(0) += 1;
        }
        let summary = Summary {
            capital,
            final_equity: run.final_equity,
            net_pnl: run.final_equity - capital,
            bar_steps: run.bar_steps,
            exits,
            breaker_trips: run.breaker_trips.clone(),
        };
        let regimes = RegimeReport {
            market_symbol: params.strategy.entries.market_symbol.clone(),
            market: run.market_regimes.map(RegimeShares::new),
            assets: run
                .symbols
                .iter()
                .cloned()
                .zip(run.regimes.iter().map(|c| RegimeShares::new(*c)))
                .collect(),
        };
        let gate = gate_report(&params, &run, series);
        Self {
            caps: run.caps,
            trades: run.trades,
            equity,
            metrics,
            summary,
            regimes,
            gate,
            params,
            ablation: None,
        }
    }

    /// The human summary for stdout.
    pub fn human_summary(&self) -> String {
        let mut out = String::new();
        let s = &self.summary;
        let span = match (self.equity.first(), self.equity.last()) {
            (Some(a), Some(b)) => format!("{} .. {} UTC", format_utc_minute(a.0), format_utc_minute(b.0)),
            _ => "no bars".to_owned(),
        };
        let _ = writeln!(
            out,
            "backtest of {} pairs over {span} ({} bar-steps)",
            self.params.symbols.len(),
            s.bar_steps
        );
        s.write_lines(&mut out, self.trades.len(), &self.metrics, &self.equity);
        if let Some(market) = &self.regimes.market {
            let shares: Vec<String> = ["trend_up", "trend_down", "range", "high_vol"]
                .iter()
                .map(|k| format!("{k} {:.0}%", market.share.get(k).copied().unwrap_or(0.0) * 100.0))
                .collect();
            let _ = writeln!(out, "market ({}) regimes: {}", self.regimes.market_symbol, shares.join(", "));
        }
        let g = &self.gate;
        if g.enabled {
            let _ = writeln!(
                out,
                "gate: {} signals, {} passed, {} refused by the model, {} before the first fit ({} fits); net {}-bar forward return passed {} / refused {}",
                g.signals,
                g.passed,
                g.refused,
                g.refused_no_model,
                g.fits,
                g.horizon,
                fmt_opt(g.passed_forward.mean_net_return.map(|r| r * 100.0), "%"),
                fmt_opt(g.refused_forward.mean_net_return.map(|r| r * 100.0), "%"),
            );
        } else {
            let _ = writeln!(out, "gate: off ({} signals)", g.signals);
        }
        let c = &self.caps;
        let _ = writeln!(
            out,
            "caps: VaR shrunk {} refused {} (history {}), correlation refused {} (unknown {}), slots full {}, sizing {}, orders cancelled by holes {} / cash {}",
            c.var_shrunk,
            c.var_refused,
            c.var_insufficient_history,
            c.correlation_refused,
            c.correlation_unknown,
            c.max_positions,
            c.size_refused,
            c.cancelled_by_gap,
            c.cancelled_by_cash,
        );
        if !s.breaker_trips.is_empty() {
            let _ = writeln!(out, "daily loss cap tripped {} times", s.breaker_trips.len());
        }
        out
    }
}

fn gate_report(params: &ReportParams, run: &SpotRunOutput, series: &[SpotSeries]) -> GateReport {
    let p = &params.strategy;
    let costs = p.round_trip_cost();
    let mut outcomes = BTreeMap::new();
    let (mut passed, mut refused, mut no_model) = (Vec::new(), Vec::new(), Vec::new());
    for signal in &run.signals {
        *outcomes.entry(outcome_name(signal.outcome)).or_insert(0) += 1;
        let fwd = series
            .get(signal.asset)
            .and_then(|s| forward_return(s, signal.time, params.interval_ms, p.gate.horizon, costs));
        match signal.outcome {
            SignalOutcome::GateRefused => refused.push(fwd),
            SignalOutcome::NoModel => no_model.push(fwd),
            _ => passed.push(fwd),
        }
    }
    GateReport {
        enabled: p.features.ml_gate,
        threshold: p.gate.threshold,
        horizon: p.gate.horizon,
        fits: run.fits,
        labelled_samples: run.labelled,
        signals: run.signals.len(),
        passed: passed.len(),
        refused: refused.len(),
        refused_no_model: no_model.len(),
        outcomes,
        forward_return_method: FORWARD_METHOD,
        passed_forward: forward_stats(&passed),
        refused_forward: forward_stats(&refused),
        no_model_forward: forward_stats(&no_model),
    }
}
