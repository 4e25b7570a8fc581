//! Market-data answers: exchangeInfo for spot and USD-M (with every filter), klines, ticker
//! prices, 24-hour tickers, book tickers and a synthetic depth, premiumIndex, funding history and
//! leverage brackets.

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{fixed, money, plain, price, qty};
use crate::catalog::{Catalog, SymbolSpec, Venue};
use crate::config::LimitConfig;
use crate::engine::Engine;
use crate::engine::book::FundingRecord;
use crate::market::Market;
use crate::market::series::{Kline, KlineQuery};
use crate::time::Interval;

fn spot_filters(spec: &SymbolSpec) -> Value {
    json!([
        {"filterType": "PRICE_FILTER", "minPrice": money(spec.min_price), "maxPrice": money(spec.max_price), "tickSize": money(spec.tick)},
        {"filterType": "LOT_SIZE", "minQty": money(spec.min_qty), "maxQty": money(spec.max_qty), "stepSize": money(spec.step)},
        {"filterType": "ICEBERG_PARTS", "limit": 10},
        {"filterType": "MARKET_LOT_SIZE", "minQty": money(Decimal::ZERO), "maxQty": money(spec.market_max_qty), "stepSize": money(Decimal::ZERO)},
        {"filterType": "TRAILING_DELTA", "minTrailingAboveDelta": 10, "maxTrailingAboveDelta": 2000, "minTrailingBelowDelta": 10, "maxTrailingBelowDelta": 2000},
        {"filterType": "PERCENT_PRICE_BY_SIDE", "bidMultiplierUp": "5", "bidMultiplierDown": "0.2", "askMultiplierUp": "5", "askMultiplierDown": "0.2", "avgPriceMins": 5},
        {"filterType": "NOTIONAL", "minNotional": money(spec.min_notional), "applyMinToMarket": true, "maxNotional": "9000000.00000000", "applyMaxToMarket": false, "avgPriceMins": 5},
        {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
        {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5},
    ])
}

/// `/api/v3/exchangeInfo`, for `only` symbols if given.
pub fn spot_exchange_info(
    catalog: &Catalog,
    limits: &LimitConfig,
    server_time: i64,
    only: Option<&[String]>,
) -> Value {
    let symbols: Vec<Value> = catalog
        .of_venue(Venue::Spot)
        .filter(|s| only.is_none_or(|names| names.iter().any(|n| n == s.symbol.as_str())))
        .map(|spec| {
            json!({
                "symbol": spec.symbol.as_str(),
                "status": "TRADING",
                "baseAsset": spec.base,
                "baseAssetPrecision": 8,
                "quoteAsset": spec.quote,
                "quotePrecision": 8,
                "quoteAssetPrecision": 8,
                "baseCommissionPrecision": 8,
                "quoteCommissionPrecision": 8,
                "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"],
                "icebergAllowed": false,
                "ocoAllowed": false,
                "otoAllowed": false,
                "quoteOrderQtyMarketAllowed": true,
                "allowTrailingStop": true,
                "cancelReplaceAllowed": false,
                "amendAllowed": false,
                "isSpotTradingAllowed": true,
                "isMarginTradingAllowed": false,
                "filters": spot_filters(spec),
                "permissions": [],
                "permissionSets": [["SPOT"]],
                "defaultSelfTradePreventionMode": "NONE",
                "allowedSelfTradePreventionModes": ["NONE"],
            })
        })
        .collect();
    json!({
        "timezone": "UTC",
        "serverTime": server_time,
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": limits.spot_weight_per_minute},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": limits.orders_per_10s},
            {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": limits.orders_per_minute},
        ],
        "exchangeFilters": [],
        "symbols": symbols,
    })
}

/// `/fapi/v1/exchangeInfo`.
pub fn futures_exchange_info(catalog: &Catalog, limits: &LimitConfig, server_time: i64) -> Value {
    let symbols: Vec<Value> = catalog
        .of_venue(Venue::Futures)
        .map(|spec| {
            json!({
                "symbol": spec.symbol.as_str(),
                "pair": spec.symbol.as_str(),
                "contractType": "PERPETUAL",
                "deliveryDate": 4_133_404_800_000_i64,
                "onboardDate": 1_569_398_400_000_i64,
                "status": "TRADING",
                "maintMarginPercent": "2.5000",
                "requiredMarginPercent": "5.0000",
                "baseAsset": spec.base,
                "quoteAsset": spec.quote,
                "marginAsset": "USDT",
                "pricePrecision": spec.price_precision,
                "quantityPrecision": spec.qty_precision,
                "baseAssetPrecision": 8,
                "quotePrecision": 8,
                "underlyingType": "COIN",
                "underlyingSubType": [],
                "settlePlan": 0,
                "triggerProtect": "0.0500",
                "liquidationFee": "0.012500",
                "marketTakeBound": "0.05",
                "maxMoveOrderLimit": 10000,
                "filters": [
                    {"filterType": "PRICE_FILTER", "minPrice": spec.min_price.to_string(), "maxPrice": spec.max_price.to_string(), "tickSize": spec.tick.to_string()},
                    {"filterType": "LOT_SIZE", "stepSize": spec.step.to_string(), "maxQty": spec.max_qty.to_string(), "minQty": spec.min_qty.to_string()},
                    {"filterType": "MARKET_LOT_SIZE", "stepSize": spec.step.to_string(), "maxQty": spec.market_max_qty.to_string(), "minQty": spec.min_qty.to_string()},
                    {"filterType": "MAX_NUM_ORDERS", "limit": 200},
                    {"filterType": "MIN_NOTIONAL", "notional": spec.min_notional.to_string()},
                    {"filterType": "PERCENT_PRICE", "multiplierUp": "1.0500", "multiplierDown": "0.9500", "multiplierDecimal": "4"},
                ],
                "orderTypes": ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"],
                "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
            })
        })
        .collect();
    json!({
        "timezone": "UTC",
        "serverTime": server_time,
        "futuresType": "U_MARGINED",
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": limits.futures_weight_per_minute},
            {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": limits.orders_per_minute},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": limits.orders_per_10s},
        ],
        "exchangeFilters": [],
        "assets": [{"asset": "USDT", "marginAvailable": true, "autoAssetExchange": "-10000"}],
        "symbols": symbols,
    })
}

/// One kline row in Binance's 12-element array layout (PROTOCOL.md §3.4).
pub fn kline_row(spec: &SymbolSpec, interval: Interval, k: &Kline) -> Value {
    let p = |t: i64| price(spec, spec.price_of_ticks(t));
    let volume = spec.step * Decimal::from(k.volume);
    let quote = Decimal::new(k.quote_volume_e4, 4);
    let half = |d: Decimal| (d / Decimal::TWO).round_dp(8);
    json!([
        k.open_time,
        p(k.open),
        p(k.high),
        p(k.low),
        p(k.close),
        qty(spec, volume),
        k.open_time + interval.ms() - 1,
        money(quote),
        k.trades,
        qty(spec, half(volume)),
        money(half(quote)),
        "0",
    ])
}

/// Klines of `spec` for `query`.
pub fn klines(market: &Market, spec: &SymbolSpec, query: &KlineQuery) -> Value {
    let bars = market.series(spec.id).map(|s| s.query_at(query, market.time_ms())).unwrap_or_default();
    Value::Array(bars.iter().map(|k| kline_row(spec, query.interval, k)).collect())
}

/// `{"symbol","price"}` (`with_time` adds `time`, as USD-M does).
pub fn ticker_price(market: &Market, spec: &SymbolSpec, with_time: bool, time: i64) -> Value {
    let mut value = json!({"symbol": spec.symbol.as_str(), "price": price(spec, market.last(spec.id))});
    if with_time && let Some(map) = value.as_object_mut() {
        map.insert("time".into(), json!(time));
    }
    value
}

/// Synthetic best bid and ask one tick around the last price, with a quantity worth ~50,000 USDT.
fn book_levels(market: &Market, spec: &SymbolSpec) -> (Decimal, Decimal, Decimal) {
    let last = market.last(spec.id);
    let size = if last.is_zero() { spec.min_qty } else { Decimal::from(50_000) / last };
    let size = (size - size % spec.step).max(spec.min_qty);
    ((last - spec.tick).max(spec.tick), last + spec.tick, size)
}

/// `/api/v3/ticker/bookTicker` and `/fapi/v1/ticker/bookTicker` rows.
pub fn book_ticker(market: &Market, spec: &SymbolSpec, time: i64) -> Value {
    let (bid, ask, size) = book_levels(market, spec);
    let mut value = json!({
        "symbol": spec.symbol.as_str(),
        "bidPrice": price(spec, bid),
        "bidQty": qty(spec, size),
        "askPrice": price(spec, ask),
        "askQty": qty(spec, size),
    });
    if spec.venue == Venue::Futures
        && let Some(map) = value.as_object_mut()
    {
        map.insert("time".into(), json!(time));
        map.insert("lastUpdateId".into(), json!(time));
    }
    value
}

/// A synthetic order book of `limit` levels per side, one tick apart.
pub fn depth(market: &Market, spec: &SymbolSpec, limit: usize, time: i64) -> Value {
    let (bid, ask, size) = book_levels(market, spec);
    let level = |p: Decimal| json!([price(spec, p), qty(spec, size)]);
    let bids: Vec<Value> = (0..limit).map(|i| level(bid - spec.tick * Decimal::from(i))).collect();
    let asks: Vec<Value> = (0..limit).map(|i| level(ask + spec.tick * Decimal::from(i))).collect();
    let mut value = json!({"lastUpdateId": time, "bids": bids, "asks": asks});
    if spec.venue == Venue::Futures
        && let Some(map) = value.as_object_mut()
    {
        map.insert("E".into(), json!(time));
        map.insert("T".into(), json!(time));
    }
    value
}

/// The 24-hour rolling statistics of `spec` ending at the latest tick.
pub fn ticker_24h(market: &Market, spec: &SymbolSpec) -> Value {
    let query = KlineQuery { interval: Interval::M1, start: None, end: None, limit: 1440 };
    let bars = market.series(spec.id).map(|s| s.query(&query)).unwrap_or_default();
    let (first, last_bar) =
        (bars.first().copied().unwrap_or_default(), bars.last().copied().unwrap_or_default());
    let p = |t: i64| spec.price_of_ticks(t);
    let last = market.last(spec.id);
    let open = p(first.open);
    let high = bars.iter().map(|k| k.high).max().map_or(last, p);
    let low = bars.iter().map(|k| k.low).min().map_or(last, p);
    let volume = spec.step * Decimal::from(bars.iter().map(|k| k.volume).sum::<i64>());
    let quote = Decimal::new(bars.iter().map(|k| k.quote_volume_e4).sum::<i64>(), 4);
    let change = last - open;
    let pct = if open.is_zero() { Decimal::ZERO } else { (change / open * Decimal::ONE_HUNDRED).round_dp(3) };
    let vwap = if volume.is_zero() { last } else { quote / volume };
    let (bid, ask, size) = book_levels(market, spec);
    let count: u64 = bars.iter().map(|k| u64::from(k.trades)).sum();
    json!({
        "symbol": spec.symbol.as_str(),
        "priceChange": price(spec, change),
        "priceChangePercent": fixed(pct, 3),
        "weightedAvgPrice": price(spec, vwap.round_dp(8)),
        "prevClosePrice": price(spec, open),
        "lastPrice": price(spec, last),
        "lastQty": qty(spec, spec.min_qty),
        "bidPrice": price(spec, bid),
        "bidQty": qty(spec, size),
        "askPrice": price(spec, ask),
        "askQty": qty(spec, size),
        "openPrice": price(spec, open),
        "highPrice": price(spec, high),
        "lowPrice": price(spec, low),
        "volume": qty(spec, volume),
        "quoteVolume": money(quote),
        "openTime": first.open_time,
        "closeTime": last_bar.open_time + 59_999,
        "firstId": 1,
        "lastId": count,
        "count": count,
    })
}

/// `/fapi/v1/premiumIndex` of one symbol.
pub fn premium_index(engine: &Engine, spec: &SymbolSpec) -> Value {
    let market = engine.market();
    let now = engine.now();
    json!({
        "symbol": spec.symbol.as_str(),
        "markPrice": money(market.mark(spec.id)),
        "indexPrice": money(market.index(spec.id)),
        "estimatedSettlePrice": money(market.index(spec.id)),
        "lastFundingRate": money(market.funding_rate(spec.id)),
        "interestRate": "0.00010000",
        "nextFundingTime": Market::next_funding_time(now),
        "time": now,
    })
}

/// `/fapi/v1/fundingRate` rows.
pub fn funding_rates<'a>(catalog: &Catalog, records: impl Iterator<Item = &'a FundingRecord>) -> Value {
    Value::Array(
        records
            .map(|r| {
                json!({
                    "symbol": catalog.get(r.symbol).symbol.as_str(),
                    "fundingRate": money(r.rate),
                    "fundingTime": r.time,
                    "markPrice": money(r.mark),
                })
            })
            .collect(),
    )
}

/// `/fapi/v1/leverageBracket` entry of one symbol.
pub fn leverage_bracket(spec: &SymbolSpec) -> Value {
    let brackets: Vec<Value> = spec
        .brackets
        .iter()
        .zip(&spec.bracket_leverages)
        .enumerate()
        .map(|(i, (b, lev))| {
            json!({
                "bracket": i + 1,
                "initialLeverage": lev,
                "notionalCap": b.notional_cap.to_string().parse::<f64>().unwrap_or(0.0),
                "notionalFloor": b.notional_floor.to_string().parse::<f64>().unwrap_or(0.0),
                "maintMarginRatio": plain(b.mmr).parse::<f64>().unwrap_or(0.0),
                "cum": plain(b.cum).parse::<f64>().unwrap_or(0.0),
            })
        })
        .collect();
    json!({"symbol": spec.symbol.as_str(), "notionalCoef": 1.0, "brackets": brackets})
}
