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
use crate::http::monitors::{BsError, BsJson, BsQuery, BsResult, base_url, paginated};
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

fn heartbeat_id(raw: &str) -> Result<i64, BsError> {
    raw.parse()
        .map_err(|_| BsError::from(ApiError::NotFound(monitor_not_found(raw))))
}

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

async fn get_one(
    _: Admin,
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> BsResult<Response> {
    let h = s.service.get_heartbeat(heartbeat_id(&id)?).await?;
    Ok(axum::Json(json!({"data": resource(&h, &headers)})).into_response())
}

async fn update(
    a: Admin,
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    BsJson(input): BsJson,
) -> BsResult<Response> {
    let h = s
        .service
        .update_heartbeat(&a.actor, heartbeat_id(&id)?, &input.0)
        .await?;
    Ok(axum::Json(json!({"data": resource(&h, &headers)})).into_response())
}

async fn remove(
    a: Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> BsResult<StatusCode> {
    s.service
        .delete_heartbeat(&a.actor, heartbeat_id(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn ping(
    State(s): State<AppState>,
    Path(token): Path<String>,
    body: Bytes,
) -> BsResult<&'static str> {
    record(&s, &token, None, &body).await
}

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
