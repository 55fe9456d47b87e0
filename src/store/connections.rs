//! Group connections and their tokens.

use super::records::{Broken, ConnectionRecord, EntryState, OutboxEntry, ParkCause};
use super::{decode, encode, Store, StoreError};
use crate::core::model::Credential;
use crate::ids::WorkfrontGroupId;
use crate::secret::Secret;
use crate::timestamp::Timestamp;
use std::path::PathBuf;

impl Store {
    pub fn connections(&self) -> Result<Vec<ConnectionRecord>, StoreError> {
        self.connections
            .iter()
            .values()
            .map(|v| decode("connections", "(scan)", &v?))
            .collect()
    }

    pub fn connection(&self, group: &WorkfrontGroupId) -> Result<Option<ConnectionRecord>, StoreError> {
        self.connections
            .get(group.as_str())?
            .map(|v| decode("connections", group.as_str(), &v))
            .transpose()
    }

    fn token_path(&self, group: &WorkfrontGroupId) -> PathBuf {
        self.dir.join("tokens").join(group.as_str())
    }

    /// Stores a connection and its token: the token file first (written whole, mode 0600, then
    /// renamed into place), then the record, then a flush — so a record never points at a missing
    /// or half-written token.
    pub fn save_connection(&self, record: &ConnectionRecord, token: &Secret) -> Result<(), StoreError> {
        let path = self.token_path(&record.group);
        super::secret_files::write_secret_file(&path, token)?;
        self.connections.insert(record.group.as_str(), encode(record))?;
        self.flush_blocking()
    }

    /// The stored token of `group`'s connection.
    pub fn connection_token(&self, group: &WorkfrontGroupId) -> Result<Secret, StoreError> {
        let path = self.token_path(group);
        Secret::read_file(&path).map_err(|e| StoreError::Token {
            path,
            message: e.to_string(),
        })
    }

    /// Removes a connection and its token. Mirrors made through it stay (and stay ours). A group
    /// with no connection touches no file.
    pub fn remove_connection(&self, group: &WorkfrontGroupId) -> Result<Option<ConnectionRecord>, StoreError> {
        let Some(removed) = self.connection(group)? else {
            return Ok(None);
        };
        self.connections.remove(group.as_str())?;
        let path = self.token_path(group);
        match std::fs::remove_file(&path).and_then(|()| crate::durable::sync_parent(&path)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(StoreError::Token {
                    path,
                    message: e.to_string(),
                })
            }
        }
        self.flush_blocking()?;
        Ok(Some(removed))
    }

    /// Marks a connection broken (Frame.io refuses its token) or, with `None`, working again.
    pub fn set_connection_broken(
        &self,
        group: &WorkfrontGroupId,
        error: Option<&str>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        if let Some(mut record) = self.connection(group)? {
            let changed = match (&record.broken, error) {
                (None, None) => false,
                (Some(b), Some(e)) => b.error != e,
                _ => true,
            };
            if changed {
                record.broken = error.map(|e| Broken {
                    error: e.to_owned(),
                    since: record.broken.as_ref().map_or(now, |b| b.since),
                });
                self.connections.insert(group.as_str(), encode(&record))?;
            }
        }
        Ok(())
    }

    /// Makes every entry parked because `credential` was refused pending and due now. Returns how
    /// many were resumed.
    pub fn resume_parked_for(&self, credential: &Credential, now: Timestamp) -> Result<usize, StoreError> {
        let parked: Vec<OutboxEntry> = self
            .outbox_entries()?
            .into_iter()
            .filter(|e| matches!(&e.state, EntryState::Parked { cause: ParkCause::CredentialRefused { credential: c }, .. } if c == credential))
            .collect();
        for entry in &parked {
            self.retry_entry(entry.id, now)?;
        }
        Ok(parked.len())
    }
}
