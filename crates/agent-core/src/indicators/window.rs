//! A fixed-length window of the latest `f64` values with running sums, the building block of the
//! O(1)-per-bar indicators. The sums are of values minus a shift (the mean at the last rebuild),
//! which keeps the variance free of cancellation when prices are large and moves small, and they
//! are rebuilt from the window every `len` pushes, so rounding never accumulates past a window.

use std::collections::VecDeque;

/// The last `len` values, their sum and their sum of squares.
#[derive(Debug, Clone)]
pub struct Window {
    len: usize,
    values: VecDeque<f64>,
    sum: f64,
    sum_sq: f64,
    shift: f64,
    since_rebuild: usize,
}

impl Window {
    /// An empty window of `len` values (at least 1).
    pub fn new(len: usize) -> Self {
        let len = len.max(1);
        Self {
            len,
            values: VecDeque::with_capacity(len + 1),
            sum: 0.0,
            sum_sq: 0.0,
            shift: 0.0,
            since_rebuild: 0,
        }
    }

    /// Adds a value, dropping the oldest when full; returns the dropped one.
    pub fn push(&mut self, value: f64) -> Option<f64> {
        if self.values.is_empty() {
            self.shift = value;
        }
        self.values.push_back(value);
        let d = value - self.shift;
        self.sum += d;
        self.sum_sq += d * d;
        let dropped = if self.values.len() > self.len { self.values.pop_front() } else { None };
        if let Some(old) = dropped {
            let d = old - self.shift;
            self.sum -= d;
            self.sum_sq -= d * d;
        }
        self.since_rebuild += 1;
        if self.since_rebuild >= self.len {
            self.rebuild();
        }
        dropped
    }

    fn rebuild(&mut self) {
        let n = self.values.len().max(1) as f64;
        self.shift = self.values.iter().sum::<f64>() / n;
        self.sum = self.values.iter().map(|v| v - self.shift).sum();
        self.sum_sq = self.values.iter().map(|v| (v - self.shift) * (v - self.shift)).sum();
        self.since_rebuild = 0;
    }

    /// True once it holds `len` values.
    pub fn is_full(&self) -> bool {
        self.values.len() == self.len
    }

    /// The window length.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True before the first push.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Mean of the values held.
    pub fn mean(&self) -> f64 {
        self.shift + self.sum / self.values.len().max(1) as f64
    }

    /// Population variance of the values held (never negative).
    pub fn variance(&self) -> f64 {
        let n = self.values.len().max(1) as f64;
        let mean_shifted = self.sum / n;
        (self.sum_sq / n - mean_shifted * mean_shifted).max(0.0)
    }

    /// The value `back` pushes ago (0 = the latest).
    pub fn get_back(&self, back: usize) -> Option<f64> {
        self.values.len().checked_sub(back + 1).and_then(|i| self.values.get(i)).copied()
    }

    /// The values, oldest first.
    pub fn values(&self) -> impl Iterator<Item = f64> + '_ {
        self.values.iter().copied()
    }
}
