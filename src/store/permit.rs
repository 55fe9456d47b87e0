//! The proof a send may go: [`Store::in_flight_durably`] marks an outbox entry in flight and
//! hands out a [`SendPermit`] only once the mark is on disk. Every client call that may act
//! (create, PATCH, upload, document, note) takes one, so an outbox effect cannot send before a
//! crash would lead its next attempt to look first.

use super::{Store, StoreError};
use crate::ids::OutboxId;
use crate::timestamp::Timestamp;

#[derive(Debug)]
pub struct SendPermit {
    _private: (),
}

impl SendPermit {
    /// For a write outside the outbox: a command an admin runs and watches (`register-action`),
    /// or a client test. The caller answers for looking first.
    pub fn outside_the_outbox() -> Self {
        Self { _private: () }
    }
}

impl Store {
    /// Marks entry `id` in flight (from `now`) and returns once the mark is durable.
    pub async fn in_flight_durably(&self, id: OutboxId, now: Timestamp) -> Result<SendPermit, StoreError> {
        self.mark_in_flight(id, now)?;
        self.flush().await?;
        Ok(SendPermit { _private: () })
    }
}
