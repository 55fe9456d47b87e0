//! Typed identifiers, so a Workfront project id can never be passed where a Frame.io one is expected.
//!
//! Every id is validated where it enters the program: it is not empty, not `.` or `..`, and holds
//! nothing that could change the meaning of a URL path or a file path it is put into (`/`, `\`,
//! `?`, `#`, `%`, white space, control characters; a URL parser reads `\` as `/`). Deserializing
//! validates too, so an id from an event, the control socket or an answer is checked however it
//! arrives; the store's own records pass the same check at no measurable cost.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::sync::Arc;

/// Why a string was refused as an id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} {value:?}: {why}")]
pub struct IdError {
    kind: &'static str,
    value: String,
    why: &'static str,
}

fn validate(kind: &'static str, value: &str) -> Result<(), IdError> {
    let why = if value.is_empty() {
        "it is empty"
    } else if value.len() > 256 {
        "it is longer than 256 characters"
    } else if value == "." || value == ".." {
        "it is a relative path (. or ..)"
    } else if value
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '/' | '\\' | '?' | '#' | '%'))
    {
        "it contains white space, a control character or one of / \\ ? # %"
    } else {
        return Ok(());
    };
    Err(IdError {
        kind,
        value: value.chars().take(80).collect(),
        why,
    })
}

/// Ids are shared, not copied: a tenant's teams mention each user id many times (200,000
/// memberships of 20,000 users), and a clone is a reference count, not an allocation. Equality,
/// order and hashing are the text's, so an id can be looked up by `&str` (`Borrow<str>`).
macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident, $kind:literal) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(Arc<str>);

        impl $name {
            /// Validates `value` as an id of this kind.
            pub fn new(value: impl AsRef<str>) -> Result<Self, IdError> {
                let value = value.as_ref();
                validate($kind, value)?;
                Ok(Self(Arc::from(value)))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Self::new(text.as_ref()).map_err(serde::de::Error::custom)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::new(s)
            }
        }
    };
}

string_id!(
    /// A Workfront project (`PROJ`) id.
    WorkfrontProjectId,
    "Workfront project id"
);
string_id!(
    /// A Workfront user (`USER`) id.
    WorkfrontUserId,
    "Workfront user id"
);
string_id!(
    /// A Workfront group (`GROUP`) id.
    WorkfrontGroupId,
    "Workfront group id"
);
string_id!(
    /// A Frame.io account id.
    FrameioAccountId,
    "Frame.io account id"
);
string_id!(
    /// A Frame.io workspace id (v4's name for what v2 called a team).
    FrameioWorkspaceId,
    "Frame.io workspace id"
);
string_id!(
    /// A Frame.io project id.
    FrameioProjectId,
    "Frame.io project id"
);
string_id!(
    /// A Frame.io file id.
    FrameioFileId,
    "Frame.io file id"
);
string_id!(
    /// A Frame.io version stack id: a file's versions, its head the newest.
    FrameioVersionStackId,
    "Frame.io version stack id"
);
string_id!(
    /// A Workfront task (`TASK`) id, or an issue's (`OPTASK`): both are object ids of one shape.
    WorkfrontTaskId,
    "Workfront task id"
);
string_id!(
    /// A Workfront team (`TEAMOB`) id.
    WorkfrontTeamId,
    "Workfront team id"
);
string_id!(
    /// A Workfront document (`DOCU`) id.
    WorkfrontDocumentId,
    "Workfront document id"
);
string_id!(
    /// A Workfront document version (`DOCV`) id: approvals are made on one.
    WorkfrontDocumentVersionId,
    "Workfront document version id"
);
string_id!(
    /// A Frame.io user id.
    FrameioUserId,
    "Frame.io user id"
);

/// The id of an outbox entry: sled's monotonic `generate_id`, stored big-endian so keys sort in
/// creation order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OutboxId(pub u64);

impl OutboxId {
    pub fn to_key(self) -> [u8; 8] {
        self.0.to_be_bytes()
    }

    pub fn from_key(key: &[u8]) -> Option<Self> {
        Some(Self(u64::from_be_bytes(key.try_into().ok()?)))
    }
}

impl fmt::Display for OutboxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Debug for OutboxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OutboxId({})", self.0)
    }
}

impl std::str::FromStr for OutboxId {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_workfront_and_frameio_shapes() {
        assert!(WorkfrontProjectId::new("5d5c2a3b00001b5e8e2b7a6b3f1b2c3d").is_ok());
        assert!(FrameioProjectId::new("a1b2c3d4-0000-4000-8000-000000000001").is_ok());
        assert!(FrameioAccountId::new("adobe:1234ABCD@AdobeOrg").is_ok());
    }

    #[test]
    fn refuses_what_would_change_a_url() {
        for bad in ["", " ", "a/b", "a?b", "a#b", "a%2F", "a b", "a\nb", "a\0b"] {
            let err = FrameioProjectId::new(bad).unwrap_err();
            assert!(err.to_string().contains("Frame.io project id"), "{err}");
        }
    }

    #[test]
    fn refuses_what_would_leave_a_url_segment_or_a_folder() {
        // A URL parser reads `\` as `/`: `..\..\zz` would have reached `/attask/zz`.
        for bad in [".", "..", "..\\..\\..\\zz", "a\\b", "../tokens/x"] {
            assert!(WorkfrontProjectId::new(bad).is_err(), "{bad}");
            assert!(WorkfrontGroupId::new(bad).is_err(), "{bad}");
        }
        assert!(WorkfrontGroupId::new("a.b").is_ok(), "a dot inside an id is harmless");
    }

    #[test]
    fn deserializing_validates_so_no_id_skips_the_check() {
        let bad: Result<WorkfrontGroupId, _> = serde_json::from_str(r#""../../etc""#);
        let err = bad.unwrap_err().to_string();
        assert!(err.contains("invalid Workfront group id"), "{err}");
        let good: WorkfrontGroupId = serde_json::from_str(r#""5d00000000000000000000000000aaaa""#).unwrap();
        assert_eq!(good.as_str(), "5d00000000000000000000000000aaaa");
    }

    #[test]
    fn outbox_keys_sort_numerically() {
        assert!(OutboxId(2).to_key() < OutboxId(256).to_key());
        assert_eq!(OutboxId::from_key(&OutboxId(77).to_key()), Some(OutboxId(77)));
    }
}
