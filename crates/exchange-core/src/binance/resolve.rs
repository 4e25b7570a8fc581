//! Resolving an order whose outcome is unknown (PROTOCOL.md §5.3): after a timeout, a 5XX, a 503
//! "Unknown error..." or `-1006`/`-1007`, the order may or may not be on the book. It is never
//! sent again blind: it is queried by its client order id (spot `GET /api/v3/order?
//! origClientOrderId=`, USD-M `GET /fapi/v1/order?origClientOrderId=`, algo `GET
//! /fapi/v1/algoOrder?clientAlgoId=`) until the venue says.
//!
//! "Not found" (`-2013`) is believed only from a query that itself succeeded, and only after
//! `not_found_confirmations` such answers in a row, spaced by `interval` (an order accepted late
//! can still appear); then the order was never accepted and re-sending it is safe. When every
//! query fails, the outcome stays unknown and the caller queries again later.

use std::future::Future;
use std::time::Duration;

use crate::venue::{OrderAck, VenueError};

/// How hard to try to learn an unknown outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolvePolicy {
    /// Wait before the first query (let the matching engine catch up).
    pub first_delay: Duration,
    /// Wait between queries.
    pub interval: Duration,
    /// Queries at most.
    pub max_queries: u32,
    /// Successful "not found" answers in a row needed to conclude the order was never accepted.
    pub not_found_confirmations: u32,
}

impl Default for ResolvePolicy {
    fn default() -> Self {
        Self {
            first_delay: Duration::from_millis(500),
            interval: Duration::from_millis(1_000),
            max_queries: 4,
            not_found_confirmations: 2,
        }
    }
}

/// Resolves the unknown outcome `cause` of order `client_order_id` with `query` (which answers
/// `Ok(None)` when the venue does not know the order).
///
/// # Errors
/// [`VenueError::NeverAccepted`] when enough successful queries did not find the order;
/// [`VenueError::UnknownOutcome`] (with the last query error) when the queries failed.
pub async fn resolve_unknown<F, Fut>(
    policy: &ResolvePolicy,
    client_order_id: &str,
    cause: &VenueError,
    mut query: F,
) -> Result<OrderAck, VenueError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<OrderAck>, VenueError>>,
{
    tracing::warn!(client_order_id, error = %cause, "order outcome unknown; querying it by client order id");
    tokio::time::sleep(policy.first_delay).await;
    let mut not_found = 0;
    let mut last_error: Option<VenueError> = None;
    for attempt in 1..=policy.max_queries.max(1) {
        match query().await {
            Ok(Some(mut ack)) => {
                ack.recovered = true;
                tracing::info!(client_order_id, status = ?ack.order.status, "unknown order outcome resolved");
                return Ok(ack);
            }
            Ok(None) => {
                not_found += 1;
                if not_found >= policy.not_found_confirmations.max(1) {
                    return Err(VenueError::NeverAccepted {
                        client_order_id: client_order_id.to_owned(),
                        cause: cause.to_string(),
                    });
                }
            }
            Err(error) => {
                tracing::warn!(client_order_id, attempt, %error, "query of an order with unknown outcome failed");
                let stop = matches!(error, VenueError::Banned { .. } | VenueError::Auth { .. });
                last_error = Some(error);
                if stop {
                    break;
                }
            }
        }
        if attempt < policy.max_queries {
            tokio::time::sleep(policy.interval).await;
        }
    }
    let source = match last_error {
        Some(error) => format!("{cause}; then the query failed: {error}"),
        None => cause.to_string(),
    };
    Err(VenueError::UnknownOutcome { client_order_id: client_order_id.to_owned(), source: source.into() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ClientOrderId, OrderStatus, OrderUpdate, Qty, Side, Symbol};
    use std::collections::VecDeque;

    fn ack() -> OrderAck {
        OrderAck {
            order: OrderUpdate {
                client_order_id: ClientOrderId::new("fa-en-1-1").unwrap(),
                venue_order_id: Some("7".into()),
                symbol: Symbol::new("BTCUSDT").unwrap(),
                side: Side::Buy,
                status: OrderStatus::New,
                filled_qty: Qty::ZERO,
                avg_price: None,
                fill: None,
                reason: None,
                time_exchange: 0,
            },
            fills: Vec::new(),
            recovered: false,
        }
    }

    type Answer = Result<Option<OrderAck>, VenueError>;

    async fn run(answers: Vec<Answer>) -> (Result<OrderAck, VenueError>, usize) {
        let policy = ResolvePolicy {
            first_delay: Duration::ZERO,
            interval: Duration::ZERO,
            max_queries: 3,
            not_found_confirmations: 2,
        };
        let mut answers: VecDeque<Answer> = answers.into();
        let mut calls = 0;
        let cause = VenueError::Transport { message: "timeout".into(), source: None };
        let result = resolve_unknown(&policy, "fa-en-1-1", &cause, || {
            calls += 1;
            let next = answers.pop_front().unwrap_or(Ok(None));
            async move { next }
        })
        .await;
        (result, calls)
    }

    fn unavailable() -> VenueError {
        VenueError::Unavailable { status: 503, msg: "Service Unavailable.".into() }
    }

    #[tokio::test]
    async fn resolution_table() {
        let (found, calls) = run(vec![Ok(Some(ack()))]).await;
        assert!(found.unwrap().recovered);
        assert_eq!(calls, 1);

        let (after_error, calls) = run(vec![Err(unavailable()), Ok(Some(ack()))]).await;
        assert!(after_error.is_ok());
        assert_eq!(calls, 2);

        let (never, calls) = run(vec![Ok(None), Ok(None)]).await;
        assert!(matches!(never, Err(VenueError::NeverAccepted { .. })), "{never:?}");
        assert_eq!(calls, 2);

        let (late, _) = run(vec![Ok(None), Ok(Some(ack()))]).await;
        assert!(late.is_ok(), "an order that appears late is found");

        let (unknown, calls) = run(vec![Err(unavailable()), Err(unavailable()), Err(unavailable())]).await;
        let unknown = unknown.unwrap_err();
        assert!(unknown.is_unknown_outcome() && !unknown.is_retryable(), "{unknown}");
        assert!(unknown.to_string().contains("Service Unavailable"), "{unknown}");
        assert_eq!(calls, 3);

        let (banned, calls) =
            run(vec![Err(VenueError::Banned { retry_after: Duration::from_secs(60) })]).await;
        assert!(banned.unwrap_err().is_unknown_outcome());
        assert_eq!(calls, 1, "a ban stops the queries");
    }
}
