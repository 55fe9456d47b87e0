//! The one retry policy. Every use of the `backoff` crate is in this file, because the crate is
//! unmaintained (RUSTSEC-2025-0012) and should be easy to replace.
//!
//! Two shapes of retry exist:
//! - reads (searches, listings) retry transient errors in place for a bounded time, so one 429 on
//!   page 5 of a search does not restart the whole sync;
//! - outbox effects never give up: each failed attempt schedules the entry's next attempt with
//!   [`outbox_delay`], stored with the entry so the schedule survives a restart and one slow entry
//!   does not hold up the others.

use backoff::backoff::Backoff;
use backoff::ExponentialBackoff;
use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

/// What a caller may do about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// Try again later: 429, 5xx, timeouts, connection failures.
    Transient,
    /// The credential was refused (401/403); retrying helps only after an admin fixes it.
    Auth,
    /// The request itself is wrong (other 4xx, an `error` in a 200): retrying cannot help.
    Permanent,
}

/// Errors that know their [`ErrorClass`].
pub trait Classify {
    fn class(&self) -> ErrorClass;
    /// A wait the server asked for (from rate-limit headers), if any.
    fn retry_after(&self) -> Option<Duration> {
        None
    }
}

/// How long a read keeps retrying transient errors before it reports the error to its caller.
pub const READ_RETRY_BUDGET: Duration = Duration::from_secs(120);

fn read_backoff() -> ExponentialBackoff {
    ExponentialBackoff {
        initial_interval: Duration::from_millis(500),
        multiplier: 2.0,
        max_interval: Duration::from_secs(30),
        max_elapsed_time: Some(READ_RETRY_BUDGET),
        ..ExponentialBackoff::default()
    }
}

/// Runs a read, retrying it while it fails transiently, for at most [`READ_RETRY_BUDGET`].
pub async fn retry_read<T, E, F, Fut>(what: &str, mut op: F) -> Result<T, E>
where
    E: Classify + Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    backoff::future::retry_notify(
        read_backoff(),
        || {
            let attempt = op();
            async move {
                attempt.await.map_err(|err| match err.class() {
                    ErrorClass::Transient => match err.retry_after() {
                        Some(wait) => backoff::Error::retry_after(err, wait),
                        None => backoff::Error::transient(err),
                    },
                    ErrorClass::Auth | ErrorClass::Permanent => backoff::Error::permanent(err),
                })
            }
        },
        |err: E, wait: Duration| {
            tracing::warn!(what, error = %err, retry_in_ms = wait.as_millis() as u64, "transient error, retrying");
        },
    )
    .await
}

/// The wait before an outbox entry's next attempt, after `failed_attempts` failures: exponential
/// from 1 s, capped at 5 minutes, with jitter, and never giving up (a daemon outlives outages).
pub fn outbox_delay(failed_attempts: u32, class: ErrorClass, server_hint: Option<Duration>) -> Duration {
    let mut policy = ExponentialBackoff {
        initial_interval: Duration::from_secs(1),
        multiplier: 2.0,
        randomization_factor: 0.2,
        max_interval: Duration::from_secs(300),
        max_elapsed_time: None,
        ..ExponentialBackoff::default()
    };
    let mut wait = Duration::from_secs(1);
    for _ in 0..failed_attempts.clamp(1, 32) {
        wait = policy.next_backoff().unwrap_or(policy.max_interval);
    }
    // A refused credential will not heal in seconds: wait at least a minute between tries so the
    // logs stay readable while an admin replaces it.
    if class == ErrorClass::Auth {
        wait = wait.max(Duration::from_secs(60));
    }
    wait.max(server_hint.unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[derive(Debug)]
    struct E(ErrorClass);
    impl Display for E {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{:?}", self.0)
        }
    }
    impl Classify for E {
        fn class(&self) -> ErrorClass {
            self.0
        }
        fn retry_after(&self) -> Option<Duration> {
            Some(Duration::from_millis(1))
        }
    }

    #[tokio::test]
    async fn transient_read_errors_are_retried_and_permanent_ones_are_not() {
        let calls = AtomicU32::new(0);
        let out: Result<u32, E> = retry_read("test", || async {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            if n < 2 {
                Err(E(ErrorClass::Transient))
            } else {
                Ok(n)
            }
        })
        .await;
        assert_eq!(out.unwrap(), 2);

        let calls = AtomicU32::new(0);
        let out: Result<u32, E> = retry_read("test", || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(E(ErrorClass::Permanent))
        })
        .await;
        assert!(out.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn outbox_delay_grows_is_capped_and_honours_hints() {
        let first = outbox_delay(1, ErrorClass::Transient, None);
        let tenth = outbox_delay(10, ErrorClass::Transient, None);
        assert!(first <= Duration::from_millis(1200), "{first:?}");
        assert!(tenth > first);
        assert!(outbox_delay(100, ErrorClass::Transient, None) <= Duration::from_secs(360));
        assert!(outbox_delay(1, ErrorClass::Auth, None) >= Duration::from_secs(60));
        assert_eq!(
            outbox_delay(1, ErrorClass::Transient, Some(Duration::from_secs(42))),
            Duration::from_secs(42)
        );
    }
}
