//! WebSocket payloads (PROTOCOL.md §4): market events (kline, markPriceUpdate) in their
//! combined-stream wrapper, USD-M user events (ORDER_TRADE_UPDATE, ACCOUNT_UPDATE, ALGO_UPDATE,
//! ACCOUNT_CONFIG_UPDATE, listenKeyExpired), spot user events (executionReport,
//! outboundAccountPosition, balanceUpdate) in their WS-API wrapper, and the WS-API answer.
//!
//! Single-letter keys are Binance's; `E` (event time) may be a string (`listenKeyExpired`).

use rust_decimal::Decimal;
use serde::Deserialize;

use super::de::{decimal, int_or_string, opt_decimal, opt_id, opt_int_or_string};

/// A combined-stream frame `{"stream":"<name>","data":<payload>}`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct BinanceCombined<T> {
    /// The payload.
    pub data: T,
}

/// The `k` object of a kline event.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct BinanceKlinePayload<'a> {
    /// Open time, ms.
    #[serde(rename = "t")]
    pub open_time: i64,
    /// Close time, ms.
    #[serde(rename = "T")]
    pub close_time: i64,
    /// Interval (`1m`).
    #[serde(rename = "i", borrow)]
    pub interval: &'a str,
    /// Open.
    #[serde(rename = "o", deserialize_with = "decimal")]
    pub open: Decimal,
    /// Close.
    #[serde(rename = "c", deserialize_with = "decimal")]
    pub close: Decimal,
    /// High.
    #[serde(rename = "h", deserialize_with = "decimal")]
    pub high: Decimal,
    /// Low.
    #[serde(rename = "l", deserialize_with = "decimal")]
    pub low: Decimal,
    /// Base volume.
    #[serde(rename = "v", deserialize_with = "decimal")]
    pub volume: Decimal,
    /// Is the kline closed.
    #[serde(rename = "x")]
    pub closed: bool,
}

/// `<symbol>@kline_<interval>` event.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct BinanceKlineEvent<'a> {
    /// Event time, ms.
    #[serde(rename = "E", deserialize_with = "int_or_string")]
    pub event_time: i64,
    /// Symbol.
    #[serde(rename = "s", borrow)]
    pub symbol: &'a str,
    /// The kline.
    #[serde(rename = "k", borrow)]
    pub kline: BinanceKlinePayload<'a>,
}

/// `<symbol>@markPrice` event (`markPriceUpdate`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct BinanceMarkPriceEvent {
    /// Event time, ms.
    #[serde(rename = "E", deserialize_with = "int_or_string")]
    pub event_time: i64,
    /// Symbol.
    #[serde(rename = "s")]
    pub symbol: String,
    /// Mark price.
    #[serde(rename = "p", deserialize_with = "decimal")]
    pub mark_price: Decimal,
    /// Index price.
    #[serde(rename = "i", default, deserialize_with = "opt_decimal")]
    pub index_price: Option<Decimal>,
    /// Funding rate (`""` for symbols without funding).
    #[serde(rename = "r", default, deserialize_with = "opt_decimal")]
    pub funding_rate: Option<Decimal>,
    /// Next funding time, ms.
    #[serde(rename = "T", default, deserialize_with = "opt_int_or_string")]
    pub next_funding_time: Option<i64>,
}

/// The `o` object of `ORDER_TRADE_UPDATE`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct BinanceOrderTradeOrder {
    /// Symbol.
    #[serde(rename = "s")]
    pub symbol: String,
    /// Client order id.
    #[serde(rename = "c")]
    pub client_order_id: String,
    /// Side.
    #[serde(rename = "S")]
    pub side: String,
    /// Order type.
    #[serde(rename = "o", default)]
    pub order_type: String,
    /// Execution type: `NEW`, `TRADE`, `CANCELED`, `EXPIRED`, `CALCULATED`, `AMENDMENT`.
    #[serde(rename = "x")]
    pub execution_type: String,
    /// Order status.
    #[serde(rename = "X")]
    pub status: String,
    /// Order id.
    #[serde(rename = "i", deserialize_with = "int_or_string")]
    pub order_id: i64,
    /// Last filled quantity.
    #[serde(rename = "l", default, deserialize_with = "opt_decimal")]
    pub last_qty: Option<Decimal>,
    /// Cumulative filled quantity.
    #[serde(rename = "z", default, deserialize_with = "opt_decimal")]
    pub cum_qty: Option<Decimal>,
    /// Last fill price.
    #[serde(rename = "L", default, deserialize_with = "opt_decimal")]
    pub last_price: Option<Decimal>,
    /// Average price.
    #[serde(rename = "ap", default, deserialize_with = "opt_decimal")]
    pub avg_price: Option<Decimal>,
    /// Commission asset.
    #[serde(rename = "N", default)]
    pub commission_asset: Option<String>,
    /// Commission.
    #[serde(rename = "n", default, deserialize_with = "opt_decimal")]
    pub commission: Option<Decimal>,
    /// Trade time, ms.
    #[serde(rename = "T", default, deserialize_with = "opt_int_or_string")]
    pub trade_time: Option<i64>,
    /// Trade id.
    #[serde(rename = "t", default, deserialize_with = "opt_id")]
    pub trade_id: Option<String>,
    /// Expiry reason code.
    #[serde(rename = "er", default, deserialize_with = "opt_id")]
    pub expiry_reason: Option<String>,
}

/// `ORDER_TRADE_UPDATE`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct BinanceOrderTradeUpdate {
    /// Event time, ms.
    #[serde(rename = "E", deserialize_with = "int_or_string")]
    pub event_time: i64,
    /// The order.
    #[serde(rename = "o")]
    pub order: BinanceOrderTradeOrder,
}

/// A balance in `ACCOUNT_UPDATE`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct BinanceAccountBalance {
    /// Asset.
    #[serde(rename = "a")]
    pub asset: String,
    /// Wallet balance.
    #[serde(rename = "wb", deserialize_with = "decimal")]
    pub wallet_balance: Decimal,
    /// Cross wallet balance.
    #[serde(rename = "cw", default, deserialize_with = "opt_decimal")]
    pub cross_wallet: Option<Decimal>,
}

/// A position in `ACCOUNT_UPDATE`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct BinanceAccountPosition {
    /// Symbol.
    #[serde(rename = "s")]
    pub symbol: String,
    /// Signed size.
    #[serde(rename = "pa", deserialize_with = "decimal")]
    pub position_amt: Decimal,
    /// Entry price.
    #[serde(rename = "ep", deserialize_with = "decimal")]
    pub entry_price: Decimal,
    /// Unrealized PnL.
    #[serde(rename = "up", default, deserialize_with = "opt_decimal")]
    pub unrealized_pnl: Option<Decimal>,
    /// `isolated` / `cross`.
    #[serde(rename = "mt", default)]
    pub margin_type: Option<String>,
    /// `BOTH`, `LONG`, `SHORT`.
    #[serde(rename = "ps", default)]
    pub position_side: Option<String>,
}

/// The `a` object of `ACCOUNT_UPDATE`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct BinanceAccountData {
    /// Reason (`ORDER`, `FUNDING_FEE`, ...).
    #[serde(rename = "m", default)]
    pub reason: String,
    /// Balances that changed.
    #[serde(rename = "B", default)]
    pub balances: Vec<BinanceAccountBalance>,
    /// Positions that changed.
    #[serde(rename = "P", default)]
    pub positions: Vec<BinanceAccountPosition>,
}

/// `ACCOUNT_UPDATE`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct BinanceAccountUpdate {
    /// Event time, ms.
    #[serde(rename = "E", deserialize_with = "int_or_string")]
    pub event_time: i64,
    /// The update.
    #[serde(rename = "a")]
    pub data: BinanceAccountData,
}

/// The `o` object of `ALGO_UPDATE`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct BinanceAlgoUpdateOrder {
    /// Client algo id.
    #[serde(rename = "caid")]
    pub client_algo_id: String,
    /// Algo id.
    #[serde(rename = "aid", deserialize_with = "int_or_string")]
    pub algo_id: i64,
    /// Order type.
    #[serde(rename = "o", default)]
    pub order_type: String,
    /// Symbol.
    #[serde(rename = "s")]
    pub symbol: String,
    /// Side.
    #[serde(rename = "S")]
    pub side: String,
    /// Algo status.
    #[serde(rename = "X")]
    pub status: String,
    /// Quantity.
    #[serde(rename = "q", default, deserialize_with = "opt_decimal")]
    pub quantity: Option<Decimal>,
    /// Matching-engine order id once triggered.
    #[serde(rename = "ai", default, deserialize_with = "opt_id")]
    pub actual_order_id: Option<String>,
    /// Average fill price in the matching engine.
    #[serde(rename = "ap", default, deserialize_with = "opt_decimal")]
    pub avg_price: Option<Decimal>,
    /// Executed quantity in the matching engine.
    #[serde(rename = "aq", default, deserialize_with = "opt_decimal")]
    pub executed_qty: Option<Decimal>,
    /// Trigger price.
    #[serde(rename = "tp", default, deserialize_with = "opt_decimal")]
    pub trigger_price: Option<Decimal>,
    /// Failure reason.
    #[serde(rename = "rm", default)]
    pub reject_reason: Option<String>,
}

/// `ALGO_UPDATE`. The docs label `T` and `E` inconsistently (PROTOCOL.md §4.4); `E` is read.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct BinanceAlgoUpdate {
    /// Event time, ms.
    #[serde(rename = "E", deserialize_with = "int_or_string")]
    pub event_time: i64,
    /// The algo order.
    #[serde(rename = "o")]
    pub order: BinanceAlgoUpdateOrder,
}

/// `listenKeyExpired` (`E` documented as a string, sent as an integer since 2026-05).
#[derive(Deserialize, PartialEq, Eq)]
pub struct BinanceListenKeyExpired {
    /// Event time, ms.
    #[serde(rename = "E", deserialize_with = "int_or_string")]
    pub event_time: i64,
}

impl std::fmt::Debug for BinanceListenKeyExpired {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BinanceListenKeyExpired").field("event_time", &self.event_time).finish()
    }
}

/// USD-M `ACCOUNT_CONFIG_UPDATE`: a symbol's leverage changed (`ac`), whoever changed it, or the
/// multi-assets mode did (`ai`, not used here).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct BinanceAccountConfigUpdate {
    /// Event time, ms.
    #[serde(rename = "E", deserialize_with = "int_or_string")]
    pub event_time: i64,
    /// The leverage change, when this update is one.
    #[serde(default)]
    pub ac: Option<BinanceLeverageConfig>,
}

/// The `ac` object of `ACCOUNT_CONFIG_UPDATE`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct BinanceLeverageConfig {
    /// Symbol.
    pub s: String,
    /// The symbol's leverage from now on.
    pub l: u32,
}

/// Spot `executionReport`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct BinanceExecutionReport {
    /// Event time, ms.
    #[serde(rename = "E", deserialize_with = "int_or_string")]
    pub event_time: i64,
    /// Symbol.
    #[serde(rename = "s")]
    pub symbol: String,
    /// Client order id (for a cancel: the cancel request's id).
    #[serde(rename = "c")]
    pub client_order_id: String,
    /// Original client order id (set on cancels).
    #[serde(rename = "C", default)]
    pub orig_client_order_id: Option<String>,
    /// Side.
    #[serde(rename = "S")]
    pub side: String,
    /// Execution type.
    #[serde(rename = "x")]
    pub execution_type: String,
    /// Order status.
    #[serde(rename = "X")]
    pub status: String,
    /// Reject reason (`NONE`).
    #[serde(rename = "r", default)]
    pub reject_reason: Option<String>,
    /// Order id.
    #[serde(rename = "i", deserialize_with = "int_or_string")]
    pub order_id: i64,
    /// Last executed quantity.
    #[serde(rename = "l", deserialize_with = "decimal")]
    pub last_qty: Decimal,
    /// Cumulative filled quantity.
    #[serde(rename = "z", deserialize_with = "decimal")]
    pub cum_qty: Decimal,
    /// Last executed price.
    #[serde(rename = "L", deserialize_with = "decimal")]
    pub last_price: Decimal,
    /// Commission.
    #[serde(rename = "n", default, deserialize_with = "opt_decimal")]
    pub commission: Option<Decimal>,
    /// Commission asset (`null` before any fill).
    #[serde(rename = "N", default)]
    pub commission_asset: Option<String>,
    /// Transaction time, ms.
    #[serde(rename = "T", deserialize_with = "int_or_string")]
    pub transaction_time: i64,
    /// Trade id (`-1` when none).
    #[serde(rename = "t", default, deserialize_with = "opt_int_or_string")]
    pub trade_id: Option<i64>,
    /// Cumulative quote quantity (average price = `Z / z`).
    #[serde(rename = "Z", default, deserialize_with = "opt_decimal")]
    pub cum_quote: Option<Decimal>,
}

/// A balance in `outboundAccountPosition`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct BinanceSpotStreamBalance {
    /// Asset.
    #[serde(rename = "a")]
    pub asset: String,
    /// Free.
    #[serde(rename = "f", deserialize_with = "decimal")]
    pub free: Decimal,
    /// Locked.
    #[serde(rename = "l", deserialize_with = "decimal")]
    pub locked: Decimal,
}

/// Spot `outboundAccountPosition`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct BinanceOutboundAccountPosition {
    /// Event time, ms.
    #[serde(rename = "E", deserialize_with = "int_or_string")]
    pub event_time: i64,
    /// Balances that possibly changed.
    #[serde(rename = "B", default)]
    pub balances: Vec<BinanceSpotStreamBalance>,
}

/// A spot WS-API user event `{"subscriptionId":0,"event":{...}}`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BinanceWsApiEvent<T> {
    /// The subscription.
    #[serde(default)]
    pub subscription_id: Option<i64>,
    /// The event.
    pub event: T,
}

/// A WS-API answer `{"id":..,"status":200,"result":{..}}` or `{"id":..,"status":400,"error":{..}}`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct BinanceWsApiResponse {
    /// Request id, as sent.
    #[serde(default, deserialize_with = "opt_id")]
    pub id: Option<String>,
    /// HTTP-like status.
    #[serde(default)]
    pub status: Option<u16>,
    /// The result (for `userDataStream.subscribe.signature`: `{"subscriptionId":0}`).
    #[serde(default)]
    pub result: Option<BinanceSubscriptionResult>,
    /// The error.
    #[serde(default)]
    pub error: Option<super::common::BinanceErrorBody>,
}

/// `result` of a subscribe call.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BinanceSubscriptionResult {
    /// The subscription's id.
    #[serde(default)]
    pub subscription_id: Option<i64>,
}
