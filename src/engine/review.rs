//! The review loop after delivery: which approval system the tenant has (probed at start-up, a
//! mismatch with `review.approvals` stops the start), and each poll's read of the open approvals,
//! whose changes are recorded and shown on the Frame.io files (`effects/show_review.rs`), batched
//! per mirror.
//!
//! Level-triggered: every poll reads the approvals not yet decided and plans what the files do
//! not show yet, so a lost event, a crash or a failed write is made good by the next poll.

use super::Engine;
use crate::config::ApprovalSystem;
use crate::core::mirror_plan::Planned;
use crate::core::review::{state_of, Decision, ReviewState};
use crate::effects::{CopyComment, Effect, ShowItem, ShowReview};
use crate::frameio::review::SelectField;
use crate::ids::{FrameioAccountId, FrameioProjectId, WorkfrontDocumentVersionId, WorkfrontUserId};
use crate::store::{Recording, StoreError, SubmissionRecord};
use crate::timestamp::Timestamp;
use crate::workfront::approvals::{LegacyStatuses, UnifiedApi, SEARCH_BATCH};
use crate::workfront::WorkfrontError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The approval system found at start-up, and what its requests need.
#[derive(Debug, Clone)]
pub struct ApprovalsReady {
    pub system: ApprovalSystem,
    pub unified: Option<UnifiedApi>,
    pub legacy_statuses: LegacyStatuses,
}

/// What `status` shows of the probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalsProbe {
    pub system: ApprovalSystem,
    pub checked_at: Timestamp,
    /// What was found, in words.
    pub detail: String,
}

/// Why the configured approval system cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error(
        "review.approvals = \"unified\", but the Unified Approvals API at {url} did not answer as expected ({source}); \
         check review.approvals_url, review.lane and that the API credential may use Workfront approvals, \
         or set review.approvals = \"legacy\" or \"none\""
    )]
    Unified { url: String, source: WorkfrontError },
    #[error(
        "review.approvals = \"legacy\", but Workfront's document approvals (DOCAPL) are not available ({0}); \
         set review.approvals = \"unified\" or \"none\""
    )]
    Legacy(WorkfrontError),
    #[error("review.approvals = \"unified\" needs workfront.auth = \"adobe_server_to_server\"")]
    NoImsCredential,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How long a file's Frame.io comments are copied after it was sent, while its review is open
/// (without approvals a file stays "Sent": it is not read for ever).
pub const COMMENTS_FOLLOWED_FOR: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);

/// What one pass found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReviewPass {
    pub read: usize,
    pub changed: usize,
    pub shows: usize,
    /// Frame.io comments planned for copying to Workfront.
    pub comments: usize,
}

impl Engine {
    /// Probes the configured approval system (none needs nothing) and remembers what its requests
    /// need; records the outcome for `status`.
    pub async fn probe_approvals(&self) -> Result<(), ProbeError> {
        let system = self.review.approvals;
        let (ready, detail) = match system {
            ApprovalSystem::None => (
                ApprovalsReady {
                    system,
                    unified: None,
                    legacy_statuses: LegacyStatuses::default(),
                },
                "documents only, no approval asked (review.approvals = \"none\")".to_owned(),
            ),
            ApprovalSystem::Unified => {
                let url = self.review.approvals_url.to_string();
                let client_id = self.workfront.ims_client_id().ok_or(ProbeError::NoImsCredential)?;
                let fail = |source| ProbeError::Unified {
                    url: url.clone(),
                    source,
                };
                let customer = self.workfront.customer_id().await.map_err(fail)?;
                let api = UnifiedApi::new(&self.review, &self.workfront_web, customer, client_id);
                let acting = self.any_user().await.map_err(fail)?;
                self.workfront.probe_unified(&api, &acting).await.map_err(fail)?;
                (
                    ApprovalsReady {
                        system,
                        unified: Some(api),
                        legacy_statuses: LegacyStatuses::default(),
                    },
                    format!("Unified Approvals API answers at {url}"),
                )
            }
            ApprovalSystem::Legacy => {
                let statuses = self.workfront.legacy_statuses().await.map_err(ProbeError::Legacy)?;
                let detail = format!("legacy document approvals, {} status codes read", statuses.0.len());
                (
                    ApprovalsReady {
                        system,
                        unified: None,
                        legacy_statuses: statuses,
                    },
                    detail,
                )
            }
        };
        tracing::info!(approvals = system.as_str(), %detail, "approval system checked");
        self.store.record_approvals_probe(&ApprovalsProbe {
            system,
            checked_at: self.clock.now(),
            detail,
        })?;
        let _ = self.approvals.set(ready);
        Ok(())
    }

    /// The approval system probed at start-up, if it was.
    pub(crate) fn approvals_ready(&self) -> Option<&ApprovalsReady> {
        self.approvals.get()
    }

    /// A user id to act as for a probe: the first one Workfront lists.
    async fn any_user(&self) -> Result<WorkfrontUserId, WorkfrontError> {
        if let Some(user) = self.known_users().keys().next() {
            return Ok(user.clone());
        }
        self.workfront.first_user().await
    }

    /// Reads the approvals not yet decided, records what changed, and plans showing every state the
    /// files do not show yet. Errors leave things for the next poll.
    pub async fn review_once(&self) -> Result<ReviewPass, anyhow::Error> {
        let mut pass = ReviewPass::default();
        let mut records = self.store.submissions()?;
        if records.is_empty() {
            return Ok(pass);
        }
        if let Some(ready) = self.approvals.get() {
            let open: Vec<&SubmissionRecord> = records
                .iter()
                .filter(|r| r.approvals == ready.system && r.approvals != ApprovalSystem::None && !r.state.is_decided())
                .collect();
            pass.read = open.len();
            let read = self.read_approvals(ready, &open).await?;
            let changes: Vec<(WorkfrontDocumentVersionId, ReviewState, Option<Decision>)> = open
                .iter()
                .filter_map(|r| {
                    let (state, decision) = read.get(&r.version)?;
                    (*state != r.state || *decision != r.decision)
                        .then(|| (r.version.clone(), *state, decision.clone()))
                })
                .collect();
            pass.changed = changes.len();
            if !changes.is_empty() {
                for (version, state, decision) in &changes {
                    tracing::info!(%version, state = %state, by = decision.as_ref().map(|d| d.by.as_str()), "the review changed in Workfront");
                }
                self.store.record_review_states(&changes)?;
                // The same changes on the records as read, rather than reading them all again.
                for (version, state, decision) in changes {
                    if let Some(record) = records.iter_mut().find(|r| r.version == version) {
                        record.state = state;
                        record.decision = decision;
                    }
                }
            }
        }
        let mut planned = self.plan_shows(&records);
        pass.shows = planned.len();
        if self.review.comments_to_workfront {
            let copies = self.plan_comment_copies(&records).await;
            pass.comments = copies.len();
            planned.extend(copies);
        }
        if !planned.is_empty() {
            let recording = Recording {
                enqueue: planned.iter().collect(),
                ..Recording::default()
            };
            let recorded = self.store.record_plan(&recording, self.clock.now())?;
            if recorded.enqueued > 0 {
                self.work_ready.notify_one();
            }
        }
        Ok(pass)
    }

    /// The approvals of `open`, by version: its state and the decision that made it.
    async fn read_approvals(
        &self,
        ready: &ApprovalsReady,
        open: &[&SubmissionRecord],
    ) -> Result<BTreeMap<WorkfrontDocumentVersionId, (ReviewState, Option<Decision>)>, WorkfrontError> {
        let mut out = BTreeMap::new();
        match (&ready.unified, ready.system) {
            (Some(api), ApprovalSystem::Unified) => {
                for batch in open.chunks(SEARCH_BATCH) {
                    let versions: Vec<WorkfrontDocumentVersionId> = batch.iter().map(|r| r.version.clone()).collect();
                    let found = self.workfront.search_unified(api, &batch[0].sender, &versions).await?;
                    for (version, approval) in found {
                        let (state, decision) = state_of(&approval);
                        out.insert(version, (state, decision.cloned()));
                    }
                }
            }
            (_, ApprovalSystem::Legacy) => {
                for record in open {
                    let since = crate::effects::legacy_since(record.sent_at);
                    if let Some(approval) = self
                        .workfront
                        .legacy_approval(&record.document, &since, &ready.legacy_statuses)
                        .await?
                    {
                        let (state, decision) = state_of(&approval);
                        out.insert(record.version.clone(), (state, decision.cloned()));
                    }
                }
            }
            _ => {}
        }
        Ok(out)
    }

    /// Asks for a review pass soon (a Frame.io webhook said a comment was made).
    pub fn review_soon(&self) {
        self.review_wake.notify_one();
    }

    /// Waits until a review pass is asked for.
    pub async fn review_asked(&self) {
        self.review_wake.notified().await;
    }

    /// A `CopyComment` for each comment made in Frame.io on a file under review (sent, or in
    /// review) that is not copied yet. Our own comments (the decisions) are not copied back. A
    /// file whose comments cannot be read now is left for the next pass.
    async fn plan_comment_copies(&self, records: &[SubmissionRecord]) -> Vec<Planned> {
        let mut planned = Vec::new();
        let recent = self.clock.now().saturating_sub(COMMENTS_FOLLOWED_FOR);
        for record in records.iter().filter(|r| !r.state.is_decided() && r.sent_at >= recent) {
            let Some(client) = self.client(&record.target.credential()) else {
                continue;
            };
            let account = &record.target.account;
            let comments = match crate::retry::retry_read("comments", || client.file_comments(account, &record.file))
                .await
            {
                Ok(comments) => comments,
                Err(err) => {
                    tracing::warn!(file = %record.file, error = %err, "could not read the file's comments; the next pass tries again");
                    continue;
                }
            };
            for comment in comments {
                let ours = comment.text.contains(ShowItem::MARKER_PREFIX);
                if ours || comment.text.trim().is_empty() || record.copied_comments.contains(&comment.id) {
                    continue;
                }
                planned.push(Planned {
                    reason: format!("{} commented on {:?} in Frame.io", comment.author, record.asset_name),
                    effect: Effect::CopyComment(CopyComment {
                        version: record.version.clone(),
                        document: record.document.clone(),
                        wf_project: record.wf_project.clone(),
                        file: record.file.clone(),
                        asset_name: record.asset_name.clone(),
                        comment: comment.id,
                        author: comment.author,
                        timecode: comment.timecode,
                        text: comment.text,
                    }),
                });
            }
        }
        planned
    }

    /// One `ShowReview` per mirror with files that do not show their state yet.
    fn plan_shows(&self, records: &[SubmissionRecord]) -> Vec<Planned> {
        let mut by_mirror: BTreeMap<&FrameioProjectId, Vec<&SubmissionRecord>> = BTreeMap::new();
        for record in records.iter().filter(|r| r.shown != Some(r.state)) {
            by_mirror.entry(&record.frameio_project).or_default().push(record);
        }
        by_mirror
            .into_values()
            .map(|records| {
                let first = records[0];
                let items: Vec<ShowItem> = records.iter().map(|r| self.show_item(r)).collect();
                let reason = format!("{} file(s) to show Workfront's review on", items.len());
                Planned {
                    effect: Effect::ShowReview(ShowReview {
                        wf_project: first.wf_project.clone(),
                        frameio_project: first.frameio_project.clone(),
                        target: first.target.clone(),
                        items,
                    }),
                    reason,
                }
            })
            .collect()
    }

    fn show_item(&self, record: &SubmissionRecord) -> ShowItem {
        let url = crate::url_segments::under(&self.workfront_web, &["document", record.document.as_str()]).to_string();
        let comment = record.state.is_decided().then(|| match &record.decision {
            Some(d) => {
                let when = d.at.as_deref().map(|at| format!(" on {at}")).unwrap_or_default();
                let said = d.comment.as_deref().map(|c| format!(": \"{c}\"")).unwrap_or_default();
                format!(
                    "Workfront review: {} by {}{when}{said}. Document: {url}",
                    record.state, d.by
                )
            }
            None => format!("Workfront review: {}. Document: {url}", record.state),
        });
        ShowItem {
            version: record.version.clone(),
            file: record.file.clone(),
            state: record.state,
            link: comment.as_ref().map(|_| url),
            comment,
        }
    }

    /// The review status field of `account`, as last found or made.
    pub(crate) fn review_field(&self, account: &FrameioAccountId) -> Option<SelectField> {
        self.review_fields
            .lock()
            .expect("review fields lock")
            .get(account)
            .cloned()
    }

    pub(crate) fn remember_review_field(&self, account: &FrameioAccountId, field: SelectField) {
        self.review_fields
            .lock()
            .expect("review fields lock")
            .insert(account.clone(), field);
    }

    pub(crate) fn forget_review_field(&self, account: &FrameioAccountId) {
        self.review_fields.lock().expect("review fields lock").remove(account);
    }
}
