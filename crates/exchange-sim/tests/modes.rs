//! Market modes: stepped-clock determinism, a running clock, replay of a kline CSV with its
//! intrabar path, and `--state` across a restart.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;

use common::{start_with, test_config};
use exchange_sim::SimConfig;
use serde_json::Value;

async fn closes(sim: &common::Sim, symbol: &str) -> Vec<Value> {
    let klines = sim.get("/api/v3/klines", &[("symbol", symbol), ("interval", "1m"), ("limit", "300")]).await;
    klines.json.as_array().unwrap().iter().map(|k| k[4].clone()).collect()
}

#[tokio::test]
async fn same_seed_and_steps_give_the_same_prices() {
    let a = start_with(test_config(), None).await;
    let b = start_with(test_config(), None).await;
    let c = start_with(SimConfig { seed: 8, ..test_config() }, None).await;
    for _ in 0..3 {
        a.step(3_600).await;
    }
    b.step(10_800).await;
    c.step(10_800).await;
    for symbol in ["BTCUSDT", "DOGEUSDT"] {
        assert_eq!(closes(&a, symbol).await, closes(&b, symbol).await, "{symbol}: batching does not matter");
        assert_ne!(
            closes(&a, symbol).await,
            closes(&c, symbol).await,
            "{symbol}: another seed, another path"
        );
    }
    let mark_a = a.get("/fapi/v1/premiumIndex", &[("symbol", "ETHUSDT")]).await.json["markPrice"].clone();
    let mark_b = b.get("/fapi/v1/premiumIndex", &[("symbol", "ETHUSDT")]).await.json["markPrice"].clone();
    assert_eq!(mark_a, mark_b);
}

#[tokio::test]
async fn a_running_clock_moves_an_hour_a_second() {
    let sim = start_with(SimConfig { speed: 3600.0, ..test_config() }, None).await;
    let start = sim.admin("GET", "/sim/state").await["clock"]["marketTime"].as_i64().unwrap();
    let mut reached = false;
    for _ in 0..100 {
        let now = sim.admin("GET", "/sim/state").await["clock"]["marketTime"].as_i64().unwrap();
        if now - start >= 3_600_000 {
            reached = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(reached, "an hour of market time within 10 s of wall time");
    sim.admin("POST", "/sim/speed?value=0").await;
    let frozen = sim.admin("GET", "/sim/state").await["clock"]["marketTime"].clone();
    assert_eq!(sim.admin("GET", "/sim/state").await["clock"]["marketTime"], frozen);
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("exsim-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn replays_a_kline_file_with_its_intrabar_path() {
    let dir = temp_dir("replay");
    // 2024-01-01, hourly: an up bar (low first) then a down bar (high first).
    std::fs::write(
        dir.join("BTCUSDT.csv"),
        "open_time,open,high,low,close,volume\n\
         1704067200000,42000.00,42500.00,41500.00,42300.00,100\n\
         1704070800000,42300.00,42400.00,41000.00,41200.00,120\n\
         1704074400000,41200.00,41800.00,41100.00,41700.00,90\n",
    )
    .unwrap();
    let config = SimConfig { replay_dir: Some(dir.clone()), backfill_days: 0.0, ..test_config() };
    let sim = start_with(config, None).await;
    let state = sim.admin("GET", "/sim/state").await;
    assert_eq!(state["clock"]["marketTime"].as_i64(), Some(1_704_067_200_000), "starts at the first bar");
    let price = sim.get("/fapi/v2/ticker/price", &[("symbol", "BTCUSDT")]).await;
    assert_eq!(price.json["price"], "42000.00");
    sim.set_price("ETHUSDT", "3000").await;
    let key_params = [("symbol", "BTCUSDT"), ("side", "BUY"), ("type", "MARKET"), ("quantity", "0.01")];
    assert_eq!(sim.signed("POST", "/fapi/v1/order", &key_params).await.status, 200);
    let stop = sim
        .signed(
            "POST",
            "/fapi/v1/algoOrder",
            &[
                ("algoType", "CONDITIONAL"),
                ("symbol", "BTCUSDT"),
                ("side", "SELL"),
                ("type", "STOP_MARKET"),
                ("triggerPrice", "41600"),
                ("closePosition", "true"),
            ],
        )
        .await;
    assert_eq!(stop.status, 200, "{}", stop.json);
    sim.step(3_600).await;
    let klines =
        sim.get("/fapi/v1/klines", &[("symbol", "BTCUSDT"), ("interval", "1h"), ("limit", "5")]).await;
    let bar = &klines.json[0];
    assert_eq!(
        (&bar[1], &bar[2], &bar[3], &bar[4]),
        (
            &Value::from("42000.00"),
            &Value::from("42500.00"),
            &Value::from("41500.00"),
            &Value::from("42300.00")
        )
    );
    let algo = sim.signed("GET", "/fapi/v1/algoOrder", &[("algoId", &stop.json["algoId"].to_string())]).await;
    assert_eq!(
        (algo.json["algoStatus"].as_str(), algo.json["actualPrice"].as_str()),
        (Some("FINISHED"), Some("41600")),
        "the low came before the high"
    );
    sim.step(7_200).await;
    let spot = sim.get("/api/v3/klines", &[("symbol", "BTCUSDT"), ("interval", "1h")]).await;
    assert_eq!(spot.json.as_array().unwrap().len(), 4, "the three hours, and the one just begun");
    assert_eq!(spot.json[3][0], 1_704_078_000_000_i64);
    assert_eq!(spot.json[1][3], "41000.00000000");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn state_survives_a_restart_only_with_the_flag() {
    let dir = temp_dir("state");
    let file = dir.join("sim-state.json");
    let mut first = start_with(test_config(), Some(file.clone())).await;
    first.set_price("BTCUSDT", "100000").await;
    let buy = first
        .signed(
            "POST",
            "/fapi/v1/order",
            &[("symbol", "BTCUSDT"), ("side", "BUY"), ("type", "MARKET"), ("quantity", "0.01")],
        )
        .await;
    assert_eq!(buy.status, 200);
    let rest = first
        .signed(
            "POST",
            "/api/v3/order",
            &[
                ("symbol", "ETHUSDT"),
                ("side", "BUY"),
                ("type", "LIMIT"),
                ("timeInForce", "GTC"),
                ("quantity", "0.1"),
                ("price", "1000"),
                ("newClientOrderId", "kept"),
            ],
        )
        .await;
    assert_eq!(rest.status, 200, "{}", rest.json);
    first.step(7_200).await;
    let before = first.admin("GET", "/sim/state").await;
    let eth_before = first.get("/api/v3/ticker/price", &[("symbol", "ETHUSDT")]).await.json["price"].clone();
    first.stop().await;
    assert!(file.exists(), "saved on shutdown");
    assert!(!dir.join("sim-state.tmp").exists(), "the temp file was renamed");

    let second = start_with(test_config(), Some(file.clone())).await;
    let after = second.admin("GET", "/sim/state").await;
    assert_eq!(after["clock"]["marketTime"], before["clock"]["marketTime"]);
    assert_eq!(after["accounts"][0]["spot"], before["accounts"][0]["spot"]);
    assert_eq!(
        after["accounts"][0]["futures"]["walletBalance"],
        before["accounts"][0]["futures"]["walletBalance"]
    );
    assert_eq!(after["accounts"][0]["futures"]["positions"][0]["positionAmt"], "0.01");
    let kept =
        second.signed("GET", "/api/v3/order", &[("symbol", "ETHUSDT"), ("origClientOrderId", "kept")]).await;
    assert_eq!(kept.json["status"], "NEW");
    assert_eq!(second.get("/api/v3/ticker/price", &[("symbol", "ETHUSDT")]).await.json["price"], eth_before);
    let history = second.get("/api/v3/klines", &[("symbol", "ETHUSDT"), ("interval", "1h")]).await;
    assert!(history.json.as_array().unwrap().len() >= 24, "history regenerated up to the saved price");

    let fresh = start_with(test_config(), None).await;
    let clean = fresh.admin("GET", "/sim/state").await;
    assert!(clean["accounts"][0]["futures"]["positions"].as_array().unwrap().is_empty(), "no flag, no state");
    std::fs::remove_dir_all(dir).unwrap();
}
