//! The USD-M adapter's market-order reference price against loopback servers: a mark price its
//! own market stream delivered moments ago is used as is (no `premiumIndex` round trip before
//! the order goes out); without a fresh one the mark is fetched over REST.

#![cfg(feature = "net")]
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use exchange_core::binance::{BinanceUsdm, BinanceUsdmConfig};
use exchange_core::model::{
    AgentTag, ClientOrderId, OrderKind, OrderPurpose, OrderRequest, Qty, Side, Symbol,
};
use exchange_core::signing::{ApiCredentials, Secret};
use exchange_core::venue::{
    Endpoints, Execution, MarketData, MarketEvent, MarketFeed, MarketStreamHandle, VenueError,
};
use futures_util::SinkExt;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use support::{MockHttp, MockWs, Recorded, Reply, WsConn, fixture, now_ms, within};
use tokio_tungstenite::tungstenite::Message;

const KEY: &str = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83";
const SECRET: &str = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";

/// BTCUSDT with a 100 USDT minimum notional.
const EXCHANGE_INFO: &str = r#"{"rateLimits":[],"symbols":[{"symbol":"BTCUSDT","status":"TRADING","contractType":"PERPETUAL","filters":[
  {"filterType":"PRICE_FILTER","minPrice":"556.80","maxPrice":"4529764","tickSize":"0.10"},
  {"filterType":"LOT_SIZE","minQty":"0.001","maxQty":"1000","stepSize":"0.001"},
  {"filterType":"MIN_NOTIONAL","notional":"100"}]}]}"#;

/// The REST mark: 50000, so 0.005 BTC is 250 USDT (the streamed fixture's 11794.15 makes it 59).
const PREMIUM_INDEX: &str = r#"{"symbol":"BTCUSDT","markPrice":"50000.0","indexPrice":"50001.0",
  "lastFundingRate":"0.0001","nextFundingTime":1597392000000,"time":1597370495002}"#;

fn answer(r: &Recorded) -> Reply {
    match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/fapi/v1/time") => Reply::ok(format!(r#"{{"serverTime":{}}}"#, now_ms())),
        ("GET", "/fapi/v1/exchangeInfo") => Reply::ok(EXCHANGE_INFO),
        ("GET", "/fapi/v1/premiumIndex") => Reply::ok(PREMIUM_INDEX),
        ("POST", "/fapi/v1/order") => Reply::ok(format!(
            r#"{{"orderId":7,"symbol":"BTCUSDT","status":"NEW","clientOrderId":"{}","price":"0","avgPrice":"0",
            "origQty":"{}","executedQty":"0","type":"MARKET","side":"BUY","updateTime":1700000000000}}"#,
            r.param("newClientOrderId").unwrap(),
            r.param("quantity").unwrap(),
        )),
        _ => Reply::status(404, ""),
    }
}

fn usdm(mock: &MockHttp, ws_url: &str, mark_max_age: Duration) -> BinanceUsdm {
    let credentials = ApiCredentials::new(KEY.to_owned(), Secret::new(SECRET.to_owned()));
    let mut config = BinanceUsdmConfig::new(Endpoints::sim(&mock.base, ws_url), Some(credentials));
    config.http.timeout = Duration::from_millis(500);
    config.mark_max_age = mark_max_age;
    BinanceUsdm::new(config).unwrap()
}

fn market_buy(seq: u64, qty: Decimal) -> OrderRequest {
    OrderRequest {
        client_order_id: ClientOrderId::generate(
            AgentTag::Futures,
            OrderPurpose::Entry,
            1_764_226_800_000,
            seq,
        ),
        symbol: Symbol::new("BTCUSDT").unwrap(),
        side: Side::Buy,
        kind: OrderKind::Market,
        qty: Qty::new(qty),
        reduce_only: false,
        close_position: false,
    }
}

/// Starts `venue`'s market stream on BTCUSDT's mark price and streams the fixture's mark
/// (11794.15) to it; returns once the stream delivered it (it is cached before delivery), with
/// the server's end of the connection.
async fn stream_a_mark(venue: &BinanceUsdm, server: &mut MockWs) -> (MarketStreamHandle, WsConn) {
    let mut stream = venue.start_market_stream(vec!["btcusdt@markPrice".into()]).await.unwrap();
    let (_, mut ws) = server.next().await;
    let frame = format!(r#"{{"stream":"btcusdt@markPrice","data":{}}}"#, fixture("usdm/ws_mark_price.json"));
    ws.send(Message::text(frame)).await.unwrap();
    let event = within(Duration::from_secs(5), "the mark", stream.events.recv()).await;
    assert!(matches!(event, Some(MarketEvent::MarkPrice(_))), "{event:?}");
    (stream, ws)
}

#[tokio::test]
async fn a_fresh_streamed_mark_checks_a_market_order_without_a_premium_index_round_trip() {
    let mock = MockHttp::start(|r, _| answer(r)).await;
    let mut server = MockWs::start().await;
    let venue = usdm(&mock, &server.url, Duration::from_secs(5));
    let (stream, _ws) = stream_a_mark(&venue, &mut server).await;

    // 0.005 x 11794.15 = 59 < 100: refused on the streamed mark (the REST mark would pass it).
    let refused = venue.place(&market_buy(1, dec!(0.005))).await.unwrap_err();
    assert!(matches!(refused, VenueError::InvalidOrder { filter: "MIN_NOTIONAL", .. }), "{refused:?}");
    // 0.009 x 11794.15 = 106: sent.
    let ack = venue.place(&market_buy(2, dec!(0.009))).await.unwrap();
    assert_eq!(ack.order.client_order_id, market_buy(2, dec!(0.009)).client_order_id);
    let posted = mock.requests_to("POST", "/fapi/v1/order");
    assert_eq!(posted.iter().map(|r| r.param("quantity")).collect::<Vec<_>>(), [Some("0.009".to_owned())]);
    assert!(mock.requests_to("GET", "/fapi/v1/premiumIndex").is_empty(), "no REST mark was fetched");
    stream.control.shutdown().await;
}

#[tokio::test]
async fn without_a_fresh_streamed_mark_the_reference_comes_from_premium_index() {
    let mock = MockHttp::start(|r, _| answer(r)).await;
    let mut server = MockWs::start().await;
    let reader = usdm(&mock, &server.url, Duration::ZERO);
    reader.mark_price(&Symbol::new("BTCUSDT").unwrap()).await.unwrap();
    assert_eq!(reader.rest().http().last_order_handed_at(), None, "only orders note their hand-off");
    // (streamed mark?, mark_max_age): never streamed, or streamed but too old to use.
    for (seq, (stream_it, max_age)) in
        [(false, Duration::from_secs(5)), (true, Duration::ZERO)].into_iter().enumerate()
    {
        let venue = usdm(&mock, &server.url, max_age);
        let stream = if stream_it { Some(stream_a_mark(&venue, &mut server).await) } else { None };
        let before = mock.requests_to("GET", "/fapi/v1/premiumIndex").len();
        // 0.005 x 50000 = 250: sent on the REST mark.
        let started = Instant::now();
        venue.place(&market_buy(seq as u64, dec!(0.005))).await.unwrap();
        let fetched = mock.requests_to("GET", "/fapi/v1/premiumIndex").len() - before;
        assert_eq!(fetched, 1, "streamed {stream_it}, max age {max_age:?}");
        let handed = venue.rest().http().last_order_handed_at();
        assert!(handed.is_some_and(|at| at >= started), "the order's hand-off is noted: {handed:?}");
        if let Some((stream, _ws)) = stream {
            stream.control.shutdown().await;
        }
    }
}
