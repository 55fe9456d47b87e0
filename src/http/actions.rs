//! `POST /frameio/actions`: the Frame.io custom action "Send to Workfront for review" (F6).
//! Bounded, signature-checked before anything in the body is trusted. A click is answered with
//! the review form (where to, and a message); the submitted form is resolved and gated, and the
//! user sees the answer's title and description.

use super::body::Bounded;
use super::HttpContext;
use crate::engine::{ReviewForm, Submission};
use crate::frameio::actions::{answer, parse_action, unverified_action_id, SignatureError, SignedEnvelope};
use crate::store::secret_files::action_secret;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use std::sync::Arc;
use std::time::Duration;

/// How long the answer may take; Frame.io shows the user an error after its own time limit.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);

/// What every signed Frame.io delivery (an action, a webhook) costs before its signature is
/// verified: its signature headers are checked before the body is read, so a request without a
/// fresh signature costs no more than its head. The envelope goes on to the handler, which
/// verifies it against the body once [`Bounded`] has read it within its size and time.
pub(super) async fn signed(mut request: Request, next: Next) -> Response {
    let checked = {
        let text = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok());
        let now = crate::timestamp::Timestamp::now().millis() / 1000;
        SignedEnvelope::from_headers(text("x-frameio-request-timestamp"), text("x-frameio-signature"), now)
    };
    match checked {
        Ok(envelope) => {
            request.extensions_mut().insert(envelope);
            next.run(request).await
        }
        Err(err) => {
            tracing::warn!(path = request.uri().path(), error = %err, "refused a Frame.io delivery: bad signature headers");
            (StatusCode::UNAUTHORIZED, format!("{err}\n")).into_response()
        }
    }
}

pub(super) async fn receive(
    State(context): State<Arc<HttpContext>>,
    Extension(envelope): Extension<SignedEnvelope>,
    Bounded(bytes): Bounded,
) -> Response {
    if let Err(err) = check_signature(&context, &envelope, &bytes) {
        tracing::warn!(error = %err, "refused a Frame.io action: bad signature");
        return (StatusCode::UNAUTHORIZED, format!("{err}\n")).into_response();
    }
    let delivery = match parse_action(&bytes) {
        Ok(delivery) => delivery,
        Err(err) => {
            tracing::warn!(error = %err, "refused a Frame.io action");
            return (StatusCode::BAD_REQUEST, format!("{err}\n")).into_response();
        }
    };
    let not_sent = |reason: String| (StatusCode::OK, Json(answer("Not sent to Workfront", &reason))).into_response();
    let Some(form) = delivery.form else {
        // A click: the form, at once.
        let click = delivery
            .invocation
            .expect("a click without a form carries its fields (parse_action)");
        return match context.engine.review_form(&click) {
            Ok(ReviewForm::Offer(form)) => (StatusCode::OK, Json(form)).into_response(),
            Ok(ReviewForm::Refused { reason }) => not_sent(reason),
            Err(err) => {
                tracing::error!(error = %err, interaction = %click.interaction_id, "could not answer a click with the review form");
                not_sent(format!(
                    "Nothing was sent because of a temporary problem ({err}); please try again in a minute."
                ))
            }
        };
    };
    // The form, submitted: the click it belongs to is in the submit, or remembered.
    let Some(click) = delivery
        .invocation
        .or_else(|| context.engine.clicked(&delivery.interaction_id))
    else {
        return not_sent(
            "This form is no longer known (it is over an hour old, or the sync service restarted since): please run the action again.".into(),
        );
    };
    let submitted = context
        .engine
        .submit_asset(&click, form.target.as_ref(), form.message.as_deref());
    let (title, description) = match tokio::time::timeout(ANSWER_WITHIN, submitted).await {
        Ok(Ok(Submission::Sent { to })) => ("Sent to Workfront".to_owned(), format!("Sent to {to} for review.")),
        Ok(Ok(Submission::Refused { reason })) => ("Not sent to Workfront".to_owned(), reason),
        Ok(Err(err)) => {
            tracing::error!(error = format!("{err:#}"), interaction = %click.interaction_id, "could not handle an asset submission");
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
