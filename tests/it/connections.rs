//! F2: group connections, from `connect-group` to projects landing in the right accounts.

use crate::cli::cli;
use crate::helpers::{wait_until, write_config, TestApp, WF_KEY};
use frameio_sync_sandbox::world::ProjectRow;
use frameio_sync_sandbox::{Limits, World};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub(crate) const TOKEN_B: &str = "fio-u-token-for-marketing-0000000000000000";
pub(crate) const TOKEN_C: &str = "fio-u-token-for-post-1111111111111111111111";

fn run_cli(config: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = cli(config, args);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn run_cli_async(config: PathBuf, args: Vec<String>) -> (Option<i32>, String, String) {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_cli(&config, &args)
    })
    .await
    .unwrap()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

// ---- connect-group against wiremock -------------------------------------------------------

struct Mocks {
    /// Kept alive for the test's length: dropping it stops the mock Workfront.
    _workfront: MockServer,
    frameio: MockServer,
    dir: tempfile::TempDir,
    config: PathBuf,
    token_file: PathBuf,
}

async fn mocks(accounts: Value) -> Mocks {
    let workfront = MockServer::start().await;
    let frameio = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/attask/api/v21.0/group/G1"))
        .and(header("apiKey", WF_KEY))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "data": { "ID": "G1", "name": "Marketing", "parentID": null } })),
        )
        .mount(&workfront)
        .await;
    Mock::given(method("GET"))
        .and(path("/attask/api/v21.0/group/G404"))
        .respond_with(ResponseTemplate::new(404).set_body_json(
            json!({ "error": { "class": "com.attask.common.NotFoundException", "message": "GROUP not found" } }),
        ))
        .mount(&workfront)
        .await;
    Mock::given(method("GET"))
        .and(path("/v4/me"))
        .and(header("authorization", format!("Bearer {TOKEN_B}").as_str()))
        .and(header("x-frameio-legacy-token-auth", "true"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({ "data": { "id": "u-b", "email": "b@x", "name": "B" } })),
        )
        .mount(&frameio)
        .await;
    Mock::given(method("GET"))
        .and(path("/v4/me"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({ "errors": [ { "title": "Unauthorized", "detail": "invalid token" } ] })),
        )
        .with_priority(10)
        .mount(&frameio)
        .await;
    Mock::given(method("GET"))
        .and(path("/v4/accounts"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": accounts, "links": { "next": null } })))
        .mount(&frameio)
        .await;
    for account in ["acc-1", "acc-2"] {
        Mock::given(method("GET"))
            .and(path(format!("/v4/accounts/{account}/workspaces")))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({ "data": [ { "id": format!("ws-{account}"), "name": "Other" } ] })),
            )
            .mount(&frameio)
            .await;
        Mock::given(method("POST"))
            .and(path(format!("/v4/accounts/{account}/workspaces")))
            .and(body_json(json!({ "data": { "name": "Marketing" } })))
            .respond_with(
                ResponseTemplate::new(201)
                    .set_body_json(json!({ "data": { "id": format!("ws-new-{account}"), "name": "Marketing" } })),
            )
            .mount(&frameio)
            .await;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &workfront.uri(), &frameio.uri(), "");
    let token_file = dir.path().join("group-token");
    std::fs::write(&token_file, format!("{TOKEN_B}\n")).unwrap();
    Mocks {
        _workfront: workfront,
        frameio,
        dir,
        config,
        token_file,
    }
}

fn connect(m: &Mocks, group: &str, extra: &[&str]) -> (Option<i32>, String, String) {
    let mut a = vec![
        "connect-group",
        "--group",
        group,
        "--token-file",
        m.token_file.to_str().unwrap(),
    ];
    a.extend_from_slice(extra);
    run_cli(&m.config, &a)
}

fn stored_connections(m: &Mocks) -> Vec<Value> {
    let (_, stdout, _) = run_cli(&m.config, &["connections", "--json"]);
    serde_json::from_str(&stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_account_is_used_and_a_workspace_named_after_the_group_is_created() {
    let m = mocks(json!([ { "id": "acc-1", "display_name": "Acme" } ])).await;
    let (code, stdout, stderr) = tokio::task::block_in_place(|| connect(&m, "G1", &[]));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("connected group G1 (Marketing) to Frame.io account acc-1 (Acme), workspace ws-new-acc-1 (Marketing, created)"), "{stdout}");
    let listed = tokio::task::block_in_place(|| stored_connections(&m));
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["workspace"], "ws-new-acc-1");
    let fingerprint = listed[0]["token_fingerprint"].as_str().unwrap();
    assert!(fingerprint.starts_with("sha256:"));
    // The token is at rest in a 0600 file of the state dir, and nowhere in what the CLI shows.
    use std::os::unix::fs::PermissionsExt;
    let token_path = m.dir.path().join("state/tokens/G1");
    assert_eq!(
        std::fs::metadata(&token_path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(std::fs::read_to_string(&token_path).unwrap(), TOKEN_B);
    let (_, status, _) = tokio::task::block_in_place(|| run_cli(&m.config, &["status", "--json"]));
    assert!(!status.contains(TOKEN_B) && !stdout.contains(TOKEN_B));
    assert!(status.contains(fingerprint));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_accounts_need_account_and_every_account_is_listed() {
    let m =
        mocks(json!([ { "id": "acc-1", "display_name": "Acme" }, { "id": "acc-2", "display_name": "Acme Agency" } ]))
            .await;
    let (code, _, stderr) = tokio::task::block_in_place(|| connect(&m, "G1", &[]));
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("can reach 2 accounts; choose one with --account"),
        "{stderr}"
    );
    assert!(
        stderr.contains("acc-1  Acme") && stderr.contains("acc-2  Acme Agency"),
        "{stderr}"
    );
    assert!(
        tokio::task::block_in_place(|| stored_connections(&m)).is_empty(),
        "nothing stored"
    );

    let (code, stdout, stderr) =
        tokio::task::block_in_place(|| connect(&m, "G1", &["--account", "acc-2", "--workspace", "ws-acc-2"]));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("account acc-2 (Acme Agency), workspace ws-acc-2 (Other, reused)"),
        "{stdout}"
    );

    let (code, _, stderr) = tokio::task::block_in_place(|| connect(&m, "G1", &["--account", "acc-9"]));
    assert_eq!(code, Some(2));
    assert!(stderr.contains("cannot reach account acc-9; it can reach:"), "{stderr}");
    let (code, _, stderr) =
        tokio::task::block_in_place(|| connect(&m, "G1", &["--account", "acc-1", "--workspace", "ws-nope"]));
    assert_eq!(code, Some(2));
    assert!(stderr.contains("workspace ws-nope is not in account acc-1"), "{stderr}");
    // The failed attempts left the stored connection as it was.
    assert_eq!(
        tokio::task::block_in_place(|| stored_connections(&m))[0]["account"],
        "acc-2"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_token_or_an_unknown_group_stores_nothing() {
    let m = mocks(json!([ { "id": "acc-1", "display_name": "Acme" } ])).await;
    let (code, _, stderr) = tokio::task::block_in_place(|| connect(&m, "G404", &[]));
    assert_eq!(code, Some(2));
    assert!(stderr.contains("Workfront group G404 does not exist"), "{stderr}");
    assert!(
        m.frameio.received_requests().await.unwrap().is_empty(),
        "no Frame.io call for an unknown group"
    );

    std::fs::write(&m.token_file, "fio-u-revoked").unwrap();
    let (code, _, stderr) = tokio::task::block_in_place(|| connect(&m, "G1", &[]));
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("Frame.io refused the developer token") && stderr.contains("HTTP 401"),
        "{stderr}"
    );
    assert!(!stderr.contains("fio-u-revoked"));
    assert!(tokio::task::block_in_place(|| stored_connections(&m)).is_empty());
}

// ---- end to end on the sandbox --------------------------------------------------------------

/// Groups: Marketing (connected, account B) ⊃ Brand (not connected); Post (connected, account
/// C); Other (not connected → the default account A).
fn three_account_world() -> World {
    let mut world = World::demo();
    world.workfront.projects.clear();
    let groups = [
        ("g-mkt", "Marketing", None),
        ("g-brand", "Brand", Some("g-mkt")),
        ("g-post", "Post", None),
        ("g-other", "Other", None),
    ];
    world.workfront.groups = groups
        .iter()
        .map(|(id, name, parent)| json!({ "ID": id, "name": name, "parentID": parent }))
        .collect();
    for (i, group) in ["g-mkt", "g-brand", "g-post", "g-other", "g-mkt", "g-post"]
        .iter()
        .enumerate()
    {
        world.workfront.projects.push(ProjectRow::in_group(
            format!("5d{i:030x}"),
            format!("Project {i} of {group}"),
            group,
        ));
    }
    world
}

/// The three-account world, with accounts B and C and the tokens that reach them; no daemon yet.
pub(crate) async fn three_account_app() -> TestApp {
    let app = TestApp::prepare(three_account_world(), Limits::unlimited()).await;
    app.sandbox
        .add_account("acc-b", "Marketing Co", "ws-b-existing", "Existing");
    app.sandbox.add_account("acc-c", "Post House", "ws-c-existing", "Post");
    app.sandbox.add_token(TOKEN_B, &["acc-b"]);
    app.sandbox.add_token(TOKEN_C, &["acc-c"]);
    app
}

/// `world` with accounts B (workspace ws-b) and C (ws-c), and Marketing and Post connected to
/// them; no daemon yet.
async fn marketing_and_post_connected(world: World, limits: Limits) -> TestApp {
    let app = TestApp::prepare(world, limits).await;
    app.sandbox.add_account("acc-b", "Marketing Co", "ws-b", "Marketing");
    app.sandbox.add_account("acc-c", "Post House", "ws-c", "Post");
    app.sandbox.add_token(TOKEN_B, &["acc-b"]);
    app.sandbox.add_token(TOKEN_C, &["acc-c"]);
    connect_marketing_and_post(&app).await;
    app
}

/// How many Frame.io projects `account` holds.
fn mirrors_in(sandbox: &frameio_sync_sandbox::Sandbox, account: &str) -> usize {
    sandbox
        .frameio_projects()
        .iter()
        .filter(|p| p.account_id == account)
        .count()
}

/// Connects Marketing (token B) and Post (token C) with `connect-group`; returns what it printed.
pub(crate) async fn connect_marketing_and_post(app: &TestApp) -> Vec<String> {
    let mut printed = Vec::new();
    for (group, token) in [("g-mkt", TOKEN_B), ("g-post", TOKEN_C)] {
        let file = app.dir().join(format!("{group}.token"));
        std::fs::write(&file, token).unwrap();
        let connect = args(&[
            "connect-group",
            "--group",
            group,
            "--token-file",
            file.to_str().unwrap(),
        ]);
        let (code, stdout, stderr) = run_cli_async(app.config_path.clone(), connect).await;
        assert_eq!(code, Some(0), "{stderr}");
        printed.push(stdout);
    }
    printed
}

fn accounts_by_project(app: &TestApp) -> HashMap<String, String> {
    app.sandbox
        .frameio_projects()
        .into_iter()
        .map(|p| (p.name, p.account_id))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projects_of_two_connected_groups_and_the_default_land_in_three_accounts_once_each() {
    let mut app = three_account_app().await;
    for stdout in connect_marketing_and_post(&app).await {
        assert!(stdout.contains("the daemon is not running"), "{stdout}");
    }
    app.start();
    app.wait_for_mirrors(6).await;
    let placed = accounts_by_project(&app);
    let default_account = World::demo().default_target().0.to_owned();
    let expected = [
        ("Project 0 of g-mkt", "acc-b"),
        ("Project 1 of g-brand", "acc-b"),
        ("Project 2 of g-post", "acc-c"),
        ("Project 3 of g-other", default_account.as_str()),
        ("Project 4 of g-mkt", "acc-b"),
        ("Project 5 of g-post", "acc-c"),
    ];
    for (name, account) in expected {
        assert_eq!(placed.get(name).map(String::as_str), Some(account), "{name}");
    }
    assert_eq!(app.sandbox.frameio_projects().len(), 6, "exactly once each");
    // Marketing's workspace was created (no workspace had its name); Post's was reused.
    let workspaces: Vec<String> = app
        .sandbox
        .frameio_projects()
        .iter()
        .filter(|p| p.account_id == "acc-c")
        .map(|p| p.workspace_id.clone())
        .collect();
    assert!(workspaces.iter().all(|w| w == "ws-c-existing"), "{workspaces:?}");

    // A resync changes nothing; a project whose group moves keeps its mirror and is reported.
    let record = app.resync_and_wait().await;
    assert_eq!((record.enqueued, record.rerouted_total), (0, 0));
    app.sandbox
        .upsert_workfront_project_in("5d000000000000000000000000000000", "Project 0 of g-mkt", "g-post");
    let record = app.resync_and_wait().await;
    assert_eq!(record.rerouted_total, 1);
    assert_eq!(
        record.rerouted[0].now_routes_to.as_ref().unwrap().account.as_str(),
        "acc-c"
    );
    assert_eq!(app.sandbox.frameio_projects().len(), 6, "never moved or duplicated");
    let (_, status, _) = run_cli_async(app.config_path.clone(), args(&["status"])).await;
    assert!(
        status.contains("1 mirrored projects now route to another account"),
        "{status}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_parks_its_work_shows_broken_and_a_new_token_resumes_it() {
    let mut world = three_account_world();
    world
        .workfront
        .projects
        .retain(|p| p.group_id.as_deref() == Some("g-post"));
    let mut app = TestApp::prepare(world, Limits::unlimited()).await;
    app.sandbox.add_account("acc-c", "Post House", "ws-c", "Post");
    app.sandbox.add_token(TOKEN_C, &["acc-c"]);
    let file = app.dir().join("post.token");
    std::fs::write(&file, TOKEN_C).unwrap();
    let connect = args(&[
        "connect-group",
        "--group",
        "g-post",
        "--token-file",
        file.to_str().unwrap(),
    ]);
    assert_eq!(run_cli_async(app.config_path.clone(), connect.clone()).await.0, Some(0));
    app.start();
    app.wait_for_mirrors(2).await;

    // Frame.io stops accepting the token; a new project in the group arrives.
    app.sandbox.revoke_token(TOKEN_C);
    app.sandbox
        .upsert_workfront_project_in("5d00000000000000000000000000new1", "Late Post project", "g-post");
    let store = app.store().clone();
    wait_until("the work parked", Duration::from_secs(30), || {
        store.outbox_counts().unwrap().parked == 1
    })
    .await;
    let requests_after_park = app.sandbox.counts().frameio_requests;
    let (_, status, _) = run_cli_async(app.config_path.clone(), args(&["status", "--json"])).await;
    let status: Value = serde_json::from_str(&status).unwrap();
    assert!(
        status["connections"][0]["broken"]
            .as_str()
            .unwrap()
            .contains("HTTP 401"),
        "{status}"
    );
    assert_eq!(status["daemon_running"], true);

    // No hot loop: nothing more is sent with the refused token.
    app.resync_and_wait().await;
    assert_eq!(app.sandbox.counts().frameio_requests, requests_after_park);

    // A new token, given to the running daemon, resumes the parked work by itself.
    const NEW: &str = "fio-u-new-token-for-post-22222222222222222";
    app.sandbox.add_token(NEW, &["acc-c"]);
    std::fs::write(&file, NEW).unwrap();
    let (code, stdout, stderr) = run_cli_async(app.config_path.clone(), connect).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("1 parked entries resumed"), "{stdout}");
    app.wait_for_mirrors(3).await;
    assert!(app.store().connections().unwrap()[0].broken.is_none());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_connections_throttling_never_slows_another() {
    // Marketing has a long backlog; Post has five projects whose IDs sort after all of it.
    let mut world = three_account_world();
    world.workfront.projects.clear();
    for i in 0..30 {
        world.workfront.projects.push(ProjectRow::in_group(
            format!("5a{i:030x}"),
            format!("Marketing {i}"),
            "g-mkt",
        ));
    }
    for i in 0..5 {
        world.workfront.projects.push(ProjectRow::in_group(
            format!("5f{i:030x}"),
            format!("Post {i}"),
            "g-post",
        ));
    }
    let mut app = marketing_and_post_connected(world, Limits::creates_per_second(5)).await;
    app.start();
    wait_until("Post's five mirrors", Duration::from_secs(30), || {
        mirrors_in(&app.sandbox, "acc-c") == 5
    })
    .await;
    let marketing_done = mirrors_in(&app.sandbox, "acc-b");
    eprintln!("throttling: Post's 5 mirrors were done when Marketing had {marketing_done} of 30");
    // Marketing is paced at 5 a second: most of its 30 are still waiting when Post is done.
    assert!(
        marketing_done < 20,
        "Post waited behind Marketing's backlog ({marketing_done} of 30 done)"
    );
    app.wait_for_mirrors(35).await;
    assert_eq!(app.sandbox.frameio_projects().len(), 35);
    app.stop().await;
}

/// Each credential has its own lane: while Frame.io takes 20 s over each of Marketing's requests
/// (an outage of that user's requests), Post's mirrors, queued behind Marketing's, are made at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_connections_outage_never_holds_up_another() {
    let mut world = three_account_world();
    world.workfront.projects.clear();
    let mut app = marketing_and_post_connected(world, Limits::unlimited()).await;
    app.start();
    let store = app.store().clone();
    wait_until("the first sync", Duration::from_secs(30), || {
        store.last_sync().unwrap().is_some()
    })
    .await;
    // Marketing's user is slowed down; then ten projects appear, Marketing's sorting first.
    app.sandbox.set_slow_token(TOKEN_B, Some(Duration::from_secs(20)));
    for (prefix, name, group) in [("5a", "Marketing", "g-mkt"), ("5f", "Post", "g-post")] {
        for i in 0..5 {
            app.sandbox
                .upsert_workfront_project_in(&format!("{prefix}{i:030x}"), &format!("{name} {i}"), group);
        }
    }
    let in_account = |account: &str| mirrors_in(&app.sandbox, account);
    // One sequential worker would need 100 s of Marketing's creates first.
    wait_until("Post's five mirrors", Duration::from_secs(15), || {
        in_account("acc-c") == 5
    })
    .await;
    assert!(in_account("acc-b") < 5, "Marketing's requests were slow");
    app.sandbox.set_slow_token(TOKEN_B, None);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_action_creates_the_action_in_the_default_and_every_connected_workspace() {
    let mut app = three_account_app().await;
    connect_marketing_and_post(&app).await;
    app.start();
    app.wait_for_mirrors(6).await;
    let register = args(&["register-action", "--url", "https://sync.example.test"]);
    let (code, stdout, stderr) = run_cli_async(app.config_path.clone(), register.clone()).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout.matches("created").count(), 3, "{stdout}");
    let mut accounts: Vec<String> = app
        .sandbox
        .frameio_actions()
        .iter()
        .map(|a| a.account_id.clone())
        .collect();
    accounts.sort();
    let default_account = World::demo().default_target().0.to_owned();
    let mut expected = vec!["acc-b".to_owned(), "acc-c".to_owned(), default_account];
    expected.sort();
    assert_eq!(accounts, expected, "one action per account the daemon mirrors into");
    // Each secret is stored for the daemon, never printed.
    for action in app.sandbox.frameio_actions() {
        let stored = app.settings.state.dir.join("actions").join(&action.id);
        assert_eq!(std::fs::read_to_string(stored).unwrap(), action.secret);
        assert!(!stdout.contains(&action.secret));
    }
    let (code, stdout, _) = run_cli_async(app.config_path.clone(), register).await;
    assert_eq!(code, Some(0));
    assert_eq!(stdout.matches("kept").count(), 3, "{stdout}");
    assert_eq!(app.sandbox.frameio_actions().len(), 3);
}
