//! The equity series of an agent and the quick figures the dashboard shows, computed from an
//! [`AgentWatch`] without copying its journal.
//!
//! The series ([`Series`]) is the ledger's realized-equity curve (see `ledger.rs`) with the
//! status snapshot's equity (unrealized P&L included) as its last point, stamped with the
//! snapshot's last activity, when that is not older than the last closed trade. Periods: P&L
//! over a period is the series' last value minus its value just before the period began (the
//! starting equity when nothing came before). Today is the UTC day of the monitor's "now"
//! (`Monitor::as_of_ms`); the week starts on Monday 00:00 UTC.

use agent_core::time::{DAY_MS, utc_day};
use rust_decimal::Decimal;

use super::ledger::Trade;
use super::watch::AgentWatch;

/// One agent's equity over time: a starting point, a step per closed trade, and the status
/// snapshot's equity last.
#[derive(Debug, Clone, Copy)]
pub struct Series<'a> {
    /// Time of the journal's first record (or "now" without one) and the starting equity.
    pub start: (i64, Decimal),
    /// Realized equity after each closed trade.
    pub steps: &'a [(i64, Decimal)],
    /// The status snapshot's equity at its last activity.
    pub last: Option<(i64, Decimal)>,
}

impl<'a> Series<'a> {
    /// The series of `agent`. Without a journal record it starts at the status snapshot's last
    /// activity (so the snapshot's equity is its only other point), else at `now_ms`.
    pub fn of(agent: &'a AgentWatch, now_ms: i64) -> Self {
        let ledger = &agent.journal.ledger;
        let snapshot = agent.status.snapshot().map(|s| (s.last_activity_ms, s.equity));
        let start_ms = ledger.start_ms.or(snapshot.map(|(t, _)| t).filter(|t| *t > 0)).unwrap_or(now_ms);
        let start = (start_ms, ledger.start_equity);
        let steps = ledger.equity.as_slice();
        let after = steps.last().map_or(start.0, |(t, _)| *t);
        let last = snapshot.filter(|(t, _)| *t >= after);
        Self { start, steps, last }
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        1 + self.steps.len() + usize::from(self.last.is_some())
    }

    /// Never: a series always has its starting point.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The `i`-th point (the last one for any `i` past the end).
    pub fn get(&self, i: usize) -> (i64, Decimal) {
        match i.checked_sub(1) {
            None => self.start,
            Some(j) => self.steps.get(j).copied().or(self.last).unwrap_or_else(|| self.end()),
        }
    }

    /// Every point, in order.
    pub fn iter(&self) -> impl Iterator<Item = (i64, Decimal)> + '_ {
        std::iter::once(self.start).chain(self.steps.iter().copied()).chain(self.last)
    }

    /// The last point.
    pub fn end(&self) -> (i64, Decimal) {
        self.last.or_else(|| self.steps.last().copied()).unwrap_or(self.start)
    }

    /// The value of the last point stamped before `time_ms` (the starting equity when none is).
    pub fn value_before(&self, time_ms: i64) -> Decimal {
        if let Some((_, v)) = self.last.filter(|(t, _)| *t < time_ms) {
            return v;
        }
        let n = self.steps.partition_point(|(t, _)| *t < time_ms);
        n.checked_sub(1).map_or(self.start.1, |i| self.steps[i].1)
    }

    /// P&L since `time_ms`: the last value minus the value just before it.
    pub fn pnl_since(&self, time_ms: i64) -> Decimal {
        self.end().1 - self.value_before(time_ms)
    }
}

/// 00:00 UTC of the day holding `time_ms`.
pub fn day_start(time_ms: i64) -> i64 {
    utc_day(time_ms) * DAY_MS
}

/// Monday 00:00 UTC of the week holding `time_ms` (1970-01-01 was a Thursday).
pub fn week_start(time_ms: i64) -> i64 {
    let day = utc_day(time_ms);
    (day - (day + 3).rem_euclid(7)) * DAY_MS
}

/// Share of trades with a P&L above zero; `None` without trades.
pub fn win_rate(trades: &[Trade]) -> Option<f64> {
    let wins = trades.iter().filter(|t| t.pnl > Decimal::ZERO).count();
    ratio(wins, trades.len())
}

/// `part / whole`; `None` when `whole` is 0.
pub fn ratio(part: usize, whole: usize) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)]
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// What the dashboard and the text snapshot show of an agent.
#[derive(Debug, Clone, PartialEq)]
pub struct Quick {
    /// The series' last value.
    pub equity: Decimal,
    /// Today's P&L: the status snapshot's (realized and unrealized) when it is of today, else
    /// from the series.
    pub pnl_today: Decimal,
    /// P&L since the start of the series.
    pub pnl_overall: Decimal,
    /// Trades closed today.
    pub trades_today: usize,
    /// Their win rate.
    pub win_rate_today: Option<f64>,
    /// Trades closed in all.
    pub trades: usize,
    /// Their win rate.
    pub win_rate: Option<f64>,
}

impl Quick {
    /// The figures of `agent` as of `now_ms`.
    pub fn of(agent: &AgentWatch, now_ms: i64) -> Self {
        let series = Series::of(agent, now_ms);
        let today = day_start(now_ms);
        let ledger = &agent.journal.ledger;
        let today_trades = ledger.trades_since(today);
        let snapshot_today = agent
            .status
            .snapshot()
            .filter(|s| s.last_activity_ms >= today && series.last.is_some())
            .map(|s| s.daily_pnl);
        Self {
            equity: series.end().1,
            pnl_today: snapshot_today.unwrap_or_else(|| series.pnl_since(today)),
            pnl_overall: series.end().1 - series.start.1,
            trades_today: today_trades.len(),
            win_rate_today: win_rate(today_trades),
            trades: ledger.trades.len(),
            win_rate: ratio(ledger.wins, ledger.trades.len()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn weeks_start_on_monday_and_days_at_midnight() {
        // 2024-01-01 was a Monday; 2024-01-07 a Sunday.
        let monday = 1_704_067_200_000;
        assert_eq!(week_start(monday), monday);
        assert_eq!(week_start(monday + 6 * DAY_MS + 5), monday);
        assert_eq!(week_start(monday + 7 * DAY_MS), monday + 7 * DAY_MS);
        assert_eq!(week_start(monday - 1), monday - 7 * DAY_MS);
        assert_eq!(day_start(monday + 3_600_000), monday);
    }

    #[test]
    fn period_pnl_is_measured_from_the_value_before_the_period() {
        let steps = [(100, dec!(1010)), (200, dec!(1005)), (300, dec!(1020))];
        let series = Series { start: (50, dec!(1000)), steps: &steps, last: Some((400, dec!(1030))) };
        assert_eq!(series.len(), 5);
        assert_eq!(series.get(0), (50, dec!(1000)));
        assert_eq!(series.get(4), (400, dec!(1030)));
        assert_eq!(series.iter().count(), 5);
        assert_eq!(series.pnl_since(0), dec!(30));
        assert_eq!(series.pnl_since(200), dec!(20));
        assert_eq!(series.pnl_since(201), dec!(25));
        assert_eq!(series.pnl_since(401), dec!(0));
        let bare = Series { start: (50, dec!(1000)), steps: &[], last: None };
        assert_eq!((bare.len(), bare.end()), (1, (50, dec!(1000))));
    }
}
