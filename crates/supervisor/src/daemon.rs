//! `supervisor run`: the foreground mode, for systemd (`Type=notify`).
//!
//! It starts exchange-sim (when an installed agent trades on it) and every installed agent,
//! adopting those already running, tells systemd `READY=1`, then checks every `check_interval`
//! that each still holds its PID file. One that died is started again after a backoff that
//! doubles with each quick death (dying within `quick_death` of its start), and given up after
//! `max_quick_deaths` quick deaths in a row, saying so; `run` goes on with the others, and exits 1
//! when nothing is left. A program a person stopped (`supervisor stop`, which leaves a marker
//! file) is not restarted; one started again by hand is watched again. At its own start, `run`
//! starts everything (clearing the markers). SIGHUP is passed on to the agents (reload); SIGTERM or SIGINT stops the
//! agents, then the simulator, and exits 0. `WATCHDOG=1` goes to systemd from every loop and
//! every wait.
//!
//! With `DISCORD_WEBHOOK_URL` set, the first check after 00:00 UTC also sends the day's
//! performance summary to Discord (`monitor::summary::DailySummary`); sending never holds up
//! the loop.
//!
//! Signals are blocked in every thread and taken by one thread with `sigwait`, which hands them
//! to the loop over a channel: no signal handlers, no `unsafe`.

use std::process::Child;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use agent_core::pidfile::Liveness;
use nix::sys::signal::{SigSet, Signal};

use crate::SupervisorError;
use crate::commands::stop;
use crate::layout::{AgentSpec, Component, Layout};
use crate::lifecycle::{Started, start_agent, start_sim};
use crate::monitor::summary::DailySummary;
use crate::process::{Sent, liveness, signal_locked};
use crate::sdnotify::Notifier;
use crate::spawn::exit_code_of;

/// Where a watched program is.
#[derive(Debug)]
enum State {
    /// Running since `since`.
    Up { since: Instant },
    /// To be started at `at`.
    Waiting { at: Instant },
    /// Died too often too quickly; left alone until someone starts it.
    GaveUp,
    /// Stopped by a person (`supervisor stop`); left alone until someone starts it.
    Held,
}

#[derive(Debug)]
struct Watched<'a> {
    component: Component,
    agent: Option<&'a AgentSpec>,
    child: Option<Child>,
    state: State,
    quick_deaths: u32,
}

impl Watched<'_> {
    fn pid_path(&self, layout: &Layout) -> std::path::PathBuf {
        self.agent.map_or_else(|| layout.sim.pid_path.clone(), AgentSpec::pid_path)
    }

    /// True (and the state set to `Held`, with a note) when a person stopped this program.
    fn held_by_a_person(&mut self, layout: &Layout) -> bool {
        if !layout.stopped_marker(self.component).exists() {
            return false;
        }
        println!(
            "supervisor run: {} was stopped with `supervisor stop`; not restarting it (`supervisor start {}` does)",
            self.component.name(),
            short(self.component)
        );
        self.state = State::Held;
        true
    }
}

/// Runs in the foreground until SIGTERM or SIGINT.
///
/// # Errors
/// `Setup` for a missing binary or config, found before anything starts (exit 2: restarting
/// will not help); `Runtime` when every program was given up, or signals cannot be set up.
pub fn run(layout: &Layout) -> Result<(), SupervisorError> {
    let signals = signal_thread()?;
    let notifier =
        Notifier::from_env().map_err(|e| SupervisorError::Runtime(format!("NOTIFY_SOCKET: {e}")))?;
    let keepalive = || notifier.keepalive();
    let agents: Vec<&AgentSpec> = layout.installed().collect();
    preflight(layout, &agents)?;
    let now = Instant::now();
    let sim = agents.iter().any(|a| a.uses_sim()).then_some((Component::Sim, None));
    let mut watched: Vec<Watched<'_>> = sim
        .into_iter()
        .chain(agents.iter().map(|a| (a.component, Some(*a))))
        .map(|(component, agent)| Watched {
            component,
            agent,
            child: None,
            state: State::Waiting { at: now },
            quick_deaths: 0,
        })
        .collect();
    // `run` starts everything, whatever a person stopped before.
    for w in &watched {
        let _ = std::fs::remove_file(layout.stopped_marker(w.component));
    }
    println!(
        "supervisor run: watching {}",
        watched.iter().map(|w| w.component.name()).collect::<Vec<_>>().join(", ")
    );
    // After `signal_thread`: the notification worker inherits the blocked signals.
    let mut daily = DailySummary::start(layout);
    let mut ready_sent = false;
    loop {
        start_due(layout, &mut watched, &keepalive);
        if !ready_sent {
            ready_sent = true;
            let up = watched.iter().filter(|w| matches!(w.state, State::Up { .. })).count();
            notifier.notify(&format!("READY=1\nSTATUS={up} of {} running", watched.len()));
        }
        match signals.recv_timeout(layout.config.check_interval()) {
            Ok(Signal::SIGHUP) => pass_on_hup(&agents),
            Ok(_) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        keepalive();
        if let Some(daily) = daily.as_mut() {
            daily.tick(layout);
        }
        check(layout, &mut watched);
        if watched.iter().all(|w| matches!(w.state, State::GaveUp)) {
            notifier.notify("STATUS=every program was given up");
            return Err(SupervisorError::Runtime("every program died too often; giving up".to_owned()));
        }
    }
    notifier.notify("STOPPING=1");
    println!("supervisor run: stopping");
    let result = stop(layout, crate::cli::Target::All, false, &keepalive);
    if let Some(daily) = daily {
        daily.stop();
    }
    for w in &mut watched {
        if let Some(mut child) = w.child.take() {
            let _ = child.wait();
        }
    }
    result.map(|_| ())
}

/// Every setup problem at once, before anything starts.
fn preflight(layout: &Layout, agents: &[&AgentSpec]) -> Result<(), SupervisorError> {
    if agents.is_empty() {
        return Err(SupervisorError::Setup(format!("no agent is installed in {}", layout.bin_dir.display())));
    }
    let mut problems: Vec<String> = agents
        .iter()
        .filter_map(|a| a.config_problem.as_ref().map(|p| format!("{}: {p}", a.component.name())))
        .collect();
    if agents.iter().any(|a| a.uses_sim()) {
        if !layout.sim.binary.is_file() {
            let binary = layout.sim.binary.display();
            problems.push(format!("exchange-sim is not installed: no binary at {binary}"));
        }
        problems.extend(layout.sim.config_problem.iter().map(|p| format!("exchange-sim: {p}")));
    }
    if problems.is_empty() { Ok(()) } else { Err(SupervisorError::Setup(problems.join("\n"))) }
}

/// Blocks SIGTERM, SIGINT and SIGHUP (in this thread, so in every thread spawned later) and
/// starts the thread that waits for them.
fn signal_thread() -> Result<mpsc::Receiver<Signal>, SupervisorError> {
    let mut set = SigSet::empty();
    for signal in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
        set.add(signal);
    }
    set.thread_block().map_err(|e| SupervisorError::Runtime(format!("blocking signals: {e}")))?;
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("signals".to_owned())
        .spawn(move || {
            while let Ok(signal) = set.wait() {
                if tx.send(signal).is_err() {
                    break;
                }
            }
        })
        .map_err(|e| SupervisorError::Runtime(format!("signal thread: {e}")))?;
    Ok(rx)
}

fn pass_on_hup(agents: &[&AgentSpec]) {
    for agent in agents {
        if let Ok(Sent::To(pid)) = signal_locked(&agent.pid_path(), Signal::SIGHUP) {
            println!("supervisor run: SIGHUP passed on to {} (PID {pid})", agent.component.name());
        }
    }
}

/// Starts every program whose time has come: exchange-sim first, an agent on it only once it is up.
fn start_due(layout: &Layout, watched: &mut [Watched<'_>], keepalive: &dyn Fn()) {
    for i in 0..watched.len() {
        let due = matches!(watched[i].state, State::Waiting { at } if at <= Instant::now());
        let sim_down =
            watched.iter().any(|w| w.component == Component::Sim && !matches!(w.state, State::Up { .. }));
        let needs_sim = watched[i].agent.is_some_and(AgentSpec::uses_sim);
        if !due || (needs_sim && sim_down) {
            continue;
        }
        let w = &mut watched[i];
        let name = w.component.name();
        if w.held_by_a_person(layout) {
            continue;
        }
        let started = match w.agent {
            Some(agent) => start_agent(layout, agent, keepalive),
            None => start_sim(layout, keepalive),
        };
        match started {
            Ok(Started::AlreadyRunning(pid)) => {
                println!("supervisor run: {name} already running (PID {pid}); watching it");
                w.state = State::Up { since: Instant::now() };
            }
            Ok(Started::Ready { child, took, .. }) => {
                println!(
                    "supervisor run: {name} started, PID {}, ready in {:.2} s",
                    child.id(),
                    took.as_secs_f64()
                );
                w.child = Some(child);
                w.state = State::Up { since: Instant::now() };
            }
            Err(e) => {
                println!("supervisor run: {e}");
                if !w.held_by_a_person(layout) {
                    died(layout, w, Duration::ZERO);
                }
            }
        }
    }
}

/// Looks at every program: reaps exited children, notices deaths, adopts a given-up program
/// that someone started again.
fn check(layout: &Layout, watched: &mut [Watched<'_>]) {
    for w in watched.iter_mut() {
        let exited = w.child.as_mut().and_then(|c| c.try_wait().ok().flatten());
        if exited.is_some() {
            w.child = None;
        }
        let running = matches!(liveness(&w.pid_path(layout)), Liveness::Running(_));
        match w.state {
            State::Up { since } if !running => {
                if w.held_by_a_person(layout) {
                    continue;
                }
                let how = exited.map_or_else(
                    || "its PID file is no longer locked".to_owned(),
                    |s| format!("exit code {}", exit_code_of(s)),
                );
                println!("supervisor run: {} died ({how})", w.component.name());
                died(layout, w, since.elapsed());
            }
            State::Up { since } if since.elapsed() >= layout.config.quick_death() => w.quick_deaths = 0,
            State::GaveUp | State::Held if running => {
                println!("supervisor run: {} is running again; watching it", w.component.name());
                w.quick_deaths = 0;
                w.state = State::Up { since: Instant::now() };
            }
            _ => {}
        }
    }
}

/// Records a death after `lived`: schedules the restart, or gives up.
fn died(layout: &Layout, w: &mut Watched<'_>, lived: Duration) {
    let config = &layout.config;
    w.quick_deaths = if lived < config.quick_death() { w.quick_deaths + 1 } else { 1 };
    let name = w.component.name();
    if w.quick_deaths >= config.max_quick_deaths {
        let log = w.agent.map_or_else(|| layout.sim.log_path.clone(), AgentSpec::log_path);
        println!(
            "supervisor run: giving up on {name}: it died {} times in a row within {:.0} s of starting; see {} (`supervisor start {}` tries again)",
            w.quick_deaths,
            config.quick_death().as_secs_f64(),
            log.display(),
            short(w.component),
        );
        w.state = State::GaveUp;
    } else {
        let wait = config.backoff(w.quick_deaths);
        println!("supervisor run: restarting {name} in {:.1} s", wait.as_secs_f64());
        w.state = State::Waiting { at: Instant::now() + wait };
    }
}

fn short(component: Component) -> &'static str {
    match component {
        Component::Main => "main",
        Component::Futures => "futures",
        Component::Sim => "sim",
    }
}
