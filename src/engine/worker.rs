//! Picking the next outbox entry (`effects/` carries it out).

use super::Engine;
use crate::core::model::Effect;
use crate::store::{OutboxEntry, StoreError};
use crate::timestamp::Timestamp;

/// What [`Engine::work_once`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkOutcome {
    /// An entry was attempted (whatever its outcome).
    Worked,
    /// Nothing is due; the next pending entry is due at this time, if any.
    Idle { next_due: Option<Timestamp> },
}

impl Engine {
    /// Attempts the oldest due outbox entry. Errors are store errors only: failures of the effect
    /// itself are recorded on the entry (rescheduled or parked) and are not errors here.
    ///
    /// An entry whose credential is being paced by Frame.io's rate limit is not due until the
    /// limit allows it, so one connection's throttling never holds up another's work.
    pub async fn work_once(&self) -> Result<WorkOutcome, StoreError> {
        let now = Timestamp::now();
        let (due, next_due) = self.store.next_due(now, |entry| self.paced_until(entry, now))?;
        let Some(entry) = due else {
            return Ok(WorkOutcome::Idle { next_due });
        };
        self.carry_out(&entry).await?;
        Ok(WorkOutcome::Worked)
    }

    /// When the entry's credential may next make its kind of request, if that is later than `now`.
    fn paced_until(&self, entry: &OutboxEntry, now: Timestamp) -> Option<Timestamp> {
        let credential = entry.effect.credential()?;
        let routes = self.read();
        let client = routes.clients.get(&credential)?;
        let wait = match &entry.effect {
            Effect::CreateMirror { .. } => client.create_ready_in(),
            Effect::AddCollaborator { .. } => client.collaborator_add_ready_in(),
            Effect::RemoveCollaborator { .. } => client.collaborator_remove_ready_in(),
            Effect::AddDocument { .. } | Effect::AddNote { .. } => return None,
        };
        (!wait.is_zero()).then(|| now.saturating_add(wait))
    }
}
