//! risk-core: the pure risk math of both agents (no I/O, no clock, no async): entry sizing and
//! leverage, position limits, the daily loss breaker, exit levels, Binance's liquidation price,
//! strategy parameters, and performance metrics.
//!
//! Money is `rust_decimal::Decimal` (or exchange-core's `Price`, `Qty`, `Notional`); `f64`
//! appears only in [`metrics`]. A risk check returns a [`Decision`] (approved, or refused with a
//! [`Refusal`] that names the numbers), never an error. Time is event time in ms, UTC days
//! ([`day`]).

pub mod breaker;
pub mod day;
pub mod decision;
pub mod levels;
pub mod liquidation;
pub mod metrics;
pub mod params;
pub mod portfolio;
pub mod sizing;
pub mod spot_sizing;
pub mod var;

pub use breaker::{BreakerEvent, BreakerState, BreakerTrip, DailyBreaker, DayStart};
pub use day::{MS_PER_DAY, utc_day, utc_day_of_close};
pub use decision::{Decision, Refusal};
pub use levels::{ExitLevels, Peak, trailing_stop};
pub use liquidation::{
    Bracket, BracketError, LiqInput, bracket_for, cum_for_brackets, isolated_liquidation_price,
    isolated_liquidation_price_at_leverage, liquidation_price, liquidation_price_in_brackets,
    maintenance_margin,
};
pub use metrics::{Metrics, TradeStats};
pub use params::{FuturesRiskParams, ParamError};
pub use sizing::{SizedEntry, SizingInput, entry_direction, leverage_for_signal, position_slots, size_entry};
