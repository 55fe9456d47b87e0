//! Shared set-up: settings pointing at a mock or the sandbox, an in-process daemon, and waiting on
//! conditions (never on fixed sleeps).

use frameio_sync::config::{self, Settings};
use frameio_sync::daemon;
use frameio_sync::demo::write_sandbox_config;
use frameio_sync::store::Store;
use frameio_sync_sandbox::{Limits, Sandbox, World};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub const WF_KEY: &str = "wf-test-api-key-0123456789";
pub const FIO_TOKEN: &str = "fio-u-test-token-abcdefghijklmnopqrstuvwxyz";

/// Logs go to the test output only when `TEST_LOG` is set.
pub fn init_logs() {
    if std::env::var_os("TEST_LOG").is_some() {
        frameio_sync::telemetry::init("debug", frameio_sync::telemetry::LogFormat::Text);
    }
}

/// Writes a configuration whose Workfront and Frame.io are at the given URLs, with its secrets,
/// into `dir`; returns the file's path.
pub fn write_config(dir: &Path, workfront_url: &str, frameio_url: &str, extra_workfront: &str) -> PathBuf {
    std::fs::write(dir.join("wf-key"), WF_KEY).unwrap();
    std::fs::write(dir.join("fio-token"), FIO_TOKEN).unwrap();
    let text = format!(
        r#"[workfront]
base_url = "{workfront_url}"
api_key_file = "wf-key"
{extra_workfront}

[frameio]
base_url = "{frameio_url}"

[frameio.default]
token_file = "fio-token"
account_id = "acc-1"
workspace_id = "ws-1"

[state]
dir = "state"
"#
    );
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The settings [`write_config`] writes.
pub fn settings_for(dir: &Path, workfront_url: &str, frameio_url: &str, extra_workfront: &str) -> Settings {
    config::load(&write_config(dir, workfront_url, frameio_url, extra_workfront)).unwrap()
}

/// Polls `condition` every 20 ms until it holds (true) or `limit` passes (false).
pub async fn eventually(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while !condition() {
        if start.elapsed() >= limit {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}

/// Like [`eventually`], failing the test on timeout.
#[track_caller]
pub fn wait_until(what: &str, limit: Duration, condition: impl FnMut() -> bool) -> impl Future<Output = ()> {
    let caller = std::panic::Location::caller();
    let what = what.to_owned();
    async move {
        assert!(
            eventually(limit, condition).await,
            "timed out after {limit:?} waiting for {what} (at {caller})"
        );
    }
}

/// A sandbox and a daemon running in this process against it.
pub struct TestApp {
    pub sandbox: Sandbox,
    /// Holds the config, secrets and state dir; removed when the app is dropped.
    _dir: tempfile::TempDir,
    pub config_path: PathBuf,
    pub settings: Settings,
    store: Option<Store>,
    pub resync: mpsc::Sender<()>,
    /// Where the HTTP listener is, when `settings.http` was set at start (bound on port 0).
    pub http_addr: Option<std::net::SocketAddr>,
    shutdown: CancellationToken,
    daemon: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    /// Starts the sandbox with `world` and a daemon polling every second.
    pub async fn spawn(world: World, limits: Limits) -> Self {
        let mut app = Self::prepare(world, limits).await;
        app.start();
        app
    }

    /// The sandbox and the configuration, without a daemon (and without opening the store, so
    /// the CLI can use it) until [`TestApp::start`].
    pub async fn prepare(world: World, limits: Limits) -> Self {
        init_logs();
        let sandbox = Sandbox::start(world, limits).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let config_path = write_sandbox_config(dir.path(), &sandbox, "1s").unwrap();
        let settings = config::load(&config_path).unwrap();
        Self {
            sandbox,
            _dir: dir,
            config_path,
            settings,
            store: None,
            resync: mpsc::channel(1).0,
            http_addr: None,
            shutdown: CancellationToken::new(),
            daemon: None,
        }
    }

    /// Turns the HTTP listener on with `token` as the Workfront webhook token (before `start`).
    pub fn enable_http(&mut self, token: &str) {
        self.settings.http = Some(frameio_sync::config::HttpSettings {
            workfront_webhook_token: Some(frameio_sync::secret::Secret::new(token)),
            ..frameio_sync::config::HttpSettings::new("127.0.0.1:0".parse().unwrap())
        });
    }

    /// `http://127.0.0.1:<port>` of the running listener.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.http_addr.expect("the HTTP listener is on"))
    }

    /// Starts the daemon (opening the store if needed).
    pub fn start(&mut self) {
        if self.store.is_none() {
            self.store = Some(Store::open(&self.settings.state.dir).unwrap());
        }
        let (resync, resync_rx) = mpsc::channel(1);
        self.resync = resync;
        self.shutdown = CancellationToken::new();
        let http = self.settings.http.as_ref().map(|_| {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.set_nonblocking(true).unwrap();
            self.http_addr = Some(listener.local_addr().unwrap());
            tokio::net::TcpListener::from_std(listener).unwrap()
        });
        self.daemon = Some(tokio::spawn(daemon::run(
            self.settings.clone(),
            self.store().clone(),
            http,
            resync_rx,
            self.shutdown.clone(),
        )));
    }

    /// Stops the daemon gracefully and waits for it.
    pub async fn stop(&mut self) {
        self.shutdown.cancel();
        if let Some(daemon) = self.daemon.take() {
            daemon.await.unwrap().unwrap();
        }
    }

    /// Waits for the daemon to end by itself (a failed start), and returns how it ended.
    pub async fn exited(&mut self) -> anyhow::Result<()> {
        let daemon = self.daemon.take().expect("the daemon was started");
        daemon.await.unwrap()
    }

    /// Stops the daemon, reopens the store from disk, and starts a new daemon on it.
    pub async fn restart(&mut self) {
        self.stop().await;
        // Every handle must be gone before sled lets the dir be opened again.
        self.store = None;
        self.store = Some(Store::open(&self.settings.state.dir).unwrap());
        self.start();
    }

    /// The folder holding the config, secrets and state.
    pub fn dir(&self) -> &Path {
        self._dir.path()
    }

    /// Closes the store so another process (the CLI) can open it; the daemon must be stopped.
    pub fn take_store(&mut self) -> Option<Store> {
        self.store.take()
    }

    pub fn store(&self) -> &Store {
        self.store.as_ref().expect("the store is open")
    }

    /// Opens the store without starting a daemon, for a test that drives the engine itself.
    pub fn open_store(&mut self) -> Store {
        let store = Store::open(&self.settings.state.dir).unwrap();
        self.store = Some(store.clone());
        store
    }

    pub async fn wait_for_mirrors(&self, n: usize) {
        let store = self.store().clone();
        wait_until(&format!("{n} mirrors"), Duration::from_secs(30), move || {
            store.mirror_count() >= n
        })
        .await;
    }

    /// Asks for a full resync and waits until it is recorded.
    pub async fn resync_and_wait(&self) -> frameio_sync::store::SyncRecord {
        let before = self.store().last_sync().unwrap().map_or(0, |s| s.seq);
        self.resync.send(()).await.unwrap();
        let store = self.store().clone();
        wait_until("a resync", Duration::from_secs(30), || {
            store
                .last_sync()
                .unwrap()
                .is_some_and(|s| s.seq > before && s.scope == frameio_sync::core::mirror_plan::Scope::Full)
        })
        .await;
        self.store().last_sync().unwrap().unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Turns on the `[http]` listener in a config file for a daemon run as a child process: the
/// webhook token goes to `webhook-token` beside the config (mode 0600), `extra` lines are added
/// to the section, and the port (free when probed) is returned.
pub fn add_http_listener(config: &Path, webhook_token: &str, extra: &str) -> u16 {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    frameio_sync::store::secret_files::write_secret_file(
        &config.with_file_name("webhook-token"),
        &frameio_sync::secret::Secret::new(webhook_token),
    )
    .unwrap();
    let mut text = std::fs::read_to_string(config).unwrap();
    text.push_str(&format!(
        "\n[http]\nlisten = \"127.0.0.1:{port}\"\nworkfront_webhook_token_file = \"webhook-token\"\n{extra}"
    ));
    std::fs::write(config, text).unwrap();
    port
}

/// Delivers a Workfront event to the listener on `port` as Workfront would: `Some(status)` if
/// answered, `None` if the connection broke or no answer came within 10 s.
pub async fn deliver_event(port: u16, token: &str, body: String) -> Option<u16> {
    let answer = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/workfront/events"))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .timeout(Duration::from_secs(10))
        .body(body)
        .send()
        .await;
    answer.ok().map(|r| r.status().as_u16())
}

/// Waits until something accepts connections on the loopback `port`.
pub async fn wait_for_listener(port: u16) {
    wait_until("the HTTP listener", Duration::from_secs(30), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    })
    .await;
}

/// The flagged people of the fault and crash-loop worlds, and project `i`'s team: two or three
/// of them, so every mirror gets its own set.
pub const PEOPLE: [&str; 5] = ["alice", "bob", "carol", "dave", "erin"];

pub fn team_of(i: usize) -> Vec<&'static str> {
    (0..2 + i % 2).map(|k| PEOPLE[(i + k) % PEOPLE.len()]).collect()
}

/// Records in `store` one review-file document per `(file id, name)` on Workfront project
/// `wf_project`, as a submission would.
pub fn record_review_files(
    store: &Store,
    target: &frameio_sync::core::model::Target,
    wf_project: &str,
    files: &[(String, String)],
) {
    use frameio_sync::core::mirror_plan::Planned;
    use frameio_sync::effects::{AddDocument, Effect, ReviewFile};
    // The mirror the files are in, when the project has one by now (as a submission knows it).
    let mirror = store
        .mirror(&frameio_sync::ids::WorkfrontProjectId::new(wf_project).unwrap())
        .unwrap()
        .map(|m| m.frameio_project);
    use frameio_sync::ids::{FrameioFileId, WorkfrontProjectId, WorkfrontUserId};
    let planned: Vec<Planned> = files
        .iter()
        .map(|(id, name)| Planned {
            effect: Effect::AddDocument(AddDocument {
                interaction: format!("interaction-{id}"),
                wf_project: WorkfrontProjectId::new(wf_project).unwrap(),
                wf_user: WorkfrontUserId::new("alice").unwrap(),
                user_name: "Alice".into(),
                asset_name: name.clone(),
                asset_url: format!("https://next.frame.io/project/p/view/{id}"),
                file: Some(ReviewFile {
                    id: FrameioFileId::new(id.as_str()).unwrap(),
                    target: target.clone(),
                    mirror: mirror.clone(),
                }),
                task: None,
                message: None,
            }),
            reason: "sent for review".into(),
        })
        .collect();
    let recording = frameio_sync::store::Recording {
        enqueue: planned.iter().collect(),
        ..Default::default()
    };
    store
        .record_plan(&recording, frameio_sync::timestamp::Timestamp::now())
        .unwrap();
    store.flush_blocking().unwrap();
}

/// The default account's target in `settings`.
pub fn default_target(settings: &Settings) -> frameio_sync::core::model::Target {
    let default = settings.frameio.default.as_ref().unwrap();
    frameio_sync::core::model::Target {
        account: default.account_id.clone(),
        workspace: default.workspace_id.clone(),
        via: None,
    }
}
