//! Which Frame.io account and workspace a Workfront project is mirrored into (F1, F2): the
//! project's own group's connection, else the nearest connected ancestor group (`parentID`
//! chain), else the default account, else none (the project is parked with the reason).

use super::model::{Target, WorkfrontGroup, WorkfrontProject};
use crate::ids::WorkfrontGroupId;
use std::collections::{HashMap, HashSet};

/// The routing table: connections by group, the group tree, and the default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Routing {
    /// F1: where projects go when no group connection claims them.
    pub default: Option<Target>,
    /// F2: each connected group's target (its `via` is the group).
    pub connections: HashMap<WorkfrontGroupId, Target>,
    /// Each known group's parent, from Workfront's `GROUP` records.
    pub parents: HashMap<WorkfrontGroupId, Option<WorkfrontGroupId>>,
}

/// No Frame.io account is known for a project: neither its group (nor an ancestor) is
/// connected, nor is a default account configured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct NoRoute {
    /// The project's group, if it has one.
    pub group: Option<WorkfrontGroupId>,
}

impl std::fmt::Display for NoRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.group {
            Some(group) => write!(
                f,
                "no Frame.io account for group {group}: connect it (or an ancestor group) with connect-group, or configure [frameio.default]"
            ),
            None => f.write_str("no Frame.io account: the project has no group and [frameio.default] is not configured"),
        }
    }
}

impl Routing {
    /// Replaces the group tree with freshly polled groups.
    pub fn set_groups(&mut self, groups: &[WorkfrontGroup]) {
        self.parents = groups.iter().map(|g| (g.id.clone(), g.parent.clone())).collect();
    }

    /// The target for `project`, or why there is none (its `Display` is shown to the admin).
    pub fn route(&self, project: &WorkfrontProject) -> Result<Target, NoRoute> {
        if let Some(group) = &project.group_id {
            if let Some(target) = self.nearest_connection(group) {
                return Ok(target.clone());
            }
        }
        match &self.default {
            Some(target) => Ok(target.clone()),
            None => Err(NoRoute {
                group: project.group_id.clone(),
            }),
        }
    }

    /// The connection of `group` or of its nearest connected ancestor. A cycle in the group data
    /// or a parent Workfront did not return ends the walk (no connection found that way).
    fn nearest_connection(&self, group: &WorkfrontGroupId) -> Option<&Target> {
        let mut seen = HashSet::new();
        let mut current = Some(group);
        while let Some(g) = current {
            if !seen.insert(g) {
                return None;
            }
            if let Some(target) = self.connections.get(g) {
                return Some(target);
            }
            current = self.parents.get(g).and_then(Option::as_ref);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{FrameioAccountId, FrameioWorkspaceId, WorkfrontProjectId};

    fn gid(s: &str) -> WorkfrontGroupId {
        WorkfrontGroupId::new(s).unwrap()
    }

    fn target(account: &str, via: Option<&str>) -> Target {
        Target {
            account: FrameioAccountId::new(account).unwrap(),
            workspace: FrameioWorkspaceId::new(format!("ws-{account}")).unwrap(),
            via: via.map(gid),
        }
    }

    fn project_in(group: Option<&str>) -> WorkfrontProject {
        WorkfrontProject {
            id: WorkfrontProjectId::new("p").unwrap(),
            name: "P".into(),
            group_id: group.map(gid),
            status: None,
            last_update: None,
            team: Vec::new(),
            link: None,
        }
    }

    /// root ─ marketing ─ brand ─ studio;  post (no parent);  loop-a ⇄ loop-b;  orphan → missing.
    fn routing(default: bool) -> Routing {
        let group = |id: &str, parent: Option<&str>| WorkfrontGroup {
            id: gid(id),
            name: id.into(),
            parent: parent.map(gid),
        };
        let mut r = Routing {
            default: default.then(|| target("default", None)),
            connections: HashMap::from([
                (gid("marketing"), target("acc-marketing", Some("marketing"))),
                (gid("studio"), target("acc-studio", Some("studio"))),
            ]),
            parents: HashMap::new(),
        };
        r.set_groups(&[
            group("root", None),
            group("marketing", Some("root")),
            group("brand", Some("marketing")),
            group("studio", Some("brand")),
            group("post", None),
            group("loop-a", Some("loop-b")),
            group("loop-b", Some("loop-a")),
            group("orphan", Some("missing")),
        ]);
        r
    }

    #[track_caller]
    fn check(default: bool, group: Option<&str>, expected: Result<&str, &str>) {
        let got = routing(default).route(&project_in(group));
        match (got, expected) {
            (Ok(t), Ok(account)) => assert_eq!(t.account.as_str(), account, "{group:?}"),
            (Err(reason), Err(part)) => assert!(reason.to_string().contains(part), "{group:?}: {reason}"),
            (got, expected) => panic!("{group:?}: got {got:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn a_group_with_its_own_connection_routes_there() {
        check(true, Some("marketing"), Ok("acc-marketing"));
        check(true, Some("studio"), Ok("acc-studio"));
    }

    #[test]
    fn a_subgroup_without_one_takes_the_nearest_connected_ancestor() {
        check(true, Some("brand"), Ok("acc-marketing"));
        assert_eq!(
            routing(true).route(&project_in(Some("brand"))).unwrap().via,
            Some(gid("marketing"))
        );
    }

    #[test]
    fn unconnected_groups_fall_back_to_the_default() {
        check(true, Some("root"), Ok("default"));
        check(true, Some("post"), Ok("default"));
        check(true, None, Ok("default"));
        check(true, Some("unknown-group"), Ok("default"));
    }

    #[test]
    fn without_a_default_they_are_unroutable_with_the_group_named() {
        check(false, Some("post"), Err("no Frame.io account for group post"));
        check(false, None, Err("the project has no group"));
        check(false, Some("brand"), Ok("acc-marketing"));
    }

    #[test]
    fn cycles_and_missing_parents_end_the_walk() {
        check(true, Some("loop-a"), Ok("default"));
        check(false, Some("loop-b"), Err("no Frame.io account for group loop-b"));
        check(true, Some("orphan"), Ok("default"));
        let mut r = routing(false);
        r.connections.insert(gid("loop-b"), target("acc-loop", Some("loop-b")));
        assert_eq!(
            r.route(&project_in(Some("loop-a"))).unwrap().account.as_str(),
            "acc-loop"
        );
    }
}
