//! systemd integration through `sd_notify`: readiness, status, watchdog, reload and stop.
//!
//! Every call is silent when `NOTIFY_SOCKET` is not set (a terminal, the tests, the demo). A failed
//! send is logged at debug level and otherwise ignored: systemd being unreachable must not stop the
//! daemon's work.
//!
//! The watchdog is fed only while the daemon's loops are alive: each loop beats its [`Heartbeat`]
//! at least every [`BEAT`] while it waits, and between steps while it works. [`watchdog_due`]
//! says whether every heartbeat is recent enough; a loop stuck in one step for longer than
//! `WatchdogSec=` stops the pings, and systemd restarts the service.

use sd_notify::NotifyState;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How often a waiting loop beats its heartbeat.
pub const BEAT: Duration = Duration::from_secs(1);

fn send(states: &[NotifyState]) {
    if let Err(err) = sd_notify::notify(states) {
        tracing::debug!(error = %err, "sd_notify failed");
    }
}

/// `READY=1`: start-up (or a reload) is complete.
pub fn ready() {
    send(&[NotifyState::Ready]);
}

/// `RELOADING=1` with `MONOTONIC_USEC`, which systemd ≥ 253 requires with it.
pub fn reloading() {
    match NotifyState::monotonic_usec_now() {
        Ok(now) => send(&[NotifyState::Reloading, now]),
        Err(_) => send(&[NotifyState::Reloading]),
    }
}

/// `STOPPING=1`.
pub fn stopping() {
    send(&[NotifyState::Stopping]);
}

/// `STATUS=…`: the one line `systemctl status` shows.
pub fn status(line: &str) {
    send(&[NotifyState::Status(line)]);
}

/// `WATCHDOG=1`.
pub fn watchdog() {
    send(&[NotifyState::Watchdog]);
}

/// `WATCHDOG_USEC` for this process, if systemd enabled a watchdog.
pub fn watchdog_timeout() -> Option<Duration> {
    sd_notify::watchdog_enabled()
}

/// When a loop last showed it was alive, in milliseconds since the daemon started.
#[derive(Clone, Debug)]
pub struct Heartbeat {
    origin: Instant,
    last_ms: Arc<AtomicU64>,
}

impl Heartbeat {
    pub fn new() -> Self {
        Self {
            origin: Instant::now(),
            last_ms: Arc::new(AtomicU64::new(0)),
        }
    }

    pub fn beat(&self) {
        self.last_ms
            .store(self.origin.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    /// Time since the last beat.
    pub fn age(&self) -> Duration {
        let now = self.origin.elapsed().as_millis() as u64;
        Duration::from_millis(now.saturating_sub(self.last_ms.load(Ordering::Relaxed)))
    }
}

impl Default for Heartbeat {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether to ping the watchdog now: every heartbeat is younger than the watchdog's timeout.
pub fn watchdog_due(heartbeats: &[&Heartbeat], timeout: Duration) -> bool {
    heartbeats.iter().all(|h| h.age() < timeout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_watchdog_is_fed_only_while_every_loop_beats() {
        let sync = Heartbeat::new();
        let worker = Heartbeat::new();
        let timeout = Duration::from_secs(10);
        sync.beat();
        worker.beat();
        assert!(watchdog_due(&[&sync, &worker], timeout));
        tokio::time::advance(Duration::from_secs(6)).await;
        sync.beat();
        tokio::time::advance(Duration::from_secs(6)).await;
        // The worker has not beaten for 12 s: it is stuck, so the pings stop.
        assert!(!watchdog_due(&[&sync, &worker], timeout));
        worker.beat();
        assert!(watchdog_due(&[&sync, &worker], timeout));
    }
}
