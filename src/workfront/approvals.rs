//! Workfront approvals: the Unified Approvals API (`review.approvals = "unified"`; its own base,
//! `review.approvals_url`, with IMS tokens and `wf-*` headers) and legacy document approvals
//! (`DOCAPL` on the REST API). Both are read into [`ApprovalRead`]; wire types stay here.
//!
//! The Unified Approvals API is described by Adobe's OpenAPI file (`unified-approvals-connector`):
//! `GET/POST api/v1/approvals/DOCV/{id}` (no approval yet: a partial answer without
//! `approvalGuid`), `POST api/v1/approvals/search/DOCV` → `{"approvals": [...]}`. Legacy status codes
//! are documented nowhere: their labels are read from `GET /docapl/metadata` at start-up.

use super::client::{decode, WorkfrontClient};
use super::error::WorkfrontError;
use crate::config::{ApproverRole, ReviewSettings};
use crate::core::review::{ApprovalRead, Decision, ReviewState};
use crate::ids::{WorkfrontDocumentId, WorkfrontDocumentVersionId, WorkfrontTeamId, WorkfrontUserId};
use crate::store::SendPermit;
use reqwest::{Method, StatusCode, Url};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;

/// What every Unified Approvals request carries besides the token.
#[derive(Debug, Clone)]
pub struct UnifiedApi {
    base: Url,
    lane: String,
    subdomain: String,
    customer: String,
    client_id: String,
}

impl UnifiedApi {
    /// The API at `review.approvals_url` for the tenant at `workfront_base` (its subdomain is the
    /// first label of the host), customer `customer`, as the IMS client `client_id`.
    pub fn new(review: &ReviewSettings, workfront_base: &Url, customer: String, client_id: String) -> Self {
        let host = workfront_base.host_str().unwrap_or_default();
        Self {
            base: review.approvals_url.clone(),
            lane: review.lane.clone(),
            subdomain: host.split('.').next().unwrap_or(host).to_owned(),
            customer,
            client_id,
        }
    }

    fn url(&self, segments: &[&str]) -> Url {
        crate::url_segments::under(&self.base, segments)
    }

    fn headers(&self, acting: &WorkfrontUserId) -> Vec<(&'static str, String)> {
        vec![
            ("x-api-key", self.client_id.clone()),
            ("x-gw-subdomain", self.subdomain.clone()),
            ("wf-customerid", self.customer.clone()),
            ("wf-userid", acting.to_string()),
            ("wf-lane", self.lane.clone()),
        ]
    }
}

/// Who an approval asks, resolved to Workfront ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Participant {
    User(WorkfrontUserId),
    Team(WorkfrontTeamId),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StageBody<'a> {
    name: &'a str,
    participants: Vec<ParticipantBody<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    custom_message: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ParticipantBody<'a> {
    participant_id: &'a str,
    participant_type: &'static str,
    participant_role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    participant_metadata: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApprovalWire {
    #[serde(default)]
    approval_guid: Option<String>,
    #[serde(default)]
    asset_id: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    stages: Vec<StageWire>,
}

#[derive(Deserialize)]
struct StageWire {
    #[serde(default)]
    participants: Vec<ParticipantWire>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ParticipantWire {
    #[serde(default)]
    participant_id: Option<String>,
    #[serde(default)]
    activities: Vec<ActivityWire>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ActivityWire {
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    user_name: Option<String>,
    #[serde(default)]
    decision: Option<String>,
    #[serde(default)]
    decision_date: Option<String>,
}

#[derive(Deserialize)]
struct SearchWire {
    #[serde(default)]
    approvals: Vec<ApprovalWire>,
}

/// The most document versions asked about in one search (the API documents no limit).
pub const SEARCH_BATCH: usize = 50;

/// The longest text kept from an answer (a name, a comment).
const MAX_TEXT: usize = 2_000;

fn clip(text: String) -> String {
    if text.len() <= MAX_TEXT {
        return text;
    }
    let mut end = MAX_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

impl ApprovalWire {
    fn read(self) -> ApprovalRead {
        let mut decisions: Vec<Decision> = self
            .stages
            .into_iter()
            .flat_map(|s| s.participants)
            .flat_map(|p| {
                let participant = p.participant_id;
                p.activities.into_iter().filter_map(move |a| {
                    let state = ReviewState::from_unified(a.decision.as_deref()?)?;
                    let by = a.user_name.or(a.user_id).or_else(|| participant.clone())?;
                    Some(Decision {
                        state,
                        by: clip(by),
                        at: a.decision_date.map(clip),
                        comment: None,
                    })
                })
            })
            .collect();
        // In decision order (the dates are ISO 8601, so they sort as text).
        decisions.sort_by(|a, b| a.at.cmp(&b.at));
        ApprovalRead {
            status: self.status.as_deref().and_then(ReviewState::from_unified),
            decisions,
        }
    }
}

/// A legacy document approval, as read.
#[derive(Deserialize)]
struct LegacyRow {
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "approverID", default)]
    approver: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(rename = "approvalDate", default)]
    approval_date: Option<String>,
    #[serde(default)]
    note: Option<NoteRef>,
    #[serde(rename = "approver", default)]
    approver_name: Option<ApproverRef>,
}

#[derive(Deserialize)]
struct NoteRef {
    #[serde(rename = "noteText", default)]
    text: Option<String>,
}

#[derive(Deserialize)]
struct ApproverRef {
    #[serde(default)]
    name: Option<String>,
}

/// Legacy status codes and their labels, as `GET /docapl/metadata` names them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LegacyStatuses(pub BTreeMap<String, String>);

impl LegacyStatuses {
    fn state(&self, code: &str) -> Option<ReviewState> {
        let label = self.0.get(code).map(String::as_str).unwrap_or(code);
        ReviewState::from_legacy_label(label)
    }
}

/// Legacy approvals of one document made at or after a time, read into one approval: approved
/// when every approver approved, needs work when one did not, else in review.
fn legacy_read(rows: Vec<LegacyRow>, statuses: &LegacyStatuses) -> ApprovalRead {
    let mut decisions = Vec::new();
    let mut states = Vec::new();
    for row in rows {
        let state = row.status.as_deref().and_then(|s| statuses.state(s));
        states.push(state);
        if let Some(state) = state.filter(|s| s.is_decided()) {
            decisions.push(Decision {
                state,
                by: clip(
                    row.approver_name
                        .and_then(|a| a.name)
                        .or(row.approver)
                        .unwrap_or(row.id),
                ),
                at: row.approval_date.map(clip),
                comment: row.note.and_then(|n| n.text).map(clip),
            });
        }
    }
    let status = if states.is_empty() {
        None
    } else if states.contains(&Some(ReviewState::NeedsWork)) {
        Some(ReviewState::NeedsWork)
    } else if states.iter().all(|s| *s == Some(ReviewState::Approved)) {
        Some(ReviewState::Approved)
    } else if states
        .iter()
        .all(|s| matches!(s, Some(ReviewState::Approved | ReviewState::ApprovedWithChanges)))
    {
        Some(ReviewState::ApprovedWithChanges)
    } else if states.iter().all(|s| *s == Some(ReviewState::Withdrawn)) {
        Some(ReviewState::Withdrawn)
    } else {
        Some(ReviewState::InReview)
    };
    ApprovalRead { status, decisions }
}

impl WorkfrontClient {
    /// The tenant's customer id (`wf-customerid`), read from any user.
    pub async fn customer_id(&self) -> Result<String, WorkfrontError> {
        #[derive(Deserialize)]
        struct Row {
            #[serde(rename = "customerID", default)]
            customer: Option<String>,
        }
        let rows: Vec<Row> = self.search_where("user", &[], "ID,customerID").await?;
        rows.into_iter()
            .find_map(|r| r.customer.filter(|c| !c.is_empty() && c.len() <= 64))
            .ok_or_else(|| WorkfrontError::Decode {
                endpoint: "user/search".into(),
                message: "no user carries a customerID".into(),
            })
    }

    /// The first user Workfront lists (someone to act as for a probe).
    pub async fn first_user(&self) -> Result<WorkfrontUserId, WorkfrontError> {
        #[derive(Deserialize)]
        struct Row {
            #[serde(rename = "ID")]
            id: WorkfrontUserId,
        }
        let rows: Vec<Row> = self.search_where("user", &[], "ID").await?;
        rows.into_iter()
            .next()
            .map(|r| r.id)
            .ok_or_else(|| WorkfrontError::Decode {
                endpoint: "user/search".into(),
                message: "Workfront lists no users".into(),
            })
    }

    /// Whether the Unified Approvals API answers for this tenant: a search for a version that does
    /// not exist (answered with a stub) must succeed.
    pub async fn probe_unified(&self, api: &UnifiedApi, acting: &WorkfrontUserId) -> Result<(), WorkfrontError> {
        self.search_unified(
            api,
            acting,
            &[WorkfrontDocumentVersionId::new("0").expect("a valid id")],
        )
        .await
        .map(|_| ())
    }

    /// The approval on `version`, if there is one (`GET api/v1/approvals/DOCV/{id}`).
    pub async fn unified_approval(
        &self,
        api: &UnifiedApi,
        acting: &WorkfrontUserId,
        version: &WorkfrontDocumentVersionId,
    ) -> Result<Option<ApprovalRead>, WorkfrontError> {
        let url = api.url(&["api", "v1", "approvals", "DOCV", version.as_str()]);
        let headers = api.headers(acting);
        let (status, body) = crate::retry::retry_read("approvals", || {
            self.exchange_with_headers(Method::GET, url.clone(), &[], None, &headers, "approvals")
        })
        .await?;
        let wire: ApprovalWire = unified_answer(status, &body, "approvals")?;
        Ok(wire.approval_guid.is_some().then(|| wire.read()))
    }

    /// Creates the approval on `version`: one stage asking `participants` (as `role`), with the
    /// sender's `message`, on behalf of `acting` (the sender).
    #[allow(clippy::too_many_arguments)]
    pub async fn create_unified_approval(
        &self,
        _permit: &SendPermit,
        api: &UnifiedApi,
        acting: &WorkfrontUserId,
        version: &WorkfrontDocumentVersionId,
        participants: &[Participant],
        role: ApproverRole,
        message: Option<&str>,
    ) -> Result<(), WorkfrontError> {
        let body = json!({
            "stages": [StageBody {
                name: "Frame.io review",
                participants: participants
                    .iter()
                    .map(|p| match p {
                        Participant::User(id) => ParticipantBody {
                            participant_id: id.as_str(),
                            participant_type: "USER",
                            participant_role: role.as_str(),
                            participant_metadata: Some(json!({ "participantIdType": "wf_guid" })),
                        },
                        Participant::Team(id) => ParticipantBody {
                            participant_id: id.as_str(),
                            participant_type: "TEAMOB",
                            participant_role: role.as_str(),
                            participant_metadata: None,
                        },
                    })
                    .collect(),
                custom_message: message,
            }]
        });
        let url = api.url(&["api", "v1", "approvals", "DOCV", version.as_str()]);
        let bytes = serde_json::to_vec(&body).expect("an approval body serializes");
        let (status, answer) = self
            .exchange_with_headers(
                Method::POST,
                url,
                &[],
                Some(&(bytes, "application/json".to_owned())),
                &api.headers(acting),
                "approvals",
            )
            .await?;
        let _: serde_json::Value = unified_answer(status, &answer, "approvals")?;
        Ok(())
    }

    /// The approvals on `versions` (at most [`SEARCH_BATCH`]), by version; versions without one
    /// are left out.
    pub async fn search_unified(
        &self,
        api: &UnifiedApi,
        acting: &WorkfrontUserId,
        versions: &[WorkfrontDocumentVersionId],
    ) -> Result<Vec<(WorkfrontDocumentVersionId, ApprovalRead)>, WorkfrontError> {
        let url = api.url(&["api", "v1", "approvals", "search", "DOCV"]);
        let ids: Vec<&str> = versions.iter().map(|v| v.as_str()).collect();
        let bytes = serde_json::to_vec(&json!({ "assetIds": ids })).expect("a search body serializes");
        let body = (bytes, "application/json".to_owned());
        let headers = api.headers(acting);
        let (status, answer) = crate::retry::retry_read("approvals/search", || {
            self.exchange_with_headers(
                Method::POST,
                url.clone(),
                &[],
                Some(&body),
                &headers,
                "approvals/search",
            )
        })
        .await?;
        let wire: SearchWire = unified_answer(status, &answer, "approvals/search")?;
        Ok(wire
            .approvals
            .into_iter()
            .filter(|a| a.approval_guid.is_some())
            .filter_map(|a| {
                let version = WorkfrontDocumentVersionId::new(a.asset_id.as_deref()?).ok()?;
                Some((version, a.read()))
            })
            .collect())
    }

    /// The legacy approval status codes and labels (`GET /docapl/metadata`): the start-up probe of
    /// `review.approvals = "legacy"`.
    pub async fn legacy_statuses(&self) -> Result<LegacyStatuses, WorkfrontError> {
        #[derive(Deserialize)]
        struct Metadata {
            #[serde(default)]
            fields: BTreeMap<String, Field>,
        }
        #[derive(Deserialize)]
        struct Field {
            #[serde(rename = "possibleValues", alias = "enumValues", default)]
            values: Vec<Possible>,
        }
        #[derive(Deserialize)]
        struct Possible {
            value: String,
            #[serde(default)]
            label: Option<String>,
        }
        let metadata: Metadata = self.get_object("docapl", "metadata", "").await?;
        let statuses = metadata
            .fields
            .get("status")
            .map(|f| {
                f.values
                    .iter()
                    .map(|p| (p.value.clone(), p.label.clone().unwrap_or_else(|| p.value.clone())))
                    .collect()
            })
            .unwrap_or_default();
        Ok(LegacyStatuses(statuses))
    }

    /// The legacy approvals of `document` asked of `approvers` at or after `since` (a Workfront
    /// date), read into one approval; `None` when there are none.
    pub async fn legacy_approval(
        &self,
        document: &WorkfrontDocumentId,
        since: &str,
        statuses: &LegacyStatuses,
    ) -> Result<Option<ApprovalRead>, WorkfrontError> {
        let rows: Vec<LegacyRow> = self
            .search_where(
                "docapl",
                &[
                    ("documentID", document.to_string()),
                    ("requestDate", since.to_owned()),
                    ("requestDate_Mod", "gte".to_owned()),
                ],
                "ID,approverID,status,approvalDate,requestDate,note:noteText,approver:name",
            )
            .await?;
        Ok((!rows.is_empty()).then(|| legacy_read(rows, statuses)))
    }

    /// Asks `approver` to approve `document` (`POST /docapl`), then notifies them
    /// (`PUT /docapl/{id}/notifyApprover`).
    pub async fn create_legacy_approval(
        &self,
        _permit: &SendPermit,
        document: &WorkfrontDocumentId,
        approver: &WorkfrontUserId,
    ) -> Result<(), WorkfrontError> {
        #[derive(Deserialize)]
        struct Created {
            #[serde(rename = "ID")]
            id: String,
        }
        let updates = json!({ "documentID": document.as_str(), "approverID": approver.as_str() });
        let created: Created = self
            .post(&["docapl"], &[("updates", updates.to_string())], None)
            .await?;
        let _: serde_json::Value = self
            .write(Method::PUT, &["docapl", &created.id, "notifyApprover"], &[], None)
            .await?;
        Ok(())
    }
}

/// A Unified Approvals answer: JSON on success, `{"statusCode","message"}` otherwise.
fn unified_answer<T: serde::de::DeserializeOwned>(
    status: StatusCode,
    body: &[u8],
    endpoint: &str,
) -> Result<T, WorkfrontError> {
    if status.is_success() {
        return serde_json::from_slice(body).map_err(|e| WorkfrontError::Decode {
            endpoint: endpoint.to_owned(),
            message: e.to_string(),
        });
    }
    // The REST API's decoding classifies statuses the same way; its envelope is simply absent.
    #[derive(Deserialize)]
    struct ErrorBody {
        #[serde(default)]
        message: Option<String>,
    }
    let message = serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .and_then(|e| e.message)
        .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned());
    let envelope = json!({ "error": { "class": "UnifiedApprovals", "message": message } }).to_string();
    decode::<serde_json::Value>(endpoint, status, envelope.as_bytes()).and_then(|_| {
        Err(WorkfrontError::Decode {
            endpoint: endpoint.to_owned(),
            message,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unified_approval_is_read_into_its_state_and_decisions() {
        let wire: ApprovalWire = serde_json::from_value(json!({
            "approvalGuid": "a-1", "assetId": "v-1", "status": "needs work",
            "stages": [{ "participants": [
                { "participantId": "u-1", "activities": [
                    { "userId": "u-1", "userName": "Ann", "decision": "approved", "decisionDate": "2026-11-30T10:00:00Z" } ] },
                { "participantId": "u-2", "activities": [
                    { "userId": "u-2", "decision": "needs work", "decisionDate": "2026-11-30T11:00:00Z" },
                    { "userId": "u-2", "openedAt": "2026-11-30T09:00:00Z" } ] }
            ] }]
        }))
        .unwrap();
        let read = wire.read();
        assert_eq!(read.status, Some(ReviewState::NeedsWork));
        let by: Vec<(&str, ReviewState)> = read.decisions.iter().map(|d| (d.by.as_str(), d.state)).collect();
        assert_eq!(by, [("Ann", ReviewState::Approved), ("u-2", ReviewState::NeedsWork)]);
    }

    #[test]
    fn legacy_approvals_roll_up_and_unknown_codes_are_never_approved() {
        let statuses = LegacyStatuses(
            [("APR", "Approved"), ("REJ", "Rejected"), ("NEW", "Awaiting Approval")]
                .map(|(c, l)| (c.to_owned(), l.to_owned()))
                .into(),
        );
        let row = |status: &str| LegacyRow {
            id: "x".into(),
            approver: Some("u".into()),
            status: Some(status.into()),
            approval_date: None,
            note: None,
            approver_name: None,
        };
        assert_eq!(
            legacy_read(vec![row("APR"), row("APR")], &statuses).status,
            Some(ReviewState::Approved)
        );
        assert_eq!(
            legacy_read(vec![row("APR"), row("NEW")], &statuses).status,
            Some(ReviewState::InReview)
        );
        assert_eq!(
            legacy_read(vec![row("APR"), row("REJ")], &statuses).status,
            Some(ReviewState::NeedsWork)
        );
        assert_eq!(
            legacy_read(vec![row("ZZZ")], &statuses).status,
            Some(ReviewState::InReview)
        );
    }
}
