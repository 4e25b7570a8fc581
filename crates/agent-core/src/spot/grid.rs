//! The run's time grid and the return series the portfolio caps read.
//!
//! Grid step `s` is the bar opening at `t0 + s * interval`, `t0` being the earliest first bar of
//! the run; every asset has a slot at every step, empty where it has no bar (not listed yet, a
//! hole in its data, or delisted). Two return series per asset are laid on the grid, each `NaN`
//! where either end is missing, so a hole is never bridged:
//! - the 1-bar log return `ln(close[s] / close[s - 1])`, for the correlation cap;
//! - the `h`-bar simple return `close[s] / close[s - h] - 1` (`h` = the VaR horizon), for the
//!   VaR scenarios.
//!
//! A window ending at step `s` reads only steps `<= s`, so nothing later is ever seen. The
//! series are computed once at the start of a run (each value from two closes at or before its
//! step); windows are slices of them, so a check allocates nothing.

use rust_decimal::Decimal;

use super::data::SpotSeries;
use super::windows::window;

/// A decimal as `f64` quickly, for statistics only (mantissa over a power of ten, within a few
/// ulps of the correctly rounded value); `NaN` if it cannot be represented.
pub fn to_f64(value: Decimal) -> f64 {
    const POW10: [f64; 29] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
        1e18, 1e19, 1e20, 1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27, 1e28,
    ];
    let mantissa = value.mantissa();
    match (i64::try_from(mantissa), POW10.get(value.scale() as usize)) {
        (Ok(m), Some(p)) if m.unsigned_abs() < (1 << 53) => m as f64 / p,
        _ => crate::backtest::engine::decimal_to_f64(value),
    }
}

/// Grid steps and the return series of every asset of a run.
#[derive(Debug, Clone)]
pub struct ReturnGrid {
    t0: i64,
    interval: i64,
    steps: usize,
    horizon: usize,
    log_returns: Vec<Vec<f64>>,
    horizon_returns: Vec<Vec<f64>>,
}

impl ReturnGrid {
    /// The grid of `series` (sorted bars of one `interval_ms`), with `horizon`-bar returns.
    pub fn new(series: &[SpotSeries], interval_ms: i64, horizon: usize) -> Self {
        let interval = interval_ms.max(1);
        let t0 = series.iter().filter_map(|s| s.bars.first()).map(|b| b.open_time_ms).min().unwrap_or(0);
        let end = series.iter().filter_map(|s| s.bars.last()).map(|b| b.open_time_ms).max().unwrap_or(t0);
        let steps = usize::try_from((end - t0) / interval + 1).unwrap_or(0);
        let mut closes = vec![f64::NAN; steps];
        let mut log_returns = Vec::with_capacity(series.len());
        let mut horizon_returns = Vec::with_capacity(series.len());
        for s in series {
            closes.iter_mut().for_each(|c| *c = f64::NAN);
            for bar in &s.bars {
                if let Ok(step) = usize::try_from((bar.open_time_ms - t0) / interval)
                    && step < steps
                {
                    closes[step] = to_f64(bar.close.get());
                }
            }
            let mut one = vec![f64::NAN; steps];
            let mut many = vec![f64::NAN; steps];
            for step in 0..steps {
                let now = closes[step];
                if step >= 1 && closes[step - 1] > 0.0 && now > 0.0 {
                    one[step] = (now / closes[step - 1]).ln();
                }
                if step >= horizon && closes[step - horizon] > 0.0 && now > 0.0 {
                    many[step] = now / closes[step - horizon] - 1.0;
                }
            }
            log_returns.push(one);
            horizon_returns.push(many);
        }
        Self { t0, interval, steps, horizon, log_returns, horizon_returns }
    }

    /// Steps in the grid.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// Open time of step 0.
    pub fn t0(&self) -> i64 {
        self.t0
    }

    /// The bar interval.
    pub fn interval(&self) -> i64 {
        self.interval
    }

    /// The VaR horizon in bars.
    pub fn horizon(&self) -> usize {
        self.horizon
    }

    /// Open time of `step`.
    pub fn time_of(&self, step: usize) -> i64 {
        self.t0 + step as i64 * self.interval
    }

    /// The asset's 1-bar log returns at steps `end - len + 1 ..= end` (fewer at the start of the
    /// grid; every asset's window then has the same length).
    pub fn log_returns(&self, asset: usize, end: usize, len: usize) -> &[f64] {
        self.log_returns.get(asset).map_or(&[], |s| window(s, end, len))
    }

    /// The asset's `horizon`-bar returns at steps `end - len + 1 ..= end`.
    pub fn horizon_returns(&self, asset: usize, end: usize, len: usize) -> &[f64] {
        self.horizon_returns.get(asset).map_or(&[], |s| window(s, end, len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use exchange_core::{Bar, InstrumentRules, Notional, Price, Qty, Symbol};
    use rust_decimal_macros::dec;

    fn series(symbol: &str, start_hour: i64, closes: &[Option<Decimal>]) -> SpotSeries {
        let symbol = Symbol::new(symbol).unwrap();
        let bars = closes
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let p = Price::new((*c)?);
                Some(Bar {
                    open_time_ms: (start_hour + i as i64) * 3_600_000,
                    open: p,
                    high: p,
                    low: p,
                    close: p,
                    volume: dec!(1),
                })
            })
            .collect();
        let rules = InstrumentRules::new(
            symbol.clone(),
            Price::new(dec!(0.01)),
            Qty::new(dec!(0.001)),
            Qty::new(dec!(0.001)),
            None,
            Notional::new(dec!(5)),
        )
        .unwrap();
        SpotSeries { symbol, rules, bars }
    }

    #[test]
    fn holes_are_never_bridged() {
        // A from hour 0: 100, 110, (hole), 121, 133.1; B from hour 2: 50, 55.
        let a = series("A", 0, &[Some(dec!(100)), Some(dec!(110)), None, Some(dec!(121)), Some(dec!(133.1))]);
        let b = series("B", 2, &[Some(dec!(50)), Some(dec!(55))]);
        let grid = ReturnGrid::new(&[a, b], 3_600_000, 2);
        assert_eq!((grid.steps(), grid.t0(), grid.time_of(3)), (5, 0, 3 * 3_600_000));
        let one = grid.log_returns(0, 4, 10);
        assert_eq!(one.len(), 5);
        assert!(one[0].is_nan() && one[2].is_nan() && one[3].is_nan(), "{one:?}");
        assert!((one[1] - 1.1f64.ln()).abs() < 1e-12 && (one[4] - 1.1f64.ln()).abs() < 1e-12);
        // Two-bar returns: step 2 missing, step 3 = 121 / 110 - 1, step 4 missing (step 2 is a hole).
        let two = grid.horizon_returns(0, 4, 3);
        assert!(two[0].is_nan() && (two[1] - 0.1).abs() < 1e-12 && two[2].is_nan(), "{two:?}");
        let b_one = grid.log_returns(1, 3, 2);
        assert!(b_one[0].is_nan() && (b_one[1] - 1.1f64.ln()).abs() < 1e-12, "{b_one:?}");
    }

    #[test]
    fn fast_conversion_matches() {
        for d in [dec!(0.1), dec!(65000.12), dec!(0.00000125), dec!(-3.5), dec!(123456789012.123456)] {
            assert_eq!(to_f64(d), crate::backtest::engine::decimal_to_f64(d), "{d}");
        }
    }
}
