//! `frameio-sync plan`: what a full resync would do, printed and done by nobody — against a
//! stopped daemon's store and through a running daemon's control socket.

use crate::cli::cli;
use crate::collaborators::{names, person, project_ids, wait_for_names};
use crate::helpers::{wait_until, TestApp};
use frameio_sync::config;
use frameio_sync_sandbox::{Limits, World};
use serde_json::Value;
use std::time::Duration;

const NEW_PROJECT: &str = "5d00000000000000000000000000new1";

async fn plan_json(app: &TestApp) -> Value {
    let config = app.config_path.clone();
    let output = tokio::task::spawn_blocking(move || cli(&config, &["plan", "--json"]))
        .await
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

fn described(plan: &Value, list: &str) -> Vec<String> {
    plan[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["describe"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_lists_creates_adds_and_removals_and_carries_out_none_of_them() {
    let mut app = TestApp::prepare(World::generated(2), Limits::unlimited()).await;
    // The CLI reads the file, so the small-world collaborator settings go there.
    let mut text = std::fs::read_to_string(&app.config_path).unwrap();
    text.push_str("\n[collaborators]\nmax_removal_percent = 100\ndirectory_refresh = \"200ms\"\n");
    std::fs::write(&app.config_path, text).unwrap();
    app.settings = config::load(&app.config_path).unwrap();
    let p = project_ids(&app);
    person(&app, "alice", true, true, true);
    person(&app, "bob", true, true, true);
    person(&app, "carol", true, true, true);
    app.sandbox.set_team(&p[0], &["alice", "bob"]);
    app.start();
    app.wait_for_mirrors(2).await;
    wait_for_names(&app, &p[0], &["alice", "bob"]).await;
    app.stop().await;
    drop(app.take_store());

    // Workfront changes while the daemon is stopped: a new project, Carol joins a team, Bob is
    // deactivated.
    app.sandbox.upsert_workfront_project(NEW_PROJECT, "Plan me");
    app.sandbox.set_team(&p[1], &["carol"]);
    app.sandbox
        .update_workfront_users(&["bob"], |u| u["isActive"] = false.into());
    let before = app.sandbox.counts();

    let plan = plan_json(&app).await;
    let enqueue = described(&plan, "enqueue");
    assert_eq!(enqueue.len(), 3, "{plan:#}");
    assert!(
        enqueue.iter().any(|d| d.starts_with(&format!(
            "create mirror of Workfront project {NEW_PROJECT} (\"Plan me\") in Frame.io account "
        ))),
        "{enqueue:?}"
    );
    assert!(
        enqueue
            .iter()
            .any(|d| d.starts_with("add carol@example.test as editor to the mirror ") && d.contains(&p[1])),
        "{enqueue:?}"
    );
    assert!(
        enqueue
            .iter()
            .any(|d| d.starts_with("remove bob@example.test from the mirror ") && d.contains(&p[0])),
        "{enqueue:?}"
    );
    assert_eq!(plan["projects_seen"], 3);
    assert_eq!(plan["removal_guard"], Value::Null);
    let kinds: Vec<&str> = plan["enqueue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["effect"]["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"create_mirror") && kinds.contains(&"remove_collaborator"),
        "{kinds:?}"
    );

    // Nothing was done: no write reached Frame.io, nothing was queued, and a second plan is the same.
    let after = app.sandbox.counts();
    assert_eq!(
        (
            after.frameio_creates,
            after.frameio_user_patches,
            after.frameio_user_deletes
        ),
        (
            before.frameio_creates,
            before.frameio_user_patches,
            before.frameio_user_deletes
        )
    );
    assert_eq!(plan_json(&app).await, plan);
    let config = app.config_path.clone();
    let text = tokio::task::spawn_blocking(move || cli(&config, &["plan"]))
        .await
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains("(\"Plan me\")") && text.contains("3 to enqueue") && text.contains("Nothing was done."),
        "{text}"
    );

    // The daemon then does exactly that, and a plan made through its control socket is empty.
    app.start();
    app.wait_for_mirrors(3).await;
    wait_for_names(&app, &p[0], &["alice"]).await;
    wait_for_names(&app, &p[1], &["carol"]).await;
    let store = app.store().clone();
    wait_until("the outbox drained", Duration::from_secs(30), || {
        store.outbox_counts().unwrap().pending == 0
    })
    .await;
    let plan = plan_json(&app).await;
    assert_eq!(described(&plan, "enqueue"), Vec::<String>::new(), "{plan:#}");
    assert_eq!(names(&app, &p[0]), ["alice"]);
}
