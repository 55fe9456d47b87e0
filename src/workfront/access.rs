//! What the access rules need from Workfront: the user with their access level and memberships,
//! and the project with its owner, shares and the portfolio and program it inherits from. Answers
//! are cached for a short time, so a burst of checks (one per Frame.io submission) costs few calls.

use super::client::WorkfrontClient;
use super::error::WorkfrontError;
use crate::core::access::levels::{AccessLevel, BuiltinLevel, LevelSetting, License, ObjectType};
use crate::core::access::sharing::{Accessor, Permission, SecuredObject, Share, Subject};
use crate::ids::{WorkfrontProjectId, WorkfrontTaskId, WorkfrontUserId};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

const USER_FIELDS: &str =
    "ID,name,isActive,accessLevelID,roleID,companyID,homeGroupID,homeTeamID,teams:ID,userGroups:groupID";
const LEVEL_FIELDS: &str = "ID,name,isAdmin,licenseType,accessLevelPermissions:*";
const PROJECT_FIELDS: &str = "ID,name,ownerID,portfolioID,programID,accessRules:*";
const PROGRAM_FIELDS: &str = "ID,name,ownerID,portfolioID,accessRules:*";
const PORTFOLIO_FIELDS: &str = "ID,name,ownerID,accessRules:*";
const TASK_FIELDS: &str = "ID,name,projectID,status,accessRules:*";

/// How long fetched records are reused.
pub const DEFAULT_TTL: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum AccessFetchError {
    #[error("Workfront user {0} does not exist (or the API key cannot see it)")]
    NoSuchUser(String),
    #[error("Workfront project {0} does not exist (or the API key cannot see it)")]
    NoSuchProject(String),
    #[error("Workfront task {0} does not exist (or the API key cannot see it)")]
    NoSuchTask(String),
    #[error("Workfront access level {id} ({name:?}): {problem}")]
    UnusableLevel { id: String, name: String, problem: String },
    #[error(transparent)]
    Workfront(#[from] WorkfrontError),
}

#[derive(Deserialize)]
struct IdRow {
    #[serde(rename = "ID")]
    id: String,
}

#[derive(Deserialize)]
struct GroupMembership {
    #[serde(rename = "groupID")]
    group_id: Option<String>,
}

#[derive(Deserialize)]
struct UserRow {
    #[serde(rename = "ID")]
    id: String,
    name: Option<String>,
    #[serde(rename = "isActive")]
    is_active: Option<bool>,
    #[serde(rename = "accessLevelID")]
    access_level_id: Option<String>,
    #[serde(rename = "roleID")]
    role_id: Option<String>,
    #[serde(rename = "companyID")]
    company_id: Option<String>,
    #[serde(rename = "homeGroupID")]
    home_group_id: Option<String>,
    #[serde(rename = "homeTeamID")]
    home_team_id: Option<String>,
    #[serde(default)]
    teams: Vec<IdRow>,
    #[serde(rename = "userGroups", default)]
    user_groups: Vec<GroupMembership>,
    #[serde(flatten)]
    rest: serde_json::Map<String, Value>,
}

/// `forbiddenActions` arrives as a list; accept a comma-separated string too.
#[derive(Deserialize, Default)]
#[serde(untagged)]
enum Actions {
    List(Vec<String>),
    Text(String),
    #[default]
    None,
}

impl Actions {
    fn into_set(self) -> BTreeSet<String> {
        match self {
            Actions::List(list) => list.into_iter().map(|a| a.trim().to_ascii_uppercase()).collect(),
            Actions::Text(text) => text
                .split(',')
                .map(|a| a.trim().to_ascii_uppercase())
                .filter(|a| !a.is_empty())
                .collect(),
            Actions::None => BTreeSet::new(),
        }
    }
}

#[derive(Deserialize)]
struct LevelPermissionRow {
    #[serde(rename = "objObjCode")]
    obj_code: String,
    #[serde(rename = "coreAction")]
    core_action: Option<String>,
}

#[derive(Deserialize)]
struct LevelRow {
    #[serde(rename = "ID")]
    id: String,
    name: Option<String>,
    #[serde(rename = "isAdmin", default)]
    is_admin: bool,
    #[serde(rename = "licenseType")]
    license_type: Option<String>,
    #[serde(rename = "accessLevelPermissions", default)]
    permissions: Vec<LevelPermissionRow>,
}

#[derive(Deserialize)]
struct AccessRuleRow {
    #[serde(rename = "accessorID")]
    accessor_id: String,
    #[serde(rename = "accessorObjCode")]
    accessor_obj_code: String,
    #[serde(rename = "coreAction")]
    core_action: String,
    #[serde(rename = "forbiddenActions", default)]
    forbidden_actions: Option<Actions>,
}

#[derive(Deserialize)]
struct SecuredRow {
    #[serde(rename = "ID")]
    id: String,
    name: Option<String>,
    #[serde(rename = "ownerID")]
    owner_id: Option<String>,
    #[serde(rename = "portfolioID")]
    portfolio_id: Option<String>,
    #[serde(rename = "programID")]
    program_id: Option<String>,
    #[serde(rename = "accessRules", default)]
    access_rules: Vec<AccessRuleRow>,
}

/// A task as the gate reads it.
#[derive(Debug, Clone)]
pub struct SecuredTask {
    pub object: SecuredObject,
    pub project: WorkfrontProjectId,
    pub complete: bool,
}

/// Fetches and caches what the access rules need.
pub struct AccessFetcher {
    client: WorkfrontClient,
    ttl: Duration,
    cache: Mutex<HashMap<String, (Instant, Value)>>,
}

impl AccessFetcher {
    pub fn new(client: WorkfrontClient, ttl: Duration) -> Self {
        Self {
            client,
            ttl,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The user as the rules see them. `flag_field` is the Frame.io flag's custom field.
    pub async fn subject(&self, user: &WorkfrontUserId, flag_field: &str) -> Result<Subject, AccessFetchError> {
        let fields = format!("{USER_FIELDS},{flag_field}");
        let row: UserRow = self
            .fetch("user", user.as_str(), &fields)
            .await
            .map_err(|e| not_found(e, || AccessFetchError::NoSuchUser(user.to_string())))?;
        let level = match &row.access_level_id {
            Some(id) => self.level(id).await?,
            None => {
                return Err(AccessFetchError::UnusableLevel {
                    id: "(none)".into(),
                    name: String::new(),
                    problem: format!("user {} has no accessLevelID", row.id),
                })
            }
        };
        let flag = row.rest.get(flag_field).and_then(Value::as_str).unwrap_or("");
        let mut teams: BTreeSet<String> = row.teams.into_iter().map(|t| t.id).collect();
        teams.extend(row.home_team_id);
        let mut groups: BTreeSet<String> = row.user_groups.into_iter().filter_map(|g| g.group_id).collect();
        groups.extend(row.home_group_id);
        Ok(Subject {
            name: row.name.unwrap_or_else(|| row.id.clone()),
            user_id: row.id,
            is_active: row.is_active.unwrap_or(true),
            frameio_flag: flag.eq_ignore_ascii_case("yes"),
            level,
            teams,
            groups,
            roles: row.role_id.into_iter().collect(),
            company: row.company_id,
        })
    }

    /// The project with its shares and the program and portfolio it inherits from.
    pub async fn project(&self, project: &WorkfrontProjectId) -> Result<SecuredObject, AccessFetchError> {
        let row: SecuredRow = self
            .fetch("proj", project.as_str(), PROJECT_FIELDS)
            .await
            .map_err(|e| not_found(e, || AccessFetchError::NoSuchProject(project.to_string())))?;
        let portfolio = match &row.portfolio_id {
            Some(id) => Some(
                self.container("port", id, PORTFOLIO_FIELDS, ObjectType::Portfolios, None)
                    .await?,
            ),
            None => None,
        };
        let parent = match &row.program_id {
            Some(id) => Some(
                self.container("prgm", id, PROGRAM_FIELDS, ObjectType::Programs, portfolio)
                    .await?,
            ),
            None => portfolio,
        };
        Ok(secured(row, ObjectType::Projects, parent))
    }

    /// A task with its shares, inheriting from its project: the review form may send a file to
    /// one. Returns it with its project and whether it is complete (`status` `CPL`).
    pub async fn task(&self, task: &WorkfrontTaskId) -> Result<SecuredTask, AccessFetchError> {
        #[derive(Deserialize)]
        struct Placement {
            #[serde(rename = "projectID")]
            project_id: Option<String>,
            status: Option<String>,
        }
        let missing = || AccessFetchError::NoSuchTask(task.to_string());
        let row: SecuredRow = self
            .fetch("task", task.as_str(), TASK_FIELDS)
            .await
            .map_err(|e| not_found(e, missing))?;
        let placement: Placement = self
            .fetch("task", task.as_str(), TASK_FIELDS)
            .await
            .map_err(|e| not_found(e, missing))?;
        let project_id = placement
            .project_id
            .and_then(|p| WorkfrontProjectId::new(p).ok())
            .ok_or_else(missing)?;
        let project = self.project(&project_id).await?;
        Ok(SecuredTask {
            project: project_id,
            complete: placement.status.as_deref() == Some("CPL"),
            object: secured(row, ObjectType::Tasks, Some(project)),
        })
    }

    async fn container(
        &self,
        obj: &str,
        id: &str,
        fields: &str,
        kind: ObjectType,
        parent: Option<SecuredObject>,
    ) -> Result<SecuredObject, AccessFetchError> {
        let row: SecuredRow = self.fetch(obj, id, fields).await?;
        // A program names its own portfolio; use it when the project did not.
        let parent = match (parent, &row.portfolio_id) {
            (Some(p), _) => Some(p),
            (None, Some(pid)) if kind == ObjectType::Programs => {
                let port: SecuredRow = self.fetch("port", pid, PORTFOLIO_FIELDS).await?;
                Some(secured(port, ObjectType::Portfolios, None))
            }
            (None, _) => None,
        };
        Ok(secured(row, kind, parent))
    }

    async fn level(&self, id: &str) -> Result<AccessLevel, AccessFetchError> {
        let row: LevelRow = self.fetch("acslvl", id, LEVEL_FIELDS).await?;
        let name = row.name.clone().unwrap_or_default();
        let unusable = |problem: String| AccessFetchError::UnusableLevel {
            id: row.id.clone(),
            name: name.clone(),
            problem,
        };
        if row.is_admin {
            return Ok(AccessLevel::builtin(BuiltinLevel::SystemAdministrator));
        }
        // Built-in levels are used as Workfront defines them; only copies can be customised.
        if let Some(builtin) = BuiltinLevel::from_name(&name) {
            return Ok(AccessLevel::builtin(builtin));
        }
        let letter = row.license_type.clone().unwrap_or_default();
        let license = License::from_license_type(&letter).ok_or_else(|| {
            unusable(format!(
                "unknown licenseType {letter:?} (expected one of F, T, L, C, R, X)"
            ))
        })?;
        let mut requested = BTreeMap::new();
        for permission in &row.permissions {
            let Some(object) = ObjectType::from_obj_code(&permission.obj_code) else {
                continue;
            };
            let setting = match permission
                .core_action
                .as_deref()
                .map(str::to_ascii_uppercase)
                .as_deref()
            {
                Some("EDIT") | Some("DELETE") => LevelSetting::Edit,
                // Access-level settings are Edit, View or No access; a limited edit is not Edit.
                Some("VIEW") | Some("LIMITED_EDIT") => LevelSetting::View,
                None | Some("") | Some("NONE") => LevelSetting::NoAccess,
                Some(other) => {
                    return Err(unusable(format!(
                        "unknown coreAction {other:?} for {}",
                        permission.obj_code
                    )))
                }
            };
            requested.insert(object, setting);
        }
        Ok(AccessLevel::custom(name.clone(), license, &requested))
    }

    async fn fetch<T: DeserializeOwned>(&self, obj: &str, id: &str, fields: &str) -> Result<T, WorkfrontError> {
        let key = format!("{obj}/{id}?{fields}");
        let cached = {
            let cache = self.cache.lock().expect("access cache lock");
            cache
                .get(&key)
                .filter(|(at, _)| at.elapsed() < self.ttl)
                .map(|(_, v)| v.clone())
        };
        let value = match cached {
            Some(value) => value,
            None => {
                let value: Value = self.client.get_object(obj, id, fields).await?;
                self.cache
                    .lock()
                    .expect("access cache lock")
                    .insert(key.clone(), (Instant::now(), value.clone()));
                value
            }
        };
        serde_json::from_value(value).map_err(|e| WorkfrontError::Decode {
            endpoint: key,
            message: e.to_string(),
        })
    }
}

fn not_found(err: WorkfrontError, missing: impl FnOnce() -> AccessFetchError) -> AccessFetchError {
    match err {
        WorkfrontError::NotFound { .. } => missing(),
        other => other.into(),
    }
}

fn secured(row: SecuredRow, kind: ObjectType, parent: Option<SecuredObject>) -> SecuredObject {
    let shares = row
        .access_rules
        .into_iter()
        .filter_map(|rule| {
            let accessor = Accessor::from_wire(&rule.accessor_obj_code, &rule.accessor_id);
            let permission = Permission::from_core_action(&rule.core_action);
            match (accessor, permission) {
                (Some(accessor), Some(permission)) => Some(Share {
                    accessor,
                    permission,
                    forbidden: rule.forbidden_actions.unwrap_or_default().into_set(),
                }),
                _ => {
                    tracing::warn!(
                        object = %row.id,
                        accessor = %rule.accessor_obj_code,
                        core_action = %rule.core_action,
                        "ignoring a share the access rules do not understand"
                    );
                    None
                }
            }
        })
        .collect();
    SecuredObject {
        kind,
        name: row.name.unwrap_or_else(|| row.id.clone()),
        id: row.id,
        owner: row.owner_id,
        shares,
        parent: parent.map(Box::new),
    }
}
