//! Deribit API v2 HMAC signing: the `client_signature` grant of `public/auth` and the per-request
//! HTTP `Authorization` header (PROTOCOL.md §10).
//!
//! Venue facts this depends on:
//! - `public/auth` with `grant_type=client_signature` sends `client_id, timestamp (ms), nonce,
//!   signature, data?` where `signature = hex(HMAC_SHA256(client_secret, timestamp + "\n" + nonce +
//!   "\n" + data))`. The returned `access_token` then authenticates the session.
//! - HTTP per-request alternative: header
//!   `Authorization: deri-hmac-sha256 id=<ClientId>,ts=<ms>,sig=<hex>,nonce=<nonce>` with
//!   `RequestData = UPPERCASE(method) + "\n" + URI(path?query) + "\n" + body + "\n"` and
//!   `StringToSign = ts + "\n" + nonce + "\n" + RequestData`.
//! - No official v2 test vector exists (UNVERIFIED beyond implementations); the tests use the
//!   self-computed vectors of PROTOCOL.md §10 and `verify_vectors.sh`.

use super::{Secret, hmac_sha256_hex_of_parts};

/// Signs a `public/auth` `client_signature` grant: HMAC-SHA256 hex of
/// `timestamp_ms + "\n" + nonce + "\n" + data` (`data` may be empty).
pub fn sign_client_signature(secret: &Secret, timestamp_ms: u64, nonce: &str, data: &str) -> String {
    let timestamp = timestamp_ms.to_string();
    hmac_sha256_hex_of_parts(secret, &[timestamp.as_bytes(), b"\n", nonce.as_bytes(), b"\n", data.as_bytes()])
}

/// Signs one HTTP request for the `deri-hmac-sha256` header: HMAC-SHA256 hex of
/// `ts \n nonce \n METHOD \n uri \n body \n`.
///
/// `method` is upper-cased; `uri` is the path with its query string (`/api/v2/private/buy?…`); `body`
/// is the raw body or `""`.
pub fn sign_request(
    secret: &Secret,
    timestamp_ms: u64,
    nonce: &str,
    method: &str,
    uri: &str,
    body: &str,
) -> String {
    let timestamp = timestamp_ms.to_string();
    let method = method.to_ascii_uppercase();
    hmac_sha256_hex_of_parts(
        secret,
        &[
            timestamp.as_bytes(),
            b"\n",
            nonce.as_bytes(),
            b"\n",
            method.as_bytes(),
            b"\n",
            uri.as_bytes(),
            b"\n",
            body.as_bytes(),
            b"\n",
        ],
    )
}

/// The `Authorization` header value for a request signed with [`sign_request`]:
/// `deri-hmac-sha256 id=<client_id>,ts=<timestamp_ms>,sig=<signature>,nonce=<nonce>`.
pub fn authorization_header(client_id: &str, timestamp_ms: u64, nonce: &str, signature: &str) -> String {
    format!("deri-hmac-sha256 id={client_id},ts={timestamp_ms},sig={signature},nonce={nonce}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "test_client_secret";
    const TIMESTAMP_MS: u64 = 1_609_459_200_000;
    const NONCE: &str = "550e8400-e29b-41d4-a716-446655440000";
    const BODY: &str = r#"{"jsonrpc":"2.0","id":1,"method":"private/get_account_summaries","params":{}}"#;
    const REQUEST_SIG: &str = "687c9c8397163a1b66412d6b886ba6004f4918cd36c33184b9b984bf43f98ed3";

    fn secret() -> Secret {
        Secret::new(SECRET.to_owned())
    }

    /// PROTOCOL.md §10, self-computed.
    #[test]
    fn request_vector() {
        for method in ["POST", "post"] {
            assert_eq!(
                sign_request(&secret(), TIMESTAMP_MS, NONCE, method, "/api/v2", BODY),
                REQUEST_SIG,
                "{method}"
            );
        }
    }

    /// The request form is the client-signature form with `data = METHOD\nuri\nbody\n`.
    #[test]
    fn request_form_extends_client_signature_form() {
        let data = format!("POST\n/api/v2\n{BODY}\n");
        assert_eq!(sign_client_signature(&secret(), TIMESTAMP_MS, NONCE, &data), REQUEST_SIG);
    }

    /// `verify_vectors.sh` "deribit v2 WS client_signature, data empty", self-computed.
    #[test]
    fn client_signature_vector_with_empty_data() {
        assert_eq!(
            sign_client_signature(&secret(), TIMESTAMP_MS, "abcd1234", ""),
            "a0743a5723c3a8383740548602781bed6655d6ef018e8b7366f7b4d2ebeed664"
        );
    }

    #[test]
    fn authorization_header_format() {
        assert_eq!(
            authorization_header("AbCdEf", TIMESTAMP_MS, NONCE, REQUEST_SIG),
            format!("deri-hmac-sha256 id=AbCdEf,ts=1609459200000,sig={REQUEST_SIG},nonce={NONCE}")
        );
    }
}
