//! `register-action`: the Frame.io custom action "Send to Workfront for review" (F6), created in
//! the default workspace and in every connected group's workspace, pointing at the daemon's
//! public URL. Frame.io shows an action's signing secret only when it is created, so each is
//! stored at once (`<state dir>/actions/<action id>`, 0600) for the daemon to check signatures.

use crate::config::Settings;
use crate::control::Request;
use crate::engine::connection_auth;
use crate::frameio::FrameioAuth;
use crate::ids::{FrameioAccountId, FrameioWorkspaceId};
use crate::secret::Secret;
use crate::store::secret_files::{action_secret, save_action_secret};
use crate::store::ConnectionRecord;
use anyhow::Context;

pub const ACTION_NAME: &str = "Send to Workfront for review";
const ACTION_DESCRIPTION: &str =
    "Sends this asset to the mirrored Workfront project as a document for formal review and approval.";
const ACTION_EVENT: &str = "workfront.review";

/// The delivery URL for a public base URL: `/frameio/actions` is appended unless it is there.
pub fn action_url(public: &str) -> anyhow::Result<String> {
    crate::subscribe::endpoint_url(public, "/frameio/actions")
}

/// What happened in one workspace.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Registered {
    /// `default`, or `group <id>`.
    pub via: String,
    pub account: String,
    pub workspace: String,
    /// The action's (or, for `register-webhooks`, the webhook's) id.
    pub id: String,
    /// `created`, `kept`, or `replaced` (it existed, but its secret was not stored here).
    pub outcome: &'static str,
}

/// A workspace the daemon mirrors into, and how to reach it.
pub(crate) struct Workspace {
    /// `default`, or `group <id>`.
    pub via: String,
    pub account: FrameioAccountId,
    pub workspace: FrameioWorkspaceId,
    pub auth: FrameioAuth,
}

/// The default workspace and every connected group's (read from the running daemon, or the store).
pub(crate) async fn workspaces(settings: &Settings) -> anyhow::Result<Vec<Workspace>> {
    let state_dir = &settings.state.dir;
    let mut targets = Vec::new();
    if let Some(default) = &settings.frameio.default {
        targets.push(Workspace {
            via: "default".into(),
            account: default.account_id.clone(),
            workspace: default.workspace_id.clone(),
            auth: crate::frameio::FrameioAuth::from(&default.credential),
        });
    }
    let records: Vec<ConnectionRecord> = crate::control::ask(settings, Request::ConnectionRecords)
        .await?
        .into_connection_records()?;
    for record in records {
        let path = state_dir.join("tokens").join(record.group.as_str());
        let secret = Secret::read_file(&path)
            .with_context(|| format!("cannot read the token of group {}'s connection", record.group))?;
        let auth = connection_auth(&record, secret)?;
        targets.push(Workspace {
            via: format!("group {}", record.group),
            account: record.account,
            workspace: record.workspace,
            auth,
        });
    }
    if targets.is_empty() {
        anyhow::bail!("no Frame.io workspace to register in: configure [frameio.default] or connect a group");
    }
    Ok(targets)
}

/// Creates or keeps the action in every workspace the daemon mirrors into.
pub async fn register(settings: &Settings, public: &str) -> anyhow::Result<Vec<Registered>> {
    let url = action_url(public)?;
    let state_dir = &settings.state.dir;
    let mut done = Vec::new();
    for Workspace {
        via,
        account,
        workspace,
        auth,
    } in workspaces(settings).await?
    {
        let client = crate::engine::frameio_client(&settings.frameio.base_url, settings.frameio.request_timeout, auth);
        let existing = client
            .actions(&account, &workspace)
            .await
            .with_context(|| format!("cannot list the actions of workspace {workspace} ({via})"))?;
        let ours = existing.iter().find(|a| a.name == ACTION_NAME && a.url == url);
        let (action_id, outcome) = match ours {
            Some(a) if action_secret(state_dir, &a.id).is_some() => (a.id.clone(), "kept"),
            found => {
                if let Some(stale) = found {
                    // Its secret is not here (made elsewhere, or the state dir is new): without it no
                    // delivery can be verified, so it is replaced.
                    client
                        .delete_action(&account, &stale.id)
                        .await
                        .with_context(|| format!("cannot delete action {} ({via})", stale.id))?;
                }
                // An admin runs this command and watches it; it listed the workspace's actions first.
                let (action, secret) = client
                    .create_action(
                        &crate::store::SendPermit::outside_the_outbox(),
                        &account,
                        &workspace,
                        ACTION_NAME,
                        ACTION_DESCRIPTION,
                        ACTION_EVENT,
                        &url,
                    )
                    .await
                    .with_context(|| format!("cannot create the action in workspace {workspace} ({via})"))?;
                save_action_secret(state_dir, &action.id, &secret)?;
                (action.id, if found.is_some() { "replaced" } else { "created" })
            }
        };
        done.push(Registered {
            via,
            account: account.to_string(),
            workspace: workspace.to_string(),
            id: action_id,
            outcome,
        });
    }
    Ok(done)
}
