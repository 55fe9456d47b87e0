//! A file on its way from one service to the other, as a stream of chunks: read from a signed
//! download address (Frame.io's `media_links.original`, which needs no credential and must not get
//! one) and handed to an upload as its body, or cut into the parts of a multipart upload (Frame.io's
//! `local_upload`: presigned part addresses, each part spooled to a temporary file so it can be
//! sent again on its own). Memory holds a few chunks, whatever the file's size (`cargo bench
//! --bench transfer` measures it); the review loop and the one-way folder share it.
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
        let chunks = response
            .bytes_stream()
            .map(|chunk| chunk.map_err(|e| std::io::Error::other(without_url(&e))));
        Download::checked(length, limit, chunks)
    }
}

impl Download {
    /// A download of `chunks` that declared `length`, refused when that is over `limit`; the
    /// stream fails if more arrive than declared (or than `limit`, undeclared) or fewer before it
    /// ends. Nothing from outside is trusted before it is bounded.
    pub fn checked(
        length: Option<u64>,
        limit: u64,
        chunks: impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
    ) -> Result<Download, TransferError> {
        if let Some(declared) = length.filter(|l| *l > limit) {
            return Err(TransferError::TooLarge { declared, limit });
        }
        let cap = length.unwrap_or(limit);
        let seen = Arc::new(AtomicU64::new(0));
        let counter = seen.clone();
        let body = chunks.map(move |chunk| {
            let chunk = chunk?;
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

/// One part of a multipart upload: how many bytes, and the presigned address they are PUT to (a
/// secret: it authorizes the write by itself).
#[derive(Debug, Clone)]
pub struct UploadPart {
    pub size: u64,
    pub url: Secret,
}

/// Attempts per part before the upload gives up (a later attempt of the effect starts again).
const PART_ATTEMPTS: u32 = 3;

impl Transfers {
    /// Sends `download` to `parts` in order. Each part's bytes are spooled to a temporary file in
    /// `spool_dir` (memory holds a chunk, the disk one part), then PUT with `content-type:
    /// media_type` and `x-amz-acl: private` (both in the presigned signature), tried up to three
    /// times on its own, one and then two seconds apart. The parts must add up to the download's
    /// length, and the download must end with the last part.
    pub async fn upload_parts(
        &self,
        download: Download,
        parts: &[UploadPart],
        media_type: &str,
        spool_dir: &std::path::Path,
    ) -> Result<(), TransferError> {
        use futures_util::TryStreamExt;
        use tokio::io::{AsyncSeekExt, AsyncWriteExt};
        let total: u64 = parts.iter().map(|p| p.size).sum();
        if let Some(length) = download.length.filter(|l| *l != total) {
            return Err(TransferError::Broken(format!(
                "the upload's parts hold {total} bytes, the download {length}"
            )));
        }
        let broken = |e: std::io::Error| TransferError::Broken(e.to_string());
        let mut chunks = download.chunks;
        let mut carry = Bytes::new();
        for (n, part) in parts.iter().enumerate() {
            let spool = tempfile::tempfile_in(spool_dir).map_err(broken)?;
            let mut file = tokio::fs::File::from_std(spool);
            let mut written = 0u64;
            while written < part.size {
                if carry.is_empty() {
                    carry = match chunks.try_next().await.map_err(broken)? {
                        Some(chunk) => chunk,
                        None => {
                            return Err(TransferError::Broken(format!(
                                "the download ended within part {} ({written} of {} bytes)",
                                n + 1,
                                part.size
                            )))
                        }
                    };
                }
                let take = carry.len().min((part.size - written) as usize);
                let piece = carry.split_to(take);
                file.write_all(&piece).await.map_err(broken)?;
                written += take as u64;
            }
            file.flush().await.map_err(broken)?;
            let mut attempt = 0;
            loop {
                attempt += 1;
                file.rewind().await.map_err(broken)?;
                let reader = file.try_clone().await.map_err(broken)?;
                let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::new(reader));
                let sent = self
                    .http
                    .put(part.url.expose())
                    .header("content-type", media_type)
                    .header("x-amz-acl", "private")
                    .header("content-length", part.size)
                    .body(body)
                    .send()
                    .await;
                let failure = match sent {
                    Ok(answer) if answer.status().is_success() => break,
                    // An expired or refused signature: a new upload is needed, not another try.
                    Ok(answer) if matches!(answer.status().as_u16(), 400 | 403 | 404) => {
                        return Err(TransferError::Refused {
                            status: answer.status().as_u16(),
                        })
                    }
                    Ok(answer) => format!("part {} answered HTTP {}", n + 1, answer.status().as_u16()),
                    Err(e) => format!("part {}: {}", n + 1, without_url(&e)),
                };
                if attempt >= PART_ATTEMPTS {
                    return Err(TransferError::Broken(failure));
                }
                tracing::warn!(part = n + 1, attempt, error = %failure, "a part failed; sending it again");
                tokio::time::sleep(Duration::from_secs(u64::from(attempt))).await;
            }
        }
        if !carry.is_empty() || chunks.try_next().await.map_err(broken)?.is_some() {
            return Err(TransferError::Broken(format!(
                "the download held more than the parts' {total} bytes"
            )));
        }
        Ok(())
    }
}
