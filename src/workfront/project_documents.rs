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
use crate::core::model::{HolderKind, Subfolder, WorkfrontDocument};
use crate::ids::{WorkfrontDocumentId, WorkfrontDocumentVersionId, WorkfrontProjectId, WorkfrontTaskId};
use crate::retry::retry_read;
use crate::transfer::{Download, TransferError};
use serde::Deserialize;
use std::time::Duration;

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
    #[serde(rename = "projectID", default)]
    project: Option<String>,
    #[serde(rename = "currentVersionID", default)]
    current_version: Option<String>,
    #[serde(rename = "currentVersion", default)]
    version: Option<VersionRow>,
    #[serde(rename = "downloadURL", default)]
    download_url: Option<String>,
    #[serde(rename = "extRefID", default)]
    ext_ref: Option<String>,
    #[serde(default)]
    task: Option<NamedRow>,
    #[serde(rename = "opTask", default)]
    issue: Option<NamedRow>,
}

#[derive(Deserialize)]
struct NamedRow {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct StatusRow {
    value: String,
    #[serde(rename = "equatesWith", default)]
    equates_with: Option<String>,
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

const FIELDS: &str = "ID,name,docObjCode,objID,projectID,extRefID,currentVersionID,currentVersion:fileName,currentVersion:docSize,currentVersion:externalIntegrationType";
/// With `folder.include_tasks`: the names of the tasks and issues documents hang on.
const HOLDER_FIELDS: &str = ",task:name,opTask:name";
/// Projects per document search (`projectID_Mod=in`): a query string stays well under 8 KiB.
const PROJECTS_PER_SEARCH: usize = 100;

/// Why a document's file could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum DocumentDownloadError {
    #[error(transparent)]
    Workfront(#[from] WorkfrontError),
    #[error("document {document} has no usable downloadURL ({why})")]
    NoAddress { document: String, why: &'static str },
    #[error(transparent)]
    Transfer(#[from] TransferError),
    #[error("document {document}'s current version is no longer {version}")]
    NotCurrent { document: String, version: String },
}

impl WorkfrontClient {
    /// The documents on `projects` with their current versions (`GET /docu/search?projectID=…&projectID_Mod=in`,
    /// a hundred projects a search). `holders`: read the names of the tasks and issues they
    /// hang on. Documents whose project is not one of `projects` are left out.
    pub async fn project_documents(
        &self,
        projects: &[WorkfrontProjectId],
        holders: bool,
    ) -> Result<Vec<WorkfrontDocument>, WorkfrontError> {
        let mut out = Vec::new();
        let fields = if holders {
            format!("{FIELDS}{HOLDER_FIELDS}")
        } else {
            FIELDS.to_owned()
        };
        for batch in projects.chunks(PROJECTS_PER_SEARCH) {
            let mut filters: Vec<(&str, String)> = batch.iter().map(|p| ("projectID", p.to_string())).collect();
            filters.push(("projectID_Mod", "in".to_owned()));
            let rows: Vec<DocumentRow> = self
                .search_all_where("docu", fields.clone(), None, &filters, Some)
                .await?;
            out.extend(rows.into_iter().filter_map(|r| document_of(r, batch)));
        }
        Ok(out)
    }

    /// The system status each of `group`'s project statuses equates with (`GET
    /// /CSTEM/projectGroupStatuses?groupID=`): custom statuses map to theirs.
    pub async fn project_statuses(
        &self,
        group: &crate::ids::WorkfrontGroupId,
    ) -> Result<std::collections::BTreeMap<String, String>, WorkfrontError> {
        let query = [("groupID", group.to_string())];
        let rows: Vec<StatusRow> = retry_read("CSTEM/projectGroupStatuses", || {
            self.get(&["CSTEM", "projectGroupStatuses"], &query)
        })
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| Some((r.value, r.equates_with.filter(|e| !e.is_empty())?)))
            .collect())
    }

    /// Opens `document`'s current file as a stream, refusing one over `limit` bytes or other than
    /// its `docSize`, or when its current version is not `version` (a newer one came). `timeout`
    /// covers the whole download.
    pub async fn open_document(
        &self,
        document: &WorkfrontDocumentId,
        version: &WorkfrontDocumentVersionId,
        limit: u64,
        timeout: Duration,
    ) -> Result<Download, DocumentDownloadError> {
        let row: DocumentRow = self
            .get_object(
                "docu",
                document.as_str(),
                "ID,downloadURL,currentVersionID,currentVersion:docSize",
            )
            .await?;
        if row.current_version.as_deref() != Some(version.as_str()) {
            return Err(DocumentDownloadError::NotCurrent {
                document: document.to_string(),
                version: version.to_string(),
            });
        }
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

/// A document row as the core's value: its id checked, what it hangs on read from `docObjCode`.
fn document_of(r: DocumentRow, projects: &[WorkfrontProjectId]) -> Option<WorkfrontDocument> {
    let id = WorkfrontDocumentId::new(&r.id).ok()?;
    let project = projects
        .iter()
        .find(|p| r.project.as_deref() == Some(p.as_str()))?
        .clone();
    let version = r.version.unwrap_or(VersionRow {
        file_name: None,
        size: None,
        external_integration: None,
    });
    let obj_id = r.obj_id.unwrap_or_default();
    let holder_name = |h: Option<NamedRow>| {
        h.and_then(|h| h.name)
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| obj_id.clone())
    };
    let holder = |kind, name: Option<NamedRow>, code: &str| match WorkfrontTaskId::new(&obj_id) {
        Ok(id) => Ok(Some(Subfolder {
            obj_code: kind,
            name: holder_name(name),
            id,
        })),
        // An id that could leave its path segment is not a subfolder's.
        Err(_) => Err(code.to_owned()),
    };
    let on = match r.obj_code.as_deref() {
        None | Some("PROJ") => Ok(None),
        Some("TASK") => holder(HolderKind::Task, r.task, "TASK"),
        Some("OPTASK") => holder(HolderKind::Issue, r.issue, "OPTASK"),
        Some(other) => Err(other.to_owned()),
    };
    // This daemon's review documents carry `frameio-file:` in extRefID (add_document.rs).
    let ours = r.ext_ref.as_deref().is_some_and(|e| e.starts_with("frameio-file:"));
    Some(WorkfrontDocument {
        id,
        project,
        name: r.name.unwrap_or_default(),
        on,
        version: r.current_version.and_then(|v| WorkfrontDocumentVersionId::new(v).ok()),
        file_name: version.file_name,
        size: version.size,
        from_frameio: ours || version.external_integration.as_deref() == Some("FRAMEIO"),
    })
}
