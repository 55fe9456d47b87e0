//! Workfront's event subscription API (`/attask/eventsubscription/api/v1/subscriptions`): list,
//! create and delete the PROJ and USER subscriptions that deliver to this daemon.
//!
//! Its answers are not in the REST API's `{"data"}` envelope. The list is read from `data` (or
//! `subscriptions`, or a bare array) with `meta.page_count` (or `page_count`), because Adobe's
//! pages show more than one shape.

use super::client::WorkfrontClient;
use super::error::WorkfrontError;
use crate::secret::Secret;
use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Largest page the API allows.
const PAGE_LIMIT: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    pub id: String,
    #[serde(rename = "objCode")]
    pub obj_code: String,
    #[serde(rename = "eventType")]
    pub event_type: String,
    pub url: String,
}

#[derive(Serialize)]
struct CreateBody<'a> {
    #[serde(rename = "objCode")]
    obj_code: &'a str,
    #[serde(rename = "eventType")]
    event_type: &'a str,
    url: &'a str,
    #[serde(rename = "authToken")]
    auth_token: &'a str,
}

const ENDPOINT: &str = "eventsubscription";

impl WorkfrontClient {
    /// Every subscription of the tenant, across pages.
    pub async fn list_subscriptions(&self) -> Result<Vec<Subscription>, WorkfrontError> {
        let mut all = Vec::new();
        let mut page = 1usize;
        loop {
            let query = [("page", page.to_string()), ("limit", PAGE_LIMIT.to_string())];
            let (status, body) = crate::retry::retry_read(ENDPOINT, || {
                self.exchange(Method::GET, self.subscriptions_url.clone(), &query, None, ENDPOINT)
            })
            .await?;
            let value: Value = self.expect_success(status, &body)?;
            let items = value
                .get("data")
                .or_else(|| value.get("subscriptions"))
                .unwrap_or(&value)
                .as_array()
                .cloned()
                .unwrap_or_default();
            let n = items.len();
            for item in items {
                match serde_json::from_value::<Subscription>(item) {
                    Ok(s) => all.push(s),
                    Err(err) => tracing::warn!(error = %err, "skipping a subscription record that cannot be read"),
                }
            }
            let pages = value
                .pointer("/meta/page_count")
                .or_else(|| value.get("page_count"))
                .and_then(Value::as_u64)
                .unwrap_or(1) as usize;
            if page >= pages || n == 0 {
                return Ok(all);
            }
            page += 1;
        }
    }

    /// Creates a subscription; returns its id. Not retried: a create whose answer was lost is
    /// found by the next `subscribe`, which keeps matching subscriptions.
    pub async fn create_subscription(
        &self,
        obj_code: &str,
        event_type: &str,
        url: &str,
        auth_token: &Secret,
    ) -> Result<String, WorkfrontError> {
        let body = serde_json::to_vec(&CreateBody {
            obj_code,
            event_type,
            url,
            auth_token: auth_token.expose(),
        })
        .expect("a subscription body serializes");
        let (status, answer) = self
            .exchange(
                Method::POST,
                self.subscriptions_url.clone(),
                &[],
                Some(&(body, "application/json".to_owned())),
                ENDPOINT,
            )
            .await?;
        let value: Value = self.expect_success(status, &answer)?;
        Ok(value.get("id").and_then(Value::as_str).unwrap_or_default().to_owned())
    }

    /// Deletes a subscription; one already gone (404) counts as deleted.
    pub async fn delete_subscription(&self, id: &str) -> Result<(), WorkfrontError> {
        let mut url = self.subscriptions_url.clone();
        url.path_segments_mut()
            .expect("an http(s) URL has path segments")
            .push(id);
        let (status, body) = self.exchange(Method::DELETE, url, &[], None, ENDPOINT).await?;
        if status == StatusCode::NOT_FOUND {
            return Ok(());
        }
        self.expect_success::<Value>(status, &body).map(|_| ())
    }

    /// A 2xx answer's JSON (an empty body reads as `null`), or the error it stands for.
    fn expect_success<T: serde::de::DeserializeOwned>(
        &self,
        status: StatusCode,
        body: &[u8],
    ) -> Result<T, WorkfrontError> {
        let message = || String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
        if !status.is_success() {
            let code = status.as_u16();
            return Err(match status {
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => WorkfrontError::Auth {
                    endpoint: ENDPOINT.into(),
                    status: code,
                    message: format!(
                        "{} (the event subscription API needs a System Administrator)",
                        message()
                    ),
                },
                s if s.is_server_error() || s == StatusCode::TOO_MANY_REQUESTS => WorkfrontError::Transient {
                    endpoint: ENDPOINT.into(),
                    status: Some(code),
                    message: message(),
                },
                _ => WorkfrontError::Rejected {
                    endpoint: ENDPOINT.into(),
                    status: code,
                    class: "eventsubscription".into(),
                    message: message(),
                    exchange: None,
                },
            });
        }
        let body: &[u8] = if body.is_empty() { b"null" } else { body };
        serde_json::from_slice(body).map_err(|e| WorkfrontError::Decode {
            endpoint: ENDPOINT.into(),
            message: e.to_string(),
        })
    }
}
