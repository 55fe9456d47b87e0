//! Collaborators end to end on the sandbox (F3–F5): who is added, unflagging keeps, deactivation
//! removes only whom we added, the mass-removal guard, changes picked up by polls, pacing.

use crate::cli::cli;
use crate::helpers::{wait_until, TestApp};
use frameio_sync::core::mirror_plan::Scope;
use frameio_sync::core::model::RoleChoice;
use frameio_sync::ids::WorkfrontProjectId;
use frameio_sync::status;
use frameio_sync::store::EntryState;
use frameio_sync_sandbox::{Limits, World};
use std::collections::BTreeMap;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

/// The sandbox's Workfront project ids, in order.
pub(crate) fn project_ids(app: &TestApp) -> Vec<String> {
    app.sandbox
        .world()
        .workfront
        .projects
        .iter()
        .map(|p| p.id.clone())
        .collect()
}

fn account(app: &TestApp) -> String {
    app.sandbox.world().default_target().0.to_owned()
}

fn email(user: &str) -> String {
    format!("{user}@example.test")
}

/// A Workfront user, and (unless `in_frameio` is false) a Frame.io user `fio-<name>` with the
/// same email in the default account.
pub(crate) fn person(app: &TestApp, name: &str, flagged: bool, active: bool, in_frameio: bool) {
    app.sandbox.upsert_workfront_user(name, &email(name), flagged, active);
    if in_frameio {
        app.sandbox
            .add_frameio_account_user(&account(app), &format!("fio-{name}"), &email(name));
    }
}

/// The Frame.io users (without the `fio-` prefix) and roles on the mirror of `wf_project`.
fn collaborators(app: &TestApp, wf_project: &str) -> BTreeMap<String, String> {
    let Some(mirror) = app
        .store()
        .mirror(&WorkfrontProjectId::new(wf_project).unwrap())
        .unwrap()
    else {
        return BTreeMap::new();
    };
    app.sandbox
        .frameio_project_users(mirror.frameio_project.as_str())
        .into_iter()
        .map(|(id, role)| (id.trim_start_matches("fio-").to_owned(), role))
        .collect()
}

pub(crate) fn names(app: &TestApp, wf_project: &str) -> Vec<String> {
    collaborators(app, wf_project).into_keys().collect()
}

pub(crate) async fn wait_for_names(app: &TestApp, wf_project: &str, expected: &[&str]) {
    wait_until(&format!("{expected:?} on the mirror of {wf_project}"), WAIT, || {
        names(app, wf_project) == expected
    })
    .await;
}

/// Prepares a sandbox with `n` projects, collaborator settings suited to small worlds (every
/// removal allowed by the percentage rule, directories refreshed quickly), without starting.
async fn prepare(n: usize, limits: Limits) -> TestApp {
    let mut app = TestApp::prepare(World::generated(n), limits).await;
    app.settings.collaborators.policy.max_removal_percent = 100;
    app.settings.collaborators.directory_refresh = Duration::from_millis(200);
    app.settings.collaborators.missing_user_recheck = Duration::from_millis(200);
    app
}

#[tokio::test]
async fn flagged_active_team_members_with_a_frameio_user_become_editors_and_the_rest_do_not() {
    let mut app = prepare(3, Limits::unlimited()).await;
    let p = project_ids(&app);
    person(&app, "alice", true, true, true);
    person(&app, "bob", false, true, true); // not flagged
    person(&app, "carol", true, false, true); // deactivated
    person(&app, "dave", true, true, true); // on no team
    person(&app, "erin", true, true, false); // no Frame.io user in the account
    app.sandbox.set_team(&p[0], &["alice", "bob", "carol"]);
    app.sandbox.set_team(&p[1], &["alice", "erin"]);
    app.sandbox.set_team(&p[2], &["bob"]);
    app.start();
    app.wait_for_mirrors(3).await;
    wait_for_names(&app, &p[0], &["alice"]).await;
    wait_for_names(&app, &p[1], &["alice"]).await;
    assert_eq!(collaborators(&app, &p[0])["alice"], "editor");
    assert!(names(&app, &p[2]).is_empty());

    // Erin is parked with a reason that names her and the account, and `status` lists her.
    let store = app.store().clone();
    wait_until("erin parked", WAIT, || {
        store.outbox_entries().unwrap().iter().any(|e| {
            matches!(&e.state, EntryState::Parked { reason, .. } if reason.contains("no Frame.io user for erin@example.test"))
        })
    })
    .await;
    // Frame.io has Alice on both mirrors before the worker records the second add: wait for it.
    wait_until("both of alice's adds recorded", WAIT, || {
        store.managed_collaborator_count().unwrap() == 2
    })
    .await;
    let report = status::gather(app.store(), true).unwrap();
    assert!(report
        .attention
        .iter()
        .any(|e| e.reason.contains("erin@example.test") && e.reason.contains(&account(&app))));
    assert_eq!(report.collaborators, 2);

    // Once she is in the account's directory, a later refresh finds her and she is added.
    app.sandbox
        .add_frameio_account_user(&account(&app), "fio-erin", &email("erin"));
    wait_for_names(&app, &p[1], &["alice", "erin"]).await;
    let sync = app.resync_and_wait().await;
    assert_eq!((sync.enqueued, sync.parked), (0, 0), "a converged world plans nothing");
    assert_eq!(app.sandbox.counts().frameio_user_patches, 3);
}

#[tokio::test]
async fn unflagging_keeps_and_deactivation_removes_only_whom_we_added_and_reactivation_re_adds() {
    let mut app = prepare(1, Limits::unlimited()).await;
    let p = project_ids(&app);
    person(&app, "alice", true, true, true);
    person(&app, "bob", true, true, true);
    person(&app, "frank", true, true, true);
    app.sandbox.set_team(&p[0], &["alice", "bob"]);
    app.start();
    wait_for_names(&app, &p[0], &["alice", "bob"]).await;

    // Someone put Frank (a flagged user) and Zed (no Workfront user) on the mirror by hand.
    let mirror = app
        .store()
        .mirror(&WorkfrontProjectId::new(&p[0]).unwrap())
        .unwrap()
        .unwrap()
        .frameio_project;
    app.sandbox
        .put_frameio_project_user(mirror.as_str(), "fio-frank", "full_access");
    app.sandbox
        .put_frameio_project_user(mirror.as_str(), "fio-zed", "viewer");
    // Frank joins the team: he is there already, so nothing is sent and his role stays.
    app.sandbox.set_team(&p[0], &["alice", "bob", "frank"]);
    let store = app.store().clone();
    wait_until("frank recorded as found there", WAIT, || {
        store
            .collaborators()
            .unwrap()
            .iter()
            .any(|r| r.wf_user.as_str() == "frank" && !r.present.is_empty())
    })
    .await;
    assert_eq!(collaborators(&app, &p[0])["frank"], "full_access");

    // F4: clearing Bob's flag keeps him.
    app.sandbox
        .update_workfront_users(&["bob"], |u| u["DE:Add to projects in Frame.io"] = "No".into());
    // F5: deactivating Alice and Frank removes Alice (ours), not Frank (not ours), nor Zed.
    app.sandbox
        .update_workfront_users(&["alice", "frank"], |u| u["isActive"] = false.into());
    wait_for_names(&app, &p[0], &["bob", "frank", "zed"]).await;
    let sync = app.resync_and_wait().await;
    assert_eq!((sync.enqueued, sync.parked), (0, 0));
    assert_eq!(
        names(&app, &p[0]),
        ["bob", "frank", "zed"],
        "unflag keeps, not-ours stay"
    );
    assert_eq!(app.sandbox.counts().frameio_user_deletes, 1);

    // Reactivation re-adds Alice.
    app.sandbox
        .update_workfront_users(&["alice"], |u| u["isActive"] = true.into());
    wait_for_names(&app, &p[0], &["alice", "bob", "frank", "zed"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guard_holds_a_mass_removal_until_an_admin_confirms_it() {
    let mut app = prepare(2, Limits::unlimited()).await;
    app.settings.collaborators.policy.max_removals = 2;
    let p = project_ids(&app);
    for user in ["u1", "u2", "u3"] {
        person(&app, user, true, true, true);
    }
    app.sandbox.set_team(&p[0], &["u1", "u2", "u3"]);
    app.sandbox.set_team(&p[1], &["u1"]);
    app.start();
    wait_for_names(&app, &p[0], &["u1", "u2", "u3"]).await;
    wait_for_names(&app, &p[1], &["u1"]).await;

    // Three users deactivated at once: four removals, over the limit of two.
    app.sandbox
        .update_workfront_users(&["u1", "u2", "u3"], |u| u["isActive"] = false.into());
    let store = app.store().clone();
    wait_until("the guard to trip", WAIT, || {
        store.last_sync().unwrap().is_some_and(|s| s.removal_guard.is_some())
    })
    .await;
    let trip = app.store().last_sync().unwrap().unwrap().removal_guard.unwrap();
    assert_eq!((trip.removals, trip.managed, trip.max_removals), (4, 4, 2));
    // Nothing was removed, and stays so over more polls.
    let seq = app.store().last_sync().unwrap().unwrap().seq;
    wait_until("two more polls", WAIT, || {
        store.last_sync().unwrap().is_some_and(|s| s.seq >= seq + 2)
    })
    .await;
    assert_eq!(names(&app, &p[0]), ["u1", "u2", "u3"]);
    assert_eq!(app.sandbox.counts().frameio_user_deletes, 0);
    let report = status::gather(app.store(), true).unwrap();
    assert!(
        report.render_text().contains("REMOVAL GUARD"),
        "{}",
        report.render_text()
    );
    assert_eq!(report.outbox.parked, 4);

    // The admin confirms through the running daemon's control socket (the CLI blocks, so it
    // runs off the runtime that serves the socket).
    let config = app.config_path.clone();
    let out = tokio::task::spawn_blocking(move || cli(&config, &["confirm-removals"]))
        .await
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("released 4 held removals"));
    wait_for_names(&app, &p[0], &[]).await;
    wait_for_names(&app, &p[1], &[]).await;
    // Frame.io is empty before the worker records the last removal: wait for the records too.
    let store = app.store().clone();
    wait_until("no collaborator records left", WAIT, || {
        store.collaborators().unwrap().is_empty()
    })
    .await;
}

#[tokio::test]
async fn a_flag_flip_a_team_change_and_an_email_change_are_picked_up_by_the_next_poll() {
    let mut app = prepare(2, Limits::unlimited()).await;
    let p = project_ids(&app);
    person(&app, "alice", true, true, true);
    person(&app, "bob", false, true, true);
    app.sandbox.set_team(&p[0], &["alice", "bob"]);
    app.start();
    wait_for_names(&app, &p[0], &["alice"]).await;

    app.sandbox
        .update_workfront_users(&["bob"], |u| u["DE:Add to projects in Frame.io"] = "Yes".into());
    wait_for_names(&app, &p[0], &["alice", "bob"]).await;
    app.sandbox.set_team(&p[1], &["alice"]);
    wait_for_names(&app, &p[1], &["alice"]).await;
    assert_eq!(
        app.store().last_sync().unwrap().unwrap().scope,
        Scope::Incremental,
        "no full resync was needed"
    );

    // Alice's email changes to one that belongs to another Frame.io user: that one is added.
    app.sandbox
        .add_frameio_account_user(&account(&app), "fio-alice2", "alice.new@example.test");
    app.sandbox
        .update_workfront_users(&["alice"], |u| u["emailAddr"] = "alice.new@example.test".into());
    wait_for_names(&app, &p[0], &["alice", "alice2", "bob"]).await;
}

#[tokio::test]
async fn collaborator_adds_are_paced_without_a_single_429_and_the_backlog_shows_in_status() {
    // 10 PATCHes a second per token (Frame.io's 10 a minute, sped up 60 times).
    let mut app = prepare(3, Limits::fast()).await;
    let p = project_ids(&app);
    let users: Vec<String> = (0..10).map(|i| format!("user{i}")).collect();
    for user in &users {
        person(&app, user, true, true, true);
    }
    let team: Vec<&str> = users.iter().map(String::as_str).collect();
    for project in &p {
        app.sandbox.set_team(project, &team);
    }
    app.start();
    let store = app.store().clone();
    wait_until("a backlog in status", WAIT, || {
        status::gather(&store, true).unwrap().collaborator_backlog > 0
    })
    .await;
    wait_until("30 collaborators", WAIT, || {
        store.managed_collaborator_count().unwrap() == 30
    })
    .await;
    let counts = app.sandbox.counts();
    println!(
        "30 adds: {} PATCHes, {} Frame.io requests, {} refused with 429",
        counts.frameio_user_patches, counts.frameio_requests, counts.frameio_rate_limited
    );
    assert_eq!(counts.frameio_user_patches, 30);
    assert_eq!(counts.frameio_rate_limited, 0, "paced, never bursting into 429s");
    for project in &p {
        assert_eq!(names(&app, project).len(), 10);
    }
}

#[tokio::test]
async fn with_roles_from_access_contribute_makes_an_editor_view_a_commenter_and_no_access_no_add() {
    let mut app = prepare(1, Limits::unlimited()).await;
    app.settings.collaborators.policy.role = RoleChoice::FromAccess;
    let p = project_ids(&app);
    app.sandbox.add_access_level("lvl-standard", "Standard");
    app.sandbox.add_access_level("lvl-light", "Light");
    for (user, level) in [
        ("alice", "lvl-standard"),
        ("bob", "lvl-standard"),
        ("carol", "lvl-light"),
        ("dan", "lvl-standard"),
    ] {
        person(&app, user, true, true, true);
        app.sandbox
            .update_workfront_users(&[user], |u| u["accessLevelID"] = level.into());
    }
    app.sandbox.share_project(&p[0], "alice", "LIMITED_EDIT"); // Contribute
    app.sandbox.share_project(&p[0], "bob", "VIEW");
    app.sandbox.share_project(&p[0], "carol", "EDIT"); // Manage, but Light only views projects
    app.sandbox.set_team(&p[0], &["alice", "bob", "carol", "dan"]);
    app.start();
    wait_for_names(&app, &p[0], &["alice", "bob", "carol"]).await;
    let roles = collaborators(&app, &p[0]);
    assert_eq!(
        (roles["alice"].as_str(), roles["bob"].as_str(), roles["carol"].as_str()),
        ("editor", "commenter", "commenter")
    );
    // Dan has no share at all: parked with the access rules' explanation, not added.
    let store = app.store().clone();
    wait_until("dan parked", WAIT, || {
        store.outbox_entries().unwrap().iter().any(|e| {
            matches!(&e.state, EntryState::Parked { reason, .. }
                if reason.contains("dan@example.test") && reason.contains("do not let"))
        })
    })
    .await;
    assert!(!names(&app, &p[0]).contains(&"dan".to_owned()));
}

/// A user parked because Frame.io has no one with their email is looked up again after
/// `missing_user_recheck` (a minute), not `directory_refresh` (ten), and at once on a full
/// resync (SIGHUP): on the engine's clock, without waiting.
#[tokio::test]
async fn a_missing_user_is_looked_up_again_within_a_minute_and_at_once_on_a_resync() {
    use frameio_sync::clock::Clock;
    use frameio_sync::engine::{Engine, WorkOutcome};
    use frameio_sync::ids::FrameioAccountId;
    use frameio_sync::timestamp::Timestamp;
    let mut app = TestApp::prepare(World::generated(2), Limits::unlimited()).await;
    assert_eq!(app.settings.collaborators.missing_user_recheck, Duration::from_secs(60));
    let p = project_ids(&app);
    person(&app, "erin", true, true, false);
    person(&app, "frank", true, true, false);
    app.sandbox.set_team(&p[0], &["erin"]);
    app.sandbox.set_team(&p[1], &["frank"]);
    let store = app.open_store();
    let clock = Clock::manual(Timestamp::now());
    let engine = Engine::new(&app.settings, store.clone())
        .unwrap()
        .with_clock(clock.clone());
    let work_all = || async { while engine.work_once().await.unwrap() == WorkOutcome::Worked {} };
    let fetched_at = || {
        store
            .directory(&FrameioAccountId::new(account(&app)).unwrap())
            .unwrap()
            .map(|d| d.fetched_at)
    };
    let parked = || {
        store
            .outbox_entries()
            .unwrap()
            .iter()
            .filter(|e| matches!(&e.state, EntryState::Parked { reason, .. } if reason.contains("no Frame.io user")))
            .count()
    };
    engine.sync_once(Scope::Full).await.unwrap();
    work_all().await;
    engine.sync_once(Scope::Incremental).await.unwrap();
    assert_eq!(parked(), 2, "erin and frank wait for a Frame.io user");
    let first_read = fetched_at().expect("the directory was read");

    // Erin is invited. Half a minute on: not read again yet.
    app.sandbox
        .add_frameio_account_user(&account(&app), "fio-erin", &email("erin"));
    clock.advance(Duration::from_secs(30));
    engine.sync_once(Scope::Incremental).await.unwrap();
    assert_eq!(fetched_at(), Some(first_read));
    assert_eq!(parked(), 2);
    // A minute on: read again, erin is found and added.
    clock.advance(Duration::from_secs(31));
    engine.sync_once(Scope::Incremental).await.unwrap();
    assert!(fetched_at() > Some(first_read));
    work_all().await;
    assert_eq!(names(&app, &p[0]), ["erin"]);
    assert_eq!(parked(), 1);

    // Frank is invited; a resync (SIGHUP) reads the directory again at once.
    app.sandbox
        .add_frameio_account_user(&account(&app), "fio-frank", &email("frank"));
    let second_read = fetched_at();
    clock.advance(Duration::from_secs(1));
    engine.sync_once(Scope::Full).await.unwrap();
    assert!(fetched_at() > second_read, "read again at once");
    work_all().await;
    assert_eq!(names(&app, &p[1]), ["frank"]);
    assert_eq!(parked(), 0);
}
