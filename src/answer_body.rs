//! Reading an answer from Workfront, Frame.io or IMS within a size: a broken or hostile server
//! cannot make the daemon hold more than the limit of any one answer.

/// What went wrong with a request, for a message: reqwest's own errors print the URL, which may
/// carry a query or be a signed download address, so messages carry what failed and its cause.
pub fn without_url(err: &reqwest::Error) -> String {
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "could not connect"
    } else {
        "connection failed"
    };
    match std::error::Error::source(err) {
        Some(source) => format!("{kind}: {source}"),
        None => kind.to_owned(),
    }
}

/// Why an answer's body was not read.
#[derive(Debug)]
pub enum AnswerBodyError {
    /// Announced or found longer than `limit` bytes.
    TooLarge { limit: usize },
    /// The connection broke off.
    Broken(reqwest::Error),
}

impl AnswerBodyError {
    /// For the clients' error messages: the limit, and `what_to_do` about it.
    pub fn too_large_message(limit: usize, what_to_do: &str) -> String {
        format!(
            "the answer is over {} MiB, more than any answer this daemon expects; {what_to_do}",
            limit >> 20
        )
    }
}

/// The whole body of `response`, if it is at most `limit` bytes.
pub async fn read(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, AnswerBodyError> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(AnswerBodyError::TooLarge { limit });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(AnswerBodyError::Broken)? {
        if body.len() + chunk.len() > limit {
            return Err(AnswerBodyError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
