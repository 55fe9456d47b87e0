//! F6: a Frame.io user sends an asset to Workfront for review. The request side resolves who and
//! where and asks the access rules; the worker side writes the document and the note, each found
//! again before it is created (a lost answer never makes a second one).

use super::Engine;
use crate::core::access::may_submit_asset;
use crate::core::mirror_plan::Planned;
use crate::core::model::{Credential, WorkfrontObject};
use crate::effects::{AddDocument, AddNote, Effect, ReviewFile};
use crate::frameio::actions::ActionInvocation;
use crate::ids::{FrameioAccountId, FrameioFileId, FrameioUserId};
use crate::retry::{Classify, ErrorClass};
use crate::store::{Recording, StoreError};
use crate::workfront::access::AccessFetchError;

/// What the user is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submission {
    /// Recorded (or recorded before: a redelivery); where it went, in words
    /// (`Workfront project <name>`, `task <name> of Workfront project <name>`).
    Sent { to: String },
    /// Not sent, and why, in words.
    Refused { reason: String },
}

impl Engine {
    /// Resolves the click (mirror → Workfront project, Frame.io user → email → Workfront user)
    /// and the chosen `target` (the project when `None`), asks the F6 gate for that object, and
    /// when it allows, records the document and the note in one transaction and flushes. Errors
    /// are transient problems (Workfront or Frame.io not answering): nothing was recorded, and the
    /// user may try again.
    pub async fn submit_asset(
        &self,
        action: &ActionInvocation,
        target: Option<&WorkfrontObject>,
        message: Option<&str>,
    ) -> anyhow::Result<Submission> {
        let refuse = |reason: String| Ok(Submission::Refused { reason });
        if action.resource_type == "folder" {
            return refuse("A folder cannot be sent for review: select the files in it and send them.".into());
        }
        let Some(mirror) = self.store.mirror_of_frameio_project(&action.project)? else {
            return refuse("This Frame.io project is not the mirror of a Workfront project, so there is no Workfront project to send it to.".into());
        };
        if let Some(WorkfrontObject::Project(chosen)) = target {
            if *chosen != mirror.wf_project {
                return refuse(format!(
                    "Workfront project {chosen} is not the one this Frame.io project mirrors ({}); choose again.",
                    mirror.wf_project
                ));
            }
        }
        let Some(email) = self
            .email_of(&action.account, &action.user, &mirror.target.credential())
            .await?
        else {
            return refuse(format!(
                "Your Frame.io user is not in account {}'s user list, so your Workfront user cannot be found.",
                action.account
            ));
        };
        let wf_user = self
            .known_users()
            .values()
            .find(|u| {
                u.email
                    .as_deref()
                    .is_some_and(|e| e.trim().eq_ignore_ascii_case(&email))
            })
            .cloned();
        let Some(wf_user) = wf_user else {
            return refuse(format!("There is no Workfront user with the email address {email}."));
        };
        // Workfront not answering is worth a retry; anything else it says is the answer.
        let task = match target {
            Some(WorkfrontObject::Task(task)) => Some(task),
            _ => None,
        };
        let fetched = async {
            let subject = self.access.subject(&wf_user.id, &self.flag_field).await?;
            let object = match task {
                Some(task) => Some(self.access.task(task).await?),
                None => None,
            };
            let project = self.access.project(&mirror.wf_project).await?;
            Ok::<_, AccessFetchError>((subject, object, project))
        }
        .await;
        let (subject, task_object, project) = match fetched {
            Ok(all) => all,
            Err(AccessFetchError::Workfront(err)) if err.class() == ErrorClass::Transient => return Err(err.into()),
            Err(err) => return refuse(format!("Not sent: {err}.")),
        };
        let (gated, to) = match (&task_object, task) {
            (Some(found), Some(task)) => {
                if found.project != mirror.wf_project {
                    return refuse(format!(
                        "Workfront task {task} is in project {}, not in the one this Frame.io project mirrors ({}).",
                        found.project, mirror.wf_project
                    ));
                }
                if found.complete {
                    return refuse(format!(
                        "Workfront task {:?} is complete; choose another task or the project.",
                        found.object.name
                    ));
                }
                (
                    &found.object,
                    format!("task {} of Workfront project {}", found.object.name, mirror.name),
                )
            }
            _ => (&project, format!("Workfront project {}", mirror.name)),
        };
        let decision = may_submit_asset(&subject, gated);
        if !decision.allowed {
            tracing::info!(
                wf_user = %wf_user.id, wf_project = %mirror.wf_project, task = ?task, rule = ?decision.rule,
                interaction = %action.interaction_id, "asset submission refused by the access rules"
            );
            return refuse(format!("Not sent: {}", decision.explanation));
        }
        let client = self
            .client(&mirror.target.credential())
            .ok_or_else(|| anyhow::anyhow!("no Frame.io credential reaches account {}", mirror.target.account))?;
        // A version stack's payload names its head file; should it name the stack itself, the
        // stack's head is the file sent.
        let file = match client.file(&action.account, &action.resource_id).await {
            Err(err) if err.status() == Some(404) && action.resource_type == "version_stack" => {
                client.version_stack(&action.account, &action.resource_id).await?.head
            }
            file => file?,
        };
        let Ok(file_id) = FrameioFileId::new(file.id.clone()) else {
            return refuse(format!(
                "Frame.io named the file with an id that cannot be used ({:?}).",
                file.id
            ));
        };
        let asset_url = file
            .view_url
            .clone()
            .unwrap_or_else(|| format!("https://next.frame.io/project/{}/view/{}", action.project, file.id));
        let user_name = if wf_user.name.is_empty() {
            email.clone()
        } else {
            wf_user.name.clone()
        };
        let document = Planned {
            effect: Effect::AddDocument(AddDocument {
                interaction: action.interaction_id.clone(),
                wf_project: mirror.wf_project.clone(),
                wf_user: wf_user.id.clone(),
                user_name: user_name.clone(),
                asset_name: file.name.clone(),
                asset_url: asset_url.clone(),
                file: Some(ReviewFile {
                    id: file_id.clone(),
                    target: mirror.target.clone(),
                    mirror: Some(mirror.frameio_project.clone()),
                }),
                task: task.cloned(),
                message: message.map(str::to_owned),
            }),
            reason: format!("{user_name} sent {:?} from Frame.io for review", file.name),
        };
        let message_line = message.map(|m| format!("\nMessage: {m}")).unwrap_or_default();
        let note = Planned {
            effect: Effect::AddNote(AddNote {
                interaction: action.interaction_id.clone(),
                wf_project: mirror.wf_project.clone(),
                wf_user: wf_user.id.clone(),
                user_name: user_name.clone(),
                asset_name: file.name.clone(),
                text: format!(
                    "{user_name} sent \"{}\" from Frame.io for review: {asset_url} (ref {}) {}{message_line}",
                    file.name,
                    action.interaction_id,
                    AddNote::file_marker(&file_id)
                ),
                file: Some(file_id.clone()),
                task: task.cloned(),
            }),
            reason: format!("{user_name} sent {:?} from Frame.io for review", file.name),
        };
        let recording = Recording {
            enqueue: vec![&document, &note],
            ..Recording::default()
        };
        let recorded = self.store.record_plan(&recording, self.clock.now())?;
        self.store.flush().await?;
        if recorded.enqueued > 0 {
            self.work_ready.notify_one();
        }
        tracing::info!(
            wf_user = %wf_user.id, wf_project = %mirror.wf_project, asset = %file.name,
            interaction = %action.interaction_id, new = recorded.enqueued > 0, "asset submission accepted"
        );
        Ok(Submission::Sent { to })
    }

    /// The email of a Frame.io user, from the account's directory (read again if it does not know
    /// them and may be refreshed).
    async fn email_of(
        &self,
        account: &FrameioAccountId,
        user: &FrameioUserId,
        credential: &Credential,
    ) -> Result<Option<String>, StoreError> {
        let lookup = || self.directories.email_of(account, user);
        if let Some(email) = lookup() {
            return Ok(Some(email));
        }
        if self.directory_due(account) {
            self.refresh_directory(account, credential).await?;
        }
        Ok(lookup())
    }
}
