//! `frameio-sync plan`: what a full resync would do now, done by nobody. It reads Workfront as a
//! full sync does and plans against the store, but records nothing: no outbox entry, no cursor,
//! no users, no sync record. The only thing it may keep is a Frame.io user directory it had to
//! read (a read, cached as a sync would cache it).

use super::planner::Basis;
use super::sync::Snapshot;
use super::Engine;
use crate::core::adoption::{candidates, find_existing, Existing};
use crate::core::collaborator_plan::GuardTrip;
use crate::core::mirror_plan::{Rerouted, Scope};
use crate::core::model::Hold;
use crate::effects::{CreateMirror, Effect};
use crate::ids::{FrameioProjectId, WorkfrontProjectId};
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::fmt::Write;
use std::sync::Arc;

/// The effects a full resync would enqueue, and what it would hold or cancel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DryRun {
    pub projects_seen: usize,
    pub users_seen: usize,
    /// Effects that would be enqueued, then carried out by the worker.
    pub enqueue: Vec<WouldDo>,
    /// Effects that would be parked, with what holds them.
    pub park: Vec<WouldDo>,
    /// Queued entries the resync would cancel (keys and why).
    pub cancel: Vec<WouldCancel>,
    /// Mirrored projects no longer in Workfront; their mirrors would be left alone.
    pub gone: Vec<WorkfrontProjectId>,
    /// Mirrored projects whose group now routes elsewhere; their mirrors would stay.
    pub rerouted: Vec<Rerouted>,
    /// Set when the mass-removal guard would hold the removals.
    pub removal_guard: Option<GuardTrip>,
    /// Projects and pairs already as they should be.
    pub unchanged: usize,
    /// Entries already queued (pending) before this plan; the worker carries them out anyway.
    pub already_pending: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WouldDo {
    /// One line: "create mirror of …", "add … to …", "remove … from …".
    pub describe: String,
    pub reason: String,
    /// What would hold a parked effect.
    pub held: Option<String>,
    pub effect: Effect,
    /// A create that would adopt an existing Frame.io project instead (see `core::adoption`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adopt: Option<WouldAdopt>,
    /// Where a person opens the Workfront project it concerns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workfront_url: Option<String>,
}

/// The existing project a create would adopt, and how it was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WouldAdopt {
    pub frameio_project: FrameioProjectId,
    /// "by link" or "by name".
    pub how: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WouldCancel {
    pub key: String,
    pub reason: String,
}

impl Engine {
    /// Plans a full resync against Workfront as it is now and returns the plan; records nothing.
    pub async fn dry_run(&self) -> anyhow::Result<DryRun> {
        let Snapshot {
            projects,
            groups,
            users,
        } = self.read_workfront(None).await?;
        let (projects_seen, users_seen) = (projects.len(), users.len());
        let mut routing = self.routing();
        routing.set_groups(&groups);
        let basis = Basis::whole(&self.store)?;
        let already_pending = self.store.outbox_counts()?.pending;
        let mirror_plan = basis.plan_mirrors(&projects, Scope::Full, &routing, self.link_field.is_some())?;
        let teams = projects.into_iter().map(|p| (p.id, p.team)).collect();
        let users = Arc::new(users.into_iter().map(|u| (u.id.clone(), u)).collect());
        let collaborators = self.plan_collaborators(&teams, true, basis, users).await?;
        let would = |effect: &Effect, reason: &str, held: Option<Hold>| WouldDo {
            describe: effect.describe(),
            reason: reason.to_owned(),
            held: held.map(|h| hold_text(h).to_owned()),
            effect: effect.clone(),
            adopt: None,
            workfront_url: effect.wf_project().map(|p| self.workfront_project_url(p)),
        };
        let mut enqueue = Vec::new();
        let mut several = Vec::new();
        for planned in mirror_plan.enqueue.iter().chain(&collaborators.enqueue) {
            let mut w = would(&planned.effect, &planned.reason, None);
            if let Effect::CreateMirror(create) = &planned.effect {
                match self.existing_mirror(create).await? {
                    Found::Nothing => {}
                    Found::One(adopt) => {
                        w.describe = format!(
                            "adopt {} as the mirror of Workfront project {} ({:?}, {}) ({})",
                            adopt.frameio_project,
                            create.wf_project,
                            create.name,
                            self.workfront_project_url(&create.wf_project),
                            adopt.how
                        );
                        w.adopt = Some(adopt);
                    }
                    Found::Several(ids) => {
                        w.held = Some("several Frame.io projects with the name".to_owned());
                        w.reason = format!("already in the workspace: {}", ids.join(", "));
                        several.push(w);
                        continue;
                    }
                }
            }
            enqueue.push(w);
        }
        Ok(DryRun {
            projects_seen,
            users_seen,
            enqueue,
            park: several
                .into_iter()
                .chain(
                    mirror_plan
                        .park
                        .iter()
                        .map(|p| would(&p.effect, &p.reason, Some(Hold::Unroutable))),
                )
                .chain(
                    collaborators
                        .park
                        .iter()
                        .map(|(p, hold)| would(&p.effect, &p.reason, Some(*hold))),
                )
                .collect(),
            cancel: collaborators
                .cancel
                .iter()
                .map(|c| WouldCancel {
                    key: c.key.clone(),
                    reason: c.reason.clone(),
                })
                .collect(),
            gone: mirror_plan.gone,
            rerouted: mirror_plan.rerouted,
            removal_guard: collaborators.guard,
            unchanged: mirror_plan.unchanged + collaborators.unchanged,
            already_pending,
        })
    }
}

/// What a create would find in its workspace.
enum Found {
    Nothing,
    One(WouldAdopt),
    Several(Vec<String>),
}

impl Engine {
    /// What `create`'s worker would find before creating: the same listing (once per process)
    /// and the same rule (`core::adoption::find_existing`). A create whose credential has no
    /// client finds nothing here; the worker parks it.
    async fn existing_mirror(&self, create: &CreateMirror) -> anyhow::Result<Found> {
        let Some(target) = &create.target else {
            return Ok(Found::Nothing);
        };
        // A credential Frame.io refuses (or none): the worker parks the create; nothing to list.
        let credential = target.credential();
        let Some(client) = self.client(&credential).filter(|_| !self.is_refused(&credential)) else {
            return Ok(Found::Nothing);
        };
        let listed = self.listings.of(&client, target).await.with_context(|| {
            format!(
                "listing Frame.io workspace {} of account {} to find existing mirrors",
                target.workspace, target.account
            )
        })?;
        let candidates: Vec<_> = candidates(&listed, &create.name, create.linked.as_ref())
            .map(|p| &p.id)
            .collect();
        if candidates.is_empty() {
            return Ok(Found::Nothing);
        }
        let mapped = self.listings.claimed_among(&self.store, candidates)?;
        Ok(
            match find_existing(&listed, &create.name, create.linked.as_ref(), &mapped) {
                Existing::Nothing => Found::Nothing,
                Existing::Several(found) => Found::Several(found.iter().map(|p| p.id.to_string()).collect()),
                existing @ (Existing::ByLink(found) | Existing::ByName(found)) => Found::One(WouldAdopt {
                    frameio_project: found.id.clone(),
                    how: existing.how().to_owned(),
                }),
            },
        )
    }
}

fn hold_text(hold: Hold) -> &'static str {
    match hold {
        Hold::Unroutable => "no Frame.io account for the project's group",
        Hold::NoFrameioUser => "no Frame.io user with the email",
        Hold::RemovalGuard => "the mass-removal guard",
    }
}

impl DryRun {
    /// The plan for a terminal: one line per effect, then the totals.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "A full resync now (Workfront: {} projects, {} users) would:",
            self.projects_seen, self.users_seen
        );
        for w in &self.enqueue {
            // A mirror's own line names the project's address (an adoption's says it already).
            let address = match (&w.effect, &w.workfront_url, &w.adopt) {
                (Effect::CreateMirror(_) | Effect::RenameMirror(_) | Effect::WriteLink(_), Some(url), None) => {
                    format!(" ({url})")
                }
                _ => String::new(),
            };
            let _ = writeln!(out, "  {}{address}", w.describe);
        }
        for w in &self.park {
            let held = w.held.as_deref().unwrap_or("held");
            let _ = writeln!(out, "  park: {} (held by {held}: {})", w.describe, w.reason);
        }
        for c in &self.cancel {
            let _ = writeln!(out, "  cancel the queued {}: {}", c.key, c.reason);
        }
        for g in &self.gone {
            let _ = writeln!(
                out,
                "  leave alone the mirror of {g}: the Workfront project no longer exists"
            );
        }
        for r in &self.rerouted {
            let _ = writeln!(
                out,
                "  leave the mirror of {} in account {}: its group now routes elsewhere",
                r.wf_project, r.mirrored_in.account
            );
        }
        if let Some(guard) = &self.removal_guard {
            let _ = writeln!(
                out,
                "  REMOVAL GUARD: {} removals of {} managed collaborators exceed the limit; all would be held",
                guard.removals, guard.managed
            );
        }
        let _ = writeln!(
            out,
            "{} to enqueue, {} to park, {} to cancel, {} unchanged; {} already pending. Nothing was done.",
            self.enqueue.len(),
            self.park.len(),
            self.cancel.len(),
            self.unchanged,
            self.already_pending
        );
        out
    }
}
