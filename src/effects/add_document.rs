//! `AddDocument`: the F6 submission's Workfront document (an uploaded `.url` file that opens the
//! Frame.io asset). Looked up by the interaction id first, so a lost answer never makes a second.

use super::{workfront_failed, Kind, Outcome, Produced};
use crate::core::model::Lane;
use crate::engine::Engine;
use crate::ids::{WorkfrontProjectId, WorkfrontUserId};
use crate::store::{OutboxEntry, StoreError};
use serde::{Deserialize, Serialize};

/// F6: a document on the Workfront project that links to a Frame.io file a user sent for review.
/// `interaction` (Frame.io's id for the click) is its `extRefID`, so it is found again rather than
/// created twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddDocument {
    pub interaction: String,
    pub wf_project: WorkfrontProjectId,
    pub wf_user: WorkfrontUserId,
    pub user_name: String,
    pub asset_name: String,
    pub asset_url: String,
}

impl Kind for AddDocument {
    fn key(&self) -> String {
        format!("document:{}", self.interaction)
    }

    fn describe(&self) -> String {
        format!(
            "add document {:?}, sent for review by {}, to Workfront project {}",
            self.asset_name, self.user_name, self.wf_project
        )
    }

    fn lane(&self) -> Lane {
        Lane::Workfront
    }

    fn wf_project(&self) -> Option<&WorkfrontProjectId> {
        Some(&self.wf_project)
    }
}

pub(super) async fn carry_out(
    engine: &Engine,
    entry: &OutboxEntry,
    payload: &AddDocument,
) -> Result<Outcome, StoreError> {
    let AddDocument {
        interaction,
        wf_project,
        asset_name,
        asset_url,
        user_name,
        ..
    } = payload;
    match engine.workfront.find_document(wf_project, interaction).await {
        Ok(Some(id)) => {
            tracing::info!(outbox_id = %entry.id, %wf_project, document = %id, "the document exists already");
            return Ok(Outcome::Done(Produced::Nothing));
        }
        Ok(None) => {}
        Err(err) => return Ok(workfront_failed(entry, &err, engine.clock.now())),
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
        Err(err) => workfront_failed(entry, &err, engine.clock.now()),
    })
}
