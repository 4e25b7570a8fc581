//! Rate limits (PROTOCOL.md §6, §11.4): request weight per minute per IP (every client is
//! 127.0.0.1, so one counter per product), order counts per 10 seconds and per minute per account.
//! Going over answers 429 with `Retry-After` (seconds to the end of the window), and so does every
//! further request of that window; whoever keeps sending while limited is banned with 418 for
//! `ban_seconds` after `ban_after` more requests.
//! Windows are fixed wall-clock windows, as Binance's counters reset on the minute.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::api_error::ApiError;
use crate::catalog::Venue;
use crate::config::LimitConfig;

/// The weight counter, limit and ban of one product (spot and USD-M are separate hosts).
#[derive(Debug, Default, Clone, Copy)]
struct Weight {
    used: u64,
    strikes: u64,
    limited_until: i64,
    banned_until: i64,
}

#[derive(Debug, Default)]
struct State {
    minute: i64,
    spot: Weight,
    futures: Weight,
    orders: HashMap<usize, OrderCounts>,
}

#[derive(Debug, Default, Clone, Copy)]
struct OrderCounts {
    window_10s: i64,
    count_10s: u64,
    minute: i64,
    count_1m: u64,
}

/// Request-weight and order-rate counters.
#[derive(Debug)]
pub struct Limiter {
    config: LimitConfig,
    state: Mutex<State>,
}

fn seconds_until(now_ms: i64, until_ms: i64) -> u64 {
    u64::try_from((until_ms - now_ms + 999) / 1000).unwrap_or(0).max(1)
}

impl Limiter {
    /// Counters with `config`'s limits.
    pub fn new(config: LimitConfig) -> Self {
        Self { config, state: Mutex::new(State::default()) }
    }

    /// Counts a request of `weight` on `venue` at wall time `now_ms`; returns the weight used this
    /// minute.
    ///
    /// # Errors
    /// 418 while banned; 429 with -1003 over the limit (and 418 once past `ban_after` strikes).
    pub fn admit(&self, venue: Venue, weight: u64, now_ms: i64) -> Result<u64, ApiError> {
        let Ok(mut s) = self.state.lock() else { return Ok(0) };
        let minute = now_ms.div_euclid(60_000);
        if minute != s.minute {
            s.minute = minute;
            s.spot.used = 0;
            s.futures.used = 0;
        }
        let limit = match venue {
            Venue::Spot => self.config.spot_weight_per_minute,
            Venue::Futures => self.config.futures_weight_per_minute,
        };
        let w = match venue {
            Venue::Spot => &mut s.spot,
            Venue::Futures => &mut s.futures,
        };
        if w.banned_until > now_ms {
            return Err(ApiError::banned(w.banned_until, seconds_until(now_ms, w.banned_until)));
        }
        if w.limited_until <= now_ms {
            w.strikes = 0;
        }
        // Once over the limit, every request of the window is refused and counts as a strike.
        if w.used + weight > limit || w.limited_until > now_ms {
            let window_end = (minute + 1) * 60_000;
            w.limited_until = w.limited_until.max(window_end);
            w.strikes += 1;
            if w.strikes > self.config.ban_after {
                let seconds = i64::try_from(self.config.ban_seconds).unwrap_or(120);
                w.banned_until = now_ms + seconds * 1000;
                return Err(ApiError::banned(w.banned_until, seconds_until(now_ms, w.banned_until)));
            }
            return Err(ApiError::too_many_requests(limit, seconds_until(now_ms, window_end)));
        }
        w.used += weight;
        Ok(w.used)
    }

    /// The weight used this minute on `venue`.
    pub fn used(&self, venue: Venue, now_ms: i64) -> u64 {
        let Ok(s) = self.state.lock() else { return 0 };
        if s.minute != now_ms.div_euclid(60_000) {
            return 0;
        }
        match venue {
            Venue::Spot => s.spot.used,
            Venue::Futures => s.futures.used,
        }
    }

    /// Counts a new order of `account`; returns the counts of the 10-second and 1-minute windows.
    ///
    /// # Errors
    /// 429 with -1015 over either order limit.
    pub fn admit_order(&self, account: usize, now_ms: i64) -> Result<(u64, u64), ApiError> {
        let Ok(mut s) = self.state.lock() else { return Ok((0, 0)) };
        let counts = s.orders.entry(account).or_default();
        let (window, minute) = (now_ms.div_euclid(10_000), now_ms.div_euclid(60_000));
        if counts.window_10s != window {
            (counts.window_10s, counts.count_10s) = (window, 0);
        }
        if counts.minute != minute {
            (counts.minute, counts.count_1m) = (minute, 0);
        }
        if counts.count_10s >= self.config.orders_per_10s {
            return Err(ApiError::too_many_orders(
                self.config.orders_per_10s,
                "10s",
                seconds_until(now_ms, (window + 1) * 10_000),
            ));
        }
        if counts.count_1m >= self.config.orders_per_minute {
            return Err(ApiError::too_many_orders(
                self.config.orders_per_minute,
                "1m",
                seconds_until(now_ms, (minute + 1) * 60_000),
            ));
        }
        counts.count_10s += 1;
        counts.count_1m += 1;
        Ok((counts.count_10s, counts.count_1m))
    }

    /// Clears every counter, limit and ban (admin fault reset).
    pub fn reset(&self) {
        if let Ok(mut s) = self.state.lock() {
            *s = State::default();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter() -> Limiter {
        Limiter::new(LimitConfig {
            spot_weight_per_minute: 10,
            ban_after: 2,
            ban_seconds: 60,
            orders_per_10s: 2,
            ..LimitConfig::default()
        })
    }

    #[test]
    fn weight_limit_then_ban() {
        let l = limiter();
        let t = 1_000_000_040_000;
        assert_eq!(l.admit(Venue::Spot, 6, t), Ok(6));
        assert_eq!(l.admit(Venue::Futures, 6, t), Ok(6), "separate counters");
        let err = l.admit(Venue::Spot, 6, t).unwrap_err();
        assert_eq!((err.status, err.code, err.retry_after), (429, -1003, Some(40)));
        assert_eq!(l.admit(Venue::Spot, 6, t).unwrap_err().status, 429);
        let ban = l.admit(Venue::Spot, 1, t).unwrap_err();
        assert_eq!((ban.status, ban.retry_after), (418, Some(60)));
        assert_eq!(l.admit(Venue::Spot, 1, t + 61_000), Ok(1), "ban over, new minute");
        l.reset();
        assert_eq!(l.used(Venue::Spot, t), 0);
    }

    #[test]
    fn order_count_limit() {
        let l = limiter();
        let t = 1_000_000_000_000;
        assert_eq!(l.admit_order(0, t), Ok((1, 1)));
        assert_eq!(l.admit_order(0, t), Ok((2, 2)));
        assert_eq!(l.admit_order(0, t).unwrap_err().code, -1015);
        assert_eq!(l.admit_order(1, t), Ok((1, 1)), "per account");
        assert_eq!(l.admit_order(0, t + 10_000), Ok((1, 3)));
    }
}
