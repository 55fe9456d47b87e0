//! Frame.io's folders and `local_upload` in the sandbox: folders in a project (its root is
//! `f-<project>`, as `root_folder_id` says), the folders and files in one, and a file created in a
//! folder with presigned part addresses this server serves itself, the parts PUT to them (checked
//! like S3: no `Authorization`, the signature, the content type and ACL the signature covers, the
//! part's exact length), and the upload-status route.

use super::{Sandbox, Shared};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use axum::{Json, Router};
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::collections::HashMap;

/// Files up to this size keep their bytes (tests compare them); larger ones only sizes.
const KEEP_BYTES: u64 = 64 << 20;

/// An upload in progress: each part's size, and what arrived for it.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    sizes: Vec<u64>,
    received: Vec<Option<Vec<u8>>>,
    /// A digest of the parts received in order (a large file's only record of its bytes), while
    /// they arrive in order.
    digest: crate::files::Digest,
    next: usize,
    in_order: bool,
}

pub(super) fn routes(router: Router<Shared>) -> Router<Shared> {
    router
        .route(
            "/v4/accounts/{account}/folders/{folder}/files/local_upload",
            post(local_upload),
        )
        .route("/v4/accounts/{account}/files/{file}/status", get(status))
        .route(
            "/v4/accounts/{account}/folders/{folder}/folders",
            get(list_folders).post(create_folder),
        )
        .route("/v4/accounts/{account}/folders/{folder}/files", get(list_files))
        .route(
            "/v4/accounts/{account}/folders/{folder}/version_stacks",
            post(create_stack),
        )
        .route("/v4/accounts/{account}/files/{file}/move", patch(move_file))
        .route(
            "/v4/accounts/{account}/version_stacks/{stack}/versions",
            patch(reorder_stack),
        )
        .route("/parts/{file}/{n}", put(part))
}

fn errors(status: StatusCode, detail: &str) -> Response {
    (
        status,
        Json(json!({ "errors": [ { "title": status.canonical_reason().unwrap_or(""), "detail": detail } ] })),
    )
        .into_response()
}

/// The project a folder of `account` belongs to: its root (`f-<project>`) or one made through
/// the API.
fn folder_project(
    state: &super::State,
    caller: &super::frameio::Caller,
    account: &str,
    folder: &str,
) -> Option<String> {
    let project = match folder.strip_prefix("f-") {
        Some(project) => project.to_owned(),
        None => state.folders.get(folder)?.0.clone(),
    };
    (caller.reaches(account)
        && state
            .projects
            .iter()
            .any(|p| p.id == project && p.account_id == account))
    .then_some(project)
}

async fn list_folders(
    State(shared): State<Shared>,
    Path((account, folder)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let (out, caller) = match super::frameio::admit(&shared, &headers, "read") {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    let state = shared.lock();
    if folder_project(&state, &caller, &account, &folder).is_none() {
        return errors(StatusCode::NOT_FOUND, "no such folder");
    }
    let mut rows: Vec<Value> = state
        .folders
        .iter()
        .filter(|(_, (_, parent, _))| *parent == folder)
        .map(|(id, (project, parent, name))| json!({ "id": id, "name": name, "type": "folder", "parent_id": parent, "project_id": project }))
        .collect();
    rows.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    (out, Json(json!({ "data": rows, "links": { "next": null } }))).into_response()
}

async fn create_folder(
    State(shared): State<Shared>,
    Path((account, folder)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let (out, caller) = match super::frameio::admit(&shared, &headers, "folder_create") {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    let Some(name) = body["data"]["name"].as_str().filter(|n| !n.trim().is_empty()) else {
        return errors(StatusCode::UNPROCESSABLE_ENTITY, "name is required");
    };
    let mut state = shared.lock();
    let Some(project) = folder_project(&state, &caller, &account, &folder) else {
        return errors(StatusCode::NOT_FOUND, "no such folder");
    };
    // Frame.io documents no uniqueness rule for names: a second folder of that name is made.
    let id = format!("d0000000-0000-4000-8000-{:012x}", state.folders.len() + 1);
    state
        .folders
        .insert(id.clone(), (project.clone(), folder.clone(), name.to_owned()));
    let data = json!({ "id": id, "name": name, "type": "folder", "parent_id": folder, "project_id": project });
    (out, (StatusCode::CREATED, Json(json!({ "data": data })))).into_response()
}

async fn list_files(
    State(shared): State<Shared>,
    Path((account, folder)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let (out, caller) = match super::frameio::admit(&shared, &headers, "read") {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    let state = shared.lock();
    let Some(project) = folder_project(&state, &caller, &account, &folder) else {
        return errors(StatusCode::NOT_FOUND, "no such folder");
    };
    let root = folder.starts_with("f-");
    let mut rows: Vec<Value> = state
        .files
        .iter()
        .filter(|(_, f)| f.project == project && f.stack.is_none())
        .filter(|(_, f)| {
            if root {
                f.folder.is_none()
            } else {
                f.folder.as_deref() == Some(folder.as_str())
            }
        })
        .map(|(id, f)| {
            // A file still uploading has the size it was created with.
            let size = state
                .pending_uploads
                .get(id)
                .map_or_else(|| f.content.len(), |p| p.sizes.iter().sum());
            json!({ "id": id, "name": f.name, "type": "file", "file_size": size, "parent_id": folder })
        })
        .collect();
    rows.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    (out, Json(json!({ "data": rows, "links": { "next": null } }))).into_response()
}

fn signature(file: &str, n: usize) -> String {
    let mut digest = crate::files::Digest::default();
    digest.update(format!("{file}/{n}").as_bytes());
    format!("{:016x}", digest.0)
}

async fn local_upload(
    State(shared): State<Shared>,
    Path((account, folder)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let (out, caller) = match super::frameio::admit(&shared, &headers, "local_upload") {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    let (Some(name), Some(size)) = (body["data"]["name"].as_str(), body["data"]["file_size"].as_u64()) else {
        return errors(StatusCode::UNPROCESSABLE_ENTITY, "name and file_size are required");
    };
    if size == 0 || size > 5 << 40 {
        return errors(StatusCode::UNPROCESSABLE_ENTITY, "file_size must be 1 byte to 5 TB");
    }
    let mut state = shared.lock();
    let Some(project) = folder_project(&state, &caller, &account, &folder) else {
        return errors(StatusCode::NOT_FOUND, "no such folder");
    };
    let part = state.upload_part_size.max(1);
    let mut sizes = Vec::new();
    let mut left = size;
    while left > 0 {
        sizes.push(left.min(part));
        left -= left.min(part);
    }
    let id = format!("f0000000-0000-4000-8000-{:012x}", state.uploads_started + 1);
    state.uploads_started += 1;
    state.files.insert(
        id.clone(),
        super::SandboxFile {
            project,
            name: name.to_owned(),
            content: crate::files::FileContent::Bytes(Vec::new()),
            original: super::Original::Allowed,
            stack: None,
            folder: (!folder.starts_with("f-")).then(|| folder.clone()),
        },
    );
    state.pending_uploads.insert(
        id.clone(),
        Pending {
            received: vec![None; sizes.len()],
            sizes: sizes.clone(),
            digest: crate::files::Digest::default(),
            next: 0,
            in_order: true,
        },
    );
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_owned();
    let urls: Vec<Value> = sizes
        .iter()
        .enumerate()
        .map(|(n, s)| json!({ "size": s, "url": format!("http://{host}/parts/{id}/{n}?signature={}", signature(&id, n)) }))
        .collect();
    let data = json!({
        "id": id, "name": name, "type": "file", "status": "created", "file_size": size,
        "media_type": "application/octet-stream", "parent_id": folder, "upload_urls": urls,
    });
    (out, (StatusCode::CREATED, Json(json!({ "data": data })))).into_response()
}

async fn part(
    State(shared): State<Shared>,
    Path((file, n)): Path<(String, usize)>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    body: axum::body::Body,
) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
    if headers.contains_key("authorization") {
        return errors(StatusCode::BAD_REQUEST, "only one auth mechanism allowed");
    }
    if q.get("signature") != Some(&signature(&file, n))
        || header("content-type") != "application/octet-stream"
        || header("x-amz-acl") != "private"
    {
        return errors(StatusCode::FORBIDDEN, "SignatureDoesNotMatch");
    }
    let expected = {
        let state = shared.lock();
        match state.pending_uploads.get(&file).and_then(|p| p.sizes.get(n)) {
            Some(size) => *size,
            None => return errors(StatusCode::NOT_FOUND, "NoSuchUpload"),
        }
    };
    let mut bytes = Vec::new();
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(chunk) => bytes.extend_from_slice(&chunk),
            Err(_) => return errors(StatusCode::BAD_REQUEST, "IncompleteBody"),
        }
        if bytes.len() as u64 > expected {
            return errors(StatusCode::BAD_REQUEST, "EntityTooLarge");
        }
    }
    if bytes.len() as u64 != expected {
        return errors(StatusCode::BAD_REQUEST, "IncompleteBody");
    }
    let mut state = shared.lock();
    state.counts.frameio_parts += 1;
    let Some(pending) = state.pending_uploads.get_mut(&file) else {
        return errors(StatusCode::NOT_FOUND, "NoSuchUpload");
    };
    let total: u64 = pending.sizes.iter().sum();
    if n == pending.next {
        pending.digest.update(&bytes);
        pending.next += 1;
    } else {
        pending.in_order = false;
    }
    pending.received[n] = Some(if total <= KEEP_BYTES { bytes } else { Vec::new() });
    StatusCode::OK.into_response()
}

async fn status(
    State(shared): State<Shared>,
    Path((account, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let (out, caller) = match super::frameio::admit(&shared, &headers, "read") {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    let mut state = shared.lock();
    if !caller.reaches(&account) || !state.files.contains_key(&file) {
        return errors(StatusCode::NOT_FOUND, "no such file");
    }
    let complete = match state.pending_uploads.get(&file) {
        None => true,
        Some(p) if p.received.iter().all(Option::is_some) => {
            let total: u64 = p.sizes.iter().sum();
            // Large files keep their size only (a pattern stands in for the bytes).
            let content = if total <= KEEP_BYTES {
                crate::files::FileContent::Bytes(p.received.iter().flatten().flatten().copied().collect())
            } else {
                crate::files::FileContent::Pattern { size: total, seed: 0 }
            };
            let digest = p.in_order.then_some(p.digest.0);
            state.pending_uploads.remove(&file);
            if let Some(digest) = digest.filter(|_| total > KEEP_BYTES) {
                state.upload_digests.insert(file.clone(), digest);
            }
            if let Some(f) = state.files.get_mut(&file) {
                f.content = content;
            }
            true
        }
        Some(_) => false,
    };
    let data = json!({ "id": file, "filetype": "file", "upload_complete": complete, "upload_failed": false });
    (out, Json(json!({ "data": data }))).into_response()
}

/// `POST /folders/{f}/version_stacks {"data":{"file_ids":[oldest, …, newest]}}`: 2 to 10 files,
/// all in the folder and in no stack, stacked with the last on top.
async fn create_stack(
    State(shared): State<Shared>,
    Path((account, folder)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let (out, caller) = match super::frameio::admit(&shared, &headers, "version_stack") {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    let ids: Vec<String> = body["data"]["file_ids"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    if !(2..=10).contains(&ids.len()) {
        return errors(StatusCode::UNPROCESSABLE_ENTITY, "file_ids must hold 2 to 10 files");
    }
    let mut state = shared.lock();
    let Some(project) = folder_project(&state, &caller, &account, &folder) else {
        return errors(StatusCode::NOT_FOUND, "no such folder");
    };
    let in_folder = |f: &super::SandboxFile| {
        f.project == project
            && f.stack.is_none()
            && if folder.starts_with("f-") {
                f.folder.is_none()
            } else {
                f.folder.as_deref() == Some(folder.as_str())
            }
    };
    if !ids.iter().all(|id| state.files.get(id).is_some_and(in_folder)) {
        return errors(
            StatusCode::UNPROCESSABLE_ENTITY,
            "every file must be in the folder and in no version stack",
        );
    }
    let stack = format!("5000000-0000-4000-8000-{:012x}", state.stacks.len() + 1);
    for id in &ids {
        if let Some(f) = state.files.get_mut(id) {
            f.stack = Some(stack.clone());
        }
    }
    state.stacks.insert(stack.clone(), ids);
    let data = json!({ "id": stack, "type": "version_stack", "parent_id": folder, "project_id": project });
    (out, (StatusCode::CREATED, Json(json!({ "data": data })))).into_response()
}

/// `PATCH /files/{f}/move {"data":{"parent_id":…}}`: into a version stack (on top), or a folder.
async fn move_file(
    State(shared): State<Shared>,
    Path((account, file)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let (out, caller) = match super::frameio::admit(&shared, &headers, "version_stack") {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    let Some(parent) = body["data"]["parent_id"].as_str().map(str::to_owned) else {
        return errors(StatusCode::UNPROCESSABLE_ENTITY, "parent_id is required");
    };
    let mut state = shared.lock();
    let Some(project) = state.files.get(&file).map(|f| f.project.clone()) else {
        return errors(StatusCode::NOT_FOUND, "no such file");
    };
    if !caller.reaches(&account) {
        return errors(StatusCode::NOT_FOUND, "no such file");
    }
    let into_stack = state.stacks.contains_key(&parent);
    if into_stack {
        let same_project = state.stacks[&parent]
            .first()
            .and_then(|f| state.files.get(f))
            .is_some_and(|f| f.project == project);
        if !same_project {
            return errors(StatusCode::UNPROCESSABLE_ENTITY, "the stack is in another project");
        }
    } else if folder_project(&state, &caller, &account, &parent).as_deref() != Some(project.as_str()) {
        return errors(StatusCode::NOT_FOUND, "no such folder or version stack");
    }
    // Checked: out of its old stack, if it was in one.
    let old_stack = state.files.get(&file).and_then(|f| f.stack.clone());
    if let Some(old) = old_stack {
        if let Some(files) = state.stacks.get_mut(&old) {
            files.retain(|f| *f != file);
        }
    }
    if into_stack {
        // Where a moved-in file lands is not documented: on top, or (`set_stack_move_to_bottom`)
        // at the bottom.
        let bottom = state.stack_move_to_bottom;
        let files = state.stacks.get_mut(&parent).expect("checked");
        if bottom {
            files.insert(0, file.clone());
        } else {
            files.push(file.clone());
        }
        state.files.get_mut(&file).expect("checked").stack = Some(parent.clone());
    } else {
        let f = state.files.get_mut(&file).expect("checked");
        f.stack = None;
        f.folder = (!parent.starts_with("f-")).then(|| parent.clone());
    }
    let data = json!({ "id": file, "type": "file", "parent_id": parent, "project_id": project });
    (out, Json(json!({ "data": data }))).into_response()
}

/// `PATCH /version_stacks/{vs}/versions {"data":{"target_file_id", "move_to":"top"|"bottom"}}`.
async fn reorder_stack(
    State(shared): State<Shared>,
    Path((account, stack)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let (out, caller) = match super::frameio::admit(&shared, &headers, "version_stack") {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    let (Some(target), Some(to)) = (
        body["data"]["target_file_id"].as_str(),
        body["data"]["move_to"].as_str(),
    ) else {
        return errors(
            StatusCode::UNPROCESSABLE_ENTITY,
            "target_file_id and move_to are required",
        );
    };
    let mut state = shared.lock();
    state.counts.frameio_stack_reorders += 1;
    let Some(files) = state.stacks.get_mut(&stack).filter(|_| caller.reaches(&account)) else {
        return errors(StatusCode::NOT_FOUND, "no such version stack");
    };
    let Some(at) = files.iter().position(|f| f == target) else {
        return errors(StatusCode::UNPROCESSABLE_ENTITY, "the file is not in the stack");
    };
    let file = files.remove(at);
    match to {
        "top" => files.push(file),
        "bottom" => files.insert(0, file),
        _ => {
            files.insert(at, file);
            return errors(StatusCode::UNPROCESSABLE_ENTITY, "move_to must be top or bottom");
        }
    }
    let data = json!({ "id": stack, "type": "version_stack" });
    (out, Json(json!({ "data": data }))).into_response()
}

impl Sandbox {
    /// Files moved into a version stack land at its bottom (`true`) or on top (`false`, the
    /// default): Frame.io does not document which.
    pub fn set_stack_move_to_bottom(&self, bottom: bool) {
        self.shared.lock().stack_move_to_bottom = bottom;
    }

    /// The files in a Frame.io folder made through the API (not in a stack): (id, name, size, whole).
    pub fn frameio_folder_files(&self, folder: &str) -> Vec<(String, String, u64, bool)> {
        let state = self.shared.lock();
        let mut files: Vec<_> = state
            .files
            .iter()
            .filter(|(_, f)| f.folder.as_deref() == Some(folder) && f.stack.is_none())
            .map(|(id, f)| {
                let pending = state.pending_uploads.get(id);
                let size = pending.map_or_else(|| f.content.len(), |p| p.sizes.iter().sum());
                (id.clone(), f.name.clone(), size, pending.is_none())
            })
            .collect();
        files.sort();
        files
    }

    /// The version stacks holding files of `folder`: each stack's files, oldest first (the last on
    /// top).
    pub fn frameio_folder_stacks(&self, folder: &str) -> Vec<Vec<String>> {
        let state = self.shared.lock();
        let mut stacks: Vec<Vec<String>> = state
            .stacks
            .values()
            .filter(|ids| {
                ids.first()
                    .and_then(|id| state.files.get(id))
                    .is_some_and(|f| f.folder.as_deref() == Some(folder))
            })
            .cloned()
            .collect();
        stacks.sort();
        stacks
    }

    /// The size of the parts `local_upload` cuts a file into (1 MiB unless set).
    pub fn set_upload_part_size(&self, size: u64) {
        self.shared.lock().upload_part_size = size;
    }

    /// The root folder of a Frame.io project (its `root_folder_id`).
    pub fn frameio_root_folder(&self, project: &str) -> String {
        format!("f-{project}")
    }

    /// The folders of a Frame.io project made through the API: (id, parent, name).
    pub fn frameio_folders(&self, project: &str) -> Vec<(String, String, String)> {
        let state = self.shared.lock();
        let mut folders: Vec<_> = state
            .folders
            .iter()
            .filter(|(_, (p, _, _))| p == project)
            .map(|(id, (_, parent, name))| (id.clone(), parent.clone(), name.clone()))
            .collect();
        folders.sort();
        folders
    }

    /// A Frame.io file's size and digest, once whole: for a large upload (whose bytes are not
    /// kept), the digest of its parts as they arrived, if they arrived in order.
    pub fn frameio_file_digest(&self, id: &str) -> Option<(u64, u64)> {
        let state = self.shared.lock();
        if state.pending_uploads.contains_key(id) {
            return None;
        }
        let file = state.files.get(id)?;
        match &file.content {
            crate::files::FileContent::Bytes(_) => Some((file.content.len(), file.content.digest())),
            crate::files::FileContent::Pattern { size, .. } => Some((*size, *state.upload_digests.get(id)?)),
        }
    }

    /// A Frame.io file's name.
    pub fn frameio_file_name(&self, id: &str) -> Option<String> {
        self.shared.lock().files.get(id).map(|f| f.name.clone())
    }

    /// A Frame.io file's bytes, once whole (an upload's, after its status said complete).
    pub fn frameio_file_bytes(&self, id: &str) -> Option<Vec<u8>> {
        let state = self.shared.lock();
        if state.pending_uploads.contains_key(id) {
            return None;
        }
        state.files.get(id).map(|f| f.content.to_vec())
    }
}
