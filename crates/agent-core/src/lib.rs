//! agent-core: what both agents (and the supervisor) share: the backtester (`backtest`), TOML
//! config loading with every problem reported at once (`config`), environment and dotenv layers
//! (`dotenv`), technical indicators (`indicators`), the trade journal (`journal`), the status
//! snapshot (`status`), flock-held PID files (`pidfile`), the daily-rotated human log
//! (`logfile`) and UTC calendar helpers (`time`).

pub mod backtest;
pub mod config;
pub mod dotenv;
pub mod indicators;
pub mod journal;
#[cfg(feature = "runtime")]
pub mod live;
pub mod logfile;
pub mod ml;
pub mod pidfile;
pub mod regime;
pub mod spot;
pub mod status;
pub mod time;
