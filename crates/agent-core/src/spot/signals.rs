//! What the main agent sees of one asset at a bar close, and the entry rules it applies.
//!
//! [`AssetIndicators`] updates every indicator of one asset in O(1) per bar (the regime's
//! percentile in O(log n)) and gives a [`Snapshot`] once all are warmed up. From a snapshot:
//! - the ML features ([`FEATURES`], written into a fixed array: no allocation): returns over
//!   1 bar (log), `roc_short` and `roc_long` bars (fractions), RSI / 100, ADX / 100, MACD
//!   histogram / close, Bollinger %b, realized volatility and its percentile, fast over slow EMA
//!   minus 1, the slow EMA's slope, ATR / close, and one-hot flags of the asset's and the
//!   market's regime (all zero for the market while it has no regime);
//! - the entry rule ([`entry_signal`]), with regimes on: trend-following in `trend_up` (fast EMA
//!   above the slow one, MACD histogram above 0, RSI under `rsi_overbought`), mean reversion in
//!   `range` (close under the lower Bollinger band, RSI under `rsi_oversold`), nothing in
//!   `trend_down` or `high_vol`, and nothing while the market (BTCUSDT) is in either of those
//!   (`market_filter`). With regimes off, either rule fires in any state of the market.

use serde::Serialize;

use super::params::{EntryParams, SpotRiskParams};
use crate::indicators::{Atr, Bollinger, BollingerValue, Macd, Roc, Rsi};
use crate::regime::{Regime, RegimeDetector, RegimeParams, RegimeReading};

/// Names of the ML features, in order.
pub const FEATURES: [&str; 20] = [
    "ret_1",
    "roc_short",
    "roc_long",
    "rsi",
    "adx",
    "macd_hist",
    "bollinger_pct_b",
    "vol",
    "vol_percentile",
    "ema_spread",
    "ema_slope",
    "atr_pct",
    "regime_trend_up",
    "regime_trend_down",
    "regime_range",
    "regime_high_vol",
    "market_trend_up",
    "market_trend_down",
    "market_range",
    "market_high_vol",
];

/// Number of ML features.
pub const N_FEATURES: usize = FEATURES.len();

/// Every indicator value of one asset at one close.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snapshot {
    /// The close.
    pub close: f64,
    /// `ln(close / previous close)`.
    pub ret_1: f64,
    /// Change over `roc_short` bars, a fraction.
    pub roc_short: f64,
    /// Change over `roc_long` bars, a fraction.
    pub roc_long: f64,
    /// RSI (0 to 100).
    pub rsi: f64,
    /// MACD histogram.
    pub macd_hist: f64,
    /// Bollinger bands.
    pub bollinger: BollingerValue,
    /// ATR.
    pub atr: f64,
    /// The regime and its inputs.
    pub regime: RegimeReading,
}

/// The indicators of one asset.
#[derive(Debug, Clone)]
pub struct AssetIndicators {
    regime: RegimeDetector,
    rsi: Rsi,
    macd: Macd,
    bollinger: Bollinger,
    atr: Atr,
    roc_short: Roc,
    roc_long: Roc,
    prev_close: Option<f64>,
}

impl AssetIndicators {
    /// Fresh indicators with the given periods.
    pub fn new(regime: &RegimeParams, entries: &EntryParams, risk: &SpotRiskParams) -> Self {
        Self {
            regime: RegimeDetector::new(regime),
            rsi: Rsi::new(entries.rsi_period),
            macd: Macd::new(entries.macd_fast, entries.macd_slow, entries.macd_signal),
            bollinger: Bollinger::new(entries.bollinger_period, entries.bollinger_k),
            atr: Atr::new(risk.atr_period),
            roc_short: Roc::new(entries.roc_short),
            roc_long: Roc::new(entries.roc_long),
            prev_close: None,
        }
    }

    /// Adds a closed bar; a snapshot once every indicator has a value.
    pub fn update(&mut self, high: f64, low: f64, close: f64) -> Option<Snapshot> {
        let prev = self.prev_close.replace(close);
        let regime = self.regime.update(high, low, close);
        let rsi = self.rsi.update(close);
        let macd = self.macd.update(close);
        let bollinger = self.bollinger.update(close);
        let atr = self.atr.update(high, low, close);
        let roc_short = self.roc_short.update(close);
        let roc_long = self.roc_long.update(close);
        let ret_1 = prev.filter(|p| *p > 0.0 && close > 0.0).map(|p| (close / p).ln());
        Some(Snapshot {
            close,
            ret_1: ret_1?,
            roc_short: roc_short?,
            roc_long: roc_long?,
            rsi: rsi?,
            macd_hist: macd?.histogram,
            bollinger: bollinger?,
            atr: atr?,
            regime: regime?,
        })
    }
}

impl Snapshot {
    /// Writes the ML features (see the module notes) with the market's regime.
    pub fn features(&self, market: Option<Regime>, out: &mut [f64; N_FEATURES]) {
        let r = &self.regime;
        let c = if self.close > 0.0 { self.close } else { 1.0 };
        let width = self.bollinger.upper - self.bollinger.lower;
        let pct_b = if width > 0.0 { (self.close - self.bollinger.lower) / width } else { 0.5 };
        let spread = if r.ema_slow != 0.0 { r.ema_fast / r.ema_slow - 1.0 } else { 0.0 };
        let head = [
            self.ret_1,
            self.roc_short,
            self.roc_long,
            self.rsi / 100.0,
            r.adx / 100.0,
            self.macd_hist / c,
            pct_b,
            r.vol,
            r.vol_percentile,
            spread,
            r.slope,
            self.atr / c,
        ];
        out[..12].copy_from_slice(&head);
        out[12..].iter_mut().for_each(|v| *v = 0.0);
        out[12 + r.regime.index()] = 1.0;
        if let Some(m) = market {
            out[16 + m.index()] = 1.0;
        }
    }
}

/// Which rule fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    /// Trend-following.
    Trend,
    /// Mean reversion.
    Reversion,
}

impl SignalKind {
    /// The report's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trend => "trend",
            Self::Reversion => "reversion",
        }
    }
}

/// The entry rule's answer for one asset at one close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryCall {
    /// A long entry signal.
    Signal(SignalKind),
    /// The asset's regime allows no longs.
    BlockedByRegime(Regime),
    /// The market's regime allows no longs.
    BlockedByMarket(Regime),
    /// No rule fired.
    Nothing,
}

fn trend_rule(p: &EntryParams, s: &Snapshot) -> bool {
    s.regime.ema_fast > s.regime.ema_slow && s.macd_hist > 0.0 && s.rsi < p.rsi_overbought
}

fn reversion_rule(p: &EntryParams, s: &Snapshot) -> bool {
    s.close < s.bollinger.lower && s.rsi < p.rsi_oversold
}

/// The entry rule of the module notes; `market` is the market's regime (`None`: unknown, no
/// market block). A block is reported only when a rule would have fired without it.
pub fn entry_signal(p: &EntryParams, s: &Snapshot, regimes_on: bool, market: Option<Regime>) -> EntryCall {
    let any_rule = || {
        if trend_rule(p, s) {
            Some(SignalKind::Trend)
        } else if reversion_rule(p, s) {
            Some(SignalKind::Reversion)
        } else {
            None
        }
    };
    if !regimes_on {
        return any_rule().map_or(EntryCall::Nothing, EntryCall::Signal);
    }
    let regime = s.regime.regime;
    let fired = match regime {
        Regime::TrendUp => trend_rule(p, s).then_some(SignalKind::Trend),
        Regime::Range => reversion_rule(p, s).then_some(SignalKind::Reversion),
        Regime::TrendDown | Regime::HighVol => {
            return if any_rule().is_some() {
                EntryCall::BlockedByRegime(regime)
            } else {
                EntryCall::Nothing
            };
        }
    };
    match (fired, market.filter(|m| p.market_filter && m.blocks_longs())) {
        (Some(_), Some(m)) => EntryCall::BlockedByMarket(m),
        (Some(kind), None) => EntryCall::Signal(kind),
        (None, _) => EntryCall::Nothing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(
        regime: Regime,
        fast: f64,
        slow: f64,
        macd: f64,
        rsi: f64,
        close: f64,
        lower: f64,
    ) -> Snapshot {
        Snapshot {
            close,
            ret_1: 0.0,
            roc_short: 0.0,
            roc_long: 0.0,
            rsi,
            macd_hist: macd,
            bollinger: BollingerValue { middle: 100.0, upper: 110.0, lower },
            atr: 1.0,
            regime: RegimeReading {
                regime,
                adx: 30.0,
                ema_fast: fast,
                ema_slow: slow,
                slope: 0.01,
                vol: 0.01,
                vol_percentile: 0.5,
            },
        }
    }

    #[test]
    fn entry_rules_by_regime() {
        use EntryCall::*;
        use Regime::*;
        let p = EntryParams::default();
        let trendy = |r| snapshot(r, 105.0, 100.0, 0.5, 60.0, 104.0, 90.0);
        let dip = |r| snapshot(r, 99.0, 100.0, -0.5, 25.0, 89.0, 90.0);
        let cases = [
            ("trend in trend_up", trendy(TrendUp), true, None, Signal(SignalKind::Trend)),
            ("no reversion in trend_up", dip(TrendUp), true, None, Nothing),
            ("reversion in range", dip(Range), true, None, Signal(SignalKind::Reversion)),
            ("no trend rule in range", trendy(Range), true, None, Nothing),
            ("trend_down blocks", trendy(TrendDown), true, None, BlockedByRegime(TrendDown)),
            ("high_vol blocks", dip(HighVol), true, None, BlockedByRegime(HighVol)),
            (
                "trend_down without a rule",
                snapshot(TrendDown, 95.0, 100.0, -0.5, 50.0, 96.0, 90.0),
                true,
                None,
                Nothing,
            ),
            ("market high_vol blocks", trendy(TrendUp), true, Some(HighVol), BlockedByMarket(HighVol)),
            ("market trend_down blocks", dip(Range), true, Some(TrendDown), BlockedByMarket(TrendDown)),
            ("no block without a rule", trendy(Range), true, Some(HighVol), Nothing),
            ("market range is fine", trendy(TrendUp), true, Some(Range), Signal(SignalKind::Trend)),
            (
                "regimes off: trend anywhere",
                trendy(TrendDown),
                false,
                Some(HighVol),
                Signal(SignalKind::Trend),
            ),
            ("regimes off: reversion anywhere", dip(HighVol), false, None, Signal(SignalKind::Reversion)),
            ("overbought", snapshot(TrendUp, 105.0, 100.0, 0.5, 75.0, 104.0, 90.0), true, None, Nothing),
        ];
        for (name, s, on, market, want) in cases {
            assert_eq!(entry_signal(&p, &s, on, market), want, "{name}");
        }
    }

    #[test]
    fn features_are_scaled_and_one_hot() {
        let s = snapshot(Regime::Range, 105.0, 100.0, 2.0, 40.0, 100.0, 90.0);
        let mut f = [f64::NAN; N_FEATURES];
        s.features(Some(Regime::HighVol), &mut f);
        assert!((f[3] - 0.4).abs() < 1e-12 && (f[5] - 0.02).abs() < 1e-12);
        assert!((f[6] - 0.5).abs() < 1e-12, "%b of the middle");
        assert!((f[9] - 0.05).abs() < 1e-12);
        assert_eq!(&f[12..], &[0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0]);
        s.features(None, &mut f);
        assert_eq!(&f[16..], &[0.0; 4]);
    }
}
