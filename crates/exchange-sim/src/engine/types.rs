//! The engine's records: orders, algo orders, trades, income, and their Binance enum spellings.
//! Plain data, serializable for `--state`.

use exchange_core::Side;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::catalog::{SymbolId, Venue};

/// An order type, spot and USD-M together. `StopLoss`/`TakeProfit` are spot's market-on-trigger
/// types; `Stop`/`TakeProfit` on USD-M are limit-on-trigger (the algo API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OrderType {
    /// `LIMIT`
    Limit,
    /// `MARKET`
    Market,
    /// `LIMIT_MAKER` (spot post-only)
    LimitMaker,
    /// `STOP_LOSS` (spot: market once the stop price is reached)
    StopLoss,
    /// `STOP_LOSS_LIMIT` (spot)
    StopLossLimit,
    /// `TAKE_PROFIT` (spot: market on trigger; USD-M algo: limit on trigger)
    TakeProfit,
    /// `TAKE_PROFIT_LIMIT` (spot)
    TakeProfitLimit,
    /// `STOP` (USD-M algo: limit on trigger)
    Stop,
    /// `STOP_MARKET` (USD-M algo)
    StopMarket,
    /// `TAKE_PROFIT_MARKET` (USD-M algo)
    TakeProfitMarket,
    /// `TRAILING_STOP_MARKET` (USD-M algo)
    TrailingStopMarket,
    /// `LIQUIDATION` (USD-M forced close)
    Liquidation,
}

impl OrderType {
    /// Binance's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Limit => "LIMIT",
            Self::Market => "MARKET",
            Self::LimitMaker => "LIMIT_MAKER",
            Self::StopLoss => "STOP_LOSS",
            Self::StopLossLimit => "STOP_LOSS_LIMIT",
            Self::TakeProfit => "TAKE_PROFIT",
            Self::TakeProfitLimit => "TAKE_PROFIT_LIMIT",
            Self::Stop => "STOP",
            Self::StopMarket => "STOP_MARKET",
            Self::TakeProfitMarket => "TAKE_PROFIT_MARKET",
            Self::TrailingStopMarket => "TRAILING_STOP_MARKET",
            Self::Liquidation => "LIQUIDATION",
        }
    }

    /// A spot type by name.
    pub fn parse_spot(text: &str) -> Option<Self> {
        [
            Self::Limit,
            Self::Market,
            Self::LimitMaker,
            Self::StopLoss,
            Self::StopLossLimit,
            Self::TakeProfit,
            Self::TakeProfitLimit,
        ]
        .into_iter()
        .find(|t| t.as_str() == text)
    }

    /// A USD-M type by name (conditional types included; `/fapi/v1/order` refuses them).
    pub fn parse_futures(text: &str) -> Option<Self> {
        [
            Self::Limit,
            Self::Market,
            Self::Stop,
            Self::StopMarket,
            Self::TakeProfit,
            Self::TakeProfitMarket,
            Self::TrailingStopMarket,
        ]
        .into_iter()
        .find(|t| t.as_str() == text)
    }

    /// True for the spot types that wait for a stop price.
    pub fn is_spot_conditional(self) -> bool {
        matches!(self, Self::StopLoss | Self::StopLossLimit | Self::TakeProfit | Self::TakeProfitLimit)
    }

    /// True for types that become a limit order (not a market order) on trigger.
    pub fn limit_on_trigger(self) -> bool {
        matches!(self, Self::StopLossLimit | Self::TakeProfitLimit | Self::Stop | Self::TakeProfit)
    }
}

/// Time in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Tif {
    /// Good till cancelled.
    Gtc,
    /// Immediate or cancel.
    Ioc,
    /// Fill or kill.
    Fok,
    /// Post only (USD-M).
    Gtx,
}

impl Tif {
    /// Binance's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gtc => "GTC",
            Self::Ioc => "IOC",
            Self::Fok => "FOK",
            Self::Gtx => "GTX",
        }
    }

    /// Parses one of the venue's time-in-force values (`GTX` only on USD-M).
    pub fn parse(text: &str, venue: Venue) -> Option<Self> {
        match text {
            "GTC" => Some(Self::Gtc),
            "IOC" => Some(Self::Ioc),
            "FOK" => Some(Self::Fok),
            "GTX" if venue == Venue::Futures => Some(Self::Gtx),
            _ => None,
        }
    }
}

/// Order status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Status {
    /// Accepted, nothing filled.
    New,
    /// Part filled, rest working.
    PartiallyFilled,
    /// Completely filled.
    Filled,
    /// Cancelled by the user.
    Canceled,
    /// Expired (IOC/FOK remainder, triggers that could not execute, liquidation cleanup).
    Expired,
}

impl Status {
    /// Binance's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "NEW",
            Self::PartiallyFilled => "PARTIALLY_FILLED",
            Self::Filled => "FILLED",
            Self::Canceled => "CANCELED",
            Self::Expired => "EXPIRED",
        }
    }

    /// True once the order can no longer change.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Filled | Self::Canceled | Self::Expired)
    }
}

/// Algo order status (USD-M `algoStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AlgoStatus {
    /// Waiting for its trigger.
    New,
    /// Cancelled.
    Canceled,
    /// Triggered: its order was sent to the matching engine.
    Triggered,
    /// Its order is done.
    Finished,
    /// Triggered but its order could not be placed.
    Rejected,
    /// Expired (e.g. closePosition with no position left).
    Expired,
}

impl AlgoStatus {
    /// Binance's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "NEW",
            Self::Canceled => "CANCELED",
            Self::Triggered => "TRIGGERED",
            Self::Finished => "FINISHED",
            Self::Rejected => "REJECTED",
            Self::Expired => "EXPIRED",
        }
    }
}

/// Which price a trigger watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WorkingType {
    /// The last trade price (default).
    ContractPrice,
    /// The mark price.
    MarkPrice,
}

impl WorkingType {
    /// Binance's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ContractPrice => "CONTRACT_PRICE",
            Self::MarkPrice => "MARK_PRICE",
        }
    }
}

/// Trailing state of a trailing order: activated yet, and the best price since activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Trail {
    /// Whether the activation price was reached (always true without one).
    pub active: bool,
    /// Best price since activation: the highest for a sell, the lowest for a buy.
    pub extreme: Decimal,
}

/// An order in the matching engine (spot or USD-M).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// Exchange order id (unique across venues).
    pub order_id: u64,
    /// Owner (index into the accounts).
    pub account: usize,
    /// Spot or USD-M.
    pub venue: Venue,
    /// Instrument.
    pub symbol: SymbolId,
    /// Client order id.
    pub client_id: String,
    /// Buy or sell.
    pub side: Side,
    /// Current type (a triggered stop keeps its type on spot).
    pub order_type: OrderType,
    /// Type as placed (USD-M `origType`).
    pub orig_type: OrderType,
    /// Time in force.
    pub tif: Tif,
    /// Limit price (0 for market orders).
    pub price: Decimal,
    /// Quantity ordered.
    pub qty: Decimal,
    /// Spot `quoteOrderQty` of a market order (0 if not used).
    pub quote_qty: Decimal,
    /// Quantity filled so far.
    pub executed: Decimal,
    /// Quote value filled so far.
    pub cum_quote: Decimal,
    /// Status.
    pub status: Status,
    /// Spot stop price (0 if none).
    pub stop_price: Decimal,
    /// Spot trailing delta in basis points.
    pub trailing_delta: Option<u32>,
    /// Trailing state (spot trailing orders).
    pub trail: Trail,
    /// USD-M reduce-only.
    pub reduce_only: bool,
    /// USD-M close-position (orders placed by a closePosition algo).
    pub close_position: bool,
    /// False while a spot conditional order waits for its trigger.
    pub working: bool,
    /// Creation time (market ms).
    pub time: i64,
    /// Last change (market ms).
    pub update_time: i64,
    /// When it started working (market ms).
    pub working_time: i64,
    /// Quantity held back by the partial-fills fault, filled at the next tick.
    pub deferred: Decimal,
    /// Spot: the amount still locked for it (quote for buys, base for sells).
    pub locked: Decimal,
    /// USD-M: the algo order that created it, if any.
    pub algo_id: Option<u64>,
}

impl Order {
    /// Average fill price (0 before any fill).
    pub fn avg_price(&self) -> Decimal {
        if self.executed.is_zero() { Decimal::ZERO } else { self.cum_quote / self.executed }
    }

    /// Quantity not yet filled.
    pub fn remaining(&self) -> Decimal {
        self.qty - self.executed
    }
}

/// A USD-M conditional order on the algo API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlgoOrder {
    /// Algo id.
    pub algo_id: u64,
    /// Client algo id.
    pub client_algo_id: String,
    /// Owner.
    pub account: usize,
    /// Instrument.
    pub symbol: SymbolId,
    /// Buy or sell.
    pub side: Side,
    /// STOP_MARKET, TAKE_PROFIT_MARKET, STOP, TAKE_PROFIT or TRAILING_STOP_MARKET.
    pub order_type: OrderType,
    /// Time in force of the order it places.
    pub tif: Tif,
    /// Quantity (0 with closePosition).
    pub qty: Decimal,
    /// Limit price for STOP / TAKE_PROFIT (0 otherwise).
    pub price: Decimal,
    /// Trigger price (0 for trailing stops).
    pub trigger_price: Decimal,
    /// Price the trigger watches.
    pub working_type: WorkingType,
    /// Close the whole position on trigger.
    pub close_position: bool,
    /// Reduce-only.
    pub reduce_only: bool,
    /// Price protection flag (echoed only).
    pub price_protect: bool,
    /// Trailing activation price.
    pub activate_price: Option<Decimal>,
    /// Trailing callback rate in percent (1 = 1 %).
    pub callback_rate: Option<Decimal>,
    /// Trailing state.
    pub trail: Trail,
    /// Status.
    pub status: AlgoStatus,
    /// Creation time (market ms).
    pub create_time: i64,
    /// Last change (market ms).
    pub update_time: i64,
    /// Trigger time (0 before).
    pub trigger_time: i64,
    /// The order placed on trigger.
    pub actual_order_id: Option<u64>,
    /// Average fill price of that order.
    pub actual_price: Decimal,
    /// Filled quantity of that order.
    pub actual_qty: Decimal,
}

/// One fill.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trade {
    /// Trade id (per symbol).
    pub id: u64,
    /// Owner.
    pub account: usize,
    /// Venue.
    pub venue: Venue,
    /// Instrument.
    pub symbol: SymbolId,
    /// The order filled.
    pub order_id: u64,
    /// Side of that order.
    pub side: Side,
    /// Fill price.
    pub price: Decimal,
    /// Fill quantity.
    pub qty: Decimal,
    /// price * qty.
    pub quote_qty: Decimal,
    /// Fee charged.
    pub commission: Decimal,
    /// Asset of the fee.
    pub commission_asset: String,
    /// USD-M realized profit of the fill.
    pub realized_pnl: Decimal,
    /// Maker or taker.
    pub maker: bool,
    /// Time (market ms).
    pub time: i64,
}

/// A USD-M income record (`/fapi/v1/income`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Income {
    /// Owner.
    pub account: usize,
    /// Instrument ("" for none).
    pub symbol: String,
    /// REALIZED_PNL, FUNDING_FEE, COMMISSION, INSURANCE_CLEAR.
    pub kind: String,
    /// Amount (positive received, negative paid).
    pub amount: Decimal,
    /// Time (market ms).
    pub time: i64,
    /// Transaction id.
    pub tran_id: u64,
    /// Related trade id ("" when none).
    pub trade_id: String,
}

/// Parses `BUY` / `SELL`.
pub fn parse_side(text: &str) -> Option<Side> {
    match text {
        "BUY" => Some(Side::Buy),
        "SELL" => Some(Side::Sell),
        _ => None,
    }
}
