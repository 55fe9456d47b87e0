//! The two transfers, each a stream through the daemon (a child process): a file sent for review
//! (issue 19), from Frame.io's download to Workfront's upload; and a Workfront document pushed to
//! the one-way folder (issue 20), from Workfront's download into Frame.io's presigned parts (64 MiB
//! each, spooled to disk one at a time). Measures the throughput on loopback and the daemon's peak
//! RSS (`VmHWM`) for a small and a large file: memory must not grow with the file's size.
//!
//! `cargo bench --bench transfer` (64 MiB and 2 GiB), or `-- <MiB> <MiB> …`.

use frameio_sync::config;
use frameio_sync::core::mirror_plan::Planned;
use frameio_sync::core::model::Target;
use frameio_sync::demo::write_sandbox_config;
use frameio_sync::effects::{AddDocument, Effect, ReviewFile};
use frameio_sync::ids::{FrameioFileId, WorkfrontProjectId, WorkfrontUserId};
use frameio_sync::store::{Recording, Store};
use frameio_sync::timestamp::Timestamp;
use frameio_sync_sandbox::files::FileContent;
use frameio_sync_sandbox::{Limits, Sandbox, World};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_frameio-sync");

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if args.is_empty() { vec![64, 2048] } else { args };
    println!("review file transfer, Frame.io download → Workfront upload, child daemon:");
    println!(
        "{:>10} {:>9} {:>9} {:>15} {:>10}",
        "file MiB", "seconds", "MiB/s", "peak RSS MiB", "digest"
    );
    for mib in &sizes {
        transfer(*mib).await;
    }
    println!("one-way folder, Workfront download → Frame.io parts of 64 MiB, child daemon:");
    println!(
        "{:>10} {:>9} {:>9} {:>15} {:>10}",
        "file MiB", "seconds", "MiB/s", "peak RSS MiB", "digest"
    );
    for mib in &sizes {
        push(*mib).await;
    }
}

/// A `mib` MiB document on a Current project, pushed to its mirror's folder by a daemon started
/// on it: from the start until the file is whole in Frame.io (the mirror's creation included).
async fn push(mib: u64) {
    let size = mib << 20;
    let sandbox = Sandbox::start(World::generated(1), Limits::unlimited()).await.unwrap();
    sandbox.set_upload_part_size(64 << 20);
    let dir = tempfile::tempdir().unwrap();
    let config_path = write_sandbox_config(dir.path(), &sandbox, "1h").unwrap();
    let mut text = std::fs::read_to_string(&config_path).unwrap();
    text.push_str("\n[folder]\nenabled = true\nmax_file_size = \"4GiB\"\n");
    std::fs::write(&config_path, text).unwrap();
    let wf_project = sandbox.world().workfront.projects[0].id.clone();
    let content = FileContent::Pattern { size, seed: 11 };
    sandbox.add_workfront_document(&wf_project, "Master.mov", content.clone(), false);
    let started = Instant::now();
    let mut child = start(&config_path);
    let mut peak = 0.0f64;
    let whole = || {
        let project = sandbox.frameio_projects().into_iter().next()?;
        let (folder, _, _) = sandbox
            .frameio_folders(&project.id)
            .into_iter()
            .find(|(_, _, name)| name == "From Workfront")?;
        sandbox
            .frameio_folder_files(&folder)
            .into_iter()
            .find(|(_, _, _, whole)| *whole)
            .map(|(id, _, _, _)| id)
    };
    let file = loop {
        peak = peak.max(peak_rss_mib(child.id()));
        if let Some(file) = whole() {
            break file;
        }
        assert!(
            started.elapsed() < Duration::from_secs(900),
            "no whole file within 15 minutes"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let took = started.elapsed().as_secs_f64();
    peak = peak.max(peak_rss_mib(child.id()));
    stop(&mut child);
    let same = sandbox.frameio_file_digest(&file) == Some((size, content.digest()));
    println!(
        "{mib:>10} {took:>9.2} {:>9.1} {peak:>15.1} {:>10}",
        mib as f64 / took,
        if same { "same" } else { "DIFFERENT" }
    );
}

/// The daemon on `config`, quiet.
fn start(config: &std::path::Path) -> std::process::Child {
    Command::new(BIN)
        .arg("--config")
        .arg(config)
        .arg("run")
        .env("RUST_LOG", "warn")
        .env_remove("FRAMEIO_SYNC_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Stops the daemon (SIGTERM) and waits for it.
fn stop(child: &mut std::process::Child) {
    Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    child.wait().unwrap();
}

async fn transfer(mib: u64) {
    let size = mib << 20;
    let sandbox = Sandbox::start(World::generated(1), Limits::unlimited()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config_path = write_sandbox_config(dir.path(), &sandbox, "1h").unwrap();
    let mut text = std::fs::read_to_string(&config_path).unwrap();
    text.push_str("\n[review]\nmax_upload_size = \"4GiB\"\n");
    std::fs::write(&config_path, text).unwrap();
    let settings = config::load(&config_path).unwrap();
    let default = settings.frameio.default.as_ref().unwrap();
    let target = Target {
        account: default.account_id.clone(),
        workspace: default.workspace_id.clone(),
        via: None,
    };
    let project = sandbox.insert_frameio_project("Review", frameio_sync_sandbox::dates::now());
    let content = FileContent::Pattern { size, seed: 9 };
    sandbox.add_frameio_file_with(&project.id, "big-file", "Master.mov", content.clone());
    let wf_project = sandbox.world().workfront.projects[0].id.clone();
    {
        let store = Store::open(&settings.state.dir).unwrap();
        let planned = Planned {
            effect: Effect::AddDocument(AddDocument {
                interaction: "bench".into(),
                wf_project: WorkfrontProjectId::new(wf_project).unwrap(),
                wf_user: WorkfrontUserId::new("bench-user").unwrap(),
                user_name: "Bench".into(),
                asset_name: "Master.mov".into(),
                asset_url: "https://next.frame.io/project/x/view/big-file".into(),
                file: Some(ReviewFile {
                    id: FrameioFileId::new("big-file").unwrap(),
                    target,
                    mirror: None,
                }),
                task: None,
                message: None,
            }),
            reason: "bench".into(),
        };
        let recording = Recording {
            enqueue: vec![&planned],
            ..Recording::default()
        };
        store.record_plan(&recording, Timestamp::now()).unwrap();
        store.flush_blocking().unwrap();
    }
    let started = Instant::now();
    let mut child = start(&config_path);
    let mut peak = 0.0f64;
    while sandbox.workfront_documents().is_empty() {
        peak = peak.max(peak_rss_mib(child.id()));
        assert!(
            started.elapsed() < Duration::from_secs(900),
            "no document within 15 minutes"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = started.elapsed().as_secs_f64();
    peak = peak.max(peak_rss_mib(child.id()));
    stop(&mut child);
    let document = sandbox.workfront_documents()[0]["ID"].as_str().unwrap().to_owned();
    let arrived = sandbox.workfront_document_upload(&document).unwrap();
    let same = arrived.size == size && arrived.digest == content.digest();
    println!(
        "{mib:>10} {took:>9.2} {:>9.1} {peak:>15.1} {:>10}",
        mib as f64 / took,
        if same { "same" } else { "DIFFERENT" }
    );
}

/// The child's peak resident set (`VmHWM`), in MiB.
fn peak_rss_mib(pid: u32) -> f64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    text.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}
