//! The review loop's records: one per document version sent for review (`submissions` tree,
//! keyed by the DOCV id), saying where the file went, which approval it asked for, the state
//! Workfront's approval is in, and the state the Frame.io file shows. Written with the outcome
//! of the entry that made it, and with the entries that follow it (the approval request), in one
//! transaction.

use super::outbox::{abort, tx_error, TxResult};
use super::{decode, encode, Record, Store, StoreError};
use crate::config::ApprovalSystem;
use crate::core::mirror_plan::Planned;
use crate::core::model::{Target, WorkfrontObject};
use crate::core::review::{Decision, ReviewState};
use crate::ids::{
    FrameioFileId, FrameioProjectId, OutboxId, WorkfrontDocumentId, WorkfrontDocumentVersionId, WorkfrontProjectId,
    WorkfrontUserId,
};
use crate::timestamp::Timestamp;
use serde::{Deserialize, Serialize};

pub const SUBMISSION_V: u32 = 1;

/// A document version sent for review, and where its review stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmissionRecord {
    pub v: u32,
    pub version: WorkfrontDocumentVersionId,
    pub document: WorkfrontDocumentId,
    pub wf_project: WorkfrontProjectId,
    /// The project or task it went to.
    pub on: WorkfrontObject,
    pub file: FrameioFileId,
    pub asset_name: String,
    /// The mirror it was sent from, and the account's credential (which writes the field and
    /// the comment back).
    pub frameio_project: FrameioProjectId,
    pub target: Target,
    pub sender: WorkfrontUserId,
    pub sender_name: String,
    pub message: Option<String>,
    pub sent_at: Timestamp,
    /// The approval asked for when it was sent.
    pub approvals: ApprovalSystem,
    /// Where Workfront's approval stands, as last read.
    pub state: ReviewState,
    /// The decision that made `state`, when it is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    /// The state the Frame.io file shows (its field set, and for a decision its comment made).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shown: Option<ReviewState>,
    /// Frame.io comments on the file copied to the document (`review.comments_to_workfront`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub copied_comments: std::collections::BTreeSet<String>,
}

impl Record for SubmissionRecord {
    const V: u32 = SUBMISSION_V;
}

const META_APPROVALS: &[u8] = b"approvals_probe";

impl Store {
    /// Records what the start-up probe of the approval system found.
    pub fn record_approvals_probe(&self, probe: &crate::engine::ApprovalsProbe) -> Result<(), StoreError> {
        self.meta.insert(META_APPROVALS, encode(probe))?;
        Ok(())
    }

    /// What the last start-up probe of the approval system found.
    pub fn approvals_probe(&self) -> Result<Option<crate::engine::ApprovalsProbe>, StoreError> {
        self.meta
            .get(META_APPROVALS)?
            .map(|v| super::decode_value("meta", "approvals_probe", &v))
            .transpose()
    }

    /// Every submission, oldest version id first.
    pub fn submissions(&self) -> Result<Vec<SubmissionRecord>, StoreError> {
        self.submissions
            .iter()
            .map(|kv| {
                let (k, v) = kv?;
                decode("submissions", &String::from_utf8_lossy(&k), &v)
            })
            .collect()
    }

    pub fn submission(&self, version: &WorkfrontDocumentVersionId) -> Result<Option<SubmissionRecord>, StoreError> {
        self.submissions
            .get(version.as_str())?
            .map(|v| decode("submissions", version.as_str(), &v))
            .transpose()
    }

    /// Completes entry `id` with `record` and enqueues `follow_ups` whose keys have no entry. A
    /// version recorded already keeps its record (its review may have moved on) and gets no
    /// follow-ups: they were enqueued with it.
    pub fn complete_with_submission(
        &self,
        id: OutboxId,
        record: &SubmissionRecord,
        follow_ups: &[Planned],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.complete_in_following(id, &self.submissions, follow_ups, now, |submissions| {
            // A version recorded already was sent before (again now: a second click), and its
            // follow-ups were enqueued with its record.
            if submissions.get(record.version.as_str())?.is_some() {
                return Ok(false);
            }
            submissions.insert(record.version.as_str(), encode(record))?;
            Ok(true)
        })
    }

    /// Records what Workfront's approvals say now: each `(version, state, decision)` whose record
    /// exists. Not flushed: a cut loses a read, which the next poll reads again.
    pub fn record_review_states(
        &self,
        changes: &[(WorkfrontDocumentVersionId, ReviewState, Option<Decision>)],
    ) -> Result<(), StoreError> {
        self.submissions
            .transaction(|submissions| -> TxResult<()> {
                for (version, state, decision) in changes {
                    update_record(submissions, version, |r| {
                        r.state = *state;
                        r.decision = decision.clone();
                    })?;
                }
                Ok(())
            })
            .map_err(tx_error)
    }

    /// Completes entry `id`, which copied Frame.io comment `comment` to `version`'s document.
    pub fn complete_with_copied_comment(
        &self,
        id: OutboxId,
        version: &WorkfrontDocumentVersionId,
        comment: &str,
    ) -> Result<(), StoreError> {
        self.complete_updating(id, std::slice::from_ref(version), |r| {
            r.copied_comments.insert(comment.to_owned());
        })
    }

    /// Completes entry `id`, which showed `shown` on the Frame.io files of those versions.
    pub fn complete_with_shown(
        &self,
        id: OutboxId,
        shown: &[(WorkfrontDocumentVersionId, ReviewState)],
    ) -> Result<(), StoreError> {
        let versions: Vec<WorkfrontDocumentVersionId> = shown.iter().map(|(v, _)| v.clone()).collect();
        self.complete_updating(id, &versions, |r| {
            r.shown = shown.iter().find(|(v, _)| *v == r.version).map(|(_, s)| *s);
        })
    }

    /// Removes entry `id` and applies `change` to the records of `versions` (those that exist), in
    /// one transaction.
    fn complete_updating(
        &self,
        id: OutboxId,
        versions: &[WorkfrontDocumentVersionId],
        change: impl Fn(&mut SubmissionRecord),
    ) -> Result<(), StoreError> {
        self.complete_in(id, &self.submissions, |submissions| {
            for version in versions {
                update_record(submissions, version, &change)?;
            }
            Ok(())
        })
    }
}

/// Applies `change` to `version`'s record inside a transaction, if there is one.
fn update_record(
    submissions: &sled::transaction::TransactionalTree,
    version: &WorkfrontDocumentVersionId,
    change: impl Fn(&mut SubmissionRecord),
) -> TxResult<()> {
    if let Some(raw) = submissions.get(version.as_str())? {
        let mut record: SubmissionRecord = decode("submissions", version.as_str(), &raw).map_err(abort)?;
        change(&mut record);
        submissions.insert(version.as_str(), encode(&record))?;
    }
    Ok(())
}
