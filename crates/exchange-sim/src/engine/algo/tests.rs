//! Algo orders: triggers inside a tick, trailing stops, closePosition, and the event sequence.

use exchange_core::Side;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::AlgoRequest;
use crate::catalog::SymbolId;
use crate::engine::Engine;
use crate::engine::events::Event;
use crate::engine::futures::FuturesOrderRequest;
use crate::engine::testkit::{ACCOUNT, engine_at};
use crate::engine::types::{AlgoStatus, OrderType, WorkingType};

fn algo(symbol: SymbolId, side: Side, order_type: OrderType) -> AlgoRequest {
    AlgoRequest {
        symbol,
        side,
        order_type,
        tif: None,
        qty: None,
        price: None,
        trigger_price: None,
        working_type: WorkingType::ContractPrice,
        close_position: false,
        reduce_only: false,
        price_protect: false,
        activate_price: None,
        callback_rate: None,
        position_side: None,
        client_algo_id: None,
    }
}

fn long(e: &mut Engine, fut: SymbolId, qty: Decimal) {
    let request = FuturesOrderRequest {
        symbol: fut,
        side: Side::Buy,
        order_type: OrderType::Market,
        tif: None,
        qty: Some(qty),
        price: None,
        reduce_only: false,
        position_side: None,
        client_id: None,
    };
    e.futures_place(ACCOUNT, request).unwrap();
    e.take_events();
}

fn event_names(e: &mut Engine) -> Vec<String> {
    e.take_events()
        .into_iter()
        .map(|ev| match ev {
            Event::FuturesAlgo { algo, .. } => format!("ALGO_UPDATE {}", algo.status.as_str()),
            Event::FuturesOrder { order, exec, .. } => {
                format!("ORDER_TRADE_UPDATE {} {}", exec.as_str(), order.status.as_str())
            }
            Event::FuturesAccount { reason, .. } => format!("ACCOUNT_UPDATE {reason}"),
            other => format!("{other:?}"),
        })
        .collect()
}

#[test]
fn stop_market_close_position_triggers_intrabar_with_the_event_sequence() {
    let (mut e, _, fut) = engine_at(dec!(100000));
    long(&mut e, fut, dec!(0.01));
    let stop = AlgoRequest {
        close_position: true,
        trigger_price: Some(dec!(97000)),
        ..algo(fut, Side::Sell, OrderType::StopMarket)
    };
    let placed = e.algo_place(ACCOUNT, stop).unwrap();
    assert_eq!(event_names(&mut e), vec!["ALGO_UPDATE NEW"]);
    assert!(
        e.book().open_orders(ACCOUNT, crate::catalog::Venue::Futures).next().is_none(),
        "invisible to /fapi/v1/order"
    );
    e.run_path(fut, &[dec!(98000), dec!(96500), dec!(99000)]);
    assert_eq!(
        event_names(&mut e),
        vec![
            "ALGO_UPDATE TRIGGERED",
            "ORDER_TRADE_UPDATE NEW NEW",
            "ORDER_TRADE_UPDATE TRADE FILLED",
            "ACCOUNT_UPDATE ORDER",
            "ALGO_UPDATE FINISHED"
        ]
    );
    let done = e.book().algo(placed.algo_id).unwrap();
    assert_eq!(
        (done.status, done.actual_price, done.actual_qty),
        (AlgoStatus::Finished, dec!(97000), dec!(0.01))
    );
    let order = e.book().order(done.actual_order_id.unwrap()).unwrap();
    assert_eq!(
        (order.order_type, order.orig_type, order.client_id.as_str()),
        (OrderType::Market, OrderType::StopMarket, done.client_algo_id.as_str())
    );
    assert!(e.accounts()[ACCOUNT].futures.positions.is_empty());
}

#[test]
fn would_trigger_and_parameter_rules() {
    let (mut e, _, fut) = engine_at(dec!(100000));
    let cases = [
        (
            AlgoRequest {
                qty: Some(dec!(0.01)),
                trigger_price: Some(dec!(101000)),
                ..algo(fut, Side::Sell, OrderType::StopMarket)
            },
            -2021,
        ),
        (
            AlgoRequest {
                qty: Some(dec!(0.01)),
                trigger_price: Some(dec!(99000)),
                ..algo(fut, Side::Sell, OrderType::TakeProfitMarket)
            },
            -2021,
        ),
        (
            AlgoRequest {
                qty: Some(dec!(0.01)),
                close_position: true,
                trigger_price: Some(dec!(99000)),
                ..algo(fut, Side::Sell, OrderType::StopMarket)
            },
            -4137,
        ),
        (AlgoRequest { qty: Some(dec!(0.01)), ..algo(fut, Side::Sell, OrderType::StopMarket) }, -1102),
        (
            AlgoRequest {
                qty: Some(dec!(0.01)),
                callback_rate: Some(dec!(11)),
                ..algo(fut, Side::Sell, OrderType::TrailingStopMarket)
            },
            -1130,
        ),
        (
            AlgoRequest {
                qty: Some(dec!(0.01)),
                trigger_price: Some(dec!(99000)),
                ..algo(fut, Side::Sell, OrderType::Market)
            },
            -1116,
        ),
    ];
    for (request, code) in cases {
        assert_eq!(
            e.algo_place(ACCOUNT, request.clone()).map(|_| 0).unwrap_or_else(|err| err.code),
            code,
            "{request:?}"
        );
    }
}

#[test]
fn trailing_stop_follows_the_peak() {
    let (mut e, _, fut) = engine_at(dec!(100000));
    long(&mut e, fut, dec!(0.01));
    let trail = AlgoRequest {
        qty: Some(dec!(0.01)),
        reduce_only: true,
        callback_rate: Some(dec!(2)),
        activate_price: Some(dec!(101000)),
        ..algo(fut, Side::Sell, OrderType::TrailingStopMarket)
    };
    let placed = e.algo_place(ACCOUNT, trail).unwrap();
    e.run_path(fut, &[dec!(97000), dec!(100500)]);
    assert!(e.book().algo_open(placed.algo_id), "not active before 101000");
    e.run_path(fut, &[dec!(105000), dec!(103000)]);
    assert!(e.book().algo_open(placed.algo_id), "1.9 % below the peak");
    e.run_path(fut, &[dec!(102000)]);
    let done = e.book().algo(placed.algo_id).unwrap();
    assert_eq!((done.status, done.actual_price), (AlgoStatus::Finished, dec!(102900)), "105000 * 0.98");
}

#[test]
fn take_profit_on_mark_price_and_cancel() {
    let (mut e, _, fut) = engine_at(dec!(100000));
    long(&mut e, fut, dec!(0.01));
    let tp = AlgoRequest {
        qty: Some(dec!(0.01)),
        reduce_only: true,
        trigger_price: Some(dec!(105000)),
        working_type: WorkingType::MarkPrice,
        client_algo_id: Some("tp-1".into()),
        ..algo(fut, Side::Sell, OrderType::TakeProfitMarket)
    };
    let cancelled = e.algo_place(ACCOUNT, tp.clone()).unwrap();
    assert_eq!(e.algo_place(ACCOUNT, tp.clone()).unwrap_err().code, -4116);
    e.algo_cancel(ACCOUNT, None, Some("tp-1")).unwrap();
    assert_eq!(e.book().algo(cancelled.algo_id).unwrap().status, AlgoStatus::Canceled);
    assert_eq!(e.algo_cancel(ACCOUNT, Some(cancelled.algo_id), None).unwrap_err().code, -2011);
    let placed = e.algo_place(ACCOUNT, tp).unwrap();
    e.run_path(fut, &[dec!(106000)]);
    let done = e.book().algo(placed.algo_id).unwrap();
    assert_eq!((done.status, done.actual_price), (AlgoStatus::Finished, dec!(105000)));
}

#[test]
fn close_position_without_a_position_expires() {
    let (mut e, _, fut) = engine_at(dec!(100000));
    let stop = AlgoRequest {
        close_position: true,
        trigger_price: Some(dec!(99000)),
        ..algo(fut, Side::Sell, OrderType::StopMarket)
    };
    let placed = e.algo_place(ACCOUNT, stop).unwrap();
    e.run_path(fut, &[dec!(98000)]);
    assert_eq!(e.book().algo(placed.algo_id).unwrap().status, AlgoStatus::Expired);
}

#[test]
fn stop_limit_algo_places_a_resting_limit_on_trigger() {
    let (mut e, _, fut) = engine_at(dec!(100000));
    long(&mut e, fut, dec!(0.01));
    let stop = AlgoRequest {
        qty: Some(dec!(0.01)),
        reduce_only: true,
        trigger_price: Some(dec!(99000)),
        price: Some(dec!(99500)),
        ..algo(fut, Side::Sell, OrderType::Stop)
    };
    let placed = e.algo_place(ACCOUNT, stop).unwrap();
    e.run_path(fut, &[dec!(98000)]);
    let triggered = e.book().algo(placed.algo_id).unwrap().clone();
    assert_eq!(triggered.status, AlgoStatus::Triggered, "its limit order rests above the market");
    let order = e.book().order(triggered.actual_order_id.unwrap()).unwrap().clone();
    assert_eq!(
        (order.order_type, order.orig_type, order.price),
        (OrderType::Limit, OrderType::Stop, dec!(99500))
    );
    assert!(e.book().is_open(order.order_id));
    e.run_path(fut, &[dec!(99600)]);
    let done = e.book().algo(placed.algo_id).unwrap();
    assert_eq!((done.status, done.actual_price), (AlgoStatus::Finished, dec!(99500)));
    assert!(e.accounts()[ACCOUNT].futures.positions.is_empty());
}
