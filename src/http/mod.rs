//! The HTTP listener (`[http]`): Workfront event deliveries, the Frame.io custom action (F6),
//! liveness and Prometheus metrics.
//!
//! The listener is passed in (tests bind port 0). Requests never touch the engine's loops: an
//! event is parsed, handed to the [`intake`] committer, which records and flushes it with the
//! other events of its batch, and answered once it is durable. What a client may take before it
//! is authenticated (connections, time, memory) is bounded by [`listener`] and [`body`].

mod actions;
mod body;
mod events;
mod frameio_webhooks;
pub mod intake;
pub mod listener;
pub mod metrics;

use crate::config::ListenerLimits;
use crate::engine::Engine;
use crate::secret::Secret;
use crate::systemd::Heartbeat;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// Workfront's messages are at most 1 MB; anything bigger is refused before it is read whole.
/// Only read once the delivery's token is checked.
pub const MAX_BODY: usize = 1024 * 1024;

/// A Frame.io action's payload is a few hundred bytes of ids (a form's answers a few more). It
/// must be read before its signature can be checked, so this is what an anonymous client may
/// make the daemon hold per request.
pub const MAX_ACTION_BODY: usize = 64 * 1024;

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
    pub limits: ListenerLimits,
    /// `http.metrics_token_file`: `/metrics` asks for it.
    pub metrics_token: Option<Secret>,
}

/// The public listener: deliveries, the action, `/healthz`, and `/metrics` unless they have an
/// address of their own (`metrics_apart`). Deliveries and actions count against
/// `http.max_requests_in_flight`; the probes do not, so a burst never fails a health check.
pub fn router(context: Arc<HttpContext>, metrics_apart: bool) -> Router {
    let in_flight = Arc::new(Semaphore::new(context.limits.max_requests));
    let work = Router::new()
        .route(
            "/workfront/events",
            body::bounded(post(events::receive), MAX_BODY)
                .route_layer(axum::middleware::from_fn_with_state(context.clone(), events::admit)),
        )
        .route(
            "/frameio/actions",
            body::bounded(post(actions::receive), MAX_ACTION_BODY)
                .route_layer(axum::middleware::from_fn(actions::signed)),
        )
        .route(
            "/frameio/webhooks",
            body::bounded(post(frameio_webhooks::receive), MAX_ACTION_BODY)
                .route_layer(axum::middleware::from_fn(actions::signed)),
        )
        .layer(axum::middleware::from_fn_with_state(in_flight, shed_over_cap))
        .layer(axum::middleware::from_fn_with_state(context.clone(), time_answer));
    let probes = if metrics_apart {
        Router::new().route("/healthz", get(metrics::healthz))
    } else {
        probes()
    };
    work.merge(probes).with_state(context)
}

/// `/metrics` and `/healthz`, for `http.metrics_listen`.
fn probes() -> Router<Arc<HttpContext>> {
    Router::new()
        .route("/healthz", get(metrics::healthz))
        .route("/metrics", get(metrics::metrics))
}

/// Serves the public listener until `shutdown`; in-flight requests finish first.
pub async fn serve(listener: TcpListener, context: Arc<HttpContext>, shutdown: CancellationToken) {
    let limits = context.limits;
    listener::run("HTTP listener", listener, router(context, false), limits, shutdown).await;
}

/// Connections the metrics listener takes: enough for a few scrapers and probes.
pub const METRICS_CONNECTIONS: usize = 16;

/// Serves the public listener without `/metrics`, and `/metrics` with `/healthz` on `metrics`.
pub async fn serve_apart(
    public: TcpListener,
    metrics: TcpListener,
    context: Arc<HttpContext>,
    shutdown: CancellationToken,
) {
    let limits = context.limits;
    let probes = probes().with_state(context.clone());
    tokio::join!(
        listener::run("HTTP listener", public, router(context, true), limits, shutdown.clone()),
        listener::run(
            "metrics listener",
            metrics,
            probes,
            ListenerLimits {
                max_connections: METRICS_CONNECTIONS,
                ..limits
            },
            shutdown
        ),
    );
}

/// 503 at once when `http.max_requests_in_flight` requests are being handled.
async fn shed_over_cap(State(in_flight): State<Arc<Semaphore>>, request: Request, next: Next) -> Response {
    let Ok(_permit) = in_flight.try_acquire() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "1")],
            "busy: too many requests in flight\n",
        )
            .into_response();
    };
    next.run(request).await
}

/// Times each delivery from its arrival to its answer (`frameio_sync_acknowledgement_seconds`),
/// refusals and sheddings included: what the sender waits.
async fn time_answer(State(context): State<Arc<HttpContext>>, request: Request, next: Next) -> Response {
    let endpoint = match request.uri().path() {
        "/workfront/events" => "workfront_events",
        "/frameio/actions" => "frameio_actions",
        "/frameio/webhooks" => "frameio_webhooks",
        _ => return next.run(request).await,
    };
    let arrived = std::time::Instant::now();
    let response = next.run(request).await;
    context.engine.metrics.acknowledged(endpoint, arrived.elapsed());
    response
}

/// `Authorization: Bearer <token>` or `Authorization: <token>` (Adobe does not document which
/// one Workfront sends). Compared in constant time: both sides are hashed to 32 bytes first, so
/// neither their length nor where they differ shows in the timing.
fn authorized(headers: &HeaderMap, token: &Secret) -> bool {
    let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let presented = value.strip_prefix("Bearer ").unwrap_or(value).trim();
    let a = Sha256::digest(presented.as_bytes());
    let b = Sha256::digest(token.expose().as_bytes());
    a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
