//! `frameio-sync demo`: the daemon against the sandbox, with no credentials and nothing to set up.
//!
//! It writes a real configuration file and secret files into a temporary folder, so the demo runs
//! the same code path as production: config loading, the store, the sync and worker loops.

mod folder;
mod review;

pub use review::enable as enable_review_loop;

use crate::config;
use crate::daemon;
use crate::store::Store;
use anyhow::Context;
use frameio_sync_sandbox::{Limits, Sandbox, World};
use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// How long the demo waits for the mirrors before it gives up.
const DEMO_TIMEOUT: Duration = Duration::from_secs(120);

/// Writes a configuration for `sandbox` into `dir` and returns its path.
pub fn write_sandbox_config(dir: &Path, sandbox: &Sandbox, poll_interval: &str) -> anyhow::Result<std::path::PathBuf> {
    let world = sandbox.world();
    let (account, workspace) = world.default_target();
    use crate::secret::Secret;
    use crate::store::secret_files::write_secret_file;
    write_secret_file(
        &dir.join("workfront-api-key"),
        &Secret::new(world.workfront.api_key.as_str()),
    )?;
    write_secret_file(&dir.join("frameio-token"), &Secret::new(world.frameio.token.as_str()))?;
    let text = format!(
        r#"[workfront]
base_url = "{wf}"
api_key_file = "workfront-api-key"
poll_interval = "{poll_interval}"

[frameio]
base_url = "{fio}"

[frameio.default]
token_file = "frameio-token"
account_id = "{account}"
workspace_id = "{workspace}"

[state]
dir = "state"
"#,
        wf = sandbox.workfront_url,
        fio = sandbox.frameio_url,
    );
    let path = dir.join("config.toml");
    std::fs::write(&path, text)?;
    Ok(path)
}

pub async fn run() -> anyhow::Result<ExitCode> {
    let world = World::demo();
    let expected = world.workfront.projects.len();
    let names: HashMap<String, String> = world
        .workfront
        .projects
        .iter()
        .map(|p| (p.id.clone(), p.name.clone()))
        .collect();
    let sandbox = Sandbox::start(world, Limits::fast())
        .await
        .context("cannot start the sandbox")?;
    let dir = tempfile::tempdir().context("cannot create a temporary state dir")?;
    let config_path = write_sandbox_config(dir.path(), &sandbox, "60s")?;
    review::enable(dir.path(), &config_path, &sandbox)?;
    folder::enable(&config_path)?;
    let review_project = review::prepare(&sandbox);
    let storyboard = folder::prepare(&sandbox);
    let settings = config::load(&config_path)?;
    println!("frameio-sync demo");
    println!("  sandbox Workfront: {} ({expected} projects)", sandbox.workfront_url);
    println!(
        "  sandbox Frame.io:  {} (10 project creates per second, as Frame.io's 10 a minute, sped up)",
        sandbox.frameio_url
    );
    println!("  config:            {}", config_path.display());
    println!();

    let store = Store::open(&settings.state.dir)?;
    let shutdown = CancellationToken::new();
    let (resync, resync_rx) = mpsc::channel(1);
    // The listener for the custom action, on a free port.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("cannot listen on 127.0.0.1")?;
    let http = format!("http://{}", listener.local_addr()?);
    let daemon = tokio::spawn(daemon::run(
        settings,
        store.clone(),
        Some(listener),
        resync_rx,
        shutdown.clone(),
    ));

    let started = Instant::now();
    let mut shown = usize::MAX;
    loop {
        let mirrored = store.mirror_count();
        if mirrored != shown {
            let pending = store.outbox_counts()?.pending;
            println!(
                "  [{:>5.1}s] {mirrored:>3}/{expected} mirrors created, {pending} pending",
                started.elapsed().as_secs_f64()
            );
            shown = mirrored;
        }
        if mirrored >= expected {
            break;
        }
        if started.elapsed() > DEMO_TIMEOUT || daemon.is_finished() {
            shutdown.cancel();
            anyhow::bail!(
                "the demo did not converge: {mirrored}/{expected} mirrors after {:?}",
                started.elapsed()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let counts = sandbox.counts();
    println!(
        "\nall {expected} projects mirrored in {:.1}s: {} creates, {} refused with 429.",
        started.elapsed().as_secs_f64(),
        counts.frameio_creates,
        counts.frameio_rate_limited,
    );

    // Collaborators (F3): flagged, active team members with a Frame.io user are added as each
    // mirror appears; wait until nothing is pending.
    let mut shown = usize::MAX;
    loop {
        let added = store.managed_collaborator_count()?;
        let pending = store.outbox_counts()?.pending;
        if added != shown {
            println!(
                "  [{:>5.1}s] {added:>3} collaborators added, {pending} changes pending",
                started.elapsed().as_secs_f64()
            );
            shown = added;
        }
        if pending == 0 {
            break;
        }
        if started.elapsed() > DEMO_TIMEOUT || daemon.is_finished() {
            shutdown.cancel();
            anyhow::bail!("the demo's collaborators did not converge: {pending} changes still pending");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let counts = sandbox.counts();
    println!(
        "collaborators done in {:.1}s: {} project-user PATCHes, {} refused with 429 in all.",
        started.elapsed().as_secs_f64(),
        counts.frameio_user_patches,
        counts.frameio_rate_limited,
    );
    for entry in store.outbox_entries()? {
        if let crate::store::EntryState::Parked { reason, .. } = &entry.state {
            println!("  parked #{}: {}", entry.id, reason);
        }
    }
    let first_sync = store.last_sync()?.map_or(0, |s| s.seq);
    println!();
    println!("now a full resync with nothing to change (what SIGHUP asks for):");

    let before = sandbox.counts();
    resync.send(()).await.context("the daemon stopped")?;
    let record = loop {
        if let Some(s) = store.last_sync()?.filter(|s| s.seq > first_sync) {
            break s;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let after = sandbox.counts();
    println!(
        "  {:.2} ms, {} Workfront calls, {} Frame.io calls, {} projects and {} users seen, {} effects enqueued",
        record.duration_us as f64 / 1000.0,
        after.workfront_requests - before.workfront_requests,
        after.frameio_requests - before.frameio_requests,
        record.projects_seen,
        record.users_seen,
        record.enqueued,
    );

    println!("\n{:<34} {:<42} Frame.io project", "Workfront project", "name");
    let mut mirrors = store.mirrors()?;
    mirrors.sort_by(|a, b| a.wf_project.cmp(&b.wf_project));
    for m in &mirrors {
        let name = names.get(m.wf_project.as_str()).map(String::as_str).unwrap_or(&m.name);
        println!(
            "{:<34} {:<42} {}",
            m.wf_project.as_str(),
            truncate(name, 41),
            m.frameio_project
        );
    }
    let in_frameio = sandbox.frameio_projects().len();
    println!(
        "\n{} mirrors; the sandbox Frame.io holds {in_frameio} projects.",
        mirrors.len()
    );

    review::show(&sandbox, &store, &http, &review_project, &resync).await?;
    folder::show(&sandbox, &store, &storyboard, &resync).await?;

    shutdown.cancel();
    daemon.await.context("the daemon task panicked")??;
    Ok(ExitCode::SUCCESS)
}

/// Waits until `done`, for at most `limit`; else fails naming the demo's `part` and `what` it
/// waited for.
async fn converge(
    part: &str,
    what: &str,
    limit: Duration,
    mut done: impl FnMut() -> anyhow::Result<bool>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    while !done()? {
        if started.elapsed() > limit {
            anyhow::bail!("the demo's {part} did not converge: no {what} after {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        s.chars().take(max - 1).chain(['…']).collect()
    }
}
