//! The public HTTP listener against clients that hold on without a credential: half-sent
//! request lines, idle connections, stalled bodies, more connections or requests than the caps,
//! unsigned action bodies, and who may read `/metrics`.

use crate::helpers::{wait_until, TestApp};
use crate::webhooks::project_event;
use frameio_sync::config::ListenerLimits;
use frameio_sync::secret::Secret;
use frameio_sync_sandbox::{Limits, World};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TOKEN: &str = "listener-test-token-0123456789";
const WAIT: Duration = Duration::from_secs(30);

/// A daemon whose listener has `limits` (and the webhook token), after its first sync.
async fn app_with(limits: ListenerLimits, configure: impl FnOnce(&mut frameio_sync::config::HttpSettings)) -> TestApp {
    let mut app = TestApp::prepare(World::generated(1), Limits::unlimited()).await;
    app.settings.workfront.poll_interval = Duration::from_secs(3600);
    app.enable_http(TOKEN);
    let http = app.settings.http.as_mut().unwrap();
    http.limits = limits;
    configure(http);
    app.start();
    let store = app.store().clone();
    wait_until("the first sync", WAIT, || store.last_sync().unwrap().is_some()).await;
    app
}

fn short(limits: ListenerLimits) -> ListenerLimits {
    ListenerLimits {
        header_timeout: Duration::from_secs(1),
        body_timeout: Duration::from_secs(1),
        ..limits
    }
}

/// Reads until the peer closes (or `limit` passes: `None`); what it sent.
async fn read_to_close(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut out = Vec::new();
    let read = tokio::time::timeout(limit, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok().map(|_| String::from_utf8_lossy(&out).into_owned())
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.http_addr.unwrap()).await.unwrap()
}

fn a_valid_delivery() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    project_event("CREATE", "proj-listener-1", "Listener", now).to_string()
}

async fn deliver(app: &TestApp) -> (u16, String) {
    let response = reqwest::Client::new()
        .post(format!("{}/workfront/events", app.http_url()))
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("content-type", "application/json")
        .body(a_valid_delivery())
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn get(url: &str, authorization: Option<&str>) -> (u16, String) {
    let mut request = reqwest::Client::new().get(url);
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    match request.send().await {
        Ok(response) => (response.status().as_u16(), response.text().await.unwrap_or_default()),
        Err(err) => (0, err.to_string()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_request_and_an_idle_connection_are_closed_after_the_header_timeout() {
    let app = app_with(short(ListenerLimits::default()), |_| {}).await;
    let mut half = connect(&app).await;
    half.write_all(b"POST /workfront/ev").await.unwrap();
    assert!(
        read_to_close(&mut half, Duration::from_secs(15)).await.is_some(),
        "a request line that never ends keeps its connection"
    );

    let mut idle = connect(&app).await;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let answered = read_to_close(&mut idle, Duration::from_secs(15)).await;
    let answered = answered.expect("an idle kept-alive connection stays open");
    assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_stalls_is_answered_408_and_its_connection_closed() {
    let app = app_with(short(ListenerLimits::default()), |_| {}).await;
    let mut stalled = connect(&app).await;
    let head = format!(
        "POST /workfront/events HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {TOKEN}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"eventType\""
    );
    stalled.write_all(head.as_bytes()).await.unwrap();
    let answer = read_to_close(&mut stalled, Duration::from_secs(15))
        .await
        .expect("a stalled body keeps its connection");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("http.body_timeout"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_connection_cap_clients_get_503_at_once_and_the_listener_recovers() {
    let limits = ListenerLimits {
        max_connections: 4,
        ..short(ListenerLimits::default())
    };
    let app = app_with(limits, |_| {}).await;
    let mut holders = Vec::new();
    for _ in 0..4 {
        let mut stream = connect(&app).await;
        stream.write_all(b"GET /hea").await.unwrap();
        holders.push(stream);
    }
    // The four are being served (their heads are pending); the fifth is over the cap. It is
    // answered within a second, not left to wait for a free slot.
    let started = std::time::Instant::now();
    let mut fifth = connect(&app).await;
    fifth
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = read_to_close(&mut fifth, Duration::from_secs(5))
        .await
        .expect("the connection over the cap is answered and closed");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.to_lowercase().contains("retry-after: 1"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    // The holders' header timeout frees their slots: health checks and deliveries work again.
    let url = format!("{}/healthz", app.http_url());
    let mut healthy = false;
    for _ in 0..100 {
        if get(&url, None).await.0 == 200 {
            healthy = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(healthy, "/healthz answers again once the slow clients are timed out");
    assert_eq!(deliver(&app).await.0, 200);
    drop(holders);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_request_cap_deliveries_get_503_and_health_checks_still_answer() {
    let limits = ListenerLimits {
        max_requests: 2,
        body_timeout: Duration::from_secs(60),
        ..ListenerLimits::default()
    };
    let app = app_with(limits, |_| {}).await;
    // Two authorized deliveries whose bodies never finish: both are being handled.
    let mut stalled = Vec::new();
    for _ in 0..2 {
        let mut stream = connect(&app).await;
        let head = format!(
            "POST /workfront/events HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {TOKEN}\r\ncontent-length: 100\r\n\r\n{{"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        stalled.push(stream);
    }
    let mut busy = false;
    for _ in 0..100 {
        let (status, body) = deliver(&app).await;
        if status == 503 {
            assert!(body.contains("too many requests in flight"), "{body}");
            busy = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(busy, "a third delivery is shed while two are in flight");
    assert_eq!(get(&format!("{}/healthz", app.http_url()), None).await.0, 200);
    // The stalled clients hang up: their handlers end and deliveries are taken again.
    drop(stalled);
    let mut recorded = false;
    for _ in 0..100 {
        if deliver(&app).await.0 == 200 {
            recorded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(recorded, "deliveries are taken again once the stalled requests end");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_without_a_fresh_signature_is_refused_before_its_body_is_read() {
    let app = app_with(ListenerLimits::default(), |_| {}).await;
    // A 1 MiB body is announced and none of it sent: the answer cannot wait for it.
    let mut unsigned = connect(&app).await;
    unsigned
        .write_all(b"POST /frameio/actions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1048576\r\n\r\n")
        .await
        .unwrap();
    let answer = read_head(&mut unsigned).await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(answer.contains("X-Frameio-Request-Timestamp"), "{answer}");

    // Fresh signature headers (that may or may not match): the body is bounded to 64 KiB.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut large = connect(&app).await;
    let head = format!(
        "POST /frameio/actions HTTP/1.1\r\nhost: x\r\nx-frameio-request-timestamp: {now}\r\nx-frameio-signature: v0=00\r\ncontent-length: 100000\r\n\r\n"
    );
    large.write_all(head.as_bytes()).await.unwrap();
    let answer = read_head(&mut large).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_event_body_that_outgrows_the_limit_is_refused_and_counted() {
    let app = app_with(ListenerLimits::default(), |_| {}).await;
    // No Content-Length to refuse it by: the body is read up to 1 MiB and refused there.
    let mut chunked = connect(&app).await;
    let head = format!(
        "POST /workfront/events HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {TOKEN}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
    );
    chunked.write_all(head.as_bytes()).await.unwrap();
    let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, " ".repeat(64 * 1024));
    for _ in 0..17 {
        // The answer may come (and the connection close) before the last chunks are taken.
        if chunked.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let answer = read_head(&mut chunked).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    let (_, metrics) = get(&format!("{}/metrics", app.http_url()), None).await;
    assert!(
        metrics.contains("frameio_sync_events_received_total{outcome=\"rejected_too_large\"} 1"),
        "{metrics}"
    );
}

/// The answer's head and what of its body came with it; it must come without the client
/// sending anything more.
async fn read_head(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        while !out.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "no answer within 5 s: the listener waits for the body");
    if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buf)).await {
        out.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_ask_for_their_token_when_one_is_configured() {
    let app = app_with(ListenerLimits::default(), |http| {
        http.metrics_token = Some(Secret::new("metrics-token-abc"));
    })
    .await;
    let url = format!("{}/metrics", app.http_url());
    let (status, body) = get(&url, None).await;
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("http.metrics_token_file"), "{body}");
    assert_eq!(get(&url, Some("Bearer wrong")).await.0, 401);
    let (status, body) = get(&url, Some("Bearer metrics-token-abc")).await;
    assert_eq!(status, 200);
    assert!(body.contains("frameio_sync_inbox_depth"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_on_their_own_address_are_not_on_the_public_listener() {
    let metrics_addr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    let app = app_with(ListenerLimits::default(), |http| {
        http.metrics_listen = Some(metrics_addr);
    })
    .await;
    assert_eq!(get(&format!("{}/metrics", app.http_url()), None).await.0, 404);
    assert_eq!(get(&format!("{}/healthz", app.http_url()), None).await.0, 200);
    let (status, body) = get(&format!("http://{metrics_addr}/metrics"), None).await;
    assert_eq!(status, 200);
    assert!(body.contains("frameio_sync_inbox_depth"), "{body}");
    assert_eq!(get(&format!("http://{metrics_addr}/healthz"), None).await.0, 200);
    // The deliveries are not on the metrics address.
    let response = reqwest::Client::new()
        .post(format!("http://{metrics_addr}/workfront/events"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
}
