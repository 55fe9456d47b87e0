//! `RenameMirror`: a Workfront project's new name carried over to its mirror. Only mirrors we
//! recorded (created or adopted) are renamed, and only when the Workfront name differs from the
//! one we last gave the mirror (`MirrorRecord::name`): a mirror renamed by hand in Frame.io is
//! left alone until the Workfront name changes again. Looks first: a mirror that already has the
//! name is recorded, not sent again.

use super::{Failed, Kind, Outcome, Produced};
use crate::core::model::{Lane, RateClass, Target};
use crate::engine::Engine;
use crate::frameio::FrameioError;
use crate::ids::{FrameioProjectId, WorkfrontProjectId};
use crate::store::{MirrorChange, OutboxEntry, ParkCause, StoreError};
use serde::{Deserialize, Serialize};

/// Give `wf_project`'s mirror `frameio_project` the Workfront project's new `name` (it was `from`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenameMirror {
    pub wf_project: WorkfrontProjectId,
    pub frameio_project: FrameioProjectId,
    pub target: Target,
    pub from: String,
    pub name: String,
}

impl Kind for RenameMirror {
    fn key(&self) -> String {
        format!("rename_mirror:{}", self.wf_project)
    }

    fn describe(&self) -> String {
        format!(
            "rename the mirror {} of Workfront project {} from {:?} to {:?} (account {})",
            self.frameio_project, self.wf_project, self.from, self.name, self.target.account
        )
    }

    fn lane(&self) -> Lane {
        Lane::Frameio(self.target.credential())
    }

    fn wf_project(&self) -> Option<&WorkfrontProjectId> {
        Some(&self.wf_project)
    }

    fn paced_by(&self) -> Option<RateClass> {
        Some(RateClass::UpdateProject)
    }
}

pub(super) async fn carry_out(
    engine: &Engine,
    entry: &OutboxEntry,
    payload: &RenameMirror,
) -> Result<Outcome, StoreError> {
    let RenameMirror {
        wf_project,
        frameio_project,
        target,
        name,
        ..
    } = payload;
    let renamed = || {
        Outcome::Done(Produced::MirrorChange {
            wf_project: wf_project.clone(),
            change: MirrorChange::Renamed(name.clone()),
        })
    };
    // Only the mirror we recorded, and only while it still needs this name.
    match engine.store.mirror(wf_project)? {
        Some(record) if &record.frameio_project == frameio_project => {
            if &record.name == name {
                return Ok(Outcome::Done(Produced::Nothing));
            }
        }
        _ => return Ok(Outcome::Done(Produced::Nothing)),
    }
    let credential = target.credential();
    let client = match engine.client_for(&credential) {
        Ok(client) => client,
        Err(parked) => return Ok(*parked),
    };
    let looked = crate::retry::retry_read("projects show", || client.project(&target.account, frameio_project)).await;
    match looked {
        Ok(project) if &project.name == name => return Ok(renamed()),
        Ok(_) => {}
        Err(FrameioError::Rejected { status: 404, .. }) => {
            return Ok(Outcome::Park {
                reason: format!(
                    "the mirror {frameio_project} of Workfront project {wf_project} is no longer in Frame.io account {}; it is not renamed (nothing is ever re-created). `frameio-sync outbox drop {}` to forget this",
                    target.account, entry.id
                ),
                cause: ParkCause::Permanent,
            })
        }
        Err(err) => return engine.frameio_failed(entry, &credential, &err, Failed::Looking),
    }
    let permit = engine.permit_to_send(entry).await?;
    match client
        .rename_project(&permit, &target.account, frameio_project, name)
        .await
    {
        Ok(_) => {
            crate::failpoint::hit(crate::failpoint::AFTER_RENAME);
            tracing::info!(
                outbox_id = %entry.id, %wf_project, %frameio_project, name = %name,
                workfront_url = %engine.workfront_project_url(wf_project), "renamed mirror"
            );
            Ok(renamed())
        }
        Err(err) => engine.frameio_failed(entry, &credential, &err, Failed::Sending),
    }
}
