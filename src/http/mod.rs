//! The HTTP listener (`[http]`): Workfront event deliveries, the Frame.io custom action (F6),
//! liveness and Prometheus metrics.
//!
//! The listener is passed in (tests bind port 0). Requests never touch the engine's loops: an
//! event is parsed, handed to the [`intake`] committer, which records and flushes it with the
//! other events of its batch, and answered once it is durable.

mod actions;
mod events;
pub mod intake;
pub mod metrics;

use crate::engine::Engine;
use crate::secret::Secret;
use crate::systemd::Heartbeat;
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Workfront's messages are at most 1 MB; anything bigger is refused before it is read whole.
pub const MAX_BODY: usize = 1024 * 1024;

/// A loop that has not beaten for this long is not alive (`/healthz` answers 503). Long enough
/// for the slowest single step (a full sync that pages a large directory at Frame.io's read limit).
pub const LIVENESS: Duration = Duration::from_secs(300);

/// What the handlers share.
pub struct HttpContext {
    pub engine: Arc<Engine>,
    pub intake: intake::Intake,
    /// The token Workfront's subscriptions send; `None`: events are refused with 503.
    pub webhook_token: Option<Secret>,
    /// `http.frameio_action_secret_file`: a custom action's secret given by hand (actions made by
    /// `register-action` have theirs in the state dir).
    pub action_secret: Option<Secret>,
    pub flag_field: String,
    /// The daemon's loops, for `/healthz`.
    pub loops: Vec<(&'static str, Heartbeat)>,
}

pub fn router(context: Arc<HttpContext>) -> Router {
    Router::new()
        .route("/workfront/events", post(events::receive))
        .route("/frameio/actions", post(actions::receive))
        .route("/healthz", get(metrics::healthz))
        .route("/metrics", get(metrics::metrics))
        .with_state(context)
}

/// Serves until `shutdown`; in-flight requests finish first.
pub async fn serve(listener: TcpListener, context: Arc<HttpContext>, shutdown: CancellationToken) {
    let address = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
    tracing::info!(%address, "HTTP listener up");
    if let Err(err) = axum::serve(listener, router(context))
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
    {
        tracing::error!(error = %err, "the HTTP listener failed");
    }
}
