//! `RemoveCollaborator` (F5): a deactivated user's Frame.io users, those we added, off a mirror.
//! A user active again by now is left where they are. DELETE is idempotent (a 404 means "already
//! gone"), so a retry after a partial failure repeats the ones already done, and no in-flight
//! mark is needed.

use super::{Failed, Outcome, Produced};
use crate::core::model::Effect;
use crate::engine::Engine;
use crate::store::{OutboxEntry, StoreError};

pub(super) async fn carry_out(engine: &Engine, entry: &OutboxEntry) -> Result<Outcome, StoreError> {
    let Effect::RemoveCollaborator {
        wf_project,
        wf_user,
        frameio_project,
        target,
        frameio_users,
        ..
    } = &entry.effect
    else {
        unreachable!("dispatched by kind")
    };
    let active_again = engine
        .users
        .read()
        .expect("users lock")
        .get(wf_user)
        .is_some_and(|u| u.is_active);
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
