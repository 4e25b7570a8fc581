//! main-agent live: the pure decision engine the runtime (agent-core's `live`) drives, running
//! the backtester's strategy and risk code on live bars and turning its decisions into spot
//! orders (DESIGN §11, issue 6).
//!
//! | file        | owns                                                                     |
//! |-------------|--------------------------------------------------------------------------|
//! | `engine`    | the engine: its state, bars gathered by open time, seeded history        |
//! | `close`     | a close's decisions: indicators, gate, daily loss cap, exits, entries    |
//! | `book`      | one pair's entry, holding, stop state, dust, and fill accounting         |
//! | `orders`    | order updates, fills, failed placements: the stop's life, exits, flatten |
//! | `reconcile` | the two reconciliation phases: awaited orders, balances and open orders  |
//! | `replay`    | rebuilding from the journal, sessions, config reloads                    |
//! | `status`    | the status snapshot, regimes included                                    |
//! | `drive`     | the `LiveEngine` trait over the engine's methods                         |

pub mod book;
mod close;
mod drive;
pub mod engine;
mod orders;
mod reconcile;
mod replay;
mod status;

pub use book::{AfterCancel, Book, Holding, PendingEntry, StopState};
pub use engine::{MODEL_FILE, SpotEngineConfig, SpotLiveEngine};
pub use status::MARKET_KEY;

#[cfg(test)]
mod tests;
