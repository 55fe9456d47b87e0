//! `WriteLink`: the mirror's Frame.io address in the Workfront project's link field
//! (`workfront.link_field`), so a coordinator clicks through from Workfront to Frame.io. Looks
//! first (a field that already holds it is recorded, not written again), and reads its write
//! back: Workfront keeps a custom field's value only when the custom form holding the field is on
//! the project, and may take the write without keeping it. A project whose form lacks the field
//! is parked with that reason (shown once in `status`), not retried on every sync.

use super::{workfront_failed, Kind, Outcome, Produced};
use crate::core::model::Lane;
use crate::engine::Engine;
use crate::ids::{FrameioProjectId, WorkfrontProjectId};
use crate::retry::{Classify, ErrorClass};
use crate::store::{MirrorChange, OutboxEntry, ParkCause, StoreError};
use crate::workfront::WorkfrontError;
use serde::{Deserialize, Serialize};

/// Put `url` (the address of `wf_project`'s mirror `frameio_project`) in the project's link field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteLink {
    pub wf_project: WorkfrontProjectId,
    pub frameio_project: FrameioProjectId,
    pub url: String,
}

impl Kind for WriteLink {
    fn key(&self) -> String {
        format!("link:{}", self.wf_project)
    }

    fn describe(&self) -> String {
        format!(
            "write the address of mirror {} ({}) into Workfront project {}'s link field",
            self.frameio_project, self.url, self.wf_project
        )
    }

    fn lane(&self) -> Lane {
        Lane::Workfront
    }

    fn wf_project(&self) -> Option<&WorkfrontProjectId> {
        Some(&self.wf_project)
    }
}

pub(super) async fn carry_out(
    engine: &Engine,
    entry: &OutboxEntry,
    payload: &WriteLink,
) -> Result<Outcome, StoreError> {
    let WriteLink { wf_project, url, .. } = payload;
    // The setting was removed since this was planned: nothing to write.
    let Some(field) = engine.link_field.as_deref() else {
        return Ok(Outcome::Done(Produced::Nothing));
    };
    let linked = || {
        Outcome::Done(Produced::MirrorChange {
            wf_project: wf_project.clone(),
            change: MirrorChange::Linked(url.clone()),
        })
    };
    let workfront = &engine.workfront;
    match workfront.project_field(wf_project, field).await {
        Ok(Some(held)) if &held == url => return Ok(linked()),
        Ok(_) => {}
        Err(err) => return Ok(failed(engine, entry, wf_project, field, &err)),
    }
    let permit = engine.permit_to_send(entry).await?;
    if let Err(err) = workfront.set_project_field(&permit, wf_project, field, url).await {
        return Ok(failed(engine, entry, wf_project, field, &err));
    }
    crate::failpoint::hit(crate::failpoint::AFTER_LINK);
    match workfront.project_field(wf_project, field).await {
        Ok(Some(held)) if &held == url => {
            tracing::info!(
                outbox_id = %entry.id, %wf_project, frameio_project = %payload.frameio_project, %url,
                workfront_url = %engine.workfront_project_url(wf_project), "wrote the mirror's address into the link field"
            );
            Ok(linked())
        }
        Ok(_) => Ok(not_on_form(
            engine,
            entry,
            wf_project,
            field,
            "Workfront accepted the value but did not keep it",
        )),
        Err(err) => Ok(failed(engine, entry, wf_project, field, &err)),
    }
}

/// A refused read or write of the field is most likely a field that is not on the project's form
/// (or not a field at all): parked with what to do. Anything else is retried.
fn failed(
    engine: &Engine,
    entry: &OutboxEntry,
    wf_project: &WorkfrontProjectId,
    field: &str,
    err: &WorkfrontError,
) -> Outcome {
    match err.class() {
        // Deleted in Workfront: nothing to link (a full sync reports the project gone).
        _ if matches!(err, WorkfrontError::NotFound { .. }) => Outcome::Done(Produced::Nothing),
        ErrorClass::Permanent => not_on_form(engine, entry, wf_project, field, &err.to_string()),
        _ => workfront_failed(entry, err, engine.clock.now()),
    }
}

fn not_on_form(
    engine: &Engine,
    entry: &OutboxEntry,
    wf_project: &WorkfrontProjectId,
    field: &str,
    why: &str,
) -> Outcome {
    Outcome::Park {
        reason: format!(
            "the link field {field:?} is not on the custom form of Workfront project {wf_project} ({}): {why}; add a custom form with the field to the project, then `frameio-sync outbox retry {}`",
            engine.workfront_project_url(wf_project),
            entry.id
        ),
        cause: ParkCause::Permanent,
    }
}
