//! What `status` shows: mirrors, outbox counts and the entries that wait for someone, the cursor
//! and the last sync. Secrets are never part of it.

use crate::core::collaborator_plan::GuardTrip;

use crate::exchange::Exchange;
use crate::ids::WorkfrontProjectId;
use crate::store::{ConnectionRecord, EntryState, OutboxCounts, OutboxEntry, Store, StoreError, SyncRecord};
use crate::timestamp::Timestamp;
use crate::workfront::workfront_project_url;
use serde::{Deserialize, Serialize};
use std::fmt::Write;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatusReport {
    /// Whether the answer came from a running daemon (over the control socket).
    pub daemon_running: bool,
    pub state_dir: String,
    pub mirrors: usize,
    /// Group connections (F2), with their token fingerprints and whether Frame.io refuses them.
    pub connections: Vec<ConnectionSummary>,
    pub outbox: OutboxCounts,
    /// Collaborators this daemon added (pairs of project and user), F3–F5.
    #[serde(default)]
    pub collaborators: usize,
    /// Collaborator changes waiting to be carried out: Frame.io allows about 10 adds a minute
    /// per token, so a backfill takes a while, and this says how far along it is.
    #[serde(default)]
    pub collaborator_backlog: usize,
    /// Removals the mass-removal guard holds, and its last trip while any are held.
    #[serde(default)]
    pub held_removals: usize,
    #[serde(default)]
    pub removal_guard: Option<GuardTrip>,
    /// Projects deleted in Workfront (reported by events) whose mirrors were left alone.
    #[serde(default)]
    pub deleted_in_workfront: Vec<crate::store::inbox::Deletion>,
    /// Events recorded and not yet applied.
    #[serde(default)]
    pub inbox: usize,
    /// Parked and dead entries, with their reasons: the work that waits for someone.
    pub attention: Vec<EntrySummary>,
    /// Where the next incremental poll starts (UTC).
    pub cursor: Option<String>,
    pub last_sync: Option<SyncRecord>,
    /// The approval system found by the last start-up probe (`review.approvals`).
    #[serde(default)]
    pub approvals: Option<crate::engine::ApprovalsProbe>,
    /// Files sent for review: how many in each state, and those still in flight (not decided, or
    /// not yet shown in Frame.io).
    #[serde(default)]
    pub submissions: SubmissionsSummary,
    /// The one-way folder: what is in Frame.io, and what was left out or left behind.
    #[serde(default)]
    pub folder: FolderSummary,
}

/// The one-way folder at a glance.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FolderSummary {
    /// Document versions whose files are whole in Frame.io.
    pub pushed: usize,
    /// Documents left out by the last pass, and why (at most [`MAX_FOLDER_ROWS`]).
    pub skipped: Vec<FolderRow>,
    pub skipped_total: usize,
    /// Documents pushed before and gone from Workfront: their Frame.io files stay.
    pub removed: Vec<FolderRow>,
    pub removed_total: usize,
    /// Empty files left in Frame.io by uploads whose answers were lost (safe to delete by hand;
    /// at most [`MAX_FOLDER_ROWS`]).
    pub placeholders: Vec<String>,
    #[serde(default)]
    pub placeholders_total: usize,
}

/// One document the folder reports.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FolderRow {
    pub wf_project: String,
    pub document: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The most skipped or removed documents `status` lists.
pub const MAX_FOLDER_ROWS: usize = 50;

/// Adds a row to `rows` unless it holds [`MAX_FOLDER_ROWS`] already.
fn add_row(
    rows: &mut Vec<FolderRow>,
    (wf_project, document, name): (
        &crate::ids::WorkfrontProjectId,
        &crate::ids::WorkfrontDocumentId,
        String,
    ),
    reason: Option<String>,
) {
    if rows.len() < MAX_FOLDER_ROWS {
        rows.push(FolderRow {
            wf_project: wf_project.to_string(),
            document: document.to_string(),
            name,
            reason,
        });
    }
}

impl FolderSummary {
    fn of(store: &Store) -> Result<Self, StoreError> {
        let pushed = store.pushed_all()?;
        let placeholders = pushed.iter().flat_map(|p| {
            p.placeholders
                .iter()
                .map(move |f| format!("{f} (project {})", p.frameio_project))
        });
        let mut summary = FolderSummary {
            pushed: pushed.len(),
            placeholders_total: pushed.iter().map(|p| p.placeholders.len()).sum(),
            placeholders: placeholders.take(MAX_FOLDER_ROWS).collect(),
            ..Default::default()
        };
        for (_, report) in store.folder_reports()? {
            summary.skipped_total += report.skipped.len();
            summary.removed_total += report.removed.len();
            for s in report.skipped {
                add_row(
                    &mut summary.skipped,
                    (&s.wf_project, &s.document, s.name),
                    Some(s.reason),
                );
            }
            for r in report.removed {
                add_row(&mut summary.removed, (&r.wf_project, &r.document, r.name), None);
            }
        }
        Ok(summary)
    }

    fn render(&self, out: &mut String) {
        if self.pushed == 0 && self.skipped_total == 0 && self.removed_total == 0 {
            return;
        }
        let _ = writeln!(
            out,
            "
one-way folder: {} document versions in Frame.io, {} skipped, {} removed in Workfront",
            self.pushed, self.skipped_total, self.removed_total
        );
        for s in &self.skipped {
            let _ = writeln!(
                out,
                "  skipped {:?} (document {}, project {}): {}",
                s.name,
                s.document,
                s.wf_project,
                s.reason.as_deref().unwrap_or("")
            );
        }
        for r in &self.removed {
            let _ = writeln!(
                out,
                "  removed in Workfront: {:?} (document {}, project {}); its Frame.io file is left in place",
                r.name, r.document, r.wf_project
            );
        }
        for p in &self.placeholders {
            let _ = writeln!(
                out,
                "  empty file left by a lost upload answer: {p} (safe to delete by hand)"
            );
        }
        if self.placeholders_total > self.placeholders.len() {
            let _ = writeln!(
                out,
                "  … and {} more such empty files (the first {MAX_FOLDER_ROWS} are listed)",
                self.placeholders_total - self.placeholders.len()
            );
        }
    }
}

/// The review loop at a glance.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SubmissionsSummary {
    pub total: usize,
    /// By state ("Sent", "In review", "Approved", …).
    pub by_state: std::collections::BTreeMap<String, usize>,
    /// In flight, newest first, at most [`MAX_IN_FLIGHT_SHOWN`].
    pub in_flight: Vec<SubmissionSummary>,
}

/// The most submissions in flight `status` lists.
pub const MAX_IN_FLIGHT_SHOWN: usize = 50;

/// One file sent for review.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubmissionSummary {
    pub asset: String,
    pub file: String,
    /// `project <id>` or `task <id>`.
    pub on: String,
    pub wf_project: String,
    pub document: String,
    pub version: String,
    pub sender: String,
    pub sent_at: String,
    pub approvals: String,
    pub state: String,
    /// What the Frame.io file shows, if anything yet.
    pub shown: Option<String>,
    pub decided_by: Option<String>,
}

impl SubmissionsSummary {
    fn of(records: Vec<crate::store::SubmissionRecord>) -> Self {
        let mut summary = SubmissionsSummary {
            total: records.len(),
            ..Default::default()
        };
        let mut in_flight: Vec<_> = Vec::new();
        for r in records {
            *summary.by_state.entry(r.state.label().to_owned()).or_default() += 1;
            if !r.state.is_decided() || r.shown != Some(r.state) {
                in_flight.push(r);
            }
        }
        in_flight.sort_by_key(|r| std::cmp::Reverse(r.sent_at));
        summary.in_flight = in_flight
            .into_iter()
            .take(MAX_IN_FLIGHT_SHOWN)
            .map(|r| SubmissionSummary {
                asset: r.asset_name,
                file: r.file.to_string(),
                on: r.on.to_string(),
                wf_project: r.wf_project.to_string(),
                document: r.document.to_string(),
                version: r.version.to_string(),
                sender: r.sender_name,
                sent_at: r.sent_at.to_iso_utc(),
                approvals: r.approvals.as_str().to_owned(),
                state: r.state.label().to_owned(),
                shown: r.shown.map(|s| s.label().to_owned()),
                decided_by: r.decision.map(|d| d.by),
            })
            .collect();
        summary
    }
}

/// A connection as `connections` lists it: never the token, only its fingerprint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConnectionSummary {
    pub group: String,
    pub group_name: String,
    pub account: String,
    pub account_name: String,
    pub workspace: String,
    pub workspace_name: String,
    pub token_fingerprint: String,
    pub broken: Option<String>,
}

impl ConnectionSummary {
    pub fn of(record: &ConnectionRecord) -> Self {
        Self {
            group: record.group.to_string(),
            group_name: record.group_name.clone(),
            account: record.account.to_string(),
            account_name: record.account_name.clone(),
            workspace: record.workspace.to_string(),
            workspace_name: record.workspace_name.clone(),
            token_fingerprint: record.token_fingerprint.clone(),
            broken: record
                .broken
                .as_ref()
                .map(|b| format!("{} (since {})", b.error, b.since)),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EntrySummary {
    pub id: u64,
    pub state: String,
    pub effect: String,
    pub reason: String,
    pub attempts: u32,
    /// When a dead letter died.
    #[serde(default)]
    pub dead_at: Option<Timestamp>,
    /// A dead letter's refused request and the answer.
    #[serde(default)]
    pub exchange: Option<Exchange>,
    /// The Workfront project the entry concerns, and where a person opens it (filled in by the
    /// command, which knows the tenant's address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workfront_project: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workfront_url: Option<String>,
}

impl EntrySummary {
    pub fn of(entry: &OutboxEntry) -> Self {
        let (state, reason) = match &entry.state {
            EntryState::Pending => (
                "pending",
                entry.last_error.clone().unwrap_or_else(|| entry.reason.clone()),
            ),
            EntryState::Parked { reason, .. } => ("parked", reason.clone()),
            EntryState::Dead { reason, .. } => ("dead", reason.clone()),
        };
        let (dead_at, exchange) = match &entry.state {
            EntryState::Dead { at, exchange, .. } => (Some(*at), exchange.clone()),
            _ => (None, None),
        };
        Self {
            id: entry.id.0,
            state: state.to_owned(),
            effect: entry.effect.describe(),
            reason,
            attempts: entry.attempts,
            dead_at,
            exchange,
            workfront_project: entry.effect.wf_project().map(ToString::to_string),
            workfront_url: None,
        }
    }

    /// Adds the Workfront project's address, on the tenant at `workfront`.
    pub fn link_workfront(&mut self, workfront: &reqwest::Url) {
        self.workfront_url = self
            .workfront_project
            .as_deref()
            .and_then(|id| WorkfrontProjectId::new(id).ok())
            .map(|id| workfront_project_url(workfront, &id));
    }

    /// ` (Workfront: <address>)`, when known.
    fn workfront_suffix(&self) -> String {
        self.workfront_url
            .as_deref()
            .map(|url| format!(" (Workfront: {url})"))
            .unwrap_or_default()
    }

    /// One entry for `outbox list`: a line, and for a dead letter when it died, what was sent
    /// and what came back, indented.
    pub fn render_text(&self) -> String {
        let mut out = format!(
            "#{} {} (attempts {}): {} — {}{}\n",
            self.id,
            self.state,
            self.attempts,
            self.effect,
            self.reason,
            self.workfront_suffix()
        );
        if let Some(at) = self.dead_at {
            out.push_str(&format!("    at {at}\n"));
        }
        if let Some(exchange) = &self.exchange {
            let indent = |text: &str| text.replace('\n', "\n      ");
            out.push_str(&format!("    request: {}\n", indent(&exchange.request)));
            let status = exchange.status.map(|s| format!("HTTP {s} ")).unwrap_or_default();
            out.push_str(&format!("    response: {status}{}\n", indent(&exchange.response)));
        }
        out
    }
}

impl StatusReport {
    /// Adds each entry's Workfront project address, on the tenant at `workfront`.
    pub fn link_workfront(&mut self, workfront: &reqwest::Url) {
        for entry in &mut self.attention {
            entry.link_workfront(workfront);
        }
    }
}

/// Reads the report from the store.
pub fn gather(store: &Store, daemon_running: bool) -> Result<StatusReport, StoreError> {
    // The kept tally, and only the entries that need attention: a tenant's outbox can hold
    // tens of thousands of pending entries, and status must not decode them all.
    let tally = store.outbox_tally();
    let mut attention = Vec::with_capacity(tally.attention.len());
    for id in &tally.attention {
        if let Some(entry) = store.outbox_entry(*id)? {
            attention.push(EntrySummary::of(&entry));
        }
    }
    let (outbox, backlog, held_removals) = (tally.counts, tally.collaborator_backlog, tally.held_removals);
    Ok(StatusReport {
        daemon_running,
        state_dir: store.dir().display().to_string(),
        mirrors: store.mirror_count(),
        connections: store.connections()?.iter().map(ConnectionSummary::of).collect(),
        outbox,
        collaborators: store.managed_collaborator_count()?,
        collaborator_backlog: backlog,
        held_removals,
        deleted_in_workfront: store.deletions()?,
        inbox: store.inbox_len(),
        removal_guard: if held_removals > 0 {
            store.last_guard_trip()?
        } else {
            None
        },
        attention,
        cursor: store.cursor()?.map(|c| c.to_iso_utc()),
        last_sync: store.last_sync()?,
        approvals: store.approvals_probe()?,
        submissions: SubmissionsSummary::of(store.submissions()?),
        folder: FolderSummary::of(store)?,
    })
}

impl StatusReport {
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let daemon = if self.daemon_running { "running" } else { "not running" };
        let _ = writeln!(out, "daemon:     {daemon} (state dir {})", self.state_dir);
        let _ = writeln!(out, "mirrors:    {}", self.mirrors);
        let broken = self.connections.iter().filter(|c| c.broken.is_some()).count();
        let _ = writeln!(out, "groups:     {} connected, {broken} broken", self.connections.len());
        for c in self.connections.iter().filter(|c| c.broken.is_some()) {
            let _ = writeln!(
                out,
                "  BROKEN {} ({}) → account {}: {}",
                c.group,
                c.group_name,
                c.account,
                c.broken.as_deref().unwrap_or_default()
            );
        }
        let _ = writeln!(
            out,
            "outbox:     {} pending, {} parked, {} dead",
            self.outbox.pending, self.outbox.parked, self.outbox.dead
        );
        let _ = writeln!(
            out,
            "collaborators: {} added by this daemon, {} changes pending (about 10 adds a minute per Frame.io token)",
            self.collaborators, self.collaborator_backlog
        );
        if self.held_removals > 0 {
            let why = self
                .removal_guard
                .as_ref()
                .map(|t| format!(" ({t})"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "REMOVAL GUARD: {} collaborator removals held{why}. Check them below, then run `frameio-sync confirm-removals`",
                self.held_removals
            );
        }
        let _ = writeln!(
            out,
            "cursor:     {}",
            self.cursor
                .as_deref()
                .unwrap_or("(none: the next sync reads everything)")
        );
        match &self.last_sync {
            None => {
                let _ = writeln!(out, "last sync:  never");
            }
            Some(s) => {
                let outcome = match &s.error {
                    None => "ok".to_owned(),
                    Some(e) => format!("FAILED: {e}"),
                };
                let _ = writeln!(
                    out,
                    "last sync:  #{} {:?} at {} took {:.1} ms, {} projects, {} enqueued, {} parked, {} gone, {} Workfront calls: {outcome}",
                    s.seq,
                    s.scope,
                    s.started_at,
                    s.duration_us as f64 / 1000.0,
                    s.projects_seen,
                    s.enqueued,
                    s.parked,
                    s.gone,
                    s.workfront_calls
                );
            }
        }
        if let Some(s) = self.last_sync.as_ref().filter(|s| s.rerouted_total > 0) {
            let _ = writeln!(
                out,
                "\n{} mirrored projects now route to another account (their mirrors stay where they are):",
                s.rerouted_total
            );
            for r in &s.rerouted {
                let now = r.now_routes_to.as_ref().map_or("(no account)".to_owned(), |t| {
                    format!("account {} workspace {}", t.account, t.workspace)
                });
                let _ = writeln!(
                    out,
                    "  {}: mirrored in account {} workspace {}, now routes to {now}",
                    r.wf_project, r.mirrored_in.account, r.mirrored_in.workspace
                );
            }
        }
        if self.inbox > 0 {
            let _ = writeln!(out, "\n{} Workfront events recorded, not yet applied", self.inbox);
        }
        let mirrored: Vec<_> = self.deleted_in_workfront.iter().filter(|d| d.mirrored).collect();
        if !mirrored.is_empty() {
            let _ = writeln!(
                out,
                "\n{} mirrored projects were deleted in Workfront; their Frame.io mirrors are left alone:",
                mirrored.len()
            );
            for d in mirrored.iter().rev().take(10) {
                let _ = writeln!(out, "  {} (deleted {})", d.wf_project, d.at);
            }
        }
        match &self.approvals {
            Some(p) => {
                let _ = writeln!(
                    out,
                    "approvals:  {} ({}; checked {})",
                    p.system.as_str(),
                    p.detail,
                    p.checked_at
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "approvals:  not checked yet (the daemon checks review.approvals as it starts)"
                );
            }
        }
        let s = &self.submissions;
        if s.total > 0 {
            let states: Vec<String> = s.by_state.iter().map(|(k, n)| format!("{n} {k}")).collect();
            let _ = writeln!(out, "\nsent for review: {} files ({})", s.total, states.join(", "));
            for f in &s.in_flight {
                let shown = f.shown.as_deref().unwrap_or("nothing yet");
                let _ = writeln!(
                    out,
                    "  {:?} to Workfront {} (project {}), document {} version {}, sent by {} at {}: {} ({} approval); Frame.io shows {shown}",
                    f.asset, f.on, f.wf_project, f.document, f.version, f.sender, f.sent_at, f.state, f.approvals
                );
            }
        }
        self.folder.render(&mut out);
        if !self.attention.is_empty() {
            let _ = writeln!(out, "\nwaiting for attention (see `frameio-sync outbox list`):");
            for e in &self.attention {
                let _ = writeln!(
                    out,
                    "  #{} {}: {} — {}{}",
                    e.id,
                    e.state,
                    e.effect,
                    e.reason,
                    e.workfront_suffix()
                );
            }
        }
        out
    }
}
