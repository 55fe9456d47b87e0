//! The values the core decides over. The clients convert their wire types into these.

use crate::ids::{FrameioAccountId, FrameioWorkspaceId, WorkfrontGroupId, WorkfrontProjectId, WorkfrontUserId};
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

/// Where a mirror lives, and through which credential it is reached.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Target {
    pub account: FrameioAccountId,
    pub workspace: FrameioWorkspaceId,
    /// The group connection whose token reaches it (F2); `None` for the default account (F1).
    #[serde(default)]
    pub via: Option<WorkfrontGroupId>,
}

impl Target {
    /// The credential this target is reached with.
    pub fn credential(&self) -> Credential {
        match &self.via {
            Some(group) => Credential::Group(group.clone()),
            None => Credential::Default,
        }
    }
}

/// Which stored credential a request uses: the configured default account's, or a connected
/// group's. Frame.io's rate limits are per credential (per user), so each has its own client.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Credential {
    Default,
    Group(WorkfrontGroupId),
}

impl std::fmt::Display for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Default => f.write_str("the default account's token"),
            Credential::Group(g) => write!(f, "the token of group {g}'s connection"),
        }
    }
}

/// A Workfront group, as routing needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkfrontGroup {
    pub id: WorkfrontGroupId,
    pub name: String,
    pub parent: Option<WorkfrontGroupId>,
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
            Effect::CreateMirror {
                wf_project,
                name,
                target: Some(t),
            } => format!(
                "create mirror of Workfront project {wf_project} ({name:?}) in Frame.io account {} workspace {}",
                t.account, t.workspace
            ),
            Effect::CreateMirror {
                wf_project,
                name,
                target: None,
            } => {
                format!("create mirror of Workfront project {wf_project} ({name:?}), account not yet known")
            }
        }
    }
}
