//! `Symbol`: a venue's instrument name, validated once at the boundary.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An instrument name as the venue spells it (`BTCUSDT`): 1 to 32 characters of
/// `[A-Z0-9_.-]`. Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Symbol(Arc<str>);

/// A text that is not a valid symbol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("symbol {text:?} is invalid: expected 1 to 32 characters of A-Z, 0-9, '_', '.', '-'")]
pub struct InvalidSymbol {
    /// The text as given.
    pub text: String,
}

impl Symbol {
    /// Validates and wraps a symbol.
    ///
    /// # Errors
    /// When `text` is empty, longer than 32 characters, or holds anything but upper-case
    /// letters, digits, `_`, `.` or `-`.
    pub fn new(text: &str) -> Result<Self, InvalidSymbol> {
        let ok = !text.is_empty()
            && text.len() <= 32
            && text.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b"_.-".contains(&b));
        if ok { Ok(Self(Arc::from(text))) } else { Err(InvalidSymbol { text: text.to_owned() }) }
    }

    /// The symbol text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The lower-case form used in Binance stream names (`btcusdt@kline_1h`).
    pub fn to_lowercase(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl FromStr for Symbol {
    type Err = InvalidSymbol;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::new(text)
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Symbol {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for Symbol {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Symbol {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::new(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_venue_symbols() {
        for s in ["BTCUSDT", "1000PEPEUSDT", "BTCUSDT_260327", "BTC-PERP"] {
            assert_eq!(Symbol::new(s).unwrap().as_str(), s);
        }
    }

    #[test]
    fn rejects_bad_symbols() {
        for s in ["", "btcusdt", "BTC USDT", "BTC/USDT", &"A".repeat(33)] {
            assert!(Symbol::new(s).is_err(), "{s:?}");
        }
    }

    #[test]
    fn round_trips_through_json() {
        let s = Symbol::new("ETHUSDT").unwrap();
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, "\"ETHUSDT\"");
        assert_eq!(serde_json::from_str::<Symbol>(&json).unwrap(), s);
        assert!(serde_json::from_str::<Symbol>("\"eth\"").is_err());
    }
}
