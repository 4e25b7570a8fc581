//! `supervisor monitor`: how the agents are doing, from their status snapshots and journals
//! (never from the agents themselves, so it works while they are stopped).
//!
//! - `monitor`: one plain-text snapshot;
//! - `monitor --watch [--interval S]`: the terminal dashboard, refreshed every S seconds (`q`
//!   quits); when stdout is not a terminal, a plain-text snapshot every S seconds instead;
//! - `monitor --export [PATH]` and `--html PATH`: the performance report as JSON
//!   (`dual_agent_report_YYYYMMDD_HHMMSS.json`, UTC) and as a self-contained HTML file.
//!
//! | module      | owns                                                                   |
//! |-------------|------------------------------------------------------------------------|
//! | `ledger`    | what is kept of a journal: trades, realized equity, breaker, sessions |
//! | `journal`   | reading a journal incrementally into its ledger                        |
//! | `watch`     | the agents' files, liveness and status snapshot, refreshed together    |
//! | `figures`   | the equity series and the dashboard's quick figures                    |
//! | `report`    | the report's figures and metrics, and the JSON export                  |
//! | `html`      | the HTML report with its SVG charts                                    |
//! | `text`      | the plain-text snapshot and shared cell formatting                     |
//! | `dashboard` | the ratatui dashboard and its terminal loop                            |
//! | `summary`   | performance summaries to Discord, on demand and daily                  |
//!
//! Missing or corrupt files never stop the monitor: each view says what is wrong with them.

pub mod dashboard;
pub mod figures;
pub mod html;
pub mod journal;
pub mod ledger;
pub mod report;
pub mod summary;
pub mod text;
pub mod watch;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use crate::SupervisorError;
use crate::cli::MonitorArgs;
use crate::layout::Layout;
use report::Report;
use watch::{AgentSource, Monitor, wall_clock_ms};

/// `supervisor monitor [--watch [--interval S]] [--export [PATH]] [--html PATH]`.
///
/// # Errors
/// `Runtime` when a report cannot be written or the terminal cannot be used.
pub fn monitor(layout: &Layout, args: &MonitorArgs) -> Result<(), SupervisorError> {
    let mut monitor = Monitor::new(AgentSource::all(layout));
    if args.export.is_some() || args.html.is_some() {
        monitor.refresh();
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let now = wall_clock_ms();
        let report = Report::build(&monitor, now);
        if let Some(path) = &args.export {
            let path = report::export_path(path.as_deref(), &cwd, now);
            report::write_json(&report, &path)?;
            println!("report written to {}", path.display());
        }
        if let Some(path) = &args.html {
            let path = cwd.join(path);
            html::write_html(&report, &path)?;
            println!("HTML report written to {}", path.display());
        }
        return Ok(());
    }
    if !args.watch {
        monitor.refresh();
        print!("{}", text::snapshot(&monitor));
        return Ok(());
    }
    let interval = Duration::from_secs(args.interval);
    if std::io::stdout().is_terminal() {
        return dashboard::run(&mut monitor, interval)
            .map_err(|e| SupervisorError::Runtime(format!("dashboard: {e}")));
    }
    print_every(&mut monitor, interval);
    Ok(())
}

/// Prints a plain-text snapshot every `interval` until stdout goes away (or the process is
/// interrupted).
fn print_every(monitor: &mut Monitor, interval: Duration) {
    let mut first = true;
    loop {
        monitor.refresh();
        let separator = if first { "" } else { "\n" };
        first = false;
        let mut out = std::io::stdout().lock();
        if write!(out, "{separator}{}", text::snapshot(monitor)).and_then(|()| out.flush()).is_err() {
            return;
        }
        drop(out);
        std::thread::sleep(interval);
    }
}
