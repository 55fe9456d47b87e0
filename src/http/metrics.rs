//! `GET /healthz` and `GET /metrics` (OpenMetrics text, which Prometheus reads).

use super::{authorized, HttpContext, LIVENESS};
use crate::metrics::Scrape;
use crate::store::EntryState;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// 200 while every loop beats and the store can write; 503 naming what is wrong.
pub(super) async fn healthz(State(context): State<Arc<HttpContext>>) -> Response {
    let ages: Vec<_> = context.loops.iter().map(|(name, beat)| (*name, beat.age())).collect();
    match unhealthy(&ages, context.engine.store.storage_failure()) {
        None => (StatusCode::OK, "ok\n").into_response(),
        Some(problems) => (StatusCode::SERVICE_UNAVAILABLE, format!("{problems}\n")).into_response(),
    }
}

/// What `/healthz` reports, from each loop's time since its last beat and the store's failure.
fn unhealthy(loops: &[(&str, std::time::Duration)], storage_failure: Option<&str>) -> Option<String> {
    let mut problems: Vec<String> = loops
        .iter()
        .filter(|(_, age)| *age >= LIVENESS)
        .map(|(name, age)| format!("{name} loop silent for {}s", age.as_secs()))
        .collect();
    if let Some(reason) = storage_failure {
        problems.push(format!("the state store can no longer write: {reason}"));
    }
    (!problems.is_empty()).then(|| problems.join("; "))
}

/// The metrics (`metrics.rs`); with `http.metrics_token_file`, only for `Authorization: Bearer
/// <token>`. A store that cannot be read (or can no longer write) fails the scrape with 500: never
/// zeros that look like an idle daemon.
pub(super) async fn metrics(State(context): State<Arc<HttpContext>>, headers: HeaderMap) -> Response {
    if let Some(token) = &context.metrics_token {
        if !authorized(&headers, token) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "unauthorized: /metrics asks for the token in http.metrics_token_file\n",
            )
                .into_response();
        }
    }
    let engine = &context.engine;
    match scrape(&engine.store) {
        Ok(scrape) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            engine.metrics.render(&scrape),
        )
            .into_response(),
        Err(err) => {
            tracing::error!(error = %err, "a /metrics scrape could not read the state store");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the state store cannot be read: {err}\n"),
            )
                .into_response()
        }
    }
}

/// Why a scrape has no figures to give.
#[derive(Debug, thiserror::Error)]
enum ScrapeError {
    #[error("it can no longer write ({0})")]
    CannotWrite(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// What the gauges show, read from the store's index and its parked entries.
fn scrape(store: &crate::store::Store) -> Result<Scrape, ScrapeError> {
    if let Some(reason) = store.storage_failure() {
        return Err(ScrapeError::CannotWrite(reason.to_owned()));
    }
    let tally = store.outbox_tally();
    let mut parked_by_cause = std::collections::BTreeMap::new();
    for id in &tally.attention {
        if let Some(entry) = store.outbox_entry(*id)? {
            if let EntryState::Parked { cause, .. } = &entry.state {
                *parked_by_cause.entry(cause.label()).or_default() += 1;
            }
        }
    }
    Ok(Scrape {
        inbox: store.inbox_len(),
        mirrors: store.mirror_count(),
        pending: tally.counts.pending,
        parked: tally.counts.parked,
        dead: tally.counts.dead,
        pending_by_lane: store.pending_by_lane(),
        parked_by_cause,
        held_removals: tally.held_removals,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn health_names_each_silent_loop_and_a_store_that_cannot_write() {
        let fresh = [("sync", Duration::from_secs(1)), ("worker", Duration::ZERO)];
        assert_eq!(unhealthy(&fresh, None), None);
        let silent = [("sync", LIVENESS), ("worker", Duration::ZERO)];
        assert_eq!(unhealthy(&silent, None).unwrap(), "sync loop silent for 300s");
        let full = unhealthy(&fresh, Some("No space left on device (os error 28)")).unwrap();
        assert!(
            full.contains("the state store can no longer write: No space left"),
            "{full}"
        );
    }
}
