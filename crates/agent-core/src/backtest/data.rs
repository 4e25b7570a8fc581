//! Loading a backtest's data directory: `<SYMBOL>.csv` klines, and optionally
//! `<SYMBOL>-mark.csv` mark-price klines and `<SYMBOL>-funding.csv` funding rates (the layout of
//! ../shared/data/futures-1h), cut to `[from, to)`.
//!
//! A symbol whose kline file is missing or unreadable is an error; one with no bars in the range
//! is named in `skipped` and left out. A mark or funding file whose span does not overlap its
//! klines at all is an error (it belongs to another range or another symbol).

use std::path::{Path, PathBuf};

use exchange_core::marketdata::{self, FundingRate, MarketDataError};
use exchange_core::{Bar, InstrumentRules, Symbol};

use super::engine::SymbolSeries;

/// A problem with the data of a run.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
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
    /// A mark or funding file covers none of its klines' span.
    #[error("{} covers {from}..{to} (ms), which does not overlap the klines of {symbol} ({kline_from}..{kline_to})", path.display())]
    Disjoint {
        /// The symbol.
        symbol: Symbol,
        /// The mark or funding file.
        path: PathBuf,
        /// Its first time.
        from: i64,
        /// Its last time.
        to: i64,
        /// First kline open time.
        kline_from: i64,
        /// Last kline open time.
        kline_to: i64,
    },
    /// `from` is not before `to`.
    #[error("the range is empty: --from must be before --to")]
    EmptyRange,
}

/// The series of a run and the symbols left out for lack of data in the range.
#[derive(Debug, Clone)]
pub struct LoadedData {
    /// One series per symbol with data, in the order asked.
    pub series: Vec<SymbolSeries>,
    /// Symbols with no bars in the range.
    pub skipped: Vec<Symbol>,
}

/// Loads `symbols` (each with its instrument rules) from `dir`, keeping open times in
/// `[from_ms, to_ms)` (either bound absent: unbounded).
///
/// # Errors
/// A missing or malformed file, a mark or funding file disjoint from its klines, or an empty
/// range.
pub fn load_dir(
    dir: &Path,
    symbols: &[(Symbol, InstrumentRules)],
    from_ms: Option<i64>,
    to_ms: Option<i64>,
) -> Result<LoadedData, DataError> {
    if let (Some(from), Some(to)) = (from_ms, to_ms)
        && from >= to
    {
        return Err(DataError::EmptyRange);
    }
    let in_range = |t: i64| from_ms.is_none_or(|f| t >= f) && to_ms.is_none_or(|e| t < e);
    let mut out = LoadedData { series: Vec::new(), skipped: Vec::new() };
    for (symbol, rules) in symbols {
        let kline_path = dir.join(format!("{symbol}.csv"));
        if !kline_path.exists() {
            return Err(DataError::MissingKlines { symbol: symbol.clone(), path: kline_path });
        }
        let klines = marketdata::load_klines(&kline_path)?;
        let (Some(first), Some(last)) = (klines.bars.first(), klines.bars.last()) else {
            out.skipped.push(symbol.clone());
            continue;
        };
        let (kline_from, kline_to) = (first.open_time_ms, last.open_time_ms);
        let mark = load_optional(&dir.join(format!("{symbol}-mark.csv")), |p| {
            let series = marketdata::load_klines(p)?;
            let span =
                series.bars.first().zip(series.bars.last()).map(|(a, b)| (a.open_time_ms, b.open_time_ms));
            Ok((series.bars, span))
        })?;
        let funding = load_optional(&dir.join(format!("{symbol}-funding.csv")), |p| {
            let series = marketdata::load_funding(p)?;
            let span = series
                .rates
                .first()
                .zip(series.rates.last())
                .map(|(a, b)| (a.funding_time_ms, b.funding_time_ms));
            Ok((series.rates, span))
        })?;
        for (path, span) in [
            (dir.join(format!("{symbol}-mark.csv")), mark.as_ref().and_then(|m| m.1)),
            (dir.join(format!("{symbol}-funding.csv")), funding.as_ref().and_then(|f| f.1)),
        ] {
            if let Some((from, to)) = span
                && (to < kline_from || from > kline_to)
            {
                return Err(DataError::Disjoint {
                    symbol: symbol.clone(),
                    path,
                    from,
                    to,
                    kline_from,
                    kline_to,
                });
            }
        }
        let bars: Vec<Bar> = klines.bars.into_iter().filter(|b| in_range(b.open_time_ms)).collect();
        if bars.is_empty() {
            out.skipped.push(symbol.clone());
            continue;
        }
        let mark: Vec<Bar> =
            mark.map(|m| m.0.into_iter().filter(|b| in_range(b.open_time_ms)).collect()).unwrap_or_default();
        let funding: Vec<FundingRate> = funding
            .map(|f| f.0.into_iter().filter(|r| in_range(r.funding_time_ms)).collect())
            .unwrap_or_default();
        out.series.push(SymbolSeries {
            symbol: symbol.clone(),
            rules: rules.clone(),
            bars,
            interval_ms: if klines.interval_ms > 0 { klines.interval_ms } else { 3_600_000 },
            mark,
            funding,
        });
    }
    Ok(out)
}

type Span = Option<(i64, i64)>;

fn load_optional<T>(
    path: &Path,
    load: impl FnOnce(&Path) -> Result<(Vec<T>, Span), MarketDataError>,
) -> Result<Option<(Vec<T>, Span)>, MarketDataError> {
    if path.exists() { load(path).map(Some) } else { Ok(None) }
}
