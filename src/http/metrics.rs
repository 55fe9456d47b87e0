//! `GET /healthz` and `GET /metrics` (Prometheus text format 0.0.4).

use super::{HttpContext, LIVENESS};
use crate::metrics::EventOutcome;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use std::fmt::Write;
use std::sync::Arc;

/// 200 while every loop beats, 503 naming the one that stopped.
pub(super) async fn healthz(State(context): State<Arc<HttpContext>>) -> Response {
    let stale: Vec<String> = context
        .loops
        .iter()
        .filter(|(_, beat)| beat.age() >= LIVENESS)
        .map(|(name, beat)| format!("{name} loop silent for {}s", beat.age().as_secs()))
        .collect();
    if stale.is_empty() {
        (StatusCode::OK, "ok\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, format!("{}\n", stale.join("; "))).into_response()
    }
}

pub(super) async fn metrics(State(context): State<Arc<HttpContext>>) -> Response {
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
