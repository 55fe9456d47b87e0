//! `backup` and `restore`: the state that says which Frame.io project mirrors which Workfront
//! project, and what is owed, as one JSON document. Tokens and action secrets stay in their 0600
//! files and are not in it: after a restore, each connection needs `connect-group` again.
//!
//! Consistency while the daemon runs: the outbox is read before the mirrors and the collaborator
//! records. An entry completed between the two reads is then in both (its create or add finds
//! the record and does nothing), never in neither (which would create a mirror again).

use super::collaborators::pair_key;
use super::records::{CollaboratorRecord, ConnectionRecord, DirectoryRecord, MirrorRecord, OutboxEntry};
use super::{decode_value, encode, Store, StoreError, META_CURSOR};
use crate::ids::OutboxId;
use crate::timestamp::Timestamp;
use serde::{Deserialize, Serialize};

/// What a backup file says it is, so `restore` refuses anything else by name.
pub const BACKUP_FORMAT: &str = "frameio-sync-backup";
pub const BACKUP_V: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backup {
    pub format: String,
    pub v: u32,
    pub created_at: Timestamp,
    pub cursor: Option<Timestamp>,
    pub outbox: Vec<OutboxEntry>,
    pub mirrors: Vec<MirrorRecord>,
    pub collaborators: Vec<CollaboratorRecord>,
    /// The records only: tokens are not exported.
    pub connections: Vec<ConnectionRecord>,
    pub directories: Vec<DirectoryRecord>,
    /// The review loop's records (absent from backups made before it).
    #[serde(default)]
    pub submissions: Vec<super::SubmissionRecord>,
    /// The one-way folder's folders and pushed versions (absent from backups made before it).
    #[serde(default)]
    pub folders: Vec<super::FolderRecord>,
    #[serde(default)]
    pub pushed: Vec<super::PushedRecord>,
}

/// How much a backup or a restore held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupCounts {
    pub mirrors: usize,
    pub outbox: usize,
    pub collaborators: usize,
    pub connections: usize,
}

impl Backup {
    pub fn counts(&self) -> BackupCounts {
        BackupCounts {
            mirrors: self.mirrors.len(),
            outbox: self.outbox.len(),
            collaborators: self.collaborators.len(),
            connections: self.connections.len(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("not a frameio-sync backup (format {found:?}, v{v}; this release reads {BACKUP_FORMAT:?} v{BACKUP_V})")]
    NotABackup { found: String, v: u32 },
    #[error(
        "the state dir already holds state ({mirrors} mirrors, {outbox} outbox entries, {connections} connections); \
         restore only into an empty state dir (move this one aside first)"
    )]
    NotEmpty {
        mirrors: usize,
        outbox: usize,
        connections: usize,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// A consistent export (see the module documentation).
    pub fn export(&self, now: Timestamp) -> Result<Backup, StoreError> {
        let outbox = self.outbox_entries()?;
        let cursor = match self.meta.get(META_CURSOR)? {
            Some(raw) => Some(decode_value("meta", "cursor", &raw)?),
            None => None,
        };
        Ok(Backup {
            format: BACKUP_FORMAT.to_owned(),
            v: BACKUP_V,
            created_at: now,
            cursor,
            outbox,
            mirrors: self.mirrors()?,
            collaborators: self.collaborators()?,
            connections: self.connections()?,
            directories: self.directories()?,
            submissions: self.submissions()?,
            folders: self.folder_records()?,
            pushed: self.pushed_all()?,
        })
    }

    /// Loads `backup` into this store, which must hold no mirrors, entries or connections. The
    /// entries get new ids (this store hands out its own); each in-flight mark is kept, so its
    /// next attempt looks first. Everything in one transaction, then flushed.
    pub fn import(&self, backup: &Backup) -> Result<BackupCounts, RestoreError> {
        if backup.format != BACKUP_FORMAT || backup.v != BACKUP_V {
            return Err(RestoreError::NotABackup {
                found: backup.format.clone(),
                v: backup.v,
            });
        }
        let (mirrors, outbox, connections) = (self.mirrors.len(), self.outbox.len(), self.connections.len());
        if mirrors + outbox + connections > 0 {
            return Err(RestoreError::NotEmpty {
                mirrors,
                outbox,
                connections,
            });
        }
        let mut entries = Vec::with_capacity(backup.outbox.len());
        for entry in &backup.outbox {
            let mut entry = entry.clone();
            entry.id = OutboxId(self.db.generate_id().map_err(StoreError::Sled)?);
            entries.push(entry);
        }
        use sled::Transactional;
        let trees = (
            &self.outbox,
            &self.outbox_keys,
            &self.mirrors,
            &self.collaborators,
            &self.connections,
            &self.directory,
            &self.meta,
            &self.submissions,
            &self.folders,
        );
        trees
            .transaction(
                |(outbox, keys, mirrors, collaborators, connections, directory, meta, submissions, folders)| {
                    for entry in &entries {
                        outbox.insert(&entry.id.to_key(), encode(entry))?;
                        keys.insert(entry.key.as_bytes(), &entry.id.to_key())?;
                    }
                    for m in &backup.mirrors {
                        mirrors.insert(m.wf_project.as_str(), encode(m))?;
                    }
                    for c in &backup.collaborators {
                        let key = pair_key(&(c.wf_project.clone(), c.wf_user.clone()));
                        collaborators.insert(key.as_bytes(), encode(c))?;
                    }
                    for c in &backup.connections {
                        connections.insert(c.group.as_str(), encode(c))?;
                    }
                    for d in &backup.directories {
                        directory.insert(d.account.as_str(), encode(d))?;
                    }
                    for r in &backup.submissions {
                        submissions.insert(r.version.as_str(), encode(r))?;
                    }
                    let pushed: Vec<&super::PushedRecord> = backup.pushed.iter().collect();
                    Store::write_folder_records(folders, &backup.folders, &pushed)?;
                    if let Some(cursor) = backup.cursor {
                        meta.insert(META_CURSOR, encode(&cursor))?;
                    }
                    Ok::<_, sled::transaction::ConflictableTransactionError<StoreError>>(())
                },
            )
            .map_err(super::outbox::tx_error)?;
        for entry in &entries {
            self.reindex(entry.id);
        }
        self.flush_blocking()?;
        Ok(backup.counts())
    }
}
