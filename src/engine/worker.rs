//! Carrying out one outbox entry.

use super::Engine;
use crate::core::adoption::choose_adoption;
use crate::core::model::{Effect, Target};
use crate::frameio::{FrameioClient, FrameioError, FrameioProject};
use crate::ids::FrameioProjectId;
use crate::retry::{outbox_delay, Classify, ErrorClass};
use crate::store::records::MIRROR_V;
use crate::store::{InFlight, MirrorOrigin, MirrorRecord, OutboxEntry, StoreError};
use crate::timestamp::Timestamp;
use std::collections::HashSet;

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
    pub async fn work_once(&self) -> Result<WorkOutcome, StoreError> {
        let (due, next_due) = self.store.next_due(Timestamp::now())?;
        let Some(entry) = due else {
            return Ok(WorkOutcome::Idle { next_due });
        };
        match entry.effect.clone() {
            Effect::CreateMirror {
                wf_project,
                name,
                target,
            } => {
                self.create_mirror(&entry, &wf_project, &name, target.as_ref())
                    .await?
            }
        }
        Ok(WorkOutcome::Worked)
    }

    async fn create_mirror(
        &self,
        entry: &OutboxEntry,
        wf_project: &crate::ids::WorkfrontProjectId,
        name: &str,
        target: Option<&Target>,
    ) -> Result<(), StoreError> {
        if self.store.mirror(wf_project)?.is_some() {
            self.store.complete(entry.id)?;
            return self.store.flush().await;
        }
        let Some(target) = target else {
            let reason = format!("no Frame.io account is known for Workfront project {wf_project}");
            self.store.park(entry.id, &reason, true)?;
            return self.store.flush().await;
        };
        let Some(client) = self.frameio.get(&target.account) else {
            let reason = format!(
                "no Frame.io credential is configured for account {}",
                target.account
            );
            tracing::error!(outbox_id = %entry.id, wf_project = %wf_project, %reason, "parked");
            self.store.park(entry.id, &reason, true)?;
            return self.store.flush().await;
        };

        // A previous attempt may have created the project without us seeing the answer. Look
        // before creating again: Frame.io has no idempotency key.
        if let Some(in_flight) = entry.in_flight {
            let mapped = self.store.mirrored_frameio_ids()?;
            match find_earlier_result(client, target, name, in_flight, &mapped).await {
                Ok(Some(found)) => {
                    let record = mirror_record(
                        wf_project,
                        name,
                        target,
                        &found,
                        MirrorOrigin::AdoptedAfterUnknownOutcome,
                    );
                    self.store.complete_with_mirror(entry.id, &record)?;
                    self.store.flush().await?;
                    tracing::info!(
                        outbox_id = %entry.id, wf_project = %wf_project, frameio_project = %found.id,
                        "adopted the project an earlier create made"
                    );
                    return Ok(());
                }
                Ok(None) => {
                    tracing::info!(outbox_id = %entry.id, wf_project = %wf_project, "earlier create left nothing; creating");
                }
                Err(err) => return self.failed(entry, &err, false).await,
            }
        }

        // Durably note the attempt before sending, so a crash from here on leads to a look-first.
        self.store.mark_in_flight(entry.id, Timestamp::now())?;
        self.store.flush().await?;
        match client
            .create_project(&target.account, &target.workspace, name)
            .await
        {
            Ok(project) => {
                let record =
                    mirror_record(wf_project, name, target, &project, MirrorOrigin::Created);
                let recorded = self.store.complete_with_mirror(entry.id, &record)?;
                self.store.flush().await?;
                if recorded {
                    tracing::info!(
                        outbox_id = %entry.id, wf_project = %wf_project, frameio_project = %project.id,
                        account = %target.account, workspace = %target.workspace, "created mirror"
                    );
                } else {
                    tracing::error!(
                        wf_project = %wf_project, frameio_project = %project.id,
                        "a mirror was already recorded; the new project is not ours to keep and is left alone"
                    );
                }
                Ok(())
            }
            Err(err) => {
                let outcome_known = !err.may_have_acted();
                self.failed(entry, &err, outcome_known).await
            }
        }
    }

    /// Records a failed attempt: transient and auth failures are retried on the policy's
    /// schedule (never given up), permanent ones are parked with the error as their reason.
    async fn failed(
        &self,
        entry: &OutboxEntry,
        err: &FrameioError,
        outcome_known: bool,
    ) -> Result<(), StoreError> {
        let now = Timestamp::now();
        match err.class() {
            class @ (ErrorClass::Transient | ErrorClass::Auth) => {
                let wait = outbox_delay(entry.attempts + 1, class, err.retry_after());
                if class == ErrorClass::Auth {
                    tracing::error!(outbox_id = %entry.id, error = %err, retry_in_s = wait.as_secs(), "Frame.io refused the credential");
                } else {
                    tracing::warn!(outbox_id = %entry.id, error = %err, retry_in_ms = wait.as_millis() as u64, outcome_known, "attempt failed");
                }
                self.store.reschedule(
                    entry.id,
                    &err.to_string(),
                    now.saturating_add(wait),
                    outcome_known,
                )?;
            }
            ErrorClass::Permanent => {
                tracing::error!(outbox_id = %entry.id, effect = %entry.effect.describe(), error = %err, "parked: permanent failure");
                self.store.park(entry.id, &err.to_string(), false)?;
            }
        }
        self.store.flush().await
    }
}

/// Lists the workspace and picks the project a create with an unknown outcome made, if any.
async fn find_earlier_result(
    client: &FrameioClient,
    target: &Target,
    name: &str,
    in_flight: InFlight,
    mapped_elsewhere: &HashSet<FrameioProjectId>,
) -> Result<Option<FrameioProject>, FrameioError> {
    let listed = client.projects(&target.account, &target.workspace).await?;
    Ok(choose_adoption(&listed, name, in_flight.started_at, mapped_elsewhere).cloned())
}

fn mirror_record(
    wf_project: &crate::ids::WorkfrontProjectId,
    name: &str,
    target: &Target,
    project: &FrameioProject,
    origin: MirrorOrigin,
) -> MirrorRecord {
    MirrorRecord {
        v: MIRROR_V,
        wf_project: wf_project.clone(),
        frameio_project: project.id.clone(),
        target: target.clone(),
        name: name.to_owned(),
        origin,
        recorded_at: Timestamp::now(),
    }
}
