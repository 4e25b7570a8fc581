//! `futures-agent backtest` end to end, as a real process in a temp dir with synthetic data: bad
//! input of every kind exits 2, names the file and line or the key, and writes no report; a good
//! run writes the report the README describes, with the trade worked out by hand below.
//!
//! Every run has its current directory in its own temp dir and passes `--config` (except the one
//! test of the default path), so the repository's `config/futures_agent.toml` never leaks in.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::Value;

const HOUR_MS: i64 = 3_600_000;
/// 2024-01-01 00:00 UTC.
const T0: i64 = 1_704_067_200_000;
/// 2023-01-01 00:00 UTC: a year before the klines.
const YEAR_BEFORE: i64 = 1_672_531_200_000;
const HEADER: &str = "open_time_ms,open,high,low,close,volume\n";
/// Where every run writes its report, relative to its temp dir.
const REPORT: &str = "report.json";

/// The test symbol with made-up rules, traded alone.
const CONFIG: &str = r#"symbols = ["TESTUSDT"]

[instruments.TESTUSDT]
tick_size = "0.01"
step_size = "0.001"
min_qty = "0.001"
min_notional = "5"
"#;

/// A unique directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("futures-agent-cli-{test}-{}-{n}", std::process::id()));
        // A leftover from an earlier process with the same id would break the "no report" checks.
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    /// Writes `text` to `relative` (creating its parent) and returns the full path.
    fn write(&self, relative: &str, text: &str) -> PathBuf {
        let path = self.0.join(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, text).unwrap();
        path
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

/// One bar's open, high, low and close.
type Ohlc = [Decimal; 4];

/// The good-path market, one bar an hour from `T0`. Worked by hand with the defaults (window 12,
/// threshold 0.02, leverage 5..25, risk 0.05, stop 0.03, take profit 0.05, trailing 0.10, fee
/// 0.0005, no slippage, capital 10,000):
///
/// - bars 0..=12: 100 / 100.5 / 99.5 / 100, no signal (nothing 12 bars back, then m = 0).
/// - bar 13: 100 / 103 / 100 / 103. At its close m = 103 / close[1] - 1 = 0.03 >= 0.02: long,
///   leverage floor(5 * 0.03 / 0.02) = floor(7.5) = 7. Sized at that close: notional =
///   10000 * 0.05 / 0.03 = 16666.67, qty = 16666.67 / 103 = 161.8122.. floored to the 0.001 step
///   = 161.812; its margin 161.812 * 103 / 7 = 2380.98 fits in the free 10,000.
/// - bar 14: 103 / 103.5 / 102.5 / 103. The entry fills at its open, 103 (entry_time = T0 + 14 h);
///   stop 103 * 0.97 = 99.91, take profit 103 * 1.05 = 108.15, liquidation near 88.8: none is
///   touched. Equity at its close: 10000 - entry fee 161.812 * 103 * 0.0005 = 9991.666682.
/// - bar 15: 103 / 108.5 / 101 / 101. The high crosses 108.15 and the low stays above every
///   downside level (stop 99.91, trailing 103.5 * 0.9 = 93.15): take profit at 108.15
///   (exit_time = T0 + 15 h). Fees 161.812 * (103 + 108.15) * 0.0005 = 17.0833019; pnl =
///   161.812 * 5.15 - 17.0833019 = 816.2484981.
/// - bars 16..=29: 101 / 101.5 / 100.5 / 101. |m| is at most |101 / 103 - 1| = 0.0194 < 0.02, so
///   no second trade.
fn long_entry_bars() -> Vec<Ohlc> {
    let flat_100 = [dec!(100), dec!(100.5), dec!(99.5), dec!(100)];
    let flat_101 = [dec!(101), dec!(101.5), dec!(100.5), dec!(101)];
    let mut bars = vec![flat_100; 13];
    bars.push([dec!(100), dec!(103), dec!(100), dec!(103)]);
    bars.push([dec!(103), dec!(103.5), dec!(102.5), dec!(103)]);
    bars.push([dec!(103), dec!(108.5), dec!(101), dec!(101)]);
    bars.extend([flat_101; 14]);
    bars
}

/// The six-column layout with its header, bar `i` opening at `start + i` hours.
fn six_column(bars: &[Ohlc], start: i64) -> String {
    let rows = bars
        .iter()
        .enumerate()
        .map(|(i, [o, h, l, c])| format!("{},{o},{h},{l},{c},10\n", start + i as i64 * HOUR_MS));
    HEADER.to_owned() + &rows.collect::<String>()
}

/// Binance's 12-column dump, no header, open and close times in microseconds.
fn binance_dump_us(bars: &[Ohlc], start: i64) -> String {
    bars.iter()
        .enumerate()
        .map(|(i, [o, h, l, c])| {
            let open_us = (start + i as i64 * HOUR_MS) * 1000;
            let close_us = open_us + HOUR_MS * 1000 - 1;
            format!("{open_us},{o},{h},{l},{c},10,{close_us},1000,42,5,500,0\n")
        })
        .collect()
}

/// A temp dir with `config.toml` and `data/TESTUSDT.csv` holding the good-path market.
fn scenario(test: &str) -> TempDir {
    let dir = TempDir::new(test);
    dir.write("config.toml", CONFIG);
    dir.write("data/TESTUSDT.csv", &six_column(&long_entry_bars(), T0));
    dir
}

/// Runs `futures-agent backtest --report report.json ARGS` in `dir`.
fn backtest(dir: &TempDir, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_futures-agent"))
        .current_dir(&dir.0)
        .arg("backtest")
        .args(["--report", REPORT])
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts the run exited 2 with every fragment on stderr, printed nothing on stdout and left no
/// report (nor its temp file); returns stderr.
fn assert_refused(dir: &TempDir, args: &[&str], fragments: &[&str]) -> String {
    let out = backtest(dir, args);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "args {args:?}\nstdout: {stdout}\nstderr: {stderr}");
    for fragment in fragments {
        assert!(stderr.contains(fragment), "args {args:?}: stderr lacks {fragment:?}:\n{stderr}");
    }
    assert!(stdout.is_empty(), "args {args:?}: stdout should be empty:\n{stdout}");
    for leftover in [REPORT, "report.json.tmp"] {
        assert!(!dir.join(leftover).exists(), "args {args:?}: {leftover} was written");
    }
    stderr
}

/// Asserts the run exited 0 and returns its report and its stdout and stderr.
fn assert_ran(dir: &TempDir, args: &[&str]) -> (Value, String, String) {
    let out = backtest(dir, args);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "args {args:?}\nstdout: {stdout}\nstderr: {stderr}");
    let report = fs::read_to_string(dir.join(REPORT)).unwrap();
    let report: Value =
        serde_json::from_str(&report).unwrap_or_else(|e| panic!("invalid JSON: {e}\n{report}"));
    (report, stdout, stderr)
}

/// A JSON decimal, written either as a string or as a number.
fn decimal(value: &Value) -> Decimal {
    match value {
        Value::String(s) => s.parse().unwrap_or_else(|e| panic!("{s:?}: {e}")),
        Value::Number(n) => n.to_string().parse().unwrap_or_else(|e| panic!("{n}: {e}")),
        other => panic!("{other} is not a decimal"),
    }
}

/// Replaces the kline file of `dir` by the good-path one with `edit` applied to its lines (line
/// `n` of the file is `lines[n - 1]`; the header is line 1).
fn edit_klines(dir: &TempDir, edit: impl FnOnce(&mut Vec<String>)) {
    let mut lines: Vec<String> = six_column(&long_entry_bars(), T0).lines().map(str::to_owned).collect();
    edit(&mut lines);
    dir.write("data/TESTUSDT.csv", &(lines.join("\n") + "\n"));
}

// ---- bad input: exit 2, the problem named, no report ----

#[test]
fn missing_data_dir_is_refused() {
    let dir = scenario("missing_data_dir");
    assert_refused(
        &dir,
        &["--config", "config.toml", "--data", "nowhere"],
        &["no kline file for TESTUSDT", "nowhere/TESTUSDT.csv does not exist"],
    );
}

#[test]
fn missing_kline_file_of_a_requested_symbol_is_refused() {
    // ETHUSDT has built-in rules, so only its file is missing.
    let dir = scenario("missing_kline_file");
    assert_refused(
        &dir,
        &["--config", "config.toml", "--data", "data", "--symbols", "TESTUSDT,ETHUSDT"],
        &["no kline file for ETHUSDT", "data/ETHUSDT.csv does not exist"],
    );
}

#[test]
fn unsorted_kline_row_is_refused_with_its_line() {
    let dir = scenario("unsorted_row");
    // Lines 5 and 6 hold bars 3 and 4; swapped, line 6 goes back in time.
    edit_klines(&dir, |lines| lines.swap(4, 5));
    let message = format!(
        "data/TESTUSDT.csv line 6: time {} is earlier than the previous row's {}",
        T0 + 3 * HOUR_MS,
        T0 + 4 * HOUR_MS
    );
    assert_refused(&dir, &["--config", "config.toml", "--data", "data"], &[&message]);
}

#[test]
fn duplicate_kline_row_is_refused_with_its_line() {
    let dir = scenario("duplicate_row");
    // Line 6 (bar 4) repeated as line 7.
    edit_klines(&dir, |lines| {
        let copy = lines[5].clone();
        lines.insert(6, copy);
    });
    let message =
        format!("data/TESTUSDT.csv line 7: time {} repeats the previous row's time", T0 + 4 * HOUR_MS);
    assert_refused(&dir, &["--config", "config.toml", "--data", "data"], &[&message]);
}

#[test]
fn garbled_number_is_refused_with_its_line_and_column() {
    let dir = scenario("garbled_number");
    edit_klines(&dir, |lines| lines[9] = lines[9].replacen(",100.5,", ",10o.5,", 1));
    assert_refused(
        &dir,
        &["--config", "config.toml", "--data", "data"],
        &["data/TESTUSDT.csv line 10: column 3 (high) \"10o.5\" is not a decimal number"],
    );
}

#[test]
fn mark_file_of_another_range_is_refused() {
    let dir = scenario("mark_other_range");
    dir.write("data/TESTUSDT-mark.csv", &six_column(&long_entry_bars(), YEAR_BEFORE));
    assert_refused(
        &dir,
        &["--config", "config.toml", "--data", "data"],
        &["data/TESTUSDT-mark.csv covers", "does not overlap the klines of TESTUSDT"],
    );
}

#[test]
fn funding_file_of_another_range_is_refused() {
    let dir = scenario("funding_other_range");
    let funding = format!(
        "funding_time_ms,funding_rate\n{},0.0001\n{},-0.0002\n",
        YEAR_BEFORE,
        YEAR_BEFORE + 8 * HOUR_MS
    );
    dir.write("data/TESTUSDT-funding.csv", &funding);
    assert_refused(
        &dir,
        &["--config", "config.toml", "--data", "data"],
        &["data/TESTUSDT-funding.csv covers", "does not overlap the klines of TESTUSDT"],
    );
}

#[test]
fn unknown_set_key_is_refused() {
    let dir = scenario("unknown_set_key");
    assert_refused(
        &dir,
        &["--config", "config.toml", "--data", "data", "--set", "windoww=3"],
        &["--set windoww=3", "unknown key \"windoww\"", "known keys: window, threshold"],
    );
}

#[test]
fn set_value_that_is_not_a_number_is_refused() {
    let dir = scenario("set_bad_value");
    assert_refused(
        &dir,
        &["--config", "config.toml", "--data", "data", "--set", "threshold=abc"],
        &["--set threshold=abc", "threshold = \"abc\" is not a decimal number"],
    );
}

#[test]
fn impossible_set_values_are_refused_one_by_one() {
    let dir = scenario("impossible_values");
    let cases = [
        ("stop_loss=-0.01", "strategy.stop_loss = -0.01 is out of range: must be in (0, 1)"),
        ("min_leverage=0", "strategy.min_leverage = 0 is out of range: must be at least 1"),
        ("stop_loss=1", "strategy.stop_loss = 1 is out of range: must be in (0, 1)"),
        ("trailing_stop=1.5", "strategy.trailing_stop = 1.5 is out of range: must be in (0, 1)"),
        (
            "max_leverage=126",
            "strategy.max_leverage = 126 is out of range: must be in [min_leverage (5), 125]",
        ),
    ];
    for (set, message) in cases {
        assert_refused(&dir, &["--config", "config.toml", "--data", "data", "--set", set], &[message]);
    }
}

#[test]
fn impossible_set_values_are_all_listed_together() {
    let dir = scenario("impossible_values_together");
    let args = [
        "--config",
        "config.toml",
        "--data",
        "data",
        "--set",
        "stop_loss=-0.01",
        "--set",
        "min_leverage=0",
        "--set",
        "max_leverage=126",
    ];
    assert_refused(
        &dir,
        &args,
        &[
            "3 problems",
            "strategy.stop_loss = -0.01",
            "strategy.min_leverage = 0",
            "strategy.max_leverage = 126",
        ],
    );
}

/// Regression: a `--set` that did not parse used to hide every range problem of the other
/// overrides, so fixing one problem only revealed the next.
#[test]
fn unparsable_and_out_of_range_set_values_are_all_listed_together() {
    let dir = scenario("mixed_set_problems");
    let args = [
        "--config",
        "config.toml",
        "--data",
        "data",
        "--set",
        "windoww=3",
        "--set",
        "threshold=abc",
        "--set",
        "stop_loss=-0.01",
        "--set",
        "max_leverage=126",
    ];
    assert_refused(
        &dir,
        &args,
        &[
            "4 problems",
            "unknown key \"windoww\"",
            "threshold = \"abc\" is not a decimal number",
            "strategy.stop_loss = -0.01 is out of range",
            "strategy.max_leverage = 126 is out of range",
        ],
    );
}

#[test]
fn config_file_with_an_unknown_key_is_refused() {
    let dir = scenario("config_unknown_key");
    dir.write("bad.toml", &format!("{CONFIG}\n[strategy]\nwindoww = 3\n"));
    // CONFIG has 7 lines, then a blank one and the table header: the key is on line 10.
    assert_refused(
        &dir,
        &["--config", "bad.toml", "--data", "data"],
        &["bad.toml: line 10: unknown field `windoww`"],
    );
}

#[test]
fn config_file_with_a_wrong_type_is_refused() {
    let dir = scenario("config_wrong_type");
    dir.write("bad.toml", &format!("{CONFIG}\n[strategy]\nwindow = 3\nmax_leverage = \"ten\"\n"));
    assert_refused(
        &dir,
        &["--config", "bad.toml", "--data", "data"],
        &["bad.toml: line 11, key max_leverage: invalid type: string \"ten\""],
    );
}

#[test]
fn date_that_does_not_exist_is_refused() {
    let dir = scenario("bad_from");
    assert_refused(
        &dir,
        &["--config", "config.toml", "--data", "data", "--from", "2025-02-30"],
        &["--from: \"2025-02-30\" is not a date of the form YYYY-MM-DD"],
    );
}

#[test]
fn from_after_to_is_refused() {
    let dir = scenario("from_after_to");
    assert_refused(
        &dir,
        &["--config", "config.toml", "--data", "data", "--from", "2024-01-02", "--to", "2024-01-01"],
        &["the range is empty: --from must be before --to"],
    );
}

#[test]
fn invalid_symbol_is_refused() {
    let dir = scenario("invalid_symbol");
    assert_refused(
        &dir,
        &["--config", "config.toml", "--data", "data", "--symbols", "btc usdt"],
        &["--symbols: symbol \"btc usdt\" is invalid"],
    );
}

/// Regression: a symbol listed twice used to run twice over one wallet, doubling every trade.
#[test]
fn symbol_listed_twice_is_refused() {
    let dir = scenario("symbol_twice");
    assert_refused(
        &dir,
        &["--config", "config.toml", "--data", "data", "--symbols", "TESTUSDT,TESTUSDT"],
        &["--symbols: TESTUSDT is listed twice"],
    );
    dir.write("twice.toml", &CONFIG.replace(r#"["TESTUSDT"]"#, r#"["TESTUSDT", "TESTUSDT"]"#));
    assert_refused(
        &dir,
        &["--config", "twice.toml", "--data", "data"],
        &["twice.toml: symbols: TESTUSDT is listed twice"],
    );
}

#[test]
fn unwritable_report_exits_1_and_names_the_path() {
    let dir = scenario("unwritable_report");
    let out = Command::new(env!("CARGO_BIN_EXE_futures-agent"))
        .current_dir(&dir.0)
        .args(["backtest", "--config", "config.toml", "--data", "data", "--report", "no/such/dir/r.json"])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot write the report no/such/dir/r.json"), "{stderr}");
}

// ---- good paths ----

#[test]
fn long_entry_run_writes_the_full_report() {
    let dir = scenario("long_entry");
    let (report, stdout, stderr) = assert_ran(&dir, &["--config", "config.toml", "--data", "data"]);
    assert!(stderr.is_empty(), "{stderr}");

    for key in ["params", "trades", "equity", "metrics"] {
        assert!(report.get(key).is_some(), "report lacks {key}");
    }
    assert!(report["metrics"].is_object(), "{}", report["metrics"]);

    // Every strategy key, at the documented defaults, and the rules of the config file.
    let params = &report["params"];
    let expected = [
        ("window", dec!(12)),
        ("threshold", dec!(0.02)),
        ("min_leverage", dec!(5)),
        ("max_leverage", dec!(25)),
        ("risk_per_trade", dec!(0.05)),
        ("stop_loss", dec!(0.03)),
        ("take_profit", dec!(0.05)),
        ("trailing_stop", dec!(0.10)),
        ("max_positions", dec!(3)),
        ("max_daily_loss", dec!(0.20)),
        ("fee", dec!(0.0005)),
        ("slippage_bps", dec!(0)),
        ("mmr", dec!(0.005)),
        ("capital", dec!(10000)),
    ];
    for (key, value) in expected {
        assert_eq!(decimal(&params[key]), value, "params.{key} in {params}");
    }
    let rules = &params["instruments"]["TESTUSDT"];
    for (key, value) in [("tick_size", dec!(0.01)), ("step_size", dec!(0.001)), ("min_qty", dec!(0.001))] {
        assert_eq!(decimal(&rules[key]), value, "instruments.TESTUSDT.{key} in {rules}");
    }
    assert_eq!(decimal(&rules["min_notional"]), dec!(5), "{rules}");

    // The one trade worked out at `long_entry_bars`.
    let trades = report["trades"].as_array().unwrap();
    assert_eq!(trades.len(), 1, "{trades:?}");
    let trade = &trades[0];
    for key in [
        "symbol",
        "side",
        "entry_time",
        "exit_time",
        "entry_price",
        "exit_price",
        "qty",
        "leverage",
        "fees",
        "funding",
        "pnl",
        "exit_reason",
    ] {
        assert!(trade.get(key).is_some(), "trade lacks {key}: {trade}");
    }
    assert_eq!(trade["symbol"], "TESTUSDT");
    assert_eq!(trade["side"], "long");
    assert_eq!(trade["entry_time"], T0 + 14 * HOUR_MS);
    assert_eq!(trade["exit_time"], T0 + 15 * HOUR_MS);
    assert_eq!(trade["leverage"], 7);
    assert_eq!(decimal(&trade["qty"]), dec!(161.812));
    assert_eq!(decimal(&trade["entry_price"]), dec!(103));
    assert_eq!(decimal(&trade["exit_price"]), dec!(108.15));
    assert_eq!(trade["exit_reason"], "take_profit");
    assert_eq!(decimal(&trade["fees"]), dec!(17.0833019));
    assert_eq!(decimal(&trade["funding"]), dec!(0));
    assert_eq!(decimal(&trade["pnl"]), dec!(816.2484981));

    // One point per bar, keyed by the bar's open time; flat until the entry fee, then the profit.
    let equity = report["equity"].as_array().unwrap();
    assert_eq!(equity.len(), long_entry_bars().len());
    for (i, point) in equity.iter().enumerate() {
        assert_eq!(point[0], T0 + i as i64 * HOUR_MS, "point {i}: {point}");
    }
    assert_eq!(decimal(&equity[13][1]), dec!(10000));
    assert_eq!(decimal(&equity[14][1]), dec!(9991.666682));
    assert_eq!(decimal(&equity[29][1]), dec!(10816.2484981));

    for fragment in ["backtest TESTUSDT", "equity 10000 -> 10816.25", "trades 1", "exits: take_profit 1"] {
        assert!(stdout.contains(fragment), "stdout lacks {fragment:?}:\n{stdout}");
    }
    assert!(stdout.contains("report written to report.json"), "{stdout}");
}

#[test]
fn set_override_is_used_and_reported() {
    let dir = scenario("set_override");
    let (report, _, _) =
        assert_ran(&dir, &["--config", "config.toml", "--data", "data", "--set", "threshold=0.03"]);
    // Decimals are written as strings.
    assert_eq!(report["params"]["threshold"], "0.03");
    // m = 0.03 is now exactly the threshold: the same entry, at the floor leverage of 5.
    let trade = &report["trades"][0];
    assert_eq!(report["trades"].as_array().map(Vec::len), Some(1));
    assert_eq!(trade["entry_time"], T0 + 14 * HOUR_MS);
    assert_eq!(trade["leverage"], 5);
    assert_eq!(decimal(&trade["qty"]), dec!(161.812));
}

#[test]
fn symbol_without_data_in_the_range_is_skipped() {
    let dir = scenario("skipped_symbol");
    let config = CONFIG.replace(r#"["TESTUSDT"]"#, r#"["OLDUSDT", "TESTUSDT"]"#)
        + "\n[instruments.OLDUSDT]\ntick_size = \"0.01\"\nstep_size = \"0.001\"\nmin_qty = \"0.001\"\n\
           min_notional = \"5\"\n";
    dir.write("config.toml", &config);
    dir.write("data/OLDUSDT.csv", &six_column(&long_entry_bars(), YEAR_BEFORE));
    let (report, _, stderr) = assert_ran(
        &dir,
        &["--config", "config.toml", "--data", "data", "--from", "2024-01-01", "--to", "2024-01-02"],
    );
    assert!(stderr.contains("OLDUSDT has no data in the range; skipped"), "{stderr}");
    assert!(!stderr.contains("TESTUSDT"), "{stderr}");
    let params = &report["params"];
    assert_eq!(params["symbols"], serde_json::json!(["TESTUSDT"]));
    assert_eq!(params["from"], "2024-01-01");
    assert_eq!(params["to"], "2024-01-02");
    // `--to` is exclusive: the 24 bars of 2024-01-01, which still hold the whole trade.
    assert_eq!(report["equity"].as_array().unwrap().len(), 24);
    assert_eq!(report["trades"].as_array().unwrap().len(), 1);
    assert_eq!(report["trades"][0]["symbol"], "TESTUSDT");
}

#[test]
fn binance_dump_in_microseconds_gives_the_same_run() {
    let six = scenario("layout_six_column");
    let dump = scenario("layout_binance_dump");
    dump.write("data/TESTUSDT.csv", &binance_dump_us(&long_entry_bars(), T0));
    let args = ["--config", "config.toml", "--data", "data"];
    let (from_six, _, _) = assert_ran(&six, &args);
    let (from_dump, _, _) = assert_ran(&dump, &args);
    assert_eq!(from_dump["trades"].as_array().map(Vec::len), Some(1));
    assert_eq!(from_dump["trades"], from_six["trades"]);
    assert_eq!(from_dump["equity"], from_six["equity"]);
}

#[test]
fn default_config_is_read_from_the_working_directory() {
    let dir = scenario("default_config");
    let moved = CONFIG.to_owned() + "\n[strategy]\nmax_leverage = 6\n";
    dir.write("config/futures_agent.toml", &moved);
    fs::remove_file(dir.join("config.toml")).unwrap();
    let (report, _, _) = assert_ran(&dir, &["--data", "data"]);
    assert_eq!(report["params"]["max_leverage"], 6);
    assert_eq!(report["trades"][0]["leverage"], 6);
}
