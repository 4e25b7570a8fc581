//! The paper broker (DESIGN §4 `paper = true`): [`PaperVenue`] wraps a real venue client `V`
//! ([`crate::binance::BinanceUsdm`], [`crate::binance::BinanceSpot`]) and implements the same
//! venue traits, so an agent's runtime cannot tell it from the real thing. Market data is the
//! venue's; orders never leave the process.
//!
//! - [`MarketData`] and [`MarketFeed`] go straight through to `V`: real prices, real
//!   exchangeInfo rules.
//! - [`Execution`] sends nothing. Orders are rounded and checked exactly as the real client
//!   does before sending (the same filters and [`VenueError`] kinds; MARKET_LOT_SIZE, which the
//!   traits do not carry, is not checked), then filled locally (see `matching` for the
//!   rules): market orders at the latest trade price with a configurable slippage and the
//!   venue's taker fee (defaults: USD-M 0.0005, spot 0.001; spot buys pay it in the base asset,
//!   as on Binance); limit orders when the price reaches them; stop-market, take-profit-market
//!   and trailing stops (spot: `STOP_LOSS`/`TAKE_PROFIT`, trailing with `trailingDelta`) rest
//!   locally and trigger on prices the broker streams itself through `V`'s [`MarketFeed`]: the
//!   1-minute kline stream (last trade price) and, on USD-M, the mark price stream (what
//!   conditional orders trigger on by default, like the USD-M client's `workingType`). A client
//!   order id is never accepted twice in a session (Binance refuses duplicates among open
//!   orders: spot -2010 "Duplicate order sent.", USD-M -4116; the paper broker is stricter, so a
//!   blind re-send shows up as that error instead of a second fill). Queries, cancels, open
//!   orders, positions (USD-M: one-way, isolated, leverage from `set_leverage`, default 20;
//!   cross margin is refused as unsupported) and balances (from [`PaperConfig::balances`]) are
//!   answered from local state. Liquidation is NOT simulated: a paper position can lose more
//!   than its margin, and `liquidation_price` is always `None`. Funding is settled from the mark
//!   stream. Event times are the price stream's exchange times, never the wall clock.
//! - [`UserDataFeed`] streams the [`crate::venue::VenueEvent`]s the local fills produce (order
//!   updates, fills, account updates) through the same [`UserStreamHandle`] the real clients
//!   return. It has no gaps: nothing travels over a network.
//!
//! Prices: a symbol is streamed from its first order (or from the start, for the symbols in
//! [`PaperConfig::symbols`]). Until the stream has priced it, and after a market-stream gap
//! until prices flow again, an order is checked and filled against prices fetched over REST
//! (the latest 1-minute kline's close, and the mark price on USD-M). A conditional order whose
//! trigger was crossed during a gap fires at the first price after it.
//!
//! # Restart contract
//!
//! The paper account lives in memory only: after a restart [`Execution::positions`] is empty and
//! the agent's reconciliation would flag every position its journal holds. So the agent rebuilds
//! the account from its journal and hands it over with [`PaperVenue::restore`] before anything
//! else touches the venue (before reconciliation, before the first order):
//! - `balances`: the wallet of each asset as the journal accounts it (USD-M: starting capital +
//!   realized P&L - fees + funding); empty keeps [`PaperConfig::balances`];
//! - `positions`: every open position with side, quantity, entry price and leverage;
//! - `orders`: every order the journal says is still resting (protective stops, take profits,
//!   trailing stops, resting limits) with its original client order id, so that querying those
//!   ids finds them. A trailing stop's tracked peak is lost unless given in
//!   [`RestingOrder::peak`]; it then tracks afresh from the first price after the restart.
//!
//! Orders that were in flight when the process died (a market order whose fill the journal
//! never recorded) are simply unknown to the restored broker: the agent's reconciliation queries
//! them, hears "unknown", and treats them as never placed, which is what they now are.
//!
//! | file      | owns                                                           |
//! |-----------|----------------------------------------------------------------|
//! | `config`  | `PaperConfig`, `TriggerSource`, `PaperSnapshot`, `RestingOrder` |
//! | `broker`  | the account state, order entry, cancels, queries               |
//! | `matching`| resting orders on price updates, executions, funding           |
//! | `ledger`  | USD-M margin and spot wallets: funds, holds, booking fills     |
//! | `restore` | seeding the account from a `PaperSnapshot`                     |
//! | `task`    | the owner task, the broker's market stream, user streams       |

mod broker;
mod config;
mod ledger;
mod matching;
mod restore;
mod task;

#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

pub use config::{PaperConfig, PaperSnapshot, RestingOrder, TriggerSource};

use broker::{Broker, Obs, RestQuote};
use task::{Job, Request};

use crate::model::{
    Balance, Bar, ClientOrderId, InstrumentRules, MarginMode, OrderRequest, OrderUpdate, Position, Price,
    Symbol,
};
use crate::venue::{
    Execution, KlineInterval, KlineQuery, MarkPrice, MarketData, MarketFeed, MarketStreamHandle, OrderAck,
    Product, UserDataFeed, UserStreamHandle, VenueError,
};

/// The latest prices the paper broker has seen for a symbol: (price, exchange time in ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PaperPrices {
    /// Last trade price.
    pub last: Option<(Price, i64)>,
    /// Mark price (USD-M).
    pub mark: Option<(Price, i64)>,
}

/// A venue that streams `V`'s market data and fills orders locally; see the module doc.
#[derive(Debug)]
pub struct PaperVenue<V> {
    inner: Arc<V>,
    product: Product,
    requests: mpsc::Sender<Request>,
}

impl<V> PaperVenue<V>
where
    V: MarketData + MarketFeed + 'static,
{
    /// Starts a paper venue over `inner` holding `config`'s starting balances. Must be called
    /// inside a tokio runtime (it spawns the broker's task, which ends when the venue is dropped).
    ///
    /// # Errors
    /// [`VenueError::Config`] for an unusable config or when called outside a tokio runtime.
    pub fn start(inner: V, config: PaperConfig) -> Result<Self, VenueError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(VenueError::Config("the paper venue must be started inside a tokio runtime".into()));
        }
        let product = config.product;
        let broker = Broker::new(config)?;
        let inner = Arc::new(inner);
        let requests = task::spawn(broker, inner.clone());
        Ok(Self { inner, product, requests })
    }

    /// The wrapped venue client (market data; never used for orders).
    pub fn inner(&self) -> &V {
        &self.inner
    }

    /// Replaces the paper account with `snapshot` (the restart contract of the module doc).
    /// Fetches the rules and current prices of every symbol in it first.
    ///
    /// # Errors
    /// [`VenueError::Config`] when the venue has already traded in this session or the snapshot
    /// is inconsistent (it names the order or position); a venue error fetching rules or prices.
    pub async fn restore(&self, snapshot: PaperSnapshot) -> Result<(), VenueError> {
        let symbols: BTreeSet<Symbol> = snapshot
            .positions
            .iter()
            .map(|p| p.symbol.clone())
            .chain(snapshot.orders.iter().map(|o| o.order.symbol.clone()))
            .collect();
        let mut rules = HashMap::new();
        let mut prices = HashMap::new();
        for symbol in symbols {
            rules.insert(symbol.clone(), self.inner.instrument_rules(&symbol).await?);
            prices.insert(symbol.clone(), self.rest_quote(&symbol).await?);
        }
        self.call(move |b| b.restore(&snapshot, &rules, prices)).await?
    }

    /// The latest prices the broker has seen for `symbol`.
    ///
    /// # Errors
    /// [`VenueError::Closed`] when the broker's task has stopped.
    pub async fn prices(&self, symbol: &Symbol) -> Result<PaperPrices, VenueError> {
        let symbol = symbol.clone();
        self.call(move |b| {
            let pair = |o: Option<Obs>| o.map(|o| (o.price, o.time));
            b.quotes
                .get(&symbol)
                .map_or_else(PaperPrices::default, |q| PaperPrices { last: pair(q.last), mark: pair(q.mark) })
        })
        .await
    }

    /// Runs `job` on the broker's task and returns its answer.
    async fn call<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Broker) -> T + Send + 'static,
    ) -> Result<T, VenueError> {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |broker| {
            let _ = reply.send(job(broker));
        });
        self.requests.send(Request::Run(job)).await.map_err(|_| VenueError::Closed)?;
        answer.await.map_err(|_| VenueError::Closed)
    }

    /// Prices over REST: the latest 1-minute kline's close (timed at its open: the kline does
    /// not say when its last trade was) and, on USD-M, the mark price.
    async fn rest_quote(&self, symbol: &Symbol) -> Result<RestQuote, VenueError> {
        let mut bars = self.inner.klines(symbol, KlineQuery::latest(KlineInterval::M1, 1)).await?;
        let last = bars.pop().map(|b| Obs { price: b.close, time: b.open_time_ms });
        let mark = match self.product {
            Product::UsdM => {
                let m = self.inner.mark_price(symbol).await?;
                Some(Obs { price: m.mark_price, time: m.time_exchange })
            }
            Product::Spot => None,
        };
        Ok(RestQuote { last, mark })
    }
}

impl<V> MarketData for PaperVenue<V>
where
    V: MarketData + MarketFeed + 'static,
{
    async fn server_time(&self) -> Result<i64, VenueError> {
        self.inner.server_time().await
    }

    async fn instrument_rules(&self, symbol: &Symbol) -> Result<InstrumentRules, VenueError> {
        self.inner.instrument_rules(symbol).await
    }

    async fn all_instrument_rules(&self) -> Result<Vec<InstrumentRules>, VenueError> {
        self.inner.all_instrument_rules().await
    }

    async fn klines(&self, symbol: &Symbol, query: KlineQuery) -> Result<Vec<Bar>, VenueError> {
        self.inner.klines(symbol, query).await
    }

    async fn last_price(&self, symbol: &Symbol) -> Result<Price, VenueError> {
        self.inner.last_price(symbol).await
    }

    async fn mark_price(&self, symbol: &Symbol) -> Result<MarkPrice, VenueError> {
        self.inner.mark_price(symbol).await
    }
}

impl<V> Execution for PaperVenue<V>
where
    V: MarketData + MarketFeed + 'static,
{
    async fn place(&self, order: &OrderRequest) -> Result<OrderAck, VenueError> {
        let rules = self.inner.instrument_rules(&order.symbol).await?;
        let symbol = order.symbol.clone();
        let priced = self.call(move |b| b.is_priced(&symbol)).await?;
        let rest = if priced { None } else { Some(self.rest_quote(&order.symbol).await?) };
        let order = order.clone();
        self.call(move |b| b.place(&order, rules, rest)).await?
    }

    async fn query(&self, symbol: &Symbol, id: &ClientOrderId) -> Result<Option<OrderUpdate>, VenueError> {
        let (symbol, id) = (symbol.clone(), id.clone());
        self.call(move |b| b.query(&symbol, &id)).await
    }

    async fn cancel(&self, symbol: &Symbol, id: &ClientOrderId) -> Result<OrderUpdate, VenueError> {
        let (symbol, id) = (symbol.clone(), id.clone());
        self.call(move |b| b.cancel(&symbol, &id)).await?
    }

    async fn open_orders(&self, symbol: Option<&Symbol>) -> Result<Vec<OrderUpdate>, VenueError> {
        let symbol = symbol.cloned();
        self.call(move |b| b.open_orders(symbol.as_ref())).await
    }

    async fn positions(&self) -> Result<Vec<Position>, VenueError> {
        self.call(|b| b.positions()).await
    }

    async fn balances(&self) -> Result<Vec<Balance>, VenueError> {
        self.call(|b| b.balances()).await
    }

    async fn set_leverage(&self, symbol: &Symbol, leverage: u32) -> Result<(), VenueError> {
        let symbol = symbol.clone();
        self.call(move |b| b.set_leverage(&symbol, leverage)).await?
    }

    async fn set_margin_mode(&self, symbol: &Symbol, mode: MarginMode) -> Result<(), VenueError> {
        let symbol = symbol.clone();
        self.call(move |b| b.set_margin_mode(&symbol, mode)).await?
    }
}

impl<V> UserDataFeed for PaperVenue<V>
where
    V: MarketData + MarketFeed + 'static,
{
    async fn start_user_stream(&self) -> Result<UserStreamHandle, VenueError> {
        let (reply, answer) = oneshot::channel();
        self.requests.send(Request::UserStream(reply)).await.map_err(|_| VenueError::Closed)?;
        let events = answer.await.map_err(|_| VenueError::Closed)?;
        Ok(task::user_stream(events))
    }
}

impl<V> MarketFeed for PaperVenue<V>
where
    V: MarketData + MarketFeed + 'static,
{
    fn kline_stream(&self, symbol: &Symbol, interval: KlineInterval) -> String {
        self.inner.kline_stream(symbol, interval)
    }

    fn mark_price_stream(&self, symbol: &Symbol) -> Option<String> {
        self.inner.mark_price_stream(symbol)
    }

    async fn start_market_stream(&self, streams: Vec<String>) -> Result<MarketStreamHandle, VenueError> {
        self.inner.start_market_stream(streams).await
    }
}
