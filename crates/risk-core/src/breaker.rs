//! The daily loss breaker (DESIGN §10 rule 8): trips when equity at a close is at or below
//! `(1 - max_daily_loss)` of the UTC day's opening equity, and blocks entries for the rest of
//! that UTC day.
//!
//! Days come from bar close times with the convention of [`crate::day`]: a close at exactly
//! 00:00 UTC is the last close of the day that is ending. The day's opening equity is the equity
//! at the last close observed before the day began, so the 23:00 bar's close (stamped 00:00)
//! opens the next day; on the first day it is the starting capital. After a gap in the data the
//! opening equity is the last equity observed, however old.
//!
//! The whole state is a small serde value ([`BreakerState`]) so it can be journaled and restored.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::day::utc_day_of_close;
use crate::decision::{Decision, Refusal};

/// Everything the breaker remembers; persist it to survive a restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakerState {
    /// UTC day of the latest close seen; `None` before the first close.
    pub day: Option<i64>,
    /// Opening equity of `day` (before the first close: the starting capital).
    pub day_open_equity: Decimal,
    /// Equity at the latest close seen; it becomes the next day's opening equity.
    pub last_equity: Decimal,
    /// The UTC day on which the breaker last tripped.
    pub tripped_day: Option<i64>,
}

/// A new UTC day started at this close.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DayStart {
    /// The new day.
    pub day: i64,
    /// Its opening equity.
    pub open_equity: Decimal,
    /// True when a trip of an earlier day stopped blocking entries here.
    pub cleared_trip: bool,
}

/// The breaker tripped at this close.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BreakerTrip {
    /// The day it tripped on; entries resume on `day + 1`.
    pub day: i64,
    /// Equity at the close.
    pub equity: Decimal,
    /// The day's opening equity.
    pub day_open_equity: Decimal,
    /// `(1 - max_daily_loss) * day_open_equity`, which `equity` reached.
    pub threshold: Decimal,
}

/// What one close did to the breaker: possibly a new day, possibly a trip, possibly both (a
/// day's first close can trip it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct BreakerEvent {
    /// Set when this close is the first of a new UTC day (also the very first close).
    pub day_start: Option<DayStart>,
    /// Set when the breaker tripped at this close (once per day).
    pub trip: Option<BreakerTrip>,
}

impl BreakerEvent {
    /// True when the breaker tripped at this close: close everything at the next open.
    pub fn tripped_now(&self) -> bool {
        self.trip.is_some()
    }
}

/// The daily loss breaker of one agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyBreaker {
    max_daily_loss: Decimal,
    state: BreakerState,
    /// `(1 - max_daily_loss) * day_open_equity`, kept with the day's opening equity.
    threshold: Decimal,
}

impl DailyBreaker {
    /// A breaker that has seen no close yet; `max_daily_loss` is a fraction in (0, 1] (0.20),
    /// `starting_equity` the opening equity of the first day. Values outside (0, 1] are not
    /// refused here (see `FuturesRiskParams::validate`): 0 trips on any loss, above 1 only on
    /// negative equity.
    pub fn new(max_daily_loss: Decimal, starting_equity: Decimal) -> Self {
        let state = BreakerState {
            day: None,
            day_open_equity: starting_equity,
            last_equity: starting_equity,
            tripped_day: None,
        };
        Self::restore(max_daily_loss, state)
    }

    /// A breaker continuing from a persisted state (with the current configuration's limit).
    pub fn restore(max_daily_loss: Decimal, state: BreakerState) -> Self {
        let threshold = Self::threshold_of(max_daily_loss, state.day_open_equity);
        Self { max_daily_loss, state, threshold }
    }

    fn threshold_of(max_daily_loss: Decimal, day_open_equity: Decimal) -> Decimal {
        Decimal::ONE.saturating_sub(max_daily_loss).saturating_mul(day_open_equity)
    }

    /// The state to persist.
    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// The configured maximum daily loss fraction.
    pub fn max_daily_loss(&self) -> Decimal {
        self.max_daily_loss
    }

    /// UTC day of the latest close seen, if any.
    pub fn day(&self) -> Option<i64> {
        self.state.day
    }

    /// Opening equity of the current day.
    pub fn day_open_equity(&self) -> Decimal {
        self.state.day_open_equity
    }

    /// The day the breaker last tripped on, if ever.
    pub fn tripped_day(&self) -> Option<i64> {
        self.state.tripped_day
    }

    /// The equity at or below which the current day trips: `(1 - max_daily_loss) * open`
    /// (saturating at the limits of `Decimal`).
    pub fn threshold(&self) -> Decimal {
        self.threshold
    }

    /// Feeds the marked equity at a bar close at `close_time_ms` (bar open + interval).
    ///
    /// A close on a later day than the latest one starts that day with the latest equity seen
    /// as its opening equity (and clears an older trip). A close on an earlier day than the
    /// latest (out-of-order input) does not move the day back: it is judged against the current
    /// day. Then, unless already tripped today, `equity <= threshold()` trips the breaker.
    pub fn on_close(&mut self, close_time_ms: i64, equity: Decimal) -> BreakerEvent {
        let close_day = utc_day_of_close(close_time_ms);
        let mut event = BreakerEvent::default();
        let day = match self.state.day {
            Some(current) if close_day <= current => current,
            previous => {
                if previous.is_some() {
                    self.state.day_open_equity = self.state.last_equity;
                    self.threshold = Self::threshold_of(self.max_daily_loss, self.state.day_open_equity);
                }
                self.state.day = Some(close_day);
                let cleared_trip = self.state.tripped_day.is_some_and(|tripped| tripped < close_day);
                event.day_start =
                    Some(DayStart { day: close_day, open_equity: self.state.day_open_equity, cleared_trip });
                close_day
            }
        };
        self.state.last_equity = equity;
        if self.state.tripped_day != Some(day) {
            let threshold = self.threshold();
            if equity <= threshold {
                self.state.tripped_day = Some(day);
                let day_open_equity = self.state.day_open_equity;
                event.trip = Some(BreakerTrip { day, equity, day_open_equity, threshold });
            }
        }
        event
    }

    /// True when entries decided at a close at `close_time_ms` are blocked: the breaker tripped on
    /// that close's UTC day.
    pub fn is_tripped(&self, close_time_ms: i64) -> bool {
        self.state.tripped_day == Some(utc_day_of_close(close_time_ms))
    }

    /// Approves an entry decided at a close at `close_time_ms`, or refuses it with
    /// `BreakerTripped { until_day }` while the breaker blocks that day.
    pub fn check_entry(&self, close_time_ms: i64) -> Decision<()> {
        match self.state.tripped_day {
            Some(day) if self.is_tripped(close_time_ms) => {
                Decision::refused(Refusal::BreakerTripped { until_day: day.saturating_add(1) })
            }
            _ => Decision::Approved(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::day::MS_PER_DAY;
    use rust_decimal_macros::dec;

    const HOUR: i64 = 3_600_000;
    /// 2024-01-01 00:00 UTC, day 19723.
    const D0: i64 = 1_704_067_200_000;
    const DAY0: i64 = 19_723;

    /// Close time of the 1 h bar that opens `hours` after 2024-01-01 00:00.
    fn close(hours: i64) -> i64 {
        D0 + (hours + 1) * HOUR
    }

    #[test]
    fn trips_at_the_threshold_not_above() {
        // (equity at the first close, tripped?) with opening equity 10,000 and a 20 % limit.
        let cases = [(dec!(8000.01), false), (dec!(8000), true), (dec!(7999.99), true), (dec!(-5), true)];
        for (equity, want) in cases {
            let mut breaker = DailyBreaker::new(dec!(0.20), dec!(10000));
            let event = breaker.on_close(close(0), equity);
            assert_eq!(event.tripped_now(), want, "equity {equity}");
            assert_eq!(breaker.is_tripped(close(1)), want, "equity {equity}");
            if let Some(trip) = event.trip {
                assert_eq!(
                    (trip.day, trip.threshold, trip.day_open_equity),
                    (DAY0, dec!(8000.00), dec!(10000))
                );
            }
        }
    }

    #[test]
    fn stays_tripped_for_the_day_and_resets_the_next() {
        let mut breaker = DailyBreaker::new(dec!(0.20), dec!(10000));
        assert_eq!(
            breaker.on_close(close(0), dec!(10000)).day_start,
            Some(DayStart { day: DAY0, open_equity: dec!(10000), cleared_trip: false })
        );
        assert!(breaker.on_close(close(5), dec!(7900)).trip.is_some());
        // Recovering above the threshold the same day does not clear it, and it trips once.
        assert_eq!(breaker.on_close(close(6), dec!(9500)), BreakerEvent::default());
        assert!(breaker.is_tripped(close(6)));
        assert_eq!(
            breaker.check_entry(close(6)).refusal(),
            Some(&Refusal::BreakerTripped { until_day: DAY0 + 1 })
        );
        // The 23:00 bar closes at 00:00: still the tripped day; its equity opens the next day.
        assert_eq!(breaker.on_close(close(23), dec!(7000)), BreakerEvent::default());
        assert!(breaker.is_tripped(close(23)));
        let event = breaker.on_close(close(24), dec!(7000));
        assert_eq!(
            event.day_start,
            Some(DayStart { day: DAY0 + 1, open_equity: dec!(7000), cleared_trip: true })
        );
        assert_eq!(event.trip, None);
        assert!(!breaker.is_tripped(close(24)));
        assert!(breaker.check_entry(close(24)).is_approved());
        assert_eq!(breaker.threshold(), dec!(5600.00));
        // 5,600 = 0.8 x 7,000 trips again on the new day.
        assert_eq!(breaker.on_close(close(30), dec!(5600)).trip.map(|t| t.day), Some(DAY0 + 1));
    }

    #[test]
    fn first_close_of_a_day_can_trip() {
        let mut breaker = DailyBreaker::new(dec!(0.20), dec!(10000));
        breaker.on_close(close(23), dec!(10000));
        let event = breaker.on_close(close(24), dec!(7999));
        assert_eq!(event.day_start.map(|d| d.open_equity), Some(dec!(10000)));
        assert_eq!(event.trip.map(|t| t.day), Some(DAY0 + 1));
    }

    #[test]
    fn multi_day_gap_opens_with_the_last_equity_seen() {
        let mut breaker = DailyBreaker::new(dec!(0.20), dec!(10000));
        breaker.on_close(close(2), dec!(9000));
        assert!(breaker.on_close(close(3), dec!(7999)).trip.is_some());
        breaker.on_close(close(10), dec!(8500));
        // Next data three days later.
        let event = breaker.on_close(close(3 * 24 + 4), dec!(8000));
        assert_eq!(
            event.day_start,
            Some(DayStart { day: DAY0 + 3, open_equity: dec!(8500), cleared_trip: true })
        );
        assert_eq!(event.trip, None);
        assert!(!breaker.is_tripped(close(3 * 24 + 4)));
        assert!(!breaker.is_tripped(close(24)), "a day without data is not tripped either");
    }

    #[test]
    fn out_of_order_close_stays_on_the_current_day() {
        let mut breaker = DailyBreaker::new(dec!(0.20), dec!(10000));
        breaker.on_close(close(30), dec!(10000));
        let event = breaker.on_close(close(2), dec!(7000));
        assert_eq!(event.day_start, None);
        assert_eq!(event.trip.map(|t| t.day), Some(DAY0 + 1));
    }

    #[test]
    fn state_round_trips_through_serde() {
        let mut breaker = DailyBreaker::new(dec!(0.20), dec!(10000));
        breaker.on_close(close(1), dec!(9000));
        breaker.on_close(close(2), dec!(7500));
        let json = serde_json::to_string(&breaker.state()).unwrap();
        let restored = DailyBreaker::restore(dec!(0.20), serde_json::from_str(&json).unwrap());
        assert_eq!(restored, breaker);
        assert_eq!((restored.day(), restored.tripped_day()), (Some(DAY0), Some(DAY0)));
        assert_eq!(restored.day_open_equity(), dec!(10000));
        assert!(restored.is_tripped(D0 + MS_PER_DAY));
        assert!(!restored.is_tripped(D0 + MS_PER_DAY + 1));
    }
}
