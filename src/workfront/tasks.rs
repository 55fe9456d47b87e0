//! Tasks, for the review form's targets: the open ones on a full read, every change since a time
//! on an incremental one (a task completed since then comes back closed).

use super::client::WorkfrontClient;
use super::error::WorkfrontError;
use crate::core::model::WorkfrontTask;
use crate::ids::{WorkfrontProjectId, WorkfrontTaskId};
use crate::timestamp::Timestamp;
use serde::Deserialize;

const TASK_FIELDS: &str = "ID,name,projectID,status";

/// The longest task name kept (a form option shows it).
const MAX_NAME: usize = 255;

#[derive(Deserialize)]
struct TaskRow {
    #[serde(rename = "ID")]
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(rename = "projectID", default)]
    project_id: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

impl WorkfrontClient {
    /// The open tasks (`since` is `None`), or every task changed at or after `since`, open or not.
    /// A task is open unless its status is `CPL` (Complete).
    pub async fn search_tasks(&self, since: Option<Timestamp>) -> Result<Vec<WorkfrontTask>, WorkfrontError> {
        let open_only = [("status", "CPL".to_owned()), ("status_Mod", "ne".to_owned())];
        let filters: &[(&str, String)] = if since.is_none() { &open_only } else { &[] };
        self.search_all_where("task", TASK_FIELDS.to_owned(), since, filters, task_from_row)
            .await
    }
}

/// A row with an unusable id is skipped (logged): it cannot be offered anyway.
fn task_from_row(row: TaskRow) -> Option<WorkfrontTask> {
    let ids = WorkfrontTaskId::new(&row.id)
        .ok()
        .zip(row.project_id.as_deref().and_then(|p| WorkfrontProjectId::new(p).ok()));
    let Some((id, project)) = ids else {
        tracing::warn!(task = %row.id.escape_debug(), "skipping a task with an unusable ID or projectID");
        return None;
    };
    let mut name = row.name.unwrap_or_default();
    if name.len() > MAX_NAME {
        let mut end = MAX_NAME;
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        name.truncate(end);
    }
    Some(WorkfrontTask {
        id,
        project,
        name,
        open: row.status.as_deref() != Some("CPL"),
    })
}
