//! Webhook sources: where Better Stack posts its incident webhooks. A source's secret, and so
//! its receiver URL, is shown once, in the answer that creates it or rotates it.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::domain::Invalid;
use crate::domain::webhook::{SourceInput, WebhookSource};
use crate::http::AppState;
use crate::http::admin::query_pairs;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Admin, Json};
use crate::http::monitors::base_url;
use crate::http::webhooks::{LEGACY_PATH, receiver_path};
use crate::service::webhooks::IssuedSource;
use crate::store::WebhookDelivery;

/// Deliveries listed when no `limit` is given.
const DEFAULT_LIMIT: i64 = 100;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/webhook-sources", get(list).post(create))
        .route(
            "/api/admin/webhook-sources/{id}",
            get(get_one).delete(remove),
        )
        .route(
            "/api/admin/webhook-sources/{id}/rotate-secret",
            post(rotate),
        )
        .route(
            "/api/admin/webhook-sources/{id}/deliveries",
            get(deliveries),
        )
}

/// The source with its secret and the URLs to paste into Better Stack: shown once.
fn issued_view(issued: &IssuedSource, headers: &HeaderMap) -> Value {
    let base = base_url(headers);
    let mut view = issued.source.view();
    view["secret"] = json!(issued.secret);
    view["url"] = json!(format!("{base}{}", receiver_path(&issued.secret)));
    if issued.source.legacy_path {
        view["legacy_url"] = json!(format!("{base}{LEGACY_PATH}"));
    }
    view
}

fn delivery_view(d: &WebhookDelivery) -> Value {
    json!({
        "id": d.id,
        "received_at": d.received_at,
        "event": d.event,
        "incident_id": d.incident_id,
        "monitor_id": d.monitor_id,
        "monitor_name": d.monitor_name,
        "outcome": d.outcome,
        "guards": d.guards,
    })
}

/// Ids are positive integers; anything else names no source.
fn source_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::NotFound(format!("There is no webhook source with id {raw}.")))
}

#[utoipa::path(get, path = "/api/admin/webhook-sources", tag = "Webhooks", security(("unleash" = [])),
    summary = "List webhook sources",
    responses((status = 200, description = "Every source, without secrets.", body = Object,
        example = json!({"webhook_sources": [{"id": 1, "name": "better-stack", "kind": "betterstack", "basic_auth": null, "legacy_path": false}]}))))]
async fn list(_: Admin, State(s): State<AppState>) -> ApiResult<impl IntoResponse> {
    let sources: Vec<Value> = s
        .service
        .list_webhook_sources()
        .await?
        .iter()
        .map(WebhookSource::view)
        .collect();
    Ok(axum::Json(json!({"webhook_sources": sources})))
}

#[utoipa::path(post, path = "/api/admin/webhook-sources", tag = "Webhooks", security(("unleash" = [])),
    summary = "Create a webhook source",
    description = "The answer holds the secret and the receiver URL to paste into Better Stack, shown this once. The URL is built from the request's `Host` and `X-Forwarded-Proto`.",
    request_body = SourceInput,
    responses(
        (status = 201, description = "Created, with `secret` and `url`.", body = Object, example = json!({"id": 1, "name": "better-stack", "kind": "betterstack", "basic_auth": null, "legacy_path": false, "created_at": "2026-01-01T00:00:00.000Z", "updated_at": "2026-01-01T00:00:00.000Z", "secret": "k3J9…", "url": "https://flags.example.com/api/webhooks/betterstack/k3J9…"})),
        (status = 409, description = "Another source has that name."),
    ))]
async fn create(
    a: Admin,
    State(s): State<AppState>,
    headers: HeaderMap,
    Json(input): Json<SourceInput>,
) -> ApiResult<impl IntoResponse> {
    let issued = s.service.create_webhook_source(&a.actor, &input).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(issued_view(&issued, &headers)),
    ))
}

#[utoipa::path(get, path = "/api/admin/webhook-sources/{id}", tag = "Webhooks", security(("unleash" = [])),
    summary = "Get a webhook source",
    responses(
        (status = 200, description = "The source, without its secret.", body = Object),
        (status = 404, description = "No such source."),
    ))]
async fn get_one(
    _: Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let source = s.service.get_webhook_source(source_id(&id)?).await?;
    Ok(axum::Json(source.view()))
}

#[utoipa::path(delete, path = "/api/admin/webhook-sources/{id}", tag = "Webhooks", security(("unleash" = [])),
    summary = "Delete a webhook source",
    responses(
        (status = 204, description = "Deleted, with its delivery log."),
        (status = 404, description = "No such source."),
    ))]
async fn remove(
    a: Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.service
        .delete_webhook_source(&a.actor, source_id(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/admin/webhook-sources/{id}/rotate-secret", tag = "Webhooks", security(("unleash" = [])),
    summary = "Give a webhook source a new secret",
    description = "The old URL stops working at once.",
    responses(
        (status = 200, description = "The new `secret` and `url`, shown this once.", body = Object, example = json!({"id": 1, "name": "better-stack", "kind": "betterstack", "basic_auth": null, "legacy_path": false, "created_at": "2026-01-01T00:00:00.000Z", "updated_at": "2026-01-01T00:00:00.000Z", "secret": "k3J9…", "url": "https://flags.example.com/api/webhooks/betterstack/k3J9…"})),
        (status = 404, description = "No such source."),
    ))]
async fn rotate(
    a: Admin,
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let issued = s
        .service
        .rotate_webhook_secret(&a.actor, source_id(&id)?)
        .await?;
    Ok(axum::Json(issued_view(&issued, &headers)))
}

/// `?limit=` (1–1000, default 100) and `?offset=`, newest first.
#[utoipa::path(get, path = "/api/admin/webhook-sources/{id}/deliveries", tag = "Webhooks", security(("unleash" = [])),
    summary = "A webhook source's delivery log, newest first",
    params(
        ("limit" = Option<i64>, Query, description = "1 to 1000, default 100."),
        ("offset" = Option<i64>, Query, description = "Deliveries to skip."),
    ),
    responses(
        (status = 200, description = "The deliveries.", body = Object,
            example = json!({"deliveries": [{"id": 5, "received_at": "2026-01-01T00:00:00.000Z", "event": "started", "incident_id": "1", "monitor_id": "4", "monitor_name": "checkout-api", "outcome": "processed", "guards": []}], "total": 1})),
        (status = 404, description = "No such source."),
    ))]
async fn deliveries(
    _: Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
    uri: Uri,
) -> ApiResult<impl IntoResponse> {
    let id = source_id(&id)?;
    let mut limit = DEFAULT_LIMIT;
    let mut offset = 0;
    for (key, value) in query_pairs(uri.query()) {
        let slot = match key.as_str() {
            "limit" => &mut limit,
            "offset" => &mut offset,
            _ => continue,
        };
        *slot = value
            .parse()
            .ok()
            .filter(|n: &i64| *n >= 0)
            .ok_or_else(|| {
                Invalid::at(
                    key.as_str(),
                    format!("\"{key}\" must be a non-negative integer (got \"{value}\")."),
                )
            })?;
    }
    let page = s.service.webhook_deliveries(id, limit, offset).await?;
    let deliveries: Vec<Value> = page.deliveries.iter().map(delivery_view).collect();
    Ok(axum::Json(
        json!({"deliveries": deliveries, "total": page.total}),
    ))
}
