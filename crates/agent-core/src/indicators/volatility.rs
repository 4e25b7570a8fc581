//! Volatility indicators: `Atr` (Wilder's average of the true range, TA-Lib's seeding: the first
//! true range is at the second bar, the first ATR after n of them), `Bollinger` (SMA ± k population
//! standard deviations, as TA-Lib's BBANDS) and `RealizedVol` (sample standard deviation of log
//! returns over a window, not annualized).

use super::average::Wilder;
use super::window::Window;

/// Average true range of period n.
#[derive(Debug, Clone)]
pub struct Atr {
    prev_close: Option<f64>,
    avg: Wilder,
}

impl Atr {
    /// An ATR of period `n`.
    pub fn new(n: usize) -> Self {
        Self { prev_close: None, avg: Wilder::new(n) }
    }

    /// Adds a bar; the ATR from the (n+1)-th bar on.
    pub fn update(&mut self, high: f64, low: f64, close: f64) -> Option<f64> {
        let prev = self.prev_close.replace(close)?;
        let true_range = (high - low).max((high - prev).abs()).max((low - prev).abs());
        self.avg.update(true_range)
    }
}

/// One Bollinger value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BollingerValue {
    /// Middle band (SMA).
    pub middle: f64,
    /// Middle plus k deviations.
    pub upper: f64,
    /// Middle minus k deviations.
    pub lower: f64,
}

/// Bollinger bands over n closes with k standard deviations.
#[derive(Debug, Clone)]
pub struct Bollinger {
    window: Window,
    k: f64,
}

impl Bollinger {
    /// Bands over `n` closes, `k` deviations wide.
    pub fn new(n: usize, k: f64) -> Self {
        Self { window: Window::new(n), k }
    }

    /// Adds a close; the bands once n closes are in.
    pub fn update(&mut self, close: f64) -> Option<BollingerValue> {
        self.window.push(close);
        if !self.window.is_full() {
            return None;
        }
        let (middle, sd) = (self.window.mean(), self.window.variance().sqrt());
        Some(BollingerValue { middle, upper: middle + self.k * sd, lower: middle - self.k * sd })
    }
}

/// Standard deviation (ddof 1) of the last n log returns.
#[derive(Debug, Clone)]
pub struct RealizedVol {
    prev: Option<f64>,
    returns: Window,
}

impl RealizedVol {
    /// Over `n` returns (at least 2).
    pub fn new(n: usize) -> Self {
        Self { prev: None, returns: Window::new(n.max(2)) }
    }

    /// Adds a close; the volatility once n returns are in.
    pub fn update(&mut self, close: f64) -> Option<f64> {
        let prev = self.prev.replace(close)?;
        if prev <= 0.0 || close <= 0.0 {
            return None;
        }
        self.returns.push((close / prev).ln());
        if !self.returns.is_full() {
            return None;
        }
        let n = self.returns.len() as f64;
        Some((self.returns.variance() * n / (n - 1.0)).sqrt())
    }
}
