//! The engine's saved state (`--state FILE`): accounts, orders, algo orders, trades, income, the
//! market clock, every asset's price and the funding-rate overrides. Kline history is not saved: on
//! load, the market regenerates its backfill so that it ends at the saved prices.

use serde::{Deserialize, Serialize};

use super::Engine;
use super::accounts::Account;
use super::book::Book;
use crate::catalog::Catalog;
use crate::market::{Market, MarketSettings};

/// Everything `--state` keeps across a restart.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedState {
    /// Format version.
    pub version: u32,
    /// Market time, ms.
    pub now: i64,
    /// Price of each asset (catalogue order).
    pub asset_prices: Vec<f64>,
    /// Accounts (matched to the config's by position).
    pub accounts: Vec<Account>,
    /// Orders, algo orders, trades, income, funding history.
    pub book: Book,
}

/// Current format version.
pub const STATE_VERSION: u32 = 1;

impl Engine {
    /// The state to save.
    pub fn saved_state(&self) -> SavedState {
        SavedState {
            version: STATE_VERSION,
            now: self.now,
            asset_prices: self.market.asset_prices(),
            accounts: self.accounts.clone(),
            book: self.book.clone(),
        }
    }

    /// Rebuilds an engine from saved state: the market restarts at the saved time and prices
    /// (with fresh history), the accounts and orders come back as they were. Accounts beyond the
    /// saved ones keep their configured starting funds.
    pub fn restore(
        catalog: std::sync::Arc<Catalog>,
        settings: &super::EngineSettings,
        replay: Vec<Option<crate::market::replay::ReplayTrack>>,
        saved: SavedState,
    ) -> Self {
        let tick = settings.market.tick_ms.max(1);
        let market_settings = MarketSettings {
            start_ms: saved.now.div_euclid(tick) * tick,
            start_prices: saved.asset_prices.iter().map(|p| Some(*p)).collect(),
            ..settings.market.clone()
        };
        let market = Market::new(catalog.clone(), &market_settings, replay);
        let mut engine = Self::new(catalog, market, settings);
        for (slot, account) in engine.accounts.iter_mut().zip(saved.accounts) {
            *slot = account;
        }
        engine.book = saved.book;
        engine.book.reindex();
        engine.now = engine.now.max(saved.now);
        engine
    }
}
