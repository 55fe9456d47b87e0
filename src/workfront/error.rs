//! What can go wrong talking to Workfront, classified for the retry policy.

use crate::exchange::Exchange;
use crate::retry::{Classify, ErrorClass};

#[derive(Debug, thiserror::Error)]
pub enum WorkfrontError {
    /// 401/403, or an `AuthenticationException` in the body.
    #[error("Workfront refused the API key on {endpoint} (HTTP {status}): {message}")]
    Auth {
        endpoint: String,
        status: u16,
        message: String,
    },
    /// 429: "Too many concurrent API requests for the given customer".
    #[error("Workfront limited concurrent requests on {endpoint} (HTTP 429): {message}")]
    TooManyRequests { endpoint: String, message: String },
    /// 5xx, 408, 409, a timeout or a broken connection.
    #[error("Workfront failed transiently on {endpoint}{}: {message}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    Transient {
        endpoint: String,
        status: Option<u16>,
        message: String,
    },
    /// Any other 4xx, or a 200 that carries an `error`: the request itself is wrong.
    #[error("Workfront rejected {endpoint} (HTTP {status}, {class}): {message}")]
    Rejected {
        endpoint: String,
        status: u16,
        class: String,
        message: String,
        /// What a write sent and was answered, for the dead letter.
        exchange: Option<Box<Exchange>>,
    },
    /// 404, or a `NotFoundException`: the object does not exist (or the key may not see it).
    #[error("Workfront has no {endpoint}: {message}")]
    NotFound {
        endpoint: String,
        message: String,
        exchange: Option<Box<Exchange>>,
    },
    /// The answer was not the JSON we expected.
    #[error("unexpected answer from Workfront on {endpoint}: {message}")]
    Decode { endpoint: String, message: String },
}

impl Classify for WorkfrontError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::Auth { .. } => ErrorClass::Auth,
            Self::TooManyRequests { .. } | Self::Transient { .. } => ErrorClass::Transient,
            Self::Rejected { .. } | Self::NotFound { .. } | Self::Decode { .. } => ErrorClass::Permanent,
        }
    }
}

impl WorkfrontError {
    /// Keeps what a refused write sent and was answered (reads carry none).
    pub(super) fn with_exchange(mut self, exchange: impl FnOnce() -> Exchange) -> Self {
        if let Self::Rejected { exchange: slot, .. } | Self::NotFound { exchange: slot, .. } = &mut self {
            *slot = Some(Box::new(exchange()));
        }
        self
    }

    /// The refused request and its answer, for a dead letter.
    pub fn exchange(&self) -> Option<Exchange> {
        match self {
            Self::Rejected { exchange, .. } | Self::NotFound { exchange, .. } => exchange.as_deref().cloned(),
            _ => None,
        }
    }
}
