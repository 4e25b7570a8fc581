//! `supervisor status [TARGET] [--json]`: one row per program: state (running, starting,
//! stopped, stale, not installed, backtest only), PID, uptime, venue and mode, daily P&L, open positions, last
//! activity (from the agent's status snapshot), RSS and CPU (from the kernel, through sysinfo).
//!
//! CPU is the average since the process started (CPU time over uptime): a current figure would
//! need two samples some hundred milliseconds apart, and `status` must answer in milliseconds.
//! Exit code 0 when every program named is running (LSB), 3 otherwise (`starting` too: trading
//! but without its signal handlers yet, or not ready); agents that are not installed do not
//! count for `all`.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use agent_core::pidfile::Liveness;
use agent_core::status::StatusSnapshot;
use agent_core::time::format_utc_minute;
use serde::Serialize;
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

use crate::cli::Target;
use crate::layout::{Component, Layout};
use crate::lifecycle::AGENT_SIGNALS;
use crate::process::{catches, group_members, leads_group, liveness};

/// One program's row.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// `main-agent`, `futures-agent`, `exchange-sim`.
    pub name: &'static str,
    /// `running`, `starting`, `stopped`, `stale`, `not installed` or `backtest only` (a binary
    /// without the live `run` command).
    pub state: &'static str,
    /// The PID (of the holder, for exchange-sim); for `stale`, the number in the file.
    pub pid: Option<u32>,
    /// Seconds since the process started.
    pub uptime_s: Option<u64>,
    /// The venue (`sim`, `binance-demo`, ...; `127.0.0.1:PORT` for exchange-sim).
    pub venue: Option<String>,
    /// `live` or `paper`.
    pub mode: Option<String>,
    /// Today's P&L (realized + unrealized), as a decimal string.
    pub daily_pnl: Option<String>,
    /// Equity, as a decimal string.
    pub equity: Option<String>,
    /// How many positions are open.
    pub open_positions: Option<usize>,
    /// Event time of the last activity, ms.
    pub last_activity_ms: Option<i64>,
    /// Resident memory, bytes.
    pub rss_bytes: Option<u64>,
    /// CPU time used so far, ms.
    pub cpu_time_ms: Option<u64>,
    /// Average CPU use since the start, percent of one core.
    pub cpu_avg_percent: Option<f64>,
    /// The agent's last error worth a look.
    pub last_error: Option<String>,
}

impl Row {
    fn empty(name: &'static str, state: &'static str) -> Self {
        Self {
            name,
            state,
            pid: None,
            uptime_s: None,
            venue: None,
            mode: None,
            daily_pnl: None,
            equity: None,
            open_positions: None,
            last_activity_ms: None,
            rss_bytes: None,
            cpu_time_ms: None,
            cpu_avg_percent: None,
            last_error: None,
        }
    }

    /// True when the process is alive (`running` or `starting`).
    pub fn alive(&self) -> bool {
        matches!(self.state, "running" | "starting")
    }
}

/// The rows a target names, and whether they are all up.
pub fn rows(layout: &Layout, target: Target) -> (Vec<Row>, bool) {
    let mut rows = Vec::new();
    let mut counted = Vec::new();
    let agents: Vec<_> = match target {
        Target::All => layout.agents.iter().collect(),
        other => layout.agents_of(other),
    };
    for agent in agents {
        let row = match liveness(&agent.pid_path()) {
            Liveness::Running(pid) => {
                let snapshot = StatusSnapshot::read(&agent.status_path()).ok().filter(|s| s.pid == pid);
                let mut row = Row::empty(agent.component.name(), "starting");
                row.pid = Some(pid);
                row.venue = Some(agent.venue.clone());
                if let Some(s) = snapshot {
                    // Ready as `start` means it: trading, and its signal handlers in place.
                    row.state = if s.ready && catches(pid, &AGENT_SIGNALS) { "running" } else { "starting" };
                    row.venue = Some(s.venue);
                    row.mode = Some(s.mode);
                    row.daily_pnl = Some(s.daily_pnl.round_dp(2).to_string());
                    row.equity = Some(s.equity.to_string());
                    row.open_positions = Some(s.positions.len());
                    row.last_activity_ms = Some(s.last_activity_ms).filter(|ms| *ms > 0);
                    row.last_error = s.last_error;
                }
                row
            }
            Liveness::Stale(pid) => Row { pid, ..Row::empty(agent.component.name(), "stale") },
            Liveness::Stopped if !agent.binary_present() => {
                Row::empty(agent.component.name(), "not installed")
            }
            Liveness::Stopped if !agent.installed() => Row::empty(agent.component.name(), "backtest only"),
            Liveness::Stopped => Row::empty(agent.component.name(), "stopped"),
        };
        if agent.installed() || target != Target::All || row.alive() {
            counted.push(rows.len());
        }
        rows.push(row);
    }
    if layout.sim_in(target) || (target == Target::All && liveness(&layout.sim.pid_path) != Liveness::Stopped)
    {
        let sim = &layout.sim;
        let mut row = match liveness(&sim.pid_path) {
            Liveness::Running(pid) => Row { pid: Some(pid), ..Row::empty(Component::Sim.name(), "running") },
            Liveness::Stale(pid) => Row { pid, ..Row::empty(Component::Sim.name(), "stale") },
            Liveness::Stopped if !sim.binary.is_file() => Row::empty(Component::Sim.name(), "not installed"),
            Liveness::Stopped => Row::empty(Component::Sim.name(), "stopped"),
        };
        row.venue = Some(format!("127.0.0.1:{}", sim.port));
        if layout.sim_in(target) {
            counted.push(rows.len());
        }
        rows.push(row);
    }
    add_process_figures(&mut rows, layout);
    let all_up = !counted.is_empty() && counted.iter().all(|i| rows[*i].state == "running");
    (rows, all_up)
}

/// Fills in uptime, RSS and CPU for the rows whose process is up; only those PIDs are read.
/// exchange-sim's figures are those of its whole group (the holder and the simulator).
fn add_process_figures(rows: &mut [Row], layout: &Layout) {
    let members: Vec<Vec<u32>> = rows
        .iter()
        .map(|r| match r.pid.filter(|_| r.alive()) {
            Some(pid) if r.name == Component::Sim.name() && leads_group(pid) => group_members(pid),
            Some(pid) => vec![pid],
            None => Vec::new(),
        })
        .collect();
    let pids: Vec<Pid> = members.iter().flatten().map(|p| Pid::from_u32(*p)).collect();
    if pids.is_empty() {
        return;
    }
    let Ok(mut system) = System::new() else { return };
    system.refresh_processes_specifics(
        ProcessesToUpdate::Some(&pids),
        true,
        ProcessRefreshKind::nothing().with_memory().with_cpu(),
    );
    let now_s = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    for (row, members) in rows.iter_mut().zip(&members) {
        let Some(leader) = row.pid.and_then(|pid| system.process(Pid::from_u32(pid))) else { continue };
        let uptime = match leader.start_time() {
            0 => pid_file_age(layout, row.name).unwrap_or(0),
            start => now_s.saturating_sub(start),
        };
        let processes = members.iter().filter_map(|p| system.process(Pid::from_u32(*p)));
        let (rss, cpu_ms) =
            processes.fold((0, 0), |(rss, cpu), p| (rss + p.memory(), cpu + p.accumulated_cpu_time()));
        row.uptime_s = Some(uptime);
        row.rss_bytes = Some(rss);
        row.cpu_time_ms = Some(cpu_ms);
        #[allow(clippy::cast_precision_loss)]
        let avg = if uptime > 0 { cpu_ms as f64 / (uptime as f64 * 10.0) } else { 0.0 };
        row.cpu_avg_percent = Some((avg * 10.0).round() / 10.0);
    }
}

/// Seconds since the program's PID file was written.
fn pid_file_age(layout: &Layout, name: &str) -> Option<u64> {
    let path = if name == Component::Sim.name() {
        layout.sim.pid_path.clone()
    } else {
        layout.agents.iter().find(|a| a.component.name() == name)?.pid_path()
    };
    let modified = std::fs::metadata(Path::new(&path)).ok()?.modified().ok()?;
    Some(modified.elapsed().ok()?.as_secs())
}

/// `1d 02:03:04`, `02:03:04`.
pub fn format_uptime(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 { format!("{d}d {h:02}:{m:02}:{s:02}") } else { format!("{h:02}:{m:02}:{s:02}") }
}

/// `12.3 MB`.
pub fn format_bytes(bytes: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let mb = bytes as f64 / 1_000_000.0;
    format!("{mb:.1} MB")
}

/// The rows as a table for people.
pub fn table(rows: &[Row]) -> String {
    let dash = || "-".to_owned();
    let header = [
        "AGENT",
        "STATE",
        "PID",
        "UPTIME",
        "VENUE/MODE",
        "DAILY P&L",
        "POS",
        "LAST ACTIVITY (UTC)",
        "RSS",
        "CPU",
    ];
    let cells: Vec<[String; 10]> = rows
        .iter()
        .map(|r| {
            let venue = match (&r.venue, &r.mode) {
                (Some(v), Some(m)) => format!("{v}/{m}"),
                (Some(v), None) => v.clone(),
                _ => dash(),
            };
            let pid = match (r.pid, r.state) {
                (Some(p), "stale") => format!("({p})"),
                (Some(p), _) => p.to_string(),
                _ => dash(),
            };
            [
                r.name.to_owned(),
                r.state.to_owned(),
                pid,
                r.uptime_s.map_or_else(dash, format_uptime),
                venue,
                r.daily_pnl.clone().unwrap_or_else(dash),
                r.open_positions.map_or_else(dash, |n| n.to_string()),
                r.last_activity_ms.map_or_else(dash, format_utc_minute),
                r.rss_bytes.map_or_else(dash, format_bytes),
                r.cpu_avg_percent.map_or_else(dash, |c| format!("{c:.1}%")),
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| cells.iter().map(|c| c[i].len()).chain([header[i].len()]).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    let mut line = |values: &[&str]| {
        let text: Vec<String> = values.iter().zip(&widths).map(|(v, w)| format!("{v:<w$}")).collect();
        let _ = writeln!(out, "{}", text.join("  ").trim_end());
    };
    line(&header);
    for c in &cells {
        line(&c.iter().map(String::as_str).collect::<Vec<_>>());
    }
    for r in rows.iter().filter(|r| r.state == "stale") {
        let _ =
            writeln!(out, "{}: stale PID file (its process died; the PID shown is not signalled)", r.name);
    }
    for r in rows {
        if let Some(e) = &r.last_error {
            let _ = writeln!(out, "{}: last error: {e}", r.name);
        }
    }
    out
}

/// The rows as JSON: `{"all_running": bool, "components": [...]}`.
pub fn json(rows: &[Row], all_up: bool) -> String {
    serde_json::json!({ "all_running": all_up, "components": rows }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_and_sizes_read_well() {
        assert_eq!(format_uptime(59), "00:00:59");
        assert_eq!(format_uptime(3 * 86_400 + 3661), "3d 01:01:01");
        assert_eq!(format_bytes(12_345_678), "12.3 MB");
    }

    #[test]
    fn the_table_aligns_and_marks_stale_pids() {
        let rows = vec![
            Row { pid: Some(42), uptime_s: Some(5), ..Row::empty("futures-agent", "running") },
            Row { pid: Some(7), ..Row::empty("main-agent", "stale") },
        ];
        let text = table(&rows);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("AGENT          STATE"), "{text}");
        assert!(lines[1].contains("42") && lines[1].contains("00:00:05"), "{text}");
        assert!(lines[2].contains("(7)"), "{text}");
        assert!(text.contains("not signalled"), "{text}");
        let parsed: serde_json::Value = serde_json::from_str(&json(&rows, false)).unwrap();
        assert_eq!(parsed["components"][1]["state"], "stale");
    }
}
