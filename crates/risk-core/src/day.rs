//! UTC calendar days from event time, and which day a bar close belongs to. Days are counted
//! from 1970-01-01 (day 0); times are milliseconds since the Unix epoch, UTC.
//!
//! A bar is stamped by its open time and closes at `open + interval`. A close at exactly
//! 00:00:00.000 (the 23:00-24:00 bar of a 1 h series) belongs to the day that is ending: the day
//! of a close at `T` is the day of `T - 1 ms`. So "the last close before 00:00 UTC" that opens a
//! new day (DESIGN §10 rule 8) is the close of the day's final bar, stamped 00:00 of the next day.
//! The breaker takes close times and uses [`utc_day_of_close`]; the metrics take equity points
//! stamped with the bar's open time and use [`utc_day`]. Both put a bar in the same day.

/// Milliseconds in a UTC day.
pub const MS_PER_DAY: i64 = 86_400_000;

/// The UTC day of an instant: `time_ms.div_euclid(86_400_000)`.
pub fn utc_day(time_ms: i64) -> i64 {
    time_ms.div_euclid(MS_PER_DAY)
}

/// The UTC day a bar close at `close_time_ms` belongs to: the day of `close_time_ms - 1 ms`.
pub fn utc_day_of_close(close_time_ms: i64) -> i64 {
    utc_day(close_time_ms.saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_at_midnight_belongs_to_the_ending_day() {
        let jan_1_2024 = 1_704_067_200_000; // 19723 days after the epoch
        let hour = 3_600_000;
        // (time, day of the instant, day of a close at that time)
        let cases = [
            (jan_1_2024 - hour, 19_722, 19_722),
            (jan_1_2024 - 1, 19_722, 19_722),
            (jan_1_2024, 19_723, 19_722),
            (jan_1_2024 + 1, 19_723, 19_723),
            (jan_1_2024 + hour, 19_723, 19_723),
            (0, 0, -1),
            (-1, -1, -1),
            (i64::MIN, i64::MIN.div_euclid(MS_PER_DAY), i64::MIN.div_euclid(MS_PER_DAY)),
        ];
        for (time, day, close_day) in cases {
            assert_eq!((utc_day(time), utc_day_of_close(time)), (day, close_day), "time {time}");
        }
    }
}
