//! Hostile and broken conditions around the daemon: a wedged daemon behind the control socket,
//! a daemon out of file descriptors, secret files that are not plain secrets.

use crate::cli::{cli, Daemon};
use crate::helpers::eventually;
use frameio_sync::control::{self, Request};
use frameio_sync::demo::write_sandbox_config;
use frameio_sync_sandbox::{Limits, Sandbox, World};
use std::time::{Duration, Instant};

#[tokio::test]
async fn a_wedged_daemon_gives_the_cli_a_clear_error_instead_of_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    // Something accepts on the control socket and never answers.
    let listener = tokio::net::UnixListener::bind(control::socket_path(dir.path())).unwrap();
    let _held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            open.push(stream);
        }
    });
    let started = Instant::now();
    let err = control::request_within(dir.path(), &Request::Status, Duration::from_millis(300))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("the daemon did not answer within 0.3 s"), "{err}");
    assert!(err.contains("control.sock"), "names the socket: {err}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// Only the daemon's own soft file-descriptor limit is changed (through `prlimit`, util-linux);
/// the hard one stays, so it can be raised again without CAP_SYS_RESOURCE.
fn limit_open_files(pid: u32, limit: u64) {
    let status = std::process::Command::new("prlimit")
        .arg(format!("--pid={pid}"))
        .arg(format!("--nofile={limit}:"))
        .status()
        .unwrap();
    assert!(status.success());
}

fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    // utime and stime are fields 14 and 15 of stat(5); 12 and 13 after the name.
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_file_descriptors_the_control_socket_pauses_instead_of_spinning() {
    let sandbox = Sandbox::start(World::generated(2), Limits::unlimited()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = write_sandbox_config(dir.path(), &sandbox, "1h").unwrap();
    let daemon = Daemon::start(&config, "info", &[]);
    let state = dir.path().join("state");
    assert!(
        eventually(Duration::from_secs(30), || cli(&config, &["status", "--json"])
            .status
            .success())
        .await,
        "the daemon answers"
    );
    let pid = daemon.pid();
    // RLIMIT_NOFILE bounds descriptor numbers: four above the highest in use now.
    let highest = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u64>().ok())
        .max()
        .unwrap();
    limit_open_files(pid, highest + 5);
    // Fill the table: connections the daemon accepts until accept fails with EMFILE.
    let mut held = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    let met_emfile = loop {
        if daemon.log().contains("control socket accept failed") {
            break true;
        }
        if Instant::now() > deadline {
            break false;
        }
        // A connect the daemon cannot accept waits in the kernel's queue, or fails once the queue
        // is full: either way keep knocking until the daemon reports the failed accept.
        let connect = tokio::net::UnixStream::connect(control::socket_path(&state));
        match tokio::time::timeout(Duration::from_millis(50), connect).await {
            Ok(Ok(stream)) => held.push(stream),
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    };
    assert!(met_emfile, "the accept loop met EMFILE:\n{}", daemon.log());
    // Give the accept loop two seconds of it.
    let ticks_before = cpu_ticks(pid);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let ticks = cpu_ticks(pid) - ticks_before;
    let failures = daemon.log().matches("control socket accept failed").count();
    drop(held);
    assert!(failures <= 2, "one line per burst, not one per attempt: {failures}");
    // 100 ticks a second: a spinning loop burns ~200 in two seconds.
    assert!(ticks < 50, "the accept loop used {ticks} CPU ticks in 2 s");
    // Once descriptors are free again, the socket answers.
    limit_open_files(pid, 1024);
    assert!(
        eventually(Duration::from_secs(10), || cli(&config, &["status", "--json"])
            .status
            .success())
        .await,
        "the control socket answers again"
    );
}

/// An event recorded while the daemon is still loading waits for the first sync: planned against
/// teams not read yet, a user's event would see every team empty and cancel or remove what the
/// teams hold (or trip the mass-removal guard).
#[tokio::test]
async fn events_wait_for_the_first_sync_and_never_plan_against_unread_teams() {
    use crate::helpers::{wait_until, TestApp};
    use frameio_sync::core::mirror_plan::Scope;
    use frameio_sync::engine::Engine;
    let mut app = TestApp::prepare(World::generated(1), Limits::unlimited()).await;
    let project = app.sandbox.world().workfront.projects[0].id.clone();
    let account = app.sandbox.world().default_target().0.to_owned();
    app.sandbox.upsert_workfront_user("bob", "bob@example.test", true, true);
    app.sandbox
        .add_frameio_account_user(&account, "fio-bob", "bob@example.test");
    app.sandbox.set_team(&project, &["bob"]);
    app.start();
    let store = app.store().clone();
    wait_until("bob added", Duration::from_secs(30), || {
        store.managed_collaborator_count().unwrap() == 1 && store.outbox_counts().unwrap().pending == 0
    })
    .await;
    app.stop().await;

    // A new process: nothing read from Workfront yet. Bob's profile changes (still flagged).
    let engine = Engine::new(&app.settings, store.clone()).unwrap();
    let now = frameio_sync::timestamp::Timestamp::now();
    let body = serde_json::json!({
        "eventType": "UPDATE", "subscriptionId": "sub-user",
        "eventTime": { "epochSecond": now.millis() / 1000, "nano": 0 },
        "newState": { "objCode": "USER", "ID": "bob", "name": "Bob B.", "emailAddr": "bob@example.test",
                      "isActive": true, "parameterValues": { "DE:Add to projects in Frame.io": "Yes" } },
        "oldState": { "objCode": "USER", "ID": "bob" }
    });
    let event = frameio_sync::workfront::events::parse_event(
        body.to_string().as_bytes(),
        &app.settings.workfront.frameio_user_field,
        now,
    )
    .unwrap();
    store.accept_events(&[event], now).unwrap();

    let early = engine.apply_events_once(100).await.unwrap();
    assert!(early.waiting_for_first_sync, "{early:?}");
    assert_eq!(early.taken, 0);
    assert_eq!(store.inbox_len(), 1, "the event stays in the inbox");
    assert_eq!(store.outbox_counts().unwrap().pending, 0, "nothing planned");
    assert!(store.last_guard_trip().unwrap().is_none(), "no guard trip");

    engine.sync_once(Scope::Full).await.unwrap();
    let applied = engine.apply_events_once(100).await.unwrap();
    assert_eq!((applied.taken, applied.waiting_for_first_sync), (1, false));
    assert_eq!(store.inbox_len(), 0);
    assert_eq!(
        store.outbox_counts().unwrap().pending,
        0,
        "bob stays on the mirror: nothing to do"
    );
    assert_eq!(store.managed_collaborator_count().unwrap(), 1);
}

/// An older release accepted any eventTime: a mark it recorded in the year 9999 must not make
/// every real event for that user stale (a deactivation was ignored until a poll).
#[tokio::test]
async fn an_applied_event_time_from_the_future_does_not_shadow_later_events() {
    use crate::helpers::TestApp;
    use frameio_sync::core::mirror_plan::Scope;
    use frameio_sync::engine::Engine;
    use frameio_sync::store::inbox::{InboxRecord, INBOX_V};
    use frameio_sync::timestamp::Timestamp;
    use frameio_sync::workfront::events::parse_event;
    let app = TestApp::prepare(World::generated(1), Limits::unlimited()).await;
    app.sandbox.upsert_workfront_user("bob", "bob@example.test", true, true);
    let store = frameio_sync::store::Store::open(&app.settings.state.dir).unwrap();
    let flag = app.settings.workfront.frameio_user_field.clone();
    let user_event = |epoch_second: i64, active: bool| {
        serde_json::json!({
            "eventType": "UPDATE", "subscriptionId": "sub-user",
            "eventTime": { "epochSecond": epoch_second, "nano": 0 },
            "newState": { "objCode": "USER", "ID": "bob", "name": "Bob", "emailAddr": "bob@example.test",
                          "isActive": active, "parameterValues": { "DE:Add to projects in Frame.io": "Yes" } },
            "oldState": { "objCode": "USER", "ID": "bob" }
        })
        .to_string()
    };
    // What an older release left: the mark of an event dated 9999-12-31.
    let year_9999 = 253_402_214_400;
    let far = Timestamp(year_9999 * 1000);
    let old = parse_event(user_event(year_9999, true).as_bytes(), &flag, far).unwrap();
    let record = InboxRecord {
        v: INBOX_V,
        seq: 1,
        received_at: Timestamp::now(),
        event: old,
    };
    store.finish_events(&[record], far).unwrap();
    assert_eq!(store.event_mark("USER:bob").unwrap(), Some(far));

    let engine = Engine::new(&app.settings, store.clone()).unwrap();
    engine.sync_once(Scope::Full).await.unwrap();
    let now = Timestamp::now();
    let deactivated = parse_event(user_event(now.millis() / 1000, false).as_bytes(), &flag, now).unwrap();
    store.accept_events(&[deactivated], now).unwrap();
    let applied = engine.apply_events_once(100).await.unwrap();
    assert_eq!((applied.taken, applied.stale), (1, 0), "{applied:?}");
    let users = store.users().unwrap();
    assert!(!users[&frameio_sync::ids::WorkfrontUserId::new("bob").unwrap()].is_active);
    let mark = store.event_mark("USER:bob").unwrap().unwrap();
    assert!(
        mark <= Timestamp::now(),
        "the believable mark replaced the one from the future: {mark}"
    );
}

/// A Workfront user dated in the year 9999 must not move the poll's cursor there: every later
/// poll would ask for changes after 9999 and miss them all.
#[tokio::test]
async fn a_user_dated_in_the_future_does_not_blind_later_polls() {
    use crate::helpers::{wait_until, TestApp};
    use frameio_sync::ids::WorkfrontUserId;
    let mut app = TestApp::prepare(World::generated(1), Limits::unlimited()).await;
    app.sandbox.upsert_workfront_user("bob", "bob@example.test", true, true);
    app.sandbox.upsert_workfront_user("eve", "eve@example.test", true, true);
    // 9999-12-31: a row dated far in the future.
    let far = frameio_sync_sandbox::time::OffsetDateTime::from_unix_timestamp(253_402_214_400).unwrap();
    app.sandbox.set_workfront_user_updated("eve", far);
    app.start();
    let store = app.store().clone();
    let bob = WorkfrontUserId::new("bob").unwrap();
    wait_until("the first sync", Duration::from_secs(30), || {
        store.last_sync().unwrap().is_some() && store.users().unwrap().contains_key(&bob)
    })
    .await;
    app.sandbox
        .update_workfront_users(&["bob"], |row| row["isActive"] = false.into());
    wait_until("a poll sees bob deactivated", Duration::from_secs(30), || {
        store.users().unwrap().get(&bob).is_some_and(|u| !u.is_active)
    })
    .await;
}
