//! `AddDocument`: the F6 submission's Workfront document (an uploaded `.url` file that opens the
//! Frame.io asset). Looked up by the interaction id first, so a lost answer never makes a second.

use super::{workfront_failed, Outcome, Produced};
use crate::core::model::Effect;
use crate::engine::Engine;
use crate::store::{OutboxEntry, StoreError};

pub(super) async fn carry_out(engine: &Engine, entry: &OutboxEntry) -> Result<Outcome, StoreError> {
    let Effect::AddDocument {
        interaction,
        wf_project,
        asset_name,
        asset_url,
        user_name,
        ..
    } = &entry.effect
    else {
        unreachable!("dispatched by kind")
    };
    match engine.workfront.find_document(wf_project, interaction).await {
        Ok(Some(id)) => {
            tracing::info!(outbox_id = %entry.id, %wf_project, document = %id, "the document exists already");
            return Ok(Outcome::Done(Produced::Nothing));
        }
        Ok(None) => {}
        Err(err) => return Ok(workfront_failed(entry, &err)),
    }
    let permit = engine.permit_to_send(entry).await?;
    let file_name = format!("{}.url", asset_name.replace(['/', '\\'], "_"));
    let content = format!("[InternetShortcut]\r\nURL={asset_url}\r\n");
    let workfront = &engine.workfront;
    let created = async {
        let handle = workfront.upload(&permit, &file_name, content.as_bytes()).await?;
        workfront
            .create_document(
                &permit,
                wf_project,
                asset_name,
                &handle,
                &file_name,
                interaction,
                &format!("Sent from Frame.io for review by {user_name}: {asset_url}"),
            )
            .await
    }
    .await;
    Ok(match created {
        Ok(id) => {
            tracing::info!(outbox_id = %entry.id, %wf_project, document = %id, asset = %asset_name, "document added");
            Outcome::Done(Produced::Nothing)
        }
        Err(err) => workfront_failed(entry, &err),
    })
}
