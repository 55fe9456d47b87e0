//! Workfront writes for asset submissions (F6): uploads (a file streamed as it downloads, or a
//! small `.url` link), a document on a project made from one, and a note saying who sent what.
//! Each create has a look-up that finds it again, so a create whose answer was lost is never
//! repeated blindly: documents carry the Frame.io file (or, in entries from before files were
//! sent, the interaction) in `extRefID`, notes carry the interaction in their text.

use super::client::decode;
use super::client::WorkfrontClient;
use super::error::WorkfrontError;
use crate::ids::WorkfrontProjectId;
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

#[derive(Deserialize)]
struct Handle {
    handle: String,
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
    /// The document on `project` made for `ext_ref`, if any.
    pub async fn find_document(
        &self,
        project: &WorkfrontProjectId,
        ext_ref: &str,
    ) -> Result<Option<String>, WorkfrontError> {
        let rows: Vec<IdRow> = self
            .search_where(
                "docu",
                &[("projectID", project.to_string()), ("extRefID", ext_ref.to_owned())],
                "ID",
            )
            .await?;
        Ok(rows.into_iter().next().map(|r| r.id))
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

    /// Creates a document on `project` from an uploaded `handle`; returns its ID.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_document(
        &self,
        _permit: &SendPermit,
        project: &WorkfrontProjectId,
        name: &str,
        handle: &str,
        file_name: &str,
        ext_ref: &str,
        description: &str,
    ) -> Result<String, WorkfrontError> {
        let updates = json!({
            "name": name,
            "handle": handle,
            "docObjCode": "PROJ",
            "objID": project.as_str(),
            "extRefID": ext_ref,
            "description": description,
            "currentVersion": { "version": "v1", "fileName": file_name },
        });
        let row: IdRow = self
            .post(&["document"], &[("updates", updates.to_string())], None)
            .await?;
        Ok(row.id)
    }

    /// The note on `project` whose text contains `marker`, if any.
    pub async fn find_note(
        &self,
        project: &WorkfrontProjectId,
        marker: &str,
    ) -> Result<Option<String>, WorkfrontError> {
        let rows: Vec<IdRow> = self
            .search_where(
                "note",
                &[
                    ("objID", project.to_string()),
                    ("noteText", marker.to_owned()),
                    ("noteText_Mod", "contains".to_owned()),
                ],
                "ID",
            )
            .await?;
        Ok(rows.into_iter().next().map(|r| r.id))
    }

    /// Adds a note (an update) to `project`; returns its ID.
    pub async fn create_note(
        &self,
        _permit: &SendPermit,
        project: &WorkfrontProjectId,
        text: &str,
    ) -> Result<String, WorkfrontError> {
        let updates = json!({ "noteObjCode": "PROJ", "objID": project.as_str(), "noteText": text });
        let row: IdRow = self.post(&["note"], &[("updates", updates.to_string())], None).await?;
        Ok(row.id)
    }
}
