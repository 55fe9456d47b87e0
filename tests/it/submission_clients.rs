//! The calls behind F6 against wiremock: Frame.io custom actions and files, Workfront uploads,
//! documents, notes and their look-ups — request shape, headers, errors.

use crate::helpers::{settings_for, FIO_TOKEN, WF_KEY};
use frameio_sync::core::model::WorkfrontObject;
use frameio_sync::frameio::FrameioClient;
use frameio_sync::ids::{FrameioAccountId, FrameioWorkspaceId, WorkfrontProjectId};
use frameio_sync::retry::{Classify, ErrorClass};
use frameio_sync::secret::Secret;
use frameio_sync::store::SendPermit;
use frameio_sync::workfront::WorkfrontClient;
use serde_json::json;
use wiremock::matchers::{body_json, body_string_contains, header, header_regex, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const ACTIONS: &str = "/v4/accounts/acc-1/workspaces/ws-1/actions";

fn frameio(server: &MockServer) -> FrameioClient {
    FrameioClient::new(&server.uri().parse().unwrap(), Secret::new(FIO_TOKEN))
}

fn ids() -> (FrameioAccountId, FrameioWorkspaceId) {
    (
        FrameioAccountId::new("acc-1").unwrap(),
        FrameioWorkspaceId::new("ws-1").unwrap(),
    )
}

async fn workfront(server: &MockServer) -> (WorkfrontClient, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let settings = settings_for(dir.path(), &server.uri(), "http://127.0.0.1:9", "");
    (WorkfrontClient::new(&settings.workfront), dir)
}

#[tokio::test]
async fn an_action_is_created_with_its_fields_in_data_and_its_secret_is_read() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(ACTIONS))
        .and(header("authorization", format!("Bearer {FIO_TOKEN}").as_str()))
        .and(header("x-frameio-legacy-token-auth", "true"))
        .and(body_json(json!({ "data": {
            "name": "Send", "description": "d", "event": "workfront.review", "url": "https://x/frameio/actions"
        } })))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({ "data": {
            "id": "act-1", "name": "Send", "url": "https://x/frameio/actions", "secret": "shown-once"
        } })))
        .expect(1)
        .mount(&server)
        .await;
    let (a, w) = ids();
    let (action, secret) = frameio(&server)
        .create_action(
            &SendPermit::outside_the_outbox(),
            &a,
            &w,
            "Send",
            "d",
            "workfront.review",
            "https://x/frameio/actions",
        )
        .await
        .unwrap();
    assert_eq!((action.id.as_str(), secret.expose()), ("act-1", "shown-once"));
    assert!(
        !format!("{secret:?}").contains("shown-once"),
        "Debug redacts the secret"
    );
}

#[tokio::test]
async fn actions_are_listed_and_deleting_a_missing_one_is_fine() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(ACTIONS))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [ { "id": "act-1", "name": "Send", "url": "https://x" } ], "links": {}
        })))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v4/accounts/acc-1/actions/act-1"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({ "errors": [ { "title": "Not Found" } ] })))
        .expect(1)
        .mount(&server)
        .await;
    let (a, w) = ids();
    let client = frameio(&server);
    let listed = client.actions(&a, &w).await.unwrap();
    assert_eq!(listed[0].url, "https://x");
    client.delete_action(&a, "act-1").await.unwrap();
}

#[tokio::test]
async fn a_file_is_read_with_its_name_and_link_and_a_missing_one_is_permanent() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v4/accounts/acc-1/files/f-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": {
            "id": "f-1", "name": "Cut.mov", "view_url": "https://next.frame.io/view/f-1"
        } })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v4/accounts/acc-1/files/gone"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    let (a, _) = ids();
    let client = frameio(&server);
    let file = client.file(&a, "f-1").await.unwrap();
    assert_eq!(
        (file.name.as_str(), file.view_url.as_deref()),
        ("Cut.mov", Some("https://next.frame.io/view/f-1"))
    );
    assert_eq!(
        client.file(&a, "gone").await.unwrap_err().class(),
        ErrorClass::Permanent
    );
}

#[tokio::test]
async fn uploads_are_multipart_and_documents_and_notes_send_their_updates() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/attask/api/v21.0/upload"))
        .and(header("apiKey", WF_KEY))
        .and(header_regex("content-type", "^multipart/form-data; boundary=.+$"))
        .and(body_string_contains("filename=\"Cut.mov.url\""))
        .and(body_string_contains("URL=https://next.frame.io/view/f-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": { "handle": "h-1" } })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/attask/api/v21.0/document"))
        .and(header("apiKey", WF_KEY))
        .respond_with(|request: &Request| {
            let updates = request
                .url
                .query_pairs()
                .find(|(k, _)| k == "updates")
                .map(|(_, v)| serde_json::from_str::<serde_json::Value>(&v).unwrap())
                .unwrap();
            assert_eq!(updates["docObjCode"], "PROJ");
            assert_eq!(updates["objID"], "p1");
            assert_eq!(updates["handle"], "h-1");
            assert_eq!(updates["extRefID"], "i-1");
            assert_eq!(updates["currentVersion"]["fileName"], "Cut.mov.url");
            assert_eq!(updates["currentVersion"]["version"], "v1");
            ResponseTemplate::new(200)
                .set_body_json(json!({ "data": { "ID": "doc-1", "extRefID": "i-1", "currentVersionID": "docv-1" } }))
        })
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/attask/api/v21.0/note"))
        .and(query_param(
            "updates",
            json!({ "noteObjCode": "PROJ", "objID": "p1", "noteText": "hello (ref i-1)" })
                .to_string()
                .as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": { "ID": "note-1" } })))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _dir) = workfront(&server).await;
    let project = WorkfrontObject::Project(WorkfrontProjectId::new("p1").unwrap());
    let handle = client
        .upload(
            &SendPermit::outside_the_outbox(),
            "Cut.mov.url",
            b"[InternetShortcut]\r\nURL=https://next.frame.io/view/f-1\r\n",
        )
        .await
        .unwrap();
    let doc = client
        .create_document(
            &SendPermit::outside_the_outbox(),
            &project,
            "Cut.mov",
            &handle,
            "Cut.mov.url",
            "v1",
            "i-1",
            "sent by A",
        )
        .await
        .unwrap();
    assert_eq!(doc.id.as_str(), "doc-1");
    assert_eq!(doc.current_version.as_ref().map(|v| v.as_str()), Some("docv-1"));
    assert_eq!(
        client
            .create_note(&SendPermit::outside_the_outbox(), &project, "hello (ref i-1)")
            .await
            .unwrap(),
        "note-1"
    );
}

#[tokio::test]
async fn look_ups_filter_by_project_and_reference_and_a_refused_write_is_permanent() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/attask/api/v21.0/docu/search"))
        .and(query_param("objID", "p1"))
        .and(query_param("extRefID", "i-1"))
        .and(query_param("ID_Sort", "asc"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({ "data": [ { "ID": "doc-1", "extRefID": "i-1" } ] })),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/attask/api/v21.0/note/search"))
        .and(query_param("objID", "p1"))
        .and(query_param("noteText", "(ref i-2)"))
        .and(query_param("noteText_Mod", "contains"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": [] })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/attask/api/v21.0/document"))
        .respond_with(ResponseTemplate::new(422).set_body_json(json!({
            "error": { "class": "com.attask.common.ValidationException", "message": "no documents here" }
        })))
        .mount(&server)
        .await;
    let (client, _dir) = workfront(&server).await;
    let project = WorkfrontObject::Project(WorkfrontProjectId::new("p1").unwrap());
    assert_eq!(
        client
            .find_document(&project, "i-1")
            .await
            .unwrap()
            .map(|d| d.id.to_string())
            .as_deref(),
        Some("doc-1")
    );
    assert_eq!(client.find_note(&project, "(ref i-2)").await.unwrap(), None);
    let err = client
        .create_document(
            &SendPermit::outside_the_outbox(),
            &project,
            "n",
            "h",
            "f",
            "v1",
            "i-3",
            "d",
        )
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert!(err.to_string().contains("no documents here"), "{err}");
    let exchange = err.exchange().expect("a refused write keeps its exchange");
    assert!(
        exchange.request.starts_with("POST /document?updates=") && exchange.request.contains(r#""extRefID":"i-3""#),
        "{exchange:?}"
    );
    assert_eq!(exchange.status, Some(422));
    assert!(exchange.response.contains("no documents here"));
    assert!(!format!("{exchange:?}").contains(WF_KEY), "{exchange:?}");
}
