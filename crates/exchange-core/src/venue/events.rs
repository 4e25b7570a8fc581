//! What the live streams deliver: [`VenueEvent`] from the user-data stream (orders, fills,
//! account changes, and the gaps after which the caller must reconcile over REST) and
//! [`MarketEvent`] from the market streams (klines, mark price and funding).
//!
//! A gap is never silent: when a socket drops, a listenKey expires or the 24 h limit forces a
//! new connection, the stream emits [`VenueEvent::StreamGap`] at once and
//! [`VenueEvent::Reconnected`] when events flow again. Between the two, events may have been
//! missed: the agent must re-read open orders and positions before trusting the stream again.

use rust_decimal::Decimal;

use super::interval::KlineInterval;
use crate::model::{Balance, Bar, Fill, MarginMode, OrderUpdate, PositionSide, Price, Qty, Symbol};

/// Why a stream lost continuity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GapReason {
    /// The socket closed or failed.
    Disconnected,
    /// The listenKey expired or was unknown to the venue; a new key was created.
    ListenKeyExpired,
    /// A planned reconnect before the venue's 24 h connection limit.
    Rollover,
    /// The venue ended the subscription (spot `eventStreamTerminated`, `serverShutdown`).
    Terminated,
}

/// A position as an account update reports it (no leverage: Binance does not send it there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionUpdate {
    /// The instrument.
    pub symbol: Symbol,
    /// Long or short; `None` when the position is flat.
    pub side: Option<PositionSide>,
    /// Size, always non-negative.
    pub qty: Qty,
    /// Average entry price (zero when flat).
    pub entry_price: Price,
    /// Margin mode, when given.
    pub margin_mode: Option<MarginMode>,
    /// Unrealized profit or loss in the margin asset.
    pub unrealized_pnl: Decimal,
}

/// Balances and positions that changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountUpdate {
    /// Why (Binance `m`: `ORDER`, `FUNDING_FEE`, ...; spot: the event type).
    pub reason: String,
    /// Balances that changed.
    pub balances: Vec<Balance>,
    /// Positions that changed (futures only).
    pub positions: Vec<PositionUpdate>,
    /// Exchange time of the event, ms since the Unix epoch.
    pub time_exchange: i64,
}

/// One event of the user-data stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VenueEvent {
    /// An order changed state.
    Order(OrderUpdate),
    /// An order traded (also carried inside the matching [`VenueEvent::Order`]).
    Fill(Fill),
    /// Balances or positions changed.
    Account(AccountUpdate),
    /// Continuity was lost: events may be missing until [`VenueEvent::Reconnected`].
    StreamGap {
        /// Why.
        reason: GapReason,
    },
    /// Events flow again after a gap: reconcile open orders and positions over REST now.
    Reconnected,
    /// A symbol's leverage on the venue changed (by this client or anyone else: Binance USD-M
    /// `ACCOUNT_CONFIG_UPDATE`).
    LeverageChanged {
        /// The instrument.
        symbol: Symbol,
        /// Its leverage from now on.
        leverage: u32,
    },
}

/// Mark price and funding of one perpetual.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkPrice {
    /// The instrument.
    pub symbol: Symbol,
    /// Mark price.
    pub mark_price: Price,
    /// Index price, when given.
    pub index_price: Option<Price>,
    /// Latest funding rate (a fraction: 0.0001 = 0.01%).
    pub funding_rate: Decimal,
    /// Next funding time, ms since the Unix epoch.
    pub next_funding_time: i64,
    /// Exchange time of the value, ms since the Unix epoch.
    pub time_exchange: i64,
}

/// A kline from the stream: the bar so far and whether it is closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KlineUpdate {
    /// The instrument.
    pub symbol: Symbol,
    /// The kline interval.
    pub interval: KlineInterval,
    /// The bar (open time, OHLC, base volume).
    pub bar: Bar,
    /// True when the bar is final.
    pub closed: bool,
    /// Event time, ms since the Unix epoch.
    pub time_exchange: i64,
}

/// One event of the market streams.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarketEvent {
    /// A kline update.
    Kline(KlineUpdate),
    /// A mark price and funding update.
    MarkPrice(MarkPrice),
    /// Continuity was lost: bars may be missing until [`MarketEvent::Reconnected`]; backfill them
    /// over REST.
    StreamGap {
        /// Why.
        reason: GapReason,
    },
    /// Data flows again after a gap.
    Reconnected,
}
