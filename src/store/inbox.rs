//! The event inbox (issue 7): Workfront deliveries recorded, and flushed, before they are
//! acknowledged; applied later, in order, by the engine.
//!
//! Trees: `inbox` (sequence → [`InboxRecord`]), `inbox_seen` (dedupe key → when first received,
//! so a redelivery is recognised) and `event_marks` (object → the newest event time applied, so an
//! older event never rolls an object back).

use super::outbox::{abort, tx_error, TxResult};
use super::{decode, decode_value, encode, Store, StoreError};
use crate::core::model::within_clock_skew;
use crate::core::model::WorkfrontEvent;
use crate::timestamp::Timestamp;
use serde::{Deserialize, Serialize};
use sled::Transactional;

pub const INBOX_V: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxRecord {
    pub v: u32,
    pub seq: u64,
    pub received_at: Timestamp,
    pub event: WorkfrontEvent,
}

impl Store {
    /// Records the events not seen before, in one transaction, and says for each whether it was
    /// new. The caller flushes once for the whole batch before acknowledging any of them.
    pub fn accept_events(&self, events: &[WorkfrontEvent], now: Timestamp) -> Result<Vec<bool>, StoreError> {
        let seqs: Vec<u64> = events.iter().map(|_| self.db.generate_id()).collect::<Result<_, _>>()?;
        let result = (&self.inbox, &self.inbox_seen).transaction(|(inbox, seen)| -> TxResult<Vec<bool>> {
            let mut fresh = Vec::with_capacity(events.len());
            for (event, seq) in events.iter().zip(&seqs) {
                let key = event.dedupe_key();
                if seen.get(key.as_bytes())?.is_some() {
                    fresh.push(false);
                    continue;
                }
                seen.insert(key.as_bytes(), encode(&now))?;
                let record = InboxRecord {
                    v: INBOX_V,
                    seq: *seq,
                    received_at: now,
                    event: event.clone(),
                };
                inbox.insert(&seq.to_be_bytes(), encode(&record))?;
                fresh.push(true);
            }
            Ok(fresh)
        });
        result.map_err(tx_error)
    }

    /// The oldest `limit` events waiting to be applied.
    pub fn inbox_batch(&self, limit: usize) -> Result<Vec<InboxRecord>, StoreError> {
        self.inbox
            .iter()
            .values()
            .take(limit)
            .map(|v| decode("inbox", "(scan)", &v?))
            .collect()
    }

    pub fn inbox_len(&self) -> usize {
        self.inbox.len()
    }

    /// Removes applied events and records each object's newest applied event time, atomically.
    /// A recorded mark ahead of `now` by more than the clock skew (left by an older release, which
    /// accepted any eventTime) does not count: the applied event's time replaces it.
    pub fn finish_events(&self, done: &[InboxRecord], now: Timestamp) -> Result<(), StoreError> {
        let result = (&self.inbox, &self.event_marks).transaction(|(inbox, marks)| -> TxResult<()> {
            for record in done {
                inbox.remove(&record.seq.to_be_bytes())?;
                let key = record.event.object_key();
                let newer = match marks.get(key.as_bytes())? {
                    Some(raw) => {
                        let mark: Timestamp = decode_value("event_marks", &key, &raw).map_err(abort)?;
                        record.event.event_time > mark || !within_clock_skew(mark, now)
                    }
                    None => true,
                };
                if newer {
                    marks.insert(key.as_bytes(), encode(&record.event.event_time))?;
                }
            }
            Ok(())
        });
        result.map_err(tx_error)
    }

    /// The newest event time applied for an object (`PROJ:<id>`, `USER:<id>`).
    pub fn event_mark(&self, object_key: &str) -> Result<Option<Timestamp>, StoreError> {
        self.event_marks
            .get(object_key.as_bytes())?
            .map(|v| decode_value("event_marks", object_key, &v))
            .transpose()
    }

    /// Forgets dedupe keys first received before `before` (Workfront stops retrying after 48 h).
    pub fn prune_seen_events(&self, before: Timestamp) -> Result<usize, StoreError> {
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for kv in self.inbox_seen.iter() {
            let (k, v) = kv?;
            let at: Timestamp = decode_value("inbox_seen", &String::from_utf8_lossy(&k), &v)?;
            if at < before {
                batch.remove(k);
                n += 1;
            }
        }
        self.inbox_seen.apply_batch(batch)?;
        Ok(n)
    }
}

/// Most project deletions `status` remembers.
pub const DELETIONS_KEPT: usize = 100;
const META_DELETED: &[u8] = b"deleted_projects";

/// A project deleted in Workfront whose mirror (if any) was left alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deletion {
    pub wf_project: crate::ids::WorkfrontProjectId,
    pub at: Timestamp,
    pub mirrored: bool,
}

impl Store {
    /// Records a project deletion reported by an event (the newest [`DELETIONS_KEPT`] are kept).
    pub fn record_deletion(&self, deletion: Deletion) -> Result<(), StoreError> {
        let mut list = self.deletions()?;
        list.retain(|d| d.wf_project != deletion.wf_project);
        list.push(deletion);
        if list.len() > DELETIONS_KEPT {
            list.drain(..list.len() - DELETIONS_KEPT);
        }
        self.meta.insert(META_DELETED, encode(&list))?;
        Ok(())
    }

    /// Projects deleted in Workfront, oldest first.
    pub fn deletions(&self) -> Result<Vec<Deletion>, StoreError> {
        Ok(match self.meta.get(META_DELETED)? {
            Some(raw) => decode_value("meta", "deleted_projects", &raw)?,
            None => Vec::new(),
        })
    }
}

impl super::Record for InboxRecord {
    const V: u32 = INBOX_V;
}
