//! `POST /frameio/actions`: the Frame.io custom action "Send to Workfront for review" (F6).
//! Bounded, signature-checked before anything in the body is trusted, then resolved and gated;
//! the user sees the answer's title and description.

use super::{body, HttpContext, MAX_ACTION_BODY};
use crate::engine::Submission;
use crate::frameio::actions::{answer, parse_action, unverified_action_id, SignatureError, SignedEnvelope};
use crate::store::secret_files::action_secret;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::sync::Arc;
use std::time::Duration;

/// How long the answer may take; Frame.io shows the user an error after its own time limit.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);

pub(super) async fn receive(State(context): State<Arc<HttpContext>>, headers: HeaderMap, body: Body) -> Response {
    // The headers are checked before the body is read: a request without a fresh signature costs
    // no more than its head.
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let now = crate::timestamp::Timestamp::now().millis() / 1000;
    let envelope =
        match SignedEnvelope::from_headers(text("x-frameio-request-timestamp"), text("x-frameio-signature"), now) {
            Ok(envelope) => envelope,
            Err(err) => {
                tracing::warn!(error = %err, "refused a Frame.io action: bad signature headers");
                return (StatusCode::UNAUTHORIZED, format!("{err}\n")).into_response();
            }
        };
    let bytes = match body::read(&headers, body, MAX_ACTION_BODY, context.limits.body_timeout).await {
        Ok(bytes) => bytes,
        Err(err) => {
            tracing::warn!(?err, "refused a Frame.io action: its body");
            return err.into_response();
        }
    };
    if let Err(err) = check_signature(&context, &envelope, &bytes) {
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
fn check_signature(context: &HttpContext, envelope: &SignedEnvelope, body: &[u8]) -> Result<(), SignatureError> {
    let stored = unverified_action_id(body).and_then(|id| action_secret(context.engine.store.dir(), &id));
    let mut candidates = stored.iter().chain(context.action_secret.iter());
    if candidates.any(|secret| envelope.verify(secret, body).is_ok()) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}
