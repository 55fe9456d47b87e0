//! F1 and F9 end to end: the daemon, in-process, against the sandbox.

use crate::helpers::{init_logs, wait_until, TestApp};
use frameio_sync::config;
use frameio_sync::core::mirror_plan::Scope;
use frameio_sync::engine::{Engine, WorkOutcome};
use frameio_sync::store::{EntryState, MirrorOrigin, Store};
use frameio_sync_sandbox::{Faults, Limits, Sandbox, World};
use std::collections::HashSet;
use std::time::Duration;

/// Every Workfront project has exactly one mirror, and the sandbox holds nothing else.
fn assert_exactly_one_mirror_each(app: &TestApp, expected: usize) {
    let mirrors = app.store().mirrors().unwrap();
    assert_eq!(mirrors.len(), expected);
    let in_frameio = app.sandbox.frameio_projects();
    assert_eq!(
        in_frameio.len(),
        expected,
        "Frame.io holds a duplicate or misses a project"
    );
    let names: HashSet<&str> = in_frameio.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names.len(), expected, "two Frame.io projects share a name");
    let frameio_ids: HashSet<&str> = in_frameio.iter().map(|p| p.id.as_str()).collect();
    for m in &mirrors {
        assert!(
            frameio_ids.contains(m.frameio_project.as_str()),
            "mirror {} points nowhere",
            m.wf_project
        );
    }
}

#[tokio::test]
async fn fifty_projects_get_fifty_mirrors_and_neither_a_resync_nor_a_restart_creates_more() {
    let mut app = TestApp::spawn(World::generated(50), Limits::unlimited()).await;
    app.wait_for_mirrors(50).await;
    assert_exactly_one_mirror_each(&app, 50);
    let creates = app.sandbox.counts().frameio_creates;
    assert_eq!(creates, 50);

    let before = app.sandbox.counts();
    let resync = app.resync_and_wait().await;
    let after = app.sandbox.counts();
    assert_eq!(
        (resync.projects_seen, resync.enqueued, resync.error.as_deref()),
        (50, 0, None)
    );
    assert_eq!(
        after.workfront_requests - before.workfront_requests,
        4,
        "one page each of up to 2000 projects (with their teams), groups and users, and of the open tasks (the review form's)"
    );
    assert_eq!(
        after.frameio_requests, before.frameio_requests,
        "a no-change resync writes nothing to Frame.io"
    );

    app.restart().await;
    let after_restart = app.resync_and_wait().await;
    assert_eq!(after_restart.enqueued, 0);
    assert_eq!(app.sandbox.counts().frameio_creates, 50);
    assert_exactly_one_mirror_each(&app, 50);
    app.stop().await;
}

#[tokio::test]
async fn creates_whose_answer_was_lost_are_adopted_not_sent_again() {
    let app = TestApp::spawn(World::generated(20), Limits::unlimited()).await;
    app.sandbox.set_faults(Faults {
        ambiguous_creates: 5,
        ..Faults::default()
    });
    app.wait_for_mirrors(20).await;
    assert_exactly_one_mirror_each(&app, 20);
    let adopted = app
        .store()
        .mirrors()
        .unwrap()
        .iter()
        .filter(|m| m.origin == MirrorOrigin::AdoptedAfterUnknownOutcome)
        .count();
    assert_eq!(adopted, 5);
    assert_eq!(app.sandbox.counts().frameio_creates, 20);
}

#[tokio::test]
async fn frameio_outages_are_retried_until_they_pass() {
    let app = TestApp::spawn(World::generated(3), Limits::unlimited()).await;
    // Set before the first create can go out: the sync runs first, and the world is small.
    app.sandbox.set_faults(Faults {
        frameio_unavailable: 2,
        ..Faults::default()
    });
    app.wait_for_mirrors(3).await;
    assert_exactly_one_mirror_each(&app, 3);
}

#[tokio::test]
async fn a_workfront_outage_during_a_sync_is_retried() {
    let app = TestApp::spawn(World::generated(0), Limits::unlimited()).await;
    app.sandbox.set_faults(Faults {
        workfront_errors: 2,
        ..Faults::default()
    });
    app.sandbox
        .upsert_workfront_project("5d00000000000000000000000000new1", "Arrives during an outage");
    app.wait_for_mirrors(1).await;
}

#[tokio::test]
async fn a_new_project_is_mirrored_by_the_next_poll_without_a_resync() {
    let app = TestApp::spawn(World::generated(2), Limits::unlimited()).await;
    app.wait_for_mirrors(2).await;
    let store = app.store().clone();
    wait_until("a cursor", Duration::from_secs(10), || {
        store.cursor().unwrap().is_some()
    })
    .await;
    app.sandbox
        .upsert_workfront_project("5d00000000000000000000000000new1", "Late arrival");
    app.wait_for_mirrors(3).await;
    let last = app.store().last_sync().unwrap().unwrap();
    assert_eq!(last.scope, Scope::Incremental);
    assert_exactly_one_mirror_each(&app, 3);
}

#[tokio::test]
async fn a_deleted_workfront_project_keeps_its_mirror_and_is_reported() {
    let app = TestApp::spawn(World::generated(3), Limits::unlimited()).await;
    app.wait_for_mirrors(3).await;
    let gone = app.store().mirrors().unwrap()[0].wf_project.clone();
    app.sandbox.delete_workfront_project(gone.as_str());
    let record = app.resync_and_wait().await;
    assert_eq!((record.gone, record.projects_seen), (1, 2));
    assert_eq!(
        app.sandbox.frameio_projects().len(),
        3,
        "never delete a Frame.io project"
    );
    assert!(app.store().mirror(&gone).unwrap().is_some());
}

#[tokio::test]
async fn an_empty_answer_while_holding_mirrors_aborts_the_sync() {
    let app = TestApp::spawn(World::generated(3), Limits::unlimited()).await;
    app.wait_for_mirrors(3).await;
    for m in app.store().mirrors().unwrap() {
        app.sandbox.delete_workfront_project(m.wf_project.as_str());
    }
    let record = app.resync_and_wait().await;
    let error = record.error.expect("the sync is recorded as failed");
    assert!(error.contains("no projects while 3 are mirrored"), "{error}");
    assert_eq!(app.store().mirror_count(), 3);
}

#[tokio::test]
async fn creates_are_paced_by_the_rate_limit_headers() {
    let app = TestApp::spawn(World::generated(35), Limits::fast()).await;
    app.wait_for_mirrors(35).await;
    let counts = app.sandbox.counts();
    assert_exactly_one_mirror_each(&app, 35);
    // 35 creates against 10 per second: pacing, not refusals, should have spaced them.
    assert!(counts.frameio_rate_limited <= 1, "{counts:?}");
}

#[tokio::test]
async fn without_an_account_projects_are_parked_with_their_reason_and_nothing_is_sent() {
    init_logs();
    let sandbox = Sandbox::start(World::generated(2), Limits::unlimited()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("key"), &sandbox.world().workfront.api_key).unwrap();
    let text = format!(
        "[workfront]\nbase_url = \"{}\"\napi_key_file = \"key\"\n[frameio]\nbase_url = \"{}\"\n[state]\ndir = \"state\"\n",
        sandbox.workfront_url, sandbox.frameio_url
    );
    let settings = config::parse(&dir.path().join("config.toml"), &text).unwrap();
    let store = Store::open(&settings.state.dir).unwrap();
    let engine = Engine::new(&settings, store.clone()).unwrap();

    let record = engine.sync_once(Scope::Full).await.unwrap();
    assert_eq!((record.enqueued, record.parked), (0, 2));
    assert!(matches!(
        engine.work_once().await.unwrap(),
        WorkOutcome::Idle { next_due: None }
    ));
    let entries = store.outbox_entries().unwrap();
    assert!(entries.iter().all(
        |e| matches!(&e.state, EntryState::Parked { reason, .. } if reason.contains("no Frame.io account for group"))
    ));
    assert_eq!(sandbox.counts().frameio_requests, 0);
    // A second sync does not park them twice.
    assert_eq!(engine.sync_once(Scope::Full).await.unwrap().parked, 0);
    assert_eq!(store.outbox_entries().unwrap().len(), 2);
}

/// Fresh work first: a project created in Workfront while the first sync's backlog drains (30
/// creates at 2 a second, 15 s) is mirrored by the next poll within seconds, not after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_project_goes_ahead_of_the_start_up_backlog() {
    let app = TestApp::spawn(World::generated(30), Limits::creates_per_second(2)).await;
    let store = app.store().clone();
    wait_until("the first sync", Duration::from_secs(30), || {
        store.last_sync().unwrap().is_some()
    })
    .await;
    app.sandbox
        .upsert_workfront_project("5c0000000000000000000000000fresh", "Fresh project");
    let sandbox = &app.sandbox;
    wait_until("the fresh project's mirror", Duration::from_secs(8), || {
        sandbox.frameio_projects().iter().any(|p| p.name == "Fresh project")
    })
    .await;
    let backlog_done = app.sandbox.frameio_projects().len() - 1;
    assert!(
        backlog_done < 20,
        "it waited behind the backlog ({backlog_done} of 30 done first)"
    );
    app.wait_for_mirrors(31).await;
}

/// A failed create is tried again on the retry schedule, read from the engine's clock: not
/// before its due time, and at once after it, with no real waiting.
#[tokio::test]
async fn a_failed_create_is_retried_when_its_due_time_comes_on_the_engines_clock() {
    use frameio_sync::clock::Clock;
    use frameio_sync::timestamp::Timestamp;
    let sandbox = Sandbox::start(World::generated(1), Limits::unlimited()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = frameio_sync::demo::write_sandbox_config(dir.path(), &sandbox, "1h").unwrap();
    let settings = config::load(&config).unwrap();
    let store = Store::open(&settings.state.dir).unwrap();
    let clock = Clock::manual(Timestamp::now());
    let engine = Engine::new(&settings, store.clone()).unwrap().with_clock(clock.clone());
    // The plan lists the workspace (once per process, as the worker would before its first
    // create), so the fault below hits the create itself.
    let plan = engine.dry_run().await.unwrap();
    assert!(plan.enqueue.len() == 1 && plan.enqueue[0].adopt.is_none(), "{plan:?}");
    engine.sync_once(Scope::Full).await.unwrap();
    assert_eq!(store.outbox_counts().unwrap().pending, 1);

    sandbox.set_faults(Faults {
        frameio_unavailable: 1,
        ..Faults::default()
    });
    assert_eq!(engine.work_once().await.unwrap(), WorkOutcome::Worked);
    let entry = store.outbox_entries().unwrap().remove(0);
    assert_eq!(entry.attempts, 1, "{entry:?}");
    let due = entry.next_attempt_at;
    assert!(due > clock.now(), "rescheduled into the future: {entry:?}");

    // Not due yet: the worker says when it will be.
    assert_eq!(
        engine.work_once().await.unwrap(),
        WorkOutcome::Idle { next_due: Some(due) }
    );
    assert!(store.mirrors().unwrap().is_empty());

    clock.advance(clock.now().until(due));
    assert_eq!(engine.work_once().await.unwrap(), WorkOutcome::Worked);
    assert_eq!(store.mirrors().unwrap().len(), 1);
    assert_eq!(sandbox.frameio_projects().len(), 1);
}
