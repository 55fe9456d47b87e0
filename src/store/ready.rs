//! The worker's index of pending outbox entries, by priority, due time and id, with each one's
//! lane: picking the next entry reads this, not every entry of the outbox. It also keeps what
//! `status` and `/metrics` need of the whole outbox (counts by state, the collaborator backlog,
//! held removals, which entries are not pending), so neither decodes it.
//!
//! It is held in memory, built from the outbox when the store opens and brought up to date after
//! every write to an entry (`Store::reindex`). A write that removes an entry may leave its line
//! here for a moment; the picker checks each candidate against the outbox and drops stale lines.

use super::outbox::OutboxCounts;
use super::records::{EntryState, OutboxEntry, ParkCause, Priority};
use crate::core::model::Lane;
use crate::effects::Effect;
use crate::ids::OutboxId;
use crate::timestamp::Timestamp;
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

/// One pending entry, as the picker orders them: fresh before backfill, then by due time, then
/// oldest first.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ready {
    pub priority: Priority,
    pub due: Timestamp,
    pub id: OutboxId,
    pub lane: Lane,
}

#[derive(Debug, Default)]
pub(super) struct ReadyIndex {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    ordered: BTreeSet<Ready>,
    by_id: HashMap<OutboxId, Ready>,
    /// What every entry counts toward, and the totals.
    states: HashMap<OutboxId, Counted>,
    totals: Totals,
}

/// What `status` needs of the whole outbox, kept so that it reads only the entries to show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub counts: OutboxCounts,
    /// Pending collaborator changes.
    pub collaborator_backlog: usize,
    /// Removals the mass-removal guard holds.
    pub held_removals: usize,
    /// Entries that are not pending (parked or dead), oldest first: the ones `status` shows.
    pub attention: Vec<OutboxId>,
}

/// What an entry counts toward.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counted {
    class: Class,
    collaborator: bool,
    held_removal: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Pending,
    Parked,
    Dead,
}

impl Counted {
    fn of(entry: &OutboxEntry) -> Self {
        Self {
            class: match entry.state {
                EntryState::Pending => Class::Pending,
                EntryState::Parked { .. } => Class::Parked,
                EntryState::Dead { .. } => Class::Dead,
            },
            collaborator: matches!(entry.effect, Effect::AddCollaborator(_) | Effect::RemoveCollaborator(_)),
            held_removal: matches!(
                entry.state,
                EntryState::Parked {
                    cause: ParkCause::RemovalGuard,
                    ..
                }
            ),
        }
    }

    /// Adds (`+1`) or takes away (`-1`) this entry's share.
    fn apply(self, tally: &mut Totals, sign: isize) {
        let add = |n: &mut usize| *n = n.saturating_add_signed(sign);
        add(match self.class {
            Class::Pending => &mut tally.counts.pending,
            Class::Parked => &mut tally.counts.parked,
            Class::Dead => &mut tally.counts.dead,
        });
        if self.collaborator && self.class == Class::Pending {
            add(&mut tally.collaborator_backlog);
        }
        if self.held_removal {
            add(&mut tally.held_removals);
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Totals {
    counts: OutboxCounts,
    collaborator_backlog: usize,
    held_removals: usize,
}

impl ReadyIndex {
    pub(super) fn build<'a>(entries: impl IntoIterator<Item = &'a OutboxEntry>) -> Self {
        let index = Self::default();
        for entry in entries {
            index.set(entry.id, Some(entry));
        }
        index
    }

    /// Brings entry `id`'s line up to date: `None` (gone) or an entry that is not pending
    /// removes it.
    pub(super) fn set(&self, id: OutboxId, entry: Option<&OutboxEntry>) {
        let mut inner = self.inner.lock().expect("ready index lock");
        let inner = &mut *inner;
        if let Some(old) = inner.by_id.remove(&id) {
            inner.ordered.remove(&old);
        }
        if let Some(old) = inner.states.remove(&id) {
            old.apply(&mut inner.totals, -1);
        }
        if let Some(entry) = entry {
            let counted = Counted::of(entry);
            counted.apply(&mut inner.totals, 1);
            inner.states.insert(id, counted);
        }
        if let Some(entry) = entry.filter(|e| e.state == EntryState::Pending) {
            let ready = Ready {
                priority: entry.priority,
                due: entry.next_attempt_at,
                id,
                lane: entry.effect.lane(),
            };
            inner.ordered.insert(ready.clone());
            inner.by_id.insert(id, ready);
        }
    }

    /// The pending entries in the picker's order, while `keep_going` says so.
    pub(super) fn scan(&self, mut visit: impl FnMut(&Ready) -> bool) {
        let inner = self.inner.lock().expect("ready index lock");
        for ready in &inner.ordered {
            if !visit(ready) {
                break;
            }
        }
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.inner.lock().expect("ready index lock").by_id.len()
    }

    /// Pending entries by lane (its `Display`).
    pub(super) fn pending_by_lane(&self) -> std::collections::BTreeMap<String, usize> {
        let inner = self.inner.lock().expect("ready index lock");
        let mut lanes = std::collections::BTreeMap::new();
        for ready in &inner.ordered {
            *lanes.entry(ready.lane.to_string()).or_default() += 1;
        }
        lanes
    }

    pub(super) fn counts(&self) -> OutboxCounts {
        self.inner.lock().expect("ready index lock").totals.counts
    }

    pub(super) fn tally(&self) -> Tally {
        let inner = self.inner.lock().expect("ready index lock");
        let mut attention: Vec<OutboxId> = inner
            .states
            .iter()
            .filter(|(_, c)| c.class != Class::Pending)
            .map(|(id, _)| *id)
            .collect();
        attention.sort();
        Tally {
            counts: inner.totals.counts,
            collaborator_backlog: inner.totals.collaborator_backlog,
            held_removals: inner.totals.held_removals,
            attention,
        }
    }
}
