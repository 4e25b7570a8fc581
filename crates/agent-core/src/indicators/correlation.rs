//! `RollingCorrelation`: Pearson correlation of two series (returns, typically) over the last n
//! pairs, with running sums rebuilt every n pushes so rounding never accumulates.

use std::collections::VecDeque;

/// Correlation of the last n `(x, y)` pairs.
#[derive(Debug, Clone)]
pub struct RollingCorrelation {
    n: usize,
    pairs: VecDeque<(f64, f64)>,
    sums: [f64; 5],
    since_rebuild: usize,
}

impl RollingCorrelation {
    /// Over `n` pairs (at least 2).
    pub fn new(n: usize) -> Self {
        let n = n.max(2);
        Self { n, pairs: VecDeque::with_capacity(n + 1), sums: [0.0; 5], since_rebuild: 0 }
    }

    fn add(sums: &mut [f64; 5], (x, y): (f64, f64), sign: f64) {
        sums[0] += sign * x;
        sums[1] += sign * y;
        sums[2] += sign * x * x;
        sums[3] += sign * y * y;
        sums[4] += sign * x * y;
    }

    /// Adds a pair; the correlation once n pairs are in (`None` while either side is constant).
    pub fn update(&mut self, x: f64, y: f64) -> Option<f64> {
        self.pairs.push_back((x, y));
        Self::add(&mut self.sums, (x, y), 1.0);
        if self.pairs.len() > self.n
            && let Some(old) = self.pairs.pop_front()
        {
            Self::add(&mut self.sums, old, -1.0);
        }
        self.since_rebuild += 1;
        if self.since_rebuild >= self.n {
            self.sums = [0.0; 5];
            for pair in &self.pairs {
                Self::add(&mut self.sums, *pair, 1.0);
            }
            self.since_rebuild = 0;
        }
        if self.pairs.len() < self.n {
            return None;
        }
        let n = self.n as f64;
        let [sx, sy, sxx, syy, sxy] = self.sums;
        let cov = sxy - sx * sy / n;
        let var_x = sxx - sx * sx / n;
        let var_y = syy - sy * sy / n;
        if var_x <= 0.0 || var_y <= 0.0 {
            return None;
        }
        Some((cov / (var_x * var_y).sqrt()).clamp(-1.0, 1.0))
    }
}
