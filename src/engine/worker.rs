//! Picking outbox entries to carry out (`crate::effects` carries them out), lane by lane.
//!
//! Each lane (`core::model::Lane`: one per Frame.io credential, one for Workfront's writes) has
//! its own share of the work: a Frame.io lane carries out one entry at a time (its user's rate
//! limit is the bound, and the client paces it), the Workfront lane up to
//! `workfront.max_in_flight`. Lanes run side by side, so one connection's throttling or outage
//! never holds up another's work. Within a lane, fresh work (an event, a poll, a submission) goes
//! ahead of a full sync's backfill, but after four fresh entries in a row while backfill waits,
//! one backfill entry goes: backfill is never starved.

use super::Engine;
use crate::core::model::{Credential, Lane, RateClass};
use crate::ids::OutboxId;
use crate::store::{OutboxEntry, Priority, StoreError};
use crate::timestamp::Timestamp;
use std::collections::{HashMap, HashSet};

/// What [`Engine::work_once`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkOutcome {
    /// An entry was attempted (whatever its outcome).
    Worked,
    /// Nothing is due; the next pending entry is due at this time, if any.
    Idle { next_due: Option<Timestamp> },
}

/// Fresh entries a lane takes in a row while its backfill waits; then one backfill entry.
const FRESH_BEFORE_BACKFILL: u32 = 4;

/// The entries being carried out: by the task carrying each one out, by lane, and each lane's
/// run of fresh picks.
#[derive(Debug, Default)]
pub struct Running {
    tasks: HashMap<tokio::task::Id, (Lane, OutboxId)>,
    lanes: HashMap<Lane, usize>,
    ids: HashSet<OutboxId>,
    fresh_in_a_row: HashMap<Lane, u32>,
}

impl Running {
    /// `task` carries out `entry`.
    pub fn start(&mut self, task: tokio::task::Id, entry: &OutboxEntry) {
        let lane = entry.effect.lane();
        let streak = self.fresh_in_a_row.entry(lane.clone()).or_default();
        *streak = match entry.priority {
            Priority::Fresh => streak.saturating_add(1),
            Priority::Backfill => 0,
        };
        *self.lanes.entry(lane.clone()).or_default() += 1;
        self.ids.insert(entry.id);
        self.tasks.insert(task, (lane, entry.id));
    }

    /// `task` ended, however: its lane has room again. The entry and its lane, if it was ours.
    pub fn finish(&mut self, task: tokio::task::Id) -> Option<(Lane, OutboxId)> {
        let (lane, id) = self.tasks.remove(&task)?;
        if let Some(n) = self.lanes.get_mut(&lane) {
            *n = n.saturating_sub(1);
        }
        self.ids.remove(&id);
        Some((lane, id))
    }

    /// Entries being carried out, over all lanes.
    pub fn count(&self) -> usize {
        self.tasks.len()
    }
}

impl Engine {
    /// Attempts the oldest due outbox entry and flushes what came of it. Errors are store errors
    /// only: failures of the effect itself are recorded on the entry (rescheduled or parked) and
    /// are not errors here.
    pub async fn work_once(&self) -> Result<WorkOutcome, StoreError> {
        match self.next_work(&Running::default())? {
            (Some(entry), _) => {
                self.carry_out(&entry).await?;
                self.store.flush().await?;
                Ok(WorkOutcome::Worked)
            }
            (None, next_due) => Ok(WorkOutcome::Idle { next_due }),
        }
    }

    /// The oldest due entry in a lane with room, given what is `running`; otherwise when the
    /// next one is due. An entry whose credential Frame.io is pacing is not due until the limit
    /// allows it.
    pub fn next_work(&self, running: &Running) -> Result<(Option<OutboxEntry>, Option<Timestamp>), StoreError> {
        let now = self.clock.now();
        // One answer per credential and rate class for the whole pick: asked per entry, a wait
        // that runs out while the index is scanned would hold the lane's fresh entry and let the
        // backfill after it through.
        let paced = std::cell::RefCell::new(HashMap::new());
        self.store.next_due(
            now,
            |entry| {
                let credential = entry.effect.credential()?;
                let class = entry.effect.kind().paced_by()?;
                *paced
                    .borrow_mut()
                    .entry((credential.clone(), class))
                    .or_insert_with(|| self.paced_until(&credential, class, now))
            },
            |ready| {
                running.ids.contains(&ready.id)
                    || running.lanes.get(&ready.lane).copied().unwrap_or(0) >= self.lane_capacity(&ready.lane)
            },
            |lane| running.fresh_in_a_row.get(lane).copied().unwrap_or(0) >= FRESH_BEFORE_BACKFILL,
        )
    }

    /// How many entries of `lane` may be carried out at once.
    fn lane_capacity(&self, lane: &Lane) -> usize {
        match lane {
            Lane::Workfront => self.workfront_writes,
            Lane::Frameio(_) | Lane::Unrouted => 1,
        }
    }

    /// When `credential` may next make a request of `class`, if that is later than `now`.
    fn paced_until(&self, credential: &Credential, class: RateClass, now: Timestamp) -> Option<Timestamp> {
        let wait = self.routes.ready_in(credential, class)?;
        (!wait.is_zero()).then(|| now.saturating_add(wait))
    }
}
