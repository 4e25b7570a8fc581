//! Helpers for the end-to-end tests: the workspace's binaries (built by `cargo test --workspace`,
//! built here when missing), child processes that die with the test, exchange-sim started as a
//! real process on a free loopback port, and raw HTTP/1.0 calls to its admin API.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // each test file uses a part; test code

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A child process killed (and reaped) when dropped.
#[derive(Debug)]
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port free on 127.0.0.1 a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The path of workspace binary `name` in this test's target dir, built (or brought up to date)
/// once per test process: `cargo test --test X` builds only this package's dependencies, not
/// the other packages' binaries, which could otherwise be stale.
pub fn binary(name: &str) -> PathBuf {
    static BUILT: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    // target/<profile>/deps/<test>-<hash>: the binaries are two levels up.
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
    let mut built = BUILT.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if !built.iter().any(|b| b == name) {
        let mut cargo = Command::new(env!("CARGO"));
        cargo.args(["build", "-q", "-p", name, "--bin", name]);
        if dir.file_name().is_some_and(|p| p == "release") {
            cargo.arg("--release");
        }
        let status = cargo.status().unwrap();
        assert!(status.success(), "cargo build -p {name} failed");
        built.push(name.to_owned());
    }
    dir.join(name)
}

/// Polls `ready` every 25 ms until it holds; panics naming `what` after `deadline`.
pub fn wait_for(what: &str, deadline: Duration, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < deadline, "timed out after {deadline:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// A fresh temp dir for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dual-agent-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The demo credentials written into every test sim config.
pub const API_KEY: &str = "testkey";
/// The secret of [`API_KEY`].
pub const API_SECRET: &str = "testsecret";

/// exchange-sim as a real process.
#[derive(Debug)]
pub struct Sim {
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Its config file.
    pub config: PathBuf,
    _proc: Proc,
}

impl Sim {
    /// Starts exchange-sim in `dir` with a stepped clock (`speed = 0`) and `extra` config lines.
    pub fn start(dir: &Path, extra: &str) -> Self {
        let port = free_port();
        let config = dir.join("sim.toml");
        std::fs::write(
            &config,
            format!(
                "port = {port}\nseed = 7\nspeed = 0.0\nstart_time = \"2026-01-01T00:00:00Z\"\nbackfill_days = 4.0\n{extra}\n\
                 [[accounts]]\nname = \"demo\"\napi_key = \"{API_KEY}\"\napi_secret = \"{API_SECRET}\"\nfutures_usdt = \"10000\"\n\
                 [accounts.spot]\nUSDT = \"10000\"\n"
            ),
        )
        .unwrap();
        let mut child = Command::new(binary("exchange-sim"))
            .arg("--config")
            .arg(&config)
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let listening = BufReader::new(stdout).lines().any(|l| l.is_ok_and(|l| l.contains("listening on")));
        assert!(listening, "exchange-sim did not start");
        Self { port, config, _proc: Proc(child) }
    }

    /// One admin call; the JSON answer.
    pub fn admin(&self, method: &str, path: &str) -> Value {
        http(self.port, method, path)
    }

    /// The demo account's state (`GET /sim/state`).
    pub fn account(&self) -> Value {
        self.admin("GET", "/sim/state")["accounts"][0].clone()
    }
}

/// One HTTP/1.0 request (no keep-alive, no chunking); the JSON body.
pub fn http(port: u16, method: &str, path: &str) -> Value {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(stream, "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n").unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{method} {path}: {e}: {text}"))
}

/// A JSON file, if it exists and parses.
pub fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}
