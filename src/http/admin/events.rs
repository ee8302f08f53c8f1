//! The audit log: Unleash's legacy `/api/admin/events` (plus a `type` filter of ours) and
//! its `/api/admin/search/events`.

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::{Value, json};

use crate::domain::event::Event;
use crate::domain::{Invalid, Timestamp};
use crate::http::AppState;
use crate::http::admin::{query_pairs, query_values};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Admin;
use crate::service::EventFilter;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/events", get(list))
        .route("/api/admin/events/{feature}", get(for_feature))
        .route("/api/admin/search/events", get(search))
}

/// `?project=&feature=&type=` (each repeatable); the newest 100 (50 with `project`, as Unleash).
#[utoipa::path(get, path = "/api/admin/events", tag = "Admin: events", security(("unleash" = [])),
    summary = "List events, newest first",
    description = "The newest 100 (50 with `project`, as Unleash). Each filter is repeatable; an event matching any value of it matches.",
    params(
        ("project" = Option<Vec<String>>, Query, description = "Only events of these projects."),
        ("feature" = Option<Vec<String>>, Query, description = "Only events about these flags."),
        ("type" = Option<Vec<String>>, Query, description = "Only events of these types, e.g. `feature-environment-enabled` (a flagwatch extension)."),
    ),
    responses((status = 200, description = "The events.", body = Object,
        example = json!({"version": 1, "events": [{"id": 42, "type": "feature-environment-enabled", "createdBy": "admin", "createdAt": "2026-01-01T00:00:00.000Z", "createdByUserId": -1337, "data": null, "preData": null, "tags": [], "featureName": "new-checkout-flow", "project": "default", "environment": "production"}], "totalEvents": 1}))))]
async fn list(
    _: Admin,
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
) -> ApiResult<impl IntoResponse> {
    let pairs = query_pairs(q.as_deref());
    let projects = query_values(&pairs, "project");
    let filter = EventFilter {
        limit: if projects.is_empty() { 100 } else { 50 },
        projects,
        features: query_values(&pairs, "feature"),
        types: query_values(&pairs, "type"),
        ..EventFilter::default()
    };
    let (events, total) = s.service.list_events(&filter).await?;
    Ok(axum::Json(
        json!({"version": 1, "events": events, "totalEvents": total}),
    ))
}

#[utoipa::path(get, path = "/api/admin/events/{feature}", tag = "Admin: events", security(("unleash" = [])),
    summary = "List a flag's events, newest first",
    responses((status = 200, description = "The newest 50 events about the flag.", body = Object,
        example = json!({"version": 1, "toggleName": "new-checkout-flow", "events": [{"id": 42, "type": "feature-environment-enabled", "createdBy": "admin", "createdAt": "2026-01-01T00:00:00.000Z", "createdByUserId": -1337, "data": null, "preData": null, "tags": [], "featureName": "new-checkout-flow", "project": "default", "environment": "production"}], "totalEvents": 1}))))]
async fn for_feature(
    _: Admin,
    State(s): State<AppState>,
    Path(feature): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let filter = EventFilter {
        features: vec![feature.clone()],
        limit: 50,
        ..EventFilter::default()
    };
    let (events, total) = s.service.list_events(&filter).await?;
    Ok(axum::Json(
        json!({"version": 1, "toggleName": feature, "events": events, "totalEvents": total}),
    ))
}

/// Unleash's search filters: `IS:value` or `IS_ANY_OF:a,b`.
fn parse_operator(key: &str, raw: &str) -> Result<Vec<String>, ApiError> {
    if let Some(v) = raw.strip_prefix("IS:") {
        return Ok(vec![v.to_string()]);
    }
    if let Some(v) = raw.strip_prefix("IS_ANY_OF:") {
        return Ok(v
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect());
    }
    Err(ApiError::bad_data(Invalid::at(
        format!("/query/{key}"),
        format!(
            "The `/query/{key}` property must match pattern \"^(IS|IS_ANY_OF):(.*?)(,([a-zA-Z0-9_]+))*$\". You sent \"{raw}\"."
        ),
    )))
}

fn parse_number(key: &str, raw: &str, max: i64) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| (0..=max).contains(n))
        .ok_or_else(|| {
            ApiError::bad_data(Invalid::at(
                format!("/query/{key}"),
                format!("\"{key}\" must be a whole number from 0 to {max}; \"{raw}\" is not."),
            ))
        })
}

fn parse_date(key: &str, raw: &str) -> Result<Timestamp, ApiError> {
    let values = parse_operator(key, raw)?;
    values
        .first()
        .and_then(|v| Timestamp::parse(v))
        .ok_or_else(|| {
            ApiError::bad_data(Invalid::at(
                format!("/query/{key}"),
                format!("\"{key}\" must be IS:<date>; \"{raw}\" is not a date."),
            ))
        })
}

#[utoipa::path(get, path = "/api/admin/search/events", tag = "Admin: events", security(("unleash" = [])),
    summary = "Search events",
    description = "Unleash's event search. Filters are `IS:<value>` or `IS_ANY_OF:<a>,<b>`; dates `IS:YYYY-MM-DD`, `to` including its whole day.",
    params(
        ("type" = Option<String>, Query, description = "`IS:feature-created`, `IS_ANY_OF:…`"),
        ("feature" = Option<String>, Query, description = "`IS:<flag>`"),
        ("project" = Option<String>, Query, description = "`IS:<project>`"),
        ("environment" = Option<String>, Query, description = "`IS:<environment>`"),
        ("createdBy" = Option<String>, Query, description = "`IS:<actor>`"),
        ("from" = Option<String>, Query, description = "`IS:YYYY-MM-DD`"),
        ("to" = Option<String>, Query, description = "`IS:YYYY-MM-DD`, inclusive."),
        ("offset" = Option<i64>, Query, description = "Events to skip."),
        ("limit" = Option<i64>, Query, description = "At most this many (default 50, at most 1000)."),
    ),
    responses((status = 200, description = "The matching events, each with a `label` and a Markdown `summary`.", body = Object,
        example = json!({"events": [{"id": 42, "type": "feature-environment-enabled", "createdBy": "admin", "createdAt": "2026-01-01T00:00:00.000Z", "createdByUserId": -1337, "data": null, "preData": null, "tags": [], "featureName": "new-checkout-flow", "project": "default", "environment": "production"}], "total": 1}))))]
async fn search(
    _: Admin,
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
) -> ApiResult<impl IntoResponse> {
    let mut filter = EventFilter {
        limit: 50,
        ..EventFilter::default()
    };
    for (key, value) in query_pairs(q.as_deref()) {
        match key.as_str() {
            "type" => filter.types.extend(parse_operator(&key, &value)?),
            "feature" => filter.features.extend(parse_operator(&key, &value)?),
            "project" => filter.projects.extend(parse_operator(&key, &value)?),
            "environment" => filter.environments.extend(parse_operator(&key, &value)?),
            "createdBy" => filter.created_by.extend(parse_operator(&key, &value)?),
            "from" => filter.from = Some(parse_date(&key, &value)?),
            // `to` is a day, inclusive, in Unleash: the end is the start of the next day.
            "to" => filter.to = Some(Timestamp(parse_date(&key, &value)?.millis() + 86_400_000)),
            "offset" => filter.offset = parse_number(&key, &value, i64::MAX)?,
            "limit" => filter.limit = parse_number(&key, &value, 1000)?,
            _ => {}
        }
    }
    let (events, total) = s.service.list_events(&filter).await?;
    let events: Vec<Value> = events.iter().map(with_label).collect();
    Ok(axum::Json(json!({"events": events, "total": total})))
}

/// Search results carry a human label and a Markdown summary, as Unleash's do.
fn with_label(e: &Event) -> Value {
    let mut v = serde_json::to_value(e).unwrap_or(Value::Null);
    let label = e.event_type.replace('-', " ");
    let summary = summary(e, &label);
    if let Value::Object(map) = &mut v {
        map.insert("label".into(), Value::String(label));
        map.insert("summary".into(), Value::String(summary));
    }
    v
}

/// `**admin**: feature environment enabled for **f** in the **production** environment of
/// project **default**`; Unleash words each type and links the names, we have no base URL.
fn summary(e: &Event, label: &str) -> String {
    let mut s = format!("**{}**: {label}", e.created_by);
    if let Some(feature) = &e.feature_name {
        s.push_str(&format!(" for **{feature}**"));
    }
    match (&e.environment, &e.project) {
        (Some(env), Some(p)) => {
            s.push_str(&format!(" in the **{env}** environment of project **{p}**"))
        }
        (Some(env), None) => s.push_str(&format!(" in the **{env}** environment")),
        (None, Some(p)) => s.push_str(&format!(" in project **{p}**")),
        (None, None) => {}
    }
    s
}
