//! The real Binance clients (exchange-core) against a real exchange-sim process: place, fill,
//! query and cancel on USD-M and spot; stop, take-profit and trailing orders triggering on
//! simulated prices; user-data events arriving; and the simulator's faults (429 burst, clock skew,
//! an order accepted but answered 503, partial fills, WebSocket drop, listenKey expiry) survived
//! with no duplicate order, no lost fill and no panic.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod support;

use std::time::Duration;

use exchange_core::binance::{BinanceSpot, BinanceSpotConfig, BinanceUsdm, BinanceUsdmConfig};
use exchange_core::signing::{ApiCredentials, Secret};
use exchange_core::venue::{
    Endpoints, Environment, Execution, KlineInterval, KlineQuery, MarketData, Product, UserDataFeed,
    UserStreamHandle, VenueEvent,
};
use exchange_core::{
    AgentTag, ClientOrderId, OrderKind, OrderPurpose, OrderRequest, OrderStatus, Price, PriceRounding, Qty,
    Side, Symbol, TimeInForce,
};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use support::{API_KEY, API_SECRET, Sim, temp_dir};

fn creds() -> Option<ApiCredentials> {
    Some(ApiCredentials::new(API_KEY.to_owned(), Secret::new(API_SECRET.to_owned())))
}

fn usdm(sim: &Sim) -> BinanceUsdm {
    exchange_core::venue::install_crypto_provider();
    let endpoints = Endpoints::for_environment(Environment::Sim, Product::UsdM, sim.port);
    BinanceUsdm::new(BinanceUsdmConfig::new(endpoints, creds())).unwrap()
}

fn spot(sim: &Sim) -> BinanceSpot {
    exchange_core::venue::install_crypto_provider();
    let endpoints = Endpoints::for_environment(Environment::Sim, Product::Spot, sim.port);
    BinanceSpot::new(BinanceSpotConfig::new(endpoints, creds())).unwrap()
}

fn btc() -> Symbol {
    Symbol::new("BTCUSDT").unwrap()
}

struct Ids(u64);

impl Ids {
    fn next(&mut self, purpose: OrderPurpose) -> ClientOrderId {
        self.0 += 1;
        ClientOrderId::generate(AgentTag::Futures, purpose, 7, self.0)
    }
}

fn order(id: ClientOrderId, side: Side, kind: OrderKind, qty: Decimal) -> OrderRequest {
    OrderRequest {
        client_order_id: id,
        symbol: btc(),
        side,
        kind,
        qty: Qty::new(qty),
        reduce_only: false,
        close_position: false,
    }
}

/// Waits for a user-stream event matching `pred`, failing after 30 s.
async fn expect_event(
    user: &mut UserStreamHandle,
    what: &str,
    mut pred: impl FnMut(&VenueEvent) -> bool,
) -> VenueEvent {
    let wait = async {
        loop {
            match user.events.recv().await {
                Some(event) if pred(&event) => return event,
                Some(_) => {}
                None => panic!("the user stream ended while waiting for {what}"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), wait)
        .await
        .unwrap_or_else(|_| panic!("no {what} within 30 s"))
}

fn fill_of<'a>(id: &'a ClientOrderId) -> impl FnMut(&VenueEvent) -> bool + 'a {
    move |e| matches!(e, VenueEvent::Fill(f) if &f.client_order_id == id)
}

async fn position_qty(venue: &BinanceUsdm) -> Decimal {
    venue
        .positions()
        .await
        .unwrap()
        .iter()
        .filter(|p| p.symbol == btc())
        .map(|p| p.side.sign() * p.qty.get())
        .sum()
}

async fn last(venue: &BinanceUsdm) -> Decimal {
    venue.last_price(&btc()).await.unwrap().get()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usdm_orders_fill_trigger_and_stream() {
    let dir = temp_dir("clients-usdm");
    let sim = Sim::start(&dir, "");
    let venue = usdm(&sim);
    let mut ids = Ids(0);
    assert!(venue.server_time().await.unwrap() > 1_700_000_000_000);
    let rules = venue.instrument_rules(&btc()).await.unwrap();
    assert_eq!((rules.tick_size.get(), rules.step_size.get()), (dec!(0.10), dec!(0.001)));
    let bars = venue.klines(&btc(), KlineQuery::latest(KlineInterval::H1, 10)).await.unwrap();
    assert_eq!(bars.len(), 10);
    assert!(
        bars.windows(2).all(|w| w[1].open_time_ms - w[0].open_time_ms == 3_600_000),
        "klines out of order"
    );
    let mut user = venue.start_user_stream().await.unwrap();
    venue.set_leverage(&btc(), 10).await.unwrap();
    // The venue reports a leverage change on the user stream (whoever made it).
    expect_event(
        &mut user,
        "the leverage change",
        |e| matches!(e, VenueEvent::LeverageChanged { symbol, leverage: 10 } if *symbol == btc()),
    )
    .await;
    venue.set_margin_mode(&btc(), exchange_core::MarginMode::Isolated).await.unwrap();

    // Market entry: filled, the fill arrives on the stream, the position is there.
    let entry = ids.next(OrderPurpose::Entry);
    let ack = venue.place(&order(entry.clone(), Side::Buy, OrderKind::Market, dec!(0.010))).await.unwrap();
    assert!(!ack.recovered);
    expect_event(&mut user, "the entry fill", fill_of(&entry)).await;
    assert_eq!(position_qty(&venue).await, dec!(0.010));

    // A resting stop: listed, queried, cancelled.
    let price = last(&venue).await;
    let stop = ids.next(OrderPurpose::StopLoss);
    let trigger = rules.round_price(Price::new(price * dec!(0.9)), PriceRounding::Down);
    let mut stop_order = order(stop.clone(), Side::Sell, OrderKind::StopMarket { trigger }, Decimal::ZERO);
    stop_order.close_position = true;
    assert_eq!(venue.place(&stop_order).await.unwrap().order.status, OrderStatus::New);
    assert!(venue.open_orders(Some(&btc())).await.unwrap().iter().any(|o| o.client_order_id == stop));
    assert_eq!(venue.query(&btc(), &stop).await.unwrap().unwrap().status, OrderStatus::New);
    assert_eq!(venue.cancel(&btc(), &stop).await.unwrap().status, OrderStatus::Canceled);
    assert!(!venue.open_orders(Some(&btc())).await.unwrap().iter().any(|o| o.client_order_id == stop));

    // A take profit triggered by a price shock closes the position.
    let take = ids.next(OrderPurpose::TakeProfit);
    let trigger = rules.round_price(Price::new(price * dec!(1.01)), PriceRounding::Up);
    let mut take_order =
        order(take.clone(), Side::Sell, OrderKind::TakeProfitMarket { trigger }, Decimal::ZERO);
    take_order.close_position = true;
    venue.place(&take_order).await.unwrap();
    sim.admin("POST", "/sim/shock?symbol=BTCUSDT&pct=3");
    sim.admin("POST", "/sim/step?seconds=120");
    expect_event(
        &mut user,
        "the take-profit fill",
        |e| matches!(e, VenueEvent::Fill(f) if f.side == Side::Sell),
    )
    .await;
    assert_eq!(position_qty(&venue).await, Decimal::ZERO);

    // A trailing stop: 1% callback, price up 3% then down 3%: it triggers and closes.
    let entry2 = ids.next(OrderPurpose::Entry);
    venue.place(&order(entry2.clone(), Side::Buy, OrderKind::Market, dec!(0.010))).await.unwrap();
    expect_event(&mut user, "the second entry fill", fill_of(&entry2)).await;
    let trail = ids.next(OrderPurpose::TrailingStop);
    let mut trail_order = order(
        trail.clone(),
        Side::Sell,
        OrderKind::TrailingStop { callback_rate: dec!(0.01), activation: None },
        dec!(0.010),
    );
    trail_order.reduce_only = true;
    venue.place(&trail_order).await.unwrap();
    sim.admin("POST", "/sim/shock?symbol=BTCUSDT&pct=3");
    sim.admin("POST", "/sim/step?seconds=60");
    sim.admin("POST", "/sim/shock?symbol=BTCUSDT&pct=-3");
    sim.admin("POST", "/sim/step?seconds=120");
    expect_event(
        &mut user,
        "the trailing-stop fill",
        |e| matches!(e, VenueEvent::Fill(f) if f.side == Side::Sell),
    )
    .await;
    assert_eq!(position_qty(&venue).await, Decimal::ZERO);
    user.control.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usdm_survives_the_simulators_faults() {
    let dir = temp_dir("clients-faults");
    let sim = Sim::start(&dir, "");
    let venue = usdm(&sim);
    let mut ids = Ids(100);
    let mut user = venue.start_user_stream().await.unwrap();

    // Accepted but answered 503 "Unknown error": resolved by a query, not sent twice.
    sim.admin("POST", "/sim/fault?unanswered_orders=1&unanswered_mode=503");
    let id = ids.next(OrderPurpose::Entry);
    let ack = venue.place(&order(id.clone(), Side::Buy, OrderKind::Market, dec!(0.005))).await.unwrap();
    assert!(ack.recovered, "the answer was lost, so the state must come from a query");
    expect_event(&mut user, "the fill of the unanswered order", fill_of(&id)).await;
    assert_eq!(position_qty(&venue).await, dec!(0.005), "the order must exist exactly once");
    sim.admin("POST", "/sim/fault/reset");

    // Server clock 3 s ahead of ours: -1021, resync, and the order goes through once.
    sim.admin("POST", "/sim/fault?clock_skew_ms=3000");
    let id = ids.next(OrderPurpose::Entry);
    venue.place(&order(id.clone(), Side::Buy, OrderKind::Market, dec!(0.005))).await.unwrap();
    assert_eq!(position_qty(&venue).await, dec!(0.010));
    sim.admin("POST", "/sim/fault/reset");

    // Partial fills (half now, the rest at the next tick): every execution arrives, and they add up.
    sim.admin("POST", "/sim/fault?partial_fills=1");
    let id = ids.next(OrderPurpose::Entry);
    venue.place(&order(id.clone(), Side::Buy, OrderKind::Market, dec!(0.006))).await.unwrap();
    sim.admin("POST", "/sim/step?seconds=60");
    let mut filled = Decimal::ZERO;
    while filled < dec!(0.006) {
        if let VenueEvent::Fill(f) = expect_event(&mut user, "partial fills", fill_of(&id)).await {
            filled += f.qty.get();
        }
    }
    assert_eq!(filled, dec!(0.006));
    sim.admin("POST", "/sim/fault/reset");

    // A 429 burst: refused with Retry-After, then served again; no panic, no lost request.
    sim.admin("POST", "/sim/fault?burst_429=2&retry_after=1");
    let mut answered = false;
    for _ in 0..20 {
        if venue.klines(&btc(), KlineQuery::latest(KlineInterval::H1, 5)).await.is_ok() {
            answered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(answered, "never served again after the 429 burst");
    sim.admin("POST", "/sim/fault/reset");

    // A 418 ban: every request refused until Retry-After, then served again.
    sim.admin("POST", "/sim/fault?burst_418=1&retry_after=1");
    let mut answered = false;
    for _ in 0..30 {
        if venue.server_time().await.is_ok() {
            answered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(answered, "never served again after the 418 ban");
    sim.admin("POST", "/sim/fault/reset");

    // Added latency: slower, still correct.
    sim.admin("POST", "/sim/fault?latency_ms=150");
    let id = ids.next(OrderPurpose::Entry);
    venue.place(&order(id.clone(), Side::Buy, OrderKind::Market, dec!(0.002))).await.unwrap();
    expect_event(&mut user, "a fill under latency", fill_of(&id)).await;
    sim.admin("POST", "/sim/fault/reset");

    // One request in three answered 5xx: every order is either placed once or known refused;
    // an unknown outcome is resolved by querying, never by sending again.
    sim.admin("POST", "/sim/fault?error_rate=0.33");
    let before = position_qty(&venue).await;
    let mut sent = Vec::new();
    for _ in 0..12 {
        let id = ids.next(OrderPurpose::Entry);
        match venue.place(&order(id.clone(), Side::Buy, OrderKind::Market, dec!(0.002))).await {
            Ok(_) => sent.push(id),
            Err(e) if e.is_unknown_outcome() => sent.push(id),
            Err(_) => {}
        }
    }
    sim.admin("POST", "/sim/fault/reset");
    let mut placed = Decimal::ZERO;
    for id in &sent {
        if let Some(update) = venue.query(&btc(), id).await.unwrap() {
            placed += update.filled_qty.get();
        }
    }
    assert!(placed > Decimal::ZERO, "nothing got through a 33% error rate");
    assert_eq!(position_qty(&venue).await - before, placed, "an order was lost or placed twice");

    // A dropped socket and an expired listenKey: each a gap, then back.
    sim.admin("POST", "/sim/ws/drop");
    expect_event(&mut user, "a gap after the drop", |e| matches!(e, VenueEvent::StreamGap { .. })).await;
    expect_event(&mut user, "the reconnection", |e| matches!(e, VenueEvent::Reconnected)).await;
    sim.admin("POST", "/sim/listenkeys/expire");
    expect_event(&mut user, "a gap after the expiry", |e| matches!(e, VenueEvent::StreamGap { .. })).await;
    expect_event(&mut user, "the reconnection on a new key", |e| matches!(e, VenueEvent::Reconnected)).await;
    // Events flow again: a new fill arrives.
    let id = ids.next(OrderPurpose::Entry);
    let open = position_qty(&venue).await;
    venue.place(&order(id.clone(), Side::Sell, OrderKind::Market, open)).await.unwrap();
    expect_event(&mut user, "a fill after the reconnection", fill_of(&id)).await;
    assert_eq!(position_qty(&venue).await, Decimal::ZERO);
    user.control.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spot_orders_fill_rest_and_cancel() {
    let dir = temp_dir("clients-spot");
    let sim = Sim::start(&dir, "");
    let venue = spot(&sim);
    let mut user = venue.start_user_stream().await.unwrap();
    let id = ClientOrderId::generate(AgentTag::Main, OrderPurpose::Entry, 7, 1);
    let buy = OrderRequest {
        client_order_id: id.clone(),
        ..order(id.clone(), Side::Buy, OrderKind::Market, dec!(0.002))
    };
    let ack = venue.place(&buy).await.unwrap();
    // The market buy is filled at once (the REST answer says so); its execution report on the
    // WS-API stream is checked below with the resting order, whose events come later.
    let filled = venue.query(&btc(), &id).await.unwrap().unwrap();
    assert_eq!((ack.order.client_order_id.clone(), filled.status), (id.clone(), OrderStatus::Filled));
    let balances = venue.balances().await.unwrap();
    let held = balances.iter().find(|b| b.asset == "BTC").map_or(Decimal::ZERO, |b| b.free.get());
    assert!(held > dec!(0.0019), "BTC after the buy: {held}");

    let price = venue.last_price(&btc()).await.unwrap().get();
    let rules = venue.instrument_rules(&btc()).await.unwrap();
    let limit_id = ClientOrderId::generate(AgentTag::Main, OrderPurpose::TakeProfit, 7, 2);
    let far = rules.round_price(Price::new(price * dec!(1.5)), PriceRounding::Up);
    let limit = order(
        limit_id.clone(),
        Side::Sell,
        OrderKind::Limit { price: far, time_in_force: TimeInForce::Gtc },
        dec!(0.001),
    );
    assert_eq!(venue.place(&limit).await.unwrap().order.status, OrderStatus::New);
    assert_eq!(venue.query(&btc(), &limit_id).await.unwrap().unwrap().status, OrderStatus::New);
    assert_eq!(venue.cancel(&btc(), &limit_id).await.unwrap().status, OrderStatus::Canceled);
    expect_event(&mut user, "the cancel on the spot stream", |e| {
        matches!(e, VenueEvent::Order(o) if o.client_order_id == limit_id && o.status == OrderStatus::Canceled)
    })
    .await;
    // An unknown order is "not found", not an error.
    let ghost = ClientOrderId::generate(AgentTag::Main, OrderPurpose::Entry, 7, 99);
    assert_eq!(venue.query(&btc(), &ghost).await.unwrap(), None);
    user.control.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// The execution history the reconciliation falls back on after a user-stream gap: our own
/// fills under our client ids, and a liquidation under the venue's `autoclose-` id, each with the
/// simulator's trade id and quantity.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usdm_fills_since_reads_back_executions_by_client_id() {
    let dir = temp_dir("clients-history");
    let sim = Sim::start(&dir, "");
    let venue = usdm(&sim);
    let mut ids = Ids(0);
    venue.set_leverage(&btc(), 20).await.unwrap();
    venue.set_margin_mode(&btc(), exchange_core::MarginMode::Isolated).await.unwrap();
    // Executions carry market time (the simulator's clock), not the server's wall time.
    let since = sim.admin("GET", "/sim/state")["clock"]["marketTime"].as_i64().unwrap() - 60_000;
    let entry = ids.next(OrderPurpose::Entry);
    venue.place(&order(entry.clone(), Side::Buy, OrderKind::Market, dec!(0.020))).await.unwrap();
    let close = ids.next(OrderPurpose::Close);
    let mut half = order(close.clone(), Side::Sell, OrderKind::Market, dec!(0.005));
    half.reduce_only = true;
    venue.place(&half).await.unwrap();
    // 20x isolated: a 10% fall is past the liquidation price.
    sim.admin("POST", "/sim/shock?symbol=BTCUSDT&pct=-10");
    assert_eq!(position_qty(&venue).await, dec!(0), "liquidated");

    let fills = venue.fills_since(&btc(), since).await.unwrap();
    let history = sim.admin("GET", "/sim/history");
    let trades = history["trades"].as_array().unwrap();
    assert_eq!(fills.len(), trades.len(), "{fills:?}");
    for (fill, trade) in fills.iter().zip(trades) {
        assert_eq!(fill.client_order_id.as_str(), trade["clientOrderId"].as_str().unwrap());
        assert_eq!(fill.trade_id, trade["id"].to_string());
        assert_eq!(
            fill.qty.get().to_string(),
            trade["qty"].as_str().unwrap().parse::<Decimal>().unwrap().to_string()
        );
    }
    let sides: Vec<(&str, Side, Decimal)> =
        fills.iter().map(|f| (f.client_order_id.as_str(), f.side, f.qty.get())).collect();
    assert_eq!(sides[0], (entry.as_str(), Side::Buy, dec!(0.020)));
    assert_eq!(sides[1], (close.as_str(), Side::Sell, dec!(0.005)));
    assert!(
        sides[2].0.starts_with("autoclose-") && sides[2].1 == Side::Sell && sides[2].2 == dec!(0.015),
        "{sides:?}"
    );
    assert!(venue.fills_since(&btc(), since + 3_600_000).await.unwrap().is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}
