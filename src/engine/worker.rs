//! Carrying out one outbox entry.

use super::Engine;
use crate::core::adoption::choose_adoption;
use crate::core::model::{Credential, Effect, Target};
use crate::frameio::{FrameioClient, FrameioError, FrameioProject};
use crate::ids::{FrameioProjectId, WorkfrontProjectId};
use crate::retry::{outbox_delay, Classify, ErrorClass};
use crate::store::records::MIRROR_V;
use crate::store::{InFlight, MirrorOrigin, MirrorRecord, OutboxEntry, ParkCause, StoreError};
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
    ///
    /// An entry whose credential is being paced by Frame.io's rate limit is not due until the
    /// limit allows it, so one connection's throttling never holds up another's work.
    pub async fn work_once(&self) -> Result<WorkOutcome, StoreError> {
        let now = Timestamp::now();
        let (due, next_due) = self.store.next_due(now, |entry| self.paced_until(entry, now))?;
        let Some(entry) = due else {
            return Ok(WorkOutcome::Idle { next_due });
        };
        match entry.effect.clone() {
            Effect::CreateMirror {
                wf_project,
                name,
                target,
            } => self.create_mirror(&entry, &wf_project, &name, target.as_ref()).await?,
            Effect::AddCollaborator {
                wf_project,
                wf_user,
                email,
                frameio_project,
                target,
                frameio_user,
                role,
            } => {
                self.add_collaborator(
                    &entry,
                    &wf_project,
                    &wf_user,
                    &email,
                    &frameio_project,
                    &target,
                    frameio_user.as_ref(),
                    role,
                )
                .await?
            }
            Effect::RemoveCollaborator {
                wf_project,
                wf_user,
                frameio_project,
                target,
                frameio_users,
                ..
            } => {
                self.remove_collaborator(&entry, &wf_project, &wf_user, &frameio_project, &target, &frameio_users)
                    .await?
            }
            Effect::AddDocument {
                interaction,
                wf_project,
                asset_name,
                asset_url,
                user_name,
                ..
            } => {
                self.add_document(&entry, &interaction, &wf_project, &asset_name, &asset_url, &user_name)
                    .await?
            }
            Effect::AddNote {
                interaction,
                wf_project,
                text,
                ..
            } => self.add_note(&entry, &interaction, &wf_project, &text).await?,
        }
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

    /// The client for `credential`, or `None` after parking the entry with what to do about it:
    /// Frame.io refuses the credential, or there is none (a removed connection, an unreadable
    /// token file).
    pub(super) async fn client_or_park(
        &self,
        entry: &OutboxEntry,
        credential: &Credential,
    ) -> Result<Option<FrameioClient>, StoreError> {
        if self.is_refused(credential) {
            let reason = match credential {
                Credential::Group(g) => format!(
                    "Frame.io refuses the credential of group {g}'s connection; run `frameio-sync connect-group --group {g}` with a new one"
                ),
                Credential::Default => {
                    "Frame.io refuses the default account's credential; fix [frameio.default] and restart".to_owned()
                }
            };
            self.store.park(
                entry.id,
                &reason,
                ParkCause::CredentialRefused {
                    credential: credential.clone(),
                },
            )?;
            self.store.flush().await?;
            return Ok(None);
        }
        let Some(client) = self.client(credential) else {
            // A later sync routes the project again, to the nearest connected ancestor or the
            // default.
            let reason = match credential {
                Credential::Group(g) => format!(
                    "group {g} has no connection with a usable credential (disconnected, or its token file is unreadable); connect it again, or run a full resync (systemctl reload frameio-sync) to route the project elsewhere"
                ),
                Credential::Default => "[frameio.default] has no usable credential".to_owned(),
            };
            tracing::error!(outbox_id = %entry.id, effect = %entry.effect.describe(), %reason, "parked");
            self.store.park(entry.id, &reason, ParkCause::Unroutable)?;
            self.store.flush().await?;
            return Ok(None);
        };
        Ok(Some(client))
    }

    async fn create_mirror(
        &self,
        entry: &OutboxEntry,
        wf_project: &WorkfrontProjectId,
        name: &str,
        target: Option<&Target>,
    ) -> Result<(), StoreError> {
        if self.store.mirror(wf_project)?.is_some() {
            self.store.complete(entry.id)?;
            return self.store.flush().await;
        }
        let Some(target) = target else {
            let reason = format!("no Frame.io account is known for Workfront project {wf_project}");
            self.store.park(entry.id, &reason, ParkCause::Unroutable)?;
            return self.store.flush().await;
        };
        let credential = target.credential();
        let Some(client) = self.client_or_park(entry, &credential).await? else {
            return Ok(());
        };

        // A previous attempt may have created the project without us seeing the answer. Look
        // before creating again: Frame.io has no idempotency key.
        if let Some(in_flight) = entry.in_flight {
            let mapped = self.store.mirrored_frameio_ids()?;
            match find_earlier_result(&client, target, name, in_flight, &mapped).await {
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
                    self.collaborators_after_mirror(wf_project).await;
                    return Ok(());
                }
                Ok(None) => {
                    tracing::info!(outbox_id = %entry.id, wf_project = %wf_project, "earlier create left nothing; creating");
                }
                Err(err) => return self.failed(entry, &credential, &err, false).await,
            }
        }

        // Durably note the attempt before sending, so a crash from here on leads to a look-first.
        self.store.mark_in_flight(entry.id, Timestamp::now())?;
        self.store.flush().await?;
        match client.create_project(&target.account, &target.workspace, name).await {
            Ok(project) => {
                crate::failpoint::hit(crate::failpoint::AFTER_CREATE);
                let record = mirror_record(wf_project, name, target, &project, MirrorOrigin::Created);
                let recorded = self.store.complete_with_mirror(entry.id, &record)?;
                self.store.flush().await?;
                if recorded {
                    tracing::info!(
                        outbox_id = %entry.id, wf_project = %wf_project, frameio_project = %project.id,
                        account = %target.account, workspace = %target.workspace, "created mirror"
                    );
                    self.collaborators_after_mirror(wf_project).await;
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
                self.failed(entry, &credential, &err, outcome_known).await
            }
        }
    }

    /// Records a failed attempt. Transient failures are retried on the policy's schedule (never
    /// given up); a refused connection token parks the entry (and marks the connection broken)
    /// until `connect-group` stores a new one; a refused default token is retried at least a
    /// minute apart; other refusals become dead letters, kept with the request and the answer.
    pub(super) async fn failed(
        &self,
        entry: &OutboxEntry,
        credential: &Credential,
        err: &FrameioError,
        outcome_known: bool,
    ) -> Result<(), StoreError> {
        let now = Timestamp::now();
        match (err.class(), credential) {
            (ErrorClass::Auth, Credential::Group(group)) => {
                tracing::error!(outbox_id = %entry.id, %group, error = %err, "Frame.io refused the connection's token; parked");
                self.refuse(credential, &err.to_string())?;
                let reason = format!("{err}; run connect-group --group {group} with a new token");
                self.store.park(
                    entry.id,
                    &reason,
                    ParkCause::CredentialRefused {
                        credential: credential.clone(),
                    },
                )?;
            }
            (class @ (ErrorClass::Transient | ErrorClass::Auth), _) => {
                let wait = outbox_delay(entry.attempts + 1, class, err.retry_after());
                if class == ErrorClass::Auth {
                    tracing::error!(outbox_id = %entry.id, error = %err, retry_in_s = wait.as_secs(), "Frame.io refused the credential");
                } else {
                    tracing::warn!(outbox_id = %entry.id, error = %err, retry_in_ms = wait.as_millis() as u64, outcome_known, "attempt failed");
                }
                self.store
                    .reschedule(entry.id, &err.to_string(), now.saturating_add(wait), outcome_known)?;
            }
            (ErrorClass::Permanent, _) => {
                tracing::error!(outbox_id = %entry.id, effect = %entry.effect.describe(), error = %err, "dead letter: Frame.io refused the request");
                self.store
                    .bury(entry.id, &dead_letter_reason(err, entry.id), now, err.exchange())?;
            }
        }
        self.store.flush().await
    }
}

/// A dead letter's reason: what was refused, and what the admin can do about it.
pub(super) fn dead_letter_reason(err: &dyn std::fmt::Display, id: crate::ids::OutboxId) -> String {
    format!(
        "{err}; fix the cause, then `frameio-sync outbox retry {id}`, or `frameio-sync outbox drop {id}` to give it up"
    )
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
    wf_project: &WorkfrontProjectId,
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
