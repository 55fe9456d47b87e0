//! `POST /workfront/events`: authenticate, bound, parse, record durably, answer.

use super::body::{self, BodyError};
use super::intake::Outcome;
use super::{authorized, HttpContext, MAX_BODY};
use crate::metrics::EventOutcome;
use crate::workfront::events::{hint_of, parse_event, Hint};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
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
    let bytes = match body::read(&headers, body, MAX_BODY, context.limits.body_timeout).await {
        Ok(bytes) => bytes,
        Err(err) => {
            let outcome = match err {
                BodyError::TooLarge(_) => EventOutcome::TooLarge,
                BodyError::TooSlow(_) | BodyError::Broken => EventOutcome::Malformed,
            };
            metrics.event(outcome);
            tracing::warn!(?err, "refused a Workfront event: its body");
            return err.into_response();
        }
    };
    match hint_of(&bytes) {
        Some(Hint::Approvals) => {
            // An approval changed: read the approvals now (they are read every poll anyway).
            metrics.event(EventOutcome::Accepted);
            context.engine.review_soon();
            return (StatusCode::OK, "approvals will be read\n").into_response();
        }
        Some(Hint::Documents) => {
            // A document changed: the one-way folder reads the documents now (every poll anyway).
            metrics.event(EventOutcome::Accepted);
            context.engine.folder_soon();
            return (StatusCode::OK, "documents will be read\n").into_response();
        }
        None => {}
    }
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
