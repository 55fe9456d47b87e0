//! The review loop's side of the sandbox: Workfront's approvals (the Unified Approvals API under
//! `/workfront-approvals/`, with the IMS tokens this server hands out at `/ims/token/v3`, and
//! legacy `DOCAPL` rows), and Frame.io's metadata fields, their values on files, and comments.
//! Shapes follow `shared/reference/review-loop-api.md` and Adobe's OpenAPI file for Unified
//! Approvals.

use super::{Sandbox, Shared};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};

/// The customer id every sandbox user carries (`wf-customerid`).
pub const CUSTOMER_ID: &str = "sandbox-customer";

/// What the review loop keeps.
#[derive(Debug, Default)]
pub(crate) struct ReviewWorld {
    /// Unified approvals by document version; `None` until one is made.
    unified: BTreeMap<String, Value>,
    /// Legacy document approvals (`DOCAPL` rows).
    legacy: Vec<Value>,
    /// Which systems this tenant has (both, unless a test takes one away).
    pub(crate) no_unified: bool,
    pub(crate) no_legacy: bool,
    /// IMS access tokens handed out for Workfront.
    ims_issued: u64,
    /// The `wf-*` headers of each Unified Approvals request.
    unified_headers: Vec<BTreeMap<String, String>>,
    /// Frame.io field definitions by account.
    fields: BTreeMap<String, Vec<Value>>,
    /// Frame.io metadata values: file → field id → option ids.
    values: HashMap<String, BTreeMap<String, Vec<String>>>,
    /// Frame.io comments by file.
    comments: HashMap<String, Vec<Value>>,
    pub(crate) value_writes: u64,
    /// Unified approval creates taken (a second create on a version counts too).
    unified_creates: u64,
    /// Frame.io workspace webhooks, with their secrets.
    webhooks: Vec<Value>,
}

const LEGACY_STATUSES: [(&str, &str); 3] = [("NEW", "Awaiting Approval"), ("APR", "Approved"), ("REJ", "Rejected")];

/// The Workfront side: IMS tokens, Unified Approvals, legacy approvals.
pub(super) fn workfront_routes(router: Router<Shared>) -> Router<Shared> {
    router
        .route("/ims/token/v3", post(ims_token))
        .route(
            "/workfront-approvals/api/v1/approvals/search/DOCV",
            post(search_unified),
        )
        .route(
            "/workfront-approvals/api/v1/approvals/DOCV/{version}",
            get(show_unified).post(create_unified),
        )
        .route("/attask/api/{version}/docapl/metadata", get(legacy_metadata))
        .route("/attask/api/{version}/docapl/search", get(search_legacy))
        .route("/attask/api/{version}/docapl", post(create_legacy))
        .route("/attask/api/{version}/docapl/{id}/notifyApprover", put(notify_legacy))
}

/// The Frame.io side: field definitions, values, comments.
pub(super) fn frameio_routes(router: Router<Shared>) -> Router<Shared> {
    router
        .route(
            "/v4/accounts/{account}/metadata/field_definitions",
            get(list_fields).post(create_field),
        )
        .route(
            "/v4/accounts/{account}/projects/{project}/metadata/values",
            axum::routing::patch(set_values),
        )
        .route(
            "/v4/accounts/{account}/files/{file}/comments",
            get(list_comments).post(create_comment),
        )
        .route("/v4/accounts/{account}/comments/{comment}", get(show_comment))
        .route(
            "/v4/accounts/{account}/workspaces/{workspace}/webhooks",
            get(list_webhooks).post(create_webhook),
        )
        .route(
            "/v4/accounts/{account}/webhooks/{webhook}",
            axum::routing::delete(delete_webhook),
        )
}

async fn list_webhooks(
    State(shared): State<Shared>,
    Path((account, workspace)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let (out, caller) = match super::frameio::admit(&shared, &headers, "read") {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    if !caller.reaches(&account) {
        return frameio_error(StatusCode::NOT_FOUND, "no such account");
    }
    let state = shared.lock();
    let hooks: Vec<Value> = state
        .review
        .webhooks
        .iter()
        .filter(|w| w["account_id"] == account.as_str() && w["workspace_id"] == workspace.as_str())
        .map(|w| {
            let mut shown = w.clone();
            if let Some(fields) = shown.as_object_mut() {
                fields.remove("secret");
            }
            shown
        })
        .collect();
    (out, Json(json!({ "data": hooks, "links": { "next": null } }))).into_response()
}

async fn create_webhook(
    State(shared): State<Shared>,
    Path((account, workspace)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let (out, caller) = match super::frameio::admit(&shared, &headers, "create") {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    if !caller.reaches(&account) {
        return frameio_error(StatusCode::NOT_FOUND, "no such account");
    }
    let data = &body["data"];
    let (Some(name), Some(url), Some(events)) =
        (data["name"].as_str(), data["url"].as_str(), data["events"].as_array())
    else {
        return frameio_error(StatusCode::UNPROCESSABLE_ENTITY, "name, url and events are required");
    };
    let mut state = shared.lock();
    let n = state.review.webhooks.len() + 1;
    let hook = json!({
        "id": format!("c0000000-0000-4000-8000-{n:012x}"), "name": name, "url": url, "events": events,
        "account_id": account, "workspace_id": workspace, "active": true,
        "secret": format!("webhook-secret-{n}"),
    });
    state.review.webhooks.push(hook.clone());
    (out, (StatusCode::CREATED, Json(json!({ "data": hook })))).into_response()
}

async fn delete_webhook(
    State(shared): State<Shared>,
    Path((account, webhook)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let (out, caller) = match super::frameio::admit(&shared, &headers, "delete") {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    let mut state = shared.lock();
    let before = state.review.webhooks.len();
    state
        .review
        .webhooks
        .retain(|w| !(caller.reaches(&account) && w["account_id"] == account.as_str() && w["id"] == webhook.as_str()));
    if state.review.webhooks.len() == before {
        return frameio_error(StatusCode::NOT_FOUND, "no such webhook");
    }
    (out, StatusCode::NO_CONTENT).into_response()
}

async fn show_comment(
    State(shared): State<Shared>,
    Path((account, comment)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let (out, caller) = match super::frameio::admit(&shared, &headers, "comments") {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    let state = shared.lock();
    let found = caller
        .reaches(&account)
        .then(|| {
            state
                .review
                .comments
                .values()
                .flatten()
                .find(|c| c["id"] == comment.as_str())
        })
        .flatten();
    match found {
        Some(c) => (out, Json(json!({ "data": c }))).into_response(),
        None => frameio_error(StatusCode::NOT_FOUND, "no such comment"),
    }
}

/// Whether `headers` carry a Workfront IMS token this sandbox issued.
pub(crate) fn has_workfront_ims_token(state: &super::State, headers: &HeaderMap) -> bool {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|t| t.strip_prefix("wf-ims-"))
        .and_then(|n| n.parse::<u64>().ok());
    token.is_some_and(|n| n >= 1 && n <= state.review.ims_issued)
}

async fn ims_token(State(shared): State<Shared>, body: String) -> Response {
    let form: HashMap<String, String> = url_form(&body);
    if form.get("grant_type").map(String::as_str) != Some("client_credentials")
        || form.get("client_id").is_none_or(|c| c.is_empty())
        || form.get("client_secret").is_none_or(|c| c.is_empty())
    {
        return (StatusCode::BAD_REQUEST, Json(json!({ "error": "invalid_client" }))).into_response();
    }
    let mut state = shared.lock();
    state.review.ims_issued += 1;
    let token = format!("wf-ims-{}", state.review.ims_issued);
    Json(json!({ "access_token": token, "token_type": "bearer", "expires_in": 86399 })).into_response()
}

fn url_form(body: &str) -> HashMap<String, String> {
    body.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.replace('+', " ")))
        .collect()
}

fn unified_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({ "statusCode": status.as_u16(), "message": message })),
    )
        .into_response()
}

/// The Unified Approvals API's checks, in its documented order: the token, the API key, the
/// gateway's subdomain, the `wf-*` headers.
fn admit_unified(state: &mut super::State, headers: &HeaderMap) -> Option<Response> {
    state.counts.workfront_requests += 1;
    if state.review.no_unified {
        return Some(unified_error(
            StatusCode::NOT_FOUND,
            "Unified Approvals is not enabled for this customer",
        ));
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    if header("authorization").is_empty() {
        return Some(unified_error(StatusCode::FORBIDDEN, "403010: missing Authorization"));
    }
    if !has_workfront_ims_token(state, headers) {
        return Some(unified_error(StatusCode::UNAUTHORIZED, "401013: invalid token"));
    }
    if header("x-api-key").is_empty() {
        return Some(unified_error(StatusCode::FORBIDDEN, "403000: missing x-api-key"));
    }
    if header("x-gw-subdomain").is_empty() {
        return Some(unified_error(StatusCode::BAD_GATEWAY, "unknown subdomain"));
    }
    if header("wf-customerid") != CUSTOMER_ID || header("wf-userid").is_empty() {
        return Some(unified_error(
            StatusCode::BAD_REQUEST,
            "wf-customerid and wf-userid are required",
        ));
    }
    if !["prod", "preview", "hub", "staging", "devtest"].contains(&header("wf-lane").as_str()) {
        return Some(unified_error(StatusCode::BAD_REQUEST, "wf-lane is required"));
    }
    let seen = ["x-api-key", "x-gw-subdomain", "wf-customerid", "wf-userid", "wf-lane"]
        .iter()
        .map(|n| ((*n).to_owned(), header(n)))
        .collect();
    state.review.unified_headers.push(seen);
    if let Some(failure) = super::workfront::injected_failure(state) {
        return Some(failure);
    }
    None
}

async fn show_unified(State(shared): State<Shared>, Path(version): Path<String>, headers: HeaderMap) -> Response {
    let mut state = shared.lock();
    if let Some(refusal) = admit_unified(&mut state, &headers) {
        return refusal;
    }
    match state.review.unified.get(&version) {
        Some(approval) => Json(approval.clone()).into_response(),
        None => Json(json!({ "isApprovalActive": true, "isEsmAsset": false, "frameSyncStatus": null, "userInfo": {} }))
            .into_response(),
    }
}

async fn create_unified(
    State(shared): State<Shared>,
    Path(version): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut state = shared.lock();
    if let Some(refusal) = admit_unified(&mut state, &headers) {
        return refusal;
    }
    if !state.versions.iter().any(|v| v["ID"] == version.as_str()) {
        return unified_error(StatusCode::NOT_FOUND, "no such document version");
    }
    let stages = body["stages"].as_array().cloned().unwrap_or_default();
    let valid = !stages.is_empty()
        && stages.iter().all(|s| {
            s["participants"].as_array().is_some_and(|ps| {
                !ps.is_empty()
                    && ps.iter().all(|p| {
                        p["participantId"].is_string()
                            && matches!(p["participantType"].as_str(), Some("USER" | "TEAMOB"))
                            && matches!(p["participantRole"].as_str(), Some("approver" | "reviewer"))
                    })
            })
        });
    if !valid {
        return unified_error(
            StatusCode::BAD_REQUEST,
            "FST_ERR_VALIDATION: stages[].participants[] is required",
        );
    }
    let creator = headers
        .get("wf-userid")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let n = state.review.unified.len() + 1;
    let stages: Vec<Value> = stages
        .into_iter()
        .enumerate()
        .map(|(i, mut s)| {
            s["stageId"] = format!("stage-{n}-{i}").into();
            s["status"] = "pending review".into();
            if let Some(ps) = s["participants"].as_array_mut() {
                for p in ps {
                    p["status"] = "notified".into();
                    p["activities"] = json!([]);
                }
            }
            s
        })
        .collect();
    let approval = json!({
        "approvalGuid": format!("approval-{n}"), "assetId": version, "assetType": "DOCV",
        "creatorId": creator, "status": "pending review", "productId": "workfront",
        "isApprovalActive": true, "stages": stages,
    });
    state.review.unified_creates += 1;
    state.review.unified.insert(version, approval.clone());
    (StatusCode::CREATED, Json(approval)).into_response()
}

async fn search_unified(State(shared): State<Shared>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    let mut state = shared.lock();
    if let Some(refusal) = admit_unified(&mut state, &headers) {
        return refusal;
    }
    let Some(ids) = body["assetIds"].as_array().filter(|ids| !ids.is_empty()) else {
        return unified_error(StatusCode::BAD_REQUEST, "assetIds is required");
    };
    let approvals: Vec<Value> = ids
        .iter()
        .filter_map(Value::as_str)
        .map(|id| {
            state
                .review
                .unified
                .get(id)
                .cloned()
                .unwrap_or_else(|| json!({ "assetId": id, "frameSyncStatus": null }))
        })
        .collect();
    Json(json!({ "approvals": approvals })).into_response()
}

fn legacy_refused(state: &mut super::State, headers: &HeaderMap) -> Option<Response> {
    if let Some(refusal) = super::workfront::admit_write(state, headers) {
        return Some(refusal);
    }
    state.review.no_legacy.then(|| {
        super::workfront::error(
            StatusCode::NOT_FOUND,
            "com.attask.common.NotFoundException",
            "DOCAPL is not available for this customer",
        )
    })
}

async fn legacy_metadata(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    let mut state = shared.lock();
    if let Some(refusal) = legacy_refused(&mut state, &headers) {
        return refusal;
    }
    let values: Vec<Value> = LEGACY_STATUSES
        .iter()
        .map(|(value, label)| json!({ "value": value, "label": label }))
        .collect();
    Json(json!({ "data": { "objCode": "DOCAPL", "fields": { "status": { "possibleValues": values } } } }))
        .into_response()
}

async fn search_legacy(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let mut state = shared.lock();
    if let Some(refusal) = legacy_refused(&mut state, &headers) {
        return refusal;
    }
    let since = query.get("requestDate").and_then(|d| crate::dates::parse(d));
    let rows: Vec<Value> = state
        .review
        .legacy
        .iter()
        .filter(|r| query.get("documentID").is_none_or(|d| r["documentID"] == d.as_str()))
        .filter(|r| {
            since.is_none_or(|since| {
                r["requestDate"]
                    .as_str()
                    .and_then(crate::dates::parse)
                    .is_some_and(|at| at >= since)
            })
        })
        .cloned()
        .collect();
    Json(json!({ "data": rows })).into_response()
}

async fn create_legacy(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let mut state = shared.lock();
    if let Some(refusal) = legacy_refused(&mut state, &headers) {
        return refusal;
    }
    let updates: Value = query
        .get("updates")
        .and_then(|u| serde_json::from_str(u).ok())
        .unwrap_or(Value::Null);
    let (Some(document), Some(approver)) = (updates["documentID"].as_str(), updates["approverID"].as_str()) else {
        return super::workfront::error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "com.attask.common.ValidationException",
            "documentID and approverID are required",
        );
    };
    let id = format!("d0ca{:028x}", state.review.legacy.len() + 1);
    let row = json!({
        "ID": id, "documentID": document, "approverID": approver, "status": "NEW",
        "requestDate": crate::dates::frameio(crate::dates::now()), "notified": false,
    });
    state.review.legacy.push(row.clone());
    Json(json!({ "data": row })).into_response()
}

async fn notify_legacy(
    State(shared): State<Shared>,
    Path((_v, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut state = shared.lock();
    if let Some(refusal) = legacy_refused(&mut state, &headers) {
        return refusal;
    }
    match state.review.legacy.iter_mut().find(|r| r["ID"] == id.as_str()) {
        Some(row) => {
            row["notified"] = true.into();
            Json(json!({ "data": { "ID": id } })).into_response()
        }
        None => super::workfront::error(
            StatusCode::NOT_FOUND,
            "com.attask.common.NotFoundException",
            "no such DOCAPL",
        ),
    }
}

fn frameio_error(status: StatusCode, detail: &str) -> Response {
    (
        status,
        Json(json!({ "errors": [ { "title": status.canonical_reason().unwrap_or(""), "detail": detail } ] })),
    )
        .into_response()
}

async fn list_fields(State(shared): State<Shared>, Path(account): Path<String>, headers: HeaderMap) -> Response {
    let (out, caller) = match super::frameio::admit(&shared, &headers, "read") {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    if !caller.reaches(&account) {
        return frameio_error(StatusCode::NOT_FOUND, "no such account");
    }
    let state = shared.lock();
    let fields = state.review.fields.get(&account).cloned().unwrap_or_default();
    (out, Json(json!({ "data": fields, "links": { "next": null } }))).into_response()
}

async fn create_field(
    State(shared): State<Shared>,
    Path(account): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let (out, caller) = match super::frameio::admit(&shared, &headers, "create") {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    if !caller.reaches(&account) {
        return frameio_error(StatusCode::NOT_FOUND, "no such account");
    }
    let data = &body["data"];
    let (Some(name), Some(kind)) = (data["name"].as_str(), data["field_type"].as_str()) else {
        return frameio_error(StatusCode::UNPROCESSABLE_ENTITY, "name and field_type are required");
    };
    let mut state = shared.lock();
    let fields = state.review.fields.entry(account).or_default();
    let n = fields.len() + 1;
    let options: Vec<Value> = data["field_configuration"]["options"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, o)| json!({ "id": format!("opt-{n}-{i}"), "display_name": o["display_name"], "color": o["color"] }))
        .collect();
    let field = json!({
        "id": format!("fd-{n}-{name}").replace(' ', "-"), "name": name, "field_type": kind, "mutable": true,
        "field_configuration": { "enable_add_new": data["field_configuration"]["enable_add_new"], "options": options },
    });
    fields.push(field.clone());
    (out, (StatusCode::CREATED, Json(json!({ "data": field })))).into_response()
}

async fn set_values(
    State(shared): State<Shared>,
    Path((account, project)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let (out, caller) = match super::frameio::admit(&shared, &headers, "metadata.values") {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    let mut state = shared.lock();
    if !caller.reaches(&account)
        || !state
            .projects
            .iter()
            .any(|p| p.id == project && p.account_id == account)
    {
        return frameio_error(StatusCode::NOT_FOUND, "no such project");
    }
    let files: Vec<String> = body["data"]["file_ids"]
        .as_array()
        .map(|ids| ids.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    if files.is_empty()
        || files
            .iter()
            .any(|f| state.files.get(f).is_none_or(|file| file.project != project))
    {
        return frameio_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "file_ids must name files of the project",
        );
    }
    let values = body["data"]["values"].as_array().cloned().unwrap_or_default();
    let known = state.review.fields.get(&account).cloned().unwrap_or_default();
    for value in &values {
        let Some(field) = value["field_definition_id"].as_str() else {
            return frameio_error(StatusCode::UNPROCESSABLE_ENTITY, "field_definition_id is required");
        };
        let Some(definition) = known.iter().find(|f| f["id"] == field) else {
            return frameio_error(StatusCode::NOT_FOUND, "no such field definition");
        };
        let options: Vec<String> = value["value"]
            .as_array()
            .map(|o| o.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        let valid = definition["field_configuration"]["options"]
            .as_array()
            .is_some_and(|defined| options.iter().all(|o| defined.iter().any(|d| d["id"] == o.as_str())));
        if !valid {
            return frameio_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "a select value must be a list of the field's option ids",
            );
        }
        for file in &files {
            state
                .review
                .values
                .entry(file.clone())
                .or_default()
                .insert(field.to_owned(), options.clone());
        }
    }
    state.review.value_writes += 1;
    (out, StatusCode::NO_CONTENT).into_response()
}

async fn list_comments(
    State(shared): State<Shared>,
    Path((account, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let (out, caller) = match super::frameio::admit(&shared, &headers, "read") {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    let state = shared.lock();
    if !caller.reaches(&account) || !state.files.contains_key(&file) {
        return frameio_error(StatusCode::NOT_FOUND, "no such file");
    }
    let comments = state.review.comments.get(&file).cloned().unwrap_or_default();
    (out, Json(json!({ "data": comments, "links": { "next": null } }))).into_response()
}

async fn create_comment(
    State(shared): State<Shared>,
    Path((account, file)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let (out, caller) = match super::frameio::admit(&shared, &headers, "comments") {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    let mut state = shared.lock();
    if !caller.reaches(&account) || !state.files.contains_key(&file) {
        return frameio_error(StatusCode::NOT_FOUND, "no such file");
    }
    let Some(text) = body["data"]["text"].as_str().filter(|t| !t.is_empty()) else {
        return frameio_error(StatusCode::UNPROCESSABLE_ENTITY, "text is required");
    };
    let comments = state.review.comments.entry(file.clone()).or_default();
    let comment = json!({
        "id": format!("comment-{file}-{}", comments.len() + 1), "file_id": file, "text": text,
        "links": body["data"]["links"], "owner_id": caller.user.id,
        "owner": { "id": caller.user.id, "name": caller.user.name, "email": caller.user.email },
    });
    comments.push(comment.clone());
    (out, (StatusCode::CREATED, Json(json!({ "data": comment })))).into_response()
}

impl Sandbox {
    /// The Unified Approval on a document version, if one was made.
    pub fn workfront_unified_approval(&self, version: &str) -> Option<Value> {
        self.shared.lock().review.unified.get(version).cloned()
    }

    /// The `wf-*` and gateway headers of every Unified Approvals request, in order.
    pub fn unified_approval_headers(&self) -> Vec<BTreeMap<String, String>> {
        self.shared.lock().review.unified_headers.clone()
    }

    /// Records `decision` (`approved`, `needs work`, `approved with changes`) by `user` on the
    /// approval of `version`, as the Workfront UI would: the participant's activity, and the
    /// roll-up (needs work outranks approved).
    pub fn decide_unified(&self, version: &str, user: &str, user_name: &str, decision: &str) {
        let mut state = self.shared.lock();
        let approval = state
            .review
            .unified
            .get_mut(version)
            .expect("an approval on that version");
        let at = crate::dates::frameio(crate::dates::now());
        let mut decisions = Vec::new();
        for stage in approval["stages"].as_array_mut().into_iter().flatten() {
            for participant in stage["participants"].as_array_mut().into_iter().flatten() {
                if participant["participantId"] == user {
                    participant["status"] = decision.into();
                    participant["decisionDate"] = at.clone().into();
                    participant["activities"].as_array_mut().expect("activities").push(
                        json!({ "userId": user, "userName": user_name, "decision": decision, "decisionDate": at }),
                    );
                }
                if let Some(d) = participant["activities"].as_array().and_then(|a| a.last()) {
                    decisions.push(d["decision"].as_str().unwrap_or("").to_owned());
                }
            }
        }
        let status = if decisions.iter().any(|d| d == "needs work") {
            "needs work"
        } else if decisions.iter().any(|d| d == "approved with changes") {
            "approved with changes"
        } else if decisions.iter().any(|d| d == "approved") {
            "approved"
        } else {
            "in review"
        };
        approval["status"] = status.into();
        approval["decisionDate"] = at.into();
    }

    /// Legacy approvals (`DOCAPL` rows) made so far.
    pub fn workfront_legacy_approvals(&self) -> Vec<Value> {
        self.shared.lock().review.legacy.clone()
    }

    /// Decides legacy approval `id` (`APR` approved, `REJ` rejected), with the approver's note.
    pub fn decide_legacy(&self, id: &str, status: &str, note: &str) {
        let mut state = self.shared.lock();
        let row = state
            .review
            .legacy
            .iter_mut()
            .find(|r| r["ID"] == id)
            .expect("a legacy approval with that id");
        row["status"] = status.into();
        row["approvalDate"] = crate::dates::frameio(crate::dates::now()).into();
        row["note"] = json!({ "noteText": note });
    }

    /// Takes an approval system away from (or gives it back to) the sandbox's Workfront.
    pub fn set_approval_systems(&self, unified: bool, legacy: bool) {
        let mut state = self.shared.lock();
        state.review.no_unified = !unified;
        state.review.no_legacy = !legacy;
    }

    /// The option names a Frame.io file's field `name` shows.
    pub fn frameio_field_value(&self, account: &str, file: &str, name: &str) -> Option<Vec<String>> {
        let state = self.shared.lock();
        let field = state.review.fields.get(account)?.iter().find(|f| f["name"] == name)?;
        let ids = state.review.values.get(file)?.get(field["id"].as_str()?)?;
        let options = field["field_configuration"]["options"].as_array()?;
        Some(
            ids.iter()
                .filter_map(|id| options.iter().find(|o| o["id"] == id.as_str()))
                .filter_map(|o| o["display_name"].as_str().map(str::to_owned))
                .collect(),
        )
    }

    /// Adds a field definition by hand (as an admin would), with these options.
    pub fn add_frameio_field(&self, account: &str, name: &str, kind: &str, options: &[&str]) {
        let mut state = self.shared.lock();
        let fields = state.review.fields.entry(account.to_owned()).or_default();
        let n = fields.len() + 1;
        let options: Vec<Value> = options
            .iter()
            .enumerate()
            .map(|(i, o)| json!({ "id": format!("hand-opt-{n}-{i}"), "display_name": o }))
            .collect();
        fields.push(json!({
            "id": format!("fd-hand-{n}"), "name": name, "field_type": kind,
            "field_configuration": { "options": options },
        }));
    }

    /// The field definitions of an account.
    pub fn frameio_fields(&self, account: &str) -> Vec<Value> {
        self.shared
            .lock()
            .review
            .fields
            .get(account)
            .cloned()
            .unwrap_or_default()
    }

    /// The comments on a Frame.io file.
    pub fn frameio_comments(&self, file: &str) -> Vec<Value> {
        self.shared
            .lock()
            .review
            .comments
            .get(file)
            .cloned()
            .unwrap_or_default()
    }

    /// A comment made in Frame.io on `file` by a person (not through the API under test); its id.
    pub fn add_frameio_comment(&self, file: &str, author: &str, text: &str, timecode: Option<&str>) -> String {
        let mut state = self.shared.lock();
        let comments = state.review.comments.entry(file.to_owned()).or_default();
        let id = format!("comment-{file}-{}", comments.len() + 1);
        comments.push(json!({
            "id": id, "file_id": file, "text": text, "timestamp": timecode,
            "owner_id": format!("user-{author}"), "owner": { "name": author },
        }));
        id
    }

    /// Deletes a Frame.io file (as a user would in the UI).
    pub fn remove_frameio_file(&self, id: &str) {
        let mut state = self.shared.lock();
        state.files.remove(id);
        state.review.comments.remove(id);
    }

    /// The Frame.io webhooks made, with their secrets.
    pub fn frameio_webhooks(&self) -> Vec<Value> {
        self.shared.lock().review.webhooks.clone()
    }

    /// Unified approval creates taken, a repeated one on a version included.
    pub fn unified_approval_creates(&self) -> u64 {
        self.shared.lock().review.unified_creates
    }

    /// The versions with a unified approval still undecided (`pending review`).
    pub fn undecided_unified_approvals(&self) -> Vec<String> {
        let state = self.shared.lock();
        state
            .review
            .unified
            .iter()
            .filter(|(_, a)| a["status"] == "pending review")
            .map(|(v, _)| v.clone())
            .collect()
    }

    /// Metadata value writes (`PATCH …/metadata/values`) taken.
    pub fn frameio_value_writes(&self) -> u64 {
        self.shared.lock().review.value_writes
    }
}
