//! Technical indicators as incremental state: each takes one bar (or value) per `update` in O(1)
//! and answers once it has enough history. Conventions are TA-Lib's (checked against TA-Lib's own
//! output on real data in the tests), so backtests and live agents agree with the usual tools.
//! `f64` here: indicators are statistics, never money.

mod average;
mod correlation;
mod momentum;
mod trend;
mod volatility;
mod window;

pub use average::{Ema, Sma, Wilder};
pub use correlation::RollingCorrelation;
pub use momentum::{Macd, MacdValue, Roc, Rsi};
pub use trend::{Adx, AdxValue};
pub use volatility::{Atr, Bollinger, BollingerValue, RealizedVol};
pub use window::Window;

#[cfg(test)]
mod tests;
