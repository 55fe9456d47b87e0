//! Secrets (API keys, developer tokens, HMAC secrets) in a type that cannot leak by accident.
//!
//! `Debug` and `Display` print `[redacted]`; the value is reachable only through [`Secret::expose`],
//! which is called where a request header or a signature is built and nowhere else.

use secrecy::{ExposeSecret, SecretString};
use std::fmt;
use std::path::Path;

#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(SecretString::from(value.into()))
    }

    /// The secret's value. Call it only to build a header or a signature.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// `sha256:` and the first 12 hex digits of the secret's SHA-256: tells secrets apart in
    /// listings without revealing them.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(self.expose().as_bytes());
        let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
        format!("sha256:{hex}")
    }

    /// Reads a secret file as systemd's `LoadCredential=` or an admin writes it: the whole file, less
    /// surrounding white space (a trailing newline is what `echo` leaves).
    ///
    /// Only a regular file (or a link to one) of at most [`MAX_SECRET_FILE`] bytes is read, and the
    /// value may hold no control character: a NUL or a newline inside it would make every request
    /// header fail, and a link to `/dev/zero` would be read until memory runs out. The error names
    /// what is wrong and the operating system's reason, never any of the content.
    pub fn read_file(path: &Path) -> Result<Self, SecretFileError> {
        use std::io::Read;
        let unreadable = |err: std::io::Error| SecretFileError::Unreadable {
            reason: err.to_string(),
        };
        let file = std::fs::File::open(path).map_err(unreadable)?;
        let meta = file.metadata().map_err(unreadable)?;
        if !meta.is_file() {
            return Err(SecretFileError::NotRegular);
        }
        let mut raw = Vec::new();
        // One byte past the limit tells a file that grew since `metadata` from one at the limit.
        file.take(MAX_SECRET_FILE + 1)
            .read_to_end(&mut raw)
            .map_err(unreadable)?;
        if raw.len() as u64 > MAX_SECRET_FILE {
            return Err(SecretFileError::TooLarge);
        }
        let raw = String::from_utf8(raw).map_err(|_| SecretFileError::NotText)?;
        let value = raw.trim();
        if value.is_empty() {
            return Err(SecretFileError::Empty);
        }
        if value.chars().any(char::is_control) {
            return Err(SecretFileError::ControlCharacter);
        }
        Ok(Self::new(value))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The largest secret file read: tokens and keys are at most a few KiB.
pub const MAX_SECRET_FILE: u64 = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum SecretFileError {
    #[error("cannot read the secret file: {reason}")]
    Unreadable { reason: String },
    #[error("the secret file is empty")]
    Empty,
    #[error("the secret file is not a regular file (a device, a folder or a pipe?); point the key at a file holding only the secret")]
    NotRegular,
    #[error("the secret file is larger than {MAX_SECRET_FILE} bytes; it should hold only the secret")]
    TooLarge,
    #[error("the secret file is not UTF-8 text")]
    NotText,
    #[error("the secret file has a control character (a NUL, a line break or a tab) inside its value; it should hold the secret on one line")]
    ControlCharacter,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let secret = Secret::new("fio-u-very-secret");
        assert!(!format!("{secret:?}").contains("very-secret"));
        assert!(!format!("{secret}").contains("very-secret"));
        assert_eq!(secret.expose(), "fio-u-very-secret");
    }

    #[test]
    fn fingerprints_tell_secrets_apart_without_showing_them() {
        let a = Secret::new("fio-u-aaaa");
        assert_eq!(a.fingerprint(), Secret::new("fio-u-aaaa").fingerprint());
        assert_ne!(a.fingerprint(), Secret::new("fio-u-aaab").fingerprint());
        assert!(a.fingerprint().starts_with("sha256:") && a.fingerprint().len() == 19);
        assert!(!a.fingerprint().contains("aaaa"));
    }

    #[test]
    fn file_is_trimmed_and_empty_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "abc\n").unwrap();
        assert_eq!(Secret::read_file(&path).unwrap().expose(), "abc");
        std::fs::write(&path, " \n").unwrap();
        assert!(matches!(Secret::read_file(&path), Err(SecretFileError::Empty)));
        let missing = Secret::read_file(&dir.path().join("nope")).unwrap_err();
        assert!(missing.to_string().contains("No such file"), "{missing}");
    }

    #[test]
    fn only_a_small_regular_file_with_one_plain_value_is_a_secret() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        for (content, want) in [
            (&b"abc\0def\n"[..], "control character"),
            (b"abc\ndef\n", "control character"),
            (b"abc\tdef", "control character"),
            (b"\xff\xfe", "not UTF-8"),
        ] {
            std::fs::write(&path, content).unwrap();
            let err = Secret::read_file(&path).unwrap_err().to_string();
            assert!(err.contains(want), "{content:?}: {err}");
            assert!(
                !err.contains("abc") && !err.contains("def"),
                "the value stays out: {err}"
            );
        }
        std::fs::write(&path, "x".repeat(MAX_SECRET_FILE as usize + 1)).unwrap();
        assert!(matches!(Secret::read_file(&path), Err(SecretFileError::TooLarge)));
        std::fs::write(&path, "x".repeat(MAX_SECRET_FILE as usize)).unwrap();
        assert!(Secret::read_file(&path).is_ok(), "exactly at the limit is fine");

        // A link to an endless device is refused without reading it.
        let link = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        assert!(matches!(Secret::read_file(&link), Err(SecretFileError::NotRegular)));
        assert!(matches!(
            Secret::read_file(dir.path()),
            Err(SecretFileError::NotRegular)
        ));
        // A link to a regular file is what systemd's credentials are: fine.
        let good = dir.path().join("good");
        std::fs::write(&good, "s3cret\n").unwrap();
        let alias = dir.path().join("alias");
        std::os::unix::fs::symlink(&good, &alias).unwrap();
        assert_eq!(Secret::read_file(&alias).unwrap().expose(), "s3cret");
    }
}
