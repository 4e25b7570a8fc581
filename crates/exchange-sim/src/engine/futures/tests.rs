//! USD-M matching: positions, fees, realized profit, and Binance's rejections.

use exchange_core::Side;
use rust_decimal_macros::dec;

use super::FuturesOrderRequest;
use crate::catalog::{SymbolId, Venue};
use crate::engine::accounts::MarginType;
use crate::engine::events::Event;
use crate::engine::testkit::{ACCOUNT, engine_at, order_events};
use crate::engine::types::{OrderType, Status, Tif};

fn market(symbol: SymbolId, side: Side, qty: rust_decimal::Decimal) -> FuturesOrderRequest {
    FuturesOrderRequest {
        symbol,
        side,
        order_type: OrderType::Market,
        tif: None,
        qty: Some(qty),
        price: None,
        reduce_only: false,
        position_side: None,
        client_id: None,
    }
}

fn limit(
    symbol: SymbolId,
    side: Side,
    qty: rust_decimal::Decimal,
    price: rust_decimal::Decimal,
    tif: Tif,
) -> FuturesOrderRequest {
    FuturesOrderRequest {
        order_type: OrderType::Limit,
        tif: Some(tif),
        price: Some(price),
        ..market(symbol, side, qty)
    }
}

#[test]
fn open_add_reduce_and_flip() {
    let (mut e, _, fut) = engine_at(dec!(100000));
    let placed = e.futures_place(ACCOUNT, market(fut, Side::Buy, dec!(0.01))).unwrap();
    assert_eq!((placed.order.status, placed.fills[0].commission), (Status::Filled, dec!(0.5)));
    let account_updates = e
        .take_events()
        .into_iter()
        .filter(|ev| matches!(ev, Event::FuturesAccount { reason: "ORDER", .. }))
        .count();
    assert_eq!(account_updates, 1);
    e.set_price(fut, dec!(102000)).unwrap();
    e.futures_place(ACCOUNT, market(fut, Side::Buy, dec!(0.01))).unwrap();
    let p = e.accounts()[ACCOUNT].futures.position(fut);
    assert_eq!((p.amount, p.entry), (dec!(0.02), dec!(101000)));
    let sell = e.futures_place(ACCOUNT, market(fut, Side::Sell, dec!(0.03))).unwrap();
    assert_eq!(sell.fills[0].realized_pnl, dec!(20), "0.02 * (102000 - 101000)");
    let p = e.accounts()[ACCOUNT].futures.position(fut);
    assert_eq!((p.amount, p.entry), (dec!(-0.01), dec!(102000)), "flipped short at the fill");
    // 10000 - fees (0.5 + 0.51 + 1.53) + 20
    assert_eq!(e.accounts()[ACCOUNT].futures.wallet, dec!(10017.46));
}

#[test]
fn limit_rests_then_fills_as_maker() {
    let (mut e, _, fut) = engine_at(dec!(100000));
    let placed = e.futures_place(ACCOUNT, limit(fut, Side::Buy, dec!(0.01), dec!(99000), Tif::Gtc)).unwrap();
    assert_eq!(placed.order.status, Status::New);
    assert!(e.open_order_im(ACCOUNT) > dec!(0));
    e.run_path(fut, &[dec!(99500), dec!(98000)]);
    let order = e.book().order(placed.order.order_id).unwrap();
    assert_eq!((order.status, order.avg_price()), (Status::Filled, dec!(99000)));
    let trade = e.book().trades_of(ACCOUNT, Venue::Futures, fut).last().unwrap();
    assert_eq!((trade.maker, trade.commission), (true, dec!(0.198)));
}

#[test]
fn time_in_force_variants() {
    let (mut e, _, fut) = engine_at(dec!(100000));
    let ioc = e.futures_place(ACCOUNT, limit(fut, Side::Buy, dec!(0.01), dec!(99000), Tif::Ioc)).unwrap();
    assert_eq!(ioc.order.status, Status::Expired);
    assert_eq!(
        e.futures_place(ACCOUNT, limit(fut, Side::Buy, dec!(0.01), dec!(99000), Tif::Fok)).unwrap_err().code,
        -5021
    );
    assert_eq!(
        e.futures_place(ACCOUNT, limit(fut, Side::Buy, dec!(0.01), dec!(100100), Tif::Gtx)).unwrap_err().code,
        -5022
    );
    let gtx = e.futures_place(ACCOUNT, limit(fut, Side::Buy, dec!(0.01), dec!(99900), Tif::Gtx)).unwrap();
    assert_eq!(gtx.order.status, Status::New);
    let fok = e.futures_place(ACCOUNT, limit(fut, Side::Sell, dec!(0.01), dec!(99900), Tif::Fok)).unwrap();
    assert_eq!((fok.order.status, fok.order.avg_price()), (Status::Filled, dec!(100000)));
    order_events(&mut e);
}

#[test]
fn rejections_use_binance_codes() {
    let (mut e, _, fut) = engine_at(dec!(99000));
    let stop =
        FuturesOrderRequest { order_type: OrderType::StopMarket, ..market(fut, Side::Sell, dec!(0.01)) };
    let cases = [
        (stop, -4120),
        (market(fut, Side::Buy, dec!(0.0005)), -4004),
        (market(fut, Side::Buy, dec!(0.0015)), -4023),
        (market(fut, Side::Buy, dec!(0.001)), -4164),
        (limit(fut, Side::Buy, dec!(0.01), dec!(98000.05), Tif::Gtc), -4014),
        (limit(fut, Side::Buy, dec!(0.01), dec!(110000), Tif::Gtc), -4016),
        (limit(fut, Side::Sell, dec!(0.01), dec!(90000), Tif::Gtc), -4024),
        (FuturesOrderRequest { reduce_only: true, ..market(fut, Side::Sell, dec!(0.01)) }, -2022),
        (market(fut, Side::Buy, dec!(5)), -2019),
        (
            FuturesOrderRequest { position_side: Some("LONG".into()), ..market(fut, Side::Buy, dec!(0.01)) },
            -4061,
        ),
        (
            FuturesOrderRequest { client_id: Some("x".repeat(37)), ..market(fut, Side::Buy, dec!(0.01)) },
            -4015,
        ),
    ];
    for (request, code) in cases {
        assert_eq!(
            e.futures_place(ACCOUNT, request.clone()).map(|_| 0).unwrap_or_else(|err| err.code),
            code,
            "{request:?}"
        );
    }
    let resting = FuturesOrderRequest {
        client_id: Some("c1".into()),
        ..limit(fut, Side::Buy, dec!(0.01), dec!(98000), Tif::Gtc)
    };
    e.futures_place(ACCOUNT, resting.clone()).unwrap();
    assert_eq!(e.futures_place(ACCOUNT, resting).unwrap_err().code, -4116);
}

#[test]
fn reduce_only_is_exempt_from_min_notional_and_capped_to_the_position() {
    let (mut e, _, fut) = engine_at(dec!(100000));
    e.futures_place(ACCOUNT, market(fut, Side::Buy, dec!(0.002))).unwrap();
    let small = FuturesOrderRequest { reduce_only: true, ..market(fut, Side::Sell, dec!(0.001)) };
    assert_eq!(e.futures_place(ACCOUNT, small).unwrap().order.status, Status::Filled);
    let big = FuturesOrderRequest { reduce_only: true, ..market(fut, Side::Sell, dec!(0.005)) };
    let placed = e.futures_place(ACCOUNT, big).unwrap();
    assert_eq!((placed.order.status, placed.order.executed), (Status::Filled, dec!(0.001)));
    assert!(e.accounts()[ACCOUNT].futures.positions.is_empty());
}

#[test]
fn leverage_and_margin_type() {
    let (mut e, _, fut) = engine_at(dec!(100000));
    assert_eq!(e.set_leverage(ACCOUNT, fut, 126).unwrap_err().code, -4028);
    let (lev, max_notional) = e.set_leverage(ACCOUNT, fut, 10).unwrap();
    assert_eq!((lev, max_notional), (10, dec!(230000000)));
    assert_eq!(e.set_margin_type(ACCOUNT, fut, MarginType::Cross).unwrap_err().code, -4046);
    e.set_margin_type(ACCOUNT, fut, MarginType::Isolated).unwrap();
    e.futures_place(ACCOUNT, market(fut, Side::Buy, dec!(0.01))).unwrap();
    let p = e.accounts()[ACCOUNT].futures.position(fut);
    assert_eq!(p.isolated_wallet, dec!(100));
    assert_eq!(e.set_margin_type(ACCOUNT, fut, MarginType::Cross).unwrap_err().code, -4048);
    // 10000 - 0.5 fee - 100 isolated - IM of nothing else
    assert_eq!(e.futures_available(ACCOUNT), dec!(9899.5));
}
