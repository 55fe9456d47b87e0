//! A file on its way from one service to the other, as a stream of chunks: read from a signed
//! download address (Frame.io's `media_links.original`, which needs no credential and must not get
//! one) and handed to an upload as its body. Memory holds a few chunks, whatever the file's size
//! (`cargo bench --bench transfer` measures it); the review loop and the one-way folder share it.
//!
//! Nothing from the download is trusted: its length must match what it declared and stay within
//! the cap the caller gives, or the stream ends with an error and the upload with it.

use crate::answer_body::without_url;
use crate::secret::Secret;
use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How long a download may stall (no byte arriving) before it is given up.
const STALL: Duration = Duration::from_secs(60);

/// Why a download could not be opened or read through.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// The download address answered with an error status (an expired or refused signature:
    /// fetch a new address and try again).
    #[error("the download answered HTTP {status}")]
    Refused { status: u16 },
    /// The download declared more bytes than allowed.
    #[error("the file is {declared} bytes, over the {limit} allowed")]
    TooLarge { declared: u64, limit: u64 },
    /// The connection failed, stalled, or delivered other than it declared.
    #[error("the download broke off: {0}")]
    Broken(String),
}

impl crate::retry::Classify for TransferError {
    /// A refused or broken download is worth another try (a 403 is an expired signature: the
    /// next attempt of the effect fetches a new address); a file too large never is.
    fn class(&self) -> crate::retry::ErrorClass {
        match self {
            TransferError::TooLarge { .. } => crate::retry::ErrorClass::Permanent,
            TransferError::Refused { status: 403 | 404, .. } => crate::retry::ErrorClass::Permanent,
            TransferError::Refused { .. } | TransferError::Broken(_) => crate::retry::ErrorClass::Transient,
        }
    }
}

/// An open download: its length, when declared, and its bytes as they arrive.
pub struct Download {
    pub length: Option<u64>,
    pub chunks: BoxStream<'static, Result<Bytes, std::io::Error>>,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("length", &self.length)
            .finish_non_exhaustive()
    }
}

/// The HTTP client downloads use: no credential, no overall timeout (a 2 GiB file takes
/// minutes), but a stalled connection is given up after [`STALL`].
#[derive(Clone)]
pub struct Transfers {
    http: reqwest::Client,
}

impl Default for Transfers {
    fn default() -> Self {
        Self {
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .read_timeout(STALL)
                .user_agent(concat!("frameio-sync/", env!("CARGO_PKG_VERSION")))
                .build()
                .expect("a reqwest client with static settings builds"),
        }
    }
}

impl Transfers {
    /// Opens the download at `url` (a signed address: a secret, never logged), refusing one that
    /// declares more than `limit` bytes; the stream fails if more arrive than declared (or than
    /// `limit`, undeclared) or fewer before it ends.
    pub async fn open(&self, url: &Secret, limit: u64) -> Result<Download, TransferError> {
        let response = self
            .http
            .get(url.expose())
            .send()
            .await
            .map_err(|e| TransferError::Broken(without_url(&e)))?;
        let status = response.status();
        if !status.is_success() {
            return Err(TransferError::Refused {
                status: status.as_u16(),
            });
        }
        let length = response.content_length();
        if let Some(declared) = length.filter(|l| *l > limit) {
            return Err(TransferError::TooLarge { declared, limit });
        }
        let cap = length.unwrap_or(limit);
        let seen = Arc::new(AtomicU64::new(0));
        let counter = seen.clone();
        let body = response.bytes_stream().map(move |chunk| {
            let chunk = chunk.map_err(|e| std::io::Error::other(without_url(&e)))?;
            let total = counter.fetch_add(chunk.len() as u64, Ordering::Relaxed) + chunk.len() as u64;
            if total > cap {
                return Err(std::io::Error::other(format!(
                    "more than the {cap} bytes declared arrived"
                )));
            }
            Ok(chunk)
        });
        // After the last chunk: all the declared bytes came, or the stream ends with an error.
        let end = futures_util::stream::once(async move {
            let total = seen.load(Ordering::Relaxed);
            match length {
                Some(declared) if total != declared => Some(Err(std::io::Error::other(format!(
                    "the download ended after {total} of {declared} bytes"
                )))),
                _ => None,
            }
        })
        .filter_map(std::future::ready);
        Ok(Download {
            length,
            chunks: body.chain(end).boxed(),
        })
    }
}
