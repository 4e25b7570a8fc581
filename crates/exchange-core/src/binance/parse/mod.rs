//! Pure functions from Binance wire models to the venue-neutral model: no I/O, no clock. Every
//! function is covered by the fixtures in `tests/fixtures/binance/`.
//!
//! | file      | owns                                                                      |
//! |-----------|---------------------------------------------------------------------------|
//! | `rules`   | `InstrumentRules` from exchangeInfo filters; the weight limit             |
//! | `orders`  | `OrderUpdate` / `Fill` from order answers, algo orders and order events   |
//! | `account` | `Position`, `Balance`, `AccountUpdate`                                    |
//! | `market`  | `Bar` from kline rows and kline events, `MarkPrice`, market frames        |
//! | `user`    | whole user-data frames (USD-M and spot) into `VenueEvent`s                 |

mod account;
mod market;
mod orders;
mod rules;
mod user;

pub use account::{
    parse_account_update, parse_futures_balance, parse_outbound_account_position, parse_position_risk,
    parse_spot_balances,
};
pub use market::{
    event_type, parse_kline_event, parse_kline_frame, parse_kline_row, parse_mark_price_event,
    parse_market_frame, parse_premium_index,
};
pub use orders::{
    parse_algo_order, parse_algo_status, parse_algo_update, parse_execution_report, parse_futures_order,
    parse_order_status, parse_order_trade_update, parse_side, parse_spot_order, parse_user_trade,
};
pub use rules::{
    GridAnchor, parse_futures_rules, parse_market_max_qty, parse_rules, parse_spot_rules, parse_weight_limit,
};
pub use user::{SpotUserFrame, UsdmUserFrame, parse_spot_user_frame, parse_usdm_user_frame};

use crate::model::{ClientOrderId, Symbol};
use crate::venue::VenueError;

/// A value the venue sent that the model cannot hold.
pub(crate) fn invalid(what: &str, value: &str) -> VenueError {
    VenueError::decode(value, format!("invalid {what}"))
}

/// A venue symbol as a [`Symbol`].
pub(crate) fn symbol(text: &str) -> Result<Symbol, VenueError> {
    Symbol::new(text).map_err(|_| invalid("symbol", text))
}

/// A venue client order id as a [`ClientOrderId`].
pub(crate) fn client_id(text: &str) -> Result<ClientOrderId, VenueError> {
    ClientOrderId::new(text).map_err(|_| invalid("client order id", text))
}

/// Reads a JSON payload into a wire model, mapping the error to [`VenueError::Decode`].
/// True when a stream frame is the combined-stream wrapper `{"stream": ..., "data": ...}`, in
/// either key order (JSON objects are unordered; a server may well write `data` first). Binance
/// events use one-letter keys, so an event never has top-level `stream` and `data` keys.
pub(crate) fn is_combined(text: &str) -> bool {
    let t = text.trim_start();
    t.starts_with("{\"stream\"")
        || t.starts_with("{\"data\"")
        || (t.contains("\"stream\":") && t.contains("\"data\":"))
}

pub(crate) fn from_json<'a, T: serde::Deserialize<'a>>(text: &'a str) -> Result<T, VenueError> {
    serde_json::from_str(text).map_err(|e| VenueError::decode(text, e))
}
