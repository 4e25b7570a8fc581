//! The caches an adapter keeps: the instrument rules, loaded from exchangeInfo on first use and
//! reloaded on demand, read by every `place` (every order is rounded and checked before it is
//! sent); and what the adapter's own market stream saw last: the latest mark price per symbol,
//! so that a market order is checked against a mark that arrived moments ago instead of waiting
//! for a `premiumIndex` round trip before it can be sent, and when the latest closed-kline frame
//! was read, for the entry latency the adapter logs.

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use crate::model::{InstrumentRules, Price, Qty, Symbol};
use crate::venue::MarketEvent;

/// The rules of one symbol as an adapter needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolRules {
    /// Tick, step, minimum quantity and notional.
    pub rules: InstrumentRules,
    /// The largest MARKET order (MARKET_LOT_SIZE `maxQty`), when set.
    pub market_max_qty: Option<Qty>,
}

/// Rules by symbol, behind a lock held only to copy in or out.
#[derive(Debug, Default)]
pub struct RulesCache {
    by_symbol: RwLock<HashMap<Symbol, SymbolRules>>,
}

impl RulesCache {
    /// The rules of `symbol`, when loaded.
    pub fn get(&self, symbol: &Symbol) -> Option<SymbolRules> {
        self.by_symbol.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(symbol).cloned()
    }

    /// True when nothing is loaded.
    pub fn is_empty(&self) -> bool {
        self.by_symbol.read().unwrap_or_else(std::sync::PoisonError::into_inner).is_empty()
    }

    /// Replaces everything with `rules`.
    pub fn replace(&self, rules: Vec<SymbolRules>) {
        let map = rules.into_iter().map(|r| (r.rules.symbol.clone(), r)).collect();
        *self.by_symbol.write().unwrap_or_else(std::sync::PoisonError::into_inner) = map;
    }

    /// Every symbol's rules.
    pub fn all(&self) -> Vec<InstrumentRules> {
        let map = self.by_symbol.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut rules: Vec<InstrumentRules> = map.values().map(|r| r.rules.clone()).collect();
        rules.sort_by(|a, b| a.symbol.cmp(&b.symbol));
        rules
    }
}

/// What the adapter's own market stream saw last: each symbol's mark price and when it arrived,
/// and when the latest closed-kline frame was read (local monotonic time).
#[derive(Debug, Default)]
pub struct MarketCache {
    marks: RwLock<HashMap<Symbol, (Price, Instant)>>,
    close_read_at: Mutex<Option<Instant>>,
}

impl MarketCache {
    /// Records what `event`, read at `at`, tells: a mark price, or a bar that closed.
    pub fn record(&self, event: &MarketEvent, at: Instant) {
        match event {
            MarketEvent::MarkPrice(mark) => self.record_mark(&mark.symbol, mark.mark_price, at),
            MarketEvent::Kline(kline) if kline.closed => {
                *self.close_read_at.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(at);
            }
            _ => {}
        }
    }

    /// Records `price` for `symbol`, received at `at`.
    pub fn record_mark(&self, symbol: &Symbol, price: Price, at: Instant) {
        let mut map = self.marks.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        match map.get_mut(symbol) {
            Some(entry) => *entry = (price, at),
            None => {
                map.insert(symbol.clone(), (price, at));
            }
        }
    }

    /// The mark of `symbol` when one arrived at most `max_age` before `now`.
    pub fn fresh_mark(&self, symbol: &Symbol, now: Instant, max_age: Duration) -> Option<Price> {
        let map = self.marks.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (price, at) = map.get(symbol)?;
        (now.saturating_duration_since(*at) <= max_age).then_some(*price)
    }

    /// When the latest closed-kline frame was read, if one was read since the last call.
    pub fn take_close_read_at(&self) -> Option<Instant> {
        self.close_read_at.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn marks_are_used_only_while_fresh() {
        let cache = MarketCache::default();
        let btc = Symbol::new("BTCUSDT").unwrap();
        let eth = Symbol::new("ETHUSDT").unwrap();
        let start = Instant::now();
        let age = Duration::from_secs(5);
        assert_eq!(cache.fresh_mark(&btc, start, age), None, "nothing streamed yet");
        cache.record_mark(&btc, Price::new(dec!(91000.5)), start);
        // (seconds after the mark arrived, expected)
        let cases = [(0, Some(dec!(91000.5))), (5, Some(dec!(91000.5))), (6, None)];
        for (after, want) in cases {
            let now = start + Duration::from_secs(after);
            assert_eq!(cache.fresh_mark(&btc, now, age).map(|p| p.get()), want, "{after} s after");
        }
        cache.record_mark(&btc, Price::new(dec!(91010)), start + Duration::from_secs(6));
        let later = start + Duration::from_secs(7);
        assert_eq!(
            cache.fresh_mark(&btc, later, age).map(|p| p.get()),
            Some(dec!(91010)),
            "the newer mark wins"
        );
        assert_eq!(cache.fresh_mark(&eth, later, age), None, "per symbol");
        assert_eq!(cache.fresh_mark(&btc, later, Duration::ZERO), None, "a zero age never uses the cache");
    }

    #[test]
    fn a_closed_kline_frame_is_remembered_until_taken_and_marks_come_from_mark_events() {
        use crate::model::Bar;
        use crate::venue::{KlineInterval, KlineUpdate, MarkPrice};
        let btc = Symbol::new("BTCUSDT").unwrap();
        let price = Price::new(dec!(91000));
        let bar =
            Bar { open_time_ms: 0, open: price, high: price, low: price, close: price, volume: dec!(1) };
        let kline = |closed| {
            MarketEvent::Kline(KlineUpdate {
                symbol: btc.clone(),
                interval: KlineInterval::H1,
                bar,
                closed,
                time_exchange: 0,
            })
        };
        let cache = MarketCache::default();
        let start = Instant::now();
        cache.record(&kline(false), start);
        assert_eq!(cache.take_close_read_at(), None, "a bar still open is not a close");
        cache.record(&kline(true), start);
        cache.record(&kline(true), start + Duration::from_millis(2));
        assert_eq!(cache.take_close_read_at(), Some(start + Duration::from_millis(2)), "the latest close");
        assert_eq!(cache.take_close_read_at(), None, "taken once");
        let mark = MarkPrice {
            symbol: btc.clone(),
            mark_price: Price::new(dec!(91001)),
            index_price: None,
            funding_rate: dec!(0.0001),
            next_funding_time: 0,
            time_exchange: 0,
        };
        cache.record(&MarketEvent::MarkPrice(mark), start);
        assert_eq!(cache.fresh_mark(&btc, start, Duration::from_secs(1)).map(|p| p.get()), Some(dec!(91001)));
    }
}
