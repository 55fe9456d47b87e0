//! Frame.io v4's JSON, as it arrives. Nothing outside `frameio/` sees these types.

use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
pub(super) struct Data<T> {
    pub data: T,
}

#[derive(Deserialize)]
pub(super) struct Page<T> {
    pub data: Vec<T>,
    #[serde(default)]
    pub links: Option<Links>,
}

#[derive(Deserialize)]
pub(super) struct Links {
    pub next: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct ProfileWire {
    pub id: String,
    pub email: Option<String>,
    pub name: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct AccountWire {
    pub id: String,
    pub display_name: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct WorkspaceWire {
    pub id: String,
    pub name: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct ProjectWire {
    pub id: String,
    pub name: String,
    pub workspace_id: Option<String>,
    pub created_at: Option<String>,
    #[serde(default)]
    pub view_url: Option<String>,
    /// With `include=owner`: the user who created it.
    #[serde(default)]
    pub owner: Option<OwnerWire>,
}

#[derive(Deserialize)]
pub(super) struct OwnerWire {
    pub id: String,
}

/// An account's user (`GET /accounts/{a}/users`), or a project's (`GET …/projects/{p}/users`):
/// `{role, user:{id,email,name,active}}`. A flat `{id,email,role}` is read too.
#[derive(Deserialize)]
pub(super) struct MemberWire {
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub user: Option<UserWire>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct UserWire {
    pub id: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub active: Option<bool>,
}

/// `{"data":{"role":…}}`: the project-user PATCH body.
#[derive(Serialize)]
pub(super) struct SetRole<'a> {
    pub data: SetRoleData<'a>,
}

#[derive(Serialize)]
pub(super) struct SetRoleData<'a> {
    pub role: &'a str,
}

/// `{"data":{"name":…}}`: the body that creates a project or a workspace, or renames a project.
#[derive(Serialize)]
pub(super) struct ProjectName<'a> {
    pub data: ProjectNameData<'a>,
}

#[derive(Serialize)]
pub(super) struct ProjectNameData<'a> {
    pub name: &'a str,
}

/// `{"errors":[{"title","detail"}]}`; v2-style `{"message"}` is read too, since proxies and older
/// gateways answer that way.
#[derive(Deserialize, Default)]
pub(super) struct ErrorBody {
    #[serde(default)]
    pub errors: Vec<ErrorItem>,
    #[serde(default)]
    pub message: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct ErrorItem {
    pub title: Option<String>,
    pub detail: Option<String>,
}

impl ErrorBody {
    pub fn summary(&self) -> Option<String> {
        let parts: Vec<String> = self
            .errors
            .iter()
            .map(|e| match (&e.title, &e.detail) {
                (Some(t), Some(d)) => format!("{t}: {d}"),
                (Some(t), None) => t.clone(),
                (None, Some(d)) => d.clone(),
                (None, None) => String::new(),
            })
            .filter(|s| !s.is_empty())
            .chain(self.message.clone())
            .collect();
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

/// A custom action (`…/workspaces/{w}/actions`); `secret` comes only in the create answer.
#[derive(Deserialize)]
pub(super) struct ActionWire {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub secret: Option<String>,
}

#[derive(Serialize)]
pub(super) struct CreateAction<'a> {
    pub data: CreateActionData<'a>,
}

#[derive(Serialize)]
pub(super) struct CreateActionData<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub event: &'a str,
    pub url: &'a str,
}

#[derive(Deserialize)]
pub(super) struct FileWire {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub view_url: Option<String>,
    #[serde(default)]
    pub file_size: Option<u64>,
    #[serde(default)]
    pub media_type: Option<String>,
    /// The folder or version stack the file is in (the API does not say which).
    #[serde(default)]
    pub parent_id: Option<String>,
    /// With `include=media_links.original`; null without download permission or under a
    /// watermark.
    #[serde(default)]
    pub media_links: Option<MediaLinksWire>,
}

#[derive(Deserialize)]
pub(super) struct MediaLinksWire {
    #[serde(default)]
    pub original: Option<MediaLinkWire>,
}

#[derive(Deserialize)]
pub(super) struct MediaLinkWire {
    #[serde(default)]
    pub download_url: Option<String>,
}

/// `GET /version_stacks/{id}`: the stack and its newest file.
#[derive(Deserialize)]
pub(super) struct VersionStackWire {
    pub id: String,
    pub head_version: FileWire,
}

/// A child of a version stack (`GET /version_stacks/{id}/children`): only its id is read.
#[derive(Deserialize)]
pub(super) struct StackChildWire {
    pub id: String,
}
