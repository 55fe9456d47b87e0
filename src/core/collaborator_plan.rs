//! The desired-state diff for collaborators (F3–F5): given the project teams and users Workfront
//! reports, the Frame.io user directories, what this daemon has added and what the outbox already
//! holds, which collaborator changes are needed. Plain functions over values.
//!
//! The rules, per (project, user) pair on a mirrored project:
//! - an active, flagged user with an email, on the project's team, is added (F3) — parked while
//!   the account's directory has no one with that email;
//! - clearing the flag or leaving the team removes no one (F4);
//! - a deactivated user is removed from the mirrors this daemon added them to, when
//!   `on_deactivate = "remove"` (F5), never from ones it did not add;
//! - more removals in one plan than the guard allows are all held for an admin (SPEC §4).

use super::mirror_plan::Planned;
use super::model::{collaborator_key, CollaboratorRole, Credential, Hold, RoleChoice, Target, WorkfrontUser};
use crate::effects::{AddCollaborator, Effect, RemoveCollaborator};
use crate::ids::{FrameioAccountId, FrameioProjectId, FrameioUserId, WorkfrontProjectId, WorkfrontUserId};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// A (project, user) pair: the unit collaborator changes are planned and recorded in.
pub type Pair = (WorkfrontProjectId, WorkfrontUserId);

/// An account's users by lower-cased email.
pub type Directory = HashMap<String, FrameioUserId>;

/// Where a project's mirror is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mirror {
    pub frameio_project: FrameioProjectId,
    pub target: Target,
}

/// The Frame.io users recorded for a pair.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Managed {
    /// Added by this daemon: these, and only these, may be removed.
    pub added: Vec<FrameioUserId>,
    /// Found on the project already when we came to add them: never removed by us.
    pub present: Vec<FrameioUserId>,
    /// The email they were last added or found under (lower-cased).
    pub email: String,
}

/// What an outbox entry for a pair asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Add { frameio_user: Option<FrameioUserId> },
    Remove,
}

/// Where an outbox entry for a pair stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending,
    /// Parked by a plan, for a reason a later plan re-examines.
    Held(Hold),
    /// Parked for a reason only an admin or a new credential resolves, or dead: left alone.
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub op: Op,
    pub status: Status,
    /// A request of this entry may have reached Frame.io (see the outbox's in-flight mark).
    pub in_flight: bool,
}

/// How collaborators are managed (`[collaborators]` in the config).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub role: RoleChoice,
    pub remove_on_deactivate: bool,
    /// The guard trips when one plan would remove more than this many…
    pub max_removals: usize,
    /// …or more than this percentage of the collaborators this daemon added.
    pub max_removal_percent: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            role: RoleChoice::Fixed(CollaboratorRole::Editor),
            remove_on_deactivate: true,
            max_removals: 25,
            max_removal_percent: 10,
        }
    }
}

/// What the plan is made against.
#[derive(Debug, Default)]
pub struct Known {
    /// Shared with the engine, which keeps every user: a tenant's users are not copied per plan.
    pub users: Arc<HashMap<WorkfrontUserId, WorkfrontUser>>,
    pub mirrors: HashMap<WorkfrontProjectId, Mirror>,
    /// Directories fetched so far; an account without one resolves no email.
    pub directories: HashMap<FrameioAccountId, Directory>,
    pub managed: HashMap<Pair, Managed>,
    pub entries: HashMap<Pair, Entry>,
}

/// The mass-removal guard's verdict, for the log and `status`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GuardTrip {
    /// Removals the plan asked for, all held.
    pub removals: usize,
    /// Collaborators this daemon had added when it tripped.
    pub managed: usize,
    pub max_removals: usize,
    pub max_removal_percent: u32,
}

impl std::fmt::Display for GuardTrip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "one sync would remove {} collaborators (limit {}, or {}% of the {} this daemon added)",
            self.removals, self.max_removals, self.max_removal_percent, self.managed
        )
    }
}

/// An entry to remove because what it asked for is no longer wanted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cancel {
    pub key: String,
    pub reason: String,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct CollaboratorPlan {
    /// Effects to enqueue as pending (replacing the pair's entry, if any).
    pub enqueue: Vec<Planned>,
    /// Effects to record as parked, with what holds them.
    pub park: Vec<(Planned, Hold)>,
    pub cancel: Vec<Cancel>,
    pub guard: Option<GuardTrip>,
    /// Accounts whose directory lacked someone the plan wanted, with the credential that reads it:
    /// the engine refreshes these (at most once per interval) and plans again.
    pub misses: BTreeMap<FrameioAccountId, Credential>,
    /// Pairs that needed nothing.
    pub unchanged: usize,
}

/// What a pair should become.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Want {
    Nothing(&'static str),
    /// Nothing now, but the user's email changed and the directory does not know the new one:
    /// worth a refresh, which may find the Frame.io user it belongs to.
    LookAgain,
    Add {
        frameio_user: Option<FrameioUserId>,
    },
    Remove {
        frameio_users: Vec<FrameioUserId>,
    },
}

/// Plans the collaborator changes for the pairs of `teams` (project → its team). With
/// `complete`, `teams` holds every project, so pairs recorded or queued for projects not in it
/// (a user who left the team) are examined too; otherwise only the projects in `teams` are.
pub fn plan(
    teams: &BTreeMap<WorkfrontProjectId, Vec<WorkfrontUserId>>,
    complete: bool,
    known: &Known,
    policy: &Policy,
) -> CollaboratorPlan {
    let mut plan = CollaboratorPlan::default();
    // Every pair on a team, then recorded or queued pairs that are not (a user who left the team),
    // by reference: a tenant's teams hold hundreds of thousands of pairs, and copying them all
    // into one map would double the plan's memory.
    let on_team = |project: &WorkfrontProjectId, user: &WorkfrontUserId| {
        teams.get(project).is_some_and(|team| team.contains(user))
    };
    let mut off_team: Vec<&Pair> = known
        .managed
        .keys()
        .chain(known.entries.keys())
        .filter(|(p, u)| (complete || teams.contains_key(p)) && !on_team(p, u))
        .collect();
    off_team.sort();
    off_team.dedup();
    let team_pairs = teams.iter().flat_map(|(project, team)| {
        team.iter()
            .enumerate()
            // A user listed twice on one team is one pair.
            .filter(|(i, user)| !team[..*i].contains(user))
            .map(move |(_, user)| (project, user, true))
    });
    let pairs = team_pairs.chain(off_team.into_iter().map(|(p, u)| (p, u, false)));
    let mut removals = Vec::new();
    for (project, user_id, on_team) in pairs {
        let Some(mirror) = known.mirrors.get(project) else {
            continue;
        };
        let pair = (project.clone(), user_id.clone());
        let entry = known.entries.get(&pair);
        let user = known.users.get(user_id);
        let directory = known.directories.get(&mirror.target.account);
        let want = want(user, on_team, known.managed.get(&pair), entry, directory, policy);
        let email = user.and_then(|u| u.email.clone()).unwrap_or_default();
        let key = collaborator_key(project, user_id);
        if matches!(
            entry,
            Some(Entry {
                status: Status::Other,
                ..
            })
        ) {
            plan.unchanged += 1;
            continue;
        }
        if want == Want::LookAgain {
            plan.misses
                .insert(mirror.target.account.clone(), mirror.target.credential());
        }
        match want {
            Want::LookAgain => match entry {
                None => plan.unchanged += 1,
                Some(_) => plan.cancel.push(Cancel {
                    key,
                    reason: format!("no longer wanted: Workfront user {user_id} is a collaborator already"),
                }),
            },
            Want::Nothing(why) => match entry {
                None => plan.unchanged += 1,
                Some(_) => plan.cancel.push(Cancel {
                    key,
                    reason: format!("no longer wanted: Workfront user {user_id} {why}"),
                }),
            },
            Want::Add { frameio_user } => {
                let same = entry.is_some_and(|e| {
                    e.op == Op::Add {
                        frameio_user: frameio_user.clone(),
                    }
                });
                if frameio_user.is_none() {
                    plan.misses
                        .insert(mirror.target.account.clone(), mirror.target.credential());
                }
                if same {
                    plan.unchanged += 1;
                    continue;
                }
                let effect = Effect::AddCollaborator(AddCollaborator {
                    wf_project: project.clone(),
                    wf_user: user_id.clone(),
                    email: email.clone(),
                    frameio_project: mirror.frameio_project.clone(),
                    target: mirror.target.clone(),
                    frameio_user: frameio_user.clone(),
                    role: policy.role,
                });
                if frameio_user.is_some() {
                    plan.enqueue.push(Planned {
                        effect,
                        reason: format!(
                            "{email} is flagged for Frame.io and on the team of Workfront project {project}"
                        ),
                    });
                } else {
                    let reason = format!(
                        "no Frame.io user for {email} in account {}; invite them to the account in Frame.io and they are added by themselves once its user directory lists them",
                        mirror.target.account
                    );
                    plan.park.push((Planned { effect, reason }, Hold::NoFrameioUser));
                }
            }
            Want::Remove { frameio_users } => {
                if entry.is_some_and(|e| e.op == Op::Remove) {
                    plan.unchanged += 1;
                    continue;
                }
                removals.push(Planned {
                    effect: Effect::RemoveCollaborator(RemoveCollaborator {
                        wf_project: project.clone(),
                        wf_user: user_id.clone(),
                        email: email.clone(),
                        frameio_project: mirror.frameio_project.clone(),
                        target: mirror.target.clone(),
                        frameio_users,
                    }),
                    reason: format!(
                        "Workfront user {user_id} ({email}) is deactivated and on_deactivate is \"remove\""
                    ),
                });
            }
        }
    }
    let managed = known.managed.values().filter(|m| !m.added.is_empty()).count();
    if trips(removals.len(), managed, policy) {
        let trip = GuardTrip {
            removals: removals.len(),
            managed,
            max_removals: policy.max_removals,
            max_removal_percent: policy.max_removal_percent,
        };
        for mut planned in removals {
            planned.reason = format!(
                "held by the mass-removal guard: {trip}; run `frameio-sync confirm-removals` to carry them out, or `frameio-sync outbox drop ID` to cancel one"
            );
            plan.park.push((planned, Hold::RemovalGuard));
        }
        plan.guard = Some(trip);
    } else {
        plan.enqueue.extend(removals);
    }
    plan
}

/// SPEC §4: more than `max_removals`, or more than `max_removal_percent` of the collaborators
/// this daemon added, in one plan.
pub fn trips(removals: usize, managed: usize, policy: &Policy) -> bool {
    removals > policy.max_removals || removals * 100 > policy.max_removal_percent as usize * managed
}

/// What a pair should become, from the user, the team, what we recorded, and the directory.
fn want(
    user: Option<&WorkfrontUser>,
    on_team: bool,
    managed: Option<&Managed>,
    entry: Option<&Entry>,
    directory: Option<&Directory>,
    policy: &Policy,
) -> Want {
    let Some(user) = user else {
        return Want::Nothing("is not known (yet)");
    };
    // An add whose request may have reached Frame.io may have added them: count it as ours.
    let mut ours: Vec<FrameioUserId> = managed.map(|m| m.added.clone()).unwrap_or_default();
    if let Some(Entry {
        op: Op::Add { frameio_user: Some(id) },
        in_flight: true,
        ..
    }) = entry
    {
        if !ours.contains(id) {
            ours.push(id.clone());
        }
    }
    if !user.is_active {
        return if policy.remove_on_deactivate && !ours.is_empty() {
            Want::Remove { frameio_users: ours }
        } else {
            Want::Nothing("is deactivated")
        };
    }
    if !user.frameio_flag {
        return Want::Nothing("is not flagged for Frame.io");
    }
    if !on_team {
        return Want::Nothing("is not on the project's team");
    }
    let Some(email) = user.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) else {
        return Want::Nothing("has no email address");
    };
    let known_ids: BTreeSet<&FrameioUserId> = managed
        .map(|m| m.added.iter().chain(&m.present).collect())
        .unwrap_or_default();
    match directory.and_then(|d| d.get(&email.to_lowercase())) {
        Some(id) if known_ids.contains(id) => Want::Nothing("is a collaborator already"),
        Some(id) => Want::Add {
            frameio_user: Some(id.clone()),
        },
        // On the mirror already under an earlier email; a new email nobody in the directory has
        // yet is worth looking up again (the Frame.io user may follow), without parking anything.
        None if !known_ids.is_empty() => match managed {
            Some(m) if m.email != email.to_lowercase() => Want::LookAgain,
            _ => Want::Nothing("is a collaborator already"),
        },
        None => Want::Add { frameio_user: None },
    }
}

#[cfg(test)]
mod tests;
