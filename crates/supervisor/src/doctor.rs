//! `supervisor doctor`: what is wrong with this installation, one line per check (`ok`,
//! `warn`, `FAIL`), exit 1 when anything failed. It checks the binaries (present, and not older
//! than the sources when the sources are there), the configs, that the folders are writable,
//! the PID files (stale ones are named; they are harmless and never signalled), exchange-sim's
//! port (free, or answered by our simulator), and runs each installed agent's own `check`.

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

use agent_core::pidfile::Liveness;
use nix::sys::signal::Signal;

use crate::SupervisorError;
use crate::layout::{Component, Layout};
use crate::lifecycle::ping;
use crate::process::{liveness, signal_pid};

/// How long an agent's `check` may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Default)]
struct Findings {
    failed: bool,
}

impl Findings {
    fn ok(&self, text: &str) {
        println!("ok    {text}");
    }
    fn warn(&self, text: &str) {
        println!("warn  {text}");
    }
    fn fail(&mut self, text: &str) {
        println!("FAIL  {text}");
        self.failed = true;
    }
}

/// `supervisor doctor`.
///
/// # Errors
/// `Reported(1)` when a check failed (each failure is printed).
pub fn doctor(layout: &Layout) -> Result<(), SupervisorError> {
    let mut f = Findings::default();
    let source = if layout.config_path.exists() {
        layout.config_path.display().to_string()
    } else {
        "built-in defaults".to_owned()
    };
    f.ok(&format!("supervisor config: {source}; repository root {}", layout.root.display()));
    let newest_source = newest_source(&layout.root);
    let sim_needed = layout.installed().any(|a| a.uses_sim());
    if layout.installed().next().is_none() {
        f.fail(&format!(
            "no agent is installed in {} (build with ./dual_agent.sh or set bin_dir)",
            layout.bin_dir.display()
        ));
    }
    for agent in &layout.agents {
        let name = agent.component.name();
        if !agent.binary_present() {
            println!("info  {name}: not installed (no binary at {})", agent.binary.display());
            continue;
        }
        if !agent.installed() {
            println!(
                "info  {name}: {} has no live `run` command yet (backtest only): not started",
                agent.binary.display()
            );
            continue;
        }
        binary(&mut f, name, &agent.binary, newest_source);
        match &agent.config_problem {
            Some(problem) => f.fail(&format!("{name} config: {problem}")),
            None => f.ok(&format!("{name} config: {} (venue {})", agent.config.display(), agent.venue)),
        }
        writable(&mut f, &format!("{name} log_dir"), &agent.log_dir);
        writable(&mut f, &format!("{name} run_dir"), &agent.run_dir);
        pid_file(&mut f, name, &agent.pid_path());
    }
    writable(&mut f, "supervisor log_dir", &absolute_dir(layout, &layout.config.log_dir));
    writable(&mut f, "supervisor run_dir", &layout.run_dir);
    if sim_needed || layout.sim.binary.is_file() {
        let name = Component::Sim.name();
        if layout.sim.binary.is_file() {
            binary(&mut f, name, &layout.sim.binary, newest_source);
        } else {
            f.fail(&format!(
                "{name}: no binary at {}, and an agent trades on it",
                layout.sim.binary.display()
            ));
        }
        match &layout.sim.config_problem {
            Some(problem) if sim_needed => f.fail(&format!("{name} config: {problem}")),
            Some(problem) => f.warn(&format!("{name} config: {problem}")),
            None => {
                f.ok(&format!("{name} config: {} (port {})", layout.sim.config.display(), layout.sim.port))
            }
        }
        pid_file(&mut f, name, &layout.sim.pid_path);
        sim_port(&mut f, layout);
    }
    for agent in layout.installed().filter(|a| a.config_problem.is_none()) {
        if agent.uses_sim() && !matches!(liveness(&layout.sim.pid_path), Liveness::Running(_)) {
            f.warn(&format!(
                "{} check skipped: it trades on exchange-sim, which is not running (`supervisor start sim`, then doctor again)",
                agent.component.name()
            ));
        } else {
            agent_check(&mut f, layout, &agent.binary, &agent.config, agent.component);
        }
    }
    if f.failed { Err(SupervisorError::Reported(1)) } else { Ok(()) }
}

fn absolute_dir(layout: &Layout, dir: &Path) -> PathBuf {
    crate::layout::absolute(&layout.root, dir)
}

fn binary(f: &mut Findings, name: &str, path: &Path, newest_source: Option<SystemTime>) {
    let built = std::fs::metadata(path).and_then(|m| m.modified()).ok();
    match (built, newest_source) {
        (Some(built), Some(source)) if built < source => f.warn(&format!(
            "{name}: {} is older than the sources (rebuild: ./dual_agent.sh builds it, or cargo build --release -p {name})",
            path.display()
        )),
        (_, None) => f.ok(&format!("{name}: {} (sources not found: freshness not checked)", path.display())),
        _ => f.ok(&format!("{name}: {}", path.display())),
    }
}

/// The newest modification time among the workspace's sources (`crates/**/*.rs`,
/// `crates/*/Cargo.toml`, `Cargo.toml`, `Cargo.lock`), if they are there.
fn newest_source(root: &Path) -> Option<SystemTime> {
    fn walk(dir: &Path, newest: &mut Option<SystemTime>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_dir() && path.file_name().is_some_and(|n| n != "target") {
                walk(&path, newest);
            } else if path.extension().is_some_and(|e| e == "rs") || path.ends_with("Cargo.toml") {
                let modified = entry.metadata().and_then(|m| m.modified()).ok();
                *newest = (*newest).max(modified);
            }
        }
    }
    let crates = root.join("crates");
    if !crates.is_dir() {
        return None;
    }
    let mut newest = None;
    walk(&crates, &mut newest);
    for file in ["Cargo.toml", "Cargo.lock"] {
        newest = newest.max(std::fs::metadata(root.join(file)).and_then(|m| m.modified()).ok());
    }
    newest
}

/// A folder is writable when a file can be made in it (or, if it does not exist yet, in its
/// nearest existing parent, where it will be created).
fn writable(f: &mut Findings, what: &str, dir: &Path) {
    let existing = dir.ancestors().find(|d| d.is_dir()).unwrap_or(dir);
    let probe = existing.join(format!(".supervisor-doctor-{}", std::process::id()));
    match std::fs::write(&probe, b"") {
        Ok(()) => {
            let _ = std::fs::remove_file(&probe);
            let note = if existing == dir { "" } else { " (created on first start)" };
            f.ok(&format!("{what}: {} is writable{note}", dir.display()));
        }
        Err(e) => f.fail(&format!("{what}: {} is not writable: {e}", dir.display())),
    }
}

fn pid_file(f: &mut Findings, name: &str, path: &Path) {
    match liveness(path) {
        Liveness::Running(pid) => f.ok(&format!("{name}: running, PID {pid} ({} locked)", path.display())),
        Liveness::Stopped => f.ok(&format!("{name}: not running")),
        Liveness::Stale(pid) => f.warn(&format!(
            "{name}: stale PID file {} naming {} (its process died; it is never signalled, and the next start replaces it)",
            path.display(),
            pid.map_or_else(|| "no PID".to_owned(), |p| format!("PID {p}"))
        )),
    }
}

fn sim_port(f: &mut Findings, layout: &Layout) {
    let port = layout.sim.port;
    match liveness(&layout.sim.pid_path) {
        Liveness::Running(pid) if ping(port) => {
            f.ok(&format!("exchange-sim port {port}: answered by our exchange-sim (PID {pid})"));
        }
        Liveness::Running(pid) => f.warn(&format!("exchange-sim port {port}: our exchange-sim (PID {pid}) does not answer")),
        _ if TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() => f.ok(&format!("exchange-sim port {port}: free")),
        _ => f.fail(&format!(
            "exchange-sim port {port}: in use by another process (not our exchange-sim): stop it or change port in {}",
            layout.sim.config.display()
        )),
    }
}

/// Runs `<agent> check --config FILE` in the root and shows its lines.
fn agent_check(f: &mut Findings, layout: &Layout, binary: &Path, config: &Path, component: Component) {
    let name = component.name();
    let child = Command::new(binary)
        .arg("check")
        .arg("--config")
        .arg(config)
        .current_dir(&layout.root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let child = match child {
        Ok(child) => child,
        Err(e) => return f.fail(&format!("{name} check: cannot run {}: {e}", binary.display())),
    };
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let output = match rx.recv_timeout(CHECK_TIMEOUT) {
        Ok(output) => output,
        Err(_) => {
            let _ = signal_pid(pid, Signal::SIGKILL);
            return f
                .fail(&format!("{name} check: no answer within {} s; killed it", CHECK_TIMEOUT.as_secs()));
        }
    };
    let output = match output {
        Ok(output) => output,
        Err(e) => return f.fail(&format!("{name} check: {e}")),
    };
    let text =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    for line in text.lines() {
        println!("        {name}: {line}");
    }
    if output.status.success() {
        f.ok(&format!("{name} check passed"));
    } else {
        f.fail(&format!("{name} check failed (exit code {})", output.status.code().unwrap_or(1)));
    }
}
