//! listenKeys for the user-data streams (`POST/PUT/DELETE /fapi/v1/listenKey`, and the retired
//! spot `/api/v3/userDataStream`, kept for old clients). Validity is counted on the WALL clock
//! (60 minutes by default, extended by keepalive), because it is about connections, not trading.
//!
//! Binance facts (PROTOCOL.md §4.4): creating a key while one is valid returns the same key and
//! extends it; keepalive of an unknown or expired key is -1125; an expired key gets one
//! `listenKeyExpired` event and no more.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::api_error::ApiError;
use crate::catalog::Venue;

#[derive(Debug, Clone)]
struct Entry {
    account: usize,
    venue: Venue,
    expires: Instant,
}

/// The live listenKeys.
#[derive(Debug)]
pub struct ListenKeys {
    keys: HashMap<String, Entry>,
    validity: Duration,
    rng: ChaCha8Rng,
}

impl ListenKeys {
    /// Keys valid for `validity` after creation or keepalive; ids drawn from `seed`.
    pub fn new(validity: Duration, seed: u64) -> Self {
        Self { keys: HashMap::new(), validity, rng: ChaCha8Rng::seed_from_u64(seed ^ 0x5EED_11E7) }
    }

    fn fresh_key(&mut self) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..64)
            .map(|_| {
                char::from(ALPHABET.get(self.rng.random_range(0..ALPHABET.len())).copied().unwrap_or(b'A'))
            })
            .collect()
    }

    /// The key of `account` on `venue`: its valid key, extended, or a new one.
    pub fn create(&mut self, account: usize, venue: Venue, now: Instant) -> String {
        let expires = now + self.validity;
        let existing =
            self.keys.iter_mut().find(|(_, e)| e.account == account && e.venue == venue && e.expires > now);
        if let Some((key, entry)) = existing {
            entry.expires = expires;
            return key.clone();
        }
        let key = self.fresh_key();
        self.keys.insert(key.clone(), Entry { account, venue, expires });
        key
    }

    /// Extends `key` of `account` (the key may also be omitted: the account's key on `venue`).
    ///
    /// # Errors
    /// -1125 when the key does not exist, belongs to another account, or has expired.
    pub fn keepalive(
        &mut self,
        key: Option<&str>,
        account: usize,
        venue: Venue,
        now: Instant,
    ) -> Result<String, ApiError> {
        let validity = self.validity;
        let found = self.keys.iter_mut().find(|(k, e)| {
            key.is_none_or(|wanted| k.as_str() == wanted)
                && e.account == account
                && e.venue == venue
                && e.expires > now
        });
        match found {
            Some((key, entry)) => {
                entry.expires = now + validity;
                Ok(key.clone())
            }
            None => Err(ApiError::bad_listen_key()),
        }
    }

    /// Closes `key` (or the account's key on `venue`); closing an unknown key is not an error.
    pub fn close(&mut self, key: Option<&str>, account: usize, venue: Venue) {
        self.keys.retain(|k, e| {
            !(e.account == account && e.venue == venue && key.is_none_or(|wanted| k == wanted))
        });
    }

    /// The account and venue of a valid key.
    pub fn lookup(&self, key: &str, now: Instant) -> Option<(usize, Venue)> {
        self.keys.get(key).filter(|e| e.expires > now).map(|e| (e.account, e.venue))
    }

    /// Removes and returns the keys that expired by `now` (all of them with `force`).
    pub fn expire(&mut self, now: Instant, force: bool) -> Vec<(String, usize, Venue)> {
        let due: Vec<String> =
            self.keys.iter().filter(|(_, e)| force || e.expires <= now).map(|(k, _)| k.clone()).collect();
        due.into_iter().filter_map(|k| self.keys.remove(&k).map(|e| (k, e.account, e.venue))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_keepalive_expire() {
        let mut keys = ListenKeys::new(Duration::from_secs(60), 1);
        let t0 = Instant::now();
        let key = keys.create(0, Venue::Futures, t0);
        assert_eq!(key.len(), 64);
        assert_eq!(keys.create(0, Venue::Futures, t0 + Duration::from_secs(30)), key, "same key while valid");
        assert_ne!(keys.create(1, Venue::Futures, t0), key);
        assert!(keys.keepalive(Some(&key), 0, Venue::Futures, t0 + Duration::from_secs(80)).is_ok());
        assert_eq!(keys.keepalive(Some("nope"), 0, Venue::Futures, t0).unwrap_err().code, -1125);
        assert!(keys.expire(t0 + Duration::from_secs(100), false).iter().all(|(k, ..)| k != &key));
        let expired = keys.expire(t0 + Duration::from_secs(200), false);
        assert!(expired.iter().any(|(k, ..)| k == &key));
        assert!(keys.lookup(&key, t0).is_none());
    }
}
