//! futures-agent and exchange-sim as real processes in a temp dir, the simulator's clock stepped
//! an hour at a time through its admin API: entries on signals, resting protection on the venue
//! for every position, stops or take profits triggering, a kill -9 with the restart reconciling
//! to the same positions (no duplicate entry, still protected), a kill -9 between the entry's
//! fill and its protection, the daily breaker on a price shock, reset at the next UTC day, and a
//! bar closing during the agent's startup (taken from REST once its streams are up).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod support;

use std::time::Duration;

use serde_json::Value;
use support::{FuturesWorld as World, http, read_json, same_qty, venue_positions, wait_for};

#[test]
fn trades_protects_survives_kill_9_and_trips_the_breaker() {
    let mut w = World::new("main");
    w.start_agent();

    // Entries on signals, each position protected on the venue by its three resting orders.
    let mut hours = 0;
    while w.kinds("position_opened").is_empty() {
        w.step_hour();
        hours += 1;
        assert!(hours < 200, "no entry in 200 simulated hours");
    }
    wait_for("protection on the venue", Duration::from_secs(20), || {
        let positions = venue_positions(&w.sim_account());
        !positions.is_empty() && positions.iter().all(|(_, _, resting)| *resting == 3)
    });

    // Exits by the resting orders.
    while w.kinds("position_closed").is_empty() {
        w.step_hour();
        hours += 1;
        assert!(hours < 600, "no exit in 600 simulated hours");
    }
    let closed = w.kinds("position_closed");
    let reasons: Vec<&str> = closed.iter().filter_map(|c| c["exit_reason"].as_str()).collect();
    assert!(
        reasons.iter().all(|r| ["stop_loss", "take_profit", "trailing_stop", "breaker"].contains(r)),
        "unexpected exits: {reasons:?}"
    );

    // Wait for an open position, then kill -9 and restart: same positions, still protected, no
    // entry sent twice.
    while venue_positions(&w.sim_account()).is_empty() {
        w.step_hour();
        hours += 1;
        assert!(hours < 900, "no open position to kill the agent over");
    }
    let entries_before: Vec<Value> =
        w.kinds("order_sent").into_iter().filter(|r| r["purpose"] == "entry").collect();
    let before = venue_positions(&w.sim_account());
    w.kill_agent();
    w.start_agent();
    let after = venue_positions(&w.sim_account());
    assert_eq!(after, before, "the restart changed the venue's positions");
    let status = read_json(&w.dir.join("run/futures-agent.status.json")).unwrap();
    let known: Vec<&str> =
        status["positions"].as_array().unwrap().iter().map(|p| p["symbol"].as_str().unwrap()).collect();
    assert_eq!(known.len(), before.len(), "status after restart: {status}");
    let entries_after: Vec<Value> =
        w.kinds("order_sent").into_iter().filter(|r| r["purpose"] == "entry").collect();
    assert_eq!(entries_after.len(), entries_before.len(), "an entry was sent again by the restart");

    // The breaker: a 40% shock against every open position (beyond its stop, and for the
    // leveraged ones beyond liquidation), then the next closes. Every shocked position must be
    // closed and accounted (liquidation executions included). An isolated liquidation loses the
    // position's margin, 1/leverage of its notional: one round may not lose 20% of the day's
    // opening equity, so shocks are repeated (on whatever is open) until the breaker trips.
    let mut exits: Vec<String> = Vec::new();
    let mut rounds = 0;
    let trips_before = w.kinds("breaker").len();
    while w.kinds("breaker").len() == trips_before {
        while venue_positions(&w.sim_account()).is_empty() {
            w.step_hour();
            hours += 1;
            assert!(hours < 1_200, "no position to shock");
        }
        let shocked = venue_positions(&w.sim_account());
        let shocked_at = w.sim.admin("GET", "/sim/state")["clock"]["marketTime"].as_i64().unwrap();
        let closed_before = w.kinds("position_closed").len();
        for (symbol, amount, _) in &shocked {
            let pct = if amount.starts_with('-') { 40 } else { -40 };
            http(w.port, "POST", &format!("/sim/shock?symbol={symbol}&pct={pct}"));
        }
        w.step_hour();
        w.step_hour();
        wait_for("the shocked positions' closes in the journal", Duration::from_secs(20), || {
            w.kinds("position_closed").len() >= closed_before + shocked.len()
        });
        exits.extend(
            w.kinds("position_closed")[closed_before..]
                .iter()
                .filter(|c| c["entry_time"].as_i64() <= Some(shocked_at))
                .filter(|c| shocked.iter().any(|(symbol, _, _)| c["symbol"] == symbol.as_str()))
                .map(|c| c["exit_reason"].as_str().unwrap_or("").to_owned()),
        );
        rounds += 1;
        assert!(rounds < 10, "ten rounds of 40% shocks did not trip the breaker: {exits:?}");
    }
    wait_for("every position closed by the breaker", Duration::from_secs(20), || {
        venue_positions(&w.sim_account()).is_empty()
    });
    let allowed = ["liquidation", "stop_loss", "trailing_stop", "breaker"];
    assert!(exits.iter().all(|r| allowed.contains(&r.as_str())), "exits after the shocks: {exits:?}");
    assert!(exits.iter().any(|r| r == "liquidation"), "no liquidation among {exits:?}");
    let status = read_json(&w.dir.join("run/futures-agent.status.json")).unwrap();
    assert_eq!(status["breaker"]["tripped"], true, "{status}");
    assert!(status["positions"].as_array().unwrap().is_empty(), "{status}");
    eprintln!("exits after {rounds} rounds of shocks: {exits:?}");

    // The breaker holds for the rest of the UTC day and resets at the next one: entries resume.
    let tripped_at = w.kinds("breaker").last().unwrap()["ts"].as_i64().unwrap();
    let next_day = (tripped_at / DAY_MS + 1) * DAY_MS;
    let entries = |w: &World| -> Vec<i64> {
        w.kinds("order_sent")
            .iter()
            .filter(|r| r["purpose"] == "entry")
            .filter_map(|r| r["ts"].as_i64())
            .filter(|ts| *ts > tripped_at)
            .collect()
    };
    // A close at exactly 00:00 ends the old day's last bar; the first close of the new day is
    // the next one.
    let mut now = tripped_at;
    while now <= next_day {
        assert!(entries(&w).is_empty(), "an entry before the next UTC day: {:?}", entries(&w));
        now = w.step_hour();
    }
    let status = read_json(&w.dir.join("run/futures-agent.status.json")).unwrap();
    assert_eq!(status["breaker"]["tripped"], false, "the breaker still tripped on the next day: {status}");
    while entries(&w).is_empty() {
        w.step_hour();
        hours += 1;
        assert!(hours < 1_200, "no entry after the breaker reset");
    }
    assert!(entries(&w).iter().all(|ts| *ts > next_day), "{:?}", entries(&w));
    let _ = std::fs::remove_dir_all(&w.dir);
}

const DAY_MS: i64 = 86_400_000;

/// kill -9 after the entry filled and before its protection reached the venue (the simulator
/// stalls every new algo order: never executed, never answered): the restart finds the position
/// with no protective order resting, places them, and sends no entry again.
#[test]
fn kill_9_after_the_fill_before_the_stop_protects_on_restart_without_a_second_entry() {
    let mut w = World::new("stall");
    w.start_agent();
    w.sim.admin("POST", "/sim/fault?stall_path=/fapi/v1/algoOrder&stall_method=POST&hang_ms=60000");
    let status = w.dir.join("run/futures-agent.status.json");
    let mut hours = 0;
    while w.kinds("position_opened").is_empty() {
        let now = http(w.port, "POST", "/sim/step?bars=1&interval=1h")["marketTime"].as_i64().unwrap();
        wait_for("the close, or an entry filled", Duration::from_secs(30), || {
            w.assert_agent_alive();
            !w.kinds("position_opened").is_empty()
                || read_json(&status).is_some_and(|s| s["last_activity_ms"].as_i64() >= Some(now))
        });
        hours += 1;
        assert!(hours < 200, "no entry in 200 simulated hours");
    }
    // The entry filled and the agent is held on its first protective order.
    let opened = w.kinds("position_opened").remove(0);
    let symbol = opened["symbol"].as_str().unwrap().to_owned();
    w.kill_agent();
    w.sim.admin("POST", "/sim/fault/reset");
    let positions = venue_positions(&w.sim_account());
    let held = positions.iter().find(|(s, _, _)| *s == symbol).cloned();
    let (_, amount, resting) =
        held.unwrap_or_else(|| panic!("no {symbol} position on the venue: {positions:?}"));
    assert_eq!(resting, 0, "a protective order reached the venue before the kill");
    let entries_before = w.kinds("order_sent").iter().filter(|r| r["purpose"] == "entry").count();

    w.start_agent();
    wait_for("the restarted agent to protect the position", Duration::from_secs(30), || {
        w.assert_agent_alive();
        venue_positions(&w.sim_account())
            .iter()
            .any(|(s, a, resting)| *s == symbol && *resting == 3 && *a == amount)
    });
    let entries_after = w.kinds("order_sent").iter().filter(|r| r["purpose"] == "entry").count();
    assert_eq!(entries_after, entries_before, "an entry was sent again by the restart");
    let history = w.sim.admin("GET", "/sim/history");
    let entries_on_venue = history["orders"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| {
            o["symbol"] == symbol.as_str()
                && o["clientOrderId"].as_str().is_some_and(|id| id.starts_with("fa-en-"))
        })
        .count();
    assert_eq!(entries_on_venue, 1, "one entry on the venue");
    let status = read_json(&status).unwrap();
    let known = status["positions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["symbol"] == symbol.as_str() && same_qty(&amount, p["qty"].as_str().unwrap_or("")));
    assert!(known, "the restarted agent does not know the position: {status}");
    let _ = std::fs::remove_dir_all(&w.dir);
}

/// The entry order in flight: sent (journaled) but with no answer or update yet.
fn entry_in_flight(w: &World) -> Option<(String, String, String)> {
    let journal = w.journal();
    journal.iter().filter(|r| r["kind"] == "order_sent" && r["purpose"] == "entry").find_map(|r| {
        let id = r["order"]["client_order_id"].as_str()?.to_owned();
        let answered =
            journal.iter().any(|u| u["kind"] == "order_update" && u["client_order_id"] == id.as_str());
        (!answered).then(|| {
            let symbol = r["order"]["symbol"].as_str().unwrap_or("").to_owned();
            let qty = r["order"]["qty"].as_str().unwrap_or("").to_owned();
            (id, symbol, qty)
        })
    })
}

/// kill -9 after an entry was sent and placed but before its answer came back: the restart finds
/// the order by its client id, accounts it once, protects it, and sends nothing again.
#[test]
fn kill_9_between_an_entry_and_its_answer_neither_loses_nor_repeats_it() {
    let mut w = World::new("hang");
    w.start_agent();
    let status = w.dir.join("run/futures-agent.status.json");
    let (id, symbol, qty) = 'found: {
        for _ in 0..200 {
            // The next order is placed but its answer is held back for a minute.
            w.sim.admin("POST", "/sim/fault?unanswered_orders=1&unanswered_mode=hang&hang_ms=60000");
            let now = http(w.port, "POST", "/sim/step?bars=1&interval=1h")["marketTime"].as_i64().unwrap();
            let mut hung = None;
            wait_for("the close, or an entry in flight", Duration::from_secs(30), || {
                w.assert_agent_alive();
                hung = entry_in_flight(&w);
                hung.is_some()
                    || read_json(&status).is_some_and(|s| s["last_activity_ms"].as_i64() >= Some(now))
            });
            if let Some(found) = hung {
                break 'found found;
            }
            w.settle();
        }
        panic!("no entry in 200 simulated hours");
    };
    w.kill_agent();
    w.sim.admin("POST", "/sim/fault/reset");
    let positions = venue_positions(&w.sim_account());
    let held = positions.iter().any(|(s, amount, _)| *s == symbol && same_qty(amount, &qty));
    assert!(held, "the hung order ({qty} {symbol}) was placed on the venue: {positions:?}");

    w.start_agent();
    wait_for("the restarted agent to protect the position", Duration::from_secs(20), || {
        venue_positions(&w.sim_account())
            .iter()
            .any(|(s, a, resting)| *s == symbol && *resting == 3 && same_qty(a, &qty))
    });
    let sent: Vec<Value> =
        w.kinds("order_sent").into_iter().filter(|r| r["order"]["client_order_id"] == id.as_str()).collect();
    assert_eq!(sent.len(), 1, "the entry was sent again");
    let status = read_json(&status).unwrap();
    let known = status["positions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["symbol"] == symbol.as_str() && p["qty"] == qty.as_str());
    assert!(known, "the restarted agent does not know the position: {status}");
    let _ = std::fs::remove_dir_all(&w.dir);
}

/// A bar that closes while the agent starts, after its backfill and before its market stream is
/// subscribed, reaches it through neither: once its streams are up the agent reads the bars over
/// REST, as after any stream gap, and takes that close's decision then.
#[test]
fn a_bar_closing_during_startup_is_not_missed() {
    let mut w = World::new("startup-close");
    // Slow answers stretch the startup: the reconciliation after the backfill takes seconds.
    w.sim.admin("POST", "/sim/fault?latency_ms=700");
    w.spawn_agent();
    let symbols = 3;
    wait_for("the backfill of every symbol", Duration::from_secs(60), || {
        w.assert_agent_alive();
        w.kinds("history").len() >= symbols
    });
    let now = http(w.port, "POST", "/sim/step?bars=1&interval=1h")["marketTime"].as_i64().unwrap();
    w.sim.admin("POST", "/sim/fault/reset");
    let status = w.dir.join("run/futures-agent.status.json");
    wait_for("the agent to see the close it started through", Duration::from_secs(30), || {
        w.assert_agent_alive();
        read_json(&status).is_some_and(|s| s["ready"] == true && s["last_activity_ms"].as_i64() >= Some(now))
    });
    let closes = w.kinds("bar_close").into_iter().filter(|r| r["ts"].as_i64() == Some(now)).count();
    assert_eq!(closes, symbols, "every symbol's close at {now} is journaled");
    let _ = std::fs::remove_dir_all(&w.dir);
}
