//! The reconnect delay schedule: exponential from a base to a cap, with "equal jitter" (half
//! the delay fixed, half random) so that many clients dropped at once do not reconnect in step.
//! Binance allows 300 connection attempts per 5 minutes per IP on spot (PROTOCOL.md §4.1).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Reconnect delays: `base * 2^n` capped at `max`, jittered to `[d/2, d]`.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    attempt: u32,
    state: u64,
}

impl Backoff {
    /// A schedule with a random seed.
    pub fn new(base: Duration, max: Duration) -> Self {
        let seed = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0x9E37_79B9, |d| d.as_nanos() as u64);
        Self::with_seed(base, max, seed)
    }

    /// A schedule with a fixed seed (tests).
    pub fn with_seed(base: Duration, max: Duration, seed: u64) -> Self {
        Self { base, max: max.max(base), attempt: 0, state: seed }
    }

    /// splitmix64.
    fn next_random(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// The un-jittered delay of the next attempt.
    pub fn ceiling(&self) -> Duration {
        let factor = 2u32.saturating_pow(self.attempt.min(31));
        self.base.saturating_mul(factor).min(self.max)
    }

    /// The delay before the next attempt.
    pub fn next_delay(&mut self) -> Duration {
        let ceiling = self.ceiling();
        self.attempt = self.attempt.saturating_add(1);
        let half = ceiling / 2;
        let span = u64::try_from((ceiling - half).as_micros()).unwrap_or(u64::MAX);
        let jitter = if span == 0 { 0 } else { self.next_random() % (span + 1) };
        half + Duration::from_micros(jitter)
    }

    /// Back to the base delay (after a connection that worked).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_doubles_to_the_cap_with_bounded_jitter() {
        let ms = Duration::from_millis;
        let mut backoff = Backoff::with_seed(ms(250), ms(4_000), 42);
        let ceilings = [250, 500, 1_000, 2_000, 4_000, 4_000, 4_000];
        for ceiling in ceilings {
            assert_eq!(backoff.ceiling(), ms(ceiling));
            let delay = backoff.next_delay();
            assert!(delay >= ms(ceiling) / 2 && delay <= ms(ceiling), "{delay:?} for ceiling {ceiling}");
        }
        backoff.reset();
        assert_eq!(backoff.ceiling(), ms(250));
    }

    #[test]
    fn jitter_spreads_and_is_seeded() {
        let ms = Duration::from_millis;
        let delays = |seed| {
            let mut b = Backoff::with_seed(ms(1_000), ms(1_000), seed);
            (0..20).map(|_| b.next_delay()).collect::<Vec<_>>()
        };
        assert_eq!(delays(7), delays(7), "same seed, same schedule");
        let a = delays(7);
        assert!(a.iter().any(|d| *d != a[0]), "jitter varies the delays");
        let mut huge = Backoff::with_seed(ms(1), Duration::MAX, 1);
        for _ in 0..100 {
            let _ = huge.next_delay();
        }
        assert_eq!(Backoff::with_seed(ms(5), ms(1), 0).ceiling(), ms(5), "cap below base is raised to base");
    }
}
