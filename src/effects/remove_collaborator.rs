//! `RemoveCollaborator` (F5): a deactivated user's Frame.io users, those we added, off a mirror.
//! A user active again by now is left where they are. DELETE is idempotent (a 404 means "already
//! gone"), so a retry after a partial failure repeats the ones already done, and no in-flight
//! mark is needed.

use super::{Failed, Kind, Outcome, Produced};
use crate::core::model::{collaborator_key, Lane, RateClass, Target};
use crate::engine::Engine;
use crate::ids::{FrameioProjectId, FrameioUserId, WorkfrontProjectId, WorkfrontUserId};
use crate::store::{OutboxEntry, StoreError};
use serde::{Deserialize, Serialize};

/// F5: take a deactivated Workfront user off a mirror, as every Frame.io user this daemon added
/// for them there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveCollaborator {
    pub wf_project: WorkfrontProjectId,
    pub wf_user: WorkfrontUserId,
    pub email: String,
    pub frameio_project: FrameioProjectId,
    pub target: Target,
    pub frameio_users: Vec<FrameioUserId>,
}

impl Kind for RemoveCollaborator {
    /// The pair's key, shared with `AddCollaborator`.
    fn key(&self) -> String {
        collaborator_key(&self.wf_project, &self.wf_user)
    }

    fn describe(&self) -> String {
        format!(
            "remove {} from the mirror {} of Workfront project {}",
            self.email, self.frameio_project, self.wf_project
        )
    }

    fn lane(&self) -> Lane {
        Lane::Frameio(self.target.credential())
    }

    fn wf_project(&self) -> Option<&WorkfrontProjectId> {
        Some(&self.wf_project)
    }

    fn paced_by(&self) -> Option<RateClass> {
        Some(RateClass::DeleteProjectUser)
    }
}

pub(super) async fn carry_out(
    engine: &Engine,
    entry: &OutboxEntry,
    payload: &RemoveCollaborator,
) -> Result<Outcome, StoreError> {
    let RemoveCollaborator {
        wf_project,
        wf_user,
        frameio_project,
        target,
        frameio_users,
        ..
    } = payload;
    let active_again = engine.known_user(wf_user).is_some_and(|u| u.is_active);
    if active_again {
        tracing::info!(outbox_id = %entry.id, %wf_project, %wf_user, "the user is active again; removal cancelled");
        return Ok(Outcome::Done(Produced::Nothing));
    }
    let credential = target.credential();
    let client = match engine.client_for(&credential) {
        Ok(client) => client,
        Err(parked) => return Ok(*parked),
    };
    for frameio_user in frameio_users {
        if let Err(err) = client
            .remove_project_user(&target.account, frameio_project, frameio_user)
            .await
        {
            return engine.frameio_failed(entry, &credential, &err, Failed::Idempotent);
        }
    }
    tracing::info!(outbox_id = %entry.id, %wf_project, %wf_user, %frameio_project, removed = frameio_users.len(), "removed deactivated collaborator");
    Ok(Outcome::Done(Produced::Removal {
        pair: (wf_project.clone(), wf_user.clone()),
        removed: frameio_users.clone(),
    }))
}
