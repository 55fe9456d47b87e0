use super::levels::{cell_for, AccessLevel, BuiltinLevel, LevelSetting, License, ObjectType};
use super::sharing::{Accessor, Permission, SecuredObject, Share, Subject};
use super::{can, may_submit_asset, Action, Rule};
use std::collections::{BTreeMap, BTreeSet};

use LevelSetting::{Edit as E, NoAccess as N, View as V};

/// The digest's table, typed in again row by row: (object, Standard, Light, Contributor, External)
/// as (maximum, default) pairs. The module's table must agree with every cell.
const TABLE: [(ObjectType, [(LevelSetting, LevelSetting); 4]); 17] = [
    (ObjectType::Projects, [(E, E), (V, V), (V, V), (N, N)]),
    (ObjectType::Tasks, [(E, E), (V, V), (V, V), (N, N)]),
    (ObjectType::Issues, [(E, E), (E, E), (E, E), (N, N)]),
    (ObjectType::Portfolios, [(E, E), (V, N), (N, N), (N, N)]),
    (ObjectType::Programs, [(E, E), (V, N), (N, N), (N, N)]),
    (ObjectType::Reports, [(E, E), (V, V), (V, V), (V, V)]),
    (ObjectType::Filters, [(E, E), (E, E), (E, E), (N, N)]),
    (ObjectType::Documents, [(E, E), (E, E), (E, E), (V, V)]),
    (ObjectType::Users, [(E, E), (V, V), (V, V), (V, V)]),
    (ObjectType::Teams, [(E, E), (V, V), (V, V), (N, N)]),
    (ObjectType::Templates, [(E, E), (N, N), (N, N), (N, N)]),
    (ObjectType::FinancialData, [(E, E), (N, N), (N, N), (N, N)]),
    (ObjectType::ResourceManagement, [(E, E), (V, V), (N, N), (N, N)]),
    (ObjectType::ScenarioPlanner, [(E, N), (E, N), (N, N), (N, N)]),
    (ObjectType::Boards, [(E, E), (E, E), (E, E), (N, N)]),
    (ObjectType::Home, [(E, E), (E, E), (V, V), (N, N)]),
    (ObjectType::Goals, [(E, E), (E, E), (E, E), (N, N)]),
];

const LICENSES: [License; 4] = [
    License::Standard,
    License::Light,
    License::Contributor,
    License::External,
];
const LEVELS: [BuiltinLevel; 4] = [
    BuiltinLevel::Standard,
    BuiltinLevel::Light,
    BuiltinLevel::Contributor,
    BuiltinLevel::External,
];

#[test]
fn every_cell_of_the_table_has_its_maximum_and_default() {
    assert_eq!(TABLE.len(), ObjectType::ALL.len());
    for (object, cells) in TABLE {
        for (i, (maximum, default)) in cells.into_iter().enumerate() {
            let cell = cell_for(LICENSES[i], object);
            assert_eq!(
                (cell.maximum, cell.default),
                (maximum, default),
                "{object:?} × {:?}",
                LICENSES[i]
            );
            // A built-in level grants its default; a custom level asking for everything gets the maximum.
            assert_eq!(
                AccessLevel::builtin(LEVELS[i]).setting(object),
                default,
                "{object:?} × {:?}",
                LEVELS[i]
            );
            let everything: BTreeMap<_, _> = ObjectType::ALL.into_iter().map(|o| (o, E)).collect();
            assert_eq!(
                AccessLevel::custom("all", LICENSES[i], &everything).setting(object),
                maximum
            );
        }
        assert_eq!(
            AccessLevel::builtin(BuiltinLevel::SystemAdministrator).setting(object),
            E
        );
    }
}

#[test]
fn custom_levels_are_clamped_to_their_license_and_say_so() {
    let requested = BTreeMap::from([
        (ObjectType::Projects, E),
        (ObjectType::Documents, E),
        (ObjectType::Templates, V),
    ]);
    let level = AccessLevel::custom("Reviewers", License::Contributor, &requested);
    assert_eq!(level.setting(ObjectType::Projects), V);
    assert_eq!(level.setting(ObjectType::Documents), E);
    assert_eq!(level.setting(ObjectType::Templates), N);
    assert_eq!(level.setting(ObjectType::Goals), N, "unmentioned types get No access");
    assert_eq!(level.clamped.len(), 2);
    assert_eq!(
        level.note(ObjectType::Projects).unwrap(),
        "it asks for Edit but its license allows at most View"
    );
}

#[test]
fn license_letters_and_level_names_are_read() {
    assert_eq!(License::from_license_type("F"), Some(License::Standard));
    assert_eq!(License::from_license_type("x"), Some(License::External));
    assert_eq!(License::from_license_type("Q"), None);
    assert_eq!(
        BuiltinLevel::from_name("system administrator"),
        Some(BuiltinLevel::SystemAdministrator)
    );
    assert_eq!(
        Permission::from_core_action("LIMITED_EDIT"),
        Some(Permission::Contribute)
    );
    assert_eq!(Permission::from_core_action("DELETE"), Some(Permission::Manage));
    assert_eq!(ObjectType::from_obj_code("docu"), Some(ObjectType::Documents));
}

fn subject(id: &str, level: AccessLevel) -> Subject {
    Subject {
        user_id: id.into(),
        name: id.into(),
        is_active: true,
        frameio_flag: true,
        level,
        teams: BTreeSet::from(["team-1".to_owned()]),
        groups: BTreeSet::from(["group-1".to_owned()]),
        roles: BTreeSet::from(["role-1".to_owned()]),
        company: Some("company-1".into()),
    }
}

fn share(accessor: Accessor, permission: Permission, forbidden: &[&str]) -> Share {
    Share {
        accessor,
        permission,
        forbidden: forbidden.iter().map(|s| s.to_string()).collect(),
    }
}

fn object(kind: ObjectType, id: &str, shares: Vec<Share>, parent: Option<SecuredObject>) -> SecuredObject {
    SecuredObject {
        kind,
        id: id.into(),
        name: id.into(),
        owner: Some("olivia".into()),
        shares,
        parent: parent.map(Box::new),
    }
}

fn project(shares: Vec<Share>) -> SecuredObject {
    object(ObjectType::Projects, "P1", shares, None)
}

fn user(permission: Permission) -> Vec<Share> {
    vec![share(Accessor::User("tony".into()), permission, &[])]
}

#[test]
fn scenario_1_a_level_without_edit_blocks_even_manage_and_edit_does_not_lift_a_view_share() {
    let light = subject("tony", AccessLevel::builtin(BuiltinLevel::Light));
    let verdict = can(&light, Action::Manage, &project(user(Permission::Manage)));
    assert!(!verdict.allowed);
    assert_eq!(verdict.rule, Rule::AccessLevel);
    assert_eq!(
        verdict.explanation,
        "denied: access level Light grants View on Projects; managing needs Edit"
    );
    assert!(!can(&light, Action::Delete, &project(user(Permission::Manage))).allowed);

    let standard = subject("tony", AccessLevel::builtin(BuiltinLevel::Standard));
    let verdict = can(&standard, Action::Manage, &project(user(Permission::View)));
    assert_eq!((verdict.allowed, verdict.rule), (false, Rule::Permission));
    assert!(
        verdict
            .explanation
            .contains("highest permission on project \"P1\" (P1) is View"),
        "{}",
        verdict.explanation
    );
    assert!(can(&standard, Action::View, &project(user(Permission::View))).allowed);
}

#[test]
fn scenario_2_tony_cannot_add_tasks_where_olivia_withheld_it_but_can_elsewhere() {
    let tony = subject("tony", AccessLevel::builtin(BuiltinLevel::Standard));
    let withheld = project(vec![share(
        Accessor::User("tony".into()),
        Permission::Contribute,
        &["ADD_TASKS"],
    )]);
    let verdict = can(&tony, Action::AddTask, &withheld);
    assert_eq!((verdict.allowed, verdict.rule), (false, Rule::ForbiddenAction));
    assert!(verdict.explanation.contains("ADD_TASKS"), "{}", verdict.explanation);
    assert!(can(&tony, Action::AddTask, &project(user(Permission::Contribute))).allowed);
    // He can never exceed his access level: a Light Tony cannot add tasks anywhere.
    let light_tony = subject("tony", AccessLevel::builtin(BuiltinLevel::Light));
    assert_eq!(
        can(&light_tony, Action::AddTask, &project(user(Permission::Manage))).rule,
        Rule::AccessLevel
    );
}

#[test]
fn shares_reach_the_user_through_team_group_role_and_company_and_ownership_is_manage() {
    let tony = subject("tony", AccessLevel::builtin(BuiltinLevel::Standard));
    for accessor in [
        Accessor::Team("team-1".into()),
        Accessor::Group("group-1".into()),
        Accessor::Role("role-1".into()),
        Accessor::Company("company-1".into()),
    ] {
        let p = project(vec![share(accessor.clone(), Permission::Contribute, &[])]);
        assert!(can(&tony, Action::Contribute, &p).allowed, "{accessor:?}");
    }
    let p = project(vec![share(Accessor::Team("other".into()), Permission::Manage, &[])]);
    assert_eq!(can(&tony, Action::View, &p).rule, Rule::Permission);
    let mut owned = project(vec![]);
    owned.owner = Some("tony".into());
    let verdict = can(&tony, Action::Delete, &owned);
    assert!(
        verdict.allowed && verdict.explanation.contains("owner of project"),
        "{}",
        verdict.explanation
    );
}

#[test]
fn shares_are_inherited_down_a_portfolio_project_document_chain() {
    let tony = subject("tony", AccessLevel::builtin(BuiltinLevel::Standard));
    let portfolio = object(ObjectType::Portfolios, "PORT1", user(Permission::Contribute), None);
    let project = object(ObjectType::Projects, "P1", vec![], Some(portfolio));
    let document = object(ObjectType::Documents, "D1", vec![], Some(project.clone()));
    let verdict = can(&tony, Action::Contribute, &document);
    assert!(verdict.allowed, "{}", verdict.explanation);
    assert!(
        verdict
            .explanation
            .contains("on portfolio \"PORT1\" (PORT1), inherited by document"),
        "{}",
        verdict.explanation
    );
    assert!(can(&tony, Action::AddDocument, &project).allowed);
    assert!(
        !can(&tony, Action::Manage, &document).allowed,
        "inheritance grants the same permission, not more"
    );
}

#[test]
fn the_delete_quirk_lets_a_user_delete_children_of_what_they_may_delete() {
    // A custom Standard level that may edit projects but not tasks.
    let level = AccessLevel::custom(
        "No task deletes",
        License::Standard,
        &BTreeMap::from([(ObjectType::Projects, E), (ObjectType::Tasks, V)]),
    );
    let tony = subject("tony", level);
    let parent = object(ObjectType::Projects, "P1", user(Permission::Manage), None);
    let task = object(ObjectType::Tasks, "T1", vec![], Some(parent));
    let verdict = can(&tony, Action::Delete, &task);
    assert_eq!(
        (verdict.allowed, verdict.rule),
        (true, Rule::DeleteQuirk),
        "{}",
        verdict.explanation
    );
    assert!(
        !can(&tony, Action::Manage, &task).allowed,
        "the quirk is about deleting only"
    );
    // Without a deletable parent the level still forbids it.
    let orphan = object(ObjectType::Tasks, "T2", user(Permission::Manage), None);
    assert_eq!(can(&tony, Action::Delete, &orphan).rule, Rule::AccessLevel);
}

#[test]
fn the_gate_for_each_built_in_level_with_and_without_shares() {
    // (level, share on the project, expected verdict, expected rule)
    let cases = [
        (BuiltinLevel::SystemAdministrator, None, true, Rule::SystemAdministrator),
        (
            BuiltinLevel::Standard,
            Some(Permission::Contribute),
            true,
            Rule::LevelAndPermission,
        ),
        (
            BuiltinLevel::Standard,
            Some(Permission::Manage),
            true,
            Rule::LevelAndPermission,
        ),
        (BuiltinLevel::Standard, Some(Permission::View), false, Rule::Permission),
        (BuiltinLevel::Standard, None, false, Rule::Permission),
        (
            BuiltinLevel::Light,
            Some(Permission::Contribute),
            true,
            Rule::LevelAndPermission,
        ),
        (BuiltinLevel::Light, None, false, Rule::Permission),
        (
            BuiltinLevel::Contributor,
            Some(Permission::Manage),
            true,
            Rule::LevelAndPermission,
        ),
        (
            BuiltinLevel::Contributor,
            Some(Permission::View),
            false,
            Rule::Permission,
        ),
        (
            BuiltinLevel::External,
            Some(Permission::Manage),
            false,
            Rule::AccessLevel,
        ),
        (BuiltinLevel::External, None, false, Rule::AccessLevel),
    ];
    for (level, permission, allowed, rule) in cases {
        let alice = subject("tony", AccessLevel::builtin(level));
        let p = project(permission.map(user).unwrap_or_default());
        let verdict = may_submit_asset(&alice, &p);
        assert_eq!(
            (verdict.allowed, verdict.rule),
            (allowed, rule),
            "{level:?} {permission:?}: {}",
            verdict.explanation
        );
    }
    let external = subject("tony", AccessLevel::builtin(BuiltinLevel::External));
    assert_eq!(
        may_submit_asset(&external, &project(user(Permission::Manage))).explanation,
        "denied: access level External grants View on Documents (cannot share documents); adding a document needs Edit"
    );
}

#[test]
fn the_gate_refuses_forbidden_add_documents_inactive_and_unflagged_users() {
    let tony = subject("tony", AccessLevel::builtin(BuiltinLevel::Standard));
    let forbidden = project(vec![share(
        Accessor::User("tony".into()),
        Permission::Manage,
        &["ADD_DOCUMENTS"],
    )]);
    assert_eq!(may_submit_asset(&tony, &forbidden).rule, Rule::ForbiddenAction);
    // A second grant that does not forbid it is enough.
    let mut both = forbidden.clone();
    both.shares
        .push(share(Accessor::Team("team-1".into()), Permission::Contribute, &[]));
    assert!(may_submit_asset(&tony, &both).allowed);

    let mut inactive = tony.clone();
    inactive.is_active = false;
    assert_eq!(
        may_submit_asset(&inactive, &project(user(Permission::Manage))).rule,
        Rule::Inactive
    );
    let mut unflagged = tony.clone();
    unflagged.frameio_flag = false;
    let verdict = may_submit_asset(&unflagged, &project(user(Permission::Manage)));
    assert_eq!(verdict.rule, Rule::NotFlagged);
    assert!(verdict.explanation.contains("not flagged as a Frame.io user"));
    // System Administrators pass rules 2–4, not rule 1.
    let mut admin = subject("tony", AccessLevel::builtin(BuiltinLevel::SystemAdministrator));
    admin.frameio_flag = false;
    assert_eq!(may_submit_asset(&admin, &project(vec![])).rule, Rule::NotFlagged);
}

#[test]
fn collaborator_roles_follow_the_permission_the_rules_give() {
    use super::decide::collaborator_role;
    use crate::core::model::CollaboratorRole::{Commenter, Editor};
    // (level, share on the project, expected role or the rule that denied viewing)
    let cases = [
        (BuiltinLevel::Standard, Some(Permission::Manage), Ok(Editor)),
        (BuiltinLevel::Standard, Some(Permission::Contribute), Ok(Editor)),
        (BuiltinLevel::Standard, Some(Permission::View), Ok(Commenter)),
        (BuiltinLevel::Standard, None, Err(Rule::Permission)),
        // Light may only view projects: lowest wins, a Manage share still makes a commenter.
        (BuiltinLevel::Light, Some(Permission::Manage), Ok(Commenter)),
        (BuiltinLevel::Contributor, Some(Permission::Contribute), Ok(Commenter)),
        (BuiltinLevel::SystemAdministrator, None, Ok(Editor)),
    ];
    for (level, permission, expected) in cases {
        let tony = subject("tony", AccessLevel::builtin(level));
        let shares = permission.map(user).unwrap_or_default();
        let got = collaborator_role(&tony, &project(shares)).map_err(|d| d.rule);
        assert_eq!(got, expected, "{level:?} with {permission:?}");
    }
}
