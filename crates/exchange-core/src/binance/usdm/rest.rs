//! The raw USD-M REST client: one method per endpoint, venue models in and out (PROTOCOL.md
//! §3.3). No rounding, no resolution, no retries beyond the transport's: the adapter does that.
//!
//! Weights: exchangeInfo 1, klines 1/2/5/10 by `limit` ([1,100) / [100,500) / [500,1000] /
//! more), ticker/price 1, premiumIndex 1, order and algo-order placement 0 (they count on the
//! order counters instead), order queries 1, userTrades 5, openOrders 1 with a symbol and 40 without,
//! positionRisk 5, balance 5, leverage 1, marginType 1, listenKey 1.

use reqwest::Method;

use crate::binance::http::{Auth, BinanceHttp, Kind};
use crate::binance::models::{
    BinanceAlgoCancel, BinanceAlgoOrder, BinanceCodeMsg, BinanceFuturesBalance, BinanceFuturesExchangeInfo,
    BinanceKline, BinanceLeverage, BinanceListenKey, BinanceOrderResponse, BinancePositionRisk,
    BinancePremiumIndex, BinanceServerTime, BinanceTickerPrice, BinanceUserTrade,
};
use crate::signing::binance::QueryString;
use crate::venue::VenueError;

/// The USD-M REST endpoints.
#[derive(Debug, Clone)]
pub struct BinanceUsdmRest {
    http: BinanceHttp,
}

/// Turns "not found" into `None`.
fn found<T>(result: Result<T, VenueError>) -> Result<Option<T>, VenueError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(VenueError::NotFound { .. }) => Ok(None),
        Err(error) => Err(error),
    }
}

fn with_symbol(symbol: Option<&str>) -> QueryString {
    let mut query = QueryString::new();
    if let Some(symbol) = symbol {
        query.push("symbol", symbol);
    }
    query
}

/// Kline request weight by `limit` (default 500).
pub fn kline_weight(limit: Option<u16>) -> u32 {
    match limit.unwrap_or(500) {
        0..100 => 1,
        100..500 => 2,
        500..=1000 => 5,
        _ => 10,
    }
}

impl BinanceUsdmRest {
    /// A client over `http`.
    pub fn new(http: BinanceHttp) -> Self {
        Self { http }
    }

    /// The transport.
    pub fn http(&self) -> &BinanceHttp {
        &self.http
    }

    /// `GET /fapi/v1/time`.
    ///
    /// # Errors
    /// Any transport or venue error.
    pub async fn server_time(&self) -> Result<BinanceServerTime, VenueError> {
        self.http.call(Method::GET, "/fapi/v1/time", &QueryString::new(), 1, Auth::Public, Kind::Read).await
    }

    /// `GET /fapi/v1/exchangeInfo`.
    ///
    /// # Errors
    /// Any transport or venue error.
    pub async fn exchange_info(&self) -> Result<BinanceFuturesExchangeInfo, VenueError> {
        self.http
            .call(Method::GET, "/fapi/v1/exchangeInfo", &QueryString::new(), 1, Auth::Public, Kind::Read)
            .await
    }

    /// `GET /fapi/v1/klines`.
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
        self.http
            .call(Method::GET, "/fapi/v1/klines", &query, kline_weight(limit), Auth::Public, Kind::Read)
            .await
    }

    /// `GET /fapi/v2/ticker/price?symbol=`.
    ///
    /// # Errors
    /// Any transport or venue error.
    pub async fn ticker_price(&self, symbol: &str) -> Result<BinanceTickerPrice, VenueError> {
        self.http
            .call(
                Method::GET,
                "/fapi/v2/ticker/price",
                &with_symbol(Some(symbol)),
                1,
                Auth::Public,
                Kind::Read,
            )
            .await
    }

    /// `GET /fapi/v1/premiumIndex?symbol=`.
    ///
    /// # Errors
    /// Any transport or venue error.
    pub async fn premium_index(&self, symbol: &str) -> Result<BinancePremiumIndex, VenueError> {
        self.http
            .call(
                Method::GET,
                "/fapi/v1/premiumIndex",
                &with_symbol(Some(symbol)),
                1,
                Auth::Public,
                Kind::Read,
            )
            .await
    }

    /// `POST /fapi/v1/order` with `params` as encoded by the adapter (without timestamp).
    ///
    /// # Errors
    /// [`VenueError::UnknownOutcome`] when the order may have been accepted; any other error
    /// when it definitely was not.
    pub async fn new_order(
        &self,
        params: &QueryString,
        client_order_id: &str,
    ) -> Result<BinanceOrderResponse, VenueError> {
        self.http
            .call(Method::POST, "/fapi/v1/order", params, 0, Auth::Signed, Kind::Order { client_order_id })
            .await
    }

    /// `GET /fapi/v1/order?symbol=&origClientOrderId=`; `None` when the venue does not know it.
    ///
    /// # Errors
    /// Any transport or venue error other than "not found".
    pub async fn query_order(
        &self,
        symbol: &str,
        client_order_id: &str,
    ) -> Result<Option<BinanceOrderResponse>, VenueError> {
        let query = QueryString::new().param("symbol", symbol).param("origClientOrderId", client_order_id);
        found(self.http.call(Method::GET, "/fapi/v1/order", &query, 1, Auth::Signed, Kind::Read).await)
    }

    /// `DELETE /fapi/v1/order?symbol=&origClientOrderId=`.
    ///
    /// # Errors
    /// [`VenueError::NotFound`] when the order is not open; any transport or venue error.
    pub async fn cancel_order(
        &self,
        symbol: &str,
        client_order_id: &str,
    ) -> Result<BinanceOrderResponse, VenueError> {
        let query = QueryString::new().param("symbol", symbol).param("origClientOrderId", client_order_id);
        self.http.call(Method::DELETE, "/fapi/v1/order", &query, 1, Auth::Signed, Kind::Write).await
    }

    /// `GET /fapi/v1/order?symbol=&orderId=`; `None` when the venue does not know it.
    ///
    /// # Errors
    /// Any transport or venue error other than "not found".
    pub async fn query_order_by_id(
        &self,
        symbol: &str,
        order_id: i64,
    ) -> Result<Option<BinanceOrderResponse>, VenueError> {
        let query = QueryString::new().param("symbol", symbol).param("orderId", &order_id.to_string());
        found(self.http.call(Method::GET, "/fapi/v1/order", &query, 1, Auth::Signed, Kind::Read).await)
    }

    /// `GET /fapi/v1/userTrades?symbol=&startTime=&limit=` (weight 5): the account's executions
    /// on `symbol` from `start_time` on, oldest first, at most `limit` (1000 at most).
    ///
    /// # Errors
    /// Any transport or venue error.
    pub async fn user_trades(
        &self,
        symbol: &str,
        start_time: i64,
        limit: u16,
    ) -> Result<Vec<BinanceUserTrade>, VenueError> {
        let query = QueryString::new()
            .param("symbol", symbol)
            .param("startTime", &start_time.to_string())
            .param("limit", &limit.min(1000).to_string());
        self.http.call(Method::GET, "/fapi/v1/userTrades", &query, 5, Auth::Signed, Kind::Read).await
    }

    /// `GET /fapi/v1/openOrders` (weight 1 with a symbol, 40 without).
    ///
    /// # Errors
    /// Any transport or venue error.
    pub async fn open_orders(&self, symbol: Option<&str>) -> Result<Vec<BinanceOrderResponse>, VenueError> {
        let weight = if symbol.is_some() { 1 } else { 40 };
        self.http
            .call(Method::GET, "/fapi/v1/openOrders", &with_symbol(symbol), weight, Auth::Signed, Kind::Read)
            .await
    }

    /// `POST /fapi/v1/algoOrder` (conditional orders) with `params` as encoded by the adapter.
    ///
    /// # Errors
    /// As [`BinanceUsdmRest::new_order`].
    pub async fn new_algo_order(
        &self,
        params: &QueryString,
        client_algo_id: &str,
    ) -> Result<BinanceAlgoOrder, VenueError> {
        let kind = Kind::Order { client_order_id: client_algo_id };
        self.http.call(Method::POST, "/fapi/v1/algoOrder", params, 0, Auth::Signed, kind).await
    }

    /// `GET /fapi/v1/algoOrder?clientAlgoId=`; `None` when the venue does not know it.
    ///
    /// # Errors
    /// Any transport or venue error other than "not found".
    pub async fn query_algo_order(
        &self,
        client_algo_id: &str,
    ) -> Result<Option<BinanceAlgoOrder>, VenueError> {
        let query = QueryString::new().param("clientAlgoId", client_algo_id);
        found(self.http.call(Method::GET, "/fapi/v1/algoOrder", &query, 1, Auth::Signed, Kind::Read).await)
    }

    /// `DELETE /fapi/v1/algoOrder?clientAlgoId=`.
    ///
    /// # Errors
    /// [`VenueError::NotFound`] when the order is not open; any transport or venue error.
    pub async fn cancel_algo_order(&self, client_algo_id: &str) -> Result<BinanceAlgoCancel, VenueError> {
        let query = QueryString::new().param("clientAlgoId", client_algo_id);
        self.http.call(Method::DELETE, "/fapi/v1/algoOrder", &query, 1, Auth::Signed, Kind::Write).await
    }

    /// `GET /fapi/v1/openAlgoOrders` (weight 1 with a symbol, 40 without).
    ///
    /// # Errors
    /// Any transport or venue error.
    pub async fn open_algo_orders(&self, symbol: Option<&str>) -> Result<Vec<BinanceAlgoOrder>, VenueError> {
        let weight = if symbol.is_some() { 1 } else { 40 };
        let mut query = with_symbol(symbol);
        query.push("algoType", "CONDITIONAL");
        self.http.call(Method::GET, "/fapi/v1/openAlgoOrders", &query, weight, Auth::Signed, Kind::Read).await
    }

    /// `GET /fapi/v2/positionRisk` (v2: it carries leverage and margin type).
    ///
    /// # Errors
    /// Any transport or venue error.
    pub async fn position_risk(&self, symbol: Option<&str>) -> Result<Vec<BinancePositionRisk>, VenueError> {
        self.http
            .call(Method::GET, "/fapi/v2/positionRisk", &with_symbol(symbol), 5, Auth::Signed, Kind::Read)
            .await
    }

    /// `GET /fapi/v3/balance`.
    ///
    /// # Errors
    /// Any transport or venue error.
    pub async fn balance(&self) -> Result<Vec<BinanceFuturesBalance>, VenueError> {
        self.http
            .call(Method::GET, "/fapi/v3/balance", &QueryString::new(), 5, Auth::Signed, Kind::Read)
            .await
    }

    /// `POST /fapi/v1/leverage`.
    ///
    /// # Errors
    /// Any transport or venue error.
    pub async fn set_leverage(&self, symbol: &str, leverage: u32) -> Result<BinanceLeverage, VenueError> {
        let query = QueryString::new().param("symbol", symbol).param("leverage", &leverage.to_string());
        self.http.call(Method::POST, "/fapi/v1/leverage", &query, 1, Auth::Signed, Kind::Write).await
    }

    /// `POST /fapi/v1/marginType` (`ISOLATED` / `CROSSED`); `-4046` (already set) is success.
    ///
    /// # Errors
    /// Any transport or venue error but `-4046`.
    pub async fn set_margin_type(
        &self,
        symbol: &str,
        margin_type: &str,
    ) -> Result<BinanceCodeMsg, VenueError> {
        let query = QueryString::new().param("symbol", symbol).param("marginType", margin_type);
        match self.http.call(Method::POST, "/fapi/v1/marginType", &query, 1, Auth::Signed, Kind::Write).await
        {
            Err(VenueError::Rejected { code: -4046, msg }) => Ok(BinanceCodeMsg { code: Some(-4046), msg }),
            other => other,
        }
    }

    /// `POST /fapi/v1/listenKey`: a new key, or the active one extended by 60 minutes.
    ///
    /// # Errors
    /// Any transport or venue error.
    pub async fn create_listen_key(&self) -> Result<BinanceListenKey, VenueError> {
        self.http
            .call(Method::POST, "/fapi/v1/listenKey", &QueryString::new(), 1, Auth::ApiKey, Kind::Write)
            .await
    }

    /// `PUT /fapi/v1/listenKey`: extends the active key by 60 minutes.
    ///
    /// # Errors
    /// [`VenueError::Rejected`] with code `-1125` when the key no longer exists; any transport
    /// or venue error.
    pub async fn keepalive_listen_key(&self) -> Result<BinanceListenKey, VenueError> {
        self.http
            .call(Method::PUT, "/fapi/v1/listenKey", &QueryString::new(), 1, Auth::ApiKey, Kind::Write)
            .await
    }

    /// `DELETE /fapi/v1/listenKey`.
    ///
    /// # Errors
    /// Any transport or venue error.
    pub async fn close_listen_key(&self) -> Result<(), VenueError> {
        let _: serde_json::Value = self
            .http
            .call(Method::DELETE, "/fapi/v1/listenKey", &QueryString::new(), 1, Auth::ApiKey, Kind::Write)
            .await?;
        Ok(())
    }
}
