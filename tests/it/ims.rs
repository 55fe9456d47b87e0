//! Adobe IMS server-to-server credentials: the token cache, refresh, 401 handling, and a group
//! connection that rides out an IMS outage and parks on a refusal.

use crate::cli::{cli, Daemon};
use crate::helpers::{eventually, settings_for, wait_until};
use frameio_sync::demo::write_sandbox_config;
use frameio_sync::frameio::{FrameioAuth, FrameioClient, FrameioError};
use frameio_sync::ims::{Clock, ImsCredentials, ImsTokenSource};
use frameio_sync::retry::{Classify, ErrorClass};
use frameio_sync::secret::Secret;
use frameio_sync::workfront::WorkfrontClient;
use frameio_sync_sandbox::world::ProjectRow;
use frameio_sync_sandbox::{Limits, Sandbox, World};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const SECRET: &str = "s2s-client-secret-value-0123456789";

fn credentials(ims: &MockServer) -> ImsCredentials {
    ImsCredentials {
        client_id: "client-1".into(),
        client_secret: Secret::new(SECRET),
        scopes: "openid,AdobeID".into(),
        token_url: format!("{}/ims/token/v3", ims.uri()).parse().unwrap(),
    }
}

const IMS_UP: usize = 0;
const IMS_DOWN: usize = 1;
const IMS_REFUSING: usize = 2;

/// Answers every token request with a new token (`ims-token-1`, `ims-token-2`, …), or, as `mode`
/// says, with an outage (503) or a refusal (400 `invalid_client`).
struct Tokens {
    issued: AtomicUsize,
    expires_in: u64,
    mode: Arc<AtomicUsize>,
}

impl Respond for Tokens {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        match self.mode.load(Ordering::SeqCst) {
            IMS_DOWN => ResponseTemplate::new(503).set_body_string("unavailable"),
            IMS_REFUSING => ResponseTemplate::new(400).set_body_json(json!({ "error": "invalid_client" })),
            _ => {
                let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
                ResponseTemplate::new(200).set_body_json(json!({
                    "access_token": format!("ims-token-{n}"), "token_type": "bearer", "expires_in": self.expires_in
                }))
            }
        }
    }
}

async fn ims_server_with_mode(expires_in: u64) -> (MockServer, Arc<AtomicUsize>) {
    let ims = MockServer::start().await;
    let mode = Arc::new(AtomicUsize::new(IMS_UP));
    Mock::given(method("POST"))
        .and(path("/ims/token/v3"))
        .and(body_string_contains("grant_type=client_credentials"))
        .and(body_string_contains("client_id=client-1"))
        .and(body_string_contains("scope=openid%2CAdobeID"))
        .respond_with(Tokens {
            issued: AtomicUsize::new(0),
            expires_in,
            mode: mode.clone(),
        })
        .mount(&ims)
        .await;
    (ims, mode)
}

async fn ims_server(expires_in: u64) -> MockServer {
    ims_server_with_mode(expires_in).await.0
}

struct ManualClock(Mutex<Instant>);

impl ManualClock {
    fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        *self.0.lock().unwrap()
    }
}

fn me_ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({ "data": { "id": "u", "email": "s2s@x", "name": "S2S" } }))
}

#[tokio::test]
async fn one_token_serves_many_calls_and_goes_as_a_plain_bearer() {
    let ims = ims_server(86_399).await;
    let frameio = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v4/me"))
        .and(header("authorization", "Bearer ims-token-1"))
        .respond_with(me_ok())
        .expect(5)
        .mount(&frameio)
        .await;
    let source = Arc::new(ImsTokenSource::new(credentials(&ims)));
    let client = FrameioClient::with_auth(
        &frameio.uri().parse().unwrap(),
        FrameioAuth::ServerToServer(source.clone()),
    );
    let (a, b, c, d, e) = tokio::join!(client.me(), client.me(), client.me(), client.me(), client.me());
    for r in [a, b, c, d, e] {
        r.unwrap();
    }
    assert_eq!(source.fetches(), 1, "concurrent requests share one fetch");
    for request in frameio.received_requests().await.unwrap() {
        assert!(
            request.headers.get("x-frameio-legacy-token-auth").is_none(),
            "no legacy header with IMS tokens"
        );
    }
}

#[tokio::test]
async fn the_token_is_refreshed_ahead_of_expiry_on_the_clock() {
    let ims = ims_server(100).await;
    let clock = Arc::new(ManualClock(Mutex::new(Instant::now())));
    let source = ImsTokenSource::with_clock(credentials(&ims), clock.clone());
    assert_eq!(source.access_token().await.unwrap().expose(), "ims-token-1");
    // The margin is a tenth of the 100 s lifetime: the token is refreshed from 90 s on.
    clock.advance(Duration::from_secs(85));
    assert_eq!(source.access_token().await.unwrap().expose(), "ims-token-1");
    clock.advance(Duration::from_secs(6));
    assert_eq!(source.access_token().await.unwrap().expose(), "ims-token-2");
    assert_eq!(source.fetches(), 2);
}

/// During an IMS outage the source asks again only after a pause that doubles (capped), and a
/// token that has not expired keeps serving; once IMS answers, the pauses end.
#[tokio::test]
async fn an_ims_outage_is_asked_again_after_growing_pauses_while_a_valid_token_serves() {
    let (ims, mode) = ims_server_with_mode(100).await;
    let clock = Arc::new(ManualClock(Mutex::new(Instant::now())));
    let source = ImsTokenSource::with_clock(credentials(&ims), clock.clone());
    assert_eq!(source.access_token().await.unwrap().expose(), "ims-token-1");
    mode.store(IMS_DOWN, Ordering::SeqCst);
    // Due for refresh (after 90 s), valid until 100 s: the old token serves, IMS is asked once.
    clock.advance(Duration::from_secs(91));
    for _ in 0..50 {
        assert_eq!(source.access_token().await.unwrap().expose(), "ims-token-1");
    }
    assert_eq!(source.fetches(), 2, "one try, then a pause");
    // Past the pause (1 s): one more try, then 2 s.
    clock.advance(Duration::from_secs(1));
    assert_eq!(source.access_token().await.unwrap().expose(), "ims-token-1");
    assert_eq!(source.fetches(), 3);
    clock.advance(Duration::from_secs(1));
    source.access_token().await.unwrap();
    assert_eq!(source.fetches(), 3, "the second pause is 2 s");
    // Expired (past 100 s) and IMS still down: an error, still no more than one try per pause.
    clock.advance(Duration::from_secs(10));
    let err = source.access_token().await.unwrap_err();
    assert!(err.to_string().contains("unavailable"), "{err}");
    let tries = source.fetches();
    for _ in 0..50 {
        assert!(source.access_token().await.is_err());
    }
    assert_eq!(source.fetches(), tries);
    // The pauses are capped at a minute: after ten more failures (uncapped, 512 s and more),
    // IMS is still asked once a minute.
    for _ in 0..10 {
        clock.advance(Duration::from_secs(60));
        let before = source.fetches();
        assert!(source.access_token().await.is_err());
        assert_eq!(source.fetches(), before + 1);
    }
    // Once IMS answers: a new token, and no more pauses.
    clock.advance(Duration::from_secs(60));
    mode.store(IMS_UP, Ordering::SeqCst);
    assert_eq!(source.access_token().await.unwrap().expose(), "ims-token-2");
}

/// `expires_in` is bounded: 0 would fetch a token per request, u64::MAX overflowed the clock.
#[tokio::test]
async fn a_lifetime_of_zero_or_forever_is_bounded() {
    let ims = ims_server(0).await;
    let clock = Arc::new(ManualClock(Mutex::new(Instant::now())));
    let source = ImsTokenSource::with_clock(credentials(&ims), clock.clone());
    assert_eq!(source.access_token().await.unwrap().expose(), "ims-token-1");
    assert_eq!(
        source.access_token().await.unwrap().expose(),
        "ims-token-1",
        "kept for a minute at least"
    );
    assert_eq!(source.fetches(), 1);

    let ims = ims_server(u64::MAX).await;
    let source = ImsTokenSource::with_clock(credentials(&ims), clock.clone());
    assert_eq!(source.access_token().await.unwrap().expose(), "ims-token-1");
    clock.advance(Duration::from_secs(2 * 24 * 3600));
    assert_eq!(
        source.access_token().await.unwrap().expose(),
        "ims-token-2",
        "at most two days"
    );
}

#[tokio::test]
async fn a_401_drops_the_token_and_the_call_is_retried_once_with_a_fresh_one() {
    let ims = ims_server(86_399).await;
    let frameio = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v4/me"))
        .and(header("authorization", "Bearer ims-token-1"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({ "errors": [ { "title": "Unauthorized" } ] })))
        .mount(&frameio)
        .await;
    Mock::given(method("GET"))
        .and(path("/v4/me"))
        .and(header("authorization", "Bearer ims-token-2"))
        .respond_with(me_ok())
        .mount(&frameio)
        .await;
    let source = Arc::new(ImsTokenSource::new(credentials(&ims)));
    let client = FrameioClient::with_auth(
        &frameio.uri().parse().unwrap(),
        FrameioAuth::ServerToServer(source.clone()),
    );
    client.me().await.unwrap();
    assert_eq!(source.fetches(), 2);
    // The fresh token is kept: the next call needs no new fetch.
    client.me().await.unwrap();
    assert_eq!(source.fetches(), 2);
}

#[tokio::test]
async fn an_ims_refusal_is_an_auth_error_and_an_outage_a_transient_one() {
    let ims = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/ims/token/v3"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({ "error": "invalid_client", "error_description": "invalid client_secret parameter" }),
        ))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&ims)
        .await;
    Mock::given(method("POST"))
        .and(path("/ims/token/v3"))
        .respond_with(ResponseTemplate::new(503).set_body_string("down"))
        .with_priority(2)
        .mount(&ims)
        .await;
    let client = FrameioClient::with_auth(
        &"http://127.0.0.1:9".parse().unwrap(),
        FrameioAuth::ServerToServer(Arc::new(ImsTokenSource::new(credentials(&ims)))),
    );
    let refused = client.me().await.unwrap_err();
    assert_eq!(refused.class(), ErrorClass::Auth);
    let text = refused.to_string();
    assert!(
        text.contains("Adobe IMS refused the client credentials of client client-1") && text.contains("invalid_client"),
        "{text}"
    );
    assert!(!text.contains(SECRET));
    let outage = client.me().await.unwrap_err();
    assert_eq!(outage.class(), ErrorClass::Transient);
    assert!(
        matches!(outage, FrameioError::Transient { sent: false, .. }),
        "{outage:?}"
    );
    assert!(
        outage.to_string().contains("Adobe IMS is unavailable (HTTP 503)"),
        "{outage}"
    );
}

#[tokio::test]
async fn workfront_gets_the_ims_token_as_a_bearer_with_the_org_header() {
    let ims = ims_server(86_399).await;
    let workfront = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/attask/api/v21.0/proj/search"))
        .and(header("authorization", "Bearer ims-token-1"))
        .and(header("x-gw-ims-org-id", "ORG123@AdobeOrg"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": [ { "ID": "p1", "name": "P" } ] })))
        .expect(1)
        .mount(&workfront)
        .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("wf-secret"), SECRET).unwrap();
    let extra = format!(
        "auth = \"adobe_server_to_server\"\nclient_id = \"client-1\"\nclient_secret_file = \"wf-secret\"\nscopes = \"openid,AdobeID\"\nims_token_url = \"{}/ims/token/v3\"\nims_org_id = \"ORG123@AdobeOrg\"",
        ims.uri()
    );
    // settings_for writes `api_key_file`; with server-to-server it is simply not used.
    let settings = settings_for(dir.path(), &workfront.uri(), "http://127.0.0.1:9", &extra);
    let projects = WorkfrontClient::new(&settings.workfront)
        .search_projects(None)
        .await
        .unwrap();
    assert_eq!(projects.len(), 1);
    let request = &workfront.received_requests().await.unwrap()[0];
    assert!(request.headers.get("apiKey").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_to_server_connection_rides_out_an_ims_outage_parks_on_a_refusal_and_keeps_its_secrets() {
    let mut world = World::demo();
    world.workfront.groups = vec![json!({ "ID": "g-post", "name": "Post", "parentID": null })];
    world.workfront.projects = vec![
        ProjectRow::in_group("5d01", "Post 1", "g-post"),
        ProjectRow::in_group("5d02", "Post 2", "g-post"),
    ];
    let sandbox = Sandbox::start(world, Limits::unlimited()).await.unwrap();
    sandbox.add_account("acc-c", "Post House", "ws-c", "Post");
    // Tokens are numbered by the IMS mock in the order they are fetched, by any process:
    // connect-group takes the first, the daemon the second, and so on.
    for n in 1..=6 {
        sandbox.add_ims_token(&format!("ims-token-{n}"), &["acc-c"]);
    }
    let (ims, ims_mode) = ims_server_with_mode(3600).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_sandbox_config(dir.path(), &sandbox, "1s").unwrap();
    let secret_file = dir.path().join("client-secret");
    std::fs::write(&secret_file, SECRET).unwrap();
    let token_url = format!("{}/ims/token/v3", ims.uri());
    let connect = [
        "connect-group",
        "--group",
        "g-post",
        "--client-id",
        "client-1",
        "--client-secret-file",
        secret_file.to_str().unwrap(),
        "--scopes",
        "openid,AdobeID",
        "--ims-token-url",
        &token_url,
    ];
    let out = cli(&config, &connect);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let daemon = Daemon::start(&config, "warn,frameio_sync=debug", &[]);
    let status =
        || -> Value { serde_json::from_slice(&cli(&config, &["status", "--json"]).stdout).unwrap_or_default() };
    wait_until("2 mirrors", Duration::from_secs(30), || status()["mirrors"] == 2).await;

    // IMS goes down while Frame.io stops taking the current token: the work waits, not lost.
    ims_mode.store(IMS_DOWN, Ordering::SeqCst);
    sandbox.revoke_token("ims-token-1");
    sandbox.revoke_token("ims-token-2");
    sandbox.upsert_workfront_project_in("5d03", "Post 3", "g-post");
    let waiting = eventually(Duration::from_secs(30), || {
        let list: Value =
            serde_json::from_slice(&cli(&config, &["outbox", "list", "--json"]).stdout).unwrap_or_default();
        list[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("Adobe IMS is unavailable"))
            && list[0]["state"] == "pending"
    })
    .await;
    assert!(waiting, "the entry waits with the IMS error as its reason");
    ims_mode.store(IMS_UP, Ordering::SeqCst);
    wait_until("recovery after the outage", Duration::from_secs(30), || {
        status()["mirrors"] == 3
    })
    .await;

    // IMS refuses the credential: the connection shows broken and its work is parked.
    ims_mode.store(IMS_REFUSING, Ordering::SeqCst);
    sandbox.revoke_token("ims-token-3");
    sandbox.upsert_workfront_project_in("5d04", "Post 4", "g-post");
    wait_until("the work parked", Duration::from_secs(30), || {
        status()["outbox"]["parked"] == 1
    })
    .await;
    let s = status();
    let broken = s["connections"][0]["broken"].as_str().unwrap();
    assert!(
        broken.contains("Adobe IMS refused the client credentials of client client-1"),
        "{broken}"
    );

    // With IMS working again, connect-group resumes it.
    ims_mode.store(IMS_UP, Ordering::SeqCst);
    let out = cli(&config, &connect);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 parked entries resumed"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    wait_until("the parked work done", Duration::from_secs(30), || {
        status()["mirrors"] == 4
    })
    .await;
    let log = daemon.log();
    daemon.signal("TERM");
    assert!(daemon.wait().await.success());
    assert_eq!(sandbox.frameio_projects().len(), 4);

    let shown = format!("{log}{}", status());
    for secret in [
        SECRET,
        "ims-token-1",
        "ims-token-2",
        "ims-token-3",
        "ims-token-4",
        "ims-token-5",
    ] {
        assert!(!shown.contains(secret), "{secret} reached a log or status");
    }
}
