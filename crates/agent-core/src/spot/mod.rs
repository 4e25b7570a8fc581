//! The main agent's spot strategy and its backtester (DESIGN §11): long or flat, 1x, over many
//! USDT pairs with one cash balance; regimes, adaptive TA entries, a walk-forward ML gate, a
//! correlation cap, volatility-targeted sizing under a portfolio VaR limit, ATR trailing stops,
//! regime-flip exits and a daily loss cap. The decision code is synchronous and pure (no I/O, no
//! clock); only the feed and the fills are simulated here.
//!
//! | file         | owns                                                                  |
//! |--------------|-----------------------------------------------------------------------|
//! | `params`     | every number, in config sections, and their validation                |
//! | `data`       | the data directory: symbols, range, derived instrument rules          |
//! | `grid`       | the time grid and the return windows the caps read                    |
//! | `signals`    | per-asset indicators, ML features, the entry rules                    |
//! | `engine`     | the bar loop: fills, stops, equity, the daily loss cap, exits         |
//! | `entries`    | the entry decision: gate, slots, correlation, sizing, VaR             |
//! | `output`     | trades, signals, counters                                             |

pub mod data;
pub mod engine;
mod entries;
pub mod grid;
pub mod output;
pub mod params;
pub mod signals;

pub use data::{
    RulesFor, SpotData, SpotDataError, SpotSeries, derive_rules, discover_symbols, load_spot_dir,
};
pub use engine::run_spot;
pub use grid::ReturnGrid;
pub use output::{
    CapCounters, RegimeCounts, SignalOutcome, SignalRecord, SpotExitReason, SpotRunOutput, SpotTrade,
};
pub use params::{CostParams, EntryParams, FeatureSwitches, SpotParams, SpotRiskParams};
pub use signals::{AssetIndicators, EntryCall, FEATURES, N_FEATURES, SignalKind, Snapshot, entry_signal};

#[cfg(test)]
mod tests;
