//! main-agent's config file (`config/main_agent.toml`): where it trades, its universe of pairs,
//! and every number of the strategy in the sections of agent-core's `SpotParams`
//! (`[features]`, `[regime]`, `[entries]`, `[gate]`, `[risk]`, `[costs]`, plus `capital`).
//!
//! Instrument rules: a `[instruments.<SYMBOL>]` table gives a pair's real filters; a pair without
//! one gets rules derived from its kline file (tick and step from the decimals the data needs,
//! minimum notional `default_min_notional` [5 USDT], see `agent_core::spot::data`). Unknown keys
//! are refused everywhere; [`MainConfig::validate`] lists every problem at once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use agent_core::config::{ConfigError, read_toml};
use agent_core::ml::GateParams;
use agent_core::regime::RegimeParams;
use agent_core::spot::{CostParams, EntryParams, FeatureSwitches, SpotParams, SpotRiskParams, derive_rules};
use exchange_core::{Bar, InstrumentRules, Notional, Price, Qty, Symbol};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The venues main-agent knows (DESIGN §4).
pub const VENUES: [&str; 4] = ["sim", "binance-demo", "binance-testnet", "binance"];

/// The default universe: 24 liquid USDT pairs, all in ../shared/data/spot-1h and all listed by
/// exchange-sim.
pub const DEFAULT_SYMBOLS: [&str; 24] = [
    "BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "ADAUSDT", "DOGEUSDT", "AVAXUSDT", "LINKUSDT",
    "DOTUSDT", "LTCUSDT", "BCHUSDT", "TRXUSDT", "NEARUSDT", "UNIUSDT", "AAVEUSDT", "ARBUSDT", "OPUSDT",
    "SUIUSDT", "INJUSDT", "ATOMUSDT", "ETCUSDT", "XTZUSDT", "ZECUSDT",
];

/// The whole file.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MainConfig {
    /// Where it trades: `sim`, `binance-demo`, `binance-testnet` or `binance`.
    pub venue: String,
    /// Fill orders locally on the venue's prices and send nothing (`TB_PAPER_TRADING`).
    pub paper: bool,
    /// Directory of the human log and the trade journal.
    pub log_dir: PathBuf,
    /// exchange-sim's config, read for its port and demo account when `venue = "sim"`.
    pub sim_config: PathBuf,
    /// REST base URL instead of the venue's published one.
    pub rest_url: Option<String>,
    /// WebSocket market-stream base URL instead of the venue's published one.
    pub ws_url: Option<String>,
    /// Sell every holding on a graceful stop (otherwise they stay, under their resting stops).
    pub flatten_on_stop: bool,
    /// Directory of the PID file, the status snapshot and the saved model.
    pub run_dir: PathBuf,
    /// The pairs traded live (a backtest without `--symbols` takes every file of its data
    /// directory instead).
    pub symbols: Vec<Symbol>,
    /// Starting capital in USDT.
    pub capital: Decimal,
    /// Minimum notional of derived instrument rules.
    pub default_min_notional: Decimal,
    /// Feature switches.
    pub features: FeatureSwitches,
    /// Regime classification.
    pub regime: RegimeParams,
    /// Entry rules.
    pub entries: EntryParams,
    /// The ML gate.
    pub gate: GateParams,
    /// Sizing, exits and caps.
    pub risk: SpotRiskParams,
    /// Fees and slippage.
    pub costs: CostParams,
    /// Real instrument rules per pair.
    pub instruments: BTreeMap<Symbol, InstrumentSpec>,
}

/// One pair's filters as written in the file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
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
    /// NOTIONAL minNotional.
    pub min_notional: Notional,
}

impl Default for MainConfig {
    fn default() -> Self {
        let params = SpotParams::default();
        Self {
            venue: "sim".to_owned(),
            paper: false,
            log_dir: PathBuf::from("logs"),
            sim_config: PathBuf::from("config/exchange_sim.toml"),
            rest_url: None,
            ws_url: None,
            flatten_on_stop: false,
            run_dir: PathBuf::from("run"),
            symbols: DEFAULT_SYMBOLS.iter().filter_map(|s| Symbol::new(s).ok()).collect(),
            capital: params.capital,
            default_min_notional: Decimal::from(5),
            features: params.features,
            regime: params.regime,
            entries: params.entries,
            gate: params.gate,
            risk: params.risk,
            costs: params.costs,
            instruments: BTreeMap::new(),
        }
    }
}

impl MainConfig {
    /// Reads a config file (not yet validated: environment and `--set` overrides come first).
    ///
    /// # Errors
    /// When the file cannot be read or parsed, or has an unknown key or a value of the wrong type.
    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        read_toml(path)
    }

    /// The strategy's parameters.
    pub fn params(&self) -> SpotParams {
        SpotParams {
            capital: self.capital,
            features: self.features,
            regime: self.regime.clone(),
            entries: self.entries.clone(),
            gate: self.gate.clone(),
            risk: self.risk.clone(),
            costs: self.costs.clone(),
        }
    }

    /// Checks every key, listing all problems at once under `source`.
    ///
    /// # Errors
    /// The list of problems, when there is any.
    pub fn validate(&self, source: &str) -> Result<(), ConfigError> {
        let mut problems = self.params().problems();
        if !VENUES.contains(&self.venue.as_str()) {
            problems.push(format!("venue = {:?} is not one of {}", self.venue, VENUES.join(", ")));
        }
        if self.symbols.is_empty() {
            problems.push("symbols: the list is empty".to_owned());
        }
        for (i, symbol) in self.symbols.iter().enumerate() {
            if self.symbols[..i].contains(symbol) {
                problems.push(format!("symbols: {symbol} is listed twice"));
            }
        }
        if self.default_min_notional < Decimal::ZERO {
            problems.push(format!(
                "default_min_notional = {} is out of range: must not be negative",
                self.default_min_notional
            ));
        }
        for (symbol, spec) in &self.instruments {
            if let Err(e) = spec.rules(symbol) {
                problems.push(format!("instruments.{symbol}: {}", e.problem));
            }
        }
        if problems.is_empty() { Ok(()) } else { Err(ConfigError { source: source.to_owned(), problems }) }
    }

    /// A pair's rules: its `[instruments]` table, else derived from its klines.
    ///
    /// # Errors
    /// When the table's rules are impossible.
    pub fn rules_for(&self, symbol: &Symbol, bars: &[Bar]) -> Result<InstrumentRules, String> {
        match self.instruments.get(symbol) {
            Some(spec) => spec.rules(symbol).map_err(|e| e.problem),
            None => derive_rules(symbol, bars, self.default_min_notional).map_err(|e| e.problem),
        }
    }
}

impl InstrumentSpec {
    fn rules(&self, symbol: &Symbol) -> Result<InstrumentRules, exchange_core::InvalidRules> {
        InstrumentRules::new(
            symbol.clone(),
            self.tick_size,
            self.step_size,
            self.min_qty,
            self.max_qty,
            self.min_notional,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use agent_core::config::parse_toml;

    #[test]
    fn defaults_are_valid_with_24_pairs() {
        let config = MainConfig::default();
        config.validate("defaults").unwrap();
        assert_eq!(config.symbols.len(), 24);
        assert_eq!(config.params(), SpotParams::default());
    }

    #[test]
    fn shipped_config_file_is_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/main_agent.toml");
        let config = MainConfig::read(&path).unwrap();
        config.validate("file").unwrap();
        assert_eq!(config, MainConfig::default(), "the shipped file documents the defaults");
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        let err = parse_toml::<MainConfig>("[risk]\nvar_limt = 0.1\n", Path::new("m.toml")).unwrap_err();
        assert!(err.to_string().contains("var_limt"), "{err}");
        let config: MainConfig = parse_toml(
            "venue = \"moon\"\n[risk]\nvar_limit = -1\n[gate]\nthreshold = 2\n",
            Path::new("m.toml"),
        )
        .unwrap();
        let err = config.validate("m.toml").unwrap_err();
        assert_eq!(err.problems.len(), 3, "{err}");
        assert!(err.to_string().contains("risk.var_limit = -1 is out of range"), "{err}");
    }

    #[test]
    fn instrument_tables_win_over_derived_rules() {
        let config: MainConfig = parse_toml(
            "[instruments.BTCUSDT]\ntick_size = \"0.01\"\nstep_size = \"0.00001\"\nmin_qty = \"0.00001\"\nmin_notional = \"5\"\n",
            Path::new("m.toml"),
        )
        .unwrap();
        let btc = Symbol::new("BTCUSDT").unwrap();
        let rules = config.rules_for(&btc, &[]).unwrap();
        assert_eq!(rules.step_size.get(), Decimal::new(1, 5));
        let derived = config.rules_for(&Symbol::new("ETHUSDT").unwrap(), &[]).unwrap();
        assert_eq!(derived.min_notional.get(), Decimal::from(5));
    }
}
