//! Faults injected on demand through the admin API (DESIGN §5): 5xx answers at a rate, bursts of
//! 429 and 418, added latency, a skewed server clock, orders that are placed but not answered (503
//! "Unknown error..." or no answer at all), requests to one path lost on the way (held, never
//! executed, never answered), WebSocket drops, and listenKey expiry. Partial fills live
//! in the engine; WebSocket drops and listenKey expiry are one-shot actions, not state.

use std::sync::Mutex;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// How an unanswered order is (not) answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Unanswered {
    /// 503 "Unknown error, please check your request or try again later." after placing the order.
    Status503,
    /// No answer: the connection is held, then closed without a response.
    Hang,
}

/// The fault settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaultState {
    /// Share of REST requests answered 503 "Service Unavailable." without doing anything.
    pub error_rate: f64,
    /// The next N REST requests get 429.
    pub burst_429: u32,
    /// The next N REST requests get 418.
    pub burst_418: u32,
    /// `Retry-After` of the bursts, seconds.
    pub retry_after: u64,
    /// Added delay before every REST answer, ms.
    pub latency_ms: u64,
    /// Offset of the server's wall clock (serverTime and recvWindow checks), ms.
    pub clock_skew_ms: i64,
    /// The next N orders are placed but not answered.
    pub unanswered_orders: u32,
    /// How they are not answered.
    pub unanswered_mode: Unanswered,
    /// How long a hung or stalled request is held before its connection is closed, ms.
    pub hang_ms: u64,
    /// Requests to this path (`/fapi/v1/algoOrder`) are stalled: held for `hang_ms`, never
    /// executed, then closed without an answer.
    pub stall_path: Option<String>,
    /// Only requests with this method (`POST`) are stalled; any method when unset.
    pub stall_method: Option<String>,
}

impl Default for FaultState {
    fn default() -> Self {
        Self {
            error_rate: 0.0,
            burst_429: 0,
            burst_418: 0,
            retry_after: 1,
            latency_ms: 0,
            clock_skew_ms: 0,
            unanswered_orders: 0,
            unanswered_mode: Unanswered::Status503,
            hang_ms: 30_000,
            stall_path: None,
            stall_method: None,
        }
    }
}

/// What the fault state says about one request, decided before it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Answer 429 with this `Retry-After`.
    TooMany(u64),
    /// Answer 418 with this `Retry-After`.
    Banned(u64),
    /// Answer 503 "Service Unavailable." without running the request.
    Unavailable,
    /// Run normally.
    Pass,
}

/// Shared fault settings.
#[derive(Debug)]
pub struct Faults {
    state: Mutex<(FaultState, ChaCha8Rng)>,
}

impl Faults {
    /// No faults; `seed` drives the random error rate.
    pub fn new(seed: u64) -> Self {
        Self { state: Mutex::new((FaultState::default(), ChaCha8Rng::seed_from_u64(seed ^ 0xFA17))) }
    }

    /// A copy of the settings.
    pub fn get(&self) -> FaultState {
        self.state.lock().map(|s| s.0.clone()).unwrap_or_default()
    }

    /// Changes the settings.
    pub fn update(&self, change: impl FnOnce(&mut FaultState)) {
        if let Ok(mut s) = self.state.lock() {
            change(&mut s.0);
        }
    }

    /// Back to no faults.
    pub fn reset(&self) {
        self.update(|s| *s = FaultState::default());
    }

    /// The clock skew, ms.
    pub fn skew_ms(&self) -> i64 {
        self.state.lock().map(|s| s.0.clock_skew_ms).unwrap_or(0)
    }

    /// Decides the fate of one REST request (consuming a burst slot if one applies).
    pub fn verdict(&self) -> Verdict {
        let Ok(mut guard) = self.state.lock() else { return Verdict::Pass };
        let (state, rng) = &mut *guard;
        if state.burst_418 > 0 {
            state.burst_418 -= 1;
            return Verdict::Banned(state.retry_after);
        }
        if state.burst_429 > 0 {
            state.burst_429 -= 1;
            return Verdict::TooMany(state.retry_after);
        }
        if state.error_rate > 0.0 && rng.random::<f64>() < state.error_rate {
            return Verdict::Unavailable;
        }
        Verdict::Pass
    }

    /// True (consuming one) if this order is to go unanswered; with its mode and hang time.
    pub fn take_unanswered(&self) -> Option<(Unanswered, u64)> {
        let Ok(mut guard) = self.state.lock() else { return None };
        let state = &mut guard.0;
        (state.unanswered_orders > 0).then(|| {
            state.unanswered_orders -= 1;
            (state.unanswered_mode, state.hang_ms)
        })
    }

    /// How long to hold a request of `method` to `path` without executing it, when the stall
    /// fault covers it.
    pub fn stall_ms(&self, method: &str, path: &str) -> Option<u64> {
        let guard = self.state.lock().ok()?;
        let state = &guard.0;
        let path_matches = state.stall_path.as_deref() == Some(path);
        let method_matches = state.stall_method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method));
        (path_matches && method_matches).then_some(state.hang_ms)
    }

    /// The added latency, ms.
    pub fn latency_ms(&self) -> u64 {
        self.state.lock().map(|s| s.0.latency_ms).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_are_consumed_in_order() {
        let faults = Faults::new(1);
        faults.update(|s| {
            s.burst_429 = 1;
            s.burst_418 = 1;
            s.retry_after = 3;
        });
        assert_eq!(faults.verdict(), Verdict::Banned(3));
        assert_eq!(faults.verdict(), Verdict::TooMany(3));
        assert_eq!(faults.verdict(), Verdict::Pass);
        faults.update(|s| s.error_rate = 1.0);
        assert_eq!(faults.verdict(), Verdict::Unavailable);
        faults.update(|s| s.unanswered_orders = 1);
        assert_eq!(faults.take_unanswered(), Some((Unanswered::Status503, 30_000)));
        assert_eq!(faults.take_unanswered(), None);
        faults.reset();
        assert_eq!(faults.verdict(), Verdict::Pass);
    }

    #[test]
    fn a_stall_covers_only_its_path_and_method() {
        let faults = Faults::new(1);
        assert_eq!(faults.stall_ms("POST", "/fapi/v1/algoOrder"), None);
        faults.update(|s| {
            s.stall_path = Some("/fapi/v1/algoOrder".into());
            s.stall_method = Some("POST".into());
            s.hang_ms = 5_000;
        });
        assert_eq!(faults.stall_ms("POST", "/fapi/v1/algoOrder"), Some(5_000));
        assert_eq!(faults.stall_ms("GET", "/fapi/v1/algoOrder"), None, "queries still pass");
        assert_eq!(faults.stall_ms("POST", "/fapi/v1/order"), None, "other paths pass");
        faults.update(|s| s.stall_method = None);
        assert_eq!(faults.stall_ms("GET", "/fapi/v1/algoOrder"), Some(5_000), "no method: every method");
        faults.reset();
        assert_eq!(faults.stall_ms("POST", "/fapi/v1/algoOrder"), None);
    }
}
