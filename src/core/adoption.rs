//! Which existing Frame.io project, if any, a create should adopt instead of making a new one.
//!
//! - **A create whose outcome we never saw** ([`choose_adoption`]): Frame.io has no idempotency
//!   key, so after a timeout, a reset, a 5xx or a crash between sending a create and recording its
//!   answer, the daemon lists the workspace and adopts the project with exactly that name,
//!   created since the attempt began, that no other Workfront project already owns. Only when
//!   there is none is the create sent again.
//! - **A mirror that exists already** ([`find_existing`]): before the first create in a workspace
//!   (a lost state dir, a first install where projects were made by hand), the project the
//!   Workfront project's link field names, else the one project with exactly its name. Several
//!   with that name: none is guessed.

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

/// What a workspace already holds for a Workfront project about to be mirrored there.
#[derive(Debug, PartialEq, Eq)]
pub enum Existing<'a> {
    /// The project its link field names.
    ByLink(&'a FrameioProject),
    /// The one project with exactly its name.
    ByName(&'a FrameioProject),
    /// Several projects with exactly its name (never guessed between).
    Several(Vec<&'a FrameioProject>),
    Nothing,
}

impl Existing<'_> {
    /// `by link` or `by name`, for `plan` and the logs.
    pub fn how(&self) -> &'static str {
        match self {
            Existing::ByLink(_) => "by link",
            Existing::ByName(_) => "by name",
            Existing::Several(_) => "several by name",
            Existing::Nothing => "none",
        }
    }
}

/// What [`find_existing`] may choose from: the projects with the name or the linked id. Only
/// these need to be checked against the recorded mirrors.
pub fn candidates<'a>(
    listed: &'a [FrameioProject],
    name: &'a str,
    linked: Option<&'a FrameioProjectId>,
) -> impl Iterator<Item = &'a FrameioProject> {
    listed.iter().filter(move |p| p.name == name || Some(&p.id) == linked)
}

/// The project in `listed` that `name` (with the link field naming `linked`) already has, of
/// those no other Workfront project owns (`mapped`: at least the candidates among them): the linked one if it is there, else the one
/// with exactly that name; several with that name are returned for an admin to choose.
pub fn find_existing<'a>(
    listed: &'a [FrameioProject],
    name: &str,
    linked: Option<&FrameioProjectId>,
    mapped: &HashSet<FrameioProjectId>,
) -> Existing<'a> {
    let free = |p: &&FrameioProject| !mapped.contains(&p.id);
    if let Some(linked) = linked {
        if let Some(found) = listed.iter().filter(free).find(|p| &p.id == linked) {
            return Existing::ByLink(found);
        }
    }
    let mut named: Vec<&FrameioProject> = listed.iter().filter(free).filter(|p| p.name == name).collect();
    match named.len() {
        0 => Existing::Nothing,
        1 => Existing::ByName(named[0]),
        _ => {
            named.sort_by(|a, b| a.id.cmp(&b.id));
            Existing::Several(named)
        }
    }
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
            view_url: None,
            owner: None,
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

    #[test]
    fn an_existing_mirror_is_found_by_link_first_then_by_its_one_exact_name() {
        let listed = [
            project("linked", "Renamed by hand", None),
            project("named", "Launch", None),
            project("other", "launch", None),
        ];
        let linked = FrameioProjectId::new("linked").unwrap();
        let none = HashSet::new();
        assert_eq!(find_existing(&listed, "Launch", Some(&linked), &none).how(), "by link");
        assert_eq!(
            find_existing(&listed, "Launch", None, &none),
            Existing::ByName(&listed[1])
        );
        // A link to a project that is not there (or is another's mirror) falls back to the name.
        let gone = FrameioProjectId::new("gone").unwrap();
        assert_eq!(
            find_existing(&listed, "Launch", Some(&gone), &none),
            Existing::ByName(&listed[1])
        );
        let owned: HashSet<_> = [linked.clone()].into();
        assert_eq!(
            find_existing(&listed, "Launch", Some(&linked), &owned),
            Existing::ByName(&listed[1])
        );
        assert_eq!(find_existing(&listed, "Spring", None, &none), Existing::Nothing);
        assert_eq!(candidates(&listed, "Spring", Some(&gone)).count(), 0);
        assert_eq!(candidates(&listed, "Launch", Some(&linked)).count(), 2);
    }

    #[test]
    fn several_projects_with_the_name_are_never_guessed_between() {
        let listed = [
            project("b", "Launch", None),
            project("a", "Launch", None),
            project("c", "Launch", None),
        ];
        let owned: HashSet<_> = [FrameioProjectId::new("c").unwrap()].into();
        let Existing::Several(found) = find_existing(&listed, "Launch", None, &owned) else {
            panic!("several expected")
        };
        let ids: Vec<&str> = found.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["a", "b"], "sorted, and never one another mirror owns");
    }
}
