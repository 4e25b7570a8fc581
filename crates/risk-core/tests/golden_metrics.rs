//! Golden check of the metric formulas against empyrical/quantstats values on real data:
//! `golden/BTCUSDT-1h-2024-metrics.csv` (Sharpe, Sortino, max drawdown, CAGR, total return and
//! annual volatility of BTCUSDT spot hourly close-to-close returns in 2024, 8760 periods a year).
//!
//! The slice: the closes of the bars whose open time is in [2024-01-01 00:00, 2025-01-01 00:00)
//! UTC. BTCUSDT spot has no gap in 2024, so that is 8784 bars (366 days x 24) and 8783 returns,
//! the golden `n`; the total return 1.2030722 is last close 93,576.00 over the first 2024 close
//! 42,475.23 (starting from the last 2023 close, 42,283.58, would give 8784 returns and 1.2130).
//! The max drawdown is taken over the closes themselves (empyrical's cumulative series from the
//! first close).
//!
//! Data folder: `DUAL_AGENT_DATA_DIR`, else `<repo>/../shared/data`. When absent the test says so
//! loudly and passes, unless `REQUIRE_SHARED_DATA=1`.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use risk_core::metrics::{
    annual_volatility, cagr_from_returns, max_drawdown, sharpe, simple_returns, sortino,
};

/// 2024-01-01 00:00 UTC and 2025-01-01 00:00 UTC in ms.
const START_2024_MS: i64 = 1_704_067_200_000;
const START_2025_MS: i64 = 1_735_689_600_000;
const PERIODS_PER_YEAR: f64 = 8760.0;
const REL_TOL: f64 = 1e-9;

fn data_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("DUAL_AGENT_DATA_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
    };
    if dir.join("golden/BTCUSDT-1h-2024-metrics.csv").is_file() && dir.join("spot-1h/BTCUSDT.csv").is_file() {
        return Some(dir);
    }
    assert!(
        std::env::var("REQUIRE_SHARED_DATA").as_deref() != Ok("1"),
        "REQUIRE_SHARED_DATA=1 but shared data not found at {}",
        dir.display()
    );
    eprintln!("SKIPPED: shared data not found at {} (set DUAL_AGENT_DATA_DIR)", dir.display());
    None
}

type TestResult<T> = Result<T, Box<dyn std::error::Error>>;

/// The golden row as column name -> text.
fn golden_row(dir: &Path) -> TestResult<HashMap<String, String>> {
    let text = fs::read_to_string(dir.join("golden/BTCUSDT-1h-2024-metrics.csv"))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().ok_or("golden file is empty")?.split(',').collect();
    let values: Vec<&str> = lines.next().ok_or("golden file has no data row")?.split(',').collect();
    assert_eq!(
        header.len(),
        values.len(),
        "golden row has {} fields for {} columns",
        values.len(),
        header.len()
    );
    Ok(header.into_iter().zip(values).map(|(k, v)| (k.to_owned(), v.to_owned())).collect())
}

/// Closes of the BTCUSDT spot bars opening in 2024, parsed straight from the CSV.
fn closes_2024(dir: &Path) -> TestResult<Vec<f64>> {
    let text = fs::read_to_string(dir.join("spot-1h/BTCUSDT.csv"))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().ok_or("kline file is empty")?.split(',').collect();
    assert_eq!(header, ["open_time_ms", "open", "high", "low", "close", "volume"]);
    let mut closes = Vec::new();
    let mut last_open = i64::MIN;
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields.len(), 6, "row {line:?}");
        let open_time: i64 = fields[0].parse()?;
        assert!(open_time > last_open, "rows not sorted at {open_time}");
        last_open = open_time;
        if (START_2024_MS..START_2025_MS).contains(&open_time) {
            closes.push(fields[4].parse::<f64>()?);
        }
    }
    Ok(closes)
}

fn assert_rel(name: &str, got: Option<f64>, want: f64) {
    let got = got.unwrap_or_else(|| panic!("{name}: got None, want {want}"));
    let rel = (got - want).abs() / want.abs();
    eprintln!("{name}: got {got:.15} golden {want} relative difference {rel:.2e}");
    assert!(rel <= REL_TOL, "{name}: got {got}, golden {want}, relative difference {rel:e}");
}

#[test]
fn btcusdt_2024_hourly_metrics_match_empyrical() -> TestResult<()> {
    let Some(dir) = data_dir() else { return Ok(()) };
    let golden = golden_row(&dir)?;
    let number = |key: &str| golden[key].parse::<f64>().unwrap();

    let closes = closes_2024(&dir)?;
    let returns = simple_returns(&closes);
    assert_eq!(closes.len(), 8784);
    assert_eq!(returns.len(), golden["n"].parse::<usize>().unwrap());
    assert_eq!(number("periods_per_year"), PERIODS_PER_YEAR);

    assert_rel("sharpe", sharpe(&returns, PERIODS_PER_YEAR), number("sharpe"));
    assert_rel("sortino", sortino(&returns, PERIODS_PER_YEAR), number("sortino"));
    assert_rel("max_drawdown", Some(max_drawdown(&closes)), number("max_drawdown"));
    assert_rel("cagr", cagr_from_returns(&returns, PERIODS_PER_YEAR), number("cagr"));
    assert_rel("ann_vol", annual_volatility(&returns, PERIODS_PER_YEAR), number("ann_vol"));
    let total = risk_core::metrics::total_return(closes[0], closes[closes.len() - 1]);
    assert_rel("total_return", total, number("total_return"));
    Ok(())
}
