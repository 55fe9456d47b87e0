//! The control socket: how the CLI talks to a running daemon.
//!
//! sled admits one process per state dir, so while the daemon runs, `status` and `outbox …` cannot
//! open the store themselves. The daemon listens on `<state dir>/control.sock` (mode 0600, so only
//! the service user and root can use it); a request is one JSON line, the answer one JSON line.
//! When no daemon answers, the CLI opens the store and runs the same [`execute`].

use crate::accept::AcceptErrors;
use crate::config::Settings;
use crate::core::model::Credential;
use crate::engine::DryRun;
use crate::engine::Engine;
use crate::ids::OutboxId;
use crate::ids::WorkfrontGroupId;
use crate::secret::Secret;
use crate::status::{self, ConnectionSummary, EntrySummary, StatusReport};
use crate::store::backup::Backup;
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
    /// A consistent export of the state (`frameio-sync backup`).
    Backup,
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

/// What the daemon (or the store, when none runs) answers, one variant per kind of answer; both
/// sides use this type, so a change to it is a compile error on both.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    Status(Box<StatusReport>),
    Entries(Vec<EntrySummary>),
    /// The entry an `outbox retry` or `outbox drop` acted on, as it is now.
    Entry(EntrySummary),
    Connections(Vec<ConnectionSummary>),
    ConnectionRecords(Vec<ConnectionRecord>),
    Connected {
        connection: ConnectionSummary,
        resumed: usize,
        daemon_running: bool,
    },
    Disconnected(ConnectionSummary),
    Released {
        released: usize,
        daemon_running: bool,
    },
    Plan(Box<DryRun>),
    Backup(Box<Backup>),
}

impl Reply {
    /// The answer as `--json` prints it: the payload alone.
    pub fn to_json(&self) -> serde_json::Value {
        let value = serde_json::to_value(self).expect("replies serialize");
        match value {
            // Externally tagged: `{"<variant>": payload}`.
            serde_json::Value::Object(map) if map.len() == 1 => {
                map.into_iter().next().map(|(_, v)| v).unwrap_or_default()
            }
            other => other,
        }
    }
}

impl Reply {
    /// The variant's name as the socket carries it, for an error.
    fn name(&self) -> &'static str {
        match self {
            Reply::Status(_) => "status",
            Reply::Entries(_) => "entries",
            Reply::Entry(_) => "entry",
            Reply::Connections(_) => "connections",
            Reply::ConnectionRecords(_) => "connection_records",
            Reply::Connected { .. } => "connected",
            Reply::Disconnected(_) => "disconnected",
            Reply::Released { .. } => "released",
            Reply::Plan(_) => "plan",
            Reply::Backup(_) => "backup",
        }
    }

    /// The error for a reply that is not the `wanted` variant: a CLI and a daemon of different
    /// releases.
    pub fn unexpected(&self, wanted: &str) -> anyhow::Error {
        anyhow::anyhow!(
            "the daemon answered {:?} to a request for {wanted:?}; are it and this command the same release?",
            self.name()
        )
    }
}

macro_rules! reply_as {
    ($(#[$doc:meta])* $name:ident, $variant:ident, $t:ty) => {
        $(#[$doc])*
        pub fn $name(self) -> anyhow::Result<$t> {
            match self {
                Reply::$variant(v) => Ok(v),
                other => Err(other.unexpected(stringify!($variant))),
            }
        }
    };
}

impl Reply {
    reply_as!(into_status, Status, Box<StatusReport>);
    reply_as!(into_entries, Entries, Vec<EntrySummary>);
    reply_as!(into_entry, Entry, EntrySummary);
    reply_as!(into_connections, Connections, Vec<ConnectionSummary>);
    reply_as!(into_connection_records, ConnectionRecords, Vec<ConnectionRecord>);
    reply_as!(into_disconnected, Disconnected, ConnectionSummary);
    reply_as!(into_plan, Plan, Box<DryRun>);
    reply_as!(into_backup, Backup, Box<Backup>);
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Response {
    Ok(Reply),
    Error(String),
}

/// Runs `request` against `store`, and, inside a running daemon (`engine` given), applies
/// connection changes to it at once.
pub fn execute(store: &Store, request: Request, engine: Option<&Engine>) -> anyhow::Result<Reply> {
    let reply = match request {
        Request::Status => Reply::Status(Box::new(status::gather(store, engine.is_some())?)),
        Request::OutboxList => Reply::Entries(store.outbox_entries()?.iter().map(EntrySummary::of).collect()),
        Request::OutboxRetry { id } => {
            let entry = store
                .retry_entry(OutboxId(id), Timestamp::now())
                .with_context(|| format!("cannot retry outbox entry {id}"))?;
            store.flush_blocking()?;
            if let Some(engine) = engine {
                engine.work_ready.notify_one();
            }
            Reply::Entry(EntrySummary::of(&entry))
        }
        Request::OutboxDrop { id } => {
            let entry = store
                .drop_entry(OutboxId(id))
                .with_context(|| format!("cannot drop outbox entry {id}"))?;
            store.flush_blocking()?;
            tracing::warn!(outbox_id = id, effect = %entry.effect.describe(), "outbox entry dropped by an admin");
            Reply::Entry(EntrySummary::of(&entry))
        }
        Request::Backup => Reply::Backup(Box::new(store.export(Timestamp::now())?)),
        Request::Connections => Reply::Connections(store.connections()?.iter().map(ConnectionSummary::of).collect()),
        Request::ConnectionRecords => Reply::ConnectionRecords(store.connections()?),
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
            Reply::Connected {
                connection: ConnectionSummary::of(&record),
                resumed,
                daemon_running: engine.is_some(),
            }
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
            Reply::Released {
                released,
                daemon_running: engine.is_some(),
            }
        }
        Request::Disconnect { group } => {
            let removed = store.remove_connection(&group)?;
            if let Some(engine) = engine {
                engine.remove_connection(&group);
            }
            match removed {
                Some(record) => Reply::Disconnected(ConnectionSummary::of(&record)),
                None => anyhow::bail!("group {group} has no connection"),
            }
        }
    };
    Ok(reply)
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
pub async fn request(state_dir: &Path, request: &Request) -> anyhow::Result<Option<Reply>> {
    request_within(state_dir, request, answer_timeout(request)).await
}

/// Asks a running daemon, waiting at most `limit` for the whole exchange: a wedged daemon (or a
/// stopped one whose socket still accepts) gives a clear error instead of a CLI that hangs.
pub async fn request_within(state_dir: &Path, request: &Request, limit: Duration) -> anyhow::Result<Option<Reply>> {
    match tokio::time::timeout(limit, exchange(state_dir, request)).await {
        Ok(answer) => answer,
        Err(_) => Err(anyhow::anyhow!(
            "the daemon did not answer within {} s on {}; is it wedged? (`systemctl status frameio-sync`, its log)",
            limit.as_secs_f64(),
            socket_path(state_dir).display()
        )),
    }
}

async fn exchange(state_dir: &Path, request: &Request) -> anyhow::Result<Option<Reply>> {
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
        Response::Ok(reply) => Ok(Some(reply)),
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
                Request::Plan => engine.dry_run().await.map(|plan| Reply::Plan(Box::new(plan))),
                request => tokio::task::spawn_blocking(move || execute(&store, request, Some(&in_daemon))).await?,
            };
            if wakes_worker {
                engine.work_ready.notify_one();
            }
            match outcome {
                Ok(reply) => Response::Ok(reply),
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
pub async fn ask(settings: &Settings, request: Request) -> anyhow::Result<Reply> {
    let dir = &settings.state.dir;
    let deadline = tokio::time::Instant::now() + crate::store::LOCK_PATIENCE;
    loop {
        if let Some(reply) = self::request(dir, &request).await? {
            return Ok(reply);
        }
        match Store::open(dir) {
            Ok(store) if request == Request::Plan => {
                let engine = Engine::new(settings, store)?;
                return Ok(Reply::Plan(Box::new(engine.dry_run().await?)));
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

#[cfg(test)]
mod reply_tests {
    use super::*;

    #[test]
    fn a_reply_crosses_the_socket_typed_and_prints_its_payload_alone() {
        let reply = Reply::Released {
            released: 3,
            daemon_running: true,
        };
        let line = serde_json::to_string(&Response::Ok(reply)).unwrap();
        let Response::Ok(back) = serde_json::from_str::<Response>(&line).unwrap() else {
            panic!("{line}");
        };
        assert_eq!(
            back.to_json(),
            serde_json::json!({ "released": 3, "daemon_running": true })
        );
        let err = back.into_entries().unwrap_err().to_string();
        assert!(err.contains("\"released\"") && err.contains("\"Entries\""), "{err}");
        assert_eq!(Reply::Entries(Vec::new()).to_json(), serde_json::json!([]));
    }
}
