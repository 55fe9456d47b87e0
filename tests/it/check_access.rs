//! F6/F8 from the command line: `check-access` against a Workfront on wiremock.

use crate::cli::cli;
use crate::helpers::{settings_for, write_config, WF_KEY};
use frameio_sync::ids::{WorkfrontProjectId, WorkfrontUserId};
use frameio_sync::workfront::access::AccessFetcher;
use frameio_sync::workfront::WorkfrontClient;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const API: &str = "/attask/api/v21.0";
const FLAG: &str = "DE:Add to projects in Frame.io";

async fn mount(server: &MockServer, obj_path: &str, data: Value) {
    Mock::given(method("GET"))
        .and(path(format!("{API}/{obj_path}")))
        .and(header("apiKey", WF_KEY))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": data })))
        .mount(server)
        .await;
}

fn user(id: &str, level: &str, flag: &str) -> Value {
    json!({
        "ID": id, "name": format!("User {id}"), "isActive": true, "accessLevelID": level,
        "roleID": "R1", "companyID": "C1", "homeGroupID": "G0",
        "teams": [ { "ID": "T1" } ], "userGroups": [ { "groupID": "G1" } ], FLAG: flag
    })
}

/// A tenant with: Standard, External and a custom Contributor-licensed level; project P1 shared
/// with team T1 as Contribute; project P2 with no shares of its own in portfolio PORT2, which is
/// shared with group G1 as Contribute; project P3 shared with T1 but without ADD_DOCUMENTS.
async fn tenant() -> MockServer {
    let server = MockServer::start().await;
    mount(
        &server,
        "acslvl/AL-STD",
        json!({ "ID": "AL-STD", "name": "Standard", "isAdmin": false, "licenseType": "F" }),
    )
    .await;
    mount(
        &server,
        "acslvl/AL-EXT",
        json!({ "ID": "AL-EXT", "name": "External", "isAdmin": false, "licenseType": "X" }),
    )
    .await;
    mount(
        &server,
        "acslvl/AL-REV",
        json!({ "ID": "AL-REV", "name": "Reviewers", "isAdmin": false, "licenseType": "C",
                "accessLevelPermissions": [ { "objObjCode": "DOCU", "coreAction": "VIEW" }, { "objObjCode": "PROJ", "coreAction": "EDIT" } ] }),
    )
    .await;
    mount(&server, "user/U1", user("U1", "AL-STD", "Yes")).await;
    mount(&server, "user/U2", user("U2", "AL-EXT", "Yes")).await;
    mount(&server, "user/U3", user("U3", "AL-REV", "Yes")).await;
    mount(&server, "user/U4", user("U4", "AL-STD", "No")).await;
    let rule = |accessor: &str, code: &str, forbidden: Value| json!({ "accessorID": accessor, "accessorObjCode": code, "coreAction": "LIMITED_EDIT", "forbiddenActions": forbidden });
    mount(
        &server,
        "proj/P1",
        json!({ "ID": "P1", "name": "Launch", "ownerID": "O1", "accessRules": [ rule("T1", "TEAMOB", json!([])) ] }),
    )
    .await;
    mount(
        &server,
        "proj/P2",
        json!({ "ID": "P2", "name": "Refresh", "ownerID": "O1", "portfolioID": "PORT2", "accessRules": [] }),
    )
    .await;
    mount(
        &server,
        "port/PORT2",
        json!({ "ID": "PORT2", "name": "Brand", "ownerID": "O1", "accessRules": [ rule("G1", "GROUP", json!([])) ] }),
    )
    .await;
    mount(&server, "proj/P3", json!({ "ID": "P3", "name": "Locked", "ownerID": "O1", "accessRules": [ rule("T1", "TEAMOB", json!(["ADD_DOCUMENTS"])) ] })).await;
    Mock::given(method("GET"))
        .and(path(format!("{API}/user/U9")))
        .respond_with(ResponseTemplate::new(404).set_body_json(
            json!({ "error": { "class": "com.attask.common.NotFoundException", "message": "USER not found" } }),
        ))
        .mount(&server)
        .await;
    server
}

fn config(server: &MockServer, dir: &tempfile::TempDir) -> PathBuf {
    write_config(dir.path(), &server.uri(), "http://127.0.0.1:9", "")
}

async fn check(config: PathBuf, user: &str, project: &str, json: bool) -> (Option<i32>, String, String) {
    let mut args = vec![
        "check-access".to_owned(),
        "--user".into(),
        user.into(),
        "--project".into(),
        project.into(),
    ];
    if json {
        args.push("--json".into());
    }
    let out = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        cli(&config, &args)
    })
    .await
    .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn a_standard_user_with_a_team_share_is_allowed_and_exit_is_zero() {
    let server = tenant().await;
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = check(config(&server, &dir), "U1", "P1", false).await;
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.starts_with("ALLOWED: User U1 (U1) sending an asset to project \"Launch\" (P1)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Contribute shared with team T1 on project \"Launch\""),
        "{stdout}"
    );
}

#[tokio::test]
async fn an_external_user_is_denied_with_the_rule_and_exit_is_one() {
    let server = tenant().await;
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, _) = check(config(&server, &dir), "U2", "P1", false).await;
    assert_eq!(code, Some(1));
    assert!(stdout.contains("denied: access level External grants View on Documents (cannot share documents); adding a document needs Edit"), "{stdout}");
}

#[tokio::test]
async fn json_output_carries_the_verdict_rule_and_explanation() {
    let server = tenant().await;
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, _) = check(config(&server, &dir), "U3", "P1", true).await;
    assert_eq!(code, Some(1));
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        (v["allowed"].as_bool(), v["rule"].as_str()),
        (Some(false), Some("access_level"))
    );
    assert_eq!(v["user"]["access_level"], "Reviewers");
    assert!(
        v["explanation"]
            .as_str()
            .unwrap()
            .contains("access level \"Reviewers\" (custom, Contributor license) grants View on Documents"),
        "{v}"
    );
}

#[tokio::test]
async fn a_portfolio_share_is_inherited_and_a_withheld_add_documents_denies() {
    let server = tenant().await;
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, _) = check(config(&server, &dir), "U1", "P2", false).await;
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains("on portfolio \"Brand\" (PORT2), inherited by project \"Refresh\""),
        "{stdout}"
    );
    let (code, stdout, _) = check(config(&server, &dir), "U1", "P3", false).await;
    assert_eq!(code, Some(1));
    assert!(stdout.contains("(ADD_DOCUMENTS)"), "{stdout}");
    let (code, stdout, _) = check(config(&server, &dir), "U4", "P1", false).await;
    assert_eq!(code, Some(1));
    assert!(stdout.contains("not flagged as a Frame.io user"), "{stdout}");
}

#[tokio::test]
async fn an_unknown_user_or_a_bad_id_is_a_clear_error_with_exit_two() {
    let server = tenant().await;
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = check(config(&server, &dir), "U9", "P1", false).await;
    assert_eq!(code, Some(2));
    assert!(stderr.contains("Workfront user U9 does not exist"), "{stderr}");
    let (code, _, stderr) = check(config(&server, &dir), "U1", "P/1", false).await;
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("--project") && stderr.contains("Workfront project id"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_burst_of_checks_fetches_each_record_once() {
    let server = MockServer::start().await;
    let once = |p: &str, data: Value| {
        Mock::given(method("GET"))
            .and(path(format!("{API}/{p}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": data })))
            .expect(1)
    };
    once("user/U1", user("U1", "AL-STD", "Yes")).mount(&server).await;
    once(
        "acslvl/AL-STD",
        json!({ "ID": "AL-STD", "name": "Standard", "licenseType": "F" }),
    )
    .mount(&server)
    .await;
    Mock::given(method("GET"))
        .and(path(format!("{API}/proj/P1")))
        .and(query_param(
            "fields",
            "ID,name,ownerID,portfolioID,programID,accessRules:*",
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "data": { "ID": "P1", "name": "Launch", "accessRules": [] } })),
        )
        .expect(1)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let settings = settings_for(dir.path(), &server.uri(), "http://127.0.0.1:9", "");
    let fetcher = AccessFetcher::new(WorkfrontClient::new(&settings.workfront), Duration::from_secs(60));
    let user_id = WorkfrontUserId::new("U1").unwrap();
    let project_id = WorkfrontProjectId::new("P1").unwrap();
    for _ in 0..5 {
        let subject = fetcher.subject(&user_id, FLAG).await.unwrap();
        assert!(subject.teams.contains("T1") && subject.groups.contains("G1") && subject.groups.contains("G0"));
        fetcher.project(&project_id).await.unwrap();
    }
    // wiremock checks each `expect(1)` when the server is dropped.
}
