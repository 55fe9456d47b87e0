//! What can go wrong talking to Frame.io, classified for the retry policy — and, for writes,
//! whether the request may have taken effect (Frame.io has no idempotency keys).

use crate::exchange::Exchange;
use crate::retry::{Classify, ErrorClass};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum FrameioError {
    /// 401/403: the token is invalid, expired, or lacks access.
    #[error("Frame.io refused the token on {endpoint} (HTTP {status}): {detail}")]
    Auth {
        endpoint: String,
        status: u16,
        detail: String,
    },
    /// 429: over the endpoint's rate limit. Nothing was done.
    #[error("Frame.io rate-limited {endpoint} (HTTP 429); next try in {}ms", wait.as_millis())]
    RateLimited { endpoint: String, wait: Duration },
    /// 5xx, 408, 409, a timeout or a broken connection. `sent` is false only when the request provably
    /// never reached the server (the connection could not be opened).
    #[error("Frame.io failed transiently on {endpoint}{}: {detail}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    Transient {
        endpoint: String,
        status: Option<u16>,
        detail: String,
        sent: bool,
    },
    /// Any other 4xx: the request is wrong, and retrying it cannot help.
    #[error("Frame.io rejected {endpoint} (HTTP {status}): {detail}")]
    Rejected {
        endpoint: String,
        status: u16,
        detail: String,
        /// What was sent and answered, for the dead letter.
        exchange: Box<Exchange>,
    },
    /// A success status with a body we cannot read.
    #[error("unexpected answer from Frame.io on {endpoint}: {detail}")]
    Decode { endpoint: String, detail: String },
}

impl FrameioError {
    /// True when a write may have been carried out although we did not see it succeed. A create
    /// that ends this way must not be sent again blindly: look for its result first.
    pub fn may_have_acted(&self) -> bool {
        matches!(self, Self::Transient { sent: true, .. } | Self::Decode { .. })
    }

    /// The refused request and its answer, for a dead letter; `None` where nothing was refused.
    pub fn exchange(&self) -> Option<Exchange> {
        match self {
            Self::Rejected { exchange, .. } => Some((**exchange).clone()),
            _ => None,
        }
    }

    /// The HTTP status, where the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Auth { status, .. } | Self::Rejected { status, .. } => Some(*status),
            Self::RateLimited { .. } => Some(429),
            Self::Transient { status, .. } => *status,
            Self::Decode { .. } => None,
        }
    }
}

impl Classify for FrameioError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::Auth { .. } => ErrorClass::Auth,
            Self::RateLimited { .. } | Self::Transient { .. } | Self::Decode { .. } => ErrorClass::Transient,
            Self::Rejected { .. } => ErrorClass::Permanent,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { wait, .. } => Some(*wait),
            _ => None,
        }
    }
}
