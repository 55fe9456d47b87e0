//! The Workfront REST client: searches with paging, the error envelope, and a cap on requests in
//! flight (Workfront limits concurrent requests per customer, not requests per minute).

use super::error::WorkfrontError;
use super::wire::{Envelope, GroupRow, ProjectRow, UserRow};
use crate::answer_body::{self, AnswerBodyError};
use crate::config::{WorkfrontAuth, WorkfrontSettings};
use crate::core::model::{WorkfrontGroup, WorkfrontProject, WorkfrontUser};
use crate::exchange::{self, Exchange};
use crate::ids::{WorkfrontGroupId, WorkfrontProjectId, WorkfrontUserId};
use crate::ims::{ImsError, ImsTokenSource};
use crate::retry::retry_read;
use crate::secret::Secret;
use crate::timestamp::Timestamp;
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// The largest answer read: a search page of 2,000 projects with their teams, or users with their
/// custom fields, is a few MiB.
const MAX_ANSWER: usize = 64 << 20;

/// Projects come with their team (`projectUsers`): team membership has no events and no change
/// filter, so every sync reads it whole, in the same pages as the projects.
const PROJECT_FIELDS: &str = "ID,name,groupID,status,lastUpdateDate,projectUsers:userID";
const USER_FIELDS: &str = "ID,name,emailAddr,isActive,lastUpdateDate";
const GROUP_FIELDS: &str = "ID,name,parentID";

/// How requests authenticate: an API key (`apiKey` header), or an IMS access token sent as
/// `Authorization: Bearer` with the organization in `x-gw-ims-org-id`, as Adobe's own client does.
#[derive(Clone)]
enum Auth {
    ApiKey(Secret),
    ServerToServer { ims: Arc<ImsTokenSource>, org_id: String },
}

#[derive(Clone)]
pub struct WorkfrontClient {
    http: reqwest::Client,
    /// `https://host/attask/api/v21.0/`.
    api_base: Url,
    /// `https://host/attask/eventsubscription/api/v1/subscriptions`.
    pub(super) subscriptions_url: Url,
    auth: Auth,
    in_flight: Arc<Semaphore>,
    page_size: usize,
    user_field: String,
    link_field: Option<String>,
    calls: Arc<AtomicU64>,
}

impl std::fmt::Debug for WorkfrontClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkfrontClient")
            .field("api_base", &self.api_base.as_str())
            .field("page_size", &self.page_size)
            .finish_non_exhaustive()
    }
}

impl WorkfrontClient {
    /// The Developer Console client id of an IMS credential (the Unified Approvals API's
    /// `x-api-key`); `None` with an API key.
    pub fn ims_client_id(&self) -> Option<String> {
        match &self.auth {
            Auth::ServerToServer { ims, .. } => Some(ims.client_id().to_owned()),
            Auth::ApiKey(_) => None,
        }
    }

    pub fn new(settings: &WorkfrontSettings) -> Self {
        let mut api_base = settings.base_url.clone();
        // Keep any path prefix the admin configured (a proxy), then add the pinned API version.
        let prefix = api_base.path().trim_end_matches('/').to_owned();
        api_base.set_path(&format!("{prefix}/attask/api/{}/", settings.api_version));
        let mut subscriptions_url = settings.base_url.clone();
        subscriptions_url.set_path(&format!("{prefix}/attask/eventsubscription/api/v1/subscriptions"));
        Self {
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .timeout(Duration::from_secs(60))
                .user_agent(concat!("frameio-sync/", env!("CARGO_PKG_VERSION")))
                .build()
                .expect("a reqwest client with static settings builds"),
            api_base,
            subscriptions_url,
            auth: match &settings.auth {
                WorkfrontAuth::ApiKey(key) => Auth::ApiKey(key.clone()),
                WorkfrontAuth::ServerToServer { credentials, org_id } => Auth::ServerToServer {
                    ims: Arc::new(ImsTokenSource::new(credentials.clone())),
                    org_id: org_id.clone(),
                },
            },
            in_flight: Arc::new(Semaphore::new(settings.max_in_flight)),
            page_size: settings.page_size,
            user_field: settings.frameio_user_field.clone(),
            link_field: settings.link_field.clone(),
            calls: Arc::new(AtomicU64::new(0)),
        }
    }

    /// HTTP requests sent so far (for sync reports and benchmarks).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// The cheapest request that proves the tenant answers and accepts the key: one project ID
    /// (with the link field, when one is set, so a field Workfront does not know stops the start
    /// rather than every sync).
    pub async fn check(&self) -> Result<(), WorkfrontError> {
        let fields = match &self.link_field {
            Some(link) => format!("ID,{link}"),
            None => "ID".to_owned(),
        };
        let query = [
            ("fields", fields),
            ("$$FIRST", "0".to_owned()),
            ("$$LIMIT", "1".to_owned()),
            ("ID_Sort", "asc".to_owned()),
        ];
        retry_read("proj/search", || {
            self.get::<serde_json::Value>(&["proj", "search"], &query)
        })
        .await?;
        Ok(())
    }

    /// One object by id with the given fields (`GET /<obj>/<id>?fields=…`), retried like reads.
    pub(super) async fn get_object<T: DeserializeOwned>(
        &self,
        obj: &str,
        id: &str,
        fields: &str,
    ) -> Result<T, WorkfrontError> {
        let endpoint = format!("{obj}/{id}");
        let query = [("fields", fields.to_owned())];
        let segments = [obj, id];
        retry_read(&endpoint, || self.get(&segments, &query)).await
    }

    /// Every project (with its team), or those updated at or after `since`.
    pub async fn search_projects(&self, since: Option<Timestamp>) -> Result<Vec<WorkfrontProject>, WorkfrontError> {
        // Each user id is kept once however many teams it is on: teams are most of a sync's memory.
        let mut ids = HashSet::new();
        let fields = match &self.link_field {
            Some(link) => format!("{PROJECT_FIELDS},{link}"),
            None => PROJECT_FIELDS.to_owned(),
        };
        let link_field = self.link_field.as_deref();
        self.search_all("proj", fields, since, |row| project_from_row(row, link_field, &mut ids))
            .await
    }

    /// One project's team (event payloads carry none).
    pub async fn project_team(&self, id: &WorkfrontProjectId) -> Result<Vec<WorkfrontUserId>, WorkfrontError> {
        let row: ProjectRow = self.get_object("proj", id.as_str(), "ID,projectUsers:userID").await?;
        Ok(row
            .project_users
            .into_iter()
            .filter_map(|m| m.user_id)
            .filter_map(|u| WorkfrontUserId::new(u).ok())
            .collect())
    }

    /// Every group with its parent (the routing tree of F2).
    pub async fn search_groups(&self) -> Result<Vec<WorkfrontGroup>, WorkfrontError> {
        self.search_all("group", GROUP_FIELDS.to_owned(), None, group_from_row)
            .await
    }

    /// One group; [`WorkfrontError::NotFound`] when it does not exist.
    pub async fn group(&self, id: &WorkfrontGroupId) -> Result<WorkfrontGroup, WorkfrontError> {
        let row: GroupRow = self.get_object("group", id.as_str(), GROUP_FIELDS).await?;
        group_from_row(row).ok_or_else(|| WorkfrontError::Decode {
            endpoint: format!("group/{id}"),
            message: "the group's ID is unusable".into(),
        })
    }

    /// Every user, or those updated at or after `since`, with the Frame.io flag field.
    pub async fn search_users(&self, since: Option<Timestamp>) -> Result<Vec<WorkfrontUser>, WorkfrontError> {
        let fields = format!("{USER_FIELDS},{}", self.user_field);
        self.search_all("user", fields, since, |row: UserRow| {
            user_from_row(row, &self.user_field)
        })
        .await
    }

    /// Pages through `/<obj>/search` with `$$FIRST`/`$$LIMIT` and `ID_Sort=asc` (without a sort,
    /// Workfront's pages can repeat or skip rows). A page shorter than the limit is the last.
    /// Each page's rows are converted (`convert`; `None` skips a row) before the next is read, so
    /// only one page of wire rows is ever held: a tenant's projects and their teams, read whole by
    /// every sync, would otherwise be held twice.
    async fn search_all<R: DeserializeOwned, T>(
        &self,
        obj: &str,
        fields: String,
        since: Option<Timestamp>,
        convert: impl FnMut(R) -> Option<T>,
    ) -> Result<Vec<T>, WorkfrontError> {
        self.search_all_where(obj, fields, since, &[], convert).await
    }

    /// [`Self::search_all`] with more filters (`status=CPL&status_Mod=ne`, say), sent on every page.
    pub(super) async fn search_all_where<R: DeserializeOwned, T>(
        &self,
        obj: &str,
        fields: String,
        since: Option<Timestamp>,
        filters: &[(&str, String)],
        mut convert: impl FnMut(R) -> Option<T>,
    ) -> Result<Vec<T>, WorkfrontError> {
        let mut out = Vec::new();
        let mut read = 0;
        loop {
            let mut query = vec![
                ("fields", fields.clone()),
                ("$$FIRST", read.to_string()),
                ("$$LIMIT", self.page_size.to_string()),
                ("ID_Sort", "asc".to_owned()),
            ];
            if let Some(since) = since {
                query.push(("lastUpdateDate", since.to_iso_utc()));
                query.push(("lastUpdateDate_Mod", "gte".to_owned()));
            }
            query.extend(filters.iter().cloned());
            let endpoint = format!("{obj}/search");
            let segments = [obj, "search"];
            let page: Vec<R> = retry_read(&endpoint, || self.get(&segments, &query)).await?;
            let n = page.len();
            read += n;
            out.extend(page.into_iter().filter_map(&mut convert));
            if n < self.page_size {
                return Ok(out);
            }
        }
    }

    /// The URL of `segments` under the API base, each segment encoded (`url_segments.rs`).
    pub(super) fn url(&self, segments: &[&str]) -> Url {
        crate::url_segments::under(&self.api_base, segments)
    }

    pub(super) async fn get<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> Result<T, WorkfrontError> {
        let endpoint = segments.join("/");
        let url = self.url(segments);
        let (status, body) = self.exchange(Method::GET, url, query, None, &endpoint).await?;
        decode(&endpoint, status, &body)
    }

    /// A write (`POST /<endpoint>`) whose answer is in the usual envelope. Not retried: the caller
    /// decides, since a create whose answer was lost may have happened.
    pub(super) async fn post<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
        body: Option<(Vec<u8>, String)>,
    ) -> Result<T, WorkfrontError> {
        self.write(Method::POST, segments, query, body).await
    }

    /// A write (`POST` or `PUT /<endpoint>`) whose answer is in the usual envelope. Not retried.
    pub(super) async fn write<T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, String)],
        body: Option<(Vec<u8>, String)>,
    ) -> Result<T, WorkfrontError> {
        let endpoint = segments.join("/");
        let url = self.url(segments);
        let (status, answer) = self
            .exchange(method.clone(), url, query, body.as_ref(), &endpoint)
            .await?;
        decode(&endpoint, status, &answer).map_err(|e| {
            e.with_exchange(|| {
                let fields: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let line = match fields.is_empty() {
                    true => format!("{method} /{endpoint}"),
                    false => format!("{method} /{endpoint}?{}", fields.join("&")),
                };
                Exchange {
                    request: exchange::request_line(&line, body.as_ref().map(|(bytes, _)| bytes.as_slice())),
                    status: Some(status.as_u16()),
                    response: exchange::text_of(&answer),
                }
            })
        })
    }

    /// A search by the given filters (retried like reads), one page of up to `$$LIMIT` rows.
    pub(super) async fn search_where<T: DeserializeOwned>(
        &self,
        obj: &str,
        filters: &[(&str, String)],
        fields: &str,
    ) -> Result<Vec<T>, WorkfrontError> {
        let endpoint = format!("{obj}/search");
        let mut query = vec![
            ("fields", fields.to_owned()),
            ("$$LIMIT", self.page_size.to_string()),
            ("ID_Sort", "asc".to_owned()),
        ];
        query.extend(filters.iter().cloned());
        let segments = [obj, "search"];
        retry_read(&endpoint, || self.get(&segments, &query)).await
    }

    /// Sends one request with the client's authentication, within the in-flight cap, and returns
    /// the status and body whatever they are. An IMS token Workfront no longer accepts (401) is
    /// dropped and the request tried once more with a fresh one.
    pub(super) async fn exchange(
        &self,
        method: Method,
        url: Url,
        query: &[(&str, String)],
        body: Option<&(Vec<u8>, String)>,
        endpoint: &str,
    ) -> Result<(StatusCode, Vec<u8>), WorkfrontError> {
        self.exchange_with_headers(method, url, query, body, &[], endpoint)
            .await
    }

    /// [`Self::exchange`] with more headers (the Unified Approvals API's `wf-*` headers).
    pub(super) async fn exchange_with_headers(
        &self,
        method: Method,
        url: Url,
        query: &[(&str, String)],
        body: Option<&(Vec<u8>, String)>,
        headers: &[(&'static str, String)],
        endpoint: &str,
    ) -> Result<(StatusCode, Vec<u8>), WorkfrontError> {
        let _permit = self.in_flight.acquire().await.expect("the semaphore is never closed");
        let mut retried_with_fresh_token = false;
        loop {
            self.calls.fetch_add(1, Ordering::Relaxed);
            let mut request = self.http.request(method.clone(), url.clone()).query(query);
            for (name, value) in headers {
                request = request.header(*name, value.as_str());
            }
            if let Some((bytes, content_type)) = body {
                request = request
                    .header("content-type", content_type.as_str())
                    .body(bytes.clone());
            }
            let (response, bearer) = self.send_authorized(request, endpoint).await?;
            let status = response.status();
            if status == StatusCode::UNAUTHORIZED && !retried_with_fresh_token {
                if let Some((ims, token)) = bearer {
                    ims.invalidate(&token).await;
                    retried_with_fresh_token = true;
                    continue;
                }
            }
            let body = self.answer(response, status, endpoint).await?;
            return Ok((status, body));
        }
    }

    /// Sends a write whose body is a stream (an upload), with its own `timeout` (an upload
    /// takes minutes), within the in-flight cap. Not retried, not even after a 401 with a fresh
    /// IMS token: the stream is spent; the outbox tries again.
    pub(super) async fn exchange_stream(
        &self,
        url: Url,
        body: reqwest::Body,
        content_type: &str,
        length: Option<u64>,
        timeout: Duration,
        endpoint: &str,
    ) -> Result<(StatusCode, Vec<u8>), WorkfrontError> {
        let _permit = self.in_flight.acquire().await.expect("the semaphore is never closed");
        self.calls.fetch_add(1, Ordering::Relaxed);
        let mut request = self
            .http
            .post(url)
            .timeout(timeout)
            .header("content-type", content_type)
            .body(body);
        if let Some(length) = length {
            request = request.header("content-length", length);
        }
        let (response, bearer) = self.send_authorized(request, endpoint).await?;
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED {
            if let Some((ims, token)) = bearer {
                ims.invalidate(&token).await;
            }
        }
        let answer = self.answer(response, status, endpoint).await?;
        Ok((status, answer))
    }

    /// Opens a download on the tenant's host (a document's file), authorized like any request and
    /// counted in the in-flight cap until its last byte: its status, declared length and bytes.
    /// `timeout` covers the whole download.
    pub(super) async fn download_stream(
        &self,
        url: Url,
        timeout: Duration,
        endpoint: &str,
    ) -> Result<
        (
            StatusCode,
            Option<u64>,
            futures_util::stream::BoxStream<'static, Result<bytes::Bytes, std::io::Error>>,
        ),
        WorkfrontError,
    > {
        use futures_util::StreamExt;
        let permit = self
            .in_flight
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        self.calls.fetch_add(1, Ordering::Relaxed);
        let request = self.http.get(url).timeout(timeout);
        let (response, bearer) = self.send_authorized(request, endpoint).await?;
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED {
            if let Some((ims, token)) = bearer {
                ims.invalidate(&token).await;
            }
        }
        let length = response.content_length();
        let chunks = response
            .bytes_stream()
            .map(move |chunk| {
                // The slot in the in-flight cap is held until the stream is dropped.
                let _held = &permit;
                chunk.map_err(|e| std::io::Error::other(answer_body::without_url(&e)))
            })
            .boxed();
        Ok((status, length, chunks))
    }

    /// The tenant's web origin (scheme, host, port), which relative download addresses are on.
    pub(super) fn origin(&self) -> Url {
        let mut origin = self.api_base.clone();
        origin.set_path("/");
        origin.set_query(None);
        origin
    }

    /// Sends `request` with the client's credential: the API key, or a (cached) IMS access token
    /// and the organization, returned with the answer so a 401 can drop it. No answer is a
    /// transient error.
    async fn send_authorized(
        &self,
        request: reqwest::RequestBuilder,
        endpoint: &str,
    ) -> Result<(reqwest::Response, Option<(&Arc<ImsTokenSource>, Secret)>), WorkfrontError> {
        let (request, bearer) = match &self.auth {
            Auth::ApiKey(key) => (request.header("apiKey", key.expose()), None),
            Auth::ServerToServer { ims, org_id } => {
                let token = ims.access_token().await.map_err(|e| match e {
                    ImsError::Refused { status, .. } => WorkfrontError::Auth {
                        endpoint: endpoint.to_owned(),
                        status,
                        message: e.to_string(),
                    },
                    ImsError::Unavailable { status, .. } => WorkfrontError::Transient {
                        endpoint: endpoint.to_owned(),
                        status,
                        message: e.to_string(),
                    },
                })?;
                let request = request.bearer_auth(token.expose()).header("x-gw-ims-org-id", org_id);
                (request, Some((ims, token)))
            }
        };
        let started = std::time::Instant::now();
        let sent = request.send().await;
        crate::metrics::record_request(
            crate::metrics::System::Workfront,
            &endpoint_class(endpoint),
            sent.as_ref().ok().map(|r| r.status().as_u16()),
            started.elapsed(),
        );
        let response = sent.map_err(|e| WorkfrontError::Transient {
            endpoint: endpoint.to_owned(),
            status: None,
            message: answer_body::without_url(&e),
        })?;
        Ok((response, bearer))
    }

    /// An answer's body, within [`MAX_ANSWER`].
    async fn answer(
        &self,
        response: reqwest::Response,
        status: StatusCode,
        endpoint: &str,
    ) -> Result<Vec<u8>, WorkfrontError> {
        answer_body::read(response, MAX_ANSWER).await.map_err(|e| match e {
            AnswerBodyError::Broken(e) => WorkfrontError::Transient {
                endpoint: endpoint.to_owned(),
                status: Some(status.as_u16()),
                message: answer_body::without_url(&e),
            },
            AnswerBodyError::TooLarge { limit } => WorkfrontError::Decode {
                endpoint: endpoint.to_owned(),
                message: AnswerBodyError::too_large_message(
                    limit,
                    "lower workfront.page_size, or check that workfront.base_url is the tenant",
                ),
            },
        })
    }
}

/// Classifies an answer: status first, then the envelope (a 200 may still carry an `error`).
pub(super) fn decode<T: DeserializeOwned>(
    endpoint: &str,
    status: StatusCode,
    body: &[u8],
) -> Result<T, WorkfrontError> {
    let envelope: Result<Envelope<T>, _> = serde_json::from_slice(body);
    let endpoint = endpoint.to_owned();
    let (class, message) = match &envelope {
        Ok(Envelope { error: Some(e), .. }) => (
            e.class.clone().unwrap_or_else(|| "error".into()),
            e.message.clone().unwrap_or_default(),
        ),
        _ => (
            "error".to_owned(),
            String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
        ),
    };
    let code = status.as_u16();
    if status == StatusCode::UNAUTHORIZED
        || status == StatusCode::FORBIDDEN
        || class.contains("AuthenticationException")
    {
        return Err(WorkfrontError::Auth {
            endpoint,
            status: code,
            message,
        });
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        return Err(WorkfrontError::TooManyRequests { endpoint, message });
    }
    if status == StatusCode::NOT_FOUND || class.contains("NotFound") {
        return Err(WorkfrontError::NotFound {
            endpoint,
            message,
            exchange: None,
        });
    }
    // A 409 is a clash with the object's state that a later look and retry resolve.
    if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT || status == StatusCode::CONFLICT {
        return Err(WorkfrontError::Transient {
            endpoint,
            status: Some(code),
            message,
        });
    }
    match envelope {
        Ok(Envelope { error: Some(_), .. }) => Err(WorkfrontError::Rejected {
            endpoint,
            status: code,
            class,
            message,
            exchange: None,
        }),
        _ if !status.is_success() => Err(WorkfrontError::Rejected {
            endpoint,
            status: code,
            class,
            message,
            exchange: None,
        }),
        Ok(Envelope { data: Some(data), .. }) => Ok(data),
        Ok(Envelope { data: None, .. }) => Err(WorkfrontError::Decode {
            endpoint,
            message: "the answer has neither `data` nor `error`".into(),
        }),
        Err(e) => Err(WorkfrontError::Decode {
            endpoint,
            message: e.to_string(),
        }),
    }
}

/// A project row as a value; team members' ids are taken from (or added to) `ids`, so each id is
/// one allocation however many teams it is on.
fn project_from_row(
    row: ProjectRow,
    link_field: Option<&str>,
    ids: &mut HashSet<WorkfrontUserId>,
) -> Option<WorkfrontProject> {
    let id = match WorkfrontProjectId::new(row.id) {
        Ok(id) => id,
        Err(err) => {
            tracing::error!(error = %err, "skipping a Workfront project row with an unusable ID");
            return None;
        }
    };
    let group_id = row.group_id.and_then(|g| match WorkfrontGroupId::new(g) {
        Ok(g) => Some(g),
        Err(err) => {
            tracing::warn!(project = %id, error = %err, "ignoring an unusable groupID");
            None
        }
    });
    let last_update = row.last_update_date.as_deref().and_then(|d| match Timestamp::parse(d) {
        Ok(ts) => Some(ts),
        Err(err) => {
            tracing::warn!(project = %id, error = %err, "ignoring an unreadable lastUpdateDate");
            None
        }
    });
    // Collected into an exact-size vector: collecting in place would keep the wire rows' larger
    // buffer for every project of the tenant.
    let mut team = Vec::with_capacity(row.project_users.len());
    team.extend(row.project_users.into_iter().filter_map(|m| m.user_id).filter_map(|u| {
        if let Some(known) = ids.get(u.as_str()) {
            return Some(known.clone());
        }
        match WorkfrontUserId::new(u) {
            Ok(u) => {
                ids.insert(u.clone());
                Some(u)
            }
            Err(err) => {
                tracing::warn!(project = %id, error = %err, "ignoring a team member with an unusable userID");
                None
            }
        }
    }));
    // A link is only ever parsed for a Frame.io project id; a long one is not a link of ours.
    let link = link_field
        .and_then(|field| row.custom.iter().find(|(f, _)| f == field))
        .map(|(_, value)| value.trim())
        .filter(|l| !l.is_empty() && l.len() <= 2048)
        .map(str::to_owned);
    Some(WorkfrontProject {
        name: row.name.unwrap_or_else(|| id.to_string()),
        team,
        link,
        id,
        group_id,
        status: row.status,
        last_update,
    })
}

fn group_from_row(row: GroupRow) -> Option<WorkfrontGroup> {
    let id = match WorkfrontGroupId::new(row.id) {
        Ok(id) => id,
        Err(err) => {
            tracing::error!(error = %err, "skipping a Workfront group row with an unusable ID");
            return None;
        }
    };
    Some(WorkfrontGroup {
        name: row.name.unwrap_or_else(|| id.to_string()),
        parent: row.parent_id.and_then(|p| WorkfrontGroupId::new(p).ok()),
        id,
    })
}

fn user_from_row(row: UserRow, flag_field: &str) -> Option<WorkfrontUser> {
    let id = match WorkfrontUserId::new(row.id) {
        Ok(id) => id,
        Err(err) => {
            tracing::error!(error = %err, "skipping a Workfront user row with an unusable ID");
            return None;
        }
    };
    let flag = row.rest.get(flag_field).and_then(|v| v.as_str()).unwrap_or("");
    Some(WorkfrontUser {
        name: row.name.unwrap_or_default(),
        email: row.email_addr,
        is_active: row.is_active.unwrap_or(true),
        frameio_flag: flag.eq_ignore_ascii_case("yes"),
        last_update: row.last_update_date.as_deref().and_then(|d| Timestamp::parse(d).ok()),
        id,
    })
}

/// An endpoint's class for metrics: its object code (and `/search`), never an id.
fn endpoint_class(endpoint: &str) -> String {
    let mut segments = endpoint.split('/');
    let first = segments.next().unwrap_or_default();
    match segments.next() {
        Some("search") => format!("{first}/search"),
        _ => first.chars().take(40).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retry::{Classify, ErrorClass};

    #[track_caller]
    fn check(status: u16, body: &str, expected: ErrorClass) {
        let status = StatusCode::from_u16(status).unwrap();
        let err = decode::<serde_json::Value>("proj/search", status, body.as_bytes()).unwrap_err();
        assert_eq!(err.class(), expected, "{status} {body}: {err}");
    }

    #[test]
    fn every_status_and_envelope_is_classified() {
        check(
            429,
            r#"{"error":{"message":"Too many concurrent API requests"}}"#,
            ErrorClass::Transient,
        );
        check(500, "oops", ErrorClass::Transient);
        check(503, "", ErrorClass::Transient);
        check(408, "", ErrorClass::Transient);
        check(401, "{}", ErrorClass::Auth);
        check(403, "{}", ErrorClass::Auth);
        check(
            200,
            r#"{"error":{"class":"com.attask.common.AuthenticationException"}}"#,
            ErrorClass::Auth,
        );
        check(200, r#"{"error":{"class":"x","message":"bad"}}"#, ErrorClass::Permanent);
        check(400, r#"{"error":{"message":"bad"}}"#, ErrorClass::Permanent);
        check(404, "not json", ErrorClass::Permanent);
        check(
            200,
            r#"{"error":{"class":"com.attask.common.NotFoundException"}}"#,
            ErrorClass::Permanent,
        );
        check(410, "{}", ErrorClass::Permanent);
        check(200, "[]", ErrorClass::Permanent);
    }

    #[test]
    fn data_is_returned_from_a_clean_envelope() {
        let data: Vec<u32> = decode("x", StatusCode::OK, br#"{"data":[1,2]}"#).unwrap();
        assert_eq!(data, [1, 2]);
    }

    #[test]
    fn endpoint_classes_never_hold_an_id() {
        assert_eq!(endpoint_class("proj/search"), "proj/search");
        assert_eq!(endpoint_class("docu/5d0c00000000000000000000000001"), "docu");
        assert_eq!(endpoint_class("CSTEM/projectGroupStatuses"), "CSTEM");
        assert_eq!(endpoint_class("upload"), "upload");
    }
}
