//! [`BinanceSpot`]: the spot adapter behind [`MarketData`], [`Execution`], [`UserDataFeed`] and
//! [`MarketFeed`].
//!
//! `place` rounds and checks the order (a market order against the last price), sends it with
//! `newOrderRespType=FULL` and resolves an unknown outcome by querying
//! `GET /api/v3/order?origClientOrderId=`. Spot has no positions, leverage, margin modes or
//! mark price: those calls return nothing or [`VenueError::Unsupported`].

use crate::binance::cache::{RulesCache, SymbolRules};
use crate::binance::encode::round_and_check;
use crate::binance::http::{BinanceHttp, HttpConfig};
use crate::binance::parse::{
    parse_kline_row, parse_market_max_qty, parse_spot_balances, parse_spot_order, parse_spot_rules,
    parse_weight_limit,
};
use crate::binance::resolve::{ResolvePolicy, resolve_unknown};
use crate::binance::spot::orders::encode_spot_order;
use crate::binance::spot::rest::BinanceSpotRest;
use crate::binance::usdm::keep_parsed;
use crate::binance::ws::{WsConfig, spawn_market_stream, spawn_spot_user_stream};
use crate::model::{
    Balance, Bar, ClientOrderId, InstrumentRules, MarginMode, OrderKind, OrderRequest, OrderUpdate, Position,
    Price, Side, Symbol,
};
use crate::signing::ApiCredentials;
use crate::venue::{
    Endpoints, Execution, KlineInterval, KlineQuery, MarkPrice, MarketData, MarketFeed, MarketStreamHandle,
    OrderAck, Product, UserDataFeed, UserStreamHandle, VenueError,
};

/// Everything a spot adapter needs.
#[derive(Debug, Clone)]
pub struct BinanceSpotConfig {
    /// Base URLs.
    pub endpoints: Endpoints,
    /// API key and secret (`None`: market data only).
    pub credentials: Option<ApiCredentials>,
    /// Transport settings.
    pub http: HttpConfig,
    /// Unknown-outcome resolution.
    pub resolve: ResolvePolicy,
    /// WebSocket settings.
    pub ws: WsConfig,
}

impl BinanceSpotConfig {
    /// Defaults for `endpoints` (spot weight budget 6000 per minute).
    pub fn new(endpoints: Endpoints, credentials: Option<ApiCredentials>) -> Self {
        Self {
            endpoints,
            credentials,
            http: HttpConfig { weight_limit: 6_000, ..HttpConfig::default() },
            resolve: ResolvePolicy::default(),
            ws: WsConfig::default(),
        }
    }
}

/// The spot adapter.
#[derive(Debug)]
pub struct BinanceSpot {
    rest: BinanceSpotRest,
    rules: RulesCache,
    config: BinanceSpotConfig,
}

impl BinanceSpot {
    /// An adapter for `config`.
    ///
    /// # Errors
    /// [`VenueError::Config`] when the HTTP client cannot be built.
    pub fn new(config: BinanceSpotConfig) -> Result<Self, VenueError> {
        let http = BinanceHttp::new(
            &config.endpoints.rest,
            "/api/v3/time",
            config.credentials.clone(),
            config.http.clone(),
        )?;
        Ok(Self { rest: BinanceSpotRest::new(http), rules: RulesCache::default(), config })
    }

    /// The raw REST client.
    pub fn rest(&self) -> &BinanceSpotRest {
        &self.rest
    }

    /// Reloads every symbol's rules and the weight budget from exchangeInfo.
    ///
    /// # Errors
    /// Any transport or venue error.
    pub async fn load_rules(&self) -> Result<(), VenueError> {
        let info = self.rest.exchange_info().await?;
        if let Some(limit) = parse_weight_limit(&info.rate_limits) {
            self.rest.http().set_weight_limit(limit);
        }
        let mut rules = Vec::new();
        for s in info.symbols.iter().filter(|s| s.status == "TRADING") {
            match parse_spot_rules(s) {
                Ok(r) => {
                    rules.push(SymbolRules { rules: r, market_max_qty: parse_market_max_qty(&s.filters) })
                }
                Err(error) => {
                    tracing::warn!(symbol = %s.symbol, %error, "skipping a symbol whose rules cannot be used")
                }
            }
        }
        self.rules.replace(rules);
        Ok(())
    }

    async fn symbol_rules(&self, symbol: &Symbol) -> Result<SymbolRules, VenueError> {
        if let Some(rules) = self.rules.get(symbol) {
            return Ok(rules);
        }
        self.load_rules().await?;
        self.rules
            .get(symbol)
            .ok_or_else(|| VenueError::NotFound { what: format!("symbol {symbol} (not trading)") })
    }

    async fn query_ack(&self, symbol: &Symbol, id: &str, side: Side) -> Result<Option<OrderAck>, VenueError> {
        let Some(order) = self.rest.query_order(symbol.as_str(), id).await? else {
            return Ok(None);
        };
        let (update, fills) = parse_spot_order(&order, side)?;
        Ok(Some(OrderAck { order: update, fills, recovered: false }))
    }
}

impl MarketData for BinanceSpot {
    async fn server_time(&self) -> Result<i64, VenueError> {
        self.rest.http().sync_clock().await
    }

    async fn instrument_rules(&self, symbol: &Symbol) -> Result<InstrumentRules, VenueError> {
        Ok(self.symbol_rules(symbol).await?.rules)
    }

    async fn all_instrument_rules(&self) -> Result<Vec<InstrumentRules>, VenueError> {
        if self.rules.is_empty() {
            self.load_rules().await?;
        }
        Ok(self.rules.all())
    }

    async fn klines(&self, symbol: &Symbol, query: KlineQuery) -> Result<Vec<Bar>, VenueError> {
        let rows = self
            .rest
            .klines(symbol.as_str(), query.interval.as_str(), query.limit, query.start_ms, query.end_ms)
            .await?;
        Ok(rows.iter().map(parse_kline_row).collect())
    }

    async fn last_price(&self, symbol: &Symbol) -> Result<Price, VenueError> {
        Ok(Price::new(self.rest.ticker_price(symbol.as_str()).await?.price))
    }

    async fn mark_price(&self, _symbol: &Symbol) -> Result<MarkPrice, VenueError> {
        Err(VenueError::Unsupported { what: "mark price on spot" })
    }
}

impl Execution for BinanceSpot {
    async fn place(&self, order: &OrderRequest) -> Result<OrderAck, VenueError> {
        let rules = self.symbol_rules(&order.symbol).await?;
        let needs_reference =
            matches!(order.kind, OrderKind::Market | OrderKind::TrailingStop { activation: None, .. });
        let reference = if needs_reference { Some(self.last_price(&order.symbol).await?) } else { None };
        let checked = round_and_check(order, &rules, reference, false)?;
        let params = encode_spot_order(order, &checked)?;
        let id = order.client_order_id.as_str();
        let sent = self.rest.new_order(&params, id).await.and_then(|o| parse_spot_order(&o, order.side));
        match sent {
            Ok((update, fills)) => Ok(OrderAck { order: update, fills, recovered: false }),
            Err(cause) if cause.is_unknown_outcome() => {
                resolve_unknown(&self.config.resolve, id, &cause, || {
                    self.query_ack(&order.symbol, id, order.side)
                })
                .await
            }
            Err(error) => Err(error),
        }
    }

    async fn query(&self, symbol: &Symbol, id: &ClientOrderId) -> Result<Option<OrderUpdate>, VenueError> {
        Ok(self.query_ack(symbol, id.as_str(), Side::Buy).await?.map(|ack| ack.order))
    }

    async fn cancel(&self, symbol: &Symbol, id: &ClientOrderId) -> Result<OrderUpdate, VenueError> {
        let order = self.rest.cancel_order(symbol.as_str(), id.as_str()).await?;
        Ok(parse_spot_order(&order, Side::Buy)?.0)
    }

    async fn open_orders(&self, symbol: Option<&Symbol>) -> Result<Vec<OrderUpdate>, VenueError> {
        let orders = self.rest.open_orders(symbol.map(Symbol::as_str)).await?;
        Ok(keep_parsed(orders.iter().map(|o| parse_spot_order(o, Side::Buy).map(|(update, _)| update))))
    }

    async fn positions(&self) -> Result<Vec<Position>, VenueError> {
        Ok(Vec::new())
    }

    async fn balances(&self) -> Result<Vec<Balance>, VenueError> {
        Ok(parse_spot_balances(&self.rest.account().await?))
    }

    async fn set_leverage(&self, _symbol: &Symbol, _leverage: u32) -> Result<(), VenueError> {
        Err(VenueError::Unsupported { what: "leverage on spot" })
    }

    async fn set_margin_mode(&self, _symbol: &Symbol, _mode: MarginMode) -> Result<(), VenueError> {
        Err(VenueError::Unsupported { what: "margin mode on spot" })
    }
}

impl UserDataFeed for BinanceSpot {
    async fn start_user_stream(&self) -> Result<UserStreamHandle, VenueError> {
        let url = self.config.endpoints.ws_api.clone();
        spawn_spot_user_stream(self.rest.http().clone(), url, self.config.ws.clone()).await
    }
}

impl MarketFeed for BinanceSpot {
    fn kline_stream(&self, symbol: &Symbol, interval: KlineInterval) -> String {
        format!("{}@kline_{}", symbol.to_lowercase(), interval.as_str())
    }

    fn mark_price_stream(&self, _symbol: &Symbol) -> Option<String> {
        None
    }

    async fn start_market_stream(&self, streams: Vec<String>) -> Result<MarketStreamHandle, VenueError> {
        spawn_market_stream(self.config.endpoints.clone(), Product::Spot, streams, self.config.ws.clone())
            .await
    }
}
