//! Workfront event subscription deliveries: the payload's JSON, read into a
//! [`WorkfrontEvent`]. Anything unexpected is an [`EventError`] that says what, never a panic:
//! the body comes from the network.

use crate::core::model::{within_clock_skew, MAX_CLOCK_SKEW};
use crate::core::model::{EventObject, EventOp, WorkfrontEvent, WorkfrontProject, WorkfrontUser};
use crate::ids::{WorkfrontGroupId, WorkfrontProjectId, WorkfrontUserId};
use crate::timestamp::Timestamp;
use serde::Deserialize;
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("the body is not a Workfront event: {0}")]
    Malformed(String),
    #[error("unsupported objCode {0:?} (this endpoint takes PROJ and USER events)")]
    UnknownObjCode(String),
    #[error("unsupported eventType {0:?} (expected CREATE, UPDATE or DELETE)")]
    UnknownEventType(String),
    #[error("the event has no usable {0}")]
    Missing(&'static str),
    #[error("the event's {field}: {source}")]
    BadId {
        field: &'static str,
        source: crate::ids::IdError,
    },
    #[error("the event's {field} is {chars} characters long; at most {MAX_TEXT} are accepted")]
    TooLong { field: &'static str, chars: usize },
    #[error("the event's eventTime {time} is more than {} s ahead of this host's clock ({now}); check the clocks", MAX_CLOCK_SKEW.as_secs())]
    FromTheFuture { time: String, now: String },
}

/// The longest text field (a name, an email, a status) an event may carry: Workfront's own limits
/// are far lower, and everything accepted is stored.
pub const MAX_TEXT: usize = 4096;

/// `{eventType, subscriptionId, eventTime{epochSecond,nano}, eventVersion, subscriptionVersion,
/// newState, oldState}`.
#[derive(Deserialize)]
struct Payload {
    #[serde(rename = "eventType")]
    event_type: String,
    #[serde(rename = "subscriptionId")]
    subscription_id: Option<String>,
    #[serde(rename = "eventTime")]
    event_time: Option<EventTime>,
    #[serde(rename = "newState", default)]
    new_state: Option<Map<String, Value>>,
    #[serde(rename = "oldState", default)]
    old_state: Option<Map<String, Value>>,
}

#[derive(Deserialize)]
struct EventTime {
    #[serde(rename = "epochSecond")]
    epoch_second: i64,
    #[serde(default)]
    nano: i64,
}

/// Reads one delivery received at `now`. `flag_field` is the custom field that flags Frame.io
/// users; events carry custom fields in `parameterValues`.
pub fn parse_event(body: &[u8], flag_field: &str, now: Timestamp) -> Result<WorkfrontEvent, EventError> {
    let payload: Payload = serde_json::from_slice(body).map_err(|e| EventError::Malformed(e.to_string()))?;
    let op = match payload.event_type.to_ascii_uppercase().as_str() {
        "CREATE" => EventOp::Create,
        "UPDATE" => EventOp::Update,
        "DELETE" => EventOp::Delete,
        _ => return Err(EventError::UnknownEventType(payload.event_type)),
    };
    let time = payload.event_time.ok_or(EventError::Missing("eventTime"))?;
    let millis = time
        .epoch_second
        .checked_mul(1000)
        .and_then(|ms| ms.checked_add(time.nano.clamp(0, 999_999_999) / 1_000_000))
        .filter(|ms| *ms >= 0)
        .ok_or(EventError::Missing("eventTime"))?;
    if !within_clock_skew(Timestamp(millis), now) {
        return Err(EventError::FromTheFuture {
            time: Timestamp(millis).to_iso_utc(),
            now: now.to_iso_utc(),
        });
    }
    let subscription_id = payload
        .subscription_id
        .filter(|s| !s.trim().is_empty())
        .ok_or(EventError::Missing("subscriptionId"))?;
    // A delete has only the old state; CREATE's old state is `{}`.
    let new_state = payload.new_state.filter(|m| !m.is_empty());
    let state = match op {
        EventOp::Delete => payload.old_state.filter(|m| !m.is_empty()).or(new_state.clone()),
        _ => new_state.clone(),
    }
    .ok_or(EventError::Missing(if op == EventOp::Delete {
        "oldState"
    } else {
        "newState"
    }))?;
    let obj_code = state
        .get("objCode")
        .and_then(Value::as_str)
        .ok_or(EventError::Missing("objCode"))?
        .to_ascii_uppercase();
    let id = state
        .get("ID")
        .and_then(Value::as_str)
        .ok_or(EventError::Missing("ID"))?
        .to_owned();
    let object = match obj_code.as_str() {
        "PROJ" => {
            let id = WorkfrontProjectId::new(id).map_err(|source| EventError::BadId { field: "ID", source })?;
            let project = match op {
                EventOp::Delete => None,
                _ => Some(project_from_state(&id, &state)?),
            };
            EventObject::Project { id, project }
        }
        "USER" => {
            let id = WorkfrontUserId::new(id).map_err(|source| EventError::BadId { field: "ID", source })?;
            let user = match op {
                EventOp::Delete => None,
                _ => Some(user_from_state(&id, &state, flag_field)?),
            };
            EventObject::User { id, user }
        }
        _ => return Err(EventError::UnknownObjCode(obj_code)),
    };
    Ok(WorkfrontEvent {
        subscription_id,
        op,
        event_time: Timestamp(millis),
        object,
    })
}

/// A text field, refused if longer than [`MAX_TEXT`] characters.
fn text(state: &Map<String, Value>, key: &'static str) -> Result<Option<String>, EventError> {
    let Some(value) = state.get(key).and_then(Value::as_str) else {
        return Ok(None);
    };
    let chars = value.chars().count();
    if chars > MAX_TEXT {
        return Err(EventError::TooLong { field: key, chars });
    }
    Ok(Some(value.to_owned()))
}

fn project_from_state(id: &WorkfrontProjectId, state: &Map<String, Value>) -> Result<WorkfrontProject, EventError> {
    let group_id = match text(state, "groupID")? {
        Some(g) => Some(WorkfrontGroupId::new(g).map_err(|source| EventError::BadId {
            field: "groupID",
            source,
        })?),
        None => None,
    };
    Ok(WorkfrontProject {
        id: id.clone(),
        name: text(state, "name")?.unwrap_or_else(|| id.to_string()),
        group_id,
        status: text(state, "status")?,
        last_update: text(state, "lastUpdateDate")?.and_then(|d| Timestamp::parse(&d).ok()),
        team: Vec::new(),
        link: None,
    })
}

fn user_from_state(
    id: &WorkfrontUserId,
    state: &Map<String, Value>,
    flag_field: &str,
) -> Result<WorkfrontUser, EventError> {
    // Custom fields arrive in `parameterValues`; a top-level key is read too.
    let flag = state
        .get("parameterValues")
        .and_then(|p| p.get(flag_field))
        .or_else(|| state.get(flag_field))
        .and_then(Value::as_str)
        .unwrap_or("");
    Ok(WorkfrontUser {
        id: id.clone(),
        name: text(state, "name")?.unwrap_or_default(),
        email: text(state, "emailAddr")?,
        is_active: state.get("isActive").and_then(Value::as_bool).unwrap_or(true),
        frameio_flag: flag.eq_ignore_ascii_case("yes"),
        last_update: text(state, "lastUpdateDate")?.and_then(|d| Timestamp::parse(&d).ok()),
    })
}

/// A delivery that is only a hint to read something again, never recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    /// About an approval (`approval`, `approval_stage`, `approval_stage_participant`): its ids are
    /// not relied on (which one names the document version is unsettled).
    Approvals,
    /// About a document (`DOCU`, `DOCV`): the one-way folder reads the projects' documents again.
    Documents,
}

/// Whether a delivery is a [`Hint`], and which.
pub fn hint_of(body: &[u8]) -> Option<Hint> {
    #[derive(serde::Deserialize)]
    struct State {
        #[serde(rename = "objCode")]
        obj_code: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct Delivery {
        #[serde(rename = "newState")]
        new_state: Option<State>,
        #[serde(rename = "oldState")]
        old_state: Option<State>,
    }
    let delivery = serde_json::from_slice::<Delivery>(body).ok()?;
    [delivery.new_state, delivery.old_state]
        .into_iter()
        .flatten()
        .filter_map(|s| s.obj_code)
        .find_map(|code| {
            let code = code.to_ascii_lowercase();
            if code == "approval" || code.starts_with("approval_stage") {
                Some(Hint::Approvals)
            } else if code == "docu" || code == "docv" {
                Some(Hint::Documents)
            } else {
                None
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FLAG: &str = "DE:Add to projects in Frame.io";

    /// The clock the tests parse at: 2027-01-15, after every event time they use.
    fn now() -> Timestamp {
        Timestamp(1_800_000_000_000)
    }

    fn body(v: Value) -> Vec<u8> {
        serde_json::to_vec(&v).unwrap()
    }

    #[test]
    fn a_project_create_is_read_with_its_time_and_fields() {
        let e = parse_event(
            &body(json!({
                "eventType": "CREATE", "subscriptionId": "s1",
                "eventTime": { "epochSecond": 1_700_000_000, "nano": 123_456_789 },
                "eventVersion": "v2", "subscriptionVersion": "v2",
                "newState": { "objCode": "PROJ", "ID": "p1", "name": "Launch", "groupID": "g1",
                              "lastUpdateDate": "2017-10-06T13:48:07.776-0600" },
                "oldState": {}
            })),
            FLAG,
            now(),
        )
        .unwrap();
        assert_eq!(e.op, EventOp::Create);
        assert_eq!(e.event_time, Timestamp(1_700_000_000_123));
        let EventObject::Project { project: Some(p), .. } = &e.object else {
            panic!("{e:?}")
        };
        assert_eq!(
            (p.name.as_str(), p.group_id.as_ref().unwrap().as_str()),
            ("Launch", "g1")
        );
        assert_eq!(e.dedupe_key(), "s1:PROJ:p1:1700000000123:Create");
    }

    #[test]
    fn a_user_update_reads_the_flag_from_parameter_values() {
        let e = parse_event(
            &body(json!({
                "eventType": "UPDATE", "subscriptionId": "s2",
                "eventTime": { "epochSecond": 5, "nano": 0 },
                "newState": { "objCode": "USER", "ID": "u1", "emailAddr": "a@x", "isActive": false,
                              "parameterValues": { FLAG: "Yes" } },
                "oldState": { "objCode": "USER", "ID": "u1" }
            })),
            FLAG,
            now(),
        )
        .unwrap();
        let EventObject::User { user: Some(u), .. } = &e.object else {
            panic!("{e:?}")
        };
        assert!(u.frameio_flag && !u.is_active);
    }

    #[test]
    fn a_delete_takes_its_object_from_the_old_state() {
        let e = parse_event(
            &body(json!({
                "eventType": "DELETE", "subscriptionId": "s1",
                "eventTime": { "epochSecond": 5 },
                "newState": {}, "oldState": { "objCode": "PROJ", "ID": "p1" }
            })),
            FLAG,
            now(),
        )
        .unwrap();
        assert_eq!(
            e.object,
            EventObject::Project {
                id: WorkfrontProjectId::new("p1").unwrap(),
                project: None
            }
        );
    }

    #[test]
    fn bad_input_is_an_error_that_names_the_problem() {
        let cases: [(&[u8], &str); 7] = [
            (b"not json", "not a Workfront event"),
            (b"[]", "not a Workfront event"),
            (
                br#"{"eventType":"SHARE","subscriptionId":"s","eventTime":{"epochSecond":1},"newState":{"objCode":"PROJ","ID":"p"}}"#,
                "eventType \"SHARE\"",
            ),
            (
                br#"{"eventType":"CREATE","subscriptionId":"s","eventTime":{"epochSecond":1},"newState":{"objCode":"TASK","ID":"t"}}"#,
                "objCode \"TASK\"",
            ),
            (
                br#"{"eventType":"CREATE","subscriptionId":"s","newState":{"objCode":"PROJ","ID":"p"}}"#,
                "eventTime",
            ),
            (
                br#"{"eventType":"CREATE","subscriptionId":"s","eventTime":{"epochSecond":1},"newState":{"objCode":"PROJ"}}"#,
                "ID",
            ),
            (
                br#"{"eventType":"CREATE","subscriptionId":"s","eventTime":{"epochSecond":-9223372036854775807},"newState":{"objCode":"PROJ","ID":"p"}}"#,
                "eventTime",
            ),
        ];
        for (input, expected) in cases {
            let err = parse_event(input, FLAG, now()).unwrap_err();
            assert!(
                err.to_string().contains(expected),
                "{err} for {}",
                String::from_utf8_lossy(input)
            );
        }
    }

    fn project(id: &str, name: &str, epoch_second: i64) -> Vec<u8> {
        body(json!({
            "eventType": "UPDATE", "subscriptionId": "s",
            "eventTime": { "epochSecond": epoch_second, "nano": 0 },
            "newState": { "objCode": "PROJ", "ID": id, "name": name }
        }))
    }

    #[test]
    fn an_event_dated_ahead_of_the_clock_is_refused_and_a_small_skew_is_not() {
        let now_s = now().millis() / 1000;
        assert!(parse_event(&project("p1", "A", now_s + 60), FLAG, now()).is_ok());
        let err = parse_event(&project("p1", "A", 253_402_300_000), FLAG, now()).unwrap_err();
        assert!(matches!(err, EventError::FromTheFuture { .. }), "{err}");
        assert!(err.to_string().contains("9999-12-31"), "{err}");
    }

    #[test]
    fn ids_that_would_leave_their_url_segment_and_endless_names_are_refused_naming_the_field() {
        let err = parse_event(&project(r"..\..\..\zz", "A", 1), FLAG, now()).unwrap_err();
        assert!(
            err.to_string().contains("the event's ID: invalid Workfront project id"),
            "{err}"
        );
        let err = parse_event(&project("p1", &"n".repeat(500_000), 1), FLAG, now()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the event's name is 500000 characters long; at most 4096 are accepted"
        );
        let at_limit = parse_event(&project("p1", &"é".repeat(MAX_TEXT), 1), FLAG, now()).unwrap();
        let EventObject::Project { project: Some(p), .. } = at_limit.object else {
            panic!("a project");
        };
        assert_eq!(p.name.chars().count(), MAX_TEXT);
    }

    #[test]
    fn approval_and_document_deliveries_are_hints_and_others_are_not() {
        assert_eq!(
            hint_of(br#"{"newState":{"objCode":"approval","ID":"a"}}"#),
            Some(Hint::Approvals)
        );
        assert_eq!(
            hint_of(br#"{"oldState":{"objCode":"APPROVAL_STAGE_PARTICIPANT"}}"#),
            Some(Hint::Approvals)
        );
        assert_eq!(
            hint_of(br#"{"newState":{"objCode":"DOCU","ID":"d","projectID":"p"}}"#),
            Some(Hint::Documents)
        );
        assert_eq!(
            hint_of(br#"{"oldState":{"objCode":"DOCV","ID":"v"}}"#),
            Some(Hint::Documents)
        );
        assert_eq!(hint_of(br#"{"newState":{"objCode":"PROJ","ID":"p"}}"#), None);
        assert_eq!(hint_of(b"not json"), None);
    }
}
