//! `OrderUpdate` and `Fill` from Binance order answers and order events (PROTOCOL.md §3.1,
//! §3.3, §4.4).
//!
//! Venue facts: order statuses `NEW`, `PARTIALLY_FILLED`, `FILLED`, `CANCELED`, `REJECTED`,
//! `EXPIRED`, `EXPIRED_IN_MATCH` (STP), spot also `PENDING_NEW` / `PENDING_CANCEL` (still open).
//! Algo statuses: `NEW` and `TRIGGERING` (waiting), `TRIGGERED` (its order is in the matching
//! engine), `FINISHED` (that order filled or ended), `CANCELED`, `REJECTED`, `EXPIRED`. A
//! futures average price is `avgPrice`, or `cumQuote / executedQty` where `avgPrice` is gone; a
//! spot one is `cummulativeQuoteQty / executedQty`.

use rust_decimal::Decimal;

use super::{client_id, invalid, symbol};
use crate::binance::models::{
    BinanceAlgoOrder, BinanceAlgoUpdate, BinanceExecutionReport, BinanceOrderResponse,
    BinanceOrderTradeUpdate, BinanceSpotOrder, BinanceUserTrade,
};
use crate::model::{Fill, OrderStatus, OrderUpdate, Price, Qty, Side};
use crate::venue::VenueError;

/// `BUY` / `SELL`.
///
/// # Errors
/// [`VenueError::Decode`] for anything else.
pub fn parse_side(text: &str) -> Result<Side, VenueError> {
    match text {
        "BUY" => Ok(Side::Buy),
        "SELL" => Ok(Side::Sell),
        other => Err(invalid("side", other)),
    }
}

/// An order status.
///
/// # Errors
/// [`VenueError::Decode`] for a status Binance does not document.
pub fn parse_order_status(text: &str) -> Result<OrderStatus, VenueError> {
    Ok(match text {
        "NEW" | "PENDING_NEW" | "PENDING_CANCEL" => OrderStatus::New,
        "PARTIALLY_FILLED" => OrderStatus::PartiallyFilled,
        "FILLED" => OrderStatus::Filled,
        "CANCELED" => OrderStatus::Canceled,
        "REJECTED" => OrderStatus::Rejected,
        "EXPIRED" | "EXPIRED_IN_MATCH" => OrderStatus::Expired,
        other => return Err(invalid("order status", other)),
    })
}

/// An algo status, given what its triggered order has filled so far.
///
/// # Errors
/// [`VenueError::Decode`] for a status Binance does not document.
pub fn parse_algo_status(text: &str, executed: Decimal) -> Result<OrderStatus, VenueError> {
    let filled = executed > Decimal::ZERO;
    Ok(match text {
        "NEW" | "TRIGGERING" => OrderStatus::New,
        "TRIGGERED" if filled => OrderStatus::PartiallyFilled,
        "TRIGGERED" => OrderStatus::New,
        "FINISHED" if filled => OrderStatus::Filled,
        "FINISHED" | "EXPIRED" => OrderStatus::Expired,
        "CANCELED" => OrderStatus::Canceled,
        "REJECTED" => OrderStatus::Rejected,
        other => return Err(invalid("algo status", other)),
    })
}

/// `Some(price)` when positive.
fn positive_price(value: Option<Decimal>) -> Option<Price> {
    value.filter(|v| *v > Decimal::ZERO).map(Price::new)
}

/// Average price: the venue's, or quote over quantity.
fn average(avg: Option<Decimal>, quote: Option<Decimal>, filled: Decimal) -> Option<Price> {
    positive_price(avg).or_else(|| {
        let quote = quote.filter(|q| *q > Decimal::ZERO)?;
        (filled > Decimal::ZERO).then(|| Price::new(quote / filled))
    })
}

/// A USD-M order answer (new, query, cancel, open orders).
///
/// # Errors
/// [`VenueError::Decode`] for an invalid symbol, client order id, side or status.
pub fn parse_futures_order(o: &BinanceOrderResponse) -> Result<OrderUpdate, VenueError> {
    let filled = o.executed_qty.unwrap_or(Decimal::ZERO);
    Ok(OrderUpdate {
        client_order_id: client_id(&o.client_order_id)?,
        venue_order_id: Some(o.order_id.to_string()),
        symbol: symbol(&o.symbol)?,
        side: parse_side(&o.side)?,
        status: parse_order_status(&o.status)?,
        filled_qty: Qty::new(filled),
        avg_price: average(o.avg_price, o.cum_quote, filled),
        fill: None,
        reason: None,
        time_exchange: o.update_time.or(o.time).unwrap_or(0),
    })
}

fn algo_reason(status: &str, actual_order_id: Option<&str>) -> Option<String> {
    actual_order_id.map(|id| format!("{status}: order {id}"))
}

/// A USD-M algo (conditional) order answer. `venue_order_id` is the algo id; once triggered the
/// matching-engine order id is named in `reason`.
///
/// # Errors
/// As [`parse_futures_order`].
pub fn parse_algo_order(o: &BinanceAlgoOrder) -> Result<OrderUpdate, VenueError> {
    let filled = o.actual_qty.unwrap_or(Decimal::ZERO);
    Ok(OrderUpdate {
        client_order_id: client_id(&o.client_algo_id)?,
        venue_order_id: Some(o.algo_id.to_string()),
        symbol: symbol(&o.symbol)?,
        side: parse_side(&o.side)?,
        status: parse_algo_status(&o.algo_status, filled)?,
        filled_qty: Qty::new(filled),
        avg_price: positive_price(o.actual_price),
        fill: None,
        reason: algo_reason(&o.algo_status, o.actual_order_id.as_deref()),
        time_exchange: o.update_time.or(o.create_time).unwrap_or(0),
    })
}

/// `ALGO_UPDATE`.
///
/// # Errors
/// As [`parse_futures_order`].
pub fn parse_algo_update(e: &BinanceAlgoUpdate) -> Result<OrderUpdate, VenueError> {
    let o = &e.order;
    let filled = o.executed_qty.unwrap_or(Decimal::ZERO);
    let reason = o.reject_reason.clone().filter(|r| !r.is_empty() && o.status == "REJECTED");
    Ok(OrderUpdate {
        client_order_id: client_id(&o.client_algo_id)?,
        venue_order_id: Some(o.algo_id.to_string()),
        symbol: symbol(&o.symbol)?,
        side: parse_side(&o.side)?,
        status: parse_algo_status(&o.status, filled)?,
        filled_qty: Qty::new(filled),
        avg_price: positive_price(o.avg_price),
        fill: None,
        reason: reason.or_else(|| algo_reason(&o.status, o.actual_order_id.as_deref())),
        time_exchange: e.event_time,
    })
}

/// `ORDER_TRADE_UPDATE`: the order's new state, with the execution when this event is a trade or
/// a liquidation (`CALCULATED`).
///
/// # Errors
/// As [`parse_futures_order`].
pub fn parse_order_trade_update(e: &BinanceOrderTradeUpdate) -> Result<OrderUpdate, VenueError> {
    let o = &e.order;
    let id = client_id(&o.client_order_id)?;
    let sym = symbol(&o.symbol)?;
    let side = parse_side(&o.side)?;
    let filled = o.cum_qty.unwrap_or(Decimal::ZERO);
    let last_qty = o.last_qty.unwrap_or(Decimal::ZERO);
    let time = o.trade_time.unwrap_or(e.event_time);
    // `CALCULATED` is a liquidation's execution (client id `autoclose-...`): a fill like a trade,
    // or the position it closed would vanish from our books unexplained.
    let executed = matches!(o.execution_type.as_str(), "TRADE" | "CALCULATED");
    let fill = (executed && last_qty > Decimal::ZERO).then(|| Fill {
        client_order_id: id.clone(),
        trade_id: o
            .trade_id
            .clone()
            .filter(|t| !t.is_empty() && t != "0")
            .unwrap_or_else(|| format!("{}-{}", o.execution_type.to_ascii_lowercase(), o.order_id)),
        symbol: sym.clone(),
        side,
        qty: Qty::new(last_qty),
        price: Price::new(o.last_price.unwrap_or(Decimal::ZERO)),
        fee: o.commission.unwrap_or(Decimal::ZERO),
        fee_asset: o.commission_asset.clone().unwrap_or_default(),
        time_exchange: time,
    });
    let reason = o.expiry_reason.clone().filter(|r| r != "0").map(|r| format!("expiry reason {r}"));
    Ok(OrderUpdate {
        client_order_id: id,
        venue_order_id: Some(o.order_id.to_string()),
        symbol: sym,
        side,
        status: parse_order_status(&o.status)?,
        filled_qty: Qty::new(filled),
        avg_price: positive_price(o.avg_price),
        fill,
        reason,
        time_exchange: time,
    })
}

/// A spot order answer (ACK, RESULT or FULL; query; cancel) with the executions it carries.
/// An ACK answer has no status: it is `NEW` with nothing filled, side `fallback_side`.
///
/// # Errors
/// As [`parse_futures_order`].
pub fn parse_spot_order(
    o: &BinanceSpotOrder,
    fallback_side: Side,
) -> Result<(OrderUpdate, Vec<Fill>), VenueError> {
    let id_text = o.orig_client_order_id.as_deref().filter(|s| !s.is_empty()).unwrap_or(&o.client_order_id);
    let id = client_id(id_text)?;
    let sym = symbol(&o.symbol)?;
    let side = match &o.side {
        Some(s) => parse_side(s)?,
        None => fallback_side,
    };
    let status = match &o.status {
        Some(s) => parse_order_status(s)?,
        None => OrderStatus::New,
    };
    let filled = o.executed_qty.unwrap_or(Decimal::ZERO);
    let time = o.transact_time.or(o.update_time).unwrap_or(0);
    let fills = o
        .fills
        .iter()
        .map(|f| Fill {
            client_order_id: id.clone(),
            trade_id: f.trade_id.clone().unwrap_or_default(),
            symbol: sym.clone(),
            side,
            qty: Qty::new(f.qty),
            price: Price::new(f.price),
            fee: f.commission,
            fee_asset: f.commission_asset.clone(),
            time_exchange: time,
        })
        .collect();
    let update = OrderUpdate {
        client_order_id: id,
        venue_order_id: Some(o.order_id.to_string()),
        symbol: sym,
        side,
        status,
        filled_qty: Qty::new(filled),
        avg_price: average(None, o.cummulative_quote_qty, filled),
        fill: None,
        reason: None,
        time_exchange: time,
    };
    Ok((update, fills))
}

/// A `userTrades` execution as a [`Fill`] of the order with client id `client_order_id` (the
/// trade names its order by `orderId` only; the caller looks the client id up).
///
/// # Errors
/// [`VenueError::Decode`] for an invalid symbol, side or client id.
pub fn parse_user_trade(t: &BinanceUserTrade, client_order_id: &str) -> Result<Fill, VenueError> {
    Ok(Fill {
        client_order_id: client_id(client_order_id)?,
        trade_id: t.id.to_string(),
        symbol: symbol(&t.symbol)?,
        side: parse_side(&t.side)?,
        qty: Qty::new(t.qty),
        price: Price::new(t.price),
        fee: t.commission,
        fee_asset: t.commission_asset.clone(),
        time_exchange: t.time,
    })
}

/// Spot `executionReport`: the order's new state, with the execution when this is a trade.
///
/// # Errors
/// As [`parse_futures_order`].
pub fn parse_execution_report(e: &BinanceExecutionReport) -> Result<OrderUpdate, VenueError> {
    let id_text = match e.orig_client_order_id.as_deref() {
        Some(orig) if !orig.is_empty() && e.execution_type == "CANCELED" => orig,
        _ => &e.client_order_id,
    };
    let id = client_id(id_text)?;
    let sym = symbol(&e.symbol)?;
    let side = parse_side(&e.side)?;
    let fill = (e.execution_type == "TRADE" && e.last_qty > Decimal::ZERO).then(|| Fill {
        client_order_id: id.clone(),
        trade_id: e.trade_id.map(|t| t.to_string()).unwrap_or_default(),
        symbol: sym.clone(),
        side,
        qty: Qty::new(e.last_qty),
        price: Price::new(e.last_price),
        fee: e.commission.unwrap_or(Decimal::ZERO),
        fee_asset: e.commission_asset.clone().unwrap_or_default(),
        time_exchange: e.transaction_time,
    });
    let reason = e.reject_reason.clone().filter(|r| r != "NONE");
    Ok(OrderUpdate {
        client_order_id: id,
        venue_order_id: Some(e.order_id.to_string()),
        symbol: sym,
        side,
        status: parse_order_status(&e.status)?,
        filled_qty: Qty::new(e.cum_qty),
        avg_price: average(None, e.cum_quote, e.cum_qty),
        fill,
        reason,
        time_exchange: e.transaction_time,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    /// The example of `GET /fapi/v1/userTrades` in Binance's USD-M docs ("Account Trade List").
    #[test]
    fn a_user_trade_is_a_fill_of_the_named_order() {
        let json = r#"{"buyer":false,"commission":"-0.07819010","commissionAsset":"USDT","id":698759,"maker":false,"orderId":25851813,"price":"7819.01","qty":"0.002","quoteQty":"15.63802","realizedPnl":"-0.91539999","side":"SELL","positionSide":"SHORT","symbol":"BTCUSDT","time":1569514978020}"#;
        let trade: BinanceUserTrade = serde_json::from_str(json).unwrap();
        assert_eq!(trade.order_id, 25_851_813);
        let fill = parse_user_trade(&trade, "autoclose-1569514978020000001").unwrap();
        assert_eq!(
            (
                fill.trade_id.as_str(),
                fill.side,
                fill.qty.get(),
                fill.price.get(),
                fill.fee,
                fill.time_exchange
            ),
            ("698759", Side::Sell, dec!(0.002), dec!(7819.01), dec!(-0.07819010), 1_569_514_978_020)
        );
        assert_eq!(fill.client_order_id.as_str(), "autoclose-1569514978020000001");
        assert!(parse_user_trade(&trade, "bad id with spaces").is_err());
    }

    #[test]
    fn status_tables() {
        let orders = [
            ("NEW", OrderStatus::New),
            ("PENDING_CANCEL", OrderStatus::New),
            ("PARTIALLY_FILLED", OrderStatus::PartiallyFilled),
            ("FILLED", OrderStatus::Filled),
            ("CANCELED", OrderStatus::Canceled),
            ("REJECTED", OrderStatus::Rejected),
            ("EXPIRED", OrderStatus::Expired),
            ("EXPIRED_IN_MATCH", OrderStatus::Expired),
        ];
        for (text, want) in orders {
            assert_eq!(parse_order_status(text).unwrap(), want, "{text}");
        }
        assert!(parse_order_status("SOMETHING").is_err());
        let algos = [
            ("NEW", dec!(0), OrderStatus::New),
            ("TRIGGERING", dec!(0), OrderStatus::New),
            ("TRIGGERED", dec!(0), OrderStatus::New),
            ("TRIGGERED", dec!(1), OrderStatus::PartiallyFilled),
            ("FINISHED", dec!(1), OrderStatus::Filled),
            ("FINISHED", dec!(0), OrderStatus::Expired),
            ("CANCELED", dec!(0), OrderStatus::Canceled),
            ("REJECTED", dec!(0), OrderStatus::Rejected),
            ("EXPIRED", dec!(0), OrderStatus::Expired),
        ];
        for (text, filled, want) in algos {
            assert_eq!(parse_algo_status(text, filled).unwrap(), want, "{text} {filled}");
        }
        assert!(parse_side("buy").is_err());
    }

    #[test]
    fn average_falls_back_to_quote_over_qty() {
        assert_eq!(average(Some(dec!(10)), None, dec!(1)), Some(Price::new(dec!(10))));
        assert_eq!(average(Some(dec!(0)), Some(dec!(30)), dec!(2)), Some(Price::new(dec!(15))));
        assert_eq!(average(None, Some(dec!(0)), dec!(0)), None);
    }
}
