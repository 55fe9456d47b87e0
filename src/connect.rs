//! `connect-group` (F2): check the group exists, validate the developer token, choose the account
//! and workspace, and build the connection record. Nothing is stored until every check passed;
//! storing (and applying it to a running daemon) is the control request's job.

use crate::config::Settings;
use crate::frameio::{FrameioClient, FrameioError};
use crate::ids::{FrameioAccountId, FrameioWorkspaceId, WorkfrontGroupId};
use crate::retry::{Classify, ErrorClass};
use crate::secret::Secret;
use crate::store::records::CONNECTION_V;
use crate::store::ConnectionRecord;
use crate::timestamp::Timestamp;
use crate::workfront::{WorkfrontClient, WorkfrontError};
use anyhow::{bail, Context};

/// What the admin asked for.
pub struct ConnectArgs {
    pub group: WorkfrontGroupId,
    pub token: Secret,
    pub account: Option<FrameioAccountId>,
    pub workspace: Option<FrameioWorkspaceId>,
}

/// A validated connection, ready to store.
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
        Err(err) => {
            return Err(err).context(format!("cannot look up Workfront group {}", args.group))
        }
    };

    let frameio = FrameioClient::new(&settings.frameio.base_url, args.token.clone());
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
            token_fingerprint: args.token.fingerprint(),
            connected_at: Timestamp::now(),
            broken: None,
        },
        token: args.token,
        workspace_created,
    })
}

fn token_error(err: FrameioError) -> anyhow::Error {
    match err.class() {
        ErrorClass::Auth => anyhow::Error::new(err).context("Frame.io refused the developer token"),
        _ => anyhow::Error::new(err),
    }
}

fn list<'a>(items: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    items
        .map(|(id, name)| format!("  {id}  {name}"))
        .collect::<Vec<_>>()
        .join("\n")
}
