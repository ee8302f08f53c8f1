//! Notification channels and their delivery log (flagwatch's own API, snake_case like the
//! guard and monitor APIs). Secrets are masked in every answer but the 201 that generated a
//! webhook secret.

use axum::Router;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::domain::notification::DeliveryFilter;
use crate::http::AppState;
use crate::http::admin::query_pairs;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Admin, Json, is_json, parse_json, read_body};
use crate::service::notifications::{CreatedChannel, channel_not_found};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/notification-channels", get(list).post(create))
        .route(
            "/api/admin/notification-channels/{id}",
            get(get_one).put(update).delete(remove),
        )
        .route("/api/admin/notification-channels/{id}/test", post(test))
        .route(
            "/api/admin/notification-channels/{id}/deliveries",
            get(channel_deliveries),
        )
        .route("/api/admin/notification-deliveries", get(deliveries))
}

/// Channel ids are numbers; anything else names no channel.
fn channel_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::NotFound(channel_not_found(raw)))
}

/// The channel, with a generated webhook secret shown in full (this once).
fn created_view(created: &CreatedChannel) -> Value {
    let mut view = created.channel.view();
    if let Some(secret) = &created.generated_secret {
        view["config"]["secret"] = json!(secret);
        view["secret_generated"] = json!(true);
    }
    view
}

async fn list(_: Admin, State(s): State<AppState>) -> ApiResult<impl IntoResponse> {
    let channels: Vec<Value> = s
        .service
        .list_channels()
        .await?
        .iter()
        .map(|c| c.view())
        .collect();
    Ok(axum::Json(json!({"channels": channels})))
}

async fn create(
    a: Admin,
    State(s): State<AppState>,
    Json(body): Json<Value>,
) -> ApiResult<impl IntoResponse> {
    let created = s.service.create_channel(&a.actor, &body).await?;
    Ok((StatusCode::CREATED, axum::Json(created_view(&created))))
}

async fn get_one(
    _: Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(axum::Json(
        s.service.get_channel(channel_id(&id)?).await?.view(),
    ))
}

async fn update(
    a: Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> ApiResult<impl IntoResponse> {
    let updated = s
        .service
        .update_channel(&a.actor, channel_id(&id)?, &body)
        .await?;
    Ok(axum::Json(created_view(&updated)))
}

async fn remove(
    a: Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.service.delete_channel(&a.actor, channel_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Queues a test notice; the body is optional (`{"kind", "dedup_key", "summary"}`). 202 with
/// the delivery, which the delivery log then follows.
async fn test(
    _: Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
    req: Request,
) -> ApiResult<impl IntoResponse> {
    let id = channel_id(&id)?;
    let has_content_type = req.headers().contains_key(axum::http::header::CONTENT_TYPE);
    let headers = req.headers().clone();
    let bytes = read_body(req, &s).await?;
    let body: Option<Value> = if bytes.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        if has_content_type {
            is_json(&headers)?;
        }
        Some(parse_json(&bytes)?)
    };
    let delivery = s.service.test_channel(id, body.as_ref()).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(delivery.view())))
}

async fn channel_deliveries(
    _: Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<impl IntoResponse> {
    let id = channel_id(&id)?;
    let mut filter = DeliveryFilter::parse(&query_pairs(query.as_deref()))?;
    filter.channel_id = Some(id);
    deliveries_answer(&s, &filter).await
}

async fn deliveries(
    _: Admin,
    State(s): State<AppState>,
    RawQuery(query): RawQuery,
) -> ApiResult<impl IntoResponse> {
    let filter = DeliveryFilter::parse(&query_pairs(query.as_deref()))?;
    deliveries_answer(&s, &filter).await
}

async fn deliveries_answer(s: &AppState, filter: &DeliveryFilter) -> ApiResult<axum::Json<Value>> {
    let deliveries: Vec<Value> = s
        .service
        .list_deliveries(filter)
        .await?
        .iter()
        .map(|d| d.view())
        .collect();
    Ok(axum::Json(json!({"deliveries": deliveries})))
}
