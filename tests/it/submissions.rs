//! F6 end to end on the sandbox: `register-action`, then signed deliveries of the custom action —
//! allowed (exactly one Workfront document and note), replayed (still one), denied (none, with
//! the access rules' reason) — and every signature refusal.

use crate::cli::cli;
use crate::helpers::{wait_until, TestApp};
use frameio_sync::frameio::actions::sign;
use frameio_sync::ids::WorkfrontProjectId;
use frameio_sync::secret::Secret;
use frameio_sync::store::EntryState;
use frameio_sync_sandbox::{Limits, Original, World};
use serde_json::{json, Value};
use std::time::Duration;

pub(crate) const WAIT: Duration = Duration::from_secs(30);

pub(crate) struct Setup {
    pub app: TestApp,
    pub wf_project: String,
    pub mirror: String,
    pub account: String,
    pub workspace: String,
}

async fn setup() -> Setup {
    setup_with(|_| {}).await
}

/// [`setup`], with `settings` changed before the daemon starts.
pub(crate) async fn setup_with(settings: impl FnOnce(&mut frameio_sync::config::Settings)) -> Setup {
    let mut app = TestApp::prepare(World::generated(1), Limits::unlimited()).await;
    app.enable_http("unused-webhook-token");
    settings(&mut app.settings);
    let wf_project = app.sandbox.world().workfront.projects[0].id.clone();
    let (account, workspace) = {
        let world = app.sandbox.world();
        let (a, w) = world.default_target();
        (a.to_owned(), w.to_owned())
    };
    app.sandbox.add_access_level("lvl-standard", "Standard");
    for user in ["alice", "bob"] {
        app.sandbox
            .upsert_workfront_user(user, &format!("{user}@example.test"), true, true);
        app.sandbox
            .update_workfront_users(&[user], |u| u["accessLevelID"] = "lvl-standard".into());
        app.sandbox
            .add_frameio_account_user(&account, &format!("fio-{user}"), &format!("{user}@example.test"));
    }
    app.sandbox.share_project(&wf_project, "alice", "LIMITED_EDIT"); // Contribute
    app.sandbox.share_project(&wf_project, "bob", "VIEW");
    // Tasks the review form offers (open ones of this project), and two it must not.
    app.sandbox.add_workfront_task("t-story", &wf_project, "Storyboard");
    app.sandbox.add_workfront_task("t-grade", &wf_project, "grade");
    app.sandbox.add_workfront_task("t-done", &wf_project, "Edit");
    app.sandbox
        .update_workfront_task("t-done", |t| t["status"] = "CPL".into());
    app.sandbox
        .add_workfront_task("t-other", "another-project", "Elsewhere");
    app.start();
    app.wait_for_mirrors(1).await;
    let mirror = app
        .store()
        .mirror(&WorkfrontProjectId::new(&wf_project).unwrap())
        .unwrap()
        .unwrap()
        .frameio_project
        .to_string();
    app.sandbox.add_frameio_file(&mirror, "file-1", "Hero cut v3.mov");
    app.sandbox.add_frameio_file(&mirror, "file-2", "Hero cut v4.mov");
    Setup {
        app,
        wf_project,
        mirror,
        account,
        workspace,
    }
}

pub(crate) async fn register(app: &TestApp) -> String {
    let config = app.config_path.clone();
    let out =
        tokio::task::spawn_blocking(move || cli(&config, &["register-action", "--url", "https://sync.example.test"]))
            .await
            .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub(crate) fn body(s: &Setup, action_id: &str, interaction: &str, user: &str) -> String {
    body_for(s, action_id, interaction, user, "file-1", "file")
}

/// A delivery for `resource` (of `kind`: file, folder, version_stack).
pub(crate) fn body_for(
    s: &Setup,
    action_id: &str,
    interaction: &str,
    user: &str,
    resource: &str,
    kind: &str,
) -> String {
    json!({
        "account_id": s.account, "action_id": action_id, "interaction_id": interaction,
        "project": { "id": s.mirror }, "resource": { "id": resource, "type": kind },
        "type": "workfront.review", "user": { "id": user }, "workspace": { "id": s.workspace }
    })
    .to_string()
}

/// Posts `body` as Frame.io would, signed with `secret` at `age` seconds ago: the status and the
/// answer.
pub(crate) async fn post(s: &Setup, body: &str, secret: &str, age: i64) -> (u16, Value) {
    let ts = (frameio_sync::timestamp::Timestamp::now().millis() / 1000 - age).to_string();
    let signature = sign(&Secret::new(secret), &ts, body.as_bytes());
    let response = reqwest::Client::new()
        .post(format!("{}/frameio/actions", s.app.http_url()))
        .header("content-type", "application/json")
        .header("x-frameio-request-timestamp", ts)
        .header("x-frameio-signature", signature)
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// A click (`body`) and, when it is answered with the review form, the form submitted as it is
/// offered (the project, no message), the way Frame.io sends a submit: without the click's fields.
pub(crate) async fn deliver(s: &Setup, body: &str, secret: &str, age: i64) -> (u16, Value) {
    let (status, form) = post(s, body, secret, age).await;
    if form.get("fields").is_none() {
        return (status, form);
    }
    let target = form["fields"][0]["value"].as_str().unwrap().to_owned();
    submit(s, body, secret, &target, "").await
}

/// Submits the review form of the click in `click` with `target` and `message`.
pub(crate) async fn submit(s: &Setup, click: &str, secret: &str, target: &str, message: &str) -> (u16, Value) {
    let click: Value = serde_json::from_str(click).unwrap();
    let submit = json!({
        "action_id": click["action_id"], "interaction_id": click["interaction_id"], "type": click["type"],
        "data": { "target": target, "message": message }
    });
    post(s, &submit.to_string(), secret, 0).await
}

pub(crate) async fn drained(app: &TestApp) {
    let store = app.store().clone();
    wait_until("the outbox to drain", WAIT, || {
        store.outbox_counts().unwrap().pending == 0
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowed_submission_makes_one_document_even_when_replayed_and_a_denied_one_none() {
    let s = setup().await;
    let out = register(&s.app).await;
    assert!(out.contains("created"), "{out}");
    let actions = s.app.sandbox.frameio_actions();
    assert_eq!(actions.len(), 1);
    let action = actions[0].clone();
    assert_eq!(action.url, "https://sync.example.test/frameio/actions");
    assert_eq!(
        (action.account_id.as_str(), action.workspace_id.as_str()),
        (s.account.as_str(), s.workspace.as_str())
    );
    // Running it again keeps the action (its secret is stored).
    let again = register(&s.app).await;
    assert!(again.contains("kept"), "{again}");
    assert_eq!(s.app.sandbox.frameio_actions().len(), 1);

    // Alice has Contribute on the project and Standard's Edit on documents: sent.
    let alice = body(&s, &action.id, "interaction-1", "fio-alice");
    let (status, answer) = deliver(&s, &alice, &action.secret, 0).await;
    assert_eq!(status, 200);
    assert_eq!(answer["title"], "Sent to Workfront", "{answer}");
    assert!(
        answer["description"]
            .as_str()
            .unwrap()
            .contains("Generated project 00000"),
        "{answer}"
    );
    let sandbox = &s.app.sandbox;
    wait_until("one document and one note", WAIT, || {
        sandbox.workfront_documents().len() == 1 && sandbox.workfront_notes().len() == 1
    })
    .await;
    let doc = &sandbox.workfront_documents()[0];
    assert_eq!(doc["name"], "Hero cut v3.mov");
    assert_eq!(
        (doc["docObjCode"].as_str(), doc["objID"].as_str()),
        (Some("PROJ"), Some(s.wf_project.as_str()))
    );
    assert_eq!(doc["extRefID"], "frameio-file:file-1");
    // The file itself, byte for byte.
    let arrived = sandbox.workfront_document_upload(doc["ID"].as_str().unwrap()).unwrap();
    assert_eq!(arrived.file_name, "Hero cut v3.mov");
    assert_eq!(arrived.bytes.unwrap(), b"the bytes of Hero cut v3.mov");
    let note = sandbox.workfront_notes()[0]["noteText"].as_str().unwrap().to_owned();
    assert!(note.contains("alice") && note.contains("Hero cut v3.mov"), "{note}");

    // The same interaction delivered again: answered the same, still one document.
    let (status, answer) = deliver(&s, &alice, &action.secret, 2).await;
    assert_eq!((status, answer["title"].as_str()), (200, Some("Sent to Workfront")));
    drained(&s.app).await;
    assert_eq!(sandbox.workfront_documents().len(), 1);
    assert_eq!(sandbox.workfront_notes().len(), 1);

    // Bob may only view the project: refused, with the rule in words, and nothing recorded.
    let bob = body(&s, &action.id, "interaction-2", "fio-bob");
    let (status, answer) = deliver(&s, &bob, &action.secret, 0).await;
    assert_eq!(status, 200);
    assert_eq!(answer["title"], "Not sent to Workfront");
    let reason = answer["description"].as_str().unwrap();
    assert!(reason.contains("denied") && reason.contains("Contribute"), "{reason}");
    drained(&s.app).await;
    assert_eq!(
        sandbox.workfront_documents().len(),
        1,
        "nothing for a denied submission"
    );

    // A project that is not one of our mirrors is refused plainly.
    let mut stray: Value = serde_json::from_str(&alice).unwrap();
    stray["project"]["id"] = "b0000000-0000-4000-8000-0000000fffff".into();
    stray["interaction_id"] = "interaction-3".into();
    let (status, answer) = deliver(&s, &stray.to_string(), &action.secret, 0).await;
    assert_eq!(status, 200);
    assert!(
        answer["description"].as_str().unwrap().contains("not the mirror"),
        "{answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_stale_future_and_oversize_deliveries_are_refused_and_record_nothing() {
    let s = setup().await;
    register(&s.app).await;
    let action = s.app.sandbox.frameio_actions()[0].clone();
    let alice = body(&s, &action.id, "interaction-9", "fio-alice");
    assert_eq!(deliver(&s, &alice, "not-the-secret", 0).await.0, 401, "wrong secret");
    assert_eq!(
        deliver(&s, &alice, &action.secret, 301).await.0,
        401,
        "older than 5 minutes"
    );
    assert_eq!(
        deliver(&s, &alice, &action.secret, -120).await.0,
        401,
        "from the future"
    );
    let unsigned = reqwest::Client::new()
        .post(format!("{}/frameio/actions", s.app.http_url()))
        .body(alice.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status().as_u16(), 401);
    assert!(unsigned.text().await.unwrap().contains("missing header"));
    let huge = format!("{{\"pad\":\"{}\"}}", "x".repeat(1024 * 1024));
    assert_eq!(deliver(&s, &huge, &action.secret, 0).await.0, 413);
    drained(&s.app).await;
    assert!(s.app.sandbox.workfront_documents().is_empty());
    assert_eq!(s.app.store().outbox_entries().unwrap().len(), 0, "nothing recorded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workfront_failures_are_retried_and_a_refusal_is_a_dead_letter_with_the_asset_and_user() {
    let s = setup().await;
    register(&s.app).await;
    let action = s.app.sandbox.frameio_actions()[0].clone();
    // Workfront fails the next writes (and look-ups) with 500: retried until they pass.
    s.app.sandbox.set_faults(frameio_sync_sandbox::Faults {
        workfront_errors: 3,
        ..Default::default()
    });
    let (status, _) = deliver(
        &s,
        &body(&s, &action.id, "interaction-5", "fio-alice"),
        &action.secret,
        0,
    )
    .await;
    assert_eq!(status, 200);
    let sandbox = &s.app.sandbox;
    wait_until("the document despite failures", WAIT, || {
        sandbox.workfront_documents().len() == 1 && sandbox.workfront_notes().len() == 1
    })
    .await;

    // Workfront refuses the next document for good: a dead letter that keeps the request and the
    // answer, and `status` names asset and user.
    sandbox.set_refuse_documents(true);
    let (status, _) = deliver(
        &s,
        &body_for(&s, &action.id, "interaction-6", "fio-alice", "file-2", "file"),
        &action.secret,
        0,
    )
    .await;
    assert_eq!(status, 200);
    let store = s.app.store().clone();
    wait_until("the refused document buried", WAIT, || {
        store.outbox_counts().unwrap().dead == 1
    })
    .await;
    let dead = store
        .outbox_entries()
        .unwrap()
        .into_iter()
        .find(|e| e.state != EntryState::Pending)
        .unwrap();
    let EntryState::Dead {
        exchange: Some(exchange),
        ..
    } = &dead.state
    else {
        panic!("not a dead letter with its exchange: {dead:?}");
    };
    assert!(exchange.request.starts_with("POST /document"), "{exchange:?}");
    assert!(exchange.status.is_some_and(|s| s >= 400), "{exchange:?}");
    assert!(!exchange.response.is_empty());
    let report = frameio_sync::status::gather(s.app.store(), true).unwrap().render_text();
    assert!(
        report.contains("Hero cut v4.mov") && report.contains("alice"),
        "{report}"
    );
    assert_eq!(sandbox.workfront_documents().len(), 1);
}

/// The file goes as a link document when it is over `review.max_upload_size` or Frame.io gives
/// no download of it, the description saying why; a folder is refused; the same file sent again
/// makes no second document.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_too_large_or_not_downloadable_goes_as_a_link_and_a_folder_is_refused() {
    let s = setup_with(|settings| settings.review.max_upload_size = 1_000).await;
    register(&s.app).await;
    let action = s.app.sandbox.frameio_actions()[0].clone();
    let sandbox = &s.app.sandbox;
    sandbox.add_frameio_file_with(
        &s.mirror,
        "big-1",
        "Master.mov",
        frameio_sync_sandbox::files::FileContent::Pattern { size: 5_000, seed: 1 },
    );
    sandbox.set_frameio_file_original("file-2", Original::Watermarked);
    sandbox.add_frameio_file(&s.mirror, "file-3", "Locked.mov");
    sandbox.set_frameio_file_original("file-3", Original::Forbidden);
    for (i, file) in ["file-1", "big-1", "file-2", "file-3"].iter().enumerate() {
        let delivery = body_for(&s, &action.id, &format!("interaction-{i}"), "fio-alice", file, "file");
        let (status, answer) = deliver(&s, &delivery, &action.secret, 0).await;
        assert_eq!(
            (status, answer["title"].as_str()),
            (200, Some("Sent to Workfront")),
            "{answer}"
        );
    }
    wait_until("four documents", WAIT, || sandbox.workfront_documents().len() == 4).await;
    drained(&s.app).await;
    let documents = sandbox.workfront_documents();
    let by_ref = |file: &str| {
        documents
            .iter()
            .find(|d| d["extRefID"] == format!("frameio-file:{file}"))
            .unwrap()
            .clone()
    };
    let upload_of = |doc: &Value| sandbox.workfront_document_upload(doc["ID"].as_str().unwrap()).unwrap();
    // Small enough: the file itself.
    assert_eq!(
        upload_of(&by_ref("file-1")).bytes.unwrap(),
        b"the bytes of Hero cut v3.mov"
    );
    // Over the limit: a link, and why.
    let big = by_ref("big-1");
    let link = upload_of(&big);
    assert_eq!(link.file_name, "Master.mov.url");
    let shortcut = String::from_utf8(link.bytes.unwrap()).unwrap();
    assert!(shortcut.contains("URL=https://next.frame.io/project/"), "{shortcut}");
    let why = big["description"].as_str().unwrap();
    assert!(why.contains("over review.max_upload_size"), "{why}");
    assert_eq!(
        sandbox.counts().frameio_downloads,
        1,
        "the big one was never downloaded"
    );
    // Not downloadable: a link, and why.
    let locked = by_ref("file-2");
    assert_eq!(upload_of(&locked).file_name, "Hero cut v4.mov.url");
    assert!(
        locked["description"].as_str().unwrap().contains("no download"),
        "{locked}"
    );
    // A 403 for the original (no download permission): a link too, and the credential is not
    // taken for refused.
    let forbidden = by_ref("file-3");
    assert_eq!(upload_of(&forbidden).file_name, "Locked.mov.url");
    let why = forbidden["description"].as_str().unwrap();
    assert!(why.contains("no download permission"), "{why}");
    assert_eq!(s.app.store().outbox_counts().unwrap().parked, 0);

    // The same file sent again: no second document, and no second note.
    wait_until("four notes", WAIT, || sandbox.workfront_notes().len() == 4).await;
    let again = body_for(&s, &action.id, "interaction-again", "fio-alice", "file-1", "file");
    assert_eq!(deliver(&s, &again, &action.secret, 0).await.0, 200);
    drained(&s.app).await;
    assert_eq!(sandbox.workfront_documents().len(), 4);
    assert_eq!(sandbox.workfront_notes().len(), 4);

    // A folder is refused with the reason, and nothing is recorded.
    let folder = body_for(&s, &action.id, "interaction-folder", "fio-alice", "folder-1", "folder");
    let (status, answer) = deliver(&s, &folder, &action.secret, 0).await;
    assert_eq!((status, answer["title"].as_str()), (200, Some("Not sent to Workfront")));
    assert!(answer["description"].as_str().unwrap().contains("folder"), "{answer}");
    drained(&s.app).await;
    assert_eq!(sandbox.workfront_documents().len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_version_becomes_a_version_of_the_same_document_and_the_same_one_changes_nothing() {
    let s = setup().await;
    register(&s.app).await;
    let action = s.app.sandbox.frameio_actions()[0].clone();
    let sandbox = &s.app.sandbox;
    let send = |interaction: &str, resource: &str, kind: &str| {
        let delivery = body_for(&s, &action.id, interaction, "fio-alice", resource, kind);
        let secret = action.secret.clone();
        let s = &s;
        async move {
            let (status, answer) = deliver(s, &delivery, &secret, 0).await;
            assert_eq!(
                (status, answer["title"].as_str()),
                (200, Some("Sent to Workfront")),
                "{answer}"
            );
        }
    };
    // The first cut, alone: a document.
    send("interaction-v1", "file-1", "file").await;
    wait_until("one document", WAIT, || sandbox.workfront_documents().len() == 1).await;
    drained(&s.app).await;
    let document = sandbox.workfront_documents()[0]["ID"].as_str().unwrap().to_owned();

    // A second cut is stacked on it in Frame.io, and the stack (its head) is sent: the same
    // document gains a version carrying the new file's bytes.
    sandbox.add_frameio_file(&s.mirror, "file-5", "Hero cut v5.mov");
    sandbox.stack_frameio_files("stack-1", &["file-1", "file-5"]);
    send("interaction-v2", "file-5", "file").await;
    wait_until("a second version", WAIT, || {
        sandbox.workfront_document_versions(&document).len() == 2
    })
    .await;
    drained(&s.app).await;
    assert_eq!(sandbox.workfront_documents().len(), 1, "no second document");
    let versions = sandbox.workfront_document_versions(&document);
    let (label, upload) = (&versions[1].0, &versions[1].1);
    assert_eq!(label["version"], "v2 frameio-file:file-5");
    assert_eq!(upload.bytes.as_deref(), Some(&b"the bytes of Hero cut v5.mov"[..]));
    let current = &sandbox.workfront_documents()[0]["currentVersionID"];
    assert_eq!(current, &label["ID"], "the new version is the current one");

    // The same version again, as a file or as the stack: nothing changes.
    send("interaction-v2-again", "file-5", "file").await;
    send("interaction-stack", "stack-1", "version_stack").await;
    drained(&s.app).await;
    assert_eq!(sandbox.workfront_documents().len(), 1);
    assert_eq!(sandbox.workfront_document_versions(&document).len(), 2);
    // An older version sent again: it is on the document already (its first version).
    send("interaction-v1-again", "file-1", "file").await;
    drained(&s.app).await;
    assert_eq!(sandbox.workfront_document_versions(&document).len(), 2);

    // A Workfront that takes a version without making it current: parked, saying so, and no
    // second document.
    sandbox.set_versions_by_api(frameio_sync_sandbox::VersionsByApi::KeepCurrent);
    sandbox.add_frameio_file(&s.mirror, "file-6", "Hero cut v6.mov");
    sandbox.stack_frameio_files("stack-1", &["file-6"]);
    send("interaction-v3", "file-6", "file").await;
    let store = s.app.store().clone();
    wait_until("the version parked", WAIT, || {
        store.outbox_counts().unwrap().parked == 1
    })
    .await;
    let reason = store
        .outbox_entries()
        .unwrap()
        .into_iter()
        .find_map(|e| match e.state {
            EntryState::Parked { reason, .. } => Some(reason),
            _ => None,
        })
        .unwrap();
    assert!(
        reason.contains("current version") && reason.contains(&document),
        "{reason}"
    );
    assert_eq!(sandbox.workfront_documents().len(), 1);
    assert_eq!(sandbox.workfront_document_versions(&document).len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_form_offers_the_project_and_its_open_tasks_and_a_task_is_gated_on_its_own() {
    let s = setup().await;
    register(&s.app).await;
    let action = s.app.sandbox.frameio_actions()[0].clone();
    let sandbox = &s.app.sandbox;
    // Carol may only contribute to one task: the gate decides for the object chosen.
    sandbox.upsert_workfront_user("carol", "carol@example.test", true, true);
    sandbox.update_workfront_users(&["carol"], |u| u["accessLevelID"] = "lvl-standard".into());
    sandbox.add_frameio_account_user(&s.account, "fio-carol", "carol@example.test");
    sandbox.update_workfront_task("t-grade", |t| {
        t["accessRules"] = json!([{ "accessorID": "carol", "accessorObjCode": "USER", "coreAction": "LIMITED_EDIT" }])
    });
    s.app.resync_and_wait().await;

    // The click is answered with the form: the project first (the default), then its open tasks
    // by name, and a message.
    let click = body_for(&s, &action.id, "interaction-task", "fio-alice", "file-1", "file");
    let (status, form) = post(&s, &click, &action.secret, 0).await;
    assert_eq!(status, 200);
    assert_eq!(form["title"], "Send to Workfront for review", "{form}");
    let target = &form["fields"][0];
    assert_eq!(
        (target["type"].as_str(), target["name"].as_str()),
        (Some("select"), Some("target"))
    );
    assert_eq!(target["value"], format!("PROJ:{}", s.wf_project));
    let options: Vec<(String, String)> = target["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["name"].as_str().unwrap().to_owned(),
                o["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        options,
        [
            (
                "Project: Generated project 00000".to_owned(),
                format!("PROJ:{}", s.wf_project)
            ),
            ("Task: grade".to_owned(), "TASK:t-grade".to_owned()),
            ("Task: Storyboard".to_owned(), "TASK:t-story".to_owned()),
        ]
    );
    assert_eq!(
        (form["fields"][1]["type"].as_str(), form["fields"][1]["name"].as_str()),
        (Some("textarea"), Some("message"))
    );

    // Alice sends it to the storyboard task with a message: a document and a note on the task.
    let (status, answer) = submit(&s, &click, &action.secret, "TASK:t-story", "Frame 12 is the new one").await;
    assert_eq!(
        (status, answer["title"].as_str()),
        (200, Some("Sent to Workfront")),
        "{answer}"
    );
    assert!(
        answer["description"].as_str().unwrap().contains("task Storyboard"),
        "{answer}"
    );
    wait_until("a document and a note", WAIT, || {
        sandbox.workfront_documents().len() == 1 && sandbox.workfront_notes().len() == 1
    })
    .await;
    let document = &sandbox.workfront_documents()[0];
    assert_eq!(
        (document["docObjCode"].as_str(), document["objID"].as_str()),
        (Some("TASK"), Some("t-story"))
    );
    assert_eq!(document["projectID"], s.wf_project.as_str());
    let note = &sandbox.workfront_notes()[0];
    assert_eq!(
        (note["noteObjCode"].as_str(), note["objID"].as_str()),
        (Some("TASK"), Some("t-story"))
    );
    assert!(
        note["noteText"]
            .as_str()
            .unwrap()
            .contains("Message: Frame 12 is the new one"),
        "{note}"
    );
    // Frame.io delivers the click and the submit again: the same form, the same answer, once.
    let (_, again) = post(&s, &click, &action.secret, 0).await;
    assert_eq!(again["fields"][0]["options"].as_array().unwrap().len(), 3);
    let (_, answer) = submit(&s, &click, &action.secret, "TASK:t-story", "Frame 12 is the new one").await;
    assert_eq!(answer["title"], "Sent to Workfront");
    drained(&s.app).await;
    assert_eq!(
        (sandbox.workfront_documents().len(), sandbox.workfront_notes().len()),
        (1, 1)
    );

    // Carol: refused for the project, sent to the task shared with her.
    let carol = body_for(&s, &action.id, "interaction-carol", "fio-carol", "file-2", "file");
    assert!(post(&s, &carol, &action.secret, 0).await.1.get("fields").is_some());
    let (_, refused) = submit(&s, &carol, &action.secret, &format!("PROJ:{}", s.wf_project), "").await;
    assert_eq!(refused["title"], "Not sent to Workfront", "{refused}");
    let (_, sent) = submit(&s, &carol, &action.secret, "TASK:t-grade", "").await;
    assert_eq!(sent["title"], "Sent to Workfront", "{sent}");
    wait_until("carol's document", WAIT, || sandbox.workfront_documents().len() == 2).await;
    assert_eq!(sandbox.workfront_documents()[1]["objID"], "t-grade");

    // A complete task, a task of another project, a form nobody clicked: refused, saying why.
    let alice = body_for(&s, &action.id, "interaction-odd", "fio-alice", "file-2", "file");
    post(&s, &alice, &action.secret, 0).await;
    let (_, done) = submit(&s, &alice, &action.secret, "TASK:t-done", "").await;
    assert!(done["description"].as_str().unwrap().contains("complete"), "{done}");
    let (_, other) = submit(&s, &alice, &action.secret, "TASK:t-other", "").await;
    assert!(
        other["description"].as_str().unwrap().contains("another-project"),
        "{other}"
    );
    let unknown = body_for(
        &s,
        &action.id,
        "interaction-never-clicked",
        "fio-alice",
        "file-2",
        "file",
    );
    let (_, stale) = submit(&s, &unknown, &action.secret, "TASK:t-story", "").await;
    assert!(
        stale["description"].as_str().unwrap().contains("run the action again"),
        "{stale}"
    );
    let (status, bad) = submit(&s, &alice, &action.secret, "DOCU:x", "").await;
    assert_eq!(status, 400);
    assert!(bad.as_str().unwrap().contains("data.target"), "{bad}");
    drained(&s.app).await;
    assert_eq!(sandbox.workfront_documents().len(), 2);

    // A task completed in Workfront leaves the form after the next poll.
    sandbox.update_workfront_task("t-story", |t| t["status"] = "CPL".into());
    s.app.resync_and_wait().await;
    let (_, form) = post(
        &s,
        &body_for(&s, &action.id, "interaction-later", "fio-alice", "file-1", "file"),
        &action.secret,
        0,
    )
    .await;
    let values: Vec<&str> = form["fields"][0]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["value"].as_str().unwrap())
        .collect();
    assert_eq!(values, [format!("PROJ:{}", s.wf_project).as_str(), "TASK:t-grade"]);
}
