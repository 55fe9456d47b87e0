//! The crash loop (needs `--features failpoints`): the daemon runs as a child process and is
//! killed with SIGKILL thirty times while it creates mirrors, adds collaborators and takes
//! Workfront events. Most kills land in the narrowest windows, which failpoints hold open:
//! after Frame.io carried out a create or a collaborator add and before the outbox records it,
//! and after an event is on disk and before its sender is answered. The rest land at random
//! moments. Each time it is started again; at the end every invariant is checked: each Workfront
//! project has exactly one mirror, each team member is on it once, nothing is lost, parked or dead.

use crate::cli::Daemon;
use crate::crash::{assert_one_mirror_each, converge_and_stop, XorShift};
use crate::helpers::{
    add_http_listener, default_target, deliver_event, eventually, record_review_files, team_of, wait_for_listener,
    PEOPLE,
};
use crate::webhooks::project_event;
use frameio_sync::demo::write_sandbox_config;
use frameio_sync::failpoint;
use frameio_sync::ids::WorkfrontProjectId;
use frameio_sync_sandbox::files::FileContent;
use frameio_sync_sandbox::{Limits, MissingField, Sandbox, World};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

const PROJECTS: usize = 40;
const KILLS: usize = 30;
const TOKEN: &str = "wf-webhook-token-crash-loop-0123456789";
/// Delivers an event as Workfront would (see [`deliver_event`]).
async fn deliver(port: u16, body: String) -> Option<u16> {
    deliver_event(port, TOKEN, body).await
}

fn config_with_webhooks(dir: &Path, sandbox: &Sandbox) -> (std::path::PathBuf, u16) {
    let config = write_sandbox_config(dir, sandbox, "1h").unwrap();
    let port = add_http_listener(
        &config,
        TOKEN,
        "\n[collaborators]\nmax_removal_percent = 100\ndirectory_refresh = \"200ms\"\n",
    );
    (config, port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_sigkills_in_the_narrowest_windows_lose_and_duplicate_nothing() {
    // Four creates a second keeps creates going across many rounds.
    let limits = Limits::creates_per_second(4);
    let sandbox = Sandbox::start(World::generated(PROJECTS), limits).await.unwrap();
    let account = sandbox.world().default_target().0.to_owned();
    for name in PEOPLE {
        sandbox.upsert_workfront_user(name, &format!("{name}@example.test"), true, true);
        sandbox.add_frameio_account_user(&account, &format!("fio-{name}"), &format!("{name}@example.test"));
    }
    let mut teams: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (i, project) in sandbox.world().workfront.projects.iter().enumerate() {
        sandbox.set_team(&project.id, &team_of(i));
        teams.insert(
            project.id.clone(),
            team_of(i).iter().map(|n| format!("fio-{n}")).collect(),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let (config, port) = config_with_webhooks(dir.path(), &sandbox);
    let mark = dir.path().join("failpoint-reached");
    let mut rng = XorShift(0xc4a5_410d_0000_0009);

    let mut at_failpoint: BTreeMap<&str, usize> = BTreeMap::new();
    let mut at_random = 0;
    // Events whose sender got no answer: Workfront delivers them again.
    let mut unanswered: Vec<String> = Vec::new();
    for round in 0..KILLS {
        let _ = std::fs::remove_file(&mark);
        let point = match round % 4 {
            0 => Some(failpoint::AFTER_CREATE),
            1 => Some(failpoint::AFTER_COLLABORATOR_ADD),
            2 => Some(failpoint::BEFORE_EVENT_ACK),
            _ => None,
        };
        let spec = point.map(|p| match p {
            failpoint::BEFORE_EVENT_ACK => p.to_owned(),
            _ => format!("{p}@{}", 1 + rng.next() % 3),
        });
        let mut env = vec![("FRAMEIO_SYNC_FAILPOINT_MARK", mark.to_str().unwrap().to_owned())];
        if let Some(spec) = &spec {
            env.push(("FRAMEIO_SYNC_FAILPOINT", spec.clone()));
        }
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let daemon = Daemon::start(&config, "info", &env);
        wait_for_listener(port).await;

        // Redeliveries are answered (the failpoint, if armed for intake, may catch the first).
        let mut still = Vec::new();
        for body in unanswered.drain(..) {
            if deliver(port, body.clone()).await != Some(200) {
                still.push(body);
            }
        }
        unanswered = still;
        let mut delivery = None;
        if point == Some(failpoint::BEFORE_EVENT_ACK) {
            let id = format!("5d0000000000000000000000000e{round:04}");
            sandbox.upsert_workfront_project(&id, &format!("Event project {round}"));
            let i = PROJECTS + round;
            sandbox.set_team(&id, &team_of(i));
            teams.insert(id.clone(), team_of(i).iter().map(|n| format!("fio-{n}")).collect());
            let body =
                project_event("CREATE", &id, &format!("Event project {round}"), 1_000 + round as i64).to_string();
            delivery = Some((body.clone(), tokio::spawn(deliver(port, body))));
        }

        let reached = match point {
            Some(_) => eventually(Duration::from_secs(8), || mark.exists()).await,
            None => {
                tokio::time::sleep(Duration::from_millis(20 + rng.next() % 400)).await;
                false
            }
        };
        daemon.kill(); // SIGKILL
        match (point, reached) {
            (Some(p), true) => *at_failpoint.entry(p).or_default() += 1,
            _ => at_random += 1,
        }
        if let Some((body, answer)) = delivery {
            if answer.await.unwrap() != Some(200) {
                unanswered.push(body);
            }
        }
    }
    eprintln!("crash loop: {KILLS} SIGKILLs, {at_failpoint:?} at failpoints, {at_random} at random moments");
    for point in [
        failpoint::AFTER_CREATE,
        failpoint::AFTER_COLLABORATOR_ADD,
        failpoint::BEFORE_EVENT_ACK,
    ] {
        assert!(
            at_failpoint.get(point).copied().unwrap_or(0) >= 3,
            "too few kills at {point}: {at_failpoint:?}"
        );
    }

    // A last start without failpoints; Workfront delivers what was never answered.
    let daemon = Daemon::start(&config, "info", &[]);
    wait_for_listener(port).await;
    for body in unanswered.drain(..) {
        assert_eq!(deliver(port, body).await, Some(200));
    }
    let expected = teams.len();
    converge_and_stop(daemon, &config, expected, Duration::from_secs(90)).await;
    let store = assert_one_mirror_each(&sandbox, &dir.path().join("state"), expected);
    // Every team member is on their project's mirror, once, and recorded as ours.
    for (wf, team) in &teams {
        let mirror = store.mirror(&WorkfrontProjectId::new(wf).unwrap()).unwrap().unwrap();
        let on: BTreeSet<String> = sandbox
            .frameio_project_users(mirror.frameio_project.as_str())
            .into_keys()
            .collect();
        assert_eq!(&on, team, "collaborators of {wf}");
    }
    let recorded: usize = store
        .collaborators()
        .unwrap()
        .iter()
        .map(|r| r.added.len() + r.present.len())
        .sum();
    assert_eq!(recorded, teams.values().map(BTreeSet::len).sum::<usize>());
    let counts = store.outbox_counts().unwrap();
    assert_eq!((counts.pending, counts.parked, counts.dead), (0, 0, 0));
    eprintln!(
        "crash loop: {} Frame.io creates for {expected} projects, {} collaborator PATCHes for {recorded} collaborators",
        sandbox.counts().frameio_creates,
        sandbox.counts().frameio_user_patches
    );
}

/// Renames and link writes under SIGKILL: the daemon is killed right after Frame.io renamed a
/// mirror or Workfront took a link, before either is recorded, and at random moments, while
/// every Workfront project is renamed again each round. At the end every mirror carries its
/// project's last name, every link field holds its mirror's address, written once per project,
/// and nothing was created twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkills_after_renames_and_link_writes_repeat_and_lose_nothing() {
    // Enough projects that the links are not all written before the link rounds are over: up to
    // three are written at once (workfront.max_in_flight).
    const N: usize = 24;
    const ROUNDS: usize = 15;
    const LINK_FIELD: &str = "DE:Frame.io project";
    let sandbox = Sandbox::start(World::generated(N), Limits::unlimited()).await.unwrap();
    sandbox.set_custom_form(&[LINK_FIELD], &[], MissingField::Refuse);
    let world = sandbox.world();
    let projects: Vec<(String, String)> = world
        .workfront
        .projects
        .iter()
        .map(|p| (p.id.clone(), p.group_id.clone().unwrap_or_default()))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let config = write_sandbox_config(dir.path(), &sandbox, "1s").unwrap();
    let text = std::fs::read_to_string(&config).unwrap();
    let text = text.replacen(
        "[workfront]\n",
        &format!("[workfront]\nlink_field = \"{LINK_FIELD}\"\n"),
        1,
    );
    std::fs::write(&config, text).unwrap();
    let mark = dir.path().join("failpoint-reached");
    let mut rng = XorShift(0x7e4a_3e00_0000_0018);

    let mut at_failpoint: BTreeMap<&str, usize> = BTreeMap::new();
    let mut at_random = 0;
    let name = |i: usize, round: usize| format!("Generated project {i:05} v{round}");
    for round in 0..ROUNDS {
        // The links are written while the first mirrors appear: kill there first.
        let point = match round {
            0..=3 => Some(failpoint::AFTER_LINK),
            _ if round % 3 == 2 => None,
            _ => Some(failpoint::AFTER_RENAME),
        };
        if round > 0 {
            for (i, (id, group)) in projects.iter().enumerate() {
                sandbox.upsert_workfront_project_in(id, &name(i, round), group);
            }
        }
        let _ = std::fs::remove_file(&mark);
        let mut env = vec![("FRAMEIO_SYNC_FAILPOINT_MARK", mark.to_str().unwrap().to_owned())];
        if let Some(point) = point {
            let nth = match point {
                failpoint::AFTER_LINK => 1,
                _ => 1 + rng.next() % 3,
            };
            env.push(("FRAMEIO_SYNC_FAILPOINT", format!("{point}@{nth}")));
        }
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let daemon = Daemon::start(&config, "info", &env);
        let reached = match point {
            Some(_) => eventually(Duration::from_secs(8), || mark.exists()).await,
            None => {
                tokio::time::sleep(Duration::from_millis(50 + rng.next() % 600)).await;
                false
            }
        };
        daemon.kill(); // SIGKILL
        match (point, reached) {
            (Some(p), true) => *at_failpoint.entry(p).or_default() += 1,
            _ => at_random += 1,
        }
    }
    eprintln!("rename crash loop: {ROUNDS} SIGKILLs, {at_failpoint:?} at failpoints, {at_random} at random moments");
    for point in [failpoint::AFTER_LINK, failpoint::AFTER_RENAME] {
        assert!(
            at_failpoint.get(point).copied().unwrap_or(0) >= 3,
            "too few kills at {point}: {at_failpoint:?}"
        );
    }

    let daemon = Daemon::start(&config, "info", &[]);
    let last = ROUNDS - 1;
    let converged = eventually(Duration::from_secs(60), || {
        let in_frameio = sandbox.frameio_projects();
        in_frameio.len() == N
            && (0..N).all(|i| in_frameio.iter().any(|p| p.name == name(i, last)))
            && projects
                .iter()
                .all(|(id, _)| sandbox.workfront_project_field(id, LINK_FIELD).is_some())
    })
    .await;
    assert!(
        converged,
        "names or links did not converge: {:?}",
        sandbox.frameio_projects()
    );
    converge_and_stop(daemon, &config, N, Duration::from_secs(60)).await;
    let store = assert_one_mirror_each(&sandbox, &dir.path().join("state"), N);
    for (i, (id, _)) in projects.iter().enumerate() {
        let mirror = store.mirror(&WorkfrontProjectId::new(id).unwrap()).unwrap().unwrap();
        assert_eq!(mirror.name, name(i, last), "the recorded name of {id}");
        assert_eq!(
            mirror.link.as_deref(),
            Some(mirror.url().as_str()),
            "the recorded link of {id}"
        );
        assert_eq!(sandbox.workfront_project_field(id, LINK_FIELD), Some(mirror.url()));
    }
    let counts = sandbox.counts();
    assert_eq!(counts.frameio_creates, N as u64, "no create twice");
    assert_eq!(counts.workfront_project_writes, N as u64, "each link written once");
    let outbox = store.outbox_counts().unwrap();
    assert_eq!((outbox.pending, outbox.parked, outbox.dead), (0, 0, 0));
    eprintln!(
        "rename crash loop: {} renames for {} Workfront renames, {} link writes for {N} projects",
        counts.frameio_renames,
        N * (ROUNDS - 1),
        counts.workfront_project_writes
    );
}

/// Kills right after a review file reached Workfront's upload and before its document was made,
/// and at random moments: each file still ends as exactly one document, with its bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkills_after_review_uploads_make_one_document_per_file() {
    // Enough files that uploads remain for every armed round: up to three go at once, and the
    // others go on while the thread that reached the failpoint is frozen.
    const FILES: usize = 60;
    const ROUNDS: usize = 10;
    let sandbox = Sandbox::start(World::generated(1), Limits::unlimited()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = write_sandbox_config(dir.path(), &sandbox, "1h").unwrap();
    let settings = frameio_sync::config::load(&config).unwrap();
    let project = sandbox.insert_frameio_project("Review", frameio_sync_sandbox::dates::now());
    let mut contents = BTreeMap::new();
    let mut files = Vec::new();
    for i in 0..FILES {
        let id = format!("file-{i}");
        let content = FileContent::Pattern {
            size: 20_000 + i as u64 * 3_331,
            seed: i as u8,
        };
        sandbox.add_frameio_file_with(&project.id, &id, &format!("Cut {i}.mov"), content.clone());
        contents.insert(format!("frameio-file:{id}"), content);
        files.push((id, format!("Cut {i}.mov")));
    }
    let wf_project = sandbox.world().workfront.projects[0].id.clone();
    let store = frameio_sync::store::Store::open(&settings.state.dir).unwrap();
    record_review_files(&store, &default_target(&settings), &wf_project, &files);
    drop(store);
    let mark = dir.path().join("failpoint-reached");
    let mut rng = XorShift(0x0f11_e5e0_0000_0019);
    let mut at_failpoint = 0;
    for round in 0..ROUNDS {
        let _ = std::fs::remove_file(&mark);
        let armed = round % 3 != 2;
        let mut env = vec![("FRAMEIO_SYNC_FAILPOINT_MARK", mark.to_str().unwrap().to_owned())];
        if armed {
            env.push(("FRAMEIO_SYNC_FAILPOINT", format!("{}@1", failpoint::AFTER_UPLOAD)));
        }
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let daemon = Daemon::start(&config, "info", &env);
        let reached = if armed {
            eventually(Duration::from_secs(8), || mark.exists()).await
        } else {
            tokio::time::sleep(Duration::from_millis(20 + rng.next() % 300)).await;
            false
        };
        daemon.kill(); // SIGKILL
        at_failpoint += usize::from(reached);
    }
    assert!(at_failpoint >= 3, "only {at_failpoint} kills after an upload");

    let daemon = Daemon::start(&config, "info", &[]);
    converge_and_stop(daemon, &config, 1, Duration::from_secs(60)).await;
    let documents = sandbox.workfront_documents();
    assert_eq!(documents.len(), FILES, "one document per file: {documents:#?}");
    for doc in &documents {
        let reference = doc["extRefID"].as_str().unwrap();
        let content = &contents[reference];
        let arrived = sandbox.workfront_document_upload(doc["ID"].as_str().unwrap()).unwrap();
        assert_eq!(
            (arrived.size, arrived.digest),
            (content.len(), content.digest()),
            "{reference}"
        );
    }
    eprintln!(
        "review crash loop: {ROUNDS} SIGKILLs ({at_failpoint} right after an upload), {} uploads for {FILES} documents",
        sandbox.counts().workfront_uploads
    );
}

/// The review loop killed at its narrow windows — right after a document was made, after an
/// approval was asked for, after the decision was shown in Frame.io — and at random moments,
/// while approvers decide: each file ends as one document, one approval, its field showing the
/// decision and one comment saying so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkills_across_the_review_loop_ask_once_and_show_each_decision_once() {
    const FILES: usize = 30;
    const ROUNDS: usize = 12;
    let sandbox = Sandbox::start(World::generated(1), Limits::unlimited()).await.unwrap();
    let wf_project = sandbox.world().workfront.projects[0].id.clone();
    sandbox.set_workfront_project_owner(&wf_project, "olga");
    let dir = tempfile::tempdir().unwrap();
    let config = write_sandbox_config(dir.path(), &sandbox, "1s").unwrap();
    // Workfront through an IMS credential (the sandbox's token endpoint), Unified Approvals on, as
    // in the demo.
    frameio_sync::demo::enable_review_loop(dir.path(), &config, &sandbox).unwrap();
    let settings = frameio_sync::config::load(&config).unwrap();

    // A first run makes the mirror; the files are then sent from it.
    let daemon = Daemon::start(&config, "info", &[]);
    converge_and_stop(daemon, &config, 1, Duration::from_secs(30)).await;
    let store = frameio_sync::store::Store::open(&settings.state.dir).unwrap();
    let mirror = store.mirrors().unwrap()[0].frameio_project.to_string();
    let mut files = Vec::new();
    for i in 0..FILES {
        let id = format!("file-{i}");
        sandbox.add_frameio_file(&mirror, &id, &format!("Cut {i}.mov"));
        files.push((id, format!("Cut {i}.mov")));
    }
    record_review_files(&store, &default_target(&settings), &wf_project, &files);
    drop(store);

    let points = [
        failpoint::AFTER_DOCUMENT,
        failpoint::AFTER_APPROVAL,
        failpoint::AFTER_SHOW_REVIEW,
    ];
    let mark = dir.path().join("failpoint-reached");
    let mut rng = XorShift(0x0f11_e5e0_0000_0021);
    let mut reached_at = BTreeMap::new();
    for round in 0..ROUNDS {
        // The approvers decide what is open, as people would between the daemon's runs.
        for version in sandbox.undecided_unified_approvals() {
            sandbox.decide_unified(&version, "olga", "Olga Owner", "approved");
        }
        let _ = std::fs::remove_file(&mark);
        let armed = (round % 4 != 3).then(|| points[round % 4 % points.len()]);
        let mut env = vec![("FRAMEIO_SYNC_FAILPOINT_MARK", mark.to_str().unwrap().to_owned())];
        if let Some(point) = armed {
            env.push(("FRAMEIO_SYNC_FAILPOINT", format!("{point}@1")));
        }
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let daemon = Daemon::start(&config, "info", &env);
        let reached = match armed {
            Some(_) => eventually(Duration::from_secs(10), || mark.exists()).await,
            None => {
                tokio::time::sleep(Duration::from_millis(50 + rng.next() % 500)).await;
                false
            }
        };
        daemon.kill(); // SIGKILL
        if let (Some(point), true) = (armed, reached) {
            *reached_at.entry(point).or_insert(0) += 1;
        }
    }
    for point in points {
        assert!(
            reached_at.get(point).copied().unwrap_or(0) >= 1,
            "no kill at {point}: {reached_at:?}"
        );
    }

    // Unarmed until every file shows its decision.
    let daemon = Daemon::start(&config, "info", &[]);
    let (account, _) = settings
        .frameio
        .default
        .as_ref()
        .map(|d| (d.account_id.to_string(), ()))
        .unwrap();
    let shown = eventually(Duration::from_secs(90), || {
        for version in sandbox.undecided_unified_approvals() {
            sandbox.decide_unified(&version, "olga", "Olga Owner", "approved");
        }
        files.iter().all(|(id, _)| {
            sandbox.frameio_field_value(&account, id, "Workfront review") == Some(vec!["Approved".to_owned()])
                && !sandbox.frameio_comments(id).is_empty()
        })
    })
    .await;
    assert!(shown, "not every file shows its decision");
    converge_and_stop(daemon, &config, 1, Duration::from_secs(30)).await;
    assert_eq!(sandbox.workfront_documents().len(), FILES, "one document per file");
    assert_eq!(
        sandbox.unified_approval_creates(),
        FILES as u64,
        "one approval per version"
    );
    for (id, _) in &files {
        let comments = sandbox.frameio_comments(id);
        assert_eq!(comments.len(), 1, "{id}: {comments:#?}");
    }
    assert_eq!(sandbox.frameio_fields(&account).len(), 1, "the field was made once");
    eprintln!("review crash loop: {ROUNDS} SIGKILLs, kills at failpoints {reached_at:?}");
}

/// Frame.io comments copied to Workfront, killed right after a note was made and at random: each
/// comment ends as exactly one note on its file's document.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkills_while_copying_comments_copy_each_comment_once() {
    const FILES: usize = 20;
    const ROUNDS: usize = 8;
    let sandbox = Sandbox::start(World::generated(1), Limits::unlimited()).await.unwrap();
    let wf_project = sandbox.world().workfront.projects[0].id.clone();
    let dir = tempfile::tempdir().unwrap();
    let config = write_sandbox_config(dir.path(), &sandbox, "1s").unwrap();
    let text = std::fs::read_to_string(&config).unwrap() + "\n[review]\ncomments_to_workfront = true\n";
    std::fs::write(&config, text).unwrap();
    let settings = frameio_sync::config::load(&config).unwrap();
    let daemon = Daemon::start(&config, "info", &[]);
    converge_and_stop(daemon, &config, 1, Duration::from_secs(30)).await;
    let store = frameio_sync::store::Store::open(&settings.state.dir).unwrap();
    let mirror = store.mirrors().unwrap()[0].frameio_project.to_string();
    let mut files = Vec::new();
    for i in 0..FILES {
        let id = format!("file-{i}");
        sandbox.add_frameio_file(&mirror, &id, &format!("Cut {i}.mov"));
        sandbox.add_frameio_comment(&id, "Ann Client", &format!("Note A on cut {i}"), Some("00:00:01:00"));
        sandbox.add_frameio_comment(&id, "Bo Producer", &format!("Note B on cut {i}"), None);
        files.push((id, format!("Cut {i}.mov")));
    }
    record_review_files(&store, &default_target(&settings), &wf_project, &files);
    drop(store);

    let mark = dir.path().join("failpoint-reached");
    let mut rng = XorShift(0x0f11_e5e0_0000_0022);
    let mut at_failpoint = 0;
    for round in 0..ROUNDS {
        let _ = std::fs::remove_file(&mark);
        let armed = round % 3 != 2;
        let mut env = vec![("FRAMEIO_SYNC_FAILPOINT_MARK", mark.to_str().unwrap().to_owned())];
        if armed {
            env.push(("FRAMEIO_SYNC_FAILPOINT", format!("{}@1", failpoint::AFTER_COMMENT_COPY)));
        }
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let daemon = Daemon::start(&config, "info", &env);
        let reached = if armed {
            eventually(Duration::from_secs(10), || mark.exists()).await
        } else {
            tokio::time::sleep(Duration::from_millis(50 + rng.next() % 400)).await;
            false
        };
        daemon.kill(); // SIGKILL
        at_failpoint += usize::from(reached);
    }
    assert!(
        at_failpoint >= 2,
        "only {at_failpoint} kills after a comment was copied"
    );

    let daemon = Daemon::start(&config, "info", &[]);
    let copied = |document_notes: &dyn Fn() -> usize| document_notes() == FILES * 2;
    let notes = || {
        sandbox
            .workfront_notes()
            .into_iter()
            .filter(|n| n["noteObjCode"] == "DOCU")
            .count()
    };
    let done = eventually(Duration::from_secs(60), || copied(&notes)).await;
    assert!(done, "{} of {} comments copied", notes(), FILES * 2);
    converge_and_stop(daemon, &config, 1, Duration::from_secs(30)).await;
    let mut markers = BTreeSet::new();
    for note in sandbox
        .workfront_notes()
        .into_iter()
        .filter(|n| n["noteObjCode"] == "DOCU")
    {
        let text = note["noteText"].as_str().unwrap().to_owned();
        let marker = text.rsplit_once("[frameio-comment:").unwrap().1.to_owned();
        assert!(markers.insert(marker), "a comment copied twice: {text}");
    }
    assert_eq!(markers.len(), FILES * 2);
    eprintln!("comment crash loop: {ROUNDS} SIGKILLs ({at_failpoint} right after a copy)");
}

/// New versions of files already in Workfront (a cut stacked on each file sent earlier), killed
/// right after a document version was added and at random: each document ends with exactly two
/// versions, the second carrying the new cut's bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkills_after_document_versions_add_each_version_once() {
    // Enough versions that some remain for every armed round: up to three go at once, and the
    // others go on while the thread that reached the failpoint is frozen (more so on a busy machine).
    const FILES: usize = 60;
    const ROUNDS: usize = 8;
    let sandbox = Sandbox::start(World::generated(1), Limits::unlimited()).await.unwrap();
    let wf_project = sandbox.world().workfront.projects[0].id.clone();
    let dir = tempfile::tempdir().unwrap();
    let config = write_sandbox_config(dir.path(), &sandbox, "1h").unwrap();
    let settings = frameio_sync::config::load(&config).unwrap();
    let daemon = Daemon::start(&config, "info", &[]);
    converge_and_stop(daemon, &config, 1, Duration::from_secs(30)).await;
    let mirror = {
        let store = frameio_sync::store::Store::open(&settings.state.dir).unwrap();
        store.mirrors().unwrap()[0].frameio_project.to_string()
    };
    // The first cuts, sent and delivered.
    let firsts: Vec<(String, String)> = (0..FILES)
        .map(|i| (format!("cut-{i}-v1"), format!("Cut {i}.mov")))
        .collect();
    for (id, name) in &firsts {
        sandbox.add_frameio_file(&mirror, id, name);
    }
    {
        let store = frameio_sync::store::Store::open(&settings.state.dir).unwrap();
        record_review_files(&store, &default_target(&settings), &wf_project, &firsts);
    }
    let daemon = Daemon::start(&config, "info", &[]);
    converge_and_stop(daemon, &config, 1, Duration::from_secs(60)).await;
    assert_eq!(sandbox.workfront_documents().len(), FILES);

    // A second cut stacked on each, and sent.
    let seconds: Vec<(String, String)> = (0..FILES)
        .map(|i| (format!("cut-{i}-v2"), format!("Cut {i}.mov")))
        .collect();
    for (i, (id, name)) in seconds.iter().enumerate() {
        sandbox.add_frameio_file(&mirror, id, name);
        sandbox.stack_frameio_files(&format!("stack-{i}"), &[&firsts[i].0, id]);
    }
    {
        let store = frameio_sync::store::Store::open(&settings.state.dir).unwrap();
        record_review_files(&store, &default_target(&settings), &wf_project, &seconds);
    }
    let mark = dir.path().join("failpoint-reached");
    let mut rng = XorShift(0x0f11_e5e0_0000_0023);
    let mut at_failpoint = 0;
    for round in 0..ROUNDS {
        let _ = std::fs::remove_file(&mark);
        let armed = round % 3 != 2;
        let mut env = vec![("FRAMEIO_SYNC_FAILPOINT_MARK", mark.to_str().unwrap().to_owned())];
        if armed {
            env.push((
                "FRAMEIO_SYNC_FAILPOINT",
                format!("{}@1", failpoint::AFTER_DOCUMENT_VERSION),
            ));
        }
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let daemon = Daemon::start(&config, "info", &env);
        let reached = if armed {
            eventually(Duration::from_secs(8), || mark.exists()).await
        } else {
            tokio::time::sleep(Duration::from_millis(20 + rng.next() % 300)).await;
            false
        };
        daemon.kill(); // SIGKILL
        at_failpoint += usize::from(reached);
    }
    assert!(at_failpoint >= 3, "only {at_failpoint} kills after a version was added");
    let daemon = Daemon::start(&config, "info", &[]);
    converge_and_stop(daemon, &config, 1, Duration::from_secs(60)).await;
    let documents = sandbox.workfront_documents();
    assert_eq!(documents.len(), FILES, "no second document");
    for doc in &documents {
        let versions = sandbox.workfront_document_versions(doc["ID"].as_str().unwrap());
        let labels: Vec<&str> = versions.iter().map(|(v, _)| v["version"].as_str().unwrap()).collect();
        assert_eq!(labels.len(), 2, "{labels:?}");
        assert!(
            labels[1].starts_with("v2 frameio-file:cut-") && labels[1].ends_with("-v2"),
            "{labels:?}"
        );
        let name = doc["name"].as_str().unwrap();
        assert_eq!(
            versions[1].1.bytes.as_deref(),
            Some(format!("the bytes of {name}").as_bytes())
        );
    }
    eprintln!("version crash loop: {ROUNDS} SIGKILLs ({at_failpoint} right after a version was added)");
}

/// The one-way folder killed at its windows — right after a file's parts were sent, right after a
/// version was stacked, once right after a file was created for upload, and at random moments —
/// while it pushes thirty documents and then a second version of each: each version ends as one
/// whole file with the document's bytes, the two versions of each document in one stack (the
/// newest on top), one folder. A kill right after `local_upload` answered leaves an empty file
/// (Frame.io gives no second set of part addresses, and nothing is deleted): every such file is
/// named in the records (and `status`), and is never the version's file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkills_across_the_one_way_folder_push_each_version_once() {
    const DOCS: usize = 30;
    let sandbox = Sandbox::start(World::generated(1), Limits::unlimited()).await.unwrap();
    sandbox.set_upload_part_size(64 << 10);
    let wf_project = sandbox.world().workfront.projects[0].id.clone();
    let dir = tempfile::tempdir().unwrap();
    let config = write_sandbox_config(dir.path(), &sandbox, "1h").unwrap();
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[folder]\nenabled = true\n");
    std::fs::write(&config, text).unwrap();
    let settings = frameio_sync::config::load(&config).unwrap();
    let content = |i: usize, version: u8| FileContent::Pattern {
        size: 150_000 + i as u64 * 1_009 + u64::from(version) * 7,
        seed: i as u8 ^ (version << 6),
    };
    let documents: Vec<String> = (0..DOCS)
        .map(|i| sandbox.add_workfront_document(&wf_project, &format!("Brief {i}.pdf"), content(i, 1), false))
        .collect();
    let mark = dir.path().join("failpoint-reached");
    let mut rng = XorShift(0x0f11_e5e0_0000_0020);
    let mut kills = BTreeMap::new();
    let failpoints = [
        failpoint::AFTER_PARTS,
        failpoint::AFTER_LOCAL_UPLOAD,
        failpoint::AFTER_PARTS,
    ];
    folder_rounds(&config, &mark, &mut rng, &mut kills, failpoints).await;
    let daemon = Daemon::start(&config, "info", &[]);
    converge_and_stop(daemon, &config, 1, Duration::from_secs(90)).await;

    // A second version of each, pushed and stacked under the same kills.
    for (i, document) in documents.iter().enumerate() {
        sandbox.add_workfront_document_version(document, &format!("Brief {i}.pdf"), content(i, 2));
    }
    let failpoints = [failpoint::AFTER_STACK, failpoint::AFTER_PARTS, failpoint::AFTER_STACK];
    folder_rounds(&config, &mark, &mut rng, &mut kills, failpoints).await;
    let daemon = Daemon::start(&config, "info", &[]);
    converge_and_stop(daemon, &config, 1, Duration::from_secs(90)).await;
    assert!(
        kills.get(failpoint::AFTER_PARTS).copied().unwrap_or(0) >= 2
            && kills.get(failpoint::AFTER_STACK).copied().unwrap_or(0) >= 2,
        "too few kills at the failpoints: {kills:?}"
    );

    let store = frameio_sync::store::Store::open(&settings.state.dir).unwrap();
    let waiting: Vec<String> = store
        .outbox_entries()
        .unwrap()
        .iter()
        .map(|e| format!("{} {:?}", e.effect.describe(), e.state))
        .collect();
    assert!(waiting.is_empty(), "nothing parked or dead: {waiting:#?}");
    let mirror = store.mirrors().unwrap()[0].frameio_project.to_string();
    let root = sandbox.frameio_root_folder(&mirror);
    let folders: Vec<_> = sandbox
        .frameio_folders(&mirror)
        .into_iter()
        .filter(|(_, parent, name)| *parent == root && name == "From Workfront")
        .collect();
    assert_eq!(folders.len(), 1, "one folder");
    let folder = &folders[0].0;
    let pushed = store.pushed_all().unwrap();
    assert_eq!(pushed.len(), 2 * DOCS, "each version recorded once");
    let placeholders: BTreeSet<String> = pushed
        .iter()
        .flat_map(|p| p.placeholders.iter().map(|f| f.to_string()))
        .collect();
    // Loose in the folder: only the empty files named as placeholders.
    for (id, name, _, whole) in sandbox.frameio_folder_files(folder) {
        assert!(
            !whole && placeholders.contains(&id),
            "{name} ({id}) is loose in the folder and not a recorded placeholder"
        );
    }
    let stacks = sandbox.frameio_folder_stacks(folder);
    assert_eq!(stacks.len(), DOCS, "one stack per document");
    for (i, document) in documents.iter().enumerate() {
        let versions: Vec<_> = {
            let mut v: Vec<_> = pushed.iter().filter(|p| p.document.as_str() == document).collect();
            v.sort_by_key(|p| p.pushed_at);
            v
        };
        assert_eq!(versions.len(), 2);
        let stack = stacks
            .iter()
            .find(|s| s.contains(&versions[0].file.to_string()))
            .expect("the first version is in a stack");
        assert_eq!(
            stack,
            &vec![versions[0].file.to_string(), versions[1].file.to_string()],
            "oldest first, the newest on top, nothing else"
        );
        for (version, n) in versions.iter().zip([1u8, 2]) {
            assert_eq!(
                sandbox.frameio_file_bytes(version.file.as_str()).unwrap(),
                content(i, n).to_vec(),
                "document {i} version {n}"
            );
        }
    }
    eprintln!(
        "folder crash loop: 16 SIGKILLs, at the failpoints {kills:?}; {} empty files left by a kill right after local_upload",
        placeholders.len()
    );
}

/// `ROUNDS` starts of the daemon, each killed: at the first of `failpoints` in two rounds of four,
/// at the second (in the first four rounds, else the third) in one, at a random moment in the
/// fourth. Counts the kills that reached their failpoint.
async fn folder_rounds(
    config: &Path,
    mark: &Path,
    rng: &mut XorShift,
    kills: &mut BTreeMap<&'static str, usize>,
    failpoints: [&'static str; 3],
) {
    const ROUNDS: usize = 8;
    for round in 0..ROUNDS {
        let _ = std::fs::remove_file(mark);
        let armed = match round % 4 {
            0 | 2 => Some(failpoints[0]),
            1 if round < 4 => Some(failpoints[1]),
            1 => Some(failpoints[2]),
            _ => None,
        };
        let mut env = vec![("FRAMEIO_SYNC_FAILPOINT_MARK", mark.to_str().unwrap().to_owned())];
        if let Some(failpoint) = armed {
            env.push(("FRAMEIO_SYNC_FAILPOINT", format!("{failpoint}@1")));
        }
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let daemon = Daemon::start(config, "info", &env);
        let reached = match armed {
            Some(_) => eventually(Duration::from_secs(8), || mark.exists()).await,
            None => {
                tokio::time::sleep(Duration::from_millis(50 + rng.next() % 400)).await;
                false
            }
        };
        daemon.kill(); // SIGKILL
        if let (Some(failpoint), true) = (armed, reached) {
            *kills.entry(failpoint).or_insert(0) += 1;
        }
    }
}
