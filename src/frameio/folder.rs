//! The one-way folder's Frame.io calls: a project's root folder, the folders and files in a
//! folder (to find ours again before making any), a folder created, and `local_upload`: a file is
//! created in a folder with its name and size, Frame.io answers with presigned part addresses
//! (`transfer::upload_parts` sends the bytes), and the upload-status route says when the file is
//! whole. No completion call exists.

use super::client::{
    FrameioClient, BUCKET_FOLDER_CREATE, BUCKET_LOCAL_UPLOAD, BUCKET_UPLOAD_STATUS, BUCKET_VERSION_STACKS,
};
use super::error::FrameioError;
use crate::ids::{FrameioAccountId, FrameioFileId, FrameioProjectId, FrameioVersionStackId};
use crate::secret::Secret;
use crate::store::SendPermit;
use crate::transfer::UploadPart;
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

/// A file created for upload: its id, the media type its parts must be sent with, and the parts.
#[derive(Debug, Clone)]
pub struct LocalUpload {
    pub file: FrameioFileId,
    pub media_type: String,
    pub parts: Vec<UploadPart>,
}

/// Where an upload stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadStatus {
    pub complete: bool,
    pub failed: bool,
}

#[derive(Deserialize)]
struct Data<T> {
    data: T,
}

/// A folder: its id and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameioFolder {
    pub id: String,
    pub name: String,
}

/// A file in a folder, as a look-up reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderFile {
    pub id: String,
    pub name: String,
    pub size: Option<u64>,
}

#[derive(Deserialize)]
struct FolderWire {
    id: String,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct FileRowWire {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    file_size: Option<u64>,
}

#[derive(Deserialize)]
struct RootWire {
    #[serde(default)]
    root_folder_id: Option<String>,
}

#[derive(Deserialize)]
struct CreatedWire {
    id: String,
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    upload_urls: Vec<PartWire>,
}

#[derive(Deserialize)]
struct PartWire {
    size: u64,
    url: String,
}

#[derive(Deserialize)]
struct StatusWire {
    #[serde(default)]
    upload_complete: bool,
    #[serde(default)]
    upload_failed: bool,
}

/// The most parts believed (Frame.io cuts a 5 TB file into far fewer).
const MAX_PARTS: usize = 10_000;

impl FrameioClient {
    /// A project's root folder (`root_folder_id` of `GET /projects/{p}`).
    pub async fn root_folder(
        &self,
        account: &FrameioAccountId,
        project: &FrameioProjectId,
    ) -> Result<String, FrameioError> {
        let p: Data<RootWire> = self
            .send(
                Method::GET,
                &["accounts", account.as_str(), "projects", project.as_str()],
                &[],
                None,
                super::client::BUCKET_READ,
            )
            .await?;
        p.data
            .root_folder_id
            .filter(|id| !id.is_empty())
            .ok_or_else(|| FrameioError::Decode {
                endpoint: "GET project".into(),
                detail: "the project has no root_folder_id".into(),
            })
    }

    /// The folders in `folder` (`GET /folders/{f}/folders`), every page.
    pub async fn child_folders(
        &self,
        account: &FrameioAccountId,
        folder: &str,
    ) -> Result<Vec<FrameioFolder>, FrameioError> {
        let rows: Vec<FolderWire> = self
            .list(&["accounts", account.as_str(), "folders", folder, "folders"])
            .await?;
        Ok(rows
            .into_iter()
            .map(|f| FrameioFolder {
                id: f.id,
                name: f.name.unwrap_or_default(),
            })
            .collect())
    }

    /// Creates folder `name` in `parent` (`POST /folders/{f}/folders`, 3 a second).
    pub async fn create_folder(
        &self,
        _permit: &SendPermit,
        account: &FrameioAccountId,
        parent: &str,
        name: &str,
    ) -> Result<FrameioFolder, FrameioError> {
        let body = json!({ "data": { "name": name } });
        let created: Data<FolderWire> = self
            .send(
                Method::POST,
                &["accounts", account.as_str(), "folders", parent, "folders"],
                &[],
                Some(serde_json::to_vec(&body).expect("a folder body serializes")),
                BUCKET_FOLDER_CREATE,
            )
            .await?;
        Ok(FrameioFolder {
            id: created.data.id,
            name: created.data.name.unwrap_or_else(|| name.to_owned()),
        })
    }

    /// The files in `folder` (`GET /folders/{f}/files`), every page.
    pub async fn folder_files(
        &self,
        account: &FrameioAccountId,
        folder: &str,
    ) -> Result<Vec<FolderFile>, FrameioError> {
        let rows: Vec<FileRowWire> = self
            .list(&["accounts", account.as_str(), "folders", folder, "files"])
            .await?;
        Ok(rows
            .into_iter()
            .map(|f| FolderFile {
                id: f.id,
                name: f.name.unwrap_or_default(),
                size: f.file_size,
            })
            .collect())
    }

    /// Creates file `name` of `size` bytes in `folder` for upload (`POST
    /// /folders/{f}/files/local_upload`). The parts must add up to `size`, each address be
    /// https (or http, for a local stand-in), else the answer is refused.
    pub async fn start_local_upload(
        &self,
        _permit: &SendPermit,
        account: &FrameioAccountId,
        folder: &str,
        name: &str,
        size: u64,
    ) -> Result<LocalUpload, FrameioError> {
        let body = json!({ "data": { "name": name, "file_size": size } });
        let created: Data<CreatedWire> = self
            .send(
                Method::POST,
                &["accounts", account.as_str(), "folders", folder, "files", "local_upload"],
                &[],
                Some(serde_json::to_vec(&body).expect("an upload body serializes")),
                BUCKET_LOCAL_UPLOAD,
            )
            .await?;
        let created = created.data;
        let decode = |detail: String| FrameioError::Decode {
            endpoint: "POST local_upload".into(),
            detail,
        };
        let file = FrameioFileId::new(&created.id).map_err(|e| decode(e.to_string()))?;
        let sum: u64 = created.upload_urls.iter().map(|p| p.size).sum();
        if sum != size || created.upload_urls.is_empty() || created.upload_urls.len() > MAX_PARTS {
            return Err(decode(format!(
                "{} part addresses for {sum} bytes, for a file of {size}",
                created.upload_urls.len()
            )));
        }
        let parts = created
            .upload_urls
            .into_iter()
            .map(|p| {
                let plain = (p.url.starts_with("https://") || p.url.starts_with("http://")) && p.url.len() <= 8192;
                plain
                    .then(|| UploadPart {
                        size: p.size,
                        url: Secret::new(p.url),
                    })
                    .ok_or_else(|| decode("a part address is not an http(s) URL".into()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        // Frame.io derives the type; SDK4 sends octet-stream when it has none.
        let media_type = created
            .media_type
            .filter(|m| !m.is_empty() && m.len() <= 255 && m.chars().all(|c| c.is_ascii_graphic()))
            .unwrap_or_else(|| "application/octet-stream".to_owned());
        Ok(LocalUpload {
            file,
            media_type,
            parts,
        })
    }

    /// Whether an uploaded file is whole (`GET /files/{f}/status`).
    pub async fn upload_status(
        &self,
        account: &FrameioAccountId,
        file: &FrameioFileId,
    ) -> Result<UploadStatus, FrameioError> {
        let status: Data<StatusWire> = self
            .send(
                Method::GET,
                &["accounts", account.as_str(), "files", file.as_str(), "status"],
                &[],
                None,
                BUCKET_UPLOAD_STATUS,
            )
            .await?;
        Ok(UploadStatus {
            complete: status.data.upload_complete,
            failed: status.data.upload_failed,
        })
    }

    /// Stacks `files` (oldest first, 2 to 10, all in `folder`) in a new version stack (`POST
    /// /folders/{f}/version_stacks`, 10 a minute): the last is the newest, on top.
    pub async fn create_version_stack(
        &self,
        _permit: &SendPermit,
        account: &FrameioAccountId,
        folder: &str,
        files: &[&FrameioFileId],
    ) -> Result<FrameioVersionStackId, FrameioError> {
        let ids: Vec<&str> = files.iter().map(|f| f.as_str()).collect();
        let body = json!({ "data": { "file_ids": ids } });
        let created: Data<FolderWire> = self
            .send(
                Method::POST,
                &["accounts", account.as_str(), "folders", folder, "version_stacks"],
                &[],
                Some(serde_json::to_vec(&body).expect("a version stack body serializes")),
                BUCKET_VERSION_STACKS,
            )
            .await?;
        FrameioVersionStackId::new(&created.data.id).map_err(|e| FrameioError::Decode {
            endpoint: "POST version_stacks".into(),
            detail: e.to_string(),
        })
    }

    /// Moves `file` into `parent`, a folder or a version stack (`PATCH /files/{f}/move`).
    pub async fn move_file(
        &self,
        _permit: &SendPermit,
        account: &FrameioAccountId,
        file: &FrameioFileId,
        parent: &str,
    ) -> Result<(), FrameioError> {
        let body = json!({ "data": { "parent_id": parent } });
        let _: serde::de::IgnoredAny = self
            .send(
                Method::PATCH,
                &["accounts", account.as_str(), "files", file.as_str(), "move"],
                &[],
                Some(serde_json::to_vec(&body).expect("a move body serializes")),
                BUCKET_VERSION_STACKS,
            )
            .await?;
        Ok(())
    }

    /// Moves `file` to the top of version stack `stack` (`PATCH /version_stacks/{vs}/versions`,
    /// `move_to: "top"`; an experimental route): where a moved-in file lands is not documented.
    pub async fn move_to_top(
        &self,
        _permit: &SendPermit,
        account: &FrameioAccountId,
        stack: &FrameioVersionStackId,
        file: &FrameioFileId,
    ) -> Result<(), FrameioError> {
        let body = json!({ "data": { "target_file_id": file.as_str(), "move_to": "top" } });
        let _: serde::de::IgnoredAny = self
            .send(
                Method::PATCH,
                &[
                    "accounts",
                    account.as_str(),
                    "version_stacks",
                    stack.as_str(),
                    "versions",
                ],
                &[],
                Some(serde_json::to_vec(&body).expect("a reorder body serializes")),
                BUCKET_VERSION_STACKS,
            )
            .await?;
        Ok(())
    }
}
