//! Engine test fixtures: an engine with no history on a fixed seed, one account with spot and
//! futures funds, and helpers to set prices exactly.

use std::sync::Arc;

use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::events::Event;
use super::{AccountSeed, Engine, EngineSettings, Fees};
use crate::catalog::{Catalog, SymbolId, Venue};
use crate::market::MarketSettings;
use crate::time::MINUTE_MS;

/// The test account.
pub const ACCOUNT: usize = 0;

/// An engine at 2026-01-01T00:00Z with 100,000 USDT and 1 BTC on spot and 10,000 USDT futures.
pub fn engine() -> Engine {
    let catalog = Arc::new(Catalog::builtin().unwrap());
    let settings = EngineSettings {
        market: MarketSettings {
            seed: 5,
            tick_ms: MINUTE_MS,
            vol_scale: 1.0,
            start_ms: 1_767_225_600_000,
            backfill_ms: 0,
            max_minutes: 1_000,
            max_hours: 1_000,
            start_prices: Vec::new(),
        },
        fees: Fees {
            spot_maker: dec!(0.001),
            spot_taker: dec!(0.001),
            futures_maker: dec!(0.0002),
            futures_taker: dec!(0.0005),
        },
        accounts: vec![AccountSeed {
            name: "test".to_owned(),
            spot: vec![("USDT".to_owned(), dec!(100000)), ("BTC".to_owned(), dec!(1))],
            futures_wallet: dec!(10000),
        }],
    };
    Engine::build(catalog, &settings, Vec::new())
}

/// The id of `name` on `venue`.
pub fn id(engine: &Engine, venue: Venue, name: &str) -> SymbolId {
    engine.find(venue, name).unwrap()
}

/// An engine with BTC (spot and futures) at exactly `price`, events cleared.
pub fn engine_at(price: Decimal) -> (Engine, SymbolId, SymbolId) {
    let mut engine = engine();
    let spot = id(&engine, Venue::Spot, "BTCUSDT");
    let fut = id(&engine, Venue::Futures, "BTCUSDT");
    engine.set_price(spot, price).unwrap();
    engine.take_events();
    (engine, spot, fut)
}

/// The `x` and `X` of every order event queued, in order.
pub fn order_events(engine: &mut Engine) -> Vec<(String, String)> {
    engine
        .take_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::SpotExecution { order, exec, .. } | Event::FuturesOrder { order, exec, .. } => {
                Some((exec.as_str().to_owned(), order.status.as_str().to_owned()))
            }
            _ => None,
        })
        .collect()
}
