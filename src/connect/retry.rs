//! Retrying idempotent GETs on transient failures: bounded, exponential backoff with jitter,
//! honouring a server's `Retry-After`. Never used for requests that create something.

use std::future::Future;
use std::time::Duration;

use super::http::ConnectError;

/// How a GET is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt for timeouts, connection errors and 5xx.
    pub max_retries: u32,
    /// Retries after a 429. Counted apart: a 429 says exactly when to come back, and under a
    /// shared rate limit several in a row are normal, not a sign the shop is down.
    pub max_rate_limit_retries: u32,
    /// The first backoff; each retry doubles it, up to `max_delay`.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// A `Retry-After` longer than this is not waited out here: the error goes back to the
    /// caller (the engine re-queues the work) instead of blocking a phone-call estimate.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 4,
            max_rate_limit_retries: 8,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// No retries at all, e.g. for a quick reachability check.
    pub fn none() -> Self {
        RetryPolicy { max_retries: 0, max_rate_limit_retries: 0, ..RetryPolicy::default() }
    }

    /// The backoff before retry number `retry` (0-based): `base · 2^retry` capped, with
    /// "equal jitter" (half fixed, half random) so that parallel workers spread out.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = self.base_delay.saturating_mul(2u32.saturating_pow(retry.min(16))).min(self.max_delay);
        let half = exp / 2;
        half + half.mul_f64(rand::random_range(0.0..=1.0))
    }
}

/// A failed attempt: the error, and how long the server asked us to wait (`Retry-After` on a
/// 429 or 503), if it did.
#[derive(Debug)]
pub struct Failure {
    pub error: ConnectError,
    pub retry_after: Option<Duration>,
}

impl From<ConnectError> for Failure {
    fn from(error: ConnectError) -> Self {
        Failure { error, retry_after: None }
    }
}

/// Whether a GET may succeed if sent again soon: timeouts, connection errors, 429, and the
/// gateway errors of an overloaded host (502/503/504). A 500 is usually the shop's own bug
/// and comes back at once, so it is not retried here (the engine may still try later).
pub fn worth_retrying(error: &ConnectError) -> bool {
    match error {
        ConnectError::ServerError { status, .. } => matches!(status, 502..=504),
        other => other.is_transient(),
    }
}

/// Runs `attempt` until it succeeds, fails permanently, or the policy's retries are used up;
/// then returns the last error.
pub async fn retry_get<T, F, Fut>(policy: &RetryPolicy, mut attempt: F) -> Result<T, ConnectError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    let (mut retries, mut rate_limit_retries) = (0u32, 0u32);
    loop {
        let failure = match attempt().await {
            Ok(value) => return Ok(value),
            Err(failure) => failure,
        };
        if !worth_retrying(&failure.error) {
            return Err(failure.error);
        }
        let rate_limited = matches!(failure.error, ConnectError::RateLimited { .. });
        let delay = if rate_limited {
            if rate_limit_retries >= policy.max_rate_limit_retries {
                return Err(failure.error);
            }
            rate_limit_retries += 1;
            // A 429 without Retry-After still means "slow down": back off as for other errors.
            failure.retry_after.unwrap_or_else(|| policy.backoff(rate_limit_retries - 1))
        } else {
            if retries >= policy.max_retries {
                return Err(failure.error);
            }
            retries += 1;
            failure.retry_after.map_or_else(|| policy.backoff(retries - 1), |wait| wait.max(policy.backoff(0)))
        };
        if delay > policy.max_retry_after {
            return Err(failure.error);
        }
        tracing::debug!(error = %failure.error, delay_ms = delay.as_millis() as u64, "retrying GET");
        // A little jitter on top of Retry-After, so that every waiter does not return at once.
        tokio::time::sleep(delay + Duration::from_millis(rand::random_range(0..=50))).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::System;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn fast() -> RetryPolicy {
        RetryPolicy {
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
            max_retry_after: Duration::from_secs(1),
            ..RetryPolicy::default()
        }
    }

    fn server_error() -> ConnectError {
        ConnectError::ServerError { system: System::Shopify, host: "h".into(), status: 503, message: "busy".into() }
    }

    #[tokio::test]
    async fn transient_errors_are_retried_until_success() {
        let calls = AtomicU32::new(0);
        let result = retry_get(&fast(), || async {
            if calls.fetch_add(1, Ordering::SeqCst) < 2 { Err(Failure::from(server_error())) } else { Ok(7) }
        })
        .await;
        assert_eq!(result.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn retries_are_bounded_and_the_last_error_returned() {
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = retry_get(&fast(), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(Failure::from(server_error()))
        })
        .await;
        assert!(matches!(result, Err(ConnectError::ServerError { status: 503, .. })));
        assert_eq!(calls.load(Ordering::SeqCst), 1 + fast().max_retries);
    }

    #[tokio::test]
    async fn permanent_errors_are_not_retried() {
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = retry_get(&fast(), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(Failure::from(ConnectError::Unauthorized {
                system: System::WooCommerce,
                host: "h".into(),
                status: 401,
                message: "no".into(),
            }))
        })
        .await;
        assert!(matches!(result, Err(ConnectError::Unauthorized { .. })));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_retry_after_beyond_the_cap_is_returned_at_once() {
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = retry_get(&fast(), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(Failure {
                error: ConnectError::RateLimited {
                    system: System::Shopify,
                    host: "h".into(),
                    retry_after_seconds: 600,
                },
                retry_after: Some(Duration::from_secs(600)),
            })
        })
        .await;
        assert!(matches!(result, Err(ConnectError::RateLimited { retry_after_seconds: 600, .. })));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_500_is_not_retried_but_a_gateway_error_is() {
        let error = |status| ConnectError::ServerError {
            system: System::WooCommerce,
            host: "h".into(),
            status,
            message: "x".into(),
        };
        assert!(!worth_retrying(&error(500)));
        assert!(worth_retrying(&error(502)) && worth_retrying(&error(503)) && worth_retrying(&error(504)));
        assert!(worth_retrying(&ConnectError::Timeout { system: System::Shopify, host: "h".into(), seconds: 30 }));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy::default();
        for retry in 0..20 {
            let d = p.backoff(retry);
            assert!(d <= p.max_delay, "{d:?}");
            let exp = p.base_delay.saturating_mul(2u32.saturating_pow(retry.min(16))).min(p.max_delay);
            assert!(d >= exp / 2);
        }
    }
}
