//! The durability barrier under [`super::Store::flush`], and the repair of an interrupted open.
//!
//! sled 0.34's `Db::flush` writes its buffers and then, on Linux, calls
//! `sync_file_range(WAIT_BEFORE | WRITE | WAIT_AFTER)` (`pagecache/iobuf.rs`): it starts writeback
//! but updates neither the file's size nor its metadata and flushes no drive cache, so it is no
//! barrier against a power cut. sled's real `fsync` comes from its background thread every 500 ms,
//! which is why an acknowledged event or an in-flight mark could vanish at a cut. So after sled's
//! flush we `fdatasync` what it wrote ourselves:
//! - values larger than a quarter segment (128 KiB) are blob files of their own (`db/blobs/<lsn>`),
//!   written with no fsync at all: each new one is fsynced (and its directory) *before* the log
//!   that points to it;
//! - the log file `db/db`, through a handle kept open for it;
//! - the `db/` directory whenever its listing changed (sled renames snapshots into place and never
//!   fsyncs a directory).
//!
//! A cut while sled writes the snapshot it makes at every open leaves `snap.<lsn>.generating`,
//! which sled then takes for the newest snapshot and refuses to start with ("Read corrupted
//! data"). [`set_aside_interrupted_snapshots`] moves such a file out of `db/` before sled opens,
//! but only when its checksum proves it incomplete: a complete one is a valid snapshot sled may
//! need, and is left where it is.

use crate::durable::{sync_dir, sync_parent};
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Where files proven to be garbage are moved (never deleted), inside the state dir.
const SET_ASIDE_DIR: &str = "set-aside";

pub(super) struct Barrier {
    db_dir: PathBuf,
    /// sled's log, opened read-only: fsync(2) works on any descriptor of the inode.
    log: File,
    seen: Mutex<Seen>,
    fsyncs: AtomicU64,
}

#[derive(Default)]
struct Seen {
    /// Blob files already fsynced.
    blobs: BTreeSet<OsString>,
    /// `db/`'s listing when it was last fsynced.
    listing: BTreeSet<OsString>,
}

impl Barrier {
    /// Called right after sled opened `db_dir` (inside `state_dir`): makes durable what sled
    /// created or renamed at open — its configuration file, log, blob folder and snapshot — and
    /// the directories that hold them, none of which sled fsyncs.
    pub(super) fn after_open(state_dir: &Path, db_dir: &Path) -> io::Result<Self> {
        let log = File::open(db_dir.join("db"))?;
        log.sync_all()?;
        let conf = db_dir.join("conf");
        if conf.exists() {
            File::open(&conf)?.sync_all()?;
        }
        let barrier = Self {
            db_dir: db_dir.to_owned(),
            log,
            seen: Mutex::default(),
            fsyncs: AtomicU64::new(0),
        };
        {
            let mut seen = barrier.seen.lock().expect("the barrier's lock is never poisoned");
            barrier.sync_new_blobs(&mut seen)?;
            sync_dir(&barrier.blob_dir())?;
            seen.listing = listing(db_dir)?;
            sync_dir(db_dir)?;
        }
        sync_dir(state_dir)?;
        sync_parent(state_dir)?;
        Ok(barrier)
    }

    /// Makes everything sled has written so far durable. Call it after sled's own flush, on a
    /// blocking thread.
    pub(super) fn sync(&self) -> io::Result<()> {
        let mut seen = self.seen.lock().expect("the barrier's lock is never poisoned");
        // Blobs first: a log record durable before the blob it points to would be a dangling
        // pointer after a cut.
        self.sync_new_blobs(&mut seen)?;
        self.log.sync_data()?;
        self.fsyncs.fetch_add(1, Ordering::Relaxed);
        let now = listing(&self.db_dir)?;
        if now != seen.listing {
            sync_dir(&self.db_dir)?;
            seen.listing = now;
        }
        Ok(())
    }

    pub(super) fn db_dir(&self) -> &Path {
        &self.db_dir
    }

    /// fsyncs of the log so far (the benchmark's "fsyncs per event").
    pub(super) fn fsyncs(&self) -> u64 {
        self.fsyncs.load(Ordering::Relaxed)
    }

    fn blob_dir(&self) -> PathBuf {
        self.db_dir.join("blobs")
    }

    fn sync_new_blobs(&self, seen: &mut Seen) -> io::Result<()> {
        let present = listing(&self.blob_dir())?;
        let mut new = false;
        for name in present.difference(&seen.blobs) {
            match File::open(self.blob_dir().join(name)) {
                Ok(file) => file.sync_data()?,
                // sled removes blobs it no longer needs; one gone since the listing needs nothing.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            }
            new = true;
        }
        if new {
            sync_dir(&self.blob_dir())?;
        }
        seen.blobs = present;
        Ok(())
    }
}

fn listing(dir: &Path) -> io::Result<BTreeSet<OsString>> {
    match std::fs::read_dir(dir) {
        Ok(entries) => entries.map(|e| e.map(|e| e.file_name())).collect(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(BTreeSet::new()),
        Err(e) => Err(e),
    }
}

/// Before sled opens `db_dir`: moves every `snap.*.generating` file whose checksum proves it
/// incomplete into `<state_dir>/set-aside/`, and returns where each went. A complete one (a cut
/// after its fsync but before its rename) is a valid snapshot and stays.
///
/// It holds sled's own lock (`flock` on `db/db`, as sled takes it) while it looks: a running
/// daemon may be writing a snapshot right now, and that one is not garbage. If another process
/// holds the lock, nothing is touched and the error is `WouldBlock`.
pub(super) fn set_aside_interrupted_snapshots(state_dir: &Path, db_dir: &Path) -> io::Result<Vec<PathBuf>> {
    // flock needs no write access.
    let log = match File::open(db_dir.join("db")) {
        Ok(log) => log,
        // No log, no database yet: nothing of sled's to repair.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    use std::os::unix::io::AsRawFd;
    // SAFETY: flock on a descriptor we own; released when `log` is closed at the end.
    if unsafe { libc::flock(log.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut moved = Vec::new();
    for name in listing(db_dir)? {
        let text = name.to_string_lossy();
        if !(text.starts_with("snap.") && text.ends_with(".generating")) {
            continue;
        }
        let path = db_dir.join(&name);
        if snapshot_is_complete(&path)? {
            continue;
        }
        let aside = state_dir.join(SET_ASIDE_DIR);
        crate::durable::create_dir_all(&aside, 0o700)?;
        let mut to = aside.join(&name);
        let mut n = 1;
        while to.exists() {
            to = aside.join(format!("{text}.{n}"));
            n += 1;
        }
        std::fs::rename(&path, &to)?;
        sync_dir(&aside)?;
        sync_dir(db_dir)?;
        moved.push(to);
    }
    drop(log);
    Ok(moved)
}

/// sled's snapshot layout: the bytes, their length (u64 LE), then the CRC32 of the bytes (u32 LE).
fn snapshot_is_complete(path: &Path) -> io::Result<bool> {
    let mut bytes = Vec::new();
    File::open(path)?.read_to_end(&mut bytes)?;
    if bytes.len() <= 12 {
        return Ok(false);
    }
    let (body, trailer) = bytes.split_at(bytes.len() - 12);
    let stored = u32::from_le_bytes(trailer[8..12].try_into().expect("four bytes"));
    Ok(crc32fast::hash(body) == stored)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(body: &[u8]) -> Vec<u8> {
        let mut bytes = body.to_vec();
        bytes.extend_from_slice(&(body.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
        bytes
    }

    #[test]
    fn only_provably_incomplete_snapshots_are_set_aside() {
        let state = tempfile::tempdir().unwrap();
        let db = state.path().join("db");
        std::fs::create_dir(&db).unwrap();
        std::fs::write(db.join("db"), b"").unwrap();
        std::fs::write(db.join("snap.0000000000000010"), snapshot(b"older")).unwrap();
        std::fs::write(db.join("snap.0000000000000020.generating"), b"").unwrap();
        let mut torn = snapshot(b"torn in the middle");
        torn[3] ^= 0xff;
        std::fs::write(db.join("snap.0000000000000030.generating"), &torn).unwrap();
        std::fs::write(db.join("snap.0000000000000040.generating"), snapshot(b"complete")).unwrap();

        let moved = set_aside_interrupted_snapshots(state.path(), &db).unwrap();
        let names: Vec<String> = moved
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            ["snap.0000000000000020.generating", "snap.0000000000000030.generating"]
        );
        assert!(moved.iter().all(|p| p.starts_with(state.path().join(SET_ASIDE_DIR))));
        assert_eq!(std::fs::read(&moved[1]).unwrap(), torn, "moved, not deleted");
        assert!(db.join("snap.0000000000000010").exists());
        assert!(db.join("snap.0000000000000040.generating").exists());

        // The same name again later is kept beside the first, not over it.
        std::fs::write(db.join("snap.0000000000000020.generating"), b"x").unwrap();
        let again = set_aside_interrupted_snapshots(state.path(), &db).unwrap();
        assert_eq!(again[0].file_name().unwrap(), "snap.0000000000000020.generating.1");
    }

    #[test]
    fn nothing_is_set_aside_while_another_process_holds_the_database() {
        let state = tempfile::tempdir().unwrap();
        let db_dir = state.path().join("db");
        let db = sled::Config::new().path(&db_dir).open().unwrap();
        // A snapshot a running sled is writing right now is incomplete, and not garbage.
        std::fs::write(db_dir.join("snap.00000000000000FF.generating"), b"half").unwrap();
        let err = set_aside_interrupted_snapshots(state.path(), &db_dir).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        assert!(db_dir.join("snap.00000000000000FF.generating").exists());
        drop(db);
    }

    #[test]
    fn the_barrier_counts_log_fsyncs_and_follows_new_blobs() {
        let state = tempfile::tempdir().unwrap();
        let db_dir = state.path().join("db");
        let db = sled::Config::new().path(&db_dir).open().unwrap();
        let barrier = Barrier::after_open(state.path(), &db_dir).unwrap();
        // A value over a quarter segment becomes a blob file.
        db.insert(b"big", vec![7u8; 300 * 1024]).unwrap();
        db.flush().unwrap();
        barrier.sync().unwrap();
        assert_eq!(barrier.fsyncs(), 1);
        let seen = barrier.seen.lock().unwrap().blobs.len();
        assert_eq!(seen, listing(&db_dir.join("blobs")).unwrap().len());
        assert!(seen >= 1, "the big value is a blob");
    }
}
