//! The Frame.io client's collaborator calls against wiremock: the account directory's paging,
//! the project-user list, the PATCH upsert and the DELETE, their errors and rate limits.

use crate::helpers::FIO_TOKEN;
use frameio_sync::frameio::{FrameioClient, FrameioError};
use frameio_sync::ids::{FrameioAccountId, FrameioProjectId, FrameioUserId};
use frameio_sync::retry::{Classify, ErrorClass};
use frameio_sync::secret::Secret;
use frameio_sync::store::SendPermit;
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

const USERS: &str = "/v4/accounts/acc-1/users";
const PROJECT_USERS: &str = "/v4/accounts/acc-1/projects/p-1/users";
const ALICE: &str = "/v4/accounts/acc-1/projects/p-1/users/fio-alice";

fn client(server: &MockServer) -> FrameioClient {
    FrameioClient::new(&server.uri().parse().unwrap(), Secret::new(FIO_TOKEN))
}

fn account() -> FrameioAccountId {
    FrameioAccountId::new("acc-1").unwrap()
}

fn project() -> FrameioProjectId {
    FrameioProjectId::new("p-1").unwrap()
}

fn alice() -> FrameioUserId {
    FrameioUserId::new("fio-alice").unwrap()
}

fn member(id: &str, email: &str) -> serde_json::Value {
    json!({ "role": "member", "user": { "id": id, "email": email, "name": id, "active": true } })
}

fn limited(status: u16, remaining: u64) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("x-ratelimit-limit", "10")
        .insert_header("x-ratelimit-remaining", remaining.to_string().as_str())
        .insert_header("x-ratelimit-window", "60000")
}

/// The PATCH these tests make: Alice as an editor of the project.
async fn make_alice_editor(client: &FrameioClient) -> Result<(), FrameioError> {
    client
        .set_project_user(
            &SendPermit::outside_the_outbox(),
            &account(),
            &project(),
            &alice(),
            "editor",
        )
        .await
}

#[tokio::test]
async fn the_directory_pages_through_every_account_user() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(USERS))
        .and(header("authorization", format!("Bearer {FIO_TOKEN}").as_str()))
        .and(query_param("page_size", "100"))
        .and(query_param_is_missing("after"))
        .respond_with(limited(200, 99).set_body_json(json!({
            "data": [member("u1", "Alice@Example.test"), member("u2", "bob@example.test")],
            "links": { "next": format!("{USERS}?after=c2") }
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(USERS))
        .and(query_param("after", "c2"))
        .and(query_param("page_size", "100"))
        .respond_with(limited(200, 98).set_body_json(json!({
            "data": [member("u3", "carol@example.test")],
            "links": { "next": null }
        })))
        .expect(1)
        .mount(&server)
        .await;
    let users = client(&server).account_users(&account()).await.unwrap();
    let emails: Vec<(&str, Option<&str>)> = users.iter().map(|u| (u.id.as_str(), u.email.as_deref())).collect();
    assert_eq!(
        emails,
        [
            ("u1", Some("Alice@Example.test")),
            ("u2", Some("bob@example.test")),
            ("u3", Some("carol@example.test"))
        ]
    );
}

#[tokio::test]
async fn project_users_are_listed_with_their_roles() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(PROJECT_USERS))
        .respond_with(limited(200, 99).set_body_json(json!({
            "data": [ { "role": "full_access", "user": { "id": "fio-alice" } } ],
            "links": {}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let users = client(&server).project_users(&account(), &project()).await.unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(
        (users[0].id.as_str(), users[0].role.as_deref()),
        ("fio-alice", Some("full_access"))
    );
}

#[tokio::test]
async fn adding_patches_the_role_in_data_with_both_token_headers() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .and(path(ALICE))
        .and(header("authorization", format!("Bearer {FIO_TOKEN}").as_str()))
        .and(header("x-frameio-legacy-token-auth", "true"))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({ "data": { "role": "editor" } })))
        .respond_with(limited(200, 9).set_body_json(json!({ "data": { "role": "editor" } })))
        .expect(1)
        .mount(&server)
        .await;
    make_alice_editor(&client(&server)).await.unwrap();
}

#[tokio::test]
async fn removing_reads_204_as_done_and_404_as_already_gone() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path(ALICE))
        .respond_with(limited(204, 59))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(ALICE))
        .respond_with(
            limited(404, 58)
                .set_body_json(json!({ "errors": [ { "title": "Not Found", "detail": "not on the project" } ] })),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    let client = client(&server);
    assert!(client
        .remove_project_user(&account(), &project(), &alice())
        .await
        .unwrap());
    assert!(!client
        .remove_project_user(&account(), &project(), &alice())
        .await
        .unwrap());
}

#[tokio::test]
async fn a_refused_patch_is_classified_and_a_429_is_not_an_action() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .and(path(ALICE))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("x-ratelimit-limit", "10")
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-window", "1000"),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(ALICE))
        .respond_with(
            ResponseTemplate::new(422)
                .set_body_json(json!({ "errors": [ { "title": "Unprocessable Entity", "detail": "invalid role" } ] })),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    let client = client(&server);
    let err = make_alice_editor(&client).await.unwrap_err();
    assert!(matches!(err, FrameioError::RateLimited { .. }), "{err}");
    assert_eq!(err.class(), ErrorClass::Transient);
    assert!(!err.may_have_acted(), "a 429 did nothing");
    // After a 429 the client waits for the window before the next PATCH instead of bursting.
    assert!(!client
        .ready_in(frameio_sync::core::model::RateClass::UpdateProjectUser)
        .is_zero());

    let err = make_alice_editor(&client).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert!(err.to_string().contains("invalid role"), "{err}");
}
