//! Funding at the 8-hour boundaries and liquidation at the mark price.

use exchange_core::Side;
use rust_decimal_macros::dec;

use crate::catalog::Venue;
use crate::engine::accounts::MarginType;
use crate::engine::events::Event;
use crate::engine::futures::FuturesOrderRequest;
use crate::engine::testkit::{ACCOUNT, engine_at};
use crate::engine::types::OrderType;
use crate::time::HOUR_MS;

fn market(symbol: crate::catalog::SymbolId, side: Side, qty: rust_decimal::Decimal) -> FuturesOrderRequest {
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

#[test]
fn funding_is_paid_at_each_eight_hour_boundary() {
    let (mut e, _, fut) = engine_at(dec!(100000));
    e.set_funding_rate(fut, Some(dec!(0.0001)));
    e.futures_place(ACCOUNT, market(fut, Side::Buy, dec!(0.01))).unwrap();
    e.take_events();
    let start = e.now();
    e.advance_to(start + 7 * HOUR_MS, &[]);
    assert!(
        e.take_events().iter().all(|ev| !matches!(ev, Event::FuturesAccount { reason: "FUNDING_FEE", .. }))
    );
    let wallet = e.accounts()[ACCOUNT].futures.wallet;
    e.advance_to(start + 8 * HOUR_MS, &[]);
    let record = *e.book().funding_of(Some(fut)).last().unwrap();
    assert_eq!((record.time, record.rate), (start + 8 * HOUR_MS, dec!(0.0001)));
    let income = (dec!(-0.01) * record.mark * record.rate).round_dp(8);
    let events = e.take_events();
    let change = events.iter().find_map(|ev| match ev {
        Event::FuturesAccount { reason: "FUNDING_FEE", balance_change, .. } => Some(*balance_change),
        _ => None,
    });
    assert_eq!(change, Some(income));
    assert_eq!(e.accounts()[ACCOUNT].futures.wallet, wallet + income);
    assert_eq!(e.book().income_of(ACCOUNT).last().unwrap().kind, "FUNDING_FEE");
}

#[test]
fn isolated_position_is_liquidated_on_a_shock_and_loses_its_margin() {
    let (mut e, _, fut) = engine_at(dec!(100000));
    e.set_leverage(ACCOUNT, fut, 20).unwrap();
    e.set_margin_type(ACCOUNT, fut, MarginType::Isolated).unwrap();
    e.futures_place(ACCOUNT, market(fut, Side::Buy, dec!(0.1))).unwrap();
    let lp = e.liquidation_price(ACCOUNT, fut).unwrap();
    assert!(lp > dec!(95000) && lp < dec!(96000), "{lp}");
    let wallet = e.accounts()[ACCOUNT].futures.wallet;
    e.take_events();
    e.shock(fut, -10.0).unwrap();
    assert!(e.accounts()[ACCOUNT].futures.positions.is_empty());
    assert_eq!(e.accounts()[ACCOUNT].futures.wallet, wallet - dec!(500), "the whole isolated margin");
    let liquidation = e.take_events().into_iter().find_map(|ev| match ev {
        Event::FuturesOrder { order, .. } if order.order_type == OrderType::Liquidation => Some(order),
        _ => None,
    });
    let order = liquidation.expect("a LIQUIDATION order report");
    assert!(order.client_id.starts_with("autoclose-"));
    assert_eq!(order.side, Side::Sell);
    // Regression: the execution was reported at the shocked price (a loss of 10,000 on 0.1 BTC
    // for an account that lost 500), so an agent accounting fills lost twenty times its margin.
    // At the bankruptcy price 100,000 - 500 / 0.1 = 95,000 the fill's loss is the margin.
    assert_eq!(order.avg_price(), dec!(95000));
    let trade = e.book().trades_of(ACCOUNT, Venue::Futures, fut).last().unwrap().clone();
    assert_eq!((trade.price, trade.realized_pnl), (dec!(95000), dec!(-500)));
    assert!(e.book().orders_of(ACCOUNT, fut).iter().any(|o| o.order_type == OrderType::Liquidation));
}

#[test]
fn cross_position_is_liquidated_when_the_mark_crosses_its_price() {
    let (mut e, _, fut) = engine_at(dec!(100000));
    e.set_leverage(ACCOUNT, fut, 50).unwrap();
    e.futures_place(ACCOUNT, market(fut, Side::Buy, dec!(1))).unwrap();
    let lp = e.liquidation_price(ACCOUNT, fut).unwrap();
    assert!(lp > dec!(90000) && lp < dec!(91000), "{lp}");
    e.run_path(fut, &[dec!(92000)]);
    assert!(!e.accounts()[ACCOUNT].futures.positions.is_empty());
    e.run_path(fut, &[dec!(89000)]);
    assert!(e.accounts()[ACCOUNT].futures.positions.is_empty());
    let wallet = e.accounts()[ACCOUNT].futures.wallet;
    assert!(wallet >= dec!(0) && wallet < dec!(100), "{wallet}");
}

/// Regression: two positions liquidated in the same tick got the same client id.
#[test]
fn liquidations_in_the_same_tick_have_their_own_client_ids() {
    let (a, b) = (
        super::autoclose_id(1_767_283_200_000, 4_000_000_017),
        super::autoclose_id(1_767_283_200_000, 4_000_000_018),
    );
    assert_ne!(a, b);
    assert!(a.starts_with("autoclose-1767283200000") && b.starts_with("autoclose-"));
}
