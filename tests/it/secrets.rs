//! Secrets never leave their files: with every kind of secret configured (the Workfront API key,
//! the default Frame.io token, two group tokens, the webhook token and the action secret), a
//! daemon logging JSON at `trace` level syncs, refuses bad deliveries and is stopped; then its log,
//! every command's output and error, and the `Debug` output of every config and client type are
//! searched for each secret.

use crate::cli::{cli, Daemon};
use crate::connections::{connect_marketing_and_post, three_account_app, TOKEN_B, TOKEN_C};
use crate::helpers::{add_http_listener, wait_until};
use frameio_sync::config;
use frameio_sync::control::WireToken;
use frameio_sync::engine::frameio_client;
use frameio_sync::frameio::FrameioAuth;
use frameio_sync::frameio::FrameioClient;
use frameio_sync::ims::ImsCredentials;
use frameio_sync::secret::Secret;
use frameio_sync::store::secret_files::write_secret_file;
use frameio_sync::store::Store;
use frameio_sync::workfront::WorkfrontClient;
use std::time::Duration;

const WEBHOOK_TOKEN: &str = "wf-webhook-token-secrets-test-abcdef012345";
const ACTION_SECRET: &str = "fio-action-secret-secrets-test-9876543210";

fn output_text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_reaches_logs_command_output_errors_or_debug_output() {
    let app = three_account_app().await;
    let world = app.sandbox.world();
    let secrets = [
        world.workfront.api_key.clone(),
        world.frameio.token.clone(),
        TOKEN_B.to_owned(),
        TOKEN_C.to_owned(),
        WEBHOOK_TOKEN.to_owned(),
        ACTION_SECRET.to_owned(),
    ];
    let dir = app.dir().to_owned();
    write_secret_file(&dir.join("action-secret"), &Secret::new(ACTION_SECRET)).unwrap();
    let text = std::fs::read_to_string(&app.config_path).unwrap();
    std::fs::write(&app.config_path, format!("log_format = \"json\"\n{text}")).unwrap();
    let port = add_http_listener(
        &app.config_path,
        WEBHOOK_TOKEN,
        "frameio_action_secret_file = \"action-secret\"\n",
    );
    let config = app.config_path.clone();

    let mut seen = Vec::new();
    seen.extend(connect_marketing_and_post(&app).await);
    // A token Frame.io refuses: the error names the group and account, not the token.
    let revoked = dir.join("revoked.token");
    std::fs::write(&revoked, TOKEN_B.replace("marketing", "revoked0")).unwrap();
    let refused = {
        let (config, revoked) = (config.clone(), revoked.clone());
        tokio::task::spawn_blocking(move || {
            cli(
                &config,
                &[
                    "connect-group",
                    "--group",
                    "g-mkt",
                    "--token-file",
                    revoked.to_str().unwrap(),
                ],
            )
        })
        .await
        .unwrap()
    };
    assert!(!refused.status.success());
    seen.push(output_text(&refused));

    let daemon = Daemon::start(&config, "trace", &[]);
    let status = |args: &'static [&'static str]| {
        let config = config.clone();
        async move { tokio::task::spawn_blocking(move || cli(&config, args)).await.unwrap() }
    };
    let expected = world.workfront.projects.len();
    wait_until("every project mirrored", Duration::from_secs(60), || {
        let out = cli(&config, &["status", "--json"]);
        serde_json::from_slice::<serde_json::Value>(&out.stdout).is_ok_and(|s| s["mirrors"] == expected)
    })
    .await;

    // Bad deliveries are refused and logged; the presented (wrong) values are not secrets, but
    // the refusal must not print the configured ones either.
    let http = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}");
    let wrong = http
        .post(format!("{url}/workfront/events"))
        .header("authorization", format!("Bearer {WEBHOOK_TOKEN}x"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    seen.push(wrong.text().await.unwrap());
    let unsigned = http
        .post(format!("{url}/frameio/actions"))
        .header("x-frameio-request-timestamp", "1")
        .header("x-frameio-signature", "v0=00")
        .body(r#"{"action_id":"a1"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
    seen.push(unsigned.text().await.unwrap());
    let event = http
        .post(format!("{url}/workfront/events"))
        .header("authorization", format!("Bearer {WEBHOOK_TOKEN}"))
        .body(r#"{"eventType":"CREATE","eventTime":{"epochSecond":1,"nano":0},"newState":{"objCode":"TASK"}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(event.status(), 400);
    seen.push(event.text().await.unwrap());

    for args in [
        &["status", "--json"][..],
        &["status"],
        &["connections", "--json"],
        &["connections"],
        &["outbox", "list", "--json"],
        &["plan", "--json"],
        &["plan"],
    ] {
        let out = status(args).await;
        assert!(out.status.success(), "{args:?}: {}", output_text(&out));
        seen.push(output_text(&out));
    }
    daemon.signal("TERM");
    let log = {
        let log = daemon.log();
        assert!(daemon.wait().await.success());
        log
    };
    assert!(log.lines().count() > 50, "a trace-level log has content: {log}");
    assert!(log.contains("created mirror") && log.contains("TRACE"), "{log}");
    seen.push(log);

    // Debug output of every config and client type, built from this very config.
    let settings = config::load(&config).unwrap();
    seen.push(format!("{settings:?}"));
    seen.push(format!("{:?}", WorkfrontClient::new(&settings.workfront)));
    let default = settings.frameio.default.as_ref().unwrap();
    let client: FrameioClient = frameio_client(
        &settings.frameio.base_url,
        settings.frameio.request_timeout,
        FrameioAuth::from(&default.credential),
    );
    seen.push(format!("{client:?} {:?}", FrameioAuth::from(&default.credential)));
    seen.push(format!("{:?}", WireToken::new(&Secret::new(TOKEN_B))));
    seen.push(format!(
        "{:?}",
        ImsCredentials {
            client_id: "client".into(),
            client_secret: Secret::new(TOKEN_C),
            scopes: "openid".into(),
            token_url: "http://127.0.0.1:9/ims/token/v3".parse().unwrap(),
        }
    ));
    let store = Store::open(&settings.state.dir).unwrap();
    seen.push(format!("{store:?} {:?}", store.connections().unwrap()));

    for text in &seen {
        for secret in &secrets {
            assert!(!text.contains(secret.as_str()), "a secret leaked into:\n{text}");
        }
    }
    // The daemon's own token files are the service user's alone.
    use std::os::unix::fs::PermissionsExt;
    for group in ["g-mkt", "g-post"] {
        let dir = settings.state.dir.join("tokens");
        let file = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().contains(group))
            .unwrap_or_else(|| panic!("no token file for {group} in {}", dir.display()));
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
}
