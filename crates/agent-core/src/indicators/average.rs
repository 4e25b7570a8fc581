//! Moving averages with TA-Lib's conventions: `Sma` (mean of the last n values, first at the n-th
//! value) and `Ema` (smoothing 2 / (n + 1), seeded with the SMA of its first n values, first at
//! the n-th value), and `Wilder` (smoothing 1 / n, seeded the same way), the average behind RSI,
//! ATR and ADX.

use super::window::Window;

/// Simple moving average of the last `n` values.
#[derive(Debug, Clone)]
pub struct Sma {
    window: Window,
}

impl Sma {
    /// An SMA over `n` values.
    pub fn new(n: usize) -> Self {
        Self { window: Window::new(n) }
    }

    /// Adds a value; the average once `n` values are in.
    pub fn update(&mut self, value: f64) -> Option<f64> {
        self.window.push(value);
        self.window.is_full().then(|| self.window.mean())
    }
}

/// An exponential average `avg += alpha * (value - avg)`, seeded with the mean of its first `n`
/// values.
#[derive(Debug, Clone)]
pub struct Smoothed {
    n: usize,
    alpha: f64,
    seen: usize,
    seed_sum: f64,
    value: Option<f64>,
}

impl Smoothed {
    /// With smoothing `alpha` and an `n`-value seed.
    pub fn with_alpha(n: usize, alpha: f64) -> Self {
        Self { n: n.max(1), alpha, seen: 0, seed_sum: 0.0, value: None }
    }

    /// Adds a value; the average from the `n`-th value on.
    pub fn update(&mut self, x: f64) -> Option<f64> {
        match self.value {
            Some(avg) => self.value = Some(avg + self.alpha * (x - avg)),
            None => {
                self.seen += 1;
                self.seed_sum += x;
                if self.seen == self.n {
                    self.value = Some(self.seed_sum / self.n as f64);
                }
            }
        }
        self.value
    }

    /// Seeds it directly (for averages whose seed is computed elsewhere, as in TA-Lib's MACD).
    pub fn seed(&mut self, value: f64) {
        self.value = Some(value);
    }

    /// The current average, once seeded.
    pub fn value(&self) -> Option<f64> {
        self.value
    }
}

/// TA-Lib's EMA: smoothing `2 / (n + 1)`.
#[derive(Debug, Clone)]
pub struct Ema(Smoothed);

impl Ema {
    /// An EMA of period `n`.
    pub fn new(n: usize) -> Self {
        Self(Smoothed::with_alpha(n, 2.0 / (n.max(1) as f64 + 1.0)))
    }

    /// Adds a value; the average from the `n`-th value on.
    pub fn update(&mut self, x: f64) -> Option<f64> {
        self.0.update(x)
    }

    /// Seeds it directly.
    pub fn seed(&mut self, value: f64) {
        self.0.seed(value);
    }

    /// The current average.
    pub fn value(&self) -> Option<f64> {
        self.0.value()
    }
}

/// Wilder's average: smoothing `1 / n`, `avg = (avg * (n - 1) + x) / n`.
#[derive(Debug, Clone)]
pub struct Wilder {
    n: f64,
    inner: Smoothed,
}

impl Wilder {
    /// A Wilder average of period `n`.
    pub fn new(n: usize) -> Self {
        let n = n.max(1);
        Self { n: n as f64, inner: Smoothed::with_alpha(n, 1.0 / n as f64) }
    }

    /// Adds a value; the average from the `n`-th value on. Computed as TA-Lib does,
    /// `(avg * (n - 1) + x) / n`, so results agree to the last bits.
    pub fn update(&mut self, x: f64) -> Option<f64> {
        match self.inner.value {
            Some(avg) => {
                self.inner.value = Some((avg * (self.n - 1.0) + x) / self.n);
                self.inner.value
            }
            None => self.inner.update(x),
        }
    }
}
