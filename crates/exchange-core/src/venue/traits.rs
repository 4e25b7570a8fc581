//! The async traits the agents trade through. Generic, not `dyn`: every method returns
//! `impl Future + Send`, so implementations may be written with `async fn`.
//!
//! Contracts every implementation keeps:
//! - `place` rounds the order onto the instrument's grid (price to the tick, quantity down to the
//!   step), checks every filter and refuses a violation with [`VenueError::InvalidOrder`] without
//!   sending anything;
//! - an order whose answer is lost is resolved by querying its client order id, never re-sent:
//!   `place` returns the order's real state, [`VenueError::NeverAccepted`] when a successful query
//!   says the venue does not know it, or [`VenueError::UnknownOutcome`] when even the query failed.

use std::future::Future;

use super::error::VenueError;
use super::events::MarkPrice;
use super::interval::KlineInterval;
use super::stream::{MarketStreamHandle, UserStreamHandle};
use crate::model::{
    Balance, Bar, ClientOrderId, Fill, InstrumentRules, MarginMode, OrderRequest, OrderUpdate, Position,
    Price, Symbol,
};

/// Which klines to fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KlineQuery {
    /// Bar length.
    pub interval: KlineInterval,
    /// At most this many bars (the venue caps it: 1000 spot, 1500 USD-M).
    pub limit: Option<u16>,
    /// First open time wanted, ms since the Unix epoch.
    pub start_ms: Option<i64>,
    /// Last open time wanted, ms since the Unix epoch.
    pub end_ms: Option<i64>,
}

impl KlineQuery {
    /// The most recent `limit` bars of `interval`.
    pub fn latest(interval: KlineInterval, limit: u16) -> Self {
        Self { interval, limit: Some(limit), start_ms: None, end_ms: None }
    }
}

/// What `place` returns: the order's state as the venue knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderAck {
    /// The order's state.
    pub order: OrderUpdate,
    /// Executions reported with the answer (spot `FULL` responses); often empty: fills also
    /// arrive on the user-data stream.
    pub fills: Vec<Fill>,
    /// True when the first answer was lost and this state came from querying the order.
    pub recovered: bool,
}

/// Reference data and prices.
pub trait MarketData: Send + Sync {
    /// The venue's clock, ms since the Unix epoch.
    fn server_time(&self) -> impl Future<Output = Result<i64, VenueError>> + Send;

    /// The trading rules of `symbol` (cached after the first exchangeInfo).
    fn instrument_rules(
        &self,
        symbol: &Symbol,
    ) -> impl Future<Output = Result<InstrumentRules, VenueError>> + Send;

    /// The trading rules of every tradable instrument.
    fn all_instrument_rules(&self) -> impl Future<Output = Result<Vec<InstrumentRules>, VenueError>> + Send;

    /// Klines, oldest first. The last one may still be open when no `end_ms` is given.
    fn klines(
        &self,
        symbol: &Symbol,
        query: KlineQuery,
    ) -> impl Future<Output = Result<Vec<Bar>, VenueError>> + Send;

    /// Last traded price.
    fn last_price(&self, symbol: &Symbol) -> impl Future<Output = Result<Price, VenueError>> + Send;

    /// Mark price and funding (perpetuals; [`VenueError::Unsupported`] on spot).
    fn mark_price(&self, symbol: &Symbol) -> impl Future<Output = Result<MarkPrice, VenueError>> + Send;
}

/// Orders and account state.
pub trait Execution: Send + Sync {
    /// Rounds, checks and sends `order`; see the module doc for the unknown-outcome contract.
    fn place(&self, order: &OrderRequest) -> impl Future<Output = Result<OrderAck, VenueError>> + Send;

    /// The order's state, `None` when the venue does not know it.
    fn query(
        &self,
        symbol: &Symbol,
        id: &ClientOrderId,
    ) -> impl Future<Output = Result<Option<OrderUpdate>, VenueError>> + Send;

    /// Cancels an open order and returns its final state.
    fn cancel(
        &self,
        symbol: &Symbol,
        id: &ClientOrderId,
    ) -> impl Future<Output = Result<OrderUpdate, VenueError>> + Send;

    /// Open orders (conditional ones included), of one symbol or of all.
    fn open_orders(
        &self,
        symbol: Option<&Symbol>,
    ) -> impl Future<Output = Result<Vec<OrderUpdate>, VenueError>> + Send;

    /// Open positions (none on spot).
    fn positions(&self) -> impl Future<Output = Result<Vec<Position>, VenueError>> + Send;

    /// The account's executions on `symbol` from `since_ms` on (exchange time), oldest first:
    /// what a gap in the user stream may have hidden (a liquidation, a stop that triggered).
    /// Venues without such a query answer [`VenueError::Unsupported`], the default.
    fn fills_since(
        &self,
        symbol: &Symbol,
        since_ms: i64,
    ) -> impl Future<Output = Result<Vec<Fill>, VenueError>> + Send {
        let _ = (symbol, since_ms);
        async { Err(VenueError::Unsupported { what: "execution history" }) }
    }

    /// Balances of every asset held.
    fn balances(&self) -> impl Future<Output = Result<Vec<Balance>, VenueError>> + Send;

    /// Sets the leverage of `symbol` ([`VenueError::Unsupported`] on spot).
    fn set_leverage(
        &self,
        symbol: &Symbol,
        leverage: u32,
    ) -> impl Future<Output = Result<(), VenueError>> + Send;

    /// Sets the margin mode of `symbol`; already set is success ([`VenueError::Unsupported`] on
    /// spot).
    fn set_margin_mode(
        &self,
        symbol: &Symbol,
        mode: MarginMode,
    ) -> impl Future<Output = Result<(), VenueError>> + Send;
}

/// The account's live stream of order, fill and balance events.
pub trait UserDataFeed: Send + Sync {
    /// Starts the user-data stream: one task owns the socket, renews whatever the venue needs
    /// (listenKey, subscription), reconnects with backoff and reports gaps.
    fn start_user_stream(&self) -> impl Future<Output = Result<UserStreamHandle, VenueError>> + Send;
}

/// Live market data.
pub trait MarketFeed: Send + Sync {
    /// The venue's stream name for `symbol`'s klines of `interval` (`btcusdt@kline_1h`).
    fn kline_stream(&self, symbol: &Symbol, interval: KlineInterval) -> String;

    /// The venue's stream name for `symbol`'s mark price; `None` where there is none (spot).
    fn mark_price_stream(&self, symbol: &Symbol) -> Option<String>;

    /// Starts a market-data stream on `streams`; more can be added through the handle.
    fn start_market_stream(
        &self,
        streams: Vec<String>,
    ) -> impl Future<Output = Result<MarketStreamHandle, VenueError>> + Send;
}
