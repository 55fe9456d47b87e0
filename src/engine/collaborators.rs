//! Collaborators (F3–F5) around the pure plan: what it is made against, and refreshing the
//! account directories it needs (`directories.rs`: fetched on a miss, at most once per
//! interval). Adds and removals are carried out in `crate::effects`.

use super::directories::Miss;
use super::planner::Basis;
use super::Engine;
use crate::core::collaborator_plan::{self, CollaboratorPlan, Known, Mirror};
use crate::core::model::{Credential, WorkfrontUser};
use crate::ids::{FrameioAccountId, FrameioUserId, WorkfrontProjectId, WorkfrontUserId};
use crate::store::records::DIRECTORY_V;
use crate::store::{DirectoryRecord, Recording, StoreError};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

impl Engine {
    /// Plans collaborator changes for `teams`, refreshing the directories of accounts where an
    /// email was missing (each at most once per `missing_user_recheck`, and at once after a full
    /// resync) and planning again if any refresh succeeded.
    pub(super) async fn plan_collaborators(
        &self,
        teams: &BTreeMap<WorkfrontProjectId, Vec<WorkfrontUserId>>,
        complete: bool,
        basis: Basis,
        users: Arc<HashMap<WorkfrontUserId, WorkfrontUser>>,
    ) -> Result<CollaboratorPlan, StoreError> {
        let mut known = self.collaborator_known(basis, users);
        let plan = collaborator_plan::plan(teams, complete, &known, &self.policy);
        let now = self.clock.now();
        let due: Vec<(FrameioAccountId, Credential)> = plan
            .misses
            .iter()
            .filter(|(account, _)| self.directories.due(account, Miss::Parked, now))
            .map(|(a, c)| (a.clone(), c.clone()))
            .collect();
        let mut refreshed = false;
        for (account, credential) in due {
            refreshed |= self.refresh_directory(&account, &credential).await?;
        }
        if !refreshed {
            return Ok(plan);
        }
        known.directories = self.directories.snapshot();
        Ok(collaborator_plan::plan(teams, complete, &known, &self.policy))
    }

    /// What the plan is made against; `basis` covers at least the projects planned.
    fn collaborator_known(&self, basis: Basis, users: Arc<HashMap<WorkfrontUserId, WorkfrontUser>>) -> Known {
        Known {
            users,
            mirrors: basis
                .mirrors
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
            directories: self.directories.snapshot(),
            managed: basis.managed,
            entries: basis.view.collaborators,
        }
    }

    /// Whether an account's directory may be read again now (at most once per interval).
    pub(super) fn directory_due(&self, account: &FrameioAccountId) -> bool {
        self.directories.due(account, Miss::Lookup, self.clock.now())
    }

    /// Pages through an account's users and stores them by email. `Ok(false)` when it could not
    /// (logged; the parked adds wait for the next interval).
    pub(super) async fn refresh_directory(
        &self,
        account: &FrameioAccountId,
        credential: &Credential,
    ) -> Result<bool, StoreError> {
        self.directories.attempting(account, self.clock.now());
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
            fetched_at: self.clock.now(),
            by_email,
        };
        self.store.put_directory(&record)?;
        tracing::info!(%account, users = record.by_email.len(), "read the account's user directory");
        self.directories.fetched(record, self.clock.now());
        Ok(true)
    }

    /// After a mirror is recorded, plans its collaborators from the last poll's team at once,
    /// rather than at the next poll. Failures are logged: the next poll plans them anyway.
    pub(crate) async fn collaborators_after_mirror(&self, wf_project: &WorkfrontProjectId) {
        let Some(team) = self.last_read.team(wf_project) else {
            return;
        };
        if team.is_empty() {
            return;
        }
        let teams = BTreeMap::from([(wf_project.clone(), team)]);
        // Only this project's keys, mirror and records are read (`Basis::of_project`). Not flushed here:
        // the next flush (at the latest the next in-flight mark, which any add waits for) covers
        // it, and if power fails first, the next poll plans them again.
        let outcome = async {
            let basis = Basis::of_project(&self.store, wf_project)?;
            let plan = self
                .plan_collaborators(&teams, false, basis, self.known_users())
                .await?;
            self.store
                .record_plan(&Recording::default().with_collaborators(&plan), self.clock.now())
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
}
