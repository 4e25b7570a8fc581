//! futures-agent's config file (`config/futures_agent.toml`): the symbols in order, the strategy
//! and risk keys of DESIGN §10 (table `[strategy]`), and instrument rules per symbol (tables
//! `[instruments.<SYMBOL>]`), which default to Binance USD-M's real filters for BTCUSDT, ETHUSDT
//! and SOLUSDT (exchangeInfo, PRICE_FILTER / LOT_SIZE / MIN_NOTIONAL).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use agent_core::config::{ConfigError, read_toml};
use exchange_core::{InstrumentRules, Notional, Price, Qty, Symbol};
use risk_core::params::FuturesRiskParams;
use serde::{Deserialize, Serialize};

/// The whole file.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FuturesConfig {
    /// Symbols traded, in priority order (signals are taken in this order).
    #[serde(default = "default_symbols")]
    pub symbols: Vec<Symbol>,
    /// Strategy and risk keys.
    #[serde(default)]
    pub strategy: FuturesRiskParams,
    /// Instrument rules that replace or add to the built-in ones.
    #[serde(default)]
    pub instruments: BTreeMap<Symbol, InstrumentSpec>,
    /// Where it trades: `sim`, `binance-demo`, `binance-testnet` or `binance` (DESIGN §4).
    #[serde(default = "default_venue")]
    pub venue: String,
    /// Fill orders locally on the venue's prices and send nothing.
    #[serde(default)]
    pub paper: bool,
    /// Directory of the human log and the trade journal.
    #[serde(default = "default_log_dir")]
    pub log_dir: PathBuf,
    /// Directory of the PID file and the status snapshot.
    #[serde(default = "default_run_dir")]
    pub run_dir: PathBuf,
    /// Close every position at market on SIGTERM/SIGINT (default: leave them protected).
    #[serde(default)]
    pub flatten_on_stop: bool,
    /// exchange-sim's config, read for its port and demo account when `venue = "sim"`.
    #[serde(default = "default_sim_config")]
    pub sim_config: PathBuf,
    /// REST base URL override (e.g. `http://127.0.0.1:8765`).
    #[serde(default)]
    pub rest_url: Option<String>,
    /// WebSocket base URL override (e.g. `ws://127.0.0.1:8765`).
    #[serde(default)]
    pub ws_url: Option<String>,
}

fn default_venue() -> String {
    "sim".to_owned()
}

fn default_log_dir() -> PathBuf {
    PathBuf::from("logs")
}

fn default_run_dir() -> PathBuf {
    PathBuf::from("run")
}

fn default_sim_config() -> PathBuf {
    PathBuf::from("config/exchange_sim.toml")
}

/// One symbol's filters as written in the file.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InstrumentSpec {
    /// PRICE_FILTER tickSize.
    pub tick_size: Price,
    /// LOT_SIZE stepSize.
    pub step_size: Qty,
    /// LOT_SIZE minQty.
    pub min_qty: Qty,
    /// LOT_SIZE maxQty (absent: none).
    #[serde(default)]
    pub max_qty: Option<Qty>,
    /// MIN_NOTIONAL notional.
    pub min_notional: Notional,
}

fn default_symbols() -> Vec<Symbol> {
    ["BTCUSDT", "ETHUSDT", "SOLUSDT"].into_iter().filter_map(|s| Symbol::new(s).ok()).collect()
}

impl Default for FuturesConfig {
    fn default() -> Self {
        Self {
            symbols: default_symbols(),
            strategy: FuturesRiskParams::default(),
            instruments: BTreeMap::new(),
            venue: default_venue(),
            paper: false,
            log_dir: default_log_dir(),
            run_dir: default_run_dir(),
            flatten_on_stop: false,
            sim_config: default_sim_config(),
            rest_url: None,
            ws_url: None,
        }
    }
}

/// Binance USD-M filters (exchangeInfo, 2026): symbol, tick size, step size (also the minimum
/// quantity), minimum notional.
const BUILT_IN: [(&str, &str, &str, &str); 3] = [
    ("BTCUSDT", "0.10", "0.001", "100"),
    ("ETHUSDT", "0.01", "0.001", "20"),
    ("SOLUSDT", "0.0100", "1", "5"),
];

fn built_in_rules(symbol: &Symbol) -> Option<InstrumentRules> {
    let (_, tick, step, min_notional) = BUILT_IN.iter().find(|row| row.0 == symbol.as_str())?;
    let step: Qty = step.parse().ok()?;
    InstrumentRules::new(symbol.clone(), tick.parse().ok()?, step, step, None, min_notional.parse().ok()?)
        .ok()
}

impl FuturesConfig {
    /// Reads and validates a config file.
    ///
    /// # Errors
    /// When the file cannot be read or parsed, or any value is out of range (every problem is
    /// listed, each with its key).
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let config: Self = read_toml(path)?;
        config.validate(&path.display().to_string())?;
        Ok(config)
    }

    /// Checks every key, listing all problems at once under `source`.
    ///
    /// # Errors
    /// The list of problems, when there is any.
    pub fn validate(&self, source: &str) -> Result<(), ConfigError> {
        let mut problems: Vec<String> = match self.strategy.validate() {
            Ok(()) => Vec::new(),
            Err(errors) => errors.iter().map(|e| format!("strategy.{e}")).collect(),
        };
        if self.symbols.is_empty() {
            problems.push("symbols: the list is empty".to_owned());
        }
        if let Err(e) = self.venue.parse::<exchange_core::venue::Environment>() {
            problems.push(format!("venue: {e}"));
        }
        for (i, symbol) in self.symbols.iter().enumerate() {
            if self.symbols[..i].contains(symbol) {
                problems.push(format!("symbols: {symbol} is listed twice"));
            }
            if let Err(problem) = self.rules_for(symbol) {
                problems.push(problem);
            }
        }
        if problems.is_empty() { Ok(()) } else { Err(ConfigError { source: source.to_owned(), problems }) }
    }

    /// The instrument rules for `symbol`: the file's, else the built-in ones.
    ///
    /// # Errors
    /// When neither has the symbol, or the file's rules are impossible.
    pub fn rules_for(&self, symbol: &Symbol) -> Result<InstrumentRules, String> {
        match self.instruments.get(symbol) {
            Some(spec) => InstrumentRules::new(
                symbol.clone(),
                spec.tick_size,
                spec.step_size,
                spec.min_qty,
                spec.max_qty,
                spec.min_notional,
            )
            .map_err(|e| format!("instruments.{symbol}: {}", e.problem)),
            None => built_in_rules(symbol).ok_or_else(|| {
                format!("instruments.{symbol}: no instrument rules; add a [instruments.{symbol}] table")
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use agent_core::config::parse_toml;
    use rust_decimal_macros::dec;

    #[test]
    fn defaults_cover_the_three_perpetuals() {
        let config = FuturesConfig::default();
        config.validate("defaults").unwrap();
        let btc = config.rules_for(&Symbol::new("BTCUSDT").unwrap()).unwrap();
        assert_eq!(
            (btc.tick_size.get(), btc.step_size.get(), btc.min_notional.get()),
            (dec!(0.10), dec!(0.001), dec!(100))
        );
        let sol = config.rules_for(&Symbol::new("SOLUSDT").unwrap()).unwrap();
        assert_eq!((sol.tick_size.get(), sol.step_size.get()), (dec!(0.0100), dec!(1)));
    }

    #[test]
    fn shipped_config_file_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/futures_agent.toml");
        let config = FuturesConfig::load(&path).unwrap();
        assert_eq!(config.symbols.len(), 3);
    }

    #[test]
    fn unknown_symbol_needs_rules() {
        let config: FuturesConfig = parse_toml("symbols = [\"XRPUSDT\"]\n", Path::new("f.toml")).unwrap();
        let err = config.validate("f.toml").unwrap_err();
        assert!(err.to_string().contains("instruments.XRPUSDT"), "{err}");
        let with_rules: FuturesConfig = parse_toml(
            "symbols = [\"XRPUSDT\"]\n[instruments.XRPUSDT]\ntick_size = \"0.0001\"\nstep_size = \"0.1\"\nmin_qty = \"0.1\"\nmin_notional = \"5\"\n",
            Path::new("f.toml"),
        )
        .unwrap();
        with_rules.validate("f.toml").unwrap();
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = parse_toml::<FuturesConfig>("[strategy]\nwindoww = 3\n", Path::new("f.toml")).unwrap_err();
        assert!(err.to_string().contains("windoww"), "{err}");
    }
}
