//! `main-agent backtest`: resolves the config (file, environment, `--set`), loads the data
//! directory, runs the spot strategy through agent-core's spot backtester, optionally the
//! ablation, and writes the report.
//!
//! Without `--symbols`, every `<SYMBOL>.csv` of the directory is run; pairs with no bar in the
//! range are named and skipped. Bad input of any kind (config, environment, dates, symbols,
//! files) is an error with exit code 2 and no report; a report that cannot be written is 1.

use std::path::{Path, PathBuf};

use agent_core::config::ConfigError;
use agent_core::dotenv::Layers;
use agent_core::spot::{SpotDataError, discover_symbols, load_spot_dir, run_spot};
use agent_core::time::{InvalidDate, format_utc_date, parse_date_ms};
use exchange_core::Symbol;

use crate::ablation::{ablation_table, run_ablation};
use crate::report::{Report, ReportParams};
use crate::settings::{DOTENV_FILES, resolve};

/// The backtest command's options.
#[derive(Debug, Clone, clap::Args)]
pub struct BacktestArgs {
    /// Directory of <SYMBOL>.csv kline files (the layout of ../shared/data/spot-1h).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// Pairs to run, comma separated (default: every <SYMBOL>.csv in DIR).
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub symbols: Option<Vec<String>>,
    /// First day included, UTC (YYYY-MM-DD).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub from: Option<String>,
    /// First day excluded, UTC (YYYY-MM-DD).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub to: Option<String>,
    /// Config file (default: config/main_agent.toml if it exists, else built-in defaults).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Override any config key, e.g. --set risk.var_limit=0.03 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
    /// Where to write the JSON report.
    #[arg(long, value_name = "FILE.json")]
    pub report: PathBuf,
    /// Also run with each feature off in turn and print a comparison table.
    #[arg(long)]
    pub ablation: bool,
    /// Save the last fitted gate model (JSON) to this file.
    #[arg(long, value_name = "FILE.json")]
    pub save_model: Option<PathBuf>,
}

/// Why a backtest did not produce a report.
#[derive(Debug, thiserror::Error)]
pub enum BacktestError {
    /// The config, the environment or an override is wrong.
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
    Data(#[from] SpotDataError),
    /// No pair has data in the range.
    #[error("no pair has data in the range (skipped: {0})")]
    NoData(String),
    /// The report or the model could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
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

/// A finished backtest, not yet written.
#[derive(Debug)]
pub struct Outcome {
    /// The report (with the ablation rows when asked for).
    pub report: Report,
    /// The ablation table for stdout, when asked for.
    pub ablation_table: Option<String>,
    /// The last fitted model, if any.
    pub model: Option<agent_core::ml::LogisticModel>,
}

fn parse_date(text: Option<&str>, flag: &'static str) -> Result<Option<i64>, BacktestError> {
    text.map(|t| parse_date_ms(t).map_err(|source| BacktestError::Date { flag, source })).transpose()
}

/// Runs a backtest with the environment `layers` (process environment and dotenv files).
///
/// # Errors
/// Bad config, environment, dates, symbols or data; see [`BacktestError`].
pub fn run_backtest(args: &BacktestArgs, layers: &Layers) -> Result<Outcome, BacktestError> {
    let cfg = resolve(args.config.as_deref(), layers, &args.overrides)?;
    let from = parse_date(args.from.as_deref(), "from")?;
    let to = parse_date(args.to.as_deref(), "to")?;
    let symbols: Vec<Symbol> = match &args.symbols {
        Some(list) => {
            let symbols = list
                .iter()
                .filter(|s| !s.trim().is_empty())
                .map(|s| Symbol::new(s.trim()).map_err(|e| BacktestError::Symbol(e.to_string())))
                .collect::<Result<Vec<_>, _>>()?;
            if let Some((_, twice)) = symbols.iter().enumerate().find(|(i, s)| symbols[..*i].contains(s)) {
                return Err(BacktestError::Symbol(format!("{twice} is listed twice")));
            }
            symbols
        }
        None => discover_symbols(&args.data)?,
    };
    if symbols.is_empty() {
        return Err(BacktestError::Symbol("no symbols given".to_owned()));
    }
    let loaded = load_spot_dir(&args.data, &symbols, &|s, bars| cfg.rules_for(s, bars), from, to)?;
    if loaded.series.is_empty() {
        let names: Vec<&str> = loaded.skipped.iter().map(Symbol::as_str).collect();
        return Err(BacktestError::NoData(names.join(", ")));
    }
    let params = cfg.params();
    let output = run_spot(&loaded.series, loaded.interval_ms, &params);
    let model = output.model.clone();
    let rows = args.ablation.then(|| {
        let all_on = params.features == Default::default();
        run_ablation(&loaded.series, loaded.interval_ms, &params, all_on.then_some(&output))
    });
    let report_params = ReportParams {
        strategy: params,
        symbols: loaded.series.iter().map(|s| s.symbol.clone()).collect(),
        skipped: loaded.skipped.clone(),
        instruments: loaded.series.iter().map(|s| (s.symbol.clone(), s.rules.clone())).collect(),
        from: from.map(format_utc_date),
        to: to.map(format_utc_date),
        interval_ms: loaded.interval_ms,
    };
    let mut report = Report::new(report_params, output, &loaded.series);
    let ablation_table = rows.as_deref().map(ablation_table);
    report.ablation = rows;
    Ok(Outcome { report, ablation_table, model })
}

/// The environment of a command-line run: the process environment over [`DOTENV_FILES`] in
/// the working directory.
///
/// # Errors
/// A dotenv file that cannot be read or has a malformed line.
pub fn environment() -> Result<Layers, ConfigError> {
    let files: Vec<PathBuf> = DOTENV_FILES.iter().map(PathBuf::from).collect();
    Layers::load(&files)
}

/// Writes `value` as compact JSON, atomically (a temp file beside it, synced, then a rename).
///
/// # Errors
/// When the file cannot be written.
pub fn write_json<T: serde::Serialize>(value: &T, path: &Path) -> Result<(), BacktestError> {
    use std::io::Write as _;
    let write_err = |source| BacktestError::Write { path: path.to_path_buf(), source };
    let tmp = path.with_extension("json.tmp");
    let file = std::fs::File::create(&tmp).map_err(write_err)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    serde_json::to_writer(&mut out, value).map_err(|e| write_err(std::io::Error::other(e)))?;
    out.write_all(b"\n").map_err(write_err)?;
    let file = out.into_inner().map_err(|e| write_err(e.into_error()))?;
    file.sync_all().map_err(write_err)?;
    std::fs::rename(&tmp, path).map_err(write_err)
}
