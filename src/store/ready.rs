//! The worker's index of pending outbox entries, by priority, due time and id, with each one's
//! lane: picking the next entry reads this, not every entry of the outbox. It also counts the
//! entries by state, for `status` and `/metrics`.
//!
//! It is held in memory, built from the outbox when the store opens and brought up to date after
//! every write to an entry (`Store::reindex`). A write that removes an entry may leave its line
//! here for a moment; the picker checks each candidate against the outbox and drops stale lines.

use super::outbox::OutboxCounts;
use super::records::{EntryState, OutboxEntry, Priority};
use crate::core::model::Lane;
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
    /// Every entry's state, and their counts.
    states: HashMap<OutboxId, Counted>,
    counts: OutboxCounts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Counted {
    Pending,
    Parked,
    Dead,
}

impl Counted {
    fn of(state: &EntryState) -> Self {
        match state {
            EntryState::Pending => Counted::Pending,
            EntryState::Parked { .. } => Counted::Parked,
            EntryState::Dead { .. } => Counted::Dead,
        }
    }

    fn slot(self, counts: &mut OutboxCounts) -> &mut usize {
        match self {
            Counted::Pending => &mut counts.pending,
            Counted::Parked => &mut counts.parked,
            Counted::Dead => &mut counts.dead,
        }
    }
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
            let slot = old.slot(&mut inner.counts);
            *slot = slot.saturating_sub(1);
        }
        if let Some(entry) = entry {
            let class = Counted::of(&entry.state);
            *class.slot(&mut inner.counts) += 1;
            inner.states.insert(id, class);
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

    pub(super) fn counts(&self) -> OutboxCounts {
        self.inner.lock().expect("ready index lock").counts
    }
}
