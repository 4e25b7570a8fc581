//! Spot order encoding (PROTOCOL.md §3.1): `MARKET`, `LIMIT` (`LIMIT_MAKER` for post-only),
//! `STOP_LOSS` and `TAKE_PROFIT` (market orders once triggered, with `stopPrice`), trailing
//! stops as `STOP_LOSS` with `trailingDelta` in basis points (our fraction 0.01 -> 100 BIPS; an
//! activation price becomes the `stopPrice`). Spot has no reduce-only and no close-position:
//! reduce-only is implied by selling what is held; close-position is refused. Orders ask for
//! `newOrderRespType=FULL`, so a market order answers with its fills.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::binance::encode::{CheckedOrder, time_in_force, wire};
use crate::model::{OrderKind, OrderRequest, TimeInForce};
use crate::signing::binance::QueryString;
use crate::venue::VenueError;

/// Encodes a rounded, checked spot order.
///
/// # Errors
/// [`VenueError::InvalidOrder`] for close-position orders and for a trailing delta that is not
/// a whole number of basis points between 1 and 10000.
pub fn encode_spot_order(order: &OrderRequest, checked: &CheckedOrder) -> Result<QueryString, VenueError> {
    if order.close_position {
        return Err(VenueError::InvalidOrder {
            filter: "closePosition",
            detail: "spot has no close-position orders".into(),
        });
    }
    let mut q = QueryString::new().param("symbol", order.symbol.as_str()).param("side", order.side.as_str());
    match checked.kind {
        OrderKind::Market => {
            q.push("type", "MARKET");
        }
        OrderKind::Limit { price, time_in_force: TimeInForce::Gtx } => {
            q.push("type", "LIMIT_MAKER").push("price", &wire(price.get()));
        }
        OrderKind::Limit { price, time_in_force: tif } => {
            q.push("type", "LIMIT").push("timeInForce", time_in_force(tif)).push("price", &wire(price.get()));
        }
        OrderKind::StopMarket { trigger } => {
            q.push("type", "STOP_LOSS").push("stopPrice", &wire(trigger.get()));
        }
        OrderKind::TakeProfitMarket { trigger } => {
            q.push("type", "TAKE_PROFIT").push("stopPrice", &wire(trigger.get()));
        }
        OrderKind::TrailingStop { callback_rate, activation } => {
            let bips = callback_rate * Decimal::from(10_000);
            let whole = bips.to_u32().filter(|b| Decimal::from(*b) == bips && (1..=10_000).contains(b));
            let bips = whole.ok_or_else(|| VenueError::InvalidOrder {
                filter: "TRAILING_DELTA",
                detail: format!("trailing delta {bips} BIPS is not a whole number between 1 and 10000"),
            })?;
            q.push("type", "STOP_LOSS").push("trailingDelta", &bips.to_string());
            if let Some(activation) = activation {
                q.push("stopPrice", &wire(activation.get()));
            }
        }
    }
    q.push("quantity", &wire(checked.qty.get()))
        .push("newClientOrderId", order.client_order_id.as_str())
        .push("newOrderRespType", "FULL");
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ClientOrderId, Price, Qty, Side, Symbol};
    use rust_decimal_macros::dec;

    fn encode(kind: OrderKind) -> Result<String, VenueError> {
        let order = OrderRequest {
            client_order_id: ClientOrderId::new("ma-ts-1-3").unwrap(),
            symbol: Symbol::new("ETHUSDT").unwrap(),
            side: Side::Sell,
            kind,
            qty: Qty::new(dec!(0.5)),
            reduce_only: false,
            close_position: false,
        };
        encode_spot_order(&order, &CheckedOrder { qty: order.qty, kind }).map(QueryString::finish)
    }

    #[test]
    fn encoding_table() {
        let p = |d| Price::new(d);
        let tail = "quantity=0.5&newClientOrderId=ma-ts-1-3&newOrderRespType=FULL";
        let cases = [
            (OrderKind::Market, "type=MARKET"),
            (
                OrderKind::Limit { price: p(dec!(2000.50)), time_in_force: TimeInForce::Ioc },
                "type=LIMIT&timeInForce=IOC&price=2000.5",
            ),
            (
                OrderKind::Limit { price: p(dec!(2000)), time_in_force: TimeInForce::Gtx },
                "type=LIMIT_MAKER&price=2000",
            ),
            (OrderKind::StopMarket { trigger: p(dec!(1900)) }, "type=STOP_LOSS&stopPrice=1900"),
            (OrderKind::TakeProfitMarket { trigger: p(dec!(2100)) }, "type=TAKE_PROFIT&stopPrice=2100"),
            (
                OrderKind::TrailingStop { callback_rate: dec!(0.02), activation: Some(p(dec!(2050))) },
                "type=STOP_LOSS&trailingDelta=200&stopPrice=2050",
            ),
        ];
        for (kind, middle) in cases {
            assert_eq!(
                encode(kind).unwrap(),
                format!("symbol=ETHUSDT&side=SELL&{middle}&{tail}"),
                "{kind:?}"
            );
        }
        for rate in [dec!(0.00005), dec!(2)] {
            assert!(
                encode(OrderKind::TrailingStop { callback_rate: rate, activation: None }).is_err(),
                "{rate}"
            );
        }
    }
}
