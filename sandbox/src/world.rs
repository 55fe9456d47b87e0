//! The sandbox's world: what its Workfront and Frame.io hold at start, read from `fixtures/`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct World {
    pub workfront: WorkfrontWorld,
    pub frameio: FrameioWorld,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkfrontWorld {
    /// The API key the sandbox accepts.
    pub api_key: String,
    #[serde(default)]
    pub groups: Vec<serde_json::Value>,
    /// Rows in Workfront's own shape: `ID`, `name`, `groupID`, `status`, `lastUpdateDate`.
    pub projects: Vec<ProjectRow>,
    #[serde(default)]
    pub users: Vec<serde_json::Value>,
    /// Access levels (`ACSLVL` rows), for the access rules.
    #[serde(default)]
    pub access_levels: Vec<serde_json::Value>,
    /// Tasks (`TASK` rows): `ID`, `name`, `projectID`, `status` (`NEW`, `INP`, `CPL`),
    /// `lastUpdateDate`.
    #[serde(default)]
    pub tasks: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectRow {
    #[serde(rename = "ID")]
    pub id: String,
    pub name: String,
    #[serde(rename = "groupID", default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(rename = "lastUpdateDate")]
    pub last_update_date: String,
    /// The team, as `projectUsers:userID` returns it.
    #[serde(rename = "projectUsers", default, skip_serializing_if = "Vec::is_empty")]
    pub project_users: Vec<ProjectUserRow>,
    /// The project's shares (`accessRules:*`), for the access rules.
    #[serde(rename = "accessRules", default, skip_serializing_if = "Vec::is_empty")]
    pub access_rules: Vec<serde_json::Value>,
    /// Custom field values, by `DE:<name>`, top-level as `fields=DE:<name>` returns them.
    #[serde(flatten)]
    pub custom: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectUserRow {
    #[serde(rename = "userID")]
    pub user_id: String,
}

impl ProjectRow {
    /// A current project in `group`, last updated on a fixed day before any test runs.
    pub fn in_group(id: impl Into<String>, name: impl Into<String>, group: &str) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            group_id: Some(group.to_owned()),
            status: Some("CUR".into()),
            last_update_date: "2026-11-01T10:00:00:000+0000".into(),
            project_users: Vec::new(),
            access_rules: Vec::new(),
            custom: serde_json::Map::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameioWorld {
    /// The developer token the sandbox accepts for every account.
    pub token: String,
    pub user: FrameioUser,
    pub accounts: Vec<FrameioAccount>,
    /// More tokens, each reaching only the accounts it lists (group connections' tokens).
    #[serde(default)]
    pub other_tokens: Vec<OtherToken>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OtherToken {
    pub token: String,
    pub user: FrameioUser,
    pub account_ids: Vec<String>,
    /// A legacy developer token (needs `x-frameio-legacy-token-auth: true`); `false` for an IMS
    /// access token, which is a plain bearer token.
    #[serde(default = "legacy_default")]
    pub legacy: bool,
}

fn legacy_default() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FrameioUser {
    pub id: String,
    pub email: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FrameioAccount {
    pub id: String,
    pub display_name: String,
    pub workspaces: Vec<FrameioWorkspace>,
    /// The account's users (its directory).
    #[serde(default)]
    pub users: Vec<FrameioUser>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FrameioWorkspace {
    pub id: String,
    pub name: String,
}

/// The demo's world, compiled in so `demo` works from any folder.
pub const DEMO_WORLD_JSON: &str = include_str!("../../fixtures/demo-world.json");

impl World {
    pub fn demo() -> Self {
        serde_json::from_str(DEMO_WORLD_JSON).expect("fixtures/demo-world.json is a valid world")
    }

    /// The demo world's accounts and credentials with `n` generated projects instead of its own,
    /// for tests and benchmarks that need a given size.
    pub fn generated(n: usize) -> Self {
        let mut world = Self::demo();
        world.workfront.projects = (0..n)
            .map(|i| ProjectRow {
                id: format!("{:032x}", 0x5d00_0000_0000u64 + i as u64),
                name: format!("Generated project {i:05}"),
                group_id: Some("5f1a00000000000000000000000000a1".into()),
                status: Some("CUR".into()),
                last_update_date: "2026-01-05T09:00:00:000+0000".into(),
                project_users: Vec::new(),
                access_rules: Vec::new(),
                custom: serde_json::Map::new(),
            })
            .collect();
        world
    }

    /// A tenant-sized world for benchmarks: `projects` projects spread over `groups` groups (none
    /// connected, so all route to the default account), `users` users of whom every `flag_every`th
    /// is flagged for Frame.io, `members` team members per project, and every user in the default
    /// account's Frame.io directory.
    pub fn scaled(projects: usize, users: usize, flag_every: usize, members: usize, groups: usize) -> Self {
        let mut world = Self::demo();
        let group_id = |g: usize| format!("{:032x}", 0x6a00_0000_0000u64 + g as u64);
        world.workfront.groups = (0..groups)
            .map(|g| serde_json::json!({ "ID": group_id(g), "name": format!("Group {g}"), "parentID": null }))
            .collect();
        let user_id = |u: usize| format!("{:032x}", 0x4e00_0000_0000u64 + u as u64);
        world.workfront.users = (0..users)
            .map(|u| {
                serde_json::json!({
                    "ID": user_id(u), "name": format!("User {u}"), "emailAddr": format!("user{u}@scale.example"),
                    "isActive": true,
                    "DE:Add to projects in Frame.io": if u % flag_every == 0 { "Yes" } else { "No" },
                    "lastUpdateDate": "2026-01-05T09:00:00:000+0000",
                })
            })
            .collect();
        world.workfront.projects = (0..projects)
            .map(|p| ProjectRow {
                id: format!("{:032x}", 0x5d00_0000_0000u64 + p as u64),
                name: format!("Project {p:06}"),
                group_id: Some(group_id(p % groups.max(1))),
                status: Some("CUR".into()),
                last_update_date: "2026-01-05T09:00:00:000+0000".into(),
                // A deterministic spread: member k of project p is user (p * 7 + k * 13) mod users.
                project_users: (0..members)
                    .map(|k| ProjectUserRow {
                        user_id: user_id((p * 7 + k * 13) % users.max(1)),
                    })
                    .collect(),
                access_rules: Vec::new(),
                custom: serde_json::Map::new(),
            })
            .collect();
        let account = &mut world.frameio.accounts[0];
        account.users = (0..users)
            .map(|u| FrameioUser {
                id: format!("f1000000-0000-4000-8000-{u:012x}"),
                email: format!("user{u}@scale.example"),
                name: format!("User {u}"),
            })
            .collect();
        world
    }

    /// The default account and workspace a config should point at.
    pub fn default_target(&self) -> (&str, &str) {
        let account = &self.frameio.accounts[0];
        (&account.id, &account.workspaces[0].id)
    }
}
