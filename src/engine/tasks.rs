//! The open tasks of each project, kept by the sync for the review form: the custom action has
//! Frame.io's 5 s to answer, so its task list is read from here, never from Workfront then.
//!
//! A full sync reads every open task again; an incremental one reads the tasks changed since the
//! last read (with the poll overlap), adding, renaming and dropping completed ones. A failed read
//! keeps what was known: the form offers slightly old tasks, and the submit checks the chosen one
//! with Workfront anyway.

use super::Engine;
use crate::core::model::WorkfrontTask;
use crate::ids::{WorkfrontProjectId, WorkfrontTaskId};
use crate::timestamp::Timestamp;
use crate::workfront::WorkfrontError;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

#[derive(Default)]
pub(crate) struct OpenTasks {
    inner: Mutex<Known>,
}

#[derive(Default)]
struct Known {
    by_project: HashMap<WorkfrontProjectId, BTreeMap<WorkfrontTaskId, Box<str>>>,
    /// When the last successful read started: the next incremental read starts there.
    read_at: Option<Timestamp>,
}

impl OpenTasks {
    /// The open tasks of `project`, by name.
    pub(crate) fn of(&self, project: &WorkfrontProjectId) -> Vec<(WorkfrontTaskId, String)> {
        let known = self.inner.lock().expect("tasks lock");
        let mut tasks: Vec<(WorkfrontTaskId, String)> = known
            .by_project
            .get(project)
            .map(|t| t.iter().map(|(id, name)| (id.clone(), name.to_string())).collect())
            .unwrap_or_default();
        tasks.sort_by(|a, b| a.1.to_lowercase().cmp(&b.1.to_lowercase()).then(a.0.cmp(&b.0)));
        tasks
    }

    fn since(&self) -> Option<Timestamp> {
        self.inner.lock().expect("tasks lock").read_at
    }

    fn apply(&self, tasks: Vec<WorkfrontTask>, whole: bool, read_at: Timestamp) {
        let mut known = self.inner.lock().expect("tasks lock");
        if whole {
            known.by_project.clear();
        }
        for task in tasks {
            // A task may have moved to another project: forget it wherever it was.
            for others in known.by_project.values_mut() {
                others.remove(&task.id);
            }
            if task.open {
                known
                    .by_project
                    .entry(task.project)
                    .or_default()
                    .insert(task.id, task.name.into_boxed_str());
            }
        }
        known.by_project.retain(|_, tasks| !tasks.is_empty());
        known.read_at = Some(read_at);
    }
}

impl Engine {
    /// Reads the open tasks again (`whole`), or those changed since the last read.
    pub(crate) async fn refresh_tasks(&self, whole: bool) -> Result<(), WorkfrontError> {
        let started = self.clock.now();
        let since = if whole {
            None
        } else {
            self.open_tasks.since().map(|at| at.saturating_sub(self.poll_overlap))
        };
        let tasks = self.workfront.search_tasks(since).await?;
        self.open_tasks.apply(tasks, since.is_none(), started);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(id: &str, project: &str, name: &str, open: bool) -> WorkfrontTask {
        WorkfrontTask {
            id: WorkfrontTaskId::new(id).unwrap(),
            project: WorkfrontProjectId::new(project).unwrap(),
            name: name.into(),
            open,
        }
    }

    #[test]
    fn changes_add_rename_move_and_drop_completed_tasks() {
        let tasks = OpenTasks::default();
        let p1 = WorkfrontProjectId::new("p1").unwrap();
        let p2 = WorkfrontProjectId::new("p2").unwrap();
        tasks.apply(
            vec![task("t1", "p1", "storyboard", true), task("t2", "p1", "Animatic", true)],
            true,
            Timestamp(1),
        );
        let names = |p: &WorkfrontProjectId| tasks.of(p).into_iter().map(|(_, n)| n).collect::<Vec<_>>();
        assert_eq!(
            names(&p1),
            ["Animatic", "storyboard"],
            "sorted by name, whatever the case"
        );
        tasks.apply(
            vec![
                task("t1", "p1", "Storyboard v2", true),
                task("t2", "p1", "Animatic", false),
            ],
            false,
            Timestamp(2),
        );
        assert_eq!(names(&p1), ["Storyboard v2"]);
        tasks.apply(vec![task("t1", "p2", "Storyboard v2", true)], false, Timestamp(3));
        assert!(names(&p1).is_empty());
        assert_eq!(names(&p2), ["Storyboard v2"]);
        // A whole read replaces everything.
        tasks.apply(vec![task("t9", "p1", "Grade", true)], true, Timestamp(4));
        assert_eq!(
            (names(&p1), names(&p2)),
            (vec!["Grade".to_owned()], Vec::<String>::new())
        );
        assert_eq!(tasks.since(), Some(Timestamp(4)));
    }
}
