//! One sync: Workfront → plan → outbox.

use super::Engine;
use crate::core::mirror_plan::{plan, Known, Scope};
use crate::store::records::SYNC_V;
use crate::store::SyncRecord;
use crate::timestamp::Timestamp;
use anyhow::Context;
use std::time::Instant;

impl Engine {
    /// Reads Workfront (all projects for [`Scope::Full`], changed ones for
    /// [`Scope::Incremental`]), records the effects the plan asks for together with the new
    /// cursor, flushes, and records the sync's outcome (also when it fails) for `status`.
    ///
    /// An incremental sync without a cursor (a fresh state dir) reads everything.
    pub async fn sync_once(&self, scope: Scope) -> anyhow::Result<SyncRecord> {
        let started_at = Timestamp::now();
        let clock = Instant::now();
        let calls_before = self.workfront.calls();
        let mut record = SyncRecord {
            v: SYNC_V,
            seq: 0,
            scope,
            started_at,
            duration_us: 0,
            projects_seen: 0,
            enqueued: 0,
            parked: 0,
            unchanged: 0,
            gone: 0,
            workfront_calls: 0,
            error: None,
            rerouted: Vec::new(),
            rerouted_total: 0,
        };
        let outcome = self.sync_inner(scope, &mut record).await;
        record.duration_us = clock.elapsed().as_micros() as u64;
        record.workfront_calls = self.workfront.calls() - calls_before;
        if let Err(err) = &outcome {
            record.error = Some(format!("{err:#}"));
        }
        let record = self.store.record_sync(record).context("failed to record the sync")?;
        outcome.map(|()| record)
    }

    async fn sync_inner(&self, scope: Scope, record: &mut SyncRecord) -> anyhow::Result<()> {
        let cursor = self.store.cursor()?;
        let (scope, since) = match (scope, cursor) {
            (Scope::Incremental, Some(cursor)) => (Scope::Incremental, Some(cursor.saturating_sub(self.poll_overlap))),
            _ => (Scope::Full, None),
        };
        record.scope = scope;
        let projects = self
            .workfront
            .search_projects(since)
            .await
            .context("failed to read projects from Workfront")?;
        record.projects_seen = projects.len();
        // Groups have no event subscriptions and no cheap change filter: every sync reads them all
        // (a page or two), so routing follows renames, moves and new subgroups.
        let groups = self
            .workfront
            .search_groups()
            .await
            .context("failed to read groups from Workfront")?;
        self.set_groups(&groups);
        let known = Known {
            mirrored: self.store.mirrored_targets()?,
            outbox: self.store.outbox_key_states()?,
        };
        let plan = plan(&projects, scope, &known, &self.routing())?;
        for gone in &plan.gone {
            tracing::warn!(
                wf_project = %gone,
                "Workfront project no longer exists; its Frame.io mirror is left alone"
            );
        }
        for r in &plan.rerouted {
            tracing::warn!(
                wf_project = %r.wf_project,
                mirror_account = %r.mirrored_in.account,
                mirror_workspace = %r.mirrored_in.workspace,
                now_account = %r.now_routes_to.as_ref().map(|t| t.account.to_string()).unwrap_or_else(|| "(none)".into()),
                "the project's group now routes elsewhere; its mirror stays where it is"
            );
        }
        for parked in &plan.park {
            tracing::warn!(effect = %parked.effect.describe(), reason = %parked.reason, "parked");
        }
        let recorded = self.store.record_plan(&plan, Timestamp::now())?;
        // The cursor moved in the same transaction as the effects; flushing now makes both durable
        // before anything acts on them.
        self.store.flush().await?;
        record.enqueued = recorded.enqueued;
        record.parked = recorded.parked;
        record.unchanged = plan.unchanged;
        record.gone = plan.gone.len();
        record.rerouted_total = plan.rerouted.len();
        record.rerouted = plan
            .rerouted
            .iter()
            .take(crate::store::records::REROUTED_KEPT)
            .cloned()
            .collect();
        if recorded.enqueued > 0 {
            self.work_ready.notify_one();
        }
        tracing::info!(
            scope = ?scope,
            projects = record.projects_seen,
            enqueued = recorded.enqueued,
            parked = recorded.parked,
            gone = record.gone,
            "sync done"
        );
        Ok(())
    }
}
