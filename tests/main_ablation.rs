//! `main-agent backtest --ablation` on real data: the all-on run, then each feature off in turn,
//! over the 30 pairs of ../shared/data/spot-1h that cover 2024-10-01 to 2026-02-19 (four months
//! of them here, 2025-01-01 to 2025-05-01, to keep the test short). Each feature must change the
//! result the way it should: without the gate more trades are taken; without regimes more
//! signals fire (no regime blocks) and the trades differ; without the correlation filter or the
//! VaR limit the portfolio differs (the all-on run refused or shrank entries for them).
//!
//! Needs ../shared/data (DESIGN §14): skips loudly without it unless `REQUIRE_SHARED_DATA=1`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::collections::HashMap;
use std::path::PathBuf;

use agent_core::dotenv::Layers;
use exchange_core::marketdata::shared_data_dir;
use main_agent::backtest::{BacktestArgs, run_backtest};

#[test]
fn each_feature_changes_the_result() {
    let dir = match shared_data_dir() {
        Ok(Some(dir)) => dir.join("spot-1h"),
        Ok(None) => return,
        Err(message) => panic!("{message}"),
    };
    let pairs = "AAVEUSDT,ADAUSDT,ARBUSDT,AVAXUSDT,AXSUSDT,BCHUSDT,BNBUSDT,BTCUSDT,DASHUSDT,DOGEUSDT,DOTUSDT,\
                 ENAUSDT,ETHUSDT,INJUSDT,LINKUSDT,LTCUSDT,NEARUSDT,OMUSDT,OPUSDT,PAXGUSDT,SNXUSDT,SOLUSDT,\
                 SUIUSDT,TAOUSDT,TRXUSDT,UNIUSDT,XRPUSDT,XTZUSDT,ZECUSDT,ZROUSDT";
    let args = BacktestArgs {
        data: dir,
        symbols: Some(pairs.split(',').map(str::to_owned).collect()),
        from: Some("2025-01-01".to_owned()),
        to: Some("2025-05-01".to_owned()),
        config: Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config/main_agent.toml")),
        overrides: Vec::new(),
        report: PathBuf::from("unused.json"),
        ablation: true,
        save_model: None,
    };
    let outcome = run_backtest(&args, &Layers::from_parts(HashMap::new(), &[]).unwrap()).unwrap();
    let rows = outcome.report.ablation.as_ref().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r.run).collect();
    assert_eq!(names, ["all_on", "no_ml_gate", "no_regime", "no_correlation_filter", "no_var_limit"]);
    let row = |name: &str| rows.iter().find(|r| r.run == name).unwrap();
    let all_on = row("all_on");
    assert_eq!(all_on.trades, outcome.report.trades.len(), "the all-on row is the report's run");
    assert_eq!(all_on.final_equity, outcome.report.summary.final_equity);
    assert!(!row("no_ml_gate").features.ml_gate && row("no_ml_gate").features.var_limit);

    let caps = &outcome.report.caps;
    assert!(
        outcome.report.gate.refused > 0 && caps.correlation_refused > 0 && caps.var_shrunk > 0,
        "{caps:?}"
    );
    assert!(
        row("no_ml_gate").trades > all_on.trades,
        "without the gate more trades: {} vs {}",
        row("no_ml_gate").trades,
        all_on.trades
    );
    assert!(caps.blocked_by_regime + caps.blocked_by_market > 0);
    for name in ["no_regime", "no_correlation_filter", "no_var_limit"] {
        let r = row(name);
        assert!(
            r.final_equity != all_on.final_equity || r.trades != all_on.trades,
            "{name} made no difference: {r:?}"
        );
    }

    let table = outcome.ablation_table.unwrap();
    assert_eq!(table.lines().count(), 6, "{table}");
    for name in names {
        assert!(table.contains(name), "{table}");
    }
}
