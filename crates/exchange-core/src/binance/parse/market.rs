//! `Bar`, `KlineUpdate` and `MarkPrice` from Binance market payloads, and whole market frames
//! (PROTOCOL.md §3.4, §4.2, §4.3).
//!
//! Venue facts: combined streams wrap each payload as `{"stream":"<name>","data":<payload>}`;
//! a kline event's `k.x` says whether the bar is closed; subscription answers look like
//! `{"result":null,"id":1}`. Other event types on these sockets are skipped.

use rust_decimal::Decimal;

use super::{from_json, invalid, symbol};
use crate::binance::models::{
    BinanceCombined, BinanceKline, BinanceKlineEvent, BinanceMarkPriceEvent, BinancePremiumIndex,
};
use crate::model::{Bar, Price};
use crate::venue::{KlineInterval, KlineUpdate, MarkPrice, MarketEvent, VenueError};

/// The event type (`"e"`) of a raw or combined frame, found without parsing the frame: the
/// first `"e"` key's string value.
pub fn event_type(text: &str) -> Option<&str> {
    let at = text.find("\"e\"")?;
    let rest = text[at + 3..].trim_start().strip_prefix(':')?.trim_start().strip_prefix('"')?;
    rest.find('"').map(|end| &rest[..end])
}

/// A REST kline row as a [`Bar`].
pub fn parse_kline_row(k: &BinanceKline) -> Bar {
    Bar {
        open_time_ms: k.open_time,
        open: Price::new(k.open),
        high: Price::new(k.high),
        low: Price::new(k.low),
        close: Price::new(k.close),
        volume: k.volume,
    }
}

/// A kline event as a [`KlineUpdate`].
///
/// # Errors
/// [`VenueError::Decode`] for an invalid symbol or interval.
pub fn parse_kline_event(e: &BinanceKlineEvent<'_>) -> Result<KlineUpdate, VenueError> {
    let k = &e.kline;
    let interval: KlineInterval = k.interval.parse().map_err(|_| invalid("kline interval", k.interval))?;
    Ok(KlineUpdate {
        symbol: symbol(e.symbol)?,
        interval,
        bar: Bar {
            open_time_ms: k.open_time,
            open: Price::new(k.open),
            high: Price::new(k.high),
            low: Price::new(k.low),
            close: Price::new(k.close),
            volume: k.volume,
        },
        closed: k.closed,
        time_exchange: e.event_time,
    })
}

/// One kline WebSocket frame, raw or combined, straight to a [`KlineUpdate`] (the hot path).
///
/// # Errors
/// [`VenueError::Decode`] when the text is not a kline event.
pub fn parse_kline_frame(text: &str) -> Result<KlineUpdate, VenueError> {
    if super::is_combined(text) {
        let combined: BinanceCombined<BinanceKlineEvent<'_>> = from_json(text)?;
        parse_kline_event(&combined.data)
    } else {
        parse_kline_event(&from_json(text)?)
    }
}

/// A `markPriceUpdate` event.
///
/// # Errors
/// [`VenueError::Decode`] for an invalid symbol.
pub fn parse_mark_price_event(e: &BinanceMarkPriceEvent) -> Result<MarkPrice, VenueError> {
    Ok(MarkPrice {
        symbol: symbol(&e.symbol)?,
        mark_price: Price::new(e.mark_price),
        index_price: e.index_price.map(Price::new),
        funding_rate: e.funding_rate.unwrap_or(Decimal::ZERO),
        next_funding_time: e.next_funding_time.unwrap_or(0),
        time_exchange: e.event_time,
    })
}

/// `GET /fapi/v1/premiumIndex?symbol=` as a [`MarkPrice`].
///
/// # Errors
/// [`VenueError::Decode`] for an invalid symbol.
pub fn parse_premium_index(p: &BinancePremiumIndex) -> Result<MarkPrice, VenueError> {
    Ok(MarkPrice {
        symbol: symbol(&p.symbol)?,
        mark_price: Price::new(p.mark_price),
        index_price: p.index_price.map(Price::new),
        funding_rate: p.last_funding_rate.unwrap_or(Decimal::ZERO),
        next_funding_time: p.next_funding_time.unwrap_or(0),
        time_exchange: p.time.unwrap_or(0),
    })
}

fn parse_payload<'a, T: serde::Deserialize<'a>>(text: &'a str, combined: bool) -> Result<T, VenueError> {
    if combined { from_json::<BinanceCombined<T>>(text).map(|c| c.data) } else { from_json(text) }
}

/// A market-stream frame: `Ok(Some(event))` for a kline or mark price, `Ok(None)` for a
/// subscription answer or an event type this client does not use.
///
/// # Errors
/// [`VenueError::Decode`] when the frame is not JSON of a known shape.
pub fn parse_market_frame(text: &str) -> Result<Option<MarketEvent>, VenueError> {
    let combined = super::is_combined(text);
    match event_type(text) {
        Some("kline") => {
            parse_kline_event(&parse_payload(text, combined)?).map(|k| Some(MarketEvent::Kline(k)))
        }
        Some("markPriceUpdate") => {
            parse_mark_price_event(&parse_payload(text, combined)?).map(|m| Some(MarketEvent::MarkPrice(m)))
        }
        Some(_) => Ok(None),
        None if text.contains("\"result\"") && text.contains("\"id\"") => Ok(None),
        None => Err(VenueError::decode(text, "not a market event")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_type_table() {
        let cases = [
            (r#"{"e":"kline","E":1}"#, Some("kline")),
            (r#"{"stream":"x@kline_1m","data":{"e":"kline"}}"#, Some("kline")),
            ("{\n  \"e\": \"markPriceUpdate\"}", Some("markPriceUpdate")),
            (r#"{"E":1,"e":"listenKeyExpired"}"#, Some("listenKeyExpired")),
            (r#"{"result":null,"id":1}"#, None),
            ("garbage", None),
            (r#"{"e":1}"#, None),
        ];
        for (text, want) in cases {
            assert_eq!(event_type(text), want, "{text}");
        }
    }

    #[test]
    fn combined_frames_parse_in_either_key_order() {
        // Regression: exchange-sim writes `data` before `stream`; both orders are the same JSON.
        let inner = r#"{"e":"kline","E":2,"s":"BTCUSDT","k":{"t":0,"T":59999,"s":"BTCUSDT","i":"1m","o":"1","c":"2","h":"3","l":"0.5","v":"10","x":true}}"#;
        let stream_first = format!(r#"{{"stream":"btcusdt@kline_1m","data":{inner}}}"#);
        let data_first = format!(r#"{{"data":{inner},"stream":"btcusdt@kline_1m"}}"#);
        let a = parse_market_frame(&stream_first).unwrap();
        let b = parse_market_frame(&data_first).unwrap();
        assert!(matches!(&a, Some(MarketEvent::Kline(k)) if k.closed));
        assert_eq!(a, b);
        assert_eq!(parse_kline_frame(&data_first).unwrap(), parse_kline_frame(&stream_first).unwrap());
    }

    #[test]
    fn market_frames_table() {
        let kline = r#"{"stream":"btcusdt@kline_1m","data":{"e":"kline","E":2,"s":"BTCUSDT","k":{"t":0,"T":59999,"s":"BTCUSDT","i":"1m","o":"1","c":"2","h":"3","l":"0.5","v":"10","x":true}}}"#;
        assert!(matches!(parse_market_frame(kline), Ok(Some(MarketEvent::Kline(k))) if k.closed));
        assert!(matches!(parse_market_frame(r#"{"result":null,"id":7}"#), Ok(None)));
        assert!(matches!(parse_market_frame(r#"{"e":"aggTrade","E":1}"#), Ok(None)));
        for bad in [
            "not json",
            "{}",
            r#"{"e":"kline","E":1}"#,
            r#"{"e":"kline","E":1,"s":"BTCUSDT","k":{"i":"7m"}}"#,
        ] {
            assert!(parse_market_frame(bad).is_err(), "{bad}");
        }
    }
}
