//! `[review]`: how an asset sent for review reaches Workfront, who is asked to approve it, and how
//! the decision is shown in Frame.io.

use super::{ConfigError, Validator, WorkfrontAuth};
use crate::ids::{WorkfrontTeamId, WorkfrontUserId};
use reqwest::Url;
use serde::Deserialize;

/// The default `review.max_upload_size`: Workfront asks that an upload complete within five
/// minutes, and 2 GiB does so at about 57 Mbit/s; it is also half Workfront's 4 GB download cap.
pub const DEFAULT_MAX_UPLOAD_SIZE: u64 = 2 << 30;

/// The default `review.approvals_url`: the current Unified Approvals API.
pub const DEFAULT_APPROVALS_URL: &str = "https://workfront.adobe.io/workfront-approvals/";

/// The `wf-lane` values the Unified Approvals API documents.
const LANES: [&str; 5] = ["prod", "preview", "hub", "staging", "devtest"];

#[derive(Debug, Clone)]
pub struct ReviewSettings {
    /// The largest file uploaded to Workfront; a larger one goes as a link document with a note
    /// saying why (bytes).
    pub max_upload_size: u64,
    /// Which approval a delivered document gets.
    pub approvals: ApprovalSystem,
    /// Who is asked (`["owner"]` by default).
    pub approvers: Vec<Approver>,
    pub approver_role: ApproverRole,
    /// The Unified Approvals API's base, ending in `/`.
    pub approvals_url: Url,
    /// The `wf-lane` header of Unified Approvals requests.
    pub lane: String,
    /// The account-level select field on Frame.io files that shows the review's state.
    pub status_field: String,
    /// Comments made in Frame.io on a file under review are copied to its Workfront document.
    pub comments_to_workfront: bool,
}

impl Default for ReviewSettings {
    fn default() -> Self {
        Self {
            max_upload_size: DEFAULT_MAX_UPLOAD_SIZE,
            approvals: ApprovalSystem::None,
            approvers: vec![Approver::Owner],
            approver_role: ApproverRole::Approver,
            approvals_url: Url::parse(DEFAULT_APPROVALS_URL).expect("a valid URL"),
            lane: "prod".into(),
            status_field: "Workfront review".into(),
            comments_to_workfront: false,
        }
    }
}

/// `review.approvals`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApprovalSystem {
    /// The document with its file, no approval.
    None,
    /// A Unified Approvals request on the document version.
    Unified,
    /// Legacy document approvals (`DOCAPL`).
    Legacy,
}

impl ApprovalSystem {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalSystem::None => "none",
            ApprovalSystem::Unified => "unified",
            ApprovalSystem::Legacy => "legacy",
        }
    }
}

/// An entry of `review.approvers`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "id")]
pub enum Approver {
    /// The Workfront project's owner.
    Owner,
    User(WorkfrontUserId),
    Team(WorkfrontTeamId),
}

/// `review.approver_role`: whose decision binds (approver) or only counts (reviewer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApproverRole {
    Approver,
    Reviewer,
}

impl ApproverRole {
    pub fn as_str(self) -> &'static str {
        match self {
            ApproverRole::Approver => "approver",
            ApproverRole::Reviewer => "reviewer",
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReview {
    max_upload_size: Option<String>,
    approvals: Option<String>,
    approvers: Option<Vec<String>>,
    approver_role: Option<String>,
    approvals_url: Option<String>,
    lane: Option<String>,
    status_field: Option<String>,
    comments_to_workfront: Option<bool>,
}

impl Validator<'_> {
    pub(super) fn review(&self, raw: RawReview, auth: &WorkfrontAuth) -> Result<ReviewSettings, ConfigError> {
        let defaults = ReviewSettings::default();
        let max_upload_size = match raw.max_upload_size {
            None => defaults.max_upload_size,
            Some(text) => self.size("review.max_upload_size", &text)?,
        };
        let approvals = match raw.approvals.as_deref() {
            None | Some("none") => ApprovalSystem::None,
            Some("unified") => ApprovalSystem::Unified,
            Some("legacy") => ApprovalSystem::Legacy,
            Some(other) => {
                return Err(self.err(
                    "review.approvals",
                    format!("{other:?} is not one of \"none\", \"unified\", \"legacy\""),
                ))
            }
        };
        if approvals == ApprovalSystem::Unified && !matches!(auth, WorkfrontAuth::ServerToServer { .. }) {
            return Err(self.err(
                "review.approvals",
                "\"unified\" needs workfront.auth = \"adobe_server_to_server\": the Unified Approvals API takes IMS access tokens only",
            ));
        }
        let approvers = match raw.approvers {
            None => defaults.approvers,
            Some(entries) if entries.is_empty() => {
                return Err(self.err("review.approvers", "names nobody: leave it out for the project owner"))
            }
            Some(entries) => entries
                .iter()
                .map(|entry| self.approver(entry))
                .collect::<Result<Vec<_>, _>>()?,
        };
        let approver_role = match raw.approver_role.as_deref() {
            None | Some("approver") => ApproverRole::Approver,
            Some("reviewer") => ApproverRole::Reviewer,
            Some(other) => {
                return Err(self.err(
                    "review.approver_role",
                    format!("{other:?} is not one of \"approver\", \"reviewer\""),
                ))
            }
        };
        if approvals == ApprovalSystem::Legacy {
            if let Some(team) = approvers.iter().find(|a| matches!(a, Approver::Team(_))) {
                let Approver::Team(id) = team else { unreachable!() };
                return Err(self.err(
                    "review.approvers",
                    format!("\"team:{id}\": legacy document approvals name users only; use \"unified\" for teams"),
                ));
            }
            if approver_role == ApproverRole::Reviewer {
                return Err(self.err(
                    "review.approver_role",
                    "\"reviewer\" needs review.approvals = \"unified\": a legacy document approval has approvers only",
                ));
            }
        }
        let approvals_url = match raw.approvals_url {
            None => defaults.approvals_url,
            Some(text) => {
                let mut url = self.url("review.approvals_url", &text)?;
                if !url.path().ends_with('/') {
                    url.set_path(&format!("{}/", url.path()));
                }
                url
            }
        };
        let lane = match raw.lane {
            None => defaults.lane,
            Some(lane) if LANES.contains(&lane.as_str()) => lane,
            Some(other) => {
                return Err(self.err(
                    "review.lane",
                    format!("{other:?} is not one of {}", LANES.map(|l| format!("{l:?}")).join(", ")),
                ))
            }
        };
        let status_field = match raw.status_field {
            None => defaults.status_field,
            Some(name) => {
                let name = name.trim().to_owned();
                if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
                    return Err(self.err(
                        "review.status_field",
                        "must be a field name of 1 to 100 characters without control characters",
                    ));
                }
                name
            }
        };
        Ok(ReviewSettings {
            max_upload_size,
            approvals,
            approvers,
            approver_role,
            approvals_url,
            lane,
            status_field,
            comments_to_workfront: raw.comments_to_workfront.unwrap_or(false),
        })
    }

    fn approver(&self, entry: &str) -> Result<Approver, ConfigError> {
        let key = "review.approvers";
        let bad = |why: String| self.err(key, format!("{entry:?}: {why}"));
        match entry.split_once(':') {
            None if entry == "owner" => Ok(Approver::Owner),
            Some(("user", id)) => WorkfrontUserId::new(id)
                .map(Approver::User)
                .map_err(|e| bad(e.to_string())),
            Some(("team", id)) => WorkfrontTeamId::new(id)
                .map(Approver::Team)
                .map_err(|e| bad(e.to_string())),
            _ => Err(bad(
                "expected \"owner\", \"user:<Workfront user id>\" or \"team:<Workfront team id>\"".into(),
            )),
        }
    }
}
