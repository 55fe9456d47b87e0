//! `AddCollaborator` (F3): a flagged Workfront user on a mirror. Looks first: someone already on
//! the project is recorded and not sent again, so a role someone set by hand is never
//! overwritten. They are recorded as ours (removed on deactivation) if our own earlier request may
//! have added them, or if the mirror was adopted on recovery and they are not its creator;
//! otherwise as present before us (never removed).

use super::{Failed, Kind, Outcome, Produced};
use crate::core::access::collaborator_role;
use crate::core::model::{collaborator_key, CollaboratorRole, Lane, RateClass, RoleChoice, Target};
use crate::engine::Engine;
use crate::ids::{FrameioProjectId, FrameioUserId, WorkfrontProjectId, WorkfrontUserId};
use crate::retry::{outbox_delay, Classify, ErrorClass};
use crate::store::{Arrival, CollaboratorRecord, OutboxEntry, ParkCause, StoreError};
use crate::workfront::access::AccessFetchError;
use serde::{Deserialize, Serialize};

/// F3: make a Workfront user a collaborator on a mirror. `frameio_user` is `None` while the
/// account's user directory has no one with the user's email; such an entry stays parked with its
/// reason until a directory refresh finds them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddCollaborator {
    pub wf_project: WorkfrontProjectId,
    pub wf_user: WorkfrontUserId,
    pub email: String,
    pub frameio_project: FrameioProjectId,
    pub target: Target,
    pub frameio_user: Option<FrameioUserId>,
    pub role: RoleChoice,
}

impl Kind for AddCollaborator {
    /// One key for both directions (see `RemoveCollaborator`): a later plan replaces an add by a
    /// removal (or the reverse) instead of queueing both.
    fn key(&self) -> String {
        collaborator_key(&self.wf_project, &self.wf_user)
    }

    fn describe(&self) -> String {
        format!(
            "add {} as {} to the mirror {} of Workfront project {} (account {})",
            self.email,
            self.role.describe(),
            self.frameio_project,
            self.wf_project,
            self.target.account
        )
    }

    fn lane(&self) -> Lane {
        Lane::Frameio(self.target.credential())
    }

    fn wf_project(&self) -> Option<&WorkfrontProjectId> {
        Some(&self.wf_project)
    }

    fn paced_by(&self) -> Option<RateClass> {
        Some(RateClass::UpdateProjectUser)
    }
}

pub(super) async fn carry_out(
    engine: &Engine,
    entry: &OutboxEntry,
    payload: &AddCollaborator,
) -> Result<Outcome, StoreError> {
    let AddCollaborator {
        wf_project,
        wf_user,
        email,
        frameio_project,
        target,
        frameio_user,
        role,
    } = payload;
    let pair = (wf_project.clone(), wf_user.clone());
    let Some(frameio_user) = frameio_user else {
        return Ok(Outcome::Park {
            reason: format!("no Frame.io user for {email} in account {}", target.account),
            cause: ParkCause::NoFrameioUser,
        });
    };
    if let Some(record) = engine.store.collaborator(&pair)? {
        if record.added.contains(frameio_user) || record.present.contains(frameio_user) {
            return Ok(Outcome::Done(Produced::Nothing));
        }
    }
    let credential = target.credential();
    let client = match engine.client_for(&credential) {
        Ok(client) => client,
        Err(parked) => return Ok(*parked),
    };
    let base = |role| {
        CollaboratorRecord::first(
            (wf_project, wf_user),
            frameio_project,
            target,
            email,
            role,
            engine.clock.now(),
        )
    };
    match client.project_users(&target.account, frameio_project).await {
        Err(err) => return engine.frameio_failed(entry, &credential, &err, Failed::Looking),
        Ok(members) => {
            if let Some(member) = members.iter().find(|m| &m.id == frameio_user) {
                // Our own earlier request may have added them; on a mirror adopted after a lost
                // state dir (or on a first install), the rules would have added them, so they
                // count as ours too — except the project's creator; otherwise someone else did.
                let adopted = engine.store.mirror(wf_project)?.filter(|m| m.adopted_on_recovery());
                let ours_on_adoption = adopted.is_some_and(|m| m.owner.as_ref() != Some(frameio_user));
                let arrival = if entry.in_flight.is_some() || ours_on_adoption {
                    Arrival::Added
                } else {
                    Arrival::Present
                };
                let their_role = member
                    .role
                    .as_deref()
                    .and_then(CollaboratorRole::parse)
                    .unwrap_or(CollaboratorRole::Editor);
                tracing::info!(
                    outbox_id = %entry.id, %wf_project, %wf_user, %frameio_project, %frameio_user,
                    role = member.role.as_deref().unwrap_or("?"), ours = arrival == Arrival::Added,
                    "already a collaborator; recorded, not sent again"
                );
                return Ok(Outcome::Done(Produced::Collaborator {
                    base: base(their_role),
                    frameio_user: frameio_user.clone(),
                    arrival,
                }));
            }
        }
    }
    let role = match role {
        RoleChoice::Fixed(role) => *role,
        RoleChoice::FromAccess => match role_from_access(engine, entry, wf_user, wf_project, email).await {
            Ok(role) => role,
            Err(outcome) => return Ok(outcome),
        },
    };
    let permit = engine.permit_to_send(entry).await?;
    match client
        .set_project_user(&permit, &target.account, frameio_project, frameio_user, role.as_str())
        .await
    {
        Ok(()) => {
            crate::failpoint::hit(crate::failpoint::AFTER_COLLABORATOR_ADD);
            tracing::info!(
                outbox_id = %entry.id, %wf_project, %wf_user, %frameio_project, %frameio_user,
                role = role.as_str(), "added collaborator"
            );
            Ok(Outcome::Done(Produced::Collaborator {
                base: base(role),
                frameio_user: frameio_user.clone(),
                arrival: Arrival::Added,
            }))
        }
        Err(err) => engine.frameio_failed(entry, &credential, &err, Failed::Sending),
    }
}

/// The role Workfront's access rules give the user on the project (`role = "from_access"`), or
/// what the entry comes to instead: parked with the rules' explanation when they do not let the
/// user even view the project, retried when Workfront could not answer.
async fn role_from_access(
    engine: &Engine,
    entry: &OutboxEntry,
    wf_user: &WorkfrontUserId,
    wf_project: &WorkfrontProjectId,
    email: &str,
) -> Result<CollaboratorRole, Outcome> {
    let fetched = async {
        let subject = engine.access.subject(wf_user, &engine.flag_field).await?;
        let project = engine.access.project(wf_project).await?;
        Ok::<_, AccessFetchError>((subject, project))
    }
    .await;
    match fetched {
        Ok((subject, project)) => collaborator_role(&subject, &project).map_err(|decision| {
            let reason = format!(
                "Workfront's access rules do not let {email} view project {wf_project}, so they are not added ({}); change their access in Workfront, then `frameio-sync outbox retry {}`",
                decision.explanation, entry.id
            );
            tracing::warn!(outbox_id = %entry.id, %wf_user, %wf_project, rule = ?decision.rule, "the access rules refuse the user");
            Outcome::Park {
                reason,
                cause: ParkCause::Permanent,
            }
        }),
        Err(AccessFetchError::Workfront(err)) if err.class() == ErrorClass::Transient => {
            let wait = outbox_delay(entry.attempts + 1, ErrorClass::Transient, None);
            tracing::warn!(outbox_id = %entry.id, error = %err, "could not read the access rules; trying again");
            Err(Outcome::Retry {
                at: engine.clock.now().saturating_add(wait),
                error: err.to_string(),
                outcome_known: true,
            })
        }
        Err(err) => Err(Outcome::Park {
            reason: format!("cannot decide the role from Workfront's access rules: {err}"),
            cause: ParkCause::Permanent,
        }),
    }
}
