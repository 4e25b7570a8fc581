//! The commands that act on programs: `start`, `stop`, `restart`, `reload`, `flatten`. Each
//! prints one line per program saying what it did.
//!
//! Order: exchange-sim starts before the agents that trade on it and stops after them. `stop
//! futures` stops only futures-agent (the simulator stays for the other agent, and for the next
//! start); `stop` / `stop all` stops every agent that runs, then the simulator. A program a
//! person stopped stays stopped under `supervisor run` until it is started again.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use agent_core::pidfile::Liveness;
use nix::sys::signal::Signal;

use crate::SupervisorError;
use crate::cli::{AgentName, Target};
use crate::layout::{AgentSpec, Component, Layout};
use crate::lifecycle::{Keepalive, Started, StopReport, check_setup, start_agent, start_sim, stop_all};
use crate::process::{Sent, liveness, signal_locked};

/// Prints what a start did. The child is let go: it runs on after this command exits (its
/// parent becomes init, which reaps it).
fn report_start(component: Component, started: Started, detail: &str) {
    let name = component.name();
    match started {
        Started::AlreadyRunning(pid) => println!("{name}: already running (PID {pid}); nothing to do"),
        Started::Ready { child, took, replaced_stale } => {
            let stale = match replaced_stale {
                Some(Some(pid)) => format!("; replaced a stale PID file naming PID {pid} (not signalled)"),
                Some(None) => "; replaced a stale PID file".to_owned(),
                None => String::new(),
            };
            println!(
                "{name}: started, PID {}, ready in {:.2} s{detail}{stale}",
                child.id(),
                took.as_secs_f64()
            );
        }
    }
}

/// Starts exchange-sim for these agents when one of them trades on it (or when `force`).
///
/// # Errors
/// As [`start_sim`].
pub fn ensure_sim(
    layout: &Layout,
    agents: &[&AgentSpec],
    force: bool,
    keepalive: Keepalive<'_>,
) -> Result<(), SupervisorError> {
    if force || agents.iter().any(|a| a.installed() && a.uses_sim()) {
        let started = start_sim(layout, keepalive)?;
        report_start(Component::Sim, started, &format!(", on 127.0.0.1:{}", layout.sim.port));
    }
    Ok(())
}

/// `start [TARGET]`: exchange-sim first if needed, then the agents.
///
/// # Errors
/// `Setup` for a missing binary or config, or when no agent is installed (nothing is started);
/// `Runtime` when a program fails to start (the other agents are still started).
pub fn start(layout: &Layout, target: Target, keepalive: Keepalive<'_>) -> Result<(), SupervisorError> {
    let agents = layout.agents_of(target);
    if target == Target::All && agents.is_empty() {
        return Err(SupervisorError::Setup(format!(
            "no agent is installed: neither main-agent nor futures-agent is in {} (build them with ./dual_agent.sh, or set bin_dir)",
            layout.bin_dir.display()
        )));
    }
    for agent in &agents {
        check_setup(agent)?;
    }
    ensure_sim(layout, &agents, target == Target::Sim, keepalive)?;
    let mut first_error = None;
    for agent in agents {
        match start_agent(layout, agent, keepalive) {
            Ok(started) => report_start(agent.component, started, ""),
            Err(e) => {
                eprintln!("error: {e}");
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        // Already printed: the caller only needs the exit code.
        Some(e) => Err(SupervisorError::Reported(e.exit_code())),
        None => Ok(()),
    }
}

/// `stop [TARGET]`: the agents (in parallel), then exchange-sim when the target includes it.
/// With `mark` (a person asked), each program gets its stopped marker first, so that a running
/// `supervisor run` does not start it again; `start` removes the marker.
///
/// # Errors
/// `Runtime` when a process could not be signalled or survived SIGKILL.
pub fn stop(
    layout: &Layout,
    target: Target,
    mark: bool,
    keepalive: Keepalive<'_>,
) -> Result<Vec<StopReport>, SupervisorError> {
    let grace = layout.config.stop_grace();
    let agents: Vec<&AgentSpec> = match target {
        // Whatever runs or left a PID file, installed or not.
        Target::All => layout
            .agents
            .iter()
            .filter(|a| a.installed() || liveness(&a.pid_path()) != Liveness::Stopped)
            .collect(),
        other => layout.agents_of(other),
    };
    let with_sim = matches!(target, Target::All | Target::Sim);
    if mark {
        let markers = agents.iter().map(|a| a.stopped_marker());
        for marker in markers.chain(with_sim.then(|| layout.sim.stopped_marker.clone())) {
            if let Some(dir) = marker.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let _ =
                std::fs::write(&marker, b"stopped with `supervisor stop`; `supervisor start` clears this\n");
        }
    }
    let targets: Vec<(&'static str, PathBuf)> =
        agents.iter().map(|a| (a.component.name(), a.pid_path())).collect();
    let mut reports = stop_all(&targets, grace, keepalive);
    if with_sim {
        reports.extend(stop_all(&[(Component::Sim.name(), layout.sim.pid_path.clone())], grace, keepalive));
    }
    for r in &reports {
        println!("{}", r.text);
    }
    if reports.iter().any(|r| r.text.contains("still there") || r.text.contains("cannot signal")) {
        return Err(SupervisorError::Reported(1));
    }
    Ok(reports)
}

/// The agents a reload or flatten addresses: the one named, or every agent.
fn addressed(layout: &Layout, agent: Option<AgentName>) -> Vec<&AgentSpec> {
    match agent {
        Some(name) => layout.agent(Component::from(name)).into_iter().collect(),
        None => layout.agents.iter().collect(),
    }
}

/// Sends `signal` to each addressed agent that runs; returns the PIDs signalled.
fn send(
    layout: &Layout,
    agent: Option<AgentName>,
    signal: Signal,
    what: &str,
) -> Result<Vec<u32>, SupervisorError> {
    let mut sent = Vec::new();
    for spec in addressed(layout, agent) {
        let name = spec.component.name();
        match signal_locked(&spec.pid_path(), signal) {
            Ok(Sent::To(pid)) => {
                println!("{name}: {signal} sent to PID {pid}: {what} (see {})", spec.log_path().display());
                sent.push(pid);
            }
            Ok(Sent::NotRunning) if agent.is_some() => println!("{name}: not running"),
            Ok(Sent::Stale(_)) if agent.is_some() => {
                println!("{name}: not running (stale PID file, not signalled)")
            }
            Ok(_) => {}
            Err(e) => return Err(SupervisorError::Runtime(format!("{name}: cannot send {signal}: {e}"))),
        }
    }
    if sent.is_empty() {
        let who = agent.map_or("no agent is running", |_| "nothing sent");
        return Err(SupervisorError::NotRunning(who.to_owned()));
    }
    Ok(sent)
}

/// `reload [AGENT]`: SIGHUP; the agent reloads its config and refuses (and logs) a bad one.
///
/// # Errors
/// `NotRunning` when no addressed agent runs.
pub fn reload(layout: &Layout, agent: Option<AgentName>) -> Result<(), SupervisorError> {
    send(
        layout,
        agent,
        Signal::SIGHUP,
        "it reloads its config; an invalid file is refused and the old config stays",
    )
    .map(|_| ())
}

/// `flatten [AGENT] [--yes]`: SIGUSR2 after a confirmation.
///
/// # Errors
/// `NotRunning` when no addressed agent runs; `Runtime` when the confirmation is not given.
pub fn flatten(layout: &Layout, agent: Option<AgentName>, yes: bool) -> Result<(), SupervisorError> {
    let running: Vec<&str> = addressed(layout, agent)
        .into_iter()
        .filter(|a| {
            matches!(crate::process::liveness(&a.pid_path()), agent_core::pidfile::Liveness::Running(_))
        })
        .map(|a| a.component.name())
        .collect();
    if running.is_empty() {
        return Err(SupervisorError::NotRunning("no addressed agent is running; nothing sent".to_owned()));
    }
    if !yes {
        print!(
            "Flatten {}: cancel every order and close every position at market, and open nothing new until restarted.\nType yes to confirm: ",
            running.join(" and ")
        );
        let _ = std::io::stdout().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if answer.trim() != "yes" {
            return Err(SupervisorError::Runtime("flatten cancelled: nothing sent".to_owned()));
        }
    }
    send(
        layout,
        agent,
        Signal::SIGUSR2,
        "it cancels its orders, closes its positions at market and halts entries",
    )
    .map(|_| ())
}
