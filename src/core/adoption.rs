//! Which existing Frame.io project, if any, is the result of a create whose outcome we never saw.
//!
//! Frame.io has no idempotency key, so after a timeout, a reset, a 5xx or a crash between sending a
//! create and recording its answer, the daemon lists the workspace and adopts the project with
//! exactly that name, created since the attempt began, that no other Workfront project already
//! owns. Only when there is none is the create sent again.

use crate::core::model::FrameioProject;
use crate::ids::FrameioProjectId;
use crate::timestamp::Timestamp;
use std::collections::HashSet;
use std::time::Duration;

/// How far Frame.io's clock may run behind ours and still count a project as "created since".
pub const CLOCK_SKEW: Duration = Duration::from_secs(120);

/// The project to adopt, if one fits: same name, not mapped to another Workfront project, created
/// at or after `attempt_started` less [`CLOCK_SKEW`] (a project without `created_at` fits on name);
/// of several, the earliest.
pub fn choose_adoption<'a>(
    listed: &'a [FrameioProject],
    name: &str,
    attempt_started: Timestamp,
    mapped_elsewhere: &HashSet<FrameioProjectId>,
) -> Option<&'a FrameioProject> {
    let earliest_allowed = attempt_started.saturating_sub(CLOCK_SKEW);
    listed
        .iter()
        .filter(|p| p.name == name)
        .filter(|p| !mapped_elsewhere.contains(&p.id))
        .filter(|p| p.created_at.is_none_or(|c| c >= earliest_allowed))
        .min_by_key(|p| (p.created_at, p.id.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(id: &str, name: &str, created_ms: Option<i64>) -> FrameioProject {
        FrameioProject {
            id: FrameioProjectId::new(id).unwrap(),
            name: name.into(),
            workspace_id: None,
            created_at: created_ms.map(Timestamp),
        }
    }

    const T: i64 = 1_800_000_000_000;

    #[test]
    fn adopts_the_same_name_created_since_the_attempt() {
        let listed = [
            project("old", "Launch", Some(T - 3_600_000)),
            project("new", "Launch", Some(T + 500)),
        ];
        let chosen = choose_adoption(&listed, "Launch", Timestamp(T), &HashSet::new());
        assert_eq!(chosen.unwrap().id.as_str(), "new");
    }

    #[test]
    fn never_adopts_a_project_another_mirror_owns_or_an_older_one() {
        let listed = [
            project("owned", "Launch", Some(T + 10)),
            project("old", "Launch", Some(T - 600_000)),
        ];
        let owned: HashSet<_> = [FrameioProjectId::new("owned").unwrap()].into();
        assert!(choose_adoption(&listed, "Launch", Timestamp(T), &owned).is_none());
    }

    #[test]
    fn names_must_match_exactly_and_skew_is_tolerated() {
        let listed = [
            project("a", "launch", Some(T)),
            project("b", "Launch ", Some(T)),
            project("c", "Launch", Some(T - 60_000)),
        ];
        assert_eq!(
            choose_adoption(&listed, "Launch", Timestamp(T), &HashSet::new())
                .unwrap()
                .id
                .as_str(),
            "c"
        );
    }

    #[test]
    fn of_several_the_earliest_wins_and_unknown_dates_match_on_name() {
        let listed = [project("late", "X", Some(T + 9)), project("early", "X", Some(T + 1))];
        assert_eq!(
            choose_adoption(&listed, "X", Timestamp(T), &HashSet::new())
                .unwrap()
                .id
                .as_str(),
            "early"
        );
        let undated = [project("u", "X", None)];
        assert_eq!(
            choose_adoption(&undated, "X", Timestamp(T), &HashSet::new())
                .unwrap()
                .id
                .as_str(),
            "u"
        );
    }
}
