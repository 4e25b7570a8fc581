//! The REST route table: every endpoint the simulator serves, with its security type and request
//! weight (PROTOCOL.md §3.1, §3.3; weights that depend on parameters are adjusted in `rest`).
//!
//! Spot lives under `/api/v3`, USD-M under `/fapi/v1`, `/fapi/v2`, `/fapi/v3`. Security types:
//! `None` (market data), `ApiKey` (listenKey management: the header only), `Signed` (trading and
//! account: header, timestamp and signature).

use crate::api_error::ApiError;
use crate::catalog::Venue;

/// How a route authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Public.
    None,
    /// `X-MBX-APIKEY` only.
    ApiKey,
    /// Key, timestamp and signature.
    Signed,
}

/// Every endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `ping`.
    Ping,
    /// `time` (wall clock).
    Time,
    /// `exchangeInfo`.
    ExchangeInfo,
    /// `klines` (and spot `uiKlines`).
    Klines,
    /// `ticker/price`.
    TickerPrice,
    /// `ticker/24hr`.
    Ticker24h,
    /// `ticker/bookTicker`.
    BookTicker,
    /// `depth` (synthetic).
    Depth,
    /// spot `avgPrice`.
    AvgPrice,
    /// USD-M `premiumIndex`.
    PremiumIndex,
    /// USD-M `fundingRate` history.
    FundingRate,
    /// USD-M `fundingInfo` (empty: default intervals).
    FundingInfo,
    /// USD-M `leverageBracket`.
    LeverageBracket,
    /// new order.
    NewOrder,
    /// `order/test`.
    TestOrder,
    /// query an order.
    QueryOrder,
    /// cancel an order.
    CancelOrder,
    /// cancel every open order of a symbol.
    CancelAll,
    /// `openOrders`.
    OpenOrders,
    /// USD-M `openOrder`.
    OpenOrder,
    /// `allOrders`.
    AllOrders,
    /// spot `myTrades`, USD-M `userTrades`.
    MyTrades,
    /// spot `account`, USD-M `v3/account`.
    Account,
    /// USD-M `v2/account`.
    AccountV2,
    /// USD-M `balance` (v2 and v3).
    Balance,
    /// USD-M `v3/positionRisk`.
    PositionRisk,
    /// USD-M `v2/positionRisk`.
    PositionRiskV2,
    /// USD-M `leverage`.
    Leverage,
    /// USD-M `marginType`.
    MarginType,
    /// USD-M `positionSide/dual` read.
    PositionSideGet,
    /// USD-M `positionSide/dual` change (one-way mode only).
    PositionSideSet,
    /// USD-M `multiAssetsMargin` (always false).
    MultiAssets,
    /// USD-M `symbolConfig`.
    SymbolConfig,
    /// USD-M `income`.
    Income,
    /// new algo order.
    AlgoNew,
    /// query an algo order.
    AlgoQuery,
    /// cancel an algo order.
    AlgoCancel,
    /// `openAlgoOrders`.
    AlgoOpen,
    /// `allAlgoOrders`.
    AlgoAll,
    /// `algoOpenOrders` cancel-all.
    AlgoCancelAll,
    /// listenKey create.
    ListenKeyCreate,
    /// listenKey keepalive.
    ListenKeyKeepalive,
    /// listenKey close.
    ListenKeyClose,
}

/// One route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// HTTP method.
    pub method: &'static str,
    /// Path.
    pub path: &'static str,
    /// What it does.
    pub endpoint: Endpoint,
    /// Authentication.
    pub security: Security,
    /// Request weight (before parameter adjustments).
    pub weight: u64,
    /// Spot or USD-M.
    pub venue: Venue,
}

const fn r(
    method: &'static str,
    path: &'static str,
    endpoint: Endpoint,
    security: Security,
    weight: u64,
    venue: Venue,
) -> Route {
    Route { method, path, endpoint, security, weight, venue }
}

use Endpoint as E;
use Security::{ApiKey, None as Public, Signed};
use Venue::{Futures as F, Spot as S};

/// Every route.
pub const ROUTES: &[Route] = &[
    r("GET", "/api/v3/ping", E::Ping, Public, 1, S),
    r("GET", "/api/v3/time", E::Time, Public, 1, S),
    r("GET", "/api/v3/exchangeInfo", E::ExchangeInfo, Public, 20, S),
    r("GET", "/api/v3/klines", E::Klines, Public, 2, S),
    r("GET", "/api/v3/uiKlines", E::Klines, Public, 2, S),
    r("GET", "/api/v3/ticker/price", E::TickerPrice, Public, 2, S),
    r("GET", "/api/v3/ticker/24hr", E::Ticker24h, Public, 2, S),
    r("GET", "/api/v3/ticker/bookTicker", E::BookTicker, Public, 2, S),
    r("GET", "/api/v3/depth", E::Depth, Public, 5, S),
    r("GET", "/api/v3/avgPrice", E::AvgPrice, Public, 2, S),
    r("POST", "/api/v3/order", E::NewOrder, Signed, 1, S),
    r("POST", "/api/v3/order/test", E::TestOrder, Signed, 1, S),
    r("GET", "/api/v3/order", E::QueryOrder, Signed, 4, S),
    r("DELETE", "/api/v3/order", E::CancelOrder, Signed, 1, S),
    r("DELETE", "/api/v3/openOrders", E::CancelAll, Signed, 1, S),
    r("GET", "/api/v3/openOrders", E::OpenOrders, Signed, 6, S),
    r("GET", "/api/v3/allOrders", E::AllOrders, Signed, 20, S),
    r("GET", "/api/v3/myTrades", E::MyTrades, Signed, 20, S),
    r("GET", "/api/v3/account", E::Account, Signed, 20, S),
    r("POST", "/api/v3/userDataStream", E::ListenKeyCreate, ApiKey, 2, S),
    r("PUT", "/api/v3/userDataStream", E::ListenKeyKeepalive, ApiKey, 2, S),
    r("DELETE", "/api/v3/userDataStream", E::ListenKeyClose, ApiKey, 2, S),
    r("GET", "/fapi/v1/ping", E::Ping, Public, 1, F),
    r("GET", "/fapi/v1/time", E::Time, Public, 1, F),
    r("GET", "/fapi/v1/exchangeInfo", E::ExchangeInfo, Public, 1, F),
    r("GET", "/fapi/v1/klines", E::Klines, Public, 1, F),
    r("GET", "/fapi/v1/ticker/price", E::TickerPrice, Public, 1, F),
    r("GET", "/fapi/v2/ticker/price", E::TickerPrice, Public, 1, F),
    r("GET", "/fapi/v1/ticker/24hr", E::Ticker24h, Public, 1, F),
    r("GET", "/fapi/v1/ticker/bookTicker", E::BookTicker, Public, 2, F),
    r("GET", "/fapi/v1/depth", E::Depth, Public, 5, F),
    r("GET", "/fapi/v1/premiumIndex", E::PremiumIndex, Public, 1, F),
    r("GET", "/fapi/v1/fundingRate", E::FundingRate, Public, 1, F),
    r("GET", "/fapi/v1/fundingInfo", E::FundingInfo, Public, 1, F),
    r("GET", "/fapi/v1/leverageBracket", E::LeverageBracket, Signed, 1, F),
    r("POST", "/fapi/v1/order", E::NewOrder, Signed, 0, F),
    r("POST", "/fapi/v1/order/test", E::TestOrder, Signed, 0, F),
    r("GET", "/fapi/v1/order", E::QueryOrder, Signed, 1, F),
    r("DELETE", "/fapi/v1/order", E::CancelOrder, Signed, 1, F),
    r("DELETE", "/fapi/v1/allOpenOrders", E::CancelAll, Signed, 1, F),
    r("GET", "/fapi/v1/openOrders", E::OpenOrders, Signed, 1, F),
    r("GET", "/fapi/v1/openOrder", E::OpenOrder, Signed, 1, F),
    r("GET", "/fapi/v1/allOrders", E::AllOrders, Signed, 5, F),
    r("GET", "/fapi/v1/userTrades", E::MyTrades, Signed, 5, F),
    r("GET", "/fapi/v3/account", E::Account, Signed, 5, F),
    r("GET", "/fapi/v2/account", E::AccountV2, Signed, 5, F),
    r("GET", "/fapi/v3/balance", E::Balance, Signed, 5, F),
    r("GET", "/fapi/v2/balance", E::Balance, Signed, 5, F),
    r("GET", "/fapi/v3/positionRisk", E::PositionRisk, Signed, 5, F),
    r("GET", "/fapi/v2/positionRisk", E::PositionRiskV2, Signed, 5, F),
    r("POST", "/fapi/v1/leverage", E::Leverage, Signed, 1, F),
    r("POST", "/fapi/v1/marginType", E::MarginType, Signed, 1, F),
    r("GET", "/fapi/v1/positionSide/dual", E::PositionSideGet, Signed, 30, F),
    r("POST", "/fapi/v1/positionSide/dual", E::PositionSideSet, Signed, 1, F),
    r("GET", "/fapi/v1/multiAssetsMargin", E::MultiAssets, Signed, 30, F),
    r("GET", "/fapi/v1/symbolConfig", E::SymbolConfig, Signed, 5, F),
    r("GET", "/fapi/v1/income", E::Income, Signed, 30, F),
    r("POST", "/fapi/v1/algoOrder", E::AlgoNew, Signed, 0, F),
    r("GET", "/fapi/v1/algoOrder", E::AlgoQuery, Signed, 1, F),
    r("DELETE", "/fapi/v1/algoOrder", E::AlgoCancel, Signed, 1, F),
    r("GET", "/fapi/v1/openAlgoOrders", E::AlgoOpen, Signed, 1, F),
    r("GET", "/fapi/v1/allAlgoOrders", E::AlgoAll, Signed, 5, F),
    r("DELETE", "/fapi/v1/algoOpenOrders", E::AlgoCancelAll, Signed, 1, F),
    r("POST", "/fapi/v1/listenKey", E::ListenKeyCreate, ApiKey, 1, F),
    r("PUT", "/fapi/v1/listenKey", E::ListenKeyKeepalive, ApiKey, 1, F),
    r("DELETE", "/fapi/v1/listenKey", E::ListenKeyClose, ApiKey, 1, F),
];

impl Endpoint {
    /// True for endpoints that place orders (they count on the order limits).
    pub fn places_order(self) -> bool {
        matches!(self, Self::NewOrder | Self::AlgoNew)
    }
}

/// The route for `method` and `path`.
///
/// # Errors
/// -5000 (404) when no route has this path and method.
pub fn find(method: &str, path: &str) -> Result<&'static Route, ApiError> {
    let path = path.strip_suffix('/').filter(|p| !p.is_empty()).unwrap_or(path);
    ROUTES
        .iter()
        .find(|r| r.path == path && r.method == method)
        .ok_or_else(|| ApiError::unknown_path(method, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_unique_and_found() {
        for (i, a) in ROUTES.iter().enumerate() {
            assert!(
                ROUTES.iter().skip(i + 1).all(|b| (a.method, a.path) != (b.method, b.path)),
                "{} {}",
                a.method,
                a.path
            );
        }
        assert_eq!(find("POST", "/fapi/v1/order").unwrap().endpoint, Endpoint::NewOrder);
        assert_eq!(find("GET", "/fapi/v1/nope").unwrap_err().code, -5000);
        assert_eq!(find("PATCH", "/api/v3/order").unwrap_err().status, 404);
    }
}
