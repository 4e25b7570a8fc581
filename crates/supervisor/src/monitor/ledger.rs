//! What the monitor keeps of one agent's journal: its closed trades (time, net P&L, strategy),
//! its realized equity after each trade, and the few other facts the dashboard shows (last
//! event, sessions, the last breaker trip).
//!
//! The equity series is built from the journal alone, so that it survives restarts and a missing
//! status file: it starts at the agent's starting equity (the `open_equity` of the first
//! `day_rollover` recorded before any trade closed, else the agent's configured `capital`), at
//! the time of the journal's first record, and steps by each closed trade's net P&L
//! (`position_closed`'s `pnl`: fees and funding included) at that record's event time. It is a
//! realized-equity curve: unrealized P&L of open positions only enters through the status
//! snapshot's equity, which the report adds as the last point (see `report.rs`). Funding
//! records are not added separately: a trade's `pnl` already holds the funding it paid or got.

use rust_decimal::Decimal;

/// One closed trade, as much as the figures need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trade {
    /// Event time of the `position_closed` record, ms.
    pub time_ms: i64,
    /// Net P&L: gross minus fees plus funding.
    pub pnl: Decimal,
    /// Index into [`Ledger::strategies`].
    pub strategy: usize,
}

/// The accumulated journal of one agent.
#[derive(Debug, Clone)]
pub struct Ledger {
    /// Equity assumed when the journal gives none (the agent's `capital`).
    capital: Decimal,
    /// Strategy of a trade whose record names none.
    default_strategy: &'static str,
    /// Event time of the first record, ms.
    pub start_ms: Option<i64>,
    /// The starting equity (see the module docs).
    pub start_equity: Decimal,
    /// Closed trades in journal order.
    pub trades: Vec<Trade>,
    /// Realized equity after each trade: `(time ms, equity)`, one point per trade.
    pub equity: Vec<(i64, Decimal)>,
    /// Strategy names, in order of first appearance.
    pub strategies: Vec<String>,
    /// Trades with a P&L above zero.
    pub wins: usize,
    /// Latest event time seen in any record, ms.
    pub last_ms: Option<i64>,
    /// `session` records: process starts.
    pub sessions: u32,
    /// The last `breaker` record: its event time and the UTC day it names.
    pub breaker: Option<(i64, String)>,
}

impl Ledger {
    /// An empty ledger for an agent with `capital` whose unnamed trades belong to
    /// `default_strategy`.
    pub fn new(capital: Decimal, default_strategy: &'static str) -> Self {
        Self {
            capital,
            default_strategy,
            start_ms: None,
            start_equity: capital,
            trades: Vec::new(),
            equity: Vec::new(),
            strategies: Vec::new(),
            wins: 0,
            last_ms: None,
            sessions: 0,
            breaker: None,
        }
    }

    /// The same agent with nothing read yet (the journal was truncated or replaced).
    pub fn cleared(&self) -> Self {
        Self::new(self.capital, self.default_strategy)
    }

    /// Notes a record's event time (every record, whatever its kind).
    pub fn saw(&mut self, time_ms: i64) {
        self.start_ms.get_or_insert(time_ms);
        self.last_ms = Some(self.last_ms.map_or(time_ms, |last| last.max(time_ms)));
    }

    /// A `day_rollover`: its opening equity is the starting equity while no trade has closed.
    pub fn day_rollover(&mut self, open_equity: Decimal) {
        if self.trades.is_empty() {
            self.start_equity = open_equity;
        }
    }

    /// A `position_closed` at `time_ms` with net `pnl`, of `strategy` (the default when `None`).
    pub fn closed(&mut self, time_ms: i64, pnl: Decimal, strategy: Option<&str>) {
        let name = strategy.unwrap_or(self.default_strategy);
        let strategy = match self.strategies.iter().position(|s| s == name) {
            Some(i) => i,
            None => {
                self.strategies.push(name.to_owned());
                self.strategies.len() - 1
            }
        };
        if pnl > Decimal::ZERO {
            self.wins += 1;
        }
        let equity = self.realized_equity().saturating_add(pnl);
        self.trades.push(Trade { time_ms, pnl, strategy });
        self.equity.push((time_ms, equity));
    }

    /// The realized equity now: the starting equity plus every closed trade's P&L.
    pub fn realized_equity(&self) -> Decimal {
        self.equity.last().map_or(self.start_equity, |(_, e)| *e)
    }

    /// The trades closed at or after `from_ms` (the tail of the list: trades are in time order).
    pub fn trades_since(&self, from_ms: i64) -> &[Trade] {
        let first = self.trades.iter().rposition(|t| t.time_ms < from_ms).map_or(0, |i| i + 1);
        &self.trades[first..]
    }

    /// A strategy's name.
    pub fn strategy_name(&self, index: usize) -> &str {
        self.strategies.get(index).map_or(self.default_strategy, String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn equity_starts_at_the_first_rollover_before_any_trade_and_steps_by_pnl() {
        let mut ledger = Ledger::new(dec!(10000), "momentum");
        ledger.saw(100);
        ledger.day_rollover(dec!(9500));
        ledger.saw(200);
        ledger.closed(200, dec!(25.5), None);
        ledger.saw(300);
        ledger.day_rollover(dec!(1)); // after a trade: no longer the start
        ledger.closed(300, dec!(-5.25), Some("trend"));
        assert_eq!(ledger.start_ms, Some(100));
        assert_eq!(ledger.start_equity, dec!(9500));
        assert_eq!(ledger.equity, vec![(200, dec!(9525.5)), (300, dec!(9520.25))]);
        assert_eq!(ledger.wins, 1);
        assert_eq!(ledger.strategy_name(ledger.trades[0].strategy), "momentum");
        assert_eq!(ledger.strategy_name(ledger.trades[1].strategy), "trend");
        assert_eq!(ledger.trades_since(250).len(), 1);
        assert_eq!(ledger.trades_since(0).len(), 2);
        assert_eq!(ledger.trades_since(301).len(), 0);
        assert_eq!(ledger.cleared().start_equity, dec!(10000));
    }
}
