//! `VenueError`: everything that can go wrong between an agent and a venue, with the fields a
//! caller needs to decide what to do next, and the two questions every caller asks:
//! [`VenueError::is_retryable`] (may I send the same request again?) and
//! [`VenueError::is_unknown_outcome`] (did my order perhaps go through?).
//!
//! An order whose outcome is unknown is never retried blind: the clients query it by client
//! order id first (PROTOCOL.md §5.3), and only when even that fails do they return
//! [`VenueError::UnknownOutcome`], which is not retryable; the caller queries again later.

use std::time::Duration;

/// A boxed error kept as the source of another.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An error at the venue boundary.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VenueError {
    /// The venue refused the request; nothing happened. `code` is the venue's error code.
    #[error("venue rejected the request: code {code}: {msg}")]
    Rejected {
        /// The venue's error code (Binance: `-2010`, `-4164`, ...).
        code: i64,
        /// The venue's message.
        msg: String,
    },
    /// The order breaks one of the instrument's filters; it was not sent.
    #[error("order not sent: {filter}: {detail}")]
    InvalidOrder {
        /// The filter the order breaks, named as the venue names it (`LOT_SIZE`, `PRICE_FILTER`).
        filter: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// Too many requests (HTTP 429): no request is sent until `retry_after` has passed.
    #[error("rate limited: no requests for {retry_after:?}")]
    RateLimited {
        /// How long to wait.
        retry_after: Duration,
    },
    /// The IP is banned (HTTP 418): no request of any kind until `retry_after` has passed.
    #[error("IP banned by the venue: no requests for {retry_after:?}")]
    Banned {
        /// How long the ban lasts.
        retry_after: Duration,
    },
    /// An order may or may not have been accepted, and querying it failed too. Query it again
    /// (by `client_order_id`) before doing anything else; never re-send it blind.
    #[error("outcome of order {client_order_id} is unknown: {source}")]
    UnknownOutcome {
        /// The order's client order id, the key to query it by.
        client_order_id: String,
        /// Why the outcome could not be established.
        #[source]
        source: BoxError,
    },
    /// An order whose first answer was lost, and that a successful query then did not find: it
    /// was never accepted. Sending it again (same client order id) is safe.
    #[error("order {client_order_id} was never accepted ({cause}); the venue does not know it")]
    NeverAccepted {
        /// The order's client order id.
        client_order_id: String,
        /// What happened to the first request.
        cause: String,
    },
    /// The venue is temporarily unable to serve (503 "Service Unavailable.", -1008, 5xx on a
    /// read); the request definitely failed.
    #[error("venue unavailable (HTTP {status}): {msg}")]
    Unavailable {
        /// HTTP status.
        status: u16,
        /// The venue's message.
        msg: String,
    },
    /// The request could not be delivered or its answer could not be read (connection refused,
    /// reset, timeout on a read).
    #[error("transport error: {message}")]
    Transport {
        /// What failed.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<BoxError>,
    },
    /// The answer was not what the venue documents.
    #[error("could not decode the venue's answer: {source}; body starts {body:?}")]
    Decode {
        /// The start of the body (at most 256 characters).
        body: String,
        /// The parse error.
        #[source]
        source: BoxError,
    },
    /// The request's timestamp was outside the venue's window even after a clock resync.
    #[error("clock skew: {msg}")]
    ClockSkew {
        /// The venue's message.
        msg: String,
    },
    /// The API key or signature was refused (bad key, IP, permission, signature).
    #[error("authentication refused: code {code}: {msg}")]
    Auth {
        /// The venue's error code.
        code: i64,
        /// The venue's message.
        msg: String,
    },
    /// What was asked for does not exist (an unknown order, symbol or stream).
    #[error("not found: {what}")]
    NotFound {
        /// What was looked for.
        what: String,
    },
    /// The venue or product does not offer this (mark price on spot, leverage on spot).
    #[error("not supported by this venue: {what}")]
    Unsupported {
        /// What was asked for.
        what: &'static str,
    },
    /// A configuration value is unusable (a bad URL, missing credentials).
    #[error("invalid venue configuration: {0}")]
    Config(String),
    /// The stream or task this call needed has stopped.
    #[error("the stream has stopped")]
    Closed,
}

impl VenueError {
    /// True when sending the same request again (after [`VenueError::retry_after`], if any) is
    /// safe and may succeed: the request definitely did not take effect.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::RateLimited { .. }
            | Self::Banned { .. }
            | Self::Unavailable { .. }
            | Self::Transport { .. }
            | Self::ClockSkew { .. }
            | Self::NeverAccepted { .. } => true,
            // -1003 too many requests, -1008 throttled, -1015 too many orders: try later.
            Self::Rejected { code, .. } => matches!(code, -1003 | -1008 | -1015),
            Self::UnknownOutcome { .. }
            | Self::InvalidOrder { .. }
            | Self::Decode { .. }
            | Self::Auth { .. }
            | Self::NotFound { .. }
            | Self::Unsupported { .. }
            | Self::Config(_)
            | Self::Closed => false,
        }
    }

    /// True when an order may have been accepted although no answer said so: query it by
    /// client order id before anything else.
    pub fn is_unknown_outcome(&self) -> bool {
        matches!(self, Self::UnknownOutcome { .. })
    }

    /// How long to wait before the next request, when the venue said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after } | Self::Banned { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    /// The venue's error code, when the venue answered with one.
    pub fn venue_code(&self) -> Option<i64> {
        match self {
            Self::Rejected { code, .. } | Self::Auth { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// A [`VenueError::Decode`] for `body` (cut to 256 characters).
    pub fn decode(body: &str, source: impl Into<BoxError>) -> Self {
        Self::Decode { body: body.chars().take(256).collect(), source: source.into() }
    }

    /// A [`VenueError::Transport`] with a source.
    pub fn transport(message: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self::Transport { message: message.into(), source: Some(source.into()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_table() {
        let secs = Duration::from_secs;
        let unknown = VenueError::UnknownOutcome { client_order_id: "x".into(), source: "timeout".into() };
        // (error, retryable, unknown outcome)
        let cases: Vec<(VenueError, bool, bool)> = vec![
            (VenueError::Rejected { code: -2010, msg: "insufficient".into() }, false, false),
            (VenueError::Rejected { code: -1008, msg: "throttled".into() }, true, false),
            (VenueError::InvalidOrder { filter: "LOT_SIZE", detail: "x".into() }, false, false),
            (VenueError::RateLimited { retry_after: secs(3) }, true, false),
            (VenueError::Banned { retry_after: secs(120) }, true, false),
            (unknown, false, true),
            (VenueError::NeverAccepted { client_order_id: "x".into(), cause: "timeout".into() }, true, false),
            (VenueError::Unavailable { status: 503, msg: "Service Unavailable.".into() }, true, false),
            (VenueError::Transport { message: "reset".into(), source: None }, true, false),
            (VenueError::decode("<html>", "expected value"), false, false),
            (VenueError::ClockSkew { msg: "-1021".into() }, true, false),
            (VenueError::Auth { code: -2015, msg: "bad key".into() }, false, false),
            (VenueError::NotFound { what: "order".into() }, false, false),
            (VenueError::Closed, false, false),
        ];
        for (error, retryable, unknown) in cases {
            assert_eq!(error.is_retryable(), retryable, "{error}");
            assert_eq!(error.is_unknown_outcome(), unknown, "{error}");
        }
    }

    #[test]
    fn retry_after_and_codes() {
        assert_eq!(
            VenueError::Banned { retry_after: Duration::from_secs(7) }.retry_after(),
            Some(Duration::from_secs(7))
        );
        assert_eq!(VenueError::Closed.retry_after(), None);
        assert_eq!(VenueError::Auth { code: -1022, msg: String::new() }.venue_code(), Some(-1022));
        let long = "x".repeat(1000);
        match VenueError::decode(&long, "bad") {
            VenueError::Decode { body, .. } => assert_eq!(body.len(), 256),
            other => panic!("{other}"),
        }
    }
}
