//! The `exchange-sim` binary as a real process: the machine-readable "listening" line, SIGTERM
//! saving `--state` and exiting 0, and a bad config exiting 2 with the key named.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn sim(dir: &Path, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_exchange-sim"));
    command.current_dir(dir).args(["--port", "0", "--speed", "0", "--backfill-days", "0.1"]).args(extra);
    command
}

/// Starts the binary and returns it with the URL from its "listening" line.
fn spawn(dir: &Path, extra: &[&str]) -> (Child, String) {
    let mut child = sim(dir, extra).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line
        .trim()
        .strip_prefix("exchange-sim listening on ")
        .unwrap_or_else(|| panic!("unexpected line {line:?}"))
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    (child, url)
}

fn terminate(mut child: Child) -> i32 {
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code().unwrap_or(-1);
        }
        assert!(Instant::now() < deadline, "did not exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}

async fn get(url: &str) -> serde_json::Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn sigterm_saves_state_and_exits_zero() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let dir = std::env::temp_dir().join(format!("exsim-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("state.json");
    let state_arg = state.to_str().unwrap();
    let (child, url) = spawn(&dir, &["--state", state_arg]);
    assert_eq!(get(&format!("{url}/api/v3/ping")).await, serde_json::json!({}));
    let client = reqwest::Client::new();
    let stepped: serde_json::Value =
        client.post(format!("{url}/sim/step?seconds=3600")).send().await.unwrap().json().await.unwrap();
    assert_eq!(terminate(child), 0);
    assert!(state.exists());
    let (child, url) = spawn(&dir, &["--state", state_arg]);
    let after = get(&format!("{url}/sim/state")).await;
    assert_eq!(after["clock"]["marketTime"], stepped["marketTime"], "the clock came back");
    assert_eq!(terminate(child), 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_config_exits_two_and_names_the_key() {
    let dir = std::env::temp_dir().join(format!("exsim-cli-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("bad.toml");
    std::fs::write(&config, "tick_seconds = 7\n").unwrap();
    let output = sim(&dir, &["--config", config.to_str().unwrap()]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("tick_seconds") && stderr.contains("bad.toml"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}
