//! Webhook intake under a burst: how many Workfront events a second the daemon acknowledges
//! durably, the acknowledgement latency (p50, p99), and fsyncs per event.
//!
//! `cargo bench --bench intake [-- EVENTS CONCURRENCY]` (defaults 20000 and 64). The HTTP listener
//! runs in this process on 127.0.0.1:0 with a temporary state dir, exactly as in the daemon: each
//! event is parsed, recorded in the sled inbox and flushed (group commit) before its 200.

mod support;

use frameio_sync::config::ListenerLimits;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::TOKEN;

fn event(i: usize) -> String {
    serde_json::json!({
        "eventType": "UPDATE", "subscriptionId": "bench", "eventVersion": "v2",
        "eventTime": { "epochSecond": 1_700_000_000 + i as i64, "nano": 0 },
        "newState": { "objCode": "USER", "ID": format!("u{:06}", i % 5000), "name": "User",
                      "emailAddr": format!("u{i}@example.test"), "isActive": true,
                      "parameterValues": { "DE:Add to projects in Frame.io": "Yes" } },
        "oldState": { "objCode": "USER", "ID": format!("u{:06}", i % 5000) }
    })
    .to_string()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let events = args.first().copied().unwrap_or(20_000);
    let concurrency = args.get(1).copied().unwrap_or(64);

    // Every sender has a connection and a request in flight: none is shed.
    let listening = support::listen(ListenerLimits {
        max_connections: concurrency.max(1024),
        max_requests: concurrency.max(64),
        ..Default::default()
    })
    .await;
    let store = listening.store.clone();
    let url = format!("http://{}/workfront/events", listening.address);

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    let bodies: Vec<String> = (0..events).map(event).collect();
    let bodies = Arc::new(bodies);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let flushes_before = store.flush_count();
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (client, url, bodies, next) = (client.clone(), url.clone(), bodies.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= bodies.len() {
                    return latencies;
                }
                let sent = Instant::now();
                let response = client
                    .post(&url)
                    .header("authorization", format!("Bearer {TOKEN}"))
                    .header("content-type", "application/json")
                    .body(bodies[i].clone())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200, "event {i}");
                latencies.push(sent.elapsed());
            }
        }));
    }
    let mut latencies: Vec<Duration> = Vec::with_capacity(events);
    for worker in workers {
        latencies.extend(worker.await.unwrap());
    }
    let elapsed = started.elapsed();
    let flushes = store.flush_count() - flushes_before;
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    assert_eq!(store.inbox_len(), events, "every acknowledged event is in the inbox");
    println!("webhook intake: {events} events, {concurrency} concurrent senders, 2 worker threads");
    println!(
        "  acknowledged:   {:.0} events/s ({:.2} s)",
        events as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64()
    );
    println!(
        "  ack latency:    p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3
    );
    println!(
        "  fsyncs:         {flushes} ({:.3} per event)",
        flushes as f64 / events as f64
    );
}
