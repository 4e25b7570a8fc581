//! What the supervisor's end-to-end tests share: the binaries, built once per test process, and
//! a sandbox (a repository root in a temp folder) with its own configs, a free port for
//! exchange-sim, and a guard that kills every process left in it.
//!
//! The binaries: `CARGO_BIN_EXE_*` exists only in a binary's own package, so the harness runs
//! cargo once per test process (a `OnceLock`) with the profile and target folder of the running
//! test (found from the test executable's path, `<target>/<profile>/deps/<test>`): `cargo test
//! --workspace --no-run`, which builds every package's binary with the features of a workspace
//! test run (the packages have integration tests, so cargo builds their binaries), and is a
//! sub-second no-op under `cargo test --workspace` or `cargo nextest run --workspace`, which built
//! them already; missing ones are then built with `cargo build -p`. In release (the bench) it is
//! `cargo build --release -p supervisor -p futures-agent -p main-agent -p exchange-sim`, as
//! `./dual_agent.sh` builds. `DUAL_AGENT_TEST_BIN_DIR=DIR` takes prebuilt binaries from DIR
//! instead (an archive run by nextest, a cross-compiled target folder).
//!
//! Every process the supervisor starts runs in the sandbox's root, so the guard finds them all
//! through `/proc/<pid>/cwd` and SIGKILLs them (and their groups) when the test ends, even when it
//! failed.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

/// The binaries the tests run.
const BINARIES: [&str; 4] = ["supervisor", "futures-agent", "main-agent", "exchange-sim"];

/// The folder of the built `supervisor`, `futures-agent`, `main-agent` and `exchange-sim`.
pub fn bin_dir() -> &'static Path {
    static BINS: OnceLock<PathBuf> = OnceLock::new();
    BINS.get_or_init(|| {
        if let Some(dir) = std::env::var_os("DUAL_AGENT_TEST_BIN_DIR") {
            return PathBuf::from(dir);
        }
        let exe = std::env::current_exe().expect("test executable");
        let profile_dir = exe.parent().and_then(Path::parent).expect("<target>/<profile>/deps/<test>");
        let target_dir = profile_dir.parent().expect("target folder");
        let profile = profile_dir.file_name().and_then(|n| n.to_str()).expect("profile folder name");
        let profile_args: Vec<String> = match profile {
            "debug" => Vec::new(),
            "release" => vec!["--release".into()],
            other => vec!["--profile".into(), other.into()],
        };
        let cargo = || {
            let program = std::env::var("CARGO").ok().or(option_env!("CARGO").map(str::to_owned));
            let mut command = Command::new(program.unwrap_or_else(|| "cargo".to_owned()));
            command.env("CARGO_TARGET_DIR", target_dir).current_dir(env!("CARGO_MANIFEST_DIR"));
            command
        };
        // Debug: what `cargo test --workspace` (and nextest) build, so the binaries are the very
        // artifacts of the test run (a no-op after it) and no build replaces them with another
        // feature set. Release (the bench): what ./dual_agent.sh builds.
        let mut build = cargo();
        if profile == "release" {
            build.args(["build", "--locked", "--quiet"]).args(BINARIES.iter().flat_map(|b| ["-p", b]));
        } else {
            build.args(["test", "--workspace", "--no-run", "--locked", "--quiet"]);
        }
        let status = build.args(&profile_args).status().expect("running cargo for the supervisor's tests");
        assert!(status.success(), "cargo could not build the binaries the supervisor's tests run");
        let missing: Vec<&str> =
            BINARIES.iter().copied().filter(|b| !profile_dir.join(b).is_file()).collect();
        if !missing.is_empty() {
            let status = cargo()
                .args(["build", "--locked", "--quiet"])
                .args(missing.iter().flat_map(|b| ["-p", b]))
                .args(&profile_args)
                .status()
                .expect("running cargo build");
            assert!(status.success(), "cargo build of {missing:?} failed");
        }
        profile_dir.to_path_buf()
    })
}

/// A port free on 127.0.0.1 right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Polls `condition` every 10 ms until it holds; panics with `what` after `limit`.
pub fn wait_for(what: &str, limit: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out after {limit:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A repository root in a temp folder: configs, `bin/` (links to the built binaries), and the
/// folders the programs write.
pub struct Sandbox {
    /// The root (canonical).
    pub root: PathBuf,
    /// exchange-sim's port.
    pub port: u16,
}

/// The supervisor config of the sandboxes: short waits, so tests are quick.
pub const SUPERVISOR_TOML: &str = "bin_dir = \"bin\"\nstop_grace = 5\nstart_timeout = 30\ncheck_interval = 0.1\n\
restart_backoff = 2\nrestart_backoff_max = 4\nquick_death = 5\nmax_quick_deaths = 3\n";

impl Sandbox {
    /// A sandbox named `name` with both agents trading on exchange-sim.
    pub fn new(name: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let root = std::env::temp_dir().join(format!("sup-e2e-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("config")).unwrap();
        std::fs::create_dir_all(root.join("bin")).unwrap();
        let root = root.canonicalize().unwrap();
        for bin in BINARIES {
            symlink(bin_dir().join(bin), root.join("bin").join(bin)).unwrap();
        }
        let port = free_port();
        let sim = format!(
            "port = {port}\nseed = 7\nspeed = 3600.0\nbackfill_days = 4.0\n\n[[accounts]]\nname = \"demo\"\n\
             api_key = \"{key}\"\napi_secret = \"{secret}\"\nfutures_usdt = \"10000\"\n[accounts.spot]\nUSDT = \"10000\"\n",
            key = "exsimTestKey0123456789abcdef0123456789abcdef0123456789abcdef0123",
            secret = "exsimTestSecret0123456789abcdef0123456789abcdef0123456789abcdef",
        );
        std::fs::write(root.join("config/exchange_sim.toml"), sim).unwrap();
        std::fs::write(
            root.join("config/futures_agent.toml"),
            "venue = \"sim\"\nsim_config = \"config/exchange_sim.toml\"\nlog_dir = \"logs\"\nrun_dir = \"run\"\n",
        )
        .unwrap();
        // The sim's four days of backfill cover these warm-ups (the shipped ones need a month).
        std::fs::write(
            root.join("config/main_agent.toml"),
            "venue = \"sim\"\nsim_config = \"config/exchange_sim.toml\"\nlog_dir = \"logs\"\nrun_dir = \"run\"\n\
             [regime]\nvol_rank_window = 200\nvol_rank_min = 48\n[gate]\nmin_train_samples = 200\n",
        )
        .unwrap();
        std::fs::write(root.join("config/supervisor.toml"), SUPERVISOR_TOML).unwrap();
        Self { root, port }
    }

    /// A path in the sandbox.
    pub fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// `supervisor --root ROOT ARGS` as a command, run in the root.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(self.path("bin/supervisor"));
        command.arg("--root").arg(&self.root).args(args).current_dir(&self.root).stdin(Stdio::null());
        command
    }

    /// Runs `supervisor ARGS` to completion.
    pub fn run(&self, args: &[&str]) -> Outcome {
        Outcome::of(self.command(args).output().unwrap())
    }

    /// Runs `./dual_agent.sh ARGS` from a copy in the root, on the sandbox's binaries.
    pub fn script(&self, args: &[&str]) -> Outcome {
        let script = self.path("dual_agent.sh");
        if !script.exists() {
            std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("dual_agent.sh"), &script).unwrap();
        }
        let output = Command::new("bash")
            .arg(&script)
            .args(args)
            .env("DUAL_AGENT_BIN_DIR", self.path("bin"))
            .current_dir(&self.root)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        Outcome::of(output)
    }

    /// The PID in a PID file of `run/`, if there is one.
    pub fn pid(&self, name: &str) -> Option<u32> {
        std::fs::read_to_string(self.path(&format!("run/{name}.pid"))).ok()?.trim().parse().ok()
    }

    /// The live processes working in the root, as (pid, command name).
    pub fn processes(&self) -> Vec<(u32, String)> {
        std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| std::fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| cwd == self.root))
            .filter(|pid| !is_zombie(*pid))
            .map(|pid| {
                (
                    pid,
                    std::fs::read_to_string(format!("/proc/{pid}/comm"))
                        .unwrap_or_default()
                        .trim()
                        .to_owned(),
                )
            })
            .collect()
    }

    /// The live processes of the root whose command name is `name`.
    pub fn processes_named(&self, name: &str) -> Vec<u32> {
        self.processes().into_iter().filter(|(_, comm)| comm == name).map(|(pid, _)| pid).collect()
    }
}

/// True when `pid` is a zombie (dead, not yet reaped) or gone.
pub fn is_zombie(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return true };
    stat.rfind(')').and_then(|i| stat[i + 1..].split_whitespace().next()).is_none_or(|state| state == "Z")
}

/// True when process group `pgid` has live members.
pub fn group_alive(pgid: u32) -> bool {
    std::fs::read_dir("/proc").unwrap().filter_map(Result::ok).any(|e| {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { return false };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
        let Some(fields) = stat.rfind(')').map(|i| stat[i + 1..].split_whitespace().collect::<Vec<_>>())
        else {
            return false;
        };
        fields.first() != Some(&"Z") && fields.get(2).and_then(|g| g.parse::<u32>().ok()) == Some(pgid)
    })
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        for (pid, _) in self.processes() {
            let target = Pid::from_raw(i32::try_from(pid).unwrap());
            if nix::unistd::getpgid(Some(target)) == Ok(target) {
                let _ = killpg(target, Signal::SIGKILL);
            }
            let _ = kill(target, Signal::SIGKILL);
        }
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

/// A finished command: exit code and output.
#[derive(Debug)]
pub struct Outcome {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Outcome {
    /// From a process's output.
    pub fn of(output: Output) -> Self {
        Self {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Panics with both streams unless the exit code is `code`.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code {} (wanted {code})\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    /// Both streams.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// A child process killed when dropped, unless it was waited for with [`ChildGuard::finish`].
pub struct ChildGuard(Option<Child>);

impl ChildGuard {
    /// Guards `child`.
    pub fn new(child: Child) -> Self {
        Self(Some(child))
    }

    /// Its PID.
    pub fn id(&self) -> u32 {
        self.0.as_ref().map_or(0, Child::id)
    }

    /// True while it runs.
    pub fn running(&mut self) -> bool {
        self.0.as_mut().is_some_and(|c| c.try_wait().unwrap().is_none())
    }

    /// Waits up to `limit` for it to exit (panicking after, the guard killing it), and returns
    /// its output (when piped).
    pub fn finish(mut self, limit: Duration) -> Outcome {
        wait_for("the process to exit", limit, || !self.running());
        Outcome::of(self.0.take().unwrap().wait_with_output().unwrap())
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
