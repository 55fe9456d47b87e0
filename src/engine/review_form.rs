//! The click on "Send to Workfront for review": answered at once with a form (where it goes — the
//! mirrored project or one of its open tasks — and a message to the approvers), from what the
//! store and the sync's task list know; nothing is asked of Workfront or Frame.io in Frame.io's
//! 5 s. The click is remembered until its form comes back (the documentation shows a submit
//! without the click's fields), in memory: a restart in between asks the user to click again.

use super::Engine;
use crate::core::model::WorkfrontObject;
use crate::frameio::actions::{target_value, ActionInvocation, FormAnswer, FormField, SelectOption};
use crate::store::StoreError;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a click waits for its form to be submitted.
const CLICK_LIFETIME: Duration = Duration::from_secs(60 * 60);
/// The most clicks remembered at once (the oldest are forgotten first).
const MAX_CLICKS: usize = 10_000;
/// The most tasks a form offers (Frame.io documents no limit; a longer list is no use to a person).
pub const MAX_TASK_OPTIONS: usize = 200;

/// The click's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewForm {
    /// Where it may go, and the message field.
    Offer(FormAnswer),
    /// Nothing can be sent from here, and why.
    Refused { reason: String },
}

/// Clicks whose form is not back yet, by interaction.
#[derive(Default)]
pub(crate) struct Clicks {
    inner: Mutex<HashMap<String, (Instant, ActionInvocation)>>,
}

impl Clicks {
    fn remember(&self, click: &ActionInvocation) {
        let mut clicks = self.inner.lock().expect("clicks lock");
        clicks.retain(|_, (at, _)| at.elapsed() < CLICK_LIFETIME);
        if clicks.len() >= MAX_CLICKS {
            if let Some(oldest) = clicks.iter().min_by_key(|(_, (at, _))| *at).map(|(k, _)| k.clone()) {
                clicks.remove(&oldest);
            }
        }
        clicks.insert(click.interaction_id.clone(), (Instant::now(), click.clone()));
    }

    fn get(&self, interaction: &str) -> Option<ActionInvocation> {
        let clicks = self.inner.lock().expect("clicks lock");
        clicks
            .get(interaction)
            .filter(|(at, _)| at.elapsed() < CLICK_LIFETIME)
            .map(|(_, click)| click.clone())
    }
}

impl Engine {
    /// The form for a click (a folder, or a project that is no mirror, is refused at once).
    pub fn review_form(&self, click: &ActionInvocation) -> Result<ReviewForm, StoreError> {
        if click.resource_type == "folder" {
            return Ok(ReviewForm::Refused {
                reason: "A folder cannot be sent for review: select the files in it and send them.".into(),
            });
        }
        let Some(mirror) = self.store.mirror_of_frameio_project(&click.project)? else {
            return Ok(ReviewForm::Refused {
                reason: "This Frame.io project is not the mirror of a Workfront project, so there is no Workfront project to send it to.".into(),
            });
        };
        let project = WorkfrontObject::Project(mirror.wf_project.clone());
        let mut options = vec![SelectOption {
            name: format!("Project: {}", mirror.name),
            value: target_value(&project),
        }];
        let tasks = self.open_tasks.of(&mirror.wf_project);
        let more = tasks.len().saturating_sub(MAX_TASK_OPTIONS);
        options.extend(tasks.into_iter().take(MAX_TASK_OPTIONS).map(|(id, name)| SelectOption {
            name: format!("Task: {name}"),
            value: target_value(&WorkfrontObject::Task(id)),
        }));
        let mut description = format!(
            "Choose where in Workfront project {} the file goes for review: the project itself, or one of its open tasks.",
            mirror.name
        );
        if more > 0 {
            description.push_str(&format!(
                " ({more} more open tasks are not listed: send to the project instead.)"
            ));
        }
        self.clicks.remember(click);
        Ok(ReviewForm::Offer(FormAnswer {
            title: "Send to Workfront for review".into(),
            description,
            fields: vec![
                FormField::Select {
                    label: "Send to".into(),
                    name: "target".into(),
                    value: target_value(&project),
                    options,
                },
                FormField::Textarea {
                    label: "Message to the approvers (optional)".into(),
                    name: "message".into(),
                    value: String::new(),
                },
            ],
        }))
    }

    /// The click a submitted form belongs to, if it is remembered.
    pub fn clicked(&self, interaction: &str) -> Option<ActionInvocation> {
        self.clicks.get(interaction)
    }
}
