//! Market stream names and their payloads: `<symbol>@kline_<interval>`, `<symbol>@markPrice`
//! (`@1s`), `!markPrice@arr` (`@1s`), `<symbol>@aggTrade`, `<symbol>@trade`, `<symbol>@bookTicker`
//! (PROTOCOL.md §4.1-4.3). Symbols are lower case in names. On the spot paths mark-price streams
//! (futures-only) resolve to the USD-M symbol; everything else resolves on the path's product.
//!
//! A kline frame goes out whenever its bar changes at the last tick of a clock batch, and always at
//! the tick that closes the bar (`x: true`); mark price, trades and book tickers go out once per
//! batch. With the clock at 3600x and one-minute ticks that is about 60 frames a second.

use serde_json::Value;

use crate::catalog::{Catalog, SymbolId, Venue};
use crate::market::feed::MarketTick;
use crate::time::Interval;
use crate::wire::streams as render;

/// What a stream carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Klines of an interval.
    Kline(Interval),
    /// One symbol's mark price.
    MarkPrice,
    /// Every symbol's mark price.
    MarkPriceAll,
    /// Aggregate trades.
    AggTrade,
    /// Trades.
    Trade,
    /// Best bid and ask.
    BookTicker,
}

/// A parsed stream subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    /// The name as subscribed.
    pub name: String,
    /// The symbol (none for `!markPrice@arr`).
    pub symbol: Option<SymbolId>,
    /// What it carries.
    pub kind: Kind,
}

/// Parses a stream name for a connection on `venue`; `None` for unknown streams or symbols.
pub fn parse(name: &str, catalog: &Catalog, venue: Venue) -> Option<Stream> {
    let stream = |symbol, kind| Some(Stream { name: name.to_owned(), symbol, kind });
    if name == "!markPrice@arr" || name == "!markPrice@arr@1s" {
        return stream(None, Kind::MarkPriceAll);
    }
    let (symbol, rest) = name.split_once('@')?;
    let kind = match rest {
        "markPrice" | "markPrice@1s" => Kind::MarkPrice,
        "aggTrade" => Kind::AggTrade,
        "trade" => Kind::Trade,
        "bookTicker" => Kind::BookTicker,
        other => Kind::Kline(Interval::parse(other.strip_prefix("kline_")?)?),
    };
    if symbol.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let venue = if kind == Kind::MarkPrice { Venue::Futures } else { venue };
    let spec = catalog.find(venue, &symbol.to_ascii_uppercase())?;
    stream(Some(spec.id), kind)
}

/// The payload of `stream` for `tick`, if it has one.
pub fn payload(stream: &Stream, tick: &MarketTick, catalog: &Catalog) -> Option<Value> {
    let time = tick.time_ms;
    if stream.kind == Kind::MarkPriceAll {
        if !tick.latest {
            return None;
        }
        let rows: Vec<Value> = tick
            .symbols
            .iter()
            .filter(|f| catalog.get(f.id).venue == Venue::Futures)
            .map(|f| render::mark_price(catalog.get(f.id), f, time))
            .collect();
        return Some(Value::Array(rows));
    }
    let feed = tick.symbols.iter().find(|f| Some(f.id) == stream.symbol)?;
    let spec = catalog.get(feed.id);
    match stream.kind {
        Kind::Kline(interval) => {
            let (_, bar, closed) = feed.klines.iter().find(|(i, ..)| *i == interval)?;
            Some(render::kline(spec, interval, bar, *closed, time))
        }
        _ if !tick.latest => None,
        Kind::MarkPrice => Some(render::mark_price(spec, feed, time)),
        Kind::AggTrade => Some(render::agg_trade(spec, feed, time)),
        Kind::Trade => Some(render::trade(spec, feed, time)),
        Kind::BookTicker => Some(render::book_ticker(spec, feed, time)),
        Kind::MarkPriceAll => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stream_names() {
        let catalog = Catalog::builtin().unwrap();
        let spot_btc = catalog.find(Venue::Spot, "BTCUSDT").unwrap().id;
        let fut_btc = catalog.find(Venue::Futures, "BTCUSDT").unwrap().id;
        let k = parse("btcusdt@kline_1h", &catalog, Venue::Spot).unwrap();
        assert_eq!((k.symbol, k.kind), (Some(spot_btc), Kind::Kline(Interval::H1)));
        assert_eq!(parse("btcusdt@kline_1h", &catalog, Venue::Futures).unwrap().symbol, Some(fut_btc));
        assert_eq!(
            parse("btcusdt@markPrice@1s", &catalog, Venue::Spot).unwrap().symbol,
            Some(fut_btc),
            "futures-only stream"
        );
        assert_eq!(parse("!markPrice@arr", &catalog, Venue::Futures).unwrap().kind, Kind::MarkPriceAll);
        for bad in [
            "btcusdt@kline_7m",
            "BTCUSDT@kline_1h",
            "xrpusdt@markPrice",
            "btcusdt",
            "nope@trade",
            "btcusdt@depth",
        ] {
            assert!(parse(bad, &catalog, Venue::Spot).is_none(), "{bad}");
        }
    }
}
