//! The one-way folder's plan (F7): which Workfront documents go to a mirror's folder, which are
//! skipped (and why, for `status`), and which were pushed before but are gone from Workfront (left
//! in place, reported).
//!
//! Only a project whose status equates with one of `folder.statuses` is planned; the engine
//! reads the documents of those alone. A document version is pushed once: `pushed` holds the
//! versions already in Frame.io, and the outbox key (the version) keeps a second plan of the same
//! version from enqueueing it twice.

use super::mirror_plan::Planned;
use super::model::{Target, WorkfrontDocument};
use crate::effects::{Effect, PushDocument};
use crate::ids::{FrameioProjectId, WorkfrontDocumentId, WorkfrontDocumentVersionId, WorkfrontProjectId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// What `[folder]` says, as plain values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderRules<'a> {
    pub folder: &'a str,
    pub include_tasks: bool,
    pub max_file_size: u64,
}

/// A mirrored project whose status lets its documents go to its folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenProject<'a> {
    pub wf_project: &'a WorkfrontProjectId,
    pub mirror: &'a FrameioProjectId,
    pub target: &'a Target,
}

/// A document left out, and why (`status` shows it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub wf_project: WorkfrontProjectId,
    pub document: WorkfrontDocumentId,
    pub name: String,
    pub reason: String,
}

/// A document pushed before that Workfront no longer has: its Frame.io file stays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removed {
    pub wf_project: WorkfrontProjectId,
    pub document: WorkfrontDocumentId,
    pub name: String,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct FolderPlan {
    pub enqueue: Vec<Planned>,
    pub skipped: Vec<Skipped>,
    pub removed: Vec<Removed>,
}

/// Whether a project status counts: its code, or the system status it equates with (custom
/// statuses), is one of `wanted`.
pub fn status_counts(status: Option<&str>, equates_with: Option<&str>, wanted: &[String]) -> bool {
    let Some(status) = status else { return false };
    wanted
        .iter()
        .any(|w| w.eq_ignore_ascii_case(status) || equates_with.is_some_and(|e| w.eq_ignore_ascii_case(e)))
}

/// The file name a document gets in Frame.io: its version's file name, else its name, without
/// path separators or control characters.
pub fn frameio_name(document: &WorkfrontDocument) -> String {
    let name = document
        .file_name
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or(&document.name);
    let clean: String = name
        .trim()
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .take(255)
        .collect();
    if clean.is_empty() {
        format!("document {}", document.id)
    } else {
        clean
    }
}

/// Plans `project`'s folder: a `PushDocument` for each document whose current version is not in
/// `pushed` yet; `pushed_documents` (document → name, of this project) says which were pushed
/// before, to report those Workfront no longer has.
pub fn plan_folder(
    rules: &FolderRules<'_>,
    project: &OpenProject<'_>,
    documents: &[WorkfrontDocument],
    pushed: &BTreeSet<WorkfrontDocumentVersionId>,
    pushed_documents: &BTreeMap<WorkfrontDocumentId, String>,
) -> FolderPlan {
    let mut plan = FolderPlan::default();
    let skip = |d: &WorkfrontDocument, reason: String| Skipped {
        wf_project: project.wf_project.clone(),
        document: d.id.clone(),
        name: d.name.clone(),
        reason,
    };
    for d in documents {
        if d.from_frameio {
            continue;
        }
        let subfolder = match &d.on {
            Ok(None) => None,
            Ok(Some(_)) if !rules.include_tasks => continue,
            Ok(Some(sub)) => Some(sub.clone()),
            Err(code) => {
                plan.skipped.push(skip(
                    d,
                    format!("attached to a {code}, not the project, a task or an issue"),
                ));
                continue;
            }
        };
        let Some(version) = &d.version else {
            plan.skipped.push(skip(d, "has no current version".into()));
            continue;
        };
        if pushed.contains(version) {
            continue;
        }
        let size = match d.size {
            None => {
                plan.skipped.push(skip(d, "its size (docSize) is unknown".into()));
                continue;
            }
            Some(size) if size > rules.max_file_size => {
                plan.skipped.push(skip(
                    d,
                    format!(
                        "{size} bytes, over folder.max_file_size ({} bytes)",
                        rules.max_file_size
                    ),
                ));
                continue;
            }
            Some(size) => size,
        };
        let file_name = frameio_name(d);
        plan.enqueue.push(Planned {
            reason: format!(
                "Workfront document {:?} (version {version}) is not in the folder yet",
                d.name
            ),
            effect: Effect::PushDocument(PushDocument {
                wf_project: project.wf_project.clone(),
                document: d.id.clone(),
                version: version.clone(),
                mirror: project.mirror.clone(),
                target: project.target.clone(),
                folder: rules.folder.to_owned(),
                subfolder,
                file_name,
                size,
            }),
        });
    }
    let present: BTreeSet<&WorkfrontDocumentId> = documents.iter().map(|d| &d.id).collect();
    plan.removed = pushed_documents
        .iter()
        .filter(|(id, _)| !present.contains(id))
        .map(|(id, name)| Removed {
            wf_project: project.wf_project.clone(),
            document: id.clone(),
            name: name.clone(),
        })
        .collect();
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::{HolderKind, Subfolder};
    use crate::ids::{FrameioAccountId, FrameioWorkspaceId, WorkfrontTaskId};

    fn doc(id: &str, version: Option<&str>, size: Option<u64>) -> WorkfrontDocument {
        WorkfrontDocument {
            id: WorkfrontDocumentId::new(id).unwrap(),
            project: WorkfrontProjectId::new("p1").unwrap(),
            name: format!("{id}.pdf"),
            on: Ok(None),
            version: version.map(|v| WorkfrontDocumentVersionId::new(v).unwrap()),
            file_name: Some(format!("{id}.pdf")),
            size,
            from_frameio: false,
        }
    }

    fn plan(documents: &[WorkfrontDocument], pushed: &[&str], pushed_docs: &[&str], include_tasks: bool) -> FolderPlan {
        let target = Target {
            account: FrameioAccountId::new("a").unwrap(),
            workspace: FrameioWorkspaceId::new("w").unwrap(),
            via: None,
        };
        let wf = WorkfrontProjectId::new("p1").unwrap();
        let mirror = FrameioProjectId::new("f1").unwrap();
        let rules = FolderRules {
            folder: "From Workfront",
            include_tasks,
            max_file_size: 1000,
        };
        plan_folder(
            &rules,
            &OpenProject {
                wf_project: &wf,
                mirror: &mirror,
                target: &target,
            },
            documents,
            &pushed
                .iter()
                .map(|v| WorkfrontDocumentVersionId::new(*v).unwrap())
                .collect(),
            &pushed_docs
                .iter()
                .map(|d| (WorkfrontDocumentId::new(*d).unwrap(), format!("{d}.pdf")))
                .collect(),
        )
    }

    fn pushes(plan: &FolderPlan) -> Vec<String> {
        plan.enqueue
            .iter()
            .map(|p| match &p.effect {
                Effect::PushDocument(p) => format!("{}@{}", p.document, p.version),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn each_current_version_not_pushed_yet_is_pushed_once() {
        let docs = [doc("d1", Some("v1"), Some(10)), doc("d2", Some("v2"), Some(20))];
        assert_eq!(pushes(&plan(&docs, &[], &[], false)), ["d1@v1", "d2@v2"]);
        assert_eq!(pushes(&plan(&docs, &["v1"], &["d1"], false)), ["d2@v2"]);
        assert!(plan(&docs, &["v1", "v2"], &["d1", "d2"], false).enqueue.is_empty());
    }

    #[test]
    fn a_new_version_of_a_pushed_document_is_pushed() {
        let docs = [doc("d1", Some("v9"), Some(10))];
        let p = plan(&docs, &["v1"], &["d1"], false);
        assert_eq!(pushes(&p), ["d1@v9"]);
        assert!(p.removed.is_empty());
    }

    #[test]
    fn documents_from_frameio_are_never_copied_back_and_others_are_skipped_with_a_reason() {
        let mut from_frameio = doc("d1", Some("v1"), Some(10));
        from_frameio.from_frameio = true;
        let big = doc("d2", Some("v2"), Some(1001));
        let no_size = doc("d3", Some("v3"), None);
        let versionless = doc("d4", None, Some(1));
        let mut on_portfolio = doc("d5", Some("v5"), Some(1));
        on_portfolio.on = Err("PORT".into());
        let p = plan(
            &[from_frameio, big, no_size, versionless, on_portfolio],
            &[],
            &[],
            false,
        );
        assert!(p.enqueue.is_empty());
        let reasons: Vec<(&str, &str)> = p
            .skipped
            .iter()
            .map(|s| (s.document.as_str(), s.reason.as_str()))
            .collect();
        assert_eq!(
            reasons,
            [
                ("d2", "1001 bytes, over folder.max_file_size (1000 bytes)"),
                ("d3", "its size (docSize) is unknown"),
                ("d4", "has no current version"),
                ("d5", "attached to a PORT, not the project, a task or an issue"),
            ]
        );
    }

    #[test]
    fn task_documents_go_to_a_subfolder_only_when_asked() {
        let mut on_task = doc("d1", Some("v1"), Some(10));
        let sub = Subfolder {
            obj_code: HolderKind::Task,
            id: WorkfrontTaskId::new("t1").unwrap(),
            name: "Storyboard".into(),
        };
        on_task.on = Ok(Some(sub.clone()));
        assert!(plan(std::slice::from_ref(&on_task), &[], &[], false).enqueue.is_empty());
        let p = plan(&[on_task], &[], &[], true);
        let Effect::PushDocument(push) = &p.enqueue[0].effect else {
            panic!()
        };
        assert_eq!(push.subfolder, Some(sub));
    }

    #[test]
    fn a_pushed_document_gone_from_workfront_is_reported_not_planned() {
        let p = plan(&[doc("d1", Some("v1"), Some(10))], &["v1", "v7"], &["d1", "d7"], false);
        assert!(p.enqueue.is_empty());
        assert_eq!(p.removed.len(), 1);
        assert_eq!(p.removed[0].document.as_str(), "d7");
    }

    #[test]
    fn custom_statuses_count_through_the_status_they_equate_with() {
        let wanted = vec!["CUR".to_owned()];
        assert!(status_counts(Some("CUR"), None, &wanted));
        assert!(status_counts(Some("WSX"), Some("CUR"), &wanted));
        assert!(!status_counts(Some("JHY"), Some("PLN"), &wanted));
        assert!(!status_counts(Some("PLN"), None, &wanted));
        assert!(!status_counts(None, None, &wanted));
    }

    #[test]
    fn frameio_names_have_no_path_separators() {
        let mut d = doc("d1", Some("v1"), Some(1));
        d.file_name = Some("brief/v2\\final.pdf".into());
        assert_eq!(frameio_name(&d), "brief_v2_final.pdf");
        d.file_name = None;
        d.name = "  ".into();
        assert_eq!(frameio_name(&d), "document d1");
    }
}
