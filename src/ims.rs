//! Adobe IMS: OAuth server-to-server access tokens (the client-credentials grant), for Frame.io
//! accounts and Workfront tenants administered through the Adobe Admin Console.
//!
//! The access token lives only in memory: it is fetched on first use, shared by every request,
//! refreshed ahead of expiry by a margin scaled to its `expires_in` (a tenth of it, at most five
//! minutes, so a short-lived token is not fetched for every request), and dropped when a service
//! answers 401 with it. Fetching holds a lock, so concurrent requests share one refresh.

use crate::retry::{Classify, ErrorClass};
use crate::secret::Secret;
use reqwest::Url;
use serde::Deserialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Adobe's token endpoint for the client-credentials grant.
pub const DEFAULT_TOKEN_URL: &str = "https://ims-na1.adobelogin.com/ims/token/v3";

/// The longest head start a refresh takes on a token's expiry.
const MAX_REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// A token answer is a few KiB.
const MAX_ANSWER: usize = 64 * 1024;

/// The `expires_in` believed: at least a minute, at most two days.
const MIN_LIFETIME_SECS: u64 = 60;
const MAX_LIFETIME_SECS: u64 = 2 * 24 * 3600;

/// While IMS is unavailable, the first pause before asking again, doubled per failure up to
/// `OUTAGE_PAUSE_MAX`: an outage is not made worse by every request asking for a token.
const OUTAGE_PAUSE_FIRST: Duration = Duration::from_secs(1);
const OUTAGE_PAUSE_MAX: Duration = Duration::from_secs(60);

/// The current time, injectable so tests can move it instead of sleeping.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Instant;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// An OAuth server-to-server credential from the Adobe Developer Console.
#[derive(Clone)]
pub struct ImsCredentials {
    pub client_id: String,
    pub client_secret: Secret,
    /// Comma-separated, as listed on the credential in the Developer Console.
    pub scopes: String,
    pub token_url: Url,
}

impl std::fmt::Debug for ImsCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImsCredentials")
            .field("client_id", &self.client_id)
            .field("scopes", &self.scopes)
            .field("token_url", &self.token_url.as_str())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ImsError {
    /// IMS refused the credential (400/401: `invalid_client`, a wrong secret, a missing scope).
    #[error("Adobe IMS refused the client credentials of client {client_id} (HTTP {status}): {detail}")]
    Refused {
        client_id: String,
        status: u16,
        detail: String,
    },
    /// IMS did not answer usefully (5xx, timeout, connection failure).
    #[error("Adobe IMS is unavailable{}: {detail}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    Unavailable { status: Option<u16>, detail: String },
}

impl Classify for ImsError {
    fn class(&self) -> ErrorClass {
        match self {
            ImsError::Refused { .. } => ErrorClass::Auth,
            ImsError::Unavailable { .. } => ErrorClass::Transient,
        }
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: u64,
}

#[derive(Deserialize, Default)]
struct ErrorAnswer {
    error: Option<String>,
    error_description: Option<String>,
}

struct Cached {
    token: Secret,
    refresh_at: Instant,
    /// When IMS said it stops working: until then it serves through an outage.
    expires_at: Instant,
}

/// Hands out a valid access token for one credential.
pub struct ImsTokenSource {
    credentials: ImsCredentials,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
    state: tokio::sync::Mutex<State>,
    fetches: AtomicU64,
}

#[derive(Default)]
struct State {
    cached: Option<Cached>,
    /// While IMS is unavailable: the failures in a row, the last one, and when to ask again.
    outage: Option<Outage>,
}

struct Outage {
    failures: u32,
    last: ImsError,
    retry_at: Instant,
}

impl std::fmt::Debug for ImsTokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImsTokenSource")
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

impl ImsTokenSource {
    pub fn new(credentials: ImsCredentials) -> Self {
        Self::with_clock(credentials, Arc::new(SystemClock))
    }

    pub fn with_clock(credentials: ImsCredentials, clock: Arc<dyn Clock>) -> Self {
        Self {
            credentials,
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .timeout(Duration::from_secs(30))
                .user_agent(concat!("frameio-sync/", env!("CARGO_PKG_VERSION")))
                .build()
                .expect("a reqwest client with static settings builds"),
            clock,
            state: tokio::sync::Mutex::default(),
            fetches: AtomicU64::new(0),
        }
    }

    pub fn client_id(&self) -> &str {
        &self.credentials.client_id
    }

    /// Tokens fetched from IMS so far.
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// A valid access token: the cached one, or a new one when it is due for refresh. While IMS
    /// is unavailable it is asked again only after a pause (1 s, doubling, at most a minute), and
    /// a cached token that has not expired yet keeps serving meanwhile.
    pub async fn access_token(&self) -> Result<Secret, ImsError> {
        let mut state = self.state.lock().await;
        let now = self.clock.now();
        let still_valid = state
            .cached
            .as_ref()
            .filter(|c| now < c.expires_at)
            .map(|c| c.token.clone());
        if let Some(c) = state.cached.as_ref().filter(|c| now < c.refresh_at) {
            return Ok(c.token.clone());
        }
        if let Some(outage) = state.outage.as_ref().filter(|o| now < o.retry_at) {
            return still_valid.ok_or_else(|| outage.last.clone());
        }
        match self.fetch().await {
            Ok(fresh) => {
                let token = fresh.token.clone();
                state.cached = Some(fresh);
                state.outage = None;
                Ok(token)
            }
            Err(err @ ImsError::Unavailable { .. }) => {
                let failures = state.outage.as_ref().map_or(0, |o| o.failures).saturating_add(1);
                let pause = OUTAGE_PAUSE_FIRST
                    .saturating_mul(2u32.saturating_pow(failures.saturating_sub(1).min(16)))
                    .min(OUTAGE_PAUSE_MAX);
                tracing::warn!(client_id = %self.credentials.client_id, error = %err, failures, pause_s = pause.as_secs(), serving_cached = still_valid.is_some(), "Adobe IMS is unavailable; asking again after a pause");
                state.outage = Some(Outage {
                    failures,
                    last: err.clone(),
                    retry_at: self.clock.now() + pause,
                });
                still_valid.ok_or(err)
            }
            Err(err) => Err(err),
        }
    }

    /// Forgets `rejected` (a service answered 401 with it), so the next request fetches a new one.
    /// A token already replaced by a concurrent request is left alone.
    pub async fn invalidate(&self, rejected: &Secret) {
        let mut state = self.state.lock().await;
        if state
            .cached
            .as_ref()
            .is_some_and(|c| c.token.expose() == rejected.expose())
        {
            state.cached = None;
        }
    }

    async fn fetch(&self) -> Result<Cached, ImsError> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let c = &self.credentials;
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", c.client_id.as_str()),
            ("client_secret", c.client_secret.expose()),
            ("scope", c.scopes.as_str()),
        ];
        let response = self
            .http
            .post(c.token_url.clone())
            .form(&form)
            .send()
            .await
            .map_err(|e| ImsError::Unavailable {
                status: None,
                detail: if e.is_timeout() {
                    "timed out".into()
                } else {
                    "could not connect".into()
                },
            })?;
        let status = response.status();
        let body = crate::answer_body::read(response, MAX_ANSWER)
            .await
            .map_err(|e| ImsError::Unavailable {
                status: Some(status.as_u16()),
                detail: match e {
                    crate::answer_body::AnswerBodyError::Broken(_) => "the answer broke off".into(),
                    crate::answer_body::AnswerBodyError::TooLarge { limit } => {
                        format!("the answer is over {limit} bytes, more than a token answer")
                    }
                },
            })?;
        if status.is_success() {
            let answer: TokenAnswer = serde_json::from_slice(&body).map_err(|e| ImsError::Unavailable {
                status: Some(status.as_u16()),
                detail: format!("unreadable token answer: {e}"),
            })?;
            // Bounded: a lifetime of 0 would fetch a token per request, an endless one overflow
            // the clock (IMS gives 24 hours).
            let lifetime = Duration::from_secs(answer.expires_in.clamp(MIN_LIFETIME_SECS, MAX_LIFETIME_SECS));
            let margin = (lifetime / 10).min(MAX_REFRESH_MARGIN);
            let now = self.clock.now();
            return Ok(Cached {
                token: Secret::new(answer.access_token),
                refresh_at: now + lifetime - margin,
                expires_at: now + lifetime,
            });
        }
        let error: ErrorAnswer = serde_json::from_slice(&body).unwrap_or_default();
        let detail = match (error.error, error.error_description) {
            (Some(e), Some(d)) => format!("{e}: {d}"),
            (Some(e), None) => e,
            (None, Some(d)) => d,
            (None, None) => String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
        };
        if status.is_client_error() && status.as_u16() != 429 && status.as_u16() != 408 {
            Err(ImsError::Refused {
                client_id: c.client_id.clone(),
                status: status.as_u16(),
                detail,
            })
        } else {
            Err(ImsError::Unavailable {
                status: Some(status.as_u16()),
                detail,
            })
        }
    }
}
