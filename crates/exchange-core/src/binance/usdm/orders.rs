//! USD-M order encoding (PROTOCOL.md §3.3): plain orders (`MARKET`, `LIMIT`) for
//! `POST /fapi/v1/order`, conditional orders for the algo API `POST /fapi/v1/algoOrder`.
//!
//! Venue facts: since 2025-12-09 `STOP_MARKET`, `TAKE_PROFIT_MARKET` and `TRAILING_STOP_MARKET`
//! are refused by `/fapi/v1/order` with `-4120`; the algo API takes `algoType=CONDITIONAL`,
//! `triggerPrice` (not `stopPrice`), `activatePrice` (not `activationPrice`), `callbackRate`
//! in percent between 0.1 and 10 (our `OrderKind` holds a fraction: 0.10 -> "10"),
//! `clientAlgoId`, `workingType` (`MARK_PRICE` / `CONTRACT_PRICE`), and `closePosition=true`
//! (which excludes `quantity` and `reduceOnly`). `reduceOnly` is sent as `"true"` only when set
//! (one-way mode). Orders ask for `newOrderRespType=RESULT` so a market order answers filled.

use rust_decimal::Decimal;

use crate::binance::encode::{CheckedOrder, time_in_force, wire};
use crate::model::{OrderKind, OrderRequest};
use crate::signing::binance::QueryString;
use crate::venue::VenueError;

/// The price a conditional order's trigger watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WorkingType {
    /// The mark price (what liquidation uses; immune to last-trade wicks). The default here.
    #[default]
    MarkPrice,
    /// The last trade price (Binance's default).
    ContractPrice,
}

impl WorkingType {
    fn as_str(self) -> &'static str {
        match self {
            Self::MarkPrice => "MARK_PRICE",
            Self::ContractPrice => "CONTRACT_PRICE",
        }
    }
}

/// Where an encoded order goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsdmOrder {
    /// `POST /fapi/v1/order`.
    Plain(QueryString),
    /// `POST /fapi/v1/algoOrder`.
    Algo(QueryString),
}

/// Encodes a rounded, checked order.
///
/// # Errors
/// [`VenueError::InvalidOrder`] for a trailing callback rate outside 0.1%–10%.
pub fn encode_usdm_order(
    order: &OrderRequest,
    checked: &CheckedOrder,
    working_type: WorkingType,
) -> Result<UsdmOrder, VenueError> {
    let mut q = QueryString::new();
    if !checked.kind.is_conditional() {
        q.push("symbol", order.symbol.as_str()).push("side", order.side.as_str());
        q.push("type", checked.kind.venue_name());
        if let OrderKind::Limit { price, time_in_force: tif } = checked.kind {
            q.push("timeInForce", time_in_force(tif)).push("price", &wire(price.get()));
        }
        q.push("quantity", &wire(checked.qty.get()));
        if order.reduce_only {
            q.push("reduceOnly", "true");
        }
        q.push("newClientOrderId", order.client_order_id.as_str()).push("newOrderRespType", "RESULT");
        return Ok(UsdmOrder::Plain(q));
    }
    q.push("algoType", "CONDITIONAL").push("symbol", order.symbol.as_str()).push("side", order.side.as_str());
    q.push("type", checked.kind.venue_name());
    match checked.kind {
        OrderKind::StopMarket { trigger } | OrderKind::TakeProfitMarket { trigger } => {
            q.push("triggerPrice", &wire(trigger.get()));
        }
        OrderKind::TrailingStop { callback_rate, activation } => {
            let percent = callback_rate * Decimal::ONE_HUNDRED;
            if percent < Decimal::new(1, 1) || percent > Decimal::TEN {
                return Err(VenueError::InvalidOrder {
                    filter: "callbackRate",
                    detail: format!("trailing callback {percent}% is outside 0.1%..10%"),
                });
            }
            q.push("callbackRate", &wire(percent));
            if let Some(activation) = activation {
                q.push("activatePrice", &wire(activation.get()));
            }
        }
        OrderKind::Market | OrderKind::Limit { .. } => {}
    }
    q.push("workingType", working_type.as_str());
    if order.close_position {
        q.push("closePosition", "true");
    } else {
        q.push("quantity", &wire(checked.qty.get()));
        if order.reduce_only {
            q.push("reduceOnly", "true");
        }
    }
    q.push("clientAlgoId", order.client_order_id.as_str());
    Ok(UsdmOrder::Algo(q))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ClientOrderId, Price, Qty, Side, Symbol, TimeInForce};
    use rust_decimal_macros::dec;

    fn request(kind: OrderKind, reduce_only: bool, close_position: bool) -> OrderRequest {
        OrderRequest {
            client_order_id: ClientOrderId::new("fa-sl-1-2").unwrap(),
            symbol: Symbol::new("BTCUSDT").unwrap(),
            side: Side::Sell,
            kind,
            qty: Qty::new(dec!(0.010)),
            reduce_only,
            close_position,
        }
    }

    fn encode(kind: OrderKind, reduce_only: bool, close_position: bool) -> Result<UsdmOrder, VenueError> {
        let order = request(kind, reduce_only, close_position);
        let qty = if close_position { Qty::ZERO } else { order.qty };
        encode_usdm_order(&order, &CheckedOrder { qty, kind }, WorkingType::MarkPrice)
    }

    #[test]
    fn encoding_table() {
        let p = |d| Price::new(d);
        let cases = [
            (
                OrderKind::Market,
                true,
                false,
                "P symbol=BTCUSDT&side=SELL&type=MARKET&quantity=0.01&reduceOnly=true&newClientOrderId=fa-sl-1-2&newOrderRespType=RESULT",
            ),
            (
                OrderKind::Limit { price: p(dec!(30000.10)), time_in_force: TimeInForce::Gtx },
                false,
                false,
                "P symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=GTX&price=30000.1&quantity=0.01&newClientOrderId=fa-sl-1-2&newOrderRespType=RESULT",
            ),
            (
                OrderKind::StopMarket { trigger: p(dec!(29000.0)) },
                true,
                false,
                "A algoType=CONDITIONAL&symbol=BTCUSDT&side=SELL&type=STOP_MARKET&triggerPrice=29000&workingType=MARK_PRICE&quantity=0.01&reduceOnly=true&clientAlgoId=fa-sl-1-2",
            ),
            (
                OrderKind::TakeProfitMarket { trigger: p(dec!(31500)) },
                false,
                true,
                "A algoType=CONDITIONAL&symbol=BTCUSDT&side=SELL&type=TAKE_PROFIT_MARKET&triggerPrice=31500&workingType=MARK_PRICE&closePosition=true&clientAlgoId=fa-sl-1-2",
            ),
            (
                OrderKind::TrailingStop { callback_rate: dec!(0.10), activation: Some(p(dec!(31000))) },
                true,
                false,
                "A algoType=CONDITIONAL&symbol=BTCUSDT&side=SELL&type=TRAILING_STOP_MARKET&callbackRate=10&activatePrice=31000&workingType=MARK_PRICE&quantity=0.01&reduceOnly=true&clientAlgoId=fa-sl-1-2",
            ),
        ];
        for (kind, reduce_only, close_position, want) in cases {
            let got = match encode(kind, reduce_only, close_position).unwrap() {
                UsdmOrder::Plain(q) => format!("P {}", q.as_str()),
                UsdmOrder::Algo(q) => format!("A {}", q.as_str()),
            };
            assert_eq!(got, want, "{kind:?}");
        }
    }

    #[test]
    fn callback_rate_bounds() {
        for (rate, ok) in [(dec!(0.001), true), (dec!(0.1), true), (dec!(0.0005), false), (dec!(0.11), false)]
        {
            let kind = OrderKind::TrailingStop { callback_rate: rate, activation: None };
            assert_eq!(encode(kind, true, false).is_ok(), ok, "{rate}");
        }
        assert_eq!(WorkingType::default(), WorkingType::MarkPrice);
    }
}
