//! [`SimError`]: why the simulator could not start, or could not save its state on the way out.

use std::path::PathBuf;

use crate::config::ConfigError;
use crate::market::replay::ReplayError;

/// A startup or shutdown failure.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The built-in instrument tables are inconsistent (a bug).
    #[error("built-in catalogue is invalid: {0}")]
    Catalog(String),
    /// The port could not be bound.
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind {
        /// The port asked for.
        port: u16,
        /// Why.
        source: std::io::Error,
    },
    /// A replay file could not be used.
    #[error(transparent)]
    Replay(#[from] ReplayError),
    /// The replay folder holds no kline file of a simulated symbol.
    #[error("replay folder {0} has no <SYMBOL>.csv file for a simulated symbol")]
    ReplayEmpty(PathBuf),
    /// The state file could not be read, parsed or written.
    #[error("state file {path}: {problem}")]
    State {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        problem: String,
    },
    /// The engine task stopped abnormally.
    #[error("engine task failed: {0}")]
    Engine(String),
}
