//! Better Stack's v2 heartbeat API (`/api/v2/heartbeats`, admin token as
//! `Authorization: Bearer …`, shapes as the monitor API's: `{"data": {"id", "type":
//! "heartbeat", "attributes"}}`, 422 `{"errors": {"field": ["message"]}}`), and the public
//! ping URL jobs call without any token: `GET|POST|HEAD /api/v1/heartbeat/<token>`, with
//! `/fail` or `/<exit code>` appended to report a failure. The request span records the
//! route template, never the token.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::HeaderMap;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::domain::Timestamp;
use crate::domain::heartbeat::{Heartbeat, Ping};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::extract::Admin;
use crate::http::monitors::{BsError, BsJson, BsQuery, BsResult, base_url, paginated, resource_id};
use crate::service::monitors::monitor_not_found;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v2/heartbeats", get(list).post(create))
        .route(
            "/api/v2/heartbeats/{id}",
            get(get_one).patch(update).delete(remove),
        )
        // `get` answers HEAD too (without the body).
        .route("/api/v1/heartbeat/{token}", get(ping).post(ping))
        .route(
            "/api/v1/heartbeat/{token}/{outcome}",
            get(ping_outcome).post(ping_outcome),
        )
}

fn resource(h: &Heartbeat, headers: &HeaderMap) -> Value {
    json!({"id": h.id.to_string(), "type": "heartbeat", "attributes": h.attributes(&base_url(headers))})
}

#[utoipa::path(get, path = "/api/v2/heartbeats", tag = "Heartbeats", security(("bearer" = [])),
    summary = "List heartbeats",
    params(crate::http::openapi::Paging),
    responses(
        (status = 200, description = "A page of heartbeats, each with its ping `url`.", body = Object),
        (status = 400, description = "`page` or `per_page` is not a positive integer."),
    ))]
async fn list(
    _: Admin,
    State(s): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
) -> BsResult<Response> {
    let (page, per_page) = BsQuery::new(&uri).paging()?;
    let found = s.service.list_heartbeats(page, per_page).await?;
    let data: Vec<Value> = found
        .heartbeats
        .iter()
        .map(|h| resource(h, &headers))
        .collect();
    Ok(paginated(
        &headers,
        "/api/v2/heartbeats",
        &data,
        (page, per_page, found.total),
        &[],
    ))
}

#[utoipa::path(post, path = "/api/v2/heartbeats", tag = "Heartbeats", security(("bearer" = [])),
    summary = "Create a heartbeat",
    description = "Its `url` (built from the request's `Host` and `X-Forwarded-Proto`) is what the job calls.",
    request_body(content = Object, description = "Better Stack's heartbeat attributes, bare or as `{\"data\": {\"attributes\": {…}}}`: `name`, `period` and `grace` (seconds), `paused`, `maintenance_from`/`maintenance_to`/`maintenance_timezone`.",
        example = json!({"name": "Nightly backups", "period": 86400, "grace": 3600})),
    responses(
        (status = 201, description = "Created; `pending` until its first ping.", body = Object, example = json!({"data": {"id": "5", "type": "heartbeat", "attributes": {"url": "http://localhost:4242/api/v1/heartbeat/Xb8…", "name": "Nightly backups", "period": 86400, "grace": 3600, "paused": false, "status": "up", "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}}})),
        (status = 422, description = "Invalid fields, each named."),
    ))]
async fn create(
    a: Admin,
    State(s): State<AppState>,
    headers: HeaderMap,
    BsJson(input): BsJson,
) -> BsResult<Response> {
    let h = s.service.create_heartbeat(&a.actor, &input.0).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({"data": resource(&h, &headers)})),
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v2/heartbeats/{id}", tag = "Heartbeats", security(("bearer" = [])),
    summary = "Get a heartbeat",
    responses(
        (status = 200, description = "The heartbeat.", body = Object, example = json!({"data": {"id": "5", "type": "heartbeat", "attributes": {"url": "http://localhost:4242/api/v1/heartbeat/Xb8…", "name": "Nightly backups", "period": 86400, "grace": 3600, "paused": false, "status": "up", "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}}})),
        (status = 404, description = "No such heartbeat."),
    ))]
async fn get_one(
    _: Admin,
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> BsResult<Response> {
    let h = s.service.get_heartbeat(resource_id(&id)?).await?;
    Ok(axum::Json(json!({"data": resource(&h, &headers)})).into_response())
}

#[utoipa::path(patch, path = "/api/v2/heartbeats/{id}", tag = "Heartbeats", security(("bearer" = [])),
    summary = "Change a heartbeat",
    request_body(content = Object, description = "Better Stack's heartbeat attributes, bare or as `{\"data\": {\"attributes\": {…}}}`: `name`, `period` and `grace` (seconds), `paused`, `maintenance_from`/`maintenance_to`/`maintenance_timezone`.",
        example = json!({"name": "Nightly backups", "period": 86400, "grace": 3600})),
    responses(
        (status = 200, description = "The heartbeat as it is now.", body = Object),
        (status = 404, description = "No such heartbeat."),
        (status = 422, description = "Invalid fields, each named."),
    ))]
async fn update(
    a: Admin,
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    BsJson(input): BsJson,
) -> BsResult<Response> {
    let h = s
        .service
        .update_heartbeat(&a.actor, resource_id(&id)?, &input.0)
        .await?;
    Ok(axum::Json(json!({"data": resource(&h, &headers)})).into_response())
}

#[utoipa::path(delete, path = "/api/v2/heartbeats/{id}", tag = "Heartbeats", security(("bearer" = [])),
    summary = "Delete a heartbeat",
    responses(
        (status = 204, description = "Deleted."),
        (status = 404, description = "No such heartbeat."),
        (status = 409, description = "A guard reads it."),
    ))]
async fn remove(
    a: Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> BsResult<StatusCode> {
    s.service
        .delete_heartbeat(&a.actor, resource_id(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(method(get, post), path = "/api/v1/heartbeat/{token}", tag = "Heartbeats",
    summary = "A job reports that it ran (no API token: the URL is the secret)",
    description = "`HEAD` works too. A `POST` body is kept as the ping's output.",
    request_body(content = Option<String>, content_type = "text/plain"),
    responses(
        (status = 200, description = "Recorded.", body = String, content_type = "text/plain", example = "OK"),
        (status = 404, description = "No heartbeat has that token.", body = crate::http::openapi::BetterStackError),
    ))]
async fn ping(
    State(s): State<AppState>,
    Path(token): Path<String>,
    body: Bytes,
) -> BsResult<&'static str> {
    record(&s, &token, None, &body).await
}

#[utoipa::path(method(get, post), path = "/api/v1/heartbeat/{token}/{outcome}", tag = "Heartbeats",
    summary = "A job reports a failure (`/fail` or a non-zero exit code)",
    description = "`HEAD` works too; `/0` reports success. A `POST` body is kept as the ping's output.",
    request_body(content = Option<String>, content_type = "text/plain"),
    responses(
        (status = 200, description = "Recorded.", body = String, content_type = "text/plain", example = "OK"),
        (status = 404, description = "No heartbeat has that token, or the suffix is neither `fail` nor an exit code.", body = crate::http::openapi::BetterStackError),
    ))]
async fn ping_outcome(
    State(s): State<AppState>,
    Path((token, outcome)): Path<(String, String)>,
    body: Bytes,
) -> BsResult<&'static str> {
    record(&s, &token, Some(&outcome), &body).await
}

/// 200 once the ping is recorded; 404 for an unknown token or a suffix that is neither
/// `fail` nor an exit code.
async fn record(
    s: &AppState,
    token: &str,
    outcome: Option<&str>,
    body: &[u8],
) -> BsResult<&'static str> {
    let not_found = || BsError::from(ApiError::NotFound(monitor_not_found(token)));
    let ping = Ping::parse(outcome).ok_or_else(not_found)?;
    let output = String::from_utf8_lossy(body);
    s.service
        .record_heartbeat_ping(token, ping, &output, Timestamp::now())
        .await?;
    Ok("OK")
}
