//! The exit rules the backtest and the live agent share (DESIGN §11): the ATR trailing stop's
//! level and its ratchet, and the regime-flip exit.
//!
//! - Level: `peak - atr_multiple * ATR`, rounded down to the tick, never below 0. At the entry
//!   the peak is the fill price and the ATR the decision close's.
//! - Ratchet: at each close the peak takes the bar's high and the level is recomputed with that
//!   close's ATR; it only ever moves up.
//! - Regime flip (with regimes on and `exit_on_regime_flip`): a held pair whose regime at a close
//!   blocks longs (`trend_down`, `high_vol`) is sold at the next open.

use exchange_core::{InstrumentRules, Price, PriceRounding};
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;

use super::params::SpotParams;
use super::signals::Snapshot;

/// `peak - atr_multiple * atr`, rounded down to the tick, never below 0.
pub fn trailing_stop_level(rules: &InstrumentRules, peak: Decimal, atr: f64, atr_multiple: f64) -> Decimal {
    let distance = Decimal::from_f64(atr_multiple * atr).unwrap_or(Decimal::ZERO);
    let level = (peak - distance).max(Decimal::ZERO);
    rules.round_price(Price::new(level), PriceRounding::Down).get()
}

/// The ratcheted level at a close: the level from `peak` and this close's `atr` when it is above
/// `current`, else `None` (a stop never moves down).
pub fn ratchet(
    rules: &InstrumentRules,
    current: Decimal,
    peak: Decimal,
    atr: f64,
    atr_multiple: f64,
) -> Option<Decimal> {
    let level = trailing_stop_level(rules, peak, atr, atr_multiple);
    (level > current).then_some(level)
}

/// True when a held pair must be sold at the next open because its regime at this close blocks
/// longs (regimes on, `exit_on_regime_flip`).
pub fn regime_flip_exit(params: &SpotParams, snap: Option<&Snapshot>) -> bool {
    params.features.regime
        && params.risk.exit_on_regime_flip
        && snap.is_some_and(|s| s.regime.regime.blocks_longs())
}
