//! `/metrics` as Prometheus scrapes it, and the dashboard and alert rules shipped beside it
//! (`packaging/`): every metric they use is one the daemon declares.

use crate::helpers::{wait_until, TestApp};
use frameio_sync_sandbox::{Limits, World};
use std::collections::BTreeSet;
use std::time::Duration;

async fn scrape(app: &TestApp) -> (u16, String) {
    let response = reqwest::get(format!("{}/metrics", app.http_url())).await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Every `frameio_sync_…` name in `text`.
fn referenced(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("frameio_sync_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        names.insert(tail[..end].to_owned());
        rest = &tail[end..];
    }
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scrape_has_histograms_and_per_kind_figures_and_the_shipped_dashboard_and_alerts_use_only_them() {
    let mut app = TestApp::prepare(World::generated(3), Limits::unlimited()).await;
    app.enable_http("metrics-test-token");
    app.start();
    app.wait_for_mirrors(3).await;
    let store = app.store().clone();
    wait_until("a drained outbox", Duration::from_secs(30), || {
        store.outbox_counts().unwrap().pending == 0
    })
    .await;
    let (status, text) = scrape(&app).await;
    assert_eq!(status, 200, "{text}");
    for line in [
        "frameio_sync_effects_total{kind=\"create_mirror\",outcome=\"done\"} 3",
        "frameio_sync_effect_latency_seconds_count{kind=\"create_mirror\"} 3",
        "frameio_sync_sync_duration_seconds_bucket{le=",
        "frameio_sync_outbox_entries{state=\"pending\"} 0",
        "frameio_sync_dead_letters 0",
        "frameio_sync_removal_guard_held 0",
        "frameio_sync_mirrors 3",
        "frameio_sync_request_duration_seconds_count{system=\"workfront\",endpoint=\"proj/search\",status=\"200\"}",
        "frameio_sync_request_duration_seconds_count{system=\"frameio\",endpoint=\"POST projects.create\",status=\"201\"}",
        "frameio_sync_api_calls_total{system=\"frameio\"}",
        "# TYPE frameio_sync_last_full_sync_timestamp_seconds gauge",
    ] {
        assert!(text.contains(line), "missing {line} in\n{text}");
    }
    let full_sync = text
        .lines()
        .find_map(|l| l.strip_prefix("frameio_sync_last_full_sync_timestamp_seconds "))
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap();
    let now = frameio_sync::timestamp::Timestamp::now().millis() as f64 / 1000.0;
    assert!(full_sync > now - 120.0 && full_sync <= now, "{full_sync} vs {now}");
    // Label values are escaped by the encoder; no secret is a label.
    assert!(!text.contains("metrics-test-token"));

    // Every series the daemon declares (those with no sample yet too), and those in this scrape
    // among them.
    let metrics = frameio_sync::metrics::Metrics::new();
    let names: BTreeSet<String> = metrics.declared().iter().cloned().collect();
    let samples: String = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    for sampled in referenced(&samples) {
        assert!(names.contains(&sampled), "{sampled} is scraped but not declared");
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging");
    for file in ["grafana/frameio-sync.json", "prometheus/alerts.yml"] {
        let shipped = std::fs::read_to_string(root.join(file)).unwrap();
        if file.ends_with(".json") {
            let _: serde_json::Value = serde_json::from_str(&shipped).expect("the dashboard is JSON");
        }
        let used = referenced(&shipped);
        assert!(used.len() >= 5, "{file} uses {used:?}");
        let unknown: Vec<&String> = used.difference(&names).collect();
        assert!(
            unknown.is_empty(),
            "{file} uses metrics the daemon does not export: {unknown:?}"
        );
    }
}
