//! Pacing from Frame.io's rate-limit headers, so the daemon slows down before it is refused.
//!
//! Frame.io limits each user per endpoint with a leaky bucket and reports it on every response:
//! `x-ratelimit-limit` (requests per window), `x-ratelimit-remaining`, `x-ratelimit-window` (ms).
//! While `remaining` is above zero a request goes at once; at zero, requests are spaced one refill
//! interval (`window / limit`) apart, which is the bucket's steady rate. A 429 (which should then be
//! rare) pushes the next slot out by at least one interval.

use reqwest::header::HeaderMap;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// Without headers, assume a 429 means "wait a second" (Frame.io recommends starting at ~1 s).
const DEFAULT_429_WAIT: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy)]
struct Bucket {
    remaining: u64,
    interval: Duration,
    next_free: Instant,
}

/// One per credential: Frame.io's limits are per user, so one connection's pacing never slows
/// another's. Buckets are keyed by endpoint class ("projects.create", "read", …).
#[derive(Clone, Default)]
pub struct RateLimiter {
    buckets: Arc<Mutex<HashMap<&'static str, Bucket>>>,
}

/// The longest window believed from `x-ratelimit-window`.
pub const MAX_WINDOW: Duration = Duration::from_secs(3600);

/// What the headers of one response said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observed {
    pub limit: u64,
    pub remaining: u64,
    pub window: Duration,
}

impl Observed {
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let num = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<u64>().ok();
        let limit = num("x-ratelimit-limit")?;
        // Bounded: an endless window would stall a bucket for ever (or overflow the clock).
        // Frame.io's windows are a minute.
        Some(Self {
            limit: limit.max(1),
            remaining: num("x-ratelimit-remaining")?,
            window: Duration::from_millis(num("x-ratelimit-window")?).min(MAX_WINDOW),
        })
    }

    fn interval(&self) -> Duration {
        self.window / self.limit.max(1) as u32
    }
}

impl RateLimiter {
    /// Waits until a request of class `bucket` may go.
    pub async fn acquire(&self, bucket: &'static str) {
        let wait_until = {
            let mut buckets = self.buckets.lock().expect("rate limiter lock");
            let Some(b) = buckets.get_mut(bucket) else {
                return;
            };
            if b.remaining > 0 {
                b.remaining -= 1;
                return;
            }
            let at = b.next_free.max(Instant::now());
            b.next_free = at + b.interval;
            at
        };
        tokio::time::sleep_until(wait_until).await;
    }

    /// How long a request of class `bucket` would wait now (zero: it may go at once).
    pub fn ready_in(&self, bucket: &'static str) -> Duration {
        let buckets = self.buckets.lock().expect("rate limiter lock");
        match buckets.get(bucket) {
            Some(b) if b.remaining == 0 => b.next_free.saturating_duration_since(Instant::now()),
            _ => Duration::ZERO,
        }
    }

    /// Records what a response's headers said.
    pub fn observe(&self, bucket: &'static str, observed: Observed) {
        let mut buckets = self.buckets.lock().expect("rate limiter lock");
        let now = Instant::now();
        let b = buckets.entry(bucket).or_insert(Bucket {
            remaining: observed.remaining,
            interval: observed.interval(),
            next_free: now,
        });
        b.remaining = observed.remaining;
        b.interval = observed.interval();
        if observed.remaining == 0 {
            b.next_free = b.next_free.max(now + b.interval);
        }
    }

    /// Records a 429 and returns how long to wait before the next try.
    pub fn refused(&self, bucket: &'static str, observed: Option<Observed>) -> Duration {
        let mut buckets = self.buckets.lock().expect("rate limiter lock");
        let now = Instant::now();
        let interval = observed
            .map(|o| o.interval())
            .unwrap_or(DEFAULT_429_WAIT)
            .max(Duration::from_millis(50));
        let b = buckets.entry(bucket).or_insert(Bucket {
            remaining: 0,
            interval,
            next_free: now,
        });
        b.remaining = 0;
        b.interval = interval;
        b.next_free = b.next_free.max(now + interval);
        b.next_free - now
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_endless_window_is_bounded() {
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-limit", "1".parse().unwrap());
        h.insert("x-ratelimit-remaining", "0".parse().unwrap());
        h.insert("x-ratelimit-window", u64::MAX.to_string().parse().unwrap());
        let observed = Observed::from_headers(&h).unwrap();
        assert_eq!(observed.window, MAX_WINDOW);
        let limiter = RateLimiter::default();
        limiter.observe("read", observed);
        assert!(limiter.ready_in("read") <= MAX_WINDOW);
    }

    use super::*;

    fn observed(limit: u64, remaining: u64, window_ms: u64) -> Observed {
        Observed {
            limit,
            remaining,
            window: Duration::from_millis(window_ms),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn goes_at_once_while_remaining_then_spaces_by_the_refill_interval() {
        let limiter = RateLimiter::default();
        let start = Instant::now();
        assert_eq!(limiter.ready_in("create"), Duration::ZERO);
        limiter.acquire("create").await; // Nothing known yet.
        limiter.observe("create", observed(10, 1, 60_000));
        limiter.acquire("create").await; // One left.
        assert_eq!(start.elapsed(), Duration::ZERO);
        limiter.observe("create", observed(10, 0, 60_000));
        assert_eq!(limiter.ready_in("create"), Duration::from_secs(6));
        limiter.acquire("create").await;
        assert_eq!(start.elapsed(), Duration::from_secs(6));
        limiter.acquire("create").await;
        assert_eq!(start.elapsed(), Duration::from_secs(12));
        // Another bucket is not slowed.
        let t = Instant::now();
        limiter.acquire("read").await;
        assert_eq!(t.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_without_headers_waits_a_second() {
        let limiter = RateLimiter::default();
        assert_eq!(limiter.refused("create", None), DEFAULT_429_WAIT);
        let start = Instant::now();
        limiter.acquire("create").await;
        assert_eq!(start.elapsed(), DEFAULT_429_WAIT);
    }

    #[test]
    fn headers_are_read() {
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-limit", "10".parse().unwrap());
        h.insert("x-ratelimit-remaining", "3".parse().unwrap());
        h.insert("x-ratelimit-window", "60000".parse().unwrap());
        assert_eq!(Observed::from_headers(&h), Some(observed(10, 3, 60_000)));
        h.remove("x-ratelimit-window");
        assert_eq!(Observed::from_headers(&h), None);
    }
}
