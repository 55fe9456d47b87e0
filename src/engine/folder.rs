//! The one-way folder's pass (F7), run after each sync: the mirrored projects whose status
//! equates with one of `folder.statuses` (custom statuses through their group's `equatesWith`),
//! their documents read (a hundred projects a search), the plan (`core::folder_plan`) recorded,
//! and what it skipped or found removed kept for `status`. Level-triggered: a project that
//! becomes Current, or a document with a new version, is planned at the next poll; an event
//! about a document asks for a pass at once (`folder_soon`).

use super::Engine;
use crate::core::folder_plan::{plan_folder, status_counts, FolderRules, OpenProject};
use crate::core::model::WorkfrontProject;
use crate::ids::{WorkfrontGroupId, WorkfrontProjectId};
use crate::store::{FolderReport, Priority, Recording, FOLDER_V};
use std::collections::{BTreeMap, HashMap, HashSet};

/// A project's status as the sync read it: what the folder pass decides on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectStatus {
    pub id: WorkfrontProjectId,
    pub status: Option<String>,
    pub group: Option<WorkfrontGroupId>,
}

impl ProjectStatus {
    pub fn of(project: &WorkfrontProject) -> Self {
        Self {
            id: project.id.clone(),
            status: project.status.clone(),
            group: project.group_id.clone(),
        }
    }
}

/// What a folder pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FolderPass {
    /// Mirrored projects whose status lets their documents go.
    pub open: usize,
    pub documents: usize,
    pub enqueued: usize,
    pub skipped: usize,
    pub removed: usize,
}

/// Each group's custom project statuses and the system status each equates with, read once per
/// full sync (statuses change rarely).
pub(crate) type GroupStatuses = std::sync::Mutex<HashMap<WorkfrontGroupId, BTreeMap<String, String>>>;

impl Engine {
    /// One pass over the folders of the open projects among `projects`. `full`: read the groups'
    /// statuses again.
    pub async fn folder_once(&self, projects: &[ProjectStatus], full: bool) -> anyhow::Result<FolderPass> {
        let mut pass = FolderPass::default();
        // Before the first sync there is nothing to decide on (and no report to clear).
        if !self.folder.enabled || projects.is_empty() {
            return Ok(pass);
        }
        if full {
            self.group_statuses.lock().expect("statuses lock").clear();
        }
        let mirrors: HashMap<WorkfrontProjectId, crate::store::MirrorRecord> = self
            .store
            .mirrors()?
            .into_iter()
            .map(|m| (m.wf_project.clone(), m))
            .collect();
        let wanted = &self.folder.statuses;
        let mut open = Vec::new();
        // Groups whose statuses could not be read in this pass: asked once, not once a project.
        let mut unreadable = HashSet::new();
        for p in projects {
            let Some(mirror) = mirrors.get(&p.id) else { continue };
            // A status wanted by its own code needs no look at its group's statuses.
            let counts = status_counts(p.status.as_deref(), None, wanted)
                || status_counts(
                    p.status.as_deref(),
                    self.equates_with(p, &mut unreadable).await.as_deref(),
                    wanted,
                );
            if counts {
                open.push(mirror);
            }
        }
        pass.open = open.len();
        let ids: Vec<WorkfrontProjectId> = open.iter().map(|m| m.wf_project.clone()).collect();
        let documents = if ids.is_empty() {
            Vec::new()
        } else {
            self.workfront
                .project_documents(&ids, self.folder.include_tasks)
                .await?
        };
        pass.documents = documents.len();
        // Each document's project is one of `ids` (the client keeps only those).
        let mut by_project: HashMap<WorkfrontProjectId, Vec<crate::core::model::WorkfrontDocument>> = HashMap::new();
        for d in documents {
            by_project.entry(d.project.clone()).or_default().push(d);
        }
        let (mut pushed, pushed_documents) = self.store.pushed_index()?;
        // A version whose file is created and whose bytes are on their way is not planned again.
        pushed.extend(self.store.versions_in_transfer()?);
        let rules = FolderRules {
            folder: &self.folder.name,
            include_tasks: self.folder.include_tasks,
            max_file_size: self.folder.max_file_size,
        };
        let empty = BTreeMap::new();
        let mut planned = Vec::new();
        // The last pass's reports: each is written again only when it changed.
        let mut before: HashMap<WorkfrontProjectId, FolderReport> = self.store.folder_reports()?.into_iter().collect();
        let mut reports = Vec::new();
        for mirror in &open {
            let plan = plan_folder(
                &rules,
                &OpenProject {
                    wf_project: &mirror.wf_project,
                    mirror: &mirror.frameio_project,
                    target: &mirror.target,
                },
                by_project
                    .get(&mirror.wf_project)
                    .map(Vec::as_slice)
                    .unwrap_or_default(),
                &pushed,
                pushed_documents.get(&mirror.wf_project).unwrap_or(&empty),
            );
            pass.skipped += plan.skipped.len();
            pass.removed += plan.removed.len();
            for r in &plan.removed {
                tracing::info!(wf_project = %r.wf_project, document = %r.document, name = %r.name, "a document pushed to the one-way folder is gone from Workfront; its Frame.io file stays");
            }
            planned.extend(plan.enqueue);
            let report = FolderReport {
                v: FOLDER_V,
                skipped: plan.skipped,
                removed: plan.removed,
            };
            let was = before.remove(&mirror.wf_project).unwrap_or_default();
            if report.skipped != was.skipped || report.removed != was.removed {
                reports.push((mirror.wf_project.clone(), report));
            }
        }
        // Projects no longer open keep no report.
        reports.extend(before.into_keys().map(|project| (project, FolderReport::default())));
        self.store.record_folder_reports(&reports)?;
        if !planned.is_empty() {
            // Bulk transfers: mirrors, collaborators and the review loop go ahead of them in their
            // lane (a 2,000-document backfill gets one turn in five while fresh work waits).
            let recording = Recording {
                enqueue: planned.iter().collect(),
                ..Recording::default()
            }
            .with_priority(Priority::Backfill);
            let recorded = self.store.record_plan(&recording, self.clock.now())?;
            pass.enqueued = recorded.enqueued;
            if recorded.enqueued > 0 {
                self.work_ready.notify_one();
            }
        }
        Ok(pass)
    }

    /// Asks for a folder pass soon (a Workfront document event), over the projects as the last
    /// sync read them.
    pub fn folder_soon(&self) {
        if self.folder.enabled {
            self.folder_wake.notify_one();
        }
    }

    /// Waits until a folder pass is asked for, then runs it over the projects the last sync read.
    pub async fn folder_asked(&self) -> anyhow::Result<FolderPass> {
        self.folder_wake.notified().await;
        let projects = std::sync::Arc::clone(&self.last_statuses.lock().expect("statuses lock"));
        self.folder_once(&projects, false).await
    }

    /// The system status `project`'s status equates with, from its group's statuses (read once
    /// per group until the next full sync). A status not listed, or a group whose statuses cannot
    /// be read now, equates with nothing but itself.
    async fn equates_with(
        &self,
        project: &ProjectStatus,
        unreadable: &mut HashSet<WorkfrontGroupId>,
    ) -> Option<String> {
        let (status, group) = (project.status.as_ref()?, project.group.as_ref()?);
        if unreadable.contains(group) {
            return None;
        }
        let cached = self
            .group_statuses
            .lock()
            .expect("statuses lock")
            .get(group)
            .map(|m| m.get(status).cloned());
        if let Some(found) = cached {
            return found;
        }
        match self.workfront.project_statuses(group).await {
            Ok(map) => {
                let found = map.get(status).cloned();
                self.group_statuses
                    .lock()
                    .expect("statuses lock")
                    .insert(group.clone(), map);
                found
            }
            Err(err) => {
                tracing::warn!(%group, error = %err, "could not read the group's project statuses; its custom statuses count as themselves until the next pass");
                unreadable.insert(group.clone());
                None
            }
        }
    }
}
