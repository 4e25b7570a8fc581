//! The exchange engine: accounts, orders, matching, algo orders, funding and liquidation, driven
//! by the market's ticks. Synchronous and pure: no I/O, no wall clock; the actor task owns it and
//! calls it, and takes the events it queues for the WebSocket streams.
//!
//! Matching model: there is no order book. The market's last price is the price a taker gets;
//! a marketable order fills at once at the last price, a resting limit order fills at its limit
//! when a tick's price path reaches it (maker), a conditional order triggers when the path crosses
//! its trigger and fills at the trigger price (or at the price after a gap). Liquidity is unlimited
//! unless the partial-fills fault is on.
//!
//! | file         | owns                                                        |
//! |--------------|-------------------------------------------------------------|
//! | `types`      | orders, algo orders, trades, income, enum spellings         |
//! | `accounts`   | balances, positions, margin arithmetic                      |
//! | `events`     | what the engine tells the user-data streams                 |
//! | `book`       | order storage, ids, lookups                                 |
//! | `spot`       | spot placement, fills, cancels                              |
//! | `futures`    | USD-M placement, fills, cancels, leverage and margin type   |
//! | `algo`       | USD-M algo orders                                           |
//! | `crossing`   | walking a tick's price path and firing what it crosses      |
//! | `risk`       | funding settlement and liquidation                          |
//! | `state`      | the saved state (`--state`)                                 |

pub mod accounts;
pub mod algo;
pub mod book;
pub mod crossing;
pub mod events;
pub mod futures;
pub mod orders;
pub mod risk;
pub mod spot;
pub mod state;
pub mod types;

#[cfg(test)]
pub(crate) mod testkit;

use std::sync::Arc;

use rust_decimal::Decimal;

use crate::catalog::{Catalog, SymbolId, SymbolSpec, Venue};
use crate::market::feed::MarketTick;
use crate::market::{Market, MarketSettings};
use crate::time::Interval;
use accounts::{Account, FuturesAccount, Marks, SpotAccount};
use book::Book;
use events::Event;

/// Commission rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fees {
    /// Spot maker rate.
    pub spot_maker: Decimal,
    /// Spot taker rate.
    pub spot_taker: Decimal,
    /// USD-M maker rate.
    pub futures_maker: Decimal,
    /// USD-M taker rate.
    pub futures_taker: Decimal,
}

/// The starting funds of one account.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountSeed {
    /// Name.
    pub name: String,
    /// Spot balances by asset.
    pub spot: Vec<(String, Decimal)>,
    /// USD-M USDT wallet.
    pub futures_wallet: Decimal,
}

/// Everything needed to build an engine.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// The market.
    pub market: MarketSettings,
    /// Commission rates.
    pub fees: Fees,
    /// The accounts, in API-key order.
    pub accounts: Vec<AccountSeed>,
}

/// The exchange state and its rules.
#[derive(Debug)]
pub struct Engine {
    catalog: Arc<Catalog>,
    market: Market,
    fees: Fees,
    accounts: Vec<Account>,
    book: Book,
    now: i64,
    partial_fills: u32,
    events: Vec<Event>,
    feed: Vec<MarketTick>,
}

/// Marks read from the market, for the account arithmetic.
struct MarketMarks<'a>(&'a Market);

impl Marks for MarketMarks<'_> {
    fn mark_of(&self, id: SymbolId) -> Decimal {
        self.0.mark(id)
    }
    fn spec_of(&self, id: SymbolId) -> &SymbolSpec {
        self.0.catalog().get(id)
    }
}

impl Engine {
    /// Builds the engine with a market (already backfilled) and fresh accounts.
    pub fn new(catalog: Arc<Catalog>, market: Market, settings: &EngineSettings) -> Self {
        let now = market.time_ms();
        let accounts = settings
            .accounts
            .iter()
            .map(|seed| {
                let mut spot = SpotAccount::default();
                for (asset, amount) in &seed.spot {
                    spot.credit(asset, *amount);
                }
                Account {
                    name: seed.name.clone(),
                    spot,
                    futures: FuturesAccount { wallet: seed.futures_wallet, ..FuturesAccount::default() },
                }
            })
            .collect();
        Self {
            catalog,
            market,
            fees: settings.fees,
            accounts,
            book: Book::default(),
            now,
            partial_fills: 0,
            events: Vec::new(),
            feed: Vec::new(),
        }
    }

    /// Builds the market from `settings` and the engine around it.
    pub fn build(
        catalog: Arc<Catalog>,
        settings: &EngineSettings,
        replay: Vec<Option<crate::market::replay::ReplayTrack>>,
    ) -> Self {
        let market = Market::new(catalog.clone(), &settings.market, replay);
        Self::new(catalog, market, settings)
    }

    /// The catalogue.
    pub fn catalog(&self) -> &Arc<Catalog> {
        &self.catalog
    }

    /// The market.
    pub fn market(&self) -> &Market {
        &self.market
    }

    /// Current market time, ms.
    pub fn now(&self) -> i64 {
        self.now
    }

    /// The accounts.
    pub fn accounts(&self) -> &[Account] {
        &self.accounts
    }

    /// The order book (all orders, algo orders, trades and income).
    pub fn book(&self) -> &Book {
        &self.book
    }

    /// Commission rates.
    pub fn fees(&self) -> Fees {
        self.fees
    }

    /// Makes the next `count` orders fill in two parts (half now, the rest at the next tick).
    pub fn set_partial_fills(&mut self, count: u32) {
        self.partial_fills = count;
    }

    /// How many orders the partial-fills fault still applies to.
    pub fn partial_fills(&self) -> u32 {
        self.partial_fills
    }

    /// Takes the queued user-data events.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// Takes the queued market snapshots.
    pub fn take_feed(&mut self) -> Vec<MarketTick> {
        std::mem::take(&mut self.feed)
    }

    fn marks(&self) -> MarketMarks<'_> {
        MarketMarks(&self.market)
    }

    fn spec(&self, id: SymbolId) -> &SymbolSpec {
        self.catalog.get(id)
    }

    fn account_mut(&mut self, account: usize) -> Option<&mut Account> {
        self.accounts.get_mut(account)
    }

    /// Advances market time to `target` (never backwards), running every whole tick up to it;
    /// `watched` are the kline streams someone subscribed to. Returns the number of ticks run.
    pub fn advance_to(&mut self, target: i64, watched: &[(SymbolId, Interval)]) -> u64 {
        let tick_ms = self.market.tick_ms();
        let mut ran = 0;
        let total = (target - self.market.time_ms()).max(0) / tick_ms;
        for n in 0..total {
            let moves = self.market.step();
            self.on_moves(&moves, false);
            self.after_tick();
            if let Some(tick) = self.market.feed(n + 1 == total, watched) {
                self.feed.push(tick);
            }
            ran += 1;
        }
        self.now = self.now.max(target).max(self.market.time_ms());
        u64::try_from(ran).unwrap_or(0)
    }

    /// Work at the end of every tick: deferred partial fills, funding, liquidation sweep.
    fn after_tick(&mut self) {
        let time = self.market.time_ms();
        self.now = self.now.max(time);
        self.complete_deferred();
        if time.rem_euclid(8 * crate::time::HOUR_MS) == 0 {
            self.settle_funding(time);
        }
    }

    /// Shocks the asset of `symbol` by `pct` percent at once, processing stops and liquidations
    /// on the gap. Returns the new last price, or `None` if the percentage is not above -100.
    pub fn shock(&mut self, symbol: SymbolId, pct: f64) -> Option<Decimal> {
        if !(pct > -100.0 && pct.is_finite()) {
            return None;
        }
        let asset = self.spec(symbol).asset;
        let moves = self.market.shock(asset, pct / 100.0, self.now);
        self.on_moves(&moves, true);
        if let Some(tick) = self.market.feed(true, &[]) {
            self.feed.push(tick);
        }
        Some(self.market.last(symbol))
    }

    /// Sets the price of the asset of `symbol` (every symbol on it) to `price` at once, as a gap:
    /// stops and liquidations on the way fire at the new price. Returns the new last price of
    /// `symbol`, or `None` if `price` is not positive.
    pub fn set_price(&mut self, symbol: SymbolId, price: Decimal) -> Option<Decimal> {
        use rust_decimal::prelude::ToPrimitive;
        let value = price.to_f64().filter(|p| *p > 0.0 && p.is_finite())?;
        let asset = self.spec(symbol).asset;
        let moves = self.market.set_asset_price(asset, value, self.now);
        self.on_moves(&moves, true);
        if let Some(tick) = self.market.feed(true, &[]) {
            self.feed.push(tick);
        }
        Some(self.market.last(symbol))
    }

    /// Test helper: moves the last and mark price of `symbol` through `points` one straight
    /// segment after another (no gaps), then leaves the asset's price at the last point.
    #[cfg(test)]
    pub(crate) fn run_path(&mut self, symbol: SymbolId, points: &[Decimal]) {
        use crate::market::{SymbolMove, TickPath};
        use rust_decimal::prelude::ToPrimitive;
        let spec = self.spec(symbol).clone();
        let mut prev = self.market.ticks(symbol).0;
        for p in points {
            let next = (*p / spec.tick).to_i64().unwrap_or(prev);
            let path = TickPath { points: [prev, prev, next, next, next] };
            self.on_moves(&[SymbolMove { id: symbol, last: path, mark: path }], false);
            let end = spec.price_of_ticks(next).to_f64().unwrap_or(1.0);
            let _ = self.market.set_asset_price(spec.asset, end, self.now);
            prev = next;
        }
    }

    /// Fixes (or with `None` releases) the funding rate of a futures symbol.
    pub fn set_funding_rate(&mut self, symbol: SymbolId, rate: Option<Decimal>) {
        self.market.set_funding_override(symbol, rate);
    }

    /// Symbols of `venue` by name.
    pub fn find(&self, venue: Venue, name: &str) -> Option<SymbolId> {
        self.catalog.find(venue, name).map(|s| s.id)
    }

    /// The margin reserved by the open USD-M orders of `account` (non-reduce-only, at their
    /// price, divided by the symbol's leverage).
    pub fn open_order_im(&self, account: usize) -> Decimal {
        let Some(acc) = self.accounts.get(account) else { return Decimal::ZERO };
        self.book
            .open_orders(account, Venue::Futures)
            .filter(|o| !o.reduce_only && !o.close_position)
            .map(|o| {
                let price = if o.price.is_zero() { self.market.mark(o.symbol) } else { o.price };
                o.remaining() * price / Decimal::from(acc.futures.config(o.symbol).leverage.max(1))
            })
            .sum()
    }

    /// Available USD-M balance of `account`.
    pub fn futures_available(&self, account: usize) -> Decimal {
        self.accounts
            .get(account)
            .map_or(Decimal::ZERO, |a| a.futures.available(&self.marks(), self.open_order_im(account)))
    }

    /// The liquidation price of `account`'s position on `symbol`.
    pub fn liquidation_price(&self, account: usize, symbol: SymbolId) -> Option<Decimal> {
        self.accounts.get(account).and_then(|a| a.futures.liquidation_price(symbol, &self.marks()))
    }

    /// Unrealized profit of `account`'s position on `symbol`.
    pub fn upnl(&self, account: usize, symbol: SymbolId) -> Decimal {
        self.accounts
            .get(account)
            .map_or(Decimal::ZERO, |a| a.futures.position(symbol).upnl(self.market.mark(symbol)))
    }

    /// Position initial and maintenance margin of `account` on `symbol`.
    pub fn position_margins(&self, account: usize, symbol: SymbolId) -> (Decimal, Decimal) {
        self.accounts.get(account).map_or((Decimal::ZERO, Decimal::ZERO), |a| {
            (a.futures.position_im(symbol, &self.marks()), a.futures.position_mm(symbol, &self.marks()))
        })
    }

    /// Account-wide USD-M figures: (cross uPnL, total uPnL, cross position IM, total position IM,
    /// total maintenance margin).
    pub fn futures_totals(&self, account: usize) -> FuturesTotals {
        let Some(acc) = self.accounts.get(account) else { return FuturesTotals::default() };
        let marks = self.marks();
        let mut totals = FuturesTotals {
            cross_upnl: acc.futures.cross_upnl(&marks),
            total_upnl: acc.futures.total_upnl(&marks),
            open_order_im: self.open_order_im(account),
            ..FuturesTotals::default()
        };
        for id in acc.futures.positions.keys() {
            totals.position_im += acc.futures.position_im(*id, &marks);
            totals.maint_margin += acc.futures.position_mm(*id, &marks);
        }
        totals.available = acc.futures.available(&marks, totals.open_order_im);
        totals
    }
}

/// Account-wide USD-M figures for the account endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FuturesTotals {
    /// Unrealized profit of cross positions.
    pub cross_upnl: Decimal,
    /// Unrealized profit of all positions.
    pub total_upnl: Decimal,
    /// Initial margin of all positions.
    pub position_im: Decimal,
    /// Initial margin of open orders.
    pub open_order_im: Decimal,
    /// Maintenance margin of all positions.
    pub maint_margin: Decimal,
    /// Available balance.
    pub available: Decimal,
}
