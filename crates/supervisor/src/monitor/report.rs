//! The performance report of `supervisor monitor --export` (JSON) and `--html`, per agent and
//! combined: P&L today, this week and overall; trade statistics overall, by strategy (and by
//! agent, combined); Sharpe, Sortino, max drawdown and CAGR; open positions; the equity series.
//!
//! Metrics are risk-core's (`Metrics::from_equity_and_trades`, DESIGN §12) over the equity
//! series of `figures.rs`: its first point is the starting equity, the others the points of the
//! curve. Daily returns run from the starting equity through each UTC day's last value; the max
//! drawdown is over the curve trade by trade (the journal has no bar-by-bar equity); CAGR spans
//! the curve's first to last point after the start. The combined series sums the agents' series
//! (each agent counts at its starting equity until its first point), and takes in only agents
//! with a journal or a status file. Money is written as decimal strings; ratios as numbers, or
//! `null` where undefined (no losses, too few days).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use agent_core::status::{BreakerStatus, PositionStatus};
use agent_core::time::format_utc_minute;
use exchange_core::calendar::civil_from_days;
use risk_core::metrics::{Metrics, TradeStats};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;

use super::figures::{Series, day_start, week_start};
use super::watch::{AgentWatch, Monitor};
use crate::SupervisorError;

/// P&L over the report's periods.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeriodPnl {
    /// Since 00:00 UTC of the report's day.
    pub today: Decimal,
    /// Since Monday 00:00 UTC of the report's week.
    pub week: Decimal,
    /// Since the start of the series.
    pub overall: Decimal,
}

/// An open position, with its agent.
#[derive(Debug, Clone, Serialize)]
pub struct ReportPosition {
    /// `main-agent` or `futures-agent`.
    pub agent: &'static str,
    /// The position as the agent's status snapshot shows it.
    #[serde(flatten)]
    pub position: PositionStatus,
}

/// The figures of one agent, or of both combined.
#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    /// The series' first value.
    pub starting_equity: Decimal,
    /// The series' last value.
    pub equity: Decimal,
    /// P&L today, this week, overall.
    pub pnl: PeriodPnl,
    /// Sharpe, Sortino, volatility, max drawdown, total return, CAGR, and the trade statistics
    /// (trades, wins, losses, win rate, profit factor, expectancy).
    pub metrics: Metrics,
    /// Trade statistics per strategy.
    pub by_strategy: BTreeMap<String, TradeStats>,
    /// Trade statistics per agent (combined figures only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_agent: Option<BTreeMap<String, TradeStats>>,
    /// Open positions.
    pub open_positions: Vec<ReportPosition>,
    /// `[time ms, equity]` points; the first is the starting equity.
    pub equity_series: Vec<(i64, Decimal)>,
}

/// The journal behind an agent's figures.
#[derive(Debug, Clone, Serialize)]
pub struct JournalInfo {
    /// The file.
    pub path: PathBuf,
    /// Lines read.
    pub lines: u64,
    /// Lines that did not parse (skipped).
    pub skipped_lines: u64,
    /// The first of them, 1-based.
    pub first_skipped_line: Option<u64>,
    /// Process starts recorded.
    pub sessions: u32,
}

/// One agent's part of the report.
#[derive(Debug, Clone, Serialize)]
pub struct AgentReport {
    /// `main-agent` or `futures-agent`.
    pub agent: &'static str,
    /// `running`, `stale` or `stopped`.
    pub state: &'static str,
    /// False when it has neither journal nor status file (left out of the combined figures).
    pub has_data: bool,
    /// What is wrong with its files (missing, corrupt, skipped lines).
    pub problems: Vec<String>,
    /// Its journal.
    pub journal: JournalInfo,
    /// The daily loss breaker, from the status snapshot.
    pub breaker: Option<BreakerStatus>,
    /// Its figures.
    #[serde(flatten)]
    pub figures: Figures,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Wall-clock time of the export, UTC (`2026-11-27T09:30:05Z`).
    pub generated_at: String,
    /// The time "today" and "this week" are taken at: the latest event the agents recorded, ms.
    pub as_of_ms: i64,
    /// The same, readable (`YYYY-MM-DD HH:MM`, UTC).
    pub as_of: String,
    /// main-agent, then futures-agent.
    pub agents: Vec<AgentReport>,
    /// Both agents together.
    pub combined: Figures,
}

/// Everything a [`Figures`] is computed from.
struct Inputs<'a> {
    series: Vec<(i64, Decimal)>,
    /// `(strategy, pnl)` of each closed trade.
    trades: Vec<(&'a str, Decimal)>,
    positions: Vec<ReportPosition>,
}

impl Figures {
    fn compute(inputs: Inputs<'_>, as_of_ms: i64) -> Self {
        let Inputs { series, trades, positions } = inputs;
        let start = series.first().copied().unwrap_or((as_of_ms, Decimal::ZERO));
        let view = Series { start, steps: series.get(1..).unwrap_or_default(), last: None };
        let points: Vec<(i64, f64)> =
            view.steps.iter().map(|(t, v)| (*t, v.to_f64().unwrap_or(f64::NAN))).collect();
        let pnls: Vec<Decimal> = trades.iter().map(|(_, p)| *p).collect();
        let metrics = Metrics::from_equity_and_trades(&points, &pnls, start.1.to_f64().unwrap_or(f64::NAN));
        let mut grouped: BTreeMap<&str, Vec<Decimal>> = BTreeMap::new();
        for (strategy, pnl) in trades {
            grouped.entry(strategy).or_default().push(pnl);
        }
        Self {
            starting_equity: start.1,
            equity: view.end().1,
            pnl: PeriodPnl {
                today: view.pnl_since(day_start(as_of_ms)),
                week: view.pnl_since(week_start(as_of_ms)),
                overall: view.end().1 - start.1,
            },
            metrics,
            by_strategy: grouped
                .into_iter()
                .map(|(s, p)| (s.to_owned(), TradeStats::from_pnls(&p)))
                .collect(),
            by_agent: None,
            open_positions: positions,
            equity_series: series,
        }
    }
}

fn agent_inputs(agent: &AgentWatch, as_of_ms: i64) -> Inputs<'_> {
    let ledger = &agent.journal.ledger;
    let positions = agent.status.snapshot().map(|s| s.positions.clone()).unwrap_or_default();
    Inputs {
        series: Series::of(agent, as_of_ms).iter().collect(),
        trades: ledger.trades.iter().map(|t| (ledger.strategy_name(t.strategy), t.pnl)).collect(),
        positions: positions
            .into_iter()
            .map(|position| ReportPosition { agent: agent.source.name, position })
            .collect(),
    }
}

/// The sum of several equity series: at each point in time, the sum of each series' latest
/// value (its first value before it starts).
pub fn combine_series(parts: &[&[(i64, Decimal)]]) -> Vec<(i64, Decimal)> {
    let mut current: Vec<Decimal> = parts.iter().map(|p| p.first().map_or(Decimal::ZERO, |x| x.1)).collect();
    let Some(start_ms) = parts.iter().filter_map(|p| p.first().map(|x| x.0)).min() else {
        return Vec::new();
    };
    let mut events: Vec<(i64, usize, Decimal)> =
        parts.iter().enumerate().flat_map(|(i, p)| p.iter().skip(1).map(move |(t, v)| (*t, i, *v))).collect();
    events.sort_by_key(|(t, _, _)| *t);
    let mut total: Decimal = current.iter().sum();
    let mut out = Vec::with_capacity(events.len() + 1);
    out.push((start_ms, total));
    for (time, i, value) in events {
        total += value - current[i];
        current[i] = value;
        match out.last_mut() {
            Some(last) if last.0 == time => last.1 = total,
            _ => out.push((time, total)),
        }
    }
    out
}

impl Report {
    /// The report of what `monitor` last read; `generated_ms` is the wall clock.
    pub fn build(monitor: &Monitor, generated_ms: i64) -> Self {
        let as_of_ms = monitor.as_of_ms();
        let mut agents = Vec::new();
        let mut combined = Inputs { series: Vec::new(), trades: Vec::new(), positions: Vec::new() };
        let mut parts = Vec::new();
        let mut by_agent = BTreeMap::new();
        for agent in &monitor.agents {
            let inputs = agent_inputs(agent, as_of_ms);
            if agent.has_data() {
                parts.push(inputs.series.clone());
                combined.trades.extend(inputs.trades.iter().copied());
                combined.positions.extend(inputs.positions.iter().cloned());
            }
            let figures = Figures::compute(inputs, as_of_ms);
            if agent.has_data() {
                by_agent.insert(agent.source.name.to_owned(), figures.metrics.trades.clone());
            }
            let (skipped_lines, first_skipped_line) = agent.journal.skipped();
            agents.push(AgentReport {
                agent: agent.source.name,
                state: agent.state(),
                has_data: agent.has_data(),
                problems: agent.problems(),
                journal: JournalInfo {
                    path: agent.journal.path().to_path_buf(),
                    lines: agent.journal.lines(),
                    skipped_lines,
                    first_skipped_line,
                    sessions: agent.journal.ledger.sessions,
                },
                breaker: agent.status.snapshot().map(|s| s.breaker.clone()),
                figures,
            });
        }
        let slices: Vec<&[(i64, Decimal)]> = parts.iter().map(Vec::as_slice).collect();
        combined.series = combine_series(&slices);
        let mut combined = Figures::compute(combined, as_of_ms);
        combined.by_agent = Some(by_agent);
        Self {
            generated_at: iso_utc(generated_ms),
            as_of_ms,
            as_of: format_utc_minute(as_of_ms),
            agents,
            combined,
        }
    }
}

/// `(YYYY, MM, DD, hh, mm, ss)` of an instant, UTC.
fn civil(time_ms: i64) -> (i64, i64, i64, i64, i64, i64) {
    let (y, m, d) = civil_from_days(agent_core::time::utc_day(time_ms));
    let secs = time_ms.rem_euclid(agent_core::time::DAY_MS) / 1000;
    (y, m, d, secs / 3600, secs / 60 % 60, secs % 60)
}

/// `2026-11-27T09:30:05Z`.
pub fn iso_utc(time_ms: i64) -> String {
    let (y, mo, d, h, mi, s) = civil(time_ms);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// `dual_agent_report_YYYYMMDD_HHMMSS.json` for a wall-clock time (UTC).
pub fn export_file_name(time_ms: i64) -> String {
    let (y, mo, d, h, mi, s) = civil(time_ms);
    format!("dual_agent_report_{y:04}{mo:02}{d:02}_{h:02}{mi:02}{s:02}.json")
}

/// Where `--export [PATH]` writes: the report's file name in the working directory, or in
/// PATH; a PATH ending in `.json` that is not a directory is the file itself.
pub fn export_path(path: Option<&Path>, cwd: &Path, time_ms: i64) -> PathBuf {
    let name = export_file_name(time_ms);
    match path {
        None => cwd.join(name),
        Some(p) if !p.is_dir() && p.extension().is_some_and(|e| e == "json") => cwd.join(p),
        Some(dir) => cwd.join(dir).join(name),
    }
}

/// Writes `write` to `path` through a temp file renamed over it, so a reader never sees half a
/// report; creates the folder.
///
/// # Errors
/// `Runtime` naming the file when it cannot be written.
pub fn write_file(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> Result<(), SupervisorError> {
    let fail = |e: std::io::Error| SupervisorError::Runtime(format!("cannot write {}: {e}", path.display()));
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(fail)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    let result = (|| {
        let mut out = BufWriter::new(File::create(&tmp)?);
        write(&mut out)?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(fail)
}

/// Writes the report as JSON to `path`.
///
/// # Errors
/// As [`write_file`].
pub fn write_json(report: &Report, path: &Path) -> Result<(), SupervisorError> {
    write_file(path, |out| {
        serde_json::to_writer(&mut *out, report).map_err(std::io::Error::other)?;
        out.write_all(b"\n")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn combined_series_sums_the_latest_value_of_each() {
        let a = [(10, dec!(100)), (20, dec!(110)), (40, dec!(90))];
        let b = [(15, dec!(50)), (20, dec!(55))];
        let got = combine_series(&[&a, &b]);
        // b counts at its starting 50 from the first start on.
        assert_eq!(got, vec![(10, dec!(150)), (20, dec!(165)), (40, dec!(145))]);
        assert!(combine_series(&[]).is_empty());
    }

    #[test]
    fn export_names_carry_the_utc_time() {
        // 2024-02-29 13:04:05 UTC.
        let t = 1_709_211_845_000;
        assert_eq!(export_file_name(t), "dual_agent_report_20240229_130405.json");
        assert_eq!(iso_utc(t), "2024-02-29T13:04:05Z");
        let cwd = Path::new("/nonexistent-cwd");
        assert_eq!(export_path(None, cwd, t), cwd.join("dual_agent_report_20240229_130405.json"));
        assert_eq!(export_path(Some(Path::new("out/r.json")), cwd, t), cwd.join("out/r.json"));
        assert_eq!(
            export_path(Some(Path::new("reports")), cwd, t),
            cwd.join("reports/dual_agent_report_20240229_130405.json")
        );
    }
}
