//! Live trading: the decision engine (`engine`, pure) and the per-symbol books it keeps
//! (`book`); around them the runtime (`runtime`: streams, timers, signals, commands), the
//! reconciliation with the venue (`reconcile`), the status snapshot (`status`) and the settings
//! (`settings`).

pub mod book;
pub mod engine;
pub mod reconcile;
pub mod runtime;
pub mod settings;
pub mod status;

pub use book::{Book, OpenPosition, PendingEntry, Protection};
pub use engine::{AlertLevel, Command, EngineConfig, LiveEngine};

#[cfg(test)]
mod tests;
