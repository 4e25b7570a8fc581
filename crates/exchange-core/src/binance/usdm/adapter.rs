//! [`BinanceUsdm`]: the USD-M adapter behind [`MarketData`], [`Execution`], [`UserDataFeed`] and
//! [`MarketFeed`].
//!
//! `place` loads the symbol's rules (exchangeInfo, cached), rounds and checks the order (a
//! market order against the mark price: the one the adapter's market stream delivered within
//! `mark_max_age`, else one fetched from `premiumIndex`; reduce-only orders are exempt from
//! MIN_NOTIONAL, as on the venue), sends plain orders to `/fapi/v1/order` and conditional ones
//! to the algo API, and resolves an unknown outcome by querying the order's client id on the
//! same API. `query` and `cancel` try the plain API first, or the algo API first for our own
//! stop, take-profit and trailing ids; `open_orders` lists both; `fills_since` reads
//! `userTrades` and looks up each order's client id.
//!
//! The first entry after a closed-kline frame logs `close_to_wire_us`: from that frame's read
//! off the market stream's socket to the entry request handed to the HTTP client.

use std::collections::HashMap;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::binance::cache::{MarketCache, RulesCache, SymbolRules};
use crate::binance::encode::round_and_check;
use crate::binance::http::{BinanceHttp, HttpConfig};
use crate::binance::parse::{
    parse_algo_order, parse_futures_balance, parse_futures_order, parse_futures_rules, parse_kline_row,
    parse_market_max_qty, parse_position_risk, parse_premium_index, parse_user_trade, parse_weight_limit,
};
use crate::binance::resolve::{ResolvePolicy, resolve_unknown};
use crate::binance::usdm::orders::{UsdmOrder, WorkingType, encode_usdm_order};
use crate::binance::usdm::rest::BinanceUsdmRest;
use crate::binance::ws::{WsConfig, spawn_market_stream_with_cache, spawn_usdm_user_stream};
use crate::model::{
    Balance, Bar, ClientOrderId, Fill, InstrumentRules, MarginMode, OrderKind, OrderPurpose, OrderRequest,
    OrderUpdate, Position, Price, Symbol,
};
use crate::signing::ApiCredentials;
use crate::venue::{
    Endpoints, Execution, KlineInterval, KlineQuery, MarkPrice, MarketData, MarketFeed, MarketStreamHandle,
    OrderAck, Product, UserDataFeed, UserStreamHandle, VenueError,
};

/// Everything a USD-M adapter needs.
#[derive(Debug, Clone)]
pub struct BinanceUsdmConfig {
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
    /// What conditional orders trigger on.
    pub working_type: WorkingType,
    /// How old a streamed mark price may be and still serve as a market order's reference
    /// (the venue streams one every 3 s, or every second with `@1s`); older, or without a
    /// market stream carrying the symbol's `@markPrice`, `place` fetches it over REST.
    /// `Duration::ZERO` always fetches.
    pub mark_max_age: Duration,
}

impl BinanceUsdmConfig {
    /// Defaults for `endpoints` (USD-M weight budget 2400 per minute).
    pub fn new(endpoints: Endpoints, credentials: Option<ApiCredentials>) -> Self {
        Self {
            endpoints,
            credentials,
            http: HttpConfig { weight_limit: 2_400, ..HttpConfig::default() },
            resolve: ResolvePolicy::default(),
            ws: WsConfig::default(),
            working_type: WorkingType::default(),
            mark_max_age: Duration::from_secs(5),
        }
    }
}

/// The USD-M adapter.
#[derive(Debug)]
pub struct BinanceUsdm {
    rest: BinanceUsdmRest,
    rules: RulesCache,
    market: Arc<MarketCache>,
    config: BinanceUsdmConfig,
}

fn is_algo_id(id: &ClientOrderId) -> bool {
    matches!(
        id.purpose(),
        Some(OrderPurpose::StopLoss | OrderPurpose::TakeProfit | OrderPurpose::TrailingStop)
    )
}

/// The orders that parse; an order this model cannot hold (a foreign client id with `.`, `:` or
/// `/`, which USD-M allows) is logged and left out rather than failing the whole list.
pub(crate) fn keep_parsed(orders: impl Iterator<Item = Result<OrderUpdate, VenueError>>) -> Vec<OrderUpdate> {
    orders
        .filter_map(|order| {
            order
                .map_err(
                    |error| tracing::warn!(%error, "skipping an open order this client cannot represent"),
                )
                .ok()
        })
        .collect()
}

fn ack(order: OrderUpdate) -> OrderAck {
    OrderAck { order, fills: Vec::new(), recovered: false }
}

impl BinanceUsdm {
    /// An adapter for `config`.
    ///
    /// # Errors
    /// [`VenueError::Config`] when the HTTP client cannot be built.
    pub fn new(config: BinanceUsdmConfig) -> Result<Self, VenueError> {
        let http = BinanceHttp::new(
            &config.endpoints.rest,
            "/fapi/v1/time",
            config.credentials.clone(),
            config.http.clone(),
        )?;
        Ok(Self {
            rest: BinanceUsdmRest::new(http),
            rules: RulesCache::default(),
            market: Arc::default(),
            config,
        })
    }

    /// The raw REST client.
    pub fn rest(&self) -> &BinanceUsdmRest {
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
            match parse_futures_rules(s) {
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

    /// The price a market order is checked against: the streamed mark when fresh, else
    /// `premiumIndex`'s.
    async fn reference_price(&self, symbol: &Symbol) -> Result<Price, VenueError> {
        if let Some(mark) = self.market.fresh_mark(symbol, Instant::now(), self.config.mark_max_age) {
            return Ok(mark);
        }
        Ok(self.mark_price(symbol).await?.mark_price)
    }

    /// Logs how long after the latest closed-kline frame was read `order` was handed to the HTTP
    /// client (`close_to_wire_us`, what scripts/bench/decision_latency.sh reads): once per close,
    /// for the first entry after it.
    fn log_entry_latency(&self, order: &OrderRequest) {
        let Some(close) = self.market.take_close_read_at() else { return };
        if let Some(handed) = self.rest.http().last_order_handed_at().filter(|at| *at >= close) {
            let micros = (handed - close).as_micros();
            tracing::info!(close_to_wire_us = micros, symbol = %order.symbol, "entry handed to the connection");
        }
    }

    async fn query_plain(&self, symbol: &Symbol, id: &str) -> Result<Option<OrderUpdate>, VenueError> {
        self.rest.query_order(symbol.as_str(), id).await?.as_ref().map(parse_futures_order).transpose()
    }

    async fn query_algo(&self, id: &str) -> Result<Option<OrderUpdate>, VenueError> {
        self.rest.query_algo_order(id).await?.as_ref().map(parse_algo_order).transpose()
    }

    async fn cancel_plain(&self, symbol: &Symbol, id: &str) -> Result<OrderUpdate, VenueError> {
        parse_futures_order(&self.rest.cancel_order(symbol.as_str(), id).await?)
    }

    /// Cancels an algo order and reads back its final state.
    async fn cancel_algo(&self, id: &str) -> Result<OrderUpdate, VenueError> {
        self.rest.cancel_algo_order(id).await?;
        self.query_algo(id).await?.ok_or_else(|| VenueError::NotFound { what: format!("algo order {id}") })
    }
}

impl MarketData for BinanceUsdm {
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

    async fn mark_price(&self, symbol: &Symbol) -> Result<MarkPrice, VenueError> {
        parse_premium_index(&self.rest.premium_index(symbol.as_str()).await?)
    }
}

impl Execution for BinanceUsdm {
    async fn place(&self, order: &OrderRequest) -> Result<OrderAck, VenueError> {
        let rules = self.symbol_rules(&order.symbol).await?;
        let needs_reference =
            matches!(order.kind, OrderKind::Market | OrderKind::TrailingStop { activation: None, .. });
        let reference = if needs_reference { Some(self.reference_price(&order.symbol).await?) } else { None };
        let exempt = order.reduce_only || order.close_position;
        let checked = round_and_check(order, &rules, reference, exempt)?;
        let encoded = encode_usdm_order(order, &checked, self.config.working_type)?;
        let id = order.client_order_id.as_str();
        let (sent, algo) = match &encoded {
            UsdmOrder::Plain(params) => {
                (self.rest.new_order(params, id).await.and_then(|o| parse_futures_order(&o)), false)
            }
            UsdmOrder::Algo(params) => {
                (self.rest.new_algo_order(params, id).await.and_then(|o| parse_algo_order(&o)), true)
            }
        };
        if order.client_order_id.purpose() == Some(OrderPurpose::Entry) {
            self.log_entry_latency(order);
        }
        match sent {
            Ok(update) => Ok(ack(update)),
            Err(cause) if cause.is_unknown_outcome() => {
                resolve_unknown(&self.config.resolve, id, &cause, || async {
                    let found = if algo {
                        self.query_algo(id).await
                    } else {
                        self.query_plain(&order.symbol, id).await
                    };
                    found.map(|o| o.map(ack))
                })
                .await
            }
            Err(error) => Err(error),
        }
    }

    async fn query(&self, symbol: &Symbol, id: &ClientOrderId) -> Result<Option<OrderUpdate>, VenueError> {
        if is_algo_id(id) {
            if let Some(found) = self.query_algo(id.as_str()).await? {
                return Ok(Some(found));
            }
            return self.query_plain(symbol, id.as_str()).await;
        }
        if let Some(found) = self.query_plain(symbol, id.as_str()).await? {
            return Ok(Some(found));
        }
        self.query_algo(id.as_str()).await
    }

    async fn cancel(&self, symbol: &Symbol, id: &ClientOrderId) -> Result<OrderUpdate, VenueError> {
        if is_algo_id(id) {
            match self.cancel_algo(id.as_str()).await {
                Err(VenueError::NotFound { .. }) => self.cancel_plain(symbol, id.as_str()).await,
                other => other,
            }
        } else {
            match self.cancel_plain(symbol, id.as_str()).await {
                Err(VenueError::NotFound { .. }) => self.cancel_algo(id.as_str()).await,
                other => other,
            }
        }
    }

    async fn open_orders(&self, symbol: Option<&Symbol>) -> Result<Vec<OrderUpdate>, VenueError> {
        let name = symbol.map(Symbol::as_str);
        let plain = self.rest.open_orders(name).await?;
        let algo = self.rest.open_algo_orders(name).await?;
        let parsed = plain.iter().map(parse_futures_order).chain(algo.iter().map(parse_algo_order));
        Ok(keep_parsed(parsed))
    }

    async fn fills_since(&self, symbol: &Symbol, since_ms: i64) -> Result<Vec<Fill>, VenueError> {
        let trades = self.rest.user_trades(symbol.as_str(), since_ms, 1000).await?;
        // userTrades names the order by orderId only: one query per order for its client id.
        let mut client_ids: HashMap<i64, String> = HashMap::new();
        let mut fills = Vec::with_capacity(trades.len());
        for trade in &trades {
            let id = match client_ids.get(&trade.order_id) {
                Some(id) => id.clone(),
                None => {
                    let Some(order) = self.rest.query_order_by_id(symbol.as_str(), trade.order_id).await?
                    else {
                        tracing::warn!(%symbol, order_id = trade.order_id, "an execution of an order the venue no longer shows: skipped");
                        continue;
                    };
                    client_ids.insert(trade.order_id, order.client_order_id.clone());
                    order.client_order_id
                }
            };
            fills.push(parse_user_trade(trade, &id)?);
        }
        Ok(fills)
    }

    async fn positions(&self) -> Result<Vec<Position>, VenueError> {
        let mut positions = Vec::new();
        for p in self.rest.position_risk(None).await? {
            positions.extend(parse_position_risk(&p)?);
        }
        Ok(positions)
    }

    async fn balances(&self) -> Result<Vec<Balance>, VenueError> {
        Ok(self
            .rest
            .balance()
            .await?
            .iter()
            .map(parse_futures_balance)
            .filter(|b| !b.wallet.get().is_zero())
            .collect())
    }

    async fn set_leverage(&self, symbol: &Symbol, leverage: u32) -> Result<(), VenueError> {
        self.rest.set_leverage(symbol.as_str(), leverage).await.map(|_| ())
    }

    async fn set_margin_mode(&self, symbol: &Symbol, mode: MarginMode) -> Result<(), VenueError> {
        let margin_type = match mode {
            MarginMode::Isolated => "ISOLATED",
            MarginMode::Cross => "CROSSED",
        };
        self.rest.set_margin_type(symbol.as_str(), margin_type).await.map(|_| ())
    }
}

impl UserDataFeed for BinanceUsdm {
    async fn start_user_stream(&self) -> Result<UserStreamHandle, VenueError> {
        spawn_usdm_user_stream(self.rest.clone(), self.config.endpoints.clone(), self.config.ws.clone()).await
    }
}

impl MarketFeed for BinanceUsdm {
    fn kline_stream(&self, symbol: &Symbol, interval: KlineInterval) -> String {
        format!("{}@kline_{}", symbol.to_lowercase(), interval.as_str())
    }

    fn mark_price_stream(&self, symbol: &Symbol) -> Option<String> {
        Some(format!("{}@markPrice", symbol.to_lowercase()))
    }

    async fn start_market_stream(&self, streams: Vec<String>) -> Result<MarketStreamHandle, VenueError> {
        spawn_market_stream_with_cache(
            self.config.endpoints.clone(),
            Product::UsdM,
            streams,
            self.config.ws.clone(),
            Arc::clone(&self.market),
        )
        .await
    }
}
