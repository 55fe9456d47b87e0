//! `PushDocument`: the one-way folder's first step for a Workfront document version (F7). The
//! folder (and a task's subfolder) is found by its recorded id, else by its name, and made only
//! if neither is there; the file is looked for in it by name and size (a whole file no record
//! claims is this version's, from an attempt whose outcome was lost). Otherwise a file is created
//! with `local_upload`, and the part addresses Frame.io answers with go, with the file's id, into
//! a `FinishPush` entry recorded in the same transaction as this one's end: the bytes are sent
//! from there, so a crash after this step never creates a second file.
//!
//! An upload whose answer is lost leaves an empty file behind (Frame.io gives no second set of
//! part addresses, and nothing is deleted): the next attempt creates another, and the record
//! names the empty one for `status`.

use super::finish_push::FinishPush;
use super::{Failed, Kind, Outcome, Produced};
use crate::core::mirror_plan::Planned;
use crate::core::model::{Lane, RateClass, Subfolder, Target};
use crate::engine::Engine;
use crate::frameio::FrameioClient;
use crate::ids::{
    FrameioFileId, FrameioProjectId, WorkfrontDocumentId, WorkfrontDocumentVersionId, WorkfrontProjectId,
};
use crate::store::{FolderRecord, OutboxEntry, StoreError, FOLDER_V};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushDocument {
    pub wf_project: WorkfrontProjectId,
    pub document: WorkfrontDocumentId,
    pub version: WorkfrontDocumentVersionId,
    pub mirror: FrameioProjectId,
    pub target: Target,
    /// The folder's name at the mirror's root (`folder.name` when planned).
    pub folder: String,
    /// The task or issue whose subfolder it goes in.
    #[serde(default)]
    pub subfolder: Option<Subfolder>,
    /// Its name in Frame.io, and its size (the version's `docSize`).
    pub file_name: String,
    pub size: u64,
}

impl Kind for PushDocument {
    fn key(&self) -> String {
        format!("folder_push:{}", self.version)
    }

    fn describe(&self) -> String {
        let sub = self
            .subfolder
            .as_ref()
            .map(|s| format!("/{}", s.name))
            .unwrap_or_default();
        format!(
            "push Workfront document {} ({:?}, version {}) to \"{}{sub}\" in Frame.io project {}",
            self.document, self.file_name, self.version, self.folder, self.mirror
        )
    }

    fn lane(&self) -> Lane {
        Lane::Frameio(self.target.credential())
    }

    fn paced_by(&self) -> Option<RateClass> {
        Some(RateClass::LocalUpload)
    }

    fn wf_project(&self) -> Option<&WorkfrontProjectId> {
        Some(&self.wf_project)
    }
}

pub(super) async fn carry_out(
    engine: &Engine,
    entry: &OutboxEntry,
    payload: &PushDocument,
) -> Result<Outcome, StoreError> {
    // Pushed, or its file created and its bytes on their way (planned again meanwhile).
    if engine.store.pushed(&payload.document, &payload.version)?.is_some()
        || engine.store.in_transfer(&payload.version)?
    {
        return Ok(Outcome::Done(Produced::Nothing));
    }
    let credential = payload.target.credential();
    let client = match engine.client_for(&credential) {
        Ok(client) => client,
        Err(parked) => return Ok(*parked),
    };
    let failed = |err, how| engine.frameio_failed(entry, &credential, &err, how);
    let account = &payload.target.account;
    let mut made = Vec::new();
    // The recorded folder is listed at once (look first: a whole file of this name and size
    // that no record claims is this version's); one gone (404) is found or made again.
    let mut listed = None;
    if let Some(folder) = recorded_folder(engine, payload)? {
        match client.folder_files(account, &folder).await {
            Ok(files) => listed = Some((folder, files)),
            Err(err) if err.status() == Some(404) => {}
            Err(err) => return failed(err, Failed::Looking),
        }
    }
    let (folder, files) = match listed {
        Some(listed) => listed,
        None => {
            let folder = match ensure_folders(engine, entry, &client, payload, &mut made).await {
                Ok(folder) => folder,
                Err(Step::Frameio(err, how)) => return failed(err, how),
                Err(Step::Store(err)) => return Err(err),
            };
            match client.folder_files(account, &folder).await {
                Ok(files) => (folder, files),
                Err(err) => return failed(err, Failed::Looking),
            }
        }
    };
    let mut placeholders = Vec::new();
    for candidate in files
        .iter()
        .filter(|f| f.name == payload.file_name && f.size == Some(payload.size))
    {
        let Ok(file) = FrameioFileId::new(&candidate.id) else {
            continue;
        };
        if engine.store.file_claimed(&file)? {
            continue;
        }
        let status = match client.upload_status(account, &file).await {
            Ok(status) => status,
            Err(err) => return failed(err, Failed::Looking),
        };
        if status.complete {
            tracing::info!(outbox_id = %entry.id, %file, document = %payload.document, "found the version's file whole in the folder");
            return Ok(finish(payload, &folder, made, file, None, placeholders));
        }
        // An empty file from an attempt whose answer was lost (any earlier attempt: a later one
        // may have cleared the in-flight mark), or an unfinished upload of that name and size in
        // our folder: none is ours to fill, each is named in the record.
        placeholders.push(file);
    }

    let permit = engine.permit_to_send(entry).await?;
    match client
        .start_local_upload(&permit, account, &folder, &payload.file_name, payload.size)
        .await
    {
        Ok(upload) => {
            crate::failpoint::hit(crate::failpoint::AFTER_LOCAL_UPLOAD);
            tracing::info!(outbox_id = %entry.id, file = %upload.file, parts = upload.parts.len(), document = %payload.document, "file created in the folder for upload");
            let file = upload.file.clone();
            Ok(finish(payload, &folder, made, file, Some(upload), placeholders))
        }
        Err(err) => failed(err, Failed::Sending),
    }
}

/// This step's end: the folders recorded, and the file's `FinishPush` enqueued.
fn finish(
    payload: &PushDocument,
    folder: &str,
    folders: Vec<FolderRecord>,
    file: FrameioFileId,
    upload: Option<crate::frameio::folder::LocalUpload>,
    placeholders: Vec<FrameioFileId>,
) -> Outcome {
    let next = FinishPush::new(payload, folder, file, upload, placeholders);
    Outcome::Done(Produced::FolderStep {
        folders,
        pushed: None,
        follow_ups: vec![Planned {
            reason: format!(
                "the file for Workfront document {:?} is created; its bytes follow",
                payload.file_name
            ),
            effect: super::Effect::FinishPush(next),
        }],
    })
}

enum Step {
    Frameio(crate::frameio::FrameioError, Failed),
    Store(StoreError),
}

/// The folder the file goes in: the mirror's one-way folder, and in it the task's subfolder when
/// it has one. Each is found by its recorded id, else by its name (the oldest of that name), and
/// created only when neither finds it; what was made or found is added to `made` for recording.
async fn ensure_folders(
    engine: &Engine,
    entry: &OutboxEntry,
    client: &FrameioClient,
    payload: &PushDocument,
    made: &mut Vec<FolderRecord>,
) -> Result<String, Step> {
    let account = &payload.target.account;
    let root = client
        .root_folder(account, &payload.mirror)
        .await
        .map_err(|e| Step::Frameio(e, Failed::Looking))?;
    let top = ensure_one(engine, entry, client, payload, &root, None, &payload.folder, made).await?;
    match &payload.subfolder {
        None => Ok(top),
        Some(sub) => {
            ensure_one(
                engine,
                entry,
                client,
                payload,
                &top,
                Some(sub.id.as_str()),
                &sub.name,
                made,
            )
            .await
        }
    }
}

/// The folder recorded for the payload's place, if any (then trusted: `carry_out` lists it, and a
/// folder removed by hand answers 404 and is found or made again).
fn recorded_folder(engine: &Engine, payload: &PushDocument) -> Result<Option<String>, StoreError> {
    let sub = payload.subfolder.as_ref().map(|s| s.id.as_str());
    Ok(engine
        .store
        .folder_record(&payload.wf_project, sub)?
        .filter(|r| r.frameio_project == payload.mirror)
        .map(|r| r.id))
}

#[allow(clippy::too_many_arguments)]
async fn ensure_one(
    engine: &Engine,
    entry: &OutboxEntry,
    client: &FrameioClient,
    payload: &PushDocument,
    parent: &str,
    sub: Option<&str>,
    name: &str,
    made: &mut Vec<FolderRecord>,
) -> Result<String, Step> {
    let account = &payload.target.account;
    let recorded = engine
        .store
        .folder_record(&payload.wf_project, sub)
        .map_err(Step::Store)?
        .filter(|r| r.frameio_project == payload.mirror);
    let children = client
        .child_folders(account, parent)
        .await
        .map_err(|e| Step::Frameio(e, Failed::Looking))?;
    let record = |id: String| FolderRecord {
        v: FOLDER_V,
        wf_project: payload.wf_project.clone(),
        sub: sub.map(str::to_owned),
        frameio_project: payload.mirror.clone(),
        id,
    };
    if let Some(r) = &recorded {
        if children.iter().any(|c| c.id == r.id) {
            return Ok(r.id.clone());
        }
    }
    // Found by name: made by an attempt whose answer was lost, or by somebody (ours to use).
    if let Some(found) = children.iter().find(|c| c.name == name) {
        made.push(record(found.id.clone()));
        return Ok(found.id.clone());
    }
    let permit = engine.permit_to_send(entry).await.map_err(Step::Store)?;
    let created = client
        .create_folder(&permit, account, parent, name)
        .await
        .map_err(|e| Step::Frameio(e, Failed::Sending))?;
    tracing::info!(outbox_id = %entry.id, folder = %created.id, name, wf_project = %payload.wf_project, "one-way folder created");
    made.push(record(created.id.clone()));
    Ok(created.id)
}
