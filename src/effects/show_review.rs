//! `ShowReview`: what Workfront's review says, shown on the Frame.io files of one mirror: the
//! account-level select field (`review.status_field`, created once if missing) set per state in
//! one bulk call per project (Frame.io allows 10 a minute per user), and, for a decision, a
//! comment on the file saying who decided what and when, with their comment and a link to the
//! document. One entry per mirror, made again by each poll from what the files do not show yet
//! (level-triggered); a comment carries a marker it is found again by, so none is made twice.

use super::{Failed, Kind, Outcome, Produced};
use crate::core::model::{Lane, RateClass, Target};
use crate::core::review::ReviewState;
use crate::engine::Engine;
use crate::frameio::review::FieldProblem;
use crate::ids::{FrameioFileId, FrameioProjectId, WorkfrontDocumentVersionId, WorkfrontProjectId};
use crate::retry::retry_read;
use crate::store::{OutboxEntry, ParkCause, StoreError};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShowReview {
    pub wf_project: WorkfrontProjectId,
    pub frameio_project: FrameioProjectId,
    pub target: Target,
    pub items: Vec<ShowItem>,
}

/// One file's state to show, and for a decision, its comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShowItem {
    pub version: WorkfrontDocumentVersionId,
    pub file: FrameioFileId,
    pub state: ReviewState,
    /// The comment to make, if any, and the link in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

impl ShowItem {
    /// What every comment the daemon makes carries (so none is copied back to Workfront).
    pub const MARKER_PREFIX: &'static str = "[workfront-review:";

    /// What a comment about this version's `state` carries, to be found again.
    pub fn marker(version: &WorkfrontDocumentVersionId, state: ReviewState) -> String {
        format!(
            "{}{version}:{}]",
            Self::MARKER_PREFIX,
            state.label().to_lowercase().replace(' ', "-")
        )
    }
}

impl Kind for ShowReview {
    fn key(&self) -> String {
        format!("show_review:{}", self.frameio_project)
    }

    fn describe(&self) -> String {
        let states: Vec<String> = self.items.iter().map(|i| format!("{} {}", i.file, i.state)).collect();
        format!(
            "show Workfront's review on {} file(s) of Frame.io project {} ({})",
            self.items.len(),
            self.frameio_project,
            states.join(", ")
        )
    }

    fn lane(&self) -> Lane {
        Lane::Frameio(self.target.credential())
    }

    fn paced_by(&self) -> Option<RateClass> {
        Some(RateClass::MetadataValues)
    }

    fn wf_project(&self) -> Option<&WorkfrontProjectId> {
        Some(&self.wf_project)
    }
}

/// A refusal that names a file rather than the request: the file is not the project's (gone, or
/// moved out of the mirror).
fn refused_for_a_file(err: &crate::frameio::FrameioError) -> bool {
    err.status() == Some(422)
}

pub(super) async fn carry_out(
    engine: &Engine,
    entry: &OutboxEntry,
    payload: &ShowReview,
) -> Result<Outcome, StoreError> {
    let credential = payload.target.credential();
    let client = match engine.client_for(&credential) {
        Ok(client) => client,
        Err(parked) => return Ok(*parked),
    };
    let account = &payload.target.account;
    let name = engine.review.status_field.clone();
    // The field: as remembered, else found by name, else created (once: a lost answer's field is
    // found by name next time).
    let field = match engine.review_field(account) {
        Some(field) => field,
        None => {
            let found = match retry_read("field definitions", || client.select_field(account, &name)).await {
                Ok(found) => found,
                Err(err) => return engine.frameio_failed(entry, &credential, &err, Failed::Looking),
            };
            let field = match found {
                Ok(Some(field)) => field,
                Ok(None) => {
                    let permit = engine.permit_to_send(entry).await?;
                    let labels: Vec<&str> = ReviewState::ALL.iter().map(|s| s.label()).collect();
                    match client.create_select_field(&permit, account, &name, &labels).await {
                        Ok(field) => {
                            tracing::info!(%account, field = %name, "created the review status field");
                            field
                        }
                        Err(err) => return engine.frameio_failed(entry, &credential, &err, Failed::Sending),
                    }
                }
                Err(FieldProblem::NotASelect(kind)) => {
                    return Ok(Outcome::Park {
                        reason: format!(
                            "Frame.io field {name:?} in account {account} is a {kind} field, not a select: rename it, or set review.status_field to another name"
                        ),
                        cause: ParkCause::Permanent,
                    })
                }
            };
            let missing: Vec<&str> = ReviewState::ALL
                .iter()
                .map(|s| s.label())
                .filter(|l| !field.options.contains_key(*l))
                .collect();
            if !missing.is_empty() {
                return Ok(Outcome::Park {
                    reason: format!(
                        "Frame.io field {name:?} in account {account} lacks the option(s) {}: add them in Frame.io (the daemon never edits a field's options), then `outbox resume` this entry",
                        missing.join(", ")
                    ),
                    cause: ParkCause::Permanent,
                });
            }
            engine.remember_review_field(account, field.clone());
            field
        }
    };
    let permit = engine.permit_to_send(entry).await?;
    // Files Frame.io will not take a value for (deleted, moved out of the project): left alone,
    // so they are not planned again and do not hold up the others.
    let mut gone: Vec<&FrameioFileId> = Vec::new();
    for state in ReviewState::ALL {
        let files: Vec<&FrameioFileId> = payload
            .items
            .iter()
            .filter(|i| i.state == state)
            .map(|i| &i.file)
            .collect();
        if files.is_empty() {
            continue;
        }
        let option = &field.options[state.label()];
        let project = &payload.frameio_project;
        match client
            .set_select_values(&permit, account, project, &files, &field.id, option)
            .await
        {
            Ok(()) => {}
            Err(err) if refused_for_a_file(&err) => {
                // One file may spoil the batch: each alone, to find which.
                for file in files {
                    match client
                        .set_select_values(&permit, account, project, &[file], &field.id, option)
                        .await
                    {
                        Ok(()) => {}
                        Err(err) if refused_for_a_file(&err) => {
                            tracing::warn!(%file, %project, error = %err, "Frame.io takes no review state for this file (deleted, or moved out of the mirror); it is left alone");
                            gone.push(file);
                        }
                        Err(err) => return engine.frameio_failed(entry, &credential, &err, Failed::Sending),
                    }
                }
            }
            Err(err) if err.status() == Some(404) => {
                // The field deleted by hand (or the project gone): found or made again next time.
                engine.forget_review_field(account);
                let wait = crate::retry::outbox_delay(entry.attempts + 1, crate::retry::ErrorClass::Transient, None);
                return Ok(Outcome::Retry {
                    at: engine.clock.now().saturating_add(wait),
                    error: format!("Frame.io no longer knows the review status field or the project: {err}"),
                    outcome_known: true,
                });
            }
            Err(err) => return engine.frameio_failed(entry, &credential, &err, Failed::Sending),
        }
    }
    for item in payload.items.iter().filter(|i| !gone.contains(&&i.file)) {
        let Some(text) = &item.comment else { continue };
        let marker = ShowItem::marker(&item.version, item.state);
        let texts = match retry_read("comments", || client.comment_texts(account, &item.file)).await {
            Ok(texts) => texts,
            Err(err) if err.status() == Some(404) => {
                tracing::warn!(file = %item.file, "the file is gone from Frame.io; no comment");
                continue;
            }
            Err(err) => return engine.frameio_failed(entry, &credential, &err, Failed::Looking),
        };
        if texts.iter().any(|t| t.contains(&marker)) {
            continue;
        }
        let full = format!("{text} {marker}");
        if let Err(err) = client
            .create_comment(&permit, account, &item.file, &full, item.link.as_deref())
            .await
        {
            return engine.frameio_failed(entry, &credential, &err, Failed::Sending);
        }
    }
    crate::failpoint::hit(crate::failpoint::AFTER_SHOW_REVIEW);
    tracing::info!(
        outbox_id = %entry.id, frameio_project = %payload.frameio_project, files = payload.items.len(),
        "Workfront's review shown in Frame.io"
    );
    Ok(Outcome::Done(Produced::ReviewsShown(
        payload.items.iter().map(|i| (i.version.clone(), i.state)).collect(),
    )))
}
