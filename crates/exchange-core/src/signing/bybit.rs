//! Bybit v5 HMAC signing: REST requests and private WebSocket auth (PROTOCOL.md §8.2, §8.5).
//!
//! Venue facts this depends on:
//! - REST headers: `X-BAPI-API-KEY`, `X-BAPI-TIMESTAMP` (UTC ms), `X-BAPI-SIGN`, optional
//!   `X-BAPI-RECV-WINDOW` (ms, default 5000). The signed string is
//!   `timestamp + apiKey + recvWindow + payload`, where payload is the query string for GET and the raw
//!   JSON body for POST, **byte-identical** to what is sent (no sorting, whitespace kept) (§8.2).
//! - Accepted when `server_time − recv_window <= timestamp < server_time + 1000`; otherwise `10002`;
//!   a bad signature is `10004` (§8.2).
//! - Private WebSocket auth signs `"GET/realtime" + expires` with `expires` a future **millisecond**
//!   timestamp, sent as `{"op":"auth","args":[apiKey, expires, signature]}` (§8.5).
//! - The docs' own example signatures (`410e0f38…`, `f0da7197…`) cannot be reproduced (the secret is not
//!   published); the tests use self-computed vectors over the docs' plaintexts.

use super::{Secret, hmac_sha256_hex_of_parts};

/// Signs a v5 REST request: HMAC-SHA256 hex of `timestamp_ms + api_key + recv_window_ms + payload`.
///
/// `payload` is the query string (without `?`) for GET, or the raw JSON body for POST, exactly as sent.
pub fn sign_v5(
    secret: &Secret,
    timestamp_ms: u64,
    api_key: &str,
    recv_window_ms: u64,
    payload: &str,
) -> String {
    let timestamp = timestamp_ms.to_string();
    let recv_window = recv_window_ms.to_string();
    hmac_sha256_hex_of_parts(
        secret,
        &[timestamp.as_bytes(), api_key.as_bytes(), recv_window.as_bytes(), payload.as_bytes()],
    )
}

/// Signs the private WebSocket `auth` frame: HMAC-SHA256 hex of `"GET/realtime" + expires_ms`.
pub fn sign_ws_auth(secret: &Secret, expires_ms: u64) -> String {
    let expires = expires_ms.to_string();
    hmac_sha256_hex_of_parts(secret, &[b"GET/realtime", expires.as_bytes()])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::hmac_sha256_hex;

    /// Placeholder secret and API key of the docs' examples; the signatures are self-computed (§8.2).
    const SECRET: &str = "XXXXXXXXXX";
    const API_KEY: &str = "XXXXXXXXXX";

    fn secret() -> Secret {
        Secret::new(SECRET.to_owned())
    }

    #[test]
    fn rest_vectors() {
        let cases = [
            (
                "GET query string",
                1_658_384_314_791,
                "category=option&symbol=BTC-29JUL22-25000-C",
                "1658384314791XXXXXXXXXX5000category=option&symbol=BTC-29JUL22-25000-C",
                "c00720f96c5934ca7057ac28ae65b823f83b8b67a8fe784e7795ca0fa3c148ec",
            ),
            (
                "POST body with a space after the colon",
                1_658_385_579_423,
                r#"{"category": "option"}"#,
                r#"1658385579423XXXXXXXXXX5000{"category": "option"}"#,
                "fbb4648b585b3e62de2c4eaecc8f3b6066aa18e98cc300eaff4d87f15b55724a",
            ),
        ];
        for (name, timestamp_ms, payload, plaintext, signature) in cases {
            assert_eq!(sign_v5(&secret(), timestamp_ms, API_KEY, 5000, payload), signature, "{name}");
            assert_eq!(hmac_sha256_hex(&secret(), plaintext.as_bytes()), signature, "{name} plaintext");
        }
    }

    #[test]
    fn body_whitespace_is_signed() {
        let spaced = sign_v5(&secret(), 1_658_385_579_423, API_KEY, 5000, r#"{"category": "option"}"#);
        let compact = sign_v5(&secret(), 1_658_385_579_423, API_KEY, 5000, r#"{"category":"option"}"#);
        assert_ne!(spaced, compact);
    }

    #[test]
    fn ws_auth_vector() {
        assert_eq!(
            sign_ws_auth(&secret(), 1_662_350_400_000),
            "3d6cbbfa4569aab894f661add824ff3f06090d0edba388f1e47dc15e6a7b5a8b"
        );
    }
}
