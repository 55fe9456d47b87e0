//! `GET /healthz` and `GET /metrics` (Prometheus text format 0.0.4).

use super::{authorized, HttpContext, LIVENESS};
use crate::metrics::EventOutcome;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::fmt::Write;
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

/// Prometheus text; with `http.metrics_token_file`, only for `Authorization: Bearer <token>`.
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
    let mut out = String::new();
    let events = engine.metrics.events();
    metric(
        &mut out,
        "frameio_sync_events_received_total",
        "counter",
        "Workfront event deliveries, by outcome.",
    );
    for outcome in [
        EventOutcome::Accepted,
        EventOutcome::Duplicate,
        EventOutcome::Unauthorized,
        EventOutcome::TooLarge,
        EventOutcome::Malformed,
        EventOutcome::Unavailable,
    ] {
        let n = events.get(&outcome).copied().unwrap_or(0);
        let _ = writeln!(
            out,
            "frameio_sync_events_received_total{{outcome=\"{}\"}} {n}",
            outcome.label()
        );
    }
    metric(
        &mut out,
        "frameio_sync_inbox_depth",
        "gauge",
        "Events recorded and not yet applied.",
    );
    let _ = writeln!(out, "frameio_sync_inbox_depth {}", engine.store.inbox_len());
    metric(
        &mut out,
        "frameio_sync_outbox_entries",
        "gauge",
        "Outbox entries, by state.",
    );
    let counts = engine.store.outbox_counts().unwrap_or_default();
    for (state, n) in [
        ("pending", counts.pending),
        ("parked", counts.parked),
        ("dead", counts.dead),
    ] {
        let _ = writeln!(out, "frameio_sync_outbox_entries{{state=\"{state}\"}} {n}");
    }
    metric(
        &mut out,
        "frameio_sync_mirrors",
        "gauge",
        "Workfront projects with a mirror.",
    );
    let _ = writeln!(out, "frameio_sync_mirrors {}", engine.store.mirror_count());
    metric(
        &mut out,
        "frameio_sync_api_calls_total",
        "counter",
        "HTTP requests sent, by system.",
    );
    let (workfront_calls, workfront_errors) = engine.workfront_calls();
    let (frameio_calls, frameio_errors) = engine.frameio_calls();
    let _ = writeln!(
        out,
        "frameio_sync_api_calls_total{{system=\"workfront\"}} {workfront_calls}"
    );
    let _ = writeln!(
        out,
        "frameio_sync_api_calls_total{{system=\"frameio\"}} {frameio_calls}"
    );
    metric(
        &mut out,
        "frameio_sync_api_errors_total",
        "counter",
        "Failed HTTP requests, by system and status (\"none\": no answer).",
    );
    for (system, errors) in [("workfront", workfront_errors), ("frameio", frameio_errors)] {
        for (status, n) in errors {
            let _ = writeln!(
                out,
                "frameio_sync_api_errors_total{{system=\"{system}\",status=\"{status}\"}} {n}"
            );
        }
    }
    let (syncs, failed, seconds, last) = engine.metrics.syncs();
    metric(
        &mut out,
        "frameio_sync_sync_duration_seconds",
        "summary",
        "Workfront syncs (full and polls).",
    );
    let _ = writeln!(out, "frameio_sync_sync_duration_seconds_sum {seconds}");
    let _ = writeln!(out, "frameio_sync_sync_duration_seconds_count {syncs}");
    metric(
        &mut out,
        "frameio_sync_last_sync_duration_seconds",
        "gauge",
        "The last sync's duration.",
    );
    let _ = writeln!(out, "frameio_sync_last_sync_duration_seconds {last}");
    metric(
        &mut out,
        "frameio_sync_sync_failures_total",
        "counter",
        "Syncs that failed.",
    );
    let _ = writeln!(out, "frameio_sync_sync_failures_total {failed}");
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        out,
    )
        .into_response()
}

fn metric(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
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
