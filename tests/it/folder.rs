//! The one-way folder (F7) end to end on the sandbox: the current version of every Workfront
//! document on a Current project arrives in the mirror's "From Workfront" folder, made once, with
//! the same bytes; a new version stacks on the previous one, newest on top; a project's status
//! gates its documents (custom statuses through what they equate with); a document removed in
//! Workfront is reported and its file left in place; a document over `folder.max_file_size` is
//! skipped with the reason; documents that came from Frame.io are never copied back.

use crate::helpers::{wait_until, TestApp};
use frameio_sync_sandbox::files::FileContent;
use frameio_sync_sandbox::{Limits, World};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);

fn pattern(size: u64, seed: u8) -> FileContent {
    FileContent::Pattern { size, seed }
}

async fn pushed(app: &TestApp, n: usize) {
    let store = app.store().clone();
    wait_until(&format!("{n} document versions pushed"), WAIT, move || {
        store.pushed_all().unwrap().len() >= n
    })
    .await;
}

fn mirror_of(app: &TestApp, wf_project: &str) -> String {
    app.store()
        .mirror(&frameio_sync::ids::WorkfrontProjectId::new(wf_project).unwrap())
        .unwrap()
        .expect("a mirror")
        .frameio_project
        .to_string()
}

/// The folders named `name` at the mirror's root.
fn folders_named(app: &TestApp, mirror: &str, parent: &str, name: &str) -> Vec<String> {
    app.sandbox
        .frameio_folders(mirror)
        .into_iter()
        .filter(|(_, p, n)| p == parent && n == name)
        .map(|(id, _, _)| id)
        .collect()
}

fn status_text(app: &TestApp) -> String {
    let config = app.config_path.clone();
    let out = crate::cli::cli(&config, &["status"]);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workfront_documents_arrive_in_the_folder_once_stack_their_versions_and_follow_the_status() {
    let mut app = TestApp::prepare(World::generated(2), Limits::unlimited()).await;
    app.settings.folder.enabled = true;
    app.settings.folder.include_tasks = true;
    app.settings.folder.max_file_size = 8 << 20;
    app.sandbox.set_upload_part_size(1 << 20);
    let (current, planning) = {
        let world = app.sandbox.world();
        (
            world.workfront.projects[0].id.clone(),
            world.workfront.projects[1].id.clone(),
        )
    };
    app.sandbox.set_workfront_project_status(&planning, "PLN");
    let brief_v1 = FileContent::Bytes(b"The brief, first draft".to_vec());
    let brief = app
        .sandbox
        .add_workfront_document(&current, "Brief.pdf", brief_v1.clone(), false);
    let board = app
        .sandbox
        .add_workfront_document(&current, "Storyboard.pdf", pattern(2_500_000, 5), false);
    app.sandbox.add_workfront_document(
        &current,
        "Cut v3.mov",
        FileContent::Bytes(b"from frame.io".to_vec()),
        true,
    );
    let huge = app
        .sandbox
        .add_workfront_document(&current, "Master.mov", pattern(9 << 20, 1), false);
    app.sandbox.add_workfront_holder_document(
        &current,
        ("TASK", "t-shoot", "Shoot"),
        "Call sheet.pdf",
        FileContent::Bytes(b"call at 7".to_vec()),
    );
    let plan_doc =
        app.sandbox
            .add_workfront_document(&planning, "Plan.pdf", FileContent::Bytes(b"the plan".to_vec()), false);
    app.start();
    let sandbox = &app.sandbox;
    app.wait_for_mirrors(2).await;
    pushed(&app, 3).await;
    crate::submissions::drained(&app).await;

    // One folder at the root of the Current project's mirror, with the two documents (the
    // one from Frame.io is not copied back; the one over the limit is skipped), and a subfolder
    // for the task's document.
    let mirror = mirror_of(&app, &current);
    let root = sandbox.frameio_root_folder(&mirror);
    let folder = folders_named(&app, &mirror, &root, "From Workfront");
    assert_eq!(folder.len(), 1, "{:?}", sandbox.frameio_folders(&mirror));
    let folder = folder[0].clone();
    let files = sandbox.frameio_folder_files(&folder);
    let names: Vec<&str> = files.iter().map(|(_, n, _, _)| n.as_str()).collect();
    assert_eq!(names, ["Brief.pdf", "Storyboard.pdf"], "{files:?}");
    assert!(files.iter().all(|(_, _, _, whole)| *whole));
    let bytes_of = |name: &str| {
        let id = &sandbox
            .frameio_folder_files(&folder)
            .into_iter()
            .find(|(_, n, _, _)| n == name)
            .unwrap()
            .0;
        sandbox.frameio_file_bytes(id).unwrap()
    };
    assert_eq!(bytes_of("Brief.pdf"), brief_v1.to_vec());
    assert_eq!(
        bytes_of("Storyboard.pdf"),
        pattern(2_500_000, 5).to_vec(),
        "3 parts, the same bytes"
    );
    let shoot = folders_named(&app, &mirror, &folder, "Shoot");
    assert_eq!(shoot.len(), 1);
    let in_shoot = sandbox.frameio_folder_files(&shoot[0]);
    assert_eq!(in_shoot.len(), 1);
    assert_eq!(sandbox.frameio_file_bytes(&in_shoot[0].0).unwrap(), b"call at 7");
    // The Planning project's mirror has no folder.
    let other = mirror_of(&app, &planning);
    assert!(sandbox.frameio_folders(&other).is_empty());
    let text = tokio::task::spawn_blocking({
        let app_config = app.config_path.clone();
        move || String::from_utf8_lossy(&crate::cli::cli(&app_config, &["status"]).stdout).into_owned()
    })
    .await
    .unwrap();
    assert!(
        text.contains("one-way folder: 3 document versions in Frame.io, 1 skipped"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "skipped \"Master.mov\" (document {huge}, project {current}): 9437184 bytes, over folder.max_file_size (8388608 bytes)"
        )),
        "{text}"
    );

    // Polls again change nothing: the folder is made once, each version pushed once.
    app.resync_and_wait().await;
    app.resync_and_wait().await;
    crate::submissions::drained(&app).await;
    assert_eq!(sandbox.frameio_folders(&mirror).len(), 2);
    assert_eq!(sandbox.frameio_folder_files(&folder).len(), 2);
    assert_eq!(app.store().pushed_all().unwrap().len(), 3);

    // A new version uploads a new file and stacks it on the first, newest on top; a third goes
    // on top of the same stack.
    let brief_v2 = FileContent::Bytes(b"The brief, second draft".to_vec());
    sandbox.add_workfront_document_version(&brief, "Brief.pdf", brief_v2.clone());
    pushed(&app, 4).await;
    let stacks = sandbox.frameio_folder_stacks(&folder);
    assert_eq!(stacks.len(), 1, "{stacks:?}");
    assert_eq!(stacks[0].len(), 2);
    assert_eq!(sandbox.frameio_file_bytes(&stacks[0][1]).unwrap(), brief_v2.to_vec());
    assert_eq!(sandbox.frameio_file_bytes(&stacks[0][0]).unwrap(), brief_v1.to_vec());
    let brief_v3 = FileContent::Bytes(b"The brief, final".to_vec());
    sandbox.add_workfront_document_version(&brief, "Brief final.pdf", brief_v3.clone());
    pushed(&app, 5).await;
    let stacks = sandbox.frameio_folder_stacks(&folder);
    assert_eq!(stacks.len(), 1, "{stacks:?}");
    assert_eq!(stacks[0].len(), 3);
    assert_eq!(
        sandbox.counts().frameio_stack_reorders,
        0,
        "a moved-in file landed on top"
    );
    assert_eq!(sandbox.frameio_file_bytes(&stacks[0][2]).unwrap(), brief_v3.to_vec());
    let loose: Vec<String> = sandbox.frameio_folder_files(&folder).into_iter().map(|f| f.1).collect();
    assert_eq!(
        loose,
        ["Storyboard.pdf"],
        "the stacked versions are in the stack, not loose"
    );

    // A project whose (custom) status equates with Current gets its documents then.
    assert!(sandbox.frameio_folders(&other).is_empty());
    sandbox.set_workfront_project_status(&planning, "WSX");
    pushed(&app, 6).await;
    let other_root = sandbox.frameio_root_folder(&other);
    let other_folder = folders_named(&app, &other, &other_root, "From Workfront");
    assert_eq!(other_folder.len(), 1);
    let plan_files = sandbox.frameio_folder_files(&other_folder[0]);
    assert_eq!(plan_files.len(), 1);
    assert_eq!(sandbox.frameio_file_bytes(&plan_files[0].0).unwrap(), b"the plan");
    let _ = plan_doc;

    // A document removed in Workfront is reported; its Frame.io file stays.
    sandbox.remove_workfront_document(&board);
    let store = app.store().clone();
    wait_until("the removal reported", WAIT, move || {
        store
            .folder_reports()
            .unwrap()
            .iter()
            .any(|(_, r)| r.removed.iter().any(|d| d.name == "Storyboard.pdf"))
    })
    .await;
    assert_eq!(sandbox.frameio_folder_files(&folder).len(), 1, "the file stays");
    app.stop().await;
    app.take_store();
    let text = tokio::task::spawn_blocking(move || status_text(&app)).await.unwrap();
    assert!(
        text.contains(&format!(
            "removed in Workfront: \"Storyboard.pdf\" (document {board}, project {current}); its Frame.io file is left in place"
        )),
        "{text}"
    );
}

/// Polls an hour apart: a Workfront document event brings a new document to the folder at once;
/// it is a hint, not an event to record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workfront_document_event_brings_the_document_without_waiting_for_a_poll() {
    let mut app = TestApp::prepare(World::generated(1), Limits::unlimited()).await;
    app.enable_http("folder-token");
    app.settings.folder.enabled = true;
    app.settings.workfront.poll_interval = Duration::from_secs(3600);
    assert!(frameio_sync::subscribe::wanted(&app.settings).contains(&("DOCU", "CREATE")));
    let wf_project = app.sandbox.world().workfront.projects[0].id.clone();
    app.sandbox
        .add_workfront_document(&wf_project, "Brief.pdf", FileContent::Bytes(b"brief".to_vec()), false);
    app.start();
    app.wait_for_mirrors(1).await;
    pushed(&app, 1).await;
    let document = app.sandbox.add_workfront_document(
        &wf_project,
        "Moodboard.png",
        FileContent::Bytes(b"mood".to_vec()),
        false,
    );
    let event = serde_json::json!({
        "eventType": "CREATE", "subscriptionId": "sub-docu", "eventTime": { "epochSecond": 1_800_000_000 },
        "newState": { "objCode": "DOCU", "ID": document, "projectID": wf_project, "name": "Moodboard.png" },
    });
    let port = app.http_url().rsplit(':').next().unwrap().parse().unwrap();
    let status = crate::helpers::deliver_event(port, "folder-token", event.to_string()).await;
    assert_eq!(status, Some(200));
    pushed(&app, 2).await;
    assert_eq!(app.store().inbox_len(), 0);
    let mirror = mirror_of(&app, &wf_project);
    let root = app.sandbox.frameio_root_folder(&mirror);
    let folder = folders_named(&app, &mirror, &root, "From Workfront");
    let names: Vec<String> = app
        .sandbox
        .frameio_folder_files(&folder[0])
        .into_iter()
        .map(|f| f.1)
        .collect();
    assert_eq!(names, ["Brief.pdf", "Moodboard.png"]);
}

/// Where a file moved into a version stack lands is not documented: when it lands at the bottom,
/// the daemon moves it to the top, so the newest version is the stack's head either way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_version_that_lands_at_the_bottom_of_its_stack_is_moved_to_the_top() {
    let mut app = TestApp::prepare(World::generated(1), Limits::unlimited()).await;
    app.settings.folder.enabled = true;
    app.sandbox.set_stack_move_to_bottom(true);
    let wf_project = app.sandbox.world().workfront.projects[0].id.clone();
    let brief = app
        .sandbox
        .add_workfront_document(&wf_project, "Brief.pdf", FileContent::Bytes(b"v1".to_vec()), false);
    app.start();
    app.wait_for_mirrors(1).await;
    pushed(&app, 1).await;
    for (n, bytes) in [(2, b"v2"), (3, b"v3")] {
        app.sandbox
            .add_workfront_document_version(&brief, "Brief.pdf", FileContent::Bytes(bytes.to_vec()));
        pushed(&app, n).await;
    }
    crate::submissions::drained(&app).await;
    let mirror = mirror_of(&app, &wf_project);
    let root = app.sandbox.frameio_root_folder(&mirror);
    let folder = folders_named(&app, &mirror, &root, "From Workfront");
    let stacks = app.sandbox.frameio_folder_stacks(&folder[0]);
    assert_eq!(stacks.len(), 1);
    let contents: Vec<Vec<u8>> = stacks[0]
        .iter()
        .map(|f| app.sandbox.frameio_file_bytes(f).unwrap())
        .collect();
    assert_eq!(
        contents,
        [b"v1".to_vec(), b"v2".to_vec(), b"v3".to_vec()],
        "oldest first, the newest on top"
    );
    assert_eq!(
        app.sandbox.counts().frameio_stack_reorders,
        1,
        "only the moved-in version needed it"
    );
}

/// A backfill of documents never holds up a new mirror: with uploads and creates at 2 a second, a
/// project created while 60 documents wait to be pushed is mirrored within seconds, long before the
/// backlog is done (pushes are backfill in their lane; fresh work goes first).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_mirror_goes_ahead_of_a_document_backlog() {
    const DOCS: usize = 60;
    let mut app = TestApp::prepare(World::generated(1), Limits::creates_per_second(2)).await;
    app.settings.folder.enabled = true;
    let wf_project = app.sandbox.world().workfront.projects[0].id.clone();
    for i in 0..DOCS {
        app.sandbox.add_workfront_document(
            &wf_project,
            &format!("Reference {i}.jpg"),
            FileContent::Bytes(format!("reference {i}").into_bytes()),
            false,
        );
    }
    app.start();
    app.wait_for_mirrors(1).await;
    pushed(&app, 3).await;
    app.sandbox
        .upsert_workfront_project("5c0000000000000000000000000fresh", "Fresh project");
    app.wait_for_mirrors(2).await;
    let done = app.store().pushed_all().unwrap().len();
    assert!(
        done < DOCS / 2,
        "the new mirror waited behind the backlog ({done} of {DOCS} pushed first)"
    );
    pushed(&app, DOCS).await;
}
