//! One sync: Workfront → plan → outbox.

use super::planner::Basis;
use super::Engine;
use super::Teams;
use crate::core::mirror_plan::Scope;
use crate::core::model::{WorkfrontGroup, WorkfrontProject, WorkfrontUser};
use crate::ids::WorkfrontUserId;
use crate::store::records::SYNC_V;
use crate::store::{Priority, Recording, StoreError, SyncRecord};
use crate::timestamp::Timestamp;
use anyhow::Context;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

impl Engine {
    /// Reads Workfront (all projects for [`Scope::Full`], changed ones for
    /// [`Scope::Incremental`]), records the effects the plan asks for together with the new
    /// cursor, flushes, and records the sync's outcome (also when it fails) for `status`.
    ///
    /// An incremental sync without a cursor (a fresh state dir) reads everything.
    pub async fn sync_once(&self, scope: Scope) -> anyhow::Result<SyncRecord> {
        let started_at = self.clock.now();
        let clock = Instant::now();
        let calls_before = self.workfront.calls();
        let mut record = SyncRecord {
            v: SYNC_V,
            seq: 0,
            scope,
            started_at,
            duration_us: 0,
            projects_seen: 0,
            enqueued: 0,
            parked: 0,
            unchanged: 0,
            gone: 0,
            workfront_calls: 0,
            error: None,
            rerouted: Vec::new(),
            rerouted_total: 0,
            users_seen: 0,
            collaborator_changes: 0,
            removal_guard: None,
        };
        let outcome = self.sync_inner(scope, &mut record).await;
        let (outcome, statuses) = match outcome {
            Ok(statuses) => (Ok(()), statuses),
            Err(err) => (Err(err), Vec::new()),
        };
        record.duration_us = clock.elapsed().as_micros() as u64;
        self.metrics.sync_done(record.duration_us, outcome.is_err());
        record.workfront_calls = self.workfront.calls() - calls_before;
        if let Err(err) = &outcome {
            record.error = Some(format!("{err:#}"));
        }
        if outcome.is_ok() {
            self.metrics
                .sync_ok(record.started_at.millis(), record.scope == Scope::Full);
            // The review form's tasks: not part of the sync's plan (nor of its figures), so a
            // failure is only logged (the form offers the tasks last read). Read before the sync
            // is recorded, so whoever waits for the record finds them.
            if let Err(err) = self.refresh_tasks(record.scope == Scope::Full).await {
                tracing::warn!(error = %err, "could not read Workfront's open tasks; the review form offers those read before");
            }
            // The review loop: decisions read, and what the Frame.io files do not show yet
            // planned (a failure waits for the next poll).
            if let Err(err) = self.review_once().await {
                tracing::warn!(
                    error = format!("{err:#}"),
                    "could not read Workfront's approvals; the next poll tries again"
                );
            }
            // The one-way folder: the open projects' documents that are not in Frame.io yet.
            let statuses = Arc::new(statuses);
            *self.last_statuses.lock().expect("statuses lock") = Arc::clone(&statuses);
            if let Err(err) = self.folder_once(&statuses, record.scope == Scope::Full).await {
                tracing::warn!(
                    error = format!("{err:#}"),
                    "could not read the projects' Workfront documents for the one-way folder; the next poll tries again"
                );
            }
        }
        let record = self.store.record_sync(record).context("failed to record the sync")?;
        outcome.map(|()| record)
    }

    /// The sync proper; returns the projects' statuses, for the one-way folder.
    async fn sync_inner(&self, scope: Scope, record: &mut SyncRecord) -> anyhow::Result<Vec<super::ProjectStatus>> {
        let cursor = self.store.cursor()?;
        let (scope, since) = match (scope, cursor) {
            (Scope::Incremental, Some(cursor)) => (Scope::Incremental, Some(cursor.saturating_sub(self.poll_overlap))),
            _ => (Scope::Full, None),
        };
        record.scope = scope;
        if scope == Scope::Full {
            // A full resync (start, SIGHUP) reads again the directories someone is missing from.
            self.directories.expire();
        }
        let Snapshot {
            mut projects,
            groups,
            users,
        } = self.read_workfront(since).await?;
        record.projects_seen = projects.len();
        record.users_seen = users.len();
        let statuses = if self.folder.enabled {
            projects.iter().map(super::ProjectStatus::of).collect()
        } else {
            Vec::new()
        };
        self.set_groups(&groups);
        // The next poll reads users changed since the newest one seen; a full read with no users
        // at all starts from now (the overlap covers clock skew).
        // Never ahead of this sync's start: a user dated in the future (a bad clock, a bad row)
        // would make every later poll ask for changes after that date and miss them all.
        let user_cursor = users
            .iter()
            .filter_map(|u| u.last_update)
            .max()
            .map(|newest| newest.min(record.started_at))
            .or((scope == Scope::Full).then_some(record.started_at));
        self.remember_users(users, scope == Scope::Full)?;

        // The new teams replace the cached ones (taken out of the projects, so only one copy is
        // alive), and before the store is read for the plan: a mirror the worker records from
        // here on finds them (`collaborators_after_mirror`), and one recorded before is in the
        // basis this plan reads. Either way its collaborators are planned.
        let teams: Arc<Teams> = Arc::new(
            projects
                .iter_mut()
                .map(|p| (p.id.clone(), std::mem::take(&mut p.team)))
                .collect(),
        );
        let first = self.last_read.replace_teams(Arc::clone(&teams));
        if first {
            // Events recorded meanwhile waited for these teams.
            self.events_ready.notify_one();
        }
        let basis = Basis::whole(&self.store)?;
        let plan = basis.plan_mirrors(&projects, scope, &self.routing(), self.link_field.is_some())?;
        for gone in &plan.gone {
            tracing::warn!(
                wf_project = %gone,
                "Workfront project no longer exists; its Frame.io mirror is left alone"
            );
        }
        for r in &plan.rerouted {
            tracing::warn!(
                wf_project = %r.wf_project,
                mirror_account = %r.mirrored_in.account,
                mirror_workspace = %r.mirrored_in.workspace,
                now_account = %r.now_routes_to.as_ref().map(|t| t.account.to_string()).unwrap_or_else(|| "(none)".into()),
                "the project's group now routes elsewhere; its mirror stays where it is"
            );
        }
        for parked in &plan.park {
            tracing::warn!(effect = %parked.effect.describe(), reason = %parked.reason, "parked");
        }

        let collaborators = self.plan_collaborators(&teams, true, basis, self.known_users()).await?;
        self.report_collaborator_plan(&collaborators)?;

        // The first sync since the start catches up on everything (a new install, a long stop):
        // its work is backfill, which fresh work from events and later polls goes ahead of.
        let priority = if first { Priority::Backfill } else { Priority::Fresh };
        let recording = Recording::of(&plan)
            .with_collaborators(&collaborators)
            .with_cursor(user_cursor)
            .with_priority(priority);
        let recorded = self.store.record_plan(&recording, self.clock.now())?;
        // The cursor moved in the same transaction as the effects; flushing now makes both durable
        // before anything acts on them.
        self.store.flush().await?;
        record.enqueued = recorded.enqueued;
        record.parked = recorded.parked;
        record.unchanged = plan.unchanged + collaborators.unchanged;
        record.gone = plan.gone.len();
        record.collaborator_changes =
            collaborators.enqueue.len() + collaborators.park.len() + collaborators.cancel.len();
        record.removal_guard = collaborators.guard.clone();
        record.rerouted_total = plan.rerouted.len();
        record.rerouted = plan
            .rerouted
            .iter()
            .take(crate::store::records::REROUTED_KEPT)
            .cloned()
            .collect();
        if recorded.enqueued > 0 {
            self.work_ready.notify_one();
        }
        tracing::info!(
            scope = ?scope,
            projects = record.projects_seen,
            users = record.users_seen,
            enqueued = recorded.enqueued,
            parked = recorded.parked,
            cancelled = recorded.cancelled,
            gone = record.gone,
            "sync done"
        );
        Ok(statuses)
    }

    /// Reads what a sync plans against: every project with its team, every group, and the users
    /// changed since `since` (all of them without). A full read that finds no users while this
    /// daemon manages collaborators is refused as suspicious (SPEC §4), as the mirror plan
    /// refuses an empty project list.
    pub(super) async fn read_workfront(&self, since: Option<Timestamp>) -> anyhow::Result<Snapshot> {
        // Projects are read whole, with their teams: team membership (PRTU) has no change filter
        // and no events, and reading the projects whole costs no more calls than reading them
        // and then their teams.
        let projects = self
            .workfront
            .search_projects(None)
            .await
            .context("failed to read projects from Workfront")?;
        // Groups have no event subscriptions and no cheap change filter: every sync reads them all
        // (a page or two), so routing follows renames, moves and new subgroups.
        let groups = self
            .workfront
            .search_groups()
            .await
            .context("failed to read groups from Workfront")?;
        let users = self
            .workfront
            .search_users(since)
            .await
            .context("failed to read users from Workfront")?;
        if since.is_none() && users.is_empty() {
            let managed = self.store.managed_collaborator_count()?;
            if managed > 0 {
                anyhow::bail!(
                    "Workfront returned no users while {managed} collaborators are managed; this sync is aborted as suspicious"
                );
            }
        }
        Ok(Snapshot {
            projects,
            groups,
            users,
        })
    }

    /// Every Workfront user as last read (shared, not copied).
    pub(super) fn known_users(&self) -> Arc<HashMap<WorkfrontUserId, WorkfrontUser>> {
        self.last_read.users()
    }

    /// One Workfront user as last read.
    pub(crate) fn known_user(&self, id: &WorkfrontUserId) -> Option<WorkfrontUser> {
        self.last_read.user(id)
    }

    /// Stores the users read and keeps them in memory: a full read replaces the set, a poll's
    /// changed users are merged in. Only what differs from the users held is written, so a
    /// no-change full sync of a large tenant writes nothing.
    pub(super) fn remember_users(&self, users: Vec<WorkfrontUser>, full: bool) -> Result<(), StoreError> {
        self.last_read.update_users(|known| {
            let changed: Vec<&WorkfrontUser> = users.iter().filter(|u| known.get(&u.id) != Some(*u)).collect();
            let gone: Vec<WorkfrontUserId> = match full {
                true => {
                    let seen: HashSet<&WorkfrontUserId> = users.iter().map(|u| &u.id).collect();
                    known.keys().filter(|id| !seen.contains(id)).cloned().collect()
                }
                false => Vec::new(),
            };
            self.store.update_users(&changed, &gone)?;
            if changed.is_empty() && gone.is_empty() {
                return Ok(());
            }
            let changed: Vec<WorkfrontUser> = changed.into_iter().cloned().collect();
            // A plan still holding the old map keeps it; this one is changed alone.
            let map = Arc::make_mut(known);
            for id in &gone {
                map.remove(id);
            }
            for user in changed {
                map.insert(user.id.clone(), user);
            }
            Ok(())
        })
    }
}

/// One read of Workfront.
pub(super) struct Snapshot {
    pub projects: Vec<WorkfrontProject>,
    pub groups: Vec<WorkfrontGroup>,
    pub users: Vec<WorkfrontUser>,
}
