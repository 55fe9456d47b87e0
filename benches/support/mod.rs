//! What the listener benchmarks share: the HTTP listener as the daemon runs it, in this process,
//! on 127.0.0.1:0 with a temporary state dir, against the sandbox.

// Each benchmark compiles this module on its own and uses part of it.
#![allow(dead_code)]

use frameio_sync::config::{self, ListenerLimits};
use frameio_sync::demo::write_sandbox_config;
use frameio_sync::engine::Engine;
use frameio_sync::http::intake::Intake;
use frameio_sync::http::{serve, HttpContext};
use frameio_sync::secret::Secret;
use frameio_sync::store::Store;
use frameio_sync_sandbox::{Limits, Sandbox, World};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// The Workfront webhook token the listener expects.
pub const TOKEN: &str = "bench-webhook-token";

/// A running listener; stops when dropped.
pub struct Listening {
    pub address: SocketAddr,
    pub store: Store,
    shutdown: CancellationToken,
    _dir: tempfile::TempDir,
    _sandbox: Sandbox,
}

impl Drop for Listening {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub async fn listen(limits: ListenerLimits) -> Listening {
    let sandbox = Sandbox::start(World::generated(0), Limits::unlimited()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let settings = config::load(&write_sandbox_config(dir.path(), &sandbox, "1h").unwrap()).unwrap();
    let store = Store::open(&settings.state.dir).unwrap();
    let engine = Arc::new(Engine::new(&settings, store.clone()).unwrap());
    let (intake, _committer) = Intake::start(store.clone(), engine.events_ready.clone());
    let context = Arc::new(HttpContext {
        engine,
        intake,
        webhook_token: Some(Secret::new(TOKEN)),
        action_secret: None,
        flag_field: settings.workfront.frameio_user_field.clone(),
        loops: Vec::new(),
        limits,
        metrics_token: None,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    tokio::spawn(serve(listener, context, shutdown.clone()));
    Listening {
        address,
        store,
        shutdown,
        _dir: dir,
        _sandbox: sandbox,
    }
}
