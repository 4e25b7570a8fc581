//! Request signing for every venue, and the secrets it needs (PROTOCOL.md §1, §8.2, §8.5, §9, §10).
//!
//! All four venues authenticate with `hex(HMAC_SHA256(secret, payload))`; they differ only in what the
//! payload is, and each venue module owns that rule:
//! - [`binance`]: REST signs `query + body` with no separator; the WebSocket API signs its params
//!   sorted by name (§1.1–§1.4).
//! - [`bybit`]: `timestamp + apiKey + recvWindow + payload`; WebSocket auth `GET/realtime + expires` (§8.2, §8.5).
//! - [`bitmex`]: `VERB + path?query + expires + body`; WebSocket auth `GET/realtime + expires` (§9).
//! - [`deribit`]: `timestamp \n nonce \n data` for `client_signature`, and the HTTP header form (§10).
//!
//! Signatures are produced as lowercase hex. Binance treats the hex as case-insensitive (§1.1), so
//! [`verify_hmac_sha256_hex`], the server-side check used by the exchange simulator, accepts either
//! case and compares in constant time. RSA and Ed25519 keys (§1.5) are not supported here.

pub mod binance;
pub mod bitmex;
pub mod bybit;
pub mod deribit;
mod secret;

pub use secret::{ApiCredentials, Secret, SecretError};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Lowercase hex HMAC-SHA256 of `payload`, keyed with `secret`.
pub fn hmac_sha256_hex(secret: &Secret, payload: &[u8]) -> String {
    hmac_sha256_hex_of_parts(secret, &[payload])
}

/// Checks `signature_hex` (either case) against the HMAC-SHA256 of `payload` keyed with `secret`.
///
/// The comparison of the decoded bytes is constant-time (`Mac::verify_slice`); only the hex decoding
/// of the caller-supplied signature depends on its content. Returns `false` for invalid hex, a wrong
/// length or a mismatch.
pub fn verify_hmac_sha256_hex(secret: &Secret, payload: &[u8], signature_hex: &str) -> bool {
    let Ok(signature) = hex::decode(signature_hex) else {
        return false;
    };
    let mut mac = keyed_mac(secret);
    mac.update(payload);
    mac.verify_slice(&signature).is_ok()
}

/// Lowercase hex HMAC-SHA256 of the concatenation of `parts`, without building the concatenation.
pub(crate) fn hmac_sha256_hex_of_parts(secret: &Secret, parts: &[&[u8]]) -> String {
    let mut mac = keyed_mac(secret);
    for part in parts {
        mac.update(part);
    }
    hex::encode(mac.finalize().into_bytes())
}

fn keyed_mac(secret: &Secret) -> HmacSha256 {
    match HmacSha256::new_from_slice(secret.expose().as_bytes()) {
        Ok(mac) => mac,
        // Invariant: HMAC takes keys of any length (longer keys are hashed, shorter ones zero-padded,
        // RFC 2104 §2), and `Hmac<D>::new_from_slice` in hmac 0.13 always returns `Ok`, so this arm
        // cannot be reached.
        Err(_) => unreachable!("HMAC-SHA256 accepts keys of any length"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(value: &str) -> Secret {
        Secret::new(value.to_owned())
    }

    #[test]
    fn hmac_matches_rfc_4231_test_case_2() {
        let signature = hmac_sha256_hex(&secret("Jefe"), b"what do ya want for nothing?");
        assert_eq!(signature, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn parts_sign_the_same_bytes_as_the_concatenation() {
        let key = secret("k");
        assert_eq!(hmac_sha256_hex_of_parts(&key, &[b"ab", b"", b"cd"]), hmac_sha256_hex(&key, b"abcd"));
    }

    #[test]
    fn verify_accepts_and_rejects() {
        let key = secret("Jefe");
        let payload = b"what do ya want for nothing?";
        let good = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        let cases: &[(&str, &str, bool)] = &[
            ("lowercase hex", good, true),
            ("uppercase hex", "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843", true),
            (
                "last character changed",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3842",
                false,
            ),
            (
                "first character changed",
                "6bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
                false,
            ),
            ("not hex", "zbdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", false),
            ("odd length", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec384", false),
            (
                "truncated to 31 bytes",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec38",
                false,
            ),
            ("surrounding space", " 5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", false),
            ("empty", "", false),
        ];
        for &(name, signature, expected) in cases {
            assert_eq!(verify_hmac_sha256_hex(&key, payload, signature), expected, "{name}");
        }
        assert!(!verify_hmac_sha256_hex(&secret("jefe"), payload, good), "other secret");
        assert!(!verify_hmac_sha256_hex(&key, b"what do ya want for nothing!", good), "other payload");
    }
}
