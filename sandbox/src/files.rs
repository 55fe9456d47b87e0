//! File contents in the sandbox: Frame.io files served from their signed download address, and
//! Workfront uploads taken in, both as streams of chunks, so a 2 GiB file never sits in memory
//! (the transfer benchmark's daemon is what is measured, not the sandbox). Small uploads are kept
//! whole so tests can compare bytes; every upload keeps its size and a digest.

use bytes::Bytes;
use futures_util::stream::{self, Stream, StreamExt};

/// What a Frame.io file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileContent {
    Bytes(Vec<u8>),
    /// `size` bytes of a pattern (byte `i` is `(i * 31 + seed) mod 251`), made as they are sent.
    Pattern {
        size: u64,
        seed: u8,
    },
}

impl FileContent {
    pub fn len(&self) -> u64 {
        match self {
            FileContent::Bytes(b) => b.len() as u64,
            FileContent::Pattern { size, .. } => *size,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The whole content, for a small file (tests compare it with what arrived).
    pub fn to_vec(&self) -> Vec<u8> {
        match self {
            FileContent::Bytes(b) => b.clone(),
            FileContent::Pattern { size, seed } => (0..*size).map(|i| pattern_byte(i, *seed)).collect(),
        }
    }

    /// Its digest, as [`Digest`] computes it over what arrives.
    pub fn digest(&self) -> u64 {
        match self {
            FileContent::Bytes(b) => {
                let mut d = Digest::default();
                d.update(b);
                d.0
            }
            FileContent::Pattern { size, seed } => {
                let mut d = Digest::default();
                let mut at = 0;
                while at < *size {
                    let end = (at + CHUNK as u64).min(*size);
                    let chunk: Vec<u8> = (at..end).map(|i| pattern_byte(i, *seed)).collect();
                    d.update(&chunk);
                    at = end;
                }
                d.0
            }
        }
    }

    /// The content as a stream of chunks of at most 64 KiB.
    pub fn stream(&self) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
        let content = self.clone();
        let size = content.len();
        stream::unfold(0u64, move |at| {
            let content = content.clone();
            async move {
                if at >= size {
                    return None;
                }
                let end = (at + CHUNK as u64).min(size);
                let chunk = match &content {
                    FileContent::Bytes(b) => Bytes::copy_from_slice(&b[at as usize..end as usize]),
                    FileContent::Pattern { seed, .. } => (at..end).map(|i| pattern_byte(i, *seed)).collect(),
                };
                Some((Ok(chunk), end))
            }
        })
    }
}

const CHUNK: usize = 64 << 10;

fn pattern_byte(i: u64, seed: u8) -> u8 {
    ((i.wrapping_mul(31) + seed as u64) % 251) as u8
}

/// FNV-1a over the bytes, in order: a file's identity without keeping it.
#[derive(Debug, Clone, Copy)]
pub struct Digest(pub u64);

impl Default for Digest {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Digest {
    pub fn update(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= *b as u64;
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// A file Workfront took in through `POST /upload`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub file_name: String,
    pub size: u64,
    pub digest: u64,
    /// The bytes, when at most [`KEEP`].
    pub bytes: Option<Vec<u8>>,
}

/// Uploads up to this size are kept whole.
pub const KEEP: u64 = 16 << 20;

/// Reads a `multipart/form-data` body with one file part as it arrives: the part's headers, then
/// its content up to the closing delimiter, which is held back as a window of its own length.
pub async fn read_upload(
    boundary: &str,
    mut body: impl Stream<Item = Result<Bytes, String>> + Unpin,
) -> Result<Upload, String> {
    let closing = format!("\r\n--{boundary}--\r\n").into_bytes();
    let mut head = Vec::new();
    let mut rest = Vec::new();
    while let Some(chunk) = body.next().await {
        head.extend_from_slice(&chunk?);
        if let Some(end) = find(&head, b"\r\n\r\n") {
            rest = head.split_off(end + 4);
            break;
        }
        if head.len() > 8 << 10 {
            return Err("the part's headers are over 8 KiB".into());
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    if !head.starts_with(&format!("--{boundary}\r\n")) || !head.contains("name=\"uploadedFile\"") {
        return Err("expected one part named uploadedFile".into());
    }
    let file_name = head
        .split("filename=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_default()
        .to_owned();
    let mut upload = Upload {
        file_name,
        size: 0,
        digest: 0,
        bytes: Some(Vec::new()),
    };
    let mut digest = Digest::default();
    let mut window = rest;
    let mut take = |bytes: &[u8], upload: &mut Upload| {
        digest.update(bytes);
        upload.size += bytes.len() as u64;
        match &mut upload.bytes {
            Some(kept) if upload.size <= KEEP => kept.extend_from_slice(bytes),
            _ => upload.bytes = None,
        }
    };
    loop {
        if window.len() > closing.len() {
            let ready = window.len() - closing.len();
            take(&window[..ready], &mut upload);
            window.drain(..ready);
        }
        match body.next().await {
            Some(chunk) => window.extend_from_slice(&chunk?),
            None => break,
        }
    }
    if window != closing {
        return Err("the body does not end with the closing delimiter".into());
    }
    upload.digest = digest.0;
    Ok(upload)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_upload_read_in_odd_chunks_is_what_was_sent() {
        let content = FileContent::Pattern { size: 300_000, seed: 7 };
        let mut body = b"--b0undary\r\nContent-Disposition: form-data; name=\"uploadedFile\"; filename=\"cut.mov\"\r\nContent-Type: video/quicktime\r\n\r\n".to_vec();
        body.extend(content.to_vec());
        body.extend(b"\r\n--b0undary--\r\n");
        let chunks: Vec<Result<Bytes, String>> = body.chunks(7_777).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
        let upload = read_upload("b0undary", stream::iter(chunks)).await.unwrap();
        assert_eq!(upload.file_name, "cut.mov");
        assert_eq!(upload.size, 300_000);
        assert_eq!(upload.digest, content.digest());
        assert_eq!(upload.bytes.unwrap(), content.to_vec());
        let cut = stream::iter(vec![Ok(Bytes::copy_from_slice(&body[..body.len() - 3]))]);
        assert!(
            read_upload("b0undary", cut).await.is_err(),
            "a body cut short is refused"
        );
    }

    #[tokio::test]
    async fn a_pattern_streams_in_chunks_with_its_digest() {
        let content = FileContent::Pattern { size: 200_001, seed: 3 };
        let mut digest = Digest::default();
        let mut total = 0;
        let mut chunks = Box::pin(content.stream());
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.unwrap();
            assert!(chunk.len() <= CHUNK);
            total += chunk.len() as u64;
            digest.update(&chunk);
        }
        assert_eq!((total, digest.0), (200_001, content.digest()));
    }
}
