//! Helpers for the end-to-end tests: the workspace's binaries (built by `cargo test --workspace`,
//! built here when missing), child processes that die with the test, exchange-sim started as a
//! real process on a free loopback port, raw HTTP/1.0 calls to its admin API, and futures-agent
//! trading on it ([`FuturesWorld`]).

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
        Self::start_at(dir, "2026-01-01T00:00:00Z", extra)
    }

    /// [`Sim::start`] with the market clock starting at `start_time` (RFC 3339).
    pub fn start_at(dir: &Path, start_time: &str, extra: &str) -> Self {
        let port = free_port();
        let config = dir.join("sim.toml");
        std::fs::write(
            &config,
            format!(
                "port = {port}\nseed = 7\nspeed = 0.0\nstart_time = \"{start_time}\"\nbackfill_days = 4.0\n{extra}\n\
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

/// futures-agent and exchange-sim as real processes in one temp dir, the simulator stepped through
/// its admin API.
#[derive(Debug)]
pub struct FuturesWorld {
    /// The temp dir both run in.
    pub dir: PathBuf,
    /// The simulator's port.
    pub port: u16,
    /// The simulator.
    pub sim: Sim,
    /// The agent, while running.
    pub agent: Option<Proc>,
}

impl FuturesWorld {
    /// A stepped simulator (volatility 2) in a fresh temp dir, and the agent's config for it.
    pub fn new(name: &str) -> Self {
        let dir = temp_dir(name);
        let sim = Sim::start(&dir, "volatility = 2.0");
        Self::on(dir, sim)
    }

    /// The agent's config in `dir`, for `sim` (started in `dir`).
    pub fn on(dir: PathBuf, sim: Sim) -> Self {
        std::fs::write(
            dir.join("futures.toml"),
            "venue = \"sim\"\nsim_config = \"sim.toml\"\nlog_dir = \"logs\"\nrun_dir = \"run\"\n",
        )
        .unwrap();
        Self { dir, port: sim.port, sim, agent: None }
    }

    /// Adds `lines` (TOML) to the agent's config.
    pub fn with_config(self, lines: &str) -> Self {
        let path = self.dir.join("futures.toml");
        let mut config = std::fs::read_to_string(&path).unwrap();
        config.push_str(lines);
        std::fs::write(&path, config).unwrap();
        self
    }

    /// Starts the agent and waits until its status says ready.
    pub fn start_agent(&mut self) {
        self.spawn_agent();
        let status = self.dir.join("run/futures-agent.status.json");
        wait_for("the agent to be ready", Duration::from_secs(60), || {
            self.assert_agent_alive();
            read_json(&status).is_some_and(|s| s["ready"] == true)
        });
    }

    /// Starts the agent without waiting for it.
    pub fn spawn_agent(&mut self) {
        let _ = std::fs::remove_file(self.dir.join("run/futures-agent.status.json"));
        let child = Command::new(binary("futures-agent"))
            .args(["run", "--config", "futures.toml"])
            .current_dir(&self.dir)
            .env_remove("TELEGRAM_BOT_TOKEN")
            .env_remove("DISCORD_WEBHOOK_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.agent = Some(Proc(child));
    }

    /// Panics with the agent's log if it has exited.
    pub fn assert_agent_alive(&mut self) {
        if let Some(Proc(child)) = self.agent.as_mut()
            && let Ok(Some(code)) = child.try_wait()
        {
            let log = std::fs::read_to_string(self.dir.join("logs/futures_agent.log")).unwrap_or_default();
            panic!("the agent exited with {code}; its log:\n{log}");
        }
    }

    /// kill -9.
    pub fn kill_agent(&mut self) {
        if let Some(mut agent) = self.agent.take() {
            agent.0.kill().unwrap();
            agent.0.wait().unwrap();
        }
    }

    /// Steps the market one hour, waits until the agent has processed that close, then lets the
    /// venue and the journal [`settle`](Self::settle).
    pub fn step_hour(&mut self) -> i64 {
        let now = self.step_to_close();
        self.settle();
        now
    }

    /// Steps the market one hour and waits until the agent has processed that close.
    pub fn step_to_close(&mut self) -> i64 {
        let now = http(self.port, "POST", "/sim/step?bars=1&interval=1h")["marketTime"].as_i64().unwrap();
        let status = self.dir.join("run/futures-agent.status.json");
        wait_for("the agent to see the close", Duration::from_secs(30), || {
            self.assert_agent_alive();
            read_json(&status).is_some_and(|s| s["last_activity_ms"].as_i64() >= Some(now))
        });
        now
    }

    /// Waits (up to a few seconds, without failing) until the agent's view and the venue's agree:
    /// the same positions in the journal as on the venue, each with its three resting orders. An
    /// hour passes between bars in real time; stepping the next one before the fills of this one
    /// arrive would not be realistic. (The journal, not the status file: the status is rewritten
    /// at the next bar or within seconds, the journal as each fill arrives.)
    pub fn settle(&mut self) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            let venue = venue_positions(&self.sim_account());
            let ours = self.journal_positions();
            let same = venue.len() == ours.len()
                && venue.iter().all(|(symbol, amount, resting)| {
                    *resting == 3 && ours.get(symbol).is_some_and(|q| Some(*q) == amount.parse().ok())
                });
            if same {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Signed position per symbol from the journal's fills (a fill rebuilt from a query stands
    /// for executions the stream lost); flat symbols left out.
    pub fn journal_positions(&self) -> std::collections::BTreeMap<String, rust_decimal::Decimal> {
        let mut net: std::collections::BTreeMap<String, rust_decimal::Decimal> =
            std::collections::BTreeMap::new();
        for r in self.journal().iter().filter(|r| r["kind"] == "fill" || r["kind"] == "fill_rebuilt") {
            let qty: rust_decimal::Decimal =
                r["qty"].as_str().and_then(|q| q.parse().ok()).unwrap_or_default();
            let signed = if r["side"] == "BUY" { qty } else { -qty };
            *net.entry(r["symbol"].as_str().unwrap_or("").to_owned()).or_default() += signed;
        }
        net.retain(|_, q| !q.is_zero());
        net
    }

    /// Every journal record.
    pub fn journal(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.join("logs/futures_trades.jsonl"))
            .unwrap_or_default()
            .lines()
            // A line being written (or torn by a kill -9) is not a record yet.
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// The journal records of one kind.
    pub fn kinds(&self, kind: &str) -> Vec<Value> {
        self.journal().into_iter().filter(|r| r["kind"] == kind).collect()
    }

    /// The demo account on the simulator.
    pub fn sim_account(&self) -> Value {
        self.sim.account()
    }
}

/// True when the venue's signed `amount` ("-0.21") and the agent's `qty` ("0.210") are the same
/// size, whatever trailing zeros either prints.
pub fn same_qty(amount: &str, qty: &str) -> bool {
    let parse = |text: &str| text.trim_start_matches('-').parse::<rust_decimal::Decimal>().ok();
    parse(amount).is_some_and(|a| Some(a) == parse(qty))
}

/// Positions on the simulator by symbol: (signed amount, number of resting algo orders).
pub fn venue_positions(account: &Value) -> Vec<(String, String, usize)> {
    let algos = account["algoOrders"].as_array().cloned().unwrap_or_default();
    account["futures"]["positions"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|p| p["positionAmt"].as_str().is_some_and(|a| a.trim_start_matches('-') != "0"))
        .map(|p| {
            let symbol = p["symbol"].as_str().unwrap().to_owned();
            let resting = algos.iter().filter(|a| a["symbol"] == symbol.as_str()).count();
            (symbol, p["positionAmt"].as_str().unwrap().to_owned(), resting)
        })
        .collect()
}

/// A simulator fault for the fault-survival tests: the admin calls that start it, and whether it
/// only shows on an order (then it stays armed, an hour at a time, until the simulator has used
/// it up).
pub struct Fault {
    /// What it is, for the test's output.
    pub name: &'static str,
    /// Admin API calls (POST) that start it.
    pub start: &'static [&'static str],
    /// True when it acts on an order.
    pub hits_orders: bool,
}
