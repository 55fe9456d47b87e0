//! `POST /frameio/webhooks`: Frame.io's workspace webhooks (`register-webhooks`). A delivery is a
//! hint only: `comment.created` wakes the review loop, which reads the comments of the files under
//! review and copies the new ones to Workfront (level-triggered; the poll does the same). Signed
//! like custom actions, checked against the stored webhook secrets before the body is trusted.

use super::body::Bounded;
use super::HttpContext;
use crate::frameio::actions::SignedEnvelope;
use crate::store::secret_files::webhook_secrets;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde::Deserialize;
use std::sync::Arc;

#[derive(Deserialize)]
struct Delivery {
    #[serde(rename = "type")]
    kind: String,
}

/// Behind `actions::signed` (the signature headers) and `body::bounded`.
pub(super) async fn receive(
    State(context): State<Arc<HttpContext>>,
    Extension(envelope): Extension<SignedEnvelope>,
    Bounded(bytes): Bounded,
) -> Response {
    let secrets = webhook_secrets(context.engine.store.dir());
    if !secrets.iter().any(|secret| envelope.verify(secret, &bytes).is_ok()) {
        tracing::warn!("refused a Frame.io webhook delivery: its signature matches no stored webhook secret");
        return (
            StatusCode::UNAUTHORIZED,
            "X-Frameio-Signature does not match the body\n",
        )
            .into_response();
    }
    let delivery: Delivery = match serde_json::from_slice(&bytes) {
        Ok(delivery) => delivery,
        Err(err) => {
            return (
                StatusCode::BAD_REQUEST,
                format!("not a Frame.io webhook delivery: {err}\n"),
            )
                .into_response();
        }
    };
    if delivery.kind == "comment.created" {
        context.engine.review_soon();
    }
    StatusCode::OK.into_response()
}
