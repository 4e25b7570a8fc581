//! `main-agent backtest` end to end, as a real process in a temp dir with synthetic data: bad
//! input of every kind exits 2, names the problem and writes no report; a good run writes the
//! report the module docs describe; the `TB_ENABLE_*` variables and `--set` switch features;
//! `--ablation` prints its table; `--save-model` writes a model the gate can load.
//!
//! Every run has its current directory in its own temp dir, passes `--config`, and has the
//! `TB_*` variables of the test process removed, so nothing of the developer's leaks in.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

const HOUR_MS: i64 = 3_600_000;
/// 2024-01-01 00:00 UTC.
const T0: i64 = 1_704_067_200_000;
const REPORT: &str = "report.json";

/// Short warm-ups and an early first fit, so a few weeks of synthetic bars trade.
const CONFIG: &str = r#"
[gate]
min_train_samples = 100
retrain_every = 48
[regime]
vol_rank_window = 240
vol_rank_min = 48
"#;

struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("main-agent-cli-{test}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    fn write(&self, relative: &str, text: &str) {
        let path = self.0.join(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, text).unwrap();
    }

    fn join(&self, relative: &str) -> PathBuf {
        self.0.join(relative)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A random walk with trending and volatile stretches, `bars` hourly bars from `start`.
fn klines(seed: u64, start: i64, bars: usize, price: f64) -> String {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut close = price;
    let mut out = String::from("open_time_ms,open,high,low,close,volume\n");
    for i in 0..bars {
        let open = close;
        let drift = if (i / 200) % 2 == 0 { 0.0015 } else { -0.001 };
        let vol = if (i / 150) % 4 == 3 { 0.02 } else { 0.006 };
        close = open * (1.0 + drift + vol * (next() - 0.5) * 3.4);
        let high = open.max(close) * (1.0 + 0.002 * next());
        let low = open.min(close) * (1.0 - 0.002 * next());
        out += &format!(
            "{},{open:.4},{high:.4},{low:.4},{close:.4},{:.3}\n",
            start + i as i64 * HOUR_MS,
            10.0 + next()
        );
    }
    out
}

/// A temp dir with `config.toml` and four pairs: three over 1500 bars from `T0`, and OLDUSDT
/// whose 100 bars end long before.
fn scenario(test: &str) -> TempDir {
    let dir = TempDir::new(test);
    dir.write("config.toml", CONFIG);
    dir.write("data/AAAUSDT.csv", &klines(1, T0, 1500, 50.0));
    dir.write("data/BBBUSDT.csv", &klines(2, T0, 1500, 2.0));
    dir.write("data/BTCUSDT.csv", &klines(3, T0, 1500, 60_000.0));
    dir.write("data/OLDUSDT.csv", &klines(4, T0 - 400 * HOUR_MS, 100, 5.0));
    dir
}

fn backtest(dir: &TempDir, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_main-agent"));
    cmd.current_dir(&dir.0).arg("backtest").args(["--report", REPORT, "--config", "config.toml"]).args(args);
    for (key, _) in std::env::vars() {
        if key.starts_with("TB_") {
            cmd.env_remove(key);
        }
    }
    cmd.envs(env.iter().copied());
    cmd.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_refused(dir: &TempDir, args: &[&str], env: &[(&str, &str)], fragments: &[&str]) {
    let out = backtest(dir, args, env);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "args {args:?}\nstdout: {stdout}\nstderr: {stderr}");
    for fragment in fragments {
        assert!(stderr.contains(fragment), "args {args:?}: stderr lacks {fragment:?}:\n{stderr}");
    }
    assert!(stdout.is_empty(), "args {args:?}: stdout should be empty:\n{stdout}");
    for leftover in [REPORT, "report.json.tmp"] {
        assert!(!dir.join(leftover).exists(), "args {args:?}: {leftover} was written");
    }
}

fn assert_ran(dir: &TempDir, args: &[&str], env: &[(&str, &str)]) -> (Value, String, String) {
    let out = backtest(dir, args, env);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "args {args:?}\nstdout: {stdout}\nstderr: {stderr}");
    let report = fs::read_to_string(dir.join(REPORT)).unwrap();
    (serde_json::from_str(&report).unwrap(), stdout, stderr)
}

/// Arguments, environment, and fragments the error must contain.
type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a [&'a str]);

#[test]
fn bad_input_exits_2_and_names_the_problem() {
    let dir = scenario("bad_input");
    let cases: [Case; 9] = [
        (&["--data", "nowhere"], &[], &["cannot list nowhere"]),
        (&["--data", "data", "--symbols", "AAAUSDT,ZZZUSDT"], &[], &["no kline file for ZZZUSDT"]),
        (&["--data", "data", "--symbols", "AAAUSDT,AAAUSDT"], &[], &["AAAUSDT is listed twice"]),
        (&["--data", "data", "--set", "risk.var_limt=0.1"], &[], &["--set risk.var_limt=0.1", "var_limt"]),
        (&["--data", "data", "--set", "gate.horizon=soon"], &[], &["gate.horizon"]),
        (
            &["--data", "data", "--set", "risk.var_limit=-1", "--set", "gate.threshold=2"],
            &[],
            &["2 problems", "risk.var_limit = -1 is out of range", "gate.threshold = 2 is out of range"],
        ),
        (&["--data", "data"], &[("TB_ENABLE_ML_GATE", "maybe")], &["TB_ENABLE_ML_GATE"]),
        (&["--data", "data", "--from", "2024-02-30"], &[], &["--from", "2024-02-30"]),
        (&["--data", "data", "--from", "2030-01-01"], &[], &["no pair has data in the range"]),
    ];
    for (args, env, fragments) in cases {
        assert_refused(&dir, args, env, fragments);
    }
    dir.write("config.toml", "[risk]\nvar_limt = 0.1\n");
    assert_refused(&dir, &["--data", "data"], &[], &["config.toml", "line 2", "var_limt"]);
    dir.write("config.toml", CONFIG);
    dir.write("data/BADUSDT.csv", "open_time_ms,open,high,low,close,volume\n1,2,3\n");
    assert_refused(&dir, &["--data", "data"], &[], &["data/BADUSDT.csv line 2"]);
}

#[test]
fn a_good_run_writes_the_whole_report() {
    let dir = scenario("good_run");
    let args = ["--data", "data", "--from", "2024-01-01", "--save-model", "model.json"];
    let (report, stdout, stderr) = assert_ran(&dir, &args, &[]);
    assert!(stderr.contains("note: OLDUSDT has no data in the range; skipped"), "{stderr}");
    assert_eq!(report["params"]["skipped"][0], "OLDUSDT");
    let symbols: Vec<&str> =
        report["params"]["symbols"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    assert_eq!(symbols, ["AAAUSDT", "BBBUSDT", "BTCUSDT"]);
    for key in ["trades", "equity", "metrics", "summary", "regimes", "gate", "caps"] {
        assert!(!report[key].is_null(), "report lacks {key}");
    }
    assert!(report["ablation"].is_null(), "no ablation unless asked");
    let rules = &report["params"]["instruments"]["AAAUSDT"];
    assert_eq!((rules["tick_size"].as_str(), rules["min_notional"].as_str()), (Some("0.0001"), Some("5")));
    let trades = report["trades"].as_array().unwrap();
    assert!(!trades.is_empty(), "{stdout}");
    for t in trades {
        for key in [
            "symbol",
            "entry_time",
            "exit_time",
            "entry_price",
            "exit_price",
            "qty",
            "fees",
            "pnl",
            "exit_reason",
        ] {
            assert!(!t[key].is_null(), "trade lacks {key}: {t}");
        }
        let reason = t["exit_reason"].as_str().unwrap();
        assert!(
            ["trailing_stop", "regime_flip", "daily_loss_cap", "end_of_data"].contains(&reason),
            "{reason}"
        );
    }
    assert!(report["gate"]["enabled"].as_bool().unwrap() && report["gate"]["fits"].as_u64().unwrap() > 0);
    assert!(report["gate"]["forward_return_method"].as_str().unwrap().contains("horizon"));
    let market = &report["regimes"]["market"]["share"];
    let total: f64 = ["trend_up", "trend_down", "range", "high_vol", "warmup"]
        .iter()
        .map(|k| market[k].as_f64().unwrap())
        .sum();
    assert!((total - 1.0).abs() < 1e-9, "{market}");
    for fragment in
        ["backtest of 3 pairs", "equity 10000 ->", "gate:", "caps:", "report written to report.json"]
    {
        assert!(stdout.contains(fragment), "stdout lacks {fragment:?}:\n{stdout}");
    }
    let model = agent_core::ml::LogisticModel::load(&dir.join("model.json")).unwrap();
    assert_eq!(model.weights.len(), agent_core::spot::N_FEATURES);
}

#[test]
fn environment_and_set_switch_features() {
    let dir = scenario("switches");
    let (report, stdout, _) = assert_ran(
        &dir,
        &["--data", "data"],
        &[("TB_ENABLE_ML_GATE", "0"), ("TB_ENABLE_VAR_LIMIT", "false")],
    );
    let features = &report["params"]["features"];
    assert_eq!(features["ml_gate"], false);
    assert_eq!(features["var_limit"], false);
    assert_eq!(features["regime"], true);
    assert_eq!(report["gate"]["enabled"], false);
    assert!(stdout.contains("gate: off"), "{stdout}");
    // --set wins over the environment.
    let (report, _, _) =
        assert_ran(&dir, &["--data", "data", "--set", "ml_gate=1"], &[("TB_ENABLE_ML_GATE", "0")]);
    assert_eq!(report["params"]["features"]["ml_gate"], true);
}

#[test]
fn ablation_prints_its_table() {
    let dir = scenario("ablation");
    let (report, stdout, _) =
        assert_ran(&dir, &["--data", "data", "--symbols", "AAAUSDT,BBBUSDT,BTCUSDT", "--ablation"], &[]);
    let rows = report["ablation"].as_array().unwrap();
    assert_eq!(rows.len(), 5);
    for name in ["all_on", "no_ml_gate", "no_regime", "no_correlation_filter", "no_var_limit"] {
        assert!(stdout.lines().any(|l| l.starts_with(name)), "stdout lacks the {name} row:\n{stdout}");
    }
}

/// `main-agent run` and `check` with bad settings: every problem listed with its file and key,
/// exit 2, before anything is started (no PID file, no log).
#[test]
fn run_with_bad_settings_lists_every_problem_and_exits_2() {
    let dir = TempDir::new("run-bad");
    dir.write(
        "bad.toml",
        "venue = \"moon\"\ncapital = \"-5\"\nsymbols = [\"BTCUSDT\", \"BTCUSDT\"]\n[risk]\nvar_limit = -1\n",
    );
    dir.write("unknown.toml", "[risk]\nvar_limt = 0.1\n");
    dir.write("live.toml", "venue = \"binance\"\n");
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_main-agent"));
        cmd.current_dir(&dir.0).args(args);
        for (key, _) in std::env::vars() {
            if key.starts_with("TB_") || key.starts_with("BINANCE_") || key == "DUAL_AGENT_LIVE" {
                cmd.env_remove(key);
            }
        }
        cmd.envs(env.iter().copied());
        cmd.output().unwrap()
    };
    let cases: [Case; 5] = [
        (
            &["run", "--config", "bad.toml"],
            &[],
            &["bad.toml", "venue = \"moon\"", "capital", "BTCUSDT is listed twice", "risk.var_limit = -1"],
        ),
        (&["check", "--config", "unknown.toml"], &[], &["unknown.toml", "var_limt"]),
        (&["run", "--config", "bad.toml"], &[("TB_ENABLE_REGIME", "maybe")], &["TB_ENABLE_REGIME"]),
        (
            &["run", "--config", "live.toml"],
            &[],
            &["BINANCE_API_KEY and BINANCE_API_SECRET", "DUAL_AGENT_LIVE=yes"],
        ),
        (
            &["run", "--config", "live.toml", "--paper"],
            &[("BINANCE_API_KEY", "k"), ("TB_ENABLE_ML_GATE", "2")],
            &["TB_ENABLE_ML_GATE"],
        ),
    ];
    for (args, env, fragments) in cases {
        let out = run(args, env);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?} {env:?}: {stderr}");
        for fragment in fragments {
            assert!(stderr.contains(fragment), "{args:?} {env:?}: stderr lacks {fragment:?}:\n{stderr}");
        }
        assert!(!dir.join("run/main-agent.pid").exists(), "{args:?}: a PID file was taken");
    }
}
