//! The futures momentum strategy of DESIGN §10 rules 1 to 3, as a pure function of closed bars.
//!
//! At the close of bar t: `m = close[t] / close[t-W] - 1`, W rows back (a gap in the data is not
//! bridged). An entry when `|m| >= threshold`: long if m > 0, short if m < 0, with leverage
//! `clamp(floor(min_leverage * |m| / threshold), min_leverage, max_leverage)`.
//!
//! Screening runs on `f64` closes (an indicator); any bar that might pass is decided again in
//! exact decimals, comparing `|close[t] - close[t-W]|` against `threshold * close[t-W]` so that no
//! division rounds a boundary case. The `f64` screen lets through anything within a relative
//! 1e-9 of the threshold, far wider than its own error, so it never drops a signal.

use agent_core::backtest::{EntrySignal, EntryStrategy, SignalInput};
use exchange_core::PositionSide;
use risk_core::params::FuturesRiskParams;
use risk_core::sizing::leverage_for_signal;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

/// Momentum over a window of closes.
#[derive(Debug, Clone)]
pub struct Momentum {
    window: usize,
    threshold: Decimal,
    screen: f64,
    min_leverage: u32,
    max_leverage: u32,
}

impl Momentum {
    /// The strategy with the window, threshold and leverage range of `params`.
    pub fn new(params: &FuturesRiskParams) -> Self {
        let threshold_f64 = params.threshold.to_f64().unwrap_or(0.0);
        Self {
            window: params.window,
            threshold: params.threshold,
            screen: threshold_f64 * (1.0 - 1e-9),
            min_leverage: params.min_leverage,
            max_leverage: params.max_leverage,
        }
    }

    /// The exact momentum `close[t] / close[t-W] - 1` of the last bar, if there are W bars before
    /// it and the older close is positive.
    pub fn momentum(&self, closes: &[Decimal]) -> Option<Decimal> {
        let t = closes.len().checked_sub(1)?;
        let base = closes[t.checked_sub(self.window)?];
        closes[t].checked_div(base).map(|r| r - Decimal::ONE)
    }
}

impl EntryStrategy for Momentum {
    fn signal(&self, input: SignalInput<'_>) -> Option<EntrySignal> {
        let t = input.closes.len().checked_sub(1)?;
        let back = t.checked_sub(self.window)?;
        let quick = input.closes[t] / input.closes[back] - 1.0;
        if quick.is_nan() || quick.abs() < self.screen {
            return None;
        }
        let now = input.bars[t].close.get();
        let base = input.bars[back].close.get();
        let change = now - base;
        if base <= Decimal::ZERO || change.abs() < self.threshold * base {
            return None;
        }
        let side = if change > Decimal::ZERO { PositionSide::Long } else { PositionSide::Short };
        let strength = change.abs().checked_div(base)?;
        let leverage = leverage_for_signal(strength, self.threshold, self.min_leverage, self.max_leverage);
        Some(EntrySignal { side, leverage })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use exchange_core::{Bar, Price};
    use rust_decimal_macros::dec;

    fn bars(closes: &[Decimal]) -> Vec<Bar> {
        closes
            .iter()
            .enumerate()
            .map(|(i, c)| Bar {
                open_time_ms: i as i64 * 3_600_000,
                open: Price::new(*c),
                high: Price::new(*c),
                low: Price::new(*c),
                close: Price::new(*c),
                volume: Decimal::ZERO,
            })
            .collect()
    }

    fn signal_for(closes: &[Decimal]) -> Option<EntrySignal> {
        let params = FuturesRiskParams { window: 2, ..FuturesRiskParams::default() };
        let b = bars(closes);
        let f: Vec<f64> = closes.iter().map(|c| c.to_f64().unwrap()).collect();
        Momentum::new(&params).signal(SignalInput { bars: &b, closes: &f })
    }

    #[test]
    fn signals_and_leverage() {
        use PositionSide::{Long, Short};
        // window 2, threshold 0.02, leverage 5..25: floor(5 * |m| / 0.02).
        let cases = [
            ("too early", vec![dec!(100), dec!(103)], None),
            ("below threshold", vec![dec!(100), dec!(100), dec!(101.99)], None),
            ("exactly the threshold", vec![dec!(100), dec!(0), dec!(102)], Some((Long, 5))),
            ("0.1 + 0.2 style boundary", vec![dec!(0.3), dec!(9), dec!(0.306)], Some((Long, 5))),
            ("m = 0.0399", vec![dec!(100), dec!(100), dec!(103.99)], Some((Long, 9))),
            ("m = 0.04 exactly", vec![dec!(100), dec!(100), dec!(104)], Some((Long, 10))),
            ("short m = -0.05", vec![dec!(200), dec!(1), dec!(190)], Some((Short, 12))),
            ("capped at 25", vec![dec!(100), dec!(100), dec!(150)], Some((Long, 25))),
        ];
        for (name, closes, want) in cases {
            let got = signal_for(&closes).map(|s| (s.side, s.leverage));
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn exact_momentum() {
        let params = FuturesRiskParams { window: 1, ..FuturesRiskParams::default() };
        assert_eq!(Momentum::new(&params).momentum(&[dec!(50), dec!(51)]), Some(dec!(0.02)));
        assert_eq!(Momentum::new(&params).momentum(&[dec!(0), dec!(51)]), None);
    }
}
