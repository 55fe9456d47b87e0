//! The engine: the two steps the daemon repeats, each public so tests can drive them one at a time.
//!
//! - [`Engine::sync_once`] reads Workfront, asks the core for a plan and records it (effects and
//!   cursor in one transaction, then a flush);
//! - [`Engine::work_once`] carries out the oldest due outbox entry and records its outcome.
//!
//! The loops around them (timers, signals, shutdown) are in [`crate::daemon`].

mod sync;
mod worker;

pub use worker::WorkOutcome;

use crate::config::Settings;
use crate::core::model::Target;
use crate::core::routing::Routing;
use crate::frameio::FrameioClient;
use crate::ids::FrameioAccountId;
use crate::store::Store;
use crate::workfront::WorkfrontClient;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

pub struct Engine {
    pub store: Store,
    pub workfront: WorkfrontClient,
    /// One client per Frame.io account we write to, each with its own credential and rate limits.
    pub frameio: HashMap<FrameioAccountId, FrameioClient>,
    pub routing: Routing,
    /// How far back an incremental poll re-reads (see `workfront.poll_overlap`).
    pub poll_overlap: Duration,
    /// Woken when a sync enqueued work, so the worker does not wait for its timer.
    pub work_ready: Arc<Notify>,
}

impl Engine {
    /// Builds the clients and routing table from validated settings.
    pub fn new(settings: &Settings, store: Store) -> Self {
        let mut frameio = HashMap::new();
        let mut routing = Routing::default();
        if let Some(default) = &settings.frameio.default {
            frameio.insert(
                default.account_id.clone(),
                FrameioClient::new(&settings.frameio.base_url, default.token.clone()),
            );
            routing.default = Some(Target {
                account: default.account_id.clone(),
                workspace: default.workspace_id.clone(),
            });
        }
        Self {
            store,
            workfront: WorkfrontClient::new(&settings.workfront),
            frameio,
            routing,
            poll_overlap: settings.workfront.poll_overlap,
            work_ready: Arc::new(Notify::new()),
        }
    }

    /// Checks that Workfront and every Frame.io credential answer, retrying transient failures
    /// until they pass. A refused credential is an error naming it: no amount of waiting fixes it.
    pub async fn check_connectivity(&self) -> anyhow::Result<()> {
        use crate::retry::{Classify, ErrorClass};
        loop {
            match self.workfront.check().await {
                Ok(()) => break,
                Err(err) if err.class() == ErrorClass::Transient => {
                    tracing::warn!(error = %err, "Workfront does not answer yet; trying again");
                    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                }
                Err(err) => {
                    return Err(anyhow::Error::new(err).context("Workfront start-up check failed"))
                }
            }
        }
        for (account, client) in &self.frameio {
            loop {
                match crate::retry::retry_read("me", || client.me()).await {
                    Ok(_) => break,
                    Err(err) if err.class() == ErrorClass::Transient => {
                        tracing::warn!(%account, error = %err, "Frame.io does not answer yet; trying again");
                        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                    }
                    Err(err) => {
                        return Err(anyhow::Error::new(err).context(format!(
                            "Frame.io start-up check failed for account {account}"
                        )))
                    }
                }
            }
        }
        Ok(())
    }

    /// Frame.io requests sent so far, over every account.
    pub fn frameio_calls(&self) -> u64 {
        self.frameio.values().map(FrameioClient::calls).sum()
    }
}
