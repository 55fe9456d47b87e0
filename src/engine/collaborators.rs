//! Collaborators (F3–F5) around the pure plan: what it is made against, the account directories
//! it needs (fetched on a miss, at most once per interval), and carrying out adds and removals.

use super::Engine;
use crate::core::access::collaborator_role;
use crate::core::collaborator_plan::{self, CollaboratorPlan, Directory, Known, Mirror};
use crate::core::model::{CollaboratorRole, Credential, RoleChoice, Target, WorkfrontUser};
use crate::ids::{FrameioAccountId, FrameioProjectId, FrameioUserId, WorkfrontProjectId, WorkfrontUserId};
use crate::retry::{outbox_delay, Classify, ErrorClass};
use crate::store::records::{COLLABORATOR_V, DIRECTORY_V};
use crate::store::{
    Arrival, CollaboratorRecord, DirectoryRecord, MirrorRecord, OutboxEntry, OutboxView, ParkCause, Recording,
    StoreError,
};
use crate::timestamp::Timestamp;
use crate::workfront::access::AccessFetchError;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// An account's directory as the engine holds it.
#[derive(Debug, Default)]
pub(super) struct DirectoryState {
    pub by_email: Directory,
    /// When the stored copy was fetched (`None`: never).
    pub fetched_at: Option<Timestamp>,
    /// When this process last tried to fetch it, successful or not.
    pub attempted: Option<Instant>,
}

impl DirectoryState {
    pub fn from_record(record: DirectoryRecord) -> Self {
        Self {
            by_email: record.by_email.into_iter().collect(),
            fetched_at: Some(record.fetched_at),
            attempted: None,
        }
    }

    /// Whether a miss may refetch it now: at most once per `interval`.
    fn due(&self, interval: Duration, now: Timestamp) -> bool {
        match self.attempted {
            Some(at) => at.elapsed() >= interval,
            // Not tried by this process yet: the stored copy's age decides.
            None => self.fetched_at.is_none_or(|at| at <= now.saturating_sub(interval)),
        }
    }
}

impl Engine {
    /// Plans collaborator changes for `teams`, refreshing the directories of accounts where an
    /// email was missing (each at most once per `directory_refresh`) and planning again if any
    /// refresh succeeded.
    pub(super) async fn plan_collaborators(
        &self,
        teams: &BTreeMap<WorkfrontProjectId, Vec<WorkfrontUserId>>,
        complete: bool,
        view: &OutboxView,
        mirrors: &[MirrorRecord],
        users: Arc<HashMap<WorkfrontUserId, WorkfrontUser>>,
    ) -> Result<CollaboratorPlan, StoreError> {
        let mut known = self.collaborator_known(view, mirrors, users)?;
        let plan = collaborator_plan::plan(teams, complete, &known, &self.policy);
        let now = Timestamp::now();
        let due: Vec<(FrameioAccountId, Credential)> = {
            let directories = self.directories.lock().expect("directories lock");
            plan.misses
                .iter()
                .filter(|(account, _)| {
                    directories
                        .get(*account)
                        .is_none_or(|d| d.due(self.directory_refresh, now))
                })
                .map(|(a, c)| (a.clone(), c.clone()))
                .collect()
        };
        let mut refreshed = false;
        for (account, credential) in due {
            refreshed |= self.refresh_directory(&account, &credential).await?;
        }
        if !refreshed {
            return Ok(plan);
        }
        known.directories = self.directory_snapshot();
        Ok(collaborator_plan::plan(teams, complete, &known, &self.policy))
    }

    fn directory_snapshot(&self) -> HashMap<FrameioAccountId, Directory> {
        self.directories
            .lock()
            .expect("directories lock")
            .iter()
            .map(|(a, d)| (a.clone(), d.by_email.clone()))
            .collect()
    }

    /// What the plan is made against. `mirrors` are the recorded mirrors, which the caller has
    /// read already for its own plan (a tenant's mirrors are decoded once per sync).
    fn collaborator_known(
        &self,
        view: &OutboxView,
        mirrors: &[MirrorRecord],
        users: Arc<HashMap<WorkfrontUserId, WorkfrontUser>>,
    ) -> Result<Known, StoreError> {
        Ok(Known {
            users,
            mirrors: mirrors
                .iter()
                .map(|m| {
                    (
                        m.wf_project.clone(),
                        Mirror {
                            frameio_project: m.frameio_project.clone(),
                            target: m.target.clone(),
                        },
                    )
                })
                .collect(),
            directories: self.directory_snapshot(),
            managed: self.store.managed_pairs()?,
            entries: view.collaborators.clone(),
        })
    }

    /// Pages through an account's users and stores them by email. `Ok(false)` when it could not
    /// (logged; the parked adds wait for the next interval).
    /// Whether an account's directory may be read again now (at most once per interval).
    pub(super) fn directory_due(&self, account: &FrameioAccountId) -> bool {
        self.directories
            .lock()
            .expect("directories lock")
            .get(account)
            .is_none_or(|d| d.due(self.directory_refresh, Timestamp::now()))
    }

    pub(super) async fn refresh_directory(
        &self,
        account: &FrameioAccountId,
        credential: &Credential,
    ) -> Result<bool, StoreError> {
        self.directories
            .lock()
            .expect("directories lock")
            .entry(account.clone())
            .or_default()
            .attempted = Some(Instant::now());
        let Some(client) = self.client(credential).filter(|_| !self.is_refused(credential)) else {
            return Ok(false);
        };
        let members = match client.account_users(account).await {
            Ok(members) => members,
            Err(err) => {
                tracing::warn!(%account, error = %err, "could not read the account's user directory; trying again later");
                return Ok(false);
            }
        };
        let by_email: BTreeMap<String, FrameioUserId> = members
            .into_iter()
            .filter_map(|m| Some((m.email?.trim().to_lowercase(), m.id)))
            .collect();
        let record = DirectoryRecord {
            v: DIRECTORY_V,
            account: account.clone(),
            fetched_at: Timestamp::now(),
            by_email,
        };
        self.store.put_directory(&record)?;
        tracing::info!(%account, users = record.by_email.len(), "read the account's user directory");
        let mut state = DirectoryState::from_record(record);
        state.attempted = Some(Instant::now());
        self.directories
            .lock()
            .expect("directories lock")
            .insert(account.clone(), state);
        Ok(true)
    }

    /// After a mirror is recorded, plans its collaborators from the last poll's team at once,
    /// rather than at the next poll. Failures are logged: the next poll plans them anyway.
    pub(super) async fn collaborators_after_mirror(&self, wf_project: &WorkfrontProjectId) {
        let team = self
            .teams
            .read()
            .expect("teams lock")
            .as_ref()
            .and_then(|teams| teams.get(wf_project).cloned());
        let Some(team) = team else {
            return;
        };
        if team.is_empty() {
            return;
        }
        let teams = BTreeMap::from([(wf_project.clone(), team)]);
        let outcome = async {
            let view = self.store.outbox_view()?;
            let mirrors = self.store.mirrors()?;
            let plan = self
                .plan_collaborators(&teams, false, &view, &mirrors, self.known_users())
                .await?;
            let recorded = self
                .store
                .record_plan(&Recording::default().with_collaborators(&plan), Timestamp::now())?;
            self.store.flush().await?;
            Ok::<_, StoreError>(recorded)
        }
        .await;
        match outcome {
            Ok(recorded) if recorded.enqueued > 0 => {
                tracing::info!(%wf_project, enqueued = recorded.enqueued, parked = recorded.parked, "collaborators planned for the new mirror");
                self.work_ready.notify_one();
            }
            Ok(_) => {}
            Err(err) => {
                tracing::warn!(%wf_project, error = %err, "could not plan the new mirror's collaborators; the next poll will")
            }
        }
    }

    /// F3: adds a user to a mirror. Looks first: someone already on the project is recorded
    /// (as ours only if our own earlier request may have added them) and not sent again, so a
    /// role someone set by hand is never overwritten.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn add_collaborator(
        &self,
        entry: &OutboxEntry,
        wf_project: &WorkfrontProjectId,
        wf_user: &WorkfrontUserId,
        email: &str,
        frameio_project: &FrameioProjectId,
        target: &Target,
        frameio_user: Option<&FrameioUserId>,
        role: RoleChoice,
    ) -> Result<(), StoreError> {
        let pair = (wf_project.clone(), wf_user.clone());
        let Some(frameio_user) = frameio_user else {
            let reason = format!("no Frame.io user for {email} in account {}", target.account);
            self.store.park(entry.id, &reason, ParkCause::NoFrameioUser)?;
            return self.store.flush().await;
        };
        if let Some(record) = self.store.collaborator(&pair)? {
            if record.added.contains(frameio_user) || record.present.contains(frameio_user) {
                self.store.complete(entry.id)?;
                return self.store.flush().await;
            }
        }
        let credential = target.credential();
        let Some(client) = self.client_or_park(entry, &credential).await? else {
            return Ok(());
        };
        let base = |role: CollaboratorRole| CollaboratorRecord {
            v: COLLABORATOR_V,
            wf_project: wf_project.clone(),
            wf_user: wf_user.clone(),
            frameio_project: frameio_project.clone(),
            target: target.clone(),
            email: email.to_owned(),
            role,
            added: Vec::new(),
            present: Vec::new(),
            recorded_at: Timestamp::now(),
        };
        match client.project_users(&target.account, frameio_project).await {
            Err(err) => return self.failed(entry, &credential, &err, false).await,
            Ok(members) => {
                if let Some(member) = members.iter().find(|m| &m.id == frameio_user) {
                    // Our own earlier request may have added them; otherwise someone else did.
                    let arrival = if entry.in_flight.is_some() {
                        Arrival::Added
                    } else {
                        Arrival::Present
                    };
                    let their_role = member
                        .role
                        .as_deref()
                        .and_then(CollaboratorRole::parse)
                        .unwrap_or(CollaboratorRole::Editor);
                    self.store
                        .complete_with_collaborator(entry.id, &base(their_role), frameio_user, arrival)?;
                    self.store.flush().await?;
                    tracing::info!(
                        outbox_id = %entry.id, %wf_project, %wf_user, %frameio_project, %frameio_user,
                        role = member.role.as_deref().unwrap_or("?"), ours = arrival == Arrival::Added,
                        "already a collaborator; recorded, not sent again"
                    );
                    return Ok(());
                }
            }
        }
        let role = match role {
            RoleChoice::Fixed(role) => role,
            RoleChoice::FromAccess => match self.role_from_access(entry, wf_user, wf_project, email).await? {
                Some(role) => role,
                None => return Ok(()),
            },
        };
        self.store.mark_in_flight(entry.id, Timestamp::now())?;
        self.store.flush().await?;
        match client
            .set_project_user(&target.account, frameio_project, frameio_user, role.as_str())
            .await
        {
            Ok(()) => {
                crate::failpoint::hit(crate::failpoint::AFTER_COLLABORATOR_ADD);
                self.store
                    .complete_with_collaborator(entry.id, &base(role), frameio_user, Arrival::Added)?;
                self.store.flush().await?;
                tracing::info!(
                    outbox_id = %entry.id, %wf_project, %wf_user, %frameio_project, %frameio_user,
                    role = role.as_str(), "added collaborator"
                );
                Ok(())
            }
            Err(err) => {
                let outcome_known = !err.may_have_acted();
                self.failed(entry, &credential, &err, outcome_known).await
            }
        }
    }

    /// The role Workfront's access rules give the user on the project (`role = "from_access"`).
    /// `None` when the entry was parked or rescheduled instead: the rules do not let the user
    /// even view the project (parked with the rules' explanation), or Workfront could not answer.
    async fn role_from_access(
        &self,
        entry: &OutboxEntry,
        wf_user: &WorkfrontUserId,
        wf_project: &WorkfrontProjectId,
        email: &str,
    ) -> Result<Option<CollaboratorRole>, StoreError> {
        let fetched = async {
            let subject = self.access.subject(wf_user, &self.flag_field).await?;
            let project = self.access.project(wf_project).await?;
            Ok::<_, AccessFetchError>((subject, project))
        }
        .await;
        match fetched {
            Ok((subject, project)) => match collaborator_role(&subject, &project) {
                Ok(role) => Ok(Some(role)),
                Err(decision) => {
                    let reason = format!(
                        "Workfront's access rules do not let {email} view project {wf_project}, so they are not added ({}); change their access in Workfront, then `frameio-sync outbox retry {}`",
                        decision.explanation, entry.id
                    );
                    tracing::warn!(outbox_id = %entry.id, %wf_user, %wf_project, rule = ?decision.rule, %reason, "parked");
                    self.store.park(entry.id, &reason, ParkCause::Permanent)?;
                    self.store.flush().await?;
                    Ok(None)
                }
            },
            Err(AccessFetchError::Workfront(err)) if err.class() == ErrorClass::Transient => {
                let wait = outbox_delay(entry.attempts + 1, ErrorClass::Transient, None);
                tracing::warn!(outbox_id = %entry.id, error = %err, "could not read the access rules; trying again");
                self.store
                    .reschedule(entry.id, &err.to_string(), Timestamp::now().saturating_add(wait), true)?;
                self.store.flush().await?;
                Ok(None)
            }
            Err(err) => {
                let reason = format!("cannot decide the role from Workfront's access rules: {err}");
                tracing::error!(outbox_id = %entry.id, %wf_user, %wf_project, %reason, "parked");
                self.store.park(entry.id, &reason, ParkCause::Permanent)?;
                self.store.flush().await?;
                Ok(None)
            }
        }
    }

    /// F5: removes a deactivated user's Frame.io users (those we added) from a mirror. A user
    /// active again by now is left where they are.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn remove_collaborator(
        &self,
        entry: &OutboxEntry,
        wf_project: &WorkfrontProjectId,
        wf_user: &WorkfrontUserId,
        frameio_project: &FrameioProjectId,
        target: &Target,
        frameio_users: &[FrameioUserId],
    ) -> Result<(), StoreError> {
        let active_again = self
            .users
            .read()
            .expect("users lock")
            .get(wf_user)
            .is_some_and(|u| u.is_active);
        if active_again {
            tracing::info!(outbox_id = %entry.id, %wf_project, %wf_user, "the user is active again; removal cancelled");
            self.store.complete(entry.id)?;
            return self.store.flush().await;
        }
        let credential = target.credential();
        let Some(client) = self.client_or_park(entry, &credential).await? else {
            return Ok(());
        };
        for frameio_user in frameio_users {
            // DELETE is idempotent (a 404 means "already gone"), so a retry after a partial
            // failure simply repeats the ones already done.
            if let Err(err) = client
                .remove_project_user(&target.account, frameio_project, frameio_user)
                .await
            {
                return self.failed(entry, &credential, &err, true).await;
            }
        }
        self.store
            .complete_removal(entry.id, &(wf_project.clone(), wf_user.clone()), frameio_users)?;
        self.store.flush().await?;
        tracing::info!(outbox_id = %entry.id, %wf_project, %wf_user, %frameio_project, removed = frameio_users.len(), "removed deactivated collaborator");
        Ok(())
    }
}
