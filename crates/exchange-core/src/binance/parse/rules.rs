//! `InstrumentRules` from exchangeInfo filters (PROTOCOL.md §3.2, §3.3).
//!
//! Venue facts: spot grids are anchored at zero (`price % tickSize == 0`); USD-M grids are
//! offset from the minimum (`(price - minPrice) % tickSize == 0`, `(qty - minQty) % stepSize ==
//! 0`). `InstrumentRules` rounds on a zero-anchored grid, which is the same grid when the
//! minimum is itself a multiple of the tick (every listed USD-M symbol); a symbol whose grid is
//! truly offset is refused here rather than traded on the wrong grid. USD-M `MIN_NOTIONAL`
//! carries `notional`; spot `MIN_NOTIONAL` / `NOTIONAL` carry `minNotional`. A `maxQty` of 0
//! means no maximum.

use rust_decimal::Decimal;

use super::{invalid, symbol};
use crate::binance::models::{BinanceFilter, BinanceFuturesSymbol, BinanceRateLimit, BinanceSpotSymbol};
use crate::model::{InstrumentRules, Notional, Price, Qty};
use crate::venue::VenueError;

/// Where a product's price and quantity grids start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GridAnchor {
    /// Multiples of the tick / step (spot).
    Zero,
    /// `minPrice + k * tick`, `minQty + k * step` (USD-M).
    Minimum,
}

fn filter<'a>(filters: &'a [BinanceFilter], name: &str) -> Option<&'a BinanceFilter> {
    filters.iter().find(|f| f.filter_type == name)
}

fn positive(value: Option<Decimal>) -> Option<Decimal> {
    value.filter(|v| *v > Decimal::ZERO)
}

/// Rules from `filters`, for `name`, on grids starting at `anchor`.
///
/// # Errors
/// [`VenueError::Decode`] when PRICE_FILTER or LOT_SIZE is missing or has a zero tick or step,
/// when an offset grid does not coincide with the zero-anchored one, or when the rules are
/// inconsistent.
pub fn parse_rules(
    name: &str,
    filters: &[BinanceFilter],
    anchor: GridAnchor,
) -> Result<InstrumentRules, VenueError> {
    let price = filter(filters, "PRICE_FILTER").ok_or_else(|| invalid("filters (no PRICE_FILTER)", name))?;
    let lot = filter(filters, "LOT_SIZE").ok_or_else(|| invalid("filters (no LOT_SIZE)", name))?;
    let tick = positive(price.tick_size).ok_or_else(|| invalid("PRICE_FILTER tickSize", name))?;
    let step = positive(lot.step_size).ok_or_else(|| invalid("LOT_SIZE stepSize", name))?;
    let min_qty = lot.min_qty.unwrap_or(Decimal::ZERO);
    if anchor == GridAnchor::Minimum {
        let min_price = price.min_price.unwrap_or(Decimal::ZERO);
        if !(min_price % tick).is_zero() || !(min_qty % step).is_zero() {
            return Err(invalid("grid (minimum not on the tick/step grid; offset grids unsupported)", name));
        }
    }
    let min_notional = ["MIN_NOTIONAL", "NOTIONAL"]
        .iter()
        .filter_map(|n| filter(filters, n))
        .find_map(|f| f.notional.or(f.min_notional))
        .unwrap_or(Decimal::ZERO);
    InstrumentRules::new(
        symbol(name)?,
        Price::new(tick),
        Qty::new(step),
        Qty::new(min_qty),
        positive(lot.max_qty).map(Qty::new),
        Notional::new(min_notional),
    )
    .map_err(|e| VenueError::decode(name, e))
}

/// Rules of a USD-M symbol.
///
/// # Errors
/// As [`parse_rules`].
pub fn parse_futures_rules(s: &BinanceFuturesSymbol) -> Result<InstrumentRules, VenueError> {
    parse_rules(&s.symbol, &s.filters, GridAnchor::Minimum)
}

/// Rules of a spot symbol.
///
/// # Errors
/// As [`parse_rules`].
pub fn parse_spot_rules(s: &BinanceSpotSymbol) -> Result<InstrumentRules, VenueError> {
    parse_rules(&s.symbol, &s.filters, GridAnchor::Zero)
}

/// The largest quantity of a MARKET order (MARKET_LOT_SIZE `maxQty`), when set.
pub fn parse_market_max_qty(filters: &[BinanceFilter]) -> Option<Qty> {
    positive(filter(filters, "MARKET_LOT_SIZE")?.max_qty).map(Qty::new)
}

/// The request-weight budget per minute declared in `rateLimits`, when declared.
pub fn parse_weight_limit(limits: &[BinanceRateLimit]) -> Option<u32> {
    limits
        .iter()
        .find(|l| l.rate_limit_type == "REQUEST_WEIGHT" && l.interval == "MINUTE" && l.interval_num == 1)
        .map(|l| l.limit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn f(kind: &str, a: Option<Decimal>, b: Option<Decimal>, c: Option<Decimal>) -> BinanceFilter {
        let mut filter = BinanceFilter {
            filter_type: kind.into(),
            min_price: None,
            max_price: None,
            tick_size: None,
            min_qty: None,
            max_qty: None,
            step_size: None,
            min_notional: None,
            notional: None,
        };
        match kind {
            "PRICE_FILTER" => (filter.min_price, filter.max_price, filter.tick_size) = (a, b, c),
            "LOT_SIZE" | "MARKET_LOT_SIZE" => (filter.min_qty, filter.max_qty, filter.step_size) = (a, b, c),
            _ => (filter.notional, filter.min_notional) = (a, b),
        }
        filter
    }

    #[test]
    fn offset_grids_table() {
        // (minPrice, tick, minQty, step, anchor, accepted)
        let cases = [
            (dec!(556.80), dec!(0.10), dec!(0.001), dec!(0.001), GridAnchor::Minimum, true),
            (dec!(0.05), dec!(0.10), dec!(0.001), dec!(0.001), GridAnchor::Minimum, false),
            (dec!(0.10), dec!(0.10), dec!(0.0015), dec!(0.001), GridAnchor::Minimum, false),
            (dec!(0.05), dec!(0.10), dec!(0.0015), dec!(0.001), GridAnchor::Zero, true),
            (dec!(0), dec!(0), dec!(1), dec!(1), GridAnchor::Zero, false),
        ];
        for (min_price, tick, min_qty, step, anchor, accepted) in cases {
            let filters = [
                f("PRICE_FILTER", Some(min_price), Some(dec!(1000000)), Some(tick)),
                f("LOT_SIZE", Some(min_qty), Some(dec!(0)), Some(step)),
                f("MIN_NOTIONAL", Some(dec!(5)), None, None),
            ];
            let got = parse_rules("BTCUSDT", &filters, anchor);
            assert_eq!(got.is_ok(), accepted, "{min_price} {tick} {min_qty} {step} {anchor:?}: {got:?}");
            if let Ok(rules) = got {
                assert_eq!(rules.max_qty, None, "maxQty 0 is no maximum");
                assert_eq!(rules.min_notional.get(), dec!(5));
            }
        }
    }

    #[test]
    fn missing_filters_are_errors() {
        assert!(parse_rules("X", &[f("LOT_SIZE", None, None, Some(dec!(1)))], GridAnchor::Zero).is_err());
        assert!(parse_rules("X", &[f("PRICE_FILTER", None, None, Some(dec!(1)))], GridAnchor::Zero).is_err());
    }
}
