//! [`ApiError`]: a Binance error answer (HTTP status plus `{"code":..,"msg":".."}`), and the
//! constructors for every code the simulator sends, with Binance's own wording (PROTOCOL.md §5).
//!
//! Status rules: rate limits 429 (then 418 when banned), API-key problems 401, unknown endpoints
//! 404, server-side faults 5xx, everything else the client did wrong 400.

use std::fmt;

/// A Binance error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// Binance error code (negative).
    pub code: i64,
    /// Message.
    pub msg: String,
    /// `Retry-After` seconds, for 429 and 418.
    pub retry_after: Option<u64>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {} code {}: {}", self.status, self.code, self.msg)
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    /// An error with any status, code and message.
    pub fn new(status: u16, code: i64, msg: impl Into<String>) -> Self {
        Self { status, code, msg: msg.into(), retry_after: None }
    }

    /// A 400 with `code` and `msg`.
    pub fn bad(code: i64, msg: impl Into<String>) -> Self {
        Self::new(400, code, msg)
    }

    /// The JSON body `{"code":..,"msg":".."}`.
    pub fn body(&self) -> String {
        serde_json::json!({ "code": self.code, "msg": self.msg }).to_string()
    }

    /// -1000, HTTP 500.
    pub fn unknown() -> Self {
        Self::new(500, -1000, "An unknown error occurred while processing the request.")
    }

    /// -1021: `timestamp` older than `recvWindow`.
    pub fn outside_recv_window() -> Self {
        Self::bad(-1021, "Timestamp for this request is outside of the recvWindow.")
    }

    /// -1021: `timestamp` more than 1000 ms ahead of the server.
    pub fn ahead_of_server() -> Self {
        Self::bad(-1021, "Timestamp for this request was 1000ms ahead of the server's time.")
    }

    /// -1022.
    pub fn bad_signature() -> Self {
        Self::bad(-1022, "Signature for this request is not valid.")
    }

    /// -1100: a parameter with characters outside its legal range.
    pub fn illegal_chars(param: &str, legal: &str) -> Self {
        Self::bad(
            -1100,
            format!("Illegal characters found in parameter '{param}'; legal range is '{legal}'."),
        )
    }

    /// -1101: the same parameter twice in the query string (or twice in the body).
    pub fn duplicate_param(param: &str) -> Self {
        Self::bad(-1101, format!("Duplicate values for parameter '{param}'."))
    }

    /// -1102: a mandatory parameter is missing, empty or malformed.
    pub fn mandatory(param: &str) -> Self {
        Self::bad(-1102, format!("Mandatory parameter '{param}' was not sent, was empty/null, or malformed."))
    }

    /// -1106: a parameter that this request must not carry.
    pub fn not_required(param: &str) -> Self {
        Self::bad(-1106, format!("Parameter '{param}' sent when not required."))
    }

    /// -1111 as spot words it.
    pub fn precision_spot(param: &str) -> Self {
        Self::bad(-1111, format!("Parameter '{param}' has too much precision."))
    }

    /// -1111 as USD-M words it.
    pub fn precision_futures() -> Self {
        Self::bad(-1111, "Precision is over the maximum defined for this asset.")
    }

    /// -1115.
    pub fn bad_tif() -> Self {
        Self::bad(-1115, "Invalid timeInForce.")
    }

    /// -1116.
    pub fn bad_order_type() -> Self {
        Self::bad(-1116, "Invalid orderType.")
    }

    /// -1117.
    pub fn bad_side() -> Self {
        Self::bad(-1117, "Invalid side.")
    }

    /// -1120.
    pub fn bad_interval() -> Self {
        Self::bad(-1120, "Invalid interval.")
    }

    /// -1121.
    pub fn bad_symbol() -> Self {
        Self::bad(-1121, "Invalid symbol.")
    }

    /// -1125.
    pub fn bad_listen_key() -> Self {
        Self::bad(-1125, "This listenKey does not exist.")
    }

    /// -1130: a value that parsed but is not acceptable.
    pub fn invalid_param(param: &str) -> Self {
        Self::bad(-1130, format!("Data sent for parameter '{param}' is not valid."))
    }

    /// -1131 (spot): recvWindow above 60000.
    pub fn bad_recv_window() -> Self {
        Self::bad(-1131, "recvWindow must be less than 60000")
    }

    /// -1013 (spot filter failure), e.g. `Filter failure: LOT_SIZE`.
    pub fn filter(name: &str) -> Self {
        Self::bad(-1013, format!("Filter failure: {name}"))
    }

    /// -2010 with a reason.
    pub fn rejected(msg: &str) -> Self {
        Self::bad(-2010, msg)
    }

    /// -2010 "Duplicate order sent." (spot duplicate client order id).
    pub fn duplicate_order() -> Self {
        Self::rejected("Duplicate order sent.")
    }

    /// -2010 insufficient balance (spot).
    pub fn insufficient_balance() -> Self {
        Self::rejected("Account has insufficient balance for requested action.")
    }

    /// -2011 "Unknown order sent." (cancel of an order that is not open).
    pub fn cancel_unknown() -> Self {
        Self::bad(-2011, "Unknown order sent.")
    }

    /// -2013.
    pub fn no_such_order() -> Self {
        Self::bad(-2013, "Order does not exist.")
    }

    /// -2014, HTTP 401.
    pub fn bad_api_key_format() -> Self {
        Self::new(401, -2014, "API-key format invalid.")
    }

    /// -2015, HTTP 401.
    pub fn rejected_api_key() -> Self {
        Self::new(401, -2015, "Invalid API-key, IP, or permissions for action.")
    }

    /// -2019 (USD-M).
    pub fn margin_insufficient() -> Self {
        Self::bad(-2019, "Margin is insufficient.")
    }

    /// -2021 (USD-M).
    pub fn would_trigger() -> Self {
        Self::bad(-2021, "Order would immediately trigger.")
    }

    /// -2022 (USD-M).
    pub fn reduce_only_rejected() -> Self {
        Self::bad(-2022, "ReduceOnly Order is rejected.")
    }

    /// -4116 (USD-M duplicate client order id among open orders).
    pub fn duplicate_client_id() -> Self {
        Self::bad(-4116, "ClientOrderId is duplicated.")
    }

    /// -4015 (USD-M invalid client order id).
    pub fn bad_client_id() -> Self {
        Self::bad(-4015, "Client order id is not valid.")
    }

    /// -4120 (USD-M conditional type on `/fapi/v1/order`).
    pub fn use_algo_api() -> Self {
        Self::bad(
            -4120,
            "Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.",
        )
    }

    /// -4164 (USD-M minimum notional).
    pub fn min_notional(min: &rust_decimal::Decimal) -> Self {
        Self::bad(
            -4164,
            format!(
                "Order's notional must be no smaller than {} (unless you choose reduce only).",
                min.normalize()
            ),
        )
    }

    /// -5021 (USD-M FOK that cannot fill at once).
    pub fn fok_rejected() -> Self {
        Self::bad(
            -5021,
            "Due to the order could not be filled immediately, the FOK order has been rejected. The order will not be recorded in the order history",
        )
    }

    /// -5022 (USD-M post-only that would take).
    pub fn gtx_rejected() -> Self {
        Self::bad(
            -5022,
            "Due to the order could not be executed as maker, the Post Only order will be rejected. The order will not be recorded in the order history",
        )
    }

    /// -5000 style answer for an unknown path or method, HTTP 404.
    pub fn unknown_path(method: &str, path: &str) -> Self {
        Self::new(404, -5000, format!("Path {path}, Method {method} is invalid"))
    }

    /// 429 with -1003 and `Retry-After`.
    pub fn too_many_requests(limit: u64, retry_after: u64) -> Self {
        let msg = format!(
            "Too much request weight used; current limit is {limit} request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API."
        );
        Self { retry_after: Some(retry_after), ..Self::new(429, -1003, msg) }
    }

    /// 429 with -1015 (order rate) and `Retry-After`.
    pub fn too_many_orders(limit: u64, window: &str, retry_after: u64) -> Self {
        let msg = format!("Too many new orders; current limit is {limit} orders per {window}.");
        Self { retry_after: Some(retry_after), ..Self::new(429, -1015, msg) }
    }

    /// 418 with -1003: banned until `until_ms` (wall clock), `Retry-After` seconds.
    pub fn banned(until_ms: i64, retry_after: u64) -> Self {
        let msg = format!(
            "Way too much request weight used; IP banned until {until_ms}. Please use WebSocket Streams for live updates to avoid bans."
        );
        Self { retry_after: Some(retry_after), ..Self::new(418, -1003, msg) }
    }

    /// 503 "Unknown error, ..." (the order may or may not have been placed: status unknown).
    pub fn unknown_outcome() -> Self {
        Self::new(503, -1000, "Unknown error, please check your request or try again later.")
    }

    /// 503 "Service Unavailable." (nothing was done).
    pub fn service_unavailable() -> Self {
        Self::new(503, -1000, "Service Unavailable.")
    }

    /// 500 "Internal error; unable to process your request. Please try again." (nothing was done).
    pub fn internal() -> Self {
        Self::new(500, -1001, "Internal error; unable to process your request. Please try again.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_is_binance_shaped() {
        let err = ApiError::bad_symbol();
        assert_eq!(err.body(), r#"{"code":-1121,"msg":"Invalid symbol."}"#);
        assert_eq!(err.status, 400);
        assert_eq!(ApiError::rejected_api_key().status, 401);
        assert_eq!(ApiError::too_many_requests(6000, 7).retry_after, Some(7));
        let min = rust_decimal::Decimal::new(1000, 1);
        assert!(ApiError::min_notional(&min).msg.contains("smaller than 100 "));
    }
}
