//! A state dir written by an earlier release keeps working: `tests/fixtures/state-55d09f5` was
//! written by the release at commit 55d09f5 (the last before per-kind effect modules), with
//! mirrors and collaborators from a sync against the sandbox, a connection, entries of every kind
//! and state (pending, in flight, dead, parked; backfill priority) and an event in the inbox.

use crate::cli::cli;
use frameio_sync::core::mirror_plan::Scope;
use frameio_sync::demo::write_sandbox_config;
use frameio_sync::effects::Effect;
use frameio_sync::engine::{Engine, WorkOutcome};
use frameio_sync::ids::WorkfrontGroupId;
use frameio_sync::store::{EntryState, Priority, Store};
use frameio_sync_sandbox::{Limits, Sandbox, World};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/state-55d09f5");

/// Copies the fixture where a daemon would keep it (0700 dir, 0600 secret files: git keeps no modes).
fn copy_state(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o700)).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_state(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    }
}

#[tokio::test]
async fn a_state_dir_of_the_previous_release_reads_and_keeps_working() {
    let sandbox = Sandbox::start(World::demo(), Limits::unlimited()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = write_sandbox_config(dir.path(), &sandbox, "1h").unwrap();
    let settings = frameio_sync::config::load(&config).unwrap();
    copy_state(Path::new(FIXTURE), &settings.state.dir);

    {
        let store = Store::open(&settings.state.dir).unwrap();
        assert_eq!(store.mirrors().unwrap().len(), 24);
        assert_eq!(store.collaborators().unwrap().len(), 36);
        assert!(store.cursor().unwrap().is_some());
        assert!(store.last_sync().unwrap().is_some());
        assert_eq!(store.inbox_len(), 1);
        let group = WorkfrontGroupId::new("0ld0000000000000000000000000g001").unwrap();
        assert_eq!(store.connections().unwrap().len(), 1);
        assert_eq!(store.connection_token(&group).unwrap().expose(), "old-token");

        let entries = store.outbox_entries().unwrap();
        assert_eq!(entries.len(), 8);
        let kind = |e: &Effect| match e {
            Effect::CreateMirror(_) => "create",
            Effect::AddCollaborator(_) => "add",
            Effect::RemoveCollaborator(_) => "remove",
            Effect::AddDocument(_) => "document",
            Effect::AddNote(_) => "note",
            Effect::RenameMirror(_)
            | Effect::WriteLink(_)
            | Effect::RequestApproval(_)
            | Effect::ShowReview(_)
            | Effect::CopyComment(_)
            | Effect::PushDocument(_)
            | Effect::FinishPush(_) => "a kind the old release did not have",
        };
        let mut kinds: Vec<&str> = entries.iter().map(|e| kind(&e.effect)).collect();
        kinds.sort();
        let described: Vec<String> = entries
            .iter()
            .map(|e| format!("{:?} {:?} {}", e.state, e.priority, e.effect.describe()))
            .collect();
        assert_eq!(
            kinds,
            ["add", "add", "create", "create", "create", "create", "document", "note"],
            "{described:#?}"
        );
        assert!(entries.iter().all(|e| e.key == e.effect.key()), "{described:#?}");
        let count = |f: &dyn Fn(&frameio_sync::store::OutboxEntry) -> bool| entries.iter().filter(|e| f(e)).count();
        assert_eq!(count(&|e| e.priority == Priority::Backfill), 7, "{described:#?}");
        assert_eq!(count(&|e| e.in_flight.is_some()), 1, "{described:#?}");
        assert_eq!(
            count(&|e| matches!(e.state, EntryState::Dead { .. })),
            1,
            "{described:#?}"
        );
        let counts = store.outbox_counts().unwrap();
        let parked = count(&|e| matches!(e.state, EntryState::Parked { .. }));
        assert!(parked >= 1, "{described:#?}");
        assert_eq!((counts.pending, counts.parked, counts.dead), (7 - parked, parked, 1));

        // It keeps working: a sync and the worker run over it (the old entries' account is
        // unknown to the sandbox, so they are retried, parked or buried, never lost).
        let engine = Engine::new(&settings, store.clone()).unwrap();
        engine.sync_once(Scope::Full).await.unwrap();
        engine.apply_events_once(10).await.unwrap();
        for _ in 0..50 {
            if let WorkOutcome::Idle { .. } = engine.work_once().await.unwrap() {
                break;
            }
        }
        let c = store.outbox_counts().unwrap();
        assert_eq!(store.outbox_entries().unwrap().len(), c.pending + c.parked + c.dead);
        assert_eq!(store.inbox_len(), 0, "the old event was applied");
    }

    // The commands read it too.
    let status = cli(&config, &["status", "--json"]);
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let list = cli(&config, &["outbox", "list"]);
    assert!(list.status.success(), "{}", String::from_utf8_lossy(&list.stderr));
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(
        text.contains("\"Old pending\"") && text.contains("refused for good"),
        "{text}"
    );
}
