//! What a Binance HTTP answer means for the request that got it (PROTOCOL.md §5): success,
//! a definite failure (and whether it is worth retrying), or an unknown outcome.
//!
//! Venue facts: 429 = rate limit (with `Retry-After`), 418 = IP ban; 5XX and 408 = execution
//! status UNKNOWN; 503 has three texts: "Unknown error, please check your request or try again
//! later." (UNKNOWN), "Service Unavailable." (definite failure, retry with backoff), "Internal
//! error; unable to process your request. Please try again." (failure, resend allowed); codes
//! `-1006` / `-1007` = UNKNOWN; `-1008` = throttled, definite failure; `-1021` / `-5028` =
//! timestamp outside recvWindow; `-2013` = no such order; `-2011` "Unknown order sent." = not on
//! the book; `-1022`, `-2014`, `-2015` = signature or key refused.

use std::time::Duration;

use crate::binance::models::BinanceErrorBody;

/// The meaning of one answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Class {
    /// 2XX.
    Success,
    /// The timestamp was outside the window: resync the clock and send again (it was refused).
    ClockSkew {
        /// The venue's message.
        msg: String,
    },
    /// 429: stop for `retry_after`.
    RateLimited {
        /// From `Retry-After`, when sent.
        retry_after: Option<Duration>,
    },
    /// 418: stop everything for `retry_after`.
    Banned {
        /// From `Retry-After`, when sent.
        retry_after: Option<Duration>,
    },
    /// Definitely not executed, temporarily: safe to send again after a pause.
    Unavailable {
        /// HTTP status.
        status: u16,
        /// The venue's message.
        msg: String,
    },
    /// May or may not have been executed.
    Unknown {
        /// HTTP status.
        status: u16,
        /// The venue's message.
        msg: String,
    },
    /// The order (or thing) does not exist.
    NotFound {
        /// The venue's code.
        code: i64,
        /// The venue's message.
        msg: String,
    },
    /// Key, IP, permission or signature refused.
    Auth {
        /// The venue's code.
        code: i64,
        /// The venue's message.
        msg: String,
    },
    /// Refused for a reason of its own: nothing happened.
    Rejected {
        /// The venue's code (0 when the body had none).
        code: i64,
        /// The venue's message (or the start of the body).
        msg: String,
    },
}

/// `Retry-After` in seconds, as Binance sends it.
pub fn parse_retry_after(value: Option<&str>) -> Option<Duration> {
    value.and_then(|v| v.trim().parse::<u64>().ok()).map(Duration::from_secs)
}

/// Classifies an answer by HTTP status, body and `Retry-After`.
pub fn classify(status: u16, body: &str, retry_after: Option<Duration>) -> Class {
    if (200..300).contains(&status) {
        return Class::Success;
    }
    if status == 418 {
        return Class::Banned { retry_after };
    }
    if status == 429 {
        return Class::RateLimited { retry_after };
    }
    let error: Option<BinanceErrorBody> = serde_json::from_str(body).ok();
    let (code, msg) = match error {
        Some(e) => (e.code, e.msg),
        None => (0, body.chars().take(200).collect()),
    };
    match code {
        -1021 | -5028 => return Class::ClockSkew { msg },
        -1006 | -1007 => return Class::Unknown { status, msg },
        -1008 => return Class::Unavailable { status, msg },
        -1003 => return Class::RateLimited { retry_after },
        -2013 => return Class::NotFound { code, msg },
        -2011 if msg.contains("Unknown order") => return Class::NotFound { code, msg },
        -1002 | -1022 | -2014 | -2015 => return Class::Auth { code, msg },
        _ => {}
    }
    match status {
        401 | 403 if code == 0 => Class::Auth { code, msg },
        503 if msg.contains("Service Unavailable") || msg.contains("Internal error") => {
            Class::Unavailable { status, msg }
        }
        408 | 500..=599 => Class::Unknown { status, msg },
        _ => Class::Rejected { code, msg },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(code: i64, msg: &str) -> String {
        format!(r#"{{"code":{code},"msg":"{msg}"}}"#)
    }

    #[test]
    fn classification_table() {
        let secs = |s| Some(Duration::from_secs(s));
        let unknown_503 = "Unknown error, please check your request or try again later.";
        let cases: Vec<(u16, String, Option<Duration>, &str)> = vec![
            (200, "{}".into(), None, "Success"),
            (429, body(-1003, "Too many requests"), secs(7), "RateLimited"),
            (418, body(-1003, "banned"), secs(120), "Banned"),
            (400, body(-1021, "Timestamp for this request is outside of the recvWindow."), None, "ClockSkew"),
            (400, body(-5028, "ME recvWindow"), None, "ClockSkew"),
            (503, body(-1000, unknown_503), None, "Unknown"),
            (503, body(-1000, "Service Unavailable."), None, "Unavailable"),
            (503, "Service Unavailable.".into(), None, "Unavailable"),
            (
                503,
                body(-1001, "Internal error; unable to process your request. Please try again."),
                None,
                "Unavailable",
            ),
            (503, body(-1008, "Request throttled by system-level protection."), None, "Unavailable"),
            (500, "<html>oops</html>".into(), None, "Unknown"),
            (502, String::new(), None, "Unknown"),
            (408, String::new(), None, "Unknown"),
            (400, body(-1007, "Timeout waiting for response from backend server."), None, "Unknown"),
            (400, body(-1006, "An unexpected response was received."), None, "Unknown"),
            (400, body(-2013, "Order does not exist."), None, "NotFound"),
            (400, body(-2011, "Unknown order sent."), None, "NotFound"),
            (400, body(-2011, "Cancel restrictions"), None, "Rejected"),
            (400, body(-1022, "Signature for this request is not valid."), None, "Auth"),
            (401, body(-2015, "Invalid API-key, IP, or permissions for action."), None, "Auth"),
            (403, "WAF".into(), None, "Auth"),
            (400, body(-4164, "Order's notional must be no smaller than 5.0"), None, "Rejected"),
            (400, body(-2010, "Account has insufficient balance for requested action."), None, "Rejected"),
        ];
        for (status, text, retry_after, want) in cases {
            let got = classify(status, &text, retry_after);
            let name = format!("{got:?}");
            assert!(name.starts_with(want), "{status} {text}: {name}");
        }
        assert_eq!(classify(429, "", secs(7)), Class::RateLimited { retry_after: secs(7) });
    }

    #[test]
    fn retry_after_header() {
        assert_eq!(parse_retry_after(Some("120")), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after(Some(" 3 ")), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")), None);
        assert_eq!(parse_retry_after(None), None);
    }
}
