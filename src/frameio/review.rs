//! The review loop's Frame.io calls: the account-level select field that shows a file's review
//! state (its definition, found by name or created once; its values, written per project in
//! bulk), comments on files (listed, read one by one, created), and the workspace webhooks that
//! tell of new comments.

use super::client::{FrameioClient, BUCKET_COMMENTS, BUCKET_FIELD_CREATE, BUCKET_METADATA_VALUES, BUCKET_WEBHOOKS};
use super::error::FrameioError;
use crate::ids::{FrameioAccountId, FrameioFileId, FrameioProjectId, FrameioWorkspaceId};
use crate::secret::Secret;
use crate::store::SendPermit;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;

/// A select field definition: its id and its options' ids by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectField {
    pub id: String,
    pub options: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct DefinitionWire {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    field_type: Option<String>,
    #[serde(default)]
    field_configuration: Option<ConfigurationWire>,
}

#[derive(Deserialize)]
struct ConfigurationWire {
    #[serde(default)]
    options: Vec<OptionWire>,
}

#[derive(Deserialize)]
struct OptionWire {
    id: String,
    display_name: String,
}

#[derive(Deserialize)]
struct Data<T> {
    data: T,
}

#[derive(Deserialize)]
struct CommentWire {
    id: String,
    #[serde(default)]
    file_id: Option<String>,
    #[serde(default)]
    text: Option<String>,
    /// Frames, or a timecode with `timestamp_as_timecode=true`.
    #[serde(default)]
    timestamp: Option<serde_json::Value>,
    #[serde(default)]
    owner: Option<OwnerWire>,
    #[serde(default)]
    owner_id: Option<String>,
}

#[derive(Deserialize)]
struct OwnerWire {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

/// A comment on a file, as the review loop reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileComment {
    pub id: String,
    pub file: Option<FrameioFileId>,
    pub text: String,
    /// `00:00:02:12`, or a frame number, when the comment is on a moment.
    pub timecode: Option<String>,
    /// Its author's name (else email, else user id).
    pub author: String,
}

/// The longest comment text kept.
const MAX_COMMENT: usize = 5_000;

fn comment_of(c: CommentWire) -> FileComment {
    let mut text = c.text.unwrap_or_default();
    if text.len() > MAX_COMMENT {
        let mut end = MAX_COMMENT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    let timecode = match c.timestamp {
        Some(serde_json::Value::String(t)) if t.len() <= 32 => Some(t),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let author = c
        .owner
        .and_then(|o| o.name.filter(|n| !n.is_empty()).or(o.email))
        .or(c.owner_id)
        .unwrap_or_else(|| "someone".to_owned());
    FileComment {
        id: c.id,
        file: c.file_id.and_then(|f| FrameioFileId::new(f).ok()),
        text,
        timecode,
        author: author.chars().take(200).collect(),
    }
}

/// A webhook in a workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameioWebhook {
    pub id: String,
    pub name: String,
    pub url: String,
    pub events: Vec<String>,
}

#[derive(Deserialize)]
struct WebhookWire {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    events: Vec<String>,
    #[serde(default)]
    secret: Option<String>,
}

#[derive(Serialize)]
struct LinkWire<'a> {
    start_index: usize,
    end_index: usize,
    url: &'a str,
}

fn webhook_of(w: WebhookWire) -> FrameioWebhook {
    FrameioWebhook {
        id: w.id,
        name: w.name.unwrap_or_default(),
        url: w.url.unwrap_or_default(),
        events: w.events,
    }
}

/// Why a field of that name cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldProblem {
    /// A field of that name exists but is not a select.
    NotASelect(String),
}

fn select_of(d: DefinitionWire) -> SelectField {
    SelectField {
        id: d.id,
        options: d
            .field_configuration
            .map(|c| c.options.into_iter().map(|o| (o.display_name, o.id)).collect())
            .unwrap_or_default(),
    }
}

impl FrameioClient {
    /// The account's field definition named `name`, if any (several: the oldest listed).
    pub async fn select_field(
        &self,
        account: &FrameioAccountId,
        name: &str,
    ) -> Result<Result<Option<SelectField>, FieldProblem>, FrameioError> {
        let definitions: Vec<DefinitionWire> = self
            .list(&["accounts", account.as_str(), "metadata", "field_definitions"])
            .await?;
        let Some(found) = definitions.into_iter().find(|d| d.name.as_deref() == Some(name)) else {
            return Ok(Ok(None));
        };
        if found.field_type.as_deref() != Some("select") {
            return Ok(Err(FieldProblem::NotASelect(found.field_type.unwrap_or_default())));
        }
        Ok(Ok(Some(select_of(found))))
    }

    /// Creates an account-level select field `name` with `options` (not added to by users).
    pub async fn create_select_field(
        &self,
        _permit: &SendPermit,
        account: &FrameioAccountId,
        name: &str,
        options: &[&str],
    ) -> Result<SelectField, FrameioError> {
        let body = json!({ "data": {
            "field_type": "select", "name": name,
            "field_configuration": {
                "enable_add_new": false,
                "options": options.iter().map(|o| json!({ "display_name": o })).collect::<Vec<_>>(),
            }
        }});
        let created: Data<DefinitionWire> = self
            .send(
                Method::POST,
                &["accounts", account.as_str(), "metadata", "field_definitions"],
                &[],
                Some(serde_json::to_vec(&body).expect("a field body serializes")),
                BUCKET_FIELD_CREATE,
            )
            .await?;
        Ok(select_of(created.data))
    }

    /// Sets select `field` to `option` on `files` of `project`, in one call (10 a minute per
    /// user: callers batch). Setting the same value twice changes nothing.
    pub async fn set_select_values(
        &self,
        _permit: &SendPermit,
        account: &FrameioAccountId,
        project: &FrameioProjectId,
        files: &[&FrameioFileId],
        field: &str,
        option: &str,
    ) -> Result<(), FrameioError> {
        let ids: Vec<&str> = files.iter().map(|f| f.as_str()).collect();
        let body = json!({ "data": {
            "file_ids": ids,
            "values": [{ "field_definition_id": field, "value": [option] }],
        }});
        let _: serde_json::Value = self
            .send(
                Method::PATCH,
                &[
                    "accounts",
                    account.as_str(),
                    "projects",
                    project.as_str(),
                    "metadata",
                    "values",
                ],
                &[],
                Some(serde_json::to_vec(&body).expect("a values body serializes")),
                BUCKET_METADATA_VALUES,
            )
            .await?;
        Ok(())
    }

    /// The texts of the comments on `file`.
    pub async fn comment_texts(
        &self,
        account: &FrameioAccountId,
        file: &FrameioFileId,
    ) -> Result<Vec<String>, FrameioError> {
        Ok(self
            .file_comments(account, file)
            .await?
            .into_iter()
            .map(|c| c.text)
            .collect())
    }

    /// The comments on `file`, with their authors and timecodes.
    pub async fn file_comments(
        &self,
        account: &FrameioAccountId,
        file: &FrameioFileId,
    ) -> Result<Vec<FileComment>, FrameioError> {
        let comments: Vec<CommentWire> = self
            .list_with(
                &["accounts", account.as_str(), "files", file.as_str(), "comments"],
                &[("include", "owner"), ("timestamp_as_timecode", "true")],
            )
            .await?;
        Ok(comments.into_iter().map(comment_of).collect())
    }

    /// One comment (`GET /comments/{id}`), with its file.
    pub async fn comment(&self, account: &FrameioAccountId, id: &str) -> Result<FileComment, FrameioError> {
        let comment: Data<CommentWire> = self
            .send(
                Method::GET,
                &["accounts", account.as_str(), "comments", id],
                &[
                    ("include", "owner".to_owned()),
                    ("timestamp_as_timecode", "true".to_owned()),
                ],
                None,
                BUCKET_COMMENTS,
            )
            .await?;
        Ok(comment_of(comment.data))
    }

    /// The webhooks of a workspace.
    pub async fn webhooks(
        &self,
        account: &FrameioAccountId,
        workspace: &FrameioWorkspaceId,
    ) -> Result<Vec<FrameioWebhook>, FrameioError> {
        let rows: Vec<WebhookWire> = self
            .list(&[
                "accounts",
                account.as_str(),
                "workspaces",
                workspace.as_str(),
                "webhooks",
            ])
            .await?;
        Ok(rows.into_iter().map(webhook_of).collect())
    }

    /// Creates a webhook; returns it and its signing secret (shown only now).
    pub async fn create_webhook(
        &self,
        _permit: &SendPermit,
        account: &FrameioAccountId,
        workspace: &FrameioWorkspaceId,
        name: &str,
        url: &str,
        events: &[&str],
    ) -> Result<(FrameioWebhook, Secret), FrameioError> {
        let body = json!({ "data": { "name": name, "url": url, "events": events } });
        let created: Data<WebhookWire> = self
            .send(
                Method::POST,
                &[
                    "accounts",
                    account.as_str(),
                    "workspaces",
                    workspace.as_str(),
                    "webhooks",
                ],
                &[],
                Some(serde_json::to_vec(&body).expect("a webhook body serializes")),
                BUCKET_WEBHOOKS,
            )
            .await?;
        let mut created = created.data;
        // Shown only now: taken out of the answer at once, into a `Secret`.
        let secret = created
            .secret
            .take()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| FrameioError::Decode {
                endpoint: "POST webhooks".into(),
                detail: "the new webhook came without its secret".into(),
            })?;
        Ok((webhook_of(created), Secret::new(secret)))
    }

    /// Deletes a webhook (one already gone counts as deleted).
    pub async fn delete_webhook(&self, account: &FrameioAccountId, id: &str) -> Result<(), FrameioError> {
        self.delete(&["accounts", account.as_str(), "webhooks", id], BUCKET_WEBHOOKS)
            .await
            .map(|_| ())
    }

    /// Comments on `file` (the whole asset: no timestamp), `link` made clickable where it occurs
    /// in `text`.
    pub async fn create_comment(
        &self,
        _permit: &SendPermit,
        account: &FrameioAccountId,
        file: &FrameioFileId,
        text: &str,
        link: Option<&str>,
    ) -> Result<(), FrameioError> {
        let links: Vec<LinkWire> = link
            .and_then(|url| {
                let start = text.find(url)?;
                let start_index = text[..start].chars().count();
                Some(LinkWire {
                    start_index,
                    end_index: start_index + url.chars().count(),
                    url,
                })
            })
            .into_iter()
            .collect();
        let body = json!({ "data": { "text": text, "links": links } });
        let _: serde_json::Value = self
            .send(
                Method::POST,
                &["accounts", account.as_str(), "files", file.as_str(), "comments"],
                &[],
                Some(serde_json::to_vec(&body).expect("a comment body serializes")),
                BUCKET_COMMENTS,
            )
            .await?;
        Ok(())
    }
}
