//! USD-M (`/fapi`) payloads (PROTOCOL.md §3.3): exchangeInfo, orders, algo (conditional) orders,
//! account trades, positionRisk, balance, premiumIndex, leverage. Fields removed by Binance over time
//! (`avgPrice`, `cumQuote` in 2026-07) are optional.

use rust_decimal::Decimal;
use serde::Deserialize;

use super::common::{BinanceFilter, BinanceRateLimit};
use super::de::{decimal, int_or_string, opt_decimal, opt_id, opt_int_or_string};

/// `GET /fapi/v1/exchangeInfo`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BinanceFuturesExchangeInfo {
    /// Declared rate limits.
    #[serde(default)]
    pub rate_limits: Vec<BinanceRateLimit>,
    /// Server time, ms.
    #[serde(default, deserialize_with = "opt_int_or_string")]
    pub server_time: Option<i64>,
    /// Instruments.
    #[serde(default)]
    pub symbols: Vec<BinanceFuturesSymbol>,
}

/// One instrument of the USD-M exchangeInfo.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BinanceFuturesSymbol {
    /// Symbol (`BTCUSDT`).
    pub symbol: String,
    /// `TRADING`, `SETTLING`, ...
    #[serde(default)]
    pub status: String,
    /// `PERPETUAL`, `CURRENT_QUARTER`, ...
    #[serde(default)]
    pub contract_type: String,
    /// Base asset.
    #[serde(default)]
    pub base_asset: String,
    /// Quote asset.
    #[serde(default)]
    pub quote_asset: String,
    /// Margin asset.
    #[serde(default)]
    pub margin_asset: String,
    /// Filters.
    #[serde(default)]
    pub filters: Vec<BinanceFilter>,
}

/// A USD-M order as `POST/GET/DELETE /fapi/v1/order` and `GET /fapi/v1/openOrders` return it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BinanceOrderResponse {
    /// Symbol.
    pub symbol: String,
    /// Venue order id.
    #[serde(deserialize_with = "int_or_string")]
    pub order_id: i64,
    /// Client order id.
    pub client_order_id: String,
    /// `BUY`, `SELL`.
    pub side: String,
    /// `NEW`, `PARTIALLY_FILLED`, `FILLED`, `CANCELED`, `EXPIRED`, `EXPIRED_IN_MATCH`, ...
    pub status: String,
    /// Order type.
    #[serde(rename = "type", default)]
    pub order_type: String,
    /// Original quantity.
    #[serde(default, deserialize_with = "opt_decimal")]
    pub orig_qty: Option<Decimal>,
    /// Filled quantity.
    #[serde(default, deserialize_with = "opt_decimal")]
    pub executed_qty: Option<Decimal>,
    /// Average fill price (removed from some answers in 2026-07).
    #[serde(default, deserialize_with = "opt_decimal")]
    pub avg_price: Option<Decimal>,
    /// Filled quote amount (removed from some answers in 2026-07).
    #[serde(default, deserialize_with = "opt_decimal")]
    pub cum_quote: Option<Decimal>,
    /// Limit price.
    #[serde(default, deserialize_with = "opt_decimal")]
    pub price: Option<Decimal>,
    /// Reduce only.
    #[serde(default)]
    pub reduce_only: bool,
    /// Last update, ms.
    #[serde(default, deserialize_with = "opt_int_or_string")]
    pub update_time: Option<i64>,
    /// Creation time, ms (queries).
    #[serde(default, deserialize_with = "opt_int_or_string")]
    pub time: Option<i64>,
}

/// An algo (conditional) order, `POST/GET /fapi/v1/algoOrder`, `GET /fapi/v1/openAlgoOrders`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BinanceAlgoOrder {
    /// Algo id.
    #[serde(deserialize_with = "int_or_string")]
    pub algo_id: i64,
    /// Client algo id (our client order id).
    pub client_algo_id: String,
    /// `CONDITIONAL`.
    #[serde(default)]
    pub algo_type: String,
    /// `STOP_MARKET`, `TAKE_PROFIT_MARKET`, `TRAILING_STOP_MARKET`, ...
    #[serde(default)]
    pub order_type: String,
    /// Symbol.
    pub symbol: String,
    /// `BUY`, `SELL`.
    pub side: String,
    /// `NEW`, `CANCELED`, `TRIGGERING`, `TRIGGERED`, `FINISHED`, `REJECTED`, `EXPIRED`.
    pub algo_status: String,
    /// Quantity.
    #[serde(default, deserialize_with = "opt_decimal")]
    pub quantity: Option<Decimal>,
    /// Trigger price.
    #[serde(default, deserialize_with = "opt_decimal")]
    pub trigger_price: Option<Decimal>,
    /// Matching-engine order id once triggered (`""` before).
    #[serde(default, deserialize_with = "opt_id")]
    pub actual_order_id: Option<String>,
    /// Average fill price of the triggered order.
    #[serde(default, deserialize_with = "opt_decimal")]
    pub actual_price: Option<Decimal>,
    /// Filled quantity of the triggered order (only once filled).
    #[serde(default, deserialize_with = "opt_decimal")]
    pub actual_qty: Option<Decimal>,
    /// Trailing activation price.
    #[serde(default, deserialize_with = "opt_decimal")]
    pub activate_price: Option<Decimal>,
    /// Trailing callback rate, percent.
    #[serde(default, deserialize_with = "opt_decimal")]
    pub callback_rate: Option<Decimal>,
    /// Close-all.
    #[serde(default)]
    pub close_position: bool,
    /// Reduce only.
    #[serde(default)]
    pub reduce_only: bool,
    /// Last update, ms.
    #[serde(default, deserialize_with = "opt_int_or_string")]
    pub update_time: Option<i64>,
    /// Creation, ms.
    #[serde(default, deserialize_with = "opt_int_or_string")]
    pub create_time: Option<i64>,
}

/// One execution of `GET /fapi/v1/userTrades` (it names the order by `orderId` only).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BinanceUserTrade {
    /// Trade id, unique per symbol.
    #[serde(deserialize_with = "int_or_string")]
    pub id: i64,
    /// The order that traded.
    #[serde(deserialize_with = "int_or_string")]
    pub order_id: i64,
    /// Symbol.
    pub symbol: String,
    /// `BUY`, `SELL`.
    pub side: String,
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
    /// Trade time, ms.
    #[serde(deserialize_with = "int_or_string")]
    pub time: i64,
}

/// `DELETE /fapi/v1/algoOrder`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BinanceAlgoCancel {
    /// Algo id.
    #[serde(deserialize_with = "int_or_string")]
    pub algo_id: i64,
    /// Client algo id.
    pub client_algo_id: String,
    /// `"200"`.
    #[serde(default, deserialize_with = "opt_int_or_string")]
    pub code: Option<i64>,
    /// `success`.
    #[serde(default)]
    pub msg: String,
}

/// `GET /fapi/v2/positionRisk` (v2 carries `leverage` and `marginType`; v3 does not).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BinancePositionRisk {
    /// Symbol.
    pub symbol: String,
    /// Signed size: positive long, negative short.
    #[serde(deserialize_with = "decimal")]
    pub position_amt: Decimal,
    /// Entry price.
    #[serde(deserialize_with = "decimal")]
    pub entry_price: Decimal,
    /// Leverage (v2).
    #[serde(default, deserialize_with = "opt_decimal")]
    pub leverage: Option<Decimal>,
    /// `isolated` / `cross` (v2).
    #[serde(default)]
    pub margin_type: Option<String>,
    /// Liquidation price (`0` when none).
    #[serde(default, deserialize_with = "opt_decimal")]
    pub liquidation_price: Option<Decimal>,
    /// Mark price.
    #[serde(default, deserialize_with = "opt_decimal")]
    pub mark_price: Option<Decimal>,
    /// Unrealized PnL.
    #[serde(default, deserialize_with = "opt_decimal")]
    pub un_realized_profit: Option<Decimal>,
    /// `BOTH`, `LONG`, `SHORT`.
    #[serde(default)]
    pub position_side: String,
    /// Last update, ms.
    #[serde(default, deserialize_with = "opt_int_or_string")]
    pub update_time: Option<i64>,
}

/// `GET /fapi/v3/balance` entry.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BinanceFuturesBalance {
    /// Asset.
    pub asset: String,
    /// Wallet balance.
    #[serde(deserialize_with = "decimal")]
    pub balance: Decimal,
    /// Cross wallet balance.
    #[serde(default, deserialize_with = "opt_decimal")]
    pub cross_wallet_balance: Option<Decimal>,
    /// Available for new orders.
    #[serde(default, deserialize_with = "opt_decimal")]
    pub available_balance: Option<Decimal>,
    /// Last update, ms.
    #[serde(default, deserialize_with = "opt_int_or_string")]
    pub update_time: Option<i64>,
}

/// `GET /fapi/v1/premiumIndex?symbol=`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BinancePremiumIndex {
    /// Symbol.
    pub symbol: String,
    /// Mark price.
    #[serde(deserialize_with = "decimal")]
    pub mark_price: Decimal,
    /// Index price.
    #[serde(default, deserialize_with = "opt_decimal")]
    pub index_price: Option<Decimal>,
    /// Latest funding rate.
    #[serde(default, deserialize_with = "opt_decimal")]
    pub last_funding_rate: Option<Decimal>,
    /// Next funding time, ms.
    #[serde(default, deserialize_with = "opt_int_or_string")]
    pub next_funding_time: Option<i64>,
    /// Time of the values, ms.
    #[serde(default, deserialize_with = "opt_int_or_string")]
    pub time: Option<i64>,
}

/// `POST /fapi/v1/leverage`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BinanceLeverage {
    /// The leverage now set.
    pub leverage: u32,
    /// Symbol.
    pub symbol: String,
    /// Maximum notional at this leverage.
    #[serde(default, deserialize_with = "opt_decimal")]
    pub max_notional_value: Option<Decimal>,
}
