//! `AddDocument`: the F6 submission's Workfront document. It carries the asset's original file,
//! streamed from Frame.io's download to Workfront's upload (`transfer.rs`: memory does not grow
//! with the file); a file over `review.max_upload_size`, or one Frame.io will not let us download,
//! goes as a link document (an uploaded `.url` file that opens the asset) whose description says
//! why. Looked up first by its `extRefID` (the Frame.io file, or for entries written before files
//! were sent, the interaction), so a lost answer or a crash never makes a second document, and
//! sending the same file again changes nothing.

use super::{workfront_failed, Failed, Kind, Outcome, Produced};
use crate::core::model::{Lane, Target};
use crate::engine::Engine;
use crate::frameio::FrameioError;
use crate::ids::{FrameioFileId, WorkfrontProjectId, WorkfrontUserId};
use crate::retry::{outbox_delay, retry_read, Classify, ErrorClass};
use crate::store::{OutboxEntry, SendPermit, StoreError};
use crate::transfer::TransferError;
use crate::workfront::WorkfrontError;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The longest an upload to Workfront may take (Workfront asks for five minutes in its UI; the
/// API is given room, and `review.max_upload_size` keeps files within it).
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// F6: a document on the Workfront project with a Frame.io file a user sent for review.
/// `interaction` (Frame.io's id for the click) keys the entry, so a click delivered twice is
/// recorded once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddDocument {
    pub interaction: String,
    pub wf_project: WorkfrontProjectId,
    pub wf_user: WorkfrontUserId,
    pub user_name: String,
    pub asset_name: String,
    pub asset_url: String,
    /// The file to carry, and where it is read from. `None` in entries written before files
    /// were sent: those make a link document, as they did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<ReviewFile>,
}

/// A Frame.io file sent for review: its id, and the mirror's target (whose credential reads it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewFile {
    pub id: FrameioFileId,
    pub target: Target,
}

impl AddDocument {
    /// The document's description: who sent it, the link back to Frame.io, and why it is a link
    /// when it is one.
    fn description(&self, why_a_link: Option<&str>) -> String {
        let sent = format!(
            "Sent from Frame.io for review by {}: {}",
            self.user_name, self.asset_url
        );
        match why_a_link {
            Some(why) => format!("{sent}. This document links to the file instead of carrying it: {why}."),
            None => sent,
        }
    }

    /// The document's `extRefID`: what it is found again by.
    pub fn ext_ref(&self) -> String {
        match &self.file {
            Some(file) => format!("frameio-file:{}", file.id),
            None => self.interaction.clone(),
        }
    }
}

impl Kind for AddDocument {
    fn key(&self) -> String {
        format!("document:{}", self.interaction)
    }

    fn describe(&self) -> String {
        format!(
            "add document {:?}, sent for review by {}, to Workfront project {}",
            self.asset_name, self.user_name, self.wf_project
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
    payload: &AddDocument,
) -> Result<Outcome, StoreError> {
    let wf_project = &payload.wf_project;
    let ext_ref = payload.ext_ref();
    match engine.workfront.find_document(wf_project, &ext_ref).await {
        Ok(Some(id)) => {
            tracing::info!(outbox_id = %entry.id, %wf_project, document = %id, "the document exists already");
            return Ok(Outcome::Done(Produced::Nothing));
        }
        Ok(None) => {}
        Err(err) => return Ok(workfront_failed(entry, &err, engine.clock.now())),
    }
    let Some(source) = &payload.file else {
        let permit = engine.permit_to_send(entry).await?;
        let created = link_document(engine, &permit, payload, &ext_ref, &payload.description(None)).await;
        return Ok(settled(engine, entry, payload, created));
    };

    // The signed address expires: read it right before the transfer, never keep it.
    let credential = source.target.credential();
    let client = match engine.client_for(&credential) {
        Ok(client) => client,
        Err(parked) => return Ok(*parked),
    };
    let file = retry_read("files show", || {
        client.file_to_download(&source.target.account, source.id.as_str())
    })
    .await;
    let file = match file {
        Ok(file) => file,
        // Frame.io answers 403 for the whole call when the token may see the file but not download
        // its original: that is this file's limit, not a refused credential. A link, then.
        Err(FrameioError::Auth { status: 403, .. }) => {
            let why = "Frame.io refuses a download of the original (no download permission)";
            let permit = engine.permit_to_send(entry).await?;
            return Ok(link_instead(engine, &permit, entry, payload, &ext_ref, why).await);
        }
        Err(err) => return engine.frameio_failed(entry, &credential, &err, Failed::Looking),
    };
    let limit = engine.max_upload_size;
    let why_a_link = match (&file.original, file.size) {
        (None, _) => {
            Some("Frame.io gives no download of the original (no download permission, or a watermark)".to_owned())
        }
        (Some(_), Some(size)) if size > limit => Some(format!(
            "the file ({}) is over review.max_upload_size ({})",
            bytesize::ByteSize(size),
            bytesize::ByteSize(limit)
        )),
        _ => None,
    };
    if let Some(why) = why_a_link {
        let permit = engine.permit_to_send(entry).await?;
        return Ok(link_instead(engine, &permit, entry, payload, &ext_ref, &why).await);
    }
    let address = file.original.as_ref().expect("checked above");
    let permit = engine.permit_to_send(entry).await?;
    // An upload is only a handle until a document uses it, so a failed one is tried again at once,
    // from a new download, a few times before the entry waits its turn.
    let uploaded = retry_read("upload", || async {
        let download = engine.transfers.open(address, limit).await.map_err(Step::Download)?;
        engine
            .workfront
            .upload_stream(
                &permit,
                &file.name,
                file.media_type.as_deref(),
                download,
                UPLOAD_TIMEOUT,
            )
            .await
            .map_err(Step::Upload)
    })
    .await;
    let handle = match uploaded {
        Ok(handle) => handle,
        Err(Step::Download(TransferError::TooLarge { declared, .. })) => {
            let why = format!(
                "the file ({}) is over review.max_upload_size ({})",
                bytesize::ByteSize(declared),
                bytesize::ByteSize(limit)
            );
            return Ok(link_instead(engine, &permit, entry, payload, &ext_ref, &why).await);
        }
        // An expired or refused address, a broken connection: a new address next time.
        Err(Step::Download(err)) => {
            let wait = outbox_delay(entry.attempts + 1, ErrorClass::Transient, None);
            tracing::warn!(outbox_id = %entry.id, error = %err, "could not download the file; trying again");
            return Ok(Outcome::Retry {
                at: engine.clock.now().saturating_add(wait),
                error: format!("downloading {:?} from Frame.io: {err}", file.name),
                outcome_known: false,
            });
        }
        Err(Step::Upload(err)) => return Ok(workfront_failed(entry, &err, engine.clock.now())),
    };
    crate::failpoint::hit(crate::failpoint::AFTER_UPLOAD);
    tracing::info!(
        outbox_id = %entry.id, %wf_project, frameio_file = %file.id,
        bytes = file.size.unwrap_or_default(), "the file was uploaded to Workfront"
    );
    let created = engine
        .workfront
        .create_document(
            &permit,
            wf_project,
            &payload.asset_name,
            &handle,
            &file.name,
            &ext_ref,
            &payload.description(None),
        )
        .await;
    Ok(settled(engine, entry, payload, created))
}

/// Which half of a transfer failed.
#[derive(Debug, thiserror::Error)]
enum Step {
    #[error("{0}")]
    Download(TransferError),
    #[error("{0}")]
    Upload(WorkfrontError),
}

impl Classify for Step {
    fn class(&self) -> ErrorClass {
        match self {
            Step::Download(e) => e.class(),
            Step::Upload(e) => e.class(),
        }
    }
}

/// A link document instead of the file, its description saying why.
async fn link_instead(
    engine: &Engine,
    permit: &SendPermit,
    entry: &OutboxEntry,
    payload: &AddDocument,
    ext_ref: &str,
    why: &str,
) -> Outcome {
    tracing::info!(outbox_id = %entry.id, wf_project = %payload.wf_project, asset = %payload.asset_name, %why, "sending a link instead of the file");
    let created = link_document(engine, permit, payload, ext_ref, &payload.description(Some(why))).await;
    settled(engine, entry, payload, created)
}

/// An uploaded `.url` file that opens the asset, as a document.
async fn link_document(
    engine: &Engine,
    permit: &SendPermit,
    payload: &AddDocument,
    ext_ref: &str,
    description: &str,
) -> Result<String, WorkfrontError> {
    let file_name = format!("{}.url", payload.asset_name.replace(['/', '\\'], "_"));
    let content = format!("[InternetShortcut]\r\nURL={}\r\n", payload.asset_url);
    let workfront = &engine.workfront;
    let handle = workfront.upload(permit, &file_name, content.as_bytes()).await?;
    workfront
        .create_document(
            permit,
            &payload.wf_project,
            &payload.asset_name,
            &handle,
            &file_name,
            ext_ref,
            description,
        )
        .await
}

fn settled(
    engine: &Engine,
    entry: &OutboxEntry,
    payload: &AddDocument,
    created: Result<String, WorkfrontError>,
) -> Outcome {
    match created {
        Ok(id) => {
            tracing::info!(outbox_id = %entry.id, wf_project = %payload.wf_project, document = %id, asset = %payload.asset_name, "document added");
            Outcome::Done(Produced::Nothing)
        }
        Err(err) => workfront_failed(entry, &err, engine.clock.now()),
    }
}
