//! What every plan is made against, read once per plan: sync, events, a new mirror's
//! collaborators and the dry run all read a `Basis`, then plan mirrors (`Basis::plan_mirrors`) and
//! collaborators (`Engine::plan_collaborators`) against it.

use crate::core::collaborator_plan::{Managed, Pair};
use crate::core::mirror_plan::{plan, Known, Mirrored, Plan, PlanError, Scope};
use crate::core::model::WorkfrontProject;
use crate::core::routing::Routing;
use crate::ids::WorkfrontProjectId;
use crate::store::{MirrorRecord, OutboxView, Store, StoreError};
use std::collections::HashMap;

/// The outbox's keys, the recorded mirrors and the collaborator records: the whole of them, or
/// one project's.
pub(super) struct Basis {
    pub view: OutboxView,
    pub mirrors: Vec<MirrorRecord>,
    pub managed: HashMap<Pair, Managed>,
}

impl Basis {
    /// Everything (a sync, events, a dry run): a tenant's mirrors are decoded once per plan.
    pub fn whole(store: &Store) -> Result<Self, StoreError> {
        Ok(Self {
            view: store.outbox_view()?,
            mirrors: store.mirrors()?,
            managed: store.managed_pairs()?,
        })
    }

    /// One project's keys, mirror and records (a new mirror's collaborators): a backfill makes
    /// thousands of mirrors, and each reading the whole store would make it quadratic.
    pub fn of_project(store: &Store, wf_project: &WorkfrontProjectId) -> Result<Self, StoreError> {
        Ok(Self {
            view: store.outbox_view_of(wf_project)?,
            mirrors: store.mirror(wf_project)?.into_iter().collect(),
            managed: store.managed_pairs_of(wf_project)?,
        })
    }
}

impl Basis {
    /// The mirror plan for `projects` against this basis, routed by `routing`; `write_links`:
    /// `workfront.link_field` is set.
    pub fn plan_mirrors(
        &self,
        projects: &[WorkfrontProject],
        scope: Scope,
        routing: &Routing,
        write_links: bool,
    ) -> Result<Plan, PlanError> {
        let known = Known {
            mirrored: self
                .mirrors
                .iter()
                .map(|m| {
                    let mirrored = Mirrored {
                        target: m.target.clone(),
                        frameio_project: m.frameio_project.clone(),
                        name: m.name.clone(),
                        url: m.url(),
                        link: m.link.clone(),
                    };
                    (m.wf_project.clone(), mirrored)
                })
                .collect(),
            outbox: self.view.mirrors.clone(),
            write_links,
        };
        plan(projects, scope, &known, routing)
    }
}
