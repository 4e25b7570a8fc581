//! Seeding the paper broker from a [`PaperSnapshot`] (the restart contract of the module doc):
//! balances, positions and resting orders replace a fresh account's, each order checked against
//! its symbol's filters and holding its funds as if it had just been placed.

use std::collections::HashMap;

use super::broker::{Broker, RestQuote, Trail};
use super::config::PaperSnapshot;
use super::ledger::Ledger;
use crate::model::{InstrumentRules, OrderKind, Symbol};
use crate::venue::{Product, VenueError};

impl Broker {
    /// Replaces the account with `snapshot` (see [`super::PaperVenue::restore`]); `rules` holds
    /// the rules of every symbol in it, `prices` their current prices (to check trailing stops).
    ///
    /// # Errors
    /// [`VenueError::Config`] after trading has begun, for positions on spot, for a resting order
    /// that is not a limit or conditional order, breaks its symbol's filters, repeats a client
    /// id or cannot hold its funds.
    pub(crate) fn restore(
        &mut self,
        snapshot: &PaperSnapshot,
        rules: &HashMap<Symbol, InstrumentRules>,
        prices: HashMap<Symbol, RestQuote>,
    ) -> Result<(), VenueError> {
        let bad = |what: String| VenueError::Config(format!("paper restore: {what}"));
        if self.traded || self.next_trade > 0 {
            return Err(bad("the paper venue has already traded in this session".into()));
        }
        for (symbol, quote) in prices {
            self.absorb(&symbol, quote);
        }
        let balances = if snapshot.balances.is_empty() {
            self.config.balances.clone()
        } else {
            snapshot.balances.clone()
        };
        self.ledger =
            Ledger::new(self.config.product == Product::UsdM, balances, self.config.default_leverage);
        self.open.clear();
        for p in &snapshot.positions {
            let (_, quote) = self.split(&p.symbol)?;
            let margin = self.ledger.margin_mut().ok_or_else(|| bad("spot has no positions".into()))?;
            margin.seed_position(p, &quote);
            self.watch(&p.symbol);
        }
        for resting in &snapshot.orders {
            let order = &resting.order;
            let id = &order.client_order_id;
            let rule = rules
                .get(&order.symbol)
                .ok_or_else(|| bad(format!("no rules for {} ({id})", order.symbol)))?;
            if !matches!(order.kind, OrderKind::Limit { .. }) && !order.kind.is_conditional() {
                return Err(bad(format!("order {id} is a market order, which cannot rest")));
            }
            if self.known(id) {
                return Err(bad(format!("client order id {id} appears twice")));
            }
            self.rules.insert(order.symbol.clone(), rule.clone());
            let checked = self.check(order, rule).map_err(|e| bad(format!("order {id}: {e}")))?;
            let mut paper = self.new_order(order, checked);
            if let (Some(trail), Some(peak)) = (paper.trail.as_mut(), resting.peak) {
                *trail = Trail { active: true, extreme: Some(peak.get()) };
            }
            let hold = self.hold_for(&paper)?;
            if !self.ledger.hold(&hold) {
                return Err(bad(format!(
                    "order {id} needs {} {} that the balances do not have",
                    hold.amount, hold.asset
                )));
            }
            paper.hold = hold;
            self.watch(&order.symbol);
            self.open.push(paper);
        }
        Ok(())
    }
}
