//! main-agent and exchange-sim as real processes in a temp dir, on the simulator's 24 spot pairs,
//! its clock stepped an hour at a time: the agent warms up on the backfilled bars (regimes, the
//! gate fitted and saved), buys on signals, rests a stop-loss sell on the venue for every holding
//! and moves it up as the ATR stop ratchets, survives a kill -9 with the restart reconciling to
//! the same holdings (nothing bought twice, still protected), sells through its stops when prices
//! fall, and survives the simulator's faults in turn with the journal and the venue agreeing.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use serde_json::Value;
use support::{Fault, Proc, Sim, binary, http, read_json, temp_dir, wait_for};

/// The agent's test config: the shipped universe, with warm-up windows the simulator's four
/// days of backfill cover (the shipped ones need a month).
const CONFIG: &str = "venue = \"sim\"\nsim_config = \"sim.toml\"\nlog_dir = \"logs\"\nrun_dir = \"run\"\n\
[regime]\nvol_rank_window = 200\nvol_rank_min = 48\n\
[gate]\nmin_train_samples = 200\nretrain_every = 24\nthreshold = 0.3\n";

struct World {
    dir: PathBuf,
    port: u16,
    sim: Sim,
    agent: Option<Proc>,
}

impl World {
    fn new(name: &str) -> Self {
        let dir = temp_dir(name);
        let sim = Sim::start(&dir, "volatility = 2.0");
        std::fs::write(dir.join("main.toml"), CONFIG).unwrap();
        Self { dir, port: sim.port, sim, agent: None }
    }

    fn status_path(&self) -> PathBuf {
        self.dir.join("run/main-agent.status.json")
    }

    fn start_agent(&mut self) {
        self.start_agent_with(&[]);
    }

    fn start_agent_with(&mut self, extra: &[&str]) {
        let _ = std::fs::remove_file(self.status_path());
        let child = Command::new(binary("main-agent"))
            .args(["run", "--config", "main.toml"])
            .args(extra)
            .current_dir(&self.dir)
            .env_remove("TELEGRAM_BOT_TOKEN")
            .env_remove("DISCORD_WEBHOOK_URL")
            .env_remove("TB_PAPER_TRADING")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.agent = Some(Proc(child));
        let status = self.status_path();
        wait_for("the agent to be ready", Duration::from_secs(60), || {
            self.assert_agent_alive();
            read_json(&status).is_some_and(|s| s["ready"] == true)
        });
    }

    fn assert_agent_alive(&mut self) {
        if let Some(Proc(child)) = self.agent.as_mut()
            && let Ok(Some(code)) = child.try_wait()
        {
            let log = std::fs::read_to_string(self.dir.join("logs/main_agent.log")).unwrap_or_default();
            panic!("the agent exited with {code}; its log:\n{log}");
        }
    }

    fn kill_agent(&mut self) {
        if let Some(mut agent) = self.agent.take() {
            agent.0.kill().unwrap();
            agent.0.wait().unwrap();
        }
    }

    /// Steps the market one hour and waits until the agent has processed that close and the
    /// venue agrees with it.
    fn step_hour(&mut self) -> i64 {
        let now = http(self.port, "POST", "/sim/step?bars=1&interval=1h")["marketTime"].as_i64().unwrap();
        let status = self.status_path();
        wait_for("the agent to see the close", Duration::from_secs(30), || {
            self.assert_agent_alive();
            read_json(&status).is_some_and(|s| s["last_activity_ms"].as_i64() >= Some(now))
        });
        self.settle();
        now
    }

    /// Waits (a few seconds, without failing) until every holding in the status has its stop
    /// resting on the venue and nothing is in flight.
    fn settle(&mut self) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if self.protected().is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Ok when each holding of the status has exactly one resting STOP_LOSS sell on the venue for
    /// its quantity rounded down to the pair's step (what is left under one step, worth well under
    /// a dollar, is dust a venue does not sell), and the venue's balance covers it.
    fn protected(&self) -> Result<usize, String> {
        let status = read_json(&self.status_path()).ok_or("no status")?;
        let account = self.sim.account();
        let held = holdings(&status);
        let stops = venue_stops(&account);
        for (symbol, (qty, mark)) in &held {
            let resting: Vec<&Decimal> = stops.get(symbol).map(|v| v.iter().collect()).unwrap_or_default();
            let covered =
                resting.len() == 1 && resting[0] <= qty && (*qty - *resting[0]) * *mark < Decimal::ONE;
            if !covered {
                return Err(format!("{symbol}: holding {qty} at {mark}, resting stops {resting:?}"));
            }
            let base = symbol.trim_end_matches("USDT");
            let balance = spot_balance(&account, base);
            if balance < *qty {
                return Err(format!("{symbol}: holding {qty} but the venue has {balance} {base}"));
            }
        }
        if stops.keys().any(|s| !held.contains_key(s)) {
            return Err(format!("stops without a holding: {stops:?} vs {held:?}"));
        }
        Ok(held.len())
    }

    fn journal(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.join("logs/main_trades.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn kinds(&self, kind: &str) -> Vec<Value> {
        self.journal().into_iter().filter(|r| r["kind"] == kind).collect()
    }
}

fn dec(value: &Value) -> Decimal {
    value.as_str().and_then(|s| s.parse().ok()).unwrap_or_default()
}

/// Holdings in the status snapshot: symbol -> (quantity, mark).
fn holdings(status: &Value) -> BTreeMap<String, (Decimal, Decimal)> {
    status["positions"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|p| (p["symbol"].as_str().unwrap_or("").to_owned(), (dec(&p["qty"]), dec(&p["mark"]))))
        .collect()
}

/// Symbol -> quantity.
fn quantities(held: &BTreeMap<String, (Decimal, Decimal)>) -> BTreeMap<String, Decimal> {
    held.iter().map(|(s, (q, _))| (s.clone(), *q)).collect()
}

/// Resting spot stop-loss sells on the venue: symbol -> their quantities.
fn venue_stops(account: &Value) -> BTreeMap<String, Vec<Decimal>> {
    let mut out: BTreeMap<String, Vec<Decimal>> = BTreeMap::new();
    for order in account["openOrders"].as_array().cloned().unwrap_or_default() {
        let kind = order["type"].as_str().unwrap_or("");
        if order["side"] == "SELL" && kind.starts_with("STOP_LOSS") {
            let qty = dec(&order["origQty"]) - dec(&order["executedQty"]);
            out.entry(order["symbol"].as_str().unwrap_or("").to_owned()).or_default().push(qty);
        }
    }
    out
}

fn spot_balance(account: &Value, asset: &str) -> Decimal {
    let b = &account["spot"]["balances"][asset];
    dec(&b["free"]) + dec(&b["locked"])
}

#[test]
fn trades_24_pairs_protects_ratchets_survives_kill_9_and_stops_out() {
    let mut w = World::new("main-live");
    w.start_agent();
    let status = read_json(&w.status_path()).unwrap();
    assert_eq!(status["agent"], "main-agent");
    assert_eq!(status["mode"], "live");
    let regimes = status["regimes"].as_object().cloned().unwrap_or_default();
    assert!(regimes.len() >= 24, "a regime per pair and for the market in the status: {status}");

    // Entries on signals, each holding protected on the venue.
    let mut hours = 0;
    while w.kinds("position_opened").len() < 2 {
        w.step_hour();
        hours += 1;
        assert!(hours < 300, "fewer than two entries in 300 simulated hours");
    }
    wait_for("every holding protected on the venue", Duration::from_secs(20), || w.protected().is_ok());
    assert!(w.dir.join("run/main-agent.model.json").exists(), "the gate's model is saved in run_dir");

    // The stop ratchets: some stop is moved up (cancelled, then placed again higher) while held,
    // so there are more stop placements than entries.
    let placements = |w: &World, purpose: &str| {
        w.journal().iter().filter(|r| r["kind"] == "order_sent" && r["purpose"] == purpose).count()
    };
    while placements(&w, "stop_loss") <= w.kinds("position_opened").len() {
        w.step_hour();
        hours += 1;
        assert!(hours < 600, "no stop moved up in 600 simulated hours");
    }
    if let Err(e) = w.protected() {
        panic!("after a stop moved: {e}");
    }

    // kill -9 with holdings, restart: the same holdings, still protected, nothing bought again.
    while w.protected().map_or(true, |n| n == 0) {
        w.step_hour();
        hours += 1;
        assert!(hours < 900, "no holding to kill the agent over");
    }
    let entries_before =
        w.journal().iter().filter(|r| r["kind"] == "order_sent" && r["purpose"] == "entry").count();
    let before = quantities(&holdings(&read_json(&w.status_path()).unwrap()));
    w.kill_agent();
    w.start_agent();
    let after = quantities(&holdings(&read_json(&w.status_path()).unwrap()));
    assert_eq!(after, before, "the restart changed the holdings");
    if let Err(e) = w.protected() {
        panic!("after the restart: {e}");
    }
    let entries_after =
        w.journal().iter().filter(|r| r["kind"] == "order_sent" && r["purpose"] == "entry").count();
    assert_eq!(entries_after, entries_before, "the restart sent an entry");

    // Prices fall 25% under every holding: the resting stops sell them.
    let closed_before = w.kinds("position_closed").len();
    for symbol in before.keys() {
        http(w.port, "POST", &format!("/sim/shock?symbol={symbol}&venue=spot&pct=-25"));
    }
    w.step_hour();
    wait_for("the stops to sell every holding", Duration::from_secs(20), || {
        w.kinds("position_closed").len() >= closed_before + before.len()
    });
    let closed = w.kinds("position_closed");
    for trade in &closed[closed_before..] {
        assert!(
            ["trailing_stop", "daily_loss_cap"].contains(&trade["exit_reason"].as_str().unwrap_or("")),
            "{trade}"
        );
        assert!(dec(&trade["pnl"]) < Decimal::ZERO, "a 25% fall made money: {trade}");
    }
    let account = w.sim.account();
    assert!(venue_stops(&account).is_empty(), "stops left resting: {account}");
    eprintln!(
        "{hours} simulated hours; {} entries, {} stop placements, {} holdings at the kill, {} trades closed",
        placements(&w, "entry"),
        placements(&w, "stop_loss"),
        before.len(),
        w.kinds("position_closed").len()
    );
    let _ = std::fs::remove_dir_all(&w.dir);
}

/// Pairs the venue does not list are all named at start, exit 2, and nothing is sent.
#[test]
fn symbols_the_venue_does_not_list_are_named() {
    let dir = temp_dir("main-unlisted");
    let sim = Sim::start(&dir, "");
    // Top-level keys come before the first table.
    let symbols = "symbols = [\"BTCUSDT\", \"FOOUSDT\", \"ETHUSDT\", \"BARUSDT\"]\n";
    std::fs::write(dir.join("main.toml"), CONFIG.replacen("[regime]", &format!("{symbols}[regime]"), 1))
        .unwrap();
    let out = Command::new(binary("main-agent"))
        .args(["run", "--config", "main.toml"])
        .current_dir(&dir)
        .env_remove("TB_PAPER_TRADING")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("FOOUSDT, BARUSDT"), "{stderr}");
    assert!(!stderr.contains("BTCUSDT,"), "a listed pair named: {stderr}");
    assert!(sim.account()["openOrders"].as_array().is_some_and(Vec::is_empty));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Paper mode on the simulator's prices: holdings and stops live in the paper broker, the
/// simulator's account is never touched, and a kill -9 restart rebuilds the paper account from
/// the journal (same holdings, nothing bought again).
#[test]
fn paper_mode_trades_on_the_venues_prices_and_sends_nothing() {
    let mut w = World::new("main-paper");
    w.start_agent_with(&["--paper"]);
    assert_eq!(read_json(&w.status_path()).unwrap()["mode"], "paper");
    let mut hours = 0;
    while read_json(&w.status_path()).is_none_or(|s| holdings(&s).is_empty()) {
        w.step_hour();
        hours += 1;
        assert!(hours < 300, "no paper holding in 300 simulated hours");
    }
    let fills: Vec<Value> = w.kinds("fill");
    assert!(!fills.is_empty());
    assert!(
        fills.iter().all(|f| f["trade_id"].as_str().is_some_and(|t| t.starts_with("paper-"))),
        "{fills:?}"
    );
    let account = w.sim.account();
    assert!(account["openOrders"].as_array().is_some_and(Vec::is_empty), "{account}");
    assert_eq!(account["spot"]["balances"].as_object().map(|b| b.len()), Some(1), "{account}");
    assert_eq!(spot_balance(&account, "USDT"), Decimal::from(10_000));

    let before = quantities(&holdings(&read_json(&w.status_path()).unwrap()));
    let entries = w.journal().iter().filter(|r| r["kind"] == "order_sent" && r["purpose"] == "entry").count();
    w.kill_agent();
    w.start_agent_with(&["--paper"]);
    let log = std::fs::read_to_string(w.dir.join("logs/main_agent.log")).unwrap();
    assert!(log.contains("paper account restored from the journal"), "{log}");
    assert_eq!(quantities(&holdings(&read_json(&w.status_path()).unwrap())), before);
    let again = w.journal().iter().filter(|r| r["kind"] == "order_sent" && r["purpose"] == "entry").count();
    assert_eq!(again, entries, "the restart bought again");
    let _ = std::fs::remove_dir_all(&w.dir);
}

const FAULTS: &[Fault] = &[
    Fault { name: "websocket drop", start: &["/sim/ws/drop"], hits_orders: false },
    Fault {
        name: "websocket drops in a row",
        start: &["/sim/ws/drop", "/sim/ws/drop", "/sim/ws/drop"],
        hits_orders: false,
    },
    Fault { name: "5xx on 30% of requests", start: &["/sim/fault?error_rate=0.3"], hits_orders: false },
    Fault { name: "429 burst", start: &["/sim/fault?burst_429=4&retry_after=1"], hits_orders: false },
    Fault { name: "400 ms latency", start: &["/sim/fault?latency_ms=400"], hits_orders: false },
    Fault { name: "server clock 3 s behind", start: &["/sim/fault?clock_skew_ms=-3000"], hits_orders: false },
    Fault { name: "partial fills", start: &["/sim/fault?partial_fills=3"], hits_orders: true },
    Fault {
        name: "order placed, answered 503",
        start: &["/sim/fault?unanswered_orders=1&unanswered_mode=503"],
        hits_orders: true,
    },
    Fault {
        name: "order placed, never answered",
        start: &["/sim/fault?unanswered_orders=1&unanswered_mode=hang&hang_ms=2000"],
        hits_orders: true,
    },
    Fault { name: "418 ban", start: &["/sim/fault?burst_418=1&retry_after=3"], hits_orders: false },
    Fault {
        name: "drop and 5xx together",
        start: &["/sim/fault?error_rate=0.2", "/sim/ws/drop"],
        hits_orders: false,
    },
];

/// main-agent trading 24 pairs while the simulator's faults are injected in turn, each for an
/// hour of market time or until it has hit an order. At the end the agent is still running,
/// every holding has its stop resting for its quantity, no client order id was placed twice, and
/// every execution on the venue is in the journal, order by order.
#[test]
fn every_sim_fault_is_survived_by_main_agent() {
    let mut w = World::new("main-faults");
    w.start_agent();
    let mut hours = 0;
    while !w.protected().is_ok_and(|n| n > 0) {
        w.step_hour();
        hours += 1;
        assert!(hours < 300, "no holding in 300 simulated hours");
    }
    for fault in FAULTS {
        let sent_before = w.kinds("order_sent").len();
        for path in fault.start {
            w.sim.admin("POST", path);
            std::thread::sleep(Duration::from_millis(150));
        }
        let mut armed = 0;
        loop {
            step_patiently(&mut w);
            hours += 1;
            armed += 1;
            let used = w.sim.admin("POST", "/sim/fault");
            let order_faults_used = used["unanswered_orders"] == 0 && used["partial_fills"] == 0;
            if !fault.hits_orders || (w.kinds("order_sent").len() > sent_before && order_faults_used) {
                break;
            }
            assert!(armed < 48, "{}: no order in {armed} hours to hit", fault.name);
        }
        w.sim.admin("POST", "/sim/fault/reset");
        step_patiently(&mut w);
        hours += 1;
        wait_for(&format!("every holding protected after {}", fault.name), Duration::from_secs(60), || {
            w.assert_agent_alive();
            w.protected().is_ok()
        });
        eprintln!("{} survived ({hours} simulated hours so far)", fault.name);
    }

    // The last hour's decisions and executions may still be on their way: compare one snapshot,
    // the journal read before the venue's history (a journaled fill is on the venue already),
    // taken again until the two agree.
    let fills_per_order = |journal: &[Value], history: &Value| {
        let mut ours: BTreeMap<String, Decimal> = BTreeMap::new();
        for r in journal.iter().filter(|r| r["kind"] == "fill" || r["kind"] == "fill_rebuilt") {
            *ours.entry(r["client_order_id"].as_str().unwrap().to_owned()).or_default() += dec(&r["qty"]);
        }
        let mut theirs: BTreeMap<String, Decimal> = BTreeMap::new();
        for t in history["spotTrades"].as_array().unwrap() {
            *theirs.entry(t["clientOrderId"].as_str().unwrap().to_owned()).or_default() += dec(&t["qty"]);
        }
        (ours, theirs)
    };
    let settled = Instant::now();
    let (journal, history) = loop {
        let journal = w.journal();
        let history = w.sim.admin("GET", "/sim/history");
        let (ours, theirs) = fills_per_order(&journal, &history);
        if ours == theirs || settled.elapsed() > Duration::from_secs(20) {
            break (journal, history);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut placed: BTreeMap<String, usize> = BTreeMap::new();
    for order in history["spotOrders"].as_array().unwrap() {
        *placed.entry(order["clientOrderId"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    let twice: Vec<_> = placed.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "client order ids placed more than once: {twice:?}");
    // Every execution on the venue is in the journal, order by order (a fill rebuilt from a query
    // stands for the executions a stream gap hid), and every journaled fill is a venue trade.
    let (ours, theirs) = fills_per_order(&journal, &history);
    assert!(!theirs.is_empty(), "no trade on the venue");
    assert_eq!(ours, theirs, "fills per order: journal (left) vs venue (right)");
    let trades = history["spotTrades"].as_array().unwrap();
    for r in journal.iter().filter(|r| r["kind"] == "fill") {
        let id = r["trade_id"].as_str().unwrap();
        assert!(
            trades.iter().any(|t| t["id"].as_u64().map(|n| n.to_string()).as_deref() == Some(id)
                && t["clientOrderId"] == r["client_order_id"]),
            "journal fill {r} is not a venue trade"
        );
    }
    eprintln!(
        "end: {} orders, {} closed trades, {hours} simulated hours",
        placed.len(),
        w.kinds("position_closed").len()
    );
    let _ = std::fs::remove_dir_all(&w.dir);
}

/// Steps one hour and waits (a fault may hold an order for seconds) until the agent has
/// processed the close.
fn step_patiently(w: &mut World) {
    let now = http(w.port, "POST", "/sim/step?bars=1&interval=1h")["marketTime"].as_i64().unwrap();
    let status = w.status_path();
    wait_for("the agent to see the close", Duration::from_secs(60), || {
        w.assert_agent_alive();
        read_json(&status).is_some_and(|s| s["last_activity_ms"].as_i64() >= Some(now))
    });
    w.settle();
}
