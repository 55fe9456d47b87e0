//! Frame.io custom actions (F6): the signed payload Frame.io sends when a user runs an action,
//! and the answer it shows them.
//!
//! Frame.io signs each delivery: `X-Frameio-Request-Timestamp` (epoch seconds) and
//! `X-Frameio-Signature: v0=<hex HMAC-SHA256(secret, "v0:{timestamp}:{raw body}")>`.

use crate::core::model::WorkfrontObject;
use crate::ids::{
    FrameioAccountId, FrameioProjectId, FrameioUserId, FrameioWorkspaceId, WorkfrontProjectId, WorkfrontTaskId,
};
use crate::secret::Secret;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
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
    #[serde(default)]
    account_id: Option<String>,
    action_id: String,
    interaction_id: String,
    #[serde(default)]
    workspace: Option<Id>,
    #[serde(default)]
    project: Option<Id>,
    #[serde(default)]
    resource: Option<Resource>,
    #[serde(default)]
    user: Option<Id>,
    /// The form's fields, when the user submitted the form we answered the click with.
    #[serde(default)]
    data: Option<FormData>,
}

/// What the review form sends back: field name → value (Frame.io sends text).
#[derive(Deserialize)]
struct FormData {
    #[serde(default)]
    target: Option<String>,
    #[serde(default)]
    message: Option<String>,
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
    #[error("a click without {0}")]
    Missing(&'static str),
    #[error("data.target {0:?} is not one of the form's choices (PROJ:<id> or TASK:<id>)")]
    Target(String),
    #[error("data.message is {0} characters long; at most {MAX_MESSAGE} are sent")]
    MessageTooLong(usize),
}

/// The longest message to the approvers.
pub const MAX_MESSAGE: usize = 2_000;

/// A (verified) delivery: a click on the action, or the form we answered a click with, submitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionDelivery {
    pub action_id: String,
    /// One per click; the form's submit carries the click's.
    pub interaction_id: String,
    /// Who clicked on what. A submit may repeat it (or not: the documentation shows a submit
    /// without it).
    pub invocation: Option<ActionInvocation>,
    /// The submitted form, if this is a submit.
    pub form: Option<FormReply>,
}

/// The review form as submitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormReply {
    /// The chosen Workfront project or task; `None` when the field was left out.
    pub target: Option<WorkfrontObject>,
    /// The message to the approvers, if any was written.
    pub message: Option<String>,
}

/// Reads a (verified) delivery.
pub fn parse_action(body: &[u8]) -> Result<ActionDelivery, ActionPayloadError> {
    let p: Payload = serde_json::from_slice(body)?;
    let bad = |field: &'static str, error: crate::ids::IdError| ActionPayloadError::Id { field, error };
    let form = p.data.map(read_form).transpose()?;
    let invocation = match (p.account_id, p.project, p.resource, p.user) {
        (Some(account), Some(project), Some(resource), Some(user)) => Some(ActionInvocation {
            account: FrameioAccountId::new(account).map_err(|e| bad("account_id", e))?,
            action_id: p.action_id.clone(),
            interaction_id: p.interaction_id.clone(),
            workspace: p.workspace.and_then(|w| FrameioWorkspaceId::new(w.id).ok()),
            project: FrameioProjectId::new(project.id).map_err(|e| bad("project.id", e))?,
            resource_id: resource.id,
            resource_type: resource.kind.unwrap_or_default(),
            user: FrameioUserId::new(user.id).map_err(|e| bad("user.id", e))?,
        }),
        (account, project, resource, user) if form.is_none() => {
            let missing = [
                (account.is_none(), "account_id"),
                (project.is_none(), "project"),
                (resource.is_none(), "resource"),
                (user.is_none(), "user"),
            ];
            let field = missing.iter().find(|(m, _)| *m).map_or("account_id", |(_, f)| *f);
            return Err(ActionPayloadError::Missing(field));
        }
        _ => None,
    };
    Ok(ActionDelivery {
        action_id: p.action_id,
        interaction_id: p.interaction_id,
        invocation,
        form,
    })
}

fn read_form(data: FormData) -> Result<FormReply, ActionPayloadError> {
    let target = match data.target.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => None,
        Some(text) => {
            Some(parse_target(text).ok_or_else(|| ActionPayloadError::Target(text.chars().take(100).collect()))?)
        }
    };
    let message = data.message.map(|m| m.trim().to_owned()).filter(|m| !m.is_empty());
    if let Some(length) = message.as_ref().map(|m| m.chars().count()).filter(|n| *n > MAX_MESSAGE) {
        return Err(ActionPayloadError::MessageTooLong(length));
    }
    Ok(FormReply { target, message })
}

/// A select option's value: `PROJ:<id>` or `TASK:<id>`.
fn parse_target(text: &str) -> Option<WorkfrontObject> {
    let (code, id) = text.split_once(':')?;
    match code {
        "PROJ" => WorkfrontProjectId::new(id).ok().map(WorkfrontObject::Project),
        "TASK" => WorkfrontTaskId::new(id).ok().map(WorkfrontObject::Task),
        _ => None,
    }
}

/// The select option's value for `object` (what [`parse_target`] reads back).
pub fn target_value(object: &WorkfrontObject) -> String {
    format!("{}:{}", object.obj_code(), object.id())
}

/// The answer Frame.io shows the user: a title and a description.
pub fn answer(title: &str, description: &str) -> serde_json::Value {
    serde_json::json!({ "title": title, "description": description })
}

/// A form Frame.io shows the user; its submit comes back to the same address with `data`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FormAnswer {
    pub title: String,
    pub description: String,
    pub fields: Vec<FormField>,
}

/// A form field, in Frame.io's shapes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum FormField {
    Select {
        label: String,
        name: String,
        value: String,
        options: Vec<SelectOption>,
    },
    Textarea {
        label: String,
        name: String,
        value: String,
    },
}

/// One choice of a select: what is shown, and what comes back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SelectOption {
    pub name: String,
    pub value: String,
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
        let a = parse_action(body).unwrap().invocation.unwrap();
        assert_eq!(
            (a.interaction_id.as_str(), a.project.as_str(), a.user.as_str()),
            ("i1", "p", "u")
        );
        // A submit without the click's fields, as the documentation shows one.
        let submit = br#"{"action_id":"a1","interaction_id":"i1","type":"workfront.review",
            "data":{"target":"TASK:t-9","message":"  Please look at the grade  "}}"#;
        let d = parse_action(submit).unwrap();
        assert_eq!(d.invocation, None);
        let form = d.form.unwrap();
        assert_eq!(
            form.target,
            Some(WorkfrontObject::Task(WorkfrontTaskId::new("t-9").unwrap()))
        );
        assert_eq!(form.message.as_deref(), Some("Please look at the grade"));
        let project =
            parse_action(br#"{"action_id":"a","interaction_id":"i","data":{"target":"PROJ:p1","message":""}}"#)
                .unwrap()
                .form
                .unwrap();
        assert_eq!(
            project.target,
            Some(WorkfrontObject::Project(WorkfrontProjectId::new("p1").unwrap()))
        );
        assert_eq!(project.message, None);
        let wrong = parse_action(br#"{"action_id":"a","interaction_id":"i","data":{"target":"DOCU:x"}}"#);
        assert!(wrong.unwrap_err().to_string().contains("data.target"));
        let long = format!(
            r#"{{"action_id":"a","interaction_id":"i","data":{{"message":"{}"}}}}"#,
            "x".repeat(2_001)
        );
        assert!(parse_action(long.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("data.message"));
        let click = parse_action(br#"{"action_id":"a","interaction_id":"i","account_id":"acc"}"#);
        assert!(click.unwrap_err().to_string().contains("without project"));
        assert_eq!(unverified_action_id(body).as_deref(), Some("a1"));
        assert!(parse_action(b"{}")
            .unwrap_err()
            .to_string()
            .contains("not a Frame.io action payload"));
    }
}
