//! `FuturesRiskParams`: every number of the futures strategy (DESIGN §10) in one place, with the
//! documented defaults, `validate()` that reports every problem at once, and `set()` for
//! `--set key=value` overrides. It deserializes from a TOML table (unknown keys refused, missing
//! keys defaulted).

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The highest leverage Binance USD-M offers on any symbol.
pub const MAX_VENUE_LEVERAGE: u32 = 125;

/// Parameters of the futures strategy and its risk rules. Fractions are plain decimals
/// (0.05 = 5 %).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FuturesRiskParams {
    /// Momentum window W in bars: `m = close[t] / close[t-W] - 1` (rule 1). Default 12.
    #[serde(alias = "momentum_window")]
    pub window: usize,
    /// Entry threshold on |m| (rule 2). Default 0.02.
    #[serde(alias = "momentum_threshold", alias = "min_momentum_threshold")]
    pub threshold: Decimal,
    /// Leverage at the threshold, and the floor (rule 3). Default 5.
    pub min_leverage: u32,
    /// Leverage cap (rule 3). Default 25.
    pub max_leverage: u32,
    /// Fraction of equity risked per trade (rule 4). Default 0.05.
    pub risk_per_trade: Decimal,
    /// Stop-loss distance from the fill price (rules 4-5). Default 0.03.
    pub stop_loss: Decimal,
    /// Take-profit distance from the fill price (rule 5). Default 0.05.
    pub take_profit: Decimal,
    /// Trailing-stop distance from the peak (rule 5). Default 0.10.
    pub trailing_stop: Decimal,
    /// Most positions open or pending at once (rule 2). Default 3.
    pub max_positions: usize,
    /// Daily loss breaker as a fraction of the day's opening equity (rule 8). Default 0.20.
    pub max_daily_loss: Decimal,
    /// Taker fee rate on every fill (rule 7). Default 0.0005.
    #[serde(alias = "taker_fee")]
    pub fee: Decimal,
    /// Slippage against the trader in basis points (rule 7). Default 0.
    pub slippage_bps: Decimal,
    /// Maintenance margin rate for the liquidation price (rule 5). Default 0.005.
    pub mmr: Decimal,
    /// Starting capital in USDT. Default 10,000.
    pub capital: Decimal,
}

impl Default for FuturesRiskParams {
    /// DESIGN §10 defaults: window 12, threshold 0.02, leverage 5-25, risk 0.05, stop 0.03,
    /// take profit 0.05, trailing 0.10, 3 positions, daily loss 0.20, fee 0.0005, slippage 0 bps,
    /// mmr 0.005, capital 10,000.
    fn default() -> Self {
        Self {
            window: 12,
            threshold: Decimal::new(2, 2),
            min_leverage: 5,
            max_leverage: 25,
            risk_per_trade: Decimal::new(5, 2),
            stop_loss: Decimal::new(3, 2),
            take_profit: Decimal::new(5, 2),
            trailing_stop: Decimal::new(10, 2),
            max_positions: 3,
            max_daily_loss: Decimal::new(20, 2),
            fee: Decimal::new(5, 4),
            slippage_bps: Decimal::ZERO,
            mmr: Decimal::new(5, 3),
            capital: Decimal::new(10_000, 0),
        }
    }
}

/// A parameter problem, naming the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    /// `set` was given a key that does not exist.
    #[error("unknown key {key:?}; known keys: {}", FuturesRiskParams::KEYS.join(", "))]
    UnknownKey {
        /// The key as given.
        key: String,
    },
    /// `set` was given text that does not parse as the key's type.
    #[error("{key} = {value:?} is not {expected}")]
    BadValue {
        /// The key.
        key: &'static str,
        /// The text as given.
        value: String,
        /// What was expected.
        expected: &'static str,
    },
    /// A value outside its allowed range.
    #[error("{key} = {value} is out of range: {rule}")]
    OutOfRange {
        /// The key.
        key: &'static str,
        /// The value.
        value: String,
        /// The rule it breaks.
        rule: String,
    },
}

fn parse<T: FromStr>(key: &'static str, value: &str, expected: &'static str) -> Result<T, ParamError> {
    value.trim().parse().map_err(|_| ParamError::BadValue { key, value: value.to_owned(), expected })
}

fn parse_decimal(key: &'static str, value: &str) -> Result<Decimal, ParamError> {
    let text = value.trim();
    Decimal::from_str_exact(text)
        .or_else(|_| Decimal::from_scientific(text))
        .map_err(|_| ParamError::BadValue { key, value: value.to_owned(), expected: "a decimal number" })
}

/// Collects range problems.
struct Problems(Vec<ParamError>);

impl Problems {
    fn check(&mut self, ok: bool, key: &'static str, value: impl fmt::Display, rule: impl Into<String>) {
        if !ok {
            self.0.push(ParamError::OutOfRange { key, value: value.to_string(), rule: rule.into() });
        }
    }
}

impl FuturesRiskParams {
    /// Every key `set` and the TOML table accept. Aliases are accepted too: `momentum_window`
    /// for `window`, `momentum_threshold` and the seed's `min_momentum_threshold` for
    /// `threshold`, `taker_fee` for `fee`.
    pub const KEYS: [&'static str; 14] = [
        "window",
        "threshold",
        "min_leverage",
        "max_leverage",
        "risk_per_trade",
        "stop_loss",
        "take_profit",
        "trailing_stop",
        "max_positions",
        "max_daily_loss",
        "fee",
        "slippage_bps",
        "mmr",
        "capital",
    ];

    /// Checks every rule and reports every broken one.
    ///
    /// # Errors
    /// One `OutOfRange` per problem: `window` 0; `threshold` or `capital` not positive;
    /// `stop_loss`, `take_profit` or `trailing_stop` not in (0, 1); `min_leverage` 0;
    /// `max_leverage` below `min_leverage` or above 125; `risk_per_trade` or `max_daily_loss` not
    /// in (0, 1]; `max_positions` 0; `fee` negative; `slippage_bps` not in [0, 10000); `mmr` not
    /// in [0, 1).
    pub fn validate(&self) -> Result<(), Vec<ParamError>> {
        let zero = Decimal::ZERO;
        let one = Decimal::ONE;
        let mut p = Problems(Vec::new());
        p.check(self.window > 0, "window", self.window, "must be at least 1 bar");
        p.check(self.threshold > zero, "threshold", self.threshold, "must be above 0");
        p.check(self.min_leverage > 0, "min_leverage", self.min_leverage, "must be at least 1");
        p.check(
            self.max_leverage >= self.min_leverage && self.max_leverage <= MAX_VENUE_LEVERAGE,
            "max_leverage",
            self.max_leverage,
            format!("must be in [min_leverage ({}), {MAX_VENUE_LEVERAGE}]", self.min_leverage),
        );
        let in_unit = |x: Decimal| x > zero && x <= one;
        p.check(in_unit(self.risk_per_trade), "risk_per_trade", self.risk_per_trade, "must be in (0, 1]");
        // A fraction of 1 or more puts a long's stop (or a short's take profit) at or below
        // zero, where no price can reach it: a position without that exit.
        let below_one = |x: Decimal| x > zero && x < one;
        p.check(below_one(self.stop_loss), "stop_loss", self.stop_loss, "must be in (0, 1)");
        p.check(below_one(self.take_profit), "take_profit", self.take_profit, "must be in (0, 1)");
        p.check(below_one(self.trailing_stop), "trailing_stop", self.trailing_stop, "must be in (0, 1)");
        p.check(
            self.slippage_bps < Decimal::from(10_000),
            "slippage_bps",
            self.slippage_bps,
            "must be below 10000 (100%)",
        );
        p.check(self.max_positions > 0, "max_positions", self.max_positions, "must be at least 1");
        p.check(in_unit(self.max_daily_loss), "max_daily_loss", self.max_daily_loss, "must be in (0, 1]");
        p.check(self.fee >= zero, "fee", self.fee, "must not be negative");
        p.check(self.slippage_bps >= zero, "slippage_bps", self.slippage_bps, "must not be negative");
        p.check(self.mmr >= zero && self.mmr < one, "mmr", self.mmr, "must be in [0, 1)");
        p.check(self.capital > zero, "capital", self.capital, "must be above 0");
        if p.0.is_empty() { Ok(()) } else { Err(p.0) }
    }

    /// Sets one parameter from `--set key=value` text. Only parses: ranges are checked by
    /// [`validate`](Self::validate) once all overrides are in, so every problem is reported
    /// together.
    ///
    /// # Errors
    /// `UnknownKey` when `key` is not one of [`KEYS`](Self::KEYS) or their aliases; `BadValue` when `value` does not parse as the key's type (a
    /// non-negative integer for windows, leverages and position counts, a decimal otherwise).
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), ParamError> {
        let count = "a non-negative integer";
        match key.trim() {
            "window" | "momentum_window" => self.window = parse("window", value, count)?,
            "threshold" | "momentum_threshold" | "min_momentum_threshold" => {
                self.threshold = parse_decimal("threshold", value)?;
            }
            "min_leverage" => self.min_leverage = parse("min_leverage", value, count)?,
            "max_leverage" => self.max_leverage = parse("max_leverage", value, count)?,
            "risk_per_trade" => self.risk_per_trade = parse_decimal("risk_per_trade", value)?,
            "stop_loss" => self.stop_loss = parse_decimal("stop_loss", value)?,
            "take_profit" => self.take_profit = parse_decimal("take_profit", value)?,
            "trailing_stop" => self.trailing_stop = parse_decimal("trailing_stop", value)?,
            "max_positions" => self.max_positions = parse("max_positions", value, count)?,
            "max_daily_loss" => self.max_daily_loss = parse_decimal("max_daily_loss", value)?,
            "fee" | "taker_fee" => self.fee = parse_decimal("fee", value)?,
            "slippage_bps" => self.slippage_bps = parse_decimal("slippage_bps", value)?,
            "mmr" => self.mmr = parse_decimal("mmr", value)?,
            "capital" => self.capital = parse_decimal("capital", value)?,
            other => return Err(ParamError::UnknownKey { key: other.to_owned() }),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn defaults_are_design_section_10_and_valid() {
        let p = FuturesRiskParams::default();
        assert_eq!(p.validate(), Ok(()));
        assert_eq!((p.window, p.min_leverage, p.max_leverage, p.max_positions), (12, 5, 25, 3));
        assert_eq!(
            [p.threshold, p.risk_per_trade, p.stop_loss, p.take_profit, p.trailing_stop],
            [dec!(0.02), dec!(0.05), dec!(0.03), dec!(0.05), dec!(0.10)]
        );
        assert_eq!(
            [p.max_daily_loss, p.fee, p.slippage_bps, p.mmr],
            [dec!(0.20), dec!(0.0005), dec!(0), dec!(0.005)]
        );
        assert_eq!(p.capital, dec!(10000));
    }

    #[test]
    fn validate_reports_every_problem() {
        let bad = FuturesRiskParams {
            window: 0,
            threshold: dec!(0),
            min_leverage: 0,
            max_leverage: 126,
            risk_per_trade: dec!(1.5),
            stop_loss: dec!(-0.03),
            take_profit: dec!(0),
            trailing_stop: dec!(0),
            max_positions: 0,
            max_daily_loss: dec!(0),
            fee: dec!(-0.0001),
            slippage_bps: dec!(-1),
            mmr: dec!(1),
            capital: dec!(0),
        };
        let errors = bad.validate().unwrap_err();
        let keys: Vec<&str> = errors
            .iter()
            .map(|e| match e {
                ParamError::OutOfRange { key, .. } => *key,
                other => panic!("unexpected {other}"),
            })
            .collect();
        assert_eq!(keys, FuturesRiskParams::KEYS);
        assert_eq!(
            errors[3].to_string(),
            "max_leverage = 126 is out of range: must be in [min_leverage (0), 125]"
        );
    }

    #[test]
    fn boundary_values_table() {
        // (key, value, valid?)
        let cases = [
            ("risk_per_trade", "1", true),
            ("risk_per_trade", "0", false),
            ("max_daily_loss", "1", true),
            ("max_daily_loss", "1.01", false),
            ("mmr", "0", true),
            ("mmr", "0.999", true),
            ("mmr", "-0.001", false),
            ("max_leverage", "125", true),
            ("max_leverage", "4", false),
            ("min_leverage", "25", true),
            ("min_leverage", "26", false),
            ("fee", "0", true),
            ("taker_fee", "-0.1", false),
            ("momentum_threshold", "1e-4", true),
            ("window", "0", false),
        ];
        for (key, value, valid) in cases {
            let mut p = FuturesRiskParams::default();
            p.set(key, value).unwrap();
            assert_eq!(p.validate().is_ok(), valid, "{key} = {value}: {:?}", p.validate());
        }
    }

    #[test]
    fn set_names_the_unknown_key_or_bad_value() {
        let mut p = FuturesRiskParams::default();
        p.set("stop_loss", " 0.025 ").unwrap();
        p.set("min_momentum_threshold", "0.03").unwrap();
        p.set("max_positions", "5").unwrap();
        assert_eq!((p.stop_loss, p.threshold, p.max_positions), (dec!(0.025), dec!(0.03), 5));
        let err = p.set("stop_los", "0.1").unwrap_err();
        assert_eq!(err, ParamError::UnknownKey { key: "stop_los".to_owned() });
        assert!(err.to_string().contains("known keys: window, threshold, min_leverage"), "{err}");
        let cases = [("stop_loss", "3%"), ("max_leverage", "-5"), ("max_positions", "2.5"), ("capital", "")];
        for (key, value) in cases {
            let err = p.set(key, value).unwrap_err();
            assert!(
                matches!(&err, ParamError::BadValue { key: k, value: v, .. } if *k == key && v == value),
                "{err}"
            );
        }
        assert_eq!(
            p.set("max_leverage", "x").unwrap_err().to_string(),
            "max_leverage = \"x\" is not a non-negative integer"
        );
    }

    #[test]
    fn deserializes_partial_tables_and_refuses_unknown_keys() {
        let p: FuturesRiskParams =
            serde_json::from_str(r#"{"stop_loss": 0.025, "max_leverage": 20, "capital": "5000.5"}"#).unwrap();
        assert_eq!((p.stop_loss, p.max_leverage, p.capital), (dec!(0.025), 20, dec!(5000.5)));
        assert_eq!(p.take_profit, dec!(0.05));
        let aliased: FuturesRiskParams = serde_json::from_str(r#"{"min_momentum_threshold": 0.03}"#).unwrap();
        assert_eq!(aliased.threshold, dec!(0.03));
        let aliased: FuturesRiskParams =
            serde_json::from_str(r#"{"momentum_window": 24, "taker_fee": 0.0004}"#).unwrap();
        assert_eq!((aliased.window, aliased.fee), (24, dec!(0.0004)));
        let err = serde_json::from_str::<FuturesRiskParams>(r#"{"stop_los": 0.1}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `stop_los`"), "{err}");
        let round_trip: FuturesRiskParams =
            serde_json::from_str(&serde_json::to_string(&FuturesRiskParams::default()).unwrap()).unwrap();
        assert_eq!(round_trip, FuturesRiskParams::default());
    }
}
