//! The paper broker's state machine, driven by hand-made price events: fills, fees, triggers,
//! position rules, funds, funding and restore, to the cent.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::broker::Broker;
use super::config::{PaperConfig, PaperSnapshot, RestingOrder};
use crate::model::{
    Bar, ClientOrderId, InstrumentRules, MarginMode, Notional, OrderKind, OrderRequest, OrderStatus,
    Position, PositionSide, Price, Qty, Side, Symbol, TimeInForce,
};
use crate::venue::{KlineInterval, KlineUpdate, MarkPrice, MarketEvent, VenueError, VenueEvent};

fn btc() -> Symbol {
    Symbol::new("BTCUSDT").unwrap()
}

fn eth() -> Symbol {
    Symbol::new("ETHUSDT").unwrap()
}

fn rules(symbol: &Symbol) -> InstrumentRules {
    let (tick, step, min_notional) = if symbol == &btc() {
        (dec!(0.10), dec!(0.001), dec!(100))
    } else {
        (dec!(0.01), dec!(0.0001), dec!(5))
    };
    InstrumentRules::new(
        symbol.clone(),
        Price::new(tick),
        Qty::new(step),
        Qty::new(step),
        Some(Qty::new(dec!(1000))),
        Notional::new(min_notional),
    )
    .unwrap()
}

fn futures(capital: Decimal) -> Broker {
    Broker::new(PaperConfig { id_stamp: 7, ..PaperConfig::usdm(capital) }).unwrap()
}

fn spot(balances: &[(&str, Decimal)]) -> Broker {
    let balances = balances.iter().map(|(a, v)| ((*a).to_owned(), *v)).collect();
    Broker::new(PaperConfig { id_stamp: 7, ..PaperConfig::spot(balances) }).unwrap()
}

fn last(b: &mut Broker, symbol: &Symbol, price: Decimal, time: i64) {
    let p = Price::new(price);
    let bar =
        Bar { open_time_ms: time - time % 60_000, open: p, high: p, low: p, close: p, volume: Decimal::ONE };
    let k = KlineUpdate {
        symbol: symbol.clone(),
        interval: KlineInterval::M1,
        bar,
        closed: false,
        time_exchange: time,
    };
    b.on_market(&MarketEvent::Kline(k));
}

fn mark_at(b: &mut Broker, price: Decimal, time: i64, rate: Decimal, next_funding: i64) {
    b.on_market(&MarketEvent::MarkPrice(MarkPrice {
        symbol: btc(),
        mark_price: Price::new(price),
        index_price: None,
        funding_rate: rate,
        next_funding_time: next_funding,
        time_exchange: time,
    }));
}

fn mark(b: &mut Broker, price: Decimal, time: i64) {
    mark_at(b, price, time, Decimal::ZERO, 28_800_000);
}

fn id(text: &str) -> ClientOrderId {
    ClientOrderId::new(text).unwrap()
}

fn order(name: &str, symbol: &Symbol, side: Side, kind: OrderKind, qty: Decimal) -> OrderRequest {
    OrderRequest {
        client_order_id: id(name),
        symbol: symbol.clone(),
        side,
        kind,
        qty: Qty::new(qty),
        reduce_only: false,
        close_position: false,
    }
}

fn reduce(o: OrderRequest) -> OrderRequest {
    OrderRequest { reduce_only: true, ..o }
}

fn closing(o: OrderRequest) -> OrderRequest {
    OrderRequest { close_position: true, qty: Qty::ZERO, ..o }
}

fn stop(trigger: Decimal) -> OrderKind {
    OrderKind::StopMarket { trigger: Price::new(trigger) }
}

fn trailing(rate: Decimal, activation: Option<Decimal>) -> OrderKind {
    OrderKind::TrailingStop { callback_rate: rate, activation: activation.map(Price::new) }
}

fn place(b: &mut Broker, o: &OrderRequest) -> Result<crate::venue::OrderAck, VenueError> {
    b.place(o, rules(&o.symbol), None)
}

fn wallet(b: &Broker, asset: &str) -> (Decimal, Decimal) {
    b.balances()
        .iter()
        .find(|x| x.asset == asset)
        .map_or((Decimal::ZERO, Decimal::ZERO), |x| (x.wallet.get(), x.free.get()))
}

/// The signed BTC position.
fn held(b: &Broker) -> Decimal {
    b.positions().iter().map(|p| p.side.sign() * p.qty.get()).sum()
}

fn fills(events: &[VenueEvent]) -> Vec<(String, Decimal, Decimal, i64)> {
    events
        .iter()
        .filter_map(|e| match e {
            VenueEvent::Fill(f) => {
                Some((f.client_order_id.to_string(), f.qty.get(), f.price.get(), f.time_exchange))
            }
            _ => None,
        })
        .collect()
}

fn rejected(result: Result<crate::venue::OrderAck, VenueError>) -> i64 {
    match result {
        Err(VenueError::Rejected { code, .. }) => code,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

fn invalid(result: Result<crate::venue::OrderAck, VenueError>) -> &'static str {
    match result {
        Err(VenueError::InvalidOrder { filter, .. }) => filter,
        other => panic!("expected an invalid order, got {other:?}"),
    }
}

/// A broker with a long of 0.010 BTC at 50000 (fee 0.25 paid), last 50000, mark 50010.
fn long_btc() -> Broker {
    let mut b = futures(dec!(10000));
    mark(&mut b, dec!(50010), 900);
    last(&mut b, &btc(), dec!(50000), 1000);
    place(&mut b, &order("en-1", &btc(), Side::Buy, OrderKind::Market, dec!(0.010))).unwrap();
    b.take_events();
    b
}

#[test]
fn market_order_fills_at_the_last_price_with_the_taker_fee_to_the_cent() {
    let mut b = futures(dec!(10000));
    mark(&mut b, dec!(50010), 900);
    last(&mut b, &btc(), dec!(50000), 1000);
    let ack = place(&mut b, &order("en-1", &btc(), Side::Buy, OrderKind::Market, dec!(0.0109))).unwrap();
    assert_eq!(ack.order.status, OrderStatus::Filled);
    let fill = &ack.fills[0];
    assert_eq!(
        (fill.qty.get(), fill.price.get(), fill.fee, fill.fee_asset.as_str()),
        (dec!(0.010), dec!(50000), dec!(0.25), "USDT")
    );
    assert_eq!(fill.time_exchange, 1000, "timed at the price's exchange time");
    let events = b.take_events();
    assert!(
        matches!(&events[0], VenueEvent::Order(u) if u.status == OrderStatus::Filled && u.fill.as_ref() == Some(fill))
    );
    assert!(matches!(&events[1], VenueEvent::Fill(f) if f == fill));
    assert!(
        matches!(&events[2], VenueEvent::Account(a) if a.reason == "ORDER" && a.balances[0].wallet.get() == dec!(9999.75))
    );
    let p = &b.positions()[0];
    assert_eq!(
        (p.side, p.qty.get(), p.entry_price.get(), p.leverage, p.margin_mode),
        (PositionSide::Long, dec!(0.010), dec!(50000), 20, MarginMode::Isolated)
    );
    assert_eq!(p.liquidation_price, None, "liquidation is not simulated");
    // Wallet less the fee; free less the initial margin 500 / 20.
    assert_eq!(wallet(&b, "USDT"), (dec!(9999.75), dec!(9974.75)));
    last(&mut b, &btc(), dec!(51000), 2000);
    let close =
        place(&mut b, &reduce(order("cl-1", &btc(), Side::Sell, OrderKind::Market, dec!(0.010)))).unwrap();
    assert_eq!(close.fills[0].fee, dec!(0.255));
    // +10 realized, -0.255 fee.
    assert_eq!(wallet(&b, "USDT"), (dec!(10009.495), dec!(10009.495)));
    assert!(b.positions().is_empty());
}

#[test]
fn slippage_moves_taker_fills_against_the_trader_onto_the_tick() {
    let mut b = Broker::new(PaperConfig { slippage: dec!(0.001), ..PaperConfig::usdm(dec!(10000)) }).unwrap();
    mark(&mut b, dec!(50000), 1000);
    last(&mut b, &btc(), dec!(50000.3), 1000);
    let buy = place(&mut b, &order("a", &btc(), Side::Buy, OrderKind::Market, dec!(0.010))).unwrap();
    // 50000.3 * 1.001 = 50050.3003, up to the tick.
    assert_eq!(buy.fills[0].price.get(), dec!(50050.4));
    let sell = place(&mut b, &order("b", &btc(), Side::Sell, OrderKind::Market, dec!(0.010))).unwrap();
    // 50000.3 * 0.999 = 49950.2997, down to the tick.
    assert_eq!(sell.fills[0].price.get(), dec!(49950.2));
}

#[test]
fn a_stop_triggers_on_the_mark_and_close_position_orders_never_flip() {
    let mut b = long_btc();
    place(&mut b, &closing(order("sl-1", &btc(), Side::Sell, stop(dec!(48500)), dec!(0)))).unwrap();
    let tp = OrderKind::TakeProfitMarket { trigger: Price::new(dec!(52500)) };
    place(&mut b, &closing(order("tp-1", &btc(), Side::Sell, tp, dec!(0)))).unwrap();
    assert_eq!(b.open_orders(Some(&btc())).len(), 2);
    // The last price alone does not trigger a mark-price stop.
    last(&mut b, &btc(), dec!(48000), 1500);
    assert!(fills(&b.take_events()).is_empty());
    // The mark does, and fills at the worse of the mark and the last trade.
    mark(&mut b, dec!(48400), 2000);
    assert_eq!(fills(&b.take_events()), [("sl-1".to_owned(), dec!(0.010), dec!(48400), 2000)]);
    assert_eq!(held(&b), dec!(0));
    // The take profit firing with no position expires instead of opening a short.
    mark(&mut b, dec!(52600), 3000);
    let events = b.take_events();
    assert!(fills(&events).is_empty());
    assert!(events.iter().any(|e| matches!(e, VenueEvent::Order(u) if u.client_order_id == id("tp-1") && u.status == OrderStatus::Expired && u.reason.as_deref() == Some("No position to close."))));
    assert_eq!(held(&b), dec!(0));
    assert!(b.open_orders(None).is_empty());
    // -0.25 entry fee, -16 loss, -0.242 exit fee.
    assert_eq!(wallet(&b, "USDT").0, dec!(9983.508));
}

#[test]
fn reduce_only_is_cut_to_the_position_and_refused_without_one() {
    let mut b = long_btc();
    let ack =
        place(&mut b, &reduce(order("cl-1", &btc(), Side::Sell, OrderKind::Market, dec!(0.050)))).unwrap();
    assert_eq!(ack.fills[0].qty.get(), dec!(0.010));
    assert_eq!(ack.order.filled_qty.get(), dec!(0.010));
    assert_eq!(held(&b), dec!(0), "no flip to a short");
    assert_eq!(
        rejected(place(&mut b, &reduce(order("cl-2", &btc(), Side::Sell, OrderKind::Market, dec!(0.010))))),
        -2022
    );
    // A resting reduce-only trailing stop firing when flat is rejected, not filled.
    place(&mut b, &reduce(order("ts-1", &btc(), Side::Sell, trailing(dec!(0.01), None), dec!(0.010))))
        .unwrap();
    b.take_events();
    mark(&mut b, dec!(49000), 3000);
    let events = b.take_events();
    assert!(fills(&events).is_empty());
    assert!(events.iter().any(|e| matches!(e, VenueEvent::Order(u) if u.status == OrderStatus::Rejected && u.reason.as_deref() == Some("ReduceOnly Order is rejected."))));
    assert_eq!(held(&b), dec!(0));
}

#[test]
fn a_non_reduce_order_larger_than_the_position_flips_it() {
    let mut b = long_btc();
    place(&mut b, &order("x", &btc(), Side::Sell, OrderKind::Market, dec!(0.030))).unwrap();
    let p = &b.positions()[0];
    assert_eq!((p.side, p.qty.get(), p.entry_price.get()), (PositionSide::Short, dec!(0.020), dec!(50000)));
}

#[test]
fn a_trailing_stop_follows_the_peak() {
    let mut b = long_btc();
    place(&mut b, &reduce(order("ts-1", &btc(), Side::Sell, trailing(dec!(0.05), None), dec!(0.010))))
        .unwrap();
    for (i, price) in [dec!(52000), dec!(54000), dec!(51400)].into_iter().enumerate() {
        mark(&mut b, price, 2000 + i as i64);
        assert!(fills(&b.take_events()).is_empty(), "{price}: the stop is 54000 * 0.95 = 51300");
    }
    mark(&mut b, dec!(51300), 3000);
    assert_eq!(fills(&b.take_events()), [("ts-1".to_owned(), dec!(0.010), dec!(51300), 3000)]);
}

#[test]
fn a_trailing_stop_with_an_activation_price_waits_for_it() {
    let mut b = long_btc();
    place(
        &mut b,
        &reduce(order("ts-1", &btc(), Side::Sell, trailing(dec!(0.05), Some(dec!(55000))), dec!(0.010))),
    )
    .unwrap();
    for (i, price) in [dec!(54000), dec!(50000), dec!(56000), dec!(53300)].into_iter().enumerate() {
        mark(&mut b, price, 2000 + i as i64);
        assert!(fills(&b.take_events()).is_empty(), "{price}");
    }
    mark(&mut b, dec!(53200), 3000);
    assert_eq!(fills(&b.take_events()).len(), 1, "56000 * 0.95 = 53200");
}

#[test]
fn a_client_order_id_is_never_accepted_twice() {
    let mut b = long_btc();
    let again = order("en-1", &btc(), Side::Buy, OrderKind::Market, dec!(0.010));
    assert_eq!(rejected(place(&mut b, &again)), -4116);
    place(&mut b, &closing(order("sl-1", &btc(), Side::Sell, stop(dec!(40000)), dec!(0)))).unwrap();
    assert_eq!(
        rejected(place(&mut b, &closing(order("sl-1", &btc(), Side::Sell, stop(dec!(41000)), dec!(0))))),
        -4116
    );
    assert_eq!(held(&b), dec!(0.010), "the refused repeat did not trade");
    let mut s = spot(&[("USDT", dec!(1000))]);
    last(&mut s, &eth(), dec!(2000), 1000);
    place(&mut s, &order("ma-1", &eth(), Side::Buy, OrderKind::Market, dec!(0.1))).unwrap();
    assert_eq!(
        rejected(place(&mut s, &order("ma-1", &eth(), Side::Buy, OrderKind::Market, dec!(0.1)))),
        -2010
    );
}

#[test]
fn spot_buys_pay_the_fee_in_the_base_asset_and_sells_in_the_quote() {
    let mut s = spot(&[("USDT", dec!(10000))]);
    last(&mut s, &eth(), dec!(2000), 1000);
    let buy = place(&mut s, &order("b", &eth(), Side::Buy, OrderKind::Market, dec!(0.5))).unwrap();
    assert_eq!((buy.fills[0].fee, buy.fills[0].fee_asset.as_str()), (dec!(0.0005), "ETH"));
    assert_eq!((wallet(&s, "ETH").0, wallet(&s, "USDT").0), (dec!(0.4995), dec!(9000)));
    assert!(s.positions().is_empty());
    last(&mut s, &eth(), dec!(2100), 2000);
    let sell = place(&mut s, &order("s", &eth(), Side::Sell, OrderKind::Market, dec!(0.4995))).unwrap();
    assert_eq!((sell.fills[0].fee, sell.fills[0].fee_asset.as_str()), (dec!(1.04895), "USDT"));
    assert_eq!(wallet(&s, "USDT").0, dec!(10047.90105));
    assert_eq!(wallet(&s, "ETH").0, dec!(0));
    assert_eq!(
        rejected(place(&mut s, &order("s2", &eth(), Side::Sell, OrderKind::Market, dec!(0.1)))),
        -2010
    );
    assert_eq!(rejected(place(&mut s, &order("b2", &eth(), Side::Buy, OrderKind::Market, dec!(5)))), -2010);
    assert!(matches!(s.set_leverage(&eth(), 5), Err(VenueError::Unsupported { .. })));
}

#[test]
fn a_spot_trailing_stop_locks_its_base_and_fires_on_the_delta() {
    let mut s = spot(&[("ETH", dec!(1)), ("USDT", dec!(0))]);
    last(&mut s, &eth(), dec!(2000), 1000);
    // trailingDelta 200 BIPS.
    place(&mut s, &order("ts", &eth(), Side::Sell, trailing(dec!(0.02), None), dec!(1))).unwrap();
    let eth_balance = s.balances().into_iter().find(|b| b.asset == "ETH").unwrap();
    assert_eq!((eth_balance.free.get(), eth_balance.locked.get()), (dec!(0), dec!(1)));
    last(&mut s, &eth(), dec!(2100), 2000);
    last(&mut s, &eth(), dec!(2058.01), 3000);
    assert!(fills(&s.take_events()).is_empty());
    last(&mut s, &eth(), dec!(2058), 4000);
    assert_eq!(fills(&s.take_events()), [("ts".to_owned(), dec!(1), dec!(2058), 4000)]);
    assert_eq!(wallet(&s, "USDT").0, dec!(2055.942));
    assert_eq!(wallet(&s, "ETH").0, dec!(0));
}

#[test]
fn orders_breaking_the_filters_are_refused_naming_the_filter() {
    let mut b = futures(dec!(10000));
    mark(&mut b, dec!(50000), 900);
    last(&mut b, &btc(), dec!(50000), 1000);
    let cases = [
        (order("a", &btc(), Side::Buy, OrderKind::Market, dec!(0.0005)), "LOT_SIZE"),
        (order("b", &btc(), Side::Buy, OrderKind::Market, dec!(0.001)), "MIN_NOTIONAL"),
        (reduce(order("c", &btc(), Side::Sell, trailing(dec!(0.2), None), dec!(0.010))), "callbackRate"),
        (closing(order("d", &btc(), Side::Sell, OrderKind::Market, dec!(0))), "closePosition"),
    ];
    for (o, filter) in cases {
        assert_eq!(invalid(place(&mut b, &o)), filter, "{o:?}");
    }
    let mut s = spot(&[("ETH", dec!(1))]);
    last(&mut s, &eth(), dec!(2000), 1000);
    assert_eq!(
        invalid(place(&mut s, &order("e", &eth(), Side::Sell, trailing(dec!(0.00005), None), dec!(1)))),
        "TRAILING_DELTA"
    );
    assert_eq!(
        invalid(place(&mut s, &closing(order("f", &eth(), Side::Sell, stop(dec!(1900)), dec!(0))))),
        "closePosition"
    );
    assert!(b.open_orders(None).is_empty() && s.open_orders(None).is_empty());
}

#[test]
fn a_trigger_already_crossed_is_refused() {
    let mut b = long_btc();
    assert_eq!(
        rejected(place(&mut b, &closing(order("sl", &btc(), Side::Sell, stop(dec!(50100)), dec!(0))))),
        -2021
    );
    let tp = OrderKind::TakeProfitMarket { trigger: Price::new(dec!(50000)) };
    assert_eq!(rejected(place(&mut b, &closing(order("tp", &btc(), Side::Sell, tp, dec!(0))))), -2021);
    let mut s = spot(&[("ETH", dec!(1))]);
    last(&mut s, &eth(), dec!(2000), 1000);
    assert_eq!(rejected(place(&mut s, &order("sl", &eth(), Side::Sell, stop(dec!(2100)), dec!(1)))), -2010);
}

#[test]
fn limit_orders_rest_hold_margin_and_fill_at_their_price_as_maker() {
    let mut b = futures(dec!(10000));
    mark(&mut b, dec!(50000), 900);
    last(&mut b, &btc(), dec!(50000), 1000);
    let limit = |p| OrderKind::Limit { price: Price::new(p), time_in_force: TimeInForce::Gtc };
    let ack = place(&mut b, &order("l1", &btc(), Side::Buy, limit(dec!(49000)), dec!(0.010))).unwrap();
    assert_eq!(ack.order.status, OrderStatus::New);
    assert_eq!(wallet(&b, "USDT"), (dec!(10000), dec!(9975.5)), "490 / 20 held");
    last(&mut b, &btc(), dec!(49500), 2000);
    assert!(fills(&b.take_events()).is_empty());
    last(&mut b, &btc(), dec!(48900), 3000);
    let got = b.take_events();
    assert_eq!(fills(&got), [("l1".to_owned(), dec!(0.010), dec!(49000), 3000)]);
    assert!(got.iter().any(|e| matches!(e, VenueEvent::Fill(f) if f.fee == dec!(0.098))), "maker fee 0.0002");
    // Post-only that would take, IOC that cannot fill.
    let gtx = OrderKind::Limit { price: Price::new(dec!(49000)), time_in_force: TimeInForce::Gtx };
    assert_eq!(rejected(place(&mut b, &order("l2", &btc(), Side::Buy, gtx, dec!(0.010)))), -5022);
    let ioc = OrderKind::Limit { price: Price::new(dec!(48000)), time_in_force: TimeInForce::Ioc };
    assert_eq!(
        place(&mut b, &order("l3", &btc(), Side::Buy, ioc, dec!(0.010))).unwrap().order.status,
        OrderStatus::Expired
    );
    // A marketable limit fills at once at the market.
    let now = place(&mut b, &order("l4", &btc(), Side::Buy, limit(dec!(49500)), dec!(0.010))).unwrap();
    assert_eq!(now.fills[0].price.get(), dec!(48900));
    // Cancel releases the hold.
    place(&mut b, &order("l5", &btc(), Side::Buy, limit(dec!(40000)), dec!(0.010))).unwrap();
    let free_before = wallet(&b, "USDT").1;
    let cancelled = b.cancel(&btc(), &id("l5")).unwrap();
    assert_eq!(cancelled.status, OrderStatus::Canceled);
    assert_eq!(wallet(&b, "USDT").1, free_before + dec!(20));
    assert!(matches!(b.cancel(&btc(), &id("l5")), Err(VenueError::NotFound { .. })));
    assert_eq!(b.query(&btc(), &id("l5")).unwrap().status, OrderStatus::Canceled);
    assert_eq!(b.query(&btc(), &id("nope")), None);
    assert_eq!(b.query(&eth(), &id("l5")), None, "another symbol's order");
}

#[test]
fn orders_beyond_the_margin_are_refused_and_leverage_counts() {
    let mut b = futures(dec!(100));
    mark(&mut b, dec!(50000), 900);
    last(&mut b, &btc(), dec!(50000), 1000);
    // 2500 notional at 20x needs 125.
    assert_eq!(
        rejected(place(&mut b, &order("a", &btc(), Side::Buy, OrderKind::Market, dec!(0.050)))),
        -2019
    );
    b.set_leverage(&btc(), 25).unwrap();
    place(&mut b, &order("b", &btc(), Side::Buy, OrderKind::Market, dec!(0.050))).unwrap();
    assert_eq!(b.positions()[0].leverage, 25);
    assert_eq!(rejected(Err(b.set_leverage(&btc(), 126).unwrap_err())), -4028);
    assert!(b.set_margin_mode(&btc(), MarginMode::Isolated).is_ok());
    assert!(matches!(b.set_margin_mode(&btc(), MarginMode::Cross), Err(VenueError::Unsupported { .. })));
}

#[test]
fn funding_is_settled_when_the_next_funding_time_moves_on() {
    let mut b = long_btc();
    mark_at(&mut b, dec!(50000), 28_000_000, dec!(0.0001), 28_800_000);
    assert!(b.take_events().is_empty());
    mark_at(&mut b, dec!(50000), 28_801_000, dec!(0.0002), 57_600_000);
    let events = b.take_events();
    let update = events
        .iter()
        .find_map(|e| match e {
            VenueEvent::Account(a) if a.reason == "FUNDING_FEE" => Some(a),
            _ => None,
        })
        .expect("a funding update");
    // The long pays 0.010 * 50000 * 0.0001 = 0.05, at the funding time.
    assert_eq!((update.time_exchange, update.balances[0].wallet.get()), (28_800_000, dec!(9999.70)));
}

#[test]
fn restore_seeds_positions_balances_and_resting_orders() {
    let mut b = futures(dec!(10000));
    let position = Position {
        symbol: btc(),
        side: PositionSide::Long,
        qty: Qty::new(dec!(0.010)),
        entry_price: Price::new(dec!(50000)),
        leverage: 10,
        margin_mode: MarginMode::Isolated,
        liquidation_price: None,
    };
    let stop_order = closing(order("fa-sl-1-3", &btc(), Side::Sell, stop(dec!(48500)), dec!(0)));
    let trail = reduce(order("fa-ts-1-5", &btc(), Side::Sell, trailing(dec!(0.10), None), dec!(0.010)));
    let snapshot = PaperSnapshot {
        balances: BTreeMap::from([("USDT".to_owned(), dec!(9999.75))]),
        positions: vec![position.clone()],
        orders: vec![
            RestingOrder { order: stop_order.clone(), peak: None },
            RestingOrder { order: trail, peak: Some(Price::new(dec!(60000))) },
        ],
    };
    let rules_by = HashMap::from([(btc(), rules(&btc()))]);
    let prices = HashMap::from([(
        btc(),
        super::broker::RestQuote {
            last: Some(super::broker::Obs { price: Price::new(dec!(50000)), time: 1000 }),
            mark: Some(super::broker::Obs { price: Price::new(dec!(50000)), time: 1000 }),
        },
    )]);
    b.restore(&snapshot, &rules_by, prices).unwrap();
    assert_eq!(b.positions(), vec![position]);
    assert_eq!(wallet(&b, "USDT"), (dec!(9999.75), dec!(9949.75)), "500 / 10 of margin");
    assert_eq!(b.query(&btc(), &id("fa-sl-1-3")).unwrap().status, OrderStatus::New);
    assert_eq!(b.open_orders(None).len(), 2);
    // The restored peak: 60000 * 0.9 = 54000 fires the trailing stop first.
    mark(&mut b, dec!(53900), 2000);
    assert_eq!(fills(&b.take_events()), [("fa-ts-1-5".to_owned(), dec!(0.010), dec!(53900), 2000)]);
    assert_eq!(held(&b), dec!(0));
    // A restore after trading is refused.
    let err = b.restore(&PaperSnapshot::default(), &rules_by, HashMap::new()).unwrap_err();
    assert!(matches!(err, VenueError::Config(_)), "{err}");
}

#[test]
fn every_fill_has_its_own_trade_id() {
    let mut b = long_btc();
    let mut ids = Vec::new();
    for i in 0..5 {
        let ack = place(&mut b, &order(&format!("x{i}"), &btc(), Side::Buy, OrderKind::Market, dec!(0.002)))
            .unwrap();
        ids.push(ack.fills[0].trade_id.clone());
    }
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
    assert!(ids[0].starts_with("paper-7-t"), "{}", ids[0]);
}

#[test]
fn a_stream_gap_makes_prices_stale_until_the_next_one() {
    let mut b = futures(dec!(10000));
    assert!(!b.is_priced(&btc()));
    last(&mut b, &btc(), dec!(50000), 1000);
    assert!(!b.is_priced(&btc()), "USD-M triggers need the mark too");
    mark(&mut b, dec!(50000), 1000);
    assert!(b.is_priced(&btc()));
    b.on_market(&MarketEvent::StreamGap { reason: crate::venue::GapReason::Disconnected });
    assert!(!b.is_priced(&btc()));
    mark(&mut b, dec!(50000), 2000);
    assert!(b.is_priced(&btc()));
}

#[test]
fn symbols_are_watched_from_the_config_and_on_first_order() {
    let mut b = Broker::new(PaperConfig::usdm(dec!(10000)).watching(vec![eth()])).unwrap();
    assert_eq!(b.take_new_symbols(), vec![eth()]);
    last(&mut b, &btc(), dec!(50000), 1000);
    mark(&mut b, dec!(50000), 1000);
    place(&mut b, &order("a", &btc(), Side::Buy, OrderKind::Market, dec!(0.010))).unwrap();
    assert_eq!(b.take_new_symbols(), vec![btc()]);
    assert!(b.take_new_symbols().is_empty());
    let bad = Broker::new(PaperConfig { default_leverage: 0, ..PaperConfig::usdm(dec!(1)) });
    assert!(matches!(bad, Err(VenueError::Config(_))));
}

#[test]
fn a_gap_seen_on_one_stream_first_never_fills_at_the_other_streams_old_price() {
    // Both streams at the same exchange time: the mark gaps down and triggers the stop while the
    // last trade still shows the price before the gap.
    let mut b = long_btc();
    place(&mut b, &closing(order("sl-1", &btc(), Side::Sell, stop(dec!(48500)), dec!(0)))).unwrap();
    last(&mut b, &btc(), dec!(50000), 2000);
    mark(&mut b, dec!(45000), 2000);
    assert_eq!(fills(&b.take_events()), [("sl-1".to_owned(), dec!(0.010), dec!(45000), 2000)]);
    // A market order still takes the last trade when the mark is not newer.
    last(&mut b, &btc(), dec!(45100), 3000);
    mark(&mut b, dec!(45050), 3000);
    let ack = place(&mut b, &order("en-2", &btc(), Side::Buy, OrderKind::Market, dec!(0.010))).unwrap();
    assert_eq!(ack.fills[0].price.get(), dec!(45100));
}
