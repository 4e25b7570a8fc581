//! Live trading: the decision engine (`engine`, pure) and the per-symbol books it keeps
//! (`book`); the `LiveEngine` face agent-core's runtime drives (`agent`); the
//! reconciliation with the venue (`reconcile`), the status snapshot (`status`) and the settings
//! (`settings`).

pub mod agent;
pub mod book;
pub mod engine;
pub mod reconcile;
pub mod settings;
pub mod status;

pub use agent::FuturesLive;
pub use book::{Book, OpenPosition, PendingEntry, Protection};
pub use engine::{AlertLevel, Command, EngineConfig, LiveEngine};

#[cfg(test)]
mod tests;
