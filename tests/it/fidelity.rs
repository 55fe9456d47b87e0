//! Mirror fidelity and recovery (issue 18), end to end on the sandbox: Workfront renames reach
//! the mirror and a hand rename is left alone; the link field is written once, and a project
//! whose form lacks it is parked once; a wiped state dir and a first install adopt what exists
//! (by link, by name) with no create and no removal, and a duplicate name is parked.

use crate::collaborators::{names, person, project_ids, wait_for_names};
use crate::helpers::{wait_until, TestApp};
use frameio_sync::ids::WorkfrontProjectId;
use frameio_sync::store::{EntryState, MirrorOrigin, MirrorRecord, Store};
use frameio_sync_sandbox::{Limits, MissingField, World};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);
const LINK_FIELD: &str = "DE:Frame.io project";
/// The group every generated project is in.
const GROUP: &str = "5f1a00000000000000000000000000a1";

fn mirror_of(store: &Store, wf: &str) -> Option<MirrorRecord> {
    store.mirror(&WorkfrontProjectId::new(wf).unwrap()).unwrap()
}

fn frameio_name(app: &TestApp, frameio_project: &str) -> String {
    app.sandbox
        .frameio_projects()
        .into_iter()
        .find(|p| p.id == frameio_project)
        .map(|p| p.name)
        .unwrap_or_default()
}

/// Waits for `n` more syncs (polls) to be recorded.
async fn polls(app: &TestApp, n: u64) {
    let store = app.store().clone();
    let from = store.last_sync().unwrap().map_or(0, |s| s.seq);
    wait_until(&format!("{n} more polls"), WAIT, || {
        store.last_sync().unwrap().is_some_and(|s| s.seq >= from + n)
    })
    .await;
}

/// Entries parked with a reason containing `part`.
fn parked_with(store: &Store, part: &str) -> Vec<String> {
    store
        .outbox_entries()
        .unwrap()
        .into_iter()
        .filter_map(|e| match e.state {
            EntryState::Parked { reason, .. } if reason.contains(part) => Some(reason),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_workfront_rename_reaches_the_mirror_and_a_hand_rename_is_left_alone() {
    let app = TestApp::spawn(World::generated(2), Limits::unlimited()).await;
    app.wait_for_mirrors(2).await;
    let p = project_ids(&app);
    let store = app.store().clone();
    let mirror = mirror_of(&store, &p[0]).unwrap().frameio_project.to_string();

    app.sandbox.upsert_workfront_project_in(&p[0], "Spring launch", GROUP);
    wait_until("the rename in Frame.io and in the record", WAIT, || {
        frameio_name(&app, &mirror) == "Spring launch" && mirror_of(&store, &p[0]).unwrap().name == "Spring launch"
    })
    .await;
    assert_eq!(app.sandbox.counts().frameio_renames, 1);
    assert_eq!(app.sandbox.frameio_projects().len(), 2, "renamed, not re-created");

    // Someone renames the mirror by hand: polls leave it alone.
    app.sandbox
        .rename_frameio_project(&mirror, "Spring launch (client cut)");
    polls(&app, 3).await;
    assert_eq!(frameio_name(&app, &mirror), "Spring launch (client cut)");
    assert_eq!(app.sandbox.counts().frameio_renames, 1);

    // Until the Workfront name changes again.
    app.sandbox.upsert_workfront_project_in(&p[0], "Summer launch", GROUP);
    wait_until("the second rename", WAIT, || {
        frameio_name(&app, &mirror) == "Summer launch"
    })
    .await;
    assert_eq!(app.sandbox.counts().frameio_renames, 2);
    // The other project's mirror was never touched.
    let other = mirror_of(&store, &p[1]).unwrap();
    assert_eq!(frameio_name(&app, other.frameio_project.as_str()), other.name);
}

/// The link field is written once per mirror; a project whose custom form lacks the field is
/// parked once with the reason, and never written again by later polls. Both ways Workfront may
/// treat such a write (refuse it, or take it and keep nothing) are served.
async fn link_field_written_once(missing: MissingField) {
    let mut app = TestApp::prepare(World::generated(3), Limits::unlimited()).await;
    app.settings.workfront.link_field = Some(LINK_FIELD.into());
    let p = project_ids(&app);
    app.sandbox.set_custom_form(&[LINK_FIELD], &[&p[2]], missing);
    app.start();
    app.wait_for_mirrors(3).await;
    let store = app.store().clone();
    let sandbox = &app.sandbox;
    wait_until("two links written and one parked", WAIT, || {
        (0..2).all(|i| {
            let mirror = mirror_of(&store, &p[i]);
            mirror.is_some_and(|m| {
                sandbox.workfront_project_field(&p[i], LINK_FIELD).as_deref() == Some(m.url().as_str())
                    && m.link.as_deref() == Some(m.url().as_str())
            })
        }) && parked_with(&store, "is not on the custom form").len() == 1
    })
    .await;
    let url = mirror_of(&store, &p[0]).unwrap().url();
    assert!(url.starts_with("https://next.frame.io/project/"), "{url}");
    let reason = &parked_with(&store, "is not on the custom form")[0];
    assert!(reason.contains(&p[2]) && reason.contains(LINK_FIELD), "{reason}");
    let writes = app.sandbox.counts().workfront_project_writes;
    assert_eq!(writes, 3, "one write per project");

    polls(&app, 3).await;
    app.resync_and_wait().await;
    assert_eq!(app.sandbox.counts().workfront_project_writes, writes, "written once");
    assert_eq!(parked_with(&store, "is not on the custom form").len(), 1);
    assert_eq!(app.sandbox.workfront_project_field(&p[2], LINK_FIELD), None);

    // `status` says so, once, with the project's address in Workfront.
    let config = app.config_path.clone();
    let output = tokio::task::spawn_blocking(move || crate::cli::cli(&config, &["status"]))
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let address = format!("(Workfront: {}/project/{})", app.sandbox.workfront_url, p[2]);
    assert_eq!(text.matches("is not on the custom form").count(), 1, "{text}");
    assert!(text.contains(&address), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_link_field_is_written_once_and_a_formless_project_is_parked_once_when_workfront_ignores_it() {
    link_field_written_once(MissingField::Ignore).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_link_field_is_written_once_and_a_formless_project_is_parked_once_when_workfront_refuses_it() {
    link_field_written_once(MissingField::Refuse).await;
}

/// A lost state dir: the next start adopts every mirror (by link with the field set, by name
/// without), makes no create and removes no one; collaborators found on the adopted mirrors are
/// recorded as ours, so a later deactivation still removes them.
async fn a_wiped_state_dir_duplicates_nothing(with_link: bool) {
    let mut app = TestApp::prepare(World::generated(3), Limits::unlimited()).await;
    app.settings.collaborators.policy.max_removal_percent = 100;
    app.settings.collaborators.directory_refresh = Duration::from_millis(200);
    if with_link {
        app.settings.workfront.link_field = Some(LINK_FIELD.into());
        app.sandbox.set_custom_form(&[LINK_FIELD], &[], MissingField::Refuse);
    }
    let p = project_ids(&app);
    person(&app, "alice", true, true, true);
    person(&app, "bob", true, true, true);
    app.sandbox.set_team(&p[0], &["alice", "bob"]);
    app.start();
    app.wait_for_mirrors(3).await;
    wait_for_names(&app, &p[0], &["alice", "bob"]).await;
    if with_link {
        let store = app.store().clone();
        wait_until("the links", WAIT, || {
            p.iter()
                .all(|wf| mirror_of(&store, wf).is_some_and(|m| m.link.is_some()))
        })
        .await;
    }
    // A mirror renamed by hand: found by link still; by name it no longer matches, so only the
    // link can find it (the by-name run leaves this project's name alone).
    if with_link {
        let renamed = mirror_of(app.store(), &p[1]).unwrap().frameio_project.to_string();
        app.sandbox.rename_frameio_project(&renamed, "Renamed by hand");
    }
    app.stop().await;
    let before = app.sandbox.counts();
    drop(app.take_store());
    std::fs::remove_dir_all(&app.settings.state.dir).unwrap();

    app.start();
    app.wait_for_mirrors(3).await;
    let store = app.store().clone();
    wait_until("the outbox drained", WAIT, || {
        let c = store.outbox_counts().unwrap();
        c.pending == 0 && store.last_sync().unwrap().is_some()
    })
    .await;
    let after = app.sandbox.counts();
    assert_eq!(
        after.frameio_creates, before.frameio_creates,
        "no create after the wipe"
    );
    assert_eq!(after.frameio_user_deletes, 0, "no removal");
    assert_eq!(
        after.frameio_user_patches, before.frameio_user_patches,
        "no add sent again"
    );
    assert_eq!(after.frameio_renames, 0, "nothing renamed");
    assert_eq!(app.sandbox.frameio_projects().len(), 3);
    let origin = if with_link {
        MirrorOrigin::AdoptedByLink
    } else {
        MirrorOrigin::AdoptedByName
    };
    for wf in &p {
        assert_eq!(mirror_of(&store, wf).unwrap().origin, origin, "{wf}");
    }
    if with_link {
        assert_eq!(
            after.workfront_project_writes, before.workfront_project_writes,
            "links kept"
        );
    }
    let counts = store.outbox_counts().unwrap();
    assert_eq!((counts.parked, counts.dead), (0, 0), "{counts:?}");

    // Alice, found on the adopted mirror, is recorded as ours: deactivating her removes her.
    app.sandbox
        .update_workfront_users(&["alice"], |u| u["isActive"] = false.into());
    wait_for_names(&app, &p[0], &["bob"]).await;
    assert_eq!(names(&app, &p[0]), ["bob"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wiped_state_dir_makes_no_creates_and_no_removals_adopting_by_link() {
    a_wiped_state_dir_duplicates_nothing(true).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wiped_state_dir_makes_no_creates_and_no_removals_adopting_by_name() {
    a_wiped_state_dir_duplicates_nothing(false).await;
}

/// A first install where projects were made by hand: `plan` shows the adoption and the parked
/// duplicate before anything happens; the daemon adopts the one project with the name, parks the
/// project whose name two Frame.io projects carry (listing them), and creates the rest.
#[tokio::test(flavor = "multi_thread")]
async fn a_first_install_adopts_by_name_and_parks_a_duplicate_name() {
    let mut app = TestApp::prepare(World::generated(3), Limits::unlimited()).await;
    let p = project_ids(&app);
    let world = app.sandbox.world();
    let name = |i: usize| world.workfront.projects[i].name.clone();
    let made_at = frameio_sync_sandbox::dates::now();
    let by_hand = app.sandbox.insert_frameio_project(&name(0), made_at);
    let twin_a = app.sandbox.insert_frameio_project(&name(1), made_at);
    let twin_b = app.sandbox.insert_frameio_project(&name(1), made_at);
    // The hand-made project's creator is on its team in Workfront, and flagged; Alice too.
    let creator = world.frameio.user.clone();
    app.sandbox.upsert_workfront_user("creator", &creator.email, true, true);
    app.sandbox
        .put_frameio_project_user(&by_hand.id, &creator.id, "full_access");
    person(&app, "alice", true, true, true);
    app.sandbox.put_frameio_project_user(&by_hand.id, "fio-alice", "editor");
    app.sandbox.set_team(&p[0], &["creator", "alice"]);

    let config = app.config_path.clone();
    let output = tokio::task::spawn_blocking(move || crate::cli::cli(&config, &["plan"]))
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        text.contains(&format!(
            "adopt {} as the mirror of Workfront project {}",
            by_hand.id, p[0]
        )) && text.contains("(by name)"),
        "{text}"
    );
    assert!(
        text.contains("park:") && text.contains(&twin_a.id) && text.contains(&twin_b.id),
        "{text}"
    );
    assert!(
        text.contains(&format!("create mirror of Workfront project {}", p[2])),
        "{text}"
    );
    assert!(
        text.contains(&format!("/project/{})\n", p[2])),
        "the create names the project's address: {text}"
    );
    assert_eq!(app.sandbox.counts().frameio_creates, 0, "the plan did nothing");

    app.start();
    app.wait_for_mirrors(2).await;
    let store = app.store().clone();
    wait_until("the duplicate parked", WAIT, || {
        !parked_with(&store, "projects named").is_empty()
    })
    .await;
    let adopted = mirror_of(&store, &p[0]).unwrap();
    assert_eq!(
        (adopted.frameio_project.as_str(), adopted.origin),
        (by_hand.id.as_str(), MirrorOrigin::AdoptedByName)
    );
    assert!(mirror_of(&store, &p[1]).is_none(), "never guessed");
    let reason = &parked_with(&store, "projects named")[0];
    assert!(reason.contains(&twin_a.id) && reason.contains(&twin_b.id), "{reason}");
    assert_eq!(mirror_of(&store, &p[2]).unwrap().origin, MirrorOrigin::Created);
    assert_eq!(app.sandbox.counts().frameio_creates, 1);
    assert_eq!(app.sandbox.frameio_projects().len(), 4);

    // Found on the adopted project: Alice counts as ours, its creator never.
    let pair = |user: &str| {
        (
            WorkfrontProjectId::new(&p[0]).unwrap(),
            frameio_sync::ids::WorkfrontUserId::new(user).unwrap(),
        )
    };
    wait_until("both recorded", WAIT, || {
        store.collaborator(&pair("creator")).unwrap().is_some() && store.collaborator(&pair("alice")).unwrap().is_some()
    })
    .await;
    let creator_record = store.collaborator(&pair("creator")).unwrap().unwrap();
    assert!(creator_record.added.is_empty(), "{creator_record:?}");
    assert_eq!(creator_record.present.len(), 1);
    let alice = store.collaborator(&pair("alice")).unwrap().unwrap();
    assert_eq!(alice.added.len(), 1, "{alice:?}");
    assert_eq!(app.sandbox.counts().frameio_user_patches, 0, "both were there already");
}
