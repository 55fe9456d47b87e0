//! The engine: the two steps the daemon repeats, each public so tests can drive them one at a time.
//!
//! - [`Engine::sync_once`] reads Workfront, asks the core for a plan and records it (effects and
//!   cursor in one transaction, then a flush);
//! - [`Engine::work_once`] carries out the oldest due outbox entry and records its outcome.
//!
//! The engine also holds the live routing table and one Frame.io client per credential (the
//! default account's and each group connection's), so `connect-group` on a running daemon takes
//! effect at once. The loops around the steps (timers, signals, shutdown) are in [`crate::daemon`].

mod collaborators;
mod directories;
mod dry_run;
mod events;
mod folder;
mod last_read;
mod listings;
mod planner;
mod review;
mod review_form;
mod routes;
mod submissions;
mod sync;
mod tasks;
mod worker;

pub use dry_run::{DryRun, WouldCancel, WouldDo};
pub use events::Applied;
pub use folder::{FolderPass, ProjectStatus};
pub use review::{ApprovalsProbe, ApprovalsReady, ProbeError, ReviewPass};
pub use review_form::ReviewForm;
pub use submissions::Submission;
pub use worker::{Running, WorkOutcome};

use directories::Directories;
use last_read::LastRead;
use listings::Listings;
use routes::FrameioRoutes;

use crate::clock::Clock;
use crate::config::Settings;
use crate::core::collaborator_plan::Policy;
use crate::core::model::{Credential, WorkfrontGroup};
use crate::core::routing::Routing;
use crate::frameio::{FrameioAuth, FrameioClient};
use crate::ids::{WorkfrontGroupId, WorkfrontProjectId, WorkfrontUserId};
use crate::metrics::Metrics;
use crate::retry::{Classify, ErrorClass};
use crate::secret::Secret;
use crate::store::records::UnusableTokenUrl;
use crate::store::{ConnectionRecord, Store, StoreError};
use crate::transfer::Transfers;
use crate::workfront::access::{self, AccessFetcher};
use crate::workfront::{workfront_project_url, WorkfrontClient};
use reqwest::Url;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Each project's team, as last read.
pub(crate) type Teams = BTreeMap<WorkfrontProjectId, Vec<WorkfrontUserId>>;

pub struct Engine {
    pub store: Store,
    pub workfront: WorkfrontClient,
    /// Credentials and clients: the routing table, one Frame.io client per credential, and the
    /// credentials Frame.io refuses (`routes.rs`).
    routes: FrameioRoutes,
    /// How far back an incremental poll re-reads (see `workfront.poll_overlap`).
    pub poll_overlap: Duration,
    /// Woken when a sync enqueued work or a connection changed, so the worker does not wait for
    /// its timer.
    pub work_ready: Arc<Notify>,
    /// How collaborators are managed (F3–F5).
    policy: Policy,
    /// The users and the project teams as last read (`last_read.rs`).
    last_read: LastRead,
    /// Frame.io account directories (also in the store).
    directories: Directories,
    /// Reads (and briefly caches) what the access rules need, for `role = "from_access"`.
    pub(crate) access: AccessFetcher,
    /// The custom field that flags Frame.io users.
    pub(crate) flag_field: String,
    /// The project custom field that holds each mirror's address (`workfront.link_field`).
    pub(crate) link_field: Option<String>,
    /// The tenant's web address, for links to its projects in logs, `plan` and `status`.
    workfront_web: Url,
    /// Each workspace's projects, as listed before the first create in it (`listings.rs`).
    pub(crate) listings: Listings,
    /// Downloads of files sent for review, and the largest one uploaded (`review.max_upload_size`).
    pub(crate) transfers: Transfers,
    pub(crate) max_upload_size: u64,
    /// The open tasks of each project, for the review form (`tasks.rs`).
    pub(crate) open_tasks: tasks::OpenTasks,
    /// Clicks on the custom action whose form is not answered yet (`review_form.rs`).
    pub(crate) clicks: review_form::Clicks,
    /// `[review]`: approvals, approvers, the status field (`review.rs`).
    pub(crate) review: crate::config::ReviewSettings,
    /// `[folder]`: the one-way folder (`folder.rs`).
    pub(crate) folder: crate::config::FolderSettings,
    /// Each group's custom project statuses (`folder.rs`).
    group_statuses: folder::GroupStatuses,
    /// The projects' statuses as the last sync read them, for a pass between polls.
    last_statuses: std::sync::Mutex<Arc<Vec<ProjectStatus>>>,
    /// Woken when a folder pass should run before the next poll (a Workfront document event).
    folder_wake: Notify,
    /// The approval system as probed at start-up.
    approvals: std::sync::OnceLock<ApprovalsReady>,
    /// Woken when a review pass should run before the next poll (a Frame.io comment webhook).
    review_wake: Notify,
    /// Each account's review status field, as found or made.
    review_fields:
        std::sync::Mutex<std::collections::HashMap<crate::ids::FrameioAccountId, crate::frameio::review::SelectField>>,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Woken when events were recorded in the inbox.
    pub events_ready: Arc<Notify>,
    /// Workfront writes carried out at once (`workfront.max_in_flight`).
    workfront_writes: usize,
    /// Where due times, retry schedules and records read the time (see `clock.rs`).
    pub(crate) clock: Clock,
}

impl Engine {
    /// Builds the clients and the routing table from validated settings and the stored
    /// connections. A connection whose token file cannot be read is logged and left without a
    /// client: its projects are parked until `connect-group` stores a token again.
    pub fn new(settings: &Settings, store: Store) -> Result<Self, StoreError> {
        let routes = FrameioRoutes::new(settings, &store)?;
        let users = store.users()?;
        let directories = Directories::new(
            store.directories()?,
            settings.collaborators.directory_refresh,
            settings.collaborators.missing_user_recheck,
        );
        // One Workfront client (one cap on requests in flight), shared with the access fetcher.
        let workfront = WorkfrontClient::new(&settings.workfront);
        Ok(Self {
            policy: settings.collaborators.policy,
            last_read: LastRead::new(users),
            directories,
            access: AccessFetcher::new(workfront.clone(), access::DEFAULT_TTL),
            flag_field: settings.workfront.frameio_user_field.clone(),
            link_field: settings.workfront.link_field.clone(),
            workfront_web: settings.workfront.base_url.clone(),
            listings: Listings::default(),
            transfers: Transfers::default(),
            max_upload_size: settings.review.max_upload_size,
            open_tasks: tasks::OpenTasks::default(),
            clicks: review_form::Clicks::default(),
            review: settings.review.clone(),
            folder: settings.folder.clone(),
            group_statuses: std::sync::Mutex::default(),
            last_statuses: std::sync::Mutex::default(),
            folder_wake: Notify::new(),
            approvals: std::sync::OnceLock::new(),
            review_fields: std::sync::Mutex::default(),
            review_wake: Notify::new(),
            metrics: Arc::default(),
            events_ready: Arc::new(Notify::new()),
            workfront_writes: settings.workfront.max_in_flight.max(1),
            store,
            workfront,
            routes,
            poll_overlap: settings.workfront.poll_overlap,
            work_ready: Arc::new(Notify::new()),
            clock: Clock::System,
        })
    }

    /// The same engine reading the time from `clock` (tests move a manual one).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Where a person opens Workfront project `id`.
    pub fn workfront_project_url(&self, id: &WorkfrontProjectId) -> String {
        workfront_project_url(&self.workfront_web, id)
    }

    /// A copy of the routing table.
    pub fn routing(&self) -> Routing {
        self.routes.routing()
    }

    /// Replaces the group tree with freshly polled groups.
    pub fn set_groups(&self, groups: &[WorkfrontGroup]) {
        self.routes.set_groups(groups);
    }

    pub(crate) fn client(&self, credential: &Credential) -> Option<FrameioClient> {
        self.routes.client(credential)
    }

    pub(crate) fn is_refused(&self, credential: &Credential) -> bool {
        self.routes.is_refused(credential)
    }

    /// Records that Frame.io refused `credential`: its work parks until a new token arrives.
    pub(crate) fn refuse(&self, credential: &Credential, error: &str) -> Result<(), StoreError> {
        self.routes.refuse(credential);
        if let Credential::Group(group) = credential {
            self.store.set_connection_broken(group, Some(error), self.clock.now())?;
        }
        Ok(())
    }

    /// Applies a stored (new or replaced) connection: routes its group there, uses its token, and
    /// resumes the work its old token's refusal parked.
    pub fn apply_connection(&self, record: &ConnectionRecord, secret: Secret) -> anyhow::Result<usize> {
        let credential = Credential::Group(record.group.clone());
        self.routes.connect(record, connection_auth(record, secret)?);
        // The caller (the control request) flushes once, after this.
        let resumed = self.store.resume_parked_for(&credential, self.clock.now())?;
        self.work_ready.notify_one();
        tracing::info!(group = %record.group, account = %record.account, workspace = %record.workspace, resumed, "group connection applied");
        Ok(resumed)
    }

    /// Forgets a connection: its group's projects route to the nearest connected ancestor or the
    /// default from the next sync on. Existing mirrors stay where they are.
    pub fn remove_connection(&self, group: &WorkfrontGroupId) {
        self.routes.disconnect(group);
    }

    /// Checks that Workfront and every Frame.io credential answer, retrying transient failures
    /// until they pass. A refused default credential is an error naming it (no amount of waiting
    /// fixes it); a refused connection token marks that connection broken and parks its work.
    pub async fn check_connectivity(&self) -> anyhow::Result<()> {
        loop {
            match self.workfront.check().await {
                Ok(()) => break,
                Err(err) if err.class() == ErrorClass::Transient => {
                    tracing::warn!(error = %err, "Workfront does not answer yet; trying again");
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
                Err(err) => {
                    let context = match &self.link_field {
                        Some(field) => format!(
                            "Workfront start-up check failed (it reads the project custom field workfront.link_field = {field:?}: is that the field's exact name?)"
                        ),
                        None => "Workfront start-up check failed".to_owned(),
                    };
                    return Err(anyhow::Error::new(err).context(context));
                }
            }
        }
        for (credential, client) in self.routes.clients() {
            loop {
                match crate::retry::retry_read("me", || client.me()).await {
                    Ok(_) => break,
                    Err(err) if err.class() == ErrorClass::Transient => {
                        tracing::warn!(%credential, error = %err, "Frame.io does not answer yet; trying again");
                        tokio::time::sleep(Duration::from_secs(5)).await;
                    }
                    Err(err) => match &credential {
                        Credential::Default => {
                            let account = self
                                .routes
                                .routing()
                                .default
                                .map(|t| t.account.to_string())
                                .unwrap_or_default();
                            return Err(anyhow::Error::new(err)
                                .context(format!("Frame.io start-up check failed for account {account}")));
                        }
                        Credential::Group(group) => {
                            tracing::error!(%group, error = %err, "Frame.io refuses this connection's token; its work is parked until connect-group stores a new one");
                            self.refuse(&credential, &err.to_string())?;
                            break;
                        }
                    },
                }
            }
        }
        // The approval system: a configured one the tenant does not have stops the start.
        loop {
            match self.probe_approvals().await {
                Ok(()) => break,
                Err(ProbeError::Unified { source, .. } | ProbeError::Legacy(source))
                    if source.class() == ErrorClass::Transient =>
                {
                    tracing::warn!(error = %source, "the approval system does not answer yet; trying again");
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
                Err(err) => return Err(anyhow::Error::new(err).context("review approvals start-up check failed")),
            }
        }
        Ok(())
    }
}

/// A Frame.io client with the configured request timeout.
pub fn frameio_client(base_url: &Url, timeout: std::time::Duration, auth: FrameioAuth) -> FrameioClient {
    FrameioClient::with_auth(base_url, auth).with_request_timeout(timeout)
}

/// How a connection's requests authenticate, from its record and its stored secret.
pub fn connection_auth(record: &ConnectionRecord, secret: Secret) -> Result<FrameioAuth, UnusableTokenUrl> {
    Ok(FrameioAuth::from(&record.credential.with_secret(secret)?))
}
