use super::*;
use crate::core::model::Target;
use crate::effects::{CreateMirror, Effect};
use crate::effects::{RenameMirror, WriteLink};
use crate::ids::{FrameioAccountId, FrameioWorkspaceId, WorkfrontGroupId};
use crate::timestamp::Timestamp;

fn project(id: &str, updated: i64) -> WorkfrontProject {
    WorkfrontProject {
        id: WorkfrontProjectId::new(id).unwrap(),
        name: format!("Project {id}"),
        group_id: Some(WorkfrontGroupId::new("g1").unwrap()),
        status: None,
        last_update: Some(Timestamp(updated)),
        team: Vec::new(),
        link: None,
    }
}

fn mirrored_in(id: &str, account: &str) -> Mirrored {
    Mirrored {
        target: target(account),
        frameio_project: FrameioProjectId::new(format!("f-{id}")).unwrap(),
        name: format!("Project {id}"),
        url: format!("https://next.frame.io/project/f-{id}"),
        link: None,
    }
}

fn target(account: &str) -> Target {
    Target {
        account: FrameioAccountId::new(account).unwrap(),
        workspace: FrameioWorkspaceId::new("ws").unwrap(),
        via: None,
    }
}

fn routing() -> Routing {
    Routing {
        default: Some(target("acc")),
        ..Routing::default()
    }
}

fn ids(planned: &[Planned]) -> Vec<String> {
    planned
        .iter()
        .map(|p| match &p.effect {
            Effect::CreateMirror(CreateMirror { wf_project, .. }) => wf_project.to_string(),
            other => panic!("a mirror plan planned {other:?}"),
        })
        .collect()
}

fn known(mirrored: &[&str], outbox: &[(&str, KeyState)]) -> Known {
    Known {
        mirrored: mirrored
            .iter()
            .map(|id| (WorkfrontProjectId::new(*id).unwrap(), mirrored_in(id, "acc")))
            .collect(),
        outbox: outbox
            .iter()
            .map(|(id, s)| (format!("create_mirror:{id}"), *s))
            .collect(),
        write_links: false,
    }
}

#[test]
fn every_unmirrored_project_gets_one_create() {
    let projects = [project("a", 30), project("b", 10), project("c", 20)];
    let plan = plan(&projects, Scope::Full, &known(&["b"], &[]), &routing()).unwrap();
    assert_eq!(ids(&plan.enqueue), ["a", "c"]);
    assert_eq!(plan.unchanged, 1);
    assert!(plan.park.is_empty() && plan.gone.is_empty());
}

#[test]
fn what_the_outbox_already_holds_is_not_planned_again() {
    let projects = [project("p", 1), project("d", 1), project("k", 1)];
    let k = known(
        &[],
        &[
            ("p", KeyState::Pending),
            ("d", KeyState::Dead),
            ("k", KeyState::Parked { unroutable: false }),
        ],
    );
    let plan = plan(&projects, Scope::Incremental, &k, &routing()).unwrap();
    assert!(plan.enqueue.is_empty());
    assert_eq!(plan.unchanged, 3);
}

#[test]
fn without_an_account_projects_are_parked_with_the_reason_and_resumed_once_routable() {
    let projects = [project("a", 1)];
    let plan_none = plan(&projects, Scope::Full, &known(&[], &[]), &Routing::default()).unwrap();
    assert!(plan_none.enqueue.is_empty());
    assert_eq!(ids(&plan_none.park), ["a"]);
    assert!(
        plan_none.park[0].reason.contains("no Frame.io account for group g1"),
        "{}",
        plan_none.park[0].reason
    );

    let parked = known(&[], &[("a", KeyState::Parked { unroutable: true })]);
    let still = plan(&projects, Scope::Full, &parked, &Routing::default()).unwrap();
    assert!(still.enqueue.is_empty() && still.park.is_empty());
    let resumed = plan(&projects, Scope::Full, &parked, &routing()).unwrap();
    assert_eq!(ids(&resumed.enqueue), ["a"]);
}

#[test]
fn a_full_sync_reports_gone_projects_and_an_incremental_one_does_not() {
    let projects = [project("a", 1)];
    let k = known(&["a", "z"], &[]);
    assert_eq!(
        plan(&projects, Scope::Full, &k, &routing()).unwrap().gone,
        [WorkfrontProjectId::new("z").unwrap()]
    );
    assert!(plan(&projects, Scope::Incremental, &k, &routing())
        .unwrap()
        .gone
        .is_empty());
}

#[test]
fn an_empty_answer_while_holding_mirrors_aborts() {
    // Every sync reads all projects, so an empty answer is suspicious in either scope.
    for scope in [Scope::Full, Scope::Incremental] {
        let err = plan(&[], scope, &known(&["a", "b"], &[]), &routing()).unwrap_err();
        assert_eq!(err, PlanError::SuspiciouslyEmpty { mirrors: 2 });
    }
    assert!(plan(&[], Scope::Full, &known(&[], &[]), &routing()).is_ok());
}

#[test]
fn duplicate_rows_from_overlapping_pages_plan_once() {
    let projects = [project("a", 1), project("a", 5)];
    let plan = plan(&projects, Scope::Incremental, &known(&[], &[]), &routing()).unwrap();
    assert_eq!(ids(&plan.enqueue), ["a"]);
}

#[test]
fn a_mirrored_project_whose_group_now_routes_elsewhere_is_reported_not_moved() {
    let projects = [project("a", 1), project("b", 1)];
    let mut k = known(&["a", "b"], &[]);
    k.mirrored
        .insert(WorkfrontProjectId::new("b").unwrap(), mirrored_in("b", "old-account"));
    let plan = plan(&projects, Scope::Full, &k, &routing()).unwrap();
    assert!(plan.enqueue.is_empty(), "never moved or duplicated");
    assert_eq!(plan.rerouted.len(), 1);
    assert_eq!(plan.rerouted[0].wf_project.as_str(), "b");
    assert_eq!(plan.rerouted[0].now_routes_to.as_ref().unwrap().account.as_str(), "acc");
}

#[test]
fn a_renamed_workfront_project_renames_its_mirror_once_and_a_hand_rename_is_left_alone() {
    let mut renamed = project("a", 2);
    renamed.name = "Spring launch".into();
    let projects = [renamed, project("b", 1)];
    let k = known(&["a", "b"], &[]);
    let plan = plan(&projects, Scope::Incremental, &k, &routing()).unwrap();
    assert_eq!(plan.enqueue.len(), 1, "{:?}", plan.enqueue);
    let Effect::RenameMirror(RenameMirror {
        wf_project,
        frameio_project,
        from,
        name,
        ..
    }) = &plan.enqueue[0].effect
    else {
        panic!("a rename expected: {:?}", plan.enqueue[0])
    };
    assert_eq!(
        (
            wf_project.as_str(),
            frameio_project.as_str(),
            from.as_str(),
            name.as_str()
        ),
        ("a", "f-a", "Project a", "Spring launch")
    );
    assert_eq!(plan.unchanged, 1);

    // Queued already: not again.
    let mut queued = known(&["a", "b"], &[]);
    queued
        .outbox
        .insert(plan.enqueue[0].effect.key(), KeyState::Parked { unroutable: false });
    assert!(plan_of(&projects, &queued).enqueue.is_empty());

    // The record holds the name we last set, whatever the mirror is called in Frame.io now (a
    // hand rename is not visible here, and needs nothing): the same Workfront name plans nothing.
    let plain = [project("a", 2), project("b", 1)];
    assert!(plan_of(&plain, &k).enqueue.is_empty());
}

#[test]
fn the_link_field_is_written_when_configured_and_not_yet_holding_the_mirrors_address() {
    let projects = [project("a", 1), project("b", 1)];
    let mut k = known(&["a", "b"], &[]);
    assert!(plan_of(&projects, &k).enqueue.is_empty(), "off unless configured");
    k.write_links = true;
    k.mirrored.get_mut(&WorkfrontProjectId::new("b").unwrap()).unwrap().link =
        Some("https://next.frame.io/project/f-b".into());
    let plan = plan_of(&projects, &k);
    assert_eq!(plan.enqueue.len(), 1);
    let Effect::WriteLink(WriteLink { wf_project, url, .. }) = &plan.enqueue[0].effect else {
        panic!("a link expected")
    };
    assert_eq!(
        (wf_project.as_str(), url.as_str()),
        ("a", "https://next.frame.io/project/f-a")
    );
}

#[test]
fn a_create_carries_the_project_its_link_field_names() {
    let mut linked = project("a", 1);
    linked.link = Some("https://next.frame.io/project/f-old/view/x?y=1".into());
    let plan = plan_of(&[linked], &known(&[], &[]));
    let Effect::CreateMirror(CreateMirror { linked, .. }) = &plan.enqueue[0].effect else {
        panic!("a create expected")
    };
    assert_eq!(linked.as_ref().map(|l| l.as_str()), Some("f-old"));
}

fn plan_of(projects: &[WorkfrontProject], known: &Known) -> Plan {
    plan(projects, Scope::Incremental, known, &routing()).unwrap()
}
