//! `AddNote`: the F6 submission's note on the Workfront project (or the task it was sent to), carrying `(ref <interaction>)`
//! so a lost answer is found by that marker and never written twice, and the file it is about
//! (`[frameio-file:<id>]`), so the same file sent again adds no second note (as it adds no second
//! document).

use super::{workfront_failed, Kind, Outcome, Produced};
use crate::core::model::{Lane, WorkfrontObject};
use crate::engine::Engine;
use crate::ids::{FrameioFileId, WorkfrontProjectId, WorkfrontTaskId, WorkfrontUserId};
use crate::store::{OutboxEntry, StoreError};
use serde::{Deserialize, Serialize};

/// F6: a note on the project saying who sent what; its text carries the interaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddNote {
    pub interaction: String,
    pub wf_project: WorkfrontProjectId,
    pub wf_user: WorkfrontUserId,
    pub user_name: String,
    pub asset_name: String,
    pub text: String,
    /// The file sent, whose marker the text carries; `None` in entries from before files were sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FrameioFileId>,
    /// The task of `wf_project` it was sent to, if one was chosen; else the project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<WorkfrontTaskId>,
}

impl AddNote {
    /// The object the note goes on.
    pub fn on(&self) -> WorkfrontObject {
        match &self.task {
            Some(task) => WorkfrontObject::Task(task.clone()),
            None => WorkfrontObject::Project(self.wf_project.clone()),
        }
    }

    /// What the text of a note about `file` carries.
    pub fn file_marker(file: &FrameioFileId) -> String {
        format!("[frameio-file:{file}]")
    }
}

impl Kind for AddNote {
    fn key(&self) -> String {
        format!("note:{}", self.interaction)
    }

    fn describe(&self) -> String {
        format!(
            "add a note that {} sent {:?} for review to Workfront {}",
            self.user_name,
            self.asset_name,
            self.on()
        )
    }

    fn lane(&self) -> Lane {
        Lane::Workfront
    }

    fn wf_project(&self) -> Option<&WorkfrontProjectId> {
        Some(&self.wf_project)
    }
}

pub(super) async fn carry_out(engine: &Engine, entry: &OutboxEntry, payload: &AddNote) -> Result<Outcome, StoreError> {
    let AddNote {
        interaction,
        wf_project,
        text,
        file,
        ..
    } = payload;
    let on = payload.on();
    let markers = std::iter::once(format!("(ref {interaction})")).chain(file.as_ref().map(AddNote::file_marker));
    for marker in markers {
        match engine.workfront.find_note(&on, &marker).await {
            Ok(Some(_)) => return Ok(Outcome::Done(Produced::Nothing)),
            Ok(None) => {}
            Err(err) => return Ok(workfront_failed(entry, &err, engine.clock.now())),
        }
    }
    let permit = engine.permit_to_send(entry).await?;
    Ok(match engine.workfront.create_note(&permit, &on, text).await {
        Ok(id) => {
            tracing::info!(outbox_id = %entry.id, %wf_project, on = %on, note = %id, "note added");
            Outcome::Done(Produced::Nothing)
        }
        Err(err) => workfront_failed(entry, &err, engine.clock.now()),
    })
}
