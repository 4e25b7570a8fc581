//! Kline files as a whole: `load_klines` / `parse_klines` turn a file into a `KlineSeries`, checking
//! that rows are strictly increasing in open time, finding the interval (the smallest spacing),
//! checking every open time sits on that interval's grid and reporting the holes as `Gap`s.
//! Holes are reported, never filled: Binance's outages are real absences of trading.

use std::path::{Path, PathBuf};

use super::csv::{self, Line, Reason};
use super::error::MarketDataError;
use super::kline_row::{self, Layout, TimeUnit};
use crate::model::Bar;

/// The bars of one kline file, checked, in strictly increasing open time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KlineSeries {
    /// The file the bars came from.
    pub path: PathBuf,
    /// The bars, oldest first; never empty.
    pub bars: Vec<Bar>,
    /// The bar interval in ms: the smallest spacing between consecutive open times. 0 when the
    /// file holds a single bar, so the interval is unknown.
    pub interval_ms: i64,
    /// Every place where consecutive bars are more than one interval apart, oldest first.
    pub gaps: Vec<Gap>,
}

impl KlineSeries {
    /// Total number of bars missing across all gaps.
    pub fn missing_bars(&self) -> u64 {
        self.gaps.iter().map(|gap| gap.missing_bars).sum()
    }
}

/// A hole in a kline series: bars that should exist between two bars but do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    /// Open time (ms) of the last bar before the hole.
    pub last_before_ms: i64,
    /// Open time (ms) of the first bar after the hole.
    pub first_after_ms: i64,
    /// How many bars of the series' interval are missing: `(after - before) / interval - 1`.
    pub missing_bars: u64,
}

/// Reads and checks a kline file; see [`parse_klines`] for the formats and checks.
///
/// Fails with `Io` when the file cannot be read, and otherwise as [`parse_klines`] does
/// (including `Malformed` for bytes that are not UTF-8, naming their line).
pub fn load_klines(path: &Path) -> Result<KlineSeries, MarketDataError> {
    let text = csv::read_text(path)?;
    parse_klines(&text, path)
}

/// Parses and checks kline text already in memory; `path` is only used in messages and stored in
/// the result.
///
/// Accepted: the six-column layout `open_time_ms,open,high,low,close,volume` and Binance's
/// 12-column dump layout, each with or without a header line (a header's first column may be
/// `open_time_ms` or `open_time`); open times in ms or us, one unit per file, stored in ms; `\n` or
/// `\r\n` line endings. A six-column file must end with a line ending, since a cut inside its last
/// field would otherwise go unnoticed; a dump's last column makes a cut visible, so its final line
/// ending is optional.
///
/// Fails with `Empty` when there are no data rows; `Duplicate` / `Unsorted` when an open time is
/// equal to / earlier than the one before it; `Malformed` for anything else: wrong column count,
/// a field that is not a number, a non-positive price, `high` below or `low` above open or close,
/// a negative volume, an empty line, a truncated last line, mixed time units, or an open time
/// that is not a multiple of the interval.
pub fn parse_klines(text: &str, path: &Path) -> Result<KlineSeries, MarketDataError> {
    let mut lines = csv::lines(text).peekable();
    let Some(first) = lines.peek().copied() else {
        return Err(MarketDataError::Empty { path: path.to_path_buf() });
    };
    if first.text.is_empty() {
        return Err(MarketDataError::malformed(path, first.number, "empty line"));
    }
    let (layout, has_header) =
        kline_row::detect_layout(first.text).map_err(|reason| MarketDataError::malformed(path, 1, reason))?;
    if has_header {
        lines.next();
    }
    let first_row_line = if has_header { 2 } else { 1 };

    let mut bars: Vec<Bar> = Vec::with_capacity(csv::line_count_hint(text));
    let mut unit = None;
    for line in lines {
        let bar = parse_line(layout, line, &mut unit)
            .map_err(|reason| MarketDataError::malformed(path, line.number, reason))?;
        if let Some(previous) = bars.last() {
            check_order(path, line.number, previous.open_time_ms, bar.open_time_ms)?;
        }
        bars.push(bar);
    }
    if bars.is_empty() {
        return Err(MarketDataError::Empty { path: path.to_path_buf() });
    }

    let interval_ms = smallest_spacing(&bars);
    let gaps = find_gaps(&bars, interval_ms).map_err(|index| {
        // No blank lines are allowed between rows, so row `index` is on line `first_row_line + index`.
        let open_time_ms = bars.get(index).map_or(0, |bar| bar.open_time_ms);
        MarketDataError::malformed(
            path,
            first_row_line + index,
            format!(
                "open time {open_time_ms} is not a multiple of the interval {interval_ms} ms \
                 (the smallest spacing between rows)"
            ),
        )
    })?;
    Ok(KlineSeries { path: path.to_path_buf(), bars, interval_ms, gaps })
}

/// Reads one data line, adding the truncation rule for a last line without a line ending.
fn parse_line(layout: Layout, line: Line<'_>, unit: &mut Option<TimeUnit>) -> Result<Bar, Reason> {
    if line.text.is_empty() {
        return Err("empty line".into());
    }
    let parsed = kline_row::parse_row(layout, line.text, unit);
    match (parsed, line.terminated, layout) {
        (Err(reason), false, _) => Err(format!("{reason}; {}", csv::TRUNCATED)),
        (Ok(_), false, Layout::Plain) => {
            Err(format!("{} (a six-column file must end with a line ending)", csv::TRUNCATED))
        }
        (parsed, _, _) => parsed,
    }
}

/// Checks that `time` comes strictly after `previous`; shared with the funding loader.
pub(crate) fn check_order(path: &Path, line: usize, previous: i64, time: i64) -> Result<(), MarketDataError> {
    if time == previous {
        Err(MarketDataError::Duplicate { path: path.to_path_buf(), line, open_time_ms: time })
    } else if time < previous {
        Err(MarketDataError::Unsorted {
            path: path.to_path_buf(),
            line,
            open_time_ms: time,
            previous_ms: previous,
        })
    } else {
        Ok(())
    }
}

/// The smallest spacing between consecutive open times; 0 for a single bar.
fn smallest_spacing(bars: &[Bar]) -> i64 {
    bars.iter().zip(bars.iter().skip(1)).map(|(a, b)| b.open_time_ms - a.open_time_ms).min().unwrap_or(0)
}

/// Every spacing wider than the interval, with the number of bars that would fill it; `Err` with
/// the index of the first bar whose open time is not a multiple of the interval.
///
/// If the first bar is on the grid and every spacing is a multiple of the interval, every bar is on
/// the grid; so only the first bar and the wider spacings need a division.
fn find_gaps(bars: &[Bar], interval_ms: i64) -> Result<Vec<Gap>, usize> {
    let mut gaps = Vec::new();
    if interval_ms <= 0 {
        return Ok(gaps);
    }
    if bars.first().is_some_and(|bar| bar.open_time_ms % interval_ms != 0) {
        return Err(0);
    }
    for (index, (a, b)) in bars.iter().zip(bars.iter().skip(1)).enumerate() {
        let spacing = b.open_time_ms - a.open_time_ms;
        if spacing == interval_ms {
            continue;
        }
        if spacing % interval_ms != 0 {
            return Err(index + 1);
        }
        let missing_bars = u64::try_from(spacing / interval_ms - 1).unwrap_or(0);
        gaps.push(Gap { last_before_ms: a.open_time_ms, first_after_ms: b.open_time_ms, missing_bars });
    }
    Ok(gaps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    use proptest::prelude::*;

    const HOUR: i64 = 3_600_000;
    const T0: i64 = 1_514_764_800_000;
    const HEADER: &str = "open_time_ms,open,high,low,close,volume\n";

    fn path() -> &'static Path {
        Path::new("data/BTCUSDT.csv")
    }

    /// A six-column row at `T0 + hours` hours.
    fn row(hours: i64) -> String {
        format!("{},100.5,101,99.25,100,12.5\n", T0 + hours * HOUR)
    }

    /// A dump row at `T0 + hours` hours, times multiplied by `per_ms` (1 for ms, 1000 for us).
    fn dump_row(hours: i64, per_ms: i64) -> String {
        let open = (T0 + hours * HOUR) * per_ms;
        let close = (T0 + (hours + 1) * HOUR) * per_ms - 1;
        format!("{open},100.5,101,99.25,100,12.5,{close},1250.0,42,6.0,600.0,0\n")
    }

    fn plain_file(hours: &[i64]) -> String {
        HEADER.to_owned() + &hours.iter().map(|&h| row(h)).collect::<String>()
    }

    fn parse(text: &str) -> Result<KlineSeries, MarketDataError> {
        parse_klines(text, path())
    }

    /// Asserts a `Malformed` error on `line` whose message names the file, the line and `fragment`.
    fn assert_malformed(text: &str, line: usize, fragment: &str) {
        let error = parse(text).unwrap_err();
        assert!(matches!(error, MarketDataError::Malformed { .. }), "{error:?}");
        assert_eq!(error.line(), Some(line), "{error}");
        let message = error.to_string();
        assert!(message.starts_with(&format!("data/BTCUSDT.csv line {line}: ")), "{message}");
        assert!(message.contains(fragment), "{message} lacks {fragment:?}");
    }

    #[test]
    fn reads_the_six_column_layout() {
        let series = parse(&plain_file(&[0, 1, 2])).unwrap();
        assert_eq!(series.path, path());
        assert_eq!(series.bars.len(), 3);
        assert_eq!(series.interval_ms, HOUR);
        assert!(series.gaps.is_empty());
        assert_eq!(series.bars[2].open_time_ms, T0 + 2 * HOUR);
        assert_eq!(series.bars[0].low.get(), dec!(99.25));
        let open_time = parse(&plain_file(&[0, 1]).replacen("open_time_ms", "open_time", 1)).unwrap();
        assert_eq!(open_time.bars, series.bars[..2]);
    }

    #[test]
    fn reads_the_dump_layout_in_ms_and_us_alike() {
        let ms: String = (0..3).map(|h| dump_row(h, 1)).collect();
        let us: String = (0..3).map(|h| dump_row(h, 1000)).collect();
        let from_ms = parse(&ms).unwrap();
        let from_us = parse(&us).unwrap();
        assert_eq!(from_ms.bars, from_us.bars);
        assert_eq!(from_ms.bars, parse(&plain_file(&[0, 1, 2])).unwrap().bars);
        assert_eq!(from_us.interval_ms, HOUR);
        let header = "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,\
                      taker_buy_quote_volume,ignore\n";
        assert_eq!(parse(&(header.to_owned() + &ms)).unwrap().bars, from_ms.bars);
    }

    #[test]
    fn a_dump_may_end_without_a_line_ending() {
        let ms: String = (0..2).map(|h| dump_row(h, 1)).collect();
        assert_eq!(parse(ms.trim_end()).unwrap().bars.len(), 2);
    }

    #[test]
    fn a_file_mixing_ms_and_us_is_malformed() {
        let mixed = dump_row(0, 1) + &dump_row(1, 1000);
        assert_malformed(&mixed, 2, "is in microseconds but the file's first row is in milliseconds");
    }

    #[test]
    fn accepts_crlf_the_same_as_lf() {
        let lf = plain_file(&[0, 1, 2]);
        let crlf = lf.replace('\n', "\r\n");
        assert_eq!(parse(&crlf).unwrap().bars, parse(&lf).unwrap().bars);
    }

    #[test]
    fn reports_gaps_with_their_missing_bar_counts() {
        let series = parse(&plain_file(&[0, 1, 4, 5, 6, 10])).unwrap();
        assert_eq!(series.interval_ms, HOUR);
        assert_eq!(
            series.gaps,
            [
                Gap { last_before_ms: T0 + HOUR, first_after_ms: T0 + 4 * HOUR, missing_bars: 2 },
                Gap { last_before_ms: T0 + 6 * HOUR, first_after_ms: T0 + 10 * HOUR, missing_bars: 3 },
            ]
        );
        assert_eq!(series.missing_bars(), 5);
        assert_eq!(series.bars.len(), 6, "gaps are never filled");
    }

    #[test]
    fn a_single_bar_has_unknown_interval() {
        let series = parse(&plain_file(&[3])).unwrap();
        assert_eq!((series.bars.len(), series.interval_ms, series.gaps.len()), (1, 0, 0));
    }

    #[test]
    fn duplicate_and_unsorted_rows_name_the_line() {
        let error = parse(&plain_file(&[0, 1, 1, 2])).unwrap_err();
        assert!(
            matches!(error, MarketDataError::Duplicate { line: 4, open_time_ms, .. } if open_time_ms == T0 + HOUR)
        );
        assert!(error.to_string().starts_with("data/BTCUSDT.csv line 4: "), "{error}");
        let error = parse(&plain_file(&[0, 2, 1])).unwrap_err();
        assert!(
            matches!(error, MarketDataError::Unsorted { line: 4, open_time_ms, previous_ms, .. }
                if open_time_ms == T0 + HOUR && previous_ms == T0 + 2 * HOUR),
            "{error:?}"
        );
        assert!(error.to_string().starts_with("data/BTCUSDT.csv line 4: "), "{error}");
    }

    #[test]
    fn empty_files_are_empty() {
        for text in ["", HEADER, "open_time_ms,open,high,low,close,volume"] {
            let error = parse(text).unwrap_err();
            assert!(matches!(error, MarketDataError::Empty { .. }), "{text:?}: {error:?}");
            assert_eq!(error.to_string(), "data/BTCUSDT.csv: no data rows");
        }
    }

    #[test]
    fn malformed_lines_name_file_line_and_column() {
        let good = plain_file(&[0, 1, 2]);
        let with_row_3 = |line: &str| good.replacen(&row(1), &format!("{line}\n"), 1);
        let t1 = T0 + HOUR;
        assert_malformed(&with_row_3(&format!("{t1},1,2,3")), 3, "4 columns, expected 6");
        assert_malformed(
            &with_row_3(&format!("{t1},abc,2,1,1,1")),
            3,
            "column 2 (open) \"abc\" is not a decimal",
        );
        assert_malformed(&with_row_3(&format!("{t1},1,2,1,1,1,")), 3, "7 columns, expected 6");
        assert_malformed(
            &with_row_3(&format!("{t1},0,2,1,1,1")),
            3,
            "column 2 (open) 0 is not a positive price",
        );
        assert_malformed(&with_row_3(&format!("{t1},2,1.5,1,1,1")), 3, "column 3 (high) 1.5 is below open 2");
        assert_malformed(&with_row_3(&format!("{t1},2,3,2.5,2,1")), 3, "column 4 (low) 2.5 is above open 2");
        assert_malformed(&with_row_3(&format!("{t1},1,2,1,1\u{7}1,1")), 3, "column 5 (close) \"1\\u{7}1\"");
        assert_malformed(&with_row_3(""), 3, "empty line");
        assert_malformed(&with_row_3(&format!("{t1},1,2,1,1,1\r\r")), 3, "column 6 (volume) \"1\\r\"");
        assert_malformed(&(good.clone() + "\n"), 5, "empty line");
        assert_malformed("open_time_ms,open,high\n", 1, "3 columns; a kline file has 6");
        assert_malformed("\nopen_time_ms,open,high,low,close,volume\n", 1, "empty line");
    }

    #[test]
    fn a_truncated_last_line_is_malformed() {
        let good = plain_file(&[0, 1, 2]);
        // Cut inside the high column: the column count gives it away.
        let cut = &good[..good.len() - 17];
        assert_malformed(cut, 4, "3 columns, expected 6");
        assert_malformed(cut, 4, "the file looks truncated");
        // Cut inside the volume: only the missing line ending gives it away.
        assert_malformed(&good[..good.len() - 2], 4, "has no line ending, so the file looks truncated");
        assert_malformed(&good[..good.len() - 1], 4, "has no line ending, so the file looks truncated");
    }

    #[test]
    fn open_times_off_the_interval_grid_are_malformed() {
        let text = plain_file(&[0, 1, 2]) + &format!("{},1,1,1,1,1\n", T0 + 3 * HOUR + 1) + &row(5);
        assert_malformed(
            &text,
            5,
            &format!("open time {} is not a multiple of the interval 3600000 ms", T0 + 3 * HOUR + 1),
        );
        // One half-hour spacing makes the interval 30 min: the hourly rows are on that grid too,
        // and every hour between them counts as a missing half-hour bar.
        let text = plain_file(&[0, 1]) + &format!("{},1,1,1,1,1\n", T0 + HOUR + HOUR / 2) + &row(3);
        let series = parse(&text).unwrap();
        assert_eq!(series.interval_ms, HOUR / 2);
        assert_eq!(series.gaps.iter().map(|gap| gap.missing_bars).collect::<Vec<_>>(), [1, 2]);
    }

    proptest! {
        #[test]
        fn any_text_is_refused_or_loaded_without_panicking(text in any::<String>()) {
            let _ = parse(&text);
        }

        #[test]
        fn csv_like_noise_is_refused_or_loaded_without_panicking(
            body in "[0-9.,e\\-\r\n]{0,300}",
            header in prop::bool::ANY,
        ) {
            let text = if header { HEADER.to_owned() + &body } else { body };
            if let Ok(series) = parse(&text) {
                prop_assert!(!series.bars.is_empty());
                prop_assert!(series.bars.iter().all(Bar::is_consistent));
                prop_assert!(series.bars.windows(2).all(|w| w[0].open_time_ms < w[1].open_time_ms));
            }
        }

        #[test]
        fn random_hours_load_with_exact_gaps_or_are_refused_off_grid(
            hours in prop::collection::btree_set(0i64..500, 2..40),
        ) {
            let hours: Vec<i64> = hours.into_iter().collect();
            let spacing = hours.windows(2).map(|w| w[1] - w[0]).min().unwrap();
            let result = parse(&plain_file(&hours));
            if hours.iter().all(|h| (T0 / HOUR + h) % spacing == 0) {
                let series = result.unwrap();
                prop_assert_eq!(series.interval_ms, spacing * HOUR);
                let expected: u64 = hours.windows(2).map(|w| ((w[1] - w[0]) / spacing - 1) as u64).sum();
                prop_assert_eq!(series.missing_bars(), expected);
                prop_assert_eq!(series.bars.len(), hours.len());
            } else {
                prop_assert!(matches!(result, Err(MarketDataError::Malformed { .. })), "{:?}", result);
            }
        }
    }
}
