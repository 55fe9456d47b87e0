//! Carrying out outbox entries: one module per effect kind, each returning an [`Outcome`], and
//! [`Engine::carry_out`], which settles it: the outcome and the records it produces in one store
//! transaction, made durable by the next flush (see `settle`).
//!
//! A kind's module decides, and sends; it never writes to the store. The one store write before
//! a send that may act is the in-flight mark, through [`Engine::permit_to_send`], which returns
//! once the mark is durable: a crash after it leads the next attempt to look first.
//!
//! Adding a kind: its payload in `core::model::Effect` (key, description, credential), a module
//! here with `carry_out`, one arm in [`Engine::carry_out`], its client call, its sandbox route.

mod add_collaborator;
mod add_document;
mod add_note;
mod create_mirror;
mod remove_collaborator;

use super::Engine;
use crate::core::collaborator_plan::Pair;
use crate::core::model::{Credential, Effect};
use crate::exchange::Exchange;
use crate::frameio::{FrameioClient, FrameioError};
use crate::ids::{FrameioUserId, OutboxId};
use crate::retry::{outbox_delay, Classify, ErrorClass};
use crate::store::{Arrival, CollaboratorRecord, MirrorRecord, OutboxEntry, ParkCause, SendPermit, StoreError};
use crate::timestamp::Timestamp;
use crate::workfront::WorkfrontError;

/// What carrying out an entry came to.
#[derive(Debug)]
pub(super) enum Outcome {
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
pub(super) enum Failed {
    /// A read that looks before sending.
    Looking,
    /// A request that may act: its outcome is known only if the client says it cannot have acted.
    Sending,
    /// A request that may be repeated safely (DELETE): the mark is not needed.
    Idempotent,
}

/// The records a done entry produces, written in the transaction that removes it.
#[derive(Debug)]
pub(super) enum Produced {
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
}

impl Engine {
    /// Carries out `entry` and settles what came of it. Errors are store errors only.
    pub(super) async fn carry_out(&self, entry: &OutboxEntry) -> Result<(), StoreError> {
        let outcome = match &entry.effect {
            Effect::CreateMirror { .. } => create_mirror::carry_out(self, entry).await?,
            Effect::AddCollaborator { .. } => add_collaborator::carry_out(self, entry).await?,
            Effect::RemoveCollaborator { .. } => remove_collaborator::carry_out(self, entry).await?,
            Effect::AddDocument { .. } => add_document::carry_out(self, entry).await?,
            Effect::AddNote { .. } => add_note::carry_out(self, entry).await?,
        };
        self.settle(entry, outcome).await
    }

    /// Records `outcome` for `entry`, in one transaction.
    async fn settle(&self, entry: &OutboxEntry, outcome: Outcome) -> Result<(), StoreError> {
        let id = entry.id;
        let mut new_mirror = None;
        match outcome {
            Outcome::Done(Produced::Nothing) => self.store.complete(id)?,
            Outcome::Done(Produced::Mirror(record)) => {
                if self.store.complete_with_mirror(id, &record)? {
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
                self.store.bury(id, &reason, Timestamp::now(), exchange)?
            }
        }
        // Not flushed here: the next flush covers it — the next entry's in-flight mark, or the
        // worker's when it runs out of due work. If power fails first, the entry is found in
        // flight again and its kind looks first, finding what this attempt did: so one fsync per
        // settled effect (its in-flight mark), fewer when concurrent marks share one.
        if let Some(wf_project) = new_mirror {
            self.collaborators_after_mirror(&wf_project).await;
        }
        Ok(())
    }

    /// Marks `entry` in flight and returns once the mark is durable.
    async fn permit_to_send(&self, entry: &OutboxEntry) -> Result<SendPermit, StoreError> {
        self.store.in_flight_durably(entry.id, Timestamp::now()).await
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
                    at: Timestamp::now().saturating_add(wait),
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
fn workfront_failed(entry: &OutboxEntry, err: &WorkfrontError) -> Outcome {
    match err.class() {
        class @ (ErrorClass::Transient | ErrorClass::Auth) => {
            let wait = outbox_delay(entry.attempts + 1, class, None);
            tracing::warn!(outbox_id = %entry.id, error = %err, retry_in_ms = wait.as_millis() as u64, "Workfront write failed");
            Outcome::Retry {
                at: Timestamp::now().saturating_add(wait),
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
