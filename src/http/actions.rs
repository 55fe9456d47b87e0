//! `POST /frameio/actions`: the Frame.io custom action "Send to Workfront for review" (F6).
//! Bounded, signature-checked before anything in the body is trusted, then resolved and gated;
//! the user sees the answer's title and description.

use super::{HttpContext, MAX_BODY};
use crate::engine::Submission;
use crate::frameio::actions::{answer, parse_action, unverified_action_id, verify_signature, SignatureError};
use crate::store::secret_files::action_secret;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::sync::Arc;
use std::time::Duration;

/// How long the answer may take; Frame.io shows the user an error after its own time limit.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);

pub(super) async fn receive(State(context): State<Arc<HttpContext>>, headers: HeaderMap, body: Body) -> Response {
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > MAX_BODY as u64) {
        return (StatusCode::PAYLOAD_TOO_LARGE, "body over 1 MiB\n").into_response();
    }
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "body over 1 MiB\n").into_response();
    };
    if let Err(err) = check_signature(&context, &headers, &bytes) {
        tracing::warn!(error = %err, "refused a Frame.io action: bad signature");
        return (StatusCode::UNAUTHORIZED, format!("{err}\n")).into_response();
    }
    let action = match parse_action(&bytes) {
        Ok(action) => action,
        Err(err) => {
            tracing::warn!(error = %err, "refused a Frame.io action");
            return (StatusCode::BAD_REQUEST, format!("{err}\n")).into_response();
        }
    };
    let outcome = tokio::time::timeout(ANSWER_WITHIN, context.engine.submit_asset(&action)).await;
    let (title, description) = match outcome {
        Ok(Ok(Submission::Sent { project_name })) => (
            "Sent to Workfront".to_owned(),
            format!("Sent to Workfront project {project_name} for review."),
        ),
        Ok(Ok(Submission::Refused { reason })) => ("Not sent to Workfront".to_owned(), reason),
        Ok(Err(err)) => {
            tracing::error!(error = format!("{err:#}"), interaction = %action.interaction_id, "could not handle an asset submission");
            (
                "Not sent to Workfront".to_owned(),
                format!("Nothing was sent because of a temporary problem ({err}); please try again in a minute."),
            )
        }
        Err(_) => (
            "Not sent to Workfront".to_owned(),
            "Workfront did not answer in time; nothing was sent. Please try again in a minute.".to_owned(),
        ),
    };
    (StatusCode::OK, Json(answer(&title, &description))).into_response()
}

/// The signature must match the secret of the action named in the body (stored by
/// `register-action`) or the configured `http.frameio_action_secret_file`.
fn check_signature(context: &HttpContext, headers: &HeaderMap, body: &[u8]) -> Result<(), SignatureError> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let timestamp = text("x-frameio-request-timestamp");
    let signature = text("x-frameio-signature");
    let now = crate::timestamp::Timestamp::now().millis() / 1000;
    let stored = unverified_action_id(body).and_then(|id| action_secret(context.engine.store.dir(), &id));
    let candidates: Vec<_> = stored.into_iter().chain(context.action_secret.clone()).collect();
    if candidates.is_empty() {
        // Still report a missing header first: it is the likelier mistake.
        verify_signature(&crate::secret::Secret::new(""), timestamp, signature, body, now)?;
        return Err(SignatureError::Mismatch);
    }
    let mut last = SignatureError::Mismatch;
    for secret in &candidates {
        match verify_signature(secret, timestamp, signature, body, now) {
            Ok(()) => return Ok(()),
            Err(err) => last = err,
        }
    }
    Err(last)
}
