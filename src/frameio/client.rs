//! The Frame.io v4 client for one credential (a legacy developer token on `/v4/` routes).

use super::error::FrameioError;
use super::rate_limit::{Observed, RateLimiter};
use super::wire::{self, Data, ErrorBody, Page};
use super::{
    FrameioAccount, FrameioAction, FrameioAuth, FrameioFile, FrameioMember, FrameioProfile, FrameioProject,
    FrameioVersionStack, FrameioWorkspace,
};
use crate::answer_body::{self, AnswerBodyError};
use crate::core::model::RateClass;
use crate::exchange::{self, Exchange};
use crate::ids::{
    FrameioAccountId, FrameioFileId, FrameioProjectId, FrameioUserId, FrameioVersionStackId, FrameioWorkspaceId,
};
use crate::ims::ImsError;
use crate::secret::Secret;
use crate::store::SendPermit;
use crate::timestamp::Timestamp;
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use std::time::Duration;

/// Rate-limit classes. Frame.io limits creates and project-user changes to about 10 a minute and
/// reads to about 100, per user; pacing each class apart keeps reads flowing during a backfill.
pub(super) const BUCKET_READ: &str = "read";
const BUCKET_CREATE_PROJECT: &str = "projects.create";
const BUCKET_UPDATE_PROJECT: &str = "projects.update";
const BUCKET_CREATE_WORKSPACE: &str = "workspaces.create";
const BUCKET_PROJECT_USER_UPDATE: &str = "projects.users.update";
const BUCKET_PROJECT_USER_DELETE: &str = "projects.users.delete";
const BUCKET_ACTIONS: &str = "actions.write";
pub(super) const BUCKET_FIELD_CREATE: &str = "metadata.fields.create";
pub(super) const BUCKET_METADATA_VALUES: &str = "metadata.values";
pub(super) const BUCKET_COMMENTS: &str = "comments";
pub(super) const BUCKET_WEBHOOKS: &str = "webhooks.write";
pub(super) const BUCKET_LOCAL_UPLOAD: &str = "files.local_upload";
pub(super) const BUCKET_FOLDER_CREATE: &str = "folders.create";
pub(super) const BUCKET_UPLOAD_STATUS: &str = "files.status";
pub(super) const BUCKET_VERSION_STACKS: &str = "version_stacks.write";

/// Items per page on list calls (Frame.io allows 1–100).
const PAGE_SIZE: &str = "100";

/// The largest answer read: a page of 100 items is tens of KiB.
const MAX_ANSWER: usize = 16 << 20;

/// The default of `frameio.request_timeout`.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(45);

#[derive(Clone)]
pub struct FrameioClient {
    http: reqwest::Client,
    /// `https://api.frame.io/v4/`.
    api_base: Url,
    auth: FrameioAuth,
    request_timeout: Duration,
    limiter: RateLimiter,
}

impl std::fmt::Debug for FrameioClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameioClient")
            .field("api_base", &self.api_base.as_str())
            .finish_non_exhaustive()
    }
}

impl FrameioClient {
    /// A client for a legacy developer token.
    pub fn new(base_url: &Url, token: Secret) -> Self {
        Self::with_auth(base_url, FrameioAuth::DeveloperToken(token))
    }

    pub fn with_auth(base_url: &Url, auth: FrameioAuth) -> Self {
        let mut api_base = base_url.clone();
        let prefix = api_base.path().trim_end_matches('/').to_owned();
        api_base.set_path(&format!("{prefix}/v4/"));
        Self {
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .user_agent(concat!("frameio-sync/", env!("CARGO_PKG_VERSION")))
                .build()
                .expect("a reqwest client with static settings builds"),
            api_base,
            auth,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            limiter: RateLimiter::default(),
        }
    }

    /// The same client with another per-request timeout (`frameio.request_timeout`).
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// How long a request of `class` would now wait for Frame.io's rate limit (zero: it may go).
    pub fn ready_in(&self, class: RateClass) -> Duration {
        self.limiter.ready_in(match class {
            RateClass::CreateProject => BUCKET_CREATE_PROJECT,
            RateClass::UpdateProject => BUCKET_UPDATE_PROJECT,
            RateClass::UpdateProjectUser => BUCKET_PROJECT_USER_UPDATE,
            RateClass::DeleteProjectUser => BUCKET_PROJECT_USER_DELETE,
            RateClass::MetadataValues => BUCKET_METADATA_VALUES,
            RateClass::LocalUpload => BUCKET_LOCAL_UPLOAD,
        })
    }

    /// Every user of an account (the directory): Frame.io has no email filter, so this pages
    /// through all of them.
    pub async fn account_users(&self, account: &FrameioAccountId) -> Result<Vec<FrameioMember>, FrameioError> {
        let rows: Vec<wire::MemberWire> = self.list(&["accounts", account.as_str(), "users"]).await?;
        rows.into_iter().map(|m| member_from_wire(m, "users")).collect()
    }

    /// The users on a project, with their project roles.
    pub async fn project_users(
        &self,
        account: &FrameioAccountId,
        project: &FrameioProjectId,
    ) -> Result<Vec<FrameioMember>, FrameioError> {
        let rows: Vec<wire::MemberWire> = self
            .list(&["accounts", account.as_str(), "projects", project.as_str(), "users"])
            .await?;
        rows.into_iter().map(|m| member_from_wire(m, "project users")).collect()
    }

    /// Adds a user to a project with `role`, or sets their role (a documented upsert, so sending
    /// it twice changes nothing).
    pub async fn set_project_user(
        &self,
        _permit: &SendPermit,
        account: &FrameioAccountId,
        project: &FrameioProjectId,
        user: &FrameioUserId,
        role: &str,
    ) -> Result<(), FrameioError> {
        let body = serde_json::to_vec(&wire::SetRole {
            data: wire::SetRoleData { role },
        })
        .expect("a role body serializes");
        let _: serde_json::Value = self
            .send(
                Method::PATCH,
                &[
                    "accounts",
                    account.as_str(),
                    "projects",
                    project.as_str(),
                    "users",
                    user.as_str(),
                ],
                &[],
                Some(body),
                BUCKET_PROJECT_USER_UPDATE,
            )
            .await?;
        Ok(())
    }

    /// Removes a user from a project. `Ok(false)` when they were not on it (404): the removal's
    /// goal holds either way, so a repeated removal is harmless.
    pub async fn remove_project_user(
        &self,
        account: &FrameioAccountId,
        project: &FrameioProjectId,
        user: &FrameioUserId,
    ) -> Result<bool, FrameioError> {
        let segments = [
            "accounts",
            account.as_str(),
            "projects",
            project.as_str(),
            "users",
            user.as_str(),
        ];
        self.delete(&segments, BUCKET_PROJECT_USER_DELETE).await
    }

    /// A DELETE whose 404 means "already gone": `Ok(true)` when it removed something.
    pub(super) async fn delete(&self, segments: &[&str], bucket: &'static str) -> Result<bool, FrameioError> {
        let outcome: Result<serde_json::Value, FrameioError> =
            self.send(Method::DELETE, segments, &[], None, bucket).await;
        match outcome {
            Ok(_) => Ok(true),
            Err(FrameioError::Rejected { status: 404, .. }) => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// The custom actions of a workspace.
    pub async fn actions(
        &self,
        account: &FrameioAccountId,
        workspace: &FrameioWorkspaceId,
    ) -> Result<Vec<FrameioAction>, FrameioError> {
        let rows: Vec<wire::ActionWire> = self
            .list(&[
                "accounts",
                account.as_str(),
                "workspaces",
                workspace.as_str(),
                "actions",
            ])
            .await?;
        Ok(rows
            .into_iter()
            .map(|a| FrameioAction {
                id: a.id,
                name: a.name.unwrap_or_default(),
                url: a.url.unwrap_or_default(),
            })
            .collect())
    }

    /// Creates a custom action; returns it and its signing secret (shown only now).
    #[allow(clippy::too_many_arguments)]
    pub async fn create_action(
        &self,
        _permit: &SendPermit,
        account: &FrameioAccountId,
        workspace: &FrameioWorkspaceId,
        name: &str,
        description: &str,
        event: &str,
        url: &str,
    ) -> Result<(FrameioAction, Secret), FrameioError> {
        let body = serde_json::to_vec(&wire::CreateAction {
            data: wire::CreateActionData {
                name,
                description,
                event,
                url,
            },
        })
        .expect("an action body serializes");
        let a: Data<wire::ActionWire> = self
            .send(
                Method::POST,
                &[
                    "accounts",
                    account.as_str(),
                    "workspaces",
                    workspace.as_str(),
                    "actions",
                ],
                &[],
                Some(body),
                BUCKET_ACTIONS,
            )
            .await?;
        let secret = a
            .data
            .secret
            .clone()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| decode_error("actions", "the created action has no secret"))?;
        Ok((
            FrameioAction {
                id: a.data.id,
                name: a.data.name.unwrap_or_default(),
                url: a.data.url.unwrap_or_default(),
            },
            Secret::new(secret),
        ))
    }

    /// Deletes a custom action (one already gone counts as deleted).
    pub async fn delete_action(&self, account: &FrameioAccountId, id: &str) -> Result<(), FrameioError> {
        self.delete(&["accounts", account.as_str(), "actions", id], BUCKET_ACTIONS)
            .await
            .map(|_| ())
    }

    /// One file: its name and the link people open it with.
    pub async fn file(&self, account: &FrameioAccountId, id: &str) -> Result<FrameioFile, FrameioError> {
        self.file_with(account, id, &[]).await
    }

    /// A file with the signed address of its original (`include=media_links.original`), to be
    /// downloaded at once: the address expires.
    pub async fn file_to_download(&self, account: &FrameioAccountId, id: &str) -> Result<FrameioFile, FrameioError> {
        self.file_with(account, id, &[("include", "media_links.original".to_owned())])
            .await
    }

    async fn file_with(
        &self,
        account: &FrameioAccountId,
        id: &str,
        query: &[(&str, String)],
    ) -> Result<FrameioFile, FrameioError> {
        let mut f: Data<wire::FileWire> = self
            .send(
                Method::GET,
                &["accounts", account.as_str(), "files", id],
                query,
                None,
                BUCKET_READ,
            )
            .await?;
        let original = f
            .data
            .media_links
            .take()
            .and_then(|l| l.original)
            .and_then(|o| o.download_url)
            .filter(|u| (u.starts_with("https://") || u.starts_with("http://")) && u.len() <= 8192)
            .map(crate::secret::Secret::new);
        Ok(file_from_wire(f.data, original))
    }

    /// A version stack and its head version (`GET /version_stacks/{id}`): a NotFound means the id
    /// is not a stack's (a folder's, say).
    pub async fn version_stack(
        &self,
        account: &FrameioAccountId,
        id: &str,
    ) -> Result<FrameioVersionStack, FrameioError> {
        let s: Data<wire::VersionStackWire> = self
            .send(
                Method::GET,
                &["accounts", account.as_str(), "version_stacks", id],
                &[],
                None,
                BUCKET_READ,
            )
            .await?;
        let stack_id = FrameioVersionStackId::new(&s.data.id).map_err(|err| FrameioError::Decode {
            endpoint: "version_stacks".into(),
            detail: err.to_string(),
        })?;
        Ok(FrameioVersionStack {
            id: stack_id,
            head: file_from_wire(s.data.head_version, None),
        })
    }

    /// The files of a version stack (`GET /version_stacks/{id}/children`), every page.
    pub async fn version_stack_files(
        &self,
        account: &FrameioAccountId,
        stack: &FrameioVersionStackId,
    ) -> Result<Vec<FrameioFileId>, FrameioError> {
        let rows: Vec<wire::StackChildWire> = self
            .list(&[
                "accounts",
                account.as_str(),
                "version_stacks",
                stack.as_str(),
                "children",
            ])
            .await?;
        rows.into_iter()
            .map(|c| {
                FrameioFileId::new(&c.id).map_err(|err| FrameioError::Decode {
                    endpoint: "version_stacks/children".into(),
                    detail: err.to_string(),
                })
            })
            .collect()
    }

    /// Creates a workspace in `account` (used when connecting a group).
    pub async fn create_workspace(
        &self,
        account: &FrameioAccountId,
        name: &str,
    ) -> Result<FrameioWorkspace, FrameioError> {
        let body = serde_json::to_vec(&wire::ProjectName {
            data: wire::ProjectNameData { name },
        })
        .expect("a create body serializes");
        let w: Data<wire::WorkspaceWire> = self
            .send(
                Method::POST,
                &["accounts", account.as_str(), "workspaces"],
                &[],
                Some(body),
                BUCKET_CREATE_WORKSPACE,
            )
            .await?;
        Ok(FrameioWorkspace {
            id: FrameioWorkspaceId::new(w.data.id).map_err(|e| decode_error("workspaces", e))?,
            name: w.data.name.unwrap_or_default(),
        })
    }

    /// The token's user: the cheapest call that proves a token works.
    pub async fn me(&self) -> Result<FrameioProfile, FrameioError> {
        let p: Data<wire::ProfileWire> = self.send(Method::GET, &["me"], &[], None, BUCKET_READ).await?;
        Ok(FrameioProfile {
            id: p.data.id,
            email: p.data.email,
            name: p.data.name,
        })
    }

    pub async fn accounts(&self) -> Result<Vec<FrameioAccount>, FrameioError> {
        let rows: Vec<wire::AccountWire> = self.list(&["accounts"]).await?;
        rows.into_iter()
            .map(|a| {
                Ok(FrameioAccount {
                    id: FrameioAccountId::new(a.id).map_err(|e| decode_error("accounts", e))?,
                    name: a.display_name.unwrap_or_default(),
                })
            })
            .collect()
    }

    pub async fn workspaces(&self, account: &FrameioAccountId) -> Result<Vec<FrameioWorkspace>, FrameioError> {
        let rows: Vec<wire::WorkspaceWire> = self.list(&["accounts", account.as_str(), "workspaces"]).await?;
        rows.into_iter()
            .map(|w| {
                Ok(FrameioWorkspace {
                    id: FrameioWorkspaceId::new(w.id).map_err(|e| decode_error("workspaces", e))?,
                    name: w.name.unwrap_or_default(),
                })
            })
            .collect()
    }

    /// Every project in a workspace, across all pages, with its owner.
    pub async fn projects(
        &self,
        account: &FrameioAccountId,
        workspace: &FrameioWorkspaceId,
    ) -> Result<Vec<FrameioProject>, FrameioError> {
        let rows: Vec<wire::ProjectWire> = self
            .list_with(
                &[
                    "accounts",
                    account.as_str(),
                    "workspaces",
                    workspace.as_str(),
                    "projects",
                ],
                &[("include", "owner")],
            )
            .await?;
        rows.into_iter().map(project_from_wire).collect()
    }

    /// Renames a project (`PATCH …/projects/{p}` with `{"data":{"name"}}`). Sending it twice
    /// changes nothing.
    pub async fn rename_project(
        &self,
        _permit: &SendPermit,
        account: &FrameioAccountId,
        project: &FrameioProjectId,
        name: &str,
    ) -> Result<FrameioProject, FrameioError> {
        let body = serde_json::to_vec(&wire::ProjectName {
            data: wire::ProjectNameData { name },
        })
        .expect("a rename body serializes");
        let p: Data<wire::ProjectWire> = self
            .send(
                Method::PATCH,
                &["accounts", account.as_str(), "projects", project.as_str()],
                &[],
                Some(body),
                BUCKET_UPDATE_PROJECT,
            )
            .await?;
        project_from_wire(p.data)
    }

    pub async fn project(
        &self,
        account: &FrameioAccountId,
        project: &FrameioProjectId,
    ) -> Result<FrameioProject, FrameioError> {
        let p: Data<wire::ProjectWire> = self
            .send(
                Method::GET,
                &["accounts", account.as_str(), "projects", project.as_str()],
                &[],
                None,
                BUCKET_READ,
            )
            .await?;
        project_from_wire(p.data)
    }

    /// Creates a project. Sent exactly once: the caller decides what to do when the outcome is
    /// unknown ([`FrameioError::may_have_acted`]), because Frame.io has no idempotency key.
    pub async fn create_project(
        &self,
        _permit: &SendPermit,
        account: &FrameioAccountId,
        workspace: &FrameioWorkspaceId,
        name: &str,
    ) -> Result<FrameioProject, FrameioError> {
        let body = serde_json::to_vec(&wire::ProjectName {
            data: wire::ProjectNameData { name },
        })
        .expect("a create body serializes");
        let p: Data<wire::ProjectWire> = self
            .send(
                Method::POST,
                &[
                    "accounts",
                    account.as_str(),
                    "workspaces",
                    workspace.as_str(),
                    "projects",
                ],
                &[],
                Some(body),
                BUCKET_CREATE_PROJECT,
            )
            .await?;
        project_from_wire(p.data)
    }

    /// Pages through a list with Frame.io's cursor. `links.next` carries only the `after` cursor, so
    /// the other query parameters are added again on every page.
    pub(super) async fn list<T: DeserializeOwned>(&self, segments: &[&str]) -> Result<Vec<T>, FrameioError> {
        self.list_with(segments, &[]).await
    }

    /// [`Self::list`] with more query parameters (`include`), sent on every page.
    pub(super) async fn list_with<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        extra: &[(&'static str, &str)],
    ) -> Result<Vec<T>, FrameioError> {
        let endpoint = segments.join("/");
        let mut items = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut query = vec![("page_size", PAGE_SIZE.to_owned())];
            query.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
            if let Some(cursor) = &after {
                query.push(("after", cursor.clone()));
            }
            let page: Page<T> = crate::retry::retry_read(&endpoint, || {
                self.send(Method::GET, segments, &query, None, BUCKET_READ)
            })
            .await?;
            items.extend(page.data);
            let next = page.links.and_then(|l| l.next).and_then(|next| self.cursor_of(&next));
            match next {
                Some(cursor) if Some(&cursor) != after.as_ref() => after = Some(cursor),
                _ => return Ok(items),
            }
        }
    }

    /// The `after` value of a `links.next` URL, absolute or relative.
    fn cursor_of(&self, next: &str) -> Option<String> {
        let url = self.api_base.join(next).ok()?;
        let cursor = url
            .query_pairs()
            .find(|(k, _)| k == "after")
            .map(|(_, v)| v.into_owned());
        cursor
    }

    pub(super) async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, String)],
        body: Option<Vec<u8>>,
        bucket: &'static str,
    ) -> Result<T, FrameioError> {
        let endpoint = format!("{method} /v4/{}", segments.join("/"));
        let url = crate::url_segments::under(&self.api_base, segments);
        // An IMS access token can be revoked or expire early: on a 401, drop it and try once more
        // with a fresh one. A developer token gets no second try; a 401 is final for it.
        let mut retried_with_fresh_token = false;
        loop {
            let (bearer, legacy) = match &self.auth {
                FrameioAuth::DeveloperToken(token) => (token.clone(), true),
                FrameioAuth::ServerToServer(ims) => (ims.access_token().await.map_err(ims_error)?, false),
            };
            self.limiter.acquire(bucket).await;
            let mut request = self
                .http
                .request(method.clone(), url.clone())
                .timeout(self.request_timeout)
                .bearer_auth(bearer.expose())
                .header("accept", "application/json")
                .query(query);
            if legacy {
                request = request.header("x-frameio-legacy-token-auth", "true");
            }
            if let Some(body) = &body {
                request = request.header("content-type", "application/json").body(body.clone());
            }
            let started = std::time::Instant::now();
            let sent = request.send().await;
            crate::metrics::record_request(
                crate::metrics::System::Frameio,
                &format!("{method} {bucket}"),
                sent.as_ref().ok().map(|r| r.status().as_u16()),
                started.elapsed(),
            );
            let response = sent.map_err(|e| FrameioError::Transient {
                endpoint: endpoint.clone(),
                status: None,
                sent: !(e.is_connect() || e.is_builder()),
                detail: answer_body::without_url(&e),
            })?;
            let status = response.status();
            if status == StatusCode::UNAUTHORIZED && !retried_with_fresh_token {
                if let FrameioAuth::ServerToServer(ims) = &self.auth {
                    ims.invalidate(&bearer).await;
                    retried_with_fresh_token = true;
                    continue;
                }
            }
            return self.finish(endpoint, body.as_deref(), status, response, bucket).await;
        }
    }

    async fn finish<T: DeserializeOwned>(
        &self,
        endpoint: String,
        sent: Option<&[u8]>,
        status: StatusCode,
        response: reqwest::Response,
        bucket: &'static str,
    ) -> Result<T, FrameioError> {
        let observed = Observed::from_headers(response.headers());
        if status == StatusCode::TOO_MANY_REQUESTS {
            let wait = self.limiter.refused(bucket, observed);
            return Err(FrameioError::RateLimited { endpoint, wait });
        }
        if let Some(observed) = observed {
            self.limiter.observe(bucket, observed);
        }
        let bytes = answer_body::read(response, MAX_ANSWER).await.map_err(|e| match e {
            AnswerBodyError::Broken(e) => FrameioError::Transient {
                endpoint: endpoint.clone(),
                status: Some(status.as_u16()),
                sent: true,
                detail: answer_body::without_url(&e),
            },
            AnswerBodyError::TooLarge { limit } => FrameioError::Decode {
                endpoint: endpoint.clone(),
                detail: AnswerBodyError::too_large_message(
                    limit,
                    "check that frameio.base_url is Frame.io's API (or the proxy in front of it passes its answers unchanged)",
                ),
            },
        })?;
        if status.is_success() {
            // A 204 (or any empty success) carries no body; callers that expect none ask for
            // `serde_json::Value` and get `null`.
            let bytes: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
            return serde_json::from_slice(bytes).map_err(|e| FrameioError::Decode {
                endpoint,
                detail: e.to_string(),
            });
        }
        let detail = serde_json::from_slice::<ErrorBody>(&bytes)
            .ok()
            .and_then(|b| b.summary())
            .unwrap_or_else(|| String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned());
        let code = status.as_u16();
        Err(match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => FrameioError::Auth {
                endpoint,
                status: code,
                detail,
            },
            // A 409 says the request clashed with the resource's state, which a later look and
            // retry resolve; it is not the request that is wrong.
            s if s.is_server_error() || s == StatusCode::REQUEST_TIMEOUT || s == StatusCode::CONFLICT => {
                FrameioError::Transient {
                    endpoint,
                    status: Some(code),
                    detail,
                    sent: true,
                }
            }
            _ => FrameioError::Rejected {
                exchange: Box::new(Exchange {
                    request: exchange::request_line(&endpoint, sent),
                    status: Some(code),
                    response: exchange::text_of(&bytes),
                }),
                endpoint,
                status: code,
                detail,
            },
        })
    }
}

/// IMS failures as Frame.io errors: a refused credential is an auth error (the connection is
/// broken until fixed), an unavailable IMS a transient one. No request reached Frame.io.
fn ims_error(err: ImsError) -> FrameioError {
    let endpoint = "Adobe IMS token".to_owned();
    match err {
        ImsError::Refused { status, .. } => FrameioError::Auth {
            endpoint,
            status,
            detail: err.to_string(),
        },
        ImsError::Unavailable { status, .. } => FrameioError::Transient {
            endpoint,
            status,
            detail: err.to_string(),
            sent: false,
        },
    }
}

fn decode_error(endpoint: &str, err: impl std::fmt::Display) -> FrameioError {
    FrameioError::Decode {
        endpoint: endpoint.to_owned(),
        detail: err.to_string(),
    }
}

fn member_from_wire(m: wire::MemberWire, endpoint: &str) -> Result<FrameioMember, FrameioError> {
    let (id, email, active) = match m.user {
        Some(user) => (user.id, user.email.or(m.email), user.active.unwrap_or(true)),
        None => (
            m.id.ok_or_else(|| decode_error(endpoint, "a member has neither `user` nor `id`"))?,
            m.email,
            true,
        ),
    };
    Ok(FrameioMember {
        id: FrameioUserId::new(id).map_err(|e| decode_error(endpoint, e))?,
        email,
        role: m.role,
        active,
    })
}

fn project_from_wire(p: wire::ProjectWire) -> Result<FrameioProject, FrameioError> {
    Ok(FrameioProject {
        id: FrameioProjectId::new(p.id).map_err(|e| decode_error("project", e))?,
        name: p.name,
        workspace_id: p.workspace_id.and_then(|w| FrameioWorkspaceId::new(w).ok()),
        created_at: p.created_at.as_deref().and_then(|c| Timestamp::parse(c).ok()),
        view_url: p.view_url.filter(|u| u.starts_with("https://") && u.len() <= 2048),
        owner: p.owner.and_then(|o| FrameioUserId::new(o.id).ok()),
    })
}

fn file_from_wire(f: wire::FileWire, original: Option<Secret>) -> FrameioFile {
    FrameioFile {
        id: f.id,
        name: f.name,
        view_url: f.view_url,
        size: f.file_size,
        media_type: f.media_type.filter(|m| m.len() <= 255 && !m.contains(['\r', '\n'])),
        parent: f
            .parent_id
            .filter(|p| crate::ids::FrameioVersionStackId::new(p).is_ok()),
        original,
    }
}
