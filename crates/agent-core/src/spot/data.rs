//! Loading a spot backtest's data directory (the layout of ../shared/data/spot-1h: one
//! `<SYMBOL>.csv` kline file per pair), cut to `[from, to)`, and the instrument rules a pair
//! gets when the config has none for it.
//!
//! - Symbols: the ones asked for, or with [`discover_symbols`] every `<SYMBOL>.csv` whose name
//!   is a valid upper-case symbol (so `BTCUSDT-mark.csv` and friends are not klines here).
//! - A requested symbol without a file, or with an unreadable one, is an error; one with no bar
//!   in the range is named in `skipped` and left out.
//! - Series come out sorted by symbol, the order in which bars with one open time are processed.
//!   All must share one bar interval (a file of one bar takes the others').
//! - Derived rules ([`derive_rules`]), for a pair the config does not describe: the tick is
//!   `10^-d` with `d` the most decimals any price of the whole file needs (trailing zeros
//!   dropped), the step (and minimum quantity) is `10^-d` for the volumes' decimals (a volume is
//!   a sum of quantities on the step grid, so it needs no more decimals than the step), and the minimum
//!   notional is the configured default (5 USDT, Binance's for USDT pairs). They come from the
//!   whole file, not the range, so the same pair has the same rules in every run.

use std::path::{Path, PathBuf};

use exchange_core::marketdata::{self, MarketDataError};
use exchange_core::{Bar, InstrumentRules, InvalidRules, Notional, Price, Qty, Symbol};
use rust_decimal::Decimal;

/// One pair's data for a run.
#[derive(Debug, Clone)]
pub struct SpotSeries {
    /// The pair.
    pub symbol: Symbol,
    /// Its tick, step and minimums.
    pub rules: InstrumentRules,
    /// Its klines in the range, sorted by open time.
    pub bars: Vec<Bar>,
}

/// The series of a run and the symbols left out for lack of data in the range.
#[derive(Debug, Clone)]
pub struct SpotData {
    /// One series per symbol with data, sorted by symbol.
    pub series: Vec<SpotSeries>,
    /// Symbols with no bars in the range.
    pub skipped: Vec<Symbol>,
    /// The bar interval shared by every series, in ms.
    pub interval_ms: i64,
}

/// A problem with the data of a run.
#[derive(Debug, thiserror::Error)]
pub enum SpotDataError {
    /// The directory cannot be listed.
    #[error("cannot list {}: {source}", dir.display())]
    ReadDir {
        /// The directory.
        dir: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The directory holds no `<SYMBOL>.csv` file.
    #[error("no <SYMBOL>.csv kline file in {}", dir.display())]
    NoKlineFiles {
        /// The directory.
        dir: PathBuf,
    },
    /// The kline file of a requested symbol does not exist.
    #[error("no kline file for {symbol}: {} does not exist", path.display())]
    MissingKlines {
        /// The symbol.
        symbol: Symbol,
        /// Where it was looked for.
        path: PathBuf,
    },
    /// A file could not be read or parsed.
    #[error(transparent)]
    File(#[from] MarketDataError),
    /// The instrument rules of a symbol are unusable.
    #[error("instrument rules for {symbol}: {problem}")]
    Rules {
        /// The symbol.
        symbol: Symbol,
        /// What is wrong.
        problem: String,
    },
    /// Two files have different bar intervals.
    #[error("{symbol} has {interval_ms} ms bars, the others {expected_ms} ms: one interval per run")]
    MixedIntervals {
        /// The odd symbol.
        symbol: Symbol,
        /// Its interval.
        interval_ms: i64,
        /// The others'.
        expected_ms: i64,
    },
    /// `from` is not before `to`.
    #[error("the range is empty: --from must be before --to")]
    EmptyRange,
}

/// Every symbol with a `<SYMBOL>.csv` file in `dir`, sorted.
///
/// # Errors
/// When the directory cannot be listed or holds no such file.
pub fn discover_symbols(dir: &Path) -> Result<Vec<Symbol>, SpotDataError> {
    let read_err = |source| SpotDataError::ReadDir { dir: dir.to_path_buf(), source };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_err)? {
        let name = entry.map_err(read_err)?.file_name();
        let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(".csv")) else { continue };
        if let Ok(symbol) = Symbol::new(stem) {
            out.push(symbol);
        }
    }
    if out.is_empty() {
        return Err(SpotDataError::NoKlineFiles { dir: dir.to_path_buf() });
    }
    out.sort();
    Ok(out)
}

/// Rules derived from a pair's klines (see the module notes).
///
/// # Errors
/// When they describe no tradable instrument (a negative minimum notional).
pub fn derive_rules(
    symbol: &Symbol,
    bars: &[Bar],
    min_notional: Decimal,
) -> Result<InstrumentRules, InvalidRules> {
    let price_scale = bars
        .iter()
        .flat_map(|b| [b.open, b.high, b.low, b.close])
        .map(|p| p.get().normalize().scale())
        .max()
        .unwrap_or(2);
    let qty_scale = bars.iter().map(|b| b.volume.normalize().scale()).max().unwrap_or(0);
    let tick = Decimal::new(1, price_scale.min(18));
    let step = Decimal::new(1, qty_scale.min(18));
    InstrumentRules::new(
        symbol.clone(),
        Price::new(tick),
        Qty::new(step),
        Qty::new(step),
        None,
        Notional::new(min_notional),
    )
}

/// Gives a symbol's instrument rules from its whole kline file, or says why it cannot.
pub type RulesFor<'a> = dyn Fn(&Symbol, &[Bar]) -> Result<InstrumentRules, String> + 'a;

/// Loads `symbols` from `dir`, keeping open times in `[from_ms, to_ms)` (a bound absent:
/// unbounded); `rules_for` gives each symbol's rules from its whole file.
///
/// # Errors
/// A missing or malformed file, rules `rules_for` refuses, mixed intervals, or an empty range.
pub fn load_spot_dir(
    dir: &Path,
    symbols: &[Symbol],
    rules_for: &RulesFor<'_>,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
) -> Result<SpotData, SpotDataError> {
    if let (Some(from), Some(to)) = (from_ms, to_ms)
        && from >= to
    {
        return Err(SpotDataError::EmptyRange);
    }
    let in_range = |t: i64| from_ms.is_none_or(|f| t >= f) && to_ms.is_none_or(|e| t < e);
    let mut sorted = symbols.to_vec();
    sorted.sort();
    sorted.dedup();
    let mut out = SpotData { series: Vec::new(), skipped: Vec::new(), interval_ms: 0 };
    for symbol in sorted {
        let path = dir.join(format!("{symbol}.csv"));
        if !path.exists() {
            return Err(SpotDataError::MissingKlines { symbol, path });
        }
        let klines = marketdata::load_klines(&path)?;
        let rules = rules_for(&symbol, &klines.bars)
            .map_err(|problem| SpotDataError::Rules { symbol: symbol.clone(), problem })?;
        if klines.interval_ms > 0 {
            if out.interval_ms == 0 {
                out.interval_ms = klines.interval_ms;
            } else if klines.interval_ms != out.interval_ms {
                return Err(SpotDataError::MixedIntervals {
                    symbol,
                    interval_ms: klines.interval_ms,
                    expected_ms: out.interval_ms,
                });
            }
        }
        let bars: Vec<Bar> = klines.bars.into_iter().filter(|b| in_range(b.open_time_ms)).collect();
        if bars.is_empty() {
            out.skipped.push(symbol);
        } else {
            out.series.push(SpotSeries { symbol, rules, bars });
        }
    }
    if out.interval_ms == 0 {
        out.interval_ms = 3_600_000;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn bar(open: &str, volume: &str) -> Bar {
        let p: Price = open.parse().unwrap();
        Bar { open_time_ms: 0, open: p, high: p, low: p, close: p, volume: volume.parse().unwrap() }
    }

    #[test]
    fn rules_come_from_the_decimals_written() {
        let symbol = Symbol::new("PEPEUSDT").unwrap();
        let bars = [bar("0.0000013", "413956328095.0"), bar("0.00000125", "12")];
        let rules = derive_rules(&symbol, &bars, dec!(5)).unwrap();
        assert_eq!(rules.tick_size.get(), dec!(0.00000001));
        assert_eq!(rules.step_size.get(), dec!(1), "trailing zeros do not count");
        assert_eq!(rules.min_notional.get(), dec!(5));
        let btc =
            derive_rules(&Symbol::new("BTCUSDT").unwrap(), &[bar("65000.10", "1.234567")], dec!(5)).unwrap();
        assert_eq!((btc.tick_size.get(), btc.step_size.get()), (dec!(0.1), dec!(0.000001)));
    }
}
