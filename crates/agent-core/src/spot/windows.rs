//! The return windows the portfolio caps read at a decision, behind one trait
//! ([`ReturnWindows`]) so the backtest and the live agent run the same entry decision:
//! - the backtest reads its precomputed [`ReturnGrid`] at the decision's step ([`GridWindows`]);
//! - the live agent keeps a rolling buffer of the same series ([`RollingReturns`]), filled as
//!   bars close and read at the latest close.
//!
//! Both give, per asset, the 1-bar log returns (correlation cap) and the `horizon`-bar simple
//! returns (VaR) of the `len` steps ending at the decision, one value per bar interval, `NaN`
//! where either close is missing (a hole is never bridged), fewer values at the start of the
//! data. For the same bars from the same first step they give the same slices, bit for bit.

use super::grid::ReturnGrid;

/// Return windows ending at one decision's close.
pub trait ReturnWindows {
    /// The asset's 1-bar log returns over the `len` steps ending at the decision.
    fn log_returns(&self, asset: usize, len: usize) -> &[f64];
    /// The asset's `horizon`-bar simple returns over the `len` steps ending at the decision.
    fn horizon_returns(&self, asset: usize, len: usize) -> &[f64];
}

/// The backtest grid's windows at one step.
#[derive(Debug, Clone, Copy)]
pub struct GridWindows<'a> {
    /// The run's grid.
    pub grid: &'a ReturnGrid,
    /// The decision's step.
    pub step: usize,
}

impl ReturnWindows for GridWindows<'_> {
    fn log_returns(&self, asset: usize, len: usize) -> &[f64] {
        self.grid.log_returns(asset, self.step, len)
    }

    fn horizon_returns(&self, asset: usize, len: usize) -> &[f64] {
        self.grid.horizon_returns(asset, self.step, len)
    }
}

/// The last `len` values ending at index `end` (fewer when the series is shorter).
pub(super) fn window(series: &[f64], end: usize, len: usize) -> &[f64] {
    let end = end.min(series.len().saturating_sub(1));
    let start = (end + 1).saturating_sub(len);
    series.get(start..=end).unwrap_or(&[])
}

/// One asset's closes and returns, index `k` being step `first + k`.
#[derive(Debug, Clone, Default)]
struct AssetSeries {
    closes: Vec<f64>,
    log: Vec<f64>,
    many: Vec<f64>,
}

/// The live twin of [`ReturnGrid`]: the same two return series per asset on an absolute step
/// grid (step = open time / interval), kept for the last `keep` steps at least. Every asset's
/// series reaches the same latest step (missing bars are `NaN`), so windows line up across
/// assets as on the grid. Memory stays under `2 * keep` values per series.
#[derive(Debug, Clone)]
pub struct RollingReturns {
    horizon: usize,
    keep: usize,
    /// Step of index 0; `None` before the first close.
    first: Option<i64>,
    assets: Vec<AssetSeries>,
}

impl RollingReturns {
    /// An empty buffer for `assets` assets, `horizon`-bar returns, windows of up to `keep` steps.
    pub fn new(assets: usize, horizon: usize, keep: usize) -> Self {
        Self {
            horizon: horizon.max(1),
            keep: keep.max(horizon + 1).max(2),
            first: None,
            assets: vec![AssetSeries::default(); assets],
        }
    }

    /// The latest step every series reaches, if any.
    pub fn last_step(&self) -> Option<i64> {
        let len = self.assets.first().map_or(0, |a| a.closes.len());
        Some(self.first? + i64::try_from(len).ok()? - 1).filter(|_| len > 0)
    }

    /// Extends every series with `NaN` up to `step` (a decision at `step` reads windows ending
    /// there, and assets without a bar at it must show a hole).
    pub fn advance_to(&mut self, step: i64) {
        let first = *self.first.get_or_insert(step);
        let Ok(want) = usize::try_from(step - first + 1) else { return };
        for a in &mut self.assets {
            if a.closes.len() < want {
                a.closes.resize(want, f64::NAN);
                a.log.resize(want, f64::NAN);
                a.many.resize(want, f64::NAN);
            }
        }
        self.compact();
    }

    /// Records `asset`'s close at `step` and the returns ending there. A step older than the
    /// buffer is ignored; a later one first extends every series to it.
    pub fn record(&mut self, asset: usize, step: i64, close: f64) {
        if asset >= self.assets.len() {
            return;
        }
        if self.last_step().is_none_or(|last| step > last) {
            self.advance_to(step);
        }
        let Some(first) = self.first else { return };
        let Ok(k) = usize::try_from(step - first) else { return };
        let horizon = self.horizon;
        let a = &mut self.assets[asset];
        let Some(slot) = a.closes.get_mut(k) else { return };
        *slot = close;
        if k >= 1 && a.closes[k - 1] > 0.0 && close > 0.0 {
            a.log[k] = (close / a.closes[k - 1]).ln();
        }
        if k >= horizon && a.closes[k - horizon] > 0.0 && close > 0.0 {
            a.many[k] = close / a.closes[k - horizon] - 1.0;
        }
    }

    /// Drops the oldest steps once the series hold twice what windows need.
    fn compact(&mut self) {
        let len = self.assets.first().map_or(0, |a| a.closes.len());
        if len <= 2 * self.keep {
            return;
        }
        let drop = len - self.keep;
        for a in &mut self.assets {
            a.closes.drain(..drop);
            a.log.drain(..drop);
            a.many.drain(..drop);
        }
        if let Some(first) = self.first.as_mut() {
            *first += drop as i64;
        }
    }
}

/// Windows ending at the latest step.
impl ReturnWindows for RollingReturns {
    fn log_returns(&self, asset: usize, len: usize) -> &[f64] {
        self.assets.get(asset).map_or(&[], |a| window(&a.log, a.log.len().saturating_sub(1), len))
    }

    fn horizon_returns(&self, asset: usize, len: usize) -> &[f64] {
        self.assets.get(asset).map_or(&[], |a| window(&a.many, a.many.len().saturating_sub(1), len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spot::data::SpotSeries;
    use crate::spot::grid::to_f64;
    use exchange_core::{Bar, InstrumentRules, Notional, Price, Qty, Symbol};
    use rust_decimal::Decimal;
    use rust_decimal::prelude::FromPrimitive;
    use rust_decimal_macros::dec;

    const HOUR: i64 = 3_600_000;

    fn series(symbol: &str, start: i64, closes: &[Option<f64>]) -> SpotSeries {
        let symbol = Symbol::new(symbol).unwrap();
        let bars = closes
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let p = Price::new(Decimal::from_f64((*c)?).unwrap().round_dp(4));
                Some(Bar {
                    open_time_ms: (start + i as i64) * HOUR,
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
            Price::new(dec!(0.0001)),
            Qty::new(dec!(0.001)),
            Qty::new(dec!(0.001)),
            None,
            Notional::new(dec!(5)),
        )
        .unwrap();
        SpotSeries { symbol, rules, bars }
    }

    /// The rolling buffer fed bar by bar gives the grid's windows at every step, holes,
    /// late listings and compaction included.
    #[test]
    fn rolling_windows_equal_the_grids() {
        let walk = |seed: f64, n: usize, hole: fn(usize) -> bool| -> Vec<Option<f64>> {
            (0..n)
                .map(|i| (!hole(i)).then(|| 100.0 + seed * (i as f64 * 0.37).sin() + i as f64 * 0.1))
                .collect()
        };
        let all = [
            series("A", 10, &walk(3.0, 300, |i| i % 41 == 7)),
            series("B", 40, &walk(5.0, 250, |i| (100..130).contains(&i))),
        ];
        let (horizon, keep) = (5, 30);
        let grid = ReturnGrid::new(&all, HOUR, horizon);
        let mut rolling = RollingReturns::new(2, horizon, keep);
        for step in 0..grid.steps() {
            let time = grid.time_of(step);
            for (i, s) in all.iter().enumerate() {
                if let Some(bar) = s.bars.iter().find(|b| b.open_time_ms == time) {
                    rolling.record(i, time / HOUR, to_f64(bar.close.get()));
                }
            }
            rolling.advance_to(time / HOUR);
            let at = GridWindows { grid: &grid, step };
            for asset in 0..2 {
                for len in [1, 7, keep] {
                    let same = |a: &[f64], b: &[f64]| {
                        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
                    };
                    let (g, r) = (at.log_returns(asset, len), rolling.log_returns(asset, len));
                    assert!(same(g, r), "log step {step} asset {asset} len {len}: {g:?} vs {r:?}");
                    let (g, r) = (at.horizon_returns(asset, len), rolling.horizon_returns(asset, len));
                    assert!(same(g, r), "horizon step {step} asset {asset} len {len}: {g:?} vs {r:?}");
                }
            }
        }
        assert!(rolling.assets[0].closes.len() <= 2 * keep, "memory stays bounded");
        assert_eq!(rolling.last_step(), Some(grid.time_of(grid.steps() - 1) / HOUR));
    }

    #[test]
    fn odd_input_is_ignored() {
        let mut r = RollingReturns::new(1, 2, 4);
        r.record(5, 10, 1.0);
        r.record(0, 10, 100.0);
        r.record(0, 3, 50.0);
        r.record(0, 11, 110.0);
        assert_eq!(r.last_step(), Some(11));
        let log = r.log_returns(0, 4);
        assert_eq!(log.len(), 2);
        assert!((log[1] - 1.1f64.ln()).abs() < 1e-12);
    }
}
