//! The Frame.io account directories (each account's users by email) as the engine holds them,
//! with when each was fetched and last tried: a miss may refetch one at most once per interval.
//! `collaborators.rs` fetches them; the store keeps a copy for restarts.

use crate::core::collaborator_plan::Directory;
use crate::ids::{FrameioAccountId, FrameioUserId};
use crate::store::DirectoryRecord;
use crate::timestamp::Timestamp;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

pub(super) struct Directories {
    by_account: Mutex<HashMap<FrameioAccountId, DirectoryState>>,
    /// At most one fetch per account per this interval (`collaborators.directory_refresh`).
    refresh: Duration,
    /// The same while work is parked for a missing user (`collaborators.missing_user_recheck`).
    recheck: Duration,
}

/// Why a directory is wanted: which interval applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Miss {
    /// A lookup (a submission's user): `directory_refresh`.
    Lookup,
    /// A plan found someone missing, whose work is parked until they are found:
    /// `missing_user_recheck`.
    Parked,
}

/// An account's directory.
#[derive(Debug, Default)]
struct DirectoryState {
    by_email: Directory,
    /// When the stored copy was fetched (`None`: never).
    fetched_at: Option<Timestamp>,
    /// When this process last tried to fetch it, successful or not (on the engine's clock).
    attempted: Option<Timestamp>,
}

impl Directories {
    /// The stored copies, none tried yet by this process.
    pub fn new(records: Vec<DirectoryRecord>, refresh: Duration, recheck: Duration) -> Self {
        let by_account = records
            .into_iter()
            .map(|record| {
                let state = DirectoryState {
                    by_email: record.by_email.into_iter().collect(),
                    fetched_at: Some(record.fetched_at),
                    attempted: None,
                };
                (record.account, state)
            })
            .collect();
        Self {
            by_account: Mutex::new(by_account),
            refresh,
            recheck,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<FrameioAccountId, DirectoryState>> {
        self.by_account.lock().expect("directories lock")
    }

    /// Whether a miss in `account` may refetch its directory at `now`.
    pub fn due(&self, account: &FrameioAccountId, miss: Miss, now: Timestamp) -> bool {
        let interval = match miss {
            Miss::Lookup => self.refresh,
            Miss::Parked => self.recheck,
        };
        let long_enough = |at: Timestamp| at <= now.saturating_sub(interval);
        self.lock().get(account).is_none_or(|d| match d.attempted {
            Some(at) => long_enough(at),
            // Not tried by this process yet: the stored copy's age decides.
            None => d.fetched_at.is_none_or(long_enough),
        })
    }

    /// Makes every directory due at its next miss (a full resync, SIGHUP: the admin asks for
    /// everything to be read again).
    pub fn expire(&self) {
        for d in self.lock().values_mut() {
            d.attempted = None;
            d.fetched_at = None;
        }
    }

    /// A fetch of `account`'s directory starts (whatever comes of it, it counts as a try).
    pub fn attempting(&self, account: &FrameioAccountId, now: Timestamp) {
        self.lock().entry(account.clone()).or_default().attempted = Some(now);
    }

    /// A fetch succeeded.
    pub fn fetched(&self, record: DirectoryRecord, now: Timestamp) {
        let state = DirectoryState {
            by_email: record.by_email.into_iter().collect(),
            fetched_at: Some(record.fetched_at),
            attempted: Some(now),
        };
        self.lock().insert(record.account, state);
    }

    /// Every directory, for a plan.
    pub fn snapshot(&self) -> HashMap<FrameioAccountId, Directory> {
        self.lock()
            .iter()
            .map(|(a, d)| (a.clone(), d.by_email.clone()))
            .collect()
    }

    /// The email `user` has in `account`'s directory, if it is listed.
    pub fn email_of(&self, account: &FrameioAccountId, user: &FrameioUserId) -> Option<String> {
        self.lock()
            .get(account)
            .and_then(|d| d.by_email.iter().find(|(_, id)| *id == user).map(|(e, _)| e.clone()))
    }
}
