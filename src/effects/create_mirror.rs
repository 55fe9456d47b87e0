//! `CreateMirror`: a Workfront project's Frame.io project (F1). Looks first, twice
//! (`core::adoption`):
//! - a mirror that already exists (a lost state dir, a first install where projects were made by
//!   hand) is adopted: the project the link field names, else the one with exactly the name, from
//!   the workspace as listed once per process (`engine/listings.rs`); several with the name park
//!   the entry with their ids;
//! - Frame.io has no idempotency key, so an attempt whose answer was lost lists the workspace
//!   and adopts the project the earlier create made before it creates again.

use super::{Effect, Failed, Kind, Outcome, Produced};
use crate::core::adoption::{candidates, choose_adoption, find_existing, Existing};
use crate::core::model::{Lane, RateClass, Target};
use crate::engine::Engine;
use crate::frameio::{FrameioClient, FrameioError, FrameioProject};
use crate::ids::{FrameioProjectId, WorkfrontProjectId};
use crate::store::{InFlight, MirrorOrigin, MirrorRecord, OutboxEntry, ParkCause, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// F1/F9: create the mirror project of a Workfront project. `target` is `None` while no
/// Frame.io account can be found for the project; such an entry stays parked with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateMirror {
    pub wf_project: WorkfrontProjectId,
    pub name: String,
    pub target: Option<Target>,
    /// The Frame.io project the Workfront project's link field named when planned, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linked: Option<FrameioProjectId>,
}

impl Kind for CreateMirror {
    fn key(&self) -> String {
        Effect::mirror_key(&self.wf_project)
    }

    fn describe(&self) -> String {
        let Self {
            wf_project,
            name,
            target,
            ..
        } = self;
        match target {
            Some(t) => format!(
                "create mirror of Workfront project {wf_project} ({name:?}) in Frame.io account {} workspace {}",
                t.account, t.workspace
            ),
            None => format!("create mirror of Workfront project {wf_project} ({name:?}), account not yet known"),
        }
    }

    fn lane(&self) -> Lane {
        self.target
            .as_ref()
            .map_or(Lane::Unrouted, |t| Lane::Frameio(t.credential()))
    }

    fn wf_project(&self) -> Option<&WorkfrontProjectId> {
        Some(&self.wf_project)
    }

    fn paced_by(&self) -> Option<RateClass> {
        Some(RateClass::CreateProject)
    }
}

pub(super) async fn carry_out(
    engine: &Engine,
    entry: &OutboxEntry,
    payload: &CreateMirror,
) -> Result<Outcome, StoreError> {
    let CreateMirror {
        wf_project,
        name,
        target,
        linked,
    } = payload;
    if engine.store.mirror(wf_project)?.is_some() {
        return Ok(Outcome::Done(Produced::Nothing));
    }
    let Some(target) = target else {
        return Ok(Outcome::Park {
            reason: format!("no Frame.io account is known for Workfront project {wf_project}"),
            cause: ParkCause::Unroutable,
        });
    };
    let credential = target.credential();
    let client = match engine.client_for(&credential) {
        Ok(client) => client,
        Err(parked) => return Ok(*parked),
    };

    // A previous attempt may have created the project without us seeing the answer.
    if let Some(in_flight) = entry.in_flight {
        let mapped = engine.store.mirrored_frameio_ids()?;
        match find_earlier_result(&client, target, name, in_flight, &mapped).await {
            Ok(Some(found)) => {
                tracing::info!(
                    outbox_id = %entry.id, wf_project = %wf_project, frameio_project = %found.id,
                    "adopted the project an earlier create made"
                );
                let record = MirrorRecord::new(
                    wf_project,
                    name,
                    target,
                    &found,
                    MirrorOrigin::AdoptedAfterUnknownOutcome,
                    engine.clock.now(),
                );
                return Ok(Outcome::Done(Produced::Mirror(record)));
            }
            Ok(None) => {
                tracing::info!(outbox_id = %entry.id, wf_project = %wf_project, "earlier create left nothing; creating");
            }
            Err(err) => return engine.frameio_failed(entry, &credential, &err, Failed::Looking),
        }
    } else {
        let listed = match engine.listings.of(&client, target).await {
            Ok(listed) => listed,
            Err(err) => return engine.frameio_failed(entry, &credential, &err, Failed::Looking),
        };
        let candidates: Vec<_> = candidates(&listed, name, linked.as_ref()).map(|p| &p.id).collect();
        if !candidates.is_empty() {
            let mapped = engine.listings.claimed_among(&engine.store, candidates)?;
            let existing = find_existing(&listed, name, linked.as_ref(), &mapped);
            if let Some(outcome) = adopt_existing(engine, entry, payload, target, existing) {
                return Ok(outcome);
            }
        }
    }

    let permit = engine.permit_to_send(entry).await?;
    match client
        .create_project(&permit, &target.account, &target.workspace, name)
        .await
    {
        Ok(project) => {
            crate::failpoint::hit(crate::failpoint::AFTER_CREATE);
            tracing::info!(
                outbox_id = %entry.id, wf_project = %wf_project, frameio_project = %project.id,
                account = %target.account, workspace = %target.workspace,
                workfront_url = %engine.workfront_project_url(wf_project), "created mirror"
            );
            let record = MirrorRecord::new(
                wf_project,
                name,
                target,
                &project,
                MirrorOrigin::Created,
                engine.clock.now(),
            );
            Ok(Outcome::Done(Produced::Mirror(record)))
        }
        Err(err) => engine.frameio_failed(entry, &credential, &err, Failed::Sending),
    }
}

/// What an existing project comes to: adopted (by link or by name), or the entry parked when
/// several have the name. `None`: there is none, so the mirror is created.
fn adopt_existing(
    engine: &Engine,
    entry: &OutboxEntry,
    payload: &CreateMirror,
    target: &Target,
    existing: Existing<'_>,
) -> Option<Outcome> {
    let CreateMirror { wf_project, name, .. } = payload;
    let how = existing.how();
    let (found, origin) = match existing {
        Existing::Nothing => return None,
        Existing::Several(found) => {
            let ids: Vec<String> = found.iter().map(|p| p.id.to_string()).collect();
            return Some(Outcome::Park {
                reason: format!(
                    "Frame.io workspace {} (account {}) already has {} projects named {name:?} that no other Workfront project mirrors ({}); which one mirrors Workfront project {wf_project} ({}) is not guessed. Rename all but one in Frame.io, or put the address of the right one in the project's link field, then `frameio-sync outbox retry {}`",
                    target.workspace,
                    target.account,
                    found.len(),
                    ids.join(", "),
                    engine.workfront_project_url(wf_project),
                    entry.id
                ),
                cause: ParkCause::Permanent,
            });
        }
        Existing::ByLink(found) => (found, MirrorOrigin::AdoptedByLink),
        Existing::ByName(found) => (found, MirrorOrigin::AdoptedByName),
    };
    tracing::info!(
        outbox_id = %entry.id, %wf_project, frameio_project = %found.id, how,
        workfront_url = %engine.workfront_project_url(wf_project), "adopted an existing project as the mirror"
    );
    let record = MirrorRecord::new(wf_project, name, target, found, origin, engine.clock.now());
    Some(Outcome::Done(Produced::Mirror(record)))
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
