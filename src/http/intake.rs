//! Group commit for event deliveries: handlers hand their parsed event to one committer task,
//! which records every event waiting at that moment in one transaction, flushes once, and then
//! answers them all. Under a burst, the events that arrive during one flush share the next, so a
//! burst costs few fsyncs while each answer still waits for its event to be on disk.

use crate::core::model::WorkfrontEvent;
use crate::store::Store;
use crate::timestamp::Timestamp;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Notify};

/// Most events recorded by one transaction and flush.
const MAX_BATCH: usize = 1024;

/// What became of a submitted event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Recorded and flushed: safe to acknowledge.
    Accepted,
    /// Seen before (a redelivery): nothing recorded, safe to acknowledge.
    Duplicate,
}

/// Why an event was not recorded (and must not be acknowledged).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotRecorded {
    #[error("the daemon is stopping")]
    Stopping,
    /// The store refused the batch (its error, as text: every event of the batch gets it).
    #[error("the store could not record it: {0}")]
    Store(String),
}

struct Submission {
    event: WorkfrontEvent,
    reply: oneshot::Sender<Result<Outcome, NotRecorded>>,
}

/// The handlers' side of the committer.
#[derive(Clone)]
pub struct Intake {
    tx: mpsc::Sender<Submission>,
}

impl Intake {
    /// Starts the committer. It ends once every `Intake` is dropped. `recorded` is woken after
    /// each batch, for whoever applies the inbox.
    pub fn start(store: Store, recorded: Arc<Notify>) -> (Self, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        let task = tokio::spawn(commit_loop(store, rx, recorded));
        (Self { tx }, task)
    }

    /// Records `event` durably (or recognises it as a redelivery). An error means it was not
    /// recorded: the caller must not acknowledge it.
    pub async fn submit(&self, event: WorkfrontEvent) -> Result<Outcome, NotRecorded> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Submission { event, reply })
            .await
            .map_err(|_| NotRecorded::Stopping)?;
        answer.await.map_err(|_| NotRecorded::Stopping)?
    }
}

async fn commit_loop(store: Store, mut rx: mpsc::Receiver<Submission>, recorded: Arc<Notify>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let events: Vec<WorkfrontEvent> = batch.iter().map(|s| s.event.clone()).collect();
        let outcome = match store.accept_events(&events, Timestamp::now()) {
            Ok(fresh) => store.flush().await.map(|()| fresh),
            Err(err) => Err(err),
        };
        match outcome {
            Ok(fresh) => {
                crate::failpoint::hit(crate::failpoint::BEFORE_EVENT_ACK);
                for (submission, fresh) in batch.into_iter().zip(fresh) {
                    let outcome = if fresh { Outcome::Accepted } else { Outcome::Duplicate };
                    let _ = submission.reply.send(Ok(outcome));
                }
                recorded.notify_one();
            }
            Err(err) => {
                tracing::error!(error = %err, events = batch.len(), "could not record Workfront events; they are refused and Workfront will deliver them again");
                for submission in batch {
                    let _ = submission.reply.send(Err(NotRecorded::Store(err.to_string())));
                }
            }
        }
    }
}
