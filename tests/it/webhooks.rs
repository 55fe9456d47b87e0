//! Workfront event subscriptions end to end: every rejection path, duplicates and out-of-order
//! deliveries, durability across kill -9, an event that mirrors a project without any poll,
//! `/healthz` and `/metrics`.

use crate::cli::Daemon;
use crate::helpers::{add_http_listener, wait_for_listener, wait_until, TestApp};
use frameio_sync::demo::write_sandbox_config;
use frameio_sync::ids::{WorkfrontProjectId, WorkfrontUserId};
use frameio_sync::store::Store;
use frameio_sync_sandbox::{Limits, Sandbox, World};
use serde_json::{json, Value};
use std::time::Duration;

const TOKEN: &str = "wf-webhook-token-0123456789abcdef";
const WAIT: Duration = Duration::from_secs(30);
const FLAG: &str = "DE:Add to projects in Frame.io";

pub(crate) fn project_event(kind: &str, id: &str, name: &str, epoch_second: i64) -> Value {
    json!({
        "eventType": kind, "subscriptionId": "sub-proj", "eventVersion": "v2", "subscriptionVersion": "v2",
        "eventTime": { "epochSecond": epoch_second, "nano": 0 },
        "newState": { "objCode": "PROJ", "ID": id, "name": name, "status": "CUR",
                      "lastUpdateDate": "2026-11-23T10:00:00.000-0600" },
        "oldState": {}
    })
}

fn user_event(id: &str, active: bool, epoch_second: i64) -> Value {
    json!({
        "eventType": "UPDATE", "subscriptionId": "sub-user",
        "eventTime": { "epochSecond": epoch_second, "nano": 0 },
        "newState": { "objCode": "USER", "ID": id, "name": id, "emailAddr": format!("{id}@example.test"),
                      "isActive": active, "parameterValues": { FLAG: "Yes" } },
        "oldState": { "objCode": "USER", "ID": id }
    })
}

async fn post(url: &str, authorization: Option<&str>, body: impl Into<reqwest::Body>) -> (u16, String) {
    let mut request = reqwest::Client::new()
        .post(format!("{url}/workfront/events"))
        .header("content-type", "application/json")
        .body(body);
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn post_json(url: &str, event: &Value) -> (u16, String) {
    post(url, Some(&format!("Bearer {TOKEN}")), event.to_string()).await
}

async fn get(url: &str, path: &str) -> (u16, String) {
    let response = reqwest::get(format!("{url}{path}")).await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// A daemon with webhooks on; polls are an hour apart, so anything that happens after the first
/// sync happens because of an event.
async fn app_with_webhooks(world: World) -> TestApp {
    let mut app = TestApp::prepare(world, Limits::unlimited()).await;
    app.settings.workfront.poll_interval = Duration::from_secs(3600);
    app.enable_http(TOKEN);
    app.start();
    let store = app.store().clone();
    wait_until("the first sync", WAIT, || store.last_sync().unwrap().is_some()).await;
    app
}

#[tokio::test]
async fn every_bad_delivery_is_refused_with_its_status_and_the_daemon_keeps_going() {
    let app = app_with_webhooks(World::generated(0)).await;
    let url = app.http_url();
    let good = project_event("CREATE", "p1", "P", 1).to_string();

    assert_eq!(post(&url, None, good.clone()).await.0, 401, "no authorization");
    assert_eq!(
        post(&url, Some("Bearer wrong"), good.clone()).await.0,
        401,
        "wrong token"
    );
    assert_eq!(post(&url, Some(&format!("Bearer {TOKEN}x")), good.clone()).await.0, 401);
    let oversize = format!("{{\"pad\":\"{}\"}}", "x".repeat(1024 * 1024));
    assert_eq!(post(&url, Some(TOKEN), oversize).await.0, 413, "over 1 MiB");
    let (status, text) = post(&url, Some(TOKEN), "{not json").await;
    assert_eq!(status, 400);
    assert!(text.contains("not a Workfront event"), "{text}");
    let task = json!({ "eventType": "CREATE", "subscriptionId": "s", "eventTime": { "epochSecond": 1 },
                       "newState": { "objCode": "TASK", "ID": "t1" } });
    let (status, text) = post(&url, Some(TOKEN), task.to_string()).await;
    assert_eq!(status, 400);
    assert!(text.contains("objCode \"TASK\""), "{text}");
    assert_eq!(app.store().inbox_len(), 0, "nothing refused was recorded");

    // Both header forms are accepted.
    assert_eq!(post(&url, Some(TOKEN), good.clone()).await.0, 200);
    assert_eq!(
        post(
            &url,
            Some(&format!("Bearer {TOKEN}")),
            project_event("UPDATE", "p1", "P", 2).to_string()
        )
        .await
        .0,
        200
    );
    assert_eq!(get(&url, "/healthz").await.0, 200, "still alive");
    let (status, metrics) = get(&url, "/metrics").await;
    assert_eq!(status, 200);
    for line in [
        "frameio_sync_events_received_total{outcome=\"accepted\"} 2",
        "frameio_sync_events_received_total{outcome=\"rejected_unauthorized\"} 3",
        "frameio_sync_events_received_total{outcome=\"rejected_too_large\"} 1",
        "frameio_sync_events_received_total{outcome=\"rejected_malformed\"} 2",
        "frameio_sync_outbox_entries{state=\"pending\"}",
        "frameio_sync_api_calls_total{system=\"workfront\"}",
        "frameio_sync_sync_duration_seconds_count",
    ] {
        assert!(metrics.contains(line), "missing {line} in\n{metrics}");
    }
}

#[tokio::test]
async fn an_event_for_a_new_project_mirrors_it_without_a_poll() {
    let app = app_with_webhooks(World::generated(1)).await;
    app.wait_for_mirrors(1).await;
    let syncs = app.store().last_sync().unwrap().unwrap().seq;
    let id = "5d00000000000000000000000000e001";
    app.sandbox.upsert_workfront_project(id, "Arrived by event");
    let (status, _) = post_json(&app.http_url(), &project_event("CREATE", id, "Arrived by event", 10)).await;
    assert_eq!(status, 200);
    app.wait_for_mirrors(2).await;
    let mirror = app
        .store()
        .mirror(&WorkfrontProjectId::new(id).unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(mirror.name, "Arrived by event");
    assert_eq!(app.store().last_sync().unwrap().unwrap().seq, syncs, "no poll ran");
    assert_eq!(app.store().inbox_len(), 0, "applied and removed");

    // A rename arrives by event too, and reaches the mirror without a poll.
    app.sandbox.upsert_workfront_project(id, "Renamed by event");
    let (status, _) = post_json(&app.http_url(), &project_event("UPDATE", id, "Renamed by event", 15)).await;
    assert_eq!(status, 200);
    let sandbox = &app.sandbox;
    wait_until("the rename by event", WAIT, || {
        sandbox
            .frameio_projects()
            .iter()
            .any(|p| p.id == mirror.frameio_project.as_str() && p.name == "Renamed by event")
    })
    .await;
    assert_eq!(app.store().last_sync().unwrap().unwrap().seq, syncs, "no poll ran");

    // Deleting it in Workfront leaves the mirror, and `status` says so.
    app.sandbox.delete_workfront_project(id);
    let delete = json!({
        "eventType": "DELETE", "subscriptionId": "sub-proj", "eventTime": { "epochSecond": 20 },
        "newState": {}, "oldState": { "objCode": "PROJ", "ID": id, "name": "Arrived by event" }
    });
    assert_eq!(post_json(&app.http_url(), &delete).await.0, 200);
    let store = app.store().clone();
    wait_until("the deletion recorded", WAIT, || !store.deletions().unwrap().is_empty()).await;
    assert_eq!(app.store().mirror_count(), 2);
    assert_eq!(
        app.sandbox.frameio_projects().len(),
        2,
        "never delete a Frame.io project"
    );
    let report = frameio_sync::status::gather(app.store(), true).unwrap().render_text();
    assert!(
        report.contains("deleted in Workfront") && report.contains(id),
        "{report}"
    );
}

#[tokio::test]
async fn duplicates_are_recorded_once_and_older_events_never_roll_a_user_back() {
    let app = app_with_webhooks(World::generated(0)).await;
    let url = app.http_url();
    let first = post_json(&url, &user_event("u1", false, 200)).await;
    let again = post_json(&url, &user_event("u1", false, 200)).await;
    assert_eq!((first.0, again.0), (200, 200));
    assert!(again.1.contains("already recorded"), "{}", again.1);
    // An older event (the user still active) arrives late.
    assert_eq!(post_json(&url, &user_event("u1", true, 100)).await.0, 200);
    let store = app.store().clone();
    wait_until("the events applied", WAIT, || store.inbox_len() == 0).await;
    let users = app.store().users().unwrap();
    let u1 = &users[&WorkfrontUserId::new("u1").unwrap()];
    assert!(!u1.is_active, "the newer event (deactivated) stands");
    assert_eq!(app.store().event_mark("USER:u1").unwrap().unwrap().millis(), 200_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acknowledged_event_survives_an_immediate_kill_9() {
    let sandbox = Sandbox::start(World::generated(0), Limits::unlimited()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = write_sandbox_config(dir.path(), &sandbox, "1h").unwrap();
    let port = add_http_listener(&config, TOKEN, "");
    let url = format!("http://127.0.0.1:{port}");

    for round in 0..5 {
        let daemon = Daemon::start(&config, "info", &[]);
        wait_for_listener(port).await;
        let id = format!("5d00000000000000000000000000d{round:03}");
        let (status, _) = post_json(&url, &project_event("CREATE", &id, "Durable", 100 + round)).await;
        assert_eq!(status, 200);
        daemon.kill(); // SIGKILL right after the answer
        let store = Store::open(&dir.path().join("state")).unwrap();
        let key = format!("PROJ:{id}");
        let waiting = store
            .inbox_batch(100)
            .unwrap()
            .iter()
            .any(|r| r.event.object_key() == key);
        let kept = waiting || store.event_mark(&key).unwrap().is_some();
        assert!(kept, "round {round}: the acknowledged event is in the inbox or applied");
        drop(store);
    }
}

#[tokio::test]
async fn a_flag_flip_by_event_adds_the_collaborator_without_a_poll() {
    let mut app = TestApp::prepare(World::generated(1), Limits::unlimited()).await;
    app.settings.workfront.poll_interval = Duration::from_secs(3600);
    app.enable_http(TOKEN);
    let project = app.sandbox.world().workfront.projects[0].id.clone();
    let account = app.sandbox.world().default_target().0.to_owned();
    app.sandbox
        .upsert_workfront_user("bob", "bob@example.test", false, true);
    app.sandbox
        .add_frameio_account_user(&account, "fio-bob", "bob@example.test");
    app.sandbox.set_team(&project, &["bob"]);
    app.start();
    app.wait_for_mirrors(1).await;
    let store = app.store().clone();
    wait_until("the first sync", WAIT, || store.last_sync().unwrap().is_some()).await;
    let syncs = app.store().last_sync().unwrap().unwrap().seq;

    let flipped = json!({
        "eventType": "UPDATE", "subscriptionId": "sub-user",
        // Newer than the user as polled (a clock a minute ahead is within the accepted skew).
        "eventTime": { "epochSecond": frameio_sync::timestamp::Timestamp::now().millis() / 1000 + 60, "nano": 0 },
        "newState": { "objCode": "USER", "ID": "bob", "name": "bob", "emailAddr": "bob@example.test",
                      "isActive": true, "parameterValues": { FLAG: "Yes" } },
        "oldState": { "objCode": "USER", "ID": "bob" }
    });
    assert_eq!(post_json(&app.http_url(), &flipped).await.0, 200);
    wait_until("bob added", WAIT, || store.managed_collaborator_count().unwrap() == 1).await;
    let mirror = app
        .store()
        .mirror(&WorkfrontProjectId::new(&project).unwrap())
        .unwrap()
        .unwrap();
    assert!(app
        .sandbox
        .frameio_project_users(mirror.frameio_project.as_str())
        .contains_key("fio-bob"));
    assert_eq!(app.store().last_sync().unwrap().unwrap().seq, syncs, "no poll ran");
}
