use super::*;
use crate::effects::{AddCollaborator, Effect, RemoveCollaborator};
use crate::ids::FrameioWorkspaceId;

fn p(id: &str) -> WorkfrontProjectId {
    WorkfrontProjectId::new(id).unwrap()
}

fn u(id: &str) -> WorkfrontUserId {
    WorkfrontUserId::new(id).unwrap()
}

fn fu(id: &str) -> FrameioUserId {
    FrameioUserId::new(id).unwrap()
}

fn account() -> FrameioAccountId {
    FrameioAccountId::new("acc").unwrap()
}

fn user(id: &str, flag: bool, active: bool) -> WorkfrontUser {
    WorkfrontUser {
        id: u(id),
        name: id.to_owned(),
        email: Some(format!("{id}@Example.test")),
        is_active: active,
        frameio_flag: flag,
        last_update: None,
    }
}

/// One mirrored project `P1` in account `acc`, the given users, and a directory that knows
/// `fio-<id>` for each id in `listed`.
fn world(users: &[WorkfrontUser], listed: &[&str]) -> Known {
    let mut known = Known::default();
    for project in ["P1", "P2", "P3"] {
        known.mirrors.insert(
            p(project),
            Mirror {
                frameio_project: FrameioProjectId::new(format!("fio-{project}")).unwrap(),
                target: Target {
                    account: account(),
                    workspace: FrameioWorkspaceId::new("ws").unwrap(),
                    via: None,
                },
            },
        );
    }
    for user in users {
        Arc::make_mut(&mut known.users).insert(user.id.clone(), user.clone());
    }
    known.directories.insert(
        account(),
        listed
            .iter()
            .map(|id| (format!("{id}@example.test"), fu(&format!("fio-{id}"))))
            .collect(),
    );
    known
}

fn teams(entries: &[(&str, &[&str])]) -> BTreeMap<WorkfrontProjectId, Vec<WorkfrontUserId>> {
    entries
        .iter()
        .map(|(project, users)| (p(project), users.iter().map(|id| u(id)).collect()))
        .collect()
}

/// The plan's outcome for one pair, in words the table below uses.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Outcome {
    Nothing,
    Add,
    ParkNoUser,
    Remove,
    Cancel,
}

fn outcome(plan: &CollaboratorPlan) -> Outcome {
    let total = plan.enqueue.len() + plan.park.len() + plan.cancel.len();
    assert!(total <= 1, "one pair, at most one change: {plan:?}");
    if !plan.cancel.is_empty() {
        return Outcome::Cancel;
    }
    if let Some((planned, hold)) = plan.park.first() {
        assert_eq!(*hold, Hold::NoFrameioUser);
        assert!(matches!(
            planned.effect,
            Effect::AddCollaborator(AddCollaborator { frameio_user: None, .. })
        ));
        return Outcome::ParkNoUser;
    }
    match plan.enqueue.first().map(|p| &p.effect) {
        None => Outcome::Nothing,
        Some(Effect::AddCollaborator(AddCollaborator { frameio_user, .. })) => {
            assert_eq!(frameio_user.as_ref(), Some(&fu("fio-alice")));
            Outcome::Add
        }
        Some(Effect::RemoveCollaborator(RemoveCollaborator { frameio_users, .. })) => {
            assert_eq!(frameio_users, &[fu("fio-alice")]);
            Outcome::Remove
        }
        Some(other) => panic!("unexpected {other:?}"),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Recorded {
    No,
    AddedByUs,
    FoundThere,
}

/// The rules of F3–F5, written out independently of the code under test.
fn expected(flag: bool, active: bool, on_team: bool, recorded: Recorded, listed: bool, remove: bool) -> Outcome {
    if !active {
        return if remove && recorded == Recorded::AddedByUs {
            Outcome::Remove
        } else {
            Outcome::Nothing
        };
    }
    if !(flag && on_team) || recorded != Recorded::No {
        return Outcome::Nothing;
    }
    if listed {
        Outcome::Add
    } else {
        Outcome::ParkNoUser
    }
}

#[test]
fn every_combination_of_flag_active_team_recorded_and_directory() {
    let mut checked = 0;
    for flag in [false, true] {
        for active in [false, true] {
            for on_team in [false, true] {
                for recorded in [Recorded::No, Recorded::AddedByUs, Recorded::FoundThere] {
                    for listed in [false, true] {
                        for remove in [false, true] {
                            let mut known =
                                world(&[user("alice", flag, active)], if listed { &["alice"] } else { &[] });
                            let managed = match recorded {
                                Recorded::No => None,
                                Recorded::AddedByUs => Some(Managed {
                                    added: vec![fu("fio-alice")],
                                    present: vec![],
                                    email: "alice@example.test".into(),
                                }),
                                Recorded::FoundThere => Some(Managed {
                                    added: vec![],
                                    present: vec![fu("fio-alice")],
                                    email: "alice@example.test".into(),
                                }),
                            };
                            if let Some(m) = managed {
                                known.managed.insert((p("P1"), u("alice")), m);
                            }
                            let team: &[&str] = if on_team { &["alice"] } else { &[] };
                            let policy = Policy {
                                remove_on_deactivate: remove,
                                max_removal_percent: 100,
                                ..Policy::default()
                            };
                            let plan = plan(&teams(&[("P1", team)]), true, &known, &policy);
                            let want = expected(flag, active, on_team, recorded, listed, remove);
                            assert_eq!(
                                outcome(&plan),
                                want,
                                "flag={flag} active={active} on_team={on_team} recorded={recorded:?} listed={listed} remove={remove}"
                            );
                            assert_eq!(plan.misses.contains_key(&account()), want == Outcome::ParkNoUser);
                            checked += 1;
                        }
                    }
                }
            }
        }
    }
    assert_eq!(checked, 96);
}

fn entry(op: Op, status: Status) -> Entry {
    Entry {
        op,
        status,
        in_flight: false,
    }
}

fn add(id: Option<&str>) -> Op {
    Op::Add {
        frameio_user: id.map(fu),
    }
}

fn one_pair(known: &Known) -> CollaboratorPlan {
    plan(&teams(&[("P1", &["alice"])]), true, known, &Policy::default())
}

#[test]
fn a_queued_add_is_not_queued_again() {
    let mut known = world(&[user("alice", true, true)], &["alice"]);
    known
        .entries
        .insert((p("P1"), u("alice")), entry(add(Some("fio-alice")), Status::Pending));
    let plan = one_pair(&known);
    assert_eq!((outcome(&plan), plan.unchanged), (Outcome::Nothing, 1));
}

#[test]
fn a_parked_add_is_resumed_once_the_directory_lists_the_user() {
    let mut known = world(&[user("alice", true, true)], &[]);
    known.entries.insert(
        (p("P1"), u("alice")),
        entry(add(None), Status::Held(Hold::NoFrameioUser)),
    );
    let plan = one_pair(&known);
    assert_eq!(outcome(&plan), Outcome::Nothing, "still unknown: stays parked");
    assert!(plan.misses.contains_key(&account()), "a parked miss asks for a refresh");

    known
        .directories
        .get_mut(&account())
        .unwrap()
        .insert("alice@example.test".into(), fu("fio-alice"));
    assert_eq!(outcome(&one_pair(&known)), Outcome::Add);
}

#[test]
fn a_queued_add_for_a_user_no_longer_wanted_is_cancelled() {
    for (flag, active) in [(false, true), (true, false)] {
        let mut known = world(&[user("alice", flag, active)], &["alice"]);
        known
            .entries
            .insert((p("P1"), u("alice")), entry(add(Some("fio-alice")), Status::Pending));
        let plan = one_pair(&known);
        assert_eq!(outcome(&plan), Outcome::Cancel, "flag={flag} active={active}");
        assert_eq!(plan.cancel[0].key, collaborator_key(&p("P1"), &u("alice")));
    }
}

#[test]
fn a_held_removal_is_cancelled_when_the_user_is_reactivated() {
    let mut known = world(&[user("alice", true, true)], &["alice"]);
    known.managed.insert(
        (p("P1"), u("alice")),
        Managed {
            added: vec![fu("fio-alice")],
            present: vec![],
            email: "alice@example.test".into(),
        },
    );
    known.entries.insert(
        (p("P1"), u("alice")),
        entry(Op::Remove, Status::Held(Hold::RemovalGuard)),
    );
    assert_eq!(outcome(&one_pair(&known)), Outcome::Cancel);
}

#[test]
fn entries_an_admin_must_look_at_are_left_alone() {
    let mut known = world(&[user("alice", false, true)], &["alice"]);
    known
        .entries
        .insert((p("P1"), u("alice")), entry(add(Some("fio-alice")), Status::Other));
    let plan = one_pair(&known);
    assert_eq!((outcome(&plan), plan.unchanged), (Outcome::Nothing, 1));
}

#[test]
fn an_add_that_may_have_happened_is_undone_on_deactivation() {
    let mut known = world(&[user("alice", true, false)], &["alice"]);
    known.entries.insert(
        (p("P1"), u("alice")),
        Entry {
            op: add(Some("fio-alice")),
            status: Status::Pending,
            in_flight: true,
        },
    );
    let policy = Policy {
        max_removal_percent: 100,
        max_removals: 5,
        ..Policy::default()
    };
    // Nothing is recorded as added yet, so the percentage rule sees 0 managed: the guard holds it.
    let plan = plan(&teams(&[("P1", &["alice"])]), true, &known, &policy);
    let (held, hold) = &plan.park[0];
    assert_eq!(*hold, Hold::RemovalGuard);
    assert!(
        matches!(&held.effect, Effect::RemoveCollaborator(RemoveCollaborator { frameio_users, .. }) if frameio_users == &[fu("fio-alice")])
    );
}

#[test]
fn a_changed_email_is_followed_to_its_frameio_user() {
    let mut alice = user("alice", true, true);
    alice.email = Some("alice.new@example.test".into());
    let mut known = world(&[alice], &[]);
    known.managed.insert(
        (p("P1"), u("alice")),
        Managed {
            added: vec![fu("fio-old")],
            present: vec![],
            email: "alice@example.test".into(),
        },
    );
    // The new address has no Frame.io user yet: the old one stays, nothing is parked, but the
    // directory is worth a refresh.
    let plan = one_pair(&known);
    assert_eq!(outcome(&plan), Outcome::Nothing);
    assert!(plan.misses.contains_key(&account()));
    known
        .directories
        .get_mut(&account())
        .unwrap()
        .insert("alice.new@example.test".into(), fu("fio-alice"));
    assert_eq!(outcome(&one_pair(&known)), Outcome::Add);
}

#[test]
fn projects_without_a_mirror_get_no_collaborators_yet() {
    let mut known = world(&[user("alice", true, true)], &["alice"]);
    known.mirrors.remove(&p("P1"));
    assert_eq!(outcome(&one_pair(&known)), Outcome::Nothing);
}

#[test]
fn emails_match_case_insensitively_and_users_without_one_are_skipped() {
    let mut alice = user("alice", true, true);
    alice.email = Some("ALICE@EXAMPLE.TEST".into());
    assert_eq!(outcome(&one_pair(&world(&[alice.clone()], &["alice"]))), Outcome::Add);
    alice.email = Some("  ".into());
    assert_eq!(outcome(&one_pair(&world(&[alice], &["alice"]))), Outcome::Nothing);
}

/// `n` deactivated users, each added by us to P1, plus `others` active ones also added by us.
fn deactivations(n: usize, others: usize) -> (BTreeMap<WorkfrontProjectId, Vec<WorkfrontUserId>>, Known) {
    let mut users = Vec::new();
    for i in 0..n + others {
        users.push(user(&format!("u{i}"), true, i >= n));
    }
    let mut known = world(&users, &[]);
    for user in &users {
        known.managed.insert(
            (p("P1"), user.id.clone()),
            Managed {
                added: vec![fu(&format!("fio-{}", user.id))],
                present: vec![],
                email: format!("{}@example.test", user.id),
            },
        );
    }
    let team = users.iter().map(|u| u.id.clone()).collect();
    (BTreeMap::from([(p("P1"), team)]), known)
}

#[test]
fn the_guard_allows_removals_up_to_its_limits_and_holds_all_beyond() {
    let policy = Policy {
        max_removals: 25,
        max_removal_percent: 10,
        ..Policy::default()
    };
    // 25 of 250: at both limits, not over either.
    let (teams, known) = deactivations(25, 225);
    let plan = plan(&teams, true, &known, &policy);
    assert_eq!((plan.enqueue.len(), plan.park.len(), plan.guard), (25, 0, None));

    // 26 of 300: over the count.
    let (teams, known) = deactivations(26, 274);
    let plan = super::plan(&teams, true, &known, &policy);
    assert!(plan.enqueue.is_empty(), "none removed");
    assert_eq!(plan.park.len(), 26);
    assert!(plan.park.iter().all(|(_, hold)| *hold == Hold::RemovalGuard));
    assert!(plan.park[0].0.reason.contains("confirm-removals"));
    assert_eq!(
        plan.guard,
        Some(GuardTrip {
            removals: 26,
            managed: 300,
            max_removals: 25,
            max_removal_percent: 10
        })
    );

    // 3 of 20: over 10 %.
    let (teams, known) = deactivations(3, 17);
    let plan = super::plan(&teams, true, &known, &policy);
    assert_eq!((plan.enqueue.len(), plan.park.len()), (0, 3));
    // 2 of 20 is exactly 10 %: allowed.
    let (teams, known) = deactivations(2, 18);
    assert_eq!(super::plan(&teams, true, &known, &policy).enqueue.len(), 2);
}

#[test]
fn removals_already_queued_or_held_are_not_counted_again() {
    let policy = Policy {
        max_removals: 1,
        max_removal_percent: 100,
        ..Policy::default()
    };
    let (teams, mut known) = deactivations(3, 0);
    for i in 0..3 {
        known.entries.insert(
            (p("P1"), u(&format!("u{i}"))),
            entry(Op::Remove, Status::Held(Hold::RemovalGuard)),
        );
    }
    let plan = plan(&teams, true, &known, &policy);
    assert_eq!((plan.unchanged, plan.guard), (3, None));
}

#[test]
fn a_partial_plan_looks_only_at_its_projects() {
    let mut known = world(&[user("alice", true, false)], &["alice"]);
    known.managed.insert(
        (p("P2"), u("alice")),
        Managed {
            added: vec![fu("fio-alice")],
            present: vec![],
            email: "alice@example.test".into(),
        },
    );
    let policy = Policy {
        max_removal_percent: 100,
        ..Policy::default()
    };
    let only_p1 = teams(&[("P1", &[])]);
    assert!(plan(&only_p1, false, &known, &policy).enqueue.is_empty());
    assert_eq!(plan(&only_p1, true, &known, &policy).enqueue.len(), 1);
}

#[test]
fn keep_on_deactivate_removes_no_one() {
    let (teams, known) = deactivations(3, 0);
    let policy = Policy {
        remove_on_deactivate: false,
        ..Policy::default()
    };
    let plan = plan(&teams, true, &known, &policy);
    assert!(plan.enqueue.is_empty() && plan.park.is_empty() && plan.guard.is_none());
}
