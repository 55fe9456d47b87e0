//! `POST /frameio/webhooks`: Frame.io's workspace webhooks (`register-webhooks`). A delivery is a
//! hint only: `comment.created` wakes the review loop, which reads the comments of the files under
//! review and copies the new ones to Workfront (level-triggered; the poll does the same). Signed
//! like custom actions, checked against the stored webhook secrets before the body is trusted.

use super::HttpContext;
use crate::store::secret_files::webhook_secrets;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Deserialize)]
struct Delivery {
    #[serde(rename = "type")]
    kind: String,
}

pub(super) async fn receive(State(context): State<Arc<HttpContext>>, headers: HeaderMap, body: Body) -> Response {
    let (envelope, bytes) = match super::actions::signed_body(&context, &headers, body, "webhook delivery").await {
        Ok(signed) => signed,
        Err(refused) => return *refused,
    };
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
