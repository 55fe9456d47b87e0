//! `CopyComment`: a comment made in Frame.io on a file under review, copied to its Workfront
//! document as a note (`review.comments_to_workfront`), with who wrote it and the timecode. The
//! note carries `[frameio-comment:<id>]`, and is looked up by it first, so each comment is copied
//! once whatever is lost or repeated.

use super::{workfront_failed, Kind, Outcome, Produced};
use crate::core::model::{Lane, WorkfrontObject};
use crate::engine::Engine;
use crate::ids::{FrameioFileId, WorkfrontDocumentId, WorkfrontDocumentVersionId, WorkfrontProjectId};
use crate::store::{OutboxEntry, StoreError};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyComment {
    pub version: WorkfrontDocumentVersionId,
    pub document: WorkfrontDocumentId,
    pub wf_project: WorkfrontProjectId,
    pub file: FrameioFileId,
    pub asset_name: String,
    pub comment: String,
    pub author: String,
    pub timecode: Option<String>,
    pub text: String,
}

impl CopyComment {
    /// What the note carries, to be found again.
    pub fn marker(comment: &str) -> String {
        format!("[frameio-comment:{comment}]")
    }

    fn note(&self) -> String {
        let at = self.timecode.as_deref().map(|t| format!(" at {t}")).unwrap_or_default();
        format!(
            "Frame.io comment by {}{at} on \"{}\": {} {}",
            self.author,
            self.asset_name,
            self.text,
            Self::marker(&self.comment)
        )
    }
}

impl Kind for CopyComment {
    fn key(&self) -> String {
        format!("comment:{}", self.comment)
    }

    fn describe(&self) -> String {
        format!(
            "copy {}'s Frame.io comment on {:?} to Workfront document {}",
            self.author, self.asset_name, self.document
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
    payload: &CopyComment,
) -> Result<Outcome, StoreError> {
    let on = WorkfrontObject::Document(payload.document.clone());
    let done = || {
        Outcome::Done(Produced::CommentCopied {
            version: payload.version.clone(),
            comment: payload.comment.clone(),
        })
    };
    match engine
        .workfront
        .find_note(&on, &CopyComment::marker(&payload.comment))
        .await
    {
        Ok(Some(_)) => return Ok(done()),
        Ok(None) => {}
        Err(err) => return Ok(workfront_failed(entry, &err, engine.clock.now())),
    }
    let permit = engine.permit_to_send(entry).await?;
    Ok(
        match engine.workfront.create_note(&permit, &on, &payload.note()).await {
            Ok(note) => {
                crate::failpoint::hit(crate::failpoint::AFTER_COMMENT_COPY);
                tracing::info!(outbox_id = %entry.id, document = %payload.document, %note, comment = %payload.comment, "Frame.io comment copied to Workfront");
                done()
            }
            Err(err) => workfront_failed(entry, &err, engine.clock.now()),
        },
    )
}
