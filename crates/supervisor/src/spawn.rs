//! Spawning: how the supervisor starts a program detached, and the two hidden subcommands it
//! runs itself to do so without `unsafe` (no `fork`, no `pre_exec`).
//!
//! - `supervisor exec --setsid -- PROGRAM ARGS`: the trampoline. It is spawned as an ordinary
//!   child (so it does not lead a group and `setsid` can succeed), calls `setsid()` (a new session
//!   and process group whose id is its PID, no controlling terminal), then `exec`s the program,
//!   which keeps that PID. An agent started this way is the leader of its own group, so `stop` can
//!   kill the whole group, and no terminal hang-up or Ctrl-C reaches it.
//!   With `--die-with-parent PID` it instead asks the kernel for SIGTERM when its parent dies
//!   (`PR_SET_PDEATHSIG`, which survives `exec`).
//! - `supervisor hold-pid --setsid --pid-file run/exchange-sim.pid -- exchange-sim ARGS`: the
//!   holder, for exchange-sim, which writes no PID file. `exec` would lose the lock (Rust opens
//!   files close-on-exec), so the holder stays: it takes the PID file with
//!   `agent_core::pidfile::PidFile`, spawns the program (through `exec --die-with-parent`, so the
//!   program never outlives its holder), forwards SIGTERM, SIGINT and SIGHUP to it, and exits with
//!   its exit code when it ends, deleting the PID file. The file thus names the holder, which
//!   leads the group both are in: signalling it stops the simulator, and killing the group kills
//!   both. Signals are taken synchronously (`sigwait` on a blocked set), so there are no handlers.
//!   The systemd unit of exchange-sim runs it through the holder too, so `supervisor status`
//!   sees it.
//!
//! The trampoline also clears the signal mask, which a spawned process inherits through `exec`:
//! the holder and `run` block the signals they take with `sigwait`.
//!
//! Spawned programs get `/dev/null` as stdin and their log file (opened for appending) as stdout
//! and stderr, and run in the repository root.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, ExitStatus, Stdio};

use agent_core::pidfile::{PidFile, PidFileError};
use nix::sys::signal::{SigSet, Signal};
use nix::unistd::{getppid, setsid};

use crate::cli::{ExecArgs, HoldPidArgs};
use crate::process::signal_pid;

/// The supervisor's own executable, for the trampolines.
///
/// # Errors
/// When the OS cannot tell.
pub fn self_exe() -> io::Result<PathBuf> {
    std::env::current_exe()
}

/// Opens `path` for appending (creating its folder), and returns it with its current length:
/// what the spawned program writes comes after that offset.
///
/// # Errors
/// When the folder or file cannot be created or opened.
pub fn open_log(path: &Path) -> io::Result<(File, u64)> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file = OpenOptions::new().create(true).append(true).open(path)?;
    let len = file.metadata()?.len();
    Ok((file, len))
}

/// Spawns `program args` detached (new session, own group) in `root`, output appended to `log`.
/// The child's PID is the program's PID.
///
/// # Errors
/// When the log cannot be opened or the trampoline cannot be spawned.
pub fn spawn_detached(root: &Path, log: &File, program: &Path, args: &[OsString]) -> io::Result<Child> {
    Command::new(self_exe()?)
        .arg("exec")
        .arg("--setsid")
        .arg("--")
        .arg(program)
        .args(args)
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log.try_clone()?)
        .spawn()
}

/// Spawns `program args` under a holder of `pid_file`, detached, in `root`, output appended to
/// `log`. The child's PID is the holder's, the one written in `pid_file`.
///
/// # Errors
/// When the log cannot be opened or the holder cannot be spawned.
pub fn spawn_held(
    root: &Path,
    log: &File,
    pid_file: &Path,
    program: &Path,
    args: &[OsString],
) -> io::Result<Child> {
    Command::new(self_exe()?)
        .arg("hold-pid")
        .arg("--setsid")
        .arg("--pid-file")
        .arg(pid_file)
        .arg("--")
        .arg(program)
        .args(args)
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log.try_clone()?)
        .spawn()
}

/// `supervisor exec`: set up, then become the command. Returns only on failure (exit 127).
pub fn exec(args: &ExecArgs) -> ExitCode {
    // A blocked signal mask survives spawn and exec (the holder and `run` block the signals they
    // wait for): the program must start with none blocked, or it could not be stopped.
    if let Err(e) = SigSet::empty().thread_set_mask() {
        eprintln!("supervisor exec: clearing the signal mask: {e}");
        return ExitCode::from(126);
    }
    if args.setsid
        && let Err(e) = setsid()
    {
        eprintln!("supervisor exec: setsid: {e}");
        return ExitCode::from(126);
    }
    if let Some(parent) = args.die_with_parent {
        if let Err(e) = nix::sys::prctl::set_pdeathsig(Signal::SIGTERM) {
            eprintln!("supervisor exec: PR_SET_PDEATHSIG: {e}");
            return ExitCode::from(126);
        }
        // The parent may have died before the request took effect.
        if u32::try_from(getppid().as_raw()).ok() != Some(parent) {
            eprintln!("supervisor exec: the parent {parent} is gone; not starting");
            return ExitCode::from(126);
        }
    }
    let Some((program, rest)) = args.command.split_first() else {
        eprintln!("supervisor exec: no command");
        return ExitCode::from(2);
    };
    let err = Command::new(program).args(rest).exec();
    eprintln!("supervisor exec: cannot run {}: {err}", Path::new(program).display());
    ExitCode::from(127)
}

/// The exit code a shell would report for `status` (128 + signal when killed).
pub fn exit_code_of(status: ExitStatus) -> u8 {
    status.code().or_else(|| status.signal().map(|s| 128 + s)).and_then(|c| u8::try_from(c).ok()).unwrap_or(1)
}

/// `supervisor hold-pid`: hold the PID file while the command runs; exit with its code.
pub fn hold_pid(args: &HoldPidArgs) -> ExitCode {
    match hold(args) {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            eprintln!("supervisor hold-pid: {message}");
            ExitCode::from(1)
        }
    }
}

fn hold(args: &HoldPidArgs) -> Result<u8, String> {
    if args.setsid {
        setsid().map_err(|e| format!("setsid: {e}"))?;
    }
    let forwarded = [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP];
    let mut set = SigSet::empty();
    for signal in forwarded.into_iter().chain([Signal::SIGCHLD]) {
        set.add(signal);
    }
    // Blocked before anything can arrive; the child is spawned through `exec`, which clears the
    // mask it inherits.
    set.thread_block().map_err(|e| format!("blocking signals: {e}"))?;
    let pid_file = PidFile::acquire(&args.pid_file).map_err(|e| match e {
        PidFileError::AlreadyRunning { pid, .. } => {
            format!("{} is held by pid {pid}: already running", args.pid_file.display())
        }
        other => other.to_string(),
    })?;
    let Some((program, rest)) = args.command.split_first() else {
        return Err("no command".to_owned());
    };
    let mut child = Command::new(self_exe().map_err(|e| format!("own executable: {e}"))?)
        .arg("exec")
        .arg("--die-with-parent")
        .arg(std::process::id().to_string())
        .arg("--")
        .arg(program)
        .args(rest)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", Path::new(program).display()))?;
    loop {
        if let Some(status) = child.try_wait().map_err(|e| format!("waiting for the child: {e}"))? {
            drop(pid_file);
            return Ok(exit_code_of(status));
        }
        match set.wait() {
            Ok(Signal::SIGCHLD) | Err(_) => {}
            Ok(signal) => {
                let _ = signal_pid(child.id(), signal);
            }
        }
    }
}
