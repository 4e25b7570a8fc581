//! The backtest report (DESIGN §12): parameters, every trade, the equity curve and metrics, as
//! JSON, plus the human summary printed on stdout.
//!
//! Money in trades is written as decimal strings, exactly as computed. The equity curve is
//! `[time_ms, equity]` pairs of JSON numbers for plotting: `time_ms` is the open time of the bar at
//! whose close equity was marked (so it keys the bar; the mark is taken at its close), equity is
//! rounded to 1e-8. The last point is the wallet after the end-of-data closes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use exchange_core::{InstrumentRules, PositionSide, Qty, Symbol};
use risk_core::metrics::Metrics;
use risk_core::params::FuturesRiskParams;
use rust_decimal::Decimal;
use serde::Serialize;

use super::engine::{RunOutput, decimal_to_f64};
use super::exits::ExitReason;
use crate::time::format_utc_minute;

/// One closed trade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TradeRecord {
    /// The instrument.
    pub symbol: Symbol,
    /// `long` or `short`.
    pub side: PositionSide,
    /// Open time (ms) of the bar whose open filled the entry.
    pub entry_time: i64,
    /// Open time (ms) of the bar in which the exit filled (for `end_of_data`, the last bar, whose
    /// close it filled at).
    pub exit_time: i64,
    /// Entry fill price, slippage included.
    #[serde(with = "rust_decimal::serde::str")]
    pub entry_price: Decimal,
    /// Exit fill price, slippage included (for a liquidation, the liquidation level or the
    /// mark open it gapped to).
    #[serde(with = "rust_decimal::serde::str")]
    pub exit_price: Decimal,
    /// Size in base units.
    pub qty: Qty,
    /// Leverage.
    pub leverage: u32,
    /// Fees paid, entry and exit.
    #[serde(with = "rust_decimal::serde::str")]
    pub fees: Decimal,
    /// Funding received (negative when paid) while open.
    #[serde(with = "rust_decimal::serde::str")]
    pub funding: Decimal,
    /// Net result in the wallet: gross P&L minus fees plus funding.
    #[serde(with = "rust_decimal::serde::str")]
    pub pnl: Decimal,
    /// Why it closed.
    pub exit_reason: ExitReason,
}

/// The parameters of a run, as written in the report.
#[derive(Debug, Clone, Serialize)]
pub struct ReportParams {
    /// Strategy and risk keys.
    #[serde(flatten)]
    pub strategy: FuturesRiskParams,
    /// Symbols run, in config order.
    pub symbols: Vec<Symbol>,
    /// Instrument rules used, per symbol.
    pub instruments: BTreeMap<Symbol, InstrumentRules>,
    /// First day included (`YYYY-MM-DD`), if limited.
    pub from: Option<String>,
    /// First day excluded (`YYYY-MM-DD`), if limited.
    pub to: Option<String>,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Parameters and instrument rules.
    pub params: ReportParams,
    /// Every closed trade.
    pub trades: Vec<TradeRecord>,
    /// `[time_ms, equity]` at every bar close.
    pub equity: Vec<(i64, f64)>,
    /// DESIGN §12 metrics.
    pub metrics: Metrics,
    /// Starting capital, final equity and counts, for a quick look.
    pub summary: Summary,
}

/// Headline figures of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Starting capital.
    #[serde(with = "rust_decimal::serde::str")]
    pub capital: Decimal,
    /// Wallet after everything closed.
    #[serde(with = "rust_decimal::serde::str")]
    pub final_equity: Decimal,
    /// Net P&L.
    #[serde(with = "rust_decimal::serde::str")]
    pub net_pnl: Decimal,
    /// Symbol-bars simulated.
    pub bar_steps: u64,
    /// Trades per exit reason.
    pub exits: BTreeMap<&'static str, usize>,
    /// Open times of the bars at whose close the daily loss breaker (futures) or daily loss cap
    /// (spot) tripped.
    pub breaker_trips: Vec<i64>,
}

impl Summary {
    /// The summary lines every backtest prints: equity from start to end, trade statistics,
    /// return ratios, exits by reason.
    pub fn write_lines(&self, out: &mut String, trades: usize, metrics: &Metrics, equity: &[(i64, f64)]) {
        let ret = if self.capital.is_zero() {
            Decimal::ZERO
        } else {
            self.net_pnl / self.capital * Decimal::ONE_HUNDRED
        };
        let _ = writeln!(
            out,
            "equity {} -> {} ({:+} USDT, {:+.2}%)",
            self.capital.round_dp(2),
            self.final_equity.round_dp(2),
            self.net_pnl.round_dp(2),
            ret
        );
        write_metric_lines(out, trades, metrics, equity);
        let exits: Vec<String> = self.exits.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let _ =
            writeln!(out, "exits: {}", if exits.is_empty() { "none".to_owned() } else { exits.join(", ") });
    }
}

impl Report {
    /// Builds the report of a run.
    pub fn new(params: ReportParams, run: RunOutput) -> Self {
        let equity: Vec<(i64, f64)> =
            run.equity.iter().map(|(t, e)| (*t, (decimal_to_f64(*e) * 1e8).round() / 1e8)).collect();
        let pnls: Vec<Decimal> = run.trades.iter().map(|t| t.pnl).collect();
        let metrics =
            Metrics::from_equity_and_trades(&equity, &pnls, decimal_to_f64(params.strategy.capital));
        let mut exits = BTreeMap::new();
        for t in &run.trades {
            *exits.entry(t.exit_reason.as_str()).or_insert(0) += 1;
        }
        let summary = Summary {
            capital: params.strategy.capital,
            final_equity: run.final_equity,
            net_pnl: run.final_equity - params.strategy.capital,
            bar_steps: run.bar_steps,
            exits,
            breaker_trips: run.breaker_trips,
        };
        Self { params, trades: run.trades, equity, metrics, summary }
    }

    /// The human summary for stdout.
    pub fn human_summary(&self) -> String {
        let mut out = String::new();
        let s = &self.summary;
        let span = match (self.equity.first(), self.equity.last()) {
            (Some(a), Some(b)) => format!("{} .. {} UTC", format_utc_minute(a.0), format_utc_minute(b.0)),
            _ => "no bars".to_owned(),
        };
        let symbols: Vec<&str> = self.params.symbols.iter().map(Symbol::as_str).collect();
        let _ = writeln!(out, "backtest {} over {span} ({} bar-steps)", symbols.join(","), s.bar_steps);
        s.write_lines(&mut out, self.trades.len(), &self.metrics, &self.equity);
        if !s.breaker_trips.is_empty() {
            let _ = writeln!(out, "daily breaker tripped {} times", s.breaker_trips.len());
        }
        out
    }
}

/// The two summary lines every backtest prints: trade statistics, then the return ratios (CAGR
/// left out under 30 days of equity, where annualizing gives absurd figures; the report keeps it).
pub fn write_metric_lines(out: &mut String, trades: usize, m: &Metrics, equity: &[(i64, f64)]) {
    let span_days = match (equity.first(), equity.last()) {
        (Some(a), Some(b)) => (b.0 - a.0) / crate::time::DAY_MS,
        _ => 0,
    };
    let _ = writeln!(
        out,
        "trades {trades}  win rate {}  profit factor {}  expectancy {}",
        fmt_opt(m.trades.win_rate.map(|w| w * 100.0), "%"),
        fmt_opt(m.trades.profit_factor, ""),
        m.trades.expectancy.map_or_else(|| "n/a".to_owned(), |e| format!("{} USDT", e.round_dp(2))),
    );
    let cagr = if span_days >= 30 {
        fmt_opt(m.cagr.map(|c| c * 100.0), "%")
    } else {
        "n/a (under 30 days)".to_owned()
    };
    let _ = writeln!(
        out,
        "sharpe {}  sortino {}  max drawdown {}  cagr {cagr}",
        fmt_opt(m.sharpe, ""),
        fmt_opt(m.sortino, ""),
        fmt_opt(Some(m.max_drawdown * 100.0), "%"),
    );
}

/// An optional figure with two decimals and its unit, or `n/a` (also for NaN and infinities).
pub fn fmt_opt(value: Option<f64>, unit: &str) -> String {
    value.filter(|v| v.is_finite()).map_or_else(|| "n/a".to_owned(), |v| format!("{v:.2}{unit}"))
}
