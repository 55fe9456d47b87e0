//! `POST /workfront/events`: authenticate ([`admit`]), bound ([`super::body`]), parse, record
//! durably, answer. Every answer carries its [`EventOutcome`], and `admit` counts it: one place
//! for `frameio_sync_events_received_total`, whichever layer answered.

use super::body::{BodyError, Bounded};
use super::intake::Outcome;
use super::{authorized, HttpContext};
use crate::metrics::EventOutcome;
use crate::workfront::events::{hint_of, parse_event, Hint};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// An answer to Workfront, tagged with what became of the delivery.
fn answer(outcome: EventOutcome, status: StatusCode, text: impl Into<String>) -> Response {
    let mut response = (status, text.into()).into_response();
    response.extensions_mut().insert(outcome);
    response
}

/// The delivery's token, checked before anything of its body is read; then the delivery's
/// outcome, counted from its answer (a body refused by [`super::body`] counts as too large or
/// malformed).
pub(super) async fn admit(State(context): State<Arc<HttpContext>>, request: Request, next: Next) -> Response {
    let response = match &context.webhook_token {
        None => answer(
            EventOutcome::Unavailable,
            StatusCode::SERVICE_UNAVAILABLE,
            "webhooks are not configured: set http.workfront_webhook_token_file\n",
        ),
        Some(token) if !authorized(request.headers(), token) => {
            tracing::warn!("refused a Workfront event: missing or wrong authorization token");
            answer(EventOutcome::Unauthorized, StatusCode::UNAUTHORIZED, "unauthorized\n")
        }
        Some(_) => next.run(request).await,
    };
    let outcome = response.extensions().get::<EventOutcome>().copied().or_else(|| {
        response.extensions().get::<BodyError>().map(|err| match err {
            BodyError::TooLarge(_) => EventOutcome::TooLarge,
            BodyError::TooSlow(_) | BodyError::Broken => EventOutcome::Malformed,
        })
    });
    if let Some(outcome) = outcome {
        context.engine.metrics.event(outcome);
    }
    response
}

pub(super) async fn receive(State(context): State<Arc<HttpContext>>, Bounded(bytes): Bounded) -> Response {
    match hint_of(&bytes) {
        Some(Hint::Approvals) => {
            // An approval changed: read the approvals now (they are read every poll anyway).
            context.engine.review_soon();
            return answer(EventOutcome::Accepted, StatusCode::OK, "approvals will be read\n");
        }
        Some(Hint::Documents) => {
            // A document changed: the one-way folder reads the documents now (every poll anyway).
            context.engine.folder_soon();
            return answer(EventOutcome::Accepted, StatusCode::OK, "documents will be read\n");
        }
        None => {}
    }
    let event = match parse_event(&bytes, &context.flag_field, crate::timestamp::Timestamp::now()) {
        Ok(event) => event,
        Err(err) => {
            tracing::warn!(error = %err, bytes = bytes.len(), "refused a Workfront event");
            return answer(EventOutcome::Malformed, StatusCode::BAD_REQUEST, format!("{err}\n"));
        }
    };
    let key = event.dedupe_key();
    match context.intake.submit(event).await {
        Ok(Outcome::Accepted) => {
            tracing::debug!(%key, "event recorded");
            answer(EventOutcome::Accepted, StatusCode::OK, "recorded\n")
        }
        Ok(Outcome::Duplicate) => {
            tracing::debug!(%key, "event delivered again; already recorded");
            answer(EventOutcome::Duplicate, StatusCode::OK, "already recorded\n")
        }
        Err(err) => answer(
            EventOutcome::Unavailable,
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not recorded: {err}\n"),
        ),
    }
}
