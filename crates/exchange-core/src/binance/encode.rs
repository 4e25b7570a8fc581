//! What every order goes through before it is encoded for either product: rounding onto the
//! instrument's grid and checking every filter, so that a violation is an error naming the
//! filter and nothing is sent.
//!
//! Rounding: quantities round down to the step (never more than was decided); a limit buy
//! rounds its price down and a limit sell up (never a worse price than asked); trigger and
//! activation prices round to the nearest tick.

use rust_decimal::Decimal;

use crate::binance::cache::SymbolRules;
use crate::model::{FilterViolation, OrderKind, OrderRequest, Price, PriceRounding, Qty, Side, TimeInForce};
use crate::venue::VenueError;

/// An order on the grid, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedOrder {
    /// Quantity rounded down to the step (zero when the order closes the whole position).
    pub qty: Qty,
    /// The kind with its prices rounded.
    pub kind: OrderKind,
}

fn violation(v: &FilterViolation) -> VenueError {
    VenueError::InvalidOrder { filter: v.filter_name(), detail: v.to_string() }
}

fn invalid(filter: &'static str, detail: String) -> VenueError {
    VenueError::InvalidOrder { filter, detail }
}

/// Rounds `order` onto `rules` and checks it. `reference` is the price a market order (or a
/// trailing stop without activation price) is expected to fill near; `notional_exempt` skips
/// the minimum-notional check (USD-M reduce-only orders are exempt).
///
/// # Errors
/// [`VenueError::InvalidOrder`] naming the first filter the order breaks, or `reference` when a
/// market order has none.
pub fn round_and_check(
    order: &OrderRequest,
    rules: &SymbolRules,
    reference: Option<Price>,
    notional_exempt: bool,
) -> Result<CheckedOrder, VenueError> {
    let r = &rules.rules;
    let nearest = |p: Price| r.round_price(p, PriceRounding::Nearest);
    let (kind, check_price) = match order.kind {
        OrderKind::Market => (OrderKind::Market, reference.map(nearest)),
        OrderKind::Limit { price, time_in_force } => {
            let how = if order.side == Side::Buy { PriceRounding::Down } else { PriceRounding::Up };
            let price = r.round_price(price, how);
            (OrderKind::Limit { price, time_in_force }, Some(price))
        }
        OrderKind::StopMarket { trigger } => {
            let trigger = nearest(trigger);
            (OrderKind::StopMarket { trigger }, Some(trigger))
        }
        OrderKind::TakeProfitMarket { trigger } => {
            let trigger = nearest(trigger);
            (OrderKind::TakeProfitMarket { trigger }, Some(trigger))
        }
        OrderKind::TrailingStop { callback_rate, activation } => {
            let activation = activation.map(nearest);
            (OrderKind::TrailingStop { callback_rate, activation }, activation.or(reference.map(nearest)))
        }
    };
    let price = check_price
        .ok_or_else(|| invalid("MIN_NOTIONAL", "no reference price to check a market order".into()))?;
    if order.close_position {
        if !matches!(kind, OrderKind::StopMarket { .. } | OrderKind::TakeProfitMarket { .. }) {
            return Err(invalid(
                "closePosition",
                "only stop-market and take-profit-market orders close the whole position".into(),
            ));
        }
        if !price.is_positive() {
            return Err(violation(&FilterViolation::PriceNotPositive { price }));
        }
        return Ok(CheckedOrder { qty: Qty::ZERO, kind });
    }
    let qty = r.floor_qty(order.qty);
    match r.check(qty, price) {
        Ok(()) | Err(FilterViolation::NotionalBelowMin { .. }) if notional_exempt => {}
        Ok(()) => {}
        Err(v) => return Err(violation(&v)),
    }
    let market_like = !matches!(kind, OrderKind::Limit { .. });
    if market_like && let Some(max) = rules.market_max_qty.filter(|max| qty > *max) {
        return Err(invalid("MARKET_LOT_SIZE", format!("quantity {qty} is above the market maximum {max}")));
    }
    Ok(CheckedOrder { qty, kind })
}

/// Binance's spelling of a time in force.
pub fn time_in_force(tif: TimeInForce) -> &'static str {
    match tif {
        TimeInForce::Gtc => "GTC",
        TimeInForce::Ioc => "IOC",
        TimeInForce::Fok => "FOK",
        TimeInForce::Gtx => "GTX",
    }
}

/// A decimal as the venue wants it: no exponent, no trailing zeros.
pub fn wire(value: Decimal) -> String {
    value.normalize().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ClientOrderId, InstrumentRules, Notional, Symbol};
    use rust_decimal_macros::dec;

    fn rules() -> SymbolRules {
        SymbolRules {
            rules: InstrumentRules::new(
                Symbol::new("BTCUSDT").unwrap(),
                Price::new(dec!(0.10)),
                Qty::new(dec!(0.001)),
                Qty::new(dec!(0.001)),
                Some(Qty::new(dec!(1000))),
                Notional::new(dec!(100)),
            )
            .unwrap(),
            market_max_qty: Some(Qty::new(dec!(120))),
        }
    }

    fn order(side: Side, kind: OrderKind, qty: Decimal) -> OrderRequest {
        OrderRequest {
            client_order_id: ClientOrderId::new("fa-en-1-1").unwrap(),
            symbol: Symbol::new("BTCUSDT").unwrap(),
            side,
            kind,
            qty: Qty::new(qty),
            reduce_only: false,
            close_position: false,
        }
    }

    #[test]
    fn rounding_table() {
        let limit = |p| OrderKind::Limit { price: Price::new(p), time_in_force: TimeInForce::Gtc };
        let cases = [
            (Side::Buy, limit(dec!(30000.06)), dec!(0.0129), limit(dec!(30000.0)), dec!(0.012)),
            (Side::Sell, limit(dec!(30000.01)), dec!(0.0129), limit(dec!(30000.1)), dec!(0.012)),
            (
                Side::Sell,
                OrderKind::StopMarket { trigger: Price::new(dec!(29100.04)) },
                dec!(0.5),
                OrderKind::StopMarket { trigger: Price::new(dec!(29100.0)) },
                dec!(0.5),
            ),
        ];
        for (side, kind, qty, want_kind, want_qty) in cases {
            let got = round_and_check(&order(side, kind, qty), &rules(), None, false).unwrap();
            assert_eq!((got.kind, got.qty.get()), (want_kind, want_qty), "{side:?} {kind:?}");
        }
    }

    #[test]
    fn violations_name_the_filter() {
        let p = |d| Some(Price::new(d));
        let cases = [
            (order(Side::Buy, OrderKind::Market, dec!(0.0009)), p(dec!(30000)), false, "LOT_SIZE"),
            (order(Side::Buy, OrderKind::Market, dec!(0.002)), p(dec!(30000)), false, "MIN_NOTIONAL"),
            (order(Side::Buy, OrderKind::Market, dec!(200)), p(dec!(30000)), false, "MARKET_LOT_SIZE"),
            (order(Side::Buy, OrderKind::Market, dec!(2000)), p(dec!(30000)), false, "LOT_SIZE"),
            (order(Side::Buy, OrderKind::Market, dec!(1)), None, false, "MIN_NOTIONAL"),
        ];
        for (o, reference, exempt, filter) in cases {
            match round_and_check(&o, &rules(), reference, exempt) {
                Err(VenueError::InvalidOrder { filter: got, .. }) => assert_eq!(got, filter, "{o:?}"),
                other => panic!("{o:?}: {other:?}"),
            }
        }
        let small = order(Side::Sell, OrderKind::Market, dec!(0.002));
        assert!(
            round_and_check(&small, &rules(), p(dec!(30000)), true).is_ok(),
            "reduce-only exempt from notional"
        );
        let close = OrderRequest {
            close_position: true,
            ..order(Side::Sell, OrderKind::StopMarket { trigger: Price::new(dec!(29000)) }, dec!(0))
        };
        assert_eq!(round_and_check(&close, &rules(), None, true).unwrap().qty, Qty::ZERO);
        let close_market =
            OrderRequest { close_position: true, ..order(Side::Sell, OrderKind::Market, dec!(0)) };
        assert!(round_and_check(&close_market, &rules(), p(dec!(1)), true).is_err());
    }

    #[test]
    fn wire_decimals() {
        assert_eq!(wire(dec!(30000.10)), "30000.1");
        assert_eq!(wire(dec!(0.00100)), "0.001");
        assert_eq!(wire(dec!(10)), "10");
        assert_eq!(wire(dec!(0.00000001)), "0.00000001");
    }
}
