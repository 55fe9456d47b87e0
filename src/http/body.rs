//! A request body, bounded before anything in it is trusted: in size by axum's `DefaultBodyLimit`
//! (set per route by [`bounded`]), and in time by `http.body_timeout` (the [`Bounded`] extractor).

use super::HttpContext;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use std::sync::Arc;
use std::time::Duration;

/// Why a body was not read. Its response carries it as an extension, so a middleware can count
/// the refusal (`events::admit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// Longer than the route's limit: announced so (the limit, in bytes, is named), or found so
    /// while reading.
    TooLarge(Option<usize>),
    /// Did not arrive within the time (`http.body_timeout`).
    TooSlow(Duration),
    /// The client hung up or sent a broken chunked body.
    Broken,
}

impl IntoResponse for BodyError {
    fn into_response(self) -> Response {
        let mut response = match self {
            BodyError::TooLarge(Some(limit)) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("body over {} KiB\n", limit / 1024),
            )
                .into_response(),
            BodyError::TooLarge(None) => {
                (StatusCode::PAYLOAD_TOO_LARGE, "body over this endpoint's limit\n").into_response()
            }
            BodyError::TooSlow(within) => (
                StatusCode::REQUEST_TIMEOUT,
                [(header::CONNECTION, "close")],
                format!(
                    "the body did not arrive within {} s (http.body_timeout)\n",
                    within.as_secs_f64()
                ),
            )
                .into_response(),
            BodyError::Broken => (StatusCode::BAD_REQUEST, "the body was cut off\n").into_response(),
        };
        response.extensions_mut().insert(self);
        response
    }
}

/// `route`, its body held to `limit` bytes: `DefaultBodyLimit` bounds what the body extractors
/// read, and a body announced longer (`Content-Length`) is refused before any of it is read,
/// which the limit alone would find only after reading `limit` bytes. The route's credential
/// check wraps this (`events::admit`, `actions::signed`), so a request without one is refused
/// before its size is looked at.
pub fn bounded<S>(route: MethodRouter<S>, limit: usize) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    route
        .route_layer(axum::middleware::from_fn_with_state(limit, refuse_announced_oversize))
        .layer(DefaultBodyLimit::max(limit))
}

async fn refuse_announced_oversize(State(limit): State<usize>, request: Request, next: Next) -> Response {
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit as u64) {
        tracing::warn!(
            path = request.uri().path(),
            announced,
            limit,
            "refused a request: its body is announced over the limit"
        );
        return BodyError::TooLarge(Some(limit)).into_response();
    }
    next.run(request).await
}

/// The whole body, read within `http.body_timeout` and the route's `DefaultBodyLimit`.
pub struct Bounded(pub Bytes);

impl FromRequest<Arc<HttpContext>> for Bounded {
    type Rejection = BodyError;

    async fn from_request(request: Request, context: &Arc<HttpContext>) -> Result<Self, BodyError> {
        let within = context.limits.body_timeout;
        let path = request.uri().path().to_owned();
        let read = match tokio::time::timeout(within, Bytes::from_request(request, context)).await {
            Err(_) => Err(BodyError::TooSlow(within)),
            Ok(Ok(bytes)) => Ok(Bounded(bytes)),
            Ok(Err(rejection)) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(BodyError::TooLarge(None)),
            Ok(Err(_)) => Err(BodyError::Broken),
        };
        if let Err(err) = &read {
            tracing::warn!(path, ?err, "refused a request: its body");
        }
        read
    }
}
