//! Collaborators (F3–F5): the users as last read, what this daemon added to which mirror, and the
//! Frame.io account directories.

use super::outbox::{abort, TxResult};
use super::records::{CollaboratorRecord, DirectoryRecord, EntryState, OutboxEntry, ParkCause, UserRecord, USER_V};
use super::{decode, encode, Store, StoreError};
use crate::core::collaborator_plan::{Managed, Pair};
use crate::core::model::WorkfrontUser;
use crate::ids::{FrameioAccountId, FrameioUserId, OutboxId, WorkfrontProjectId, WorkfrontUserId};
use crate::timestamp::Timestamp;
use std::collections::HashMap;

/// What the plan needs of each record.
fn managed(
    records: impl Iterator<Item = Result<CollaboratorRecord, StoreError>>,
) -> Result<HashMap<Pair, Managed>, StoreError> {
    records
        .map(|r| {
            let r = r?;
            Ok((
                (r.wf_project, r.wf_user),
                Managed {
                    added: r.added,
                    present: r.present,
                    email: r.email.to_lowercase(),
                },
            ))
        })
        .collect()
}

pub(super) fn pair_key(pair: &Pair) -> String {
    format!("{}/{}", pair.0, pair.1)
}

/// How a recorded Frame.io user came to be on the mirror.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// Our request added them (or may have: an earlier attempt's outcome was unknown).
    Added,
    /// They were there before we came: never ours to remove.
    Present,
}

impl Store {
    /// Records what changed among the users: `changed` are written (new or different), `gone`
    /// (missing from a full read) are forgotten — their collaborator records stay, and nothing is
    /// removed for them. One batch: a tenant's unchanged users cost nothing here.
    pub fn update_users(&self, changed: &[&WorkfrontUser], gone: &[WorkfrontUserId]) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for id in gone {
            batch.remove(id.as_str());
        }
        for user in changed {
            let record = UserRecord {
                v: USER_V,
                user: (*user).clone(),
            };
            batch.insert(user.id.as_str(), encode(&record));
        }
        self.users.apply_batch(batch)?;
        Ok(())
    }

    /// Every user as last read.
    pub fn users(&self) -> Result<HashMap<WorkfrontUserId, WorkfrontUser>, StoreError> {
        self.users
            .iter()
            .map(|kv| {
                let (k, v) = kv?;
                let record: UserRecord = decode("users", &String::from_utf8_lossy(&k), &v)?;
                Ok((record.user.id.clone(), record.user))
            })
            .collect()
    }

    pub fn collaborators(&self) -> Result<Vec<CollaboratorRecord>, StoreError> {
        self.collaborator_records().collect()
    }

    /// The records one at a time, for scans that keep little of each.
    fn collaborator_records(&self) -> impl Iterator<Item = Result<CollaboratorRecord, StoreError>> + '_ {
        self.collaborators.iter().map(|kv| {
            let (k, v) = kv?;
            decode("collaborators", &String::from_utf8_lossy(&k), &v)
        })
    }

    pub fn collaborator(&self, pair: &Pair) -> Result<Option<CollaboratorRecord>, StoreError> {
        let key = pair_key(pair);
        self.collaborators
            .get(&key)?
            .map(|v| decode("collaborators", &key, &v))
            .transpose()
    }

    /// What the plan needs of the records.
    pub fn managed_pairs(&self) -> Result<HashMap<Pair, Managed>, StoreError> {
        // Record by record: a tenant has hundreds of thousands, and the plan needs only these
        // fields of each.
        managed(self.collaborator_records())
    }

    /// The same, for one project's records only.
    pub fn managed_pairs_of(&self, wf_project: &WorkfrontProjectId) -> Result<HashMap<Pair, Managed>, StoreError> {
        let prefix = format!("{wf_project}/");
        managed(self.collaborators.scan_prefix(prefix.as_bytes()).map(|kv| {
            let (k, v) = kv?;
            decode("collaborators", &String::from_utf8_lossy(&k), &v)
        }))
    }

    /// Records that `frameio_user` is on the mirror (added by us or found there) and removes the
    /// entry that did it, atomically. `base` supplies the record's fields when it is the first.
    pub fn complete_with_collaborator(
        &self,
        id: OutboxId,
        base: &CollaboratorRecord,
        frameio_user: &FrameioUserId,
        arrival: Arrival,
    ) -> Result<(), StoreError> {
        let key = pair_key(&(base.wf_project.clone(), base.wf_user.clone()));
        // The request was carried out, so the record is written even if a plan cancelled the
        // entry meanwhile: the user is on the mirror, and we put them there.
        self.complete_in(id, &self.collaborators, |collaborators| -> TxResult<()> {
            let mut record = match collaborators.get(key.as_bytes())? {
                Some(raw) => decode::<CollaboratorRecord>("collaborators", &key, &raw).map_err(abort)?,
                None => base.clone(),
            };
            record.email = base.email.clone();
            let list = match arrival {
                Arrival::Added => &mut record.added,
                Arrival::Present => &mut record.present,
            };
            if !list.contains(frameio_user) {
                list.push(frameio_user.clone());
            }
            collaborators.insert(key.as_bytes(), encode(&record))?;
            Ok(())
        })
    }

    /// Records that `removed` are off the mirror and removes the entry, atomically. A record with
    /// no Frame.io user left is deleted: the pair is no longer ours.
    pub fn complete_removal(&self, id: OutboxId, pair: &Pair, removed: &[FrameioUserId]) -> Result<(), StoreError> {
        let key = pair_key(pair);
        self.complete_in(id, &self.collaborators, |collaborators| -> TxResult<()> {
            if let Some(raw) = collaborators.get(key.as_bytes())? {
                let mut record: CollaboratorRecord = decode("collaborators", &key, &raw).map_err(abort)?;
                record.added.retain(|u| !removed.contains(u));
                if record.added.is_empty() && record.present.is_empty() {
                    collaborators.remove(key.as_bytes())?;
                } else {
                    collaborators.insert(key.as_bytes(), encode(&record))?;
                }
            }
            Ok(())
        })
    }

    /// Collaborators this daemon added (the mass-removal guard's base).
    pub fn managed_collaborator_count(&self) -> Result<usize, StoreError> {
        let mut count = 0;
        for record in self.collaborator_records() {
            count += usize::from(!record?.added.is_empty());
        }
        Ok(count)
    }

    pub fn directories(&self) -> Result<Vec<DirectoryRecord>, StoreError> {
        self.directory
            .iter()
            .map(|kv| {
                let (k, v) = kv?;
                decode("directory", &String::from_utf8_lossy(&k), &v)
            })
            .collect()
    }

    pub fn directory(&self, account: &FrameioAccountId) -> Result<Option<DirectoryRecord>, StoreError> {
        self.directory
            .get(account.as_str())?
            .map(|v| decode("directory", account.as_str(), &v))
            .transpose()
    }

    pub fn put_directory(&self, record: &DirectoryRecord) -> Result<(), StoreError> {
        self.directory.insert(record.account.as_str(), encode(record))?;
        Ok(())
    }

    /// An admin's `confirm-removals`: every removal the mass-removal guard held becomes pending.
    pub fn release_held_removals(&self, now: Timestamp) -> Result<usize, StoreError> {
        let held: Vec<OutboxEntry> = self
            .outbox_entries()?
            .into_iter()
            .filter(|e| {
                matches!(
                    e.state,
                    EntryState::Parked {
                        cause: ParkCause::RemovalGuard,
                        ..
                    }
                )
            })
            .collect();
        for entry in &held {
            self.retry_entry(entry.id, now)?;
        }
        Ok(held.len())
    }
}
