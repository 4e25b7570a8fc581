//! `Bar`: one OHLCV kline keyed by its open time.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::num::Price;

/// One kline: open, high, low, close and base volume over `[open_time_ms, open_time_ms + interval)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bar {
    /// Open time of the bar, exchange time, milliseconds since the Unix epoch (UTC).
    pub open_time_ms: i64,
    /// First trade price of the bar.
    pub open: Price,
    /// Highest trade price.
    pub high: Price,
    /// Lowest trade price.
    pub low: Price,
    /// Last trade price.
    pub close: Price,
    /// Traded volume in base-asset units (0 for mark-price klines).
    #[serde(with = "rust_decimal::serde::str")]
    pub volume: Decimal,
}

impl Bar {
    /// True when the prices are consistent: all positive, `low <= open, close <= high`.
    pub fn is_consistent(&self) -> bool {
        self.low.is_positive()
            && self.low <= self.open
            && self.low <= self.close
            && self.open <= self.high
            && self.close <= self.high
    }
}
