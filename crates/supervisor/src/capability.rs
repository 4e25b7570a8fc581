//! Whether an agent's binary can trade live: it has the `run` subcommand (`BINARY run --help`
//! exits 0). An agent built before its live mode exists (main-agent while it only backtests) is
//! not started, and does not count as installed for `all`.
//!
//! The answer is cached per binary, keyed by its path, size and modification time, in
//! `run_dir/supervisor.capabilities` (one `yes|no SIZE MTIME_NS PATH` line each), so `status`
//! does not spawn the binaries every time; a rebuilt binary is probed again.

use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::process::signal_pid;

/// How long `run --help` may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// True when `binary` exists and has a `run` subcommand; cached in `cache`.
pub fn has_run(binary: &Path, cache: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(binary) else { return false };
    if !meta.is_file() {
        return false;
    }
    let key =
        format!("{} {} {}", meta.size(), meta.mtime_nsec() + meta.mtime() * 1_000_000_000, binary.display());
    let cached = std::fs::read_to_string(cache).unwrap_or_default();
    if let Some(answer) =
        cached.lines().find_map(|l| l.split_once(' ').filter(|(_, k)| *k == key)).map(|(a, _)| a)
    {
        return answer == "yes";
    }
    let answer = probe(binary).unwrap_or(false);
    let mut lines: Vec<&str> =
        cached.lines().filter(|l| !l.ends_with(&format!(" {}", binary.display()))).collect();
    let line = format!("{} {key}", if answer { "yes" } else { "no" });
    lines.push(&line);
    // Not writable: the next command probes again.
    if let Some(dir) = cache.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let _ = std::fs::write(cache, lines.join("\n") + "\n");
    answer
}

/// Runs `binary run --help` and says whether it exited 0.
fn probe(binary: &Path) -> io::Result<bool> {
    let mut child = Command::new(binary)
        .args(["run", "--help"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let deadline = Instant::now() + PROBE_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status.success());
        }
        if Instant::now() >= deadline {
            // Our own unreaped child: its PID cannot have been reused.
            let _ = signal_pid(child.id(), nix::sys::signal::Signal::SIGKILL);
            let _ = child.wait();
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn script(dir: &Path, name: &str, body: &str) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[test]
    fn probes_once_and_again_after_a_rebuild() {
        let dir = std::env::temp_dir().join(format!("sup-capability-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let cache = dir.join("run/supervisor.capabilities");
        let live = script(&dir, "live-agent", "[ \"$1\" = run ] && exit 0; exit 2");
        let backtest_only = script(&dir, "backtest-agent", "exit 2");
        assert!(has_run(&live, &cache));
        assert!(!has_run(&backtest_only, &cache));
        assert!(!has_run(&dir.join("absent"), &cache));
        let text = std::fs::read_to_string(&cache).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
        // The cached answer stands while the binary is unchanged...
        assert!(has_run(&live, &cache));
        // ...and a rebuilt binary (new size) is probed again, replacing its line.
        script(&dir, "backtest-agent", "[ \"$1\" = run ] && exit 0; exit 2 # now with run");
        assert!(has_run(&backtest_only, &cache));
        assert_eq!(std::fs::read_to_string(&cache).unwrap().lines().count(), 2);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
