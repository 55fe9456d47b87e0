//! `FinishPush`: the one-way folder's second step. The file `PushDocument` created is filled:
//! Workfront's download streamed into the part addresses (each part spooled to disk and sent on
//! its own), and the upload-status route asked until the file is whole. Then it is stacked on the
//! document's previous version (a new version stack, or the previous one's, newest on top), and
//! the version is recorded as pushed.
//!
//! Looks first at each step: a file the status route calls whole is not sent again; a file
//! already in a version stack is not stacked again. A part address refused (expired) parks the
//! entry with the empty file named: Frame.io gives no new addresses for a file, and nothing is
//! deleted, so an admin drops the entry (a later pass plans the version again, as a new file).

use super::push_document::PushDocument;
use super::{Failed, Kind, Outcome, Produced};
use crate::core::model::Lane;
use crate::engine::Engine;
use crate::ids::{FrameioFileId, FrameioVersionStackId, WorkfrontProjectId};
use crate::store::{OutboxEntry, ParkCause, PushedRecord, StoreError, FOLDER_V};
use crate::transfer::{TransferError, UploadPart};
use crate::workfront::project_documents::DocumentDownloadError;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A presigned part address, kept in the outbox entry until the part is sent (it authorizes the
/// write by itself: never in `Debug`, logs or `status`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartAddress {
    pub size: u64,
    pub url: String,
}

impl std::fmt::Debug for PartAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PartAddress {{ size: {}, url: [redacted] }}", self.size)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinishPush {
    /// The version, and where it goes (the first step's payload).
    #[serde(flatten)]
    pub push: PushDocument,
    /// The id of the folder the file was created in (`push.folder` is its name).
    pub folder_id: String,
    pub file: FrameioFileId,
    /// Empty when the file was found whole.
    #[serde(default)]
    pub media_type: String,
    #[serde(default)]
    pub parts: Vec<PartAddress>,
    #[serde(default)]
    pub placeholders: Vec<FrameioFileId>,
}

impl FinishPush {
    pub(super) fn new(
        push: &PushDocument,
        folder: &str,
        file: FrameioFileId,
        upload: Option<crate::frameio::folder::LocalUpload>,
        placeholders: Vec<FrameioFileId>,
    ) -> Self {
        let (media_type, parts) = match upload {
            Some(u) => (
                u.media_type,
                u.parts
                    .into_iter()
                    .map(|p| PartAddress {
                        size: p.size,
                        url: p.url.expose().to_owned(),
                    })
                    .collect(),
            ),
            None => (String::new(), Vec::new()),
        };
        Self {
            push: push.clone(),
            folder_id: folder.to_owned(),
            file,
            media_type,
            parts,
            placeholders,
        }
    }
}

/// Not paced as a whole: most finishes only upload (the client paces each request, the stack's
/// 10 a minute included), and a lane must not wait for the stack limit to send parts.
impl Kind for FinishPush {
    fn key(&self) -> String {
        format!("{}{}", crate::store::FINISH_KEY_PREFIX, self.push.version)
    }

    fn describe(&self) -> String {
        let p = &self.push;
        format!(
            "send Workfront document {} ({:?}, version {}, {} bytes) into Frame.io file {} and stack it",
            p.document, p.file_name, p.version, p.size, self.file
        )
    }

    fn lane(&self) -> Lane {
        self.push.lane()
    }

    fn wf_project(&self) -> Option<&WorkfrontProjectId> {
        Some(&self.push.wf_project)
    }
}

/// How long a whole download may take: a stalled one is cut sooner (`transfer.rs`).
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(6 * 3600);
/// How soon the upload status is asked again when the parts are sent but the file is not whole.
const STATUS_AGAIN: Duration = Duration::from_secs(3);

pub(super) async fn carry_out(
    engine: &Engine,
    entry: &OutboxEntry,
    payload: &FinishPush,
) -> Result<Outcome, StoreError> {
    if engine
        .store
        .pushed(&payload.push.document, &payload.push.version)?
        .is_some()
    {
        return Ok(Outcome::Done(Produced::Nothing));
    }
    let credential = payload.push.target.credential();
    let client = match engine.client_for(&credential) {
        Ok(client) => client,
        Err(parked) => return Ok(*parked),
    };
    let failed = |err, how| engine.frameio_failed(entry, &credential, &err, how);
    let account = &payload.push.target.account;
    let park = |reason: String| Outcome::Park {
        reason,
        cause: ParkCause::Permanent,
    };

    let status = match client.upload_status(account, &payload.file).await {
        Ok(status) => status,
        Err(err) => return failed(err, Failed::Looking),
    };
    if !status.complete {
        if payload.parts.is_empty() {
            return Ok(park(format!(
                "Frame.io file {} is not whole and this daemon has no part addresses for it; drop this entry (the next pass uploads the version as a new file)",
                payload.file
            )));
        }
        let limit = engine.folder.max_file_size.max(payload.push.size);
        let download = match engine
            .workfront
            .open_document(&payload.push.document, &payload.push.version, limit, DOWNLOAD_TIMEOUT)
            .await
        {
            Ok(download) => download,
            Err(DocumentDownloadError::NotCurrent { .. }) => {
                return Ok(park(format!(
                    "Workfront document {} has a newer version than {}: Frame.io file {} stays empty; drop this entry (the newer version is pushed on its own)",
                    payload.push.document, payload.push.version, payload.file
                )))
            }
            Err(DocumentDownloadError::Workfront(err)) => return Ok(super::workfront_failed(entry, &err, engine.clock.now())),
            // No address will appear by retrying (a linked or external document has none).
            Err(err @ DocumentDownloadError::NoAddress { .. }) => {
                return Ok(park(format!(
                    "{err}: Workfront gives no file to copy (a linked or external document?); Frame.io file {} stays empty; drop this entry once the document has a file of its own in Workfront",
                    payload.file
                )))
            }
            Err(err) => return Ok(retry(engine, entry, err.to_string())),
        };
        let parts: Vec<UploadPart> = payload
            .parts
            .iter()
            .map(|p| UploadPart {
                size: p.size,
                url: crate::secret::Secret::new(p.url.clone()),
            })
            .collect();
        let spool = engine.store.dir().join("spool");
        if let Err(err) = std::fs::create_dir_all(&spool) {
            return Ok(retry(
                engine,
                entry,
                format!("the spool folder {}: {err}", spool.display()),
            ));
        }
        let _permit = engine.permit_to_send(entry).await?;
        match engine
            .transfers
            .upload_parts(download, &parts, &payload.media_type, &spool)
            .await
        {
            Ok(()) => crate::failpoint::hit(crate::failpoint::AFTER_PARTS),
            Err(TransferError::Refused { status }) => {
                return Ok(park(format!(
                    "a part address of Frame.io file {} was refused (HTTP {status}: expired?); the file stays empty; drop this entry (the next pass uploads the version as a new file)",
                    payload.file
                )))
            }
            Err(err) => return Ok(retry(engine, entry, format!("sending the parts: {err}"))),
        }
        match client.upload_status(account, &payload.file).await {
            Ok(status) if status.complete => {}
            Ok(status) if status.failed => {
                return Ok(park(format!(
                    "Frame.io says the upload of file {} failed; drop this entry (the next pass uploads the version as a new file)",
                    payload.file
                )))
            }
            Ok(_) => {
                return Ok(Outcome::Retry {
                    at: engine.clock.now().saturating_add(STATUS_AGAIN),
                    error: format!("Frame.io file {} is not whole yet", payload.file),
                    outcome_known: false,
                })
            }
            Err(err) => return failed(err, Failed::Looking),
        }
    }

    let stack = match stack_on_previous(engine, entry, &client, payload).await {
        Ok(stack) => stack,
        Err(Stacking::Frameio(err, how)) => return failed(err, how),
        Err(Stacking::Store(err)) => return Err(err),
    };
    tracing::info!(outbox_id = %entry.id, file = %payload.file, document = %payload.push.document, version = %payload.push.version, stacked = stack.is_some(), "Workfront document pushed to the one-way folder");
    Ok(Outcome::Done(Produced::FolderStep {
        folders: Vec::new(),
        pushed: Some(Box::new(PushedRecord {
            v: FOLDER_V,
            wf_project: payload.push.wf_project.clone(),
            document: payload.push.document.clone(),
            version: payload.push.version.clone(),
            name: payload.push.file_name.clone(),
            size: payload.push.size,
            frameio_project: payload.push.mirror.clone(),
            folder: payload.folder_id.clone(),
            file: payload.file.clone(),
            stack,
            pushed_at: engine.clock.now(),
            placeholders: payload.placeholders.clone(),
        })),
        follow_ups: Vec::new(),
    }))
}

fn retry(engine: &Engine, entry: &OutboxEntry, error: String) -> Outcome {
    let wait = crate::retry::outbox_delay(entry.attempts + 1, crate::retry::ErrorClass::Transient, None);
    tracing::warn!(outbox_id = %entry.id, %error, retry_in_ms = wait.as_millis() as u64, "one-way folder transfer failed");
    Outcome::Retry {
        at: engine.clock.now().saturating_add(wait),
        error,
        outcome_known: false,
    }
}

enum Stacking {
    Frameio(crate::frameio::FrameioError, Failed),
    Store(StoreError),
}

/// Stacks the file on the document's newest version pushed before, newest on top: into that
/// version's stack, or a new stack of the two. Nothing to stack on (the first version, or its
/// file gone from the folder by hand) leaves the file on its own. Looks first: a file already in
/// a version stack is left there.
async fn stack_on_previous(
    engine: &Engine,
    entry: &OutboxEntry,
    client: &crate::frameio::FrameioClient,
    payload: &FinishPush,
) -> Result<Option<FrameioVersionStackId>, Stacking> {
    let account = &payload.push.target.account;
    let previous = engine
        .store
        .pushed_versions_of(&payload.push.document)
        .map_err(Stacking::Store)?
        .into_iter()
        .rfind(|r| r.version != payload.push.version && r.frameio_project == payload.push.mirror);
    let Some(previous) = previous else { return Ok(None) };
    let looking = |e| Stacking::Frameio(e, Failed::Looking);
    let file = client.file(account, payload.file.as_str()).await.map_err(looking)?;
    if let Some(parent) = file.parent.as_deref().filter(|p| *p != payload.folder_id) {
        // Already moved into a stack (an attempt whose outcome was lost): on top, then.
        let Ok(stack) = FrameioVersionStackId::new(parent) else {
            return Ok(None);
        };
        on_top(engine, entry, client, payload, &stack).await?;
        return Ok(Some(stack));
    }
    let before = match client.file(account, previous.file.as_str()).await {
        Ok(before) => before,
        // Removed from Frame.io by hand: nothing to stack on.
        Err(err) if err.status() == Some(404) => return Ok(None),
        Err(err) => return Err(looking(err)),
    };
    // The previous version's own stack, if it is in one (else it was moved by somebody: left
    // alone, and this version stays on its own).
    let into = match before.parent.as_deref() {
        Some(parent) if parent == payload.folder_id => None,
        Some(parent) => match client.version_stack(account, parent).await {
            Ok(stack) => Some(stack.id),
            Err(err) if err.status() == Some(404) => return Ok(None),
            Err(err) => return Err(looking(err)),
        },
        None => return Ok(None),
    };
    let permit = engine.permit_to_send(entry).await.map_err(Stacking::Store)?;
    let sending = |e| Stacking::Frameio(e, Failed::Sending);
    let stack = match into {
        None => client
            .create_version_stack(&permit, account, &payload.folder_id, &[&previous.file, &payload.file])
            .await
            .map_err(sending)?,
        Some(stack) => {
            client
                .move_file(&permit, account, &payload.file, stack.as_str())
                .await
                .map_err(sending)?;
            stack
        }
    };
    on_top(engine, entry, client, payload, &stack).await?;
    crate::failpoint::hit(crate::failpoint::AFTER_STACK);
    Ok(Some(stack))
}

/// Makes the file the head of `stack` if it is not: where a file moved into a stack lands is not
/// documented (read first; moved to the top only when needed).
async fn on_top(
    engine: &Engine,
    entry: &OutboxEntry,
    client: &crate::frameio::FrameioClient,
    payload: &FinishPush,
    stack: &FrameioVersionStackId,
) -> Result<(), Stacking> {
    let account = &payload.push.target.account;
    let shown = client
        .version_stack(account, stack.as_str())
        .await
        .map_err(|e| Stacking::Frameio(e, Failed::Looking))?;
    if shown.head.id == payload.file.as_str() {
        return Ok(());
    }
    let permit = engine.permit_to_send(entry).await.map_err(Stacking::Store)?;
    client
        .move_to_top(&permit, account, stack, &payload.file)
        .await
        .map_err(|e| Stacking::Frameio(e, Failed::Sending))?;
    tracing::info!(outbox_id = %entry.id, %stack, file = %payload.file, "moved the new version to the top of its stack");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::effects::Effect;

    #[test]
    fn the_entry_reads_back_the_same_and_its_debug_hides_the_part_addresses() {
        let push: PushDocument = serde_json::from_str(
            r#"{"wf_project":"p1","document":"d1","version":"v1","mirror":"f1","target":{"account":"a","workspace":"w"},"folder":"From Workfront","subfolder":{"obj_code":"TASK","id":"t1","name":"Shoot"},"file_name":"Brief.pdf","size":3}"#,
        )
        .unwrap();
        let finish = Effect::FinishPush(FinishPush {
            push,
            folder_id: "folder-1".into(),
            file: FrameioFileId::new("file-1").unwrap(),
            media_type: "application/pdf".into(),
            parts: vec![PartAddress {
                size: 3,
                url: "https://s3.example/part?X-Amz-Signature=secret-signature".into(),
            }],
            placeholders: Vec::new(),
        });
        let json = serde_json::to_string(&finish).unwrap();
        assert!(json.starts_with(r#"{"kind":"finish_push","wf_project":"p1""#), "{json}");
        assert_eq!(serde_json::from_str::<Effect>(&json).unwrap(), finish);
        assert_eq!(finish.key(), "folder_finish:v1");
        let debug = format!("{finish:?}");
        assert!(!debug.contains("secret-signature"), "{debug}");
        assert!(!finish.describe().contains("secret-signature"));
    }
}
