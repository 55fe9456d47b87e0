//! The outbox: effects recorded before they are carried out, in the same transaction that records
//! why, and removed in the same transaction that records their result.

use super::ready::Tally;
use super::records::{
    CollaboratorRecord, EntryState, InFlight, MirrorChange, MirrorRecord, OutboxEntry, ParkCause, Priority, OUTBOX_V,
};
use super::{decode, decode_value, encode, Ready, Store, StoreError, META_CURSOR};
use crate::core::collaborator_plan::{self, Cancel, CollaboratorPlan, Pair};
use crate::core::mirror_plan::{KeyState, Plan, Planned};
use crate::core::model::{collaborator_key_prefix, Hold, Lane};
use crate::effects::{AddCollaborator, CreateMirror, Effect, RemoveCollaborator, RenameMirror, WriteLink};
use crate::exchange::Exchange;
use crate::ids::{OutboxId, WorkfrontProjectId};
use crate::timestamp::Timestamp;
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;
use std::collections::{BTreeSet, HashMap};

/// Entries by state, for `status`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OutboxCounts {
    pub pending: usize,
    pub parked: usize,
    pub dead: usize,
}

impl OutboxCounts {
    /// Counts one entry in `state`.
    pub fn add(&mut self, state: &EntryState) {
        match state {
            EntryState::Pending => self.pending += 1,
            EntryState::Parked { .. } => self.parked += 1,
            EntryState::Dead { .. } => self.dead += 1,
        }
    }
}

/// What [`Store::record_plan`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordedPlan {
    pub enqueued: usize,
    pub parked: usize,
    pub cancelled: usize,
}

/// Everything one sync decided, recorded in one transaction: effects to enqueue, effects to park
/// with what holds them, entries no longer wanted, and where the next poll starts.
#[derive(Debug, Default)]
pub struct Recording<'a> {
    pub enqueue: Vec<&'a Planned>,
    pub park: Vec<(&'a Planned, Hold)>,
    pub cancel: Vec<&'a Cancel>,
    pub cursor: Option<Timestamp>,
    /// What the new entries are: a full sync's backfill, or fresh work.
    pub priority: Priority,
}

impl<'a> Recording<'a> {
    /// A mirror plan's effects; its parked ones wait for a route.
    pub fn of(plan: &'a Plan) -> Self {
        Self {
            enqueue: plan.enqueue.iter().collect(),
            park: plan.park.iter().map(|p| (p, Hold::Unroutable)).collect(),
            ..Self::default()
        }
    }

    /// Adds a collaborator plan's changes.
    pub fn with_collaborators(mut self, plan: &'a CollaboratorPlan) -> Self {
        self.enqueue.extend(&plan.enqueue);
        self.park.extend(plan.park.iter().map(|(p, h)| (p, *h)));
        self.cancel.extend(&plan.cancel);
        self
    }

    pub fn with_cursor(mut self, cursor: Option<Timestamp>) -> Self {
        self.cursor = cursor;
        self
    }

    pub fn with_priority(mut self, priority: Priority) -> Self {
        self.priority = priority;
        self
    }
}

/// The outbox as the plans see it.
#[derive(Debug, Default)]
pub struct OutboxView {
    /// Mirror effects (creates, renames, links) by key.
    pub mirrors: HashMap<String, KeyState>,
    /// Collaborator changes by pair.
    pub collaborators: HashMap<Pair, collaborator_plan::Entry>,
    /// Pending collaborator changes (the backlog `status` shows).
    pub collaborator_backlog: usize,
    /// Pending entries of every kind.
    pub pending: usize,
}

impl OutboxView {
    /// Takes in one entry.
    fn add(&mut self, e: &OutboxEntry) {
        self.pending += usize::from(e.state == EntryState::Pending);
        match &e.effect {
            Effect::CreateMirror(_) | Effect::RenameMirror(_) | Effect::WriteLink(_) => {
                let state = match &e.state {
                    EntryState::Pending => KeyState::Pending,
                    EntryState::Parked { cause, .. } => KeyState::Parked {
                        unroutable: *cause == ParkCause::Unroutable,
                    },
                    EntryState::Dead { .. } => KeyState::Dead,
                };
                self.mirrors.insert(e.key.clone(), state);
            }
            Effect::AddCollaborator(AddCollaborator {
                wf_project,
                wf_user,
                frameio_user,
                ..
            }) => {
                self.collaborator_backlog += usize::from(e.state == EntryState::Pending);
                let op = collaborator_plan::Op::Add {
                    frameio_user: frameio_user.clone(),
                };
                self.collaborators
                    .insert((wf_project.clone(), wf_user.clone()), collaborator_entry(e, op));
            }
            Effect::RemoveCollaborator(RemoveCollaborator {
                wf_project, wf_user, ..
            }) => {
                self.collaborator_backlog += usize::from(e.state == EntryState::Pending);
                self.collaborators.insert(
                    (wf_project.clone(), wf_user.clone()),
                    collaborator_entry(e, collaborator_plan::Op::Remove),
                );
            }
            // The other kinds (submissions, F6) are not planned; nothing plans against them.
            _ => {}
        }
    }
}

pub(super) type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

pub(super) fn tx_error(e: TransactionError<StoreError>) -> StoreError {
    match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => StoreError::Sled(e),
    }
}

pub(super) fn abort(e: StoreError) -> ConflictableTransactionError<StoreError> {
    ConflictableTransactionError::Abort(e)
}

/// Inside a transaction: removes entry `id` (a done entry leaves the outbox) and its key, the
/// key only while it names this entry (a newer entry for the same key keeps its own). Whether the
/// entry was there: one already gone was cancelled by a plan while its request was under way.
fn take_entry(
    outbox: &sled::transaction::TransactionalTree,
    keys: &sled::transaction::TransactionalTree,
    id: OutboxId,
) -> TxResult<bool> {
    let Some(raw) = outbox.remove(&id.to_key())? else {
        return Ok(false);
    };
    let entry: OutboxEntry = decode("outbox", &id.to_string(), &raw).map_err(abort)?;
    if keys.get(entry.key.as_bytes())?.as_deref() == Some(&id.to_key()[..]) {
        keys.remove(entry.key.as_bytes())?;
    }
    Ok(true)
}

/// Inside a transaction: enqueues each of `follow_ups` (fresh work, due `now`) under its id in
/// `fresh`, unless its key has an entry already. Returns the ids written.
fn enqueue_follow_ups(
    outbox: &sled::transaction::TransactionalTree,
    keys: &sled::transaction::TransactionalTree,
    follow_ups: &[Planned],
    fresh: &[OutboxId],
    now: Timestamp,
) -> TxResult<Vec<OutboxId>> {
    let mut written = Vec::new();
    for (planned, fresh) in follow_ups.iter().zip(fresh) {
        let key = planned.effect.key();
        if keys.get(key.as_bytes())?.is_some() {
            continue;
        }
        let entry = OutboxEntry {
            v: OUTBOX_V,
            id: *fresh,
            key: key.clone(),
            effect: planned.effect.clone(),
            reason: planned.reason.clone(),
            state: EntryState::Pending,
            attempts: 0,
            next_attempt_at: now,
            created_at: now,
            last_error: None,
            in_flight: None,
            priority: Priority::Fresh,
        };
        outbox.insert(&fresh.to_key(), encode(&entry))?;
        keys.insert(key.as_bytes(), &fresh.to_key())?;
        written.push(*fresh);
    }
    Ok(written)
}

impl Store {
    /// Completes entry `id`: removes it and applies `write` (what its effect did) to `tree`, in
    /// one transaction. An entry already gone (cancelled while its request was under way) is
    /// completed all the same: its effect happened, and `write` records it.
    pub(super) fn complete_in<T>(
        &self,
        id: OutboxId,
        tree: &sled::Tree,
        write: impl Fn(&sled::transaction::TransactionalTree) -> TxResult<T>,
    ) -> Result<T, StoreError> {
        let written = (&self.outbox, &self.outbox_keys, tree)
            .transaction(|(outbox, keys, tree)| {
                take_entry(outbox, keys, id)?;
                write(tree)
            })
            .map_err(tx_error)?;
        self.reindex(id);
        Ok(written)
    }

    /// [`Store::complete_in`], and, when `write` answers true, `follow_ups` (fresh work, due
    /// `now`) enqueued in the same transaction unless their keys have entries.
    pub(super) fn complete_in_following(
        &self,
        id: OutboxId,
        tree: &sled::Tree,
        follow_ups: &[Planned],
        now: Timestamp,
        write: impl Fn(&sled::transaction::TransactionalTree) -> TxResult<bool>,
    ) -> Result<(), StoreError> {
        let fresh = self.fresh_ids(follow_ups.len())?;
        let touched = (&self.outbox, &self.outbox_keys, tree)
            .transaction(|(outbox, keys, tree)| -> TxResult<Vec<OutboxId>> {
                take_entry(outbox, keys, id)?;
                let mut touched = vec![id];
                if write(tree)? {
                    touched.extend(enqueue_follow_ups(outbox, keys, follow_ups, &fresh, now)?);
                }
                Ok(touched)
            })
            .map_err(tx_error)?;
        for id in touched {
            self.reindex(id);
        }
        Ok(())
    }

    /// `n` new outbox ids (drawn before a transaction: sled's id generator is not transactional).
    fn fresh_ids(&self, n: usize) -> Result<Vec<OutboxId>, StoreError> {
        (0..n).map(|_| Ok(OutboxId(self.db.generate_id()?))).collect()
    }

    pub fn outbox_entry(&self, id: OutboxId) -> Result<Option<OutboxEntry>, StoreError> {
        self.outbox
            .get(id.to_key())?
            .map(|v| decode("outbox", &id.to_string(), &v))
            .transpose()
    }

    /// Every entry, oldest first.
    pub fn outbox_entries(&self) -> Result<Vec<OutboxEntry>, StoreError> {
        self.outbox
            .iter()
            .values()
            .map(|v| decode("outbox", "(scan)", &v?))
            .collect()
    }

    /// Entries by state, from the counts kept with the outbox (`ready.rs`): no entry is read.
    pub fn outbox_counts(&self) -> Result<OutboxCounts, StoreError> {
        Ok(self.ready.counts())
    }

    /// Pending entries by lane, from the index: no entry is read.
    pub fn pending_by_lane(&self) -> std::collections::BTreeMap<String, usize> {
        self.ready.pending_by_lane()
    }

    /// What `status` needs of the whole outbox, from the index: no entry is read.
    pub fn outbox_tally(&self) -> Tally {
        self.ready.tally()
    }

    /// The state of every key, for planning.
    pub fn outbox_view(&self) -> Result<OutboxView, StoreError> {
        let mut view = OutboxView::default();
        for e in self.outbox_entries()? {
            view.add(&e);
        }
        Ok(view)
    }

    /// The same, for one project's keys only (its mirror create and its collaborator changes):
    /// what planning a new mirror's collaborators needs, read through `outbox_keys` instead of
    /// decoding the whole outbox.
    pub fn outbox_view_of(&self, wf_project: &WorkfrontProjectId) -> Result<OutboxView, StoreError> {
        let mut view = OutboxView::default();
        let mirror = Effect::mirror_key(wf_project);
        let collaborators = collaborator_key_prefix(wf_project);
        let ids = self
            .outbox_keys
            .get(mirror.as_bytes())?
            .into_iter()
            .map(|id| Ok((mirror.clone(), id)))
            .chain(self.outbox_keys.scan_prefix(collaborators.as_bytes()).map(|kv| {
                let (k, id) = kv?;
                Ok((String::from_utf8_lossy(&k).into_owned(), id))
            }));
        for item in ids {
            let (key, id) = item.map_err(StoreError::Sled)?;
            let id = OutboxId::from_key(&id).ok_or_else(|| corrupt_key(&key))?;
            if let Some(entry) = self.outbox_entry(id)? {
                view.add(&entry);
            }
        }
        Ok(view)
    }

    /// Mirror creates by key (for tests and tools that plan mirrors only).
    pub fn outbox_key_states(&self) -> Result<HashMap<String, KeyState>, StoreError> {
        Ok(self.outbox_view()?.mirrors)
    }

    /// The next entry to carry out at `now`, and otherwise when the next one will be due, from
    /// the ready index (`ready.rs`). Within a lane, fresh work goes before backfill, then the
    /// soonest due, then the oldest; where `backfill_turn` says a lane's fresh work has gone ahead
    /// long enough, its backfill goes first once. Among lanes, the one whose candidate is first
    /// in that order. `skipped` entries (in a lane at capacity, or being carried out) count for
    /// nothing; `held_until` may delay an entry past its due time (the engine uses it for entries
    /// whose credential Frame.io is pacing).
    pub fn next_due(
        &self,
        now: Timestamp,
        held_until: impl Fn(&OutboxEntry) -> Option<Timestamp>,
        skipped: impl Fn(&Ready) -> bool,
        backfill_turn: impl Fn(&Lane) -> bool,
    ) -> Result<(Option<OutboxEntry>, Option<Timestamp>), StoreError> {
        let mut soonest: Option<Timestamp> = None;
        // The first eligible entry of each lane and priority, in index order.
        let mut first: HashMap<(Lane, Priority), (Ready, OutboxEntry)> = HashMap::new();
        let mut stale = Vec::new();
        let mut failed = None;
        self.ready.scan(|ready| {
            if skipped(ready) || first.contains_key(&(ready.lane.clone(), ready.priority)) {
                return true;
            }
            if ready.due > now {
                soonest = Some(soonest.map_or(ready.due, |s| s.min(ready.due)));
                return true;
            }
            let entry = match self.outbox_entry(ready.id) {
                Ok(Some(entry)) if entry.state == EntryState::Pending => entry,
                Ok(_) => {
                    stale.push(ready.id);
                    return true;
                }
                Err(err) => {
                    failed = Some(err);
                    return false;
                }
            };
            match held_until(&entry).filter(|held| *held > now) {
                Some(held) => soonest = Some(soonest.map_or(held, |s| s.min(held))),
                None => {
                    first.insert((ready.lane.clone(), ready.priority), (ready.clone(), entry));
                }
            }
            true
        });
        for id in stale {
            self.reindex(id);
        }
        if let Some(err) = failed {
            return Err(err);
        }
        let lanes: BTreeSet<Lane> = first.keys().map(|(lane, _)| lane.clone()).collect();
        let mut candidates: Vec<(Ready, OutboxEntry)> = Vec::new();
        for lane in lanes {
            let fresh = first.remove(&(lane.clone(), Priority::Fresh));
            let backfill = first.remove(&(lane.clone(), Priority::Backfill));
            let choice = match (fresh, backfill) {
                (Some(_), Some(backfill)) if backfill_turn(&lane) => backfill,
                (Some(fresh), _) => fresh,
                (None, Some(backfill)) => backfill,
                (None, None) => continue,
            };
            candidates.push(choice);
        }
        let picked = candidates
            .into_iter()
            .min_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, entry)| entry);
        Ok(match picked {
            Some(entry) => (Some(entry), None),
            None => (None, soonest),
        })
    }

    /// Pending entries the worker may pick from.
    #[cfg(test)]
    pub(super) fn ready_len(&self) -> usize {
        self.ready.len()
    }

    /// Brings entry `id`'s line in the ready index up to date after a write.
    pub(super) fn reindex(&self, id: OutboxId) {
        // Unreadable: the picker finds out when it reads it.
        if let Ok(entry) = self.outbox_entry(id) {
            self.ready.set(id, entry.as_ref());
        }
    }

    /// Records a sync's decisions and the new cursor in one transaction. An effect whose key
    /// already has an entry replaces it if that entry is parked, or — for collaborator changes,
    /// whose requests are idempotent — if it asks for something else; a create for a project that
    /// has meanwhile been mirrored is skipped. Cancelled entries are removed.
    pub fn record_plan(&self, plan: &Recording<'_>, now: Timestamp) -> Result<RecordedPlan, StoreError> {
        let items: Vec<(&Effect, &str, Option<Hold>, OutboxId)> = plan
            .enqueue
            .iter()
            .map(|p| (&p.effect, p.reason.as_str(), None))
            .chain(
                plan.park
                    .iter()
                    .map(|(p, hold)| (&p.effect, p.reason.as_str(), Some(*hold))),
            )
            .map(|(e, r, hold)| Ok((e, r, hold, OutboxId(self.db.generate_id()?))))
            .collect::<Result<_, StoreError>>()?;
        let trees = (
            &self.outbox,
            &self.outbox_keys,
            &self.mirrors,
            &self.meta,
            &self.collaborators,
        );
        let result = trees.transaction(|(outbox, keys, mirrors, meta, collaborators)| {
            let mut recorded = RecordedPlan::default();
            // Entries written or removed, for the ready index once this commits.
            let mut touched = Vec::new();
            for cancel in &plan.cancel {
                let Some(existing) = keys.remove(cancel.key.as_bytes())? else {
                    continue;
                };
                let id = OutboxId::from_key(&existing).ok_or_else(|| abort(corrupt_key(&cancel.key)))?;
                outbox.remove(&id.to_key())?;
                touched.push(id);
                recorded.cancelled += 1;
            }
            for (effect, reason, hold, fresh_id) in &items {
                // A plan made from a snapshot the worker has since overtaken must not redo what
                // the worker recorded meanwhile.
                let done = match effect {
                    Effect::CreateMirror(CreateMirror { wf_project, .. }) => {
                        mirrors.get(wf_project.as_str())?.is_some()
                    }
                    Effect::AddCollaborator(AddCollaborator {
                        wf_project,
                        wf_user,
                        frameio_user: Some(frameio_user),
                        ..
                    }) => {
                        let key = format!("{wf_project}/{wf_user}");
                        match collaborators.get(key.as_bytes())? {
                            Some(raw) => {
                                let r: CollaboratorRecord = decode("collaborators", &key, &raw).map_err(abort)?;
                                r.added.contains(frameio_user) || r.present.contains(frameio_user)
                            }
                            None => false,
                        }
                    }
                    Effect::RemoveCollaborator(RemoveCollaborator {
                        wf_project, wf_user, ..
                    }) => collaborators
                        .get(format!("{wf_project}/{wf_user}").as_bytes())?
                        .is_none(),
                    Effect::RenameMirror(RenameMirror { wf_project, name, .. }) => {
                        match mirrors.get(wf_project.as_str())? {
                            Some(raw) => {
                                let m: MirrorRecord = decode("mirrors", wf_project.as_str(), &raw).map_err(abort)?;
                                &m.name == name
                            }
                            None => true,
                        }
                    }
                    Effect::WriteLink(WriteLink { wf_project, url, .. }) => match mirrors.get(wf_project.as_str())? {
                        Some(raw) => {
                            let m: MirrorRecord = decode("mirrors", wf_project.as_str(), &raw).map_err(abort)?;
                            m.link.as_ref() == Some(url)
                        }
                        None => true,
                    },
                    // No plan records the other kinds again once done.
                    _ => false,
                };
                if done {
                    continue;
                }
                let key = effect.key();
                let id = match keys.get(key.as_bytes())? {
                    Some(existing) => {
                        let id = OutboxId::from_key(&existing).ok_or_else(|| abort(corrupt_key(&key)))?;
                        if let Some(raw) = outbox.get(id.to_key())? {
                            let old: OutboxEntry = decode("outbox", &id.to_string(), &raw).map_err(abort)?;
                            let replaceable = match old.state {
                                EntryState::Parked { .. } => true,
                                EntryState::Pending => {
                                    !matches!(effect, Effect::CreateMirror(_)) && old.effect != **effect
                                }
                                EntryState::Dead { .. } => false,
                            };
                            if !replaceable {
                                continue;
                            }
                        }
                        id
                    }
                    None => *fresh_id,
                };
                let state = match hold {
                    Some(hold) => EntryState::Parked {
                        reason: (*reason).to_owned(),
                        cause: ParkCause::from(*hold),
                    },
                    None => EntryState::Pending,
                };
                let entry = OutboxEntry {
                    v: OUTBOX_V,
                    id,
                    key: key.clone(),
                    effect: (*effect).clone(),
                    reason: (*reason).to_owned(),
                    state,
                    attempts: 0,
                    next_attempt_at: now,
                    created_at: now,
                    last_error: None,
                    in_flight: None,
                    priority: plan.priority,
                };
                outbox.insert(&id.to_key(), encode(&entry))?;
                keys.insert(key.as_bytes(), &id.to_key())?;
                touched.push(id);
                if hold.is_some() {
                    recorded.parked += 1;
                } else {
                    recorded.enqueued += 1;
                }
            }
            if let Some(cursor) = plan.cursor {
                let current: Option<Timestamp> = match meta.get(META_CURSOR)? {
                    Some(v) => Some(decode_value("meta", "cursor", &v).map_err(abort)?),
                    None => None,
                };
                if current.is_none_or(|c| cursor > c) {
                    meta.insert(META_CURSOR, encode(&cursor))?;
                }
            }
            Ok((recorded, touched))
        });
        let (recorded, touched) = result.map_err(tx_error)?;
        for id in touched {
            self.reindex(id);
        }
        Ok(recorded)
    }

    /// Marks an entry's request as sent-or-about-to-be (see `permit.rs`).
    pub(super) fn mark_in_flight(&self, id: OutboxId, started_at: Timestamp) -> Result<(), StoreError> {
        self.update_entry(id, |e| e.in_flight = Some(InFlight { started_at }))
    }

    /// Records a mirror and removes its outbox entry, atomically. If the project already has a
    /// mirror (which the transaction re-checks), that one is kept and returned as `false`.
    pub fn complete_with_mirror(&self, id: OutboxId, record: &MirrorRecord) -> Result<bool, StoreError> {
        let result =
            (&self.outbox, &self.outbox_keys, &self.mirrors).transaction(|(outbox, keys, mirrors)| -> TxResult<bool> {
                if !take_entry(outbox, keys, id)? {
                    return Err(abort(StoreError::NoSuchEntry(id)));
                }
                if mirrors.get(record.wf_project.as_str())?.is_some() {
                    return Ok(false);
                }
                mirrors.insert(record.wf_project.as_str(), encode(record))?;
                Ok(true)
            });
        let recorded = result.map_err(tx_error)?;
        self.reindex(id);
        Ok(recorded)
    }

    /// Removes a done entry and changes `wf_project`'s mirror record by `change`, in one
    /// transaction. `false`: no mirror is recorded (only the entry was removed).
    pub fn complete_with_mirror_change(
        &self,
        id: OutboxId,
        wf_project: &WorkfrontProjectId,
        change: &MirrorChange,
    ) -> Result<bool, StoreError> {
        self.complete_in(id, &self.mirrors, |mirrors| {
            let Some(raw) = mirrors.get(wf_project.as_str())? else {
                return Ok(false);
            };
            let mut record: MirrorRecord = decode("mirrors", wf_project.as_str(), &raw).map_err(abort)?;
            change.apply(&mut record);
            mirrors.insert(wf_project.as_str(), encode(&record))?;
            Ok(true)
        })
    }

    /// Removes an entry whose effect turned out to be done already.
    pub fn complete(&self, id: OutboxId) -> Result<(), StoreError> {
        let result = (&self.outbox, &self.outbox_keys).transaction(|(outbox, keys)| take_entry(outbox, keys, id));
        result.map_err(tx_error)?;
        self.reindex(id);
        Ok(())
    }

    /// Records a failed attempt and when to try again. `outcome_known` clears the in-flight mark
    /// (the server provably did nothing); otherwise it stays, and the next attempt looks first.
    pub fn reschedule(
        &self,
        id: OutboxId,
        error: &str,
        next_attempt_at: Timestamp,
        outcome_known: bool,
    ) -> Result<(), StoreError> {
        self.update_entry(id, |e| {
            e.attempts += 1;
            e.last_error = Some(error.to_owned());
            e.next_attempt_at = next_attempt_at;
            if outcome_known {
                e.in_flight = None;
            }
        })
    }

    /// Parks an entry with its reason.
    pub fn park(&self, id: OutboxId, reason: &str, cause: ParkCause) -> Result<(), StoreError> {
        self.update_entry(id, |e| {
            e.state = EntryState::Parked {
                reason: reason.to_owned(),
                cause: cause.clone(),
            };
            e.last_error = Some(reason.to_owned());
        })
    }

    /// Moves an entry to the dead letters with what happened: the reason, the time, and the
    /// refused request with its answer where there was one.
    pub fn bury(
        &self,
        id: OutboxId,
        reason: &str,
        at: Timestamp,
        exchange: Option<Exchange>,
    ) -> Result<(), StoreError> {
        self.update_entry(id, |e| {
            e.attempts += 1;
            e.state = EntryState::Dead {
                reason: reason.to_owned(),
                at,
                exchange: exchange.clone(),
            };
            e.last_error = Some(reason.to_owned());
            e.in_flight = None;
        })
    }

    /// An admin's `outbox retry`: a parked or dead entry becomes pending and due now.
    pub fn retry_entry(&self, id: OutboxId, now: Timestamp) -> Result<OutboxEntry, StoreError> {
        self.update_entry(id, |e| {
            e.state = EntryState::Pending;
            e.next_attempt_at = now;
        })?;
        self.outbox_entry(id)?.ok_or(StoreError::NoSuchEntry(id))
    }

    /// An admin's `outbox drop`: the entry is removed for good.
    pub fn drop_entry(&self, id: OutboxId) -> Result<OutboxEntry, StoreError> {
        let entry = self.outbox_entry(id)?.ok_or(StoreError::NoSuchEntry(id))?;
        self.complete(id)?;
        Ok(entry)
    }

    fn update_entry(&self, id: OutboxId, change: impl Fn(&mut OutboxEntry)) -> Result<(), StoreError> {
        let result = self.outbox.transaction(|outbox| -> TxResult<()> {
            let raw = outbox
                .get(id.to_key())?
                .ok_or_else(|| abort(StoreError::NoSuchEntry(id)))?;
            let mut entry: OutboxEntry = decode("outbox", &id.to_string(), &raw).map_err(abort)?;
            change(&mut entry);
            outbox.insert(&id.to_key(), encode(&entry))?;
            Ok(())
        });
        result.map_err(tx_error)?;
        self.reindex(id);
        Ok(())
    }
}

/// A collaborator entry as the plan sees it.
fn collaborator_entry(e: &OutboxEntry, op: collaborator_plan::Op) -> collaborator_plan::Entry {
    let status = match &e.state {
        EntryState::Pending => collaborator_plan::Status::Pending,
        EntryState::Parked {
            cause: ParkCause::NoFrameioUser,
            ..
        } => collaborator_plan::Status::Held(Hold::NoFrameioUser),
        EntryState::Parked {
            cause: ParkCause::RemovalGuard,
            ..
        } => collaborator_plan::Status::Held(Hold::RemovalGuard),
        EntryState::Parked { .. } | EntryState::Dead { .. } => collaborator_plan::Status::Other,
    };
    collaborator_plan::Entry {
        op,
        status,
        in_flight: e.in_flight.is_some(),
    }
}

fn corrupt_key(key: &str) -> StoreError {
    StoreError::Corrupt {
        tree: "outbox_keys",
        key: key.to_owned(),
        message: "not an outbox id".into(),
    }
}
