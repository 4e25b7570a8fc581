//! Request authentication as Binance does it (PROTOCOL.md §1.1, §11.1-11.2):
//! - the API key comes in the `X-MBX-APIKEY` header: missing or malformed -2014, unknown -2015;
//! - SIGNED requests carry `timestamp` and, as the last parameter of the query string or of the
//!   body, `signature` = hex HMAC-SHA256 of the raw query string immediately followed by the raw
//!   body (without the signature pair), compared case-insensitively: mismatch -1022;
//! - `recvWindow` (default 5000, at most 60000, -1131 above) against the server's WALL clock:
//!   -1021 when `timestamp >= serverTime + 1000` or `serverTime - timestamp > recvWindow`.
//!
//! The order of checks: key, signature present, timestamp present, recvWindow, signature valid,
//! timing. A request signed with a wrong secret never learns whether its timing was right.

use exchange_core::signing::binance::strip_signature;
use exchange_core::signing::verify_hmac_sha256_hex;

use super::params::Params;
use crate::api_error::ApiError;
use crate::config::ApiKey;

/// Default `recvWindow`, ms.
pub const DEFAULT_RECV_WINDOW: u64 = 5_000;
/// Largest `recvWindow`, ms.
pub const MAX_RECV_WINDOW: u64 = 60_000;

/// The API key of a request's `X-MBX-APIKEY` header.
///
/// # Errors
/// -2014 when the header is missing or malformed, -2015 when no account has this key.
pub fn api_key<'k>(keys: &'k [ApiKey], header: Option<&str>) -> Result<&'k ApiKey, ApiError> {
    let header = header.map(str::trim).filter(|h| !h.is_empty()).ok_or_else(ApiError::bad_api_key_format)?;
    if header.len() > 128 || !header.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(ApiError::bad_api_key_format());
    }
    keys.iter().find(|k| k.key == header).ok_or_else(ApiError::rejected_api_key)
}

/// Splits the signature off the raw query or body: returns the signed bytes and the signature.
fn signed_payload(raw_query: &str, raw_body: &str) -> Option<(String, String)> {
    if let Some((signed_body, signature)) = strip_signature(raw_body) {
        return Some((format!("{raw_query}{signed_body}"), signature.to_owned()));
    }
    let (signed_query, signature) = strip_signature(raw_query)?;
    Some((format!("{signed_query}{raw_body}"), signature.to_owned()))
}

/// Checks `timestamp` and `recvWindow` of `params` against `server_ms`.
///
/// # Errors
/// -1102 without a timestamp, -1100 for a malformed one, -1131 for recvWindow above 60000,
/// -1021 outside the window.
pub fn check_timing(params: &Params, server_ms: i64) -> Result<(), ApiError> {
    let timestamp = timestamp(params)?;
    let window = recv_window(params)?;
    if timestamp >= server_ms + 1000 {
        return Err(ApiError::ahead_of_server());
    }
    if server_ms - timestamp > window {
        return Err(ApiError::outside_recv_window());
    }
    Ok(())
}

fn timestamp(params: &Params) -> Result<i64, ApiError> {
    let raw: u64 = params.int("timestamp")?.ok_or_else(|| ApiError::mandatory("timestamp"))?;
    // Spot also takes microseconds: anything past year 5138 in ms is read as µs.
    let ms = if raw > 99_999_999_999_999 { raw / 1000 } else { raw };
    i64::try_from(ms).map_err(|_| ApiError::invalid_param("timestamp"))
}

fn recv_window(params: &Params) -> Result<i64, ApiError> {
    // Spot allows up to three decimals (microseconds).
    let window = match params.get("recvWindow") {
        None => DEFAULT_RECV_WINDOW as f64,
        Some(text) => {
            let valid = !text.is_empty()
                && text.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                && text.matches('.').count() <= 1;
            let value: f64 = text
                .parse()
                .ok()
                .filter(|_| valid)
                .ok_or_else(|| ApiError::illegal_chars("recvWindow", "^[0-9]{1,20}(\\.[0-9]{1,3})?$"))?;
            value
        }
    };
    if window > MAX_RECV_WINDOW as f64 {
        return Err(ApiError::bad_recv_window());
    }
    Ok(window as i64)
}

/// Checks a SIGNED request of `key`: signature over the raw bytes, then timing.
///
/// # Errors
/// As described in the module docs.
pub fn check_signed(
    key: &ApiKey,
    raw_query: &str,
    raw_body: &str,
    params: &Params,
    server_ms: i64,
) -> Result<(), ApiError> {
    if !params.has("signature") {
        return Err(ApiError::mandatory("signature"));
    }
    timestamp(params)?;
    recv_window(params)?;
    let (payload, signature) = signed_payload(raw_query, raw_body).ok_or_else(ApiError::bad_signature)?;
    if !verify_hmac_sha256_hex(&key.secret, payload.as_bytes(), &signature) {
        return Err(ApiError::bad_signature());
    }
    check_timing(params, server_ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use exchange_core::signing::Secret;

    /// PROTOCOL.md §1.2 vectors.
    const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
    const KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
    const SERVER: i64 = 1_499_827_319_559;

    fn key() -> ApiKey {
        ApiKey { key: KEY.to_owned(), secret: Secret::new(SECRET.to_owned()), account: 0 }
    }

    fn check(query: &str, body: &str, server: i64) -> Result<(), ApiError> {
        let params = Params::parse(query, body)?;
        check_signed(&key(), query, body, &params, server)
    }

    #[test]
    fn official_vectors_pass_in_query_body_and_mixed() {
        let a = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
        let sig = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71";
        assert_eq!(check(&format!("{a}&signature={sig}"), "", SERVER), Ok(()));
        assert_eq!(check("", &format!("{a}&signature={}", sig.to_uppercase()), SERVER), Ok(()));
        let mixed_sig = "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77";
        let body =
            format!("quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559&signature={mixed_sig}");
        assert_eq!(check("symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC", &body, SERVER), Ok(()));
    }

    #[test]
    fn failures_use_binance_codes() {
        let a = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
        let sig = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71";
        let code = |r: Result<(), ApiError>| r.unwrap_err().code;
        assert_eq!(code(check(a, "", SERVER)), -1102, "no signature");
        assert_eq!(code(check(&format!("{a}&signature={}", &sig[1..]), "", SERVER)), -1022);
        assert_eq!(code(check(&format!("signature={sig}&{a}"), "", SERVER)), -1022, "signature not last");
        assert_eq!(code(check(&format!("{a}&signature={sig}"), "", SERVER + 5_001)), -1021, "too old");
        assert_eq!(code(check(&format!("{a}&signature={sig}"), "", SERVER - 1_000)), -1021, "ahead");
        assert_eq!(check(&format!("{a}&signature={sig}"), "", SERVER - 999), Ok(()));
        assert_eq!(code(check("timestamp=1&recvWindow=60001&signature=00", "", SERVER)), -1131);
        assert_eq!(code(check("signature=00", "", SERVER)), -1102, "no timestamp");
        let keys = [key()];
        assert_eq!(api_key(&keys, None).unwrap_err().code, -2014);
        assert_eq!(api_key(&keys, Some("bad key!")).unwrap_err().code, -2014);
        assert_eq!(api_key(&keys, Some("abc")).unwrap_err().code, -2015);
        assert!(api_key(&keys, Some(KEY)).is_ok());
    }
}
