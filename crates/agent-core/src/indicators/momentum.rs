//! Momentum indicators with TA-Lib's conventions: `Rsi` (Wilder, first value after n changes),
//! `Roc` (change over n bars as a fraction, TA-Lib's ROCP) and `Macd` (TA-Lib aligns the fast EMA to the slow one: both
//! are seeded at the slow period's n-th value, the fast one with the mean of the last `fast`
//! values there; the signal EMA is seeded with the mean of its first `signal` MACD values).

use std::collections::VecDeque;

use super::average::{Ema, Wilder};
use super::window::Window;

/// Relative strength index of period n.
#[derive(Debug, Clone)]
pub struct Rsi {
    prev: Option<f64>,
    gain: Wilder,
    loss: Wilder,
}

impl Rsi {
    /// An RSI of period `n`.
    pub fn new(n: usize) -> Self {
        Self { prev: None, gain: Wilder::new(n), loss: Wilder::new(n) }
    }

    /// Adds a close; the RSI from the (n+1)-th close on.
    pub fn update(&mut self, close: f64) -> Option<f64> {
        let prev = self.prev.replace(close)?;
        let change = close - prev;
        let gain = self.gain.update(change.max(0.0));
        let loss = self.loss.update((-change).max(0.0));
        let (gain, loss) = (gain?, loss?);
        Some(if gain + loss == 0.0 { 0.0 } else { 100.0 * gain / (gain + loss) })
    }
}

/// Rate of change over n bars as a fraction (TA-Lib's ROCP; ROC is this times 100).
#[derive(Debug, Clone)]
pub struct Roc {
    window: Window,
}

impl Roc {
    /// A ROC over `n` bars.
    pub fn new(n: usize) -> Self {
        Self { window: Window::new(n + 1) }
    }

    /// Adds a close; `close / close[n bars ago] - 1` once there are n + 1 closes.
    pub fn update(&mut self, close: f64) -> Option<f64> {
        self.window.push(close);
        if !self.window.is_full() {
            return None;
        }
        let base = self.window.get_back(self.window.len() - 1)?;
        (base != 0.0).then(|| (close - base) / base)
    }
}

/// One MACD value: line, signal and histogram.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MacdValue {
    /// Fast EMA minus slow EMA.
    pub macd: f64,
    /// EMA of the MACD line.
    pub signal: f64,
    /// MACD minus signal.
    pub histogram: f64,
}

/// MACD(fast, slow, signal) as TA-Lib computes it.
#[derive(Debug, Clone)]
pub struct Macd {
    fast_n: usize,
    seed: VecDeque<f64>,
    slow_n: usize,
    fast: Ema,
    slow: Ema,
    signal: Ema,
}

impl Macd {
    /// MACD with the given periods (12, 26, 9 classically).
    pub fn new(fast: usize, slow: usize, signal: usize) -> Self {
        let (fast_n, slow_n) = (fast.max(1), slow.max(fast).max(1));
        Self {
            fast_n,
            seed: VecDeque::with_capacity(slow_n),
            slow_n,
            fast: Ema::new(fast_n),
            slow: Ema::new(slow_n),
            signal: Ema::new(signal),
        }
    }

    /// Adds a close; a value from the (slow + signal - 1)-th close on.
    pub fn update(&mut self, close: f64) -> Option<MacdValue> {
        let (fast, slow) = if self.slow.value().is_some() {
            (self.fast.update(close)?, self.slow.update(close)?)
        } else {
            self.seed.push_back(close);
            if self.seed.len() < self.slow_n {
                return None;
            }
            let fast_seed = self.seed.iter().rev().take(self.fast_n).sum::<f64>() / self.fast_n as f64;
            let slow_seed = self.seed.iter().sum::<f64>() / self.slow_n as f64;
            self.fast.seed(fast_seed);
            self.slow.seed(slow_seed);
            self.seed = VecDeque::new();
            (fast_seed, slow_seed)
        };
        let macd = fast - slow;
        let signal = self.signal.update(macd)?;
        Some(MacdValue { macd, signal, histogram: macd - signal })
    }
}
