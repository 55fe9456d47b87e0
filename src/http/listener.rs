//! The accept loop under both HTTP listeners: what a client may take before it is authenticated.
//!
//! `axum::serve` has no timeouts and no cap: a client that sends half a request line keeps its
//! connection for ever, and enough of them exhaust the file descriptors `/healthz` and Workfront's
//! deliveries need. Here every connection holds a permit (`http.max_connections`); one more has
//! its request answered 503 and is closed. Hyper closes a connection whose request head does not
//! arrive within `http.header_timeout`, which also ends an idle kept-alive connection, and reads
//! at most [`MAX_HEAD`] of a head. The handlers bound the body's size and time ([`super::body`]).

use crate::accept::AcceptErrors;
use crate::config::ListenerLimits;
use axum::body::Bytes;
use axum::http::{header, HeaderValue, StatusCode};
use axum::Router;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The most a request's head (request line and headers) may take of a connection's buffer.
/// Workfront's and Frame.io's deliveries send well under 4 KiB, a reverse proxy adds a few
/// forwarding headers.
pub const MAX_HEAD: usize = 32 * 1024;

/// Connections over the cap being answered 503 at once: four times the cap, at most
/// [`SHEDDING_AT_MOST`]; more than that are closed unanswered. Each waits at most [`SHED_WITHIN`]
/// for its request, so a flood of idle connections passes through quickly and a real client
/// arriving in it still gets its 503.
pub fn shedding_at_once(max_connections: usize) -> usize {
    (max_connections * 4).min(SHEDDING_AT_MOST)
}
const SHEDDING_AT_MOST: usize = 1024;

/// How long a refused connection is given to take its 503.
const SHED_WITHIN: Duration = Duration::from_secs(1);

const BUSY: &[u8] = b"busy: too many open connections\n";

/// Serves `router` on `listener` until `shutdown`; requests being answered then are finished
/// (within the listener's timeouts).
pub async fn run(
    name: &'static str,
    listener: TcpListener,
    router: Router,
    limits: ListenerLimits,
    shutdown: CancellationToken,
) {
    let address = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
    tracing::info!(%address, listener = name, max_connections = limits.max_connections, "HTTP listener up");
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let shedding = Arc::new(Semaphore::new(shedding_at_once(limits.max_connections)));
    let tracker = TaskTracker::new();
    let mut accepts = AcceptErrors::new(name);
    let mut shed_since_logged = 0u64;
    while let Some((stream, _)) = accepts.next(&shutdown, || listener.accept()).await {
        match connections.clone().try_acquire_owned() {
            Ok(permit) => {
                if shed_since_logged > 0 {
                    tracing::warn!(
                        listener = name,
                        refused = shed_since_logged,
                        "connections accepted again after refusing some at the cap (http.max_connections)"
                    );
                    shed_since_logged = 0;
                }
                tracker.spawn(connection(stream, router.clone(), limits, permit, shutdown.clone()));
            }
            Err(_) => {
                if shed_since_logged == 0 {
                    tracing::warn!(
                        listener = name,
                        max_connections = limits.max_connections,
                        "refusing connections with 503: the cap (http.max_connections) is reached"
                    );
                }
                shed_since_logged += 1;
                if let Ok(permit) = shedding.clone().try_acquire_owned() {
                    tokio::spawn(shed(stream, permit));
                }
            }
        }
    }
    tracker.close();
    tracker.wait().await;
}

async fn connection(
    stream: TcpStream,
    router: Router,
    limits: ListenerLimits,
    _permit: OwnedSemaphorePermit,
    shutdown: CancellationToken,
) {
    let _ = stream.set_nodelay(true);
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(MAX_HEAD);
    let connection = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(router));
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        _ = shutdown.cancelled() => {
            connection.as_mut().graceful_shutdown();
            // A request being answered finishes; its body has body_timeout to arrive.
            match tokio::time::timeout(limits.body_timeout + limits.header_timeout, connection).await {
                Ok(result) => result,
                Err(_) => return,
            }
        }
    };
    if let Err(err) = result {
        // Timeouts and clients that hang up are routine on a public listener.
        tracing::debug!(error = %err, "HTTP connection ended with an error");
    }
}

/// Reads the request head (within [`SHED_WITHIN`]), answers 503 and closes: a client that sent
/// its request expects its answer after it, not before.
async fn shed(stream: TcpStream, _permit: OwnedSemaphorePermit) {
    let busy = service_fn(|_request| async {
        let mut answer = hyper::Response::new(Full::new(Bytes::from_static(BUSY)));
        *answer.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        let headers = answer.headers_mut();
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        Ok::<_, std::convert::Infallible>(answer)
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(SHED_WITHIN)
        .max_buf_size(MAX_HEAD)
        .keep_alive(false);
    let _ = tokio::time::timeout(SHED_WITHIN * 2, builder.serve_connection(TokioIo::new(stream), busy)).await;
}
