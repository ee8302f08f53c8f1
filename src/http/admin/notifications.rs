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

#[utoipa::path(get, path = "/api/admin/notification-channels", tag = "Notifications", security(("unleash" = [])),
    summary = "List notification channels",
    description = "Secrets are masked: a Slack URL's path, a webhook secret and a PagerDuty key show only their last characters.",
    responses((status = 200, description = "Every channel.", body = Object)))]
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

#[utoipa::path(post, path = "/api/admin/notification-channels", tag = "Notifications", security(("unleash" = [])),
    summary = "Create a notification channel",
    request_body(content = Object, description = "`{name, kind, config}`: `kind` is `slack` (`config.webhook_url`), `webhook` (`config.url`, optional `config.secret`, 16–256 characters, generated when left out) or `pagerduty` (`config.routing_key`, optional `severity` and `events_url`).",
        examples(
            ("slack" = (value = json!({"name": "ops-slack", "kind": "slack", "config": {"webhook_url": "https://hooks.slack.com/services/T000/B000/XXXX"}}))),
            ("webhook" = (value = json!({"name": "deploy-bot", "kind": "webhook", "config": {"url": "https://bot.example.com/flagwatch"}}))),
            ("pagerduty" = (value = json!({"name": "on-call", "kind": "pagerduty", "config": {"routing_key": "0123456789abcdef0123456789abcdef"}}))),
        )),
    responses(
        (status = 201, description = "Created; a generated webhook secret is in `config.secret` this once, with `secret_generated: true`.", body = Object, example = json!({"id": 1, "name": "ops-slack", "kind": "slack", "config": {"webhook_url": "https://hooks.slack.com/****"}, "created_at": "2026-01-01T00:00:00.000Z", "updated_at": "2026-01-01T00:00:00.000Z"})),
        (status = 409, description = "Another channel has that name."),
    ))]
async fn create(
    a: Admin,
    State(s): State<AppState>,
    Json(body): Json<Value>,
) -> ApiResult<impl IntoResponse> {
    let created = s.service.create_channel(&a.actor, &body).await?;
    Ok((StatusCode::CREATED, axum::Json(created_view(&created))))
}

#[utoipa::path(get, path = "/api/admin/notification-channels/{id}", tag = "Notifications", security(("unleash" = [])),
    summary = "Get a notification channel",
    responses(
        (status = 200, description = "The channel, secrets masked.", body = Object, example = json!({"id": 1, "name": "ops-slack", "kind": "slack", "config": {"webhook_url": "https://hooks.slack.com/****"}, "created_at": "2026-01-01T00:00:00.000Z", "updated_at": "2026-01-01T00:00:00.000Z"})),
        (status = 404, description = "No such channel."),
    ))]
async fn get_one(
    _: Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(axum::Json(
        s.service.get_channel(channel_id(&id)?).await?.view(),
    ))
}

#[utoipa::path(put, path = "/api/admin/notification-channels/{id}", tag = "Notifications", security(("unleash" = [])),
    summary = "Replace a notification channel",
    description = "A secret left out, or sent back masked as a GET shows it, keeps its value.",
    request_body(content = Object, description = "`{name, kind, config}`: `kind` is `slack` (`config.webhook_url`), `webhook` (`config.url`, optional `config.secret`, 16–256 characters, generated when left out) or `pagerduty` (`config.routing_key`, optional `severity` and `events_url`).",
        examples(
            ("slack" = (value = json!({"name": "ops-slack", "kind": "slack", "config": {"webhook_url": "https://hooks.slack.com/services/T000/B000/XXXX"}}))),
            ("webhook" = (value = json!({"name": "deploy-bot", "kind": "webhook", "config": {"url": "https://bot.example.com/flagwatch"}}))),
            ("pagerduty" = (value = json!({"name": "on-call", "kind": "pagerduty", "config": {"routing_key": "0123456789abcdef0123456789abcdef"}}))),
        )),
    responses(
        (status = 200, description = "The channel as it is now.", body = Object),
        (status = 404, description = "No such channel."),
        (status = 409, description = "Another channel has that name."),
    ))]
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

#[utoipa::path(delete, path = "/api/admin/notification-channels/{id}", tag = "Notifications", security(("unleash" = [])),
    summary = "Delete a notification channel",
    responses(
        (status = 204, description = "Deleted, with its delivery log."),
        (status = 404, description = "No such channel."),
        (status = 409, description = "A monitor or guard uses it (the message names them)."),
    ))]
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
#[utoipa::path(post, path = "/api/admin/notification-channels/{id}/test", tag = "Notifications", security(("unleash" = [])),
    summary = "Send a test notice through a channel",
    request_body(content = Option<Object>, description = "Optional: `{kind, dedup_key, summary}`; `kind` defaults to `incident.opened`.",
        example = json!({"kind": "incident.opened", "dedup_key": "test-1", "summary": "Testing the on-call channel"})),
    responses(
        (status = 202, description = "Queued; the delivery, which the delivery log then follows.", body = Object),
        (status = 404, description = "No such channel."),
    ))]
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

#[utoipa::path(get, path = "/api/admin/notification-channels/{id}/deliveries", tag = "Notifications", security(("unleash" = [])),
    summary = "A channel's delivery log, newest first",
    params(
        ("status" = Option<String>, Query, description = "`pending`, `delivered` or `failed`."),
        ("limit" = Option<i64>, Query, description = "1 to 500, default 50."),
    ),
    responses(
        (status = 200, description = "The deliveries.", body = Object, example = json!({"deliveries": [{"id": 7, "channel_id": 1, "channel": "ops-slack", "notice_kind": "incident.opened", "summary": "checkout-api is down", "dedup_key": "incident-3", "test": false, "status": "delivered", "attempts": 1, "last_status_code": 200, "last_error": null, "created_at": "2026-01-01T00:00:00.000Z", "next_attempt_at": null, "delivered_at": "2026-01-01T00:00:01.000Z"}]})),
        (status = 404, description = "No such channel."),
    ))]
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

#[utoipa::path(get, path = "/api/admin/notification-deliveries", tag = "Notifications", security(("unleash" = [])),
    summary = "The delivery log of every channel, newest first",
    params(
        ("channel_id" = Option<i64>, Query, description = "Only this channel's."),
        ("status" = Option<String>, Query, description = "`pending`, `delivered` or `failed`."),
        ("limit" = Option<i64>, Query, description = "1 to 500, default 50."),
    ),
    responses((status = 200, description = "The deliveries.", body = Object, example = json!({"deliveries": [{"id": 7, "channel_id": 1, "channel": "ops-slack", "notice_kind": "incident.opened", "summary": "checkout-api is down", "dedup_key": "incident-3", "test": false, "status": "delivered", "attempts": 1, "last_status_code": 200, "last_error": null, "created_at": "2026-01-01T00:00:00.000Z", "next_attempt_at": null, "delivered_at": "2026-01-01T00:00:01.000Z"}]}))))]
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
