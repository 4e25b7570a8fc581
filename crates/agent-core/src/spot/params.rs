//! Every number of the main agent's spot strategy (DESIGN §11), in sections that are tables of
//! `config/main_agent.toml`: `[features]` (the switches the ablation turns off one by one),
//! `[regime]`, `[entries]`, `[gate]`, `[risk]` and `[costs]`, plus the starting capital. Each
//! section defaults every missing key and refuses unknown ones; [`SpotParams::problems`] lists
//! every out-of-range value at once, each with its `section.key`.
//!
//! Statistics thresholds are `f64`; money and fractions of money (capital, fees, the per-asset
//! cap, the daily loss cap) are `Decimal`.

use exchange_core::Symbol;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ml::GateParams;
use crate::regime::RegimeParams;

/// The features that can be switched off (`TB_ENABLE_*`), all on by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeatureSwitches {
    /// The ML gate (`TB_ENABLE_ML_GATE`): off, every TA signal passes.
    pub ml_gate: bool,
    /// Regime detection (`TB_ENABLE_REGIME`): off, both entry rules apply in every regime, no
    /// regime blocks entries and no regime flip exits.
    pub regime: bool,
    /// The correlation cap (`TB_ENABLE_CORRELATION_FILTER`).
    pub correlation_filter: bool,
    /// The portfolio VaR limit (`TB_ENABLE_VAR_LIMIT`).
    pub var_limit: bool,
}

impl Default for FeatureSwitches {
    fn default() -> Self {
        Self { ml_gate: true, regime: true, correlation_filter: true, var_limit: true }
    }
}

/// The TA entry rules and their indicators.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EntryParams {
    /// RSI period. Default 14.
    pub rsi_period: usize,
    /// Trend entries need RSI below this. Default 70.
    pub rsi_overbought: f64,
    /// Mean-reversion entries need RSI below this. Default 30.
    pub rsi_oversold: f64,
    /// MACD fast period. Default 12.
    pub macd_fast: usize,
    /// MACD slow period. Default 26.
    pub macd_slow: usize,
    /// MACD signal period. Default 9.
    pub macd_signal: usize,
    /// Bollinger period. Default 20.
    pub bollinger_period: usize,
    /// Bollinger width in standard deviations. Default 2.
    pub bollinger_k: f64,
    /// Short rate-of-change window (an ML feature). Default 6.
    pub roc_short: usize,
    /// Long rate-of-change window (an ML feature). Default 24.
    pub roc_long: usize,
    /// The asset whose regime is the market's. Default BTCUSDT.
    pub market_symbol: Symbol,
    /// No new longs while the market is trend-down or high-volatility. Default true.
    pub market_filter: bool,
    /// Bars after an exit before the same asset may be entered again. Default 6.
    pub cooldown_bars: usize,
}

impl Default for EntryParams {
    fn default() -> Self {
        Self {
            rsi_period: 14,
            rsi_overbought: 70.0,
            rsi_oversold: 30.0,
            macd_fast: 12,
            macd_slow: 26,
            macd_signal: 9,
            bollinger_period: 20,
            bollinger_k: 2.0,
            roc_short: 6,
            roc_long: 24,
            market_symbol: btc(),
            market_filter: true,
            cooldown_bars: 6,
        }
    }
}

/// BTCUSDT, the default market symbol.
#[allow(clippy::expect_used)] // invariant: seven upper-case letters are a valid symbol
fn btc() -> Symbol {
    Symbol::new("BTCUSDT").expect("BTCUSDT is a valid symbol")
}

/// Sizing, exits and the portfolio caps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpotRiskParams {
    /// Annualized volatility one position may contribute, as a fraction of equity. Default 0.06.
    pub target_vol: f64,
    /// Most of equity in one asset. Default 0.10.
    pub max_position_fraction: Decimal,
    /// Most positions open or pending. Default 8.
    pub max_positions: usize,
    /// ATR period of the trailing stop. Default 14.
    pub atr_period: usize,
    /// The trailing stop sits this many ATRs under the peak. Default 3.
    pub atr_multiple: f64,
    /// Exit at the next open when the asset turns trend-down or high-volatility. Default true.
    pub exit_on_regime_flip: bool,
    /// Daily loss cap on the portfolio, a fraction of the day's opening equity. Default 0.05.
    pub max_daily_loss: Decimal,
    /// Bars of 1-bar log returns in the correlation. Default 72.
    pub correlation_window: usize,
    /// Highest correlation allowed with a held position. Default 0.8.
    pub correlation_cap: f64,
    /// Overlapping returns needed for a correlation (fewer: refused). Default 48.
    pub correlation_min_pairs: usize,
    /// VaR confidence. Default 0.95.
    pub var_confidence: f64,
    /// Most one-day VaR after a trade, as a fraction of equity. Default 0.02.
    pub var_limit: f64,
    /// Bars in one VaR scenario's return (24: one day of hours). Default 24.
    pub var_horizon_bars: usize,
    /// Bars of overlapping scenarios looked back on. Default 720 (30 days).
    pub var_lookback_bars: usize,
    /// Scenarios needed for a VaR (fewer: refused). Default 100.
    pub var_min_scenarios: usize,
}

impl Default for SpotRiskParams {
    fn default() -> Self {
        Self {
            target_vol: 0.06,
            max_position_fraction: Decimal::new(10, 2),
            max_positions: 8,
            atr_period: 14,
            atr_multiple: 3.0,
            exit_on_regime_flip: true,
            max_daily_loss: Decimal::new(5, 2),
            correlation_window: 72,
            correlation_cap: 0.8,
            correlation_min_pairs: 48,
            var_confidence: 0.95,
            var_limit: 0.02,
            var_horizon_bars: 24,
            var_lookback_bars: 720,
            var_min_scenarios: 100,
        }
    }
}

/// Trading costs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CostParams {
    /// Taker fee rate on every fill. Default 0.001 (Binance spot's 0.1 %).
    pub fee: Decimal,
    /// Slippage against the trader, in basis points. Default 2.
    pub slippage_bps: Decimal,
}

impl Default for CostParams {
    fn default() -> Self {
        Self { fee: Decimal::new(1, 3), slippage_bps: Decimal::TWO }
    }
}

/// Everything the spot strategy and its backtest need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpotParams {
    /// Starting capital in USDT. Default 10,000.
    pub capital: Decimal,
    /// Feature switches.
    pub features: FeatureSwitches,
    /// Regime classification.
    pub regime: RegimeParams,
    /// Entry rules.
    pub entries: EntryParams,
    /// The ML gate.
    pub gate: GateParams,
    /// Sizing, exits, caps.
    pub risk: SpotRiskParams,
    /// Fees and slippage.
    pub costs: CostParams,
}

impl Default for SpotParams {
    fn default() -> Self {
        Self {
            capital: Decimal::new(10_000, 0),
            features: FeatureSwitches::default(),
            regime: RegimeParams::default(),
            entries: EntryParams::default(),
            gate: GateParams::default(),
            risk: SpotRiskParams::default(),
            costs: CostParams::default(),
        }
    }
}

/// Collects `section.key = value is out of range: rule` lines.
struct Problems<'a> {
    section: &'a str,
    out: &'a mut Vec<String>,
}

impl Problems<'_> {
    fn check(&mut self, ok: bool, key: &str, value: impl ToString, rule: &str) {
        if !ok {
            self.out.push(format!("{}.{key} = {} is out of range: {rule}", self.section, value.to_string()));
        }
    }
}

impl SpotParams {
    /// Round-trip costs as a return: two fees and two slippages.
    pub fn round_trip_cost(&self) -> f64 {
        let per_side = self.costs.fee + self.costs.slippage_bps / Decimal::from(10_000);
        super::grid::to_f64(per_side) * 2.0
    }

    /// Every range problem of every section, each naming `section.key`.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.capital <= Decimal::ZERO {
            out.push(format!("capital = {} is out of range: must be above 0", self.capital));
        }
        out.extend(self.regime.problems().into_iter().map(|p| format!("regime.{p}")));
        out.extend(self.gate.problems().into_iter().map(|p| format!("gate.{p}")));
        let e = &self.entries;
        let mut p = Problems { section: "entries", out: &mut out };
        p.check(e.rsi_period >= 2, "rsi_period", e.rsi_period, "must be at least 2");
        p.check(
            (0.0..=100.0).contains(&e.rsi_overbought),
            "rsi_overbought",
            e.rsi_overbought,
            "must be in [0, 100]",
        );
        p.check(
            (0.0..=100.0).contains(&e.rsi_oversold),
            "rsi_oversold",
            e.rsi_oversold,
            "must be in [0, 100]",
        );
        p.check(e.macd_fast >= 1, "macd_fast", e.macd_fast, "must be at least 1");
        p.check(e.macd_slow > e.macd_fast, "macd_slow", e.macd_slow, "must be above macd_fast");
        p.check(e.macd_signal >= 1, "macd_signal", e.macd_signal, "must be at least 1");
        p.check(e.bollinger_period >= 2, "bollinger_period", e.bollinger_period, "must be at least 2");
        p.check(
            e.bollinger_k.is_finite() && e.bollinger_k > 0.0,
            "bollinger_k",
            e.bollinger_k,
            "must be above 0",
        );
        p.check(e.roc_short >= 1, "roc_short", e.roc_short, "must be at least 1");
        p.check(e.roc_long >= 1, "roc_long", e.roc_long, "must be at least 1");
        let r = &self.risk;
        let mut p = Problems { section: "risk", out: &mut out };
        p.check(
            r.target_vol.is_finite() && r.target_vol > 0.0,
            "target_vol",
            r.target_vol,
            "must be above 0",
        );
        let unit = |x: Decimal| x > Decimal::ZERO && x <= Decimal::ONE;
        p.check(
            unit(r.max_position_fraction),
            "max_position_fraction",
            r.max_position_fraction,
            "must be in (0, 1]",
        );
        p.check(r.max_positions >= 1, "max_positions", r.max_positions, "must be at least 1");
        p.check(r.atr_period >= 1, "atr_period", r.atr_period, "must be at least 1");
        p.check(
            r.atr_multiple.is_finite() && r.atr_multiple > 0.0,
            "atr_multiple",
            r.atr_multiple,
            "must be above 0",
        );
        p.check(unit(r.max_daily_loss), "max_daily_loss", r.max_daily_loss, "must be in (0, 1]");
        p.check(r.correlation_window >= 3, "correlation_window", r.correlation_window, "must be at least 3");
        p.check(
            (-1.0..=1.0).contains(&r.correlation_cap),
            "correlation_cap",
            r.correlation_cap,
            "must be in [-1, 1]",
        );
        p.check(
            r.correlation_min_pairs >= 3 && r.correlation_min_pairs <= r.correlation_window,
            "correlation_min_pairs",
            r.correlation_min_pairs,
            "must be in [3, correlation_window]",
        );
        p.check(
            r.var_confidence > 0.5 && r.var_confidence < 1.0,
            "var_confidence",
            r.var_confidence,
            "must be in (0.5, 1)",
        );
        p.check(r.var_limit.is_finite() && r.var_limit > 0.0, "var_limit", r.var_limit, "must be above 0");
        p.check(r.var_horizon_bars >= 1, "var_horizon_bars", r.var_horizon_bars, "must be at least 1");
        p.check(r.var_lookback_bars >= 1, "var_lookback_bars", r.var_lookback_bars, "must be at least 1");
        p.check(
            r.var_min_scenarios >= 1 && r.var_min_scenarios <= r.var_lookback_bars,
            "var_min_scenarios",
            r.var_min_scenarios,
            "must be in [1, var_lookback_bars]",
        );
        let c = &self.costs;
        let mut p = Problems { section: "costs", out: &mut out };
        p.check(c.fee >= Decimal::ZERO && c.fee < Decimal::ONE, "fee", c.fee, "must be in [0, 1)");
        p.check(
            c.slippage_bps >= Decimal::ZERO && c.slippage_bps < Decimal::from(10_000),
            "slippage_bps",
            c.slippage_bps,
            "must be in [0, 10000)",
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_costs_add_up() {
        let p = SpotParams::default();
        assert!(p.problems().is_empty(), "{:?}", p.problems());
        assert!((p.round_trip_cost() - 0.0024).abs() < 1e-12);
        assert_eq!(p.entries.market_symbol.as_str(), "BTCUSDT");
    }

    #[test]
    fn every_problem_is_listed_with_its_section() {
        let mut p = SpotParams { capital: Decimal::ZERO, ..SpotParams::default() };
        p.risk.var_limit = 0.0;
        p.risk.max_position_fraction = Decimal::TWO;
        p.regime.ema_slow = 5;
        p.gate.threshold = 1.5;
        p.costs.fee = Decimal::NEGATIVE_ONE;
        let problems = p.problems();
        for key in [
            "capital",
            "risk.var_limit",
            "risk.max_position_fraction",
            "regime.ema_slow",
            "gate.threshold",
            "costs.fee",
        ] {
            assert!(problems.iter().any(|l| l.starts_with(&format!("{key} ="))), "{key}: {problems:?}");
        }
        assert_eq!(problems.len(), 6, "{problems:?}");
    }
}
