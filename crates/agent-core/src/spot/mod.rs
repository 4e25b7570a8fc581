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
//! | `grid`       | the backtest's time grid and its return series                        |
//! | `windows`    | the return windows the caps read: the grid's, or a live rolling buffer|
//! | `signals`    | per-asset indicators, ML features, the entry rules                    |
//! | `stops`      | the exit rules: ATR trailing stop and its ratchet, regime flip        |
//! | `engine`     | the bar loop: fills, stops, equity, the daily loss cap, exits         |
//! | `entries`    | the entry decision: gate, slots, correlation, sizing, VaR             |
//! | `output`     | trades, signals, counters                                             |
//!
//! The live agent (main-agent's `live`) runs the same `signals`, `stops` and `entries`
//! ([`decide_entry`] over [`RollingReturns`]) with the gate of `ml`.

pub mod data;
pub mod engine;
mod entries;
pub mod grid;
pub mod output;
pub mod params;
pub mod signals;
pub mod stops;
pub mod windows;

pub use data::{
    RulesFor, SpotData, SpotDataError, SpotSeries, derive_rules, discover_symbols, load_spot_dir,
};
pub use engine::{bars_per_year, run_spot};
pub use entries::{EntryInput, EntryVerdict, decide_entry};
pub use grid::ReturnGrid;
pub use output::{
    CapCounters, RegimeCounts, SignalOutcome, SignalRecord, SpotExitReason, SpotRunOutput, SpotTrade,
};
pub use params::{CostParams, EntryParams, FeatureSwitches, SpotParams, SpotRiskParams};
pub use signals::{AssetIndicators, EntryCall, FEATURES, N_FEATURES, SignalKind, Snapshot, entry_signal};
pub use stops::{ratchet, regime_flip_exit, trailing_stop_level};
pub use windows::{GridWindows, ReturnWindows, RollingReturns};

#[cfg(test)]
mod tests;
