//! UTC calendar arithmetic on event time (ms since the Unix epoch): `YYYY-MM-DD` dates, on top
//! of risk-core's day numbers (re-exported here). Pure; no clock is read here.

use exchange_core::calendar::{civil_from_days, days_from_civil, days_in_month};
pub use risk_core::day::{MS_PER_DAY as DAY_MS, utc_day};

/// A `YYYY-MM-DD` text that is not a real calendar date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a date of the form YYYY-MM-DD")]
pub struct InvalidDate {
    /// The text as given.
    pub text: String,
}

/// The instant 00:00:00 UTC of a `YYYY-MM-DD` date, in ms.
///
/// # Errors
/// When the text is not four digits, `-`, two digits, `-`, two digits, or names a day that does
/// not exist (2025-02-29, 2024-13-01).
pub fn parse_date_ms(text: &str) -> Result<i64, InvalidDate> {
    let bad = || InvalidDate { text: text.to_owned() };
    let b = text.as_bytes();
    let shape_ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape_ok {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| text[r].parse::<i64>().map_err(|_| bad());
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=days_in_month(year, month)).contains(&day) {
        return Err(bad());
    }
    Ok(days_from_civil(year, month, day) * DAY_MS)
}

/// `YYYY-MM-DD HH:MM` (UTC) of an instant, for human output.
pub fn format_utc_minute(time_ms: i64) -> String {
    let (y, m, d) = civil_from_days(utc_day(time_ms));
    let in_day = time_ms.rem_euclid(DAY_MS) / 60_000;
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}", in_day / 60, in_day % 60)
}

/// `YYYY-MM-DD` (UTC) of an instant.
pub fn format_utc_date(time_ms: i64) -> String {
    let (y, m, d) = civil_from_days(utc_day(time_ms));
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dates() {
        let cases = [
            ("1970-01-01", 0),
            ("2024-01-01", 1_704_067_200_000),
            ("2024-02-29", 1_709_164_800_000),
            ("2019-09-08", 1_567_900_800_000),
            ("2000-03-01", 951_868_800_000),
        ];
        for (text, want) in cases {
            assert_eq!(parse_date_ms(text), Ok(want), "{text}");
            assert_eq!(format_utc_date(want), text);
        }
    }

    #[test]
    fn rejects_non_dates() {
        for text in [
            "2025-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-04-31",
            "24-01-01",
            "2024/01/01",
            "",
            "2024-1-01x",
        ] {
            assert!(parse_date_ms(text).is_err(), "{text}");
        }
    }

    #[test]
    fn formats_minutes_and_days() {
        assert_eq!(format_utc_minute(1_567_962_000_000), "2019-09-08 17:00");
        assert_eq!(utc_day(-1), -1);
        assert_eq!(utc_day(DAY_MS), 1);
    }
}
