//! The daemon: the engine's two steps in loops, the control socket, and an orderly stop.
//!
//! Everything it needs is passed in — settings, the opened store, a resync channel and a shutdown
//! token — so tests run it in-process against a sandbox with a temporary state dir, and `main`
//! only adds the signal handlers.

use crate::config::Settings;
use crate::control;
use crate::core::mirror_plan::Scope;
use crate::engine::{Engine, WorkOutcome};
use crate::store::Store;
use crate::timestamp::Timestamp;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The longest the worker sleeps without looking at the outbox again.
const WORKER_IDLE_MAX: Duration = Duration::from_secs(30);

/// Runs until `shutdown` is cancelled. A message on `resync` asks for a full resync now (SIGHUP).
pub async fn run(
    settings: Settings,
    store: Store,
    resync: mpsc::Receiver<()>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let engine = Arc::new(Engine::new(&settings, store.clone()));
    let tracker = TaskTracker::new();
    let control = control::Server::bind(store.dir(), store.clone(), engine.clone())?;
    tracker.spawn(control.serve(shutdown.clone()));
    tracker.spawn(sync_loop(
        engine.clone(),
        settings.workfront.poll_interval,
        resync,
        shutdown.clone(),
    ));
    tracker.spawn(worker_loop(engine.clone(), shutdown.clone()));
    tracker.close();
    tracing::info!(state_dir = %store.dir().display(), "frameio-sync running");
    shutdown.cancelled().await;
    tracing::info!("stopping");
    tracker.wait().await;
    store.flush().await?;
    tracing::info!("stopped");
    Ok(())
}

/// A full sync at start and on every resync request, incremental polls in between. A failed sync
/// is logged and recorded (see `status`); a failed full sync is tried again as full at the next tick.
async fn sync_loop(
    engine: Arc<Engine>,
    poll_interval: Duration,
    mut resync: mpsc::Receiver<()>,
    shutdown: CancellationToken,
) {
    let mut next_scope = Scope::Full;
    loop {
        match engine.sync_once(next_scope).await {
            Ok(_) => next_scope = Scope::Incremental,
            Err(err) => {
                tracing::error!(error = format!("{err:#}"), scope = ?next_scope, "sync failed")
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            request = resync.recv() => match request {
                Some(()) => {
                    tracing::info!("full resync requested");
                    next_scope = Scope::Full;
                }
                // The sender is gone (no signal handler, as in some tests): poll on the timer only.
                None => tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(poll_interval) => {}
                },
            },
            _ = tokio::time::sleep(poll_interval) => {}
        }
    }
}

/// Carries out due outbox entries one after another; sleeps until the next is due, new work
/// arrives, or shutdown. Stopping in the middle of an effect is safe: a create already sent is
/// marked in flight on disk, so the next start looks for its result before creating again —
/// exactly as after a crash.
async fn worker_loop(engine: Arc<Engine>, shutdown: CancellationToken) {
    while !shutdown.is_cancelled() {
        let outcome = tokio::select! {
            _ = shutdown.cancelled() => return,
            outcome = engine.work_once() => outcome,
        };
        let wait = match outcome {
            Ok(WorkOutcome::Worked) => continue,
            Ok(WorkOutcome::Idle { next_due }) => next_due
                .map(|due| Timestamp::now().until(due))
                .unwrap_or(WORKER_IDLE_MAX)
                .min(WORKER_IDLE_MAX),
            Err(err) => {
                tracing::error!(error = %err, "outbox worker could not read or write the store");
                Duration::from_secs(1)
            }
        };
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = engine.work_ready.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}
