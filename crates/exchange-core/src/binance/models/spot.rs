//! Spot (`/api/v3`) payloads (PROTOCOL.md §3.1): exchangeInfo, orders (ACK / RESULT / FULL),
//! account.

use rust_decimal::Decimal;
use serde::Deserialize;

use super::common::{BinanceFilter, BinanceRateLimit};
use super::de::{decimal, int_or_string, opt_decimal, opt_id, opt_int_or_string};

/// `GET /api/v3/exchangeInfo`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BinanceSpotExchangeInfo {
    /// Declared rate limits.
    #[serde(default)]
    pub rate_limits: Vec<BinanceRateLimit>,
    /// Server time, ms.
    #[serde(default, deserialize_with = "opt_int_or_string")]
    pub server_time: Option<i64>,
    /// Instruments.
    #[serde(default)]
    pub symbols: Vec<BinanceSpotSymbol>,
}

/// One instrument of the spot exchangeInfo.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BinanceSpotSymbol {
    /// Symbol (`ETHBTC`).
    pub symbol: String,
    /// `TRADING`, `HALT`, `BREAK`, `CANCEL_ONLY`.
    #[serde(default)]
    pub status: String,
    /// Base asset.
    #[serde(default)]
    pub base_asset: String,
    /// Quote asset.
    #[serde(default)]
    pub quote_asset: String,
    /// Filters.
    #[serde(default)]
    pub filters: Vec<BinanceFilter>,
}

/// One execution inside a `FULL` order answer.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BinanceSpotFill {
    /// Price.
    #[serde(deserialize_with = "decimal")]
    pub price: Decimal,
    /// Quantity.
    #[serde(deserialize_with = "decimal")]
    pub qty: Decimal,
    /// Commission.
    #[serde(deserialize_with = "decimal")]
    pub commission: Decimal,
    /// Commission asset.
    pub commission_asset: String,
    /// Trade id.
    #[serde(default, deserialize_with = "opt_id")]
    pub trade_id: Option<String>,
}

/// A spot order as `POST/GET/DELETE /api/v3/order` and `GET /api/v3/openOrders` return it. ACK
/// answers carry only the ids; the other fields are then absent.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BinanceSpotOrder {
    /// Symbol.
    pub symbol: String,
    /// Venue order id.
    #[serde(deserialize_with = "int_or_string")]
    pub order_id: i64,
    /// Client order id (on a cancel: the cancel's own id; see `orig_client_order_id`).
    pub client_order_id: String,
    /// On a cancel answer: the id of the order cancelled.
    #[serde(default)]
    pub orig_client_order_id: Option<String>,
    /// Status (absent on ACK answers).
    #[serde(default)]
    pub status: Option<String>,
    /// `BUY`, `SELL`.
    #[serde(default)]
    pub side: Option<String>,
    /// Order type.
    #[serde(rename = "type", default)]
    pub order_type: Option<String>,
    /// Limit price.
    #[serde(default, deserialize_with = "opt_decimal")]
    pub price: Option<Decimal>,
    /// Original quantity.
    #[serde(default, deserialize_with = "opt_decimal")]
    pub orig_qty: Option<Decimal>,
    /// Filled quantity.
    #[serde(default, deserialize_with = "opt_decimal")]
    pub executed_qty: Option<Decimal>,
    /// Filled quote amount (the spelling is Binance's).
    #[serde(default, deserialize_with = "opt_decimal")]
    pub cummulative_quote_qty: Option<Decimal>,
    /// Stop price.
    #[serde(default, deserialize_with = "opt_decimal")]
    pub stop_price: Option<Decimal>,
    /// Placement time (order answers), ms.
    #[serde(default, deserialize_with = "opt_int_or_string")]
    pub transact_time: Option<i64>,
    /// Last update (queries), ms.
    #[serde(default, deserialize_with = "opt_int_or_string")]
    pub update_time: Option<i64>,
    /// Executions (`FULL` answers).
    #[serde(default)]
    pub fills: Vec<BinanceSpotFill>,
}

/// One balance of `GET /api/v3/account`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct BinanceSpotBalance {
    /// Asset.
    pub asset: String,
    /// Free.
    #[serde(deserialize_with = "decimal")]
    pub free: Decimal,
    /// Locked.
    #[serde(deserialize_with = "decimal")]
    pub locked: Decimal,
}

/// `GET /api/v3/account`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BinanceSpotAccount {
    /// May the account trade.
    #[serde(default)]
    pub can_trade: bool,
    /// Last update, ms.
    #[serde(default, deserialize_with = "opt_int_or_string")]
    pub update_time: Option<i64>,
    /// Balances.
    #[serde(default)]
    pub balances: Vec<BinanceSpotBalance>,
}
