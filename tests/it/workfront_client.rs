//! The Workfront client against wiremock: request shape, paging, dates, every error class.

use crate::helpers::{settings_for, WF_KEY};
use frameio_sync::retry::{Classify, ErrorClass};
use frameio_sync::timestamp::Timestamp;
use frameio_sync::workfront::{WorkfrontClient, WorkfrontError};
use serde_json::json;
use std::time::{Duration, Instant};
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SEARCH: &str = "/attask/api/v21.0/proj/search";

async fn client(server: &MockServer, extra: &str) -> (WorkfrontClient, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let settings = settings_for(dir.path(), &server.uri(), "http://127.0.0.1:9", extra);
    (WorkfrontClient::new(&settings.workfront), dir)
}

/// A project row with its team, as `projectUsers:userID` returns it.
fn team(mut row: serde_json::Value, users: &[&str]) -> serde_json::Value {
    row["projectUsers"] = users
        .iter()
        .map(|u| json!({ "objCode": "PRTU", "userID": u }))
        .collect();
    row
}

fn row(id: &str, date: &str) -> serde_json::Value {
    json!({ "ID": id, "name": format!("Project {id}"), "groupID": "g1", "status": "CUR", "lastUpdateDate": date })
}

#[tokio::test]
async fn project_search_pages_with_first_limit_and_id_sort_and_reads_both_date_shapes() {
    let server = MockServer::start().await;
    let page = |first: &str, rows: serde_json::Value| {
        Mock::given(method("GET"))
            .and(path(SEARCH))
            .and(header("apiKey", WF_KEY))
            .and(query_param("$$FIRST", first))
            .and(query_param("$$LIMIT", "2"))
            .and(query_param("ID_Sort", "asc"))
            .and(query_param(
                "fields",
                "ID,name,groupID,status,lastUpdateDate,projectUsers:userID",
            ))
            .and(query_param_is_missing("lastUpdateDate"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": rows })))
            .expect(1)
    };
    page(
        "0",
        json!([
            team(row("a", "2017-03-24T17:00:00:000+0400"), &["u1", "u2"]),
            row("b", "2017-10-06T13:48:07.776-0600")
        ]),
    )
    .mount(&server)
    .await;
    page("2", json!([row("c", "2020-05-13T18:18:37.255Z")]))
        .mount(&server)
        .await;
    let (client, _dir) = client(&server, "page_size = 2").await;

    let projects = client.search_projects(None).await.unwrap();

    let ids: Vec<&str> = projects.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c"]);
    let team: Vec<&str> = projects[0].team.iter().map(|u| u.as_str()).collect();
    assert_eq!(team, ["u1", "u2"], "the team comes with the project");
    assert!(projects[1].team.is_empty());
    assert_eq!(
        projects[0].last_update.unwrap().to_iso_utc(),
        "2017-03-24T13:00:00.000Z"
    );
    assert_eq!(
        projects[1].last_update.unwrap().to_iso_utc(),
        "2017-10-06T19:48:07.776Z"
    );
    assert_eq!(projects[0].group_id.as_ref().unwrap().as_str(), "g1");
    assert_eq!(client.calls(), 2);
}

#[tokio::test]
async fn incremental_search_filters_on_last_update_date_gte() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .and(query_param("lastUpdateDate", "2026-11-23T10:00:00.000Z"))
        .and(query_param("lastUpdateDate_Mod", "gte"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": [] })))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _dir) = client(&server, "").await;
    let since = Timestamp::parse("2026-11-23T10:00:00.000Z").unwrap();
    assert!(client.search_projects(Some(since)).await.unwrap().is_empty());
}

#[tokio::test]
async fn user_search_reads_the_configured_flag_field() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/attask/api/v21.0/user/search"))
        .and(query_param(
            "fields",
            "ID,name,emailAddr,isActive,lastUpdateDate,DE:Frame.io user",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": [
            { "ID": "u1", "name": "Alice", "emailAddr": "alice@x", "isActive": true, "DE:Frame.io user": "Yes" },
            { "ID": "u2", "name": "Bob", "emailAddr": "bob@x", "isActive": false, "DE:Frame.io user": "No" },
            { "ID": "u3", "name": "Carol", "isActive": true }
        ] })))
        .mount(&server)
        .await;
    let (client, _dir) = client(&server, "frameio_user_field = \"DE:Frame.io user\"").await;
    let users = client.search_users(None).await.unwrap();
    let flags: Vec<(&str, bool, bool)> = users
        .iter()
        .map(|u| (u.id.as_str(), u.frameio_flag, u.is_active))
        .collect();
    assert_eq!(flags, [("u1", true, true), ("u2", false, false), ("u3", false, true)]);
    assert_eq!(users[0].email.as_deref(), Some("alice@x"));
}

async fn single_error(status: u16, body: serde_json::Value) -> (WorkfrontError, u64) {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(&server)
        .await;
    let (client, _dir) = client(&server, "").await;
    let err = client.search_projects(None).await.unwrap_err();
    (err, client.calls())
}

#[tokio::test]
async fn an_error_in_a_200_is_an_error_and_is_not_retried() {
    let (err, calls) = single_error(
        200,
        json!({ "error": { "class": "java.lang.IllegalArgumentException", "message": "bad field" } }),
    )
    .await;
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert!(
        err.to_string().contains("bad field") && err.to_string().contains("proj/search"),
        "{err}"
    );
    assert_eq!(calls, 1);
}

#[tokio::test]
async fn refused_credentials_are_auth_errors_whether_401_or_200() {
    let (err, calls) = single_error(401, json!({ "error": { "class": "x", "message": "no" } })).await;
    assert_eq!((err.class(), calls), (ErrorClass::Auth, 1));
    let (err, _) = single_error(200, json!({ "error": { "class": "com.attask.common.AuthenticationException", "message": "You are not currently logged in" } })).await;
    assert_eq!(err.class(), ErrorClass::Auth);
    assert!(!err.to_string().contains(WF_KEY));
}

#[tokio::test]
async fn other_4xx_are_permanent_and_unexpected_bodies_are_decode_errors() {
    let (err, calls) = single_error(422, json!({ "error": { "class": "c", "message": "$$LIMIT too big" } })).await;
    assert_eq!((err.class(), calls), (ErrorClass::Permanent, 1));
    let (err, _) = single_error(200, json!({ "weird": true })).await;
    assert!(matches!(err, WorkfrontError::Decode { .. }), "{err}");
}

#[tokio::test]
async fn a_429_and_a_500_are_retried_then_succeed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .respond_with(ResponseTemplate::new(429).set_body_json(
            json!({ "error": { "message": "Too many concurrent API requests for the given customer" } }),
        ))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .respond_with(ResponseTemplate::new(500).set_body_string("oops"))
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({ "data": [row("a", "2020-05-13T18:18:37.255Z")] })),
        )
        .with_priority(3)
        .mount(&server)
        .await;
    let (client, _dir) = client(&server, "").await;
    assert_eq!(client.search_projects(None).await.unwrap().len(), 1);
    assert_eq!(client.calls(), 3);
}

#[tokio::test]
async fn requests_in_flight_are_capped() {
    let server = MockServer::start().await;
    let delay = Duration::from_millis(300);
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "data": [] }))
                .set_delay(delay),
        )
        .mount(&server)
        .await;
    let (client, _dir) = client(&server, "max_in_flight = 1").await;
    let start = Instant::now();
    let (a, b, c) = tokio::join!(
        client.search_projects(None),
        client.search_projects(None),
        client.search_projects(None)
    );
    a.unwrap();
    b.unwrap();
    c.unwrap();
    // With one request in flight at a time, three delayed answers cannot take less than three delays.
    assert!(start.elapsed() >= delay * 3, "{:?}", start.elapsed());
}

/// `workfront.link_field`: the start-up check and every project search ask for it, a project's
/// value is read from it, and the link is read and written with `fields=` and `updates=`.
#[tokio::test]
async fn the_link_field_is_checked_at_start_read_with_projects_and_written_with_updates() {
    let server = MockServer::start().await;
    let field = "DE:Frame.io project";
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .and(query_param("fields", format!("ID,{field}")))
        .and(query_param("$$LIMIT", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": [] })))
        .expect(1)
        .mount(&server)
        .await;
    let mut linked = row("a", "2017-03-24T17:00:00:000+0400");
    linked[field] = json!(" https://next.frame.io/project/f-a ");
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .and(query_param(
            "fields",
            format!("ID,name,groupID,status,lastUpdateDate,projectUsers:userID,{field}"),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "data": [linked, row("b", "2017-03-24T17:00:00:000+0400")] })),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/attask/api/v21.0/proj/b"))
        .and(query_param("fields", field))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({ "data": { "ID": "b", "parameterValues": { field: "https://next.frame.io/project/f-b" } } }),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/attask/api/v21.0/proj/b"))
        .and(query_param(
            "updates",
            json!({ field: "https://next.frame.io/project/f-b2" }).to_string(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": { "ID": "b" } })))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _dir) = client(&server, &format!("link_field = {field:?}")).await;

    client.check().await.unwrap();
    let projects = client.search_projects(None).await.unwrap();
    assert_eq!(projects[0].link.as_deref(), Some("https://next.frame.io/project/f-a"));
    assert_eq!(projects[1].link, None);
    let b = frameio_sync::ids::WorkfrontProjectId::new("b").unwrap();
    assert_eq!(
        client.project_field(&b, field).await.unwrap().as_deref(),
        Some("https://next.frame.io/project/f-b"),
        "read from parameterValues too"
    );
    let permit = frameio_sync::store::SendPermit::outside_the_outbox();
    client
        .set_project_field(&permit, &b, field, "https://next.frame.io/project/f-b2")
        .await
        .unwrap();
}
