//! `AddDocument`: the F6 submission's Workfront document, on the project or the task the user
//! chose. It carries the asset's original file, streamed from Frame.io's download to Workfront's
//! upload (`transfer.rs`: memory does not grow with the file); a file over
//! `review.max_upload_size`, or one Frame.io will not let us download, goes as a link document (an
//! uploaded `.url` file that opens the asset) whose description says why.
//!
//! A file in a version stack is a version of the others in it: when one of them is on a document
//! already, the file becomes that document's new version instead of a document of its own.
//!
//! Looked up first, so a lost answer or a crash never makes a second document or version, and
//! sending the same file again changes nothing: a document's `extRefID` names the Frame.io file of
//! its first version (for entries written before files were sent, the interaction), and each later
//! version's label names its file (`v2 frameio-file:<id>`).

use super::{workfront_failed, Effect, Failed, Kind, Outcome, Produced, RequestApproval};
use crate::config::ApprovalSystem;
use crate::core::mirror_plan::Planned;
use crate::core::model::{Lane, Target, WorkfrontObject};
use crate::core::review::ReviewState;
use crate::engine::Engine;
use crate::frameio::{FrameioError, FrameioFile};
use crate::ids::{
    FrameioFileId, FrameioProjectId, WorkfrontDocumentId, WorkfrontDocumentVersionId, WorkfrontProjectId,
    WorkfrontTaskId, WorkfrontUserId,
};
use crate::retry::{outbox_delay, retry_read, Classify, ErrorClass};
use crate::store::{OutboxEntry, ParkCause, SendPermit, StoreError, SubmissionRecord, SUBMISSION_V};
use crate::transfer::TransferError;
use crate::workfront::{FoundDocument, WorkfrontError};
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
    /// The task of `wf_project` it was sent to, if one was chosen; else the project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<WorkfrontTaskId>,
    /// The sender's message to the approvers, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A Frame.io file sent for review: its id, and the mirror's target (whose credential reads it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewFile {
    pub id: FrameioFileId,
    pub target: Target,
    /// The mirror it was sent from (where its review is shown); `None` in entries from before
    /// the review loop, whose mirror is read from the store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirror: Option<FrameioProjectId>,
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
            Some(file) => file_ref(&file.id),
            None => self.interaction.clone(),
        }
    }

    /// The object the document goes on.
    pub fn on(&self) -> WorkfrontObject {
        match &self.task {
            Some(task) => WorkfrontObject::Task(task.clone()),
            None => WorkfrontObject::Project(self.wf_project.clone()),
        }
    }
}

/// What names a Frame.io file in Workfront: a document's `extRefID`, a later version's label.
fn file_ref(file: &FrameioFileId) -> String {
    format!("{FILE_REF}{file}")
}

const FILE_REF: &str = "frameio-file:";

/// The Frame.io file a document's `extRefID` or a version's label names, if any.
fn referenced_file(text: &str) -> Option<&str> {
    let (_, rest) = text.split_once(FILE_REF)?;
    Some(rest.split_whitespace().next().unwrap_or_default()).filter(|id| !id.is_empty())
}

impl Kind for AddDocument {
    fn key(&self) -> String {
        format!("document:{}", self.interaction)
    }

    fn describe(&self) -> String {
        format!(
            "add document {:?}, sent for review by {}, to Workfront {}",
            self.asset_name,
            self.user_name,
            self.on()
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
    let on = payload.on();
    let Some(source) = &payload.file else {
        // An entry from before files were sent: a link document, found by the interaction.
        let ext_ref = payload.ext_ref();
        match engine.workfront.find_document(&on, &ext_ref).await {
            Ok(Some(found)) => return Ok(already(entry, payload, &found.id)),
            Ok(None) => {}
            Err(err) => return Ok(workfront_failed(entry, &err, engine.clock.now())),
        }
        let permit = engine.permit_to_send(entry).await?;
        let delivered = link_upload(engine, &permit, payload).await;
        let made = match delivered {
            Ok(handle) => create(engine, &permit, payload, &handle, &payload.description(None)).await,
            Err(err) => Err(err),
        };
        return Ok(settled(engine, entry, payload, made.map(|_| ())));
    };

    let credential = source.target.credential();
    let client = match engine.client_for(&credential) {
        Ok(client) => client,
        Err(parked) => return Ok(*parked),
    };
    let account = &source.target.account;
    // Read twice on purpose: this plain read finds the file's stack for the look-up (an
    // `include=media_links.original` read answers 403 whole without download permission), and the
    // signed address is read only once the look-up says a transfer is needed.
    let file = match retry_read("files show", || client.file(account, source.id.as_str())).await {
        Ok(file) => file,
        Err(err) => return engine.frameio_failed(entry, &credential, &err, Failed::Looking),
    };
    // The other versions of the file, when it is in a version stack (its parent may be a folder:
    // then Frame.io knows no stack by that id).
    let versions = match &file.parent {
        Some(parent) => match retry_read("version stack", || client.version_stack(account, parent)).await {
            Ok(stack) => match retry_read("version stack children", || {
                client.version_stack_files(account, &stack.id)
            })
            .await
            {
                Ok(files) => files,
                Err(err) => return engine.frameio_failed(entry, &credential, &err, Failed::Looking),
            },
            // Not a stack's id (the API does not say which a parent is): a folder's.
            Err(err) if matches!(err.status(), Some(400 | 404 | 422)) => Vec::new(),
            Err(err) => return engine.frameio_failed(entry, &credential, &err, Failed::Looking),
        },
        None => Vec::new(),
    };
    let place = match where_it_goes(engine, &on, &source.id, &versions).await {
        Ok(Place::There { document, version }) => {
            tracing::info!(outbox_id = %entry.id, wf_project = %payload.wf_project, %document, "the file is on the document already");
            return Ok(submitted(engine, payload, document, version));
        }
        Ok(place) => place,
        Err(err) => return Ok(workfront_failed(entry, &err, engine.clock.now())),
    };

    // The signed address expires: read it right before the transfer, never keep it.
    let file = match retry_read("files show", || client.file_to_download(account, source.id.as_str())).await {
        Ok(file) => file,
        // Frame.io answers 403 for the whole call when the token may see the file but not download
        // its original: that is this file's limit, not a refused credential. A link, then.
        Err(FrameioError::Auth { status: 403, .. }) => FrameioFile { original: None, ..file },
        Err(err) => return engine.frameio_failed(entry, &credential, &err, Failed::Looking),
    };
    let permit = engine.permit_to_send(entry).await?;
    let (handle, file_name, why_a_link) = match deliver(engine, &permit, entry, payload, &file).await {
        Ok(delivered) => delivered,
        Err(outcome) => return Ok(*outcome),
    };
    let description = payload.description(why_a_link.as_deref());
    match place {
        Place::New => {
            let label = format!("v1 {}", file_ref(&source.id));
            let created = engine
                .workfront
                .create_document(
                    &permit,
                    &on,
                    &payload.asset_name,
                    &handle,
                    &file_name,
                    &label,
                    &payload.ext_ref(),
                    &description,
                )
                .await;
            let document = match created {
                Ok(document) => document,
                Err(err) => return Ok(workfront_failed(entry, &err, engine.clock.now())),
            };
            crate::failpoint::hit(crate::failpoint::AFTER_DOCUMENT);
            tracing::info!(outbox_id = %entry.id, wf_project = %payload.wf_project, on = %on, document = %document.id, asset = %payload.asset_name, "document added");
            let version = match document.current_version {
                Some(version) => Some(version),
                None => match engine.workfront.current_version(&document.id).await {
                    Ok(version) => version,
                    Err(err) => return Ok(workfront_failed(entry, &err, engine.clock.now())),
                },
            };
            Ok(submitted(engine, payload, document.id, version))
        }
        Place::NewVersion { document, number } => {
            Ok(new_version(engine, &permit, entry, payload, &document, number, &handle, &file_name).await)
        }
        Place::There { .. } => unreachable!("returned above"),
    }
}

/// The file is on `document` (as `version`, when known): the submission is recorded, and its
/// approval asked for when `review.approvals` asks for one.
fn submitted(
    engine: &Engine,
    payload: &AddDocument,
    document: WorkfrontDocumentId,
    version: Option<WorkfrontDocumentVersionId>,
) -> Outcome {
    let (Some(version), Some(source)) = (version, &payload.file) else {
        return Outcome::Done(Produced::Nothing);
    };
    let mirror = match &source.mirror {
        Some(mirror) => mirror.clone(),
        None => match engine.store.mirror(&payload.wf_project) {
            Ok(Some(mirror)) => mirror.frameio_project,
            _ => {
                tracing::warn!(wf_project = %payload.wf_project, "no mirror recorded for the project: the review is not followed");
                return Outcome::Done(Produced::Nothing);
            }
        },
    };
    let system = engine.review.approvals;
    let now = engine.clock.now();
    let record = SubmissionRecord {
        v: SUBMISSION_V,
        version: version.clone(),
        document: document.clone(),
        wf_project: payload.wf_project.clone(),
        on: payload.on(),
        file: source.id.clone(),
        asset_name: payload.asset_name.clone(),
        frameio_project: mirror,
        target: source.target.clone(),
        sender: payload.wf_user.clone(),
        sender_name: payload.user_name.clone(),
        message: payload.message.clone(),
        sent_at: now,
        approvals: system,
        state: ReviewState::Sent,
        decision: None,
        shown: None,
        copied_comments: Default::default(),
    };
    let follow_ups = match system {
        ApprovalSystem::None => Vec::new(),
        ApprovalSystem::Unified | ApprovalSystem::Legacy => vec![Planned {
            effect: Effect::RequestApproval(RequestApproval {
                version,
                document,
                wf_project: payload.wf_project.clone(),
                asset_name: payload.asset_name.clone(),
                sender: payload.wf_user.clone(),
                message: payload.message.clone(),
                system,
                sent_at: now,
            }),
            reason: format!("{} sent {:?} for approval", payload.user_name, payload.asset_name),
        }],
    };
    Outcome::Done(Produced::Submission {
        record: Box::new(record),
        follow_ups,
    })
}

/// Where a file goes, as Workfront shows it now.
enum Place {
    /// On this document already (as its first version, or a later one, `version` when it can be
    /// told): nothing to send.
    There {
        document: WorkfrontDocumentId,
        version: Option<WorkfrontDocumentVersionId>,
    },
    /// A new version of this document (another version of the file is on it), the `number`th.
    NewVersion { document: FoundDocument, number: usize },
    /// A document of its own.
    New,
}

/// Looks for `file` and its other `versions` among the documents on `on` made from Frame.io files.
async fn where_it_goes(
    engine: &Engine,
    on: &WorkfrontObject,
    file: &FrameioFileId,
    versions: &[FrameioFileId],
) -> Result<Place, WorkfrontError> {
    let workfront = &engine.workfront;
    let documents = workfront.find_documents_containing(on, FILE_REF).await?;
    let first_file = |d: &FoundDocument| referenced_file(&d.ext_ref).map(str::to_owned);
    if let Some(mine) = documents
        .iter()
        .find(|d| first_file(d).as_deref() == Some(file.as_str()))
    {
        // Its version: the one labelled with the file; in documents made before versions were
        // labelled, the first ("v1"), or else the current one.
        let labels = workfront.document_versions(&mine.id).await?;
        let version = labels
            .iter()
            .find(|v| referenced_file(&v.label) == Some(file.as_str()))
            .or_else(|| labels.iter().find(|v| v.label.trim() == "v1"))
            .map(|v| v.id.clone())
            .or_else(|| mine.current_version.clone());
        return Ok(Place::There {
            document: mine.id.clone(),
            version,
        });
    }
    // The oldest document made from another version of the file (the search is in ID order).
    let sibling = documents
        .into_iter()
        .find(|d| first_file(d).is_some_and(|first| versions.iter().any(|v| v.as_str() == first)));
    let Some(document) = sibling else {
        return Ok(Place::New);
    };
    let labels = workfront.document_versions(&document.id).await?;
    if let Some(mine) = labels.iter().find(|v| referenced_file(&v.label) == Some(file.as_str())) {
        return Ok(Place::There {
            document: document.id,
            version: Some(mine.id.clone()),
        });
    }
    Ok(Place::NewVersion {
        number: labels.len() + 1,
        document,
    })
}

/// Adds the uploaded file to `document` as its `number`th version, and checks that Workfront made
/// it the current one (the API documents no call for this: a version it takes but does not make
/// current is parked, never followed by a second document).
#[allow(clippy::too_many_arguments)]
async fn new_version(
    engine: &Engine,
    permit: &SendPermit,
    entry: &OutboxEntry,
    payload: &AddDocument,
    document: &FoundDocument,
    number: usize,
    handle: &str,
    file_name: &str,
) -> Outcome {
    let source = payload.file.as_ref().expect("a version is of a file");
    let label = format!("v{number} {}", file_ref(&source.id));
    let workfront = &engine.workfront;
    let added = workfront
        .add_document_version(permit, &document.id, handle, file_name, &label)
        .await;
    let version = match added {
        Ok(version) => version,
        Err(err) => return workfront_failed(entry, &err, engine.clock.now()),
    };
    crate::failpoint::hit(crate::failpoint::AFTER_DOCUMENT_VERSION);
    match workfront.current_version(&document.id).await {
        Ok(Some(current)) if current == version => {
            tracing::info!(
                outbox_id = %entry.id, wf_project = %payload.wf_project, document = %document.id,
                %version, %label, asset = %payload.asset_name, "document version added"
            );
            submitted(engine, payload, document.id.clone(), Some(version))
        }
        Ok(current) => Outcome::Park {
            reason: format!(
                "Workfront took version {version} ({label}) of document {} but its current version is {}: \
                 this Workfront does not make a version added through the API current. Make it current by hand, \
                 then `outbox resume` this entry (it finds the version and changes nothing)",
                document.id,
                current.map_or_else(|| "none".to_owned(), |c| c.to_string())
            ),
            cause: ParkCause::Permanent,
        },
        Err(err) => workfront_failed(entry, &err, engine.clock.now()),
    }
}

/// The file's bytes uploaded to Workfront (or a link to it, and why): its handle and file name.
async fn deliver(
    engine: &Engine,
    permit: &SendPermit,
    entry: &OutboxEntry,
    payload: &AddDocument,
    file: &FrameioFile,
) -> Result<(String, String, Option<String>), Box<Outcome>> {
    let limit = engine.max_upload_size;
    let over = |size: u64| {
        format!(
            "the file ({}) is over review.max_upload_size ({})",
            bytesize::ByteSize(size),
            bytesize::ByteSize(limit)
        )
    };
    let link = |why: String| async move {
        tracing::info!(outbox_id = %entry.id, wf_project = %payload.wf_project, asset = %payload.asset_name, %why, "sending a link instead of the file");
        match link_upload(engine, permit, payload).await {
            Ok(handle) => Ok((handle, link_file_name(payload), Some(why))),
            Err(err) => Err(Box::new(workfront_failed(entry, &err, engine.clock.now()))),
        }
    };
    let address = match (&file.original, file.size) {
        (None, _) => {
            return link(
                "Frame.io gives no download of the original (no download permission, or a watermark)".to_owned(),
            )
            .await
        }
        (Some(_), Some(size)) if size > limit => return link(over(size)).await,
        (Some(address), _) => address,
    };
    // An upload is only a handle until a document uses it, so a failed one is tried again at once,
    // from a new download, a few times before the entry waits its turn.
    let uploaded = retry_read("upload", || async {
        let download = engine.transfers.open(address, limit).await.map_err(Step::Download)?;
        engine
            .workfront
            .upload_stream(permit, &file.name, file.media_type.as_deref(), download, UPLOAD_TIMEOUT)
            .await
            .map_err(Step::Upload)
    })
    .await;
    match uploaded {
        Ok(handle) => {
            crate::failpoint::hit(crate::failpoint::AFTER_UPLOAD);
            tracing::info!(
                outbox_id = %entry.id, wf_project = %payload.wf_project, frameio_file = %file.id,
                bytes = file.size.unwrap_or_default(), "the file was uploaded to Workfront"
            );
            Ok((handle, file.name.clone(), None))
        }
        Err(Step::Download(TransferError::TooLarge { declared, .. })) => link(over(declared)).await,
        // An expired or refused address, a broken connection: a new address next time.
        Err(Step::Download(err)) => {
            let wait = outbox_delay(entry.attempts + 1, ErrorClass::Transient, None);
            tracing::warn!(outbox_id = %entry.id, error = %err, "could not download the file; trying again");
            Err(Box::new(Outcome::Retry {
                at: engine.clock.now().saturating_add(wait),
                error: format!("downloading {:?} from Frame.io: {err}", file.name),
                outcome_known: false,
            }))
        }
        Err(Step::Upload(err)) => Err(Box::new(workfront_failed(entry, &err, engine.clock.now()))),
    }
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

/// The name of the `.url` file a link document carries.
fn link_file_name(payload: &AddDocument) -> String {
    format!("{}.url", payload.asset_name.replace(['/', '\\'], "_"))
}

/// Uploads a `.url` file that opens the asset; its handle.
async fn link_upload(engine: &Engine, permit: &SendPermit, payload: &AddDocument) -> Result<String, WorkfrontError> {
    let content = format!("[InternetShortcut]\r\nURL={}\r\n", payload.asset_url);
    engine
        .workfront
        .upload(permit, &link_file_name(payload), content.as_bytes())
        .await
}

/// A document of its own from an uploaded `handle` (a link's, for entries without a file).
async fn create(
    engine: &Engine,
    permit: &SendPermit,
    payload: &AddDocument,
    handle: &str,
    description: &str,
) -> Result<FoundDocument, WorkfrontError> {
    engine
        .workfront
        .create_document(
            permit,
            &payload.on(),
            &payload.asset_name,
            handle,
            &link_file_name(payload),
            "v1",
            &payload.ext_ref(),
            description,
        )
        .await
}

fn already(entry: &OutboxEntry, payload: &AddDocument, document: &WorkfrontDocumentId) -> Outcome {
    tracing::info!(outbox_id = %entry.id, wf_project = %payload.wf_project, %document, "the file is on the document already");
    Outcome::Done(Produced::Nothing)
}

fn settled(engine: &Engine, entry: &OutboxEntry, payload: &AddDocument, made: Result<(), WorkfrontError>) -> Outcome {
    match made {
        Ok(()) => Outcome::Done(Produced::Nothing),
        Err(err) => {
            tracing::debug!(outbox_id = %entry.id, wf_project = %payload.wf_project, "the document was not added");
            workfront_failed(entry, &err, engine.clock.now())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_read_back_from_an_ext_ref_or_a_version_label() {
        assert_eq!(referenced_file("frameio-file:abc"), Some("abc"));
        assert_eq!(referenced_file("v3 frameio-file:abc"), Some("abc"));
        assert_eq!(referenced_file("v3 frameio-file:abc extra"), Some("abc"));
        assert_eq!(referenced_file("v1"), None);
        assert_eq!(referenced_file("frameio-file:"), None);
        assert_eq!(referenced_file("interaction-123"), None);
    }
}
