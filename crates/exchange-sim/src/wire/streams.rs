//! Market stream payloads (PROTOCOL.md §4.2-4.3): `kline`, `markPriceUpdate` (and the
//! `!markPrice@arr` array), `aggTrade`, `trade` and `bookTicker`, built from a market tick. One
//! synthetic trade per tick at the last price carries the tick's volume.

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{money, price, qty};
use crate::catalog::{SymbolSpec, Venue};
use crate::market::feed::SymbolFeed;
use crate::market::{Market, series::Kline};
use crate::time::Interval;

/// A `kline` event.
pub fn kline(spec: &SymbolSpec, interval: Interval, k: &Kline, closed: bool, time: i64) -> Value {
    let p = |t: i64| price(spec, spec.price_of_ticks(t));
    let volume = spec.step * Decimal::from(k.volume);
    let quote = Decimal::new(k.quote_volume_e4, 4);
    json!({
        "e": "kline",
        "E": time,
        "s": spec.symbol.as_str(),
        "k": {
            "t": k.open_time,
            "T": k.open_time + interval.ms() - 1,
            "s": spec.symbol.as_str(),
            "i": interval.as_str(),
            "f": 1,
            "L": k.trades,
            "o": p(k.open),
            "c": p(k.close),
            "h": p(k.high),
            "l": p(k.low),
            "v": qty(spec, volume),
            "n": k.trades,
            "x": closed,
            "q": money(quote),
            "V": qty(spec, (volume / Decimal::TWO).round_dp(8)),
            "Q": money((quote / Decimal::TWO).round_dp(8)),
            "B": "0",
        }
    })
}

/// A `markPriceUpdate` event.
pub fn mark_price(spec: &SymbolSpec, feed: &SymbolFeed, time: i64) -> Value {
    let mark = spec.price_of_ticks(feed.mark);
    json!({
        "e": "markPriceUpdate",
        "E": time,
        "s": spec.symbol.as_str(),
        "p": money(mark),
        "ap": money(mark),
        "i": money(spec.price_of_ticks(feed.index)),
        "P": money(spec.price_of_ticks(feed.index)),
        "r": money(feed.funding_rate),
        "T": Market::next_funding_time(time),
    })
}

/// An `aggTrade` event for the tick's synthetic trade.
pub fn agg_trade(spec: &SymbolSpec, feed: &SymbolFeed, time: i64) -> Value {
    json!({
        "e": "aggTrade",
        "E": time,
        "s": spec.symbol.as_str(),
        "a": feed.last_trade_id,
        "p": price(spec, spec.price_of_ticks(feed.last)),
        "q": qty(spec, spec.min_qty),
        "f": feed.last_trade_id,
        "l": feed.last_trade_id,
        "T": time,
        "m": false,
    })
}

/// A `trade` event for the tick's synthetic trade.
pub fn trade(spec: &SymbolSpec, feed: &SymbolFeed, time: i64) -> Value {
    json!({
        "e": "trade",
        "E": time,
        "s": spec.symbol.as_str(),
        "t": feed.last_trade_id,
        "p": price(spec, spec.price_of_ticks(feed.last)),
        "q": qty(spec, spec.min_qty),
        "T": time,
        "m": false,
        "M": true,
    })
}

/// A `bookTicker` event: one tick either side of the last price.
pub fn book_ticker(spec: &SymbolSpec, feed: &SymbolFeed, time: i64) -> Value {
    let last = spec.price_of_ticks(feed.last);
    let size = if last.is_zero() { spec.min_qty } else { Decimal::from(50_000) / last };
    let size = (size - size % spec.step).max(spec.min_qty);
    let mut value = json!({
        "u": time,
        "s": spec.symbol.as_str(),
        "b": price(spec, (last - spec.tick).max(spec.tick)),
        "B": qty(spec, size),
        "a": price(spec, last + spec.tick),
        "A": qty(spec, size),
    });
    if spec.venue == Venue::Futures
        && let Some(map) = value.as_object_mut()
    {
        map.insert("e".into(), json!("bookTicker"));
        map.insert("E".into(), json!(time));
        map.insert("T".into(), json!(time));
    }
    value
}
