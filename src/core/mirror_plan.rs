//! The desired-state diff for mirrors (F1): given what Workfront says and what we have recorded,
//! which effects are needed. Plain functions over values; the engine does the I/O around them.

use super::model::{frameio_project_in_link, Target, WorkfrontProject};
use super::routing::Routing;
use crate::effects::{CreateMirror, Effect, RenameMirror, WriteLink};
use crate::ids::{FrameioProjectId, WorkfrontProjectId};
use std::collections::{BTreeMap, HashMap, HashSet};

/// How much of Workfront a sync read. Projects (with their teams) are read whole by every sync,
/// because team membership has no change filter and no events; the scope is about users and
/// about what absences mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Every user too, and mirrored projects missing from the answer are reported as gone.
    Full,
    /// Users changed since the cursor; absences are not reported (a poll, every minute).
    Incremental,
}

/// What the outbox already holds for a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    Pending,
    /// Parked with a reason; `unroutable` when the reason is "no Frame.io account", which a later
    /// sync may resolve by itself.
    Parked {
        unroutable: bool,
    },
    Dead,
}

/// What we have recorded, as the plan needs it.
#[derive(Debug, Default)]
pub struct Known {
    /// Each mirrored project and its mirror.
    pub mirrored: HashMap<WorkfrontProjectId, Mirrored>,
    pub outbox: HashMap<String, KeyState>,
    /// `workfront.link_field` is set: each mirror's address goes into its project's link field.
    pub write_links: bool,
}

/// A recorded mirror, as the plan needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mirrored {
    pub target: Target,
    pub frameio_project: FrameioProjectId,
    /// The name we last gave it, or the Workfront name it was adopted under.
    pub name: String,
    /// Where a person opens it: what the link field should hold.
    pub url: String,
    /// What the link field holds, as we last wrote or found it.
    pub link: Option<String>,
}

/// One effect to record, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub effect: Effect,
    pub reason: String,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Effects to enqueue as pending (replacing a parked entry with the same key).
    pub enqueue: Vec<Planned>,
    /// Effects that cannot run yet, to record as parked with their reason.
    pub park: Vec<Planned>,
    /// Mirrored projects a full sync no longer found in Workfront. Their mirrors are left alone
    /// (SPEC §4: never delete a Frame.io project); this only reports them.
    pub gone: Vec<WorkfrontProjectId>,
    /// Mirrored projects whose group now routes them elsewhere. Their mirrors stay where they
    /// are (never moved or duplicated); this only reports the difference.
    pub rerouted: Vec<Rerouted>,
    /// Projects seen that already have a mirror or a pending effect.
    pub unchanged: usize,
}

/// A mirrored project whose route changed since its mirror was made.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rerouted {
    pub wf_project: WorkfrontProjectId,
    pub mirrored_in: Target,
    pub now_routes_to: Option<Target>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// SPEC §4: a full answer with no projects while we hold mirrors is more likely a broken
    /// source (wrong tenant, lost permissions) than a tenant that deleted everything.
    #[error("Workfront returned no projects while {mirrors} are mirrored; this sync is aborted as suspicious")]
    SuspiciouslyEmpty { mirrors: usize },
}

/// Decides the effects for `projects`.
pub fn plan(projects: &[WorkfrontProject], scope: Scope, known: &Known, routing: &Routing) -> Result<Plan, PlanError> {
    // `projects` is always the whole list (see `Scope`), so an empty one is suspicious either way.
    if projects.is_empty() && !known.mirrored.is_empty() {
        return Err(PlanError::SuspiciouslyEmpty {
            mirrors: known.mirrored.len(),
        });
    }
    // Pages can overlap when projects change during a search; keep one row per id, the newest.
    let mut by_id: BTreeMap<&WorkfrontProjectId, &WorkfrontProject> = BTreeMap::new();
    for p in projects {
        let keep = by_id.get(&p.id).is_none_or(|seen| p.last_update >= seen.last_update);
        if keep {
            by_id.insert(&p.id, p);
        }
    }
    let mut plan = Plan::default();
    for project in by_id.values() {
        let route = routing.route(project);
        if let Some(mirror) = known.mirrored.get(&project.id) {
            let now = route.as_ref().ok();
            let mirrored_in = &mirror.target;
            let same_place =
                now.is_some_and(|t| t.account == mirrored_in.account && t.workspace == mirrored_in.workspace);
            if !same_place {
                plan.rerouted.push(Rerouted {
                    wf_project: project.id.clone(),
                    mirrored_in: mirrored_in.clone(),
                    now_routes_to: now.cloned(),
                });
            }
            let changes = mirror_changes(project, mirror, known);
            if changes.is_empty() {
                plan.unchanged += 1;
            }
            plan.enqueue.extend(changes);
            continue;
        }
        let effect = Effect::CreateMirror(CreateMirror {
            wf_project: project.id.clone(),
            name: project.name.clone(),
            target: route.as_ref().ok().cloned(),
            linked: project.link.as_deref().and_then(frameio_project_in_link),
        });
        match (known.outbox.get(&effect.key()), route) {
            (Some(KeyState::Pending | KeyState::Dead | KeyState::Parked { unroutable: false }), _) => {
                plan.unchanged += 1
            }
            (Some(KeyState::Parked { unroutable: true }), Err(_)) => plan.unchanged += 1,
            (Some(KeyState::Parked { unroutable: true }), Ok(_)) => plan.enqueue.push(Planned {
                effect,
                reason: "a Frame.io account is now known for the project".into(),
            }),
            (None, Ok(_)) => plan.enqueue.push(Planned {
                effect,
                reason: "Workfront project has no mirror".into(),
            }),
            (None, Err(no_route)) => plan.park.push(Planned {
                effect,
                reason: no_route.to_string(),
            }),
        }
    }
    if scope == Scope::Full {
        let seen: HashSet<&WorkfrontProjectId> = by_id.keys().copied().collect();
        plan.gone = known.mirrored.keys().filter(|id| !seen.contains(id)).cloned().collect();
        plan.gone.sort();
    }
    Ok(plan)
}

/// What a mirrored project's mirror needs: a rename when the Workfront name is no longer the one
/// we last gave it (a mirror renamed by hand keeps its name until the Workfront name changes
/// again), and its address in the link field when that is not what we last wrote or found. Each
/// at most once in the outbox: a parked or dead one stays until an admin acts.
fn mirror_changes(project: &WorkfrontProject, mirror: &Mirrored, known: &Known) -> Vec<Planned> {
    let mut changes = Vec::new();
    let mut add = |effect: Effect, reason: String| {
        if !known.outbox.contains_key(&effect.key()) {
            changes.push(Planned { effect, reason });
        }
    };
    if project.name != mirror.name && !project.name.trim().is_empty() {
        add(
            Effect::RenameMirror(RenameMirror {
                wf_project: project.id.clone(),
                frameio_project: mirror.frameio_project.clone(),
                target: mirror.target.clone(),
                from: mirror.name.clone(),
                name: project.name.clone(),
            }),
            "the Workfront project was renamed".into(),
        );
    }
    if known.write_links && mirror.link.as_deref() != Some(mirror.url.as_str()) {
        add(
            Effect::WriteLink(WriteLink {
                wf_project: project.id.clone(),
                frameio_project: mirror.frameio_project.clone(),
                url: mirror.url.clone(),
            }),
            "the Workfront project's link field does not hold its mirror's address".into(),
        );
    }
    changes
}

#[cfg(test)]
mod tests;
