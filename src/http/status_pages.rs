//! Status pages: Better Stack's v2 status-page API (`/api/v2/status-pages` and
//! `/api/v2/status-pages/{id}/resources`, admin token as `Authorization: Bearer …`, shapes
//! as the monitor API's), flagwatch's daily uptime of a monitor
//! (`/api/v2/monitors/{id}/uptime`), and the public pages, with no token: `/status`,
//! `/status/{subdomain}` (HTML, see `status_page_html`) and `/status/{subdomain}.json`.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use serde_json::{Value, json};

use crate::domain::Timestamp;
use crate::domain::status_page::{AggregateState, StatusPage};
use crate::http::AppState;
use crate::http::extract::Admin;
use crate::http::monitors::{BsJson, BsQuery, BsResult, paginated, query_error, resource_id};
use crate::http::status_page_html as html;
use crate::service::status_pages::{
    DEFAULT_UPTIME_DAYS, DayUptime, MAX_UPTIME_DAYS, PublicPage, ResourceView, parse_zone,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v2/status-pages", get(list).post(create))
        .route(
            "/api/v2/status-pages/{id}",
            get(get_one).patch(update).delete(remove),
        )
        .route(
            "/api/v2/status-pages/{id}/resources",
            get(list_resources).post(create_resource),
        )
        .route(
            "/api/v2/status-pages/{id}/resources/{resource_id}",
            get(get_resource)
                .patch(update_resource)
                .delete(remove_resource),
        )
        .route("/api/v2/monitors/{id}/uptime", get(uptime))
        .route("/status", get(public_index))
        .route("/status/", get(public_index))
        .route("/status/{slug}", get(public_page))
}

fn page_resource(page: &StatusPage, state: AggregateState) -> Value {
    let mut attributes = page.attributes();
    attributes.insert("aggregate_state".into(), state.as_str().into());
    json!({"id": page.id.to_string(), "type": "status_page", "attributes": attributes})
}

fn resource_resource(v: &ResourceView) -> Value {
    let mut attributes = v.resource.spec.attributes();
    attributes.insert("status".into(), v.status.as_str().into());
    attributes.insert("availability".into(), v.availability.into());
    json!({"id": v.resource.id.to_string(), "type": "status_page_resource", "attributes": attributes})
}

#[utoipa::path(get, path = "/api/v2/status-pages", tag = "Status pages", security(("bearer" = [])),
    summary = "List status pages",
    params(crate::http::openapi::Paging),
    responses(
        (status = 200, description = "A page of status pages.", body = Object),
        (status = 400, description = "`page` or `per_page` is not a positive integer."),
    ))]
async fn list(
    _: Admin,
    State(s): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
) -> BsResult<Response> {
    let (page, per_page) = BsQuery::new(&uri).paging()?;
    let found = s.service.list_status_pages(page, per_page).await?;
    let data: Vec<Value> = found
        .pages
        .iter()
        .map(|(p, state)| page_resource(p, *state))
        .collect();
    Ok(paginated(
        &headers,
        "/api/v2/status-pages",
        &data,
        (page, per_page, found.total),
        &[],
    ))
}

#[utoipa::path(post, path = "/api/v2/status-pages", tag = "Status pages", security(("bearer" = [])),
    summary = "Create a status page",
    request_body(content = Object, description = "Better Stack's status-page attributes, bare or as `{\"data\": {\"attributes\": {…}}}`: `company_name` and `subdomain` (required on create), `company_url`, `timezone`, `history` (7–365 days), `announcement`, `published`, `hide_from_search_engines`, `theme`, `password_enabled` with `password` (write-only).",
        example = json!({"company_name": "Acme Inc.", "company_url": "https://acme.example", "subdomain": "acme", "timezone": "Amsterdam", "history": 90})),
    responses(
        (status = 201, description = "Created.", body = Object, example = json!({"data": {"id": "1", "type": "status_page", "attributes": {"company_name": "Acme Inc.", "company_url": "https://acme.example", "subdomain": "acme", "timezone": "Amsterdam", "history": 90, "published": true, "aggregate_state": "operational"}}})),
        (status = 422, description = "Invalid fields, each named (`subdomain` taken…)."),
    ))]
async fn create(a: Admin, State(s): State<AppState>, BsJson(input): BsJson) -> BsResult<Response> {
    let (page, state) = s.service.create_status_page(&a.actor, &input.0).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({"data": page_resource(&page, state)})),
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v2/status-pages/{id}", tag = "Status pages", security(("bearer" = [])),
    summary = "Get a status page",
    responses(
        (status = 200, description = "The page, with its `aggregate_state`.", body = Object, example = json!({"data": {"id": "1", "type": "status_page", "attributes": {"company_name": "Acme Inc.", "company_url": "https://acme.example", "subdomain": "acme", "timezone": "Amsterdam", "history": 90, "published": true, "aggregate_state": "operational"}}})),
        (status = 404, description = "No such page."),
    ))]
async fn get_one(
    _: Admin,
    State(s): State<AppState>,
    Path(raw): Path<String>,
) -> BsResult<Response> {
    let (page, state) = s.service.get_status_page(resource_id(&raw)?).await?;
    Ok(axum::Json(json!({"data": page_resource(&page, state)})).into_response())
}

#[utoipa::path(patch, path = "/api/v2/status-pages/{id}", tag = "Status pages", security(("bearer" = [])),
    summary = "Change a status page",
    request_body(content = Object, description = "Better Stack's status-page attributes, bare or as `{\"data\": {\"attributes\": {…}}}`: `company_name` and `subdomain` (required on create), `company_url`, `timezone`, `history` (7–365 days), `announcement`, `published`, `hide_from_search_engines`, `theme`, `password_enabled` with `password` (write-only).",
        example = json!({"company_name": "Acme Inc.", "company_url": "https://acme.example", "subdomain": "acme", "timezone": "Amsterdam", "history": 90})),
    responses(
        (status = 200, description = "The page as it is now.", body = Object),
        (status = 404, description = "No such page."),
        (status = 422, description = "Invalid fields, each named."),
    ))]
async fn update(
    a: Admin,
    State(s): State<AppState>,
    Path(raw): Path<String>,
    BsJson(input): BsJson,
) -> BsResult<Response> {
    let (page, state) = s
        .service
        .update_status_page(&a.actor, resource_id(&raw)?, &input.0)
        .await?;
    Ok(axum::Json(json!({"data": page_resource(&page, state)})).into_response())
}

#[utoipa::path(delete, path = "/api/v2/status-pages/{id}", tag = "Status pages", security(("bearer" = [])),
    summary = "Delete a status page",
    responses(
        (status = 204, description = "Deleted, with its resources."),
        (status = 404, description = "No such page."),
    ))]
async fn remove(
    a: Admin,
    State(s): State<AppState>,
    Path(raw): Path<String>,
) -> BsResult<StatusCode> {
    s.service
        .delete_status_page(&a.actor, resource_id(&raw)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v2/status-pages/{id}/resources", tag = "Status pages", security(("bearer" = [])),
    summary = "List what a status page shows",
    params(crate::http::openapi::Paging),
    responses(
        (status = 200, description = "A page of resources, in `position` order.", body = Object),
        (status = 404, description = "No such page."),
    ))]
async fn list_resources(
    _: Admin,
    State(s): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> BsResult<Response> {
    let page_id = resource_id(&raw)?;
    let (page, per_page) = BsQuery::new(&uri).paging()?;
    let all = s.service.list_status_page_resources(page_id).await?;
    let total = all.len() as i64;
    let skip = usize::try_from((page - 1).saturating_mul(per_page)).unwrap_or(usize::MAX);
    let take = usize::try_from(per_page).unwrap_or(usize::MAX);
    let data: Vec<Value> = all
        .iter()
        .skip(skip)
        .take(take)
        .map(resource_resource)
        .collect();
    Ok(paginated(
        &headers,
        &format!("/api/v2/status-pages/{page_id}/resources"),
        &data,
        (page, per_page, total),
        &[],
    ))
}

#[utoipa::path(post, path = "/api/v2/status-pages/{id}/resources", tag = "Status pages", security(("bearer" = [])),
    summary = "Show a monitor or heartbeat on a status page",
    request_body(content = Object, description = "`resource_id`, `resource_type` (`Monitor` or `Heartbeat`), `public_name` (required on create), `explanation`, `position`, `widget_type` (`plain`, `history`, `intraday_history`, `response_times`).",
        example = json!({"resource_id": 1, "resource_type": "Monitor", "public_name": "Public API", "explanation": "REST and GraphQL endpoints"})),
    responses(
        (status = 201, description = "Created.", body = Object, example = json!({"data": {"id": "1", "type": "status_page_resource", "attributes": {"resource_id": 1, "resource_type": "Monitor", "public_name": "Public API", "explanation": "REST and GraphQL endpoints", "position": 0, "widget_type": "history", "status": "operational", "availability": 0.9998}}})),
        (status = 404, description = "No such page."),
        (status = 422, description = "Invalid fields, each named (an unknown monitor, one already on the page…)."),
    ))]
async fn create_resource(
    a: Admin,
    State(s): State<AppState>,
    Path(raw): Path<String>,
    BsJson(input): BsJson,
) -> BsResult<Response> {
    let v = s
        .service
        .create_status_page_resource(&a.actor, resource_id(&raw)?, &input.0)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({"data": resource_resource(&v)})),
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v2/status-pages/{id}/resources/{resource_id}", tag = "Status pages", security(("bearer" = [])),
    summary = "Get a status page resource",
    responses(
        (status = 200, description = "The resource, with its `status` and `availability`.", body = Object, example = json!({"data": {"id": "1", "type": "status_page_resource", "attributes": {"resource_id": 1, "resource_type": "Monitor", "public_name": "Public API", "explanation": "REST and GraphQL endpoints", "position": 0, "widget_type": "history", "status": "operational", "availability": 0.9998}}})),
        (status = 404, description = "No such page or resource."),
    ))]
async fn get_resource(
    _: Admin,
    State(s): State<AppState>,
    Path((raw, raw_resource)): Path<(String, String)>,
) -> BsResult<Response> {
    let v = s
        .service
        .get_status_page_resource(resource_id(&raw)?, resource_id(&raw_resource)?)
        .await?;
    Ok(axum::Json(json!({"data": resource_resource(&v)})).into_response())
}

#[utoipa::path(patch, path = "/api/v2/status-pages/{id}/resources/{resource_id}", tag = "Status pages", security(("bearer" = [])),
    summary = "Change a status page resource",
    request_body(content = Object, description = "`resource_id`, `resource_type` (`Monitor` or `Heartbeat`), `public_name` (required on create), `explanation`, `position`, `widget_type` (`plain`, `history`, `intraday_history`, `response_times`).",
        example = json!({"resource_id": 1, "resource_type": "Monitor", "public_name": "Public API", "explanation": "REST and GraphQL endpoints"})),
    responses(
        (status = 200, description = "The resource as it is now.", body = Object),
        (status = 404, description = "No such page or resource."),
        (status = 422, description = "Invalid fields, each named."),
    ))]
async fn update_resource(
    a: Admin,
    State(s): State<AppState>,
    Path((raw, raw_resource)): Path<(String, String)>,
    BsJson(input): BsJson,
) -> BsResult<Response> {
    let v = s
        .service
        .update_status_page_resource(
            &a.actor,
            resource_id(&raw)?,
            resource_id(&raw_resource)?,
            &input.0,
        )
        .await?;
    Ok(axum::Json(json!({"data": resource_resource(&v)})).into_response())
}

#[utoipa::path(delete, path = "/api/v2/status-pages/{id}/resources/{resource_id}", tag = "Status pages", security(("bearer" = [])),
    summary = "Take a resource off a status page",
    responses(
        (status = 204, description = "Removed."),
        (status = 404, description = "No such page or resource."),
    ))]
async fn remove_resource(
    a: Admin,
    State(s): State<AppState>,
    Path((raw, raw_resource)): Path<(String, String)>,
) -> BsResult<StatusCode> {
    s.service
        .delete_status_page_resource(&a.actor, resource_id(&raw)?, resource_id(&raw_resource)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn day_json(d: &DayUptime) -> Value {
    json!({
        "date": d.date.to_string(),
        "availability": d.availability,
        "downtime_seconds": d.downtime_seconds,
        "incidents": d.incidents,
    })
}

/// `GET /api/v2/monitors/{id}/uptime?days=90&timezone=UTC` (a flagwatch extension): one
/// entry per day, oldest first, ending today: `{"data": [{"date", "availability" (% or null
/// before the monitor existed), "downtime_seconds", "incidents"}]}`. `days` is 1–365
/// (default 90); `timezone` a Rails zone name or IANA id (default UTC). Bad values are a 400.
#[utoipa::path(get, path = "/api/v2/monitors/{id}/uptime", tag = "Monitors", security(("bearer" = [])),
    summary = "A monitor's uptime per day (a flagwatch extension)",
    params(
        ("days" = Option<u32>, Query, description = "1 to 365, default 90."),
        ("timezone" = Option<String>, Query, description = "A Rails zone name or IANA id; default UTC."),
    ),
    responses(
        (status = 200, description = "One entry per day, oldest first, ending today; `availability` in %, `null` before the monitor existed.", body = Object,
            example = json!({"data": [{"date": "2026-01-01", "availability": 99.98, "downtime_seconds": 17, "incidents": 1}]})),
        (status = 400, description = "`days` or `timezone` that cannot be read."),
        (status = 404, description = "No such monitor."),
    ))]
async fn uptime(
    _: Admin,
    State(s): State<AppState>,
    Path(raw): Path<String>,
    uri: Uri,
) -> BsResult<Response> {
    let monitor = resource_id(&raw)?;
    let q = BsQuery::new(&uri);
    let days = match q.last("days") {
        None => DEFAULT_UPTIME_DAYS,
        Some(v) => v
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|d| (1..=MAX_UPTIME_DAYS).contains(d))
            .ok_or_else(|| {
                query_error(format!(
                    "days must be an integer from 1 to {MAX_UPTIME_DAYS}"
                ))
            })?,
    };
    let zone = match q.last("timezone") {
        None => chrono_tz::Tz::UTC,
        Some(name) => parse_zone(name.trim())
            .ok_or_else(|| query_error("timezone is not a time zone".into()))?,
    };
    let history = s
        .service
        .monitor_uptime(monitor, days, zone, Timestamp::now())
        .await?;
    let data: Vec<Value> = history.iter().map(day_json).collect();
    Ok(axum::Json(json!({"data": data})).into_response())
}

// ==== The public pages ====================================================================

/// Headers of every public answer: no caching of stale status, and (HTML) no script at all.
fn public_response(status: StatusCode, content_type: &'static str, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; \
             form-action 'none'; frame-ancestors 'none'",
        ),
    );
    response
}

fn html_response(status: StatusCode, body: String) -> Response {
    public_response(status, "text/html; charset=utf-8", body)
}

fn not_found_page() -> Response {
    html_response(StatusCode::NOT_FOUND, html::not_found())
}

/// `GET /status`: the only published page, a list when there are several, a 404 page when
/// there is none.
#[utoipa::path(get, path = "/status", tag = "Status pages",
    summary = "The public status page (no token)",
    description = "The only published page; a list of them when there are several; a 404 page when there is none.",
    responses(
        (status = 200, description = "An HTML page.", content_type = "text/html"),
        (status = 401, description = "The page is password-protected: HTTP Basic, any user name.", content_type = "text/html"),
        (status = 404, description = "No published page.", content_type = "text/html"),
    ))]
async fn public_index(State(s): State<AppState>, headers: HeaderMap) -> BsResult<Response> {
    let mut pages = s.service.published_status_pages().await?;
    match pages.len() {
        0 => Ok(not_found_page()),
        1 => {
            let (page, _) = pages.remove(0);
            render(&s, page, false, &headers).await
        }
        _ => Ok(html_response(StatusCode::OK, html::index(&pages))),
    }
}

/// `GET /status/{subdomain}` (HTML) and `GET /status/{subdomain}.json`.
#[utoipa::path(get, path = "/status/{slug}", tag = "Status pages",
    summary = "A public status page by its subdomain (no token)",
    description = "`/status/<subdomain>.json` answers the same page as JSON, for machines.",
    responses(
        (status = 200, description = "The page: HTML, or JSON for `<subdomain>.json`.", content_type = "text/html"),
        (status = 401, description = "The page is password-protected: HTTP Basic, any user name."),
        (status = 404, description = "No published page with that subdomain (an HTML page, or `{\"errors\"}` for `.json`)."),
    ))]
async fn public_page(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> BsResult<Response> {
    let (slug, as_json) = match slug.strip_suffix(".json") {
        Some(bare) => (bare.to_string(), true),
        None => (slug, false),
    };
    match s.service.published_status_page(&slug).await? {
        Some(page) => render(&s, page, as_json, &headers).await,
        None if as_json => Ok(public_response(
            StatusCode::NOT_FOUND,
            "application/json",
            json!({"errors": "Status page not found"}).to_string(),
        )),
        None => Ok(not_found_page()),
    }
}

/// The password of a `password_enabled` page, from HTTP Basic (any user name).
fn basic_password(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    text.split_once(':').map(|(_, p)| p.to_string())
}

async fn render(
    s: &AppState,
    page: StatusPage,
    as_json: bool,
    headers: &HeaderMap,
) -> BsResult<Response> {
    if page.spec.password_enabled
        && !basic_password(headers).is_some_and(|p| page.password_accepts(&p))
    {
        let mut response = html_response(StatusCode::UNAUTHORIZED, html::locked());
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"status page\", charset=\"UTF-8\""),
        );
        return Ok(response);
    }
    let private = page.spec.password_enabled;
    let view = s.service.public_status_page(page, Timestamp::now()).await?;
    let mut response = if as_json {
        public_response(
            StatusCode::OK,
            "application/json",
            summary_json(&view).to_string(),
        )
    } else {
        html_response(StatusCode::OK, html::page(&view))
    };
    if private {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(response)
}

/// `/status/{subdomain}.json`: what the page shows, for machines.
fn summary_json(view: &PublicPage) -> Value {
    let spec = &view.page.spec;
    let resources: Vec<Value> = view
        .resources
        .iter()
        .map(|r| {
            json!({
                "id": r.id.to_string(),
                "public_name": r.public_name,
                "explanation": r.explanation,
                "resource_type": r.resource_type.as_str(),
                "status": r.status.as_str(),
                "uptime": r.uptime,
                "days": if r.shows_history {
                    r.days.iter().map(day_json).collect::<Vec<_>>()
                } else {
                    Vec::new()
                },
            })
        })
        .collect();
    let incidents: Vec<Value> = view
        .incidents
        .iter()
        .map(|i| {
            json!({
                "resource": i.resource,
                "cause": i.cause,
                "started_at": i.started_at.to_rfc3339(),
                "resolved_at": i.resolved_at.map(Timestamp::to_rfc3339),
                "duration_seconds": i.duration_seconds,
                "status": if i.resolved_at.is_some() { "resolved" } else { "ongoing" },
            })
        })
        .collect();
    json!({
        "page": {
            "company_name": spec.company_name,
            "company_url": spec.company_url,
            "subdomain": spec.subdomain,
            "timezone": spec.timezone,
            "history": spec.history,
            "announcement": spec.announcement,
            "aggregate_state": view.aggregate.as_str(),
            "updated_at": view.generated_at.to_rfc3339(),
        },
        "resources": resources,
        "incidents": incidents,
    })
}
