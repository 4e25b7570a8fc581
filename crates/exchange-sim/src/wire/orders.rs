//! Orders, algo orders and trades as Binance's REST answers show them.

use serde_json::{Value, json};

use super::{money, plain, price, qty};
use crate::catalog::Catalog;
use crate::engine::events::FillInfo;
use crate::engine::types::{AlgoOrder, Order, Trade};

/// How much a spot new-order answer says (`newOrderRespType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RespType {
    /// Ids and time only.
    Ack,
    /// The order's state.
    Result,
    /// The state and the fills.
    Full,
}

impl RespType {
    /// Parses `ACK`, `RESULT`, `FULL`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "ACK" => Some(Self::Ack),
            "RESULT" => Some(Self::Result),
            "FULL" => Some(Self::Full),
            _ => None,
        }
    }
}

fn stop_price(catalog: &Catalog, order: &Order) -> String {
    price(catalog.get(order.symbol), order.stop_price)
}

/// A spot order as `GET /api/v3/order` returns it.
pub fn spot_order(catalog: &Catalog, order: &Order) -> Value {
    let spec = catalog.get(order.symbol);
    let mut value = json!({
        "symbol": spec.symbol.as_str(),
        "orderId": order.order_id,
        "orderListId": -1,
        "clientOrderId": order.client_id,
        "price": price(spec, order.price),
        "origQty": qty(spec, order.qty),
        "executedQty": qty(spec, order.executed),
        "cummulativeQuoteQty": money(order.cum_quote),
        "status": order.status.as_str(),
        "timeInForce": order.tif.as_str(),
        "type": order.order_type.as_str(),
        "side": order.side.as_str(),
        "stopPrice": stop_price(catalog, order),
        "icebergQty": "0.00000000",
        "time": order.time,
        "updateTime": order.update_time,
        "isWorking": order.working,
        "workingTime": order.working_time,
        "origQuoteOrderQty": money(order.quote_qty),
        "selfTradePreventionMode": "NONE",
    });
    if let (Some(delta), Some(map)) = (order.trailing_delta, value.as_object_mut()) {
        map.insert("trailingDelta".into(), json!(delta));
    }
    value
}

/// A spot new-order answer of `resp` detail.
pub fn spot_new_order(catalog: &Catalog, order: &Order, fills: &[FillInfo], resp: RespType) -> Value {
    let spec = catalog.get(order.symbol);
    let mut value = json!({
        "symbol": spec.symbol.as_str(),
        "orderId": order.order_id,
        "orderListId": -1,
        "clientOrderId": order.client_id,
        "transactTime": order.time,
    });
    if resp == RespType::Ack {
        return value;
    }
    if let Some(map) = value.as_object_mut() {
        let extra = json!({
            "price": price(spec, order.price),
            "origQty": qty(spec, order.qty),
            "executedQty": qty(spec, order.executed),
            "origQuoteOrderQty": money(order.quote_qty),
            "cummulativeQuoteQty": money(order.cum_quote),
            "status": order.status.as_str(),
            "timeInForce": order.tif.as_str(),
            "type": order.order_type.as_str(),
            "side": order.side.as_str(),
            "workingTime": order.working_time,
            "selfTradePreventionMode": "NONE",
        });
        if let Some(extra) = extra.as_object() {
            map.extend(extra.clone());
        }
        if !order.stop_price.is_zero() {
            map.insert("stopPrice".into(), json!(stop_price(catalog, order)));
        }
        if resp == RespType::Full {
            let fills: Vec<Value> = fills
                .iter()
                .map(|f| {
                    json!({
                        "price": price(spec, f.price),
                        "qty": qty(spec, f.qty),
                        "commission": money(f.commission),
                        "commissionAsset": f.commission_asset,
                        "tradeId": f.trade_id,
                    })
                })
                .collect();
            map.insert("fills".into(), Value::Array(fills));
        }
    }
    value
}

/// A spot cancel answer; `cancel_id` is the new client id of the cancel request.
pub fn spot_cancel(catalog: &Catalog, order: &Order, cancel_id: &str) -> Value {
    let spec = catalog.get(order.symbol);
    json!({
        "symbol": spec.symbol.as_str(),
        "origClientOrderId": order.client_id,
        "orderId": order.order_id,
        "orderListId": -1,
        "clientOrderId": cancel_id,
        "transactTime": order.update_time,
        "price": price(spec, order.price),
        "origQty": qty(spec, order.qty),
        "executedQty": qty(spec, order.executed),
        "origQuoteOrderQty": money(order.quote_qty),
        "cummulativeQuoteQty": money(order.cum_quote),
        "status": order.status.as_str(),
        "timeInForce": order.tif.as_str(),
        "type": order.order_type.as_str(),
        "side": order.side.as_str(),
        "selfTradePreventionMode": "NONE",
    })
}

/// A USD-M order as `/fapi/v1/order` returns it (`with_time` adds `time`, as queries do).
pub fn futures_order(catalog: &Catalog, order: &Order, with_time: bool) -> Value {
    let spec = catalog.get(order.symbol);
    let mut value = json!({
        "orderId": order.order_id,
        "symbol": spec.symbol.as_str(),
        "status": order.status.as_str(),
        "clientOrderId": order.client_id,
        "price": price(spec, order.price),
        "avgPrice": plain(order.avg_price()),
        "origQty": qty(spec, order.qty),
        "executedQty": qty(spec, order.executed),
        "cumQty": qty(spec, order.executed),
        "cumQuote": plain(order.cum_quote),
        "timeInForce": order.tif.as_str(),
        "type": order.order_type.as_str(),
        "reduceOnly": order.reduce_only,
        "closePosition": order.close_position,
        "side": order.side.as_str(),
        "positionSide": "BOTH",
        "stopPrice": price(spec, order.stop_price),
        "workingType": "CONTRACT_PRICE",
        "priceProtect": false,
        "origType": order.orig_type.as_str(),
        "priceMatch": "NONE",
        "selfTradePreventionMode": "EXPIRE_MAKER",
        "goodTillDate": 0,
        "updateTime": order.update_time,
    });
    if with_time && let Some(map) = value.as_object_mut() {
        map.insert("time".into(), json!(order.time));
    }
    value
}

fn opt_decimal(value: Option<rust_decimal::Decimal>) -> String {
    value.map_or_else(|| "0".to_owned(), plain)
}

/// An algo order as `/fapi/v1/algoOrder` returns it.
pub fn algo_order(catalog: &Catalog, algo: &AlgoOrder) -> Value {
    let spec = catalog.get(algo.symbol);
    json!({
        "algoId": algo.algo_id,
        "clientAlgoId": algo.client_algo_id,
        "algoType": "CONDITIONAL",
        "orderType": algo.order_type.as_str(),
        "symbol": spec.symbol.as_str(),
        "side": algo.side.as_str(),
        "positionSide": "BOTH",
        "timeInForce": algo.tif.as_str(),
        "quantity": qty(spec, algo.qty),
        "algoStatus": algo.status.as_str(),
        "triggerPrice": price(spec, algo.trigger_price),
        "price": price(spec, algo.price),
        "icebergQuantity": null,
        "selfTradePreventionMode": "EXPIRE_MAKER",
        "workingType": algo.working_type.as_str(),
        "priceMatch": "NONE",
        "closePosition": algo.close_position,
        "priceProtect": algo.price_protect,
        "reduceOnly": algo.reduce_only,
        "activatePrice": opt_decimal(algo.activate_price),
        "callbackRate": opt_decimal(algo.callback_rate),
        "createTime": algo.create_time,
        "updateTime": algo.update_time,
        "triggerTime": algo.trigger_time,
        "goodTillDate": 0,
        "actualOrderId": algo.actual_order_id.map_or_else(String::new, |id| id.to_string()),
        "actualPrice": plain(algo.actual_price),
        "actualQty": plain(algo.actual_qty),
    })
}

/// A spot fill as `GET /api/v3/myTrades` returns it.
pub fn spot_trade(catalog: &Catalog, trade: &Trade) -> Value {
    let spec = catalog.get(trade.symbol);
    json!({
        "symbol": spec.symbol.as_str(),
        "id": trade.id,
        "orderId": trade.order_id,
        "orderListId": -1,
        "price": price(spec, trade.price),
        "qty": qty(spec, trade.qty),
        "quoteQty": money(trade.quote_qty),
        "commission": money(trade.commission),
        "commissionAsset": trade.commission_asset,
        "time": trade.time,
        "isBuyer": trade.side == exchange_core::Side::Buy,
        "isMaker": trade.maker,
        "isBestMatch": true,
    })
}

/// A USD-M fill as `GET /fapi/v1/userTrades` returns it.
pub fn futures_trade(catalog: &Catalog, trade: &Trade) -> Value {
    let spec = catalog.get(trade.symbol);
    json!({
        "buyer": trade.side == exchange_core::Side::Buy,
        "commission": plain(trade.commission),
        "commissionAsset": trade.commission_asset,
        "id": trade.id,
        "maker": trade.maker,
        "orderId": trade.order_id,
        "price": price(spec, trade.price),
        "qty": qty(spec, trade.qty),
        "quoteQty": plain(trade.quote_qty),
        "realizedPnl": plain(trade.realized_pnl),
        "side": trade.side.as_str(),
        "positionSide": "BOTH",
        "symbol": spec.symbol.as_str(),
        "time": trade.time,
    })
}
