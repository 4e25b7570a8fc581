//! The market: prices of every simulated symbol, advanced one tick of market time at a time by the
//! synthetic [`generator`] or a [`replay`] of kline files, with the kline history of each symbol
//! ([`series`]). Owned by the engine; no I/O.
//!
//! Per futures symbol it also keeps the mark price (the index, i.e. the spot price of the same
//! asset, times one plus a smoothed premium; replayed prices have no premium: last, mark and index
//! are the file's price), the index price, and the funding rate estimate
//! `clamp(P + clamp(0.01 % - P, -0.05 %, 0.05 %), -0.75 %, 0.75 %)` from the 8-hour average premium
//! `P` (PROTOCOL.md §7.3-7.4), unless an admin override fixes it.
//!
//! | file        | owns                                                    |
//! |-------------|---------------------------------------------------------|
//! | `generator` | the seeded synthetic price model                        |
//! | `replay`    | replaying kline CSV files with an intrabar path         |
//! | `series`    | kline storage, live bars, REST kline queries            |
//! | `feed`      | the per-tick snapshot broadcast to WebSocket streams    |

pub mod feed;
pub mod generator;
pub mod replay;
pub mod series;

use std::sync::Arc;

use rust_decimal::Decimal;

use crate::catalog::{Catalog, SymbolId, Venue};
use crate::time::{HOUR_MS, MINUTE_MS};
use generator::{AssetMove, Generator, Regime};
use replay::ReplayTrack;
use series::{Kline, Series};

/// How the market is built.
#[derive(Debug, Clone)]
pub struct MarketSettings {
    /// Seed of the generator.
    pub seed: u64,
    /// Market time per tick, ms.
    pub tick_ms: i64,
    /// Multiplier on every asset's volatility.
    pub vol_scale: f64,
    /// Market time at which the live market starts (history ends here), ms.
    pub start_ms: i64,
    /// How much history to create before `start_ms`, ms.
    pub backfill_ms: i64,
    /// Minute bars kept per symbol.
    pub max_minutes: usize,
    /// Hour bars kept per symbol.
    pub max_hours: usize,
    /// Price of each asset at `start_ms` (catalogue order); `None` keeps the catalogue's.
    pub start_prices: Vec<Option<f64>>,
}

/// A price path over one tick, in ticks of the symbol: `points[0]` is the price before the tick
/// (the move from it to `points[1]` is a gap), then open, two extremes in time order, close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TickPath {
    /// Previous price, open, first extreme, second extreme, close.
    pub points: [i64; 5],
}

/// What one tick did to one symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SymbolMove {
    /// The symbol.
    pub id: SymbolId,
    /// Last-trade price path.
    pub last: TickPath,
    /// Mark price path (the last-price path for spot).
    pub mark: TickPath,
}

#[derive(Debug, Clone)]
struct SymbolState {
    series: Series,
    last: i64,
    mark: i64,
    index: i64,
    premium_fast: f64,
    premium_slow: f64,
    funding_override: Option<Decimal>,
    next_trade_id: u64,
}

/// Every symbol's prices and history, and the source that moves them.
#[derive(Debug, Clone)]
pub struct Market {
    catalog: Arc<Catalog>,
    generator: Generator,
    replay: Vec<Option<ReplayTrack>>,
    tick_ms: i64,
    time_ms: i64,
    symbols: Vec<SymbolState>,
    moves: Vec<AssetMove>,
}

fn path_of(prev: i64, open: i64, high: i64, low: i64, close: i64) -> TickPath {
    // Up ticks visit the low first, down ticks the high first.
    let points = if close >= open { [prev, open, low, high, close] } else { [prev, open, high, low, close] };
    TickPath { points }
}

impl Market {
    /// Builds the market and its history: `backfill_ms` of ticks ending at `start_ms`, shifted so
    /// that each synthetic asset ends at its start price. `replay` maps asset indexes to tracks.
    pub fn new(catalog: Arc<Catalog>, settings: &MarketSettings, replay: Vec<Option<ReplayTrack>>) -> Self {
        let tick_ms = settings.tick_ms.max(1);
        let mut generator = Generator::new(&catalog.assets, settings.seed, tick_ms, settings.vol_scale);
        let ticks = settings.backfill_ms.max(0) / tick_ms;
        let begin = settings.start_ms - ticks * tick_ms;
        // Pass 1: where would each asset end? Rescale its start so that it ends where wanted.
        let mut dry = generator.clone();
        let mut scratch = Vec::new();
        for _ in 0..ticks {
            dry.step(&mut scratch);
        }
        for (index, asset) in catalog.assets.iter().enumerate() {
            let wanted = settings.start_prices.get(index).copied().flatten().unwrap_or(asset.start_price);
            let ended = dry.price(index);
            if ended > 0.0 {
                generator.set_price(index, asset.start_price * wanted / ended);
            }
        }
        let symbols = catalog
            .symbols
            .iter()
            .map(|spec| {
                let ticks = spec.ticks_of_f64(generator.price(spec.asset));
                SymbolState {
                    series: Series::new(settings.max_minutes, settings.max_hours),
                    last: ticks,
                    mark: ticks,
                    index: ticks,
                    premium_fast: 0.0002,
                    premium_slow: 0.0002,
                    funding_override: None,
                    next_trade_id: 1,
                }
            })
            .collect();
        let mut replay = replay;
        replay.resize(catalog.assets.len(), None);
        let mut market =
            Self { catalog, generator, replay, tick_ms, time_ms: begin, symbols, moves: Vec::new() };
        market.seed_replay_prices();
        let mut out = Vec::new();
        for _ in 0..ticks {
            market.step_into(&mut out);
        }
        market
    }

    /// Sets the generator to the replay price at the current time for replayed assets.
    fn seed_replay_prices(&mut self) {
        for (index, track) in self.replay.iter().enumerate() {
            if let Some(mv) = track.as_ref().and_then(|t| t.tick(self.time_ms, self.time_ms + self.tick_ms)) {
                self.generator.set_price(index, mv.open);
            }
        }
        for (state, spec) in self.symbols.iter_mut().zip(&self.catalog.symbols) {
            let ticks = spec.ticks_of_f64(self.generator.price(spec.asset));
            (state.last, state.mark, state.index) = (ticks, ticks, ticks);
        }
    }

    /// The catalogue.
    pub fn catalog(&self) -> &Arc<Catalog> {
        &self.catalog
    }

    /// Market time at the end of the last tick, ms.
    pub fn time_ms(&self) -> i64 {
        self.time_ms
    }

    /// Market time per tick, ms.
    pub fn tick_ms(&self) -> i64 {
        self.tick_ms
    }

    /// The generator's regime.
    pub fn regime(&self) -> Regime {
        self.generator.regime()
    }

    /// Each asset's current price (catalogue order), for saving state.
    pub fn asset_prices(&self) -> Vec<f64> {
        (0..self.catalog.assets.len()).map(|i| self.generator.price(i)).collect()
    }

    fn state(&self, id: SymbolId) -> Option<&SymbolState> {
        self.symbols.get(id.0)
    }

    /// Last trade price.
    pub fn last(&self, id: SymbolId) -> Decimal {
        let ticks = self.state(id).map_or(0, |s| s.last);
        self.catalog.get(id).price_of_ticks(ticks)
    }

    /// Mark price (the last price for spot).
    pub fn mark(&self, id: SymbolId) -> Decimal {
        let ticks = self.state(id).map_or(0, |s| s.mark);
        self.catalog.get(id).price_of_ticks(ticks)
    }

    /// Index price.
    pub fn index(&self, id: SymbolId) -> Decimal {
        let ticks = self.state(id).map_or(0, |s| s.index);
        self.catalog.get(id).price_of_ticks(ticks)
    }

    /// The funding rate that the next settlement will apply.
    pub fn funding_rate(&self, id: SymbolId) -> Decimal {
        let Some(state) = self.state(id) else { return Decimal::ZERO };
        if let Some(rate) = state.funding_override {
            return rate;
        }
        let p = state.premium_slow;
        let rate = (p + (0.0001 - p).clamp(-0.0005, 0.0005)).clamp(-0.0075, 0.0075);
        Decimal::from_f64_retain(rate).map_or(Decimal::ZERO, |d| d.round_dp(8))
    }

    /// Fixes the funding rate of `id` (None: back to the estimate).
    pub fn set_funding_override(&mut self, id: SymbolId, rate: Option<Decimal>) {
        if let Some(state) = self.symbols.get_mut(id.0) {
            state.funding_override = rate;
        }
    }

    /// The next funding time after `time_ms` (00:00, 08:00, 16:00 UTC).
    pub fn next_funding_time(time_ms: i64) -> i64 {
        (time_ms.div_euclid(8 * HOUR_MS) + 1) * 8 * HOUR_MS
    }

    /// The kline history of `id`.
    pub fn series(&self, id: SymbolId) -> Option<&Series> {
        self.state(id).map(|s| &s.series)
    }

    /// Reserves `count` trade ids of `id`; returns the first.
    pub fn take_trade_ids(&mut self, id: SymbolId, count: u64) -> u64 {
        self.symbols.get_mut(id.0).map_or(0, |s| {
            let first = s.next_trade_id;
            s.next_trade_id += count;
            first
        })
    }

    /// Advances one tick; returns every symbol's price paths.
    pub fn step(&mut self) -> Vec<SymbolMove> {
        let mut out = Vec::with_capacity(self.symbols.len());
        self.step_into(&mut out);
        out
    }

    fn step_into(&mut self, out: &mut Vec<SymbolMove>) {
        out.clear();
        let (start, end) = (self.time_ms, self.time_ms + self.tick_ms);
        let mut moves = std::mem::take(&mut self.moves);
        self.generator.step(&mut moves);
        let mut replayed = vec![false; moves.len()];
        for (index, track) in self.replay.iter().enumerate() {
            let tick = track.as_ref().and_then(|t| t.tick(start, end));
            if let (Some(mv), Some(slot), Some(flag)) = (tick, moves.get_mut(index), replayed.get_mut(index))
            {
                // Replayed prices are used as they are, on spot and futures alike.
                *slot = mv;
                *flag = true;
                self.generator.set_price(index, mv.close);
            }
        }
        let fast_keep = 0.5_f64.powf(self.tick_ms as f64 / (5 * MINUTE_MS) as f64);
        let slow_keep = 0.5_f64.powf(self.tick_ms as f64 / (8 * HOUR_MS) as f64);
        for (state, spec) in self.symbols.iter_mut().zip(&self.catalog.symbols) {
            let Some(mv) = moves.get(spec.asset) else { continue };
            let (factor, mark_factor) = if replayed.get(spec.asset).copied().unwrap_or(false) {
                (1.0, 1.0)
            } else if spec.venue == Venue::Futures {
                state.premium_fast = fast_keep * state.premium_fast + (1.0 - fast_keep) * mv.basis;
                state.premium_slow = slow_keep * state.premium_slow + (1.0 - slow_keep) * mv.basis;
                (1.0 + mv.basis, 1.0 + state.premium_fast)
            } else {
                (1.0, 1.0)
            };
            let t = |p: f64, f: f64| spec.ticks_of_f64(p * f);
            let (close, mark_close) = (t(mv.close, factor), t(mv.close, mark_factor));
            let (open, mark_open) = (state.last, state.mark);
            let high = t(mv.high, factor).max(open).max(close);
            let low = t(mv.low, factor).min(open).min(close);
            let mark_high = t(mv.high, mark_factor).max(mark_open).max(mark_close);
            let mark_low = t(mv.low, mark_factor).min(mark_open).min(mark_close);
            let volume = ((mv.volume / f64::try_from(spec.step).unwrap_or(1.0)).round() as i64).max(0);
            let price = spec.price_of_ticks(close);
            let quote_e4 = (mv.volume * f64::try_from(price).unwrap_or(0.0) * 1e4).round() as i64;
            // About one trade per 2,000 USDT traded.
            let trades = u32::try_from((quote_e4 / 20_000_000).clamp(1, 100_000)).unwrap_or(1);
            let kline =
                Kline { open_time: start, open, high, low, close, volume, quote_volume_e4: quote_e4, trades };
            state.series.push_tick(start, &kline);
            state.next_trade_id += u64::from(trades);
            out.push(SymbolMove {
                id: spec.id,
                last: path_of(state.last, open, high, low, close),
                mark: path_of(state.mark, mark_open, mark_high, mark_low, mark_close),
            });
            state.last = close;
            state.mark = mark_close;
            state.index = t(mv.close, 1.0);
        }
        self.moves = moves;
        self.time_ms = end;
    }

    /// Moves every symbol of asset `asset` by `fraction` at once (at market time `now`); returns
    /// the gap paths (from the old to the new price) for the engine to process.
    pub fn shock(&mut self, asset: usize, fraction: f64, now: i64) -> Vec<SymbolMove> {
        self.generator.shock(asset, fraction);
        let mut out = Vec::new();
        for (state, spec) in self.symbols.iter_mut().zip(&self.catalog.symbols) {
            if spec.asset != asset {
                continue;
            }
            let scale = 1.0 + fraction;
            let (old_last, old_mark) = (state.last, state.mark);
            state.last = spec.ticks_of_f64(spec.price_of_ticks_f64(old_last) * scale);
            state.mark = spec.ticks_of_f64(spec.price_of_ticks_f64(old_mark) * scale);
            state.index = spec.ticks_of_f64(spec.price_of_ticks_f64(state.index) * scale);
            state.series.shock(now, state.last);
            let gap = |from: i64, to: i64| TickPath { points: [from, to, to, to, to] };
            out.push(SymbolMove {
                id: spec.id,
                last: gap(old_last, state.last),
                mark: gap(old_mark, state.mark),
            });
        }
        out
    }

    /// Sets every symbol of asset `asset` to `price` at once (last, mark and index alike, at
    /// market time `now`); returns the gap paths for the engine to process.
    pub fn set_asset_price(&mut self, asset: usize, price: f64, now: i64) -> Vec<SymbolMove> {
        self.generator.set_price(asset, price);
        let mut out = Vec::new();
        for (state, spec) in self.symbols.iter_mut().zip(&self.catalog.symbols) {
            if spec.asset != asset {
                continue;
            }
            let ticks = spec.ticks_of_f64(price);
            let (old_last, old_mark) = (state.last, state.mark);
            (state.last, state.mark, state.index) = (ticks, ticks, ticks);
            state.series.shock(now, ticks);
            let gap = |from: i64, to: i64| TickPath { points: [from, to, to, to, to] };
            out.push(SymbolMove { id: spec.id, last: gap(old_last, ticks), mark: gap(old_mark, ticks) });
        }
        out
    }

    /// The symbol's price in ticks (last, mark, index).
    pub fn ticks(&self, id: SymbolId) -> (i64, i64, i64) {
        self.state(id).map_or((0, 0, 0), |s| (s.last, s.mark, s.index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(backfill_ms: i64) -> MarketSettings {
        MarketSettings {
            seed: 11,
            tick_ms: MINUTE_MS,
            vol_scale: 1.0,
            start_ms: 1_767_225_600_000,
            backfill_ms,
            max_minutes: 10_000,
            max_hours: 10_000,
            start_prices: Vec::new(),
        }
    }

    #[test]
    fn backfill_ends_at_the_start_price() {
        let catalog = Arc::new(Catalog::builtin().unwrap());
        let market = Market::new(catalog.clone(), &settings(6 * HOUR_MS), Vec::new());
        assert_eq!(market.time_ms(), 1_767_225_600_000);
        let btc = catalog.find(Venue::Spot, "BTCUSDT").unwrap();
        let last = f64::try_from(market.last(btc.id)).unwrap();
        assert!((last - 90_000.0).abs() < 0.02, "{last}");
        let series = market.series(btc.id).unwrap();
        let q = series::KlineQuery { interval: crate::time::Interval::H1, start: None, end: None, limit: 10 };
        assert_eq!(series.query(&q).len(), 6);
    }

    #[test]
    fn paths_are_continuous_and_shock_gaps() {
        let catalog = Arc::new(Catalog::builtin().unwrap());
        let mut market = Market::new(catalog.clone(), &settings(0), Vec::new());
        let fut = catalog.find(Venue::Futures, "BTCUSDT").unwrap().id;
        let mut prev = market.ticks(fut).0;
        for _ in 0..100 {
            let moves = market.step();
            let mv = moves.iter().find(|m| m.id == fut).unwrap();
            assert_eq!(mv.last.points[0], prev);
            assert_eq!(mv.last.points[1], prev, "generator ticks do not gap");
            prev = mv.last.points[4];
        }
        let before = market.last(fut);
        let moves = market.shock(0, -0.10, market.time_ms());
        assert_eq!(moves.len(), 2, "spot and futures BTC");
        let after = market.last(fut);
        assert!((after / before - Decimal::new(9, 1)).abs() < Decimal::new(1, 4));
    }
}
