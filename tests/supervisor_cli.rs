//! Bad input to `supervisor` and `./dual_agent.sh`: unknown agents and subcommands give the usage
//! and exit 2; a missing binary or config is named (exit 2); a bad supervisor.toml lists every
//! problem with its file and key (exit 2); a port taken by a stranger is named by `doctor` and
//! `start` (exit 1). Nothing here starts an agent.
// Test helpers outside #[test] functions unwrap too: a failure is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod supervisor_support;

use std::net::TcpListener;

use supervisor_support::Sandbox;

#[test]
fn unknown_agents_and_subcommands_give_the_usage_and_exit_2() {
    let sandbox = Sandbox::new("usage");
    for args in [&["start", "spot"][..], &["frobnicate"], &["status", "--verbose"], &[]] {
        let out = sandbox.run(args);
        out.expect_code(2);
        assert!(out.stderr.contains("Usage:"), "{args:?}: {}", out.all());
    }
    let out = sandbox.run(&["logs", "futures", "-n", "many"]);
    out.expect_code(2);
    assert!(out.stderr.contains("many"), "{}", out.all());

    for args in [&["bogus"][..], &["futures", "bogus"], &[]] {
        let out = sandbox.script(args);
        out.expect_code(2);
        assert!(out.stderr.contains("Usage: ./dual_agent.sh"), "{args:?}: {}", out.all());
    }
    let out = sandbox.script(&["start", "spot"]);
    out.expect_code(2);
    assert!(out.stderr.contains("spot"), "{}", out.all());
    let help = sandbox.script(&["-h"]);
    help.expect_code(0);
    assert!(help.stdout.contains("./dual_agent.sh futures stop"), "{}", help.all());
    sandbox.run(&["--help"]).expect_code(0);
}

#[test]
fn a_missing_binary_or_config_is_named() {
    let sandbox = Sandbox::new("missing");
    std::fs::remove_file(sandbox.path("bin/main-agent")).unwrap();
    let out = sandbox.run(&["start", "main"]);
    out.expect_code(2);
    let wanted =
        format!("main-agent is not installed: no binary at {}", sandbox.path("bin/main-agent").display());
    assert!(out.stderr.contains(&wanted), "{}", out.all());
    let status = sandbox.run(&["status", "main"]);
    status.expect_code(3);
    assert!(status.stdout.contains("not installed"), "{}", status.all());

    // A main-agent binary without `run` (an old build) is not started, and `all` leaves it out.
    let main_agent = sandbox.path("bin/main-agent");
    std::fs::write(&main_agent, "#!/bin/sh\necho \"error: unrecognized subcommand '$1'\" >&2\nexit 2\n")
        .unwrap();
    std::fs::set_permissions(&main_agent, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = sandbox.run(&["start", "main"]);
    out.expect_code(2);
    assert!(out.stderr.contains("main-agent has no live `run` command yet"), "{}", out.all());
    let status = sandbox.run(&["status"]);
    assert!(status.stdout.contains("main-agent     backtest only"), "{}", status.all());
    std::fs::remove_file(&main_agent).unwrap();

    std::fs::remove_file(sandbox.path("bin/exchange-sim")).unwrap();
    let out = sandbox.run(&["start"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains(&format!("no binary at {}", sandbox.path("bin/exchange-sim").display())),
        "{}",
        out.all()
    );

    std::fs::remove_file(sandbox.path("config/futures_agent.toml")).unwrap();
    let out = sandbox.run(&["start", "futures"]);
    out.expect_code(2);
    let wanted = format!("{}: config file not found", sandbox.path("config/futures_agent.toml").display());
    assert!(out.stderr.contains(&wanted), "{}", out.all());

    std::fs::remove_file(sandbox.path("bin/futures-agent")).unwrap();
    let out = sandbox.run(&["start"]);
    out.expect_code(2);
    assert!(out.stderr.contains("no agent is installed"), "{}", out.all());
    assert_eq!(sandbox.processes(), Vec::<(u32, String)>::new());
}

#[test]
fn a_bad_supervisor_config_lists_every_problem_with_file_and_key() {
    let sandbox = Sandbox::new("bad-config");
    let path = sandbox.path("config/supervisor.toml");
    std::fs::write(&path, "stop_grace = -1\nmax_quick_deaths = 0\ncheck_interval = 0\n").unwrap();
    let out = sandbox.run(&["status"]);
    out.expect_code(2);
    assert!(out.stderr.contains(&format!("{}: 3 problems", path.display())), "{}", out.all());
    for key in ["stop_grace", "max_quick_deaths", "check_interval"] {
        assert!(out.stderr.contains(key), "{key}: {}", out.all());
    }
    std::fs::write(&path, "stop_grace = 5\nrestart_after = 3\n").unwrap();
    let out = sandbox.run(&["stop"]);
    out.expect_code(2);
    assert!(out.stderr.contains("restart_after") && out.stderr.contains("line 2"), "{}", out.all());
    let out = sandbox.run(&["--config", "nowhere.toml", "status"]);
    out.expect_code(2);
    assert!(out.stderr.contains("nowhere.toml: cannot read"), "{}", out.all());
}

#[test]
fn a_port_taken_by_a_stranger_is_named_and_not_used() {
    let sandbox = Sandbox::new("port");
    let _stranger = TcpListener::bind(("127.0.0.1", sandbox.port)).unwrap();
    let doctor = sandbox.run(&["doctor"]);
    doctor.expect_code(1);
    let wanted = format!("FAIL  exchange-sim port {}: in use by another process", sandbox.port);
    assert!(doctor.stdout.contains(&wanted), "{}", doctor.all());
    let start = sandbox.run(&["start"]);
    start.expect_code(1);
    assert!(
        start.stderr.contains(&format!("port {} is in use by another process", sandbox.port)),
        "{}",
        start.all()
    );
    assert_eq!(sandbox.processes(), Vec::<(u32, String)>::new());
}
