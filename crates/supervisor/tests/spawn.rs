//! The supervisor's hidden helpers as real processes: `exec --setsid` puts the program in its
//! own session and group with no signal blocked; `hold-pid` holds the PID file for its child's
//! whole life, forwards SIGTERM, exits with the child's code and removes the file, refuses a file
//! already held, and takes its child with it when it is killed. (Building this test also makes
//! cargo build the `supervisor` binary that the workspace's end-to-end tests use.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use agent_core::pidfile::{Liveness, probe};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

const SUPERVISOR: &str = env!("CARGO_BIN_EXE_supervisor");

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sup-spawn-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Fields of `/proc/<pid>/stat` after the command name: state, ppid, pgrp, session, ...
fn stat(pid: u32) -> Vec<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    text.rfind(')').map(|i| text[i + 1..].split_whitespace().map(str::to_owned).collect()).unwrap_or_default()
}

fn gone(pid: u32) -> bool {
    stat(pid).first().is_none_or(|state| state == "Z")
}

fn signal(pid: u32, sig: Signal) {
    kill(Pid::from_raw(i32::try_from(pid).unwrap()), sig).unwrap();
}

/// The child of `parent` (through /proc).
fn child_of(parent: u32) -> Option<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| stat(*pid).get(1).is_some_and(|ppid| *ppid == parent.to_string()) && !gone(*pid))
}

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn hold(pid_file: &Path, command: &[&str]) -> Killed {
    Killed(
        Command::new(SUPERVISOR)
            .args(["hold-pid", "--pid-file"])
            .arg(pid_file)
            .arg("--")
            .args(command)
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    )
}

#[test]
fn exec_setsid_gives_the_program_its_own_session_and_no_blocked_signals() {
    let mut child =
        Killed(Command::new(SUPERVISOR).args(["exec", "--setsid", "--", "sleep", "30"]).spawn().unwrap());
    let pid = child.0.id();
    wait_for("sleep to run", || {
        std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "sleep")
    });
    let fields = stat(pid);
    assert_eq!(
        (fields[2].as_str(), fields[3].as_str()),
        (pid.to_string().as_str(), pid.to_string().as_str())
    );
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert!(status.lines().any(|l| l == "SigBlk:\t0000000000000000"), "{status}");
    signal(pid, Signal::SIGTERM);
    assert!(child.0.wait().unwrap().code().is_none());

    let out = Command::new(SUPERVISOR).args(["exec", "--", "/nonexistent/program"]).output().unwrap();
    assert_eq!(out.status.code(), Some(127));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot run /nonexistent/program"));
}

#[test]
fn hold_pid_holds_the_file_forwards_sigterm_and_exits_with_the_childs_code() {
    let dir = temp("hold");
    let pid_file = dir.join("run/held.pid");
    let mut holder = hold(&pid_file, &["sleep", "30"]);
    let holder_pid = holder.0.id();
    wait_for("the PID file to be held", || probe(&pid_file).unwrap() == Liveness::Running(holder_pid));
    wait_for("the child to start", || child_of(holder_pid).is_some_and(|c| stat(c).len() > 2));
    let sleeper = child_of(holder_pid).unwrap();
    wait_for("the child to be sleep", || {
        std::fs::read_to_string(format!("/proc/{sleeper}/comm")).is_ok_and(|c| c.trim() == "sleep")
    });

    let second = Command::new(SUPERVISOR)
        .args(["hold-pid", "--pid-file"])
        .arg(&pid_file)
        .args(["--", "true"])
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&second.stderr).contains("already running"));

    signal(holder_pid, Signal::SIGTERM);
    let status = holder.0.wait().unwrap();
    assert_eq!(status.code(), Some(128 + 15), "the child's death by SIGTERM, as a shell reports it");
    assert!(gone(sleeper), "the child got the SIGTERM");
    assert!(!pid_file.exists(), "the PID file is removed");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_killed_holder_takes_its_child_with_it() {
    let dir = temp("orphan");
    let pid_file = dir.join("held.pid");
    let mut holder = hold(&pid_file, &["sleep", "30"]);
    let holder_pid = holder.0.id();
    wait_for("the child to be sleep", || {
        child_of(holder_pid).is_some_and(|c| {
            std::fs::read_to_string(format!("/proc/{c}/comm")).is_ok_and(|n| n.trim() == "sleep")
        })
    });
    let sleeper = child_of(holder_pid).unwrap();
    signal(holder_pid, Signal::SIGKILL);
    holder.0.wait().unwrap();
    wait_for("the orphan to get its parent-death signal", || gone(sleeper));
    assert_eq!(probe(&pid_file).unwrap(), Liveness::Stale(Some(holder_pid)));
    std::fs::remove_dir_all(dir).unwrap();
}
