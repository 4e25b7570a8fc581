//! exchange-core's paper broker against a real exchange-sim process: the real USD-M and spot
//! clients supply prices and rules (with no API key at all), the paper venue fills locally, and
//! the simulator's own account (`/sim/state`) shows that nothing reached it. Then futures-agent
//! in paper mode as a real process: it trades and journals paper fills, the simulator's account
//! stays untouched, and a kill -9 and restart finds the paper positions and their protection
//! again (rebuilt from the journal) without sending anything twice.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod support;

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Duration;

use exchange_core::binance::{BinanceSpot, BinanceSpotConfig, BinanceUsdm, BinanceUsdmConfig};
use exchange_core::paper::{PaperConfig, PaperVenue};
use exchange_core::venue::{
    Endpoints, Environment, Execution, MarketData, MarketFeed, Product, UserDataFeed, UserStreamHandle,
    VenueError, VenueEvent,
};
use exchange_core::{
    AgentTag, ClientOrderId, Fill, OrderKind, OrderPurpose, OrderRequest, OrderStatus, Price, PriceRounding,
    Qty, Side, Symbol,
};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::Value;
use support::{FuturesWorld, Sim, read_json, temp_dir, wait_for};

fn btc() -> Symbol {
    Symbol::new("BTCUSDT").unwrap()
}

fn endpoints(sim: &Sim, product: Product) -> Endpoints {
    exchange_core::venue::install_crypto_provider();
    Endpoints::for_environment(Environment::Sim, product, sim.port)
}

struct Ids(u64);

impl Ids {
    fn next(&mut self, purpose: OrderPurpose) -> ClientOrderId {
        self.0 += 1;
        ClientOrderId::generate(AgentTag::Futures, purpose, 9, self.0)
    }
}

fn order(id: &ClientOrderId, side: Side, kind: OrderKind, qty: Decimal) -> OrderRequest {
    OrderRequest {
        client_order_id: id.clone(),
        symbol: btc(),
        side,
        kind,
        qty: Qty::new(qty),
        reduce_only: false,
        close_position: false,
    }
}

fn dec_of(v: &Value) -> Decimal {
    Decimal::from_str(v.as_str().unwrap_or_else(|| panic!("not a decimal string: {v}"))).unwrap()
}

/// The simulator's own last price of `key` (`futures:BTCUSDT`, `spot:BTCUSDT`).
fn sim_last(sim: &Sim, key: &str) -> Decimal {
    dec_of(&sim.admin("GET", "/sim/state")["prices"][key]["last"])
}

/// Asserts the simulator's demo account is as the sim config made it: no order of any kind, no
/// position, the USD-M wallet and spot USDT at 10000, no other spot asset.
fn assert_sim_untouched(sim: &Sim) {
    let account = sim.account();
    assert_eq!(account["openOrders"].as_array().unwrap().len(), 0, "{account}");
    assert_eq!(account["algoOrders"].as_array().unwrap().len(), 0, "{account}");
    let open = account["futures"]["positions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| !dec_of(&p["positionAmt"]).is_zero())
        .count();
    assert_eq!(open, 0, "{account}");
    assert_eq!(dec_of(&account["futures"]["walletBalance"]), dec!(10000), "{account}");
    let spot = account["spot"]["balances"].as_object().unwrap();
    assert_eq!(dec_of(&spot["USDT"]["free"]), dec!(10000), "{account}");
    let others = spot.iter().filter(|(asset, b)| *asset != "USDT" && !dec_of(&b["free"]).is_zero()).count();
    assert_eq!(others, 0, "{account}");
}

/// Steps the simulator a minute at a time until the broker's own stream has priced `symbol` (and
/// its mark, when `mark`); failing after 30 s.
async fn wait_priced<V: MarketData + MarketFeed + 'static>(
    sim: &Sim,
    venue: &PaperVenue<V>,
    symbol: &Symbol,
    mark: bool,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        sim.admin("POST", "/sim/step?seconds=60");
        let prices = venue.prices(symbol).await.unwrap();
        if prices.last.is_some() && (!mark || prices.mark.is_some()) {
            // Both from the same tick: wait until they agree with the simulator.
            let last = prices.last.map(|(p, _)| p.get());
            let key = if mark { "futures:BTCUSDT" } else { "spot:BTCUSDT" };
            if last == Some(sim_last(sim, key)) {
                return;
            }
        }
        assert!(tokio::time::Instant::now() < deadline, "the paper broker's stream never priced {symbol}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits for the fill of `id` on the user stream, failing after 30 s.
async fn fill_of(user: &mut UserStreamHandle, id: &ClientOrderId) -> Fill {
    let wait = async {
        loop {
            match user.events.recv().await {
                Some(VenueEvent::Fill(f)) if &f.client_order_id == id => return f,
                Some(_) => {}
                None => panic!("the user stream ended while waiting for the fill of {id}"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), wait)
        .await
        .unwrap_or_else(|_| panic!("no fill of {id} within 30 s"))
}

async fn usdt_wallet<V: MarketData + MarketFeed + 'static>(venue: &PaperVenue<V>) -> Decimal {
    venue
        .balances()
        .await
        .unwrap()
        .iter()
        .find(|b| b.asset == "USDT")
        .map_or(Decimal::ZERO, |b| b.wallet.get())
}

async fn btc_position(venue: &PaperVenue<BinanceUsdm>) -> Decimal {
    venue
        .positions()
        .await
        .unwrap()
        .iter()
        .filter(|p| p.symbol == btc())
        .map(|p| p.side.sign() * p.qty.get())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usdm_paper_fills_locally_and_sends_nothing() {
    let dir = temp_dir("paper-usdm");
    let sim = Sim::start(&dir, "");
    let client = BinanceUsdm::new(BinanceUsdmConfig::new(endpoints(&sim, Product::UsdM), None)).unwrap();
    let config = PaperConfig::usdm(dec!(10000)).watching(vec![btc()]);
    let venue = PaperVenue::start(client, config).unwrap();
    let rules = venue.instrument_rules(&btc()).await.unwrap();
    let mut user = venue.start_user_stream().await.unwrap();
    let mut ids = Ids(0);
    wait_priced(&sim, &venue, &btc(), true).await;
    venue.set_leverage(&btc(), 10).await.unwrap();
    venue.set_margin_mode(&btc(), exchange_core::MarginMode::Isolated).await.unwrap();

    // A market buy fills at the simulator's last price with the taker fee; nothing reaches it.
    let market = sim_last(&sim, "futures:BTCUSDT");
    let entry = ids.next(OrderPurpose::Entry);
    let ack = venue.place(&order(&entry, Side::Buy, OrderKind::Market, dec!(0.010))).await.unwrap();
    let bought = &ack.fills[0];
    assert_eq!((bought.price.get(), bought.qty.get()), (market, dec!(0.010)));
    assert_eq!(bought.fee, dec!(0.010) * market * dec!(0.0005));
    assert_eq!(&fill_of(&mut user, &entry).await, bought, "the stream reports the same fill");
    let clock = sim.admin("GET", "/sim/state")["clock"]["marketTime"].as_i64().unwrap();
    assert!(
        bought.time_exchange <= clock && bought.time_exchange > clock - 120_000,
        "event time, not wall clock"
    );
    assert_eq!(btc_position(&venue).await, dec!(0.010));
    assert_eq!(venue.positions().await.unwrap()[0].leverage, 10);
    assert_sim_untouched(&sim);

    // A duplicate client order id is refused.
    let again = venue.place(&order(&entry, Side::Buy, OrderKind::Market, dec!(0.010))).await;
    assert!(matches!(again, Err(VenueError::Rejected { code: -4116, .. })), "{again:?}");

    // A close-position stop 5% down triggers on a 10% shock; the take profit stays; no flip.
    let stop = ids.next(OrderPurpose::StopLoss);
    let trigger = rules.round_price(Price::new(market * dec!(0.95)), PriceRounding::Down);
    let stop_order = OrderRequest {
        close_position: true,
        ..order(&stop, Side::Sell, OrderKind::StopMarket { trigger }, Decimal::ZERO)
    };
    venue.place(&stop_order).await.unwrap();
    let take = ids.next(OrderPurpose::TakeProfit);
    let tp_trigger = rules.round_price(Price::new(market * dec!(1.2)), PriceRounding::Up);
    let take_order = OrderRequest {
        close_position: true,
        ..order(&take, Side::Sell, OrderKind::TakeProfitMarket { trigger: tp_trigger }, Decimal::ZERO)
    };
    venue.place(&take_order).await.unwrap();
    assert_eq!(venue.open_orders(Some(&btc())).await.unwrap().len(), 2);
    assert_sim_untouched(&sim);
    sim.admin("POST", "/sim/shock?symbol=BTCUSDT&pct=-10");
    let stopped = fill_of(&mut user, &stop).await;
    assert_eq!((stopped.side, stopped.qty.get()), (Side::Sell, dec!(0.010)));
    assert!(stopped.price <= trigger, "filled at the shocked price {} (trigger {trigger})", stopped.price);
    assert_eq!(btc_position(&venue).await, Decimal::ZERO);
    assert_eq!(venue.query(&btc(), &stop).await.unwrap().unwrap().status, OrderStatus::Filled);
    assert_eq!(venue.cancel(&btc(), &take).await.unwrap().status, OrderStatus::Canceled);
    // The wallet to the cent: start - both fees + realized.
    let expected =
        dec!(10000) - bought.fee - stopped.fee + dec!(0.010) * (stopped.price.get() - bought.price.get());
    assert_eq!(usdt_wallet(&venue).await, expected);

    // A trailing stop follows the peak: up 3%, then down 3% fires a 1% callback.
    let entry2 = ids.next(OrderPurpose::Entry);
    venue.place(&order(&entry2, Side::Buy, OrderKind::Market, dec!(0.010))).await.unwrap();
    let trail = ids.next(OrderPurpose::TrailingStop);
    let trail_kind = OrderKind::TrailingStop { callback_rate: dec!(0.01), activation: None };
    let trail_order =
        OrderRequest { reduce_only: true, ..order(&trail, Side::Sell, trail_kind, dec!(0.010)) };
    venue.place(&trail_order).await.unwrap();
    sim.admin("POST", "/sim/shock?symbol=BTCUSDT&pct=3");
    sim.admin("POST", "/sim/step?seconds=60");
    let peak = wait_mark_above(&venue, &sim).await;
    sim.admin("POST", "/sim/shock?symbol=BTCUSDT&pct=-3");
    let trailed = fill_of(&mut user, &trail).await;
    assert!(trailed.price.get() <= peak * dec!(0.99), "fired at {} under the peak {peak}", trailed.price);
    assert_eq!(btc_position(&venue).await, Decimal::ZERO);
    assert_sim_untouched(&sim);
    user.control.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// The broker's latest mark once it reflects the simulator's (after a shock and a step).
async fn wait_mark_above(venue: &PaperVenue<BinanceUsdm>, sim: &Sim) -> Decimal {
    let want = dec_of(&sim.admin("GET", "/sim/state")["prices"]["futures:BTCUSDT"]["mark"]);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some((mark, _)) = venue.prices(&btc()).await.unwrap().mark
            && mark.get() == want
        {
            return want;
        }
        assert!(tokio::time::Instant::now() < deadline, "the broker never saw the mark {want}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spot_paper_pays_buy_fees_in_the_base_asset_and_sends_nothing() {
    let dir = temp_dir("paper-spot");
    let sim = Sim::start(&dir, "");
    let client = BinanceSpot::new(BinanceSpotConfig::new(endpoints(&sim, Product::Spot), None)).unwrap();
    let config = PaperConfig::spot(BTreeMap::from([("USDT".to_owned(), dec!(1000))])).watching(vec![btc()]);
    let venue = PaperVenue::start(client, config).unwrap();
    let mut user = venue.start_user_stream().await.unwrap();
    wait_priced(&sim, &venue, &btc(), false).await;
    let market = sim_last(&sim, "spot:BTCUSDT");
    let id = ClientOrderId::new("ma-en-1-1").unwrap();
    let ack = venue.place(&order(&id, Side::Buy, OrderKind::Market, dec!(0.002))).await.unwrap();
    let fill = &ack.fills[0];
    assert_eq!((fill.price.get(), fill.fee, fill.fee_asset.as_str()), (market, dec!(0.000002), "BTC"));
    assert_eq!(&fill_of(&mut user, &id).await, fill);
    let balances = venue.balances().await.unwrap();
    let of = |asset: &str| balances.iter().find(|b| b.asset == asset).map(|b| b.wallet.get());
    assert_eq!(of("BTC"), Some(dec!(0.001998)));
    assert_eq!(of("USDT"), Some(dec!(1000) - dec!(0.002) * market));
    assert!(venue.positions().await.unwrap().is_empty());
    assert!(matches!(venue.set_leverage(&btc(), 3).await, Err(VenueError::Unsupported { .. })));
    assert_sim_untouched(&sim);
    let dup = venue.place(&order(&id, Side::Buy, OrderKind::Market, dec!(0.002))).await;
    assert!(matches!(dup, Err(VenueError::Rejected { code: -2010, .. })), "{dup:?}");
    user.control.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// The symbols of the agent's open positions, as its status lists them.
fn status_positions(w: &FuturesWorld) -> Vec<String> {
    let status = read_json(&w.dir.join("run/futures-agent.status.json")).unwrap();
    status["positions"].as_array().unwrap().iter().map(|p| p["symbol"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn futures_agent_in_paper_mode_journals_fills_sends_nothing_and_restarts_from_its_journal() {
    let mut w = FuturesWorld::new("paper-agent").with_config("paper = true\n");
    w.start_agent();
    let mut hours = 0;
    while w.kinds("position_opened").is_empty() {
        w.step_to_close();
        hours += 1;
        assert!(hours < 200, "no paper entry in 200 simulated hours");
    }
    // The protective orders are placed right after the entry fill (with the paper broker).
    wait_for("the protection of every paper position", Duration::from_secs(20), || {
        let protective = w.kinds("order_update").iter().filter(|u| u["status"] == "NEW").count();
        protective >= 3 * w.kinds("position_opened").len()
    });
    let fills = w.kinds("fill");
    assert!(!fills.is_empty());
    assert!(
        fills.iter().all(|f| f["trade_id"].as_str().is_some_and(|t| t.starts_with("paper-"))),
        "every journaled fill is a paper fill: {fills:?}"
    );
    assert_sim_untouched(&w.sim);

    // kill -9 and restart: the paper account comes back from the journal, the reconciliation
    // finds the positions and their protection, and nothing is placed again.
    let positions_before = status_positions(&w);
    let sent_before = w.kinds("order_sent").len();
    assert!(!positions_before.is_empty(), "a position must be open to restart over");
    w.kill_agent();
    w.start_agent();
    assert_eq!(status_positions(&w), positions_before, "the restart lost or invented paper positions");
    let log = std::fs::read_to_string(w.dir.join("logs/futures_agent.log")).unwrap_or_default();
    assert!(log.contains("paper account restored from the journal"), "{log}");
    assert!(!log.contains("without all its protective orders"), "the protection was not restored: {log}");
    assert_eq!(w.kinds("order_sent").len(), sent_before, "the restart placed orders again");
    w.step_to_close();
    assert_sim_untouched(&w.sim);
    w.kill_agent();
    let _ = std::fs::remove_dir_all(&w.dir);
}
