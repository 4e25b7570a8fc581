//! What the market tells the WebSocket streams after a tick: a [`MarketTick`] snapshot with every
//! symbol's prices and the bars of the (symbol, interval) pairs someone subscribed to, tracked in
//! an [`Interest`] registry so that no unwanted kline is built.
//!
//! When the clock jumps many ticks at once (an admin step, or a slow timer), only the last tick of
//! the batch carries every price (`latest`); earlier ticks are sent only when they close a bar that
//! someone watches, so a kline stream still sees every `x=true` close.

use std::collections::HashMap;
use std::sync::Mutex;

use rust_decimal::Decimal;

use super::Market;
use super::series::Kline;
use crate::catalog::SymbolId;
use crate::time::Interval;

/// One symbol in a [`MarketTick`].
#[derive(Debug, Clone, PartialEq)]
pub struct SymbolFeed {
    /// The symbol.
    pub id: SymbolId,
    /// Last price, in ticks.
    pub last: i64,
    /// Mark price, in ticks.
    pub mark: i64,
    /// Index price, in ticks.
    pub index: i64,
    /// Funding rate estimate.
    pub funding_rate: Decimal,
    /// Id of the tick's last synthetic trade.
    pub last_trade_id: u64,
    /// Bars of the watched intervals, with whether the bar closed at this tick.
    pub klines: Vec<(Interval, Kline, bool)>,
}

/// The market after one tick, for the WebSocket streams.
#[derive(Debug, Clone, PartialEq)]
pub struct MarketTick {
    /// Market time at the end of the tick (the event time), ms.
    pub time_ms: i64,
    /// True for the last tick of a batch: every price is current.
    pub latest: bool,
    /// The symbols with something to say.
    pub symbols: Vec<SymbolFeed>,
}

/// Which (symbol, interval) kline streams have subscribers, with counts.
#[derive(Debug, Default)]
pub struct Interest {
    counts: Mutex<HashMap<(SymbolId, Interval), usize>>,
}

impl Interest {
    /// Registers one subscriber of a kline stream.
    pub fn add(&self, id: SymbolId, interval: Interval) {
        if let Ok(mut counts) = self.counts.lock() {
            *counts.entry((id, interval)).or_insert(0) += 1;
        }
    }

    /// Removes one subscriber of a kline stream.
    pub fn remove(&self, id: SymbolId, interval: Interval) {
        if let Ok(mut counts) = self.counts.lock()
            && let Some(count) = counts.get_mut(&(id, interval))
        {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&(id, interval));
            }
        }
    }

    /// The watched pairs right now.
    pub fn snapshot(&self) -> Vec<(SymbolId, Interval)> {
        self.counts.lock().map(|c| c.keys().copied().collect()).unwrap_or_default()
    }
}

impl Market {
    /// The snapshot of the tick just taken, or `None` when it has nothing anyone needs.
    pub fn feed(&self, latest: bool, watched: &[(SymbolId, Interval)]) -> Option<MarketTick> {
        let time_ms = self.time_ms;
        let mut symbols = Vec::new();
        for (state, spec) in self.symbols.iter().zip(&self.catalog.symbols) {
            let klines: Vec<(Interval, Kline, bool)> = watched
                .iter()
                .filter(|(id, _)| *id == spec.id)
                .map(|&(_, interval)| {
                    let bar = state.series.live(interval);
                    (interval, bar, bar.open_time + interval.ms() == time_ms)
                })
                .filter(|(_, _, closed)| latest || *closed)
                .collect();
            if !latest && klines.is_empty() {
                continue;
            }
            symbols.push(SymbolFeed {
                id: spec.id,
                last: state.last,
                mark: state.mark,
                index: state.index,
                funding_rate: self.funding_rate(spec.id),
                last_trade_id: state.next_trade_id.saturating_sub(1),
                klines,
            });
        }
        (latest || !symbols.is_empty()).then_some(MarketTick { time_ms, latest, symbols })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Catalog, Venue};
    use crate::market::MarketSettings;
    use crate::time::{HOUR_MS, MINUTE_MS};
    use std::sync::Arc;

    #[test]
    fn only_watched_closes_are_sent_between_latest_ticks() {
        let catalog = Arc::new(Catalog::builtin().unwrap());
        let settings = MarketSettings {
            seed: 1,
            tick_ms: MINUTE_MS,
            vol_scale: 1.0,
            start_ms: 0,
            backfill_ms: 0,
            max_minutes: 100,
            max_hours: 100,
            start_prices: Vec::new(),
        };
        let mut market = Market::new(catalog.clone(), &settings, Vec::new());
        let btc = catalog.find(Venue::Futures, "BTCUSDT").unwrap().id;
        let interest = Interest::default();
        interest.add(btc, Interval::H1);
        let watched = interest.snapshot();
        let mut sent = 0;
        for _ in 0..120 {
            market.step();
            if let Some(tick) = market.feed(false, &watched) {
                sent += 1;
                assert_eq!(tick.symbols.len(), 1);
                assert!(tick.symbols[0].klines[0].2, "only closes");
                assert_eq!(tick.time_ms % HOUR_MS, 0);
            }
        }
        assert_eq!(sent, 2);
        let latest = market.feed(true, &watched).unwrap();
        assert_eq!(latest.symbols.len(), catalog.symbols.len());
        interest.remove(btc, Interval::H1);
        assert!(interest.snapshot().is_empty());
    }
}
