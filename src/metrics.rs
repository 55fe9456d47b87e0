//! Counters the daemon keeps for `GET /metrics`. Gauges (outbox depth, inbox depth, API calls)
//! are read from the store and the clients when scraped; only what happens in passing is counted
//! here.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// What became of an event delivery, as a label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EventOutcome {
    Accepted,
    Duplicate,
    Unauthorized,
    TooLarge,
    Malformed,
    /// Not recorded (store failure, stopping, no token configured): Workfront delivers again.
    Unavailable,
}

impl EventOutcome {
    pub fn label(self) -> &'static str {
        match self {
            EventOutcome::Accepted => "accepted",
            EventOutcome::Duplicate => "duplicate",
            EventOutcome::Unauthorized => "rejected_unauthorized",
            EventOutcome::TooLarge => "rejected_too_large",
            EventOutcome::Malformed => "rejected_malformed",
            EventOutcome::Unavailable => "unavailable",
        }
    }
}

#[derive(Debug, Default)]
pub struct Metrics {
    events: Mutex<BTreeMap<EventOutcome, u64>>,
    syncs: AtomicU64,
    sync_failures: AtomicU64,
    sync_micros_total: AtomicU64,
    last_sync_micros: AtomicU64,
}

impl Metrics {
    pub fn event(&self, outcome: EventOutcome) {
        *self.events.lock().expect("metrics lock").entry(outcome).or_default() += 1;
    }

    pub fn events(&self) -> BTreeMap<EventOutcome, u64> {
        self.events.lock().expect("metrics lock").clone()
    }

    pub fn sync_done(&self, micros: u64, failed: bool) {
        self.syncs.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.sync_failures.fetch_add(1, Ordering::Relaxed);
        }
        self.sync_micros_total.fetch_add(micros, Ordering::Relaxed);
        self.last_sync_micros.store(micros, Ordering::Relaxed);
    }

    /// (syncs, failed syncs, total seconds, last sync's seconds)
    pub fn syncs(&self) -> (u64, u64, f64, f64) {
        (
            self.syncs.load(Ordering::Relaxed),
            self.sync_failures.load(Ordering::Relaxed),
            self.sync_micros_total.load(Ordering::Relaxed) as f64 / 1e6,
            self.last_sync_micros.load(Ordering::Relaxed) as f64 / 1e6,
        )
    }
}
