//! The comma-separated text both file kinds share: reading a file into UTF-8 text, cutting it into
//! numbered lines (`\n` or `\r\n`, one optional final line ending), splitting a line into a fixed
//! number of fields, and reading a named column as a decimal or a timestamp with a message that
//! quotes it. No quoting, no escapes: market-data files never carry commas inside a field.

use std::fs;
use std::path::Path;

use rust_decimal::Decimal;

use super::error::MarketDataError;
use super::number::{DecimalError, parse_decimal, parse_unsigned};

/// Why one line was rejected; the caller adds the file and line number.
pub(crate) type Reason = String;

/// The reason given for a last line without a line ending, alone or after what else is wrong.
pub(crate) const TRUNCATED: &str = "it is the last line and has no line ending, so the file looks truncated";

/// One line of a file, without its line ending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Line<'a> {
    /// 1-based line number.
    pub number: usize,
    /// The text, without `\n` or `\r\n`.
    pub text: &'a str,
    /// False for a last line that ends the file without a line ending.
    pub terminated: bool,
}

/// Reads a whole file as UTF-8 text with one `fs::read`.
///
/// Fails with `Io` when the file cannot be read, and with `Malformed` naming the line of the first
/// byte that is not UTF-8.
pub(crate) fn read_text(path: &Path) -> Result<String, MarketDataError> {
    let bytes = fs::read(path).map_err(|source| MarketDataError::Io { path: path.to_path_buf(), source })?;
    String::from_utf8(bytes).map_err(|error| {
        let bytes = error.as_bytes();
        let bad = error.utf8_error().valid_up_to();
        let line_start =
            bytes[..bad].iter().rposition(|&byte| byte == b'\n').map_or(0, |newline| newline + 1);
        let line = 1 + bytes[..bad].iter().filter(|&&byte| byte == b'\n').count();
        let byte = bytes.get(bad).copied().unwrap_or_default();
        MarketDataError::malformed(
            path,
            line,
            format!("byte 0x{byte:02X} at position {} of the line is not UTF-8 text", bad - line_start + 1),
        )
    })
}

/// The lines of `text`, numbered from 1. A line ending (`\n`, or `\r\n`) after the last line is
/// optional and does not start another line; `Line::terminated` tells whether the last line had
/// one. Empty lines are yielded (with empty `text`) for the caller to reject.
pub(crate) fn lines(text: &str) -> Lines<'_> {
    let (body, ends_with_newline) = match text.strip_suffix('\n') {
        Some(body) => (body, true),
        None => (text, false),
    };
    Lines { rest: (!text.is_empty()).then_some(body), number: 0, ends_with_newline }
}

/// Iterator over the numbered lines of a text; see [`lines`].
#[derive(Debug, Clone)]
pub(crate) struct Lines<'a> {
    /// The text not yet yielded, without the file's final line ending; `None` when done.
    rest: Option<&'a str>,
    /// Number of the line yielded last.
    number: usize,
    /// Whether the text ended with a line ending.
    ends_with_newline: bool,
}

impl<'a> Iterator for Lines<'a> {
    type Item = Line<'a>;

    fn next(&mut self) -> Option<Line<'a>> {
        let rest = self.rest?;
        let (raw, terminated) = match cut_at(rest, b'\n') {
            (raw, Some(after)) => {
                self.rest = Some(after);
                (raw, true)
            }
            (raw, None) => {
                self.rest = None;
                (raw, self.ends_with_newline)
            }
        };
        self.number += 1;
        Some(Line { number: self.number, text: raw.strip_suffix('\r').unwrap_or(raw), terminated })
    }
}

/// Splits `text` at the first `separator` (an ASCII byte): the text before it, and the text after
/// it if there was one.
#[inline]
fn cut_at(text: &str, separator: u8) -> (&str, Option<&str>) {
    match find_byte(text.as_bytes(), separator) {
        // `at` indexes an ASCII byte, so both cuts fall on char boundaries and `get` succeeds.
        Some(at) => (text.get(..at).unwrap_or_default(), text.get(at + 1..)),
        None => (text, None),
    }
}

/// Index of the first `needle` in `haystack`, eight bytes at a time. `str::split_once(char)` goes
/// through the general char searcher, which cost a third of a kline load; a byte-at-a-time loop
/// was still the largest single cost.
#[inline]
fn find_byte(haystack: &[u8], needle: u8) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let pattern = u64::from_ne_bytes([needle; 8]);
    let mut chunks = haystack.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        // `chunks_exact(8)` yields 8-byte slices, so the conversion always succeeds.
        let word = <[u8; 8]>::try_from(chunk).map_or(0, u64::from_le_bytes) ^ pattern;
        // Bytes equal to `needle` are zero in `word`. The zero-byte test below can also flag a
        // byte above a zero byte, never below one, so the lowest flag (little-endian: first byte)
        // is exact.
        let zeros = word.wrapping_sub(ONES) & !word & HIGHS;
        if zeros != 0 {
            return Some(offset + (zeros.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    chunks.remainder().iter().position(|&byte| byte == needle).map(|at| offset + at)
}

/// An upper bound on the number of lines, for sizing a `Vec` once.
pub(crate) fn line_count_hint(text: &str) -> usize {
    // Counting into a `u8` per 255-byte chunk lets the compiler count 16 or 32 bytes per step; a
    // plain `filter().count()` widens every byte to 64 bits and cost 8% of a kline load.
    let newlines: usize = text
        .as_bytes()
        .chunks(255)
        .map(|chunk| usize::from(chunk.iter().fold(0u8, |count, &byte| count + u8::from(byte == b'\n'))))
        .sum();
    newlines + 1
}

/// Splits a line at commas into exactly `N` fields; `Err` carries the number of fields found.
#[inline]
pub(crate) fn fields<const N: usize>(line: &str) -> Result<[&str; N], usize> {
    let mut out = [""; N];
    let mut found = 0;
    let mut rest = Some(line);
    while let Some(text) = rest {
        let (field, after) = cut_at(text, b',');
        if let Some(slot) = out.get_mut(found) {
            *slot = field;
        }
        found += 1;
        rest = after;
    }
    if found == N { Ok(out) } else { Err(found) }
}

/// The message for a line with the wrong number of fields.
pub(crate) fn column_count(found: usize, expected: usize, layout: &str) -> Reason {
    format!("{found} columns, expected {expected} ({layout})")
}

// The column readers run for every field of every row: they are `#[inline]` and leave building
// a message to `#[cold]` helpers, so the happy path stays a few instructions around the parser.

/// Reads column `column` (1-based, named `name`) as a decimal.
#[inline]
pub(crate) fn decimal(text: &str, column: usize, name: &str) -> Result<Decimal, Reason> {
    parse_decimal(text).map_err(|error| not_decimal(text, column, name, error))
}

/// Reads column `column` as a price: a decimal above zero.
#[inline]
pub(crate) fn price(text: &str, column: usize, name: &str) -> Result<Decimal, Reason> {
    let value = decimal(text, column, name)?;
    // Sign and zero tests read flags only; `value > Decimal::ZERO` would compare.
    if value.is_sign_positive() && !value.is_zero() {
        Ok(value)
    } else {
        Err(bad_value(value, column, name, "is not a positive price"))
    }
}

/// Reads column `column` as an amount that may be zero but not negative (a volume).
#[inline]
pub(crate) fn amount(text: &str, column: usize, name: &str) -> Result<Decimal, Reason> {
    let value = decimal(text, column, name)?;
    if value.is_sign_negative() && !value.is_zero() {
        Err(bad_value(value, column, name, "is negative"))
    } else {
        Ok(value)
    }
}

/// Reads column `column` as an unsigned integer (a timestamp or a count).
#[inline]
pub(crate) fn unsigned(text: &str, column: usize, name: &str) -> Result<u64, Reason> {
    parse_unsigned(text).ok_or_else(|| not_unsigned(text, column, name))
}

/// The message for a field that is not a decimal.
#[cold]
fn not_decimal(text: &str, column: usize, name: &str, error: DecimalError) -> Reason {
    let what = match error {
        DecimalError::NotDecimal => "is not a decimal number",
        DecimalError::OutOfRange => "cannot be held exactly (more than 28 decimal places or 96 bits)",
    };
    format!("column {column} ({name}) {} {what}", quote(text))
}

/// The message for a decimal that breaks the column's rule.
#[cold]
fn bad_value(value: Decimal, column: usize, name: &str, what: &str) -> Reason {
    format!("column {column} ({name}) {value} {what}")
}

/// The message for a field that is not an unsigned integer.
#[cold]
fn not_unsigned(text: &str, column: usize, name: &str) -> Reason {
    format!("column {column} ({name}) {} is not a whole non-negative number", quote(text))
}

/// A field quoted for a message: escaped, and cut short if long.
pub(crate) fn quote(text: &str) -> String {
    const LIMIT: usize = 40;
    match text.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{:?}...", &text[..cut]),
        None => format!("{text:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(text: &str) -> Vec<(usize, &str, bool)> {
        lines(text).map(|line| (line.number, line.text, line.terminated)).collect()
    }

    #[test]
    fn lines_accept_lf_crlf_and_an_optional_final_ending() {
        assert_eq!(collect("a\nb\n"), [(1, "a", true), (2, "b", true)]);
        assert_eq!(collect("a\r\nb\r\n"), [(1, "a", true), (2, "b", true)]);
        assert_eq!(collect("a\nb"), [(1, "a", true), (2, "b", false)]);
        assert_eq!(collect("a\r\nb"), [(1, "a", true), (2, "b", false)]);
        assert_eq!(collect(""), []);
    }

    #[test]
    fn empty_lines_are_yielded_for_the_caller_to_reject() {
        assert_eq!(collect("a\n\nb\n"), [(1, "a", true), (2, "", true), (3, "b", true)]);
        assert_eq!(collect("a\n\n"), [(1, "a", true), (2, "", true)]);
        assert_eq!(collect("\n"), [(1, "", true)]);
    }

    #[test]
    fn find_byte_finds_the_first_match_at_any_offset() {
        for len in 0..40 {
            for at in 0..len {
                let mut bytes = vec![b'7'; len];
                bytes[at] = b',';
                if at + 9 < len {
                    bytes[at + 9] = b',';
                }
                assert_eq!(find_byte(&bytes, b','), Some(at), "len {len} at {at}");
            }
            assert_eq!(find_byte(&vec![b'7'; len], b','), None);
        }
        // Bytes one above, below and with the high bit set around the needle are not matches.
        assert_eq!(find_byte(b"\x0b\x09\x8a\xff\x00\x0b\x09\x8a\n", b'\n'), Some(8));
        assert_eq!(find_byte(b"\x01\x00\x01\x01\x01\x01\x01\x01\x01", 0), Some(1));
    }

    #[test]
    fn line_count_hint_counts_newlines_across_chunks() {
        for len in [0, 1, 254, 255, 256, 1000] {
            let text = "\n".repeat(len);
            assert_eq!(line_count_hint(&text), len + 1);
            assert_eq!(line_count_hint(&format!("a{text}b")), len + 1);
        }
    }

    #[test]
    fn fields_must_number_exactly_n() {
        assert_eq!(fields::<3>("a,b,c"), Ok(["a", "b", "c"]));
        assert_eq!(fields::<3>("a,b"), Err(2));
        assert_eq!(fields::<3>("a,b,c,d,e"), Err(5));
        assert_eq!(fields::<2>(""), Err(1));
        assert_eq!(fields::<2>("a,"), Ok(["a", ""]));
    }

    #[test]
    fn column_readers_name_the_column() {
        assert_eq!(decimal("abc", 3, "high"), Err("column 3 (high) \"abc\" is not a decimal number".into()));
        assert_eq!(price("0", 2, "open"), Err("column 2 (open) 0 is not a positive price".into()));
        assert_eq!(price("-1.5", 2, "open"), Err("column 2 (open) -1.5 is not a positive price".into()));
        assert_eq!(amount("-1", 6, "volume"), Err("column 6 (volume) -1 is negative".into()));
        assert!(amount("-0", 6, "volume").is_ok());
        assert_eq!(
            unsigned("12x", 1, "open_time"),
            Err("column 1 (open_time) \"12x\" is not a whole non-negative number".into())
        );
    }

    #[test]
    fn quotes_escape_and_shorten() {
        assert_eq!(quote("a\u{1}b"), "\"a\\u{1}b\"");
        assert_eq!(quote(&"9".repeat(100)), format!("\"{}\"...", "9".repeat(40)));
        assert_eq!(quote(&"é".repeat(50)), format!("\"{}\"...", "é".repeat(40)));
    }

    #[test]
    fn read_text_names_the_line_of_a_non_utf8_byte() {
        let path = std::env::temp_dir().join(format!("exchange-core-csv-{}.csv", std::process::id()));
        fs::write(&path, b"h\n1,2\n3,\xff4\n").unwrap();
        let error = read_text(&path).unwrap_err();
        fs::remove_file(&path).unwrap();
        assert_eq!(error.line(), Some(3));
        assert!(
            error.to_string().ends_with("line 3: byte 0xFF at position 3 of the line is not UTF-8 text"),
            "{error}"
        );

        let missing = read_text(Path::new("/nonexistent/exchange-core/x.csv")).unwrap_err();
        assert!(matches!(missing, MarketDataError::Io { .. }), "{missing:?}");
    }
}
