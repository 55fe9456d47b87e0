//! What was sent and what came back, kept with a dead letter so an admin can see why a request
//! was refused without reproducing it. Only the method, path and body we built are kept: the
//! credentials travel in headers, which are never copied here.

use serde::{Deserialize, Serialize};

/// The most of a body kept: enough for an error document, not a whole upload.
pub const BODY_KEPT: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exchange {
    /// `METHOD /path`, then the body we sent (clipped), if any.
    pub request: String,
    /// The HTTP status, where the server answered.
    pub status: Option<u16>,
    /// The body of the answer (clipped).
    pub response: String,
}

/// `METHOD /path` and the body, clipped; a body that is not text is described by its size.
pub fn request_line(endpoint: &str, body: Option<&[u8]>) -> String {
    match body {
        None => endpoint.to_owned(),
        Some(bytes) => format!("{endpoint}\n{}", text_of(bytes)),
    }
}

/// The body as text, clipped to [`BODY_KEPT`] bytes on a character boundary.
pub fn text_of(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) if text.len() <= BODY_KEPT => text.to_owned(),
        Ok(text) => {
            let mut end = BODY_KEPT;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            format!("{}… ({} bytes in all)", &text[..end], text.len())
        }
        Err(_) => format!("({} bytes, not text)", bytes.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_kept_whole() {
        assert_eq!(request_line("POST /v4/x", Some(b"{\"a\":1}")), "POST /v4/x\n{\"a\":1}");
        assert_eq!(request_line("GET /v4/x", None), "GET /v4/x");
    }

    #[test]
    fn long_text_is_clipped_on_a_character_boundary() {
        let text = "é".repeat(BODY_KEPT);
        let clipped = text_of(text.as_bytes());
        assert!(clipped.ends_with(&format!("({} bytes in all)", text.len())));
        assert!(clipped.len() < BODY_KEPT + 40);
    }

    #[test]
    fn binary_is_described_by_size() {
        assert_eq!(text_of(&[0xff, 0xfe, 0]), "(3 bytes, not text)");
    }
}
