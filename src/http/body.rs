//! Reading a request body within a size and a time, before anything in it is trusted.

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::time::Duration;

/// Why a body was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// Announced or found longer than the limit (bytes).
    TooLarge(usize),
    /// Did not arrive within the time (`http.body_timeout`).
    TooSlow(Duration),
    /// The client hung up or sent a broken chunked body.
    Broken,
}

impl IntoResponse for BodyError {
    fn into_response(self) -> Response {
        match self {
            BodyError::TooLarge(limit) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("body over {} KiB\n", limit / 1024),
            )
                .into_response(),
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
        }
    }
}

/// The body, if it is at most `limit` bytes and arrives `within`. An announced oversize body is
/// refused without reading any of it.
pub async fn read(headers: &HeaderMap, body: Body, limit: usize, within: Duration) -> Result<Bytes, BodyError> {
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge(limit));
    }
    match tokio::time::timeout(within, axum::body::to_bytes(body, limit)).await {
        Err(_) => Err(BodyError::TooSlow(within)),
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(err)) => {
            // `to_bytes` reports the length limit as an error whose source is LengthLimitError.
            let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
            while let Some(e) = source {
                if e.is::<http_body_util::LengthLimitError>() {
                    return Err(BodyError::TooLarge(limit));
                }
                source = e.source();
            }
            Err(BodyError::Broken)
        }
    }
}
