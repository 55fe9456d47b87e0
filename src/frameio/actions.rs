//! Frame.io custom actions (F6): the signed payload Frame.io sends when a user runs an action,
//! and the answer it shows them.
//!
//! Frame.io signs each delivery: `X-Frameio-Request-Timestamp` (epoch seconds) and
//! `X-Frameio-Signature: v0=<hex HMAC-SHA256(secret, "v0:{timestamp}:{raw body}")>`.

use crate::ids::{FrameioAccountId, FrameioProjectId, FrameioUserId, FrameioWorkspaceId};
use crate::secret::Secret;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

/// How old a signed delivery may be (replays beyond this are refused).
pub const MAX_AGE_SECS: i64 = 5 * 60;
/// How far in the future a timestamp may be (clock skew between Frame.io and us).
pub const MAX_SKEW_SECS: i64 = 30;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    #[error("X-Frameio-Request-Timestamp is not a number of seconds")]
    BadTimestamp,
    #[error("the request is {0} s old (at most 300 s are accepted)")]
    Stale(i64),
    #[error("the request is dated {0} s in the future")]
    Future(i64),
    #[error("X-Frameio-Signature does not match the body")]
    Mismatch,
}

/// A delivery's signature headers, checked for presence and freshness: all that can be known
/// before the body is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedEnvelope {
    timestamp: String,
    mac: Vec<u8>,
}

impl SignedEnvelope {
    /// `now` is the current epoch second.
    pub fn from_headers(timestamp: Option<&str>, signature: Option<&str>, now: i64) -> Result<Self, SignatureError> {
        let timestamp = timestamp.ok_or(SignatureError::MissingHeader("X-Frameio-Request-Timestamp"))?;
        let signature = signature.ok_or(SignatureError::MissingHeader("X-Frameio-Signature"))?;
        let seconds: i64 = timestamp.trim().parse().map_err(|_| SignatureError::BadTimestamp)?;
        let age = now.saturating_sub(seconds);
        if age > MAX_AGE_SECS {
            return Err(SignatureError::Stale(age));
        }
        if -age > MAX_SKEW_SECS {
            return Err(SignatureError::Future(-age));
        }
        let mac = signature
            .trim()
            .strip_prefix("v0=")
            .and_then(decode_hex)
            .ok_or(SignatureError::Mismatch)?;
        Ok(Self {
            timestamp: timestamp.trim().to_owned(),
            mac,
        })
    }

    /// Whether the signature is `secret`'s over `body`, compared in constant time.
    pub fn verify(&self, secret: &Secret, body: &[u8]) -> Result<(), SignatureError> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()).expect("HMAC takes a key of any length");
        mac.update(b"v0:");
        mac.update(self.timestamp.as_bytes());
        mac.update(b":");
        mac.update(body);
        mac.verify_slice(&self.mac).map_err(|_| SignatureError::Mismatch)
    }
}

/// Checks a delivery's signature in constant time. `now` is the current epoch second.
pub fn verify_signature(
    secret: &Secret,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    SignedEnvelope::from_headers(timestamp, signature, now)?.verify(secret, body)
}

/// The signature Frame.io would send (for tests and the sandbox).
pub fn sign(secret: &Secret, timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()).expect("HMAC takes a key of any length");
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    format!("v0={}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A user ran the action on an asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionInvocation {
    pub account: FrameioAccountId,
    pub action_id: String,
    /// One per click: a redelivery carries the same one.
    pub interaction_id: String,
    pub workspace: Option<FrameioWorkspaceId>,
    pub project: FrameioProjectId,
    pub resource_id: String,
    pub resource_type: String,
    pub user: FrameioUserId,
}

#[derive(Deserialize)]
struct Id {
    id: String,
}

#[derive(Deserialize)]
struct Resource {
    id: String,
    #[serde(rename = "type", default)]
    kind: Option<String>,
}

#[derive(Deserialize)]
struct Payload {
    account_id: String,
    action_id: String,
    interaction_id: String,
    #[serde(default)]
    workspace: Option<Id>,
    project: Id,
    resource: Resource,
    user: Id,
}

/// Only the action id, read before the signature is checked to pick the action's secret. Nothing
/// else in an unverified body is used.
pub fn unverified_action_id(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Just {
        action_id: String,
    }
    serde_json::from_slice::<Just>(body).ok().map(|j| j.action_id)
}

/// Why a (verified) delivery could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ActionPayloadError {
    #[error("not a Frame.io action payload: {0}")]
    Shape(#[from] serde_json::Error),
    #[error("unusable {field}: {error}")]
    Id {
        field: &'static str,
        error: crate::ids::IdError,
    },
}

/// Reads a (verified) delivery.
pub fn parse_action(body: &[u8]) -> Result<ActionInvocation, ActionPayloadError> {
    let p: Payload = serde_json::from_slice(body)?;
    let bad = |field: &'static str, error: crate::ids::IdError| ActionPayloadError::Id { field, error };
    Ok(ActionInvocation {
        account: FrameioAccountId::new(p.account_id).map_err(|e| bad("account_id", e))?,
        action_id: p.action_id,
        interaction_id: p.interaction_id,
        workspace: p.workspace.and_then(|w| FrameioWorkspaceId::new(w.id).ok()),
        project: FrameioProjectId::new(p.project.id).map_err(|e| bad("project.id", e))?,
        resource_id: p.resource.id,
        resource_type: p.resource.kind.unwrap_or_default(),
        user: FrameioUserId::new(p.user.id).map_err(|e| bad("user.id", e))?,
    })
}

/// The answer Frame.io shows the user: a title and a description.
pub fn answer(title: &str, description: &str) -> serde_json::Value {
    serde_json::json!({ "title": title, "description": description })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"action_id":"a1"}"#;

    fn secret() -> Secret {
        Secret::new("action-secret")
    }

    #[test]
    fn a_good_signature_passes_and_anything_else_says_why_not() {
        let now = 1_700_000_000;
        let ts = now.to_string();
        let good = sign(&secret(), &ts, BODY);
        assert_eq!(verify_signature(&secret(), Some(&ts), Some(&good), BODY, now), Ok(()));
        // Within the window either side.
        let old = (now - 299).to_string();
        assert!(verify_signature(&secret(), Some(&old), Some(&sign(&secret(), &old, BODY)), BODY, now).is_ok());

        // (timestamp header, signature header, body, expected error)
        type Case = (Option<String>, Option<String>, &'static [u8], SignatureError);
        let cases: Vec<Case> = vec![
            (
                None,
                Some(good.clone()),
                BODY,
                SignatureError::MissingHeader("X-Frameio-Request-Timestamp"),
            ),
            (
                Some(ts.clone()),
                None,
                BODY,
                SignatureError::MissingHeader("X-Frameio-Signature"),
            ),
            (
                Some("soon".into()),
                Some(good.clone()),
                BODY,
                SignatureError::BadTimestamp,
            ),
            (
                Some(ts.clone()),
                Some(good.clone()),
                br#"{"action_id":"a2"}"#,
                SignatureError::Mismatch,
            ),
            (
                Some(ts.clone()),
                Some(good.replace("v0=", "v1=")),
                BODY,
                SignatureError::Mismatch,
            ),
            (Some(ts.clone()), Some("v0=zz".into()), BODY, SignatureError::Mismatch),
            (
                Some(ts.clone()),
                Some(sign(&Secret::new("other"), &ts, BODY)),
                BODY,
                SignatureError::Mismatch,
            ),
            (
                Some((now - 301).to_string()),
                Some(sign(&secret(), &(now - 301).to_string(), BODY)),
                BODY,
                SignatureError::Stale(301),
            ),
            (
                Some((now + 31).to_string()),
                Some(sign(&secret(), &(now + 31).to_string(), BODY)),
                BODY,
                SignatureError::Future(31),
            ),
        ];
        for (ts, sig, body, expected) in cases {
            assert_eq!(
                verify_signature(&secret(), ts.as_deref(), sig.as_deref(), body, now),
                Err(expected.clone()),
                "{expected}"
            );
        }
    }

    #[test]
    fn a_payload_is_read_and_a_broken_one_is_named() {
        let body = br#"{"account_id":"acc","action_id":"a1","interaction_id":"i1","project":{"id":"p"},
            "resource":{"id":"f","type":"file"},"type":"workfront.review","user":{"id":"u"},"workspace":{"id":"w"}}"#;
        let a = parse_action(body).unwrap();
        assert_eq!(
            (a.interaction_id.as_str(), a.project.as_str(), a.user.as_str()),
            ("i1", "p", "u")
        );
        assert_eq!(unverified_action_id(body).as_deref(), Some("a1"));
        assert!(parse_action(b"{}")
            .unwrap_err()
            .to_string()
            .contains("not a Frame.io action payload"));
    }
}
