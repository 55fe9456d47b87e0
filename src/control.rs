//! The control socket: how the CLI talks to a running daemon.
//!
//! sled admits one process per state dir, so while the daemon runs, `status` and `outbox …` cannot
//! open the store themselves. The daemon listens on `<state dir>/control.sock` (mode 0600, so only
//! the service user and root can use it); a request is one JSON line, the answer one JSON line.
//! When no daemon answers, the CLI opens the store and runs the same [`execute`].

use crate::accept::AcceptErrors;
use crate::config::Settings;
use crate::core::model::Credential;
use crate::engine::Engine;
use crate::ids::OutboxId;
use crate::ids::WorkfrontGroupId;
use crate::secret::Secret;
use crate::status::{self, ConnectionSummary, EntrySummary};
use crate::store::ConnectionRecord;
use crate::store::{Store, StoreError};
use crate::timestamp::Timestamp;
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio_util::sync::CancellationToken;

pub const SOCKET_NAME: &str = "control.sock";

/// Longest request line accepted; requests are tiny.
const MAX_REQUEST: u64 = 64 * 1024;
/// How long a control client may take to send its one line.
const REQUEST_READ_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Request {
    Status,
    OutboxList,
    OutboxRetry {
        id: u64,
    },
    OutboxDrop {
        id: u64,
    },
    Connections,
    /// The connection records themselves (no secrets: those stay in their files).
    ConnectionRecords,
    /// Store a validated connection (and apply it, in a running daemon).
    Connect {
        record: Box<ConnectionRecord>,
        token: WireToken,
    },
    Disconnect {
        group: WorkfrontGroupId,
    },
    /// Release the removals the mass-removal guard held.
    ConfirmRemovals,
    /// Plan a full resync and return it, doing none of it (`frameio-sync plan`).
    Plan,
}

/// A token crossing the control socket (mode 0600, same host). It must serialize to travel, so
/// unlike [`Secret`] it has a serializable form; its `Debug` still redacts.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WireToken(String);

impl WireToken {
    pub fn new(secret: &Secret) -> Self {
        Self(secret.expose().to_owned())
    }

    fn into_secret(self) -> Secret {
        Secret::new(self.0)
    }
}

impl std::fmt::Debug for WireToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WireToken([redacted])")
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Response {
    Ok(serde_json::Value),
    Error(String),
}

/// Runs `request` against `store`, and, inside a running daemon (`engine` given), applies
/// connection changes to it at once.
pub fn execute(store: &Store, request: Request, engine: Option<&Engine>) -> anyhow::Result<serde_json::Value> {
    let value = match request {
        Request::Status => serde_json::to_value(status::gather(store, engine.is_some())?)?,
        Request::OutboxList => {
            let entries: Vec<EntrySummary> = store.outbox_entries()?.iter().map(EntrySummary::of).collect();
            serde_json::to_value(entries)?
        }
        Request::OutboxRetry { id } => {
            let entry = store
                .retry_entry(OutboxId(id), Timestamp::now())
                .with_context(|| format!("cannot retry outbox entry {id}"))?;
            store.flush_blocking()?;
            if let Some(engine) = engine {
                engine.work_ready.notify_one();
            }
            serde_json::to_value(EntrySummary::of(&entry))?
        }
        Request::OutboxDrop { id } => {
            let entry = store
                .drop_entry(OutboxId(id))
                .with_context(|| format!("cannot drop outbox entry {id}"))?;
            store.flush_blocking()?;
            tracing::warn!(outbox_id = id, effect = %entry.effect.describe(), "outbox entry dropped by an admin");
            serde_json::to_value(EntrySummary::of(&entry))?
        }
        Request::Connections => {
            let list: Vec<ConnectionSummary> = store.connections()?.iter().map(ConnectionSummary::of).collect();
            serde_json::to_value(list)?
        }
        Request::ConnectionRecords => serde_json::to_value(store.connections()?)?,
        Request::Connect { record, token } => {
            let token = token.into_secret();
            store
                .save_connection(&record, &token)
                .context("cannot store the connection")?;
            let resumed = match engine {
                Some(engine) => engine.apply_connection(&record, token)?,
                None => store.resume_parked_for(&Credential::Group(record.group.clone()), Timestamp::now())?,
            };
            store.flush_blocking()?;
            serde_json::json!({
                "connection": ConnectionSummary::of(&record),
                "resumed": resumed,
                "daemon_running": engine.is_some(),
            })
        }
        // A plan reads Workfront, so it is async: the daemon's socket and the CLI run it
        // themselves (`ask`), never through here.
        Request::Plan => anyhow::bail!("a plan is made by the engine, not from the store alone"),
        Request::ConfirmRemovals => {
            let released = store.release_held_removals(Timestamp::now())?;
            store.flush_blocking()?;
            if let Some(engine) = engine {
                engine.work_ready.notify_one();
            }
            if released > 0 {
                tracing::warn!(released, "held collaborator removals confirmed by an admin");
            }
            serde_json::json!({ "released": released, "daemon_running": engine.is_some() })
        }
        Request::Disconnect { group } => {
            let removed = store.remove_connection(&group)?;
            if let Some(engine) = engine {
                engine.remove_connection(&group);
            }
            match removed {
                Some(record) => serde_json::to_value(ConnectionSummary::of(&record))?,
                None => anyhow::bail!("group {group} has no connection"),
            }
        }
    };
    Ok(value)
}

pub fn socket_path(state_dir: &Path) -> PathBuf {
    state_dir.join(SOCKET_NAME)
}

/// How long the CLI waits for the daemon's answer: a plan reads all of Workfront, the rest only
/// the store.
fn answer_timeout(request: &Request) -> Duration {
    match request {
        Request::Plan => Duration::from_secs(600),
        _ => Duration::from_secs(30),
    }
}

/// Asks a running daemon, waiting at most [`answer_timeout`]. `Ok(None)` means no daemon listens
/// on this state dir.
pub async fn request(state_dir: &Path, request: &Request) -> anyhow::Result<Option<serde_json::Value>> {
    request_within(state_dir, request, answer_timeout(request)).await
}

/// Asks a running daemon, waiting at most `limit` for the whole exchange: a wedged daemon (or a
/// stopped one whose socket still accepts) gives a clear error instead of a CLI that hangs.
pub async fn request_within(
    state_dir: &Path,
    request: &Request,
    limit: Duration,
) -> anyhow::Result<Option<serde_json::Value>> {
    match tokio::time::timeout(limit, exchange(state_dir, request)).await {
        Ok(answer) => answer,
        Err(_) => Err(anyhow::anyhow!(
            "the daemon did not answer within {} s on {}; is it wedged? (`systemctl status frameio-sync`, its log)",
            limit.as_secs_f64(),
            socket_path(state_dir).display()
        )),
    }
}

async fn exchange(state_dir: &Path, request: &Request) -> anyhow::Result<Option<serde_json::Value>> {
    let path = socket_path(state_dir);
    let stream = match UnixStream::connect(&path).await {
        Ok(stream) => stream,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
            ) =>
        {
            return Ok(None)
        }
        Err(e) => return Err(e).with_context(|| format!("cannot reach the daemon at {}", path.display())),
    };
    let (read, mut write) = stream.into_split();
    let mut line = serde_json::to_vec(request)?;
    line.push(b'\n');
    write.write_all(&line).await?;
    write.shutdown().await?;
    let mut answer = String::new();
    BufReader::new(read).read_line(&mut answer).await?;
    match serde_json::from_str(&answer).context("unreadable answer from the daemon")? {
        Response::Ok(value) => Ok(Some(value)),
        Response::Error(message) => Err(anyhow::anyhow!(message)),
    }
}

pub struct Server {
    listener: UnixListener,
    path: PathBuf,
    store: Store,
    engine: Arc<Engine>,
}

impl Server {
    /// Binds the socket, replacing one left behind by a daemon that was killed.
    pub fn bind(state_dir: &Path, store: Store, engine: Arc<Engine>) -> anyhow::Result<Self> {
        use std::os::unix::fs::PermissionsExt;
        let path = socket_path(state_dir);
        if path.exists() {
            // We hold the store's lock, so no live daemon can be behind this file.
            std::fs::remove_file(&path).with_context(|| format!("cannot remove the stale {}", path.display()))?;
        }
        let listener = UnixListener::bind(&path).with_context(|| format!("cannot listen on {}", path.display()))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        Ok(Self {
            listener,
            path,
            store,
            engine,
        })
    }

    pub async fn serve(self, shutdown: CancellationToken) {
        let mut accepts = AcceptErrors::new("control socket");
        while let Some((stream, _)) = accepts.next(&shutdown, || self.listener.accept()).await {
            let store = self.store.clone();
            let engine = self.engine.clone();
            tokio::spawn(async move {
                if let Err(err) = answer(stream, store, engine).await {
                    tracing::warn!(error = %err, "control request failed");
                }
            });
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

async fn answer(stream: UnixStream, store: Store, engine: Arc<Engine>) -> anyhow::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    // A client that connects and sends nothing must not hold a descriptor for ever.
    tokio::time::timeout(
        REQUEST_READ_TIMEOUT,
        BufReader::new(read.take(MAX_REQUEST)).read_line(&mut line),
    )
    .await
    .context("the control client sent no request in time")??;
    let response = match serde_json::from_str::<Request>(&line) {
        Err(err) => Response::Error(format!("malformed control request: {err}")),
        Ok(request) => {
            let wakes_worker = matches!(request, Request::OutboxRetry { .. });
            let in_daemon = engine.clone();
            let outcome = match request {
                // A plan reads Workfront: it runs here, not on a blocking thread.
                Request::Plan => match engine.dry_run().await {
                    Ok(plan) => serde_json::to_value(plan).map_err(anyhow::Error::from),
                    Err(err) => Err(err),
                },
                request => tokio::task::spawn_blocking(move || execute(&store, request, Some(&in_daemon))).await?,
            };
            if wakes_worker {
                engine.work_ready.notify_one();
            }
            match outcome {
                Ok(value) => Response::Ok(value),
                Err(err) => Response::Error(format!("{err:#}")),
            }
        }
    };
    let mut out = serde_json::to_vec(&response)?;
    out.push(b'\n');
    write.write_all(&out).await?;
    Ok(())
}

/// Asks the running daemon, or, when none answers, opens the store and answers directly. A store
/// that is locked while no daemon answers belongs to a daemon that is starting (or another CLI
/// command): ask again for a few seconds before giving up.
pub async fn ask(settings: &Settings, request: Request) -> anyhow::Result<serde_json::Value> {
    let dir = &settings.state.dir;
    let deadline = tokio::time::Instant::now() + crate::store::LOCK_PATIENCE;
    loop {
        if let Some(value) = self::request(dir, &request).await? {
            return Ok(value);
        }
        match Store::open(dir) {
            Ok(store) if request == Request::Plan => {
                let engine = Engine::new(settings, store)?;
                return Ok(serde_json::to_value(engine.dry_run().await?)?);
            }
            Ok(store) => {
                return tokio::task::spawn_blocking(move || execute(&store, request, None)).await?;
            }
            Err(StoreError::Locked { .. }) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(err) => return Err(err.into()),
        }
    }
}
