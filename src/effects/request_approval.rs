//! `RequestApproval`: the approval a delivered document version asks for
//! (`review.approvals`): a Unified Approvals request on the version (one stage, the configured
//! approvers in the configured role, the sender's message, made on the sender's behalf), or legacy
//! document approvals (`DOCAPL`, one per approver, each notified). Looked up first: the version's
//! approval (unified) or the document's approvals asked since it was sent (legacy), so a crash or
//! a lost answer never asks twice.

use super::{workfront_failed, Kind, Outcome, Produced};
use crate::config::{ApprovalSystem, Approver};
use crate::core::model::Lane;
use crate::engine::Engine;
use crate::ids::{WorkfrontDocumentId, WorkfrontDocumentVersionId, WorkfrontProjectId, WorkfrontUserId};
use crate::store::{OutboxEntry, ParkCause, StoreError};
use crate::timestamp::Timestamp;
use crate::workfront::access::AccessFetchError;
use crate::workfront::approvals::Participant;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestApproval {
    pub version: WorkfrontDocumentVersionId,
    pub document: WorkfrontDocumentId,
    pub wf_project: WorkfrontProjectId,
    pub asset_name: String,
    /// Who sent it: the approval is made on their behalf (`wf-userid`).
    pub sender: WorkfrontUserId,
    pub message: Option<String>,
    pub system: ApprovalSystem,
    /// When the document version was delivered: legacy approvals asked since are this one's.
    pub sent_at: Timestamp,
}

impl Kind for RequestApproval {
    fn key(&self) -> String {
        format!("approval:{}", self.version)
    }

    fn describe(&self) -> String {
        format!(
            "ask for a {} approval of {:?} (document version {}) in Workfront project {}",
            self.system.as_str(),
            self.asset_name,
            self.version,
            self.wf_project
        )
    }

    fn lane(&self) -> Lane {
        Lane::Workfront
    }

    fn wf_project(&self) -> Option<&WorkfrontProjectId> {
        Some(&self.wf_project)
    }
}

pub(super) async fn carry_out(
    engine: &Engine,
    entry: &OutboxEntry,
    payload: &RequestApproval,
) -> Result<Outcome, StoreError> {
    let now = engine.clock.now();
    let Some(ready) = engine.approvals_ready() else {
        return Ok(Outcome::Park {
            reason: "the approval system was not probed (the daemon did not start its review loop); restart it".into(),
            cause: ParkCause::Permanent,
        });
    };
    if ready.system != payload.system {
        return Ok(Outcome::Park {
            reason: format!(
                "this entry asks for a {} approval but review.approvals is now {:?}: `outbox drop` it, or set it back",
                payload.system.as_str(),
                ready.system.as_str()
            ),
            cause: ParkCause::Permanent,
        });
    }
    let participants = match participants(engine, payload).await {
        Ok(participants) => participants,
        Err(Unnamed::Fetch(AccessFetchError::Workfront(err))) => return Ok(workfront_failed(entry, &err, now)),
        Err(err) => {
            return Ok(Outcome::Park {
                reason: format!("cannot name the approvers: {err}"),
                cause: ParkCause::Permanent,
            })
        }
    };
    let workfront = &engine.workfront;
    match payload.system {
        ApprovalSystem::None => Ok(Outcome::Done(Produced::Nothing)),
        ApprovalSystem::Unified => {
            let api = ready.unified.as_ref().expect("probed with the system");
            match workfront.unified_approval(api, &payload.sender, &payload.version).await {
                Ok(Some(_)) => return Ok(done(entry, payload, "the approval exists already")),
                Ok(None) => {}
                Err(err) => return Ok(workfront_failed(entry, &err, now)),
            }
            let permit = engine.permit_to_send(entry).await?;
            let made = workfront
                .create_unified_approval(
                    &permit,
                    api,
                    &payload.sender,
                    &payload.version,
                    &participants,
                    engine.review.approver_role,
                    payload.message.as_deref(),
                )
                .await;
            crate::failpoint::hit(crate::failpoint::AFTER_APPROVAL);
            Ok(match made {
                Ok(()) => done(entry, payload, "approval requested"),
                Err(err) => workfront_failed(entry, &err, now),
            })
        }
        ApprovalSystem::Legacy => {
            let since = legacy_since(payload.sent_at);
            let existing = workfront
                .legacy_approval(&payload.document, &since, &ready.legacy_statuses)
                .await;
            match existing {
                Ok(Some(_)) => return Ok(done(entry, payload, "the approvals exist already")),
                Ok(None) => {}
                Err(err) => return Ok(workfront_failed(entry, &err, now)),
            }
            let permit = engine.permit_to_send(entry).await?;
            for participant in &participants {
                let Participant::User(user) = participant else {
                    continue; // refused by the configuration check
                };
                if let Err(err) = workfront.create_legacy_approval(&permit, &payload.document, user).await {
                    return Ok(workfront_failed(entry, &err, now));
                }
            }
            crate::failpoint::hit(crate::failpoint::AFTER_APPROVAL);
            Ok(done(entry, payload, "legacy approvals requested"))
        }
    }
}

/// How far before a delivery legacy approvals count as its own: Workfront dates them with its
/// clock, which may run behind ours. (A version sent again within this of the previous one's
/// approvals is taken as asked for.)
pub(crate) const CLOCK_SKEW: std::time::Duration = std::time::Duration::from_secs(60);

/// The `requestDate` from which a document's legacy approvals are those of the version sent at
/// `sent_at`.
pub(crate) fn legacy_since(sent_at: Timestamp) -> String {
    sent_at.saturating_sub(CLOCK_SKEW).to_iso_utc()
}

/// Why the approvers cannot be named.
#[derive(Debug, thiserror::Error)]
enum Unnamed {
    #[error(transparent)]
    Fetch(#[from] AccessFetchError),
    #[error("review.approvers names \"owner\", and Workfront project {0} has no owner; set one, or name the approvers by id")]
    NoOwner(WorkfrontProjectId),
}

/// `review.approvers`, with "owner" read as the project's owner.
async fn participants(engine: &Engine, payload: &RequestApproval) -> Result<Vec<Participant>, Unnamed> {
    let mut out = Vec::new();
    for approver in &engine.review.approvers {
        let participant = match approver {
            Approver::User(id) => Participant::User(id.clone()),
            Approver::Team(id) => Participant::Team(id.clone()),
            Approver::Owner => {
                let project = engine.access.project(&payload.wf_project).await?;
                let owner = project
                    .owner
                    .and_then(|o| WorkfrontUserId::new(o).ok())
                    .ok_or_else(|| Unnamed::NoOwner(payload.wf_project.clone()))?;
                Participant::User(owner)
            }
        };
        if !out.contains(&participant) {
            out.push(participant);
        }
    }
    Ok(out)
}

fn done(entry: &OutboxEntry, payload: &RequestApproval, what: &str) -> Outcome {
    tracing::info!(
        outbox_id = %entry.id, wf_project = %payload.wf_project, version = %payload.version,
        system = payload.system.as_str(), "{what}"
    );
    Outcome::Done(Produced::Nothing)
}
