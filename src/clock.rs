//! Where the engine reads the time: the system clock in the daemon; in tests, a clock the test
//! moves, so retry schedules and due times are tested without waiting real seconds. It is wall
//! time because the times it gives are persisted (due times, in-flight marks). Two other clocks
//! stay apart on purpose: Frame.io's pacing runs on tokio's clock (a paused test runtime controls
//! it), and the IMS token cache on `ims::Clock`'s monotonic `Instant`s (a token's lifetime must
//! not jump with the wall clock).

use crate::timestamp::Timestamp;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Default)]
pub enum Clock {
    /// The wall clock.
    #[default]
    System,
    /// A time the holder sets and moves (tests).
    Manual(Arc<AtomicI64>),
}

impl Clock {
    /// A manual clock that reads `at` until it is moved.
    pub fn manual(at: Timestamp) -> Self {
        Clock::Manual(Arc::new(AtomicI64::new(at.millis())))
    }

    pub fn now(&self) -> Timestamp {
        match self {
            Clock::System => Timestamp::now(),
            Clock::Manual(at) => Timestamp(at.load(Ordering::SeqCst)),
        }
    }

    /// Moves a manual clock on by `by` (the system clock moves by itself: nothing happens).
    pub fn advance(&self, by: Duration) {
        if let Clock::Manual(at) = self {
            at.fetch_add(i64::try_from(by.as_millis()).unwrap_or(i64::MAX), Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = Clock::manual(Timestamp(1_000));
        assert_eq!(clock.now(), Timestamp(1_000));
        clock.advance(Duration::from_secs(2));
        assert_eq!(clock.clone().now(), Timestamp(3_000));
        assert!(Clock::System.now() > Timestamp(1_700_000_000_000));
    }
}
