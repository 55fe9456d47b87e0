//! The review loop's Frame.io calls: the account-level select field that shows a file's review
//! state (its definition, found by name or created once; its values, written per project in
//! bulk), and comments on files (listed to find ours again, created).

use super::client::{FrameioClient, BUCKET_COMMENTS, BUCKET_FIELD_CREATE, BUCKET_METADATA_VALUES};
use super::error::FrameioError;
use crate::ids::{FrameioAccountId, FrameioFileId, FrameioProjectId};
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
    #[serde(default)]
    text: Option<String>,
}

#[derive(Serialize)]
struct LinkWire<'a> {
    start_index: usize,
    end_index: usize,
    url: &'a str,
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
        let comments: Vec<CommentWire> = self
            .list(&["accounts", account.as_str(), "files", file.as_str(), "comments"])
            .await?;
        Ok(comments.into_iter().filter_map(|c| c.text).collect())
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
