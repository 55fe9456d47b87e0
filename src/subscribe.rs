//! `subscribe`, `unsubscribe` and `subscriptions`: the Workfront event subscriptions that deliver
//! PROJ and USER changes (and, with Unified Approvals, approval updates) to this daemon's
//! `/workfront/events`.

use crate::config::Settings;
use crate::workfront::{Subscription, WorkfrontClient};
use anyhow::Context;
use reqwest::Url;

/// What the daemon listens to: every change of projects and users.
pub const OBJECTS: [&str; 2] = ["PROJ", "USER"];
pub const EVENT_TYPES: [&str; 3] = ["CREATE", "UPDATE", "DELETE"];
/// With `review.approvals = "unified"`: updates of approvals, a hint to read them (Event
/// Subscriptions v2, which new subscriptions are).
pub const APPROVAL_OBJECT: &str = "approval";
/// With `[folder] enabled`: documents made, given a new version or deleted (a hint to read the
/// projects' documents again; the one-way folder).
pub const DOCUMENT_OBJECT: &str = "DOCU";

/// The (object, event type) pairs to subscribe to for `settings`.
pub fn wanted(settings: &Settings) -> Vec<(&'static str, &'static str)> {
    let mut pairs: Vec<(&'static str, &'static str)> = OBJECTS
        .iter()
        .flat_map(|o| EVENT_TYPES.iter().map(move |e| (*o, *e)))
        .collect();
    if settings.review.approvals == crate::config::ApprovalSystem::Unified {
        pairs.push((APPROVAL_OBJECT, "UPDATE"));
    }
    if settings.folder.enabled {
        pairs.extend(EVENT_TYPES.iter().map(|e| (DOCUMENT_OBJECT, *e)));
    }
    pairs
}

/// The delivery URL for a public base URL: `/workfront/events` is appended unless it is there.
pub fn delivery_url(public: &str) -> anyhow::Result<String> {
    endpoint_url(public, "/workfront/events")
}

/// `public` (the daemon's public base URL, from `--url`) with `path` appended unless it ends so.
pub fn endpoint_url(public: &str, path: &str) -> anyhow::Result<String> {
    let url = Url::parse(public.trim()).with_context(|| format!("--url {public:?} is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        anyhow::bail!("--url {public:?} must be an http(s) URL with a host");
    }
    let text = url.as_str().trim_end_matches('/');
    Ok(if text.ends_with(path) {
        text.to_owned()
    } else {
        format!("{text}{path}")
    })
}

/// One subscription `subscribe` wanted, and whether it was there already.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Wanted {
    pub obj_code: &'static str,
    pub event_type: &'static str,
    pub id: String,
    pub created: bool,
}

/// Creates the PROJ and USER subscriptions for `url` that do not exist yet; existing matching
/// ones (same object, event type and URL) are kept, so running it again changes nothing.
pub async fn subscribe(settings: &Settings, public: &str) -> anyhow::Result<Vec<Wanted>> {
    let url = delivery_url(public)?;
    let token = settings
        .http
        .as_ref()
        .and_then(|h| h.workfront_webhook_token.clone())
        .context("subscribe needs http.workfront_webhook_token_file in the config: the token Workfront sends with each event, which the daemon checks")?;
    let client = WorkfrontClient::new(&settings.workfront);
    let existing = client
        .list_subscriptions()
        .await
        .context("cannot list Workfront's event subscriptions")?;
    let mut result = Vec::new();
    for (obj_code, event_type) in wanted(settings) {
        let found = existing.iter().find(|s| {
            s.obj_code.eq_ignore_ascii_case(obj_code) && s.event_type.eq_ignore_ascii_case(event_type) && s.url == url
        });
        let (id, created) = match found {
            Some(s) => (s.id.clone(), false),
            None => {
                let id = client
                    .create_subscription(obj_code, event_type, &url, &token)
                    .await
                    .with_context(|| format!("cannot create the {obj_code} {event_type} subscription"))?;
                (id, true)
            }
        };
        result.push(Wanted {
            obj_code,
            event_type,
            id,
            created,
        });
    }
    Ok(result)
}

/// Deletes the PROJ, USER, approval and DOCU subscriptions that deliver to `url`; others are left
/// alone.
pub async fn unsubscribe(settings: &Settings, public: &str) -> anyhow::Result<Vec<Subscription>> {
    let url = delivery_url(public)?;
    let client = WorkfrontClient::new(&settings.workfront);
    let ours: Vec<Subscription> = client
        .list_subscriptions()
        .await
        .context("cannot list Workfront's event subscriptions")?
        .into_iter()
        .filter(|s| {
            s.url == url
                && OBJECTS
                    .iter()
                    .chain([&APPROVAL_OBJECT, &DOCUMENT_OBJECT])
                    .any(|o| s.obj_code.eq_ignore_ascii_case(o))
        })
        .collect();
    for s in &ours {
        client
            .delete_subscription(&s.id)
            .await
            .with_context(|| format!("cannot delete subscription {}", s.id))?;
    }
    Ok(ours)
}

/// Every subscription of the tenant.
pub async fn list(settings: &Settings) -> anyhow::Result<Vec<Subscription>> {
    WorkfrontClient::new(&settings.workfront)
        .list_subscriptions()
        .await
        .context("cannot list Workfront's event subscriptions")
}
