//! BitMEX HMAC signing: REST requests and WebSocket auth (PROTOCOL.md §9).
//!
//! Venue facts this depends on:
//! - Headers `api-key`, `api-expires` (UNIX **seconds** after which the request is invalid; the official
//!   REST connectors use now + 5 s) and `api-signature`.
//! - `api-signature = hex(HMAC_SHA256(secret, VERB + path + expires + data))`: VERB uppercase, path
//!   relative and **including the query string** (`/api/v1/instrument?filter=…`), data the exact raw
//!   body (compact JSON) or empty.
//! - WebSocket auth signs `"GET/realtime" + expires` (no data), sent as `api-expires` / `api-key` /
//!   `api-signature` query params or headers on connect.
//! - The three REST test vectors are official (bitmex.com/app/apiKeysUsage).

use super::{Secret, hmac_sha256_hex_of_parts};

/// Signs a REST request: HMAC-SHA256 hex of `VERB + path_with_query + expires_s + body`.
///
/// `verb` is upper-cased (`post` signs as `POST`); `path_with_query` starts at `/api/v1` and includes
/// the encoded query string as sent; `body` is the raw body or `""`.
pub fn sign(secret: &Secret, verb: &str, path_with_query: &str, expires_s: u64, body: &str) -> String {
    let verb = verb.to_ascii_uppercase();
    let expires = expires_s.to_string();
    hmac_sha256_hex_of_parts(
        secret,
        &[verb.as_bytes(), path_with_query.as_bytes(), expires.as_bytes(), body.as_bytes()],
    )
}

/// Signs the WebSocket connect auth: HMAC-SHA256 hex of `"GET/realtime" + expires_s`.
pub fn sign_ws_auth(secret: &Secret, expires_s: u64) -> String {
    sign(secret, "GET", "/realtime", expires_s, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "chNOOS4KvNXR_Xq4k4c9qsfoKWvnDecLATCRlcBwyKDYnWgO";

    fn secret() -> Secret {
        Secret::new(SECRET.to_owned())
    }

    #[test]
    fn rest_vectors() {
        let cases = [
            (
                "GET",
                "/api/v1/instrument",
                1_518_064_236,
                "",
                "c7682d435d0cfe87c16098df34ef2eb5a549d4c5a3c2b1f0f77b8af73423bf00",
            ),
            (
                "GET",
                "/api/v1/instrument?filter=%7B%22symbol%22%3A+%22XBTM15%22%7D",
                1_518_064_237,
                "",
                "e2f422547eecb5b3cb29ade2127e21b858b235b386bfa45e1c1756eb3383919f",
            ),
            (
                "POST",
                "/api/v1/order",
                1_518_064_238,
                r#"{"symbol":"XBTM15","price":219.0,"clOrdID":"mm_bitmex_1a/oemUeQ4CAJZgP3fjHsA","orderQty":98}"#,
                "1749cd2ccae4aa49048ae09f0b95110cee706e0944e6a14ad0b3a8cb45bd336b",
            ),
        ];
        for (verb, path, expires_s, body, signature) in cases {
            assert_eq!(sign(&secret(), verb, path, expires_s, body), signature, "{verb} {path}");
        }
    }

    #[test]
    fn verb_is_upper_cased() {
        assert_eq!(
            sign(&secret(), "get", "/api/v1/instrument", 1_518_064_236, ""),
            "c7682d435d0cfe87c16098df34ef2eb5a549d4c5a3c2b1f0f77b8af73423bf00"
        );
    }

    /// Self-computed with `printf '%s' 'GET/realtime1518064236' | openssl dgst -sha256 -hmac <secret>`.
    #[test]
    fn ws_auth_vector() {
        assert_eq!(
            sign_ws_auth(&secret(), 1_518_064_236),
            "6d459dc02866d35a2b965edeecc68063d488e296b77982235fc6eca24b934945"
        );
    }
}
