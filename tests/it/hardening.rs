//! Hostile and broken conditions around the daemon: a wedged daemon behind the control socket,
//! a daemon out of file descriptors, secret files that are not plain secrets.

use crate::cli::{cli, Daemon};
use crate::helpers::eventually;
use frameio_sync::control::{self, Request};
use frameio_sync::demo::write_sandbox_config;
use frameio_sync::sandbox::{Limits, Sandbox, World};
use std::time::{Duration, Instant};

#[tokio::test]
async fn a_wedged_daemon_gives_the_cli_a_clear_error_instead_of_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    // Something accepts on the control socket and never answers.
    let listener = tokio::net::UnixListener::bind(control::socket_path(dir.path())).unwrap();
    let _held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            open.push(stream);
        }
    });
    let started = Instant::now();
    let err = control::request_within(dir.path(), &Request::Status, Duration::from_millis(300))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("the daemon did not answer within 0.3 s"), "{err}");
    assert!(err.contains("control.sock"), "names the socket: {err}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// Only the daemon's own soft file-descriptor limit is changed (through `prlimit`, util-linux);
/// the hard one stays, so it can be raised again without CAP_SYS_RESOURCE.
fn limit_open_files(pid: u32, limit: u64) {
    let status = std::process::Command::new("prlimit")
        .arg(format!("--pid={pid}"))
        .arg(format!("--nofile={limit}:"))
        .status()
        .unwrap();
    assert!(status.success());
}

fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    // utime and stime are fields 14 and 15 of stat(5); 12 and 13 after the name.
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_file_descriptors_the_control_socket_pauses_instead_of_spinning() {
    let sandbox = Sandbox::start(World::generated(2), Limits::unlimited()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = write_sandbox_config(dir.path(), &sandbox, "1h").unwrap();
    let daemon = Daemon::start(&config, "info", &[]);
    let state = dir.path().join("state");
    assert!(
        eventually(Duration::from_secs(30), || cli(&config, &["status", "--json"])
            .status
            .success())
        .await,
        "the daemon answers"
    );
    let pid = daemon.pid();
    // RLIMIT_NOFILE bounds descriptor numbers: four above the highest in use now.
    let highest = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u64>().ok())
        .max()
        .unwrap();
    limit_open_files(pid, highest + 5);
    // Fill the table: connections the daemon accepts until accept fails with EMFILE.
    let mut held = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    let met_emfile = loop {
        if daemon.log().contains("control socket accept failed") {
            break true;
        }
        if Instant::now() > deadline {
            break false;
        }
        // A connect the daemon cannot accept waits in the kernel's queue, or fails once the queue
        // is full: either way keep knocking until the daemon reports the failed accept.
        let connect = tokio::net::UnixStream::connect(control::socket_path(&state));
        match tokio::time::timeout(Duration::from_millis(50), connect).await {
            Ok(Ok(stream)) => held.push(stream),
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    };
    assert!(met_emfile, "the accept loop met EMFILE:\n{}", daemon.log());
    // Give the accept loop two seconds of it.
    let ticks_before = cpu_ticks(pid);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let ticks = cpu_ticks(pid) - ticks_before;
    let failures = daemon.log().matches("control socket accept failed").count();
    drop(held);
    assert!(failures <= 2, "one line per burst, not one per attempt: {failures}");
    // 100 ticks a second: a spinning loop burns ~200 in two seconds.
    assert!(ticks < 50, "the accept loop used {ticks} CPU ticks in 2 s");
    // Once descriptors are free again, the socket answers.
    limit_open_files(pid, 1024);
    assert!(
        eventually(Duration::from_secs(10), || cli(&config, &["status", "--json"])
            .status
            .success())
        .await,
        "the control socket answers again"
    );
}
