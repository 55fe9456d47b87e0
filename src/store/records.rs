//! What the store persists. Every record carries `v`, its format version: a change to a record's
//! shape bumps it and teaches `decode` to read the old one.

use crate::config::FrameioCredential;
use crate::core::collaborator_plan::GuardTrip;
use crate::core::mirror_plan::Rerouted;
use crate::core::mirror_plan::Scope;
use crate::core::model::{
    frameio_project_url, CollaboratorRole, Credential, FrameioProject, Hold, Target, WorkfrontUser,
};
use crate::effects::Effect;
use crate::exchange::Exchange;
use crate::ids::{
    FrameioAccountId, FrameioProjectId, FrameioUserId, FrameioWorkspaceId, OutboxId, WorkfrontGroupId,
    WorkfrontProjectId, WorkfrontUserId,
};
use crate::ims::ImsCredentials;
use crate::secret::Secret;
use crate::timestamp::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// 2: `view_url`, `owner`, `link`, and the adoption origins (`adopted_by_link`, `adopted_by_name`).
pub const MIRROR_V: u32 = 2;
/// 2: the effect kinds `rename_mirror` and `write_link`, which a release that writes 1 cannot read.
/// 3: the review loop's kinds (`request_approval`, `show_review`, `copy_comment`).
pub const OUTBOX_V: u32 = 3;
pub const SYNC_V: u32 = 1;
pub const CONNECTION_V: u32 = 1;
pub const USER_V: u32 = 1;
pub const COLLABORATOR_V: u32 = 1;
pub const DIRECTORY_V: u32 = 1;

/// A Workfront project's mirror. Its presence is what "this daemon created or adopted it" means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MirrorRecord {
    pub v: u32,
    pub wf_project: WorkfrontProjectId,
    pub frameio_project: FrameioProjectId,
    pub target: Target,
    /// The name we last gave the mirror (created or renamed it to), or the Workfront project's
    /// name when we adopted it: a rename is planned only when the Workfront name differs from
    /// this, so a mirror renamed by hand is left alone until the Workfront name changes again.
    pub name: String,
    pub origin: MirrorOrigin,
    pub recorded_at: Timestamp,
    /// Where a person opens the mirror (its `view_url`), when Frame.io said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view_url: Option<String>,
    /// Who created the mirror, when known (an adopted one's): never removed as a collaborator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<FrameioUserId>,
    /// What the Workfront project's link field holds, as we last wrote or found it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

impl MirrorRecord {
    /// `wf_project`'s mirror `project`, made (or adopted) in `target`; `name` is the Workfront
    /// name it now stands for (see [`MirrorRecord::name`]).
    pub fn new(
        wf_project: &WorkfrontProjectId,
        name: &str,
        target: &Target,
        project: &FrameioProject,
        origin: MirrorOrigin,
        at: Timestamp,
    ) -> Self {
        Self {
            v: MIRROR_V,
            wf_project: wf_project.clone(),
            frameio_project: project.id.clone(),
            target: target.clone(),
            name: name.to_owned(),
            origin,
            recorded_at: at,
            view_url: project.view_url.clone(),
            owner: project.owner.clone(),
            link: None,
        }
    }

    /// Where a person opens the mirror.
    pub fn url(&self) -> String {
        frameio_project_url(&self.frameio_project, self.view_url.as_deref())
    }

    /// Whether we found it rather than made it: users the rules add who are already on an
    /// adopted mirror count as ours (a lost state dir must not orphan them), its creator never.
    pub fn adopted_on_recovery(&self) -> bool {
        matches!(self.origin, MirrorOrigin::AdoptedByLink | MirrorOrigin::AdoptedByName)
    }
}

/// What a done effect changes in a mirror's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MirrorChange {
    /// The mirror now has this name (we renamed it, or found it renamed).
    Renamed(String),
    /// The Workfront project's link field now holds this.
    Linked(String),
}

impl MirrorChange {
    pub fn apply(&self, record: &mut MirrorRecord) {
        record.v = MIRROR_V;
        match self {
            MirrorChange::Renamed(name) => record.name.clone_from(name),
            MirrorChange::Linked(link) => record.link = Some(link.clone()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MirrorOrigin {
    /// We created it and saw the answer.
    Created,
    /// We sent a create whose answer we never saw, then found its result by listing.
    AdoptedAfterUnknownOutcome,
    /// Before our first create in its workspace, we found the project the Workfront project's
    /// link field names.
    AdoptedByLink,
    /// Before our first create in its workspace, we found the one project with the Workfront
    /// project's exact name.
    AdoptedByName,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub v: u32,
    pub id: OutboxId,
    /// [`Effect::key`]: at most one entry per key.
    pub key: String,
    pub effect: Effect,
    /// Why it was enqueued.
    pub reason: String,
    pub state: EntryState,
    /// Failed attempts so far.
    pub attempts: u32,
    /// Not to be tried before this time.
    pub next_attempt_at: Timestamp,
    pub created_at: Timestamp,
    pub last_error: Option<String>,
    /// Set, and flushed, before a non-idempotent request is sent; cleared when its outcome is known.
    /// Found set on the next attempt, it means "the last request may have acted: look first".
    pub in_flight: Option<InFlight>,
    /// Fresh work (from an event, a poll, a submission) goes ahead of a full sync's backfill in
    /// its lane. Entries written before this field existed read as fresh.
    #[serde(default)]
    pub priority: Priority,
}

/// An entry's place in its lane's queue (see `store/ready.rs`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// From an event, an incremental poll, a submission or a new mirror's collaborators.
    #[default]
    Fresh,
    /// From a full sync.
    Backfill,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum EntryState {
    Pending,
    /// Waits for an admin or for a change elsewhere; `cause` says which.
    Parked {
        reason: String,
        cause: ParkCause,
    },
    /// Failed permanently (a dead letter); kept with what happened until an admin retries or
    /// drops it.
    Dead {
        reason: String,
        at: Timestamp,
        /// The refused request and the answer, where there was one.
        #[serde(default)]
        exchange: Option<Exchange>,
    },
}

/// Why an entry is parked, which decides what resumes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ParkCause {
    /// No Frame.io account (or credential) for the project: a later sync that finds one resumes it.
    Unroutable,
    /// Frame.io refused the request (a 4xx retrying cannot fix): an admin resumes it.
    Permanent,
    /// Frame.io refused the credential (401/403): a new token for it resumes it.
    CredentialRefused { credential: Credential },
    /// The account's user directory has no one with the user's email: a refresh that finds them
    /// resumes it.
    NoFrameioUser,
    /// The mass-removal guard held it: `confirm-removals` resumes it.
    RemovalGuard,
}

impl ParkCause {
    /// A metric label.
    pub fn label(&self) -> &'static str {
        match self {
            ParkCause::Unroutable => "unroutable",
            ParkCause::Permanent => "permanent",
            ParkCause::CredentialRefused { .. } => "credential_refused",
            ParkCause::NoFrameioUser => "no_frameio_user",
            ParkCause::RemovalGuard => "removal_guard",
        }
    }
}

impl From<Hold> for ParkCause {
    fn from(hold: Hold) -> Self {
        match hold {
            Hold::Unroutable => ParkCause::Unroutable,
            Hold::NoFrameioUser => ParkCause::NoFrameioUser,
            Hold::RemovalGuard => ParkCause::RemovalGuard,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct InFlight {
    pub started_at: Timestamp,
}

/// The last sync, for `status` and the demo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRecord {
    pub v: u32,
    /// Increases with every sync this state dir has seen.
    pub seq: u64,
    pub scope: Scope,
    pub started_at: Timestamp,
    /// Wall time of the sync, in microseconds.
    pub duration_us: u64,
    pub projects_seen: usize,
    pub enqueued: usize,
    pub parked: usize,
    pub unchanged: usize,
    /// Mirrored projects no longer in Workfront (their mirrors are left alone).
    pub gone: usize,
    pub workfront_calls: u64,
    /// Set when the sync failed; the counts are then what it got to.
    pub error: Option<String>,
    /// Mirrored projects whose group now routes elsewhere (their mirrors stay); at most
    /// [`REROUTED_KEPT`] are kept here, `rerouted_total` counts them all.
    #[serde(default)]
    pub rerouted: Vec<Rerouted>,
    #[serde(default)]
    pub rerouted_total: usize,
    /// Users read (all of them in a full sync, the changed ones in a poll).
    #[serde(default)]
    pub users_seen: usize,
    /// Collaborator changes enqueued, parked and cancelled (included in the totals above too).
    #[serde(default)]
    pub collaborator_changes: usize,
    /// Set when the mass-removal guard held this sync's removals.
    #[serde(default)]
    pub removal_guard: Option<GuardTrip>,
}

/// How many rerouted projects a sync record lists.
pub const REROUTED_KEPT: usize = 50;

/// A group connection (F2): a Workfront group whose projects (and whose subgroups' projects,
/// unless they have their own) are mirrored in this Frame.io account and workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionRecord {
    pub v: u32,
    pub group: WorkfrontGroupId,
    pub group_name: String,
    pub account: FrameioAccountId,
    pub account_name: String,
    pub workspace: FrameioWorkspaceId,
    pub workspace_name: String,
    /// What kind of credential the connection's secret file holds.
    #[serde(default)]
    pub credential: ConnectionCredential,
    /// `sha256:` and the first 12 hex digits of the secret's SHA-256: enough to tell secrets
    /// apart, useless for recovering one.
    pub token_fingerprint: String,
    pub connected_at: Timestamp,
    /// Set while Frame.io refuses the token.
    pub broken: Option<Broken>,
}

/// A connection's credential kind; the secret itself is the connection's token file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ConnectionCredential {
    /// The file holds a legacy developer token.
    #[default]
    DeveloperToken,
    /// The file holds the client secret of an OAuth server-to-server credential.
    AdobeServerToServer {
        client_id: String,
        scopes: String,
        ims_token_url: String,
    },
}

impl ConnectionCredential {
    /// What is recorded of `credential` (its secret goes to the connection's token file).
    pub fn of(credential: &FrameioCredential) -> Self {
        match credential {
            FrameioCredential::DeveloperToken(_) => ConnectionCredential::DeveloperToken,
            FrameioCredential::ServerToServer(ims) => ConnectionCredential::AdobeServerToServer {
                client_id: ims.client_id.clone(),
                scopes: ims.scopes.clone(),
                ims_token_url: ims.token_url.to_string(),
            },
        }
    }

    /// The credential again, with the secret from the token file.
    pub fn with_secret(&self, secret: Secret) -> Result<FrameioCredential, UnusableTokenUrl> {
        Ok(match self {
            ConnectionCredential::DeveloperToken => FrameioCredential::DeveloperToken(secret),
            ConnectionCredential::AdobeServerToServer {
                client_id,
                scopes,
                ims_token_url,
            } => FrameioCredential::ServerToServer(ImsCredentials {
                client_id: client_id.clone(),
                client_secret: secret,
                scopes: scopes.clone(),
                token_url: reqwest::Url::parse(ims_token_url).map_err(|error| UnusableTokenUrl {
                    url: ims_token_url.clone(),
                    error,
                })?,
            }),
        })
    }
}

/// A connection record whose IMS token URL does not parse (records are checked when written, so
/// this is a hand-edited or damaged record).
#[derive(Debug, thiserror::Error)]
#[error("unusable IMS token URL {url:?}: {error}")]
pub struct UnusableTokenUrl {
    url: String,
    error: <reqwest::Url as std::str::FromStr>::Err,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Broken {
    pub error: String,
    pub since: Timestamp,
}

/// A Workfront user as last read (F3–F5). Every user is kept, so a poll that reads only the
/// changed ones can still be planned against all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    pub v: u32,
    #[serde(flatten)]
    pub user: WorkfrontUser,
}

/// What this daemon did for one (project, user) pair: the Frame.io users it added to the mirror,
/// and those it found there already. Its presence is what "we manage this collaborator" means;
/// only `added` are ever removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollaboratorRecord {
    pub v: u32,
    pub wf_project: WorkfrontProjectId,
    pub wf_user: WorkfrontUserId,
    pub frameio_project: FrameioProjectId,
    pub target: Target,
    pub email: String,
    pub role: CollaboratorRole,
    #[serde(default)]
    pub added: Vec<FrameioUserId>,
    #[serde(default)]
    pub present: Vec<FrameioUserId>,
    pub recorded_at: Timestamp,
}

impl CollaboratorRecord {
    /// A (project, user) pair's first record on mirror `frameio_project`, with nobody on it yet:
    /// completing an add puts the Frame.io user in `added` or `present`.
    pub fn first(
        (wf_project, wf_user): (&WorkfrontProjectId, &WorkfrontUserId),
        frameio_project: &FrameioProjectId,
        target: &Target,
        email: &str,
        role: CollaboratorRole,
        at: Timestamp,
    ) -> Self {
        Self {
            v: COLLABORATOR_V,
            wf_project: wf_project.clone(),
            wf_user: wf_user.clone(),
            frameio_project: frameio_project.clone(),
            target: target.clone(),
            email: email.to_owned(),
            role,
            added: Vec::new(),
            present: Vec::new(),
            recorded_at: at,
        }
    }
}

/// An account's user directory (Frame.io has no email filter, so it is paged whole and kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryRecord {
    pub v: u32,
    pub account: FrameioAccountId,
    pub fetched_at: Timestamp,
    /// Lower-cased email → user id.
    pub by_email: BTreeMap<String, FrameioUserId>,
}

impl super::Record for MirrorRecord {
    const V: u32 = MIRROR_V;

    /// Version 1 is version 2 without its optional fields and new origins.
    fn read_older(v: u32, bytes: &[u8]) -> Option<Result<Self, serde_json::Error>> {
        (v == 1).then(|| serde_json::from_slice(bytes).map(|r: Self| Self { v: MIRROR_V, ..r }))
    }
}

impl super::Record for OutboxEntry {
    const V: u32 = OUTBOX_V;

    /// Versions 1 and 2 are version 3 without the newer kinds.
    fn read_older(v: u32, bytes: &[u8]) -> Option<Result<Self, serde_json::Error>> {
        (v == 1 || v == 2).then(|| serde_json::from_slice(bytes).map(|e: Self| Self { v: OUTBOX_V, ..e }))
    }
}

impl super::Record for SyncRecord {
    const V: u32 = SYNC_V;
}

impl super::Record for ConnectionRecord {
    const V: u32 = CONNECTION_V;
}

impl super::Record for UserRecord {
    const V: u32 = USER_V;
}

impl super::Record for CollaboratorRecord {
    const V: u32 = COLLABORATOR_V;
}

impl super::Record for DirectoryRecord {
    const V: u32 = DIRECTORY_V;
}
