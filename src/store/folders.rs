//! The one-way folder's records (`folders` tree):
//! - `dir/<wf project>/<task or issue id, or "-">`: [`FolderRecord`], the Frame.io folder made or
//!   found for the project (or one of its tasks' subfolders), found again by this id first;
//! - `pushed/<document>/<version>`: [`PushedRecord`], a Workfront document version whose file is
//!   whole in Frame.io (and stacked on the document's previous one);
//! - `claim/<Frame.io file>`: the version a file (or an empty placeholder) is claimed by, so a
//!   look-up by name and size asks about each candidate instead of reading every record;
//! - `report/<wf project>`: [`FolderReport`], what the last pass skipped or found removed, for
//!   `status` (rewritten each pass; not flushed on its own).
//!
//! Written with the outcome of the entry that made them, and with the entries that follow it, in
//! one transaction.

use super::outbox::TxResult;
use super::{decode, encode, Record, Store, StoreError};
use crate::core::folder_plan::{Removed, Skipped};
use crate::core::mirror_plan::Planned;
use crate::ids::{
    FrameioFileId, FrameioProjectId, FrameioVersionStackId, OutboxId, WorkfrontDocumentId, WorkfrontDocumentVersionId,
    WorkfrontProjectId,
};
use crate::timestamp::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

pub const FOLDER_V: u32 = 1;

/// What the key of every `FinishPush` entry starts with (`effects/finish_push.rs`).
pub const FINISH_KEY_PREFIX: &str = "folder_finish:";

/// A Frame.io folder of the one-way folder: the project's, or a task's subfolder in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderRecord {
    pub v: u32,
    pub wf_project: WorkfrontProjectId,
    /// The task or issue id of a subfolder; `None` for the project's folder.
    #[serde(default)]
    pub sub: Option<String>,
    pub frameio_project: FrameioProjectId,
    pub id: String,
}

impl Record for FolderRecord {
    const V: u32 = FOLDER_V;
}

/// A document version whose file is whole in Frame.io.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushedRecord {
    pub v: u32,
    pub wf_project: WorkfrontProjectId,
    pub document: WorkfrontDocumentId,
    pub version: WorkfrontDocumentVersionId,
    pub name: String,
    pub size: u64,
    pub frameio_project: FrameioProjectId,
    pub folder: String,
    pub file: FrameioFileId,
    /// The version stack holding it with the document's earlier versions.
    #[serde(default)]
    pub stack: Option<FrameioVersionStackId>,
    pub pushed_at: Timestamp,
    /// Empty files an upload whose answer was lost left behind (Frame.io gives no second set of
    /// part addresses, and nothing is deleted): `status` names them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub placeholders: Vec<FrameioFileId>,
}

impl Record for PushedRecord {
    const V: u32 = FOLDER_V;
}

/// What the last pass over a project left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderReport {
    pub v: u32,
    pub skipped: Vec<Skipped>,
    pub removed: Vec<Removed>,
}

impl Record for FolderReport {
    const V: u32 = FOLDER_V;
}

fn dir_key(wf_project: &WorkfrontProjectId, sub: Option<&str>) -> String {
    format!("dir/{wf_project}/{}", sub.unwrap_or("-"))
}

fn pushed_key(document: &WorkfrontDocumentId, version: &WorkfrontDocumentVersionId) -> String {
    format!("pushed/{document}/{version}")
}

fn report_key(wf_project: &WorkfrontProjectId) -> String {
    format!("report/{wf_project}")
}

impl Store {
    /// The folder recorded for `wf_project` (`sub`: a task's subfolder).
    pub fn folder_record(
        &self,
        wf_project: &WorkfrontProjectId,
        sub: Option<&str>,
    ) -> Result<Option<FolderRecord>, StoreError> {
        self.get(&dir_key(wf_project, sub))
    }

    /// The record of `version`, if its file is whole in Frame.io.
    pub fn pushed(
        &self,
        document: &WorkfrontDocumentId,
        version: &WorkfrontDocumentVersionId,
    ) -> Result<Option<PushedRecord>, StoreError> {
        self.get(&pushed_key(document, version))
    }

    /// The versions of `document` pushed so far, oldest first.
    pub fn pushed_versions_of(&self, document: &WorkfrontDocumentId) -> Result<Vec<PushedRecord>, StoreError> {
        let mut records = self.scan::<PushedRecord>(&format!("pushed/{document}/"))?;
        records.sort_by_key(|r| r.pushed_at);
        Ok(records)
    }

    /// Whether a pushed version's record claims `file` (as its file, or as an empty placeholder).
    pub fn file_claimed(&self, file: &FrameioFileId) -> Result<bool, StoreError> {
        Ok(self.folders.contains_key(claim_key(file).as_bytes())?)
    }

    /// Whether `version`'s file is created and its bytes on their way (a `FinishPush` entry).
    pub fn in_transfer(&self, version: &WorkfrontDocumentVersionId) -> Result<bool, StoreError> {
        Ok(self
            .outbox_keys
            .contains_key(format!("{FINISH_KEY_PREFIX}{version}").as_bytes())?)
    }

    /// Every pushed version.
    pub fn pushed_all(&self) -> Result<Vec<PushedRecord>, StoreError> {
        self.scan("pushed/")
    }

    /// Every pushed version and, by project, the documents pushed (document → name).
    #[allow(clippy::type_complexity)]
    pub fn pushed_index(
        &self,
    ) -> Result<
        (
            BTreeSet<WorkfrontDocumentVersionId>,
            BTreeMap<WorkfrontProjectId, BTreeMap<WorkfrontDocumentId, String>>,
        ),
        StoreError,
    > {
        let mut versions = BTreeSet::new();
        let mut documents: BTreeMap<WorkfrontProjectId, BTreeMap<WorkfrontDocumentId, String>> = BTreeMap::new();
        for r in self.pushed_all()? {
            versions.insert(r.version);
            documents.entry(r.wf_project).or_default().insert(r.document, r.name);
        }
        Ok((versions, documents))
    }

    /// The last pass's reports, by project.
    pub fn folder_reports(&self) -> Result<Vec<(WorkfrontProjectId, FolderReport)>, StoreError> {
        self.folders
            .scan_prefix(b"report/")
            .map(|kv| {
                let (k, v) = kv?;
                let key = String::from_utf8_lossy(&k).into_owned();
                let report: FolderReport = decode("folders", &key, &v)?;
                let project = key.trim_start_matches("report/");
                let project = WorkfrontProjectId::new(project).map_err(|e| StoreError::Corrupt {
                    tree: "folders",
                    key: key.clone(),
                    message: e.to_string(),
                })?;
                Ok((project, report))
            })
            .collect()
    }

    /// Replaces the reports of the projects in `reports` (an empty report removes it). Not flushed:
    /// a cut loses a report the next pass writes again.
    pub fn record_folder_reports(&self, reports: &[(WorkfrontProjectId, FolderReport)]) -> Result<(), StoreError> {
        for (project, report) in reports {
            let key = report_key(project);
            if report.skipped.is_empty() && report.removed.is_empty() {
                self.folders.remove(key.as_bytes())?;
            } else {
                self.folders.insert(key.as_bytes(), encode(report))?;
            }
        }
        Ok(())
    }

    /// Completes entry `id`, recording the folders it made or found and enqueueing `follow_ups`
    /// whose keys have no entry, and, when the file is whole, its `pushed` record.
    pub(crate) fn complete_with_folder_step(
        &self,
        id: OutboxId,
        folders: &[FolderRecord],
        pushed: Option<&PushedRecord>,
        follow_ups: &[Planned],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.complete_in_following(id, &self.folders, follow_ups, now, |tree| {
            Store::write_folder_records(tree, folders, pushed.as_slice())?;
            Ok(true)
        })
    }

    /// The versions whose file is created and whose bytes are still on their way (a `FinishPush`
    /// entry, by its key `folder_finish:<version>`, in any state): planned no second time.
    pub fn versions_in_transfer(&self) -> Result<BTreeSet<WorkfrontDocumentVersionId>, StoreError> {
        self.outbox_keys
            .scan_prefix(FINISH_KEY_PREFIX.as_bytes())
            .map(|kv| {
                let (k, _) = kv?;
                let key = String::from_utf8_lossy(&k).into_owned();
                WorkfrontDocumentVersionId::new(key.trim_start_matches(FINISH_KEY_PREFIX)).map_err(|e| {
                    StoreError::Corrupt {
                        tree: "outbox_keys",
                        key: key.clone(),
                        message: e.to_string(),
                    }
                })
            })
            .collect()
    }

    /// Every folder record (for backups).
    pub fn folder_records(&self) -> Result<Vec<FolderRecord>, StoreError> {
        self.scan("dir/")
    }

    fn get<T: Record>(&self, key: &str) -> Result<Option<T>, StoreError> {
        self.folders
            .get(key.as_bytes())?
            .map(|v| decode("folders", key, &v))
            .transpose()
    }

    fn scan<T: Record>(&self, prefix: &str) -> Result<Vec<T>, StoreError> {
        self.folders
            .scan_prefix(prefix.as_bytes())
            .map(|kv| {
                let (k, v) = kv?;
                decode("folders", &String::from_utf8_lossy(&k), &v)
            })
            .collect()
    }

    /// Writes folder and pushed records into `tree` (inside a transaction: a step's outcome, or a
    /// restore).
    pub(super) fn write_folder_records(
        tree: &sled::transaction::TransactionalTree,
        folders: &[FolderRecord],
        pushed: &[&PushedRecord],
    ) -> TxResult<()> {
        for f in folders {
            tree.insert(dir_key(&f.wf_project, f.sub.as_deref()).as_bytes(), encode(f))?;
        }
        for p in pushed {
            tree.insert(pushed_key(&p.document, &p.version).as_bytes(), encode(p))?;
            for file in std::iter::once(&p.file).chain(&p.placeholders) {
                tree.insert(claim_key(file).as_bytes(), p.version.as_str())?;
            }
        }
        Ok(())
    }
}

fn claim_key(file: &FrameioFileId) -> String {
    format!("claim/{file}")
}
