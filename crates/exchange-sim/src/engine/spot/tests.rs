//! Spot matching: every order type, fees, locks, and Binance's rejections.

use exchange_core::Side;
use rust_decimal_macros::dec;

use super::SpotOrderRequest;
use crate::engine::testkit::{ACCOUNT, engine_at, order_events};
use crate::engine::types::{OrderType, Status, Tif};

fn req(symbol: crate::catalog::SymbolId, side: Side, order_type: OrderType) -> SpotOrderRequest {
    SpotOrderRequest {
        symbol,
        side,
        order_type,
        tif: None,
        qty: None,
        quote_qty: None,
        price: None,
        stop_price: None,
        trailing_delta: None,
        client_id: None,
    }
}

#[test]
fn market_buy_pays_quote_and_commission_in_base() {
    let (mut e, spot, _) = engine_at(dec!(90000));
    let placed = e
        .spot_place(
            ACCOUNT,
            SpotOrderRequest { qty: Some(dec!(0.1)), ..req(spot, Side::Buy, OrderType::Market) },
        )
        .unwrap();
    assert_eq!(placed.order.status, Status::Filled);
    assert_eq!(placed.fills.len(), 1);
    assert_eq!((placed.fills[0].price, placed.fills[0].commission), (dec!(90000), dec!(0.0001)));
    let acc = &e.accounts()[ACCOUNT].spot;
    assert_eq!(acc.balance("USDT").free, dec!(91000));
    assert_eq!(acc.balance("BTC").free, dec!(1.0999));
    assert_eq!(order_events(&mut e), vec![("NEW".into(), "NEW".into()), ("TRADE".into(), "FILLED".into())]);
}

#[test]
fn quote_order_qty_market_sell_floors_to_step() {
    let (mut e, spot, _) = engine_at(dec!(90000));
    let placed = e
        .spot_place(
            ACCOUNT,
            SpotOrderRequest { quote_qty: Some(dec!(1000)), ..req(spot, Side::Sell, OrderType::Market) },
        )
        .unwrap();
    assert_eq!(placed.order.executed, dec!(0.01111));
    assert_eq!(e.accounts()[ACCOUNT].spot.balance("USDT").free, dec!(100000) + dec!(999.9) - dec!(0.9999));
}

#[test]
fn limit_buy_rests_locks_quote_and_fills_as_maker_when_crossed() {
    let (mut e, spot, _) = engine_at(dec!(90000));
    let placed = e
        .spot_place(
            ACCOUNT,
            SpotOrderRequest {
                qty: Some(dec!(0.5)),
                price: Some(dec!(89000)),
                tif: Some(Tif::Gtc),
                ..req(spot, Side::Buy, OrderType::Limit)
            },
        )
        .unwrap();
    assert_eq!(placed.order.status, Status::New);
    assert_eq!(e.accounts()[ACCOUNT].spot.balance("USDT").locked, dec!(44500));
    e.run_path(spot, &[dec!(89500), dec!(89100)]);
    assert!(e.book().is_open(placed.order.order_id), "not reached yet");
    e.run_path(spot, &[dec!(88800)]);
    let order = e.book().order(placed.order.order_id).unwrap();
    assert_eq!((order.status, order.avg_price()), (Status::Filled, dec!(89000)));
    let usdt = e.accounts()[ACCOUNT].spot.balance("USDT");
    assert_eq!((usdt.free, usdt.locked), (dec!(55500), dec!(0)));
    let maker = e.book().trades_of(ACCOUNT, crate::catalog::Venue::Spot, spot).last().unwrap().maker;
    assert!(maker);
}

#[test]
fn ioc_fok_and_limit_maker() {
    let (mut e, spot, _) = engine_at(dec!(90000));
    let limit = |tif, price| SpotOrderRequest {
        qty: Some(dec!(0.01)),
        price: Some(price),
        tif: Some(tif),
        ..req(spot, Side::Buy, OrderType::Limit)
    };
    let ioc = e.spot_place(ACCOUNT, limit(Tif::Ioc, dec!(89000))).unwrap();
    assert_eq!(ioc.order.status, Status::Expired);
    let fok = e.spot_place(ACCOUNT, limit(Tif::Fok, dec!(91000))).unwrap();
    assert_eq!((fok.order.status, fok.order.avg_price()), (Status::Filled, dec!(90000)), "better price");
    assert_eq!(e.accounts()[ACCOUNT].spot.balance("USDT").locked, dec!(0));
    let maker = SpotOrderRequest {
        qty: Some(dec!(0.01)),
        price: Some(dec!(90500)),
        ..req(spot, Side::Buy, OrderType::LimitMaker)
    };
    let err = e.spot_place(ACCOUNT, maker).unwrap_err();
    assert_eq!((err.code, err.msg.as_str()), (-2010, "Order would immediately match and take."));
}

#[test]
fn rejections_use_binance_codes() {
    let (mut e, spot, _) = engine_at(dec!(90000));
    let base = SpotOrderRequest {
        qty: Some(dec!(0.01)),
        price: Some(dec!(80000)),
        tif: Some(Tif::Gtc),
        client_id: Some("dup-1".into()),
        ..req(spot, Side::Buy, OrderType::Limit)
    };
    e.spot_place(ACCOUNT, base.clone()).unwrap();
    let dup = e.spot_place(ACCOUNT, base.clone()).unwrap_err();
    assert_eq!((dup.code, dup.msg.as_str()), (-2010, "Duplicate order sent."));
    let cases = [
        (
            SpotOrderRequest { qty: Some(dec!(0.000001)), client_id: None, ..base.clone() },
            -1013,
            "Filter failure: LOT_SIZE",
        ),
        (
            SpotOrderRequest { price: Some(dec!(80000.001)), client_id: None, ..base.clone() },
            -1013,
            "Filter failure: PRICE_FILTER",
        ),
        (
            SpotOrderRequest { qty: Some(dec!(0.00005)), client_id: None, ..base.clone() },
            -1013,
            "Filter failure: NOTIONAL",
        ),
        (
            SpotOrderRequest { qty: Some(dec!(5)), client_id: None, ..base.clone() },
            -2010,
            "Account has insufficient balance for requested action.",
        ),
        (
            SpotOrderRequest { tif: None, client_id: None, ..base.clone() },
            -1102,
            "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.",
        ),
        (
            SpotOrderRequest { client_id: Some("bad id!".into()), ..base.clone() },
            -1100,
            "Illegal characters found in parameter 'newClientOrderId'; legal range is '^[a-zA-Z0-9-_]{1,36}$'.",
        ),
    ];
    for (request, code, msg) in cases {
        let err = e.spot_place(ACCOUNT, request).unwrap_err();
        assert_eq!((err.code, err.msg.as_str()), (code, msg));
    }
    // Once the first is cancelled its client id is free again.
    e.cancel_order(ACCOUNT, crate::catalog::Venue::Spot, spot, None, Some("dup-1")).unwrap();
    e.spot_place(ACCOUNT, base).unwrap();
}

#[test]
fn stop_loss_triggers_inside_a_tick_and_fills_at_the_stop() {
    let (mut e, spot, _) = engine_at(dec!(90000));
    let stop = SpotOrderRequest {
        qty: Some(dec!(0.5)),
        stop_price: Some(dec!(88000)),
        ..req(spot, Side::Sell, OrderType::StopLoss)
    };
    let too_late = SpotOrderRequest { stop_price: Some(dec!(91000)), ..stop.clone() };
    assert_eq!(e.spot_place(ACCOUNT, too_late).unwrap_err().msg, "Order would trigger immediately.");
    let placed = e.spot_place(ACCOUNT, stop).unwrap();
    assert_eq!(e.accounts()[ACCOUNT].spot.balance("BTC").locked, dec!(0.5));
    e.run_path(spot, &[dec!(87000), dec!(89000)]);
    let order = e.book().order(placed.order.order_id).unwrap();
    assert_eq!((order.status, order.avg_price()), (Status::Filled, dec!(88000)));
    assert_eq!(
        e.accounts()[ACCOUNT].spot.balance("BTC"),
        crate::engine::accounts::SpotBalance { free: dec!(0.5), locked: dec!(0) }
    );
}

#[test]
fn trailing_take_profit_sells_after_a_pullback() {
    let (mut e, spot, _) = engine_at(dec!(90000));
    let tp = SpotOrderRequest {
        qty: Some(dec!(0.1)),
        stop_price: Some(dec!(92000)),
        trailing_delta: Some(200),
        ..req(spot, Side::Sell, OrderType::TakeProfit)
    };
    let placed = e.spot_place(ACCOUNT, tp).unwrap();
    e.run_path(spot, &[dec!(91000), dec!(89000)]);
    assert!(e.book().is_open(placed.order.order_id), "not activated below 92000");
    e.run_path(spot, &[dec!(95000), dec!(93500)]);
    assert!(e.book().is_open(placed.order.order_id), "1.6 % pullback < 2 %");
    e.run_path(spot, &[dec!(92000)]);
    let order = e.book().order(placed.order.order_id).unwrap();
    assert_eq!((order.status, order.avg_price()), (Status::Filled, dec!(93100)), "95000 * 0.98");
}

#[test]
fn partial_fill_fault_splits_a_market_order() {
    let (mut e, spot, _) = engine_at(dec!(90000));
    e.set_partial_fills(1);
    let placed = e
        .spot_place(
            ACCOUNT,
            SpotOrderRequest { qty: Some(dec!(0.3)), ..req(spot, Side::Buy, OrderType::Market) },
        )
        .unwrap();
    assert_eq!((placed.order.status, placed.order.executed), (Status::PartiallyFilled, dec!(0.15)));
    e.complete_deferred();
    let order = e.book().order(placed.order.order_id).unwrap();
    assert_eq!((order.status, order.executed), (Status::Filled, dec!(0.3)));
    assert_eq!(e.partial_fills(), 0);
}

#[test]
fn stop_loss_limit_rests_at_its_limit_after_triggering() {
    let (mut e, spot, _) = engine_at(dec!(90000));
    let request = SpotOrderRequest {
        qty: Some(dec!(0.1)),
        stop_price: Some(dec!(89000)),
        price: Some(dec!(88500)),
        tif: Some(Tif::Gtc),
        ..req(spot, Side::Sell, OrderType::StopLossLimit)
    };
    let placed = e.spot_place(ACCOUNT, request).unwrap();
    assert!(!placed.order.working);
    e.run_path(spot, &[dec!(88900)]);
    let order = e.book().order(placed.order.order_id).unwrap().clone();
    assert!(order.working, "triggered at 89000");
    assert_eq!(
        (order.status, order.executed),
        (Status::Filled, dec!(0.1)),
        "88500 limit is marketable at 89000"
    );
    assert_eq!(order.avg_price(), dec!(89000));
    let tp = SpotOrderRequest {
        qty: Some(dec!(0.1)),
        stop_price: Some(dec!(91000)),
        ..req(spot, Side::Sell, OrderType::TakeProfit)
    };
    let placed = e.spot_place(ACCOUNT, tp).unwrap();
    e.run_path(spot, &[dec!(90500)]);
    assert!(e.book().is_open(placed.order.order_id));
    e.run_path(spot, &[dec!(91500)]);
    let order = e.book().order(placed.order.order_id).unwrap();
    assert_eq!((order.status, order.avg_price()), (Status::Filled, dec!(91000)));
}
