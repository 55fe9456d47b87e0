//! `connect-group` (F2): check the group exists, validate the developer token, choose the account
//! and workspace, and build the connection record. Nothing is stored until every check passed;
//! storing (and applying it to a running daemon) is the control request's job.

use crate::config::{FrameioCredential, Settings};
use crate::frameio::{FrameioAuth, FrameioError};
use crate::ids::{FrameioAccountId, FrameioWorkspaceId, WorkfrontGroupId};
use crate::retry::{Classify, ErrorClass};
use crate::secret::Secret;
use crate::store::records::CONNECTION_V;
use crate::store::{ConnectionCredential, ConnectionRecord};
use crate::timestamp::Timestamp;
use crate::workfront::{WorkfrontClient, WorkfrontError};
use anyhow::{bail, Context};

/// What the admin asked for.
pub struct ConnectArgs {
    pub group: WorkfrontGroupId,
    pub credential: FrameioCredential,
    pub account: Option<FrameioAccountId>,
    pub workspace: Option<FrameioWorkspaceId>,
}

/// A validated connection, ready to store. `token` is the secret to keep: the developer token, or
/// the server-to-server credential's client secret.
pub struct Prepared {
    pub record: ConnectionRecord,
    pub token: Secret,
    pub workspace_created: bool,
}

pub async fn prepare(settings: &Settings, args: ConnectArgs) -> anyhow::Result<Prepared> {
    let workfront = WorkfrontClient::new(&settings.workfront);
    let group = match workfront.group(&args.group).await {
        Ok(group) => group,
        Err(WorkfrontError::NotFound { .. }) => bail!(
            "Workfront group {} does not exist (or the API key cannot see it)",
            args.group
        ),
        Err(err) => return Err(err).context(format!("cannot look up Workfront group {}", args.group)),
    };

    let auth = FrameioAuth::from(&args.credential);
    let kind = ConnectionCredential::of(&args.credential);
    let secret = match args.credential {
        FrameioCredential::DeveloperToken(token) => token,
        FrameioCredential::ServerToServer(ims) => ims.client_secret,
    };
    let refused = match &kind {
        ConnectionCredential::DeveloperToken => "Frame.io refused the developer token",
        ConnectionCredential::AdobeServerToServer { .. } => {
            "Adobe IMS or Frame.io refused the server-to-server credential"
        }
    };
    let token_error = |err: FrameioError| match err.class() {
        ErrorClass::Auth => anyhow::Error::new(err).context(refused),
        _ => anyhow::Error::new(err),
    };
    let frameio = crate::engine::frameio_client(&settings.frameio.base_url, settings.frameio.request_timeout, auth);
    let me = frameio.me().await.map_err(token_error)?;
    let accounts = frameio.accounts().await.map_err(token_error)?;
    let account = match (&args.account, accounts.as_slice()) {
        (_, []) => bail!(
            "the token's Frame.io user ({}) cannot reach any account",
            me.email.unwrap_or(me.id)
        ),
        (Some(wanted), reachable) => match reachable.iter().find(|a| &a.id == wanted) {
            Some(account) => account.clone(),
            None => bail!(
                "the token's Frame.io user cannot reach account {wanted}; it can reach:\n{}",
                list(reachable.iter().map(|a| (a.id.as_str(), a.name.as_str())))
            ),
        },
        (None, [only]) => only.clone(),
        (None, several) => bail!(
            "the token's Frame.io user can reach {} accounts; choose one with --account:\n{}",
            several.len(),
            list(several.iter().map(|a| (a.id.as_str(), a.name.as_str())))
        ),
    };

    let workspaces = frameio.workspaces(&account.id).await.map_err(token_error)?;
    let (workspace, workspace_created) = match &args.workspace {
        Some(wanted) => match workspaces.iter().find(|w| &w.id == wanted) {
            Some(w) => (w.clone(), false),
            None => bail!(
                "workspace {wanted} is not in account {} ({}); it has:\n{}",
                account.id,
                account.name,
                list(workspaces.iter().map(|w| (w.id.as_str(), w.name.as_str())))
            ),
        },
        // Reuse the workspace named after the group (a second connect, or one made by hand).
        None => match workspaces.iter().find(|w| w.name == group.name) {
            Some(w) => (w.clone(), false),
            None => {
                let created = frameio
                    .create_workspace(&account.id, &group.name)
                    .await
                    .map_err(token_error)
                    .context("cannot create the workspace")?;
                (created, true)
            }
        },
    };

    Ok(Prepared {
        record: ConnectionRecord {
            v: CONNECTION_V,
            group: group.id,
            group_name: group.name,
            account: account.id,
            account_name: account.name,
            workspace: workspace.id,
            workspace_name: workspace.name,
            credential: kind,
            token_fingerprint: secret.fingerprint(),
            connected_at: Timestamp::now(),
            broken: None,
        },
        token: secret,
        workspace_created,
    })
}

fn list<'a>(items: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    items
        .map(|(id, name)| format!("  {id}  {name}"))
        .collect::<Vec<_>>()
        .join("\n")
}
