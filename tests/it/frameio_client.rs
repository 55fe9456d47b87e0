//! The Frame.io v4 client against wiremock: headers, paging, creates, errors, rate limits.

use crate::helpers::FIO_TOKEN;
use frameio_sync::frameio::{FrameioClient, FrameioError};
use frameio_sync::ids::{FrameioAccountId, FrameioWorkspaceId};
use frameio_sync::retry::{Classify, ErrorClass};
use frameio_sync::secret::Secret;
use frameio_sync::store::SendPermit;
use serde_json::json;
use std::time::{Duration, Instant};
use wiremock::matchers::{body_json, header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PROJECTS: &str = "/v4/accounts/acc-1/workspaces/ws-1/projects";

fn client(server: &MockServer) -> FrameioClient {
    FrameioClient::new(&server.uri().parse().unwrap(), Secret::new(FIO_TOKEN))
}

fn ids() -> (FrameioAccountId, FrameioWorkspaceId) {
    (
        FrameioAccountId::new("acc-1").unwrap(),
        FrameioWorkspaceId::new("ws-1").unwrap(),
    )
}

fn project(id: &str, name: &str) -> serde_json::Value {
    json!({ "id": id, "name": name, "workspace_id": "ws-1", "created_at": "2026-11-23T10:00:00.123456Z", "status": "active" })
}

fn limits(remaining: u64) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("x-ratelimit-limit", "100")
        .insert_header("x-ratelimit-remaining", remaining.to_string().as_str())
        .insert_header("x-ratelimit-window", "60000")
}

#[tokio::test]
async fn me_sends_the_bearer_token_and_the_legacy_header() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v4/me"))
        .and(header("authorization", format!("Bearer {FIO_TOKEN}").as_str()))
        .and(header("x-frameio-legacy-token-auth", "true"))
        .respond_with(limits(99).set_body_json(json!({ "data": { "id": "u1", "email": "a@x", "name": "A" } })))
        .expect(1)
        .mount(&server)
        .await;
    let me = client(&server).me().await.unwrap();
    assert_eq!((me.id.as_str(), me.email.as_deref()), ("u1", Some("a@x")));
}

/// An answer larger than any Frame.io sends is refused, not held: 17 MiB against the 16 MiB cap.
#[tokio::test]
async fn an_endless_answer_is_refused_at_the_cap() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v4/me"))
        .respond_with(limits(99).set_body_bytes(vec![b' '; 17 << 20]))
        .mount(&server)
        .await;
    let err = client(&server).me().await.unwrap_err().to_string();
    assert!(err.contains("over 16 MiB"), "{err}");
}

/// An endless `x-ratelimit-window` is bounded: it stalled the bucket for ever (or overflowed the
/// clock).
#[tokio::test]
async fn an_endless_rate_limit_window_is_bounded() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v4/me"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-ratelimit-limit", "1")
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-window", u64::MAX.to_string().as_str())
                .set_body_json(json!({ "data": { "id": "u1", "email": "a@x", "name": "A" } })),
        )
        .mount(&server)
        .await;
    // Recording that window overflowed the clock (a panic) before it was bounded.
    client(&server).me().await.unwrap();
}

#[tokio::test]
async fn listing_follows_the_cursor_and_re_adds_page_size() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(PROJECTS))
        .and(query_param("page_size", "100"))
        .and(query_param_is_missing("after"))
        .respond_with(limits(99).set_body_json(json!({
            "data": [project("p1", "One"), project("p2", "Two")],
            "links": { "next": format!("{PROJECTS}?after=cursor-2") }
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(PROJECTS))
        .and(query_param("page_size", "100"))
        .and(query_param("after", "cursor-2"))
        .respond_with(limits(98).set_body_json(json!({ "data": [project("p3", "Three")], "links": { "next": null } })))
        .expect(1)
        .mount(&server)
        .await;
    let (a, w) = ids();
    let listed = client(&server).projects(&a, &w).await.unwrap();
    let names: Vec<&str> = listed.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["One", "Two", "Three"]);
    assert_eq!(listed[0].created_at.unwrap().to_iso_utc(), "2026-11-23T10:00:00.123Z");
}

#[tokio::test]
async fn accounts_and_workspaces_are_listed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v4/accounts"))
        .respond_with(
            limits(99).set_body_json(json!({ "data": [ { "id": "acc-1", "display_name": "Acme" } ], "links": {} })),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v4/accounts/acc-1/workspaces"))
        .respond_with(limits(99).set_body_json(json!({ "data": [ { "id": "ws-1", "name": "Main" } ] })))
        .mount(&server)
        .await;
    let client = client(&server);
    let accounts = client.accounts().await.unwrap();
    assert_eq!((accounts[0].id.as_str(), accounts[0].name.as_str()), ("acc-1", "Acme"));
    let workspaces = client.workspaces(&accounts[0].id).await.unwrap();
    assert_eq!(workspaces[0].name, "Main");
}

#[tokio::test]
async fn create_sends_the_name_in_data_and_get_reads_one_project() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(PROJECTS))
        .and(header("content-type", "application/json"))
        .and(header("x-frameio-legacy-token-auth", "true"))
        .and(body_json(json!({ "data": { "name": "Launch" } })))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({ "data": project("p9", "Launch") })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v4/accounts/acc-1/projects/p9"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": project("p9", "Launch") })))
        .mount(&server)
        .await;
    let (a, w) = ids();
    let client = client(&server);
    let created = client
        .create_project(&SendPermit::outside_the_outbox(), &a, &w, "Launch")
        .await
        .unwrap();
    assert_eq!(created.id.as_str(), "p9");
    assert_eq!(client.project(&a, &created.id).await.unwrap().name, "Launch");
}

async fn create_error(response: ResponseTemplate) -> FrameioError {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(PROJECTS))
        .respond_with(response)
        .expect(1)
        .mount(&server)
        .await;
    let (a, w) = ids();
    client(&server)
        .create_project(&SendPermit::outside_the_outbox(), &a, &w, "X")
        .await
        .unwrap_err()
}

#[tokio::test]
async fn a_5xx_on_create_is_transient_and_may_have_acted() {
    let err = create_error(
        ResponseTemplate::new(500).set_body_json(json!({ "errors": [ { "title": "Internal", "detail": "timeout" } ] })),
    )
    .await;
    assert_eq!(err.class(), ErrorClass::Transient);
    assert!(err.may_have_acted());
    assert!(err.to_string().contains("Internal: timeout"), "{err}");
}

#[tokio::test]
async fn a_connection_that_never_opened_did_not_act() {
    // Port 9 (discard) on loopback is closed here: the request never reaches a server.
    let client = FrameioClient::new(&"http://127.0.0.1:9".parse().unwrap(), Secret::new(FIO_TOKEN));
    let (a, w) = ids();
    let err = client
        .create_project(&SendPermit::outside_the_outbox(), &a, &w, "X")
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Transient);
    assert!(!err.may_have_acted(), "{err:?}");
}

#[tokio::test]
async fn auth_and_validation_errors_are_classified_and_did_not_act() {
    let err =
        create_error(ResponseTemplate::new(401).set_body_json(json!({ "errors": [ { "title": "Unauthorized" } ] })))
            .await;
    assert_eq!(err.class(), ErrorClass::Auth);
    assert!(!err.may_have_acted());
    assert!(!err.to_string().contains(FIO_TOKEN));
    let err = create_error(
        ResponseTemplate::new(422)
            .set_body_json(json!({ "errors": [ { "title": "Invalid", "detail": "name too long" } ] })),
    )
    .await;
    assert_eq!((err.class(), err.status()), (ErrorClass::Permanent, Some(422)));
    assert!(err.to_string().contains("name too long"));
    // The refusal keeps what was sent and answered, for the dead letter; never the token.
    let exchange = err.exchange().expect("a refusal keeps its exchange");
    assert_eq!(
        exchange.request,
        format!(
            "POST /v4/accounts/{}/workspaces/{}/projects\n{{\"data\":{{\"name\":\"X\"}}}}",
            ids().0,
            ids().1
        )
    );
    assert_eq!(exchange.status, Some(422));
    assert!(exchange.response.contains("name too long"), "{exchange:?}");
    assert!(!format!("{exchange:?}").contains(FIO_TOKEN));
}

#[tokio::test]
async fn a_409_on_create_is_retried_after_a_look() {
    let err =
        create_error(ResponseTemplate::new(409).set_body_json(json!({ "errors": [ { "title": "Conflict" } ] }))).await;
    assert_eq!(err.class(), ErrorClass::Transient);
    assert!(
        err.may_have_acted(),
        "a 409 may mean our earlier create went through: {err:?}"
    );
    assert!(err.exchange().is_none());
}

#[tokio::test]
async fn a_success_with_an_unreadable_body_may_have_acted() {
    let err = create_error(ResponseTemplate::new(201).set_body_string("<html>")).await;
    assert!(matches!(err, FrameioError::Decode { .. }));
    assert!(err.may_have_acted());
}

#[tokio::test]
async fn a_429_on_a_read_waits_the_refill_interval_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(PROJECTS))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("x-ratelimit-limit", "2")
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-window", "400"),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(PROJECTS))
        .respond_with(limits(5).set_body_json(json!({ "data": [project("p1", "One")] })))
        .with_priority(2)
        .mount(&server)
        .await;
    let (a, w) = ids();
    let start = Instant::now();
    let listed = client(&server).projects(&a, &w).await.unwrap();
    assert_eq!(listed.len(), 1);
    // The refill interval is window / limit = 200 ms.
    assert!(start.elapsed() >= Duration::from_millis(200), "{:?}", start.elapsed());
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn with_nothing_remaining_the_next_request_waits_instead_of_being_refused() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(PROJECTS))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("x-ratelimit-limit", "4")
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-window", "1000")
                .set_body_json(json!({ "data": project("p1", "One") })),
        )
        .expect(2)
        .mount(&server)
        .await;
    let (a, w) = ids();
    let client = client(&server);
    client
        .create_project(&SendPermit::outside_the_outbox(), &a, &w, "One")
        .await
        .unwrap();
    let start = Instant::now();
    client
        .create_project(&SendPermit::outside_the_outbox(), &a, &w, "One")
        .await
        .unwrap();
    assert!(start.elapsed() >= Duration::from_millis(250), "{:?}", start.elapsed());
}

/// A rename is a PATCH of the project with the name in `data`, paced on its own bucket; a
/// workspace is listed with each project's owner and `view_url`.
#[tokio::test]
async fn rename_patches_the_name_and_the_listing_asks_for_owners() {
    let server = MockServer::start().await;
    let mut renamed = project("p9", "Spring launch");
    renamed["view_url"] = json!("https://next.frame.io/project/p9");
    renamed["owner"] = json!({ "id": "u-owner", "email": "o@x" });
    Mock::given(method("PATCH"))
        .and(path("/v4/accounts/acc-1/projects/p9"))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({ "data": { "name": "Spring launch" } })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": renamed.clone() })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(PROJECTS))
        .and(query_param("include", "owner"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": [renamed], "links": {} })))
        .expect(1)
        .mount(&server)
        .await;
    let (a, w) = ids();
    let client = client(&server);
    let p9 = frameio_sync::ids::FrameioProjectId::new("p9").unwrap();
    let answered = client
        .rename_project(&SendPermit::outside_the_outbox(), &a, &p9, "Spring launch")
        .await
        .unwrap();
    assert_eq!(answered.name, "Spring launch");
    let listed = client.projects(&a, &w).await.unwrap();
    assert_eq!(listed[0].owner.as_ref().map(|o| o.as_str()), Some("u-owner"));
    assert_eq!(listed[0].view_url.as_deref(), Some("https://next.frame.io/project/p9"));
}
