//! Exit levels of a futures position (DESIGN §10 rule 5): the fixed stop loss and take profit set
//! from the fill price, the best price since entry (`Peak`), and the trailing stop that follows it.
//!
//! Levels are exact decimals, not rounded to the tick: the backtester compares them with bar
//! prices as they are, and the live agent rounds them with `InstrumentRules::round_price` (stops
//! away from the position's profit side) before placing orders. Arithmetic saturates at the
//! limits of `Decimal` instead of panicking. `FuturesRiskParams::validate` keeps the fractions
//! below 1: with 1 or more a long's stop loss or trailing stop and a short's take profit would
//! come out at or below zero, which no price can reach.

use exchange_core::PositionSide;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// `price * (1 + sign * fraction)`, saturating.
fn offset(price: Decimal, sign: Decimal, fraction: Decimal) -> Decimal {
    price.saturating_mul(Decimal::ONE.saturating_add(sign.saturating_mul(fraction)))
}

/// The trailing stop for the best price `peak` since entry: `peak * (1 - trailing)` for a long,
/// `peak * (1 + trailing)` for a short.
pub fn trailing_stop(side: PositionSide, peak: Decimal, trailing: Decimal) -> Decimal {
    offset(peak, -side.sign(), trailing)
}

/// The fixed exit levels of a position and its trailing fraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitLevels {
    /// The position's side.
    pub side: PositionSide,
    /// Stop-loss price: `entry * (1 - stop_loss)` for a long, `entry * (1 + stop_loss)` for a short.
    pub stop_loss: Decimal,
    /// Take-profit price: `entry * (1 + take_profit)` for a long, `entry * (1 - take_profit)` for a
    /// short.
    pub take_profit: Decimal,
    /// Trailing-stop distance as a fraction of the peak (0.10).
    pub trailing: Decimal,
}

impl ExitLevels {
    /// Levels for a position of `side` filled at `entry`; `stop_loss`, `take_profit` and
    /// `trailing` are fractions (0.03, 0.05, 0.10).
    pub fn new(
        side: PositionSide,
        entry: Decimal,
        stop_loss: Decimal,
        take_profit: Decimal,
        trailing: Decimal,
    ) -> Self {
        let sign = side.sign();
        Self {
            side,
            stop_loss: offset(entry, -sign, stop_loss),
            take_profit: offset(entry, sign, take_profit),
            trailing,
        }
    }

    /// The trailing stop for `peak`.
    pub fn trailing_stop(&self, peak: &Peak) -> Decimal {
        trailing_stop(self.side, peak.price(), self.trailing)
    }

    /// The tighter of the stop loss and the trailing stop: the higher one for a long, the lower
    /// one for a short (the one the price meets first on the way against the position).
    pub fn nearest_stop(&self, peak: &Peak) -> Decimal {
        let trailing = self.trailing_stop(peak);
        match self.side {
            PositionSide::Long => self.stop_loss.max(trailing),
            PositionSide::Short => self.stop_loss.min(trailing),
        }
    }
}

/// The best price since entry: the highest high for a long, the lowest low for a short. It starts
/// at the fill price and takes each bar's extreme at the bar's close (rule 6d).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Peak(Decimal);

impl Peak {
    /// A peak at the fill price.
    pub fn new(entry: Decimal) -> Self {
        Self(entry)
    }

    /// The best price so far.
    pub fn price(self) -> Decimal {
        self.0
    }

    /// Takes a bar's extreme: `max(peak, bar_high)` for a long, `min(peak, bar_low)` for a short.
    pub fn update(&mut self, side: PositionSide, bar_high: Decimal, bar_low: Decimal) {
        self.0 = match side {
            PositionSide::Long => self.0.max(bar_high),
            PositionSide::Short => self.0.min(bar_low),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PositionSide::{Long, Short};
    use rust_decimal_macros::dec;

    #[test]
    fn levels_from_fill_price() {
        // (side, entry, stop loss, take profit): 3% stop, 5% take profit.
        let cases = [
            (Long, dec!(50000), dec!(48500), dec!(52500)),
            (Short, dec!(50000), dec!(51500), dec!(47500)),
            (Long, dec!(0.12345), dec!(0.1197465), dec!(0.1296225)),
            (Short, dec!(0.12345), dec!(0.1271535), dec!(0.1172775)),
        ];
        for (side, entry, sl, tp) in cases {
            let levels = ExitLevels::new(side, entry, dec!(0.03), dec!(0.05), dec!(0.10));
            assert_eq!((levels.stop_loss, levels.take_profit), (sl, tp), "{side:?} at {entry}");
        }
    }

    #[test]
    fn trailing_stop_follows_peak() {
        assert_eq!(trailing_stop(Long, dec!(60000), dec!(0.10)), dec!(54000));
        assert_eq!(trailing_stop(Short, dec!(40000), dec!(0.10)), dec!(44000));
    }

    #[test]
    fn peak_keeps_the_best_price() {
        let mut long = Peak::new(dec!(100));
        let mut short = Peak::new(dec!(100));
        // (high, low, long peak after, short peak after)
        let bars = [
            (dec!(103), dec!(99), dec!(103), dec!(99)),
            (dec!(101), dec!(95), dec!(103), dec!(95)),
            (dec!(110), dec!(97), dec!(110), dec!(95)),
        ];
        for (high, low, want_long, want_short) in bars {
            long.update(Long, high, low);
            short.update(Short, high, low);
            assert_eq!((long.price(), short.price()), (want_long, want_short));
        }
    }

    #[test]
    fn nearest_stop_is_the_tighter_one() {
        let long = ExitLevels::new(Long, dec!(100), dec!(0.03), dec!(0.05), dec!(0.10));
        // Peak 100: trailing 90 is below the stop 97; peak 110: trailing 99 is above it.
        assert_eq!(long.nearest_stop(&Peak::new(dec!(100))), dec!(97));
        assert_eq!(long.nearest_stop(&Peak::new(dec!(110))), dec!(99.0));
        let short = ExitLevels::new(Short, dec!(100), dec!(0.03), dec!(0.05), dec!(0.10));
        assert_eq!(short.nearest_stop(&Peak::new(dec!(100))), dec!(103));
        assert_eq!(short.nearest_stop(&Peak::new(dec!(90))), dec!(99.0));
    }

    #[test]
    fn extreme_inputs_saturate() {
        let levels = ExitLevels::new(Short, Decimal::MAX, dec!(0.5), dec!(0.5), dec!(0.1));
        assert_eq!(levels.stop_loss, Decimal::MAX);
        assert_eq!(trailing_stop(Short, Decimal::MAX, Decimal::MAX), Decimal::MAX);
    }
}
