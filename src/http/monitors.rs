//! Better Stack's v2 monitor API (`/api/v2/monitors`), for an admin token sent as
//! `Authorization: Bearer …`. Bodies are JSON:API-shaped as Better Stack's:
//! `{"data": {"id": "1", "type": "monitor", "attributes": {…}}}`, lists add `pagination`
//! links; errors are `{"errors": {"field": ["message"]}}` (422) or `{"errors": "message"}`.

use axum::Router;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::header::{HOST, HeaderMap};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use crate::domain::monitor::{Monitor, MonitorInput};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::extract::{Admin, is_json, parse_json, read_body};
use crate::service::monitors::{DEFAULT_PER_PAGE, MAX_PER_PAGE, monitor_not_found};
use crate::store::MonitorFilter;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v2/monitors", get(list).post(create))
        .route(
            "/api/v2/monitors/{id}",
            get(get_one).patch(update).delete(remove),
        )
        .route("/api/v2/monitors/{id}/sla", get(sla))
        .route("/api/v2/monitors/{id}/response-times", get(response_times))
}

/// An [`ApiError`] rendered in Better Stack's error shapes. Authentication failures keep
/// the server's usual 401/403 bodies.
pub struct BsError(ApiError);

impl<E: Into<ApiError>> From<E> for BsError {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}

impl IntoResponse for BsError {
    fn into_response(self) -> Response {
        match self.0 {
            // Field errors → 422 {"errors": {"field": ["message", …]}}; a body that is not
            // JSON at all (no field to name) → 400 {"errors": "message"}.
            ApiError::BadData(details) => {
                if details.iter().all(|d| d.path.is_none()) {
                    let message = details
                        .iter()
                        .map(|d| d.message.as_str())
                        .collect::<Vec<_>>()
                        .join(" ");
                    return (
                        StatusCode::BAD_REQUEST,
                        axum::Json(json!({"errors": message})),
                    )
                        .into_response();
                }
                let mut errors: Map<String, Value> = Map::new();
                for d in details {
                    let field = d.path.unwrap_or_else(|| "base".into());
                    let entry = errors
                        .entry(field)
                        .or_insert_with(|| Value::Array(Vec::new()));
                    if let Value::Array(list) = entry {
                        list.push(Value::String(d.message));
                    }
                }
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    axum::Json(json!({"errors": errors})),
                )
                    .into_response()
            }
            ApiError::NotFound(message) => (
                StatusCode::NOT_FOUND,
                axum::Json(json!({"errors": message})),
            )
                .into_response(),
            other => other.into_response(),
        }
    }
}

pub(super) type BsResult<T> = Result<T, BsError>;

/// A JSON body whose rejections are in Better Stack's shape. Accepts the attributes bare
/// (`{"url": …}`, as Better Stack's own examples send them) or wrapped as JSON:API
/// (`{"data": {"attributes": {…}}}`).
pub struct BsJson(pub MonitorInput);

impl FromRequest<AppState> for BsJson {
    type Rejection = BsError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, BsError> {
        is_json(req.headers())?;
        let bytes = read_body(req, state).await?;
        // Not JSON at all: no field to name, so a 400 with a message (not a 422).
        if let Err(e) = serde_json::from_slice::<Value>(&bytes) {
            return Err(BsError(ApiError::bad_data(crate::domain::Invalid::new(
                format!("The request body is not valid JSON: {e}"),
            ))));
        }
        // Valid JSON; this also refuses text holding U+0000, naming the field.
        let body: Value = parse_json(&bytes)?;
        let Value::Object(mut map) = body else {
            return Err(BsError(ApiError::bad_data(crate::domain::Invalid::new(
                "The request body must be a JSON object of monitor attributes.",
            ))));
        };
        if let Some(Value::Object(data)) = map.get_mut("data")
            && let Some(Value::Object(attributes)) = data.remove("attributes")
        {
            map = attributes;
        }
        Ok(Self(MonitorInput(map)))
    }
}

fn resource(m: &Monitor) -> Value {
    json!({"id": m.id.to_string(), "type": "monitor", "attributes": m.attributes()})
}

/// Monitor ids are numbers; anything else names no monitor.
/// A Better Stack resource id from a path (monitors, heartbeats, incidents, status pages):
/// anything but an integer names no resource, Better Stack's 404.
pub(super) fn resource_id(raw: &str) -> Result<i64, BsError> {
    raw.parse()
        .map_err(|_| BsError(ApiError::NotFound(monitor_not_found(raw))))
}

pub(super) fn query_error(message: String) -> BsError {
    BsError(ApiError::bad_data(crate::domain::Invalid::new(message)))
}

#[utoipa::path(get, path = "/api/v2/monitors", tag = "Monitors", security(("bearer" = [])),
    summary = "List monitors",
    params(
        ("url" = Option<String>, Query, description = "Only monitors of this URL."),
        ("pronounceable_name" = Option<String>, Query, description = "Only monitors of this name."),
        crate::http::openapi::Paging,
    ),
    responses(
        (status = 200, description = "A page of monitors.", body = Object,
            example = json!({"data": [{"id": "1", "type": "monitor", "attributes": {"url": "https://api.example.com/health", "pronounceable_name": "Production API Health", "monitor_type": "status", "status": "up", "check_frequency": 30, "request_timeout": 15, "confirmation_period": 0, "recovery_period": 180, "paused": false, "last_checked_at": "2026-01-01T00:00:30Z", "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}}], "pagination": {"first": "http://localhost:4242/api/v2/monitors?page=1", "last": "http://localhost:4242/api/v2/monitors?page=1", "prev": null, "next": null}})),
        (status = 400, description = "`page` or `per_page` is not a positive integer."),
    ))]
async fn list(
    _: Admin,
    State(s): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
) -> BsResult<Response> {
    let q = BsQuery::new(&uri);
    let (page, per_page) = q.paging()?;
    let filter = MonitorFilter {
        url: q.last("url"),
        pronounceable_name: q.last("pronounceable_name"),
    };
    let found = s.service.list_monitors(&filter, page, per_page).await?;
    let data: Vec<Value> = found.monitors.iter().map(resource).collect();
    let mut filters = Vec::new();
    if let Some(url) = &filter.url {
        filters.push(("url", url.clone()));
    }
    if let Some(name) = &filter.pronounceable_name {
        filters.push(("pronounceable_name", name.clone()));
    }
    Ok(paginated(
        &headers,
        "/api/v2/monitors",
        &data,
        (page, per_page, found.total),
        &filters,
    ))
}

/// The query string of a Better Stack call; of a repeated key, the last value wins.
pub(super) struct BsQuery(Vec<(String, String)>);

impl BsQuery {
    pub(super) fn new(uri: &Uri) -> Self {
        Self(crate::http::admin::query_pairs(uri.query()))
    }

    pub(super) fn last(&self, key: &str) -> Option<String> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }

    /// `page` (from 1) and `per_page` (default 50, at most 250); 400 if not positive integers.
    pub(super) fn paging(&self) -> Result<(i64, i64), BsError> {
        let number = |key: &str, default: i64| -> Result<i64, BsError> {
            match self.last(key) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| query_error(format!("{key} must be a positive integer"))),
            }
        };
        Ok((
            number("page", 1)?,
            number("per_page", DEFAULT_PER_PAGE)?.min(MAX_PER_PAGE),
        ))
    }
}

/// A JSON:API list page with Better Stack's `pagination` links to `path`, which keep `filters`.
pub(super) fn paginated(
    headers: &HeaderMap,
    path: &str,
    data: &[Value],
    (page, per_page, total): (i64, i64, i64),
    filters: &[(&str, String)],
) -> Response {
    let last = ((total + per_page - 1) / per_page).max(1);
    let link = |p: i64| -> String {
        let mut query: Vec<(&str, String)> = vec![("page", p.to_string())];
        if per_page != DEFAULT_PER_PAGE {
            query.push(("per_page", per_page.to_string()));
        }
        query.extend(filters.iter().cloned());
        let query = serde_urlencoded::to_string(&query).unwrap_or_default();
        format!("{}{path}?{query}", base_url(headers))
    };
    let body = json!({
        "data": data,
        "pagination": {
            "first": link(1),
            "last": link(last),
            "prev": (page > 1).then(|| link((page - 1).min(last))),
            "next": (page < last).then(|| link(page + 1)),
        },
    });
    axum::Json(body).into_response()
}

/// `scheme://host` as the client reached us (`X-Forwarded-Proto` honoured for the scheme).
pub(super) fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|p| matches!(*p, "http" | "https"))
        .unwrap_or("http");
    format!("{scheme}://{host}")
}

#[utoipa::path(post, path = "/api/v2/monitors", tag = "Monitors", security(("bearer" = [])),
    summary = "Create a monitor",
    request_body(content = Object, description = "Better Stack's monitor attributes, bare or as `{\"data\": {\"attributes\": {…}}}`: `monitor_type` (`status`, `keyword`, `keyword_absence`, `expected_status_code`, `tcp`, `udp`, `dns`, `ping`), `url`, `pronounceable_name`, `check_frequency` (s), `request_timeout` (s for HTTP, ms otherwise), `confirmation_period`, `recovery_period`, `required_keyword`, `expected_status_codes`, `paused`, `maintenance_from`/`maintenance_to`/`maintenance_timezone`, `port`, `request_headers`, `verify_ssl`, and flagwatch's `dns_record_type` and `notification_channels`. Fields with no effect here are stored and returned.",
        example = json!({"monitor_type": "status", "url": "https://api.example.com/health", "pronounceable_name": "Production API Health", "check_frequency": 30, "request_timeout": 15})),
    responses(
        (status = 201, description = "Created; checked from now on.", body = Object, example = json!({"data": {"id": "1", "type": "monitor", "attributes": {"url": "https://api.example.com/health", "pronounceable_name": "Production API Health", "monitor_type": "status", "status": "up", "check_frequency": 30, "request_timeout": 15, "confirmation_period": 0, "recovery_period": 180, "paused": false, "last_checked_at": "2026-01-01T00:00:30Z", "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}}})),
        (status = 422, description = "Invalid fields, each named: `{\"errors\": {\"url\": [\"…\"]}}`."),
    ))]
async fn create(a: Admin, State(s): State<AppState>, BsJson(input): BsJson) -> BsResult<Response> {
    let m = s.service.create_monitor(&a.actor, &input).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({"data": resource(&m)})),
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v2/monitors/{id}", tag = "Monitors", security(("bearer" = [])),
    summary = "Get a monitor",
    responses(
        (status = 200, description = "The monitor, with its status.", body = Object, example = json!({"data": {"id": "1", "type": "monitor", "attributes": {"url": "https://api.example.com/health", "pronounceable_name": "Production API Health", "monitor_type": "status", "status": "up", "check_frequency": 30, "request_timeout": 15, "confirmation_period": 0, "recovery_period": 180, "paused": false, "last_checked_at": "2026-01-01T00:00:30Z", "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}}})),
        (status = 404, description = "No such monitor."),
    ))]
async fn get_one(
    _: Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> BsResult<Response> {
    let m = s.service.get_monitor(resource_id(&id)?).await?;
    Ok(axum::Json(json!({"data": resource(&m)})).into_response())
}

#[utoipa::path(patch, path = "/api/v2/monitors/{id}", tag = "Monitors", security(("bearer" = [])),
    summary = "Change a monitor",
    request_body(content = Object, description = "Better Stack's monitor attributes, bare or as `{\"data\": {\"attributes\": {…}}}`: `monitor_type` (`status`, `keyword`, `keyword_absence`, `expected_status_code`, `tcp`, `udp`, `dns`, `ping`), `url`, `pronounceable_name`, `check_frequency` (s), `request_timeout` (s for HTTP, ms otherwise), `confirmation_period`, `recovery_period`, `required_keyword`, `expected_status_codes`, `paused`, `maintenance_from`/`maintenance_to`/`maintenance_timezone`, `port`, `request_headers`, `verify_ssl`, and flagwatch's `dns_record_type` and `notification_channels`. Fields with no effect here are stored and returned.",
        example = json!({"monitor_type": "status", "url": "https://api.example.com/health", "pronounceable_name": "Production API Health", "check_frequency": 30, "request_timeout": 15})),
    responses(
        (status = 200, description = "The monitor as it is now.", body = Object),
        (status = 404, description = "No such monitor."),
        (status = 422, description = "Invalid fields, each named."),
    ))]
async fn update(
    a: Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
    BsJson(input): BsJson,
) -> BsResult<Response> {
    let m = s
        .service
        .update_monitor(&a.actor, resource_id(&id)?, &input)
        .await?;
    Ok(axum::Json(json!({"data": resource(&m)})).into_response())
}

#[utoipa::path(delete, path = "/api/v2/monitors/{id}", tag = "Monitors", security(("bearer" = [])),
    summary = "Delete a monitor",
    responses(
        (status = 204, description = "Deleted."),
        (status = 404, description = "No such monitor."),
        (status = 409, description = "A guard reads it (the message names the guard)."),
    ))]
async fn remove(
    a: Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> BsResult<StatusCode> {
    s.service
        .delete_monitor(&a.actor, resource_id(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `from`/`to` of the SLA report: plain dates (`YYYY-MM-DD`), UTC; `to` includes its whole
/// day. Anything else is a 400.
fn sla_date(key: &str, raw: &str, end_of_day: bool) -> Result<crate::domain::Timestamp, BsError> {
    let raw = raw.trim();
    let t = (raw.len() == 10)
        .then(|| crate::domain::Timestamp::parse(raw))
        .flatten()
        .ok_or_else(|| query_error(format!("{key} must be a date (YYYY-MM-DD)")))?;
    Ok(if end_of_day {
        crate::domain::Timestamp(t.millis() + 86_400_000)
    } else {
        t
    })
}

/// `GET /api/v2/monitors/{id}/sla?from=YYYY-MM-DD&to=YYYY-MM-DD`: Better Stack's availability
/// summary, from the monitor's incidents (durations in seconds). Without `from`, the window
/// starts at the monitor's creation; without `to`, it ends now (it never runs past now).
#[utoipa::path(get, path = "/api/v2/monitors/{id}/sla", tag = "Monitors", security(("bearer" = [])),
    summary = "A monitor's availability over a period",
    description = "From the incidents overlapping the window; durations in seconds, availability in %.",
    params(
        ("from" = Option<String>, Query, description = "`YYYY-MM-DD` (UTC); the monitor's creation when left out."),
        ("to" = Option<String>, Query, description = "`YYYY-MM-DD`, including that whole day; now when left out."),
    ),
    responses(
        (status = 200, description = "Better Stack's `monitor_sla`.", body = Object,
            example = json!({"data": {"id": "1", "type": "monitor_sla", "attributes": {"availability": 99.9815, "total_downtime": 480, "number_of_incidents": 2, "longest_incident": 300, "average_incident": 240}}})),
        (status = 400, description = "A date that is not `YYYY-MM-DD`, or `from` after `to`."),
        (status = 404, description = "No such monitor."),
    ))]
async fn sla(
    _: Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
    uri: Uri,
) -> BsResult<Response> {
    let id = resource_id(&id)?;
    let q = BsQuery::new(&uri);
    let from = q
        .last("from")
        .map(|v| sla_date("from", &v, false))
        .transpose()?;
    let to = q.last("to").map(|v| sla_date("to", &v, true)).transpose()?;
    if let (Some(f), Some(t)) = (from, to)
        && f >= t
    {
        return Err(query_error(
            "The date range is invalid: from must not be after to".into(),
        ));
    }
    let now = crate::domain::Timestamp::now();
    let r = s.service.monitor_sla(id, from, to, now).await?;
    Ok(axum::Json(json!({"data": {
        "id": id.to_string(),
        "type": "monitor_sla",
        "attributes": {
            "availability": r.availability,
            "total_downtime": r.total_downtime,
            "number_of_incidents": r.number_of_incidents,
            "longest_incident": r.longest_incident,
            "average_incident": r.average_incident,
        },
    }}))
    .into_response())
}

/// `GET /api/v2/monitors/{id}/response-times`: the last 24 hours, one point per minute (the
/// minute's average, in seconds), in Better Stack's shape. Checks run from this server, so
/// there is one region, `local`; the timing breakdown (name lookup, TLS…) is not measured.
#[utoipa::path(get, path = "/api/v2/monitors/{id}/response-times", tag = "Monitors", security(("bearer" = [])),
    summary = "A monitor's response times over the last 24 hours",
    description = "One point per minute (the minute's average, in seconds), in one region, `local`.",
    responses(
        (status = 200, description = "Better Stack's `monitor_response_times`.", body = Object,
            example = json!({"data": {"id": "1", "type": "monitor_response_times", "attributes": {"regions": [{"region": "local", "response_times": [{"at": "2026-01-01T00:00:00Z", "response_time": 0.042}]}]}}})),
        (status = 404, description = "No such monitor."),
    ))]
async fn response_times(
    _: Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> BsResult<Response> {
    let id = resource_id(&id)?;
    let points = s
        .service
        .response_times(id, crate::domain::Timestamp::now())
        .await?;
    let times: Vec<Value> = points
        .iter()
        .map(|p| json!({"at": p.at.to_rfc3339(), "response_time": p.response_time}))
        .collect();
    Ok(axum::Json(json!({"data": {
        "id": id.to_string(),
        "type": "monitor_response_times",
        "attributes": {"regions": [{"region": "local", "response_times": times}]},
    }}))
    .into_response())
}
