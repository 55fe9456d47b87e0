//! Which Frame.io account and workspace a Workfront project is mirrored into (F1, F2).

use super::model::{Target, WorkfrontProject};

/// The routing table. Group connections (F2) extend it; today it holds the default account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Routing {
    /// F1: where projects go when no group connection claims them.
    pub default: Option<Target>,
}

impl Routing {
    /// The target for `project`, or the reason there is none (shown to the admin verbatim).
    pub fn route(&self, project: &WorkfrontProject) -> Result<Target, String> {
        match &self.default {
            Some(target) => Ok(target.clone()),
            None => Err(match &project.group_id {
                Some(group) => format!("no Frame.io account for group {group}: connect the group or configure [frameio.default]"),
                None => "no Frame.io account: the project has no group and [frameio.default] is not configured".to_owned(),
            }),
        }
    }
}
