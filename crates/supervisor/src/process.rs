//! Who may be signalled, and how process groups are looked at and killed.
//!
//! The rule (DESIGN §6, §8): a process is signalled only when its PID file is locked, which
//! proves that the process that wrote the number still lives; a number alone may belong to an
//! unrelated process by now. The remaining race (the process dies between the probe and the
//! signal and its PID is reused within that microsecond) is the one every PID-file tool has.
//! A group is killed only when the locked process leads it (`getpgid(pid) == pid`, as every
//! process the supervisor starts does, and as systemd's services do).
//!
//! Group members are found in `/proc` (Linux): a zombie is already dead and does not count.

use std::io;
use std::path::Path;

use agent_core::pidfile::{Liveness, PidFile, PidFileError, probe};
use nix::errno::Errno;
use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::{Pid, getpgid};

/// A PID as nix wants it; `None` for 0, 1 and numbers out of range, which are never signalled
/// (0 and negative numbers would address whole groups, 1 is init).
pub fn nix_pid(pid: u32) -> Option<Pid> {
    i32::try_from(pid).ok().filter(|p| *p > 1).map(Pid::from_raw)
}

/// The state of a PID file, an unreadable file counting as stopped with a note.
pub fn liveness(path: &Path) -> Liveness {
    probe(path).unwrap_or(Liveness::Stopped)
}

/// What happened when a signal was to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// Sent to this PID, whose PID file is locked.
    To(u32),
    /// Nothing sent: no PID file.
    NotRunning,
    /// Nothing sent: the PID file is not locked (its process died); it names this PID.
    Stale(Option<u32>),
}

/// Sends `signal` to the process holding the PID file at `path`, and only if it holds it (and,
/// for anything but SIGTERM, SIGINT and SIGKILL, only if it catches the signal: it would die
/// of it otherwise).
///
/// # Errors
/// When the process does not handle `signal` (yet), or the kernel refuses it (permission).
pub fn signal_locked(path: &Path, signal: Signal) -> io::Result<Sent> {
    match liveness(path) {
        Liveness::Stopped => Ok(Sent::NotRunning),
        Liveness::Stale(pid) => Ok(Sent::Stale(pid)),
        Liveness::Running(pid) => {
            let Some(target) = nix_pid(pid) else {
                // Locked but the number is not written yet: the process is starting.
                return Err(io::Error::other(format!("{} is locked but names no PID yet", path.display())));
            };
            let fatal_by_default = !matches!(signal, Signal::SIGTERM | Signal::SIGINT | Signal::SIGKILL);
            if fatal_by_default && !catches(pid, &[signal]) {
                return Err(io::Error::other(format!(
                    "PID {pid} does not handle {signal} (yet: is it still starting?); not sent, as it would kill it"
                )));
            }
            match kill(target, signal) {
                Ok(()) | Err(Errno::ESRCH) => Ok(Sent::To(pid)),
                Err(e) => Err(io::Error::from(e)),
            }
        }
    }
}

/// True when `pid` leads its own process group.
pub fn leads_group(pid: u32) -> bool {
    nix_pid(pid).is_some_and(|p| getpgid(Some(p)) == Ok(p))
}

/// Sends `signal` to the whole group `pgid`; a group already gone is not an error.
pub fn signal_group(pgid: u32, signal: Signal) -> io::Result<()> {
    let Some(group) = nix_pid(pgid) else { return Ok(()) };
    match killpg(group, signal) {
        Ok(()) | Err(Errno::ESRCH) => Ok(()),
        Err(e) => Err(io::Error::from(e)),
    }
}

/// Sends `signal` to one process; a process already gone is not an error.
pub fn signal_pid(pid: u32, signal: Signal) -> io::Result<()> {
    let Some(target) = nix_pid(pid) else { return Ok(()) };
    match kill(target, signal) {
        Ok(()) | Err(Errno::ESRCH) => Ok(()),
        Err(e) => Err(io::Error::from(e)),
    }
}

/// True when process `pid` has handlers installed for every one of `signals` (`SigCgt` of
/// `/proc/<pid>/status`). Sending SIGHUP, SIGUSR1 or SIGUSR2 to a process that does not catch
/// it kills the process, which is what an agent that is still starting would do.
pub fn catches(pid: u32, signals: &[Signal]) -> bool {
    let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/status")) else { return false };
    let Some(mask) = text
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
    else {
        return false;
    };
    signals.iter().all(|s| {
        let bit = (*s as i32) - 1;
        (0..64).contains(&bit) && mask & (1u64 << bit) != 0
    })
}

/// `(state, pgid)` from `/proc/<pid>/stat`, or `None` when there is no such process.
fn stat(pid: u32) -> Option<(char, u32)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: the fields follow the last ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let _ppid = fields.next()?;
    let pgid = fields.next()?.parse().ok()?;
    Some((state, pgid))
}

/// True when `pid` is a live (not zombie) process.
pub fn alive(pid: u32) -> bool {
    stat(pid).is_some_and(|(state, _)| state != 'Z')
}

/// The live (not zombie) members of process group `pgid`.
pub fn group_members(pgid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .filter(|pid| stat(*pid).is_some_and(|(state, group)| group == pgid && state != 'Z'))
        .collect()
}

/// Removes a stale PID file: takes its lock (so a process starting right now is not robbed of
/// it) and lets go, which deletes it. A file that turned out to be held is left alone.
pub fn remove_stale(path: &Path) -> bool {
    match PidFile::acquire(path) {
        Ok(file) => {
            drop(file);
            true
        }
        Err(PidFileError::AlreadyRunning { .. } | PidFileError::Io { .. }) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Command, Stdio};

    #[test]
    fn pids_that_address_groups_or_init_are_refused() {
        assert_eq!(nix_pid(0), None);
        assert_eq!(nix_pid(1), None);
        assert_eq!(nix_pid(u32::MAX), None);
        assert_eq!(nix_pid(42), Some(Pid::from_raw(42)));
    }

    #[test]
    fn an_unlocked_pid_file_naming_a_live_process_is_not_signalled() {
        let dir = std::env::temp_dir().join(format!("sup-process-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut bystander = Command::new("sleep").arg("30").stdin(Stdio::null()).spawn().unwrap();
        let path = dir.join("agent.pid");
        std::fs::write(&path, format!("{}\n", bystander.id())).unwrap();
        let sent = signal_locked(&path, Signal::SIGTERM).unwrap();
        assert_eq!(sent, Sent::Stale(Some(bystander.id())));
        assert!(bystander.try_wait().unwrap().is_none(), "the bystander was signalled");
        assert!(alive(bystander.id()));
        assert!(remove_stale(&path));
        assert!(!path.exists());
        bystander.kill().unwrap();
        bystander.wait().unwrap();
        assert!(!alive(bystander.id()), "a reaped process is not alive");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn caught_signals_are_read_from_proc() {
        // A `sleep` catches nothing.
        let mut sleeper = Command::new("sleep").arg("30").stdin(Stdio::null()).spawn().unwrap();
        assert!(!catches(sleeper.id(), &[Signal::SIGUSR2]));
        assert!(!catches(u32::MAX, &[Signal::SIGHUP]), "no such process");
        assert!(catches(sleeper.id(), &[]));
        sleeper.kill().unwrap();
        sleeper.wait().unwrap();
    }

    #[test]
    fn a_locked_pid_file_is_signalled_and_groups_are_listed() {
        let me = std::process::id();
        let members = group_members(nix::unistd::getpgrp().as_raw().unsigned_abs());
        assert!(members.contains(&me), "{members:?}");
        let dir = std::env::temp_dir().join(format!("sup-process-locked-{me}"));
        let path = dir.join("self.pid");
        let held = PidFile::acquire(&path).unwrap();
        assert_eq!(liveness(&path), Liveness::Running(me));
        drop(held);
        assert_eq!(signal_locked(&path, Signal::SIGUSR1).unwrap(), Sent::NotRunning);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
