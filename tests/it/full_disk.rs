//! A full disk under the state dir (needs `--features powerloss`: the state dir lives on
//! [`LazyFs`], which can answer ENOSPC). sled keeps its first write error for ever, so a daemon
//! that met one must not stay up refusing every event with 503 while `/healthz` says 200: it
//! stops with a non-zero status (systemd restarts it), and once the disk has room the new process
//! takes events again. Every event answered 200 before the disk filled is applied.

use crate::cli::Daemon;
use crate::crash::{assert_one_mirror_each, converge_and_stop};
use crate::helpers::{add_http_listener, deliver_event, wait_for_listener};
use crate::lazyfs::{put_state_on, LazyFs};
use crate::webhooks::project_event;
use frameio_sync::demo::write_sandbox_config;
use frameio_sync_sandbox::{Limits, Sandbox, World};
use std::time::Duration;

const PROJECTS: usize = 3;
const TOKEN: &str = "wf-webhook-token-full-disk-0123456789";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_stops_the_daemon_for_a_restart_and_loses_no_acknowledged_event() {
    let mount = tempfile::tempdir().unwrap();
    let (fs, _session) =
        LazyFs::mount(mount.path()).expect("mounting the test file system needs /dev/fuse, and root or fusermount3");
    let sandbox = Sandbox::start(World::generated(PROJECTS), Limits::unlimited())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = write_sandbox_config(dir.path(), &sandbox, "1h").unwrap();
    let state_dir = put_state_on(&config, mount.path());
    let port = add_http_listener(&config, TOKEN, "");

    let daemon = Daemon::start(&config, "info", &[]);
    wait_for_listener(port).await;
    let mut next = 0usize;
    let mut event = || {
        next += 1;
        let id = format!("5e00000000000000000000000000{next:04}");
        sandbox.upsert_workfront_project(&id, &format!("Full disk {next}"));
        (
            id.clone(),
            project_event("CREATE", &id, &format!("Full disk {next}"), 1_000 + next as i64).to_string(),
        )
    };
    let mut acknowledged = Vec::new();
    for _ in 0..3 {
        let (id, body) = event();
        assert_eq!(deliver_event(port, TOKEN, body).await, Some(200));
        acknowledged.push(id);
    }

    fs.set_full(true);
    // Deliveries are refused once a flush fails; one answered 200 meanwhile was flushed first.
    let mut refused = Vec::new();
    for _ in 0..20 {
        let (id, body) = event();
        match deliver_event(port, TOKEN, body.clone()).await {
            Some(200) => acknowledged.push(id),
            _ => {
                refused.push(body);
                break;
            }
        }
    }
    assert!(!refused.is_empty(), "a delivery is refused while the disk is full");
    let log_path = config.with_file_name("daemon.log");
    let pid = daemon.pid();
    let Ok(status) = tokio::time::timeout(Duration::from_secs(60), daemon.wait()).await else {
        // Not left running on the test's file system, which goes with the test.
        let _ = std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status();
        panic!("the daemon did not stop by itself within 60 s once its store could not write");
    };
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        !status.success(),
        "exits non-zero, so systemd's Restart=on-failure restarts it:\n{log}"
    );
    assert!(log.contains("the state store can no longer write"), "{log}");
    assert!(log.contains("No space left on device"), "says why: {log}");

    // Room again: the restarted daemon takes the refused delivery (Workfront retries) and new ones.
    fs.set_full(false);
    let daemon = Daemon::start(&config, "info", &[]);
    wait_for_listener(port).await;
    for body in refused {
        assert_eq!(deliver_event(port, TOKEN, body).await, Some(200), "the redelivery");
    }
    let (id, body) = event();
    assert_eq!(deliver_event(port, TOKEN, body).await, Some(200));
    acknowledged.push(id);
    let expected = PROJECTS + next;
    converge_and_stop(daemon, &config, expected, Duration::from_secs(60)).await;
    let store = frameio_sync::store::Store::open(&state_dir).unwrap();
    for id in &acknowledged {
        assert!(
            store.event_mark(&format!("PROJ:{id}")).unwrap().is_some(),
            "acknowledged event for {id} applied"
        );
    }
    drop(store);
    drop(assert_one_mirror_each(&sandbox, &state_dir, expected));
}
