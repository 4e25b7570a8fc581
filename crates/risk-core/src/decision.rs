//! `Decision<T>`: what every risk check returns (approved with a value, or refused with a
//! structured `Refusal`). A refusal is an ordinary outcome of trading, not an error.

use std::fmt;

use exchange_core::{Notional, Qty, Symbol};
use rust_decimal::Decimal;
use serde::Serialize;

/// The outcome of a risk check: the approved value, or the reason it was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision<T> {
    /// The check passed; here is what it decided (a size, a side, or `()`).
    Approved(T),
    /// The check refused.
    Refused {
        /// Why.
        reason: Refusal,
    },
}

impl<T> Decision<T> {
    /// A refusal for `reason`.
    pub fn refused(reason: Refusal) -> Self {
        Self::Refused { reason }
    }

    /// True when approved.
    pub fn is_approved(&self) -> bool {
        matches!(self, Self::Approved(_))
    }

    /// The approved value, dropping the reason of a refusal.
    pub fn approved(self) -> Option<T> {
        match self {
            Self::Approved(value) => Some(value),
            Self::Refused { .. } => None,
        }
    }

    /// The reason, when refused.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            Self::Approved(_) => None,
            Self::Refused { reason } => Some(reason),
        }
    }

    /// Maps the approved value, keeping a refusal as it is.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Decision<U> {
        match self {
            Self::Approved(value) => Decision::Approved(f(value)),
            Self::Refused { reason } => Decision::Refused { reason },
        }
    }

    /// Runs the next check only when this one was approved (the first refusal wins).
    pub fn and_then<U>(self, f: impl FnOnce(T) -> Decision<U>) -> Decision<U> {
        match self {
            Self::Approved(value) => f(value),
            Self::Refused { reason } => Decision::Refused { reason },
        }
    }

    /// The decision as a `Result`, for callers that want `?`.
    ///
    /// # Errors
    /// The refusal, when refused.
    pub fn into_result(self) -> Result<T, Refusal> {
        match self {
            Self::Approved(value) => Ok(value),
            Self::Refused { reason } => Err(reason),
        }
    }
}

/// Why a risk check said no. Each variant carries the numbers that decided it, so a journal line
/// or a log message can say exactly what happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Refusal {
    /// |momentum| is under the entry threshold (DESIGN §10 rule 2), or zero (no direction).
    SignalBelowThreshold {
        /// |momentum| at the close.
        momentum_abs: Decimal,
        /// The entry threshold.
        threshold: Decimal,
    },
    /// The symbol already has a position or a pending entry.
    SymbolBusy {
        /// The symbol.
        symbol: Symbol,
    },
    /// As many positions as allowed are already open or pending.
    MaxPositions {
        /// Open plus pending positions.
        open: usize,
        /// The limit.
        max: usize,
    },
    /// The daily loss breaker has tripped; no entries until the given UTC day.
    BreakerTripped {
        /// First UTC day (days since 1970-01-01) on which entries are allowed again.
        until_day: i64,
    },
    /// Equity is zero or negative, so there is nothing to risk.
    NoEquity {
        /// Equity (wallet balance plus unrealized P&L).
        equity: Notional,
    },
    /// The free balance cannot carry the initial margin (it is zero or negative).
    InsufficientMargin {
        /// Free balance.
        free: Notional,
        /// Initial margin the uncapped entry would need.
        needed: Notional,
    },
    /// The size rounds down to zero on the instrument's step grid.
    ZeroQty {
        /// The quantity before rounding.
        raw_qty: Qty,
        /// The step size it fell below.
        step: Qty,
    },
    /// The rounded quantity is under the instrument's minimum quantity.
    BelowMinQty {
        /// The rounded quantity.
        qty: Qty,
        /// The minimum quantity.
        min: Qty,
    },
    /// The order value is under the instrument's minimum notional.
    BelowMinNotional {
        /// Quantity times price.
        notional: Notional,
        /// The minimum notional.
        min: Notional,
    },
    /// An input cannot be sized with (a price or step that is not positive, leverage 0, a stop
    /// distance of zero, or arithmetic that overflows `Decimal`).
    InvalidInput {
        /// Which input.
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
}

impl Refusal {
    /// A short, stable, machine-readable name (`max_positions`, `below_min_notional`, ...), the
    /// same as the `kind` tag in the serialized form.
    pub fn code(&self) -> &'static str {
        match self {
            Self::SignalBelowThreshold { .. } => "signal_below_threshold",
            Self::SymbolBusy { .. } => "symbol_busy",
            Self::MaxPositions { .. } => "max_positions",
            Self::BreakerTripped { .. } => "breaker_tripped",
            Self::NoEquity { .. } => "no_equity",
            Self::InsufficientMargin { .. } => "insufficient_margin",
            Self::ZeroQty { .. } => "zero_qty",
            Self::BelowMinQty { .. } => "below_min_qty",
            Self::BelowMinNotional { .. } => "below_min_notional",
            Self::InvalidInput { .. } => "invalid_input",
        }
    }

    pub(crate) fn invalid(field: &'static str, problem: impl Into<String>) -> Self {
        Self::InvalidInput { field, problem: problem.into() }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SignalBelowThreshold { momentum_abs, threshold } => {
                write!(f, "signal |momentum| {momentum_abs} is below the threshold {threshold}")
            }
            Self::SymbolBusy { symbol } => write!(f, "{symbol} already has a position or a pending entry"),
            Self::MaxPositions { open, max } => {
                write!(f, "{open} positions open or pending, the limit is {max}")
            }
            Self::BreakerTripped { until_day } => {
                write!(f, "daily loss breaker tripped: no entries until UTC day {until_day}")
            }
            Self::NoEquity { equity } => write!(f, "equity {equity} is not positive"),
            Self::InsufficientMargin { free, needed } => {
                write!(f, "free balance {free} cannot carry initial margin {needed}")
            }
            Self::ZeroQty { raw_qty, step } => {
                write!(f, "quantity {raw_qty} rounds down to zero on step {step}")
            }
            Self::BelowMinQty { qty, min } => write!(f, "quantity {qty} is below the minimum {min}"),
            Self::BelowMinNotional { notional, min } => {
                write!(f, "order value {notional} is below the minimum notional {min}")
            }
            Self::InvalidInput { field, problem } => write!(f, "cannot size with {field}: {problem}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn display_names_the_numbers() {
        let cases = [
            (Refusal::MaxPositions { open: 3, max: 3 }, "3 positions open or pending, the limit is 3"),
            (
                Refusal::BelowMinNotional {
                    notional: Notional::new(dec!(4.99)),
                    min: Notional::new(dec!(5)),
                },
                "order value 4.99 is below the minimum notional 5",
            ),
            (
                Refusal::InsufficientMargin {
                    free: Notional::new(dec!(-1)),
                    needed: Notional::new(dec!(100)),
                },
                "free balance -1 cannot carry initial margin 100",
            ),
            (
                Refusal::BreakerTripped { until_day: 19_724 },
                "daily loss breaker tripped: no entries until UTC day 19724",
            ),
        ];
        for (refusal, want) in cases {
            assert_eq!(refusal.to_string(), want);
        }
    }

    #[test]
    fn first_refusal_wins_in_a_chain() {
        let first: Decision<u32> = Decision::refused(Refusal::MaxPositions { open: 3, max: 3 });
        let chained = first.and_then(|_| Decision::<u32>::refused(Refusal::BreakerTripped { until_day: 1 }));
        assert_eq!(chained.refusal().map(Refusal::code), Some("max_positions"));
        let ok = Decision::Approved(2_u32).and_then(|x| Decision::Approved(x * 10)).map(|x| x + 1);
        assert_eq!(ok.clone().approved(), Some(21));
        assert!(ok.is_approved());
        assert_eq!(ok.into_result(), Ok(21));
    }

    #[test]
    fn serializes_with_kind_tag() {
        let refusal = Refusal::ZeroQty { raw_qty: Qty::new(dec!(0.0004)), step: Qty::new(dec!(0.001)) };
        let json = serde_json::to_string(&refusal).unwrap();
        assert_eq!(json, r#"{"kind":"zero_qty","raw_qty":"0.0004","step":"0.001"}"#);
        assert_eq!(refusal.code(), "zero_qty");
    }
}
