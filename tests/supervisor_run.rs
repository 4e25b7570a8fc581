//! `supervisor run`, the foreground mode for systemd, with real processes: it notifies systemd
//! (READY=1, WATCHDOG=1, STOPPING=1 on a notification socket the test binds), shows a killed
//! agent as `stale` and starts it again, leaves an agent a person stopped alone until it is
//! started again, passes SIGHUP on, stops everything on SIGTERM, and gives up on an agent that
//! keeps dying, saying so. A stale PID file naming a live process that is not ours is never
//! signalled.
// Test helpers outside #[test] functions unwrap too: a failure is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod supervisor_support;

use std::fs::Permissions;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use supervisor_support::{ChildGuard, SUPERVISOR_TOML, Sandbox, wait_for};

fn pid_of(pid: u32) -> Pid {
    Pid::from_raw(i32::try_from(pid).unwrap())
}

/// Receives notifications until one contains `wanted`; returns everything received.
fn receive_until(socket: &UnixDatagram, wanted: &str, limit: Duration) -> String {
    socket.set_read_timeout(Some(limit)).unwrap();
    let mut seen = String::new();
    let mut buf = [0u8; 512];
    while !seen.contains(wanted) {
        let n = socket
            .recv(&mut buf)
            .unwrap_or_else(|e| panic!("no {wanted} within {limit:?} (got {seen:?}): {e}"));
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        seen.push('\n');
    }
    seen
}

#[test]
fn run_restarts_a_killed_agent_and_stops_everything_on_sigterm() {
    let sandbox = Sandbox::new("run");
    let socket_path = sandbox.path("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    let output = sandbox.path("run.out");
    let said = |line: &str| std::fs::read_to_string(&output).unwrap_or_default().contains(line);
    let run = ChildGuard::new(
        sandbox
            .command(&["run"])
            .env("NOTIFY_SOCKET", &socket_path)
            .env("WATCHDOG_USEC", "400000")
            .stdout(std::fs::File::create(&output).unwrap())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    receive_until(&socket, "READY=1", Duration::from_secs(30));
    receive_until(&socket, "WATCHDOG=1", Duration::from_secs(5));
    sandbox.run(&["status"]).expect_code(0);
    let first = sandbox.pid("futures-agent").unwrap();

    kill(pid_of(first), Signal::SIGKILL).unwrap();
    wait_for("the killed agent to release its lock", Duration::from_secs(5), || {
        sandbox.processes_named("futures-agent").is_empty()
    });
    // restart_backoff is 2 s: the stale PID file is there until then.
    let stale = sandbox.run(&["status", "futures"]);
    stale.expect_code(3);
    assert!(
        stale.stdout.contains("stale") && stale.stdout.contains(&format!("({first})")),
        "{}",
        stale.all()
    );
    wait_for("run to start the agent again", Duration::from_secs(30), || {
        sandbox.pid("futures-agent").is_some_and(|p| p != first) && sandbox.run(&["status"]).code == 0
    });
    assert!(said("futures-agent died") && said("restarting futures-agent in 2.0 s"));

    // What a person stops stays stopped until a person starts it.
    sandbox.run(&["stop", "futures"]).expect_code(0);
    wait_for("run to leave the stopped agent alone", Duration::from_secs(10), || {
        said("futures-agent was stopped with `supervisor stop`; not restarting it")
    });
    sandbox.run(&["status", "futures"]).expect_code(3);
    sandbox.run(&["start", "futures"]).expect_code(0);
    wait_for("run to watch it again", Duration::from_secs(10), || {
        said("futures-agent is running again; watching it")
    });

    // SIGHUP is passed on; SIGTERM stops everything.
    kill(pid_of(run.id()), Signal::SIGHUP).unwrap();
    let log = sandbox.path("logs/futures_agent.log");
    wait_for("the agent to reload", Duration::from_secs(10), || {
        std::fs::read_to_string(&log).unwrap().contains("SIGHUP: config reloaded")
    });
    assert!(said("SIGHUP passed on to futures-agent"));
    kill(pid_of(run.id()), Signal::SIGTERM).unwrap();
    receive_until(&socket, "STOPPING=1", Duration::from_secs(10));
    let out = run.finish(Duration::from_secs(20));
    out.expect_code(0);
    assert!(
        said("futures-agent: stopped (SIGTERM)") && said("exchange-sim: stopped (SIGTERM)"),
        "{}",
        out.all()
    );
    assert_eq!(sandbox.processes(), Vec::<(u32, String)>::new());
}

#[test]
fn run_gives_up_on_an_agent_that_keeps_dying() {
    let sandbox = Sandbox::new("give-up");
    // Only a futures-agent, which fails at once, trading elsewhere than on the simulator.
    std::fs::remove_file(sandbox.path("bin/main-agent")).unwrap();
    let fake = sandbox.path("fake/futures-agent");
    std::fs::create_dir_all(fake.parent().unwrap()).unwrap();
    // It has a `run` command (so it counts as installed), and fails in it.
    let body = "#!/bin/sh\n[ \"$2\" = --help ] && exit 0\necho \"fake agent: cannot trade\"\nexit 7\n";
    std::fs::write(&fake, body).unwrap();
    std::fs::set_permissions(&fake, Permissions::from_mode(0o755)).unwrap();
    std::fs::remove_file(sandbox.path("bin/futures-agent")).unwrap();
    std::os::unix::fs::symlink(&fake, sandbox.path("bin/futures-agent")).unwrap();
    std::fs::write(sandbox.path("config/futures_agent.toml"), "venue = \"binance-demo\"\n").unwrap();
    std::fs::write(
        sandbox.path("config/supervisor.toml"),
        SUPERVISOR_TOML.replace("restart_backoff = 2", "restart_backoff = 0.05"),
    )
    .unwrap();

    let start = sandbox.run(&["start", "futures"]);
    start.expect_code(1);
    assert!(start.stderr.contains("futures-agent exited with code 7 before it was ready"), "{}", start.all());
    assert!(start.stderr.contains("fake agent: cannot trade"), "{}", start.all());

    let run = ChildGuard::new(
        sandbox.command(&["run"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap(),
    );
    let out = run.finish(Duration::from_secs(20));
    out.expect_code(1);
    assert!(
        out.stdout.contains("giving up on futures-agent: it died 3 times in a row within 5 s of starting"),
        "{}",
        out.all()
    );
    assert_eq!(out.stdout.matches("restarting futures-agent").count(), 2, "{}", out.all());
    assert!(
        !out.stdout.contains("exchange-sim"),
        "no simulator for an agent that does not trade on it\n{}",
        out.all()
    );
}

#[test]
fn a_stale_pid_file_naming_a_live_bystander_is_never_signalled() {
    let sandbox = Sandbox::new("bystander");
    let mut bystander = ChildGuard::new(
        Command::new("sleep").arg("60").current_dir(&sandbox.root).stdin(Stdio::null()).spawn().unwrap(),
    );
    let pid = bystander.id();
    std::fs::create_dir_all(sandbox.path("run")).unwrap();
    std::fs::write(sandbox.path("run/futures-agent.pid"), format!("{pid}\n")).unwrap();

    let status = sandbox.run(&["status", "futures"]);
    status.expect_code(3);
    assert!(status.stdout.contains("stale") && status.stdout.contains("not signalled"), "{}", status.all());
    for command in [&["reload", "futures"][..], &["flatten", "futures", "--yes"]] {
        sandbox.run(command).expect_code(3);
    }
    let stop = sandbox.run(&["stop", "futures"]);
    stop.expect_code(0);
    assert!(
        stop.stdout.contains(&format!("stale PID file naming PID {pid}, not signalled")),
        "{}",
        stop.all()
    );
    assert!(bystander.running(), "the bystander was signalled");
    assert!(!sandbox.path("run/futures-agent.pid").exists(), "the stale file is removed");
}
