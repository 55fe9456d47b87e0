//! `POST /workfront/events`: authenticate, bound, parse, record durably, answer.

use super::intake::Outcome;
use super::{HttpContext, MAX_BODY};
use crate::metrics::EventOutcome;
use crate::secret::Secret;
use crate::workfront::events::parse_event;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::sync::Arc;

pub(super) async fn receive(State(context): State<Arc<HttpContext>>, headers: HeaderMap, body: Body) -> Response {
    let metrics = &context.engine.metrics;
    let Some(token) = &context.webhook_token else {
        metrics.event(EventOutcome::Unavailable);
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "webhooks are not configured: set http.workfront_webhook_token_file\n",
        )
            .into_response();
    };
    if !authorized(&headers, token) {
        metrics.event(EventOutcome::Unauthorized);
        tracing::warn!("refused a Workfront event: missing or wrong authorization token");
        return (StatusCode::UNAUTHORIZED, "unauthorized\n").into_response();
    }
    // Refuse an announced oversize body without reading it; a body that turns out longer is
    // cut off at the limit.
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > MAX_BODY as u64) {
        return too_large(&context);
    }
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return too_large(&context);
    };
    let event = match parse_event(&bytes, &context.flag_field, crate::timestamp::Timestamp::now()) {
        Ok(event) => event,
        Err(err) => {
            metrics.event(EventOutcome::Malformed);
            tracing::warn!(error = %err, bytes = bytes.len(), "refused a Workfront event");
            return (StatusCode::BAD_REQUEST, format!("{err}\n")).into_response();
        }
    };
    let key = event.dedupe_key();
    match context.intake.submit(event).await {
        Ok(Outcome::Accepted) => {
            metrics.event(EventOutcome::Accepted);
            tracing::debug!(%key, "event recorded");
            (StatusCode::OK, "recorded\n").into_response()
        }
        Ok(Outcome::Duplicate) => {
            metrics.event(EventOutcome::Duplicate);
            tracing::debug!(%key, "event delivered again; already recorded");
            (StatusCode::OK, "already recorded\n").into_response()
        }
        Err(err) => {
            metrics.event(EventOutcome::Unavailable);
            (StatusCode::SERVICE_UNAVAILABLE, format!("not recorded: {err}\n")).into_response()
        }
    }
}

fn too_large(context: &HttpContext) -> Response {
    context.engine.metrics.event(EventOutcome::TooLarge);
    tracing::warn!(limit = MAX_BODY, "refused a Workfront event: body too large");
    (StatusCode::PAYLOAD_TOO_LARGE, "body over 1 MiB\n").into_response()
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
