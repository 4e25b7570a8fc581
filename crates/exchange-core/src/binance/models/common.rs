//! Payloads shared by spot and USD-M: server time, the error body, rate limits, symbol filters,
//! kline rows, the price ticker, the listenKey answer.

use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, SeqAccess, Visitor};

use super::de::{decimal, opt_decimal, opt_int_or_string};

/// `GET /api/v3/time`, `GET /fapi/v1/time`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BinanceServerTime {
    /// Server time, ms.
    pub server_time: i64,
}

/// The error body `{"code":-1121,"msg":"Invalid symbol."}`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct BinanceErrorBody {
    /// Error code (negative for errors; some success answers carry `200`).
    #[serde(deserialize_with = "super::de::int_or_string")]
    pub code: i64,
    /// Message.
    #[serde(default)]
    pub msg: String,
}

/// One entry of `exchangeInfo.rateLimits`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BinanceRateLimit {
    /// `REQUEST_WEIGHT`, `ORDERS`, `RAW_REQUESTS`.
    pub rate_limit_type: String,
    /// `SECOND`, `MINUTE`, `DAY`.
    pub interval: String,
    /// Number of intervals.
    pub interval_num: u32,
    /// The limit.
    pub limit: u32,
}

/// A symbol filter; fields not used by a filter type are `None`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BinanceFilter {
    /// `PRICE_FILTER`, `LOT_SIZE`, `MARKET_LOT_SIZE`, `MIN_NOTIONAL`, `NOTIONAL`, ...
    pub filter_type: String,
    /// PRICE_FILTER.
    #[serde(default, deserialize_with = "opt_decimal")]
    pub min_price: Option<Decimal>,
    /// PRICE_FILTER.
    #[serde(default, deserialize_with = "opt_decimal")]
    pub max_price: Option<Decimal>,
    /// PRICE_FILTER.
    #[serde(default, deserialize_with = "opt_decimal")]
    pub tick_size: Option<Decimal>,
    /// LOT_SIZE, MARKET_LOT_SIZE.
    #[serde(default, deserialize_with = "opt_decimal")]
    pub min_qty: Option<Decimal>,
    /// LOT_SIZE, MARKET_LOT_SIZE.
    #[serde(default, deserialize_with = "opt_decimal")]
    pub max_qty: Option<Decimal>,
    /// LOT_SIZE, MARKET_LOT_SIZE.
    #[serde(default, deserialize_with = "opt_decimal")]
    pub step_size: Option<Decimal>,
    /// Spot MIN_NOTIONAL / NOTIONAL.
    #[serde(default, deserialize_with = "opt_decimal")]
    pub min_notional: Option<Decimal>,
    /// USD-M MIN_NOTIONAL.
    #[serde(default, deserialize_with = "opt_decimal")]
    pub notional: Option<Decimal>,
}

/// A kline row (PROTOCOL.md §3.4): `[openTime, open, high, low, close, volume, closeTime, ...]`.
/// Only the first seven entries are read; the rest are skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinanceKline {
    /// Open time, ms.
    pub open_time: i64,
    /// Open.
    pub open: Decimal,
    /// High.
    pub high: Decimal,
    /// Low.
    pub low: Decimal,
    /// Close.
    pub close: Decimal,
    /// Base volume.
    pub volume: Decimal,
    /// Close time, ms.
    pub close_time: i64,
}

/// Deserializes one decimal string element of a kline row.
struct Dec(Decimal);

impl<'de> Deserialize<'de> for Dec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        decimal(d).map(Dec)
    }
}

struct KlineVisitor;

impl<'de> Visitor<'de> for KlineVisitor {
    type Value = BinanceKline;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a kline array of at least 7 elements")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        use serde::de::Error;
        let missing = |i: usize| A::Error::invalid_length(i, &"a kline array of at least 7 elements");
        let open_time: i64 = seq.next_element()?.ok_or_else(|| missing(0))?;
        let Dec(open) = seq.next_element()?.ok_or_else(|| missing(1))?;
        let Dec(high) = seq.next_element()?.ok_or_else(|| missing(2))?;
        let Dec(low) = seq.next_element()?.ok_or_else(|| missing(3))?;
        let Dec(close) = seq.next_element()?.ok_or_else(|| missing(4))?;
        let Dec(volume) = seq.next_element()?.ok_or_else(|| missing(5))?;
        let close_time: i64 = seq.next_element()?.ok_or_else(|| missing(6))?;
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(BinanceKline { open_time, open, high, low, close, volume, close_time })
    }
}

impl<'de> Deserialize<'de> for BinanceKline {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(KlineVisitor)
    }
}

/// `GET /api/v3/ticker/price`, `GET /fapi/v2/ticker/price`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct BinanceTickerPrice {
    /// Symbol.
    pub symbol: String,
    /// Last price.
    #[serde(deserialize_with = "decimal")]
    pub price: Decimal,
    /// Transaction time (USD-M only).
    #[serde(default, deserialize_with = "opt_int_or_string")]
    pub time: Option<i64>,
}

/// `POST/PUT /fapi/v1/listenKey`.
#[derive(Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BinanceListenKey {
    /// The key (a bearer credential for the stream: not logged).
    pub listen_key: String,
}

impl std::fmt::Debug for BinanceListenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BinanceListenKey([REDACTED])")
    }
}

/// `{"code":200,"msg":"success"}` answers (margin type, cancel algo).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct BinanceCodeMsg {
    /// `200` (number or string).
    #[serde(default, deserialize_with = "opt_int_or_string")]
    pub code: Option<i64>,
    /// `success`.
    #[serde(default)]
    pub msg: String,
}
