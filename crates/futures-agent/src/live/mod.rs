//! Live trading: the decision engine (`engine`, pure) and the per-symbol books it keeps
//! (`book`). The runtime that connects them to a venue is built on top of these.

pub mod book;
pub mod engine;
pub mod settings;

pub use book::{Book, OpenPosition, PendingEntry, Protection};
pub use engine::{Command, EngineConfig, LiveEngine};

#[cfg(test)]
mod tests;
