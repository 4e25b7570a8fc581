//! `futures-agent backtest`: loads the config and the data directory, applies `--set`
//! overrides, runs the momentum strategy through the backtester and writes the report.

use std::path::{Path, PathBuf};

use agent_core::backtest::{self, DataError, Report, ReportParams, load_dir};
use agent_core::config::ConfigError;
use agent_core::time::{InvalidDate, format_utc_date, parse_date_ms};
use exchange_core::Symbol;

use crate::config::FuturesConfig;
use crate::strategy::Momentum;

/// The backtest command's options.
#[derive(Debug, Clone, clap::Args)]
pub struct BacktestArgs {
    /// Directory with <SYMBOL>.csv, and optionally <SYMBOL>-mark.csv and <SYMBOL>-funding.csv.
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// Symbols to run, comma separated (default: the config's).
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub symbols: Option<Vec<String>>,
    /// First day included, UTC (YYYY-MM-DD).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub from: Option<String>,
    /// First day excluded, UTC (YYYY-MM-DD).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub to: Option<String>,
    /// Config file (default: config/futures_agent.toml if it exists, else built-in defaults).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Override a strategy key, e.g. --set threshold=0.03 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
    /// Where to write the JSON report.
    #[arg(long, value_name = "FILE.json")]
    pub report: PathBuf,
}

/// Why a backtest did not produce a report.
#[derive(Debug, thiserror::Error)]
pub enum BacktestError {
    /// The config file or an override is wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A date argument is wrong.
    #[error("--{flag}: {source}")]
    Date {
        /// `from` or `to`.
        flag: &'static str,
        /// What is wrong.
        source: InvalidDate,
    },
    /// A symbol argument is wrong.
    #[error("--symbols: {0}")]
    Symbol(String),
    /// The data directory is wrong.
    #[error(transparent)]
    Data(#[from] DataError),
    /// No requested symbol has data in the range.
    #[error("no symbol has data in the range (skipped: {0})")]
    NoData(String),
    /// The report could not be written.
    #[error("cannot write the report {}: {source}", path.display())]
    Write {
        /// The report path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl BacktestError {
    /// The process exit code: 2 for bad input, 1 for a failure to write.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Write { .. } => 1,
            _ => 2,
        }
    }
}

const DEFAULT_CONFIG: &str = "config/futures_agent.toml";

/// Loads the config (or the defaults), applies the overrides and validates the result.
///
/// # Errors
/// A config file that cannot be read or is invalid, an unknown `--set` key or a bad value.
pub fn resolve_config(config: Option<&Path>, overrides: &[String]) -> Result<FuturesConfig, ConfigError> {
    let (mut cfg, source) = match config {
        Some(path) => (FuturesConfig::load(path)?, path.display().to_string()),
        None if Path::new(DEFAULT_CONFIG).exists() => {
            (FuturesConfig::load(Path::new(DEFAULT_CONFIG))?, DEFAULT_CONFIG.to_owned())
        }
        None => (FuturesConfig::default(), "built-in defaults".to_owned()),
    };
    let mut problems = Vec::new();
    for item in overrides {
        match item.split_once('=') {
            Some((key, value)) => {
                if let Err(e) = cfg.strategy.set(key.trim(), value.trim()) {
                    problems.push(format!("--set {item}: {e}"));
                }
            }
            None => problems.push(format!("--set {item}: expected KEY=VALUE")),
        }
    }
    // Ranges are checked even when an override did not parse, so every problem is listed at once
    // (a key that failed to parse keeps its previous value).
    let source = if overrides.is_empty() { source } else { format!("{source} with --set") };
    if let Err(invalid) = cfg.validate(&source) {
        problems.extend(invalid.problems);
    }
    if problems.is_empty() { Ok(cfg) } else { Err(ConfigError { source, problems }) }
}

/// Runs a backtest and returns its report (not yet written).
///
/// # Errors
/// Bad config, dates, symbols or data; see [`BacktestError`].
pub fn run_backtest(args: &BacktestArgs) -> Result<(Report, Vec<Symbol>), BacktestError> {
    let cfg = resolve_config(args.config.as_deref(), &args.overrides)?;
    let from = parse_date(args.from.as_deref(), "from")?;
    let to = parse_date(args.to.as_deref(), "to")?;
    let symbols: Vec<Symbol> = match &args.symbols {
        Some(list) => list
            .iter()
            .filter(|s| !s.trim().is_empty())
            .map(|s| Symbol::new(s.trim()).map_err(|e| BacktestError::Symbol(e.to_string())))
            .collect::<Result<_, _>>()?,
        None => cfg.symbols.clone(),
    };
    if symbols.is_empty() {
        return Err(BacktestError::Symbol("no symbols given".to_owned()));
    }
    // Listed twice, a symbol would run as two series over one wallet and double its trades.
    if let Some((_, twice)) = symbols.iter().enumerate().find(|(i, s)| symbols[..*i].contains(s)) {
        return Err(BacktestError::Symbol(format!("{twice} is listed twice")));
    }
    let with_rules = symbols
        .iter()
        .map(|s| cfg.rules_for(s).map(|r| (s.clone(), r)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|problem| ConfigError::one("instrument rules", problem))?;
    let loaded = load_dir(&args.data, &with_rules, from, to)?;
    if loaded.series.is_empty() {
        let names: Vec<&str> = loaded.skipped.iter().map(Symbol::as_str).collect();
        return Err(BacktestError::NoData(names.join(", ")));
    }
    let strategy = Momentum::new(&cfg.strategy);
    let output = backtest::run(&loaded.series, &cfg.strategy, &strategy);
    let params = ReportParams {
        strategy: cfg.strategy.clone(),
        symbols: loaded.series.iter().map(|s| s.symbol.clone()).collect(),
        instruments: loaded.series.iter().map(|s| (s.symbol.clone(), s.rules.clone())).collect(),
        from: from.map(format_utc_date),
        to: to.map(format_utc_date),
    };
    Ok((Report::new(params, output), loaded.skipped))
}

fn parse_date(text: Option<&str>, flag: &'static str) -> Result<Option<i64>, BacktestError> {
    text.map(|t| parse_date_ms(t).map_err(|source| BacktestError::Date { flag, source })).transpose()
}

/// Writes the report as compact JSON, atomically (a temp file beside it, synced, then a rename).
///
/// # Errors
/// When the file cannot be written.
pub fn write_report(report: &Report, path: &Path) -> Result<(), BacktestError> {
    use std::io::Write as _;
    let write_err = |source| BacktestError::Write { path: path.to_path_buf(), source };
    let tmp = path.with_extension("json.tmp");
    let file = std::fs::File::create(&tmp).map_err(write_err)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    serde_json::to_writer(&mut out, report).map_err(|e| write_err(std::io::Error::other(e)))?;
    out.write_all(b"\n").map_err(write_err)?;
    let file = out.into_inner().map_err(|e| write_err(e.into_error()))?;
    file.sync_all().map_err(write_err)?;
    std::fs::rename(&tmp, path).map_err(write_err)
}
