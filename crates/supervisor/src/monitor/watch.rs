//! What the monitor watches, per agent: where its files are ([`AgentSource`]), and what they
//! said at the last refresh ([`AgentWatch`]): liveness from the PID file (the same probe as
//! `supervisor status`), the status snapshot, and the journal read incrementally.
//!
//! A refresh costs a PID-file probe, a `stat` of the status file (parsed again only when its
//! modification time or size changed), and a read of the journal's new bytes. A missing or
//! corrupt file is kept as such ([`StatusRead`], [`FileState`]) for the views to show.
//!
//! "Now" for the figures ([`Monitor::as_of_ms`]) is the latest event time any agent recorded
//! (journal or status), so that "today" is the agents' trading day even on exchange-sim, whose
//! market clock runs ahead of the wall clock; with no event at all it is the wall clock.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use agent_core::pidfile::Liveness;
use agent_core::status::StatusSnapshot;
use rust_decimal::Decimal;
use serde::Deserialize;

use super::journal::{FileState, JournalTail};
use super::ledger::Ledger;
use crate::layout::{AgentSpec, Component, Layout};
use crate::process::liveness;

/// Capital assumed for an agent whose config gives none.
pub const DEFAULT_CAPITAL: Decimal = Decimal::from_parts(10_000, 0, 0, false, 0);

/// Where one agent's files are.
#[derive(Debug, Clone)]
pub struct AgentSource {
    /// `main-agent` or `futures-agent`.
    pub name: &'static str,
    /// Its PID file.
    pub pid_path: PathBuf,
    /// Its status snapshot.
    pub status_path: PathBuf,
    /// Its journal.
    pub journal_path: PathBuf,
    /// Its `capital` (the default when its config gives none).
    pub capital: Decimal,
    /// The strategy of trades whose record names none.
    pub default_strategy: &'static str,
}

impl AgentSource {
    /// The files of `agent` as the layout resolved them.
    pub fn of(agent: &AgentSpec) -> Self {
        let (journal, default_strategy) = match agent.component {
            Component::Main => ("main_trades.jsonl", "unknown"),
            _ => ("futures_trades.jsonl", "momentum"),
        };
        Self {
            name: agent.component.name(),
            pid_path: agent.pid_path(),
            status_path: agent.status_path(),
            journal_path: agent.log_dir.join(journal),
            capital: read_capital(agent).unwrap_or(DEFAULT_CAPITAL),
            default_strategy,
        }
    }

    /// Both agents of the layout, main-agent first.
    pub fn all(layout: &Layout) -> Vec<Self> {
        layout.agents.iter().map(Self::of).collect()
    }
}

/// `capital` from the agent's config: a number (futures-agent) or a decimal string (main-agent).
fn read_capital(agent: &AgentSpec) -> Option<Decimal> {
    #[derive(Deserialize)]
    struct CapitalKey {
        capital: Option<toml::Value>,
    }
    let text = std::fs::read_to_string(&agent.config).ok()?;
    let key: CapitalKey = toml::from_str(&text).ok()?;
    match key.capital? {
        toml::Value::String(s) => Decimal::from_str(s.trim()).ok(),
        toml::Value::Integer(i) => Some(Decimal::from(i)),
        toml::Value::Float(f) => Decimal::from_str(&f.to_string()).ok(),
        _ => None,
    }
    .filter(|c| *c > Decimal::ZERO)
}

/// The status snapshot as last read.
#[derive(Debug, Clone, PartialEq)]
pub enum StatusRead {
    /// No status file.
    Missing,
    /// The file is there but is not a snapshot (or cannot be read): why.
    Corrupt(String),
    /// The snapshot.
    Read(Box<StatusSnapshot>),
}

impl StatusRead {
    /// The snapshot, when there is one.
    pub fn snapshot(&self) -> Option<&StatusSnapshot> {
        match self {
            Self::Read(s) => Some(s),
            _ => None,
        }
    }
}

/// One agent at the last refresh.
#[derive(Debug)]
pub struct AgentWatch {
    /// Its files.
    pub source: AgentSource,
    /// Its PID file's lock.
    pub liveness: Liveness,
    /// Its status file.
    pub status: StatusRead,
    /// Modification time and size of the status file when it was parsed.
    status_stamp: Option<(SystemTime, u64)>,
    /// Its journal.
    pub journal: JournalTail,
}

impl AgentWatch {
    /// Watches `source`; nothing is read until [`refresh`](AgentWatch::refresh).
    pub fn new(source: AgentSource) -> Self {
        let ledger = Ledger::new(source.capital, source.default_strategy);
        let journal = JournalTail::new(source.journal_path.clone(), ledger);
        Self { source, liveness: Liveness::Stopped, status: StatusRead::Missing, status_stamp: None, journal }
    }

    /// Reads what changed.
    pub fn refresh(&mut self) {
        self.liveness = liveness(&self.source.pid_path);
        self.refresh_status();
        self.journal.refresh();
    }

    fn refresh_status(&mut self) {
        let meta = match std::fs::metadata(&self.source.status_path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.status = StatusRead::Missing;
                self.status_stamp = None;
                return;
            }
            Err(e) => {
                self.status = StatusRead::Corrupt(e.to_string());
                self.status_stamp = None;
                return;
            }
        };
        let stamp = meta.modified().ok().map(|m| (m, meta.len()));
        if stamp.is_some() && stamp == self.status_stamp {
            return;
        }
        self.status = match StatusSnapshot::read(&self.source.status_path) {
            Ok(snapshot) => StatusRead::Read(Box::new(snapshot)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => StatusRead::Missing,
            Err(e) => StatusRead::Corrupt(e.to_string()),
        };
        self.status_stamp = stamp;
    }

    /// `running`, `stale` or `stopped`, from the PID file.
    pub fn state(&self) -> &'static str {
        match self.liveness {
            Liveness::Running(_) => "running",
            Liveness::Stale(_) => "stale",
            Liveness::Stopped => "stopped",
        }
    }

    /// True when there is anything to report: a journal or a status file.
    pub fn has_data(&self) -> bool {
        *self.journal.state() == FileState::Present || self.status != StatusRead::Missing
    }

    /// The latest event time the agent recorded (journal or status), ms.
    pub fn last_event_ms(&self) -> Option<i64> {
        let status = self.status.snapshot().map(|s| s.last_activity_ms).filter(|ms| *ms > 0);
        self.journal.ledger.last_ms.max(status)
    }

    /// What is wrong with its files, one line each (empty when nothing is).
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let status = self.source.status_path.display();
        match &self.status {
            StatusRead::Missing => out.push(format!("status file missing ({status})")),
            StatusRead::Corrupt(e) => out.push(format!("status file corrupt ({status}): {e}")),
            StatusRead::Read(_) => {}
        }
        let journal = self.journal.path().display();
        match self.journal.state() {
            FileState::Missing => out.push(format!("journal missing ({journal})")),
            FileState::Unreadable(e) => out.push(format!("journal unreadable ({journal}): {e}")),
            FileState::Present | FileState::Unread => {}
        }
        if let (n, Some(first)) = self.journal.skipped() {
            let lines = if n == 1 { "line that does" } else { "lines that do" };
            out.push(format!("journal: {n} {lines} not parse skipped (first: line {first})"));
        }
        out
    }
}

/// Every agent, refreshed together.
#[derive(Debug)]
pub struct Monitor {
    /// main-agent and futures-agent, in the layout's order.
    pub agents: Vec<AgentWatch>,
}

impl Monitor {
    /// Watches `sources`.
    pub fn new(sources: Vec<AgentSource>) -> Self {
        Self { agents: sources.into_iter().map(AgentWatch::new).collect() }
    }

    /// Reads what changed, for every agent.
    pub fn refresh(&mut self) {
        for agent in &mut self.agents {
            agent.refresh();
        }
    }

    /// The time the figures are as of (see the module docs), ms.
    pub fn as_of_ms(&self) -> i64 {
        self.agents.iter().filter_map(AgentWatch::last_event_ms).max().unwrap_or_else(wall_clock_ms)
    }
}

/// The wall clock, ms since the epoch.
pub fn wall_clock_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
