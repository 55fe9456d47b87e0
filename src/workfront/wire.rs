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

/// A project row. Read by hand rather than derived: the link field's key (`DE:<name>`) is only
/// known at run time, and `#[serde(flatten)]` would buffer every row (teams included) before
/// reading it, on the path that reads a whole tenant every sync.
pub(super) struct ProjectRow {
    pub id: String,
    pub name: Option<String>,
    pub group_id: Option<String>,
    pub status: Option<String>,
    pub last_update_date: Option<String>,
    /// The team: `projectUsers:userID` asks for each member's `userID`.
    pub project_users: Vec<ProjectUserRow>,
    /// Custom fields asked for by name (`DE:<name>`) that hold text.
    pub custom: Vec<(String, String)>,
}

/// A key of a project row, told apart without allocating (but for custom fields).
enum ProjectKey {
    Id,
    Name,
    GroupId,
    Status,
    LastUpdateDate,
    ProjectUsers,
    Custom(String),
    Other,
}

impl<'de> Deserialize<'de> for ProjectKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Keys;
        impl serde::de::Visitor<'_> for Keys {
            type Value = ProjectKey;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a project field name")
            }
            fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<ProjectKey, E> {
                Ok(match key {
                    "ID" => ProjectKey::Id,
                    "name" => ProjectKey::Name,
                    "groupID" => ProjectKey::GroupId,
                    "status" => ProjectKey::Status,
                    "lastUpdateDate" => ProjectKey::LastUpdateDate,
                    "projectUsers" => ProjectKey::ProjectUsers,
                    custom if custom.starts_with("DE:") => ProjectKey::Custom(custom.to_owned()),
                    _ => ProjectKey::Other,
                })
            }
        }
        d.deserialize_identifier(Keys)
    }
}

impl<'de> Deserialize<'de> for ProjectRow {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Rows;
        impl<'de> serde::de::Visitor<'de> for Rows {
            type Value = ProjectRow;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a project row")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<ProjectRow, A::Error> {
                let mut id = None;
                let mut row = ProjectRow {
                    id: String::new(),
                    name: None,
                    group_id: None,
                    status: None,
                    last_update_date: None,
                    project_users: Vec::new(),
                    custom: Vec::new(),
                };
                while let Some(key) = map.next_key::<ProjectKey>()? {
                    match key {
                        ProjectKey::Id => id = Some(map.next_value()?),
                        ProjectKey::Name => row.name = map.next_value()?,
                        ProjectKey::GroupId => row.group_id = map.next_value()?,
                        ProjectKey::Status => row.status = map.next_value()?,
                        ProjectKey::LastUpdateDate => row.last_update_date = map.next_value()?,
                        ProjectKey::ProjectUsers => {
                            row.project_users = map.next_value::<Option<Vec<ProjectUserRow>>>()?.unwrap_or_default()
                        }
                        ProjectKey::Custom(field) => {
                            if let Value::String(text) = map.next_value::<Value>()? {
                                row.custom.push((field, text));
                            }
                        }
                        ProjectKey::Other => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                row.id = id.ok_or_else(|| serde::de::Error::missing_field("ID"))?;
                Ok(row)
            }
        }
        d.deserialize_map(Rows)
    }
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
