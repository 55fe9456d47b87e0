//! The values the core decides over. The clients convert their wire types into these.

use crate::ids::{
    FrameioAccountId, FrameioProjectId, FrameioUserId, FrameioWorkspaceId, WorkfrontDocumentId,
    WorkfrontDocumentVersionId, WorkfrontGroupId, WorkfrontProjectId, WorkfrontTaskId, WorkfrontUserId,
};
use crate::timestamp::Timestamp;
use serde::{Deserialize, Serialize};

/// A Workfront project, as far as mirroring cares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkfrontProject {
    pub id: WorkfrontProjectId,
    pub name: String,
    pub group_id: Option<WorkfrontGroupId>,
    pub status: Option<String>,
    pub last_update: Option<Timestamp>,
    /// The project's team (`projectUsers`), for collaborators (F3).
    #[serde(default)]
    pub team: Vec<WorkfrontUserId>,
    /// The value of `workfront.link_field` on the project, when configured and set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// A Workfront user, as far as collaborator sync cares (F3–F5). Persisted (the store keeps every
/// user, so an incremental poll of changed users can be planned against all of them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkfrontUser {
    pub id: WorkfrontUserId,
    pub name: String,
    pub email: Option<String>,
    pub is_active: bool,
    /// "Add to projects in Frame.io" = Yes.
    pub frameio_flag: bool,
    pub last_update: Option<Timestamp>,
}

/// A Workfront task, as the review form offers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkfrontTask {
    pub id: WorkfrontTaskId,
    pub project: WorkfrontProjectId,
    pub name: String,
    /// Not complete: only open tasks are offered.
    pub open: bool,
}

/// The Workfront object a review file goes to: the mirrored project itself, or one of its tasks
/// (the custom action's form offers both). Persisted in outbox entries.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "obj_code", content = "id")]
pub enum WorkfrontObject {
    #[serde(rename = "PROJ")]
    Project(WorkfrontProjectId),
    #[serde(rename = "TASK")]
    Task(WorkfrontTaskId),
    /// A document (notes on it: Frame.io comments copied over).
    #[serde(rename = "DOCU")]
    Document(WorkfrontDocumentId),
}

impl WorkfrontObject {
    /// Workfront's object code (`docObjCode`, `noteObjCode`).
    pub fn obj_code(&self) -> &'static str {
        match self {
            WorkfrontObject::Project(_) => "PROJ",
            WorkfrontObject::Task(_) => "TASK",
            WorkfrontObject::Document(_) => "DOCU",
        }
    }

    pub fn id(&self) -> &str {
        match self {
            WorkfrontObject::Project(id) => id.as_str(),
            WorkfrontObject::Task(id) => id.as_str(),
            WorkfrontObject::Document(id) => id.as_str(),
        }
    }
}

impl std::fmt::Display for WorkfrontObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WorkfrontObject::Project(id) => write!(f, "project {id}"),
            WorkfrontObject::Task(id) => write!(f, "task {id}"),
            WorkfrontObject::Document(id) => write!(f, "document {id}"),
        }
    }
}

/// The task or issue a document hangs on, when not on the project itself: the one-way folder
/// puts its documents in a subfolder named after it. Persisted in outbox entries.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Subfolder {
    pub obj_code: HolderKind,
    /// The task's or issue's id.
    pub id: WorkfrontTaskId,
    pub name: String,
}

/// What a document hangs on besides its project (Workfront's `docObjCode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum HolderKind {
    #[serde(rename = "TASK")]
    Task,
    #[serde(rename = "OPTASK")]
    Issue,
}

/// A document on a Workfront project, with its current version, as the one-way folder reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkfrontDocument {
    pub id: WorkfrontDocumentId,
    pub project: WorkfrontProjectId,
    pub name: String,
    /// Where it hangs: `None` on the project, else a task or issue; `Err(code)` on another
    /// object (never copied).
    pub on: Result<Option<Subfolder>, String>,
    pub version: Option<WorkfrontDocumentVersionId>,
    pub file_name: Option<String>,
    pub size: Option<u64>,
    /// It came from Frame.io (`externalIntegrationType = FRAMEIO`, or one of this daemon's review
    /// documents): never copied back.
    pub from_frameio: bool,
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

impl Credential {
    /// A metric label: `default`, or `group:<id>` (never a secret).
    pub fn label(&self) -> String {
        match self {
            Credential::Default => "default".to_owned(),
            Credential::Group(g) => format!("group:{g}"),
        }
    }
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

/// A project role in Frame.io v4, as the project-user PATCH takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CollaboratorRole {
    FullAccess,
    Editor,
    EditOnly,
    Commenter,
    Viewer,
}

impl CollaboratorRole {
    pub const ALL: [CollaboratorRole; 5] = [
        CollaboratorRole::FullAccess,
        CollaboratorRole::Editor,
        CollaboratorRole::EditOnly,
        CollaboratorRole::Commenter,
        CollaboratorRole::Viewer,
    ];

    /// The name Frame.io uses.
    pub fn as_str(self) -> &'static str {
        match self {
            CollaboratorRole::FullAccess => "full_access",
            CollaboratorRole::Editor => "editor",
            CollaboratorRole::EditOnly => "edit_only",
            CollaboratorRole::Commenter => "commenter",
            CollaboratorRole::Viewer => "viewer",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

/// Which role a collaborator gets: always the same one, or the one Workfront's access rules give
/// the user on the project (Manage or Contribute → editor, View → commenter), decided when the add
/// is carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleChoice {
    Fixed(CollaboratorRole),
    FromAccess,
}

impl RoleChoice {
    pub fn describe(self) -> &'static str {
        match self {
            RoleChoice::Fixed(role) => role.as_str(),
            RoleChoice::FromAccess => "the role its access rules give",
        }
    }
}

/// Why an effect cannot run yet; the store parks it with this and the plan's reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// No Frame.io account is known for the project (F2 routing).
    Unroutable,
    /// The account's user directory has no one with the user's email.
    NoFrameioUser,
    /// The mass-removal guard held it (SPEC §4): an admin confirms it.
    RemovalGuard,
}

/// A queue of the outbox worked on its own (see `effects::Effect::lane`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lane {
    Frameio(Credential),
    Workfront,
    /// No credential yet (a create with no target): parked at its first attempt.
    Unrouted,
}

impl std::fmt::Display for Lane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Lane::Frameio(Credential::Default) => f.write_str("frameio:default"),
            Lane::Frameio(Credential::Group(g)) => write!(f, "frameio:group:{g}"),
            Lane::Workfront => f.write_str("workfront"),
            Lane::Unrouted => f.write_str("unrouted"),
        }
    }
}

/// A Frame.io request class with a rate limit of its own, which an effect kind may be paced by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RateClass {
    CreateProject,
    /// A project's name (`PATCH …/projects/{p}`), 10 a minute.
    UpdateProject,
    UpdateProjectUser,
    DeleteProjectUser,
    /// Metadata values (`PATCH …/projects/{p}/metadata/values`), 10 a minute: the review
    /// status field, batched per project.
    MetadataValues,
    /// A file created for upload (`local_upload`), 5 a second: the one-way folder.
    LocalUpload,
}

/// The outbox key of a (project, user) pair's collaborator change.
pub fn collaborator_key(wf_project: &WorkfrontProjectId, wf_user: &WorkfrontUserId) -> String {
    format!("{}{wf_user}", collaborator_key_prefix(wf_project))
}

/// What every collaborator key of `wf_project` starts with (ids never hold `:`).
pub fn collaborator_key_prefix(wf_project: &WorkfrontProjectId) -> String {
    format!("collaborator:{wf_project}:")
}

/// What a Workfront event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventOp {
    Create,
    Update,
    Delete,
}

/// The object a Workfront event is about, with its new state where there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "obj", rename_all = "snake_case")]
pub enum EventObject {
    /// A project; `None` after a delete. Event payloads carry no team: it is read when applied.
    Project {
        id: WorkfrontProjectId,
        project: Option<WorkfrontProject>,
    },
    User {
        id: WorkfrontUserId,
        user: Option<WorkfrontUser>,
    },
}

/// A Frame.io project as listed: what the adoption rule (`core::adoption`) and the worker need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameioProject {
    pub id: FrameioProjectId,
    pub name: String,
    pub workspace_id: Option<FrameioWorkspaceId>,
    pub created_at: Option<Timestamp>,
    /// Where a person opens it (`view_url`), when Frame.io said.
    pub view_url: Option<String>,
    /// Who created it, when listed with its owner.
    pub owner: Option<FrameioUserId>,
}

impl FrameioProject {
    /// A project known only by its id and name.
    pub fn new(id: FrameioProjectId, name: &str) -> Self {
        Self {
            id,
            name: name.to_owned(),
            workspace_id: None,
            created_at: None,
            view_url: None,
            owner: None,
        }
    }
}

/// Where a person opens Frame.io project `id`: its `view_url` when Frame.io gave one, else the
/// web app's project address.
pub fn frameio_project_url(id: &FrameioProjectId, view_url: Option<&str>) -> String {
    view_url.map_or_else(|| format!("https://next.frame.io/project/{id}"), str::to_owned)
}

/// The Frame.io project a link points at: the path segment after `project/` in a Frame.io web
/// address (what the link field holds), if it is a valid id.
pub fn frameio_project_in_link(link: &str) -> Option<FrameioProjectId> {
    let link = link.trim();
    let rest = link.strip_prefix("https://").or_else(|| link.strip_prefix("http://"))?;
    let path = &rest[rest.find('/')?..];
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let mut segments = path.split('/');
    segments.find(|s| *s == "project")?;
    FrameioProjectId::new(segments.next()?).ok()
}

/// How far ahead of our clock an event may be dated. An event from the future would make every
/// real event about its object look stale until then.
pub const MAX_CLOCK_SKEW: std::time::Duration = std::time::Duration::from_secs(300);

/// Whether an event time from Workfront (or one recorded from it) is believable at `now`: not
/// more than [`MAX_CLOCK_SKEW`] ahead. A later one is refused, and a recorded one is ignored.
pub fn within_clock_skew(time: Timestamp, now: Timestamp) -> bool {
    time <= now.saturating_add(MAX_CLOCK_SKEW)
}

/// A Workfront event subscription delivery, as the daemon keeps it until it is applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkfrontEvent {
    pub subscription_id: String,
    pub op: EventOp,
    /// `eventTime` (milliseconds): Workfront delivers at least once and in no promised order,
    /// so this, not arrival, orders events of one object.
    pub event_time: Timestamp,
    pub object: EventObject,
}

impl WorkfrontEvent {
    /// `PROJ:<id>` or `USER:<id>`: the object, for ordering.
    pub fn object_key(&self) -> String {
        match &self.object {
            EventObject::Project { id, .. } => format!("PROJ:{id}"),
            EventObject::User { id, .. } => format!("USER:{id}"),
        }
    }

    /// Deliveries of the same event share this key (subscription, object, event time).
    pub fn dedupe_key(&self) -> String {
        format!(
            "{}:{}:{}:{:?}",
            self.subscription_id,
            self.object_key(),
            self.event_time.millis(),
            self.op
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_names_the_project_after_its_project_segment_and_nothing_else_does() {
        let id = |link: &str| frameio_project_in_link(link).map(|p| p.to_string());
        assert_eq!(id("https://next.frame.io/project/abc-123").as_deref(), Some("abc-123"));
        assert_eq!(
            id(" https://next.frame.io/project/abc/view/f1?x=1 ").as_deref(),
            Some("abc")
        );
        assert_eq!(id("https://next.frame.io/project/abc#top").as_deref(), Some("abc"));
        for not_a_link in [
            "",
            "abc",
            "next.frame.io/project/abc",
            "https://next.frame.io/projects/abc",
            "https://next.frame.io/project/",
            "https://next.frame.io/project/%2e%2e",
            "ftp://next.frame.io/project/abc",
        ] {
            assert_eq!(id(not_a_link), None, "{not_a_link:?}");
        }
        let fid = FrameioProjectId::new("abc").unwrap();
        assert_eq!(frameio_project_url(&fid, None), "https://next.frame.io/project/abc");
        assert_eq!(frameio_project_url(&fid, Some("https://x/y")), "https://x/y");
    }
}
