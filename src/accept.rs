//! Pausing after failed accepts, for both listeners (the control socket and `[http]`).
//!
//! When accept fails (out of file descriptors, say), retrying at once spins a core and floods the
//! log while fixing nothing. A burst of failures is logged once when it starts and once when it
//! ends, with pauses that double from 10 ms to 1 s in between.

use std::future::Future;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Debug)]
pub struct AcceptErrors {
    /// Which listener, for the two log lines.
    listener: &'static str,
    in_a_row: u32,
}

impl AcceptErrors {
    const FIRST_PAUSE: Duration = Duration::from_millis(10);
    const LONGEST_PAUSE: Duration = Duration::from_secs(1);

    pub fn new(listener: &'static str) -> Self {
        Self { listener, in_a_row: 0 }
    }

    /// The next connection `accept` yields, pausing after each failure; `None` once `shutdown`
    /// is cancelled.
    pub async fn next<S, F>(&mut self, shutdown: &CancellationToken, mut accept: impl FnMut() -> F) -> Option<S>
    where
        F: Future<Output = std::io::Result<S>>,
    {
        loop {
            let accepted = tokio::select! {
                _ = shutdown.cancelled() => return None,
                accepted = accept() => accepted,
            };
            match accepted {
                Ok(stream) => {
                    self.recovered();
                    return Some(stream);
                }
                Err(err) => {
                    let pause = self.failed(&err);
                    tokio::select! {
                        _ = shutdown.cancelled() => return None,
                        _ = tokio::time::sleep(pause) => {}
                    }
                }
            }
        }
    }

    /// Records a failed accept; returns how long to pause before the next.
    fn failed(&mut self, err: &std::io::Error) -> Duration {
        if self.in_a_row == 0 {
            tracing::warn!(error = %err, "{} accept failed; pausing between attempts until it works again", self.listener);
        }
        self.in_a_row = self.in_a_row.saturating_add(1);
        let doublings = (self.in_a_row - 1).min(7);
        (Self::FIRST_PAUSE * 2u32.pow(doublings)).min(Self::LONGEST_PAUSE)
    }

    /// An accept worked: ends a burst.
    fn recovered(&mut self) {
        if self.in_a_row > 0 {
            tracing::warn!(failed_accepts = self.in_a_row, "{} accepts again", self.listener);
            self.in_a_row = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_grow_while_failures_last_and_reset_after_a_success() {
        let mut errors = AcceptErrors::new("test");
        let emfile = std::io::Error::from_raw_os_error(libc::EMFILE);
        let pauses: Vec<u128> = (0..10).map(|_| errors.failed(&emfile).as_millis()).collect();
        assert_eq!(pauses, [10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000]);
        errors.recovered();
        assert_eq!(errors.failed(&emfile), Duration::from_millis(10));
    }
}
