//! `InstrumentRules`: a symbol's trading filters (tick, step, minimum quantity and notional), the
//! rounding that puts prices and quantities on the venue's grid, and the check that says which
//! filter an order would break.
//!
//! Binance facts behind this (PROTOCOL.md §3.2): PRICE_FILTER requires `price % tickSize == 0`,
//! LOT_SIZE requires `minQty <= qty <= maxQty` and `qty % stepSize == 0`, MIN_NOTIONAL / NOTIONAL
//! requires `price * qty >= minNotional`. Quantities always round down (never buy more than was
//! decided); prices round to the nearest tick unless the caller asks for a direction.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::num::{Notional, Price, Qty};
use super::symbol::Symbol;

/// Which way to move a price that is off the tick grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceRounding {
    /// To the nearest tick; a midpoint goes away from zero.
    Nearest,
    /// To the tick at or below.
    Down,
    /// To the tick at or above.
    Up,
}

/// The trading filters of one instrument.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstrumentRules {
    /// The instrument.
    pub symbol: Symbol,
    /// Price increment (PRICE_FILTER `tickSize`).
    pub tick_size: Price,
    /// Quantity increment (LOT_SIZE `stepSize`).
    pub step_size: Qty,
    /// Smallest quantity (LOT_SIZE `minQty`).
    pub min_qty: Qty,
    /// Largest quantity (LOT_SIZE `maxQty`), if the venue sets one.
    pub max_qty: Option<Qty>,
    /// Smallest order value in quote currency (MIN_NOTIONAL / NOTIONAL `minNotional`).
    pub min_notional: Notional,
}

/// Rules that cannot describe a tradable instrument.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("instrument rules for {symbol} are invalid: {problem}")]
pub struct InvalidRules {
    /// The instrument.
    pub symbol: Symbol,
    /// What is wrong.
    pub problem: String,
}

/// A filter an order breaks, named as the venue names it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterViolation {
    /// The price is zero or negative.
    #[error("PRICE_FILTER: price {price} is not positive")]
    PriceNotPositive {
        /// The price given.
        price: Price,
    },
    /// The price is not a multiple of the tick size.
    #[error("PRICE_FILTER: price {price} is not a multiple of the tick size {tick}")]
    PriceOffTick {
        /// The price given.
        price: Price,
        /// The tick size.
        tick: Price,
    },
    /// The quantity is zero or negative.
    #[error("LOT_SIZE: quantity {qty} is not positive")]
    QtyNotPositive {
        /// The quantity given.
        qty: Qty,
    },
    /// The quantity is not a multiple of the step size.
    #[error("LOT_SIZE: quantity {qty} is not a multiple of the step size {step}")]
    QtyOffStep {
        /// The quantity given.
        qty: Qty,
        /// The step size.
        step: Qty,
    },
    /// The quantity is under the minimum.
    #[error("LOT_SIZE: quantity {qty} is below the minimum {min}")]
    QtyBelowMin {
        /// The quantity given.
        qty: Qty,
        /// The minimum quantity.
        min: Qty,
    },
    /// The quantity is over the maximum.
    #[error("LOT_SIZE: quantity {qty} is above the maximum {max}")]
    QtyAboveMax {
        /// The quantity given.
        qty: Qty,
        /// The maximum quantity.
        max: Qty,
    },
    /// Price times quantity is under the minimum notional.
    #[error("MIN_NOTIONAL: order value {notional} is below the minimum {min}")]
    NotionalBelowMin {
        /// Price times quantity.
        notional: Notional,
        /// The minimum order value.
        min: Notional,
    },
}

impl FilterViolation {
    /// The venue's name for the filter (`PRICE_FILTER`, `LOT_SIZE`, `MIN_NOTIONAL`).
    pub fn filter_name(&self) -> &'static str {
        match self {
            Self::PriceNotPositive { .. } | Self::PriceOffTick { .. } => "PRICE_FILTER",
            Self::QtyNotPositive { .. }
            | Self::QtyOffStep { .. }
            | Self::QtyBelowMin { .. }
            | Self::QtyAboveMax { .. } => "LOT_SIZE",
            Self::NotionalBelowMin { .. } => "MIN_NOTIONAL",
        }
    }
}

/// `value` floored to a multiple of `step` (towards negative infinity), exact in decimal.
fn floor_to(value: Decimal, step: Decimal) -> Decimal {
    let rem = value % step;
    let rem = if rem.is_sign_negative() && !rem.is_zero() { rem + step } else { rem };
    let mut out = value - rem;
    // On the grid, so this rescale is exact: it writes the value with the step's decimals.
    out.rescale(step.scale());
    out
}

impl InstrumentRules {
    /// Builds and validates rules.
    ///
    /// # Errors
    /// When the tick or step is not positive, the minimum quantity or notional is negative, or
    /// the maximum quantity is below the minimum.
    pub fn new(
        symbol: Symbol,
        tick_size: Price,
        step_size: Qty,
        min_qty: Qty,
        max_qty: Option<Qty>,
        min_notional: Notional,
    ) -> Result<Self, InvalidRules> {
        let rules = Self { symbol, tick_size, step_size, min_qty, max_qty, min_notional };
        rules.validate()?;
        Ok(rules)
    }

    /// Checks that the rules describe a tradable instrument.
    ///
    /// # Errors
    /// As [`InstrumentRules::new`].
    pub fn validate(&self) -> Result<(), InvalidRules> {
        let problem = if !self.tick_size.is_positive() {
            Some(format!("tick size {} is not positive", self.tick_size))
        } else if !self.step_size.is_positive() {
            Some(format!("step size {} is not positive", self.step_size))
        } else if self.min_qty.get().is_sign_negative() {
            Some(format!("minimum quantity {} is negative", self.min_qty))
        } else if self.min_notional.get().is_sign_negative() {
            Some(format!("minimum notional {} is negative", self.min_notional))
        } else if self.max_qty.is_some_and(|max| max < self.min_qty) {
            Some(format!("maximum quantity is below the minimum {}", self.min_qty))
        } else {
            None
        };
        match problem {
            Some(problem) => Err(InvalidRules { symbol: self.symbol.clone(), problem }),
            None => Ok(()),
        }
    }

    /// `price` on the tick grid, moved as `rounding` says.
    pub fn round_price(&self, price: Price, rounding: PriceRounding) -> Price {
        let tick = self.tick_size.get();
        let down = floor_to(price.get(), tick);
        let rounded = match rounding {
            PriceRounding::Down => down,
            PriceRounding::Up if down == price.get() => down,
            PriceRounding::Up => down + tick,
            PriceRounding::Nearest => {
                let rem = price.get() - down;
                if rem * Decimal::TWO >= tick { down + tick } else { down }
            }
        };
        Price::new(rounded)
    }

    /// `qty` rounded down to the step grid: on the grid, never above `qty`, less than one step
    /// below it.
    pub fn floor_qty(&self, qty: Qty) -> Qty {
        Qty::new(floor_to(qty.get(), self.step_size.get()))
    }

    /// Checks an order of `qty` at `price` (the limit price, or for a market order the price it
    /// is expected to fill at) against every filter, in the venue's order: price, lot size,
    /// notional.
    ///
    /// # Errors
    /// The first filter the order breaks.
    pub fn check(&self, qty: Qty, price: Price) -> Result<(), FilterViolation> {
        if !price.is_positive() {
            return Err(FilterViolation::PriceNotPositive { price });
        }
        if !(price.get() % self.tick_size.get()).is_zero() {
            return Err(FilterViolation::PriceOffTick { price, tick: self.tick_size });
        }
        if !qty.is_positive() {
            return Err(FilterViolation::QtyNotPositive { qty });
        }
        if !(qty.get() % self.step_size.get()).is_zero() {
            return Err(FilterViolation::QtyOffStep { qty, step: self.step_size });
        }
        if qty < self.min_qty {
            return Err(FilterViolation::QtyBelowMin { qty, min: self.min_qty });
        }
        if let Some(max) = self.max_qty.filter(|max| qty > *max) {
            return Err(FilterViolation::QtyAboveMax { qty, max });
        }
        let notional = price * qty;
        if notional < self.min_notional {
            return Err(FilterViolation::NotionalBelowMin { notional, min: self.min_notional });
        }
        Ok(())
    }
}

impl fmt::Display for InstrumentRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} tick {} step {} min qty {} min notional {}",
            self.symbol, self.tick_size, self.step_size, self.min_qty, self.min_notional
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn rules(tick: Decimal, step: Decimal) -> InstrumentRules {
        InstrumentRules::new(
            Symbol::new("BTCUSDT").unwrap(),
            Price::new(tick),
            Qty::new(step),
            Qty::new(step),
            Some(Qty::new(dec!(1000)).max(Qty::new(step))),
            Notional::new(dec!(5)),
        )
        .unwrap()
    }

    #[test]
    fn floor_qty_table() {
        // (input, step, expected). The first rows are values binary floats get wrong:
        // 0.1 + 0.2 is 0.30000000000000004 in f64, and floor(0.3 / 0.1) is 2 in f64.
        let cases = [
            (dec!(0.1) + dec!(0.2), dec!(0.1), dec!(0.3)),
            (dec!(0.3), dec!(0.1), dec!(0.3)),
            (dec!(0.7), dec!(0.1), dec!(0.7)),
            (dec!(2.675), dec!(0.01), dec!(2.67)),
            (dec!(1.0000000), dec!(0.001), dec!(1.000)),
            (dec!(0.0019999), dec!(0.001), dec!(0.001)),
            (dec!(0.0009999), dec!(0.001), dec!(0.000)),
            (dec!(123.456789), dec!(1), dec!(123)),
            (dec!(57.3), dec!(0.3), dec!(57.3)),
            (dec!(57.29), dec!(0.3), dec!(57.0)),
            (dec!(0.00000001), dec!(0.00000001), dec!(0.00000001)),
        ];
        for (input, step, want) in cases {
            let got = rules(dec!(0.01), step).floor_qty(Qty::new(input)).get();
            assert_eq!(got, want, "floor_qty({input}, step {step})");
        }
    }

    #[test]
    fn round_price_table() {
        use PriceRounding::{Down, Nearest, Up};
        let cases = [
            (dec!(0.1) + dec!(0.2), dec!(0.1), Nearest, dec!(0.3)),
            (dec!(1.005), dec!(0.01), Nearest, dec!(1.01)),
            (dec!(1.0049), dec!(0.01), Nearest, dec!(1.00)),
            (dec!(1.0049), dec!(0.01), Up, dec!(1.01)),
            (dec!(1.01), dec!(0.01), Up, dec!(1.01)),
            (dec!(1.0099), dec!(0.01), Down, dec!(1.00)),
            (dec!(27123.456), dec!(0.10), Nearest, dec!(27123.50)),
            (dec!(27123.449), dec!(0.10), Nearest, dec!(27123.40)),
            (dec!(0.000012345), dec!(0.0000001), Nearest, dec!(0.0000123)),
            (dec!(97.5), dec!(5), Down, dec!(95)),
            (dec!(97.5), dec!(5), Nearest, dec!(100)),
        ];
        for (input, tick, how, want) in cases {
            let got = rules(tick, dec!(0.001)).round_price(Price::new(input), how).get();
            assert_eq!(got, want, "round_price({input}, tick {tick}, {how:?})");
        }
    }

    #[test]
    fn check_names_the_broken_filter() {
        let r = rules(dec!(0.10), dec!(0.001));
        let p = |d: Decimal| Price::new(d);
        let q = |d: Decimal| Qty::new(d);
        assert_eq!(r.check(q(dec!(0.010)), p(dec!(27000.10))), Ok(()));
        let cases = [
            (dec!(0.01), dec!(0), "PRICE_FILTER"),
            (dec!(0.01), dec!(27000.15), "PRICE_FILTER"),
            (dec!(0), dec!(27000.1), "LOT_SIZE"),
            (dec!(0.0105), dec!(27000.1), "LOT_SIZE"),
            (dec!(2000), dec!(27000.1), "LOT_SIZE"),
            (dec!(0.001), dec!(100), "MIN_NOTIONAL"),
        ];
        for (qty, price, filter) in cases {
            let err = r.check(q(qty), p(price)).unwrap_err();
            assert_eq!(err.filter_name(), filter, "{qty} @ {price}: {err}");
        }
        let below = rules(dec!(0.1), dec!(0.001));
        let below = InstrumentRules { min_qty: Qty::new(dec!(0.005)), ..below };
        assert!(matches!(
            below.check(q(dec!(0.004)), p(dec!(30000))),
            Err(FilterViolation::QtyBelowMin { .. })
        ));
    }

    #[test]
    fn rejects_impossible_rules() {
        let symbol = Symbol::new("X").unwrap();
        let bad = [
            (dec!(0), dec!(1), dec!(0), None),
            (dec!(1), dec!(-1), dec!(0), None),
            (dec!(1), dec!(1), dec!(-1), None),
            (dec!(1), dec!(1), dec!(5), Some(dec!(4))),
        ];
        for (tick, step, min, max) in bad {
            let got = InstrumentRules::new(
                symbol.clone(),
                Price::new(tick),
                Qty::new(step),
                Qty::new(min),
                max.map(Qty::new),
                Notional::ZERO,
            );
            assert!(got.is_err(), "tick {tick} step {step} min {min} max {max:?}");
        }
    }

    fn decimal(max_mantissa: i64, max_scale: u32) -> impl Strategy<Value = Decimal> {
        (0..=max_mantissa, 0..=max_scale).prop_map(|(m, s)| Decimal::new(m, s))
    }

    proptest! {
        #[test]
        fn floored_qty_is_on_grid_and_within_one_step(
            qty in decimal(10_000_000_000_000, 12),
            step in decimal(1_000_000, 8).prop_filter("step > 0", |s| !s.is_zero()),
        ) {
            let r = rules(dec!(0.01), step);
            let out = r.floor_qty(Qty::new(qty)).get();
            prop_assert!((out % step).is_zero(), "{out} not on grid {step}");
            prop_assert!(out <= qty, "{out} above input {qty}");
            prop_assert!(qty - out < step, "{out} more than one step {step} below {qty}");
        }

        #[test]
        fn rounded_price_is_on_grid_and_within_half_a_tick(
            price in decimal(10_000_000_000_000, 10),
            tick in decimal(100_000, 8).prop_filter("tick > 0", |s| !s.is_zero()),
        ) {
            let r = rules(tick, dec!(0.001));
            let out = r.round_price(Price::new(price), PriceRounding::Nearest).get();
            prop_assert!((out % tick).is_zero());
            prop_assert!((out - price).abs() * Decimal::TWO <= tick);
            let down = r.round_price(Price::new(price), PriceRounding::Down).get();
            let up = r.round_price(Price::new(price), PriceRounding::Up).get();
            prop_assert!(down <= price && price <= up && up - down <= tick);
        }
    }
}
