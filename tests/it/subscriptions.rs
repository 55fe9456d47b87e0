//! `subscribe`, `unsubscribe` and `subscriptions` against a Workfront event subscription API on
//! wiremock that keeps its subscriptions, so idempotency shows.

use crate::cli::cli;
use crate::helpers::{write_config, WF_KEY};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use wiremock::matchers::{header, method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const SUBSCRIPTIONS: &str = "/attask/eventsubscription/api/v1/subscriptions";
const TOKEN: &str = "wf-webhook-token-for-subscriptions";

#[derive(Clone, Default)]
struct Subscriptions(Arc<Mutex<Vec<Value>>>);

impl Respond for Subscriptions {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut list = self.0.lock().unwrap();
        match request.method.as_str() {
            "GET" => ResponseTemplate::new(200).set_body_json(json!({
                "meta": { "page": 1, "page_count": 1, "total_count": list.len() },
                "data": list.clone()
            })),
            "POST" => {
                let body: Value = serde_json::from_slice(&request.body).unwrap();
                let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
                // Workfront refuses extra fields: exactly these four.
                assert_eq!(keys, ["authToken", "eventType", "objCode", "url"], "{body}");
                assert_eq!(body["authToken"], TOKEN);
                let id = format!("sub-{}", list.len() + 1);
                list.push(json!({
                    "id": id, "objCode": body["objCode"], "eventType": body["eventType"],
                    "url": body["url"], "authToken": "****ions"
                }));
                ResponseTemplate::new(201).set_body_json(json!({ "id": id, "version": "v2" }))
            }
            "DELETE" => {
                let id = request.url.path().rsplit('/').next().unwrap().to_owned();
                list.retain(|s| s["id"] != id.as_str());
                ResponseTemplate::new(200)
            }
            other => panic!("unexpected {other}"),
        }
    }
}

async fn setup(with_token: bool) -> (MockServer, Subscriptions, tempfile::TempDir, std::path::PathBuf) {
    let server = MockServer::start().await;
    let state = Subscriptions::default();
    state.0.lock().unwrap().push(json!({
        "id": "someone-else", "objCode": "TASK", "eventType": "CREATE", "url": "https://other.example/hook"
    }));
    Mock::given(path(SUBSCRIPTIONS))
        .and(header("apiKey", WF_KEY))
        .respond_with(state.clone())
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path_regex(format!("^{SUBSCRIPTIONS}/.+$")))
        .and(header("apiKey", WF_KEY))
        .respond_with(state.clone())
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &server.uri(), "http://127.0.0.1:9", "");
    if with_token {
        std::fs::write(dir.path().join("webhook-token"), TOKEN).unwrap();
        let mut text = std::fs::read_to_string(&config).unwrap();
        text.push_str("\n[http]\nlisten = \"127.0.0.1:8787\"\nworkfront_webhook_token_file = \"webhook-token\"\n");
        std::fs::write(&config, text).unwrap();
    }
    (server, state, dir, config)
}

async fn run(config: std::path::PathBuf, args: &[&str]) -> (i32, String, String) {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = cli(&config, &args);
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn subscribe_creates_six_once_unsubscribe_removes_only_ours() {
    let (_server, state, _dir, config) = setup(true).await;
    let (code, out, err) = run(config.clone(), &["subscribe", "--url", "https://sync.acme.example/"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("6 created, 0 already there, delivering to https://sync.acme.example/workfront/events"),
        "{out}"
    );
    let urls: Vec<String> = state
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|s| s["url"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        urls.iter()
            .filter(|u| u.as_str() == "https://sync.acme.example/workfront/events")
            .count(),
        6
    );

    // Running it again keeps what is there.
    let (code, out, _) = run(
        config.clone(),
        &["subscribe", "--url", "https://sync.acme.example/workfront/events"],
    )
    .await;
    assert_eq!(code, 0);
    assert!(out.contains("0 created, 6 already there"), "{out}");
    assert_eq!(state.0.lock().unwrap().len(), 7);

    let (code, out, _) = run(config.clone(), &["subscriptions", "--json"]).await;
    assert_eq!(code, 0);
    let listed: Vec<Value> = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(listed.len(), 7);

    let (code, out, _) = run(config.clone(), &["unsubscribe", "--url", "https://sync.acme.example"]).await;
    assert_eq!(code, 0);
    assert!(out.contains("6 subscriptions deleted"), "{out}");
    let left = state.0.lock().unwrap().clone();
    assert_eq!(left.len(), 1);
    assert_eq!(
        left[0]["id"], "someone-else",
        "another integration's subscription is left alone"
    );
}

#[tokio::test]
async fn subscribe_without_a_webhook_token_or_with_a_bad_url_says_what_is_missing() {
    let (_server, state, _dir, config) = setup(false).await;
    let (code, _, err) = run(config.clone(), &["subscribe", "--url", "https://sync.acme.example"]).await;
    assert_eq!(code, 2);
    assert!(err.contains("http.workfront_webhook_token_file"), "{err}");
    let (code, _, err) = run(config, &["subscribe", "--url", "ftp://x"]).await;
    assert_eq!(code, 2);
    assert!(err.contains("must be an http(s) URL"), "{err}");
    assert_eq!(state.0.lock().unwrap().len(), 1, "nothing created");
}

/// With the one-way folder on, `subscribe` adds DOCU CREATE, UPDATE and DELETE (a document made,
/// given a new version, or deleted), and `unsubscribe` removes them with the others.
#[tokio::test]
async fn the_one_way_folder_subscribes_to_documents_too() {
    let (_server, state, _dir, config) = setup(true).await;
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[folder]\nenabled = true\n");
    std::fs::write(&config, text).unwrap();
    let (code, out, err) = run(config.clone(), &["subscribe", "--url", "https://sync.acme.example/"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("9 created, 0 already there"), "{out}");
    let mut documents: Vec<String> = state
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s["objCode"] == "DOCU")
        .map(|s| s["eventType"].as_str().unwrap().to_owned())
        .collect();
    documents.sort();
    assert_eq!(documents, ["CREATE", "DELETE", "UPDATE"]);
    let (code, out, _) = run(config.clone(), &["unsubscribe", "--url", "https://sync.acme.example"]).await;
    assert_eq!(code, 0);
    assert!(out.contains("9 subscriptions deleted"), "{out}");
}
