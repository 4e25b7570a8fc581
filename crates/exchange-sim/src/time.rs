//! Calendar arithmetic the simulator needs without a date crate: RFC 3339 UTC timestamps to and
//! from milliseconds, and Binance's kline intervals with their alignment.
//!
//! Binance facts: interval names are case-sensitive (`1m` is a minute, `1M` a month); klines are
//! keyed by open time; a day starts at 00:00 UTC and a week on Monday 00:00 UTC (PROTOCOL.md §3.4).
//! The month interval `1M` is not simulated (it is not a fixed length); `1s` is not either.

use std::fmt;

/// Milliseconds in a minute.
pub const MINUTE_MS: i64 = 60_000;
/// Milliseconds in an hour.
pub const HOUR_MS: i64 = 3_600_000;
/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;
/// 1970-01-05 (a Monday) in ms: weeks are aligned to it.
const FIRST_MONDAY_MS: i64 = 4 * DAY_MS;

/// A kline interval the simulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Interval {
    /// `1m`
    M1,
    /// `3m`
    M3,
    /// `5m`
    M5,
    /// `15m`
    M15,
    /// `30m`
    M30,
    /// `1h`
    H1,
    /// `2h`
    H2,
    /// `4h`
    H4,
    /// `6h`
    H6,
    /// `8h`
    H8,
    /// `12h`
    H12,
    /// `1d`
    D1,
    /// `3d`
    D3,
    /// `1w`
    W1,
}

impl Interval {
    /// Every interval, shortest first.
    pub const ALL: [Interval; 14] = [
        Self::M1,
        Self::M3,
        Self::M5,
        Self::M15,
        Self::M30,
        Self::H1,
        Self::H2,
        Self::H4,
        Self::H6,
        Self::H8,
        Self::H12,
        Self::D1,
        Self::D3,
        Self::W1,
    ];

    /// Parses Binance's spelling (`1m`, `1h`, `1d`, `1w` ...); `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|interval| interval.as_str() == text)
    }

    /// Binance's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::M1 => "1m",
            Self::M3 => "3m",
            Self::M5 => "5m",
            Self::M15 => "15m",
            Self::M30 => "30m",
            Self::H1 => "1h",
            Self::H2 => "2h",
            Self::H4 => "4h",
            Self::H6 => "6h",
            Self::H8 => "8h",
            Self::H12 => "12h",
            Self::D1 => "1d",
            Self::D3 => "3d",
            Self::W1 => "1w",
        }
    }

    /// Length in ms.
    pub fn ms(self) -> i64 {
        match self {
            Self::M1 => MINUTE_MS,
            Self::M3 => 3 * MINUTE_MS,
            Self::M5 => 5 * MINUTE_MS,
            Self::M15 => 15 * MINUTE_MS,
            Self::M30 => 30 * MINUTE_MS,
            Self::H1 => HOUR_MS,
            Self::H2 => 2 * HOUR_MS,
            Self::H4 => 4 * HOUR_MS,
            Self::H6 => 6 * HOUR_MS,
            Self::H8 => 8 * HOUR_MS,
            Self::H12 => 12 * HOUR_MS,
            Self::D1 => DAY_MS,
            Self::D3 => 3 * DAY_MS,
            Self::W1 => 7 * DAY_MS,
        }
    }

    /// Open time of the bar that contains `time_ms`.
    pub fn open_time(self, time_ms: i64) -> i64 {
        let origin = if self == Self::W1 { FIRST_MONDAY_MS } else { 0 };
        origin + (time_ms - origin).div_euclid(self.ms()) * self.ms()
    }

    /// True for intervals stored from the minute series (shorter than an hour).
    pub fn is_intraday_minutes(self) -> bool {
        self.ms() < HOUR_MS
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

use exchange_core::calendar::{civil_from_days, days_from_civil, days_in_month};

/// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS]Z` (UTC only, `Z` or `+00:00`) into ms since the
/// epoch. `None` for anything else, including impossible dates.
pub fn parse_utc(text: &str) -> Option<i64> {
    let text = text.trim();
    let (date, time) = match text.split_once(['T', ' ']) {
        Some((date, time)) => (date, Some(time)),
        None => (text, None),
    };
    let mut parts = date.splitn(3, '-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: i64 = parts.next()?.parse().ok()?;
    let day: i64 = parts.next()?.parse().ok()?;
    if !(1..=days_in_month(year, month)).contains(&day) || !(1970..=9999).contains(&year) {
        return None;
    }
    let mut ms = days_from_civil(year, month, day) * DAY_MS;
    if let Some(time) = time {
        let time = time.strip_suffix('Z').or_else(|| time.strip_suffix("+00:00"))?;
        let mut fields = time.split(':');
        let hour: i64 = fields.next()?.parse().ok()?;
        let minute: i64 = fields.next()?.parse().ok()?;
        let second: i64 = fields.next().map_or(Some(0), |s| s.parse().ok())?;
        if fields.next().is_some() || hour > 23 || minute > 59 || second > 59 || hour < 0 || minute < 0 {
            return None;
        }
        ms += hour * HOUR_MS + minute * MINUTE_MS + second * 1000;
    }
    Some(ms)
}

/// `YYYY-MM-DDTHH:MM:SSZ` of a time in ms (sub-second part dropped).
pub fn format_utc(time_ms: i64) -> String {
    let (year, month, day) = civil_from_days(time_ms.div_euclid(DAY_MS));
    let in_day = time_ms.rem_euclid(DAY_MS) / 1000;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        in_day / 3600,
        (in_day / 60) % 60,
        in_day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_utc() {
        let cases = [
            ("2026-01-01T00:00:00Z", 1_767_225_600_000),
            ("2026-01-01", 1_767_225_600_000),
            ("1970-01-01T00:00Z", 0),
            ("2024-02-29T12:30:15+00:00", 1_709_209_815_000),
        ];
        for (text, ms) in cases {
            assert_eq!(parse_utc(text), Some(ms), "{text}");
        }
        assert_eq!(format_utc(1_709_209_815_000), "2024-02-29T12:30:15Z");
        for bad in
            ["", "2026-13-01", "2026-02-30", "2025-02-29", "2026-01-01T25:00Z", "2026-01-01T00:00+01:00", "x"]
        {
            assert_eq!(parse_utc(bad), None, "{bad}");
        }
    }

    #[test]
    fn intervals_align_to_binance_boundaries() {
        let t = parse_utc("2026-01-07T13:47:12Z").unwrap();
        assert_eq!(Interval::H1.open_time(t), parse_utc("2026-01-07T13:00:00Z").unwrap());
        assert_eq!(Interval::H4.open_time(t), parse_utc("2026-01-07T12:00:00Z").unwrap());
        assert_eq!(Interval::D1.open_time(t), parse_utc("2026-01-07").unwrap());
        // 2026-01-05 is a Monday.
        assert_eq!(Interval::W1.open_time(t), parse_utc("2026-01-05").unwrap());
        assert_eq!(Interval::parse("1h"), Some(Interval::H1));
        assert_eq!(Interval::parse("1H"), None);
        assert_eq!(Interval::parse("1M"), None);
    }
}
