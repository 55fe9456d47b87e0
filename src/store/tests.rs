use super::*;
use crate::core::mirror_plan::{plan, Known, Mirrored, Scope};
use crate::core::model::{FrameioProject, Target, WorkfrontProject};
use crate::core::routing::Routing;
use crate::effects::{AddCollaborator, CreateMirror, Effect};
use crate::ids::{FrameioAccountId, FrameioWorkspaceId, OutboxId};

/// Opens a store just closed: sled's background thread may hold the lock a moment longer.
fn reopen(dir: &std::path::Path) -> Store {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match Store::open(dir) {
            Err(StoreError::Locked { .. }) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(10))
            }
            other => return other.unwrap(),
        }
    }
}

fn target() -> Target {
    Target {
        account: FrameioAccountId::new("acc").unwrap(),
        workspace: FrameioWorkspaceId::new("ws").unwrap(),
        via: None,
    }
}

fn projects(n: usize) -> Vec<WorkfrontProject> {
    (0..n)
        .map(|i| WorkfrontProject {
            id: WorkfrontProjectId::new(format!("p{i:03}")).unwrap(),
            name: format!("Project {i}"),
            group_id: None,
            status: None,
            last_update: Some(Timestamp(1000 + i as i64)),
            team: Vec::new(),
            link: None,
        })
        .collect()
}

fn known(store: &Store) -> Known {
    Known {
        mirrored: store
            .mirrors()
            .unwrap()
            .into_iter()
            .map(|m| {
                let mirrored = Mirrored {
                    url: m.url(),
                    target: m.target,
                    frameio_project: m.frameio_project,
                    name: m.name,
                    link: m.link,
                };
                (m.wf_project, mirrored)
            })
            .collect(),
        outbox: store.outbox_key_states().unwrap(),
        write_links: false,
    }
}

fn mirror_for(entry: &OutboxEntry, fio: &str) -> MirrorRecord {
    let Effect::CreateMirror(CreateMirror {
        wf_project,
        name,
        target,
        ..
    }) = &entry.effect
    else {
        panic!("not a create: {:?}", entry.effect);
    };
    MirrorRecord::new(
        wf_project,
        name,
        target.as_ref().unwrap(),
        &FrameioProject::new(FrameioProjectId::new(fio).unwrap(), name),
        MirrorOrigin::Created,
        Timestamp(5),
    )
}

#[test]
fn a_plan_is_recorded_once_with_its_cursor_and_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let routing = Routing {
        default: Some(target()),
        ..Routing::default()
    };
    {
        let store = Store::open(dir.path()).unwrap();
        let p = plan(&projects(3), Scope::Full, &known(&store), &routing).unwrap();
        assert_eq!(
            store
                .record_plan(&Recording::of(&p).with_cursor(Some(Timestamp(1002))), Timestamp(1))
                .unwrap()
                .enqueued,
            3
        );
        // Recording the same plan again (a second sync before the worker ran) adds nothing.
        assert_eq!(store.record_plan(&Recording::of(&p), Timestamp(2)).unwrap().enqueued, 0);
        store.flush_blocking().unwrap();
    }
    let store = reopen(dir.path());
    assert_eq!(
        store.outbox_counts().unwrap(),
        OutboxCounts {
            pending: 3,
            parked: 0,
            dead: 0
        }
    );
    assert_eq!(store.cursor().unwrap(), Some(Timestamp(1002)));
}

#[test]
fn completing_records_the_mirror_and_frees_the_key_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let routing = Routing {
        default: Some(target()),
        ..Routing::default()
    };
    store
        .record_plan(
            &Recording::of(&plan(&projects(1), Scope::Full, &known(&store), &routing).unwrap()),
            Timestamp(1),
        )
        .unwrap();
    let (due, _) = store.next_due(Timestamp(1), |_| None, |_| false, |_| false).unwrap();
    let entry = due.unwrap();
    assert!(store
        .complete_with_mirror(entry.id, &mirror_for(&entry, "fio-1"))
        .unwrap());
    assert_eq!(store.mirror_count(), 1);
    assert!(store.outbox_entries().unwrap().is_empty());
    // A plan made from a stale snapshot (before the mirror existed) does not enqueue it again.
    let stale = plan(&projects(1), Scope::Full, &Known::default(), &routing).unwrap();
    assert_eq!(stale.enqueue.len(), 1);
    assert_eq!(
        store
            .record_plan(&Recording::of(&stale), Timestamp(2))
            .unwrap()
            .enqueued,
        0
    );
}

#[test]
fn rescheduling_keeps_or_clears_the_in_flight_mark_and_due_time_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let routing = Routing {
        default: Some(target()),
        ..Routing::default()
    };
    store
        .record_plan(
            &Recording::of(&plan(&projects(1), Scope::Full, &known(&store), &routing).unwrap()),
            Timestamp(1),
        )
        .unwrap();
    let id = store
        .next_due(Timestamp(1), |_| None, |_| false, |_| false)
        .unwrap()
        .0
        .unwrap()
        .id;
    store.mark_in_flight(id, Timestamp(10)).unwrap();
    store.reschedule(id, "timed out", Timestamp(500), false).unwrap();
    let e = store.outbox_entry(id).unwrap().unwrap();
    assert_eq!((e.attempts, e.in_flight.is_some()), (1, true));
    assert_eq!(
        store.next_due(Timestamp(100), |_| None, |_| false, |_| false).unwrap(),
        (None, Some(Timestamp(500)))
    );
    store
        .reschedule(id, "connection refused", Timestamp(600), true)
        .unwrap();
    assert!(store.outbox_entry(id).unwrap().unwrap().in_flight.is_none());
}

#[test]
fn parked_unroutable_entries_resume_in_place_and_admin_actions_work() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let parked = plan(&projects(1), Scope::Full, &known(&store), &Routing::default()).unwrap();
    assert_eq!(
        store.record_plan(&Recording::of(&parked), Timestamp(1)).unwrap().parked,
        1
    );
    assert_eq!(store.outbox_counts().unwrap().parked, 1);
    let id = store.outbox_entries().unwrap()[0].id;

    let routed = plan(
        &projects(1),
        Scope::Full,
        &known(&store),
        &Routing {
            default: Some(target()),
            ..Routing::default()
        },
    )
    .unwrap();
    assert_eq!(
        store
            .record_plan(&Recording::of(&routed), Timestamp(2))
            .unwrap()
            .enqueued,
        1
    );
    let entries = store.outbox_entries().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!((entries[0].id, &entries[0].state), (id, &EntryState::Pending));

    let exchange = crate::exchange::Exchange {
        request: "POST /v4/accounts/a/workspaces/w/projects\n{\"data\":{\"name\":\"P\"}}".into(),
        status: Some(422),
        response: "{\"errors\":[{\"detail\":\"name is invalid\"}]}".into(),
    };
    store
        .bury(id, "HTTP 422", Timestamp(3), Some(exchange.clone()))
        .unwrap();
    assert_eq!(store.outbox_counts().unwrap().dead, 1);
    // The dead letter keeps the request, the answer and the time, across a reopen.
    drop(store);
    let store = reopen(dir.path());
    assert_eq!(
        store.outbox_entry(id).unwrap().unwrap().state,
        EntryState::Dead {
            reason: "HTTP 422".into(),
            at: Timestamp(3),
            exchange: Some(exchange),
        }
    );
    assert_eq!(store.retry_entry(id, Timestamp(4)).unwrap().state, EntryState::Pending);
    store.drop_entry(id).unwrap();
    assert!(store.outbox_key_states().unwrap().is_empty());
    assert!(matches!(
        store.drop_entry(OutboxId(999)),
        Err(StoreError::NoSuchEntry(_))
    ));
}

#[test]
fn sync_records_are_numbered() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let record = SyncRecord {
        v: records::SYNC_V,
        seq: 0,
        scope: Scope::Full,
        started_at: Timestamp(1),
        duration_us: 2,
        projects_seen: 3,
        enqueued: 0,
        parked: 0,
        unchanged: 3,
        gone: 0,
        workfront_calls: 1,
        error: None,
        rerouted: Vec::new(),
        rerouted_total: 0,
        users_seen: 0,
        collaborator_changes: 0,
        removal_guard: None,
    };
    assert_eq!(store.record_sync(record.clone()).unwrap().seq, 1);
    assert_eq!(store.record_sync(record).unwrap().seq, 2);
    assert_eq!(store.last_sync().unwrap().unwrap().seq, 2);
}

#[test]
fn an_add_carried_out_after_its_entry_was_cancelled_is_still_recorded_as_ours() {
    use crate::core::model::CollaboratorRole;
    use crate::ids::{FrameioUserId, WorkfrontUserId};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let base = CollaboratorRecord::first(
        (
            &WorkfrontProjectId::new("p1").unwrap(),
            &WorkfrontUserId::new("u1").unwrap(),
        ),
        &FrameioProjectId::new("fp1").unwrap(),
        &target(),
        "a@x",
        CollaboratorRole::Editor,
        Timestamp(1),
    );
    let user = FrameioUserId::new("fu1").unwrap();
    // Entry 42 no longer exists (a plan cancelled it while the PATCH was under way).
    store
        .complete_with_collaborator(OutboxId(42), &base, &user, Arrival::Added)
        .unwrap();
    let pair = (base.wf_project.clone(), base.wf_user.clone());
    assert_eq!(
        store.collaborator(&pair).unwrap().unwrap().added,
        std::slice::from_ref(&user)
    );
    store.complete_removal(OutboxId(43), &pair, &[user]).unwrap();
    assert!(store.collaborator(&pair).unwrap().is_none());
}

#[test]
fn fresh_work_goes_first_but_backfill_gets_its_turn_and_the_index_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let routing = Routing {
        default: Some(target()),
        ..Routing::default()
    };
    let all = projects(3);
    // The first two come from a start-up backfill, the third from a later poll.
    let backfill = plan(&all[..2], Scope::Incremental, &known(&store), &routing).unwrap();
    store
        .record_plan(
            &Recording::of(&backfill).with_priority(Priority::Backfill),
            Timestamp(1),
        )
        .unwrap();
    let fresh = plan(&all[2..], Scope::Incremental, &known(&store), &routing).unwrap();
    store
        .record_plan(&Recording::of(&fresh).with_priority(Priority::Fresh), Timestamp(2))
        .unwrap();
    let name_of = |due: Option<OutboxEntry>| match due.map(|e| e.effect) {
        Some(Effect::CreateMirror(CreateMirror { name, .. })) => name,
        other => panic!("{other:?}"),
    };
    let pick = |store: &Store, turn: bool| store.next_due(Timestamp(5), |_| None, |_| false, |_| turn).unwrap().0;
    assert_eq!(name_of(pick(&store, false)), all[2].name, "fresh first, though newer");
    assert_eq!(
        name_of(pick(&store, true)),
        all[0].name,
        "the lane owes its backfill a turn"
    );
    // A lane at capacity offers nothing; its next due time is not reported either.
    assert_eq!(
        store.next_due(Timestamp(5), |_| None, |_| true, |_| false).unwrap(),
        (None, None)
    );
    // Not yet due: nothing now, and when.
    assert_eq!(
        store.next_due(Timestamp(0), |_| None, |_| false, |_| false).unwrap(),
        (None, Some(Timestamp(1)))
    );
    assert_eq!(store.ready_len(), 3);
    // Done entries leave the index; a reopened store rebuilds it from the outbox.
    let first = pick(&store, false).unwrap();
    store.complete(first.id).unwrap();
    assert_eq!(store.ready_len(), 2);
    drop(store);
    let store = reopen(dir.path());
    assert_eq!(store.ready_len(), 2);
    assert_eq!(name_of(pick(&store, false)), all[0].name);
}

/// An outbox entry as the release before `priority` wrote it reads as fresh work.
#[test]
fn an_entry_written_before_priorities_reads_as_fresh() {
    let old = r#"{"v":1,"id":7,"key":"mirror:p001","effect":{"kind":"create_mirror","wf_project":"p001","name":"Project 1","target":null},"reason":"new project","state":{"state":"pending"},"attempts":0,"next_attempt_at":5,"created_at":5,"last_error":null,"in_flight":null}"#;
    let entry: OutboxEntry = decode("outbox", "7", old.as_bytes()).unwrap();
    assert_eq!(entry.priority, Priority::Fresh);
    assert_eq!(entry.id, OutboxId(7));
}

/// The counts kept with the outbox agree with its entries through every kind of write, and after
/// a reopen.
#[test]
fn the_kept_counts_agree_with_the_entries() {
    use crate::core::mirror_plan::Planned;
    use crate::core::model::{CollaboratorRole, Hold, RoleChoice};
    use crate::effects::{AddCollaborator, RemoveCollaborator};
    use crate::ids::{FrameioUserId, WorkfrontUserId};
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    // The tally as decoding every entry gives it.
    let decoded = |store: &Store| {
        let mut tally = Tally::default();
        for entry in store.outbox_entries().unwrap() {
            tally.counts.add(&entry.state);
            let collaborator = matches!(entry.effect, Effect::AddCollaborator(_) | Effect::RemoveCollaborator(_));
            tally.collaborator_backlog += usize::from(collaborator && entry.state == EntryState::Pending);
            tally.held_removals += usize::from(matches!(
                entry.state,
                EntryState::Parked {
                    cause: ParkCause::RemovalGuard,
                    ..
                }
            ));
            if entry.state != EntryState::Pending {
                tally.attention.push(entry.id);
            }
        }
        tally
    };
    let routing = Routing {
        default: Some(target()),
        ..Routing::default()
    };
    let check = |store: &Store, step: &str| {
        assert_eq!(store.outbox_tally(), decoded(store), "{step}");
        assert_eq!(store.outbox_counts().unwrap(), decoded(store).counts, "{step}");
    };
    let first = plan(&projects(5), Scope::Full, &known(&store), &routing).unwrap();
    store.record_plan(&Recording::of(&first), Timestamp(1)).unwrap();
    check(&store, "recorded");
    let ids: Vec<OutboxId> = store.outbox_entries().unwrap().iter().map(|e| e.id).collect();
    store.park(ids[0], "waits", ParkCause::Unroutable).unwrap();
    store.bury(ids[1], "refused", Timestamp(2), None).unwrap();
    store.reschedule(ids[2], "later", Timestamp(9), true).unwrap();
    check(&store, "parked, buried, rescheduled");
    store.retry_entry(ids[1], Timestamp(3)).unwrap();
    store.drop_entry(ids[0]).unwrap();
    store.complete(ids[3]).unwrap();
    check(&store, "retried, dropped, completed");
    let entry = store.outbox_entry(ids[4]).unwrap().unwrap();
    store
        .complete_with_mirror(ids[4], &mirror_for(&entry, "fio-4"))
        .unwrap();
    check(&store, "mirrored");

    // Collaborator changes: one add, and removals the guard holds (recorded as ours first, so
    // the removal is not already done).
    let project = WorkfrontProjectId::new("p004").unwrap();
    let frameio_project = FrameioProjectId::new("fio-4").unwrap();
    let user = |i: usize| WorkfrontUserId::new(format!("u{i}")).unwrap();
    let frameio_user = |i: usize| FrameioUserId::new(format!("fu{i}")).unwrap();
    for i in 1..3 {
        let base = CollaboratorRecord::first(
            (&project, &user(i)),
            &frameio_project,
            &target(),
            &format!("u{i}@x"),
            CollaboratorRole::Editor,
            Timestamp(1),
        );
        store
            .complete_with_collaborator(OutboxId(900 + i as u64), &base, &frameio_user(i), Arrival::Added)
            .unwrap();
    }
    let add = Planned {
        effect: Effect::AddCollaborator(AddCollaborator {
            wf_project: project.clone(),
            wf_user: user(0),
            email: "u0@x".into(),
            frameio_project: frameio_project.clone(),
            target: target(),
            frameio_user: Some(frameio_user(0)),
            role: RoleChoice::Fixed(CollaboratorRole::Editor),
        }),
        reason: "test".into(),
    };
    let removals: Vec<Planned> = (1..3)
        .map(|i| Planned {
            effect: Effect::RemoveCollaborator(RemoveCollaborator {
                wf_project: project.clone(),
                wf_user: user(i),
                email: format!("u{i}@x"),
                frameio_project: frameio_project.clone(),
                target: target(),
                frameio_users: vec![frameio_user(i)],
            }),
            reason: "test".into(),
        })
        .collect();
    let recording = Recording {
        enqueue: vec![&add],
        park: removals.iter().map(|r| (r, Hold::RemovalGuard)).collect(),
        ..Recording::default()
    };
    store.record_plan(&recording, Timestamp(4)).unwrap();
    check(&store, "collaborator changes, removals held");
    assert_eq!(
        (
            store.outbox_tally().collaborator_backlog,
            store.outbox_tally().held_removals
        ),
        (1, 2)
    );
    store.release_held_removals(Timestamp(5)).unwrap();
    check(&store, "removals released");
    assert_eq!(
        (
            store.outbox_tally().collaborator_backlog,
            store.outbox_tally().held_removals
        ),
        (3, 0)
    );
    drop(store);
    store = reopen(dir.path());
    check(&store, "reopened");
    assert_eq!(store.outbox_counts().unwrap().pending, 5);
}

#[test]
fn one_projects_view_and_records_are_those_of_the_whole_restricted_to_it() {
    use crate::core::mirror_plan::Planned;
    use crate::core::model::{CollaboratorRole, RoleChoice};
    use crate::ids::{FrameioUserId, WorkfrontUserId};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    // "p001" is a prefix of "p0010": the scoped reads must not take one for the other.
    let (p1, p10) = (
        WorkfrontProjectId::new("p001").unwrap(),
        WorkfrontProjectId::new("p0010").unwrap(),
    );
    let add = |project: &WorkfrontProjectId, user: &str| Planned {
        effect: Effect::AddCollaborator(AddCollaborator {
            wf_project: project.clone(),
            wf_user: WorkfrontUserId::new(user).unwrap(),
            email: format!("{user}@x"),
            frameio_project: FrameioProjectId::new(format!("f-{project}")).unwrap(),
            target: target(),
            frameio_user: Some(FrameioUserId::new(format!("fu-{user}")).unwrap()),
            role: RoleChoice::Fixed(CollaboratorRole::Editor),
        }),
        reason: "test".into(),
    };
    let create = |project: &WorkfrontProjectId| Planned {
        effect: Effect::CreateMirror(CreateMirror {
            wf_project: project.clone(),
            name: project.to_string(),
            target: Some(target()),
            linked: None,
        }),
        reason: "test".into(),
    };
    let planned = [
        create(&p1),
        create(&p10),
        add(&p1, "u1"),
        add(&p1, "u2"),
        add(&p10, "u1"),
    ];
    let recording = Recording {
        enqueue: planned.iter().collect(),
        ..Recording::default()
    };
    store.record_plan(&recording, Timestamp(1)).unwrap();
    for (project, user) in [(&p1, "u3"), (&p10, "u3")] {
        let base = CollaboratorRecord::first(
            (project, &WorkfrontUserId::new(user).unwrap()),
            &FrameioProjectId::new(format!("f-{project}")).unwrap(),
            &target(),
            "u3@x",
            CollaboratorRole::Editor,
            Timestamp(1),
        );
        let frameio_user = FrameioUserId::new(format!("fu-{user}")).unwrap();
        store
            .complete_with_collaborator(OutboxId(99), &base, &frameio_user, Arrival::Added)
            .unwrap();
    }

    let (whole, managed) = (store.outbox_view().unwrap(), store.managed_pairs().unwrap());
    for project in [&p1, &p10] {
        let view = store.outbox_view_of(project).unwrap();
        let expected: std::collections::HashMap<_, _> = whole
            .collaborators
            .iter()
            .filter(|((p, _), _)| p == project)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert_eq!(view.collaborators, expected, "{project}");
        assert_eq!(view.mirrors.len(), 1, "{project}");
        assert_eq!(
            view.mirrors.get(&Effect::mirror_key(project)),
            whole.mirrors.get(&Effect::mirror_key(project))
        );
        let expected: std::collections::HashMap<_, _> = managed
            .iter()
            .filter(|((p, _), _)| p == project)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert_eq!(store.managed_pairs_of(project).unwrap(), expected, "{project}");
        assert_eq!(expected.len(), 1, "{project}");
    }
    assert_eq!(store.outbox_view_of(&p1).unwrap().collaborators.len(), 2);
}

/// A record type at version 2 whose version 1 had a field by another name: what a real bump
/// looks like, read through the same `decode` every record goes through.
#[derive(Debug, PartialEq, serde::Deserialize)]
struct Widget {
    v: u32,
    label: String,
}

impl Record for Widget {
    const V: u32 = 2;

    fn read_older(v: u32, bytes: &[u8]) -> Option<Result<Self, serde_json::Error>> {
        #[derive(serde::Deserialize)]
        struct V1 {
            name: String,
        }
        (v == 1).then(|| serde_json::from_slice::<V1>(bytes).map(|old| Widget { v: 2, label: old.name }))
    }
}

#[test]
fn records_are_read_by_their_version_and_a_newer_one_is_refused() {
    let read = |json: &str| decode::<Widget>("widgets", "w1", json.as_bytes());
    assert_eq!(
        read(r#"{"v":2,"label":"now"}"#).unwrap(),
        Widget {
            v: 2,
            label: "now".into()
        }
    );
    assert_eq!(
        read(r#"{"v":1,"name":"then"}"#).unwrap(),
        Widget {
            v: 2,
            label: "then".into()
        }
    );
    let never = read(r#"{"v":0,"name":"x"}"#).unwrap_err().to_string();
    assert!(never.contains("widgets") && never.contains("v0"), "{never}");
    let newer = read(r#"{"v":3,"label":"later"}"#).unwrap_err();
    assert!(
        matches!(
            &newer,
            StoreError::NewerFormat {
                tree: "widgets",
                v: 3,
                reads: 2,
                ..
            }
        ),
        "{newer}"
    );
    assert!(read(r#"{"label":"no version"}"#)
        .unwrap_err()
        .to_string()
        .contains("no format version"));

    // The real records go through it too: an outbox entry from a newer release is refused by name.
    let entry = r#"{"v":9,"id":7,"key":"k","effect":{"kind":"add_note"},"reason":"r","state":{"state":"pending"}}"#;
    let err = decode::<OutboxEntry>("outbox", "7", entry.as_bytes()).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::NewerFormat {
                tree: "outbox",
                v: 9,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn a_connection_credential_is_recorded_without_its_secret_and_read_back_with_it() {
    use crate::config::FrameioCredential;
    use crate::ims::ImsCredentials;
    use crate::secret::Secret;
    let ims = FrameioCredential::ServerToServer(ImsCredentials {
        client_id: "client".into(),
        client_secret: Secret::new("s3cret-value"),
        scopes: "openid".into(),
        token_url: "https://ims.example/token".parse().unwrap(),
    });
    let recorded = ConnectionCredential::of(&ims);
    let stored = String::from_utf8(encode(&recorded)).unwrap();
    assert!(!stored.contains("s3cret-value"), "{stored}");
    let FrameioCredential::ServerToServer(back) = recorded.with_secret(Secret::new("s3cret-value")).unwrap() else {
        panic!("the kind changed");
    };
    assert_eq!(
        (back.client_id.as_str(), back.client_secret.expose()),
        ("client", "s3cret-value")
    );
    assert_eq!(back.token_url.as_str(), "https://ims.example/token");

    let token = FrameioCredential::DeveloperToken(Secret::new("dev-token"));
    assert_eq!(ConnectionCredential::of(&token), ConnectionCredential::DeveloperToken);
    let broken = ConnectionCredential::AdobeServerToServer {
        client_id: "c".into(),
        scopes: "s".into(),
        ims_token_url: "not a url".into(),
    };
    let err = broken.with_secret(Secret::new("x")).unwrap_err().to_string();
    assert!(
        err.contains("not a url") && !err.contains('x'.to_string().as_str().repeat(2).as_str()),
        "{err}"
    );
}

#[test]
fn a_backup_round_trips_into_an_empty_store_with_new_ids_and_refuses_anything_else() {
    use super::backup::{RestoreError, BACKUP_FORMAT};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let routing = Routing {
        default: Some(target()),
        ..Routing::default()
    };
    let first = plan(&projects(3), Scope::Full, &known(&store), &routing).unwrap();
    store.record_plan(&Recording::of(&first), Timestamp(1)).unwrap();
    let entries = store.outbox_entries().unwrap();
    store.mark_in_flight(entries[0].id, Timestamp(2)).unwrap();
    store
        .complete_with_mirror(entries[1].id, &mirror_for(&entries[1], "fio-1"))
        .unwrap();
    let backup = store.export(Timestamp(3)).unwrap();
    assert_eq!((backup.outbox.len(), backup.mirrors.len()), (2, 1));

    let other = tempfile::tempdir().unwrap();
    let fresh = Store::open(other.path()).unwrap();
    let counts = fresh.import(&backup).unwrap();
    assert_eq!((counts.outbox, counts.mirrors), (2, 1));
    let restored = fresh.outbox_entries().unwrap();
    assert_eq!(restored.len(), 2);
    assert!(
        restored.iter().any(|e| e.in_flight.is_some()),
        "the in-flight mark is kept"
    );
    assert_eq!(fresh.outbox_counts().unwrap().pending, 2, "indexed");
    assert_eq!(fresh.mirrors().unwrap(), store.mirrors().unwrap());
    // The keys came along: the same plan enqueues nothing new.
    let again = plan(&projects(3), Scope::Full, &known(&fresh), &routing).unwrap();
    assert_eq!(
        fresh
            .record_plan(&Recording::of(&again), Timestamp(4))
            .unwrap()
            .enqueued,
        0
    );

    assert!(matches!(fresh.import(&backup), Err(RestoreError::NotEmpty { .. })));
    let mut wrong = backup.clone();
    wrong.format = "something-else".into();
    let empty = tempfile::tempdir().unwrap();
    let err = Store::open(empty.path()).unwrap().import(&wrong).unwrap_err();
    assert!(err.to_string().contains(BACKUP_FORMAT), "{err}");
}
