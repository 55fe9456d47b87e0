//! Workfront's JSON, as it arrives. Nothing outside `workfront/` sees these types.

use serde::Deserialize;
use serde_json::Value;

/// Every answer is either `{"data": …}` or `{"error": {…}}` — sometimes with HTTP 200.
#[derive(Deserialize)]
pub(super) struct Envelope<T> {
    pub data: Option<T>,
    pub error: Option<ErrorBody>,
}

#[derive(Deserialize, Debug)]
pub(super) struct ErrorBody {
    #[serde(default)]
    pub class: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct ProjectRow {
    #[serde(rename = "ID")]
    pub id: String,
    pub name: Option<String>,
    #[serde(rename = "groupID")]
    pub group_id: Option<String>,
    pub status: Option<String>,
    #[serde(rename = "lastUpdateDate")]
    pub last_update_date: Option<String>,
    /// The team: `projectUsers:userID` asks for each member's `userID`.
    #[serde(rename = "projectUsers", default)]
    pub project_users: Vec<ProjectUserRow>,
    /// The link field, when asked for by name (`DE:<name>`).
    #[serde(flatten)]
    pub rest: serde_json::Map<String, Value>,
}

#[derive(Deserialize)]
pub(super) struct ProjectUserRow {
    #[serde(rename = "userID")]
    pub user_id: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct UserRow {
    #[serde(rename = "ID")]
    pub id: String,
    pub name: Option<String>,
    #[serde(rename = "emailAddr")]
    pub email_addr: Option<String>,
    #[serde(rename = "isActive")]
    pub is_active: Option<bool>,
    #[serde(rename = "lastUpdateDate")]
    pub last_update_date: Option<String>,
    /// Custom fields arrive as top-level `"DE:<name>"` keys when requested by name.
    #[serde(flatten)]
    pub rest: serde_json::Map<String, Value>,
}

#[derive(Deserialize)]
pub(super) struct GroupRow {
    #[serde(rename = "ID")]
    pub id: String,
    pub name: Option<String>,
    #[serde(rename = "parentID")]
    pub parent_id: Option<String>,
}
