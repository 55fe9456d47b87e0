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
    /// The error names the file and the operating system's reason, never any of its content.
    pub fn read_file(path: &Path) -> Result<Self, SecretFileError> {
        let raw = std::fs::read_to_string(path).map_err(|err| SecretFileError::Unreadable {
            reason: err.to_string(),
        })?;
        let value = raw.trim();
        if value.is_empty() {
            return Err(SecretFileError::Empty);
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

#[derive(Debug, thiserror::Error)]
pub enum SecretFileError {
    #[error("cannot read the secret file: {reason}")]
    Unreadable { reason: String },
    #[error("the secret file is empty")]
    Empty,
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
}
