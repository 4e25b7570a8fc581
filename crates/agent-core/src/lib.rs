//! agent-core: what both agents share. So far: the backtester (`backtest`), TOML config loading
//! with every problem reported at once (`config`), and UTC calendar helpers (`time`).

pub mod backtest;
pub mod config;
pub mod journal;
pub mod pidfile;
pub mod status;
pub mod time;
