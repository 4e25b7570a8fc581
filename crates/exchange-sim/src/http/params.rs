//! Request parameters: the query string and the form body, percent-decoded, with Binance's
//! precedence (a parameter in the query string beats the same one in the body) and typed getters
//! that fail with Binance's codes: -1102 missing or empty, -1100 illegal characters, -1111 too much
//! precision, -1101 a parameter repeated within the query or within the body, -1121 unknown symbol.

use std::str::FromStr;

use rust_decimal::Decimal;

use crate::api_error::ApiError;
use crate::catalog::{Catalog, SymbolSpec, Venue};

/// Binance's rule for decimal parameters.
const DECIMAL_RULE: &str = "^([0-9]{1,20})(\\.[0-9]{1,20})?$";
/// Binance's rule for integer parameters.
const INT_RULE: &str = "^[0-9]{1,20}$";

/// The decoded parameters of one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

fn hex(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes form text (`+` is a space); a malformed escape is kept as it is.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                match (bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
                    (Some(hi), Some(lo)) => {
                        out.push(hi * 16 + lo);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Most parameters accepted in a query string or a body.
const MAX_PARAMS: usize = 100;

fn split(raw: &str) -> Result<Vec<(String, String)>, ApiError> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    let count = raw.split('&').filter(|p| !p.is_empty()).count();
    if count > MAX_PARAMS {
        return Err(ApiError::bad(
            -1101,
            format!("Too many parameters; expected '{MAX_PARAMS}' and received '{count}'."),
        ));
    }
    for part in raw.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = part.split_once('=').unwrap_or((part, ""));
        let (key, value) = (percent_decode(key), percent_decode(value));
        if pairs.iter().any(|(k, _)| *k == key) {
            return Err(ApiError::duplicate_param(&key));
        }
        pairs.push((key, value));
    }
    Ok(pairs)
}

impl Params {
    /// Decodes `query` and `body`; the query's value wins for a parameter sent in both.
    ///
    /// # Errors
    /// -1101 when a parameter repeats within the query or within the body.
    pub fn parse(query: &str, body: &str) -> Result<Self, ApiError> {
        let mut pairs = split(query)?;
        for (key, value) in split(body)? {
            if !pairs.iter().any(|(k, _)| *k == key) {
                pairs.push((key, value));
            }
        }
        Ok(Self { pairs })
    }

    /// Parameters from JSON-like `(name, value)` pairs (the WebSocket API).
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        Self { pairs }
    }

    /// A parameter's value, `None` when absent or empty.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }

    /// True when the parameter is present and not empty.
    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// A mandatory parameter.
    ///
    /// # Errors
    /// -1102 when absent or empty.
    pub fn required(&self, key: &str) -> Result<&str, ApiError> {
        self.get(key).ok_or_else(|| ApiError::mandatory(key))
    }

    /// The mandatory `symbol` on `venue`.
    ///
    /// # Errors
    /// -1102 when absent, -1121 when not a symbol of the venue.
    pub fn symbol<'c>(&self, catalog: &'c Catalog, venue: Venue) -> Result<&'c SymbolSpec, ApiError> {
        let name = self.required("symbol")?;
        catalog.find(venue, &name.to_ascii_uppercase()).ok_or_else(ApiError::bad_symbol)
    }

    /// The optional `symbol` on `venue`.
    ///
    /// # Errors
    /// -1121 when given but unknown.
    pub fn symbol_opt<'c>(
        &self,
        catalog: &'c Catalog,
        venue: Venue,
    ) -> Result<Option<&'c SymbolSpec>, ApiError> {
        if self.has("symbol") { self.symbol(catalog, venue).map(Some) } else { Ok(None) }
    }

    /// An optional decimal with at most `max_scale` decimals after trailing zeros are dropped
    /// (`futures` picks the USD-M wording of -1111).
    ///
    /// # Errors
    /// -1100 when it is not a plain decimal, -1111 with too many decimals.
    pub fn decimal(&self, key: &str, max_scale: u32, futures: bool) -> Result<Option<Decimal>, ApiError> {
        let Some(text) = self.get(key) else { return Ok(None) };
        let (int, frac) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        let valid = (1..=20).contains(&int.len())
            && digits(int)
            && frac.len() <= 20
            && digits(frac)
            && !(text.ends_with('.'));
        if !valid {
            return Err(ApiError::illegal_chars(key, DECIMAL_RULE));
        }
        let value = Decimal::from_str(text).map_err(|_| ApiError::illegal_chars(key, DECIMAL_RULE))?;
        if value.normalize().scale() > max_scale {
            return Err(if futures { ApiError::precision_futures() } else { ApiError::precision_spot(key) });
        }
        Ok(Some(value))
    }

    /// An optional unsigned integer.
    ///
    /// # Errors
    /// -1100 when it is not digits (or does not fit).
    pub fn int<T: FromStr>(&self, key: &str) -> Result<Option<T>, ApiError> {
        let Some(text) = self.get(key) else { return Ok(None) };
        if text.is_empty() || text.len() > 20 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::illegal_chars(key, INT_RULE));
        }
        text.parse().map(Some).map_err(|_| ApiError::illegal_chars(key, INT_RULE))
    }

    /// An optional `true`/`false` (any case).
    ///
    /// # Errors
    /// -1130 for anything else.
    pub fn boolean(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.get(key).map(str::to_ascii_lowercase).as_deref() {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(_) => Err(ApiError::invalid_param(key)),
        }
    }

    /// An optional value parsed by `parse`, failing with `err` when it does not parse.
    ///
    /// # Errors
    /// `err()` when present but not accepted by `parse`.
    pub fn choice<T>(
        &self,
        key: &str,
        parse: impl Fn(&str) -> Option<T>,
        err: impl Fn() -> ApiError,
    ) -> Result<Option<T>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(text) => parse(text).map(Some).ok_or_else(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn query_beats_body_and_decoding() {
        let p = Params::parse("symbol=BTCUSDT&price=1&note=a%20b+c", "price=2&quantity=0.5").unwrap();
        assert_eq!(p.get("price"), Some("1"));
        assert_eq!(p.get("quantity"), Some("0.5"));
        assert_eq!(p.get("note"), Some("a b c"));
        assert_eq!(Params::parse("a=1&a=2", "").unwrap_err().code, -1101);
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        let many = (0..101).map(|i| format!("p{i}=1")).collect::<Vec<_>>().join("&");
        assert_eq!(Params::parse(&many, "").unwrap_err().code, -1101);
    }

    #[test]
    fn decimals_ints_and_bools() {
        let p = Params::parse("q=0.10000000&x=1e5&y=0.123456789&z=-1&n=12&b=TRUE&w=&bad=1.2.3", "").unwrap();
        assert_eq!(p.decimal("q", 8, false).unwrap(), Some(dec!(0.1)));
        assert_eq!(p.decimal("x", 8, false).unwrap_err().code, -1100);
        assert_eq!(p.decimal("y", 8, false).unwrap_err().msg, "Parameter 'y' has too much precision.");
        assert_eq!(p.decimal("y", 8, true).unwrap_err().code, -1111);
        assert_eq!(p.decimal("z", 8, false).unwrap_err().code, -1100);
        assert_eq!(p.decimal("bad", 8, false).unwrap_err().code, -1100);
        assert_eq!(p.decimal("w", 8, false).unwrap(), None, "empty is absent");
        assert_eq!(p.int::<u64>("n").unwrap(), Some(12));
        assert_eq!(p.int::<u64>("z").unwrap_err().code, -1100);
        assert_eq!(p.boolean("b").unwrap(), Some(true));
        assert_eq!(p.required("w").unwrap_err().code, -1102);
    }
}
