//! The sandbox's Workfront: `/attask/api/<version>/<obj>/search` for projects and users.

use super::Shared;
use crate::dates;
use crate::MissingField;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::Ordering;

pub(super) fn router(shared: Shared) -> Router {
    Router::new()
        .merge(crate::review::workfront_routes(Router::new()))
        .route("/attask/api/{version}/upload", post(upload))
        .route("/document/download", get(download_document))
        .route("/attask/api/{version}/{search}/search", get(search))
        .route("/attask/api/{version}/{obj}/{id}", get(get_one).put(update_one))
        .route("/attask/api/{version}/{obj}", post(create))
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            super::faults::workfront,
        ))
        .with_state(shared)
}

/// Workfront answers some authentication failures with HTTP 200 and an error body.
fn unauthenticated(state: &super::State, headers: &HeaderMap) -> Option<Response> {
    let presented = headers.get("apiKey").and_then(|v| v.to_str().ok());
    let key_ok = presented == Some(state.world.workfront.api_key.as_str());
    // An IMS access token this sandbox handed out (`/ims/token/v3`) passes too.
    (!key_ok && !crate::review::has_workfront_ims_token(state, headers)).then(|| {
        error(
            StatusCode::OK,
            "com.attask.common.AuthenticationException",
            "You are not currently logged in",
        )
    })
}

/// A write's request counted, its key checked, and an injected failure used up, if any is left:
/// the answer that refuses it, if one does.
pub(crate) fn admit_write(state: &mut super::State, headers: &HeaderMap) -> Option<Response> {
    state.counts.workfront_requests += 1;
    unauthenticated(state, headers).or_else(|| injected_failure(state))
}

/// Uses up one injected failure, if any is left.
pub(crate) fn injected_failure(state: &mut super::State) -> Option<Response> {
    (state.faults.workfront_errors > 0).then(|| {
        state.faults.workfront_errors -= 1;
        error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "java.lang.RuntimeException",
            "sandbox: injected failure",
        )
    })
}

pub(crate) fn error(status: StatusCode, class: &str, message: &str) -> Response {
    (status, Json(json!({ "error": { "class": class, "message": message } }))).into_response()
}

struct InFlight(Shared);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.workfront_in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn search(
    State(shared): State<Shared>,
    Path((version, obj)): Path<(String, String)>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let _guard = InFlight(shared.clone());
    let in_flight = shared.workfront_in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    let mut state = shared.lock();
    state.counts.workfront_requests += 1;
    if in_flight > state.limits.workfront_concurrency {
        return error(
            StatusCode::TOO_MANY_REQUESTS,
            "com.attask.common.TooManyRequestsException",
            "Too many concurrent API requests for the given customer",
        );
    }
    if let Some(failure) = injected_failure(&mut state) {
        return failure;
    }
    if !version.starts_with('v') {
        return error(
            StatusCode::NOT_FOUND,
            "com.attask.common.NotFoundException",
            "unknown API version",
        );
    }
    if let Some(refusal) = unauthenticated(&state, &headers) {
        return refusal;
    }
    let limit: usize = match query.get("$$LIMIT").map(|l| l.parse()) {
        None => 100,
        Some(Ok(l)) if l <= 2000 => l,
        Some(_) => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "java.lang.IllegalArgumentException",
                "$$LIMIT must be a number no greater than 2000",
            )
        }
    };
    let first: usize = query.get("$$FIRST").and_then(|f| f.parse().ok()).unwrap_or(0);
    if query.get("ID_Sort").map(String::as_str) != Some("asc") {
        // Real Workfront does not refuse this, but pages may then repeat or skip rows; the
        // sandbox refuses so that a client that forgets it is caught.
        return error(
            StatusCode::BAD_REQUEST,
            "sandbox.MissingSort",
            "searches must sort by ID_Sort=asc",
        );
    }
    let since = match (
        query.get("lastUpdateDate"),
        query.get("lastUpdateDate_Mod").map(String::as_str),
    ) {
        (None, _) => None,
        (Some(date), Some("gte")) => match dates::parse(date) {
            Some(at) => Some(at),
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "java.lang.IllegalArgumentException",
                    &format!("unparseable date {date:?}"),
                )
            }
        },
        (Some(_), _) => {
            return error(
                StatusCode::BAD_REQUEST,
                "sandbox.Unsupported",
                "only lastUpdateDate_Mod=gte is supported",
            )
        }
    };
    let updated_since = |date: &str| since.is_none_or(|s| dates::parse(date).is_some_and(|d| d >= s));
    // Only the requested page is turned into JSON: a tenant-sized world is paged through many
    // times, and serializing every row for every page would make the sandbox, not the daemon,
    // the slow part of a benchmark.
    let wf = &state.world.workfront;
    fn no_id(v: &Value) -> &str {
        v["ID"].as_str().unwrap_or("")
    }
    let page: Vec<Value> = match obj.to_ascii_lowercase().as_str() {
        "proj" | "project" => page_of(
            &wf.projects,
            |p| updated_since(&p.last_update_date),
            |p| p.id.as_str(),
            |p| serde_json::to_value(p).expect("rows serialize"),
            first,
            limit,
        ),
        "group" => page_of(&wf.groups, |_| true, no_id, Value::clone, first, limit),
        "user" => page_of(
            &wf.users,
            |u| updated_since(u["lastUpdateDate"].as_str().unwrap_or("")),
            no_id,
            |u| {
                let mut row = u.clone();
                if row.get("customerID").is_none() {
                    row["customerID"] = crate::review::CUSTOMER_ID.into();
                }
                row
            },
            first,
            limit,
        ),
        // Documents and notes: filtered by the fields a submission looks them up by.
        "docu" | "note" => {
            let list = if obj.eq_ignore_ascii_case("docu") {
                &state.documents
            } else {
                &state.notes
            };
            // `projectID=a&projectID=b&projectID_Mod=in`: any of them.
            let projects_in: Option<Vec<&str>> =
                (query.get("projectID_Mod").map(String::as_str) == Some("in")).then(|| {
                    pairs
                        .iter()
                        .filter(|(k, _)| k == "projectID")
                        .map(|(_, v)| v.as_str())
                        .collect()
                });
            let matches = |row: &Value| {
                projects_in
                    .as_ref()
                    .is_none_or(|ids| ids.contains(&row["projectID"].as_str().unwrap_or("")))
                    && ["projectID", "objID", "extRefID"].iter().all(|field| {
                        if *field == "projectID" && projects_in.is_some() {
                            return true;
                        }
                        let contains = query.get(&format!("{field}_Mod")).is_some_and(|m| m == "contains");
                        query.get(*field).is_none_or(|wanted| {
                            row[*field]
                                .as_str()
                                .is_some_and(|value| value == wanted || (contains && value.contains(wanted.as_str())))
                        })
                    })
                    && query.get("noteText").is_none_or(|part| {
                        row["noteText"]
                            .as_str()
                            .is_some_and(|text| text.contains(part.as_str()))
                    })
            };
            page_of(list, matches, no_id, Value::clone, first, limit)
        }
        "task" => {
            let status_ne = match query.get("status_Mod").map(String::as_str) {
                None => None,
                Some("ne") => query.get("status").cloned(),
                Some(other) => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "sandbox.Unsupported",
                        &format!("status_Mod={other} is not served"),
                    )
                }
            };
            let matches = |row: &Value| {
                updated_since(row["lastUpdateDate"].as_str().unwrap_or(""))
                    && status_ne
                        .as_ref()
                        .is_none_or(|s| row["status"].as_str() != Some(s.as_str()))
            };
            page_of(&wf.tasks, matches, no_id, Value::clone, first, limit)
        }
        "docv" => {
            let matches = |row: &Value| {
                query
                    .get("documentID")
                    .is_none_or(|wanted| row["documentID"].as_str() == Some(wanted.as_str()))
            };
            page_of(&state.versions, matches, no_id, Value::clone, first, limit)
        }
        other => {
            return error(
                StatusCode::BAD_REQUEST,
                "com.attask.common.InvalidParameterException",
                &format!("sandbox does not serve {other}"),
            )
        }
    };
    (StatusCode::OK, Json(json!({ "data": page }))).into_response()
}

/// `GET /<obj>/<id>`: one group (what `connect-group` looks up), user, access level or project
/// (what the access rules read); `fields` is ignored and the whole row returned.
async fn get_one(
    State(shared): State<Shared>,
    Path((_version, obj, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut state = shared.lock();
    state.counts.workfront_requests += 1;
    if let Some(refusal) = unauthenticated(&state, &headers) {
        return refusal;
    }
    let wf = &state.world.workfront;
    let found = match obj.to_ascii_lowercase().as_str() {
        "group" => wf.groups.iter().find(|g| g["ID"] == id.as_str()).cloned(),
        "user" => wf.users.iter().find(|u| u["ID"] == id.as_str()).cloned(),
        "acslvl" => wf.access_levels.iter().find(|l| l["ID"] == id.as_str()).cloned(),
        "proj" | "project" => wf
            .projects
            .iter()
            .find(|p| p.id == id)
            .map(|p| serde_json::to_value(p).expect("rows serialize")),
        "docu" | "document" => state.documents.iter().find(|d| d["ID"] == id.as_str()).map(|d| {
            let mut row = d.clone();
            // A path on the tenant's host with its own query, as clients have found it to be.
            row["downloadURL"] = format!(
                "/document/download?ID={id}&versionID={}",
                d["currentVersionID"].as_str().unwrap_or("")
            )
            .into();
            row
        }),
        "task" => wf.tasks.iter().find(|t| t["ID"] == id.as_str()).cloned(),
        // `CSTEM/projectGroupStatuses?groupID=`: the system statuses, and the custom ones.
        "cstem" if id == "projectGroupStatuses" => {
            let mut rows: Vec<Value> = ["PLN", "CUR", "CPL", "DED", "ONH", "REQ", "APR", "REJ", "IDA"]
                .iter()
                .map(|code| json!({ "value": code, "equatesWith": code, "objCode": "CSTEM" }))
                .collect();
            rows.extend(
                state
                    .custom_statuses
                    .iter()
                    .map(|(code, equates)| json!({ "value": code, "equatesWith": equates, "objCode": "CSTEM" })),
            );
            Some(Value::Array(rows))
        }
        _ => None,
    };
    match found {
        Some(row) => (StatusCode::OK, Json(json!({ "data": row }))).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "com.attask.common.NotFoundException",
            &format!("{obj} {id} not found"),
        ),
    }
}

/// `PUT /proj/{id}?updates={"DE:…":"…"}`: custom field values of a project. A field on the
/// project's custom form is kept; any other is ignored or refused (`MissingField`).
async fn update_one(
    State(shared): State<Shared>,
    Path((_version, obj, id)): Path<(String, String, String)>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let mut state = shared.lock();
    if let Some(refusal) = admit_write(&mut state, &headers) {
        return refusal;
    }
    if !matches!(obj.to_ascii_lowercase().as_str(), "proj" | "project") {
        return error(
            StatusCode::BAD_REQUEST,
            "com.attask.common.InvalidParameterException",
            &format!("sandbox does not update {obj}"),
        );
    }
    let Some(updates) = query
        .get("updates")
        .and_then(|u| serde_json::from_str::<serde_json::Map<String, Value>>(u).ok())
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "java.lang.IllegalArgumentException",
            "updates must be a JSON object",
        );
    };
    state.counts.workfront_project_writes += 1;
    let has_form = !state.formless_projects.contains(&id);
    let mut kept = serde_json::Map::new();
    for (field, value) in updates {
        if !field.starts_with("DE:") {
            return error(
                StatusCode::BAD_REQUEST,
                "sandbox.Unsupported",
                "the sandbox updates custom fields only",
            );
        }
        if has_form && state.form_fields.contains(&field) {
            kept.insert(field, value);
        } else if state.missing_field == MissingField::Refuse {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "com.attask.common.ValidationException",
                &format!("{field} is not a custom field on the object's custom forms"),
            );
        }
    }
    let Some(row) = state.world.workfront.projects.iter_mut().find(|p| p.id == id) else {
        return error(
            StatusCode::NOT_FOUND,
            "com.attask.common.NotFoundException",
            &format!("{obj} {id} not found"),
        );
    };
    row.custom.extend(kept);
    let row = serde_json::to_value(&*row).expect("rows serialize");
    (StatusCode::OK, Json(json!({ "data": row }))).into_response()
}

/// `POST /upload`: one file part, read as it arrives (`files::read_upload`); its handle.
async fn upload(State(shared): State<Shared>, headers: HeaderMap, body: axum::body::Body) -> Response {
    if let Some(refusal) = admit_write(&mut shared.lock(), &headers) {
        return refusal;
    }
    let boundary = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("multipart/form-data; boundary="))
        .map(str::to_owned);
    let Some(boundary) = boundary else {
        return error(StatusCode::BAD_REQUEST, "sandbox.Upload", "expected a multipart file");
    };
    let chunks = body.into_data_stream().map(|c| c.map_err(|e| e.to_string()));
    let upload = match crate::files::read_upload(&boundary, chunks).await {
        Ok(upload) if upload.size > 0 => upload,
        Ok(_) => return error(StatusCode::BAD_REQUEST, "sandbox.Upload", "the file is empty"),
        Err(why) => return error(StatusCode::BAD_REQUEST, "sandbox.Upload", &why),
    };
    let mut state = shared.lock();
    state.counts.workfront_uploads += 1;
    state.next_handle += 1;
    let handle = format!("handle-{}", state.next_handle);
    state.uploads.insert(handle.clone(), upload);
    (StatusCode::OK, Json(json!({ "data": { "handle": handle } }))).into_response()
}

/// `POST /document?updates=…` and `POST /note?updates=…`.
async fn create(
    State(shared): State<Shared>,
    Path((_version, obj)): Path<(String, String)>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let mut state = shared.lock();
    if let Some(refusal) = admit_write(&mut state, &headers) {
        return refusal;
    }
    let updates = query
        .get("updates")
        .and_then(|u| serde_json::from_str::<Value>(u).ok())
        .filter(Value::is_object);
    let bad_updates = || {
        error(
            StatusCode::BAD_REQUEST,
            "java.lang.IllegalArgumentException",
            "updates must be a JSON object",
        )
    };
    match obj.to_ascii_lowercase().as_str() {
        "document" | "docu" => {
            let Some(updates) = updates else {
                return bad_updates();
            };
            if state.refuse_documents {
                return error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "com.attask.common.ValidationException",
                    "sandbox: documents are refused on this project",
                );
            }
            let has = |k: &str| updates[k].as_str().is_some_and(|v| !v.is_empty());
            let on = updates["docObjCode"].as_str().unwrap_or_default();
            if !(has("name") && has("handle") && has("objID") && matches!(on, "PROJ" | "TASK")) {
                return error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "com.attask.common.ValidationException",
                    "a document needs name, handle, docObjCode PROJ or TASK and objID",
                );
            }
            let handle = updates["handle"].as_str().unwrap_or_default().to_owned();
            let Some(size) = state.uploads.get(&handle).map(|u| u.size) else {
                return error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "com.attask.common.ValidationException",
                    "no upload with that handle",
                );
            };
            let object = updates["objID"].as_str().unwrap_or_default();
            let project = if on == "TASK" {
                let task = state.world.workfront.tasks.iter().find(|t| t["ID"] == object);
                match task {
                    Some(task) => task["projectID"].clone(),
                    None => {
                        return error(
                            StatusCode::NOT_FOUND,
                            "com.attask.common.NotFoundException",
                            &format!("task {object} not found"),
                        )
                    }
                }
            } else {
                updates["objID"].clone()
            };
            let id = format!("d0c{:029x}", state.documents.len() + 1);
            let mut row = updates.clone();
            row["ID"] = id.clone().into();
            row["projectID"] = project;
            row["currentVersion"]["docSize"] = size.into();
            let version = json!({
                "documentID": id, "handle": handle, "docSize": size,
                "version": updates["currentVersion"]["version"].clone(),
                "fileName": updates["currentVersion"]["fileName"].clone(),
            });
            row["currentVersionID"] = add_version(&mut state, version).into();
            state.document_uploads.insert(id.clone(), handle);
            state.documents.push(row.clone());
            (StatusCode::OK, Json(json!({ "data": row }))).into_response()
        }
        "docv" | "documentversion" => {
            let Some(updates) = updates else {
                return bad_updates();
            };
            let document = updates["documentID"].as_str().unwrap_or_default().to_owned();
            let handle = updates["handle"].as_str().unwrap_or_default().to_owned();
            let Some(size) = state.uploads.get(&handle).map(|u| u.size) else {
                return error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "com.attask.common.ValidationException",
                    "no upload with that handle",
                );
            };
            if !state.documents.iter().any(|d| d["ID"] == document.as_str()) {
                return error(
                    StatusCode::NOT_FOUND,
                    "com.attask.common.NotFoundException",
                    &format!("document {document} not found"),
                );
            }
            let mut version = updates.clone();
            version["docSize"] = size.into();
            let id = add_version(&mut state, version);
            if state.versions_by_api == crate::VersionsByApi::MakeCurrent {
                let file_name = updates["fileName"].clone();
                let label = updates["version"].clone();
                if let Some(row) = state.documents.iter_mut().find(|d| d["ID"] == document.as_str()) {
                    row["currentVersionID"] = id.clone().into();
                    row["currentVersion"] = json!({ "version": label, "fileName": file_name, "docSize": size });
                }
            }
            let row = state.versions.iter().find(|v| v["ID"] == id.as_str()).cloned();
            (StatusCode::OK, Json(json!({ "data": row }))).into_response()
        }
        "note" => {
            let Some(updates) = updates else {
                return bad_updates();
            };
            let id = format!("n07{:029x}", state.notes.len() + 1);
            let mut row = updates;
            row["ID"] = id.into();
            state.notes.push(row.clone());
            (StatusCode::OK, Json(json!({ "data": row }))).into_response()
        }
        other => error(
            StatusCode::BAD_REQUEST,
            "com.attask.common.InvalidParameterException",
            &format!("sandbox does not create {other}"),
        ),
    }
}

/// `GET /document/download?ID=…`: a document's current file, streamed, with the client's
/// credential (the API key or an IMS token).
async fn download_document(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let content = {
        let mut state = shared.lock();
        state.counts.workfront_requests += 1;
        if let Some(refusal) = unauthenticated(&state, &headers) {
            return refusal;
        }
        let id = query.get("ID").cloned().unwrap_or_default();
        let seeded = state.document_contents.get(&id).cloned();
        let uploaded = || {
            let handle = state.document_uploads.get(&id)?;
            let bytes = state.uploads.get(handle)?.bytes.clone()?;
            Some(crate::files::FileContent::Bytes(bytes))
        };
        match seeded.or_else(uploaded) {
            Some(content) => content,
            None => {
                return error(
                    StatusCode::NOT_FOUND,
                    "com.attask.common.NotFoundException",
                    "no such document",
                )
            }
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

/// Records a document version (`handle` names its upload); its ID.
fn add_version(state: &mut super::State, mut version: Value) -> String {
    let id = format!("d0cv{:028x}", state.versions.len() + 1);
    let handle = version["handle"].as_str().unwrap_or_default().to_owned();
    version["ID"] = id.clone().into();
    if let Some(fields) = version.as_object_mut() {
        fields.remove("handle");
    }
    state.version_uploads.insert(id.clone(), handle);
    state.versions.push(version);
    id
}

/// The rows `keep` selects, sorted by ID, from `first`, at most `limit`, as JSON.
fn page_of<T>(
    items: &[T],
    keep: impl Fn(&T) -> bool,
    id: impl for<'a> Fn(&'a T) -> &'a str,
    json: impl Fn(&T) -> Value,
    first: usize,
    limit: usize,
) -> Vec<Value> {
    // Sorted by ID like Workfront's `ID_Sort=asc`, but only as far as the page needs: two
    // selections, then a sort of the page itself, so each page costs O(rows), not O(rows log rows),
    // and paging through a tenant stays cheap next to the daemon being measured.
    let mut kept: Vec<(&str, &T)> = items.iter().filter(|t| keep(t)).map(|t| (id(t), t)).collect();
    if first >= kept.len() {
        return Vec::new();
    }
    if first > 0 {
        kept.select_nth_unstable_by(first, |a, b| a.0.cmp(b.0));
    }
    let rest = &mut kept[first..];
    if limit < rest.len() {
        rest.select_nth_unstable_by(limit, |a, b| a.0.cmp(b.0));
    }
    let end = limit.min(rest.len());
    let page = &mut rest[..end];
    page.sort_unstable_by(|a, b| a.0.cmp(b.0));
    page.iter().map(|(_, t)| json(t)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_of_unsorted_rows_come_out_sorted_and_complete() {
        // 1,000 ids in a scrambled order, some filtered out.
        let rows: Vec<String> = (0..1000u32).map(|i| format!("id{:05}", (i * 7919) % 1000)).collect();
        let keep = |r: &String| !r.ends_with('3');
        let mut paged = Vec::new();
        for first in (0..1000).step_by(64) {
            let page = page_of(&rows, keep, |r| r.as_str(), |r| Value::from(r.as_str()), first, 64);
            paged.extend(page.into_iter().map(|v| v.as_str().unwrap().to_owned()));
        }
        let mut expected: Vec<String> = rows.iter().filter(|r| keep(r)).cloned().collect();
        expected.sort();
        assert_eq!(paged, expected);
        assert!(page_of(&rows, keep, |r| r.as_str(), |r| Value::from(r.as_str()), 5000, 64).is_empty());
    }
}
