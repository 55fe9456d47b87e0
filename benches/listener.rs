//! The HTTP listener against anonymous clients that hold on: what they cost the daemon's memory,
//! and whether `/healthz` and a valid delivery still get through.
//!
//! `cargo bench --bench listener`. The listener runs in this process (as in the daemon) on
//! 127.0.0.1:0 with the default `[http]` limits; the hostile clients are raw sockets writing from
//! one shared buffer, so the resident-set figures are the listener's.
//!
//! 1. 200 connections each sending endless header lines for 3 s;
//! 2. 100 connections each sending an unsigned 1 MiB action body at once;
//! 3. 500 more connections than `http.max_connections` sending half a request line and then
//!    nothing: `/healthz` is timed while they are held, and after `http.header_timeout`.

mod support;

use frameio_sync::config::ListenerLimits;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Resident and peak resident set of this process, in MiB.
fn rss() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn print_rss(what: &str) {
    let (now, peak) = rss();
    println!("  {what:<44} RSS {now:6.1} MiB (peak so far {peak:6.1} MiB)");
}

/// Opens `n` connections (or as many as the kernel lets this process) and keeps writing `chunk`
/// on each for `during`; returns how many were opened.
async fn flood(address: SocketAddr, n: usize, head: &'static [u8], chunk: &'static [u8], during: Duration) -> usize {
    let mut tasks = Vec::new();
    for _ in 0..n {
        let Ok(mut stream) = TcpStream::connect(address).await else {
            break;
        };
        tasks.push(tokio::spawn(async move {
            let _ = tokio::time::timeout(during, async {
                stream.write_all(head).await?;
                loop {
                    stream.write_all(chunk).await?;
                }
                #[allow(unreachable_code)]
                std::io::Result::Ok(())
            })
            .await;
        }));
    }
    let opened = tasks.len();
    for task in tasks {
        let _ = task.await;
    }
    opened
}

async fn timed_get(url: &str) -> (String, Duration) {
    let started = Instant::now();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let outcome = match client.get(url).send().await {
        Ok(r) => r.status().as_u16().to_string(),
        Err(e) if e.is_timeout() => "timed out".into(),
        Err(_) => "connection failed".into(),
    };
    (outcome, started.elapsed())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let limits = ListenerLimits::default();
    let listening = support::listen(limits).await;
    let address = listening.address;
    println!(
        "HTTP listener under anonymous clients (max_connections {}, max_requests_in_flight {}, header_timeout {:?}, body_timeout {:?})",
        limits.max_connections, limits.max_requests, limits.header_timeout, limits.body_timeout
    );
    print_rss("idle");

    static HEADER_LINE: [u8; 4096] = {
        let mut line = [b'a'; 4096];
        line[0] = b'X';
        line[1] = b':';
        line[4094] = b'\r';
        line[4095] = b'\n';
        line
    };
    let opened = flood(
        address,
        200,
        b"GET /healthz HTTP/1.1\r\nhost: x\r\n",
        &HEADER_LINE,
        Duration::from_secs(3),
    )
    .await;
    print_rss(&format!("after {opened} endless-header clients (3 s)"));

    static MEBIBYTE: [u8; 1024 * 1024] = [b'{'; 1024 * 1024];
    let opened = flood(
        address,
        100,
        b"POST /frameio/actions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1048576\r\n\r\n",
        &MEBIBYTE,
        Duration::from_secs(3),
    )
    .await;
    print_rss(&format!("after {opened} unsigned 1 MiB action bodies"));

    let mut held = Vec::new();
    for _ in 0..limits.max_connections + 500 {
        let Ok(mut stream) = TcpStream::connect(address).await else {
            break;
        };
        let _ = stream.write_all(b"POST /workfront/ev").await;
        held.push(stream);
    }
    print_rss(&format!("holding {} half-sent request lines", held.len()));
    let (health, took) = timed_get(&format!("http://{address}/healthz")).await;
    println!(
        "  /healthz while they are held:                {health} in {:.1} ms",
        took.as_secs_f64() * 1e3
    );
    tokio::time::sleep(limits.header_timeout + Duration::from_secs(1)).await;
    let (health, took) = timed_get(&format!("http://{address}/healthz")).await;
    println!(
        "  /healthz after header_timeout:               {health} in {:.1} ms",
        took.as_secs_f64() * 1e3
    );
    drop(held);
    print_rss("at the end");
}
