//! The review loop's states: what a Workfront approval says, read into one of the states the
//! Frame.io file shows ("Workfront review": Sent, In review, Approved, Approved with changes,
//! Needs work, Withdrawn). Pure: the approval as read in, the state out.

use serde::{Deserialize, Serialize};

/// Where a file sent for review stands, as its Frame.io field shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewState {
    /// Delivered to Workfront; no approval asked, or not yet.
    Sent,
    /// An approval is open.
    InReview,
    Approved,
    ApprovedWithChanges,
    NeedsWork,
    /// The approval was withdrawn (a newer version, or by hand).
    Withdrawn,
}

impl ReviewState {
    /// Every state, in the order the field's options are made.
    pub const ALL: [ReviewState; 6] = [
        ReviewState::Sent,
        ReviewState::InReview,
        ReviewState::Approved,
        ReviewState::ApprovedWithChanges,
        ReviewState::NeedsWork,
        ReviewState::Withdrawn,
    ];

    /// The option's name in the Frame.io field.
    pub fn label(self) -> &'static str {
        match self {
            ReviewState::Sent => "Sent",
            ReviewState::InReview => "In review",
            ReviewState::Approved => "Approved",
            ReviewState::ApprovedWithChanges => "Approved with changes",
            ReviewState::NeedsWork => "Needs work",
            ReviewState::Withdrawn => "Withdrawn",
        }
    }

    /// A decision: nothing more is waited for (a later version is a new submission).
    pub fn is_decided(self) -> bool {
        matches!(
            self,
            ReviewState::Approved | ReviewState::ApprovedWithChanges | ReviewState::NeedsWork | ReviewState::Withdrawn
        )
    }

    /// A Unified Approvals `status` (approval, stage or participant): `in review`, `pending
    /// review`, `approved`, `approved with changes`, `needs work`, `reviewed`, `withdrawn`, `not
    /// started`… Anything else is `None`: an unknown status is never taken for a decision.
    pub fn from_unified(status: &str) -> Option<ReviewState> {
        match status.trim().to_ascii_lowercase().replace('_', " ").as_str() {
            "not started" | "pending review" | "in review" | "notified" | "opened" | "commented" | "reviewed" => {
                Some(ReviewState::InReview)
            }
            "approved" => Some(ReviewState::Approved),
            "approved with changes" => Some(ReviewState::ApprovedWithChanges),
            "needs work" => Some(ReviewState::NeedsWork),
            "withdrawn" => Some(ReviewState::Withdrawn),
            _ => None,
        }
    }

    /// A legacy document approval's status, by its label (Workfront's metadata names the codes;
    /// no documentation lists them). Unknown labels are `None`, never approved.
    pub fn from_legacy_label(label: &str) -> Option<ReviewState> {
        let label = label.trim().to_ascii_lowercase();
        if label.contains("with changes") {
            return Some(ReviewState::ApprovedWithChanges);
        }
        match label.as_str() {
            "approved" => Some(ReviewState::Approved),
            "rejected" | "not approved" | "declined" | "needs work" => Some(ReviewState::NeedsWork),
            "pending" | "pending approval" | "awaiting approval" | "in review" | "new" => Some(ReviewState::InReview),
            "withdrawn" | "cancelled" | "canceled" => Some(ReviewState::Withdrawn),
            _ => None,
        }
    }
}

impl std::fmt::Display for ReviewState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// One decision on an approval, as read: who, what, when, and what they wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub state: ReviewState,
    /// The decider's name (or Workfront user id when the name is not given).
    pub by: String,
    /// When, as Workfront wrote it.
    pub at: Option<String>,
    /// The decider's comment, if any was found.
    #[serde(default)]
    pub comment: Option<String>,
}

/// An approval as read, reduced to what the review loop needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRead {
    /// The approval's own roll-up status, read into a state (`None`: unknown).
    pub status: Option<ReviewState>,
    /// Every decision made, in the order read.
    pub decisions: Vec<Decision>,
}

/// The state a file shows for an approval: the roll-up status when it is a decision; while it is
/// open, "In review". The decision it shows is the latest one of that state (or the latest of
/// all), so the comment says who decided.
pub fn state_of(approval: &ApprovalRead) -> (ReviewState, Option<&Decision>) {
    let state = approval.status.unwrap_or(ReviewState::InReview);
    let decision = approval
        .decisions
        .iter()
        .rev()
        .find(|d| d.state == state)
        .or_else(|| approval.decisions.last().filter(|_| state.is_decided()));
    (state, decision)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unified_statuses_map_and_unknown_ones_are_never_a_decision() {
        assert_eq!(ReviewState::from_unified("approved"), Some(ReviewState::Approved));
        assert_eq!(
            ReviewState::from_unified("Approved With Changes"),
            Some(ReviewState::ApprovedWithChanges)
        );
        assert_eq!(ReviewState::from_unified("needs_work"), Some(ReviewState::NeedsWork));
        assert_eq!(ReviewState::from_unified("pending review"), Some(ReviewState::InReview));
        assert_eq!(ReviewState::from_unified("withdrawn"), Some(ReviewState::Withdrawn));
        assert_eq!(ReviewState::from_unified("approvedish"), None);
        assert_eq!(ReviewState::from_legacy_label("Rejected"), Some(ReviewState::NeedsWork));
        assert_eq!(
            ReviewState::from_legacy_label("Awaiting Approval"),
            Some(ReviewState::InReview)
        );
        assert_eq!(ReviewState::from_legacy_label("Mostly fine"), None);
    }

    #[test]
    fn the_shown_state_is_the_roll_up_with_the_decision_that_made_it() {
        let decision = |state, by: &str| Decision {
            state,
            by: by.into(),
            at: None,
            comment: None,
        };
        let open = ApprovalRead {
            status: Some(ReviewState::InReview),
            decisions: vec![decision(ReviewState::Approved, "Ann")],
        };
        assert_eq!(state_of(&open), (ReviewState::InReview, None));
        let needs_work = ApprovalRead {
            status: Some(ReviewState::NeedsWork),
            decisions: vec![
                decision(ReviewState::NeedsWork, "Bo"),
                decision(ReviewState::Approved, "Ann"),
            ],
        };
        let (state, by) = state_of(&needs_work);
        assert_eq!((state, by.map(|d| d.by.as_str())), (ReviewState::NeedsWork, Some("Bo")));
        let unknown = ApprovalRead {
            status: None,
            decisions: vec![],
        };
        assert_eq!(state_of(&unknown).0, ReviewState::InReview);
    }
}
