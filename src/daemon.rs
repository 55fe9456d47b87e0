//! The daemon: the engine's two steps in loops, the control socket, systemd notifications, and an
//! orderly stop.
//!
//! Everything it needs is passed in — settings, the opened store, a resync channel and a shutdown
//! token — so tests run it in-process against a sandbox with a temporary state dir, and `main`
//! only adds the signal handlers.
//!
//! Start-up: bind the control socket (so `status` answers at once), check that Workfront and every
//! Frame.io credential answer, then `READY=1` and the loops. A refused credential ends the daemon
//! with an error that names it; an unreachable service is retried until it answers or the daemon
//! is stopped (systemd's start timeout bounds that).

use crate::config::Settings;
use crate::control;
use crate::core::mirror_plan::Scope;
use crate::engine::{Engine, Running};
use crate::http::intake::Intake;
use crate::http::HttpContext;
use crate::store::StoreError;
use crate::store::{FlushMark, Store};
use crate::systemd::{self, Heartbeat, BEAT};
use crate::timestamp::Timestamp;
use anyhow::Context;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The longest the worker sleeps without looking at the outbox again.
const WORKER_IDLE_MAX: Duration = Duration::from_secs(30);

/// Entries carried out at once, over all lanes.
const WORKER_MAX_RUNNING: usize = 64;

/// How long after the last settle the worker waits for another flush (the next entry's in-flight
/// mark) to cover the settled entries before it flushes them itself: long enough that a busy
/// lane's next mark comes first. Bounded by SETTLE_FLUSH_MAX after the first uncovered settle, so
/// what was done is on disk soon even while settles keep coming.
const SETTLE_FLUSH_DELAY: Duration = Duration::from_millis(20);
const SETTLE_FLUSH_MAX: Duration = Duration::from_secs(1);

/// Entries settled and not yet covered by a flush: the mark taken after the last settle, and
/// when the worker flushes them itself.
#[derive(Debug, Clone, Copy)]
struct Settled {
    mark: FlushMark,
    /// The first settle not covered yet.
    first: Instant,
    flush_at: Instant,
}

impl Settled {
    /// After a settle, given the ones still waiting (if any).
    fn after(waiting: Option<Settled>, mark: FlushMark) -> Self {
        let now = Instant::now();
        let first = waiting.map_or(now, |w| w.first);
        Self {
            mark,
            first,
            flush_at: (now + SETTLE_FLUSH_DELAY).min(first + SETTLE_FLUSH_MAX),
        }
    }
}

/// Events applied per batch, and the longest the events loop sleeps without looking.
const EVENTS_BATCH: usize = 500;
const EVENTS_IDLE_MAX: Duration = Duration::from_secs(30);

/// How often `STATUS=` is refreshed when no watchdog asks for more.
const STATUS_EVERY: Duration = Duration::from_secs(10);

/// Runs until `shutdown` is cancelled. A message on `resync` asks for a full resync now (SIGHUP).
/// `http` is the bound `[http]` listener, if any (the caller binds it, so tests can use port 0).
pub async fn run(
    settings: Settings,
    store: Store,
    http: Option<TcpListener>,
    resync: mpsc::Receiver<()>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let engine = Arc::new(Engine::new(&settings, store.clone())?);
    let tracker = TaskTracker::new();
    let sync_beat = Heartbeat::new();
    let worker_beat = Heartbeat::new();
    let events_beat = Heartbeat::new();
    // Events are received (and recorded) from the start, even while the start-up checks wait for
    // Workfront or Frame.io: Workfront's deliveries must be answered within 5 s.
    if let (Some(listener), Some(http)) = (http, &settings.http) {
        let (intake, committer) = Intake::start(store.clone(), engine.events_ready.clone());
        let context = Arc::new(HttpContext {
            engine: engine.clone(),
            intake,
            webhook_token: http.workfront_webhook_token.clone(),
            action_secret: http.frameio_action_secret.clone(),
            flag_field: settings.workfront.frameio_user_field.clone(),
            loops: vec![
                ("sync", sync_beat.clone()),
                ("worker", worker_beat.clone()),
                ("events", events_beat.clone()),
            ],
            limits: http.limits,
            metrics_token: http.metrics_token.clone(),
        });
        check_descriptors(http.limits.max_connections, http.metrics_listen.is_some());
        match http.metrics_listen {
            Some(address) => {
                let metrics = TcpListener::bind(address)
                    .await
                    .with_context(|| format!("cannot listen on {address} (http.metrics_listen)"))?;
                tracker.spawn(crate::http::serve_apart(listener, metrics, context, shutdown.clone()));
            }
            None => {
                if http.metrics_token.is_none() && !http.listen.ip().is_loopback() {
                    tracing::warn!(listen = %http.listen, "/metrics is readable by anyone who reaches http.listen; set http.metrics_listen or http.metrics_token_file");
                }
                tracker.spawn(crate::http::serve(listener, context, shutdown.clone()));
            }
        }
        tracker.spawn(async move {
            let _ = committer.await;
        });
    }
    let control = control::Server::bind(store.dir(), store.clone(), engine.clone())?;
    tracker.spawn(control.serve(shutdown.clone()));
    tracker.spawn(storage_watch(store.clone(), shutdown.clone()));

    systemd::status("checking Workfront and Frame.io");
    let checked = tokio::select! {
        _ = shutdown.cancelled() => Ok(()),
        checked = engine.check_connectivity() => checked,
    };
    if let Err(err) = checked {
        shutdown.cancel();
        tracker.close();
        tracker.wait().await;
        return Err(err);
    }

    sync_beat.beat();
    worker_beat.beat();
    events_beat.beat();
    tracker.spawn(sync_loop(
        engine.clone(),
        settings.workfront.poll_interval,
        resync,
        sync_beat.clone(),
        shutdown.clone(),
    ));
    tracker.spawn(worker_loop(engine.clone(), worker_beat.clone(), shutdown.clone()));
    tracker.spawn(events_loop(engine.clone(), events_beat.clone(), shutdown.clone()));
    tracker.spawn(review_loop(engine.clone(), shutdown.clone()));
    tracker.spawn(folder_loop(engine.clone(), shutdown.clone()));
    tracker.spawn(watchdog_loop(
        store.clone(),
        [sync_beat, worker_beat, events_beat],
        shutdown.clone(),
    ));
    tracker.close();
    if !shutdown.is_cancelled() {
        systemd::ready();
        tracing::info!(state_dir = %store.dir().display(), "frameio-sync running");
    }
    shutdown.cancelled().await;
    systemd::stopping();
    tracing::info!("stopping");
    tracker.wait().await;
    if let Some(reason) = store.storage_failure() {
        anyhow::bail!(
            "the state store can no longer write ({reason}); exiting so that systemd restarts the daemon, \
             which reopens the store once the disk takes writes again. Every event answered 200 and every \
             recorded effect was on disk before its answer"
        );
    }
    store.flush().await?;
    tracing::info!("stopped");
    Ok(())
}

/// How often an idle daemon checks that its store can still write: it learns within this that
/// sled's background writer met an error (a full disk, say).
const STORAGE_PROBE: Duration = Duration::from_secs(5);

/// Stops the daemon once the store cannot write (see `store/failure.rs`): sled refuses every later
/// write until the store is reopened, and only a new process can do that. `/healthz` says so
/// meanwhile, and the watchdog is no longer pinged.
async fn storage_watch(store: Store, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = store.storage_failed().cancelled() => break,
            _ = tokio::time::sleep(STORAGE_PROBE) => {
                let _ = store.check_writable().await;
            }
        }
    }
    tracing::error!(
        reason = store.storage_failure().unwrap_or_default(),
        "the state store can no longer write; refusing events and stopping so that systemd restarts the daemon"
    );
    shutdown.cancel();
}

/// A full sync at start and on every resync request, incremental polls in between. A failed sync
/// is logged and recorded (see `status`); a failed full sync is tried again as full at the next
/// tick. Resync requests that arrive during a sync wait in a channel of one, so any number of
/// SIGHUPs during a resync become exactly one more.
async fn sync_loop(
    engine: Arc<Engine>,
    poll_interval: Duration,
    mut resync: mpsc::Receiver<()>,
    heartbeat: Heartbeat,
    shutdown: CancellationToken,
) {
    let mut next_scope = Scope::Full;
    let mut reloading = false;
    loop {
        heartbeat.beat();
        // A sync commits in one transaction at its end, so stopping it half-way loses nothing;
        // waiting instead could outlast systemd's stop timeout while Workfront is being retried.
        let outcome = tokio::select! {
            _ = shutdown.cancelled() => return,
            outcome = engine.sync_once(next_scope) => outcome,
        };
        match outcome {
            Ok(record) => {
                next_scope = Scope::Incremental;
                systemd::status(&summary(&engine.store));
                if reloading {
                    tracing::info!(
                        projects = record.projects_seen,
                        enqueued = record.enqueued,
                        parked = record.parked,
                        duration_ms = record.duration_us / 1000,
                        "full resync done"
                    );
                }
            }
            Err(err) => {
                tracing::error!(error = format!("{err:#}"), scope = ?next_scope, "sync failed")
            }
        }
        if reloading {
            systemd::ready();
            reloading = false;
        }
        let deadline = Instant::now() + poll_interval;
        let mut resync_open = true;
        while Instant::now() < deadline {
            heartbeat.beat();
            let nap = tokio::time::sleep_until(deadline.min(Instant::now() + BEAT));
            tokio::select! {
                _ = shutdown.cancelled() => return,
                request = resync.recv(), if resync_open => match request {
                    Some(()) => {
                        tracing::info!("full resync requested");
                        systemd::reloading();
                        next_scope = Scope::Full;
                        reloading = true;
                        break;
                    }
                    // No signal handler feeds this channel (some tests): poll on the timer only.
                    None => resync_open = false,
                },
                _ = nap => {}
            }
        }
    }
}

/// Carries out due outbox entries one after another; sleeps until the next is due, new work
/// arrives, or shutdown. Stopping in the middle of an effect is safe: a create already sent is
/// marked in flight on disk, so the next start looks for its result before creating again —
/// exactly as after a crash.
async fn worker_loop(engine: Arc<Engine>, heartbeat: Heartbeat, shutdown: CancellationToken) {
    let mut running = Running::default();
    let mut tasks: JoinSet<Result<(), StoreError>> = JoinSet::new();
    // Taken when the last entry was settled: settles share the next in-flight mark's flush, or
    // this loop's if none has covered them within SETTLE_FLUSH_DELAY (see `effects::settle`).
    let mut settled: Option<Settled> = None;
    while !shutdown.is_cancelled() {
        heartbeat.beat();
        // Start every due entry whose lane has room.
        let mut wait = WORKER_IDLE_MAX;
        while running.count() < WORKER_MAX_RUNNING {
            match engine.next_work(&running) {
                Ok((Some(entry), _)) => {
                    let engine = engine.clone();
                    let picked = entry.clone();
                    let task = tasks.spawn(async move { engine.carry_out(&picked).await });
                    running.start(task.id(), &entry);
                }
                Ok((None, next_due)) => {
                    if let Some(due) = next_due {
                        wait = wait.min(Timestamp::now().until(due));
                    }
                    break;
                }
                Err(err) => {
                    tracing::error!(error = %err, "outbox worker could not read the store");
                    wait = Duration::from_secs(1);
                    break;
                }
            }
        }
        if settled.is_some_and(|s| engine.store.covered(s.mark)) {
            settled = None;
        }
        // Wait for a lane to free up, new work, the next due time, or the next beat.
        tokio::select! {
            _ = shutdown.cancelled() => return,
            Some(done) = tasks.join_next_with_id(), if !tasks.is_empty() => {
                let (task, outcome) = match done {
                    Ok((task, outcome)) => (task, outcome.map_err(|e| e.to_string())),
                    Err(err) => (err.id(), Err(format!("the task failed: {err}"))),
                };
                settled = Some(Settled::after(settled, engine.store.mark()));
                if let Some((lane, id)) = running.finish(task) {
                    if let Err(err) = outcome {
                        tracing::error!(error = %err, outbox_id = %id, %lane, "outbox worker could not carry out an entry; trying again in a second");
                        tokio::select! {
                            _ = shutdown.cancelled() => return,
                            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        }
                    }
                }
            }
            _ = engine.work_ready.notified() => {}
            _ = tokio::time::sleep_until(settled.map_or_else(Instant::now, |s| s.flush_at)), if settled.is_some() => {
                settled = None;
                if let Err(err) = engine.store.flush().await {
                    tracing::error!(error = %err, "outbox worker could not flush what it settled");
                }
            }
            _ = tokio::time::sleep(wait.min(BEAT)) => {}
        }
    }
}

/// Applies recorded Workfront events as they arrive (woken by the intake), in batches. A batch
/// that fails (Workfront unreachable for a project's team) stays in the inbox and is tried again.
/// Once an hour, dedupe keys older than Workfront's 48 h of retries (with a margin) are pruned.
/// Review passes asked for between polls (a Frame.io comment webhook): after a short pause, so a
/// burst of comments is read in one pass. The poll runs its own pass in any case.
async fn review_loop(engine: Arc<Engine>, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = engine.review_asked() => {}
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
        }
        if let Err(err) = engine.review_once().await {
            tracing::warn!(
                error = format!("{err:#}"),
                "a review pass failed; the next poll tries again"
            );
        }
    }
}

/// Folder passes asked for between polls (a Workfront document event), over the projects as the
/// last sync read them. The poll runs its own pass in any case.
async fn folder_loop(engine: Arc<Engine>, shutdown: CancellationToken) {
    loop {
        let pass = tokio::select! {
            _ = shutdown.cancelled() => return,
            pass = engine.folder_asked() => pass,
        };
        if let Err(err) = pass {
            tracing::warn!(
                error = format!("{err:#}"),
                "a one-way folder pass failed; the next poll tries again"
            );
        }
    }
}

async fn events_loop(engine: Arc<Engine>, heartbeat: Heartbeat, shutdown: CancellationToken) {
    let mut pruned_at: Option<Instant> = None;
    while !shutdown.is_cancelled() {
        heartbeat.beat();
        let outcome = tokio::select! {
            _ = shutdown.cancelled() => return,
            outcome = engine.apply_events_once(EVENTS_BATCH) => outcome,
        };
        let wait = match outcome {
            Ok(applied) if applied.taken > 0 => continue,
            Ok(_) => EVENTS_IDLE_MAX,
            Err(err) => {
                tracing::error!(
                    error = format!("{err:#}"),
                    "could not apply Workfront events; trying again"
                );
                Duration::from_secs(5)
            }
        };
        if pruned_at.is_none_or(|at| at.elapsed() >= Duration::from_secs(3600)) {
            let before = Timestamp::now().saturating_sub(Duration::from_secs(72 * 3600));
            match engine.store.prune_seen_events(before) {
                Ok(n) if n > 0 => tracing::info!(pruned = n, "forgot event dedupe keys older than 72 h"),
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "could not prune event dedupe keys"),
            }
            pruned_at = Some(Instant::now());
        }
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            heartbeat.beat();
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = engine.events_ready.notified() => break,
                _ = tokio::time::sleep_until(deadline.min(Instant::now() + BEAT)) => {}
            }
        }
    }
}

/// Pings systemd's watchdog at half its timeout while every loop beats, and refreshes `STATUS=`.
async fn watchdog_loop(store: Store, heartbeats: [Heartbeat; 3], shutdown: CancellationToken) {
    let timeout = systemd::watchdog_timeout();
    // Without a watchdog this ticker still runs, rarely, and its ticks do nothing.
    let mut pings = tokio::time::interval(timeout.map_or(Duration::from_secs(3600), |t| t / 2));
    let mut status = tokio::time::interval(STATUS_EVERY);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = pings.tick() => {
                let Some(timeout) = timeout else { continue };
                if store.storage_failure().is_some() {
                    tracing::error!("the state store can no longer write; no longer pinging systemd");
                } else if systemd::watchdog_due(&[&heartbeats[0], &heartbeats[1], &heartbeats[2]], timeout) {
                    systemd::watchdog();
                } else {
                    tracing::error!("a loop has not made progress within the watchdog timeout; no longer pinging systemd");
                }
            }
            _ = status.tick() => systemd::status(&summary(&store)),
        }
    }
}

/// The one-line summary for `STATUS=`: mirrors, outbox depth, last sync.
pub fn summary(store: &Store) -> String {
    let mirrors = store.mirror_count();
    let outbox = store.outbox_counts().unwrap_or_default();
    let last = match store.last_sync() {
        Ok(Some(s)) => {
            let age = s.started_at.until(Timestamp::now()).as_secs();
            match s.error {
                None => format!("last sync ok {age}s ago"),
                Some(_) => format!("last sync FAILED {age}s ago"),
            }
        }
        _ => "no sync yet".to_owned(),
    };
    format!(
        "{mirrors} mirrors, outbox {} pending / {} parked / {} dead, {last}",
        outbox.pending, outbox.parked, outbox.dead
    )
}

/// Descriptors the daemon needs besides its HTTP connections: sled's files, the control socket,
/// outgoing requests, the journal.
const DESCRIPTORS_BESIDES_HTTP: u64 = 128;

/// Warns when the process may open fewer files than the listeners' caps allow connections: past
/// that, accepts fail (and pause) instead of answering 503. The units set `LimitNOFILE=8192`.
fn check_descriptors(max_connections: usize, metrics_apart: bool) {
    use crate::http::listener::shedding_at_once;
    let mut connections = max_connections + shedding_at_once(max_connections);
    if metrics_apart {
        let cap = crate::http::METRICS_CONNECTIONS;
        connections += cap + shedding_at_once(cap);
    }
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return;
    }
    let needed = connections as u64 + DESCRIPTORS_BESIDES_HTTP;
    if limit.rlim_cur < needed {
        tracing::warn!(
            open_files_limit = limit.rlim_cur,
            needed,
            "the open-files limit is below http.max_connections plus what the daemon needs besides; raise LimitNOFILE= or lower http.max_connections"
        );
    }
}
