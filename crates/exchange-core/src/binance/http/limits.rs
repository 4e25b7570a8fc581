//! Request-weight budgeting (PROTOCOL.md §6): the decision, before each request, to send it now,
//! to wait, or to refuse because the venue told us to stop.
//!
//! Venue facts: the budget is per IP per minute (`REQUEST_WEIGHT` in exchangeInfo: 2400 on
//! USD-M, 6000 on spot); every answer carries the weight used so far in
//! `X-MBX-USED-WEIGHT-1M`; past the budget the venue answers 429 with `Retry-After`, and an IP
//! that keeps going is banned with 418 for 2 minutes to 3 days. USD-M order endpoints cost 0
//! weight.
//!
//! Policy: below 80% of the budget, go; between 80% and 95%, pace the remaining budget evenly
//! over the rest of the minute; at 95%, wait for the next minute. After a 429 no request is sent
//! until its `Retry-After` has passed; after a 418 none at all until the ban ends.

use std::time::{Duration, Instant};

use crate::venue::VenueError;

/// What to do with a request now.
#[derive(Debug)]
pub enum Gate {
    /// Send it.
    Go,
    /// Wait this long, then ask again.
    Wait(Duration),
    /// Do not send it: the venue said stop.
    Refuse(VenueError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    RateLimited,
    Banned,
}

const WINDOW_MS: i64 = 60_000;
const SOFT_PERCENT: u64 = 80;
const HARD_PERCENT: u64 = 95;

/// The weight used in the current minute and any block the venue imposed.
#[derive(Debug, Clone)]
pub struct WeightLimiter {
    limit: u32,
    used: u32,
    window: i64,
    blocked: Option<(Block, Instant)>,
}

impl WeightLimiter {
    /// A budget of `limit` weight per minute.
    pub fn new(limit: u32) -> Self {
        Self { limit: limit.max(1), used: 0, window: i64::MIN, blocked: None }
    }

    /// Replaces the budget (from exchangeInfo `rateLimits`).
    pub fn set_limit(&mut self, limit: u32) {
        self.limit = limit.max(1);
    }

    /// The budget per minute.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    fn used_at(&self, now_ms: i64) -> u32 {
        if now_ms.div_euclid(WINDOW_MS) == self.window { self.used } else { 0 }
    }

    /// The decision for a request of `weight` at `now` (monotonic) / `now_ms` (venue time).
    pub fn check(&self, weight: u32, now: Instant, now_ms: i64) -> Gate {
        if let Some((block, until)) = self.blocked
            && now < until
        {
            let retry_after = until - now;
            return Gate::Refuse(match block {
                Block::RateLimited => VenueError::RateLimited { retry_after },
                Block::Banned => VenueError::Banned { retry_after },
            });
        }
        if weight == 0 {
            return Gate::Go;
        }
        let used = u64::from(self.used_at(now_ms));
        let after = used + u64::from(weight);
        let limit = u64::from(self.limit);
        let hard = limit * HARD_PERCENT / 100;
        let until_next_window = WINDOW_MS - now_ms.rem_euclid(WINDOW_MS);
        let until_next = Duration::from_millis(u64::try_from(until_next_window).unwrap_or(0) + 50);
        if after > hard {
            Gate::Wait(until_next)
        } else if after > limit * SOFT_PERCENT / 100 {
            let slots = ((hard - used) / u64::from(weight)).max(1);
            Gate::Wait(until_next / u32::try_from(slots).unwrap_or(u32::MAX))
        } else {
            Gate::Go
        }
    }

    /// Counts `weight` as spent now (before the answer says how much was used).
    pub fn reserve(&mut self, weight: u32, now_ms: i64) {
        let window = now_ms.div_euclid(WINDOW_MS);
        if window != self.window {
            self.window = window;
            self.used = 0;
        }
        self.used = self.used.saturating_add(weight);
    }

    /// Takes the venue's count from `X-MBX-USED-WEIGHT-1M`.
    pub fn record_used(&mut self, used: u32, now_ms: i64) {
        self.window = now_ms.div_euclid(WINDOW_MS);
        self.used = used;
    }

    /// After a 429: nothing until `now + retry_after`.
    pub fn rate_limited(&mut self, now: Instant, retry_after: Duration) {
        self.extend_block(Block::RateLimited, now + retry_after);
    }

    /// After a 418: nothing at all until `now + retry_after`.
    pub fn banned(&mut self, now: Instant, retry_after: Duration) {
        self.extend_block(Block::Banned, now + retry_after);
    }

    fn extend_block(&mut self, block: Block, until: Instant) {
        let kind = match self.blocked {
            Some((Block::Banned, _)) => Block::Banned,
            _ => block,
        };
        let until = self.blocked.map_or(until, |(_, old)| old.max(until));
        self.blocked = Some((kind, until));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(limiter: &WeightLimiter, weight: u32, at: Instant, ms: i64) -> String {
        match limiter.check(weight, at, ms) {
            Gate::Go => "go".into(),
            Gate::Wait(d) => format!("wait {}", d.as_millis()),
            Gate::Refuse(VenueError::RateLimited { retry_after }) => format!("429 {}", retry_after.as_secs()),
            Gate::Refuse(VenueError::Banned { retry_after }) => format!("418 {}", retry_after.as_secs()),
            Gate::Refuse(other) => format!("{other}"),
        }
    }

    #[test]
    fn weight_decisions_table() {
        let now = Instant::now();
        // 10 s into a minute: 50 s (+50 ms) left in the window.
        let ms = 60_000 * 1000 + 10_000;
        // (used, weight, decision)
        let cases = [
            (0, 1, "go"),
            (1900, 20, "go"),         // 1920 = 80%: still go
            (1910, 20, "wait 2780"),  // 1930 > 80%: pace (2280 - 1910) / 20 = 18 slots over 50.05 s
            (2270, 10, "wait 50050"), // 2280 = 95%: pace one slot, the rest of the window
            (2280, 1, "wait 50050"),  // over 95%: next minute
            (2400, 0, "go"),          // zero-weight order endpoints are never held back
        ];
        for (used, weight, want) in cases {
            let mut limiter = WeightLimiter::new(2400);
            limiter.record_used(used, ms);
            assert_eq!(gate(&limiter, weight, now, ms), want, "used {used} weight {weight}");
        }
        let mut limiter = WeightLimiter::new(2400);
        limiter.record_used(2300, ms);
        assert_eq!(gate(&limiter, 5, now, ms + 60_000), "go", "a new minute starts from zero");
    }

    #[test]
    fn blocks_refuse_everything_until_they_end() {
        let now = Instant::now();
        let mut limiter = WeightLimiter::new(6000);
        limiter.rate_limited(now, Duration::from_secs(3));
        assert_eq!(gate(&limiter, 0, now, 0), "429 3");
        assert_eq!(gate(&limiter, 1, now + Duration::from_secs(3), 0), "go");
        limiter.banned(now, Duration::from_secs(120));
        limiter.rate_limited(now, Duration::from_secs(1));
        assert_eq!(gate(&limiter, 0, now + Duration::from_secs(10), 0), "418 110", "a ban is not shortened");
        limiter.reserve(5, 0);
        limiter.reserve(5, 0);
        limiter.set_limit(0);
        assert_eq!(limiter.limit(), 1);
    }
}
