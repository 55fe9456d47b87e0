//! The durable state, on sled: mirrors, the outbox, the poll cursor and the last sync.
//!
//! Trees:
//! - `mirrors`: Workfront project id → [`MirrorRecord`];
//! - `outbox`: [`OutboxId`] (big-endian) → [`OutboxEntry`];
//! - `outbox_keys`: effect key → [`OutboxId`], so an effect is enqueued at most once;
//! - `meta`: `cursor` and `last_sync`;
//! - `users`: Workfront user id → [`UserRecord`] (every user, as last read);
//! - `collaborators`: `<project id>/<user id>` → [`CollaboratorRecord`] (what we added, F3–F5);
//! - `directory`: Frame.io account id → [`DirectoryRecord`] (its users by email);
//! - `connections`: Workfront group id → [`ConnectionRecord`] (F2);
//! - `submissions`: Workfront document version id → [`SubmissionRecord`] (the review loop);
//! - `folders`: the one-way folder's folders, pushed document versions and reports (`folders.rs`);
//! - `inbox`, `inbox_seen`, `event_marks`: Workfront events, see [`inbox`]. Each connection's token is a
//!   file of its own, `tokens/<group id>`, mode 0600 in the 0700 state dir; the record holds only
//!   its fingerprint.
//!
//! Every change that must stay consistent across trees is one sled transaction, and sled recovers
//! transactions atomically. Durability is separate: a write is on stable storage only after
//! [`Store::flush`] returns, so callers flush before they acknowledge anything or send a request
//! that must not be sent twice. `flush` is sled's flush followed by a real `fdatasync`
//! (`barrier.rs`: sled's own is no barrier against a power cut), shared by every caller waiting at
//! the same moment (group commit). It runs on a blocking thread because sled 0.34's `flush_async`
//! can deadlock (sled #1308).

pub mod backup;
mod barrier;
mod collaborators;
mod connections;
mod failure;
mod folders;
pub mod inbox;
mod outbox;
mod permit;
mod ready;
pub mod records;
pub mod secret_files;
mod submissions;

pub use collaborators::Arrival;
pub use folders::{FolderRecord, FolderReport, PushedRecord, FINISH_KEY_PREFIX, FOLDER_V};
pub use outbox::{OutboxCounts, OutboxView, RecordedPlan, Recording};
pub use permit::SendPermit;
pub use ready::{Ready, Tally};
pub use records::{
    Broken, CollaboratorRecord, ConnectionCredential, ConnectionRecord, DirectoryRecord, EntryState, InFlight,
    MirrorChange, MirrorOrigin, MirrorRecord, OutboxEntry, ParkCause, Priority, SyncRecord, UserRecord,
};
pub use submissions::{SubmissionRecord, SUBMISSION_V};

use crate::ids::{FrameioProjectId, WorkfrontProjectId};
use crate::timestamp::Timestamp;
use barrier::Barrier;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("state dir {dir} is in use by another process (is the daemon running?)")]
    Locked { dir: PathBuf },
    #[error("cannot open the state dir {dir}: {source}")]
    Open { dir: PathBuf, source: sled::Error },
    #[error(
        "cannot open the state dir {dir}: sled finds its files corrupt ({source}); the log is {log} and the newest snapshot {snapshot}. \
         Stop here: move {dir}/db aside (do not delete it, keep it for a bug report) and restore the state dir from a backup"
    )]
    Corrupted {
        dir: PathBuf,
        log: String,
        snapshot: String,
        source: sled::Error,
    },
    #[error("cannot create the state dir {dir}: {source}; the service user must be able to write its parent folder")]
    Create { dir: PathBuf, source: std::io::Error },
    /// Making writes durable failed (an fsync, or the listing or open before one): nothing written since the last one is known to
    /// be on disk, so nothing depending on it is acknowledged or sent.
    #[error("cannot make the state in {dir} durable ({source}); check the disk and the kernel log (dmesg)")]
    Durability { dir: PathBuf, source: std::io::Error },
    #[error("state store: {0}")]
    Sled(#[from] sled::Error),
    #[error("state store: unreadable record in {tree} at {key}: {message}")]
    Corrupt {
        tree: &'static str,
        key: String,
        message: String,
    },
    #[error(
        "state store: the record in {tree} at {key} has format v{v}, and this release reads up to v{reads}: \
         a newer release wrote it. Run that release again (or restore the state dir from a backup made before it)"
    )]
    NewerFormat {
        tree: &'static str,
        key: String,
        v: u32,
        reads: u32,
    },
    #[error("outbox entry {0} does not exist")]
    NoSuchEntry(crate::ids::OutboxId),
    #[error("the token file {path}: {message}")]
    Token { path: PathBuf, message: String },
}

#[derive(Clone)]
pub struct Store {
    dir: PathBuf,
    db: sled::Db,
    mirrors: sled::Tree,
    outbox: sled::Tree,
    outbox_keys: sled::Tree,
    meta: sled::Tree,
    connections: sled::Tree,
    users: sled::Tree,
    collaborators: sled::Tree,
    directory: sled::Tree,
    inbox: sled::Tree,
    inbox_seen: sled::Tree,
    event_marks: sled::Tree,
    submissions: sled::Tree,
    folders: sled::Tree,
    barrier: Arc<Barrier>,
    group: Arc<GroupFlush>,
    failure: failure::StorageFailure,
    ready: Arc<ready::ReadyIndex>,
}

/// See [`Store::mark`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlushMark(u64);

/// Callers of [`Store::flush`] at the same moment share one barrier: each takes a ticket, and the
/// barrier that starts after a ticket was taken covers it.
#[derive(Default)]
struct GroupFlush {
    /// Queues the callers; the one holding it runs a barrier unless one already covered it.
    gate: tokio::sync::Mutex<()>,
    /// Tickets handed out.
    requested: AtomicU64,
    /// Every ticket up to this one is durable.
    completed: AtomicU64,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("dir", &self.dir).finish_non_exhaustive()
    }
}

/// How long a command (or a starting daemon) waits for a state dir that another process holds.
pub const LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(5);

const META_CURSOR: &[u8] = b"cursor";
/// sled's page cache.
const CACHE_BYTES: u64 = 16 * 1024 * 1024;
const META_LAST_SYNC: &[u8] = b"last_sync";
const META_REMOVAL_GUARD: &[u8] = b"removal_guard";

impl Store {
    /// Opens (creating if needed, mode 0700) the store in `dir`. sled admits one process per dir:
    /// a second one gets [`StoreError::Locked`]. A snapshot left incomplete by a cut while sled
    /// wrote it is set aside first (see `barrier.rs`), and what sled created is made durable.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let durability = |source| StoreError::Durability {
            dir: dir.to_owned(),
            source,
        };
        crate::durable::create_dir_all(dir, 0o700).map_err(|source| StoreError::Create {
            dir: dir.to_owned(),
            source,
        })?;
        let db_dir = dir.join("db");
        let set_aside = match barrier::set_aside_interrupted_snapshots(dir, &db_dir) {
            Ok(moved) => moved,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                return Err(StoreError::Locked { dir: dir.to_owned() })
            }
            Err(e) => return Err(durability(e)),
        };
        for moved in set_aside {
            tracing::warn!(
                moved_to = %moved.display(),
                "set aside an incomplete sled snapshot (a cut while it was written); sled rebuilds it from its log"
            );
        }
        // sled's page cache defaults to 1 GiB; the daemon's working set is far smaller, and an
        // admin's 3 a.m. `top` should show a small process.
        let db = sled::Config::new()
            .path(&db_dir)
            .cache_capacity(CACHE_BYTES)
            .open()
            .map_err(|e| open_error(dir, &db_dir, e))?;
        let barrier = Barrier::after_open(dir, &db_dir).map_err(durability)?;
        let mut store = Self {
            dir: dir.to_owned(),
            mirrors: db.open_tree("mirrors")?,
            outbox: db.open_tree("outbox")?,
            outbox_keys: db.open_tree("outbox_keys")?,
            meta: db.open_tree("meta")?,
            connections: db.open_tree("connections")?,
            users: db.open_tree("users")?,
            collaborators: db.open_tree("collaborators")?,
            directory: db.open_tree("directory")?,
            inbox: db.open_tree("inbox")?,
            inbox_seen: db.open_tree("inbox_seen")?,
            event_marks: db.open_tree("event_marks")?,
            submissions: db.open_tree("submissions")?,
            folders: db.open_tree("folders")?,
            barrier: Arc::new(barrier),
            group: Arc::default(),
            failure: Default::default(),
            ready: Arc::default(),
            db,
        };
        store.ready = Arc::new(ready::ReadyIndex::build(&store.outbox_entries()?));
        Ok(store)
    }

    /// Like [`Store::open`], but while another process holds the dir, tries again every 100 ms for
    /// up to `patience`. A CLI command holds it only for a moment, and neither it nor a daemon that
    /// is starting should fail because the other got there first.
    pub async fn open_patiently(dir: &Path, patience: std::time::Duration) -> Result<Self, StoreError> {
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            match Self::open(dir) {
                Err(StoreError::Locked { .. }) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                other => return other,
            }
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Barriers (log fsyncs) so far by this handle and its clones: the benchmarks' "fsyncs".
    pub fn flush_count(&self) -> u64 {
        self.barrier.fsyncs()
    }

    /// Makes every write so far durable: when it returns, they survive a power cut (as far as the
    /// drive honours a cache flush). Concurrent callers share one barrier.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let ticket = self.group.requested.fetch_add(1, Ordering::SeqCst) + 1;
        let _turn = self.group.gate.lock().await;
        if self.group.completed.load(Ordering::SeqCst) >= ticket {
            return Ok(()); // a barrier that started after our ticket covered us
        }
        // Every ticket handed out so far was taken after its writes: this barrier covers them all.
        let covers = self.group.requested.load(Ordering::SeqCst);
        let (db, barrier) = (self.db.clone(), self.barrier.clone());
        let synced = tokio::task::spawn_blocking(move || sync_now(&db, &barrier))
            .await
            .expect("the flush task does not panic");
        self.noting_failure(synced)?;
        self.group.completed.fetch_max(covers, Ordering::SeqCst);
        Ok(())
    }

    /// A mark to ask later whether a flush has covered every write made before it: writes made
    /// before `mark()` are durable once [`Store::covered`] says so.
    pub fn mark(&self) -> FlushMark {
        FlushMark(self.group.requested.load(Ordering::SeqCst))
    }

    /// Whether a barrier that started after `mark` was taken has completed.
    pub fn covered(&self, mark: FlushMark) -> bool {
        self.group.completed.load(Ordering::SeqCst) > mark.0
    }

    /// The same, for code that is not async (the CLI without a daemon, the control socket).
    pub fn flush_blocking(&self) -> Result<(), StoreError> {
        self.noting_failure(sync_now(&self.db, &self.barrier))
    }

    /// Why the store can no longer write, once a barrier failed (see `failure.rs`): nothing more
    /// can be made durable by this process.
    pub fn storage_failure(&self) -> Option<&str> {
        self.failure.reason()
    }

    /// Whether the store can still write, for a daemon with nothing to make durable: sled's flush
    /// alone, which reports an error its background writer met, without the barrier's fsyncs.
    pub async fn check_writable(&self) -> Result<(), StoreError> {
        let (db, db_dir) = (self.db.clone(), self.barrier.db_dir().to_owned());
        let flushed = tokio::task::spawn_blocking(move || sled_flush(&db, &db_dir))
            .await
            .expect("the flush task does not panic");
        self.noting_failure(flushed)
    }

    /// Cancelled when [`Store::storage_failure`] becomes known.
    pub fn storage_failed(&self) -> &tokio_util::sync::CancellationToken {
        self.failure.signal()
    }

    fn noting_failure(&self, synced: Result<(), StoreError>) -> Result<(), StoreError> {
        if let Err(err) = &synced {
            self.failure.record(err.to_string());
        }
        synced
    }

    pub fn mirror(&self, id: &WorkfrontProjectId) -> Result<Option<MirrorRecord>, StoreError> {
        self.mirrors
            .get(id.as_str())?
            .map(|v| decode("mirrors", id.as_str(), &v))
            .transpose()
    }

    pub fn mirrors(&self) -> Result<Vec<MirrorRecord>, StoreError> {
        self.mirrors
            .iter()
            .map(|kv| {
                let (k, v) = kv?;
                decode("mirrors", &String::from_utf8_lossy(&k), &v)
            })
            .collect()
    }

    /// The mirror record of a Frame.io project, if it is one of our mirrors.
    pub fn mirror_of_frameio_project(&self, project: &FrameioProjectId) -> Result<Option<MirrorRecord>, StoreError> {
        Ok(self.mirrors()?.into_iter().find(|m| &m.frameio_project == project))
    }

    pub fn mirror_count(&self) -> usize {
        self.mirrors.len()
    }

    /// The Frame.io projects that already mirror some Workfront project.
    pub fn mirrored_frameio_ids(&self) -> Result<HashSet<FrameioProjectId>, StoreError> {
        Ok(self.mirrors()?.into_iter().map(|m| m.frameio_project).collect())
    }

    /// Where the next incremental poll starts.
    pub fn cursor(&self) -> Result<Option<Timestamp>, StoreError> {
        self.meta
            .get(META_CURSOR)?
            .map(|v| decode_value("meta", "cursor", &v))
            .transpose()
    }

    pub fn last_sync(&self) -> Result<Option<SyncRecord>, StoreError> {
        self.meta
            .get(META_LAST_SYNC)?
            .map(|v| decode("meta", "last_sync", &v))
            .transpose()
    }

    /// Remembers the mass-removal guard's last trip, for `status` while its removals are held.
    pub fn record_guard_trip(&self, trip: &crate::core::collaborator_plan::GuardTrip) -> Result<(), StoreError> {
        self.meta.insert(META_REMOVAL_GUARD, encode(trip))?;
        Ok(())
    }

    pub fn last_guard_trip(&self) -> Result<Option<crate::core::collaborator_plan::GuardTrip>, StoreError> {
        self.meta
            .get(META_REMOVAL_GUARD)?
            .map(|v| decode_value("meta", "removal_guard", &v))
            .transpose()
    }

    /// Records a sync's outcome, numbering it after the previous one.
    pub fn record_sync(&self, mut record: SyncRecord) -> Result<SyncRecord, StoreError> {
        record.seq = self.last_sync()?.map_or(1, |s| s.seq + 1);
        self.meta.insert(META_LAST_SYNC, encode(&record))?;
        Ok(record)
    }
}

/// sled's flush, then the barrier that makes it durable.
fn sync_now(db: &sled::Db, barrier: &Barrier) -> Result<(), StoreError> {
    sled_flush(db, barrier.db_dir())?;
    barrier.sync().map_err(|source| StoreError::Durability {
        dir: barrier.db_dir().to_owned(),
        source,
    })
}

/// sled's flush: it writes what sled buffers, and returns the I/O error sled keeps once one met it.
fn sled_flush(db: &sled::Db, db_dir: &Path) -> Result<(), StoreError> {
    db.flush().map(|_| ()).map_err(|e| match e {
        // A full disk, say: the admin needs the dir and what to check, not "IO error".
        sled::Error::Io(source) => StoreError::Durability {
            dir: db_dir.to_owned(),
            source,
        },
        other => StoreError::Sled(other),
    })
}

/// What a failed sled open means for the admin: locked by another process, or corrupt files
/// (named, with what to do), or plain I/O.
fn open_error(dir: &Path, db_dir: &Path, e: sled::Error) -> StoreError {
    match &e {
        sled::Error::Io(io) if io.kind() == std::io::ErrorKind::WouldBlock || io.to_string().contains("lock") => {
            StoreError::Locked { dir: dir.to_owned() }
        }
        sled::Error::Corruption { .. } => {
            let newest_snapshot = std::fs::read_dir(db_dir)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("snap."))
                .max();
            StoreError::Corrupted {
                dir: dir.to_owned(),
                log: db_dir.join("db").display().to_string(),
                snapshot: newest_snapshot.map_or_else(|| "(none)".to_owned(), |n| db_dir.join(n).display().to_string()),
                source: e,
            }
        }
        _ => StoreError::Open {
            dir: dir.to_owned(),
            source: e,
        },
    }
}

pub(crate) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("store records serialize")
}

/// A record the store persists with its format version `v` (see `records.rs`).
pub(crate) trait Record: DeserializeOwned {
    /// The version this release writes.
    const V: u32;

    /// Reads a record an earlier release wrote at version `v` (< `V`): the old shape, converted.
    /// `None`: no release wrote that version. A type that bumps `V` overrides this.
    fn read_older(v: u32, bytes: &[u8]) -> Option<Result<Self, serde_json::Error>> {
        let _ = (v, bytes);
        None
    }
}

/// Reads a record: its version first, then the shape of that version. A version newer than this
/// release writes is refused (a downgrade): reading it as today's shape could lose what it holds.
pub(crate) fn decode<T: Record>(tree: &'static str, key: &str, bytes: &[u8]) -> Result<T, StoreError> {
    #[derive(serde::Deserialize)]
    struct Version {
        v: u32,
    }
    let corrupt = |message: String| StoreError::Corrupt {
        tree,
        key: key.to_owned(),
        message,
    };
    let Version { v } = serde_json::from_slice(bytes).map_err(|e| corrupt(format!("no format version: {e}")))?;
    match v.cmp(&T::V) {
        std::cmp::Ordering::Equal => serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string())),
        std::cmp::Ordering::Less => match T::read_older(v, bytes) {
            Some(read) => read.map_err(|e| corrupt(format!("format v{v}: {e}"))),
            None => Err(corrupt(format!("format v{v} was never written by a release"))),
        },
        std::cmp::Ordering::Greater => Err(StoreError::NewerFormat {
            tree,
            key: key.to_owned(),
            v,
            reads: T::V,
        }),
    }
}

/// Reads a plain value (a cursor, a time): no version of its own.
pub(crate) fn decode_value<T: DeserializeOwned>(tree: &'static str, key: &str, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        tree,
        key: key.to_owned(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests;
