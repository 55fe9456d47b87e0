//! The properties the fuzz targets (`fuzz/`) check on arbitrary input, kept in the library so
//! the corpus replay test (`tests/it/fuzz_corpus.rs`) checks the same ones on stable Rust. Each
//! function panics when a property fails; for any input, the code under test must not.

use crate::config;
use crate::frameio::actions::{parse_action, sign, unverified_action_id, verify_signature, SignatureError};
use crate::secret::Secret;
use crate::timestamp::Timestamp;
use crate::workfront::events::parse_event;

/// The flag field the event target parses with.
pub const FLAG: &str = "DE:Add to projects in Frame.io";

/// A Workfront event body: parsed or refused with a reason, and a parsed event names an object.
pub fn workfront_event(body: &[u8]) {
    // A fixed clock: the same input gives the same verdict on every run.
    if let Ok(event) = parse_event(body, FLAG, crate::timestamp::Timestamp(1_800_000_000_000)) {
        assert!(!event.object_key().is_empty());
        assert!(event.object_key().contains(':'));
    }
}

/// A Frame.io action delivery. The input is split at the first two newlines into a timestamp,
/// a signature and the body. Whatever they hold: the check never panics, a body is parsed or
/// refused, and a body we sign ourselves verifies while a changed one does not.
pub fn frameio_action(data: &[u8]) {
    let mut parts = data.splitn(3, |b| *b == b'\n');
    let timestamp = parts.next().map(String::from_utf8_lossy).unwrap_or_default();
    let signature = parts.next().map(String::from_utf8_lossy).unwrap_or_default();
    let body = parts.next().unwrap_or_default();
    let secret = Secret::new("fuzz-action-secret");
    let now = 1_795_000_000;
    let _ = verify_signature(&secret, Some(&timestamp), Some(&signature), body, now);
    let _ = unverified_action_id(body);
    let _ = parse_action(body);

    let stamp = now.to_string();
    let good = sign(&secret, &stamp, body);
    assert_eq!(verify_signature(&secret, Some(&stamp), Some(&good), body, now), Ok(()));
    let mut changed = body.to_vec();
    changed.push(b' ');
    assert_eq!(
        verify_signature(&secret, Some(&stamp), Some(&good), &changed, now),
        Err(SignatureError::Mismatch)
    );
}

/// A Workfront date: parsed or refused; a parsed one within years 1–9999 prints as ISO 8601 and
/// reads back as the same instant.
pub fn workfront_date(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(t) = Timestamp::parse(text) else { return };
    let (min, max) = (Timestamp(-62_135_596_800_000), Timestamp(253_402_300_799_999));
    if (min..=max).contains(&t) {
        let iso = t.to_iso_utc();
        assert_eq!(Timestamp::parse(&iso).ok(), Some(t), "{text:?} → {iso}");
    }
}

/// A configuration file: accepted or refused with an error that names the file.
pub fn config_text(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let path = std::path::Path::new("/nonexistent/frameio-sync/config.toml");
    if let Err(err) = config::parse(path, text) {
        assert!(
            err.to_string().contains("/nonexistent/frameio-sync/config.toml"),
            "{err}"
        );
    }
}
