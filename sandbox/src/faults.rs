//! Faults drawn at random, for the fault-injection end-to-end test: each request to the
//! sandbox's Workfront or Frame.io may fail in one of the ways real networks and servers fail.
//! The draws come from a seeded generator, so a run can be repeated.

use super::Shared;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, ReadBuf};

/// How often each fault strikes, as a share of requests (0.0–1.0). The shares of the faults that
/// prevent a request from acting are drawn from one roll, so they add up: 0.2 + 0.1 + … ≤ 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaultRates {
    /// Answered 500, 502 or 503; nothing done.
    pub server_errors: f64,
    /// Answered 429 without any rate-limit header; nothing done.
    pub bare_429s: f64,
    /// The connection breaks before an answer; nothing done.
    pub resets: f64,
    /// No answer for `stall` (longer than the client waits); nothing done.
    pub timeouts: f64,
    /// Frame.io writes (POST, PATCH) that are carried out, after which the connection breaks:
    /// the caller cannot know they worked.
    pub ambiguous_writes: f64,
    pub stall: Duration,
    pub seed: u64,
    /// The first Frame.io writes get a reset, a stall and an ambiguous answer, in that order, so
    /// a short run sees each of the rarer faults for sure.
    pub rare_faults_first: bool,
}

/// Faults injected so far, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultCounts {
    pub server_errors: u64,
    pub bare_429s: u64,
    pub resets: u64,
    pub timeouts: u64,
    pub ambiguous_writes: u64,
}

impl FaultCounts {
    pub fn total(&self) -> u64 {
        self.server_errors + self.bare_429s + self.resets + self.timeouts + self.ambiguous_writes
    }
}

/// The random faults in force, with their generator and tally.
#[derive(Debug)]
pub(super) struct RandomFaults {
    pub rates: FaultRates,
    pub counts: FaultCounts,
    state: u64,
}

impl RandomFaults {
    pub fn new(rates: FaultRates) -> Self {
        Self {
            rates,
            counts: FaultCounts::default(),
            // xorshift needs a non-zero state.
            state: rates.seed | 1,
        }
    }

    /// A uniform draw in [0, 1) (xorshift64*: plenty for spreading faults).
    fn draw(&mut self) -> f64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        let x = self.state.wrapping_mul(0x2545_f491_4f6c_dd1d);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

enum Fault {
    ServerError(StatusCode),
    Bare429,
    Reset,
    Timeout(Duration),
    AmbiguousWrite,
}

/// Which fault, if any, strikes this request.
fn roll(shared: &Shared, frameio_write: bool) -> Option<Fault> {
    let mut state = shared.lock();
    let faults = state.random_faults.as_mut()?;
    let r = faults.rates;
    if r.rare_faults_first && frameio_write {
        let c = &mut faults.counts;
        if c.resets == 0 {
            c.resets += 1;
            return Some(Fault::Reset);
        }
        if c.timeouts == 0 {
            c.timeouts += 1;
            return Some(Fault::Timeout(r.stall));
        }
        if c.ambiguous_writes == 0 {
            c.ambiguous_writes += 1;
            return Some(Fault::AmbiguousWrite);
        }
    }
    // One roll over the faults that prevent acting, laid end to end; an ambiguous write is drawn
    // apart, among the writes that got past them.
    let x = faults.draw();
    #[derive(Clone, Copy)]
    enum Struck {
        ServerError,
        Bare429,
        Reset,
        Timeout,
    }
    let shares = [
        (r.server_errors, Struck::ServerError),
        (r.bare_429s, Struck::Bare429),
        (r.resets, Struck::Reset),
        (r.timeouts, Struck::Timeout),
    ];
    let mut edge = 0.0;
    let struck = shares.iter().find(|(share, _)| {
        edge += share;
        x < edge
    });
    let c = &mut faults.counts;
    let fault = match struck.map(|(_, kind)| *kind) {
        Some(Struck::ServerError) => {
            c.server_errors += 1;
            let codes = [
                StatusCode::INTERNAL_SERVER_ERROR,
                StatusCode::BAD_GATEWAY,
                StatusCode::SERVICE_UNAVAILABLE,
            ];
            Fault::ServerError(codes[(faults.draw() * 3.0) as usize % 3])
        }
        Some(Struck::Bare429) => {
            c.bare_429s += 1;
            Fault::Bare429
        }
        Some(Struck::Reset) => {
            c.resets += 1;
            Fault::Reset
        }
        Some(Struck::Timeout) => {
            c.timeouts += 1;
            Fault::Timeout(r.stall)
        }
        None if frameio_write && faults.draw() < r.ambiguous_writes => {
            faults.counts.ambiguous_writes += 1;
            Fault::AmbiguousWrite
        }
        None => return None,
    };
    Some(fault)
}

/// Frame.io's side: every fault, ambiguous writes included.
pub(super) async fn frameio(State(shared): State<Shared>, request: Request, next: Next) -> Response {
    let token = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let slow = token.and_then(|t| shared.lock().slow_tokens.get(t).copied());
    if let Some(delay) = slow {
        tokio::time::sleep(delay).await;
    }
    let write = matches!(*request.method(), Method::POST | Method::PATCH);
    inject(shared, write, request, next).await
}

/// Workfront's side: every fault but ambiguous writes.
pub(super) async fn workfront(State(shared): State<Shared>, request: Request, next: Next) -> Response {
    inject(shared, false, request, next).await
}

async fn inject(shared: Shared, frameio_write: bool, request: Request, next: Next) -> Response {
    match roll(&shared, frameio_write) {
        None => next.run(request).await,
        Some(Fault::ServerError(status)) => (status, "sandbox: injected server error").into_response(),
        Some(Fault::Bare429) => (StatusCode::TOO_MANY_REQUESTS, "sandbox: injected 429").into_response(),
        Some(Fault::Reset) => broken(),
        Some(Fault::Timeout(stall)) => {
            tokio::time::sleep(stall).await;
            (StatusCode::SERVICE_UNAVAILABLE, "sandbox: injected stall").into_response()
        }
        Some(Fault::AmbiguousWrite) => {
            // The write is carried out; only its answer is lost.
            let _carried_out = next.run(request).await;
            broken()
        }
    }
}

/// A response whose body fails at once: the client sees the connection break mid-answer.
fn broken() -> Response {
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(Broken));
    (StatusCode::OK, [("content-type", "application/json")], body).into_response()
}

struct Broken;

impl AsyncRead for Broken {
    fn poll_read(self: Pin<&mut Self>, _: &mut Context<'_>, _: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "sandbox: injected connection reset",
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_uniform_enough_and_repeatable() {
        let rates = FaultRates {
            server_errors: 0.2,
            bare_429s: 0.1,
            resets: 0.0,
            timeouts: 0.0,
            ambiguous_writes: 0.1,
            stall: Duration::ZERO,
            seed: 7,
            rare_faults_first: false,
        };
        let mut a = RandomFaults::new(rates);
        let mut b = RandomFaults::new(rates);
        let draws: Vec<f64> = (0..10_000).map(|_| a.draw()).collect();
        assert!(draws.iter().zip((0..10_000).map(|_| b.draw())).all(|(x, y)| *x == y));
        let below = draws.iter().filter(|x| **x < 0.2).count();
        assert!((1_800..2_200).contains(&below), "{below}");
        assert!(draws.iter().all(|x| (0.0..1.0).contains(x)));
    }
}
