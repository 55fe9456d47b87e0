//! Applying Workfront events from the inbox: the same plans as polling, for the objects the events
//! name, so a change takes effect in seconds instead of at the next poll.

use super::planner::Basis;
use super::Engine;
use crate::core::collaborator_plan::CollaboratorPlan;
use crate::core::mirror_plan::Scope;
use crate::core::model::within_clock_skew;
use crate::core::model::{EventObject, WorkfrontProject, WorkfrontUser};
use crate::store::inbox::{Deletion, InboxRecord};
use crate::store::{Recording, StoreError};
use crate::workfront::WorkfrontError;
use anyhow::Context;
use std::collections::{BTreeMap, HashMap};

/// What [`Engine::apply_events_once`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    /// Events taken from the inbox (applied, or recognised as stale).
    pub taken: usize,
    /// Older than what was already known for their object: ignored.
    pub stale: usize,
    pub enqueued: usize,
    /// Nothing was taken: the teams are not read yet (no sync has finished since the start).
    pub waiting_for_first_sync: bool,
}

impl Engine {
    /// Applies up to `limit` events, oldest received first. Within the batch only each object's
    /// newest event counts, and an event not newer than the last one applied to its object (or
    /// than the user as last polled) is ignored, so redelivered and out-of-order events never
    /// roll anything back. The events leave the inbox only after their effects are recorded and
    /// flushed; if anything fails they stay, and are applied again (idempotently) next time.
    pub async fn apply_events_once(&self, limit: usize) -> anyhow::Result<Applied> {
        if !self.last_read.teams_loaded() {
            // Still loading: a user event planned now would see every team empty and cancel or
            // remove what the teams hold. The events are durable in the inbox; the first sync
            // wakes this loop when it has read the teams.
            return Ok(Applied {
                waiting_for_first_sync: true,
                ..Applied::default()
            });
        }
        let batch = self.store.inbox_batch(limit)?;
        let mut applied = Applied {
            taken: batch.len(),
            ..Applied::default()
        };
        if batch.is_empty() {
            return Ok(applied);
        }
        let mut newest: HashMap<String, &InboxRecord> = HashMap::new();
        let now = self.clock.now();
        for record in &batch {
            let key = record.event.object_key();
            let known = self.store.event_mark(&key)?.filter(|mark| {
                // A mark from the future was left by an event an older release accepted (it did
                // not bound eventTime): it would make every real event for the object stale.
                let believable = within_clock_skew(*mark, now);
                if !believable {
                    tracing::warn!(object = %key, mark = %mark, "ignoring an applied-event time ahead of the clock");
                }
                believable
            });
            if known.is_some_and(|mark| record.event.event_time <= mark) {
                applied.stale += 1;
                continue;
            }
            match newest.get(&key) {
                Some(kept) if kept.event.event_time >= record.event.event_time => applied.stale += 1,
                Some(_) => {
                    applied.stale += 1;
                    newest.insert(key, record);
                }
                None => {
                    newest.insert(key, record);
                }
            }
        }
        let mut users: Vec<WorkfrontUser> = Vec::new();
        let mut projects: Vec<WorkfrontProject> = Vec::new();
        for record in newest.values() {
            match &record.event.object {
                EventObject::User { user: Some(user), .. } => {
                    let polled_newer = self
                        .last_read
                        .user(&user.id)
                        .and_then(|known| known.last_update)
                        // A poll's date from the future would shadow every event for this user.
                        .filter(|polled| within_clock_skew(*polled, now))
                        .zip(user.last_update)
                        .is_some_and(|(known, event)| known > event);
                    if polled_newer {
                        applied.stale += 1;
                    } else {
                        users.push(user.clone());
                    }
                }
                EventObject::User { id, user: None } => {
                    tracing::info!(wf_user = %id, "user deleted in Workfront; their collaborators are left as they are");
                }
                EventObject::Project {
                    project: Some(project), ..
                } => projects.push(project.clone()),
                EventObject::Project { id, project: None } => {
                    let mirrored = self.store.mirror(id)?.is_some();
                    tracing::warn!(wf_project = %id, mirrored, "project deleted in Workfront; its Frame.io mirror is left alone");
                    self.store.record_deletion(Deletion {
                        wf_project: id.clone(),
                        at: record.event.event_time,
                        mirrored,
                    })?;
                }
            }
        }
        // Event payloads carry no team; read each project's (one call per project event).
        let mut live = Vec::with_capacity(projects.len());
        for mut project in projects {
            match self.workfront.project_team(&project.id).await {
                Ok(team) => {
                    project.team = team;
                    live.push(project);
                }
                Err(WorkfrontError::NotFound { .. }) => {
                    tracing::info!(wf_project = %project.id, "project from an event no longer exists; skipped");
                }
                Err(err) => return Err(anyhow::Error::new(err).context("failed to read an event's project team")),
            }
        }
        let projects = live;
        let changed_users = users.len();
        if !users.is_empty() {
            self.remember_users(users, false)?;
        }

        let changed_teams: BTreeMap<_, _> = projects.iter().map(|p| (p.id.clone(), p.team.clone())).collect();
        let teams = self.last_read.extend_teams(changed_teams.clone());
        // Stale events, deletions and vanished projects leave nothing to plan: the store is not read.
        let (mirror_plan, collaborators) = if projects.is_empty() && changed_users == 0 {
            Default::default()
        } else {
            let basis = Basis::whole(&self.store)?;
            // No projects (users changed only) is no plan, not a suspiciously empty Workfront.
            let mirror_plan = if projects.is_empty() {
                Default::default()
            } else {
                basis.plan_mirrors(
                    &projects,
                    Scope::Incremental,
                    &self.routing(),
                    self.link_field.is_some(),
                )?
            };
            // A user change can touch any of their projects: plan every cached team. A project
            // change touches only its own pairs.
            let collaborators = if changed_users > 0 {
                self.plan_collaborators(&teams, true, basis, self.known_users()).await?
            } else {
                self.plan_collaborators(&changed_teams, false, basis, self.known_users())
                    .await?
            };
            (mirror_plan, collaborators)
        };
        self.report_collaborator_plan(&collaborators)?;
        let recorded = self
            .store
            .record_plan(
                &Recording::of(&mirror_plan).with_collaborators(&collaborators),
                self.clock.now(),
            )
            .context("failed to record the events' effects")?;
        self.store.flush().await?;
        self.store.finish_events(&batch, now)?;
        self.store.flush().await?;
        applied.enqueued = recorded.enqueued;
        if recorded.enqueued > 0 {
            self.work_ready.notify_one();
        }
        tracing::info!(
            events = applied.taken,
            stale = applied.stale,
            users = changed_users,
            projects = projects.len(),
            enqueued = recorded.enqueued,
            "applied Workfront events"
        );
        Ok(applied)
    }

    /// Logs what a collaborator plan holds back, and remembers a guard trip for `status`.
    pub(super) fn report_collaborator_plan(&self, plan: &CollaboratorPlan) -> Result<(), StoreError> {
        if let Some(trip) = &plan.guard {
            self.store.record_guard_trip(trip)?;
            tracing::error!(
                removals = trip.removals,
                managed = trip.managed,
                "mass-removal guard: {trip}; none removed. Run `frameio-sync confirm-removals` to carry them out"
            );
        }
        for (parked, _) in &plan.park {
            tracing::warn!(effect = %parked.effect.describe(), reason = %parked.reason, "parked");
        }
        for cancel in &plan.cancel {
            tracing::info!(key = %cancel.key, reason = %cancel.reason, "cancelled");
        }
        Ok(())
    }
}
