//! Every Binance documentation example under `tests/fixtures/binance/` parsed by the client's
//! wire models and `parse_*` functions, with the values the documentation shows. A fixture file
//! without a case here fails `every_fixture_is_covered`.

#![cfg(feature = "net")]
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use exchange_core::binance::models::*;
use exchange_core::binance::parse::*;
use exchange_core::model::{MarginMode, OrderStatus, PositionSide, Side};
use exchange_core::venue::{KlineInterval, MarketEvent, VenueEvent};
use rust_decimal_macros::dec;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/binance")
}

fn read(name: &str) -> String {
    std::fs::read_to_string(dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn model<T: serde::de::DeserializeOwned>(name: &str) -> T {
    serde_json::from_str(&read(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

type Case = (&'static str, fn(&str));

const CASES: &[Case] = &[
    ("usdm/server_time.json", |n| assert_eq!(model::<BinanceServerTime>(n).server_time, 1_499_827_319_559)),
    ("usdm/error_invalid_symbol.json", |n| {
        let e: BinanceErrorBody = model(n);
        assert_eq!((e.code, e.msg.as_str()), (-1121, "Invalid symbol."));
    }),
    ("usdm/exchange_info.json", |n| {
        let info: BinanceFuturesExchangeInfo = model(n);
        assert_eq!(parse_weight_limit(&info.rate_limits), Some(2400));
        let rules = parse_futures_rules(&info.symbols[0]).unwrap();
        assert_eq!(rules.symbol.as_str(), "BLZUSDT");
        assert_eq!(
            (rules.tick_size.get(), rules.step_size.get(), rules.min_qty.get()),
            (dec!(0.0001), dec!(1), dec!(1))
        );
        assert_eq!(rules.max_qty.map(|q| q.get()), Some(dec!(10000000)));
        assert_eq!(rules.min_notional.get(), dec!(5.0));
        assert_eq!(parse_market_max_qty(&info.symbols[0].filters).map(|q| q.get()), Some(dec!(590119)));
    }),
    ("usdm/klines.json", |n| {
        let rows: Vec<BinanceKline> = model(n);
        let bar = parse_kline_row(&rows[0]);
        assert_eq!(bar.open_time_ms, 1_499_040_000_000);
        assert_eq!(
            (bar.open.get(), bar.high.get(), bar.low.get(), bar.close.get()),
            (dec!(0.01634790), dec!(0.80000000), dec!(0.01575800), dec!(0.01577100))
        );
        assert_eq!(bar.volume, dec!(148976.11427815));
        assert_eq!(rows[0].close_time, 1_499_644_799_999);
    }),
    ("usdm/premium_index.json", |n| {
        let m = parse_premium_index(&model(n)).unwrap();
        assert_eq!(
            (m.mark_price.get(), m.funding_rate, m.next_funding_time),
            (dec!(11793.63104562), dec!(0.00038246), 1_597_392_000_000)
        );
        assert_eq!(m.index_price.map(|p| p.get()), Some(dec!(11781.80495970)));
    }),
    ("usdm/ticker_price_v2.json", |n| {
        let t: BinanceTickerPrice = model(n);
        assert_eq!((t.price, t.time), (dec!(6000.01), Some(1_589_437_530_011)));
    }),
    ("usdm/order_new.json", |n| {
        let o = parse_futures_order(&model(n)).unwrap();
        assert_eq!(
            (o.client_order_id.as_str(), o.venue_order_id.as_deref()),
            ("testOrder", Some("22542179"))
        );
        assert_eq!(
            (o.side, o.status, o.filled_qty.get(), o.avg_price),
            (Side::Buy, OrderStatus::New, dec!(0), None)
        );
        assert_eq!(o.time_exchange, 1_566_818_724_722);
    }),
    ("usdm/order_query.json", |n| {
        let o = parse_futures_order(&model(n)).unwrap();
        assert_eq!(
            (o.client_order_id.as_str(), o.status, o.time_exchange),
            ("abc", OrderStatus::New, 1_579_276_756_075)
        );
    }),
    ("usdm/order_cancel.json", |n| {
        let o = parse_futures_order(&model(n)).unwrap();
        assert_eq!((o.client_order_id.as_str(), o.status), ("myOrder1", OrderStatus::Canceled));
    }),
    ("usdm/open_orders.json", |n| {
        let orders: Vec<BinanceOrderResponse> = model(n);
        assert_eq!(parse_futures_order(&orders[0]).unwrap().venue_order_id.as_deref(), Some("1917641"));
    }),
    ("usdm/algo_order_new.json", |n| {
        let o = parse_algo_order(&model(n)).unwrap();
        assert_eq!(
            (o.client_order_id.as_str(), o.venue_order_id.as_deref()),
            ("6B2I9XVcJpCjqPAJ4YoFX7", Some("2146760"))
        );
        assert_eq!((o.symbol.as_str(), o.side, o.status), ("BNBUSDT", Side::Sell, OrderStatus::New));
        let raw: BinanceAlgoOrder = model(n);
        assert_eq!(
            (raw.trigger_price, raw.activate_price, raw.callback_rate),
            (Some(dec!(750.000)), None, None)
        );
    }),
    ("usdm/algo_order_query.json", |n| {
        let o = parse_algo_order(&model(n)).unwrap();
        assert_eq!(
            (o.status, o.filled_qty.get(), o.avg_price, o.reason.clone()),
            (OrderStatus::Canceled, dec!(0), None, None)
        );
    }),
    ("usdm/algo_cancel.json", |n| {
        let c: BinanceAlgoCancel = model(n);
        assert_eq!(
            (c.algo_id, c.client_algo_id.as_str(), c.code),
            (2_146_760, "6B2I9XVcJpCjqPAJ4YoFX7", Some(200))
        );
    }),
    ("usdm/open_algo_orders.json", |n| {
        let orders: Vec<BinanceAlgoOrder> = model(n);
        let o = parse_algo_order(&orders[0]).unwrap();
        assert_eq!((o.client_order_id.as_str(), o.status), ("MRumok0dkhrP4kCm12AHaB", OrderStatus::New));
    }),
    ("usdm/position_risk_v2_hedge.json", |n| {
        let rows: Vec<BinancePositionRisk> = model(n);
        let long = parse_position_risk(&rows[0]).unwrap().unwrap();
        assert_eq!(
            (long.side, long.qty.get(), long.entry_price.get()),
            (PositionSide::Long, dec!(20.000), dec!(6563.66500))
        );
        assert_eq!((long.leverage, long.margin_mode), (10, MarginMode::Isolated));
        assert_eq!(long.liquidation_price.map(|p| p.get()), Some(dec!(5930.78)));
        let short = parse_position_risk(&rows[1]).unwrap().unwrap();
        assert_eq!((short.side, short.qty.get()), (PositionSide::Short, dec!(10.000)));
    }),
    ("usdm/position_risk_v2_oneway.json", |n| {
        let rows: Vec<BinancePositionRisk> = model(n);
        assert_eq!(parse_position_risk(&rows[0]).unwrap(), None, "a flat position is not a position");
    }),
    ("usdm/position_risk_v3.json", |n| {
        let rows: Vec<BinancePositionRisk> = model(n);
        let p = parse_position_risk(&rows[0]).unwrap().unwrap();
        assert_eq!(
            (p.side, p.qty.get(), p.leverage, p.liquidation_price),
            (PositionSide::Long, dec!(30), 1, None)
        );
    }),
    ("usdm/balance_v3.json", |n| {
        let rows: Vec<BinanceFuturesBalance> = model(n);
        let b = parse_futures_balance(&rows[0]);
        assert_eq!(
            (b.asset.as_str(), b.wallet.get(), b.free.get()),
            ("USDT", dec!(122607.35137903), dec!(23.72469206))
        );
        assert_eq!(b.locked.get(), dec!(122607.35137903) - dec!(23.72469206));
    }),
    ("usdm/leverage.json", |n| {
        let l: BinanceLeverage = model(n);
        assert_eq!(
            (l.leverage, l.symbol.as_str(), l.max_notional_value),
            (21, "BTCUSDT", Some(dec!(1000000)))
        );
    }),
    ("usdm/margin_type.json", |n| assert_eq!(model::<BinanceCodeMsg>(n).code, Some(200))),
    ("usdm/listen_key.json", |n| {
        let k: BinanceListenKey = model(n);
        assert_eq!(k.listen_key.len(), 64);
        assert!(!format!("{k:?}").contains(&k.listen_key), "the key is not printed");
    }),
    ("usdm/ws_subscribe_response.json", |n| assert!(matches!(parse_market_frame(&read(n)), Ok(None)))),
    ("usdm/ws_kline.json", |n| {
        let k = parse_kline_frame(&read(n)).unwrap();
        assert_eq!(
            (k.symbol.as_str(), k.interval, k.closed, k.time_exchange),
            ("BTCUSDT", KlineInterval::M1, false, 1_638_747_660_000)
        );
        assert_eq!(
            (
                k.bar.open_time_ms,
                k.bar.open.get(),
                k.bar.close.get(),
                k.bar.high.get(),
                k.bar.low.get(),
                k.bar.volume
            ),
            (1_638_747_660_000, dec!(0.0010), dec!(0.0020), dec!(0.0025), dec!(0.0015), dec!(1000))
        );
        let combined = format!(r#"{{"stream":"btcusdt@kline_1m","data":{}}}"#, read(n));
        assert_eq!(parse_kline_frame(&combined).unwrap(), k, "combined wrapper");
        assert!(matches!(parse_market_frame(&combined), Ok(Some(MarketEvent::Kline(_)))));
    }),
    ("usdm/ws_mark_price.json", |n| {
        let Ok(Some(MarketEvent::MarkPrice(m))) = parse_market_frame(&read(n)) else { panic!("{n}") };
        assert_eq!(
            (m.mark_price.get(), m.funding_rate, m.next_funding_time),
            (dec!(11794.15000000), dec!(0.00038167), 1_562_306_400_000)
        );
    }),
    ("usdm/ws_order_trade_update.json", |n| {
        let UsdmUserFrame::Events(events) = parse_usdm_user_frame(&read(n)).unwrap() else { panic!("{n}") };
        let [VenueEvent::Order(o)] = events.as_slice() else { panic!("{events:?}") };
        assert_eq!(
            (o.client_order_id.as_str(), o.side, o.status, o.fill.is_none()),
            ("TEST", Side::Sell, OrderStatus::New, true)
        );
        assert_eq!((o.venue_order_id.as_deref(), o.time_exchange), (Some("8886774"), 1_568_879_465_650));
    }),
    ("usdm/ws_account_update.json", |n| {
        let UsdmUserFrame::Events(events) = parse_usdm_user_frame(&read(n)).unwrap() else { panic!("{n}") };
        let [VenueEvent::Account(a)] = events.as_slice() else { panic!("{events:?}") };
        assert_eq!((a.reason.as_str(), a.balances.len(), a.positions.len()), ("ORDER", 2, 3));
        assert_eq!(
            (a.balances[0].wallet.get(), a.balances[0].free.get()),
            (dec!(122624.12345678), dec!(100.12345678))
        );
        assert_eq!(a.positions[0].side, None);
        assert_eq!((a.positions[1].side, a.positions[1].qty.get()), (Some(PositionSide::Long), dec!(20)));
        assert_eq!(
            (a.positions[2].side, a.positions[2].margin_mode),
            (Some(PositionSide::Short), Some(MarginMode::Isolated))
        );
    }),
    ("usdm/ws_algo_update.json", |n| {
        let UsdmUserFrame::Events(events) = parse_usdm_user_frame(&read(n)).unwrap() else { panic!("{n}") };
        let [VenueEvent::Order(o)] = events.as_slice() else { panic!("{events:?}") };
        assert_eq!(
            (o.client_order_id.as_str(), o.venue_order_id.as_deref(), o.status),
            ("Q5xaq5EGKgXXa0fD7fs0Ip", Some("2148719"), OrderStatus::Canceled)
        );
        assert_eq!(o.time_exchange, 1_750_515_742_303);
    }),
    ("usdm/ws_listen_key_expired.json", |n| {
        assert_eq!(parse_usdm_user_frame(&read(n)).unwrap(), UsdmUserFrame::ListenKeyExpired);
        let integer = read(n).replace("\"1736996475556\"", "1736996475556");
        assert_eq!(
            parse_usdm_user_frame(&integer).unwrap(),
            UsdmUserFrame::ListenKeyExpired,
            "E as an integer"
        );
    }),
    ("spot/exchange_info.json", |n| {
        let info: BinanceSpotExchangeInfo = model(n);
        assert_eq!(parse_weight_limit(&info.rate_limits), Some(6000));
        let rules = parse_spot_rules(&info.symbols[0]).unwrap();
        assert_eq!(
            (rules.symbol.as_str(), rules.tick_size.get(), rules.step_size.get()),
            ("ETHBTC", dec!(0.00000100), dec!(0.00100000))
        );
        assert_eq!(rules.min_notional.get(), dec!(10));
    }),
    ("spot/klines.json", |n| assert_eq!(model::<Vec<BinanceKline>>(n)[0].open_time, 1_499_040_000_000)),
    ("spot/ticker_price.json", |n| assert_eq!(model::<BinanceTickerPrice>(n).price, dec!(4.00000200))),
    ("spot/order_full.json", |n| {
        let (o, fills) = parse_spot_order(&model(n), Side::Buy).unwrap();
        assert_eq!((o.status, o.side, o.filled_qty.get()), (OrderStatus::Filled, Side::Sell, dec!(10)));
        assert_eq!(
            o.avg_price.map(|p| p.get()),
            Some(dec!(1)),
            "cummulativeQuoteQty / executedQty as documented"
        );
        assert_eq!(fills.len(), 5);
        assert_eq!(
            (fills[0].trade_id.as_str(), fills[0].price.get(), fills[0].fee, fills[0].fee_asset.as_str()),
            ("56", dec!(4000), dec!(4), "USDT")
        );
    }),
    ("spot/order_ack.json", |n| {
        let (o, fills) = parse_spot_order(&model(n), Side::Buy).unwrap();
        assert_eq!(
            (o.status, o.side, fills.len(), o.time_exchange),
            (OrderStatus::New, Side::Buy, 0, 1_507_725_176_595)
        );
    }),
    ("spot/order_query.json", |n| {
        let (o, _) = parse_spot_order(&model(n), Side::Sell).unwrap();
        assert_eq!((o.client_order_id.as_str(), o.status, o.side), ("myOrder1", OrderStatus::New, Side::Buy));
    }),
    ("spot/order_cancel.json", |n| {
        let (o, _) = parse_spot_order(&model(n), Side::Sell).unwrap();
        assert_eq!(
            (o.client_order_id.as_str(), o.status),
            ("myOrder1", OrderStatus::Canceled),
            "the cancelled order's id, not the cancel's"
        );
    }),
    ("spot/account.json", |n| {
        let balances = parse_spot_balances(&model(n));
        assert_eq!(balances.len(), 2);
        assert_eq!((balances[0].asset.as_str(), balances[0].free.get()), ("BTC", dec!(4723846.89208129)));
    }),
    ("spot/ws_kline.json", |n| {
        let k = parse_kline_frame(&read(n)).unwrap();
        assert_eq!((k.symbol.as_str(), k.bar.open_time_ms, k.closed), ("BNBBTC", 1_672_515_780_000, false));
    }),
    ("spot/ws_api_subscribe_response.json", |n| {
        assert_eq!(
            parse_spot_user_frame(&read(n)).unwrap(),
            SpotUserFrame::Subscribed { subscription_id: 0 }
        );
    }),
    ("spot/ws_execution_report.json", |n| {
        let SpotUserFrame::Events(events) = parse_spot_user_frame(&read(n)).unwrap() else { panic!("{n}") };
        let [VenueEvent::Order(o)] = events.as_slice() else { panic!("{events:?}") };
        assert_eq!(
            (o.client_order_id.as_str(), o.status, o.side),
            ("mUvoqJxFIILMdfAW5iGSOW", OrderStatus::New, Side::Buy)
        );
        assert_eq!((o.venue_order_id.as_deref(), o.reason.clone()), (Some("4293153"), None));
    }),
    ("spot/ws_outbound_account_position.json", |n| {
        let SpotUserFrame::Events(events) = parse_spot_user_frame(&read(n)).unwrap() else { panic!("{n}") };
        let [VenueEvent::Account(a)] = events.as_slice() else { panic!("{events:?}") };
        assert_eq!(
            (a.balances[0].asset.as_str(), a.balances[0].free.get(), a.time_exchange),
            ("ETH", dec!(10000), 1_564_034_571_105)
        );
    }),
    ("spot/ws_balance_update.json", |n| {
        assert_eq!(parse_spot_user_frame(&read(n)).unwrap(), SpotUserFrame::Ignored("balanceUpdate".into()));
    }),
];

#[test]
fn every_fixture_parses_to_the_documented_values() {
    for (name, check) in CASES {
        check(name);
    }
}

#[test]
fn every_fixture_is_covered() {
    let mut on_disk = BTreeSet::new();
    for sub in ["usdm", "spot"] {
        for entry in std::fs::read_dir(dir().join(sub)).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if name.ends_with(".json") {
                on_disk.insert(format!("{sub}/{name}"));
            }
        }
    }
    let covered: BTreeSet<String> = CASES.iter().map(|(n, _)| (*n).to_owned()).collect();
    assert_eq!(on_disk, covered);
}

#[test]
fn every_fixture_is_named_in_the_readme() {
    let readme = read("README.md");
    for (name, _) in CASES {
        assert!(readme.contains(name), "README.md does not name {name}");
    }
}

#[test]
fn fills_come_with_their_order_event() {
    // The documented ORDER_TRADE_UPDATE turned into a trade (x=TRADE, l>0): one Order, one Fill.
    let text = read("usdm/ws_order_trade_update.json")
        .replace(r#""x": "NEW""#, r#""x": "TRADE""#)
        .replace(r#""X": "NEW""#, r#""X": "PARTIALLY_FILLED""#)
        .replace(r#""l": "0""#, r#""l": "0.0005""#)
        .replace(r#""L": "0""#, r#""L": "7100.5""#)
        .replace(r#""t": 0"#, r#""t": 42"#);
    let UsdmUserFrame::Events(events) = parse_usdm_user_frame(&text).unwrap() else { panic!() };
    let [VenueEvent::Order(o), VenueEvent::Fill(f)] = events.as_slice() else { panic!("{events:?}") };
    assert_eq!(o.fill.as_ref(), Some(f));
    assert_eq!(
        (f.trade_id.as_str(), f.qty.get(), f.price.get(), f.fee_asset.as_str()),
        ("42", dec!(0.0005), dec!(7100.5), "USDT")
    );
}

#[test]
fn a_liquidation_execution_is_a_fill() {
    // Regression: a liquidation's ORDER_TRADE_UPDATE (x=CALCULATED, c=autoclose-...) was not
    // turned into a Fill, so the position it closed vanished from the agent's books unexplained.
    let text = read("usdm/ws_order_trade_update.json")
        .replace(r#""c": "TEST""#, r#""c": "autoclose-1767232800000""#)
        .replace(r#""x": "NEW""#, r#""x": "CALCULATED""#)
        .replace(r#""X": "NEW""#, r#""X": "FILLED""#)
        .replace(r#""l": "0""#, r#""l": "0.001""#)
        .replace(r#""z": "0""#, r#""z": "0.001""#)
        .replace(r#""L": "0""#, r#""L": "6500.1""#);
    let UsdmUserFrame::Events(events) = parse_usdm_user_frame(&text).unwrap() else { panic!() };
    let [VenueEvent::Order(o), VenueEvent::Fill(f)] = events.as_slice() else { panic!("{events:?}") };
    assert_eq!(o.status, exchange_core::OrderStatus::Filled);
    assert_eq!(
        (f.client_order_id.as_str(), f.qty.get(), f.price.get()),
        ("autoclose-1767232800000", dec!(0.001), dec!(6500.1))
    );
    assert_eq!(f.trade_id, "calculated-8886774", "no trade id on the event: one made from the order id");
}
