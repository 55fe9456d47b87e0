//! `CreateMirror`: a Workfront project's Frame.io project (F1). Frame.io has no idempotency key,
//! so an attempt whose answer was lost looks first: it lists the workspace and adopts the project
//! the earlier create made (`core::adoption`) before it creates again.

use super::{Effect, Failed, Kind, Outcome, Produced};
use crate::core::adoption::choose_adoption;
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
                    found.id,
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
                account = %target.account, workspace = %target.workspace, "created mirror"
            );
            let record = MirrorRecord::new(
                wf_project,
                name,
                target,
                project.id,
                MirrorOrigin::Created,
                engine.clock.now(),
            );
            Ok(Outcome::Done(Produced::Mirror(record)))
        }
        Err(err) => engine.frameio_failed(entry, &credential, &err, Failed::Sending),
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
