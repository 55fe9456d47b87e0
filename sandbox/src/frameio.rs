//! The sandbox's Frame.io v4: me, accounts, workspaces, and a workspace's projects.

use super::{SandboxProject, Shared};
use crate::dates;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::HashMap;

pub(super) fn router(shared: Shared) -> Router {
    Router::new()
        .route("/v4/me", get(me))
        .route("/v4/accounts", get(accounts))
        .route(
            "/v4/accounts/{account}/workspaces",
            get(workspaces).post(create_workspace),
        )
        .route(
            "/v4/accounts/{account}/workspaces/{workspace}/projects",
            get(list_projects).post(create_project),
        )
        .route(
            "/v4/accounts/{account}/projects/{project}",
            get(show_project).patch(rename_project),
        )
        .route("/v4/accounts/{account}/users", get(account_users))
        .route(
            "/v4/accounts/{account}/workspaces/{workspace}/actions",
            get(list_actions).post(create_action),
        )
        .route("/v4/accounts/{account}/actions/{action}", delete(delete_action))
        .route("/v4/accounts/{account}/files/{file}", get(show_file))
        .route("/v4/accounts/{account}/version_stacks/{stack}", get(show_stack))
        .route(
            "/v4/accounts/{account}/version_stacks/{stack}/children",
            get(stack_children),
        )
        .route("/media/{file}", get(download))
        .merge(crate::review::frameio_routes(Router::new()))
        .merge(crate::uploads::routes(Router::new()))
        .route("/v4/accounts/{account}/projects/{project}/users", get(project_users))
        .route(
            "/v4/accounts/{account}/projects/{project}/users/{user}",
            patch(set_project_user).delete(remove_project_user),
        )
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            super::faults::frameio,
        ))
        .with_state(shared)
}

fn errors(status: StatusCode, title: &str, detail: &str) -> Response {
    (
        status,
        Json(json!({ "errors": [ { "title": title, "detail": detail } ] })),
    )
        .into_response()
}

/// The `data.name` of a create body, or the 422 Frame.io answers without one.
fn data_name(body: &[u8]) -> Result<String, Box<Response>> {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v["data"]["name"].as_str().map(str::to_owned))
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| {
            Box::new(errors(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Unprocessable Entity",
                "data.name is required",
            ))
        })
}

fn project_json(p: &SandboxProject) -> Value {
    json!({
        "id": p.id,
        "name": p.name,
        "workspace_id": p.workspace_id,
        "root_folder_id": format!("f-{}", p.id),
        "status": "active",
        "restricted": false,
        "created_at": dates::frameio(p.created_at),
        "updated_at": dates::frameio(p.created_at),
        "view_url": format!("https://next.frame.io/project/{}", p.id),
        "owner": { "id": p.owner_id },
    })
}

/// Who is calling: the token, its user, and the accounts it reaches (`None`: every account).
pub(crate) struct Caller {
    pub(crate) user: super::world::FrameioUser,
    accounts: Option<Vec<String>>,
}

impl Caller {
    pub(crate) fn reaches(&self, account: &str) -> bool {
        self.accounts.as_ref().is_none_or(|a| a.iter().any(|id| id == account))
    }

    /// Account `id` of `accounts`, if this caller reaches it.
    fn account<'a>(
        &self,
        accounts: &'a [super::world::FrameioAccount],
        id: &str,
    ) -> Option<&'a super::world::FrameioAccount> {
        accounts.iter().find(|a| a.id == id && self.reaches(&a.id))
    }
}

/// Checks the token, injected faults and the token's rate limit; on success returns the headers
/// to send and the caller.
pub(crate) fn admit(
    shared: &Shared,
    headers: &HeaderMap,
    class: &'static str,
) -> Result<(HeaderMap, Caller), Box<Response>> {
    let mut state = shared.lock();
    state.counts.frameio_requests += 1;
    let presented = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
        .to_owned();
    let legacy_ok = headers.get("x-frameio-legacy-token-auth").and_then(|v| v.to_str().ok()) == Some("true");
    let world = &state.world.frameio;
    // Developer tokens need the legacy header; IMS access tokens are plain bearer tokens.
    let caller = if presented == world.token && legacy_ok {
        Some(Caller {
            user: world.user.clone(),
            accounts: None,
        })
    } else {
        world
            .other_tokens
            .iter()
            .find(|t| t.token == presented && (legacy_ok || !t.legacy))
            .map(|t| Caller {
                user: t.user.clone(),
                accounts: Some(t.account_ids.clone()),
            })
    };
    let Some(caller) = caller else {
        return Err(Box::new(errors(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "invalid or missing token",
        )));
    };
    if state.faults.frameio_unavailable > 0 {
        state.faults.frameio_unavailable -= 1;
        return Err(Box::new(errors(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable",
            "sandbox: injected failure",
        )));
    }
    let (allowed, remaining, limit) = state.take(&presented, class);
    let mut out = HeaderMap::new();
    let window_ms = state.limits.window.as_millis().to_string();
    out.insert("x-ratelimit-limit", HeaderValue::from(limit));
    out.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
    out.insert(
        "x-ratelimit-window",
        HeaderValue::from_str(&window_ms).expect("digits are a header value"),
    );
    if !allowed {
        state.counts.frameio_rate_limited += 1;
        return Err(Box::new(
            (
                StatusCode::TOO_MANY_REQUESTS,
                out,
                Json(json!({ "errors": [ { "title": "Too Many Requests" } ] })),
            )
                .into_response(),
        ));
    }
    Ok((out, caller))
}

async fn me(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    let (out, caller) = match admit(&shared, &headers, "read") {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    let user = caller.user;
    (
        out,
        Json(json!({ "data": { "id": user.id, "email": user.email, "name": user.name } })),
    )
        .into_response()
}

async fn accounts(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (out, caller) = match admit(&shared, &headers, "read") {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    let items: Vec<Value> = shared
        .lock()
        .world
        .frameio
        .accounts
        .iter()
        .filter(|a| caller.reaches(&a.id))
        .map(|a| json!({ "id": a.id, "display_name": a.display_name }))
        .collect();
    page(out, items, &q, "/v4/accounts")
}

async fn workspaces(
    State(shared): State<Shared>,
    Path(account): Path<String>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (out, caller) = match admit(&shared, &headers, "read") {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    let state = shared.lock();
    let Some(acc) = caller.account(&state.world.frameio.accounts, &account) else {
        return errors(StatusCode::NOT_FOUND, "Not Found", "no such account");
    };
    let items = acc
        .workspaces
        .iter()
        .map(|w| json!({ "id": w.id, "name": w.name, "account_id": acc.id }))
        .collect();
    page(out, items, &q, &format!("/v4/accounts/{account}/workspaces"))
}

/// [`admit`], then a 404 unless the caller reaches `account` and the workspace is in it.
fn admit_to_workspace(
    shared: &Shared,
    headers: &HeaderMap,
    class: &'static str,
    account: &str,
    workspace: &str,
) -> Result<(HeaderMap, Caller), Box<Response>> {
    let (out, caller) = admit(shared, headers, class)?;
    if !caller.reaches(account) || !workspace_exists(shared, account, workspace) {
        return Err(Box::new(errors(
            StatusCode::NOT_FOUND,
            "Not Found",
            "no such workspace",
        )));
    }
    Ok((out, caller))
}

fn workspace_exists(shared: &Shared, account: &str, workspace: &str) -> bool {
    shared
        .lock()
        .world
        .frameio
        .accounts
        .iter()
        .any(|a| a.id == account && a.workspaces.iter().any(|w| w.id == workspace))
}

async fn list_projects(
    State(shared): State<Shared>,
    Path((account, workspace)): Path<(String, String)>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let out = match admit_to_workspace(&shared, &headers, "read", &account, &workspace) {
        Ok((out, _)) => out,
        Err(refusal) => return *refusal,
    };
    let items = shared
        .lock()
        .projects
        .iter()
        .filter(|p| p.account_id == account && p.workspace_id == workspace)
        .map(project_json)
        .collect();
    page(
        out,
        items,
        &q,
        &format!("/v4/accounts/{account}/workspaces/{workspace}/projects"),
    )
}

async fn create_project(
    State(shared): State<Shared>,
    Path((account, workspace)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (out, caller) = match admit_to_workspace(&shared, &headers, "create", &account, &workspace) {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    let name = match data_name(&body) {
        Ok(name) => name,
        Err(refusal) => return *refusal,
    };
    let owner = caller.user.id;
    let (project, ambiguous) = {
        let mut state = shared.lock();
        state.counts.frameio_creates += 1;
        let project = state.new_project(&name, &account, &workspace, dates::now(), &owner);
        let ambiguous = state.faults.ambiguous_creates > 0;
        if ambiguous {
            state.faults.ambiguous_creates -= 1;
        }
        (project, ambiguous)
    };
    let _ = shared.creates.send(project.clone());
    if ambiguous {
        return errors(
            StatusCode::BAD_GATEWAY,
            "Bad Gateway",
            "sandbox: the project was created but the answer was lost",
        );
    }
    (
        StatusCode::CREATED,
        out,
        Json(json!({ "data": project_json(&project) })),
    )
        .into_response()
}

async fn show_project(
    State(shared): State<Shared>,
    Path((account, project)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let (out, caller) = match admit(&shared, &headers, "read") {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    let state = shared.lock();
    match state
        .projects
        .iter()
        .find(|p| p.id == project && p.account_id == account && caller.reaches(&account))
    {
        Some(p) => (out, Json(json!({ "data": project_json(p) }))).into_response(),
        None => errors(StatusCode::NOT_FOUND, "Not Found", "no such project"),
    }
}

/// `PATCH /v4/accounts/{a}/projects/{p}` with `{"data":{"name"}}`: a rename.
async fn rename_project(
    State(shared): State<Shared>,
    Path((account, project)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (out, caller) = match admit(&shared, &headers, "project_update") {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    let name = match data_name(&body) {
        Ok(name) => name,
        Err(refusal) => return *refusal,
    };
    let mut state = shared.lock();
    let Some(p) = state
        .projects
        .iter_mut()
        .find(|p| p.id == project && p.account_id == account && caller.reaches(&account))
    else {
        return errors(StatusCode::NOT_FOUND, "Not Found", "no such project");
    };
    p.name = name;
    let json = project_json(p);
    state.counts.frameio_renames += 1;
    (out, Json(json!({ "data": json }))).into_response()
}

/// `POST /v4/accounts/{a}/workspaces` with `{"data":{"name"}}`.
async fn create_workspace(
    State(shared): State<Shared>,
    Path(account): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (out, caller) = match admit(&shared, &headers, "create") {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    let name = match data_name(&body) {
        Ok(name) => name,
        Err(refusal) => return *refusal,
    };
    let mut state = shared.lock();
    let id = format!("c0000000-0000-4000-8000-{:012x}", state.next_workspace);
    state.next_workspace += 1;
    let Some(acc) = state
        .world
        .frameio
        .accounts
        .iter_mut()
        .find(|a| a.id == account && caller.reaches(&a.id))
    else {
        return errors(StatusCode::NOT_FOUND, "Not Found", "no such account");
    };
    acc.workspaces.push(super::world::FrameioWorkspace {
        id: id.clone(),
        name: name.clone(),
    });
    (
        StatusCode::CREATED,
        out,
        Json(json!({ "data": { "id": id, "name": name, "account_id": account } })),
    )
        .into_response()
}

/// Cursor paging as Frame.io does it: `page_size` 1–100 (default 50), an opaque `after` cursor,
/// and a `links.next` that carries only the cursor.
fn page(headers: HeaderMap, items: Vec<Value>, q: &HashMap<String, String>, path: &str) -> Response {
    let size: usize = match q.get("page_size").map(|s| s.parse::<usize>()) {
        None => 50,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => {
            return errors(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Unprocessable Entity",
                "page_size must be 1-100",
            )
        }
    };
    let start: usize = match q.get("after") {
        None => 0,
        Some(cursor) => match cursor.strip_prefix("c").and_then(|n| n.parse().ok()) {
            Some(n) => n,
            None => return errors(StatusCode::BAD_REQUEST, "Bad Request", "invalid cursor"),
        },
    };
    let total = items.len();
    let data: Vec<Value> = items.into_iter().skip(start).take(size).collect();
    let next = (start + size < total).then(|| format!("{path}?after=c{}", start + size));
    (
        headers,
        Json(json!({ "data": data, "links": { "next": next }, "total_count": total })),
    )
        .into_response()
}

/// `GET /v4/accounts/{a}/users`: `[{role, user:{id,email,name,active}}]`, no email filter.
async fn account_users(
    State(shared): State<Shared>,
    Path(account): Path<String>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (out, caller) = match admit(&shared, &headers, "read") {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    let state = shared.lock();
    let Some(acc) = caller.account(&state.world.frameio.accounts, &account) else {
        return errors(StatusCode::NOT_FOUND, "Not Found", "no such account");
    };
    let items = acc
        .users
        .iter()
        .map(|u| json!({ "role": "member", "user": { "id": u.id, "email": u.email, "name": u.name, "active": true } }))
        .collect();
    page(out, items, &q, &format!("/v4/accounts/{account}/users"))
}

/// The project, if `caller` reaches it.
fn project_exists(shared: &Shared, caller: &Caller, account: &str, project: &str) -> bool {
    caller.reaches(account)
        && shared
            .lock()
            .projects
            .iter()
            .any(|p| p.id == project && p.account_id == account)
}

async fn project_users(
    State(shared): State<Shared>,
    Path((account, project)): Path<(String, String)>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (out, caller) = match admit(&shared, &headers, "read") {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    if !project_exists(&shared, &caller, &account, &project) {
        return errors(StatusCode::NOT_FOUND, "Not Found", "no such project");
    }
    let items = shared
        .lock()
        .project_users
        .get(&project)
        .map(|users| {
            users
                .iter()
                .map(|(id, role)| json!({ "role": role, "user": { "id": id } }))
                .collect()
        })
        .unwrap_or_default();
    page(
        out,
        items,
        &q,
        &format!("/v4/accounts/{account}/projects/{project}/users"),
    )
}

/// `PATCH …/projects/{p}/users/{u}` with `{"data":{"role"}}`: an upsert, limited like creates.
async fn set_project_user(
    State(shared): State<Shared>,
    Path((account, project, user)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (out, caller) = match admit(&shared, &headers, "project_user_update") {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    if !project_exists(&shared, &caller, &account, &project) {
        return errors(StatusCode::NOT_FOUND, "Not Found", "no such project");
    }
    let role = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["data"]["role"].as_str().map(str::to_owned));
    let Some(role) =
        role.filter(|r| ["full_access", "editor", "edit_only", "commenter", "viewer"].contains(&r.as_str()))
    else {
        return errors(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Unprocessable Entity",
            "data.role must be one of full_access, editor, edit_only, commenter, viewer",
        );
    };
    let mut state = shared.lock();
    let in_account = state
        .world
        .frameio
        .accounts
        .iter()
        .any(|a| a.id == account && a.users.iter().any(|u| u.id == user));
    if !in_account {
        return errors(StatusCode::NOT_FOUND, "Not Found", "no such user in the account");
    }
    state.counts.frameio_user_patches += 1;
    state
        .project_users
        .entry(project)
        .or_default()
        .insert(user.clone(), role.clone());
    (out, Json(json!({ "data": { "role": role, "user": { "id": user } } }))).into_response()
}

async fn remove_project_user(
    State(shared): State<Shared>,
    Path((account, project, user)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let (out, caller) = match admit(&shared, &headers, "project_user_delete") {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    if !project_exists(&shared, &caller, &account, &project) {
        return errors(StatusCode::NOT_FOUND, "Not Found", "no such project");
    }
    let mut state = shared.lock();
    state.counts.frameio_user_deletes += 1;
    let removed = state
        .project_users
        .get_mut(&project)
        .and_then(|users| users.remove(&user))
        .is_some();
    if !removed {
        return errors(StatusCode::NOT_FOUND, "Not Found", "the user is not on the project");
    }
    (StatusCode::NO_CONTENT, out).into_response()
}

async fn list_actions(
    State(shared): State<Shared>,
    Path((account, workspace)): Path<(String, String)>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let out = match admit_to_workspace(&shared, &headers, "read", &account, &workspace) {
        Ok((out, _)) => out,
        Err(refusal) => return *refusal,
    };
    let items = shared
        .lock()
        .actions
        .iter()
        .filter(|a| a.account_id == account && a.workspace_id == workspace)
        .map(|a| json!({ "id": a.id, "name": a.name, "url": a.url, "event": "workfront.review" }))
        .collect();
    page(
        out,
        items,
        &q,
        &format!("/v4/accounts/{account}/workspaces/{workspace}/actions"),
    )
}

/// `POST …/actions` with `{"data":{"name","description","event","url"}}`; the secret is in this
/// answer only.
async fn create_action(
    State(shared): State<Shared>,
    Path((account, workspace)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let out = match admit_to_workspace(&shared, &headers, "create", &account, &workspace) {
        Ok((out, _)) => out,
        Err(refusal) => return *refusal,
    };
    let data = serde_json::from_slice::<Value>(&body).ok().map(|v| v["data"].clone());
    let field = |k: &str| data.as_ref().and_then(|d| d[k].as_str()).map(str::to_owned);
    let (Some(name), Some(url), Some(_event)) = (field("name"), field("url"), field("event")) else {
        return errors(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Unprocessable Entity",
            "data.name, data.event and data.url are required",
        );
    };
    let mut state = shared.lock();
    let n = state.actions.len() + 1;
    let action = super::SandboxAction {
        id: format!("ac000000-0000-4000-8000-{n:012x}"),
        account_id: account,
        workspace_id: workspace,
        name,
        url,
        secret: format!("sandbox-action-secret-{n}"),
    };
    state.actions.push(action.clone());
    (
        StatusCode::CREATED,
        out,
        Json(json!({ "data": { "id": action.id, "name": action.name, "url": action.url, "secret": action.secret } })),
    )
        .into_response()
}

async fn delete_action(
    State(shared): State<Shared>,
    Path((account, action)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let (out, caller) = match admit(&shared, &headers, "create") {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    let mut state = shared.lock();
    let before = state.actions.len();
    state
        .actions
        .retain(|a| !(a.id == action && a.account_id == account && caller.reaches(&account)));
    if state.actions.len() == before {
        return errors(StatusCode::NOT_FOUND, "Not Found", "no such action");
    }
    (StatusCode::NO_CONTENT, out).into_response()
}

async fn show_file(
    State(shared): State<Shared>,
    Path((account, file)): Path<(String, String)>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (out, caller) = match admit(&shared, &headers, "read") {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    let state = shared.lock();
    let found = state.files.get(&file).filter(|f| {
        caller.reaches(&account)
            && state
                .projects
                .iter()
                .any(|p| p.id == f.project && p.account_id == account)
    });
    let Some(f) = found else {
        return errors(StatusCode::NOT_FOUND, "Not Found", "no such file");
    };
    let mut data = file_json(&file, f);
    let includes = q.get("include").map(String::as_str).unwrap_or_default();
    if includes.split(',').any(|i| i == "media_links.original") {
        // A 403 without download permission, null under a watermark, as Frame.io answers; else a
        // signed address on this server (the Host the request came to), valid without any
        // credential.
        if f.original == crate::Original::Forbidden {
            return errors(StatusCode::FORBIDDEN, "Forbidden", "no download permission");
        }
        let original = (f.original == crate::Original::Allowed).then(|| {
            let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
            json!({ "download_url": format!("http://{host}/media/{file}?signature={}", signature(&file)) })
        });
        data["media_links"] = json!({ "original": original });
    }
    (out, Json(json!({ "data": data }))).into_response()
}

/// A file as Frame.io shows it: its parent is its version stack, or the project's root folder.
fn file_json(id: &str, f: &crate::SandboxFile) -> Value {
    let project = &f.project;
    let parent = f
        .stack
        .clone()
        .or_else(|| f.folder.clone())
        .unwrap_or_else(|| format!("f-{project}"));
    json!({
        "id": id, "name": f.name, "project_id": project, "type": "file", "status": "transcoded",
        "file_size": f.content.len(), "media_type": "application/octet-stream", "parent_id": parent,
        "view_url": format!("https://next.frame.io/project/{project}/view/{id}")
    })
}

/// The files of a version stack `caller` reaches in `account`, oldest first.
fn stack_files<'a>(
    state: &'a crate::State,
    caller: &Caller,
    account: &str,
    stack: &str,
) -> Option<Vec<(&'a String, &'a crate::SandboxFile)>> {
    let ids = state.stacks.get(stack)?;
    let files: Vec<_> = ids
        .iter()
        .filter_map(|id| state.files.get_key_value(id))
        .filter(|(_, f)| {
            caller.reaches(account)
                && state
                    .projects
                    .iter()
                    .any(|p| p.id == f.project && p.account_id == account)
        })
        .collect();
    (!files.is_empty()).then_some(files)
}

/// `GET /version_stacks/{id}`: the stack and its head version.
async fn show_stack(
    State(shared): State<Shared>,
    Path((account, stack)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let (out, caller) = match admit(&shared, &headers, "read") {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    let state = shared.lock();
    let Some(files) = stack_files(&state, &caller, &account, &stack) else {
        return errors(StatusCode::NOT_FOUND, "Not Found", "no such version stack");
    };
    let (head_id, head) = files.last().expect("a stack has files");
    let data = json!({
        "id": stack, "type": "version_stack", "name": head.name, "project_id": head.project,
        "head_version": file_json(head_id, head)
    });
    (out, Json(json!({ "data": data }))).into_response()
}

/// `GET /version_stacks/{id}/children`: its files, newest first, in one page.
async fn stack_children(
    State(shared): State<Shared>,
    Path((account, stack)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let (out, caller) = match admit(&shared, &headers, "read") {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    let state = shared.lock();
    let Some(files) = stack_files(&state, &caller, &account, &stack) else {
        return errors(StatusCode::NOT_FOUND, "Not Found", "no such version stack");
    };
    let data: Vec<Value> = files.iter().rev().map(|(id, f)| file_json(id, f)).collect();
    (out, Json(json!({ "data": data, "links": { "next": null } }))).into_response()
}

/// The signature of a file's download address.
fn signature(file: &str) -> String {
    let mut digest = crate::files::Digest::default();
    digest.update(file.as_bytes());
    format!("{:016x}", digest.0)
}

/// `GET /media/{file}?signature=…`: the original, streamed. Like S3, it refuses a request that
/// also carries an `Authorization` header, and a wrong signature.
async fn download(
    State(shared): State<Shared>,
    Path(file): Path<String>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if headers.contains_key("authorization") {
        return errors(
            StatusCode::BAD_REQUEST,
            "Bad Request",
            "only one auth mechanism allowed",
        );
    }
    if q.get("signature") != Some(&signature(&file)) {
        return errors(StatusCode::FORBIDDEN, "Forbidden", "signature does not match");
    }
    let content = {
        let mut state = shared.lock();
        state.counts.frameio_downloads += 1;
        match state.files.get(&file) {
            Some(f) => f.content.clone(),
            None => return errors(StatusCode::NOT_FOUND, "Not Found", "no such file"),
        }
    };
    let length = content.len();
    (
        [
            ("content-type", "application/octet-stream".to_owned()),
            ("content-length", length.to_string()),
        ],
        axum::body::Body::from_stream(content.stream()),
    )
        .into_response()
}
