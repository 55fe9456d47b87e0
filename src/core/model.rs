//! The values the core decides over. The clients convert their wire types into these.

use crate::ids::{
    FrameioAccountId, FrameioWorkspaceId, WorkfrontGroupId, WorkfrontProjectId, WorkfrontUserId,
};
use crate::timestamp::Timestamp;
use serde::{Deserialize, Serialize};

/// A Workfront project, as far as mirroring cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkfrontProject {
    pub id: WorkfrontProjectId,
    pub name: String,
    pub group_id: Option<WorkfrontGroupId>,
    pub status: Option<String>,
    pub last_update: Option<Timestamp>,
}

/// A Workfront user, as far as collaborator sync cares (F3–F5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkfrontUser {
    pub id: WorkfrontUserId,
    pub name: String,
    pub email: Option<String>,
    pub is_active: bool,
    /// "Add to projects in Frame.io" = Yes.
    pub frameio_flag: bool,
    pub last_update: Option<Timestamp>,
}

/// Where a mirror lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Target {
    pub account: FrameioAccountId,
    pub workspace: FrameioWorkspaceId,
}

/// A side effect on Frame.io or Workfront. Effects are persisted in the outbox (inside a versioned
/// record), so a variant's fields may be added to only with `#[serde(default)]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Effect {
    /// F1/F9: create the mirror project of a Workfront project. `target` is `None` while no
    /// Frame.io account can be found for the project; such an entry stays parked with its reason.
    CreateMirror {
        wf_project: WorkfrontProjectId,
        name: String,
        target: Option<Target>,
    },
}

impl Effect {
    /// The deduplication key: at most one outbox entry exists per key, so planning the same
    /// effect twice (a second sync, a restart) enqueues it once.
    pub fn key(&self) -> String {
        match self {
            Effect::CreateMirror { wf_project, .. } => format!("create_mirror:{wf_project}"),
        }
    }

    /// One line for logs, `status` and `outbox list`.
    pub fn describe(&self) -> String {
        match self {
            Effect::CreateMirror { wf_project, name, target: Some(t) } => format!(
                "create mirror of Workfront project {wf_project} ({name:?}) in Frame.io account {} workspace {}",
                t.account, t.workspace
            ),
            Effect::CreateMirror { wf_project, name, target: None } => {
                format!("create mirror of Workfront project {wf_project} ({name:?}), account not yet known")
            }
        }
    }
}
