//! The instrument-rules cache an adapter keeps: loaded from exchangeInfo on first use and
//! reloaded on demand, read by every `place` (every order is rounded and checked before it is
//! sent).

use std::collections::HashMap;
use std::sync::RwLock;

use crate::model::{InstrumentRules, Qty, Symbol};

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
