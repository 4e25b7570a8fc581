//! The backtester: the futures rules of DESIGN §10 driven by a replay of kline files, with a
//! simulated execution, on many symbols with one wallet. The strategy and risk code are the ones
//! the live agent runs; only the feed and the execution are simulated here.

pub mod data;
pub mod engine;
pub mod exits;
pub mod report;

pub use data::{DataError, LoadedData, load_dir};
pub use engine::{EntrySignal, EntryStrategy, RunOutput, SignalInput, SymbolSeries, run};
pub use exits::ExitReason;
pub use report::{Report, ReportParams, Summary, TradeRecord, fmt_opt, write_metric_lines};
