//! `register-webhooks`: the Frame.io webhook that tells the daemon of new comments
//! (`comment.created`), for `review.comments_to_workfront`, in the default workspace and every
//! connected group's. Like `register-action`: Frame.io shows a webhook's secret only when it is
//! created, so each is stored at once (`<state dir>/webhooks/<id>`, 0600); one whose secret is not
//! stored here is replaced.

use crate::config::Settings;
use crate::register_action::{workspaces, Registered, Workspace};
use crate::store::secret_files::{save_webhook_secret, webhook_secret};
use anyhow::Context;

pub const WEBHOOK_NAME: &str = "frameio-sync: comments on files under review";
pub const WEBHOOK_EVENTS: [&str; 1] = ["comment.created"];

/// The delivery URL for a public base URL: `/frameio/webhooks` is appended unless it is there.
pub fn webhook_url(public: &str) -> anyhow::Result<String> {
    crate::subscribe::endpoint_url(public, "/frameio/webhooks")
}

/// Creates or keeps the webhook in every workspace the daemon mirrors into.
pub async fn register(settings: &Settings, public: &str) -> anyhow::Result<Vec<Registered>> {
    let url = webhook_url(public)?;
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
            .webhooks(&account, &workspace)
            .await
            .with_context(|| format!("cannot list the webhooks of workspace {workspace} ({via})"))?;
        let ours = existing.iter().find(|w| w.name == WEBHOOK_NAME && w.url == url);
        let (id, outcome) = match ours {
            Some(w)
                if webhook_secret(state_dir, &w.id).is_some()
                    && WEBHOOK_EVENTS.iter().all(|e| w.events.iter().any(|x| x == e)) =>
            {
                (w.id.clone(), "kept")
            }
            found => {
                if let Some(stale) = found {
                    client
                        .delete_webhook(&account, &stale.id)
                        .await
                        .with_context(|| format!("cannot delete webhook {} ({via})", stale.id))?;
                }
                let (webhook, secret) = client
                    .create_webhook(
                        &crate::store::SendPermit::outside_the_outbox(),
                        &account,
                        &workspace,
                        WEBHOOK_NAME,
                        &url,
                        &WEBHOOK_EVENTS,
                    )
                    .await
                    .with_context(|| format!("cannot create the webhook in workspace {workspace} ({via})"))?;
                save_webhook_secret(state_dir, &webhook.id, &secret)?;
                (webhook.id, if found.is_some() { "replaced" } else { "created" })
            }
        };
        done.push(Registered {
            via,
            account: account.to_string(),
            workspace: workspace.to_string(),
            id,
            outcome,
        });
    }
    Ok(done)
}
