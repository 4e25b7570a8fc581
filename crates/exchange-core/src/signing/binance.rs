//! Binance HMAC signing, Spot `/api/v3` and USDⓈ-M `/fapi` REST plus the WebSocket API
//! (PROTOCOL.md §1.1–§1.4).
//!
//! Venue facts this depends on:
//! - REST signs `totalParams` = the query string concatenated with the request body, with **no
//!   separator**, exactly the bytes sent. Parameter order matters. `signature` must be the **last**
//!   parameter of the query string or body and is not itself signed (§1.1).
//! - Spot requires non-ASCII characters to be percent-encoded before signing (§1.1). [`QueryString`]
//!   encodes every key and value: RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`) pass, every
//!   other byte becomes `%XX` (uppercase), which reproduces the docs' `１２３４５６` example (§1.2 b).
//! - The hex signature is case-insensitive on the server (§1.1).
//! - The WebSocket API signs differently (§1.4): every param except `signature`, sorted by name,
//!   joined as `k=v` with `&`, values raw UTF-8 (not percent-encoded). `apiKey` is one of the params.
//! - RSA and Ed25519 keys (§1.5) are not implemented.

use super::{Secret, hmac_sha256_hex, hmac_sha256_hex_of_parts};

/// Name of the parameter that carries the signature, REST and WebSocket API alike.
const SIGNATURE_PARAM: &str = "signature";

/// Signs a REST request: HMAC-SHA256 hex of `query` immediately followed by `body`.
///
/// Pass both exactly as they go on the wire, without the leading `?` and without `signature`; either
/// may be empty.
pub fn sign_rest(secret: &Secret, query: &str, body: &str) -> String {
    hmac_sha256_hex_of_parts(secret, &[query.as_bytes(), body.as_bytes()])
}

/// A REST query string (or form body) built parameter by parameter, with keys and values
/// percent-encoded as Spot requires.
///
/// For a request whose params are all in one place, [`QueryString::finish_signed`] signs it and appends
/// the signature last. For a request split between query string and body, sign both halves with
/// [`sign_rest`] and append `&signature=<hex>` to whichever is sent last in the signed string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryString {
    encoded: String,
}

impl QueryString {
    /// An empty query string.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `key=value` (both percent-encoded) and returns the builder, for chaining.
    #[must_use]
    pub fn param(mut self, key: &str, value: &str) -> Self {
        self.push(key, value);
        self
    }

    /// Appends `key=value` (both percent-encoded), for conditional or looped parameters.
    pub fn push(&mut self, key: &str, value: &str) -> &mut Self {
        if !self.encoded.is_empty() {
            self.encoded.push('&');
        }
        percent_encode_into(&mut self.encoded, key);
        self.encoded.push('=');
        percent_encode_into(&mut self.encoded, value);
        self
    }

    /// The encoded string so far, without `?`.
    pub fn as_str(&self) -> &str {
        &self.encoded
    }

    /// `true` when no parameter has been added.
    pub fn is_empty(&self) -> bool {
        self.encoded.is_empty()
    }

    /// The encoded string, unsigned (public endpoints, or the first half of a mixed request).
    pub fn finish(self) -> String {
        self.encoded
    }

    /// The encoded string with `signature=<hex>` appended as the last parameter, the signature
    /// covering everything before it.
    pub fn finish_signed(self, secret: &Secret) -> String {
        let signature = sign_rest(secret, &self.encoded, "");
        let mut signed = self.encoded;
        if !signed.is_empty() {
            signed.push('&');
        }
        signed.push_str(SIGNATURE_PARAM);
        signed.push('=');
        signed.push_str(&signature);
        signed
    }
}

/// Server side: splits a received query string or body into the signed part and the signature.
///
/// Returns the bytes before `&signature=` (empty when `signature` is the only parameter) and the
/// signature value as received. Returns `None` when the last parameter is not `signature`, when its
/// value is empty, or when `signature` also appears earlier (ambiguous). For a request split between
/// query and body, the signed bytes are the query's signed part followed by the body (§1.1); this
/// function handles whichever of the two carries the signature.
pub fn strip_signature(raw: &str) -> Option<(&str, &str)> {
    let (signed, last) = raw.rsplit_once('&').unwrap_or(("", raw));
    let signature = last.strip_prefix(SIGNATURE_PARAM)?.strip_prefix('=')?;
    let signed_again = signed.split('&').any(|param| param.split('=').next() == Some(SIGNATURE_PARAM));
    if signature.is_empty() || signed_again {
        return None;
    }
    Some((signed, signature))
}

/// The WebSocket-API string to sign: `params` except `signature`, sorted by name (byte order,
/// stable for repeated names), joined as `k=v` with `&`, values raw UTF-8.
pub fn ws_api_payload(params: &[(&str, &str)]) -> String {
    let mut sorted: Vec<(&str, &str)> =
        params.iter().copied().filter(|&(name, _)| name != SIGNATURE_PARAM).collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let mut payload = String::new();
    for (name, value) in sorted {
        if !payload.is_empty() {
            payload.push('&');
        }
        payload.push_str(name);
        payload.push('=');
        payload.push_str(value);
    }
    payload
}

/// Signs a WebSocket-API request: HMAC-SHA256 hex of [`ws_api_payload`] of `params` (which must
/// include `apiKey` and `timestamp`; any `signature` entry is ignored).
pub fn sign_ws_api(secret: &Secret, params: &[(&str, &str)]) -> String {
    hmac_sha256_hex(secret, ws_api_payload(params).as_bytes())
}

/// Appends `raw` percent-encoded: RFC 3986 unreserved characters pass, every other byte of the
/// UTF-8 encoding becomes `%XX` with uppercase hex.
fn percent_encode_into(out: &mut String, raw: &str) {
    const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";
    for &byte in raw.as_bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX_UPPER[usize::from(byte >> 4)]));
            out.push(char::from(HEX_UPPER[usize::from(byte & 0x0F)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::verify_hmac_sha256_hex;

    /// PROTOCOL.md §1.2 (Spot docs) secret; also used by the §1.4 WebSocket-API vectors.
    const SPOT_SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
    const SPOT_API_KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
    /// PROTOCOL.md §1.3 (USDⓈ-M docs) secret.
    const UM_SECRET: &str = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";

    const SPOT_A: &str = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
    const SPOT_A_SIG: &str = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71";
    const SPOT_B: &str = "symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
    const SPOT_B_SIG: &str = "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3";
    const UM_1: &str = "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943";
    const UM_1_SIG: &str = "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9";
    /// The same params in the order of the docs' parameter table (`timeInForce` before `quantity`).
    const UM_TABLE_ORDER: &str = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=9000&recvWindow=5000&timestamp=1591702613943";
    const UM_TABLE_ORDER_SIG: &str = "ec11dcc17e67e47f0d3c3f513dfe9062307e37619c5c82ebaa8fe0bdf3d59519";

    fn secret(value: &str) -> Secret {
        Secret::new(value.to_owned())
    }

    struct RestVector {
        name: &'static str,
        secret: &'static str,
        query: &'static str,
        body: &'static str,
        signature: &'static str,
    }

    /// §1.2 (a), (b), (c) and §1.3. Not the docs' `f9d0ae5e…` mixed USDⓈ-M signature, which only
    /// reproduces over a string with a stray space (§1.3).
    const REST_VECTORS: &[RestVector] = &[
        RestVector {
            name: "spot (a) in query",
            secret: SPOT_SECRET,
            query: SPOT_A,
            body: "",
            signature: SPOT_A_SIG,
        },
        RestVector {
            name: "spot (a) in body",
            secret: SPOT_SECRET,
            query: "",
            body: SPOT_A,
            signature: SPOT_A_SIG,
        },
        RestVector {
            name: "spot (b) encoded",
            secret: SPOT_SECRET,
            query: SPOT_B,
            body: "",
            signature: SPOT_B_SIG,
        },
        RestVector {
            name: "spot (c) mixed, no separator",
            secret: SPOT_SECRET,
            query: "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC",
            body: "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559",
            signature: "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77",
        },
        RestVector {
            name: "usdm example 1 query",
            secret: UM_SECRET,
            query: UM_1,
            body: "",
            signature: UM_1_SIG,
        },
        RestVector {
            name: "usdm example 2 body",
            secret: UM_SECRET,
            query: "",
            body: UM_1,
            signature: UM_1_SIG,
        },
        RestVector {
            name: "usdm table order",
            secret: UM_SECRET,
            query: UM_TABLE_ORDER,
            body: "",
            signature: UM_TABLE_ORDER_SIG,
        },
        RestVector {
            name: "usdm mixed, space-free (self-computed)",
            secret: UM_SECRET,
            query: "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC",
            body: "quantity=1&price=9000&recvWindow=5000&timestamp=1591702613943",
            signature: "30baaf0fab549bbeda7f5ef201898b34122da25fd23c646cac2c529aebe670a4",
        },
    ];

    #[test]
    fn rest_vectors() {
        for v in REST_VECTORS {
            let key = secret(v.secret);
            assert_eq!(sign_rest(&key, v.query, v.body), v.signature, "{}", v.name);
            let total_params = format!("{}{}", v.query, v.body);
            assert!(verify_hmac_sha256_hex(&key, total_params.as_bytes(), v.signature), "{}", v.name);
        }
    }

    #[test]
    fn param_order_changes_the_signature() {
        let mut sent: Vec<&str> = UM_1.split('&').collect();
        let mut table: Vec<&str> = UM_TABLE_ORDER.split('&').collect();
        sent.sort_unstable();
        table.sort_unstable();
        assert_eq!(sent, table, "same parameters");
        assert_ne!(
            sign_rest(&secret(UM_SECRET), UM_1, ""),
            sign_rest(&secret(UM_SECRET), UM_TABLE_ORDER, "")
        );
    }

    fn spot_order(symbol: &str) -> QueryString {
        QueryString::new()
            .param("symbol", symbol)
            .param("side", "BUY")
            .param("type", "LIMIT")
            .param("timeInForce", "GTC")
            .param("quantity", "1")
            .param("price", "0.1")
            .param("recvWindow", "5000")
            .param("timestamp", "1499827319559")
    }

    #[test]
    fn query_string_reproduces_spot_vectors() {
        let cases = [
            ("ascii (a)", "LTCBTC", SPOT_A, SPOT_A_SIG),
            ("non-ascii (b)", "１２３４５６", SPOT_B, SPOT_B_SIG),
        ];
        for (name, symbol, payload, signature) in cases {
            let query = spot_order(symbol);
            assert_eq!(query.as_str(), payload, "{name}");
            assert_eq!(
                query.finish_signed(&secret(SPOT_SECRET)),
                format!("{payload}&signature={signature}"),
                "{name}"
            );
        }
    }

    #[test]
    fn query_string_push_and_empty() {
        let mut query = QueryString::new();
        assert!(query.is_empty());
        query.push("symbol", "LTCBTC").push("side", "BUY");
        assert_eq!(query.clone().finish(), "symbol=LTCBTC&side=BUY");
        let only_signature = QueryString::new().finish_signed(&secret(SPOT_SECRET));
        assert_eq!(only_signature, format!("signature={}", sign_rest(&secret(SPOT_SECRET), "", "")));
    }

    #[test]
    fn percent_encoding() {
        let cases = [
            ("unreserved pass", "AZaz09-._~", "AZaz09-._~"),
            ("space", "a b", "a%20b"),
            ("reserved", "&=+/:?#*,%", "%26%3D%2B%2F%3A%3F%23%2A%2C%25"),
            ("json", r#"{"a":1}"#, "%7B%22a%22%3A1%7D"),
            ("two-byte utf-8", "é", "%C3%A9"),
            ("fullwidth digit", "１", "%EF%BC%91"),
            ("empty", "", ""),
        ];
        for (name, raw, encoded) in cases {
            let mut out = String::new();
            percent_encode_into(&mut out, raw);
            assert_eq!(out, encoded, "{name}");
        }
        assert_eq!(QueryString::new().param("a b", "c&d").as_str(), "a%20b=c%26d", "keys are encoded too");
    }

    /// (case name, raw query or body, expected signed part and signature).
    type StripCase = (&'static str, &'static str, Option<(&'static str, &'static str)>);

    #[test]
    fn strip_signature_cases() {
        let cases: &[StripCase] = &[
            ("last", "a=1&b=2&signature=abc", Some(("a=1&b=2", "abc"))),
            ("only param", "signature=abc", Some(("", "abc"))),
            ("missing", "a=1&b=2", None),
            ("empty input", "", None),
            ("not last", "a=1&signature=abc&b=2", None),
            ("not last, only other", "signature=abc&timestamp=1", None),
            ("empty value", "a=1&signature=", None),
            ("no value", "a=1&signature", None),
            ("similar name", "a=1&signatures=abc", None),
            ("trailing ampersand", "a=1&signature=abc&", None),
            ("repeated", "signature=abc&a=1&signature=def", None),
        ];
        for &(name, raw, expected) in cases {
            assert_eq!(strip_signature(raw), expected, "{name}");
        }
    }

    #[test]
    fn signed_query_round_trips_through_the_server_check() {
        let key = secret(SPOT_SECRET);
        let signed = spot_order("１２３４５６").finish_signed(&key);
        let (payload, signature) = strip_signature(&signed).unwrap();
        assert_eq!((payload, signature), (SPOT_B, SPOT_B_SIG));
        assert!(verify_hmac_sha256_hex(&key, payload.as_bytes(), &signature.to_uppercase()));
    }

    struct WsVector {
        name: &'static str,
        /// Deliberately not sorted, to prove the sorting.
        params: &'static [(&'static str, &'static str)],
        payload: &'static str,
        signature: &'static str,
    }

    /// §1.4, all with the §1.2 secret.
    const WS_VECTORS: &[WsVector] = &[
        WsVector {
            name: "order.place ascii, with a stale signature param",
            params: &[
                ("symbol", "BTCUSDT"),
                ("side", "SELL"),
                ("type", "LIMIT"),
                ("timeInForce", "GTC"),
                ("quantity", "0.01000000"),
                ("price", "52000.00"),
                ("signature", "0000"),
                ("recvWindow", "100"),
                ("timestamp", "1645423376532"),
                ("apiKey", SPOT_API_KEY),
            ],
            payload: "apiKey=vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A&price=52000.00&quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT&timeInForce=GTC&timestamp=1645423376532&type=LIMIT",
            signature: "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24",
        },
        WsVector {
            name: "order.place non-ascii, raw utf-8",
            params: &[
                ("timestamp", "1645423376532"),
                ("type", "LIMIT"),
                ("symbol", "１２３４５６"),
                ("side", "BUY"),
                ("apiKey", SPOT_API_KEY),
                ("timeInForce", "GTC"),
                ("recvWindow", "5000"),
                ("quantity", "1.00000000"),
                ("price", "0.10000000"),
            ],
            payload: "apiKey=vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A&price=0.10000000&quantity=1.00000000&recvWindow=5000&side=BUY&symbol=１２３４５６&timeInForce=GTC&timestamp=1645423376532&type=LIMIT",
            signature: "b33892ae8e687c939f4468c6268ddd4c40ac1af18ad19a064864c47bae0752cd",
        },
        WsVector {
            name: "session.logon",
            params: &[("timestamp", "1649729878532"), ("apiKey", SPOT_API_KEY)],
            payload: "apiKey=vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A&timestamp=1649729878532",
            signature: "1cf54395b336b0a9727ef27d5d98987962bc47aca6e13fe978612d0adee066ed",
        },
    ];

    #[test]
    fn ws_api_vectors() {
        let key = secret(SPOT_SECRET);
        for v in WS_VECTORS {
            assert_eq!(ws_api_payload(v.params), v.payload, "{}", v.name);
            assert_eq!(sign_ws_api(&key, v.params), v.signature, "{}", v.name);
        }
    }
}
