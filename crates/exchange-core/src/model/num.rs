//! Money and size newtypes over `rust_decimal::Decimal`: `Price`, `Qty`, `Notional`.
//!
//! They are built from strings (the wire and the files carry decimal text) or from a `Decimal`,
//! never from `f64`: a binary float cannot hold most decimal prices, and a quantity that is one
//! ulp above its step is rejected by the venue's LOT_SIZE filter.

use std::fmt;
use std::ops::{Add, Mul, Sub};
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A decimal text that could not be read as a number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {text:?} is not a decimal number")]
pub struct ParseDecimalError {
    /// Which kind of value was being parsed (`price`, `quantity`, `notional`).
    pub what: &'static str,
    /// The offending text, as given.
    pub text: String,
}

macro_rules! decimal_newtype {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(#[serde(with = "rust_decimal::serde::str")] Decimal);

        impl $name {
            /// Zero.
            pub const ZERO: Self = Self(Decimal::ZERO);

            /// Wraps a decimal value.
            pub const fn new(value: Decimal) -> Self {
                Self(value)
            }

            /// The decimal value.
            pub const fn get(self) -> Decimal {
                self.0
            }

            /// True when the value is above zero.
            pub fn is_positive(self) -> bool {
                self.0 > Decimal::ZERO
            }

            /// The value with trailing zeros of the fraction removed (`1.2300` -> `1.23`).
            pub fn normalize(self) -> Self {
                Self(self.0.normalize())
            }
        }

        impl FromStr for $name {
            type Err = ParseDecimalError;

            /// Parses plain decimal text (`"0.1"`, `"-3"`, `"27000.50"`); scientific notation is
            /// accepted too, since some venues print tiny values that way.
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                let trimmed = text.trim();
                Decimal::from_str_exact(trimmed)
                    .or_else(|_| Decimal::from_scientific(trimmed))
                    .map(Self)
                    .map_err(|_| ParseDecimalError { what: $what, text: text.to_owned() })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl From<Decimal> for $name {
            fn from(value: Decimal) -> Self {
                Self(value)
            }
        }

        impl From<$name> for Decimal {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl Add for $name {
            type Output = Self;
            fn add(self, rhs: Self) -> Self {
                Self(self.0 + rhs.0)
            }
        }

        impl Sub for $name {
            type Output = Self;
            fn sub(self, rhs: Self) -> Self {
                Self(self.0 - rhs.0)
            }
        }
    };
}

decimal_newtype!(
    /// A price in quote currency per unit of base asset (USDT per BTC).
    Price,
    "price"
);
decimal_newtype!(
    /// An order or position size in base-asset units (BTC, or contracts of one unit).
    Qty,
    "quantity"
);
decimal_newtype!(
    /// A value in quote currency (USDT): price times quantity, a balance, a P&L.
    Notional,
    "notional"
);

impl Mul<Qty> for Price {
    type Output = Notional;
    fn mul(self, qty: Qty) -> Notional {
        Notional(self.0 * qty.0)
    }
}

impl Mul<Price> for Qty {
    type Output = Notional;
    fn mul(self, price: Price) -> Notional {
        Notional(self.0 * price.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn parses_decimal_text_exactly() {
        let cases = [
            ("0.1", dec!(0.1)),
            (" 27000.50 ", dec!(27000.50)),
            ("-3", dec!(-3)),
            ("0.00000001", dec!(0.00000001)),
            ("1e-8", dec!(0.00000001)),
        ];
        for (text, want) in cases {
            assert_eq!(text.parse::<Price>().map(Price::get), Ok(want), "{text}");
        }
    }

    #[test]
    fn rejects_text_that_is_not_a_number() {
        for text in ["", "abc", "1.2.3", "NaN", "0x10", "1,5"] {
            let err = text.parse::<Qty>().unwrap_err();
            assert_eq!(err.what, "quantity");
            assert_eq!(err.text, text);
        }
    }

    #[test]
    fn price_times_qty_is_exact_notional() {
        let n = "0.1".parse::<Price>().unwrap() * "3".parse::<Qty>().unwrap();
        assert_eq!(n.get(), dec!(0.3));
    }

    #[test]
    fn serializes_as_string() {
        let p: Price = "42000.10".parse().unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"42000.10\"");
        let back: Price = serde_json::from_str("\"42000.10\"").unwrap();
        assert_eq!(back, p);
    }
}
