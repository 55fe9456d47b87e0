//! A store that could not write: sled keeps the first I/O error of its log and refuses every
//! later write with it, also once the disk has room again, so the only way back is to reopen the
//! state dir in a new process. The first failed barrier is recorded here; the daemon reports it on
//! `/healthz`, stops pinging the watchdog and exits non-zero so systemd restarts it.

use std::sync::{Arc, OnceLock};
use tokio_util::sync::CancellationToken;

#[derive(Clone, Default)]
pub(super) struct StorageFailure {
    reason: Arc<OnceLock<String>>,
    signal: CancellationToken,
}

impl StorageFailure {
    /// Records the first failure (later ones say the same thing again).
    pub(super) fn record(&self, reason: String) {
        if self.reason.set(reason).is_ok() {
            self.signal.cancel();
        }
    }

    pub(super) fn reason(&self) -> Option<&str> {
        self.reason.get().map(String::as_str)
    }

    pub(super) fn signal(&self) -> &CancellationToken {
        &self.signal
    }
}
