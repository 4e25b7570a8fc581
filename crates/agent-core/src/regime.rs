//! Market regimes (DESIGN §11): each asset, and the market (BTCUSDT's), is in one of four
//! regimes at every bar close, classified from trend strength (ADX), the direction and slope of
//! exponential averages, and where the current realized volatility sits in its own history.
//!
//! Classification at the close of bar t, first match wins (every threshold a key of
//! [`RegimeParams`]):
//! 1. `high_vol` when the volatility percentile is at or above `high_vol_percentile` [0.90];
//! 2. `trend_up` when ADX >= `adx_trend` [20], the fast EMA is above the slow one and the slow
//!    EMA's slope over `slope_bars` [12] is at least `slope_min` [0.002];
//! 3. `trend_down`, the mirror: ADX >= `adx_trend`, fast below slow, slope <= -`slope_min`;
//! 4. `range` otherwise (weak trend, or EMAs and slope that disagree).
//!
//! The volatility is [`RealizedVol`] over `vol_window` [24] log returns; its percentile is the
//! fraction of the last `vol_rank_window` [720] volatility values (the current one included) that
//! are at or below the current one. It uses only values up to this close, so it looks at
//! nothing later. No regime is given before every input exists and the volatility history holds
//! at least `vol_rank_min` [168] values (the warm-up).
//!
//! Everything is incremental and O(log n) per bar at most (the percentile keeps its window
//! sorted), with no allocation after the warm-up.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::indicators::{Adx, Ema, RealizedVol, Window};

/// A market regime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Regime {
    /// Strong trend upwards.
    TrendUp,
    /// Strong trend downwards.
    TrendDown,
    /// No clear trend.
    Range,
    /// Volatility in the top of its own history.
    HighVol,
}

impl Regime {
    /// Every regime, in report order.
    pub const ALL: [Regime; 4] = [Regime::TrendUp, Regime::TrendDown, Regime::Range, Regime::HighVol];

    /// The report's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TrendUp => "trend_up",
            Self::TrendDown => "trend_down",
            Self::Range => "range",
            Self::HighVol => "high_vol",
        }
    }

    /// Position in [`Regime::ALL`] (for counters and one-hot features).
    pub fn index(self) -> usize {
        match self {
            Self::TrendUp => 0,
            Self::TrendDown => 1,
            Self::Range => 2,
            Self::HighVol => 3,
        }
    }

    /// True for the regimes in which no new long is opened: trend-down and high volatility.
    pub fn blocks_longs(self) -> bool {
        matches!(self, Self::TrendDown | Self::HighVol)
    }
}

/// The thresholds and periods of the classification (defaults in brackets in the module notes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegimeParams {
    /// Fast EMA period. Default 20.
    pub ema_fast: usize,
    /// Slow EMA period. Default 50.
    pub ema_slow: usize,
    /// Bars over which the slow EMA's slope is measured. Default 12.
    pub slope_bars: usize,
    /// Slope (fractional change of the slow EMA over `slope_bars`) a trend needs. Default 0.002.
    pub slope_min: f64,
    /// ADX period. Default 14.
    pub adx_period: usize,
    /// ADX at or above which a trend counts as strong. Default 20.
    pub adx_trend: f64,
    /// Log returns in the realized volatility. Default 24.
    pub vol_window: usize,
    /// Volatility values in the percentile's history. Default 720 (30 days of hours).
    pub vol_rank_window: usize,
    /// Volatility values needed before a percentile is given. Default 168.
    pub vol_rank_min: usize,
    /// Percentile at or above which the regime is high volatility. Default 0.90.
    pub high_vol_percentile: f64,
}

impl Default for RegimeParams {
    fn default() -> Self {
        Self {
            ema_fast: 20,
            ema_slow: 50,
            slope_bars: 12,
            slope_min: 0.002,
            adx_period: 14,
            adx_trend: 20.0,
            vol_window: 24,
            vol_rank_window: 720,
            vol_rank_min: 168,
            high_vol_percentile: 0.90,
        }
    }
}

impl RegimeParams {
    /// Every range problem, as `key = value: rule` lines.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut check = |ok: bool, key: &str, value: String, rule: &str| {
            if !ok {
                out.push(format!("{key} = {value} is out of range: {rule}"));
            }
        };
        check(self.ema_fast >= 1, "ema_fast", self.ema_fast.to_string(), "must be at least 1");
        check(self.ema_slow > self.ema_fast, "ema_slow", self.ema_slow.to_string(), "must be above ema_fast");
        check(self.slope_bars >= 1, "slope_bars", self.slope_bars.to_string(), "must be at least 1");
        check(
            self.slope_min.is_finite() && self.slope_min >= 0.0,
            "slope_min",
            self.slope_min.to_string(),
            "must be 0 or more",
        );
        check(self.adx_period >= 2, "adx_period", self.adx_period.to_string(), "must be at least 2");
        check(
            (0.0..=100.0).contains(&self.adx_trend),
            "adx_trend",
            self.adx_trend.to_string(),
            "must be in [0, 100]",
        );
        check(self.vol_window >= 2, "vol_window", self.vol_window.to_string(), "must be at least 2");
        check(
            self.vol_rank_window >= 2,
            "vol_rank_window",
            self.vol_rank_window.to_string(),
            "must be at least 2",
        );
        check(
            self.vol_rank_min >= 1 && self.vol_rank_min <= self.vol_rank_window,
            "vol_rank_min",
            self.vol_rank_min.to_string(),
            "must be in [1, vol_rank_window]",
        );
        check(
            self.high_vol_percentile > 0.0 && self.high_vol_percentile <= 1.0,
            "high_vol_percentile",
            self.high_vol_percentile.to_string(),
            "must be in (0, 1]",
        );
        out
    }
}

/// The inputs of one classification and its result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RegimeReading {
    /// The regime.
    pub regime: Regime,
    /// ADX (0 to 100).
    pub adx: f64,
    /// Fast EMA.
    pub ema_fast: f64,
    /// Slow EMA.
    pub ema_slow: f64,
    /// `slow EMA now / slow EMA slope_bars ago - 1`.
    pub slope: f64,
    /// Realized volatility (per bar, not annualized).
    pub vol: f64,
    /// Its percentile in its own history, in (0, 1].
    pub vol_percentile: f64,
}

/// The classification rule of the module notes, on given inputs.
pub fn classify(
    params: &RegimeParams,
    adx: f64,
    ema_fast: f64,
    ema_slow: f64,
    slope: f64,
    vol_pct: f64,
) -> Regime {
    if vol_pct >= params.high_vol_percentile {
        Regime::HighVol
    } else if adx >= params.adx_trend && ema_fast > ema_slow && slope >= params.slope_min {
        Regime::TrendUp
    } else if adx >= params.adx_trend && ema_fast < ema_slow && slope <= -params.slope_min {
        Regime::TrendDown
    } else {
        Regime::Range
    }
}

/// The percentile rank of the latest value among the last `n` values: a window kept sorted.
#[derive(Debug, Clone)]
pub struct PercentileRank {
    n: usize,
    order: VecDeque<f64>,
    sorted: Vec<f64>,
}

impl PercentileRank {
    /// Over the last `n` values (at least 1).
    pub fn new(n: usize) -> Self {
        let n = n.max(1);
        Self { n, order: VecDeque::with_capacity(n + 1), sorted: Vec::with_capacity(n + 1) }
    }

    /// Adds a value (dropping the oldest beyond `n`) and returns the fraction of the window at
    /// or below it. A non-finite value is not added and gives `None`.
    pub fn push(&mut self, value: f64) -> Option<f64> {
        if !value.is_finite() {
            return None;
        }
        if self.order.len() == self.n
            && let Some(old) = self.order.pop_front()
        {
            let at = self.sorted.partition_point(|v| v.total_cmp(&old).is_lt());
            if at < self.sorted.len() {
                self.sorted.remove(at);
            }
        }
        self.order.push_back(value);
        let at = self.sorted.partition_point(|v| v.total_cmp(&value).is_lt());
        self.sorted.insert(at, value);
        let at_or_below = self.sorted.partition_point(|v| v.total_cmp(&value).is_le());
        Some(at_or_below as f64 / self.sorted.len() as f64)
    }

    /// Values held.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// True before the first value.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

/// Incremental regime classification of one asset.
#[derive(Debug, Clone)]
pub struct RegimeDetector {
    params: RegimeParams,
    ema_fast: Ema,
    ema_slow: Ema,
    slow_history: Window,
    adx: Adx,
    vol: RealizedVol,
    rank: PercentileRank,
}

impl RegimeDetector {
    /// A detector with `params` (assumed valid).
    pub fn new(params: &RegimeParams) -> Self {
        Self {
            params: params.clone(),
            ema_fast: Ema::new(params.ema_fast),
            ema_slow: Ema::new(params.ema_slow),
            slow_history: Window::new(params.slope_bars + 1),
            adx: Adx::new(params.adx_period),
            vol: RealizedVol::new(params.vol_window),
            rank: PercentileRank::new(params.vol_rank_window),
        }
    }

    /// Adds a closed bar; the reading once warmed up.
    pub fn update(&mut self, high: f64, low: f64, close: f64) -> Option<RegimeReading> {
        let fast = self.ema_fast.update(close);
        let slow = self.ema_slow.update(close);
        if let Some(slow) = slow {
            self.slow_history.push(slow);
        }
        let adx = self.adx.update(high, low, close);
        let vol = self.vol.update(close);
        let vol_percentile = vol.and_then(|v| self.rank.push(v));
        let (fast, slow, adx, vol, vol_percentile) = (fast?, slow?, adx?, vol?, vol_percentile?);
        if self.rank.len() < self.params.vol_rank_min || !self.slow_history.is_full() {
            return None;
        }
        let base = self.slow_history.get_back(self.params.slope_bars)?;
        let slope = if base != 0.0 { slow / base - 1.0 } else { 0.0 };
        let regime = classify(&self.params, adx.adx, fast, slow, slope, vol_percentile);
        Some(RegimeReading {
            regime,
            adx: adx.adx,
            ema_fast: fast,
            ema_slow: slow,
            slope,
            vol,
            vol_percentile,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_table() {
        let p = RegimeParams::default();
        // (adx, fast, slow, slope, vol percentile, regime)
        let cases = [
            (30.0, 105.0, 100.0, 0.01, 0.50, Regime::TrendUp),
            (30.0, 95.0, 100.0, -0.01, 0.50, Regime::TrendDown),
            (30.0, 105.0, 100.0, 0.01, 0.90, Regime::HighVol),
            (30.0, 105.0, 100.0, 0.01, 0.8999, Regime::TrendUp),
            (19.9, 105.0, 100.0, 0.01, 0.50, Regime::Range),
            (20.0, 105.0, 100.0, 0.002, 0.50, Regime::TrendUp),
            (30.0, 105.0, 100.0, 0.0019, 0.50, Regime::Range),
            (30.0, 105.0, 100.0, -0.01, 0.50, Regime::Range),
            (30.0, 95.0, 100.0, 0.01, 0.50, Regime::Range),
        ];
        for (adx, fast, slow, slope, pct, want) in cases {
            assert_eq!(classify(&p, adx, fast, slow, slope, pct), want, "{adx} {fast} {slow} {slope} {pct}");
        }
    }

    #[test]
    fn percentile_rank_counts_ties_and_forgets_old_values() {
        let mut rank = PercentileRank::new(4);
        assert_eq!(rank.push(2.0), Some(1.0));
        assert_eq!(rank.push(1.0), Some(0.5));
        assert_eq!(rank.push(2.0), Some(1.0));
        assert_eq!(rank.push(3.0), Some(1.0));
        // Window now 1, 2, 3, 0.5 (the first 2 dropped): 0.5 is the lowest.
        assert_eq!(rank.push(0.5), Some(0.25));
        // Window 2, 3, 0.5, 2: two of four at or below 2.
        assert_eq!(rank.push(2.0), Some(0.75));
        assert_eq!(rank.push(f64::NAN), None);
        assert_eq!(rank.len(), 4);
    }

    /// Bars of a series with a steady drift and irregular noise (so the volatility varies).
    fn drift_bars(n: usize, drift: f64, noise: f64) -> Vec<(f64, f64, f64)> {
        let mut close = 100.0;
        (0..n)
            .map(|i| {
                let wiggle = noise * (i as f64 * 1.7).sin() * (1.0 + (i as f64 * 0.31).cos());
                close *= 1.0 + drift + wiggle;
                (close * (1.0 + noise), close * (1.0 - noise), close)
            })
            .collect()
    }

    #[test]
    fn detects_trends_and_a_volatility_burst() {
        let params = RegimeParams { vol_rank_window: 200, vol_rank_min: 50, ..RegimeParams::default() };
        let mut up = RegimeDetector::new(&params);
        let last_up =
            drift_bars(400, 0.003, 0.001).into_iter().filter_map(|(h, l, c)| up.update(h, l, c)).last();
        assert_eq!(last_up.map(|r| r.regime), Some(Regime::TrendUp), "{last_up:?}");
        let mut down = RegimeDetector::new(&params);
        let last_down =
            drift_bars(400, -0.003, 0.001).into_iter().filter_map(|(h, l, c)| down.update(h, l, c)).last();
        assert_eq!(last_down.map(|r| r.regime), Some(Regime::TrendDown));
        // Calm then wild: the wild bars are the top of the volatility history.
        let mut burst = RegimeDetector::new(&params);
        let mut bars = drift_bars(300, 0.0, 0.001);
        bars.extend(drift_bars(30, 0.0, 0.03));
        let last = bars.into_iter().filter_map(|(h, l, c)| burst.update(h, l, c)).last();
        assert_eq!(last.map(|r| r.regime), Some(Regime::HighVol));
    }

    #[test]
    fn no_reading_during_warm_up() {
        let params = RegimeParams::default();
        let mut detector = RegimeDetector::new(&params);
        let readings: Vec<_> =
            drift_bars(300, 0.001, 0.001).into_iter().map(|(h, l, c)| detector.update(h, l, c)).collect();
        // The volatility needs 25 closes, then 168 values in its history: first reading at bar 191.
        assert!(readings[..191].iter().all(Option::is_none));
        assert!(readings[191].is_some());
    }
}
