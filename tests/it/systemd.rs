//! F10 with a real `NOTIFY_SOCKET`: readiness after the start-up checks, status, watchdog,
//! reload around SIGHUP, stopping on SIGTERM; a graceful stop under load; logs and secrets.

use crate::cli::{cli, spawn_daemon, Daemon};
use crate::helpers::{eventually, wait_until};
use frameio_sync::demo::write_sandbox_config;
use frameio_sync::store::{EntryState, Store};
use frameio_sync_sandbox::{Limits, Sandbox, World};
use std::os::unix::net::UnixDatagram;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Collects every datagram sent to a notify socket, in order.
struct NotifySocket {
    path: std::path::PathBuf,
    messages: Arc<Mutex<Vec<String>>>,
}

impl NotifySocket {
    fn bind(dir: &std::path::Path) -> Self {
        let path = dir.join("notify.sock");
        let socket = UnixDatagram::bind(&path).unwrap();
        let messages = Arc::new(Mutex::new(Vec::new()));
        let sink = messages.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = socket.recv(&mut buf) {
                sink.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
        });
        Self { path, messages }
    }

    fn all(&self) -> Vec<String> {
        self.messages.lock().unwrap().clone()
    }

    fn position(&self, from: usize, needle: &str) -> Option<usize> {
        self.all()
            .iter()
            .skip(from)
            .position(|m| m.contains(needle))
            .map(|i| i + from)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn systemd_is_told_ready_status_watchdog_reloading_and_stopping() {
    let sandbox = Sandbox::start(World::generated(3), Limits::unlimited()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = write_sandbox_config(dir.path(), &sandbox, "1h").unwrap();
    let notify = NotifySocket::bind(dir.path());
    let socket = notify.path.to_str().unwrap().to_owned();
    let daemon = Daemon::start(
        &config,
        "info",
        &[("NOTIFY_SOCKET", &socket), ("WATCHDOG_USEC", "400000")],
    );

    wait_until("READY=1", Duration::from_secs(30), || {
        notify.position(0, "READY=1").is_some()
    })
    .await;
    // Readiness came after both services answered the start-up checks.
    let counts = sandbox.counts();
    assert!(
        counts.workfront_requests >= 1 && counts.frameio_requests >= 1,
        "{counts:?}"
    );
    wait_until("STATUS with mirrors", Duration::from_secs(30), || {
        notify
            .all()
            .iter()
            .any(|m| m.starts_with("STATUS=3 mirrors, outbox 0 pending"))
    })
    .await;
    let ready = notify.position(0, "READY=1").unwrap();
    wait_until("two watchdog pings", Duration::from_secs(10), || {
        notify
            .all()
            .iter()
            .skip(ready)
            .filter(|m| m.contains("WATCHDOG=1"))
            .count()
            >= 2
    })
    .await;

    let before_hup = notify.all().len();
    daemon.signal("HUP");
    wait_until("RELOADING=1 then READY=1", Duration::from_secs(30), || {
        notify
            .position(before_hup, "RELOADING=1")
            .is_some_and(|r| notify.position(r + 1, "READY=1").is_some())
    })
    .await;
    let reloading = notify.all()[notify.position(before_hup, "RELOADING=1").unwrap()].clone();
    assert!(reloading.contains("MONOTONIC_USEC="), "{reloading}");

    let before_term = notify.all().len();
    daemon.signal("TERM");
    let exit = daemon.wait().await;
    assert!(exit.success(), "{exit:?}");
    assert!(
        notify.position(before_term, "STOPPING=1").is_some(),
        "{:?}",
        notify.all()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_exits_zero_with_the_outbox_intact() {
    const PROJECTS: usize = 40;
    let limits = Limits::creates_per_second(5);
    let sandbox = Sandbox::start(World::generated(PROJECTS), limits).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = write_sandbox_config(dir.path(), &sandbox, "1h").unwrap();
    let daemon = spawn_daemon(&config);
    wait_until("some mirrors, not all", Duration::from_secs(30), || {
        sandbox.frameio_projects().len() >= 8
    })
    .await;
    daemon.signal("TERM");
    let exit = daemon.wait().await;
    assert!(exit.success(), "{exit:?}");

    {
        let store = Store::open(&dir.path().join("state")).unwrap();
        let mirrors = store.mirror_count();
        let entries = store.outbox_entries().unwrap();
        assert!(mirrors < PROJECTS, "the stop came before the end");
        assert!(entries.iter().all(|e| e.state == EntryState::Pending));
        assert_eq!(
            mirrors + entries.len(),
            PROJECTS,
            "every project is mirrored or still pending"
        );
    }

    let daemon = spawn_daemon(&config);
    let done = eventually(Duration::from_secs(60), || {
        let status: serde_json::Value =
            serde_json::from_slice(&cli(&config, &["status", "--json"]).stdout).unwrap_or_default();
        status["mirrors"] == PROJECTS && status["outbox"]["pending"] == 0
    })
    .await;
    daemon.signal("TERM");
    daemon.wait().await;
    assert!(done, "the restarted daemon finished the work");
    assert_eq!(
        sandbox.frameio_projects().len(),
        PROJECTS,
        "no duplicate after the stop"
    );
}

#[tokio::test]
async fn a_refused_token_at_start_up_stops_the_daemon_with_an_error_naming_the_account() {
    let sandbox = Sandbox::start(World::generated(1), Limits::unlimited()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = write_sandbox_config(dir.path(), &sandbox, "1h").unwrap();
    std::fs::write(dir.path().join("frameio-token"), "fio-u-revoked-token-value").unwrap();
    let out = tokio::task::spawn_blocking(move || cli(&config, &["run"]))
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let world = World::generated(1);
    let account = world.default_target().0;
    assert!(
        stderr.contains("Frame.io start-up check failed for account") && stderr.contains(account),
        "{stderr}"
    );
    assert!(stderr.contains("HTTP 401"), "{stderr}");
    assert!(!stderr.contains("revoked-token-value"), "{stderr}");
    assert_eq!(sandbox.counts().frameio_creates, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_at_debug_level_over_a_full_sync_hold_no_secret() {
    let sandbox = Sandbox::start(World::generated(5), Limits::unlimited()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = write_sandbox_config(dir.path(), &sandbox, "1h").unwrap();
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("log_format = \"json\"\n{text}")).unwrap();
    let log_path = dir.path().join("daemon.log");
    let daemon = Daemon::start(&config, "debug", &[]);
    wait_until("5 mirrors", Duration::from_secs(30), || {
        let status: serde_json::Value =
            serde_json::from_slice(&cli(&config, &["status", "--json"]).stdout).unwrap_or_default();
        status["mirrors"] == 5
    })
    .await;
    daemon.signal("TERM");
    assert!(daemon.wait().await.success());

    let log = std::fs::read_to_string(&log_path).unwrap();
    let world = sandbox.world();
    for secret in [&world.workfront.api_key, &world.frameio.token] {
        assert!(!log.contains(secret.as_str()), "a secret reached the log");
    }
    let created: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .filter(|v: &serde_json::Value| v["message"] == "created mirror")
        .collect();
    assert_eq!(created.len(), 5);
    assert!(
        created[0]["wf_project"].is_string() && created[0]["frameio_project"].is_string(),
        "{}",
        created[0]
    );
    let status = cli(&config, &["status", "--json"]);
    let status = String::from_utf8_lossy(&status.stdout);
    assert!(!status.contains(&world.workfront.api_key) && !status.contains(&world.frameio.token));
}
