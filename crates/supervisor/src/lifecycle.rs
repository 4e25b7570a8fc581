//! Starting one program and waiting until it is ready, and stopping programs.
//!
//! Start: under a per-program start lock (`run_dir/<name>.start.lock`, so two supervisors
//! racing to start the same agent start it once: the second waits, then finds it running), the
//! PID file is probed; a running program is left alone. Otherwise it is spawned detached and
//! polled until it is ready:
//! - an agent when its PID file is locked by it, its status snapshot (written by that PID) says
//!   `"ready": true`, and it catches SIGTERM, SIGHUP, SIGUSR1 and SIGUSR2 (until its handlers are
//!   in place, a reload or flatten would kill it);
//! - exchange-sim when its holder has the PID file and the simulator printed its `listening`
//!   line or answers `GET /fapi/v1/ping`.
//!
//! A program that dies first fails the start with its exit code and its last log lines; one that
//! is not ready in `start_timeout` is stopped and fails the start likewise.
//!
//! Stop: SIGTERM to the locked PID, then a wait until the lock is released and the process group
//! is empty, up to `stop_grace`; then SIGKILL to the group. Several programs stop in parallel.

use std::ffi::OsString;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use agent_core::pidfile::Liveness;
use agent_core::status::StatusSnapshot;
use nix::sys::signal::Signal;

use crate::SupervisorError;
use crate::layout::{AgentSpec, Component, Layout};
use crate::logs::tail_lines;
use crate::process::{
    alive, catches, group_members, leads_group, liveness, remove_stale, signal_group, signal_pid,
};
use crate::spawn::{exit_code_of, open_log, spawn_detached, spawn_held};

/// How often a waiting loop looks again.
const POLL: Duration = Duration::from_millis(10);
/// The signals an agent handles (DESIGN §7); it is ready only once it catches them all, so that
/// a reload or flatten right after `start` cannot kill it.
pub const AGENT_SIGNALS: [Signal; 4] = [Signal::SIGTERM, Signal::SIGHUP, Signal::SIGUSR1, Signal::SIGUSR2];
/// Log lines shown when a start fails.
const FAILURE_LINES: usize = 20;

/// Something to call while waiting (the systemd watchdog).
pub type Keepalive<'a> = &'a dyn Fn();

/// How a start ended.
#[derive(Debug)]
pub enum Started {
    /// It was running already, with this PID.
    AlreadyRunning(u32),
    /// Started and ready; the child handle (for reaping) and how long it took.
    Ready {
        /// The spawned process (the program itself, or the holder for exchange-sim).
        child: Child,
        /// From spawn to ready.
        took: Duration,
        /// A stale PID file was found first (its PID, not signalled).
        replaced_stale: Option<Option<u32>>,
    },
}

/// The lock that serialises starts of one program; released when dropped.
#[derive(Debug)]
struct StartLock(#[allow(dead_code)] File);

fn start_lock(run_dir: &Path, name: &str, wait: Duration) -> Result<StartLock, SupervisorError> {
    let path = run_dir.join(format!("{name}.start.lock"));
    let runtime = |e: std::io::Error| SupervisorError::Runtime(format!("start lock {}: {e}", path.display()));
    std::fs::create_dir_all(run_dir).map_err(runtime)?;
    let file = OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(runtime)?;
    let deadline = Instant::now() + wait;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(StartLock(file)),
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => std::thread::sleep(POLL),
            Err(TryLockError::WouldBlock) => {
                return Err(SupervisorError::Runtime(format!("another supervisor is still starting {name}")));
            }
            Err(TryLockError::Error(e)) => return Err(runtime(e)),
        }
    }
}

/// Checks that an agent can be started: its binary and its config are there.
///
/// # Errors
/// `Setup`, naming the missing binary or the config's problem.
pub fn check_setup(agent: &AgentSpec) -> Result<(), SupervisorError> {
    let name = agent.component.name();
    if !agent.binary_present() {
        return Err(SupervisorError::Setup(format!(
            "{name} is not installed: no binary at {} (build it with `cargo build --release -p {name}`)",
            agent.binary.display()
        )));
    }
    if !agent.installed() {
        return Err(SupervisorError::Setup(format!(
            "{name} has no live `run` command yet: its binary at {} only backtests; not started",
            agent.binary.display()
        )));
    }
    match &agent.config_problem {
        Some(problem) => Err(SupervisorError::Setup(format!("{name}: {problem}"))),
        None => Ok(()),
    }
}

/// Starts an agent (exchange-sim, if it needs it, must be running already).
///
/// # Errors
/// `Setup` when its binary or config is missing; `Runtime` when it dies before it is ready or is
/// not ready in time (with its exit code and last log lines).
pub fn start_agent(
    layout: &Layout,
    agent: &AgentSpec,
    keepalive: Keepalive<'_>,
) -> Result<Started, SupervisorError> {
    check_setup(agent)?;
    let name = agent.component.name();
    let _ = std::fs::remove_file(agent.stopped_marker());
    let wait = layout.config.start_timeout() + layout.config.stop_grace();
    let _lock = start_lock(&layout.run_dir, name, wait)?;
    let replaced_stale = match liveness(&agent.pid_path()) {
        Liveness::Running(pid) => return Ok(Started::AlreadyRunning(pid)),
        Liveness::Stale(pid) => Some(pid),
        Liveness::Stopped => None,
    };
    let log_path = agent.log_path();
    let (log, offset) = open_log(&log_path).map_err(|e| io_error(&log_path, &e))?;
    let args: Vec<OsString> = vec!["run".into(), "--config".into(), agent.config.clone().into_os_string()];
    let child = spawn_detached(&layout.root, &log, &agent.binary, &args)
        .map_err(|e| SupervisorError::Runtime(format!("cannot start {name}: {e}")))?;
    let pid_path = agent.pid_path();
    let status_path = agent.status_path();
    let ready = move |pid: u32| {
        liveness(&pid_path) == Liveness::Running(pid)
            && StatusSnapshot::read(&status_path).is_ok_and(|s| s.pid == pid && s.ready)
            && catches(pid, &AGENT_SIGNALS)
    };
    wait_ready(layout, agent.component, child, &log_path, offset, ready, keepalive)
        .map(|(child, took)| Started::Ready { child, took, replaced_stale })
}

/// Starts exchange-sim under its PID-file holder.
///
/// # Errors
/// `Setup` when its binary or config is missing; `Runtime` when its port is taken by another
/// process, or it dies or is not ready in time.
pub fn start_sim(layout: &Layout, keepalive: Keepalive<'_>) -> Result<Started, SupervisorError> {
    let sim = &layout.sim;
    let name = Component::Sim.name();
    if !sim.binary.is_file() {
        return Err(SupervisorError::Setup(format!(
            "{name} is not installed: no binary at {} (build it with `cargo build --release -p {name}`)",
            sim.binary.display()
        )));
    }
    if let Some(problem) = &sim.config_problem {
        return Err(SupervisorError::Setup(format!("{name}: {problem}")));
    }
    let _ = std::fs::remove_file(&sim.stopped_marker);
    let wait = layout.config.start_timeout() + layout.config.stop_grace();
    let _lock = start_lock(&layout.run_dir, name, wait)?;
    let replaced_stale = match liveness(&sim.pid_path) {
        Liveness::Running(pid) => return Ok(Started::AlreadyRunning(pid)),
        Liveness::Stale(pid) => Some(pid),
        Liveness::Stopped => None,
    };
    if TcpListener::bind((Ipv4Addr::LOCALHOST, sim.port)).is_err() {
        return Err(SupervisorError::Runtime(format!(
            "cannot start {name}: port {} is in use by another process, not by our exchange-sim (see `supervisor doctor`)",
            sim.port
        )));
    }
    let (log, offset) = open_log(&sim.log_path).map_err(|e| io_error(&sim.log_path, &e))?;
    let mut args: Vec<OsString> = vec!["--config".into(), sim.config.clone().into_os_string()];
    args.extend(sim.extra_args.iter().map(OsString::from));
    let child = spawn_held(&layout.root, &log, &sim.pid_path, &sim.binary, &args)
        .map_err(|e| SupervisorError::Runtime(format!("cannot start {name}: {e}")))?;
    let (pid_path, log_path, port) = (sim.pid_path.clone(), sim.log_path.clone(), sim.port);
    let ready = move |pid: u32| {
        liveness(&pid_path) == Liveness::Running(pid) && (announced(&log_path, offset) || ping(port))
    };
    wait_ready(layout, Component::Sim, child, &sim.log_path, offset, ready, keepalive)
        .map(|(child, took)| Started::Ready { child, took, replaced_stale })
}

fn wait_ready(
    layout: &Layout,
    component: Component,
    mut child: Child,
    log_path: &Path,
    offset: u64,
    ready: impl Fn(u32) -> bool,
    keepalive: Keepalive<'_>,
) -> Result<(Child, Duration), SupervisorError> {
    let name = component.name();
    let started = Instant::now();
    let deadline = started + layout.config.start_timeout();
    let pid = child.id();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(SupervisorError::Runtime(format!(
                "{name} exited with code {} before it was ready; {}",
                exit_code_of(status),
                last_lines(log_path, offset)
            )));
        }
        if ready(pid) {
            return Ok((child, started.elapsed()));
        }
        if Instant::now() >= deadline {
            let pid_path = match component {
                Component::Sim => layout.sim.pid_path.clone(),
                agent => layout.agent(agent).map(AgentSpec::pid_path).unwrap_or_default(),
            };
            let report = stop_all(&[(name, pid_path)], layout.config.stop_grace(), keepalive);
            // A child that never took its PID file is still ours: not reaped, so its PID cannot
            // have been reused. Its group (it leads one once it called setsid) goes with it.
            if let Ok(None) = child.try_wait() {
                let _ = signal_group(pid, Signal::SIGKILL);
                let _ = child.kill();
            }
            let _ = child.wait();
            return Err(SupervisorError::Runtime(format!(
                "{name} was not ready within {:.0} s ({}); {}",
                layout.config.start_timeout().as_secs_f64(),
                report.first().map_or("stopped", |r| r.text.as_str()),
                last_lines(log_path, offset)
            )));
        }
        keepalive();
        std::thread::sleep(POLL);
    }
}

/// "last lines of LOG:" and the lines written after `offset` (the whole tail if none).
fn last_lines(log_path: &Path, offset: u64) -> String {
    let lines = tail_lines(log_path, FAILURE_LINES, offset).unwrap_or_default();
    if lines.is_empty() {
        format!("{} has nothing from it", log_path.display())
    } else {
        format!("last lines of {}:\n{}", log_path.display(), lines.join("\n"))
    }
}

/// True when exchange-sim wrote its `listening` line after `offset`.
fn announced(log_path: &Path, offset: u64) -> bool {
    let Ok(mut file) = File::open(log_path) else { return false };
    let mut text = String::new();
    file.seek(SeekFrom::Start(offset)).is_ok()
        && file.take(1 << 20).read_to_string(&mut text).is_ok()
        && text.contains("exchange-sim listening on")
}

/// True when something on 127.0.0.1:`port` answers `GET /fapi/v1/ping` with 200.
pub fn ping(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let request =
        format!("GET /fapi/v1/ping HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    let mut head = [0u8; 16];
    stream.write_all(request.as_bytes()).is_ok()
        && stream.read(&mut head).is_ok_and(|n| head[..n].starts_with(b"HTTP/1.1 200"))
}

fn io_error(path: &Path, e: &std::io::Error) -> SupervisorError {
    SupervisorError::Runtime(format!("{}: {e}", path.display()))
}

/// What a stop did, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopReport {
    /// The program.
    pub name: &'static str,
    /// True when it was running (and is not any more).
    pub was_running: bool,
    /// One line saying what happened.
    pub text: String,
}

struct Stopping {
    name: &'static str,
    pid_path: PathBuf,
    pid: u32,
    group: bool,
    report: Option<StopReport>,
}

impl Stopping {
    /// Gone: the lock is released and nothing of its group (or the process) is left.
    fn gone(&self) -> bool {
        liveness(&self.pid_path) != Liveness::Running(self.pid)
            && if self.group { group_members(self.pid).is_empty() } else { !alive(self.pid) }
    }
}

/// Stops programs (name, PID file) in parallel: SIGTERM to each locked PID, a wait of up to
/// `grace`, then SIGKILL to each group still there. Never signals a PID whose file is unlocked.
pub fn stop_all(
    targets: &[(&'static str, PathBuf)],
    grace: Duration,
    keepalive: Keepalive<'_>,
) -> Vec<StopReport> {
    let mut pending: Vec<Stopping> = Vec::new();
    let mut done: Vec<StopReport> = Vec::new();
    for (name, pid_path) in targets {
        let (name, pid_path) = (*name, pid_path.clone());
        let report = |was_running, text: String| StopReport { name, was_running, text };
        match settled_liveness(&pid_path) {
            Liveness::Stopped => done.push(report(false, format!("{name}: not running"))),
            Liveness::Stale(pid) => {
                let removed = if remove_stale(&pid_path) { "; removed it" } else { "" };
                let pid = pid.map_or_else(|| "no PID".to_owned(), |p| format!("PID {p}"));
                done.push(report(
                    false,
                    format!("{name}: not running (stale PID file naming {pid}, not signalled{removed})"),
                ));
            }
            Liveness::Running(0) => {
                done.push(report(
                    true,
                    format!("{name}: its PID file is locked but names no PID; not signalled"),
                ));
            }
            Liveness::Running(pid) => {
                let group = leads_group(pid);
                let sent = signal_pid(pid, Signal::SIGTERM);
                let mut stopping = Stopping { name, pid_path, pid, group, report: None };
                if let Err(e) = sent {
                    stopping.report = Some(report(true, format!("{name}: cannot signal PID {pid}: {e}")));
                }
                pending.push(stopping);
            }
        }
    }
    let started = Instant::now();
    let deadline = started + grace;
    let mut killed = false;
    loop {
        for s in pending.iter_mut().filter(|s| s.report.is_none()) {
            if s.gone() {
                let how =
                    if killed { "killed (SIGKILL) after the grace period" } else { "stopped (SIGTERM)" };
                let text =
                    format!("{}: {how}, PID {}, in {:.1} s", s.name, s.pid, started.elapsed().as_secs_f64());
                s.report = Some(StopReport { name: s.name, was_running: true, text });
            }
        }
        if pending.iter().all(|s| s.report.is_some()) {
            break;
        }
        if Instant::now() >= deadline && !killed {
            killed = true;
            for s in pending.iter().filter(|s| s.report.is_none()) {
                let _ = kill_what_remains(s);
            }
        } else if Instant::now() >= deadline + Duration::from_secs(5) {
            for s in pending.iter_mut().filter(|s| s.report.is_none()) {
                let text = format!("{}: PID {} is still there after SIGKILL", s.name, s.pid);
                s.report = Some(StopReport { name: s.name, was_running: true, text });
            }
        }
        keepalive();
        std::thread::sleep(POLL);
    }
    for s in &pending {
        // A file left behind by a killed process.
        if liveness(&s.pid_path) != Liveness::Stopped {
            remove_stale(&s.pid_path);
        }
    }
    done.extend(pending.into_iter().filter_map(|s| s.report));
    done
}

/// The state of a PID file, waiting (briefly) past the moment between a process taking the
/// lock and writing its PID.
fn settled_liveness(path: &Path) -> Liveness {
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        match liveness(path) {
            Liveness::Running(0) if Instant::now() < deadline => std::thread::sleep(POLL),
            other => return other,
        }
    }
}

/// SIGKILL after the grace period: the group when the process leads one (the group may be
/// leaderless by now; its id cannot be reused while members remain), else the process while
/// its file is still locked.
fn kill_what_remains(s: &Stopping) -> std::io::Result<()> {
    if s.group {
        signal_group(s.pid, Signal::SIGKILL)
    } else if liveness(&s.pid_path) == Liveness::Running(s.pid) {
        signal_pid(s.pid, Signal::SIGKILL)
    } else {
        Ok(())
    }
}
