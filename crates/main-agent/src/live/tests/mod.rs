//! Tests of the live engine without a venue: scenarios command by command (`scenarios`),
//! reconciliation (`reconcile`), the journal's replay (`replay`), and parity with the
//! backtester over a simulated venue (`parity`). `sim` holds the shared fixtures.

mod parity;
mod reconcile;
mod replay;
mod scenarios;
mod sim;
