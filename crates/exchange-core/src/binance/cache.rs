//! The caches an adapter keeps: the instrument rules, loaded from exchangeInfo on first use and
//! reloaded on demand, read by every `place` (every order is rounded and checked before it is
//! sent); and the latest mark price per symbol from the adapter's own market stream, so that a
//! market order is checked against a mark that arrived moments ago instead of waiting for a
//! `premiumIndex` round trip before it can be sent.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use crate::model::{InstrumentRules, Price, Qty, Symbol};

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

/// The latest streamed mark price per symbol and when it arrived (local monotonic time).
#[derive(Debug, Default)]
pub struct MarkCache {
    by_symbol: RwLock<HashMap<Symbol, (Price, Instant)>>,
}

impl MarkCache {
    /// Records `price` for `symbol`, received at `at`.
    pub fn record(&self, symbol: &Symbol, price: Price, at: Instant) {
        let mut map = self.by_symbol.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        match map.get_mut(symbol) {
            Some(entry) => *entry = (price, at),
            None => {
                map.insert(symbol.clone(), (price, at));
            }
        }
    }

    /// The mark of `symbol` when one arrived at most `max_age` before `now`.
    pub fn fresh(&self, symbol: &Symbol, now: Instant, max_age: Duration) -> Option<Price> {
        let map = self.by_symbol.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (price, at) = map.get(symbol)?;
        (now.saturating_duration_since(*at) <= max_age).then_some(*price)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn marks_are_used_only_while_fresh() {
        let cache = MarkCache::default();
        let btc = Symbol::new("BTCUSDT").unwrap();
        let eth = Symbol::new("ETHUSDT").unwrap();
        let start = Instant::now();
        let age = Duration::from_secs(5);
        assert_eq!(cache.fresh(&btc, start, age), None, "nothing streamed yet");
        cache.record(&btc, Price::new(dec!(91000.5)), start);
        // (seconds after the mark arrived, expected)
        let cases = [(0, Some(dec!(91000.5))), (5, Some(dec!(91000.5))), (6, None)];
        for (after, want) in cases {
            let now = start + Duration::from_secs(after);
            assert_eq!(cache.fresh(&btc, now, age).map(|p| p.get()), want, "{after} s after");
        }
        cache.record(&btc, Price::new(dec!(91010)), start + Duration::from_secs(6));
        let later = start + Duration::from_secs(7);
        assert_eq!(cache.fresh(&btc, later, age).map(|p| p.get()), Some(dec!(91010)), "the newer mark wins");
        assert_eq!(cache.fresh(&eth, later, age), None, "per symbol");
        assert_eq!(cache.fresh(&btc, later, Duration::ZERO), None, "a zero age never uses the cache");
    }
}
