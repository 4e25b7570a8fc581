//! The supervisor with real processes in a temp folder: `./dual_agent.sh start` starts
//! exchange-sim and both agents, `status` shows them, `futures stop` stops only that agent,
//! starting a running agent is a no-op, `stop` leaves no process behind, two supervisors racing
//! to start an agent start it once, and `reload` / `flatten` reach the agent. How the binaries
//! are found and built: tests/supervisor_support/mod.rs.
// Test helpers outside #[test] functions unwrap too: a failure is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod supervisor_support;

use std::process::Stdio;
use std::time::Duration;

use supervisor_support::{Outcome, Sandbox, group_alive, wait_for};

fn status_json(sandbox: &Sandbox, target: &str) -> serde_json::Value {
    let out = sandbox.run(&["status", target, "--json"]);
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("status --json: {e}\n{}", out.all()))
}

fn state_of(status: &serde_json::Value, name: &str) -> String {
    let rows = status["components"].as_array().unwrap();
    let row = rows.iter().find(|r| r["name"] == name).unwrap_or_else(|| panic!("{name} missing: {status}"));
    row["state"].as_str().unwrap().to_owned()
}

#[test]
fn start_status_stop_through_dual_agent_sh() {
    let sandbox = Sandbox::new("lifecycle");
    let out = sandbox.script(&["start"]);
    out.expect_code(0);
    assert!(out.stdout.contains("exchange-sim: started"), "{}", out.all());
    assert!(out.stdout.contains("futures-agent: started"), "{}", out.all());
    assert!(out.stdout.contains("main-agent: started"), "{}", out.all());
    let agent = sandbox.pid("futures-agent").unwrap();
    let main_agent = sandbox.pid("main-agent").unwrap();
    let sim = sandbox.pid("exchange-sim").unwrap();

    let status = sandbox.run(&["status"]);
    status.expect_code(0);
    for expected in ["futures-agent  running", "exchange-sim   running", "main-agent     running", "sim/live"]
    {
        assert!(status.stdout.contains(expected), "{expected:?} missing from\n{}", status.stdout);
    }
    let json = status_json(&sandbox, "all");
    assert_eq!(json["all_running"], true);
    let row = |name: &str| {
        json["components"].as_array().unwrap().iter().find(|r| r["name"] == name).cloned().unwrap()
    };
    let futures = row("futures-agent");
    assert_eq!(futures["pid"], agent);
    assert_eq!(row("main-agent")["pid"], main_agent);
    assert!(futures["rss_bytes"].as_u64().unwrap() > 0, "{json}");

    // Starting a running agent is a no-op; both word orders of the seed work.
    let again = sandbox.script(&["start", "main"]);
    again.expect_code(0);
    assert!(again.stdout.contains("main-agent: already running"), "{}", again.all());
    assert_eq!(sandbox.pid("main-agent"), Some(main_agent));
    let again = sandbox.script(&["start", "futures"]);
    again.expect_code(0);
    assert!(again.stdout.contains("futures-agent: already running"), "{}", again.all());
    assert_eq!(sandbox.pid("futures-agent"), Some(agent));
    sandbox.script(&["futures", "status"]).expect_code(0);
    let logs = sandbox.script(&["futures", "logs", "-n", "3"]);
    logs.expect_code(0);
    assert_eq!(logs.stdout.lines().count(), 3, "{}", logs.all());
    // Lines of the agent's log: `2026-...Z  INFO target: message`.
    assert!(logs.stdout.lines().all(|l| l.starts_with("20") && l.contains("Z ")), "{}", logs.all());

    // reload reaches the agent; flatten without confirmation sends nothing.
    let reload = sandbox.run(&["reload", "futures"]);
    reload.expect_code(0);
    let log = sandbox.path("logs/futures_agent.log");
    wait_for("the agent to log its reload", Duration::from_secs(10), || {
        std::fs::read_to_string(&log).unwrap().contains("SIGHUP: config reloaded")
    });
    let refused = sandbox.run(&["flatten", "futures"]);
    refused.expect_code(1);
    assert!(refused.all().contains("flatten cancelled: nothing sent"), "{}", refused.all());
    assert!(!std::fs::read_to_string(&log).unwrap().contains("SIGUSR2"));

    let doctor = sandbox.run(&["doctor"]);
    doctor.expect_code(0);
    assert!(
        doctor.stdout.contains(&format!("port {}: answered by our exchange-sim", sandbox.port)),
        "{}",
        doctor.stdout
    );
    assert!(doctor.stdout.contains("futures-agent check passed"), "{}", doctor.stdout);

    // `futures stop` stops the agent alone.
    let stop = sandbox.script(&["futures", "stop"]);
    stop.expect_code(0);
    assert!(stop.stdout.contains("futures-agent: stopped (SIGTERM)"), "{}", stop.all());
    assert!(!group_alive(agent), "futures-agent's group is still there");
    assert_eq!(state_of(&status_json(&sandbox, "all"), "futures-agent"), "stopped");
    assert_eq!(state_of(&status_json(&sandbox, "all"), "exchange-sim"), "running");
    assert_eq!(state_of(&status_json(&sandbox, "all"), "main-agent"), "running");
    sandbox.run(&["status", "futures"]).expect_code(3);
    sandbox.run(&["status", "main"]).expect_code(0);
    sandbox.run(&["status", "sim"]).expect_code(0);
    let second = sandbox.script(&["futures", "stop"]);
    second.expect_code(0);
    assert!(second.stdout.contains("futures-agent: not running"), "{}", second.all());

    // `stop` stops the rest and leaves nothing behind.
    let stop_all = sandbox.script(&["stop"]);
    stop_all.expect_code(0);
    assert!(stop_all.stdout.contains("main-agent: stopped (SIGTERM)"), "{}", stop_all.all());
    assert!(stop_all.stdout.contains("exchange-sim: stopped (SIGTERM)"), "{}", stop_all.all());
    assert!(!group_alive(main_agent), "main-agent's group is still there");
    assert!(!group_alive(sim), "exchange-sim's group is still there");
    assert_eq!(sandbox.processes(), Vec::<(u32, String)>::new());
    assert!(!sandbox.path("run/exchange-sim.pid").exists());
    let again = sandbox.script(&["stop"]);
    again.expect_code(0);
    assert!(again.stdout.contains("exchange-sim: not running"), "{}", again.all());
    sandbox.script(&["status"]).expect_code(3);
}

#[test]
fn two_supervisors_racing_to_start_start_each_program_once() {
    let sandbox = Sandbox::new("race");
    let racers: Vec<_> = (0..2)
        .map(|_| {
            sandbox
                .command(&["start", "futures"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outcomes: Vec<_> = racers.into_iter().map(|c| Outcome::of(c.wait_with_output().unwrap())).collect();
    for out in &outcomes {
        out.expect_code(0);
    }
    let started = outcomes.iter().filter(|o| o.stdout.contains("futures-agent: started")).count();
    let no_op = outcomes.iter().filter(|o| o.stdout.contains("futures-agent: already running")).count();
    assert_eq!((started, no_op), (1, 1), "{outcomes:?}");
    assert_eq!(sandbox.processes_named("futures-agent").len(), 1, "{:?}", sandbox.processes());
    assert_eq!(sandbox.processes_named("exchange-sim").len(), 1, "{:?}", sandbox.processes());
    sandbox.run(&["stop"]).expect_code(0);
    assert_eq!(sandbox.processes(), Vec::<(u32, String)>::new());
}

#[test]
fn flatten_with_yes_reaches_the_agent() {
    let sandbox = Sandbox::new("flatten");
    sandbox.run(&["start"]).expect_code(0);
    let out = sandbox.run(&["flatten", "--yes"]);
    out.expect_code(0);
    assert!(out.stdout.contains("futures-agent: SIGUSR2 sent"), "{}", out.all());
    let log = sandbox.path("logs/futures_agent.log");
    wait_for("the agent to log the flatten", Duration::from_secs(10), || {
        std::fs::read_to_string(&log).unwrap().contains("SIGUSR2: emergency flatten")
    });
    sandbox.run(&["stop"]).expect_code(0);
    sandbox.run(&["flatten", "--yes"]).expect_code(3);
}
