//! F9 under `kill -9`: the daemon runs as a child process and is killed at random moments while it
//! converges — half of the kills right after the sandbox created a project and before its answer
//! can be recorded, the narrowest window — then restarted. At the end every Workfront project has
//! exactly one mirror and Frame.io holds no duplicate.

use crate::cli::{cli, spawn_daemon, Daemon};
use crate::helpers::eventually;
use frameio_sync::demo::write_sandbox_config;
use frameio_sync::store::Store;
use frameio_sync_sandbox::{Faults, Limits, Sandbox, World};
use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

const PROJECTS: usize = 50;
const KILLS: usize = 12;

/// A small deterministic generator, so a failing run can be repeated.
pub(crate) struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_daemon_at_random_moments_never_duplicates_or_loses_a_mirror() {
    // Five creates a second keeps the daemon converging across all the kills.
    let limits = Limits::creates_per_second(5);
    let sandbox = Sandbox::start(World::generated(PROJECTS), limits).await.unwrap();
    sandbox.set_faults(Faults {
        ambiguous_creates: 3,
        ..Faults::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let config = write_sandbox_config(dir.path(), &sandbox, "1s").unwrap();
    let mut creates = sandbox.subscribe_creates();
    let mut rng = XorShift(0x5eed_f00d_d15c_0001);

    let mut kills = 0;
    let mut kills_after_create = 0;
    while kills < KILLS {
        let daemon = spawn_daemon(&config);
        let converged = sandbox.frameio_projects().len() >= PROJECTS;
        if kills % 2 == 0 && !converged {
            // Drop notices of creates from before this start, then kill on the next one.
            while creates.try_recv().is_ok() {}
            if tokio::time::timeout(Duration::from_secs(20), creates.recv())
                .await
                .is_ok()
            {
                kills_after_create += 1;
            }
        } else {
            tokio::time::sleep(Duration::from_millis(20 + rng.next() % 400)).await;
        }
        daemon.kill(); // SIGKILL
        kills += 1;
    }
    assert!(
        kills_after_create >= 3,
        "only {kills_after_create} kills landed right after a create"
    );

    converge_and_stop(spawn_daemon(&config), &config, PROJECTS, Duration::from_secs(60)).await;
    drop(assert_one_mirror_each(&sandbox, &dir.path().join("state"), PROJECTS));
    eprintln!(
        "crash test: {kills} kills ({kills_after_create} right after a create), {} creates, {} Frame.io requests",
        sandbox.counts().frameio_creates,
        sandbox.counts().frameio_requests
    );
}

/// Waits until the daemon has `expected` mirrors and nothing pending, then stops it with SIGTERM.
/// On failure the daemon guard prints the tail of its log.
pub(crate) async fn converge_and_stop(daemon: Daemon, config: &Path, expected: usize, limit: Duration) {
    let converged = eventually(limit, || {
        let out = cli(config, &["status", "--json"]);
        let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        status["mirrors"] == expected && status["outbox"]["pending"] == 0
    })
    .await;
    assert!(converged, "no convergence within {limit:?}");
    daemon.signal("TERM");
    assert!(daemon.wait().await.success());
}

/// Every Workfront project has exactly one mirror, and Frame.io holds nothing else: `expected`
/// projects with distinct names, each some Workfront project's recorded mirror. Returns the store
/// (opened from `state_dir`; the daemon must be stopped) for further checks.
pub(crate) fn assert_one_mirror_each(sandbox: &Sandbox, state_dir: &Path, expected: usize) -> Store {
    let in_frameio = sandbox.frameio_projects();
    let names: HashSet<&str> = in_frameio.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(in_frameio.len(), expected, "duplicate or missing Frame.io projects");
    assert_eq!(names.len(), expected);
    let store = Store::open(state_dir).unwrap();
    let mirrors = store.mirrors().unwrap();
    assert_eq!(mirrors.len(), expected);
    let frameio_ids: HashSet<&str> = in_frameio.iter().map(|p| p.id.as_str()).collect();
    let mapped: HashSet<&str> = mirrors.iter().map(|m| m.frameio_project.as_str()).collect();
    assert_eq!(
        mapped, frameio_ids,
        "every Frame.io project is some Workfront project's one mirror"
    );
    store
}
