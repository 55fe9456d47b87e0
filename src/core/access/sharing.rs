//! Object permissions (sharing): who was granted what on an object, directly, through a team,
//! group, role or company they belong to, by owning it, or inherited from a parent object.

use super::levels::ObjectType;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// What a share grants. Ordered: `View < Contribute < Manage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    View,
    Contribute,
    Manage,
}

impl Permission {
    /// Workfront's `coreAction`: `VIEW`; `LIMITED_EDIT` is Contribute (third-party evidence);
    /// `EDIT` and `DELETE` are both treated as Manage (unconfirmed which one the UI writes).
    pub fn from_core_action(action: &str) -> Option<Self> {
        Some(match action.trim().to_ascii_uppercase().as_str() {
            "VIEW" => Permission::View,
            "LIMITED_EDIT" => Permission::Contribute,
            "EDIT" | "DELETE" => Permission::Manage,
            _ => return None,
        })
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Permission::View => "View",
            Permission::Contribute => "Contribute",
            Permission::Manage => "Manage",
        })
    }
}

/// Who a share is for (`accessorObjCode`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Accessor {
    User(String),
    Team(String),
    Group(String),
    Role(String),
    Company(String),
}

impl Accessor {
    /// From `accessorObjCode` (USER, TEAMOB, GROUP, ROLE, CMPY) and `accessorID`.
    pub fn from_wire(obj_code: &str, id: &str) -> Option<Self> {
        let id = id.to_owned();
        Some(match obj_code.trim().to_ascii_uppercase().as_str() {
            "USER" => Accessor::User(id),
            "TEAMOB" => Accessor::Team(id),
            "GROUP" => Accessor::Group(id),
            "ROLE" => Accessor::Role(id),
            "CMPY" => Accessor::Company(id),
            _ => return None,
        })
    }
}

impl fmt::Display for Accessor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Accessor::User(id) => write!(f, "the user {id}"),
            Accessor::Team(id) => write!(f, "team {id}"),
            Accessor::Group(id) => write!(f, "group {id}"),
            Accessor::Role(id) => write!(f, "role {id}"),
            Accessor::Company(id) => write!(f, "company {id}"),
        }
    }
}

/// One share (`ACSRUL`) on an object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Share {
    pub accessor: Accessor,
    pub permission: Permission,
    /// `forbiddenActions`, upper-case as Workfront writes them (`ADD_DOCUMENTS`, `ADD_TASKS`, …).
    #[serde(default)]
    pub forbidden: BTreeSet<String>,
}

/// The user whose rights are in question, with everything a share can name them by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    pub user_id: String,
    pub name: String,
    pub is_active: bool,
    /// "Add to projects in Frame.io" = Yes.
    pub frameio_flag: bool,
    pub level: super::levels::AccessLevel,
    #[serde(default)]
    pub teams: BTreeSet<String>,
    #[serde(default)]
    pub groups: BTreeSet<String>,
    #[serde(default)]
    pub roles: BTreeSet<String>,
    pub company: Option<String>,
}

impl Subject {
    /// Whether `accessor` names this user, directly or through a membership.
    pub fn is_named_by(&self, accessor: &Accessor) -> bool {
        match accessor {
            Accessor::User(id) => *id == self.user_id,
            Accessor::Team(id) => self.teams.contains(id),
            Accessor::Group(id) => self.groups.contains(id),
            Accessor::Role(id) => self.roles.contains(id),
            Accessor::Company(id) => self.company.as_ref() == Some(id),
        }
    }
}

/// An object and what secures it: its owner, its shares, and the object that contains it (whose
/// shares it inherits: portfolio → program → project → task or document).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecuredObject {
    pub kind: ObjectType,
    pub id: String,
    pub name: String,
    pub owner: Option<String>,
    #[serde(default)]
    pub shares: Vec<Share>,
    pub parent: Option<Box<SecuredObject>>,
}

impl SecuredObject {
    /// `project "Launch" (PROJ abc)`, for explanations.
    pub fn describe(&self) -> String {
        let kind = match self.kind {
            ObjectType::Projects => "project",
            ObjectType::Portfolios => "portfolio",
            ObjectType::Programs => "program",
            ObjectType::Tasks => "task",
            ObjectType::Documents => "document",
            ObjectType::Issues => "issue",
            _ => "object",
        };
        format!("{kind} {:?} ({})", self.name, self.id)
    }
}

/// Where a user's permission on an object comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub permission: Permission,
    pub forbidden: BTreeSet<String>,
    /// In words: "owner of project …", "shared with team T on portfolio …".
    pub source: String,
}

/// Every grant the user holds on `object`: ownership (Manage), shares naming them, and the same
/// from every ancestor (sharing an object grants the same permission on what it contains).
pub fn grants(subject: &Subject, object: &SecuredObject) -> Vec<Grant> {
    let mut out = Vec::new();
    let mut current = Some(object);
    let mut inherited = false;
    while let Some(obj) = current {
        let via = if inherited {
            format!(", inherited by {}", object.describe())
        } else {
            String::new()
        };
        if obj.owner.as_deref() == Some(subject.user_id.as_str()) {
            out.push(Grant {
                permission: Permission::Manage,
                forbidden: BTreeSet::new(),
                source: format!("owner of {}{via}", obj.describe()),
            });
        }
        for share in obj.shares.iter().filter(|s| subject.is_named_by(&s.accessor)) {
            out.push(Grant {
                permission: share.permission,
                forbidden: share.forbidden.clone(),
                source: format!(
                    "{} shared with {} on {}{via}",
                    share.permission,
                    share.accessor,
                    obj.describe()
                ),
            });
        }
        current = obj.parent.as_deref();
        inherited = true;
    }
    out
}
