//! The raw spot REST client: one method per endpoint, venue models in and out (PROTOCOL.md
//! §3.1). Spot listenKey endpoints are gone (2026-02-20); user data comes over the WS API.
//!
//! Weights: exchangeInfo 20, klines 2, ticker/price 2, order 1, query order 4, cancel 1,
//! openOrders 6 with a symbol and 80 without, account 20.

use reqwest::Method;

use crate::binance::http::{Auth, BinanceHttp, Kind};
use crate::binance::models::{
    BinanceKline, BinanceServerTime, BinanceSpotAccount, BinanceSpotExchangeInfo, BinanceSpotOrder,
    BinanceTickerPrice,
};
use crate::signing::binance::QueryString;
use crate::venue::VenueError;

/// The spot REST endpoints.
#[derive(Debug, Clone)]
pub struct BinanceSpotRest {
    http: BinanceHttp,
}

impl BinanceSpotRest {
    /// A client over `http`.
    pub fn new(http: BinanceHttp) -> Self {
        Self { http }
    }

    /// The transport.
    pub fn http(&self) -> &BinanceHttp {
        &self.http
    }

    /// `GET /api/v3/time`.
    ///
    /// # Errors
    /// Any transport or venue error.
    pub async fn server_time(&self) -> Result<BinanceServerTime, VenueError> {
        self.http.call(Method::GET, "/api/v3/time", &QueryString::new(), 1, Auth::Public, Kind::Read).await
    }

    /// `GET /api/v3/exchangeInfo`.
    ///
    /// # Errors
    /// Any transport or venue error.
    pub async fn exchange_info(&self) -> Result<BinanceSpotExchangeInfo, VenueError> {
        self.http
            .call(Method::GET, "/api/v3/exchangeInfo", &QueryString::new(), 20, Auth::Public, Kind::Read)
            .await
    }

    /// `GET /api/v3/klines`.
    ///
    /// # Errors
    /// Any transport or venue error.
    pub async fn klines(
        &self,
        symbol: &str,
        interval: &str,
        limit: Option<u16>,
        start_ms: Option<i64>,
        end_ms: Option<i64>,
    ) -> Result<Vec<BinanceKline>, VenueError> {
        let mut query = QueryString::new().param("symbol", symbol).param("interval", interval);
        if let Some(start) = start_ms {
            query.push("startTime", &start.to_string());
        }
        if let Some(end) = end_ms {
            query.push("endTime", &end.to_string());
        }
        if let Some(limit) = limit {
            query.push("limit", &limit.to_string());
        }
        self.http.call(Method::GET, "/api/v3/klines", &query, 2, Auth::Public, Kind::Read).await
    }

    /// `GET /api/v3/ticker/price?symbol=`.
    ///
    /// # Errors
    /// Any transport or venue error.
    pub async fn ticker_price(&self, symbol: &str) -> Result<BinanceTickerPrice, VenueError> {
        let query = QueryString::new().param("symbol", symbol);
        self.http.call(Method::GET, "/api/v3/ticker/price", &query, 2, Auth::Public, Kind::Read).await
    }

    /// `POST /api/v3/order` with `params` as encoded by the adapter.
    ///
    /// # Errors
    /// [`VenueError::UnknownOutcome`] when the order may have been accepted; any other error
    /// when it definitely was not.
    pub async fn new_order(
        &self,
        params: &QueryString,
        client_order_id: &str,
    ) -> Result<BinanceSpotOrder, VenueError> {
        self.http
            .call(Method::POST, "/api/v3/order", params, 1, Auth::Signed, Kind::Order { client_order_id })
            .await
    }

    /// `GET /api/v3/order?symbol=&origClientOrderId=`; `None` when the venue does not know it.
    ///
    /// # Errors
    /// Any transport or venue error other than "not found".
    pub async fn query_order(
        &self,
        symbol: &str,
        client_order_id: &str,
    ) -> Result<Option<BinanceSpotOrder>, VenueError> {
        let query = QueryString::new().param("symbol", symbol).param("origClientOrderId", client_order_id);
        match self.http.call(Method::GET, "/api/v3/order", &query, 4, Auth::Signed, Kind::Read).await {
            Ok(order) => Ok(Some(order)),
            Err(VenueError::NotFound { .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// `DELETE /api/v3/order?symbol=&origClientOrderId=`.
    ///
    /// # Errors
    /// [`VenueError::NotFound`] when the order is not open; any transport or venue error.
    pub async fn cancel_order(
        &self,
        symbol: &str,
        client_order_id: &str,
    ) -> Result<BinanceSpotOrder, VenueError> {
        let query = QueryString::new().param("symbol", symbol).param("origClientOrderId", client_order_id);
        self.http.call(Method::DELETE, "/api/v3/order", &query, 1, Auth::Signed, Kind::Write).await
    }

    /// `GET /api/v3/openOrders` (weight 6 with a symbol, 80 without).
    ///
    /// # Errors
    /// Any transport or venue error.
    pub async fn open_orders(&self, symbol: Option<&str>) -> Result<Vec<BinanceSpotOrder>, VenueError> {
        let mut query = QueryString::new();
        if let Some(symbol) = symbol {
            query.push("symbol", symbol);
        }
        let weight = if symbol.is_some() { 6 } else { 80 };
        self.http.call(Method::GET, "/api/v3/openOrders", &query, weight, Auth::Signed, Kind::Read).await
    }

    /// `GET /api/v3/account?omitZeroBalances=true`.
    ///
    /// # Errors
    /// Any transport or venue error.
    pub async fn account(&self) -> Result<BinanceSpotAccount, VenueError> {
        let query = QueryString::new().param("omitZeroBalances", "true");
        self.http.call(Method::GET, "/api/v3/account", &query, 20, Auth::Signed, Kind::Read).await
    }
}
