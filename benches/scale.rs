//! Tenant-scale figures, printed (not asserted): `cargo bench --bench scale -- [MODE] [SIZES…]`.
//!
//! - `resync` (default sizes 1000 10000 50000): a world of N projects, 2N users (every tenth
//!   flagged), 20 team members per project and 50 groups, already mirrored with its collaborators;
//!   a `frameio-sync run` child process does its start-up full sync and then a SIGHUP resync. Prints
//!   the resync's wall time, the child's CPU time over it, Workfront calls against the minimum (one page per 2,000 rows per object
//!   type), Frame.io writes, and the child's peak RSS, per size: the growth table.
//! - `startup` (default 100000): time from spawning `run` to `READY=1` with N mirrors in the store.
//! - `pacing`: 60 mirror creates and 60 collaborator PATCHes against Frame.io's limits (10 per
//!   window, the window shortened to 1 s): achieved against allowed rate, and 429s.
//! - `latency`: Workfront event → Frame.io create, on an unthrottled sandbox, 50 times.
//! - `backfill` (default 10000 projects, 4000 collaborators): a new install's first sync with
//!   Frame.io's limits off: creates/s, adds/s and fsyncs per settled effect.
//! - `backlog`: a project created in Workfront while 1,000 backfill creates wait at 10 creates per
//!   2 s: from its event to its mirror, and (without the event) from the poll that first sees it.
//! - `lanes`: 16 connected groups (16 tokens, each limited to 10 creates per 2 s) × 25 projects,
//!   Frame.io answering each request in 150 ms: the creates per second achieved against the 80 a
//!   second the 16 limits permit.
//!
//! The sandbox runs in this process; the daemon under test runs as a child (resync, startup) so its
//! memory is its own.

use frameio_sync::config::{self, Settings};
use frameio_sync::core::mirror_plan::Scope;
use frameio_sync::core::model::{CollaboratorRole, FrameioProject};
use frameio_sync::demo::write_sandbox_config;
use frameio_sync::effects::{AddCollaborator, CreateMirror, Effect};
use frameio_sync::engine::Engine;
use frameio_sync::ids::FrameioProjectId;
use frameio_sync::ids::{FrameioAccountId, FrameioWorkspaceId, WorkfrontGroupId};
use frameio_sync::secret::Secret;
use frameio_sync::store::records::CONNECTION_V;
use frameio_sync::store::{Arrival, CollaboratorRecord, ConnectionRecord, MirrorOrigin, MirrorRecord, Store};
use frameio_sync::timestamp::Timestamp;
use frameio_sync_sandbox::{Limits, Sandbox, World};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_frameio-sync");

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let mode = args.first().cloned().unwrap_or_else(|| "all".into());
    let sizes: Vec<usize> = args.iter().skip(1).filter_map(|a| a.parse().ok()).collect();
    if mode == "resync" || mode == "all" {
        let sizes = if sizes.is_empty() {
            vec![1_000, 10_000, 50_000]
        } else {
            sizes.clone()
        };
        println!("no-change full resync (SIGHUP), child daemon, 2 cores shared with the sandbox:");
        println!(
            "{:>9} {:>9} {:>11} {:>10} {:>9} {:>15} {:>15} {:>14}",
            "projects",
            "users",
            "memberships",
            "resync ms",
            "CPU ms",
            "Workfront calls",
            "minimum calls",
            "peak RSS MiB"
        );
        for n in sizes {
            resync_at(n).await;
        }
    }
    if mode == "startup" || mode == "all" {
        startup_with(*sizes.first().filter(|_| mode == "startup").unwrap_or(&100_000)).await;
    }
    if mode == "pacing" || mode == "all" {
        pacing().await;
    }
    if mode == "latency" || mode == "all" {
        latency().await;
    }
    if mode == "lanes" || mode == "all" {
        lanes().await;
    }
    if mode == "backfill" || mode == "all" {
        let projects = sizes.first().copied().unwrap_or(10_000);
        let collaborators = sizes.get(1).copied().unwrap_or(4_000);
        backfill(projects, collaborators).await;
    }
    if mode == "backlog" || mode == "all" {
        backlog().await;
    }
    if mode == "recovery" || mode == "all" {
        recovery(sizes.first().copied().unwrap_or(10_000)).await;
    }
}

/// A lost state dir: `projects` mirrors made, the state dir wiped, the daemon started again. How
/// long until every mirror is adopted (by name), and how many creates that made (none is right).
async fn recovery(projects: usize) {
    let t = tenant(World::scaled(projects, 1, 1, 0, 1), Limits::unlimited()).await;
    let store = Store::open(&t.settings.state.dir).unwrap();
    let (daemon, shutdown) = run_in_process(&t, &store);
    while store.mirror_count() < projects {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    shutdown.cancel();
    daemon.await.unwrap().unwrap();
    drop(store);
    std::fs::remove_dir_all(&t.settings.state.dir).unwrap();

    let before = t.sandbox.counts();
    let store = Store::open(&t.settings.state.dir).unwrap();
    let started = Instant::now();
    let (daemon, shutdown) = run_in_process(&t, &store);
    while store.mirror_count() < projects {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let took = started.elapsed();
    shutdown.cancel();
    daemon.await.unwrap().unwrap();
    let after = t.sandbox.counts();
    println!(
        "
recovery: {projects} mirrors, state dir wiped, Frame.io limits off"
    );
    println!(
        "  all adopted in {:.2} s ({:.0} adoptions/s); {} creates, {} Frame.io requests",
        took.as_secs_f64(),
        projects as f64 / took.as_secs_f64(),
        after.frameio_creates - before.frameio_creates,
        after.frameio_requests - before.frameio_requests,
    );
}

/// A new install's first sync: `projects` mirrors to create and `collaborators` adds (ten flagged
/// users on each of the first `collaborators / 10` projects), Frame.io's limits off.
async fn backfill(projects: usize, collaborators: usize) {
    let mut world = World::scaled(projects, collaborators, 1, 0, 1);
    let user_id = |u: usize| format!("{:032x}", 0x4e00_0000_0000u64 + u as u64);
    for (p, project) in world
        .workfront
        .projects
        .iter_mut()
        .take(collaborators.div_ceil(10))
        .enumerate()
    {
        project.project_users = (p * 10..(p * 10 + 10).min(collaborators))
            .map(|u| frameio_sync_sandbox::world::ProjectUserRow { user_id: user_id(u) })
            .collect();
    }
    let t = tenant(world, Limits::unlimited()).await;
    let store = Store::open(&t.settings.state.dir).unwrap();
    let flushes_before = store.flush_count();
    let started = Instant::now();
    let (daemon, shutdown) = run_in_process(&t, &store);
    let (mut first, mut creates_done, mut adds_done) = (None, None, None);
    loop {
        let counts = t.sandbox.counts();
        if first.is_none() && counts.frameio_creates > 0 {
            first = Some(Instant::now());
        }
        if creates_done.is_none() && counts.frameio_creates as usize >= projects {
            creates_done = Some(Instant::now());
        }
        if adds_done.is_none() && counts.frameio_user_patches as usize >= collaborators {
            adds_done = Some(Instant::now());
        }
        if creates_done.is_some() && adds_done.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let flushes = store.flush_count() - flushes_before;
    shutdown.cancel();
    daemon.await.unwrap().unwrap();
    let first = first.unwrap_or(started);
    let (creates_done, adds_done) = (creates_done.unwrap(), adds_done.unwrap());
    let span = creates_done.max(adds_done).duration_since(first).as_secs_f64();
    let effects = projects + collaborators;
    println!("\nbackfill: {projects} projects, {collaborators} collaborators, Frame.io limits off");
    println!(
        "  first sync recorded in {:.2} s; then {:.2} s: {:.1} creates/s, {:.1} adds/s, {:.1} effects/s; {:.2} fsyncs per settled effect ({flushes} in all)",
        first.duration_since(started).as_secs_f64(),
        span,
        projects as f64 / creates_done.duration_since(first).as_secs_f64(),
        collaborators as f64 / adds_done.duration_since(first).as_secs_f64(),
        effects as f64 / span,
        flushes as f64 / effects as f64,
    );
}

/// A daemon on `t` in this process with its HTTP listener (Workfront events with the token
/// `bench-token`): its store, the events URL, the task and what stops it.
async fn run_listening(
    t: &mut Tenant,
) -> (
    Store,
    String,
    tokio::task::JoinHandle<anyhow::Result<()>>,
    tokio_util::sync::CancellationToken,
) {
    t.settings.http = Some(frameio_sync::config::HttpSettings {
        workfront_webhook_token: Some(frameio_sync::secret::Secret::new("bench-token")),
        ..frameio_sync::config::HttpSettings::new("127.0.0.1:0".parse().unwrap())
    });
    let store = Store::open(&t.settings.state.dir).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/workfront/events", listener.local_addr().unwrap());
    let (_resync, resync_rx) = tokio::sync::mpsc::channel(1);
    let shutdown = tokio_util::sync::CancellationToken::new();
    let daemon = tokio::spawn(frameio_sync::daemon::run(
        t.settings.clone(),
        store.clone(),
        Some(listener),
        resync_rx,
        shutdown.clone(),
    ));
    (store, url, daemon, shutdown)
}

/// Delivers Workfront's CREATE event of project `id`, dated now, and checks it was recorded.
async fn post_event(client: &reqwest::Client, url: &str, id: &str, name: &str) {
    let event = serde_json::json!({
        "eventType": "CREATE", "subscriptionId": "bench", "eventTime": { "epochSecond": Timestamp::now().millis() / 1000 },
        "newState": { "objCode": "PROJ", "ID": id, "name": name }, "oldState": {}
    });
    let answer = client
        .post(url)
        .header("authorization", "Bearer bench-token")
        .body(event.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
}

/// A project created in Workfront behind a 1,000-project backfill, Frame.io allowing 10 creates
/// per 2 s: its event → its mirror, and, with no event, the poll that first sees it → its mirror.
async fn backlog() {
    const BACKLOG: usize = 1_000;
    let limits = Limits {
        create_per_window: 10,
        read_per_window: 1000,
        window: Duration::from_secs(2),
        workfront_concurrency: 10,
    };
    println!("\nbacklog: one new project behind {BACKLOG} backfill creates at 10 per 2 s");
    // By event.
    let mut t = tenant(World::generated(BACKLOG), limits).await;
    let (_store, url, daemon, shutdown) = run_listening(&mut t).await;
    while t.sandbox.counts().frameio_creates < 20 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut creates = t.sandbox.subscribe_creates();
    let (id, name) = ("7e000000000000000000000000000001", "Fresh project behind the backlog");
    t.sandbox.upsert_workfront_project(id, name);
    let sent = Instant::now();
    post_event(&reqwest::Client::new(), &url, id, name).await;
    while creates.recv().await.unwrap().name != name {}
    let by_event = sent.elapsed();
    let waiting = BACKLOG as u64 + 1 - t.sandbox.counts().frameio_creates;
    shutdown.cancel();
    daemon.await.unwrap().unwrap();
    println!(
        "  by event: {:.2} s from the event to the mirror, with {waiting} backfill creates still waiting; {} 429s so far",
        by_event.as_secs_f64(),
        t.sandbox.counts().frameio_rate_limited
    );

    // By polling: a 2 s incremental poll, no event.
    let t = tenant_polling(World::generated(BACKLOG), limits, "2s").await;
    let store = Store::open(&t.settings.state.dir).unwrap();
    let (daemon, shutdown) = run_in_process(&t, &store);
    while t.sandbox.counts().frameio_creates < 20 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut creates = t.sandbox.subscribe_creates();
    let upserted = Timestamp::now();
    t.sandbox
        .upsert_workfront_project("7e000000000000000000000000000002", name);
    // The poll that saw it: the first sync started since, which enqueued something.
    let seen = loop {
        match store.last_sync().unwrap() {
            Some(sync) if sync.started_at >= upserted && sync.enqueued > 0 => break Instant::now(),
            _ => tokio::time::sleep(Duration::from_millis(2)).await,
        }
    };
    while creates.recv().await.unwrap().name != name {}
    let by_poll = seen.elapsed();
    let waiting = BACKLOG as u64 + 1 - t.sandbox.counts().frameio_creates;
    shutdown.cancel();
    daemon.await.unwrap().unwrap();
    println!(
        "  by polling: {:.2} s from the poll that saw it to the mirror, with {waiting} backfill creates still waiting",
        by_poll.as_secs_f64()
    );
}

async fn lanes() {
    const GROUPS: usize = 16;
    const PER_GROUP: usize = 25;
    const LATENCY: Duration = Duration::from_millis(150);
    let limits = Limits {
        create_per_window: 10,
        read_per_window: 1000,
        window: Duration::from_secs(2),
        workfront_concurrency: 10,
    };
    let t = tenant(World::generated(0), limits).await;
    let store = Store::open(&t.settings.state.dir).unwrap();
    for g in 0..GROUPS {
        let (group, account, workspace, token) = (
            format!("g-{g:02}"),
            format!("acc-{g:02}"),
            format!("ws-{g:02}"),
            format!("token-{g:02}"),
        );
        t.sandbox.add_workfront_group(&group, &format!("Group {g}"), None);
        t.sandbox
            .add_account(&account, &format!("Account {g}"), &workspace, &format!("Workspace {g}"));
        t.sandbox.add_token(&token, &[&account]);
        t.sandbox.set_slow_token(&token, Some(LATENCY));
        let record = ConnectionRecord {
            v: CONNECTION_V,
            group: WorkfrontGroupId::new(&group).unwrap(),
            group_name: format!("Group {g}"),
            account: FrameioAccountId::new(&account).unwrap(),
            account_name: format!("Account {g}"),
            workspace: FrameioWorkspaceId::new(&workspace).unwrap(),
            workspace_name: format!("Workspace {g}"),
            credential: Default::default(),
            token_fingerprint: "sha256:bench".into(),
            connected_at: Timestamp::now(),
            broken: None,
        };
        store.save_connection(&record, &Secret::new(&token)).unwrap();
        for i in 0..PER_GROUP {
            t.sandbox
                .upsert_workfront_project_in(&format!("5b{g:02}{i:028x}"), &format!("Project {g}.{i}"), &group);
        }
    }
    let n = GROUPS * PER_GROUP;
    let flushes_before = store.flush_count();
    let started = Instant::now();
    let (daemon, shutdown) = run_in_process(&t, &store);
    let mut first = None;
    while (t.sandbox.counts().frameio_creates as usize) < n {
        if first.is_none() && t.sandbox.counts().frameio_creates > 0 {
            first = Some(Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = first.unwrap_or(started).elapsed();
    let flushes = store.flush_count() - flushes_before;
    shutdown.cancel();
    daemon.await.unwrap().unwrap();
    let permitted = GROUPS as f64 * limits.create_per_window as f64 / limits.window.as_secs_f64();
    // Each token's bucket starts full: its first 10 may go at once, the rest at 5 a second.
    let ideal = ((PER_GROUP - limits.create_per_window as usize) as f64 / (permitted / GROUPS as f64))
        .max(PER_GROUP as f64 * LATENCY.as_secs_f64());
    println!(
        "\nlanes: {GROUPS} credentials x {PER_GROUP} projects, {} ms per Frame.io request, {} creates per {:?} per token",
        LATENCY.as_millis(),
        limits.create_per_window,
        limits.window
    );
    println!(
        "  {n} creates in {:.2} s from the first: {:.1}/s; the limits permit {permitted:.0}/s, and at best it takes {ideal:.2} s: {:.2} of that; {:.2} fsyncs per create",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64(),
        ideal / elapsed.as_secs_f64(),
        flushes as f64 / n as f64,
    );
}

struct Tenant {
    sandbox: Sandbox,
    _dir: tempfile::TempDir,
    config: PathBuf,
    settings: Settings,
}

async fn tenant(world: World, limits: Limits) -> Tenant {
    tenant_polling(world, limits, "1h").await
}

async fn tenant_polling(world: World, limits: Limits, poll_interval: &str) -> Tenant {
    let sandbox = Sandbox::start(world, limits).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = write_sandbox_config(dir.path(), &sandbox, poll_interval).unwrap();
    let settings = config::load(&config).unwrap();
    Tenant {
        sandbox,
        _dir: dir,
        config,
        settings,
    }
}

/// Brings the store to "everything mirrored, every collaborator added" without Frame.io writes:
/// the real engine plans (a full sync), and each planned create or add is recorded as done.
async fn seed(t: &Tenant) {
    let store = Store::open(&t.settings.state.dir).unwrap();
    let engine = Engine::new(&t.settings, store.clone()).unwrap();
    for round in 0..2 {
        engine.sync_once(Scope::Full).await.unwrap();
        for (i, entry) in store.outbox_entries().unwrap().into_iter().enumerate() {
            match &entry.effect {
                Effect::CreateMirror(CreateMirror {
                    wf_project,
                    name,
                    target: Some(target),
                    ..
                }) => {
                    let id = FrameioProjectId::new(format!("b1000000-0000-4000-8000-{i:06}{round:06}")).unwrap();
                    let record = MirrorRecord::new(
                        wf_project,
                        name,
                        target,
                        &FrameioProject::new(id, name),
                        MirrorOrigin::Created,
                        Timestamp::now(),
                    );
                    store.complete_with_mirror(entry.id, &record).unwrap();
                }
                Effect::AddCollaborator(AddCollaborator {
                    wf_project,
                    wf_user,
                    email,
                    frameio_project,
                    target,
                    frameio_user: Some(user),
                    ..
                }) => {
                    let base = CollaboratorRecord::first(
                        (wf_project, wf_user),
                        frameio_project,
                        target,
                        email,
                        CollaboratorRole::Editor,
                        Timestamp::now(),
                    );
                    store
                        .complete_with_collaborator(entry.id, &base, user, Arrival::Added)
                        .unwrap();
                }
                other => panic!("unexpected effect while seeding: {other:?}"),
            }
        }
    }
    store.flush().await.unwrap();
}

/// The child's log (RUST_LOG=info unless CHILD_LOG says otherwise), beside its config.
fn log_path(config: &Path) -> PathBuf {
    config.with_file_name("daemon.log")
}

fn spawn(config: &Path, env: &[(&str, &str)]) -> Child {
    // `CHILD_WRAP="valgrind --tool=massif --massif-out-file=/tmp/massif.out"` profiles the child.
    let wrap = std::env::var("CHILD_WRAP").unwrap_or_default();
    let mut words = wrap.split_whitespace();
    let mut command = match words.next() {
        Some(program) => {
            let mut c = Command::new(program);
            c.args(words).arg(BIN);
            c
        }
        None => Command::new(BIN),
    };
    command
        .arg("--config")
        .arg(config)
        .arg("run")
        .env("RUST_LOG", std::env::var("CHILD_LOG").unwrap_or_else(|_| "info".into()))
        .env_remove("FRAMEIO_SYNC_CONFIG")
        .envs(
            std::env::var("CHILD_MALLOC")
                .ok()
                .map(|v| ("MALLOC_ARENA_MAX".to_owned(), v)),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log_path(config)).unwrap());
    for (k, v) in env {
        command.env(k, v);
    }
    command.spawn().unwrap()
}

fn status(config: &Path) -> serde_json::Value {
    let out = Command::new(BIN)
        .arg("--config")
        .arg(config)
        .args(["status", "--json"])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_default()
}

/// Waits for the child's `syncs`th "sync done" log line, then reads the sync record once. The
/// log is watched instead of polling `status`, which would read the store while the daemon syncs
/// and so slow the very thing measured (more, the larger the tenant).
async fn wait_for_sync(config: &Path, syncs: usize, after_seq: u64) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(600);
    let log = log_path(config);
    loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.matches("sync done").count() >= syncs {
            break;
        }
        assert!(Instant::now() < deadline, "no sync logged; log:\n{text}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The record is written just after the log line.
    loop {
        let s = status(config);
        if s["last_sync"]["seq"].as_u64().is_some_and(|seq| seq > after_seq) {
            return s["last_sync"].clone();
        }
        assert!(Instant::now() < deadline, "no sync recorded");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The child's CPU time so far (user + system), from /proc: the daemon's own share of a resync,
/// apart from the sandbox's, which answers from the same cores.
fn cpu_ms(pid: u32) -> f64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which is in parentheses): utime and stime are the 12th and
    // 13th, in clock ticks (100 a second on Linux).
    let after = text.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(f64::NAN);
    (ticks(11) + ticks(12)) * 10.0
}

fn peak_rss_mib(pid: u32) -> f64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    text.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn signal(child: &Child, name: &str) {
    Command::new("kill")
        .arg(format!("-{name}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
}

async fn resync_at(n: usize) {
    let users = 2 * n;
    let t = tenant(World::scaled(n, users, 10, 20, 50), Limits::unlimited()).await;
    let seeding = Instant::now();
    seed(&t).await;
    eprintln!("  (seeded {n} projects in {:.1} s)", seeding.elapsed().as_secs_f64());
    // The seeding recorded syncs of its own; the child's first is the one after them.
    let seeded = Store::open(&t.settings.state.dir)
        .unwrap()
        .last_sync()
        .unwrap()
        .map_or(0, |s| s.seq);
    let mut child = spawn(&t.config, &[]);
    let first = wait_for_sync(&t.config, 1, seeded).await;
    assert!(first["error"].is_null(), "{first}");
    eprintln!(
        "  (after the start-up sync: peak RSS {:.1} MiB)",
        peak_rss_mib(child.id())
    );
    let before = t.sandbox.counts();
    let cpu_before = cpu_ms(child.id());
    signal(&child, "HUP");
    let resync = wait_for_sync(&t.config, 2, first["seq"].as_u64().unwrap()).await;
    let cpu = cpu_ms(child.id()) - cpu_before;
    let after = t.sandbox.counts();
    let writes = (after.frameio_creates + after.frameio_user_patches + after.frameio_user_deletes)
        - (before.frameio_creates + before.frameio_user_patches + before.frameio_user_deletes);
    let minimum = n.div_ceil(2000) + users.div_ceil(2000) + 1;
    println!(
        "{:>9} {:>9} {:>11} {:>10.0} {:>9.0} {:>15} {:>15} {:>14.1}{}",
        n,
        users,
        n * 20,
        resync["duration_us"].as_f64().unwrap() / 1000.0,
        cpu,
        resync["workfront_calls"],
        minimum,
        peak_rss_mib(child.id()),
        if writes == 0 && resync["enqueued"] == 0 {
            String::new()
        } else {
            format!("  ({writes} Frame.io writes, {} enqueued!)", resync["enqueued"])
        }
    );
    signal(&child, "TERM");
    child.wait().unwrap();
}

async fn startup_with(n: usize) {
    let t = tenant(World::scaled(n, 1, 1, 0, 1), Limits::unlimited()).await;
    let seeding = Instant::now();
    seed(&t).await;
    let seeded = seeding.elapsed();
    let socket_path = t.settings.state.dir.with_file_name("notify.sock");
    let socket = std::os::unix::net::UnixDatagram::bind(&socket_path).unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let started = Instant::now();
    let mut child = spawn(&t.config, &[("NOTIFY_SOCKET", socket_path.to_str().unwrap())]);
    let mut buf = [0u8; 4096];
    let ready = loop {
        let n = socket.recv(&mut buf).expect("READY=1 within 120 s");
        if String::from_utf8_lossy(&buf[..n]).lines().any(|l| l == "READY=1") {
            break started.elapsed();
        }
    };
    println!(
        "\nstartup: {n} mirrors in the store (seeded in {:.1} s): READY=1 after {:.0} ms",
        seeded.as_secs_f64(),
        ready.as_secs_f64() * 1000.0
    );
    signal(&child, "TERM");
    child.wait().unwrap();
}

async fn pacing() {
    const N: usize = 60;
    let limits = Limits::fast();
    println!(
        "\nbackfill pacing, {N} of each, Frame.io allowing {} per {:?} per token:",
        limits.create_per_window, limits.window
    );
    // 60 projects without teams: 60 creates. Then 6 projects with 10 flagged members each: 6
    // creates and 60 PATCHes, so the adds are not held back by the creates.
    let creates = paced(World::scaled(N, 1, 2, 0, 1), N, |c| c.frameio_creates).await;
    report("project creates", &creates, limits);
    let patches = paced(World::scaled(6, 10, 1, 10, 1), N, |c| c.frameio_user_patches).await;
    report("collaborator PATCHes", &patches, limits);
}

struct Paced {
    times: Vec<Instant>,
    rate_limited: u64,
    requests: u64,
}

/// A daemon on `store` in this process, without an HTTP listener; stopped by cancelling the token.
fn run_in_process(
    t: &Tenant,
    store: &Store,
) -> (
    tokio::task::JoinHandle<anyhow::Result<()>>,
    tokio_util::sync::CancellationToken,
) {
    // The resync sender is dropped: these runs need no SIGHUP.
    let (_resync, resync_rx) = tokio::sync::mpsc::channel(1);
    let shutdown = tokio_util::sync::CancellationToken::new();
    let daemon = tokio::spawn(frameio_sync::daemon::run(
        t.settings.clone(),
        store.clone(),
        None,
        resync_rx,
        shutdown.clone(),
    ));
    (daemon, shutdown)
}

/// Runs a daemon in-process until `count` reaches `n`, noting when each one happened.
async fn paced(world: World, n: usize, count: fn(&frameio_sync_sandbox::Counts) -> u64) -> Paced {
    let t = tenant(world, Limits::fast()).await;
    let store = Store::open(&t.settings.state.dir).unwrap();
    let (daemon, shutdown) = run_in_process(&t, &store);
    let mut times = Vec::new();
    while times.len() < n {
        let now = count(&t.sandbox.counts()) as usize;
        while times.len() < now.min(n) {
            times.push(Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let counts = t.sandbox.counts();
    shutdown.cancel();
    daemon.await.unwrap().unwrap();
    Paced {
        times,
        rate_limited: counts.frameio_rate_limited,
        requests: counts.frameio_requests,
    }
}

fn report(what: &str, p: &Paced, limits: Limits) {
    // The bucket starts full: the first `limit` may go at once, the rest at the refill rate.
    let burst = limits.create_per_window as usize;
    let rate = limits.create_per_window as f64 / limits.window.as_secs_f64();
    let n = p.times.len();
    let steady = p.times[n - 1].duration_since(p.times[burst - 1]).as_secs_f64();
    let achieved = (n - burst) as f64 / steady;
    println!(
        "  {what:<21} {achieved:.2}/s after the first {burst}, allowed {rate:.2}/s: {:.1}% of allowed; 429s: {} of {} Frame.io requests ({:.2}%)",
        100.0 * achieved / rate,
        p.rate_limited,
        p.requests,
        100.0 * p.rate_limited as f64 / p.requests as f64
    );
}

async fn latency() {
    const EVENTS: usize = 50;
    let mut t = tenant(World::generated(0), Limits::unlimited()).await;
    let (store, url, daemon, shutdown) = run_listening(&mut t).await;
    while store.last_sync().unwrap().is_none() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let client = reqwest::Client::new();
    let mut creates = t.sandbox.subscribe_creates();
    let mut latencies = Vec::new();
    for i in 0..EVENTS {
        let id = format!("{:032x}", 0x7e00_0000_0000u64 + i as u64);
        let name = format!("Event project {i}");
        t.sandbox.upsert_workfront_project(&id, &name);
        let sent = Instant::now();
        post_event(&client, &url, &id, &name).await;
        loop {
            let created = creates.recv().await.unwrap();
            if created.name == name {
                break;
            }
        }
        latencies.push(sent.elapsed());
    }
    shutdown.cancel();
    daemon.await.unwrap().unwrap();
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "\nevent → Frame.io create ({EVENTS} events, unthrottled sandbox): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        ms(latencies[EVENTS / 2]),
        ms(latencies[EVENTS * 99 / 100]),
        ms(*latencies.last().unwrap())
    );
}
