//! Trend strength: `Adx`, Wilder's average directional index as TA-Lib computes it. Directional
//! movements and the true range are summed over the first n - 1 bars after the first, then
//! smoothed with `sum - sum / n + x`; each bar from then on gives a DX, and the ADX is the mean of
//! the first n DX values, then Wilder-smoothed. The first ADX comes at bar 2n - 1 (0-based).

/// Average directional index of period n.
#[derive(Debug, Clone)]
pub struct Adx {
    n: usize,
    prev: Option<(f64, f64, f64)>,
    bars: usize,
    plus_dm: f64,
    minus_dm: f64,
    tr: f64,
    dx_sum: f64,
    dx_count: usize,
    adx: Option<f64>,
}

/// One ADX value with its directional indicators.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdxValue {
    /// The ADX (0 to 100).
    pub adx: f64,
    /// +DI (0 to 100).
    pub plus_di: f64,
    /// -DI (0 to 100).
    pub minus_di: f64,
}

impl Adx {
    /// An ADX of period `n` (at least 2).
    pub fn new(n: usize) -> Self {
        Self {
            n: n.max(2),
            prev: None,
            bars: 0,
            plus_dm: 0.0,
            minus_dm: 0.0,
            tr: 0.0,
            dx_sum: 0.0,
            dx_count: 0,
            adx: None,
        }
    }

    /// Adds a bar; a value from bar 2n - 1 on.
    pub fn update(&mut self, high: f64, low: f64, close: f64) -> Option<AdxValue> {
        let (prev_high, prev_low, prev_close) = self.prev.replace((high, low, close))?;
        self.bars += 1;
        let up = high - prev_high;
        let down = prev_low - low;
        let plus = if up > 0.0 && up > down { up } else { 0.0 };
        let minus = if down > 0.0 && down > up { down } else { 0.0 };
        let true_range = (high - low).max((high - prev_close).abs()).max((low - prev_close).abs());
        let n = self.n as f64;
        if self.bars < self.n {
            self.plus_dm += plus;
            self.minus_dm += minus;
            self.tr += true_range;
            return None;
        }
        self.plus_dm = self.plus_dm - self.plus_dm / n + plus;
        self.minus_dm = self.minus_dm - self.minus_dm / n + minus;
        self.tr = self.tr - self.tr / n + true_range;
        let (plus_di, minus_di) = if self.tr == 0.0 {
            (0.0, 0.0)
        } else {
            (100.0 * self.plus_dm / self.tr, 100.0 * self.minus_dm / self.tr)
        };
        let di_sum = plus_di + minus_di;
        let dx = if di_sum == 0.0 { 0.0 } else { 100.0 * (plus_di - minus_di).abs() / di_sum };
        let adx = match self.adx {
            Some(prev) => (prev * (n - 1.0) + dx) / n,
            None => {
                self.dx_sum += dx;
                self.dx_count += 1;
                if self.dx_count < self.n {
                    return None;
                }
                self.dx_sum / n
            }
        };
        self.adx = Some(adx);
        Some(AdxValue { adx, plus_di, minus_di })
    }
}
