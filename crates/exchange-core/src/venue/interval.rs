//! `KlineInterval`: the kline intervals Binance spells `1m` ... `1M` (PROTOCOL.md §3.4), with
//! their length.

use std::fmt;
use std::str::FromStr;

/// A kline interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KlineInterval {
    /// 1 minute.
    M1,
    /// 3 minutes.
    M3,
    /// 5 minutes.
    M5,
    /// 15 minutes.
    M15,
    /// 30 minutes.
    M30,
    /// 1 hour.
    H1,
    /// 2 hours.
    H2,
    /// 4 hours.
    H4,
    /// 6 hours.
    H6,
    /// 8 hours.
    H8,
    /// 12 hours.
    H12,
    /// 1 day.
    D1,
    /// 3 days.
    D3,
    /// 1 week.
    W1,
}

/// A text that names no interval.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown kline interval {0:?}")]
pub struct UnknownInterval(pub String);

const ALL: [(KlineInterval, &str, i64); 14] = [
    (KlineInterval::M1, "1m", 60_000),
    (KlineInterval::M3, "3m", 180_000),
    (KlineInterval::M5, "5m", 300_000),
    (KlineInterval::M15, "15m", 900_000),
    (KlineInterval::M30, "30m", 1_800_000),
    (KlineInterval::H1, "1h", 3_600_000),
    (KlineInterval::H2, "2h", 7_200_000),
    (KlineInterval::H4, "4h", 14_400_000),
    (KlineInterval::H6, "6h", 21_600_000),
    (KlineInterval::H8, "8h", 28_800_000),
    (KlineInterval::H12, "12h", 43_200_000),
    (KlineInterval::D1, "1d", 86_400_000),
    (KlineInterval::D3, "3d", 259_200_000),
    (KlineInterval::W1, "1w", 604_800_000),
];

impl KlineInterval {
    /// The venue's spelling (`1h`).
    pub fn as_str(self) -> &'static str {
        ALL.iter().find(|(i, _, _)| *i == self).map_or("1m", |(_, s, _)| s)
    }

    /// Length in milliseconds.
    pub fn millis(self) -> i64 {
        ALL.iter().find(|(i, _, _)| *i == self).map_or(60_000, |(_, _, ms)| *ms)
    }
}

impl FromStr for KlineInterval {
    type Err = UnknownInterval;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ALL.iter()
            .find(|(_, s, _)| *s == text)
            .map(|(i, _, _)| *i)
            .ok_or_else(|| UnknownInterval(text.to_owned()))
    }
}

impl fmt::Display for KlineInterval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for (interval, text, ms) in ALL {
            assert_eq!(text.parse::<KlineInterval>(), Ok(interval));
            assert_eq!((interval.as_str(), interval.millis()), (text, ms));
        }
        assert!("1M".parse::<KlineInterval>().is_err());
        assert!("1H".parse::<KlineInterval>().is_err());
    }
}
