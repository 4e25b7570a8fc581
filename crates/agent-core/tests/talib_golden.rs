//! The indicators against TA-Lib 0.8's own output on the first 2000 BTCUSDT spot bars
//! (../shared/data/golden/BTCUSDT-1h-talib-first2000.csv): EMA(20), RSI(14), ATR(14), SMA(20),
//! ROC(12) (as a fraction, TA-Lib's ROCP, which is what the file holds), Bollinger(20, 2), MACD(12, 26, 9), each to 1e-9 relative, with values present exactly
//! where TA-Lib has them.
//!
//! Needs ../shared/data (DESIGN §14): skips loudly without it unless `REQUIRE_SHARED_DATA=1`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use agent_core::indicators::{Atr, Bollinger, Ema, Macd, Roc, Rsi, Sma};
use exchange_core::marketdata::{load_klines, shared_data_dir};
use rust_decimal::prelude::ToPrimitive;

fn parse(field: &str) -> Option<f64> {
    (!field.is_empty()).then(|| field.parse().unwrap())
}

fn check(name: &str, row: usize, got: Option<f64>, want: Option<f64>, compared: &mut usize) {
    match (got, want) {
        (Some(g), Some(w)) => {
            let rel = (g - w).abs() / w.abs().max(1e-12);
            assert!(rel <= 1e-9, "{name} row {row}: ours {g}, TA-Lib {w} (relative {rel:e})");
            *compared += 1;
        }
        (None, None) => {}
        _ => panic!("{name} row {row}: ours {got:?}, TA-Lib {want:?}"),
    }
}

#[test]
fn indicators_match_talib_on_btcusdt() {
    let dir = match shared_data_dir() {
        Ok(Some(dir)) => dir,
        Ok(None) => return,
        Err(message) => panic!("{message}"),
    };
    let golden = std::fs::read_to_string(dir.join("golden/BTCUSDT-1h-talib-first2000.csv")).unwrap();
    let bars = load_klines(&dir.join("spot-1h/BTCUSDT.csv")).unwrap().bars;
    let (mut ema, mut rsi, mut atr, mut sma) = (Ema::new(20), Rsi::new(14), Atr::new(14), Sma::new(20));
    let (mut roc, mut bb, mut macd) = (Roc::new(12), Bollinger::new(20, 2.0), Macd::new(12, 26, 9));
    let mut compared = 0;
    let mut rows = 0;
    for (row, line) in golden.lines().skip(1).enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        let bar = &bars[row];
        assert_eq!(
            f[0].parse::<i64>().unwrap(),
            bar.open_time_ms,
            "row {row}: golden and data disagree on time"
        );
        let f64_of = |p: exchange_core::Price| p.get().to_f64().unwrap();
        let (high, low, close) = (f64_of(bar.high), f64_of(bar.low), f64_of(bar.close));
        check("ema20", row, ema.update(close), parse(f[2]), &mut compared);
        check("rsi14", row, rsi.update(close), parse(f[3]), &mut compared);
        check("atr14", row, atr.update(high, low, close), parse(f[4]), &mut compared);
        check("sma20", row, sma.update(close), parse(f[5]), &mut compared);
        check("roc12", row, roc.update(close), parse(f[6]), &mut compared);
        let b = bb.update(close);
        check("bb_upper", row, b.map(|b| b.upper), parse(f[7]), &mut compared);
        check("bb_lower", row, b.map(|b| b.lower), parse(f[8]), &mut compared);
        let m = macd.update(close);
        check("macd", row, m.map(|m| m.macd), parse(f[9]), &mut compared);
        check("macd_signal", row, m.map(|m| m.signal), parse(f[10]), &mut compared);
        check("macd_hist", row, m.map(|m| m.histogram), parse(f[11]), &mut compared);
        rows += 1;
    }
    assert_eq!(rows, 2000);
    // Every column has values from its lookback on: about 10 x 1970.
    assert!(compared > 19_000, "only {compared} values compared");
}
