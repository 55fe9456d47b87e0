//! Property tests of the two desired-state diffs over generated worlds: carrying out what a plan
//! asks for, as the store and the worker would, reaches the desired state, and planning again
//! yields nothing new. The exhaustive tables next to each plan pin single pairs; these check
//! whole worlds with many pairs, queued entries and earlier records at once.

use super::collaborator_plan::{self, Entry, Managed, Mirror, Op, Pair, Policy, Status};
use super::mirror_plan::{self, KeyState, Scope};
use super::model::{collaborator_key, Hold, RoleChoice, Target, WorkfrontProject, WorkfrontUser};
use super::routing::Routing;
use crate::effects::{AddCollaborator, CreateMirror, Effect, RemoveCollaborator};
use crate::ids::{
    FrameioAccountId, FrameioProjectId, FrameioUserId, FrameioWorkspaceId, WorkfrontProjectId, WorkfrontUserId,
};
use proptest::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

const PROJECTS: usize = 5;
const USERS: usize = 6;

fn pid(i: usize) -> WorkfrontProjectId {
    WorkfrontProjectId::new(format!("P{i}")).unwrap()
}

fn uid(i: usize) -> WorkfrontUserId {
    WorkfrontUserId::new(format!("U{i}")).unwrap()
}

fn target() -> Target {
    Target {
        account: FrameioAccountId::new("acc").unwrap(),
        workspace: FrameioWorkspaceId::new("ws").unwrap(),
        via: None,
    }
}

/// An email: the user's first one, or the one it was changed to.
fn email(user: usize, changed: bool) -> String {
    match changed {
        false => format!("u{user}@example.test"),
        true => format!("u{user}-new@example.test"),
    }
}

fn fio_user(email: &str) -> FrameioUserId {
    FrameioUserId::new(format!("fio-{}", email.split('@').next().unwrap())).unwrap()
}

#[derive(Debug, Clone)]
struct UserSpec {
    flagged: bool,
    active: bool,
    /// `None`: no email; `Some(changed)`: which of the two.
    email: Option<bool>,
}

#[derive(Debug, Clone)]
struct World {
    users: Vec<UserSpec>,
    /// Per project: mirrored?, and its team (indices into `users`, repeats allowed).
    projects: Vec<(bool, Vec<usize>)>,
    /// Which emails (user, changed) the account's directory lists.
    listed: Vec<(usize, bool)>,
    /// Earlier records: (project, user, added-not-present, under the changed email?).
    managed: Vec<(usize, usize, bool, bool)>,
    /// Queued entries: (project, user, kind) with kind 0 = pending add, 1 = add held for a
    /// directory miss, 2 = pending removal.
    entries: Vec<(usize, usize, u8)>,
    remove_on_deactivate: bool,
}

fn world() -> impl Strategy<Value = World> {
    let user = (
        any::<bool>(),
        any::<bool>(),
        proptest::option::weighted(0.9, any::<bool>()),
    )
        .prop_map(|(flagged, active, email)| UserSpec { flagged, active, email });
    let project = (any::<bool>(), proptest::collection::vec(0..USERS, 0..5));
    (
        proptest::collection::vec(user, USERS),
        proptest::collection::vec(project, PROJECTS),
        proptest::collection::vec((0..USERS, any::<bool>()), 0..10),
        proptest::collection::vec((0..PROJECTS, 0..USERS, any::<bool>(), any::<bool>()), 0..8),
        proptest::collection::vec((0..PROJECTS, 0..USERS, 0u8..3), 0..6),
        any::<bool>(),
    )
        .prop_map(
            |(users, projects, listed, managed, entries, remove_on_deactivate)| World {
                users,
                projects,
                listed,
                managed,
                entries,
                remove_on_deactivate,
            },
        )
}

/// The world as the collaborator plan's inputs: teams and what is known.
fn known(
    w: &World,
) -> (
    BTreeMap<WorkfrontProjectId, Vec<WorkfrontUserId>>,
    collaborator_plan::Known,
) {
    let mut known = collaborator_plan::Known::default();
    let users: HashMap<WorkfrontUserId, WorkfrontUser> = w
        .users
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let user = WorkfrontUser {
                id: uid(i),
                name: format!("User {i}"),
                email: spec.email.map(|changed| email(i, changed)),
                is_active: spec.active,
                frameio_flag: spec.flagged,
                last_update: None,
            };
            (uid(i), user)
        })
        .collect();
    known.users = Arc::new(users);
    for (i, (mirrored, _)) in w.projects.iter().enumerate() {
        if *mirrored {
            known.mirrors.insert(
                pid(i),
                Mirror {
                    frameio_project: FrameioProjectId::new(format!("fio-P{i}")).unwrap(),
                    target: target(),
                },
            );
        }
    }
    let directory = w
        .listed
        .iter()
        .map(|(u, changed)| (email(*u, *changed), fio_user(&email(*u, *changed))))
        .collect();
    known.directories.insert(target().account, directory);
    for (p, u, added, changed) in &w.managed {
        let address = email(*u, *changed);
        let m = known.managed.entry((pid(*p), uid(*u))).or_insert_with(|| Managed {
            email: address.clone(),
            ..Managed::default()
        });
        let f = fio_user(&address);
        if !m.added.contains(&f) && !m.present.contains(&f) {
            match added {
                true => m.added.push(f),
                false => m.present.push(f),
            }
        }
    }
    for (p, u, kind) in &w.entries {
        let address = w.users[*u].email.map(|c| email(*u, c));
        let (op, status) = match (kind, address) {
            (0, Some(address)) => (
                Op::Add {
                    frameio_user: Some(fio_user(&address)),
                },
                Status::Pending,
            ),
            (1, _) | (0, None) => (Op::Add { frameio_user: None }, Status::Held(Hold::NoFrameioUser)),
            _ => (Op::Remove, Status::Pending),
        };
        known.entries.insert(
            (pid(*p), uid(*u)),
            Entry {
                op,
                status,
                in_flight: false,
            },
        );
    }
    let teams = w
        .projects
        .iter()
        .enumerate()
        .map(|(i, (_, team))| (pid(i), team.iter().map(|u| uid(*u)).collect()))
        .collect();
    (teams, known)
}

fn policy(w: &World) -> Policy {
    Policy {
        role: RoleChoice::Fixed(super::model::CollaboratorRole::Editor),
        remove_on_deactivate: w.remove_on_deactivate,
        // The guard is tested on its own; here every removal may go ahead.
        max_removals: usize::MAX,
        max_removal_percent: 100,
    }
}

/// Records a plan and lets the worker carry out every pending entry, as the store and the worker
/// do: an add records the Frame.io user as ours (or as found there, if they were), a removal
/// removes the users we added, a hold parks, a cancel drops the entry.
fn apply(plan: &collaborator_plan::CollaboratorPlan, known: &mut collaborator_plan::Known) {
    let keys: HashMap<String, Pair> = known
        .entries
        .keys()
        .map(|(p, u)| (collaborator_key(p, u), (p.clone(), u.clone())))
        .collect();
    for cancel in &plan.cancel {
        known.entries.remove(&keys[&cancel.key]);
    }
    let pair_of = |effect: &Effect| match effect {
        Effect::AddCollaborator(AddCollaborator {
            wf_project, wf_user, ..
        })
        | Effect::RemoveCollaborator(RemoveCollaborator {
            wf_project, wf_user, ..
        }) => (wf_project.clone(), wf_user.clone()),
        other => panic!("not a collaborator effect: {other:?}"),
    };
    let recorded = plan
        .enqueue
        .iter()
        .map(|planned| (planned, Status::Pending))
        .chain(plan.park.iter().map(|(planned, hold)| (planned, Status::Held(*hold))));
    for (planned, status) in recorded {
        let op = match &planned.effect {
            Effect::AddCollaborator(AddCollaborator { frameio_user, .. }) => Op::Add {
                frameio_user: frameio_user.clone(),
            },
            _ => Op::Remove,
        };
        let entry = Entry {
            op,
            status,
            in_flight: false,
        };
        known.entries.insert(pair_of(&planned.effect), entry);
    }
    // The worker: every pending entry is carried out and leaves the outbox.
    let pending: Vec<(Pair, Op)> = known
        .entries
        .iter()
        .filter(|(_, e)| e.status == Status::Pending)
        .map(|(pair, e)| (pair.clone(), e.op.clone()))
        .collect();
    for (pair, op) in pending {
        known.entries.remove(&pair);
        match op {
            Op::Add { frameio_user: Some(f) } => {
                let address = known.users[&pair.1].email.clone().unwrap_or_default().to_lowercase();
                let m = known.managed.entry(pair).or_default();
                if !m.present.contains(&f) && !m.added.contains(&f) {
                    m.added.push(f);
                }
                m.email = address;
            }
            Op::Add { frameio_user: None } => unreachable!("an add without a Frame.io user is never pending"),
            Op::Remove => {
                if let Some(m) = known.managed.get_mut(&pair) {
                    m.added.clear();
                    if m.present.is_empty() {
                        known.managed.remove(&pair);
                    }
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn collaborators_applying_a_plan_reaches_the_desired_state_and_a_second_plan_is_empty(w in world()) {
        let (teams, mut known) = known(&w);
        let policy = policy(&w);
        let before = known.managed.clone();
        let first = collaborator_plan::plan(&teams, true, &known, &policy);
        apply(&first, &mut known);

        // Desired: each active, flagged team member whose email the directory lists is on the
        // mirror; a deactivated user keeps none of the places we added them (with "remove").
        for (p, team) in &teams {
            if !known.mirrors.contains_key(p) {
                prop_assert!(first.enqueue.iter().chain(first.park.iter().map(|(p, _)| p)).all(|planned| match &planned.effect {
                    Effect::AddCollaborator(AddCollaborator { wf_project, .. }) | Effect::RemoveCollaborator(RemoveCollaborator { wf_project, .. }) => wf_project != p,
                    _ => true,
                }), "nothing is planned for an unmirrored project");
                continue;
            }
            for u in team {
                let user = &known.users[u];
                let Some(address) = user.email.clone() else { continue };
                let listed = known.directories[&target().account].get(&address.to_lowercase()).cloned();
                if let (true, true, Some(f)) = (user.is_active, user.frameio_flag, listed) {
                    let m = known.managed.get(&(p.clone(), u.clone()));
                    prop_assert!(
                        m.is_some_and(|m| m.added.contains(&f) || m.present.contains(&f)),
                        "{u} should be on the mirror of {p}: {m:?}"
                    );
                }
            }
        }
        for ((p, u), m) in &known.managed {
            let user = &known.users[u];
            if !user.is_active && w.remove_on_deactivate && known.mirrors.contains_key(p) {
                prop_assert!(m.added.is_empty(), "{u} is deactivated but still added to {p}");
            }
            // Someone found on the mirror is never removed by us.
            if let Some(earlier) = before.get(&(p.clone(), u.clone())) {
                for f in &earlier.present {
                    prop_assert!(m.present.contains(f), "{f} was found on {p} and must stay recorded");
                }
            }
        }

        // Planning again changes nothing.
        let second = collaborator_plan::plan(&teams, true, &known, &policy);
        prop_assert!(second.enqueue.is_empty(), "second plan enqueues {:?}", second.enqueue);
        prop_assert!(second.cancel.is_empty(), "second plan cancels {:?}", second.cancel);
        prop_assert!(second.park.is_empty(), "second plan parks {:?}", second.park);
    }

    #[test]
    fn mirrors_applying_a_plan_mirrors_every_routable_project_once_and_a_second_plan_is_empty(
        projects in proptest::collection::vec((0..8usize, any::<bool>()), 1..12),
        mirrored in proptest::collection::vec(0..8usize, 0..4),
        queued in proptest::collection::vec((0..8usize, 0u8..4), 0..4),
        routable in any::<bool>(),
    ) {
        let projects: Vec<WorkfrontProject> = projects
            .iter()
            .map(|(i, renamed)| WorkfrontProject {
                id: pid(*i),
                name: if *renamed { format!("Project {i} (renamed)") } else { format!("Project {i}") },
                group_id: None,
                status: None,
                last_update: None,
                team: Vec::new(),
                link: None,
            })
            .collect();
        // The name the plan sees for each project (of rows with one id, the last), which its
        // mirror carries: renames have a property of their own.
        let names: HashMap<WorkfrontProjectId, String> =
            projects.iter().map(|p| (p.id.clone(), p.name.clone())).collect();
        let mirror = |id: &WorkfrontProjectId| mirror_plan::Mirrored {
            target: target(),
            frameio_project: FrameioProjectId::new(format!("f-{id}")).unwrap(),
            name: names.get(id).cloned().unwrap_or_default(),
            url: format!("https://next.frame.io/project/f-{id}"),
            link: None,
        };
        let routing = Routing { default: routable.then(target), ..Routing::default() };
        let mut known = mirror_plan::Known::default();
        for i in &mirrored {
            known.mirrored.insert(pid(*i), mirror(&pid(*i)));
        }
        for (i, state) in &queued {
            let state = match state {
                0 => KeyState::Pending,
                1 => KeyState::Parked { unroutable: true },
                2 => KeyState::Parked { unroutable: false },
                _ => KeyState::Dead,
            };
            known.outbox.insert(format!("create_mirror:{}", pid(*i)), state);
        }
        let first = mirror_plan::plan(&projects, Scope::Full, &known, &routing).unwrap();

        // Record, then let the worker carry out every pending create.
        let mut creates = 0;
        for planned in &first.enqueue {
            known.outbox.insert(planned.effect.key(), KeyState::Pending);
        }
        for planned in &first.park {
            known.outbox.insert(planned.effect.key(), KeyState::Parked { unroutable: true });
        }
        let mut done = Vec::new();
        for (key, state) in &known.outbox {
            if *state == KeyState::Pending && routable {
                done.push(key.clone());
            }
        }
        for key in done {
            known.outbox.remove(&key);
            // The worker completes a create whose project has a mirror already without sending it.
            let id = WorkfrontProjectId::new(key.trim_start_matches("create_mirror:")).unwrap();
            if let std::collections::hash_map::Entry::Vacant(slot) = known.mirrored.entry(id.clone()) {
                slot.insert(mirror(&id));
                creates += 1;
            }
        }
        prop_assert!(creates <= 8);
        // No create was planned for a project that has a mirror.
        for planned in &first.enqueue {
            let Effect::CreateMirror(CreateMirror { wf_project, .. }) = &planned.effect else { unreachable!() };
            prop_assert!(!mirrored.iter().any(|i| pid(*i) == *wf_project), "{wf_project} is mirrored already");
        }

        for p in &projects {
            let key = format!("create_mirror:{}", p.id);
            let held = matches!(known.outbox.get(&key), Some(KeyState::Dead | KeyState::Parked { unroutable: false }));
            if routable && !held {
                prop_assert!(known.mirrored.contains_key(&p.id), "{} has no mirror", p.id);
            }
            if !routable && !known.mirrored.contains_key(&p.id) {
                prop_assert!(known.outbox.contains_key(&key), "{} is neither mirrored nor parked", p.id);
            }
        }
        let second = mirror_plan::plan(&projects, Scope::Full, &known, &routing).unwrap();
        prop_assert!(second.enqueue.is_empty(), "second plan enqueues {:?}", second.enqueue);
        prop_assert!(second.park.is_empty(), "second plan parks {:?}", second.park);
    }
}
