//! Decisions: may this user do this to this object, and why. Lowest wins: what a user may do is
//! capped both by their access level's setting for the object's type and by the permission they
//! hold on the object (shared, owned or inherited); neither can lift the other.

use super::levels::{LevelSetting, ObjectType};
use super::sharing::{grants, Grant, Permission, SecuredObject, Subject};
use crate::core::model::CollaboratorRole;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    View,
    Contribute,
    Manage,
    AddDocument,
    AddTask,
    Delete,
}

impl Action {
    fn label(self) -> &'static str {
        match self {
            Action::View => "viewing",
            Action::Contribute => "contributing",
            Action::Manage => "managing",
            Action::AddDocument => "adding a document",
            Action::AddTask => "adding a task",
            Action::Delete => "deleting",
        }
    }

    /// The permission on the object the action needs.
    fn permission(self) -> Permission {
        match self {
            Action::View => Permission::View,
            Action::Contribute | Action::AddDocument | Action::AddTask => Permission::Contribute,
            Action::Manage | Action::Delete => Permission::Manage,
        }
    }

    /// The access-level setting the action needs, and on which object type: adding a document
    /// needs Edit on Documents whatever it is added to (Workfront's stated requirement).
    fn level(self, object: ObjectType) -> (ObjectType, LevelSetting) {
        match self {
            Action::View => (object, LevelSetting::View),
            Action::Contribute | Action::Manage | Action::Delete => (object, LevelSetting::Edit),
            Action::AddDocument => (ObjectType::Documents, LevelSetting::Edit),
            Action::AddTask => (ObjectType::Tasks, LevelSetting::Edit),
        }
    }

    /// The `forbiddenActions` value that withdraws this action from a share.
    fn forbidden_code(self) -> Option<&'static str> {
        match self {
            Action::AddDocument => Some("ADD_DOCUMENTS"),
            Action::AddTask => Some("ADD_TASKS"),
            _ => None,
        }
    }
}

/// The rule that decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Allowed: the level and a grant both suffice.
    LevelAndPermission,
    /// Allowed: System Administrators may do everything.
    SystemAdministrator,
    /// Allowed: the delete quirk (a child of something the user may delete).
    DeleteQuirk,
    /// Denied: the user is deactivated.
    Inactive,
    /// Denied (gate): the user is not flagged as a Frame.io user.
    NotFlagged,
    /// Denied: the access level's setting is too low (lowest wins).
    AccessLevel,
    /// Denied: no grant, or none high enough, on the object.
    Permission,
    /// Denied: every sufficient grant forbids the action.
    ForbiddenAction,
}

/// A verdict and the words that explain it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub allowed: bool,
    pub rule: Rule,
    pub explanation: String,
}

impl Decision {
    fn allow(rule: Rule, explanation: String) -> Self {
        Self {
            allowed: true,
            rule,
            explanation: format!("allowed: {explanation}"),
        }
    }

    fn deny(rule: Rule, explanation: String) -> Self {
        Self {
            allowed: false,
            rule,
            explanation: format!("denied: {explanation}"),
        }
    }
}

/// May `subject` do `action` to `object`?
pub fn can(subject: &Subject, action: Action, object: &SecuredObject) -> Decision {
    if !subject.is_active {
        return Decision::deny(Rule::Inactive, format!("{} is deactivated in Workfront", subject.name));
    }
    if subject.level.is_system_administrator() {
        return Decision::allow(
            Rule::SystemAdministrator,
            "System Administrators may do everything".into(),
        );
    }
    let direct = can_directly(subject, action, object);
    if action != Action::Delete || direct.allowed || direct.rule != Rule::AccessLevel {
        return direct;
    }
    // The delete quirk: a level that forbids deleting this type does not stop the user from
    // deleting it as part of a containing object they may delete.
    let mut ancestor = object.parent.as_deref();
    while let Some(parent) = ancestor {
        let verdict = can_directly(subject, Action::Delete, parent);
        if verdict.allowed {
            return Decision::allow(
                Rule::DeleteQuirk,
                format!(
                    "{} does not allow deleting {}, but {} is contained in {}, which may be deleted ({})",
                    subject.level.describe(),
                    object.kind.label(),
                    object.describe(),
                    parent.describe(),
                    verdict.explanation.trim_start_matches("allowed: ")
                ),
            );
        }
        ancestor = parent.parent.as_deref();
    }
    direct
}

fn can_directly(subject: &Subject, action: Action, object: &SecuredObject) -> Decision {
    let (level_type, level_needed) = action.level(object.kind);
    let setting = subject.level.setting(level_type);
    if setting < level_needed {
        let note = subject
            .level
            .note(level_type)
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        return Decision::deny(
            Rule::AccessLevel,
            format!(
                "{} grants {setting} on {}{note}; {} needs {level_needed}",
                subject.level.describe(),
                level_type.label(),
                action.label()
            ),
        );
    }
    let all = grants(subject, object);
    let needed = action.permission();
    let sufficient: Vec<&Grant> = all.iter().filter(|g| g.permission >= needed).collect();
    if sufficient.is_empty() {
        return Decision::deny(
            Rule::Permission,
            match all.iter().max_by_key(|g| g.permission) {
                None => format!(
                    "{} has no permission on {}; {} needs {needed}",
                    subject.name,
                    object.describe(),
                    action.label()
                ),
                Some(best) => format!(
                    "the highest permission on {} is {} ({}); {} needs {needed}",
                    object.describe(),
                    best.permission,
                    best.source,
                    action.label()
                ),
            },
        );
    }
    let usable = match action.forbidden_code() {
        Some(code) => sufficient.iter().copied().find(|g| !g.forbidden.contains(code)),
        None => sufficient.first().copied(),
    };
    match usable {
        Some(grant) => Decision::allow(
            Rule::LevelAndPermission,
            format!(
                "{} grants {setting} on {}, and {} gives {} on {}",
                subject.level.describe(),
                level_type.label(),
                grant.source,
                grant.permission,
                object.describe()
            ),
        ),
        None => {
            let code = action.forbidden_code().unwrap_or_default();
            Decision::deny(
                Rule::ForbiddenAction,
                format!(
                    "{} is forbidden ({code}) by every grant that would allow it: {}",
                    action.label(),
                    sufficient
                        .iter()
                        .map(|g| g.source.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            )
        }
    }
}

/// The F6 gate: may `subject` send a Frame.io asset to `project` for review? All must hold:
/// 1. the user is active and flagged as a Frame.io user;
/// 2. their access level grants Edit on Documents;
/// 3. their permission on the project (shared, owned, or inherited from a portfolio or program) is
///    Contribute or higher;
/// 4. that grant does not forbid `ADD_DOCUMENTS`.
///
/// System Administrators pass 2–4. Every denial names the rule that failed.
pub fn may_submit_asset(subject: &Subject, project: &SecuredObject) -> Decision {
    if subject.is_active && !subject.frameio_flag {
        return Decision::deny(
            Rule::NotFlagged,
            format!(
                "{} is not flagged as a Frame.io user (\"Add to projects in Frame.io\" is not Yes)",
                subject.name
            ),
        );
    }
    can(subject, Action::AddDocument, project)
}

/// The Frame.io role a collaborator gets from Workfront's access rules (`role = "from_access"`):
/// Manage or Contribute on the project → editor, View → commenter. A user who may not even view
/// the project gets no role; the decision that says why is returned instead.
pub fn collaborator_role(subject: &Subject, project: &SecuredObject) -> Result<CollaboratorRole, Decision> {
    if can(subject, Action::Contribute, project).allowed {
        // Manage implies Contribute: both map to editor.
        return Ok(CollaboratorRole::Editor);
    }
    let view = can(subject, Action::View, project);
    if view.allowed {
        Ok(CollaboratorRole::Commenter)
    } else {
        Err(view)
    }
}
