//! Workfront writes for asset submissions (F6): uploads (a file streamed as it downloads, or a
//! small `.url` link), a document on a project or task made from one, a new version of a
//! document, and a note saying who sent what. Each create has a look-up that finds it again, so a
//! create whose answer was lost is never repeated blindly: documents carry the Frame.io file of
//! their first version (or, in entries from before files were sent, the interaction) in
//! `extRefID`, later versions carry theirs in their version label, notes carry a marker in their
//! text.

use super::client::decode;
use super::client::WorkfrontClient;
use super::error::WorkfrontError;
use crate::core::model::WorkfrontObject;
use crate::ids::{WorkfrontDocumentId, WorkfrontDocumentVersionId};
use crate::store::SendPermit;
use crate::transfer::Download;
use bytes::Bytes;
use futures_util::stream::{self, StreamExt};
use serde::Deserialize;
use serde_json::json;
use std::future::ready;
use std::time::Duration;

#[derive(Deserialize)]
struct IdRow {
    #[serde(rename = "ID")]
    id: String,
}

/// A document as a look-up reads it.
#[derive(Deserialize)]
struct DocumentRow {
    #[serde(rename = "ID")]
    id: WorkfrontDocumentId,
    #[serde(rename = "extRefID", default)]
    ext_ref: Option<String>,
    #[serde(rename = "currentVersionID", default)]
    current_version: Option<WorkfrontDocumentVersionId>,
}

/// A document version as a look-up reads it.
#[derive(Deserialize)]
struct VersionRow {
    #[serde(rename = "ID")]
    id: WorkfrontDocumentVersionId,
    #[serde(default)]
    version: Option<String>,
}

/// A document found again: its id, its `extRefID`, and its current version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundDocument {
    pub id: WorkfrontDocumentId,
    pub ext_ref: String,
    pub current_version: Option<WorkfrontDocumentVersionId>,
}

/// One version of a document: its id and its label (`version`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundVersion {
    pub id: WorkfrontDocumentVersionId,
    pub label: String,
}

#[derive(Deserialize)]
struct Handle {
    handle: String,
}

/// What a document look-up reads.
const DOCUMENT_FIELDS: &str = "ID,extRefID,currentVersionID";

fn found(row: DocumentRow) -> FoundDocument {
    FoundDocument {
        id: row.id,
        ext_ref: row.ext_ref.unwrap_or_default(),
        current_version: row.current_version,
    }
}

/// The multipart boundary for uploads (never in the uploaded text: it is a link and a name).
const BOUNDARY: &str = "frameio-sync-upload-7f3c9a1e";

/// A file name fit for a multipart header: no quote, no control character.
fn safe_file_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c == '"' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect()
}

impl WorkfrontClient {
    /// The document on `on` made for `ext_ref`, if any.
    pub async fn find_document(
        &self,
        on: &WorkfrontObject,
        ext_ref: &str,
    ) -> Result<Option<FoundDocument>, WorkfrontError> {
        let rows: Vec<DocumentRow> = self
            .search_where(
                "docu",
                &[("objID", on.id().to_owned()), ("extRefID", ext_ref.to_owned())],
                DOCUMENT_FIELDS,
            )
            .await?;
        Ok(rows.into_iter().map(found).find(|d| d.ext_ref == ext_ref))
    }

    /// The documents on `on` whose `extRefID` contains `part` (`extRefID_Mod=contains`): the
    /// documents made from Frame.io files, say, to find a file's siblings in its version stack.
    pub async fn find_documents_containing(
        &self,
        on: &WorkfrontObject,
        part: &str,
    ) -> Result<Vec<FoundDocument>, WorkfrontError> {
        let rows: Vec<DocumentRow> = self
            .search_where(
                "docu",
                &[
                    ("objID", on.id().to_owned()),
                    ("extRefID", part.to_owned()),
                    ("extRefID_Mod", "contains".to_owned()),
                ],
                DOCUMENT_FIELDS,
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(found)
            .filter(|d| d.ext_ref.contains(part))
            .collect())
    }

    /// The versions of `document` (`GET /docv/search?documentID=`).
    pub async fn document_versions(&self, document: &WorkfrontDocumentId) -> Result<Vec<FoundVersion>, WorkfrontError> {
        let rows: Vec<VersionRow> = self
            .search_where("docv", &[("documentID", document.to_string())], "ID,version")
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| FoundVersion {
                id: r.id,
                label: r.version.unwrap_or_default(),
            })
            .collect())
    }

    /// The current version of `document` (`GET /docu/{id}?fields=currentVersionID`).
    pub async fn current_version(
        &self,
        document: &WorkfrontDocumentId,
    ) -> Result<Option<WorkfrontDocumentVersionId>, WorkfrontError> {
        let row: DocumentRow = self.get_object("docu", document.as_str(), DOCUMENT_FIELDS).await?;
        Ok(row.current_version)
    }

    /// Uploads a small file (`POST /upload`, multipart); returns its handle.
    pub async fn upload(
        &self,
        _permit: &SendPermit,
        file_name: &str,
        content: &[u8],
    ) -> Result<String, WorkfrontError> {
        let safe_name = safe_file_name(file_name);
        let mut body = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"uploadedFile\"; filename=\"{safe_name}\"\r\nContent-Type: text/plain\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(content);
        body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
        let handle: Handle = self
            .post(
                &["upload"],
                &[],
                Some((body, format!("multipart/form-data; boundary={BOUNDARY}"))),
            )
            .await?;
        Ok(handle.handle)
    }

    /// Uploads a file as it downloads (`POST /upload`, multipart, part `uploadedFile`); returns its
    /// handle. Memory holds a few chunks whatever the size; `timeout` covers the whole upload.
    pub async fn upload_stream(
        &self,
        _permit: &SendPermit,
        file_name: &str,
        media_type: Option<&str>,
        download: Download,
        timeout: Duration,
    ) -> Result<String, WorkfrontError> {
        // A boundary of its own per upload: a fixed one could occur in a binary file.
        let boundary = {
            use std::hash::{BuildHasher, Hasher};
            let random = |salt: u64| {
                let mut h = std::collections::hash_map::RandomState::new().build_hasher();
                h.write_u64(salt);
                h.finish()
            };
            format!("frameio-sync-{:016x}{:016x}", random(1), random(2))
        };
        let media_type = media_type
            .filter(|m| m.chars().all(|c| c.is_ascii_graphic()))
            .unwrap_or("application/octet-stream");
        let head = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"uploadedFile\"; filename=\"{}\"\r\nContent-Type: {media_type}\r\n\r\n",
            safe_file_name(file_name)
        );
        let tail = format!("\r\n--{boundary}--\r\n");
        let length = download.length.map(|l| head.len() as u64 + l + tail.len() as u64);
        let chunks = stream::once(ready(Ok::<_, std::io::Error>(Bytes::from(head))))
            .chain(download.chunks)
            .chain(stream::once(ready(Ok(Bytes::from(tail)))));
        let url = self.url(&["upload"]);
        let content_type = format!("multipart/form-data; boundary={boundary}");
        let (status, answer) = self
            .exchange_stream(
                url,
                reqwest::Body::wrap_stream(chunks),
                &content_type,
                length,
                timeout,
                "upload",
            )
            .await?;
        let handle: Handle = decode("upload", status, &answer)?;
        Ok(handle.handle)
    }

    /// Creates a document on `on` from an uploaded `handle`, its first version labelled
    /// `version`; returns it.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_document(
        &self,
        _permit: &SendPermit,
        on: &WorkfrontObject,
        name: &str,
        handle: &str,
        file_name: &str,
        version: &str,
        ext_ref: &str,
        description: &str,
    ) -> Result<FoundDocument, WorkfrontError> {
        let updates = json!({
            "name": name,
            "handle": handle,
            "docObjCode": on.obj_code(),
            "objID": on.id(),
            "extRefID": ext_ref,
            "description": description,
            "currentVersion": { "version": version, "fileName": file_name },
        });
        let query = [("updates", updates.to_string()), ("fields", DOCUMENT_FIELDS.to_owned())];
        let row: DocumentRow = self.post(&["document"], &query, None).await?;
        Ok(found(row))
    }

    /// Adds a version to `document` from an uploaded `handle` (`POST /docv`), labelled `version`;
    /// returns the new version's id. Whether Workfront made it the document's current version is
    /// for the caller to read (`current_version`): the API documents no call for this.
    pub async fn add_document_version(
        &self,
        _permit: &SendPermit,
        document: &WorkfrontDocumentId,
        handle: &str,
        file_name: &str,
        version: &str,
    ) -> Result<WorkfrontDocumentVersionId, WorkfrontError> {
        let updates = json!({
            "documentID": document.as_str(),
            "handle": handle,
            "fileName": file_name,
            "version": version,
        });
        let query = [("updates", updates.to_string()), ("fields", "ID,version".to_owned())];
        let row: VersionRow = self.post(&["docv"], &query, None).await?;
        Ok(row.id)
    }

    /// The note on `on` whose text contains `marker`, if any.
    pub async fn find_note(&self, on: &WorkfrontObject, marker: &str) -> Result<Option<String>, WorkfrontError> {
        let rows: Vec<IdRow> = self
            .search_where(
                "note",
                &[
                    ("objID", on.id().to_owned()),
                    ("noteText", marker.to_owned()),
                    ("noteText_Mod", "contains".to_owned()),
                ],
                "ID",
            )
            .await?;
        Ok(rows.into_iter().next().map(|r| r.id))
    }

    /// Adds a note (an update) to `on`; returns its ID.
    pub async fn create_note(
        &self,
        _permit: &SendPermit,
        on: &WorkfrontObject,
        text: &str,
    ) -> Result<String, WorkfrontError> {
        let updates = json!({ "noteObjCode": on.obj_code(), "objID": on.id(), "noteText": text });
        let row: IdRow = self.post(&["note"], &[("updates", updates.to_string())], None).await?;
        Ok(row.id)
    }
}
