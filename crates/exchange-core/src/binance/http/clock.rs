//! The offset between our clock and the venue's, from `GET /time` samples (PROTOCOL.md §1.1).
//!
//! Venue facts: a signed request is accepted when `timestamp < serverTime + 1000` and
//! `serverTime - timestamp <= recvWindow`; otherwise it is refused with `-1021`. The offset is
//! measured at start, re-measured periodically and after every `-1021`.
//!
//! Math: with the request sent at local time `t0`, answered with server time `s` and received at
//! `t1`, the server's clock read `s` at about the midpoint `(t0 + t1) / 2`, so
//! `offset = s - (t0 + t1) / 2` and a timestamp for local time `t` is `t + offset`. The error is at
//! most half the round trip.

use std::time::{Duration, Instant};

/// The estimated offset `server - local` in ms from one sample.
pub fn offset_from_sample(sent_local_ms: i64, server_ms: i64, received_local_ms: i64) -> i64 {
    // Midpoint without overflow: sent + (received - sent) / 2.
    let midpoint = sent_local_ms + (received_local_ms - sent_local_ms) / 2;
    server_ms - midpoint
}

/// The clock offset and when it was last measured.
#[derive(Debug, Clone)]
pub struct ClockSync {
    offset_ms: i64,
    synced_at: Option<Instant>,
    measured: bool,
    resync_every: Duration,
}

impl ClockSync {
    /// Not yet measured; re-measured every `resync_every` once measured.
    pub fn new(resync_every: Duration) -> Self {
        Self { offset_ms: 0, synced_at: None, measured: false, resync_every }
    }

    /// `server - local`, ms.
    pub fn offset_ms(&self) -> i64 {
        self.offset_ms
    }

    /// The venue timestamp for local time `local_ms`.
    pub fn timestamp(&self, local_ms: i64) -> i64 {
        local_ms + self.offset_ms
    }

    /// Records a sample taken at `now`.
    pub fn record(&mut self, sent_local_ms: i64, server_ms: i64, received_local_ms: i64, now: Instant) {
        self.offset_ms = offset_from_sample(sent_local_ms, server_ms, received_local_ms);
        self.synced_at = Some(now);
        self.measured = true;
    }

    /// True once any sample was recorded (an invalidated offset is still an estimate).
    pub fn is_measured(&self) -> bool {
        self.measured
    }

    /// Forgets the last sample, so the next signed request measures again (after a `-1021`).
    pub fn invalidate(&mut self) {
        self.synced_at = None;
    }

    /// True when never measured or the last sample is older than the resync period.
    pub fn needs_sync(&self, now: Instant) -> bool {
        self.synced_at.is_none_or(|at| now.saturating_duration_since(at) >= self.resync_every)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_table() {
        // (sent, server, received, offset)
        let cases = [
            (1_000, 1_000, 1_000, 0),
            (1_000, 6_050, 1_100, 5_000),    // server 5 s ahead, 100 ms round trip
            (10_000, 7_020, 10_040, -3_000), // server 3 s behind
            (0, 25, 50, 0),
            (i64::MAX - 10, i64::MAX - 5, i64::MAX, 0),
        ];
        for (sent, server, received, want) in cases {
            assert_eq!(offset_from_sample(sent, server, received), want, "{sent} {server} {received}");
        }
    }

    #[test]
    fn timestamps_and_resync() {
        let start = Instant::now();
        let mut clock = ClockSync::new(Duration::from_secs(60));
        assert!(clock.needs_sync(start));
        clock.record(1_000, 6_050, 1_100, start);
        assert_eq!(clock.timestamp(2_000), 7_000);
        assert!(!clock.needs_sync(start + Duration::from_secs(59)));
        assert!(clock.needs_sync(start + Duration::from_secs(60)));
        clock.invalidate();
        assert!(clock.needs_sync(start));
        assert!(clock.is_measured());
        assert_eq!(clock.offset_ms(), 5_000, "the old offset is kept until re-measured");
    }
}
