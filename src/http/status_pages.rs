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
use crate::http::error::ApiError;
use crate::http::extract::Admin;
use crate::http::monitors::{BsError, BsJson, BsQuery, BsResult, paginated, query_error};
use crate::http::status_page_html as html;
use crate::service::monitors::monitor_not_found;
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

/// Ids are numbers; anything else names nothing.
fn id(raw: &str) -> Result<i64, BsError> {
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

async fn create(a: Admin, State(s): State<AppState>, BsJson(input): BsJson) -> BsResult<Response> {
    let (page, state) = s.service.create_status_page(&a.actor, &input.0).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({"data": page_resource(&page, state)})),
    )
        .into_response())
}

async fn get_one(
    _: Admin,
    State(s): State<AppState>,
    Path(raw): Path<String>,
) -> BsResult<Response> {
    let (page, state) = s.service.get_status_page(id(&raw)?).await?;
    Ok(axum::Json(json!({"data": page_resource(&page, state)})).into_response())
}

async fn update(
    a: Admin,
    State(s): State<AppState>,
    Path(raw): Path<String>,
    BsJson(input): BsJson,
) -> BsResult<Response> {
    let (page, state) = s
        .service
        .update_status_page(&a.actor, id(&raw)?, &input.0)
        .await?;
    Ok(axum::Json(json!({"data": page_resource(&page, state)})).into_response())
}

async fn remove(
    a: Admin,
    State(s): State<AppState>,
    Path(raw): Path<String>,
) -> BsResult<StatusCode> {
    s.service.delete_status_page(&a.actor, id(&raw)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_resources(
    _: Admin,
    State(s): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> BsResult<Response> {
    let page_id = id(&raw)?;
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

async fn create_resource(
    a: Admin,
    State(s): State<AppState>,
    Path(raw): Path<String>,
    BsJson(input): BsJson,
) -> BsResult<Response> {
    let v = s
        .service
        .create_status_page_resource(&a.actor, id(&raw)?, &input.0)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({"data": resource_resource(&v)})),
    )
        .into_response())
}

async fn get_resource(
    _: Admin,
    State(s): State<AppState>,
    Path((raw, raw_resource)): Path<(String, String)>,
) -> BsResult<Response> {
    let v = s
        .service
        .get_status_page_resource(id(&raw)?, id(&raw_resource)?)
        .await?;
    Ok(axum::Json(json!({"data": resource_resource(&v)})).into_response())
}

async fn update_resource(
    a: Admin,
    State(s): State<AppState>,
    Path((raw, raw_resource)): Path<(String, String)>,
    BsJson(input): BsJson,
) -> BsResult<Response> {
    let v = s
        .service
        .update_status_page_resource(&a.actor, id(&raw)?, id(&raw_resource)?, &input.0)
        .await?;
    Ok(axum::Json(json!({"data": resource_resource(&v)})).into_response())
}

async fn remove_resource(
    a: Admin,
    State(s): State<AppState>,
    Path((raw, raw_resource)): Path<(String, String)>,
) -> BsResult<StatusCode> {
    s.service
        .delete_status_page_resource(&a.actor, id(&raw)?, id(&raw_resource)?)
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
async fn uptime(
    _: Admin,
    State(s): State<AppState>,
    Path(raw): Path<String>,
    uri: Uri,
) -> BsResult<Response> {
    let monitor = id(&raw)?;
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
