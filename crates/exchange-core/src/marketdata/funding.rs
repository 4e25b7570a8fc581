//! Funding-rate files: `load_funding` / `parse_funding` turn `funding_time_ms,funding_rate` text
//! into a `FundingSeries`, strictly increasing in time.
//!
//! Venue facts: Binance USD-M perpetuals settle funding every 8 h (00:00, 08:00, 16:00 UTC) for
//! BTCUSDT, ETHUSDT and SOLUSDT, though Binance may shorten a symbol's interval, so the spacing is
//! not checked here. Rates are signed fractions per settlement (`0.0001` is 0.01%); the files
//! write small ones in exponent form (`8.373e-05`), which is read exactly.

use std::path::{Path, PathBuf};

use rust_decimal::Decimal;

use super::csv::{self, Line, Reason};
use super::error::MarketDataError;
use super::klines::check_order;

/// Funding times at or above this are not milliseconds (1e14 ms is the year 5138).
const MILLIS_BELOW: u64 = 100_000_000_000_000;

/// The columns of a funding file, as its header spells them.
const FUNDING_COLUMNS: &str = "funding_time_ms,funding_rate";

/// One funding settlement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FundingRate {
    /// Settlement time, exchange time, ms since the Unix epoch (UTC).
    pub funding_time_ms: i64,
    /// The rate longs pay shorts at that settlement (negative: shorts pay longs), as a fraction of
    /// the position's notional.
    pub rate: Decimal,
}

/// The settlements of one funding file, in strictly increasing time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundingSeries {
    /// The file the rates came from.
    pub path: PathBuf,
    /// The settlements, oldest first; never empty.
    pub rates: Vec<FundingRate>,
}

/// Reads and checks a funding file; see [`parse_funding`] for the format and checks.
///
/// Fails with `Io` when the file cannot be read, and otherwise as [`parse_funding`] does
/// (including `Malformed` for bytes that are not UTF-8, naming their line).
pub fn load_funding(path: &Path) -> Result<FundingSeries, MarketDataError> {
    let text = csv::read_text(path)?;
    parse_funding(&text, path)
}

/// Parses and checks funding text already in memory; `path` is only used in messages and stored
/// in the result.
///
/// The text is a header `funding_time_ms,funding_rate` (or `funding_time,funding_rate`) and then
/// rows of a time in ms and a decimal rate (signed, plain or exponent form), with `\n` or `\r\n`
/// line endings; the last line must end with a line ending, since a cut inside a rate would
/// otherwise go unnoticed.
///
/// Fails with `Empty` when there are no rows; `Duplicate` / `Unsorted` when a time is equal to /
/// earlier than the one before it; `Malformed` for a missing or wrong header, a wrong column
/// count, a time that is not a whole number of ms, a rate that is not a decimal, an empty line or
/// a truncated last line.
pub fn parse_funding(text: &str, path: &Path) -> Result<FundingSeries, MarketDataError> {
    let mut lines = csv::lines(text);
    let Some(header) = lines.next() else {
        return Err(MarketDataError::Empty { path: path.to_path_buf() });
    };
    check_header(header.text).map_err(|reason| MarketDataError::malformed(path, header.number, reason))?;

    let mut rates: Vec<FundingRate> = Vec::with_capacity(csv::line_count_hint(text));
    for line in lines {
        let rate =
            parse_line(line).map_err(|reason| MarketDataError::malformed(path, line.number, reason))?;
        if let Some(previous) = rates.last() {
            check_order(path, line.number, previous.funding_time_ms, rate.funding_time_ms)?;
        }
        rates.push(rate);
    }
    if rates.is_empty() {
        return Err(MarketDataError::Empty { path: path.to_path_buf() });
    }
    Ok(FundingSeries { path: path.to_path_buf(), rates })
}

/// Checks the header line.
fn check_header(text: &str) -> Result<(), Reason> {
    match csv::fields::<2>(text) {
        Ok(["funding_time_ms" | "funding_time", "funding_rate"]) => Ok(()),
        _ => Err(format!("header {}, expected {FUNDING_COLUMNS}", csv::quote(text))),
    }
}

/// Reads one data line.
fn parse_line(line: Line<'_>) -> Result<FundingRate, Reason> {
    if line.text.is_empty() {
        return Err("empty line".into());
    }
    let parsed = parse_row(line.text);
    match (parsed, line.terminated) {
        (Err(reason), false) => Err(format!("{reason}; {}", csv::TRUNCATED)),
        (Ok(_), false) => Err(csv::TRUNCATED.into()),
        (parsed, true) => parsed,
    }
}

/// Reads the two columns of a row.
fn parse_row(text: &str) -> Result<FundingRate, Reason> {
    let [time, rate] =
        csv::fields::<2>(text).map_err(|found| csv::column_count(found, 2, FUNDING_COLUMNS))?;
    let time = csv::unsigned(time, 1, "funding_time_ms")?;
    if time >= MILLIS_BELOW {
        return Err(format!("column 1 (funding_time_ms) {time} is too large for milliseconds"));
    }
    // Below 1e14: fits an i64.
    let funding_time_ms =
        i64::try_from(time).map_err(|_| format!("column 1 (funding_time_ms) {time} is out of range"))?;
    let rate = csv::decimal(rate, 2, "funding_rate")?;
    Ok(FundingRate { funding_time_ms, rate })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    const EIGHT_HOURS: i64 = 28_800_000;
    const T0: i64 = 1_735_603_200_000;

    fn parse(text: &str) -> Result<FundingSeries, MarketDataError> {
        parse_funding(text, Path::new("data/SOLUSDT-funding.csv"))
    }

    fn assert_malformed(text: &str, line: usize, fragment: &str) {
        let error = parse(text).unwrap_err();
        assert!(matches!(error, MarketDataError::Malformed { .. }), "{error:?}");
        let message = error.to_string();
        assert!(message.starts_with(&format!("data/SOLUSDT-funding.csv line {line}: ")), "{message}");
        assert!(message.contains(fragment), "{message} lacks {fragment:?}");
    }

    #[test]
    fn reads_rates_in_plain_and_exponent_form() {
        let text = format!(
            "funding_time_ms,funding_rate\n{T0},8.373e-05\n{},-0.00012345\n{},1e-4\n{},0.00010000\n",
            T0 + EIGHT_HOURS,
            T0 + 2 * EIGHT_HOURS,
            T0 + 3 * EIGHT_HOURS
        );
        let series = parse(&text).unwrap();
        assert_eq!(series.path, Path::new("data/SOLUSDT-funding.csv"));
        let rates: Vec<_> = series.rates.iter().map(|r| (r.funding_time_ms - T0, r.rate)).collect();
        assert_eq!(
            rates,
            [
                (0, dec!(0.00008373)),
                (EIGHT_HOURS, dec!(-0.00012345)),
                (2 * EIGHT_HOURS, dec!(0.0001)),
                (3 * EIGHT_HOURS, dec!(0.0001))
            ]
        );
        let crlf = parse(&text.replace('\n', "\r\n").replacen("funding_time_ms", "funding_time", 1)).unwrap();
        assert_eq!(crlf.rates, series.rates);
    }

    #[test]
    fn rows_must_be_strictly_increasing() {
        let text = format!("funding_time_ms,funding_rate\n{T0},0.0001\n{T0},0.0001\n");
        let error = parse(&text).unwrap_err();
        assert!(matches!(error, MarketDataError::Duplicate { line: 3, open_time_ms: T0, .. }), "{error:?}");
        let text = format!("funding_time_ms,funding_rate\n{T0},0.0001\n{},0.0001\n", T0 - EIGHT_HOURS);
        let error = parse(&text).unwrap_err();
        assert!(matches!(error, MarketDataError::Unsorted { line: 3, previous_ms: T0, .. }), "{error:?}");
        assert!(error.to_string().starts_with("data/SOLUSDT-funding.csv line 3: "), "{error}");
    }

    #[test]
    fn malformed_funding_files_name_the_line() {
        let header = "funding_time_ms,funding_rate\n";
        assert_malformed(&format!("{T0},0.0001\n"), 1, "expected funding_time_ms,funding_rate");
        assert_malformed(
            "open_time_ms,open,high,low,close,volume\n",
            1,
            "expected funding_time_ms,funding_rate",
        );
        assert_malformed(&format!("{header}{T0},0.0001,1\n"), 2, "3 columns, expected 2");
        assert_malformed(
            &format!("{header}{T0},abc\n"),
            2,
            "column 2 (funding_rate) \"abc\" is not a decimal",
        );
        assert_malformed(
            &format!("{header}{T0}.5,0.1\n"),
            2,
            "column 1 (funding_time_ms) \"1735603200000.5\"",
        );
        assert_malformed(&format!("{header}{T0}000,0.1\n"), 2, "is too large for milliseconds");
        assert_malformed(&format!("{header}{T0},0.1\n\n"), 3, "empty line");
        assert_malformed(&format!("{header}{T0},0.1\n{},0.00012", T0 + EIGHT_HOURS), 3, "looks truncated");
        assert_malformed(&format!("{header}{T0},0.1\n{},1e", T0 + EIGHT_HOURS), 3, "looks truncated");
    }

    #[test]
    fn no_rows_is_empty() {
        for text in ["", "funding_time_ms,funding_rate\n"] {
            let error = parse(text).unwrap_err();
            assert!(matches!(error, MarketDataError::Empty { .. }), "{text:?}: {error:?}");
        }
    }
}
