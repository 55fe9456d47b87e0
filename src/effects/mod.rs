//! Effects: one module per kind, each owning its payload (persisted inside outbox entries), what
//! it is ([`Kind`]: key, description, lane, pacing) and how it is carried out (`carry_out`:
//! look first, send with a `SendPermit`, return an [`Outcome`]). [`Effect`] is the persisted
//! envelope; [`Engine::carry_out`] dispatches to the kind and settles the outcome: the outcome
//! and the records it produces in one store transaction, made durable by the next flush (see
//! `settle`).
//!
//! A kind's `carry_out` decides, and sends; it never writes to the store. The one store write
//! before a send that may act is the in-flight mark, through [`Engine::permit_to_send`], which
//! returns once the mark is durable: a crash after it leads the next attempt to look first.
//!
//! The payloads are plain data: the core's plans build them and import nothing else from here.
//! Adding a kind: a module here (payload, `impl Kind`, `carry_out`), its variant in [`Effect`] with
//! its arms in [`Effect::kind`], [`Effect::name`] and [`Engine::carry_out`], its client call, its
//! sandbox route (see ARCHITECTURE.md).

mod add_collaborator;
mod add_document;
mod add_note;
mod copy_comment;
mod create_mirror;
mod finish_push;
mod push_document;
mod remove_collaborator;
mod rename_mirror;
mod request_approval;
mod show_review;
mod write_link;

pub use add_collaborator::AddCollaborator;
pub use add_document::{AddDocument, ReviewFile};
pub use add_note::AddNote;
pub use copy_comment::CopyComment;
pub use create_mirror::CreateMirror;
pub use finish_push::{FinishPush, PartAddress};
pub use push_document::PushDocument;
pub use remove_collaborator::RemoveCollaborator;
pub use rename_mirror::RenameMirror;
pub(crate) use request_approval::legacy_since;
pub use request_approval::RequestApproval;
pub use show_review::{ShowItem, ShowReview};
pub use write_link::WriteLink;

use crate::core::collaborator_plan::Pair;
use crate::core::mirror_plan::Planned;
use crate::core::model::{Credential, Lane, RateClass};
use crate::core::review::ReviewState;
use crate::engine::Engine;
use crate::exchange::Exchange;
use crate::frameio::{FrameioClient, FrameioError};
use crate::ids::{FrameioUserId, OutboxId, WorkfrontDocumentVersionId, WorkfrontProjectId};
use crate::retry::{outbox_delay, Classify, ErrorClass};
use crate::store::{
    Arrival, CollaboratorRecord, MirrorChange, MirrorRecord, OutboxEntry, ParkCause, SendPermit, StoreError,
    SubmissionRecord,
};
use crate::timestamp::Timestamp;
use crate::workfront::WorkfrontError;
use serde::{Deserialize, Serialize};

/// A side effect on Frame.io or Workfront, as the outbox persists it: `{"kind": "<snake_case
/// name>", ...the payload's fields}`. A payload's fields may be added to only with
/// `#[serde(default)]`: state dirs written by earlier releases must keep reading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Effect {
    CreateMirror(CreateMirror),
    AddCollaborator(AddCollaborator),
    RemoveCollaborator(RemoveCollaborator),
    AddDocument(AddDocument),
    AddNote(AddNote),
    RenameMirror(RenameMirror),
    WriteLink(WriteLink),
    RequestApproval(RequestApproval),
    ShowReview(ShowReview),
    CopyComment(CopyComment),
    PushDocument(PushDocument),
    FinishPush(FinishPush),
}

/// What an effect is, apart from how it is carried out. Plain functions of the payload.
pub trait Kind {
    /// The deduplication key: at most one outbox entry exists per key, so planning the same
    /// effect twice (a second sync, a restart) enqueues it once.
    fn key(&self) -> String;
    /// One line for logs, `status` and `outbox list`.
    fn describe(&self) -> String;
    /// Where the effect waits its turn: Frame.io limits each credential on its own, so each has
    /// a lane, and one lane's throttling or outage never slows another; Workfront's writes share
    /// one.
    fn lane(&self) -> Lane;
    /// The Frame.io rate limit its request is paced by: the worker does not pick it while its
    /// credential's limit says wait.
    fn paced_by(&self) -> Option<RateClass> {
        None
    }
    /// The Workfront project it concerns, if one: `status` and `outbox list` link to it.
    fn wf_project(&self) -> Option<&WorkfrontProjectId> {
        None
    }
}

impl Effect {
    /// The payload, as what it is.
    pub fn kind(&self) -> &dyn Kind {
        match self {
            Effect::CreateMirror(e) => e,
            Effect::AddCollaborator(e) => e,
            Effect::RemoveCollaborator(e) => e,
            Effect::AddDocument(e) => e,
            Effect::AddNote(e) => e,
            Effect::RenameMirror(e) => e,
            Effect::WriteLink(e) => e,
            Effect::RequestApproval(e) => e,
            Effect::ShowReview(e) => e,
            Effect::CopyComment(e) => e,
            Effect::PushDocument(e) => e,
            Effect::FinishPush(e) => e,
        }
    }

    /// The kind's name, as persisted (`"kind"`) and as a metric label.
    pub fn name(&self) -> &'static str {
        match self {
            Effect::CreateMirror(_) => "create_mirror",
            Effect::AddCollaborator(_) => "add_collaborator",
            Effect::RemoveCollaborator(_) => "remove_collaborator",
            Effect::AddDocument(_) => "add_document",
            Effect::AddNote(_) => "add_note",
            Effect::RenameMirror(_) => "rename_mirror",
            Effect::WriteLink(_) => "write_link",
            Effect::RequestApproval(_) => "request_approval",
            Effect::ShowReview(_) => "show_review",
            Effect::CopyComment(_) => "copy_comment",
            Effect::PushDocument(_) => "push_document",
            Effect::FinishPush(_) => "finish_push",
        }
    }

    /// See [`Kind::key`].
    pub fn key(&self) -> String {
        self.kind().key()
    }

    /// See [`Kind::describe`].
    pub fn describe(&self) -> String {
        self.kind().describe()
    }

    /// See [`Kind::lane`].
    pub fn lane(&self) -> Lane {
        self.kind().lane()
    }

    /// See [`Kind::wf_project`].
    pub fn wf_project(&self) -> Option<&WorkfrontProjectId> {
        self.kind().wf_project()
    }

    /// The Frame.io credential the effect's requests use, once it has one.
    pub fn credential(&self) -> Option<Credential> {
        match self.lane() {
            Lane::Frameio(credential) => Some(credential),
            Lane::Workfront | Lane::Unrouted => None,
        }
    }

    /// The key of `wf_project`'s mirror create.
    pub fn mirror_key(wf_project: &WorkfrontProjectId) -> String {
        format!("create_mirror:{wf_project}")
    }
}

/// What carrying out an entry came to.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Done: the entry leaves the outbox, with what it produced.
    Done(Produced),
    /// Not done: try again at `at`. `outcome_known`: the server provably did nothing, so the
    /// in-flight mark is cleared; otherwise the next attempt looks first.
    Retry {
        at: Timestamp,
        error: String,
        outcome_known: bool,
    },
    /// Waits for something an admin (or a later sync) does; the reason says what.
    Park { reason: String, cause: ParkCause },
    /// Refused for good: kept with the refused request and its answer.
    DeadLetter { reason: String, exchange: Option<Exchange> },
}

/// Which Frame.io request failed: what the entry's in-flight mark becomes depends on it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Failed {
    /// A read that looks before sending.
    Looking,
    /// A request that may act: its outcome is known only if the client says it cannot have acted.
    Sending,
    /// A request that may be repeated safely (DELETE): the mark is not needed.
    Idempotent,
}

/// The records a done entry produces, written in the transaction that removes it.
#[derive(Debug)]
pub(crate) enum Produced {
    Nothing,
    Mirror(MirrorRecord),
    Collaborator {
        base: CollaboratorRecord,
        frameio_user: FrameioUserId,
        arrival: Arrival,
    },
    Removal {
        pair: Pair,
        removed: Vec<FrameioUserId>,
    },
    /// A change to a recorded mirror (its name, its link).
    MirrorChange {
        wf_project: WorkfrontProjectId,
        change: MirrorChange,
    },
    /// A document version delivered for review, and what follows it (its approval request).
    Submission {
        record: Box<SubmissionRecord>,
        follow_ups: Vec<Planned>,
    },
    /// The review states now shown on the Frame.io files of these versions.
    ReviewsShown(Vec<(WorkfrontDocumentVersionId, ReviewState)>),
    /// A Frame.io comment copied to the version's document.
    CommentCopied {
        version: WorkfrontDocumentVersionId,
        comment: String,
    },
    /// A step of the one-way folder: the folders it made or found, the version whose file is
    /// whole (the last step), and the step that follows.
    FolderStep {
        folders: Vec<crate::store::FolderRecord>,
        pushed: Option<Box<crate::store::PushedRecord>>,
        follow_ups: Vec<Planned>,
    },
}

impl Engine {
    /// Carries out `entry` (picked by `Engine::next_work`) and settles what came of it, without a
    /// flush of its own (see `settle`). Errors are store errors only.
    pub(crate) async fn carry_out(&self, entry: &OutboxEntry) -> Result<(), StoreError> {
        let outcome = match &entry.effect {
            Effect::CreateMirror(e) => create_mirror::carry_out(self, entry, e).await?,
            Effect::AddCollaborator(e) => add_collaborator::carry_out(self, entry, e).await?,
            Effect::RemoveCollaborator(e) => remove_collaborator::carry_out(self, entry, e).await?,
            Effect::AddDocument(e) => add_document::carry_out(self, entry, e).await?,
            Effect::AddNote(e) => add_note::carry_out(self, entry, e).await?,
            Effect::RenameMirror(e) => rename_mirror::carry_out(self, entry, e).await?,
            Effect::WriteLink(e) => write_link::carry_out(self, entry, e).await?,
            Effect::RequestApproval(e) => request_approval::carry_out(self, entry, e).await?,
            Effect::ShowReview(e) => show_review::carry_out(self, entry, e).await?,
            Effect::CopyComment(e) => copy_comment::carry_out(self, entry, e).await?,
            Effect::PushDocument(e) => push_document::carry_out(self, entry, e).await?,
            Effect::FinishPush(e) => finish_push::carry_out(self, entry, e).await?,
        };
        self.settle(entry, outcome).await
    }

    /// Records `outcome` for `entry`, in one transaction.
    async fn settle(&self, entry: &OutboxEntry, outcome: Outcome) -> Result<(), StoreError> {
        let id = entry.id;
        let since_enqueued = || Some(entry.created_at.until(self.clock.now()));
        let (label, latency) = match &outcome {
            Outcome::Done(_) => ("done", since_enqueued()),
            Outcome::Retry { .. } => ("retry", None),
            Outcome::Park { .. } => ("parked", None),
            Outcome::DeadLetter { .. } => ("dead", since_enqueued()),
        };
        self.metrics.effect(entry.effect.name(), label, latency);
        let mut new_mirror = None;
        match outcome {
            Outcome::Done(Produced::Nothing) => self.store.complete(id)?,
            Outcome::Done(Produced::Mirror(record)) => {
                if self.store.complete_with_mirror(id, &record)? {
                    self.listings.claim(&record.frameio_project);
                    new_mirror = Some(record.wf_project);
                } else {
                    tracing::error!(
                        wf_project = %record.wf_project, frameio_project = %record.frameio_project,
                        "a mirror was already recorded; the new project is not ours to keep and is left alone"
                    );
                }
            }
            Outcome::Done(Produced::Collaborator {
                base,
                frameio_user,
                arrival,
            }) => self
                .store
                .complete_with_collaborator(id, &base, &frameio_user, arrival)?,
            Outcome::Done(Produced::Removal { pair, removed }) => self.store.complete_removal(id, &pair, &removed)?,
            Outcome::Done(Produced::MirrorChange { wf_project, change }) => {
                if !self.store.complete_with_mirror_change(id, &wf_project, &change)? {
                    tracing::warn!(%wf_project, ?change, "the mirror's record is gone; the change is not recorded");
                }
            }
            Outcome::Done(Produced::Submission { record, follow_ups }) => {
                self.store
                    .complete_with_submission(id, &record, &follow_ups, self.clock.now())?
            }
            Outcome::Done(Produced::ReviewsShown(shown)) => self.store.complete_with_shown(id, &shown)?,
            Outcome::Done(Produced::CommentCopied { version, comment }) => {
                self.store.complete_with_copied_comment(id, &version, &comment)?
            }
            Outcome::Done(Produced::FolderStep {
                folders,
                pushed,
                follow_ups,
            }) => {
                self.store
                    .complete_with_folder_step(id, &folders, pushed.as_deref(), &follow_ups, self.clock.now())?
            }
            Outcome::Retry {
                at,
                error,
                outcome_known,
            } => self.store.reschedule(id, &error, at, outcome_known)?,
            Outcome::Park { reason, cause } => {
                tracing::warn!(outbox_id = %id, effect = %entry.effect.describe(), %reason, "parked");
                self.store.park(id, &reason, cause)?
            }
            Outcome::DeadLetter { reason, exchange } => {
                tracing::error!(outbox_id = %id, effect = %entry.effect.describe(), %reason, "dead letter");
                self.store.bury(id, &reason, self.clock.now(), exchange)?
            }
        }
        // Not flushed here: the next flush covers it — the next entry's in-flight mark, or the
        // worker's own 20 ms after the last settle no mark covered (`daemon::worker_loop`). If
        // power fails or the process is killed first, the entry is found in flight again and its
        // kind looks first, finding what this attempt did: so one fsync per settled effect (its
        // in-flight mark), fewer when concurrent marks share one.
        if let Some(wf_project) = new_mirror {
            self.collaborators_after_mirror(&wf_project).await;
            // A new mirror's one-way folder need not wait for the next poll.
            self.folder_soon();
        }
        Ok(())
    }

    /// Marks `entry` in flight and returns once the mark is durable.
    async fn permit_to_send(&self, entry: &OutboxEntry) -> Result<SendPermit, StoreError> {
        self.store.in_flight_durably(entry.id, self.clock.now()).await
    }

    /// The client for `credential`, or the parking that says what to do about it: Frame.io
    /// refuses the credential, or there is none (a removed connection, an unreadable token file).
    fn client_for(&self, credential: &Credential) -> Result<FrameioClient, Box<Outcome>> {
        if self.is_refused(credential) {
            let reason = match credential {
                Credential::Group(g) => format!(
                    "Frame.io refuses the credential of group {g}'s connection; run `frameio-sync connect-group --group {g}` with a new one"
                ),
                Credential::Default => {
                    "Frame.io refuses the default account's credential; fix [frameio.default] and restart".to_owned()
                }
            };
            let cause = ParkCause::CredentialRefused {
                credential: credential.clone(),
            };
            return Err(Box::new(Outcome::Park { reason, cause }));
        }
        // A later sync routes the project again, to the nearest connected ancestor or the default.
        self.client(credential).ok_or_else(|| {
            let reason = match credential {
                Credential::Group(g) => format!(
                    "group {g} has no connection with a usable credential (disconnected, or its token file is unreadable); connect it again, or run a full resync (systemctl reload frameio-sync) to route the project elsewhere"
                ),
                Credential::Default => "[frameio.default] has no usable credential".to_owned(),
            };
            Box::new(Outcome::Park {
                reason,
                cause: ParkCause::Unroutable,
            })
        })
    }

    /// What a failed Frame.io request comes to. Transient failures are retried on the policy's
    /// schedule (never given up); a refused connection token parks the entry (and marks the
    /// connection broken) until `connect-group` stores a new one; a refused default token is
    /// retried at least a minute apart; other refusals become dead letters.
    fn frameio_failed(
        &self,
        entry: &OutboxEntry,
        credential: &Credential,
        err: &FrameioError,
        failed: Failed,
    ) -> Result<Outcome, StoreError> {
        let outcome_known = match failed {
            // The in-flight mark of an earlier attempt stays: the look is not over.
            Failed::Looking => false,
            Failed::Sending => !err.may_have_acted(),
            Failed::Idempotent => true,
        };
        if matches!(err, FrameioError::RateLimited { .. }) {
            self.metrics.rate_limited(credential.label());
        }
        Ok(match (err.class(), credential) {
            (ErrorClass::Auth, Credential::Group(group)) => {
                tracing::error!(outbox_id = %entry.id, %group, error = %err, "Frame.io refused the connection's token");
                self.refuse(credential, &err.to_string())?;
                Outcome::Park {
                    reason: format!("{err}; run connect-group --group {group} with a new token"),
                    cause: ParkCause::CredentialRefused {
                        credential: credential.clone(),
                    },
                }
            }
            (class @ (ErrorClass::Transient | ErrorClass::Auth), _) => {
                let wait = outbox_delay(entry.attempts + 1, class, err.retry_after());
                if class == ErrorClass::Auth {
                    tracing::error!(outbox_id = %entry.id, error = %err, retry_in_s = wait.as_secs(), "Frame.io refused the credential");
                } else {
                    tracing::warn!(outbox_id = %entry.id, error = %err, retry_in_ms = wait.as_millis() as u64, outcome_known, "attempt failed");
                }
                Outcome::Retry {
                    at: self.clock.now().saturating_add(wait),
                    error: err.to_string(),
                    outcome_known,
                }
            }
            (ErrorClass::Permanent, _) => Outcome::DeadLetter {
                reason: dead_letter_reason(err, entry.id),
                exchange: err.exchange(),
            },
        })
    }
}

/// What a failed Workfront write comes to: transient failures (and refusals of the key, which an
/// admin fixes) are retried on the policy's schedule; anything else is a dead letter. The
/// in-flight mark stays: the next attempt looks before it writes.
fn workfront_failed(entry: &OutboxEntry, err: &WorkfrontError, now: Timestamp) -> Outcome {
    match err.class() {
        class @ (ErrorClass::Transient | ErrorClass::Auth) => {
            let wait = outbox_delay(entry.attempts + 1, class, None);
            tracing::warn!(outbox_id = %entry.id, error = %err, retry_in_ms = wait.as_millis() as u64, "Workfront write failed");
            Outcome::Retry {
                at: now.saturating_add(wait),
                error: err.to_string(),
                outcome_known: false,
            }
        }
        ErrorClass::Permanent => Outcome::DeadLetter {
            reason: dead_letter_reason(err, entry.id),
            exchange: err.exchange(),
        },
    }
}

/// A dead letter's reason: what was refused, and what the admin can do about it.
pub(crate) fn dead_letter_reason(err: &dyn std::fmt::Display, id: OutboxId) -> String {
    format!(
        "{err}; fix the cause, then `frameio-sync outbox retry {id}`, or `frameio-sync outbox drop {id}` to give it up"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Entries as the release before per-kind payloads wrote them (one struct-like enum): the
    /// newtype variants must read them, and write them back the same.
    #[test]
    fn effects_written_by_the_previous_release_read_and_write_back_the_same() {
        let target = r#"{"account":"acc","workspace":"ws","via":"g1"}"#;
        let written = [
            format!(r#"{{"kind":"create_mirror","wf_project":"p1","name":"Spring","target":{target}}}"#),
            r#"{"kind":"create_mirror","wf_project":"p1","name":"Spring","target":null}"#.to_owned(),
            format!(
                r#"{{"kind":"add_collaborator","wf_project":"p1","wf_user":"u1","email":"a@x","frameio_project":"f1","target":{target},"frameio_user":"fu1","role":{{"fixed":"editor"}}}}"#
            ),
            format!(
                r#"{{"kind":"add_collaborator","wf_project":"p1","wf_user":"u1","email":"a@x","frameio_project":"f1","target":{target},"frameio_user":null,"role":"from_access"}}"#
            ),
            format!(
                r#"{{"kind":"remove_collaborator","wf_project":"p1","wf_user":"u1","email":"a@x","frameio_project":"f1","target":{target},"frameio_users":["fu1","fu2"]}}"#
            ),
            r#"{"kind":"add_document","interaction":"i1","wf_project":"p1","wf_user":"u1","user_name":"Ann","asset_name":"cut.mov","asset_url":"https://next.frame.io/x"}"#.to_owned(),
            r#"{"kind":"add_note","interaction":"i1","wf_project":"p1","wf_user":"u1","user_name":"Ann","asset_name":"cut.mov","text":"Ann sent cut.mov (ref i1)"}"#.to_owned(),
        ];
        let mut kinds = std::collections::HashSet::new();
        for json in &written {
            let effect: Effect = serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"));
            let back: serde_json::Value = serde_json::to_value(&effect).unwrap();
            assert_eq!(back, serde_json::from_str::<serde_json::Value>(json).unwrap());
            kinds.insert(std::mem::discriminant(&effect));
        }
        assert_eq!(kinds.len(), 5, "every kind is covered");
    }

    #[test]
    fn each_kind_is_named_as_it_is_persisted() {
        let note: Effect = serde_json::from_str(
            r#"{"kind":"add_note","interaction":"i1","wf_project":"p1","wf_user":"u1","user_name":"Ann","asset_name":"a","text":"t"}"#,
        )
        .unwrap();
        assert_eq!(note.name(), "add_note");
        let create = Effect::CreateMirror(CreateMirror {
            wf_project: WorkfrontProjectId::new("p1").unwrap(),
            name: "Spring".into(),
            target: None,
            linked: None,
        });
        let json = serde_json::to_value(&create).unwrap();
        assert_eq!(json["kind"], create.name());
    }

    #[test]
    fn keys_lanes_and_pacing_come_from_the_kind() {
        let target: crate::core::model::Target =
            serde_json::from_str(r#"{"account":"acc","workspace":"ws","via":"g1"}"#).unwrap();
        let create = Effect::CreateMirror(CreateMirror {
            wf_project: WorkfrontProjectId::new("p1").unwrap(),
            name: "Spring".into(),
            target: Some(target.clone()),
            linked: None,
        });
        assert_eq!(create.key(), "create_mirror:p1");
        assert_eq!(create.lane(), Lane::Frameio(target.credential()));
        assert_eq!(create.kind().paced_by(), Some(RateClass::CreateProject));
        let unrouted = Effect::CreateMirror(CreateMirror {
            target: None,
            ..match create {
                Effect::CreateMirror(c) => c,
                _ => unreachable!(),
            }
        });
        assert_eq!(unrouted.lane(), Lane::Unrouted);
        assert_eq!(unrouted.credential(), None);
        let note: Effect = serde_json::from_str(
            r#"{"kind":"add_note","interaction":"i1","wf_project":"p1","wf_user":"u1","user_name":"Ann","asset_name":"a","text":"t"}"#,
        )
        .unwrap();
        assert_eq!(note.key(), "note:i1");
        assert_eq!(note.lane(), Lane::Workfront);
        assert_eq!(note.kind().paced_by(), None);
    }
}
