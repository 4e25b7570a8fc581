//! futures-agent trading on the stepped exchange-sim while every fault the simulator offers is
//! injected in turn, each for an hour of market time or until it has hit an order: WebSocket drops
//! (one, and many in a row), listenKey expiry, a 5xx rate, 429 and 418 bursts, latency, clock
//! skew both ways, partial fills, orders placed but answered 503 or not at all, protective orders
//! lost on the way, and price shocks. At the end the agent must still be running and agree with
//! the venue to the unit: every open position protected by a resting stop, no client order id
//! placed twice, every fill on the venue in the journal, and the journal's positions the venue's.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use serde_json::Value;
use support::{Fault, FuturesWorld, http, read_json, venue_positions, wait_for};

const FAULTS: &[Fault] = &[
    Fault { name: "websocket drop", start: &["/sim/ws/drop"], hits_orders: false },
    Fault {
        name: "websocket drops in a row",
        start: &[
            "/sim/ws/drop",
            "/sim/ws/drop",
            "/sim/ws/drop",
            "/sim/ws/drop",
            "/sim/ws/drop",
            "/sim/ws/drop",
        ],
        hits_orders: false,
    },
    Fault { name: "listenKey expiry", start: &["/sim/listenkeys/expire"], hits_orders: false },
    Fault { name: "5xx on 30% of requests", start: &["/sim/fault?error_rate=0.3"], hits_orders: false },
    Fault { name: "429 burst", start: &["/sim/fault?burst_429=4&retry_after=1"], hits_orders: false },
    Fault { name: "400 ms latency", start: &["/sim/fault?latency_ms=400"], hits_orders: false },
    Fault { name: "server clock 3 s behind", start: &["/sim/fault?clock_skew_ms=-3000"], hits_orders: false },
    Fault { name: "server clock 7 s ahead", start: &["/sim/fault?clock_skew_ms=7000"], hits_orders: false },
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
    Fault {
        name: "protective orders lost on the way",
        start: &["/sim/fault?stall_path=/fapi/v1/algoOrder&stall_method=POST&hang_ms=1000"],
        hits_orders: true,
    },
    Fault { name: "418 ban", start: &["/sim/fault?burst_418=1&retry_after=3"], hits_orders: false },
    Fault { name: "price shock", start: &[], hits_orders: false },
    Fault {
        name: "drop, expiry and 5xx together",
        start: &["/sim/fault?error_rate=0.2", "/sim/ws/drop", "/sim/listenkeys/expire"],
        hits_orders: false,
    },
    Fault { name: "websocket drop", start: &["/sim/ws/drop"], hits_orders: false },
];

/// Most hours an order fault stays armed waiting for an order.
const MAX_ARMED_HOURS: usize = 12;

#[test]
fn every_sim_fault_is_survived_with_the_journal_and_the_venue_in_agreement() {
    let mut w = FuturesWorld::new("faults");
    w.start_agent();
    // Trade first, so that faults meet open positions.
    let mut hours = 0;
    while venue_positions(&w.sim_account()).is_empty() {
        step(&mut w);
        hours += 1;
        assert!(hours < 100, "no position in 100 simulated hours");
    }
    for fault in FAULTS {
        let sent_before = w.kinds("order_sent").len();
        if fault.name == "price shock" {
            shock_against_positions(&w);
        }
        for path in fault.start {
            w.sim.admin("POST", path);
            std::thread::sleep(Duration::from_millis(150));
        }
        let mut armed = 0;
        loop {
            step(&mut w);
            hours += 1;
            armed += 1;
            if !fault.hits_orders || (w.kinds("order_sent").len() > sent_before && order_faults_used(&w)) {
                break;
            }
            assert!(armed < MAX_ARMED_HOURS, "{}: no order in {armed} hours to hit", fault.name);
        }
        w.sim.admin("POST", "/sim/fault/reset");
        settle_protected(&mut w, fault.name);
        eprintln!("{} survived ({} simulated hours so far)", fault.name, hours);
    }
    // A clean hour, then the books.
    step(&mut w);
    settle_protected(&mut w, "the end");
    w.assert_agent_alive();
    assert_venue_and_journal_agree(&w);
    let _ = std::fs::remove_dir_all(&w.dir);
}

/// Steps one hour and waits (longer than the happy-path tests: a fault may hold an order for
/// seconds) until the agent has processed the close.
fn step(w: &mut FuturesWorld) {
    let now = http(w.port, "POST", "/sim/step?bars=1&interval=1h")["marketTime"].as_i64().unwrap();
    let status = w.dir.join("run/futures-agent.status.json");
    wait_for("the agent to see the close", Duration::from_secs(60), || {
        w.assert_agent_alive();
        read_json(&status).is_some_and(|s| s["last_activity_ms"].as_i64() >= Some(now))
    });
    w.settle();
}

/// True once the simulator has used up the armed order faults.
fn order_faults_used(w: &FuturesWorld) -> bool {
    let state = w.sim.admin("GET", "/sim/state");
    let faults = &state["faults"];
    let stall_hit = faults["stall_path"].is_null()
        || w.kinds("order_sent").iter().any(|r| r["purpose"] == "stop_loss" && stalled_once(w, r));
    faults["unanswered_orders"] == 0 && stall_hit && partial_fills_used(w)
}

/// True when the stop loss `record` names never reached the venue (the stall took it).
fn stalled_once(w: &FuturesWorld, record: &Value) -> bool {
    let id = record["order"]["client_order_id"].as_str().unwrap_or("");
    let history = w.sim.admin("GET", "/sim/history");
    !history["algoOrders"].as_array().unwrap().iter().any(|a| a["clientAlgoId"] == id)
}

fn partial_fills_used(w: &FuturesWorld) -> bool {
    http(w.port, "POST", "/sim/fault")["partial_fills"] == 0
}

/// Moves every open position's price 6% against it (beyond its 3% stop), or BTC's when none.
fn shock_against_positions(w: &FuturesWorld) {
    let positions = venue_positions(&w.sim_account());
    if positions.is_empty() {
        w.sim.admin("POST", "/sim/shock?symbol=BTCUSDT&pct=-6");
    }
    for (symbol, amount, _) in positions {
        let pct = if amount.starts_with('-') { 6 } else { -6 };
        w.sim.admin("POST", &format!("/sim/shock?symbol={symbol}&pct={pct}"));
    }
}

/// Waits until every position on the venue has its three protective orders resting and the
/// journal's fills make the same positions; fails showing both sides.
fn settle_protected(w: &mut FuturesWorld, after: &str) {
    let start = Instant::now();
    loop {
        w.assert_agent_alive();
        let venue = venue_positions(&w.sim_account());
        let ours = w.journal_positions();
        let agree = venue.len() == ours.len()
            && venue.iter().all(|(symbol, amount, resting)| {
                *resting == 3 && ours.get(symbol).is_some_and(|q| Some(*q) == amount.parse().ok())
            });
        if agree {
            return;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let algos = w.sim_account()["algoOrders"].clone();
            panic!(
                "no agreement with the venue after {after}:\nvenue (symbol, amount, resting): {venue:?}\njournal: {ours:?}\nresting algo orders: {algos}\ndir: {}",
                w.dir.display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The agent's status positions, signed.
fn status_positions(w: &FuturesWorld) -> BTreeMap<String, Decimal> {
    let status = read_json(&w.dir.join("run/futures-agent.status.json")).unwrap_or_default();
    status["positions"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|p| {
            let qty = dec(&p["qty"]);
            (p["symbol"].as_str().unwrap_or("").to_owned(), if p["side"] == "short" { -qty } else { qty })
        })
        .collect()
}

fn dec(value: &Value) -> Decimal {
    value.as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("not a decimal string: {value}"))
}

/// The end-state checks of the issue, against the simulator's own records.
fn assert_venue_and_journal_agree(w: &FuturesWorld) {
    let history = w.sim.admin("GET", "/sim/history");
    let account = w.sim_account();

    // No client order id placed twice.
    let mut placed: BTreeMap<String, usize> = BTreeMap::new();
    for order in history["orders"].as_array().unwrap() {
        *placed.entry(order["clientOrderId"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    for algo in history["algoOrders"].as_array().unwrap() {
        *placed.entry(format!("algo:{}", algo["clientAlgoId"].as_str().unwrap())).or_default() += 1;
    }
    let twice: Vec<_> = placed.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "client order ids placed more than once: {twice:?}");

    // Every fill on the venue is in the journal: per order, the same quantity (a fill rebuilt
    // from a query stands for the executions a stream gap hid), and every real fill's trade id.
    let journal = w.journal();
    let mut ours: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut net_ours: BTreeMap<String, Decimal> = BTreeMap::new();
    for r in journal.iter().filter(|r| r["kind"] == "fill" || r["kind"] == "fill_rebuilt") {
        let qty = dec(&r["qty"]);
        *ours.entry(r["client_order_id"].as_str().unwrap().to_owned()).or_default() += qty;
        let signed = if r["side"] == "BUY" { qty } else { -qty };
        *net_ours.entry(r["symbol"].as_str().unwrap().to_owned()).or_default() += signed;
    }
    let mut theirs: BTreeMap<String, Decimal> = BTreeMap::new();
    let trades = history["trades"].as_array().unwrap();
    for t in trades {
        *theirs.entry(t["clientOrderId"].as_str().unwrap().to_owned()).or_default() += dec(&t["qty"]);
    }
    assert_eq!(ours, theirs, "fills per order: journal (left) vs venue (right)");
    for r in journal.iter().filter(|r| r["kind"] == "fill") {
        let id = r["trade_id"].as_str().unwrap();
        assert!(
            trades.iter().any(|t| t["id"].as_u64().map(|n| n.to_string()).as_deref() == Some(id)
                && t["clientOrderId"] == r["client_order_id"]),
            "journal fill {r} is not a venue trade"
        );
    }

    // The journal's positions are the venue's, and so are the agent's.
    let venue: BTreeMap<String, Decimal> = account["futures"]["positions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["symbol"].as_str().unwrap().to_owned(), dec(&p["positionAmt"])))
        .filter(|(_, amount)| !amount.is_zero())
        .collect();
    net_ours.retain(|_, amount| !amount.is_zero());
    assert_eq!(net_ours, venue, "positions: journal fills (left) vs venue (right)");
    // The status is rewritten at least every 5 s: give it one period to catch up.
    let start = Instant::now();
    while status_positions(w) != venue && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(status_positions(w), venue, "positions: agent status (left) vs venue (right)");

    // Every open position has its stop resting on the venue.
    let algos = account["algoOrders"].as_array().unwrap();
    for symbol in venue.keys() {
        assert!(
            algos.iter().any(|a| a["symbol"] == symbol.as_str() && a["orderType"] == "STOP_MARKET"),
            "{symbol} has no resting stop: {algos:?}"
        );
    }
    let closed = w.kinds("position_closed").len();
    eprintln!(
        "end: {} orders, {} fills on the venue, {closed} trades closed, open: {venue:?}",
        placed.len(),
        trades.len()
    );
}
