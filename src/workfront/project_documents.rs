//! The one-way folder's Workfront side: a project's documents with their current versions (what
//! goes to the folder), and a document's file opened as a stream (`transfer::Download`), on the
//! tenant's host with the client's credential.
//!
//! No Workfront documentation gives the download route: `downloadURL` (on DOCU) is read at run
//! time, as a path relative to the tenant's host that carries its own query; anything else (an
//! absolute address, another host) is refused. The length is checked against the version's
//! `docSize` and a cap.

use super::client::WorkfrontClient;
use super::error::WorkfrontError;
use crate::ids::{WorkfrontDocumentId, WorkfrontDocumentVersionId, WorkfrontProjectId};
use crate::transfer::{Download, TransferError};
use serde::Deserialize;
use std::time::Duration;

/// A document on a project, as the folder needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectDocument {
    pub id: WorkfrontDocumentId,
    pub name: String,
    /// `PROJ`, `TASK`, `OPTASK`…: what it is attached to.
    pub obj_code: String,
    pub obj_id: String,
    pub version: Option<WorkfrontDocumentVersionId>,
    pub file_name: Option<String>,
    pub size: Option<u64>,
    /// `FRAMEIO` for documents that came from Frame.io (never copied back).
    pub external_integration: Option<String>,
}

#[derive(Deserialize)]
struct DocumentRow {
    #[serde(rename = "ID")]
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(rename = "docObjCode", default)]
    obj_code: Option<String>,
    #[serde(rename = "objID", default)]
    obj_id: Option<String>,
    #[serde(rename = "currentVersionID", default)]
    current_version: Option<String>,
    #[serde(rename = "currentVersion", default)]
    version: Option<VersionRow>,
    #[serde(rename = "downloadURL", default)]
    download_url: Option<String>,
}

#[derive(Deserialize)]
struct VersionRow {
    #[serde(rename = "fileName", default)]
    file_name: Option<String>,
    #[serde(rename = "docSize", default)]
    size: Option<u64>,
    #[serde(rename = "externalIntegrationType", default)]
    external_integration: Option<String>,
}

const FIELDS: &str = "ID,name,docObjCode,objID,currentVersionID,currentVersion:fileName,currentVersion:docSize,currentVersion:externalIntegrationType";

/// Why a document's file could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum DocumentDownloadError {
    #[error(transparent)]
    Workfront(#[from] WorkfrontError),
    #[error("document {document} has no usable downloadURL ({why})")]
    NoAddress { document: String, why: &'static str },
    #[error(transparent)]
    Transfer(#[from] TransferError),
}

impl WorkfrontClient {
    /// The documents on `project` with their current versions (`GET /docu/search?projectID=`).
    pub async fn project_documents(
        &self,
        project: &WorkfrontProjectId,
    ) -> Result<Vec<ProjectDocument>, WorkfrontError> {
        let rows: Vec<DocumentRow> = self
            .search_all_where(
                "docu",
                FIELDS.to_owned(),
                None,
                &[("projectID", project.to_string())],
                Some,
            )
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let id = WorkfrontDocumentId::new(&r.id).ok()?;
                let version = r.version.unwrap_or(VersionRow {
                    file_name: None,
                    size: None,
                    external_integration: None,
                });
                Some(ProjectDocument {
                    id,
                    name: r.name.unwrap_or_default(),
                    obj_code: r.obj_code.unwrap_or_default(),
                    obj_id: r.obj_id.unwrap_or_default(),
                    version: r.current_version.and_then(|v| WorkfrontDocumentVersionId::new(v).ok()),
                    file_name: version.file_name,
                    size: version.size,
                    external_integration: version.external_integration,
                })
            })
            .collect())
    }

    /// Opens `document`'s current file as a stream, refusing one over `limit` bytes or other than
    /// its `docSize`. `timeout` covers the whole download.
    pub async fn open_document(
        &self,
        document: &WorkfrontDocumentId,
        limit: u64,
        timeout: Duration,
    ) -> Result<Download, DocumentDownloadError> {
        let row: DocumentRow = self
            .get_object("docu", document.as_str(), "ID,downloadURL,currentVersion:docSize")
            .await?;
        let no_address = |why| DocumentDownloadError::NoAddress {
            document: document.to_string(),
            why,
        };
        let path = row
            .download_url
            .filter(|u| !u.is_empty())
            .ok_or_else(|| no_address("none"))?;
        // A path on the tenant's host, never another address (it gets the credential).
        if !path.starts_with('/') || path.starts_with("//") || path.len() > 4096 || path.chars().any(char::is_control) {
            return Err(no_address("not a path on the tenant's host"));
        }
        let url = self.origin().join(&path).map_err(|_| no_address("not a URL path"))?;
        let (status, length, chunks) = self.download_stream(url, timeout, "document download").await?;
        if !status.is_success() {
            return Err(TransferError::Refused {
                status: status.as_u16(),
            }
            .into());
        }
        let expected = row.version.and_then(|v| v.size);
        if let (Some(declared), Some(size)) = (length, expected) {
            if declared != size {
                return Err(TransferError::Broken(format!(
                    "the download declares {declared} bytes, the version {size}"
                ))
                .into());
            }
        }
        Ok(Download::checked(length.or(expected), limit, chunks)?)
    }
}
