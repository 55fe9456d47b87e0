//! `AddNote`: the F6 submission's note on the Workfront project, carrying `(ref <interaction>)`
//! so a lost answer is found by that marker and never written twice.

use super::{workfront_failed, Outcome, Produced};
use crate::core::model::Effect;
use crate::engine::Engine;
use crate::store::{OutboxEntry, StoreError};

pub(super) async fn carry_out(engine: &Engine, entry: &OutboxEntry) -> Result<Outcome, StoreError> {
    let Effect::AddNote {
        interaction,
        wf_project,
        text,
        ..
    } = &entry.effect
    else {
        unreachable!("dispatched by kind")
    };
    let marker = format!("(ref {interaction})");
    match engine.workfront.find_note(wf_project, &marker).await {
        Ok(Some(_)) => return Ok(Outcome::Done(Produced::Nothing)),
        Ok(None) => {}
        Err(err) => return Ok(workfront_failed(entry, &err)),
    }
    let permit = engine.permit_to_send(entry).await?;
    Ok(match engine.workfront.create_note(&permit, wf_project, text).await {
        Ok(id) => {
            tracing::info!(outbox_id = %entry.id, %wf_project, note = %id, "note added");
            Outcome::Done(Produced::Nothing)
        }
        Err(err) => workfront_failed(entry, &err),
    })
}
