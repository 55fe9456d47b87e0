//! Power cuts (needs `--features powerloss`, /dev/fuse, and root or `fusermount3`): the daemon's
//! state dir lives on [`LazyFs`], which keeps only what was fsynced when the power goes. Each
//! round starts the daemon, delivers Workfront events by webhook while it creates mirrors, and
//! cuts the power — right after Frame.io carried out a create (the in-flight mark must be on disk
//! by then), right after an event was acknowledged (the event must be on disk by then), or at a
//! random moment. A cut freezes the daemon (SIGSTOP), drops every write not yet fsynced, kills it,
//! and starts it again. At the end: every acknowledged event was applied, every Workfront project
//! has exactly one mirror, and every start succeeded.

use crate::cli::Daemon;
use crate::crash::{assert_one_mirror_each, converge_and_stop, XorShift};
use crate::helpers::{add_http_listener, deliver_event, wait_for_listener};
use crate::lazyfs::{put_state_on, LazyFs};
use crate::webhooks::project_event;
use frameio_sync::demo::write_sandbox_config;
use frameio_sync_sandbox::{Limits, Sandbox, World};
use std::time::Duration;

const PROJECTS: usize = 20;
const CUTS: usize = 15;
const EVENTS_PER_ROUND: usize = 2;
const TOKEN: &str = "wf-webhook-token-power-loss-0123456789";

/// Delivers an event as Workfront would (see [`deliver_event`]).
async fn deliver(port: u16, body: String) -> Option<u16> {
    deliver_event(port, TOKEN, body).await
}

/// A delivery's answer: still awaited, or known.
enum Answer {
    Waiting(tokio::task::JoinHandle<Option<u16>>),
    Done(Option<u16>),
}

impl Answer {
    async fn wait(&mut self) -> Option<u16> {
        match self {
            Answer::Waiting(handle) => handle.await.unwrap(),
            Answer::Done(answer) => *answer,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum CutAt {
    AfterCreate,
    AfterAck,
    Random,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn power_cuts_lose_no_acknowledged_event_and_duplicate_no_create() {
    let mount = tempfile::tempdir().unwrap();
    let (fs, _session) = LazyFs::mount(mount.path())
        .expect("mounting the power-loss file system needs /dev/fuse, and root or fusermount3");
    let limits = Limits::creates_per_second(5);
    let sandbox = Sandbox::start(World::generated(PROJECTS), limits).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = write_sandbox_config(dir.path(), &sandbox, "1h").unwrap();
    let state_dir = put_state_on(&config, mount.path());
    let port = add_http_listener(&config, TOKEN, "");
    let mut creates = sandbox.subscribe_creates();
    let mut rng = XorShift(0x90e7_c0f5_0000_0022);

    // (project id, event time) of every event answered 200, and the bodies never answered.
    let mut acknowledged: Vec<(String, i64)> = Vec::new();
    let mut unanswered: Vec<(String, String, i64)> = Vec::new();
    let mut cuts = Vec::new();
    for round in 0..CUTS {
        let daemon = Daemon::start(&config, "info", &[]);
        wait_for_listener(port).await;

        let mut deliveries = Vec::new();
        for (id, body, time) in unanswered.drain(..) {
            let answer = Answer::Waiting(tokio::spawn(deliver(port, body.clone())));
            deliveries.push((id, body, time, answer));
        }
        for k in 0..EVENTS_PER_ROUND {
            let id = format!("5e00000000000000000000000{round:03}{k:04}");
            let name = format!("Event project {round}.{k}");
            sandbox.upsert_workfront_project(&id, &name);
            let time = 1_000 + (round * EVENTS_PER_ROUND + k) as i64;
            let body = project_event("CREATE", &id, &name, time).to_string();
            let answer = Answer::Waiting(tokio::spawn(deliver(port, body.clone())));
            deliveries.push((id, body, time, answer));
        }

        let at = match round % 3 {
            0 => CutAt::AfterCreate,
            1 => CutAt::AfterAck,
            _ => CutAt::Random,
        };
        match at {
            CutAt::AfterCreate => {
                while creates.try_recv().is_ok() {}
                let _ = tokio::time::timeout(Duration::from_secs(10), creates.recv()).await;
            }
            CutAt::AfterAck => {
                let (_, _, _, answer) = deliveries.last_mut().unwrap();
                if let Ok(done) = tokio::time::timeout(Duration::from_secs(10), answer.wait()).await {
                    *answer = Answer::Done(done);
                }
            }
            CutAt::Random => tokio::time::sleep(Duration::from_millis(rng.next() % 600)).await,
        }
        // The power goes: the process stops where it is, the disk keeps what was fsynced.
        daemon.signal("STOP");
        fs.cut();
        daemon.kill();
        fs.resume();
        cuts.push(at);

        // Unanswered bodies are delivered again, as Workfront would.
        for (id, body, time, mut answer) in deliveries {
            // A delivery already finished keeps its answer; one still waiting ends with the process.
            match answer.wait().await {
                Some(200) => acknowledged.push((id, time)),
                _ => unanswered.push((id, body, time)),
            }
        }
    }

    // Power stays on: the last start takes the redeliveries and converges.
    let daemon = Daemon::start(&config, "info", &[]);
    wait_for_listener(port).await;
    for (id, body, time) in unanswered.drain(..) {
        assert_eq!(deliver(port, body).await, Some(200), "redelivery of {id}");
        acknowledged.push((id, time));
    }
    let expected = PROJECTS + CUTS * EVENTS_PER_ROUND;
    converge_and_stop(daemon, &config, expected, Duration::from_secs(120)).await;
    let store = frameio_sync::store::Store::open(&state_dir).unwrap();
    let mut lost = Vec::new();
    for (id, time) in &acknowledged {
        let applied = store.event_mark(&format!("PROJ:{id}")).unwrap();
        if applied.is_none_or(|mark| mark.millis() < time * 1000) {
            lost.push(id);
        }
    }
    let waiting = store.inbox_len();
    drop(store);
    let stats = fs.stats();
    eprintln!(
        "power loss: {} cuts ({cuts:?}), {} events acknowledged, {} lost; {} Frame.io creates for {expected} projects; {} file and {} directory fsyncs",
        stats.cuts,
        acknowledged.len(),
        lost.len(),
        sandbox.counts().frameio_creates,
        stats.file_fsyncs,
        stats.dir_fsyncs,
    );
    assert_eq!(waiting, 0, "every event recorded was applied");
    assert!(lost.is_empty(), "acknowledged events lost at a cut: {lost:?}");
    drop(assert_one_mirror_each(&sandbox, &state_dir, expected));
}
