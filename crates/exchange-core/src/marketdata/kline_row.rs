//! How one line of a kline file becomes a `Bar`: recognising the layout from the first line,
//! checking a header, reading the columns of a row, converting its open time to milliseconds and
//! checking the prices (`0 < low <= open, close <= high`, volume not negative).
//!
//! Binance facts behind this: the public dumps (data.binance.vision) have 12 columns,
//! `open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,
//! taker_buy_quote_volume,ignore`; spot dumps have no header, futures dumps have that
//! header line. Spot dumps switched open and close times from milliseconds to microseconds on
//! 2025-01-01, so the unit is told by magnitude: above 1e14 is microseconds (1e14 ms would be the
//! year 5138, 1e14 us is 1973).

use std::cmp::Ordering;

use rust_decimal::Decimal;

use super::csv::{self, Reason};
use crate::model::{Bar, Price};

/// Open times above this are microseconds, at or below it milliseconds.
const MICROS_ABOVE: u64 = 100_000_000_000_000;

/// The six-column layout, as its header spells it.
const PLAIN_COLUMNS: &str = "open_time_ms,open,high,low,close,volume";
/// Binance's twelve-column dump layout.
const DUMP_COLUMNS: &str = "Binance dump: open_time,open,high,low,close,volume,close_time,quote_volume,count,\
                            taker_buy_volume,taker_buy_quote_volume,ignore";

/// The column layout of a kline file, fixed by its first line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// `open_time_ms,open,high,low,close,volume`.
    Plain,
    /// Binance's public dump: the six above, then close time, quote volume, trade count, taker
    /// buy base and quote volumes, and an ignored column.
    Dump,
}

/// The unit of a file's open times, fixed by its first row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeUnit {
    /// Milliseconds since the epoch.
    Millis,
    /// Microseconds since the epoch.
    Micros,
}

impl TimeUnit {
    /// The unit a raw timestamp is in, by its magnitude.
    fn of(raw: u64) -> Self {
        if raw > MICROS_ABOVE { Self::Micros } else { Self::Millis }
    }
}

/// Recognises the layout from the first line and says whether that line is a header.
///
/// A first line starting with a digit is data; anything else is a header, which must name the
/// columns (`open_time_ms` or `open_time` first). Both layouts may have a header or not.
pub(crate) fn detect_layout(first_line: &str) -> Result<(Layout, bool), Reason> {
    let layout = match first_line.split(',').count() {
        6 => Layout::Plain,
        12 => Layout::Dump,
        found => {
            return Err(format!(
                "{found} columns; a kline file has 6 ({PLAIN_COLUMNS}) or 12 ({DUMP_COLUMNS})"
            ));
        }
    };
    let is_header = !first_line.starts_with(|c: char| c.is_ascii_digit());
    if is_header {
        check_header(first_line)?;
    }
    Ok((layout, is_header))
}

/// Checks that a header names the six kline columns first. The names of a dump's last six
/// columns are not checked: Binance has spelled them in more than one way.
fn check_header(header: &str) -> Result<(), Reason> {
    let expected =
        [&["open_time_ms", "open_time"][..], &["open"], &["high"], &["low"], &["close"], &["volume"]];
    for (index, (name, allowed)) in header.split(',').zip(expected).enumerate() {
        if !allowed.contains(&name) {
            return Err(format!(
                "header column {} is {}, expected {}",
                index + 1,
                csv::quote(name),
                allowed.join(" or ")
            ));
        }
    }
    Ok(())
}

/// Reads one data line as a bar. `unit` is the file's time unit: `None` before the first row,
/// which sets it; a later row in the other unit is refused.
pub(crate) fn parse_row(layout: Layout, line: &str, unit: &mut Option<TimeUnit>) -> Result<Bar, Reason> {
    let (open_time, prices) = match layout {
        Layout::Plain => {
            let [time, open, high, low, close, volume] =
                csv::fields::<6>(line).map_err(|found| csv::column_count(found, 6, PLAIN_COLUMNS))?;
            let open_time = csv::unsigned(time, 1, "open_time")?;
            (open_time, ohlcv([open, high, low, close, volume])?)
        }
        Layout::Dump => {
            let [
                time,
                open,
                high,
                low,
                close,
                volume,
                close_time,
                quote_volume,
                trades,
                taker_base,
                taker_quote,
                _,
            ] = csv::fields::<12>(line).map_err(|found| csv::column_count(found, 12, DUMP_COLUMNS))?;
            let open_time = csv::unsigned(time, 1, "open_time")?;
            let prices = ohlcv([open, high, low, close, volume])?;
            let close_time = csv::unsigned(close_time, 7, "close_time")?;
            if TimeUnit::of(close_time) != TimeUnit::of(open_time) || close_time < open_time {
                return Err(format!(
                    "column 7 (close_time) {close_time} does not follow open time {open_time} in the same unit"
                ));
            }
            csv::amount(quote_volume, 8, "quote_volume")?;
            csv::unsigned(trades, 9, "count")?;
            csv::amount(taker_base, 10, "taker_buy_volume")?;
            csv::amount(taker_quote, 11, "taker_buy_quote_volume")?;
            (open_time, prices)
        }
    };
    let open_time_ms = to_millis(open_time, unit)?;
    let [open, high, low, close, volume] = prices;
    Ok(Bar {
        open_time_ms,
        open: Price::new(open),
        high: Price::new(high),
        low: Price::new(low),
        close: Price::new(close),
        volume,
    })
}

/// Reads and checks open, high, low, close (columns 2 to 5) and volume (column 6).
fn ohlcv([open, high, low, close, volume]: [&str; 5]) -> Result<[Decimal; 5], Reason> {
    let open = csv::price(open, 2, "open")?;
    let high = csv::price(high, 3, "high")?;
    let low = csv::price(low, 4, "low")?;
    let close = csv::price(close, 5, "close")?;
    let volume = csv::amount(volume, 6, "volume")?;
    if below(high, open) || below(high, close) {
        return Err(format!("column 3 (high) {high} is below open {open} or close {close}"));
    }
    if below(open, low) || below(close, low) {
        return Err(format!("column 4 (low) {low} is above open {open} or close {close}"));
    }
    Ok([open, high, low, close, volume])
}

/// `a < b` on mantissas brought to one scale, much cheaper than `Decimal`'s general comparison.
fn below(a: Decimal, b: Decimal) -> bool {
    // Scale up the mantissa with the smaller scale; on overflow (never for prices of up to 19
    // digits) fall back to the general comparison.
    let scaled = |mantissa: i128, by: u32| {
        POWERS_OF_TEN.get(by as usize).and_then(|&power| mantissa.checked_mul(power))
    };
    let aligned = match a.scale().cmp(&b.scale()) {
        Ordering::Equal => Some((a.mantissa(), b.mantissa())),
        Ordering::Less => scaled(a.mantissa(), b.scale() - a.scale()).map(|left| (left, b.mantissa())),
        Ordering::Greater => scaled(b.mantissa(), a.scale() - b.scale()).map(|right| (a.mantissa(), right)),
    };
    match aligned {
        Some((left, right)) => left < right,
        None => a < b,
    }
}

/// 10^0 to 10^28: every scale difference two decimals can have.
const POWERS_OF_TEN: [i128; 29] = {
    let mut powers = [1i128; 29];
    let mut index = 1;
    while index < powers.len() {
        powers[index] = powers[index - 1] * 10;
        index += 1;
    }
    powers
};

/// Converts a raw open time to milliseconds in the file's unit, setting the unit on first use.
fn to_millis(raw: u64, unit: &mut Option<TimeUnit>) -> Result<i64, Reason> {
    let this = TimeUnit::of(raw);
    let file_unit = *unit.get_or_insert(this);
    let millis = match (file_unit, this) {
        (TimeUnit::Millis, TimeUnit::Millis) => raw,
        (TimeUnit::Micros, TimeUnit::Micros) if raw.is_multiple_of(1000) => raw / 1000,
        (TimeUnit::Micros, TimeUnit::Micros) => {
            return Err(format!("column 1 (open_time) {raw} us is not a whole millisecond"));
        }
        (TimeUnit::Millis, TimeUnit::Micros) => {
            return Err(format!(
                "column 1 (open_time) {raw} is in microseconds but the file's first row is in milliseconds"
            ));
        }
        (TimeUnit::Micros, TimeUnit::Millis) => {
            return Err(format!(
                "column 1 (open_time) {raw} is in milliseconds but the file's first row is in microseconds"
            ));
        }
    };
    // Below 1e14 for milliseconds, below 1.9e16 after dividing microseconds: always fits.
    i64::try_from(millis).map_err(|_| format!("column 1 (open_time) {raw} is out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn plain(line: &str) -> Result<Bar, Reason> {
        parse_row(Layout::Plain, line, &mut None)
    }

    #[test]
    fn detects_both_layouts_with_or_without_header() {
        let cases = [
            ("open_time_ms,open,high,low,close,volume", (Layout::Plain, true)),
            ("open_time,open,high,low,close,volume", (Layout::Plain, true)),
            ("1514764800000,1,1,1,1,0", (Layout::Plain, false)),
            ("1698364800000,1,1,1,1,0,1698368399999,1,1,1,1,0", (Layout::Dump, false)),
            (
                "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,\
                 taker_buy_quote_volume,ignore",
                (Layout::Dump, true),
            ),
        ];
        for (line, want) in cases {
            assert_eq!(detect_layout(line), Ok(want), "{line}");
        }
    }

    #[test]
    fn refuses_unknown_headers_and_column_counts() {
        let cases = [
            (
                "time,open,high,low,close,volume",
                "header column 1 is \"time\", expected open_time_ms or open_time",
            ),
            ("open_time_ms,open,hi,low,close,volume", "header column 3 is \"hi\", expected high"),
            ("open_time_ms,open,high,low,close", "5 columns; a kline file has 6 ("),
            (
                "\u{feff}open_time_ms,open,high,low,close,volume",
                "header column 1 is \"\\u{feff}open_time_ms\"",
            ),
        ];
        for (line, want) in cases {
            let reason = detect_layout(line).unwrap_err();
            assert!(reason.starts_with(want), "{line}: {reason}");
        }
    }

    #[test]
    fn below_agrees_with_decimal_ordering() {
        let values = [
            dec!(1),
            dec!(1.0),
            dec!(0.99999999),
            dec!(13400.01),
            dec!(13400.1),
            dec!(13400),
            dec!(-2.5),
            dec!(0.0000000000000000000000000001),
            Decimal::MAX,
            Decimal::MIN,
            dec!(7922816251426433759354395033.5),
        ];
        for a in values {
            for b in values {
                assert_eq!(below(a, b), a < b, "{a} < {b}");
            }
        }
    }

    #[test]
    fn reads_a_plain_row() {
        let bar = plain("1514764800000,13715.65,13715.65,13400.01,13529.01,443.356199").unwrap();
        assert_eq!(bar.open_time_ms, 1_514_764_800_000);
        assert_eq!(bar.open.get(), dec!(13715.65));
        assert_eq!(bar.high.get(), dec!(13715.65));
        assert_eq!(bar.low.get(), dec!(13400.01));
        assert_eq!(bar.close.get(), dec!(13529.01));
        assert_eq!(bar.volume, dec!(443.356199));
        assert!(bar.is_consistent());
    }

    #[test]
    fn reads_a_dump_row_in_ms_and_in_us_to_the_same_bar() {
        let ms = "1698364800000,34151.66000000,34171.28000000,33972.39000000,34015.27000000,908.27901000,\
                  1698368399999,30937869.62302600,41459,416.48838000,14187002.70550060,0";
        let us = "1698364800000000,34151.66000000,34171.28000000,33972.39000000,34015.27000000,908.27901000,\
                  1698368399999999,30937869.62302600,41459,416.48838000,14187002.70550060,0";
        let mut ms_unit = None;
        let mut us_unit = None;
        let from_ms = parse_row(Layout::Dump, ms, &mut ms_unit).unwrap();
        let from_us = parse_row(Layout::Dump, us, &mut us_unit).unwrap();
        assert_eq!(from_ms, from_us);
        assert_eq!(from_ms.open_time_ms, 1_698_364_800_000);
        assert_eq!(from_ms.close.get(), dec!(34015.27000000));
        assert_eq!((ms_unit, us_unit), (Some(TimeUnit::Millis), Some(TimeUnit::Micros)));
    }

    #[test]
    fn refuses_a_second_time_unit() {
        let mut unit = Some(TimeUnit::Millis);
        let reason = parse_row(Layout::Plain, "1698364800000000,1,1,1,1,0", &mut unit).unwrap_err();
        assert!(
            reason.contains("is in microseconds but the file's first row is in milliseconds"),
            "{reason}"
        );
        let mut unit = Some(TimeUnit::Micros);
        let reason = parse_row(Layout::Plain, "1698364800000,1,1,1,1,0", &mut unit).unwrap_err();
        assert!(
            reason.contains("is in milliseconds but the file's first row is in microseconds"),
            "{reason}"
        );
        let reason = plain("1698364800000001,1,1,1,1,0").unwrap_err();
        assert!(reason.contains("is not a whole millisecond"), "{reason}");
    }

    #[test]
    fn refuses_malformed_rows_naming_the_column() {
        let cases = [
            ("1,2,3,1,2", "5 columns, expected 6 (open_time_ms,open,high,low,close,volume)"),
            ("1,2,3,1,2,5,6", "7 columns, expected 6"),
            ("x1,2,3,1,2,5", "column 1 (open_time) \"x1\" is not a whole non-negative number"),
            ("-1,2,3,1,2,5", "column 1 (open_time) \"-1\" is not a whole non-negative number"),
            ("1,abc,3,1,2,5", "column 2 (open) \"abc\" is not a decimal number"),
            ("1,2,abc,1,2,5", "column 3 (high) \"abc\" is not a decimal number"),
            ("1,2,3,1,2,\u{0}", "column 6 (volume) \"\\0\" is not a decimal number"),
            ("1,2,3,1,2,", "column 6 (volume) \"\" is not a decimal number"),
            ("1,0,3,1,2,5", "column 2 (open) 0 is not a positive price"),
            ("1,2,3,-1,2,5", "column 4 (low) -1 is not a positive price"),
            ("1,2,3,1,0.0,5", "column 5 (close) 0.0 is not a positive price"),
            ("1,2,3,1,2,-5", "column 6 (volume) -5 is negative"),
            ("1,2,1.5,1,2,5", "column 3 (high) 1.5 is below open 2 or close 2"),
            ("1,2,3,2.5,2,5", "column 4 (low) 2.5 is above open 2 or close 2"),
            ("1,2,3,2.5,3,5", "column 4 (low) 2.5 is above open 2 or close 3"),
        ];
        for (line, want) in cases {
            let reason = plain(line).unwrap_err();
            assert!(reason.starts_with(want), "{line:?}: {reason}");
        }
    }

    #[test]
    fn refuses_malformed_dump_rows() {
        let good = ["1698364800000", "1", "1", "1", "1", "0", "1698368399999", "1", "5", "1", "1", "0"];
        let cases = [
            (6, "1698364799999", "column 7 (close_time) 1698364799999 does not follow open time"),
            (6, "1698368399999999", "column 7 (close_time) 1698368399999999 does not follow open time"),
            (7, "x", "column 8 (quote_volume) \"x\" is not a decimal number"),
            (8, "1.5", "column 9 (count) \"1.5\" is not a whole non-negative number"),
            (9, "-1", "column 10 (taker_buy_volume) -1 is negative"),
            (10, "", "column 11 (taker_buy_quote_volume) \"\" is not a decimal number"),
        ];
        assert!(parse_row(Layout::Dump, &good.join(","), &mut None).is_ok());
        for (index, value, want) in cases {
            let mut fields = good;
            fields[index] = value;
            let reason = parse_row(Layout::Dump, &fields.join(","), &mut None).unwrap_err();
            assert!(reason.starts_with(want), "{fields:?}: {reason}");
        }
        let reason = parse_row(Layout::Dump, "1,1,1,1,1,0", &mut None).unwrap_err();
        assert!(reason.starts_with("6 columns, expected 12 (Binance dump"), "{reason}");
    }
}
