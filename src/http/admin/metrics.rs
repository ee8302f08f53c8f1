//! What SDKs reported, as Unleash's admin API shows it: usage per flag
//! (`/api/admin/client-metrics/features/{name}[/raw]`) and applications with their instances
//! (`/api/admin/metrics/applications[/{appName}]`).

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::{Value, json};

use crate::domain::Invalid;
use crate::domain::Timestamp;
use crate::domain::metrics::{Application, Counts};
use crate::http::AppState;
use crate::http::admin::{query_pairs, query_values};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Admin;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/admin/client-metrics/features/{name}",
            get(feature_usage),
        )
        .route(
            "/api/admin/client-metrics/features/{name}/raw",
            get(feature_raw),
        )
        .route("/api/admin/metrics/applications", get(applications))
        .route("/api/admin/metrics/applications/{app}", get(application))
}

/// Unleash's `hoursBack`: 1 to 168 hours, 1 when absent.
fn hours_back(raw: Option<&str>) -> Result<i64, ApiError> {
    let pairs = query_pairs(raw);
    let Some(value) = query_values(&pairs, "hoursBack").into_iter().next() else {
        return Ok(1);
    };
    match value.trim().parse::<i64>() {
        Ok(n) if (1..=168).contains(&n) => Ok(n),
        _ => Err(ApiError::bad_data(Invalid::at(
            "hoursBack",
            format!(
                "\"hoursBack\" must be a whole number of hours from 1 to 168; \"{value}\" is not."
            ),
        ))),
    }
}

fn counts_view(environment: &str, hour: Timestamp, c: &Counts) -> Value {
    json!({
        "environment": environment,
        "timestamp": hour,
        "yes": c.yes,
        "no": c.no,
        "variants": c.variants,
        "lastSeenAt": c.last_seen,
    })
}

#[utoipa::path(get, path = "/api/admin/client-metrics/features/{name}", tag = "Admin: metrics", security(("unleash" = [])),
    summary = "A flag's usage in the last hour, per environment",
    responses((status = 200, description = "Yes/no counts per environment, and the applications that used it.", body = Object)))]
async fn feature_usage(
    _: Admin,
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let usage = s.service.feature_usage(&name).await?;
    let last_hour: Vec<Value> = usage
        .last_hour
        .iter()
        .map(|(env, hour, c)| counts_view(env, *hour, c))
        .collect();
    Ok(axum::Json(json!({
        "version": 1,
        "maturity": "stable",
        "featureName": name,
        "lastHourUsage": last_hour,
        "seenApplications": usage.seen_applications,
    })))
}

#[utoipa::path(get, path = "/api/admin/client-metrics/features/{name}/raw", tag = "Admin: metrics", security(("unleash" = [])),
    summary = "A flag's usage per hour, per environment and application",
    params(("hoursBack" = Option<i64>, Query, description = "1 to 168 hours; 1 when absent.")),
    responses((status = 200, description = "One entry per hour, environment and application.", body = Object)))]
async fn feature_raw(
    _: Admin,
    State(s): State<AppState>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<impl IntoResponse> {
    let hours = hours_back(q.as_deref())?;
    let data: Vec<Value> = s
        .service
        .feature_metrics(&name, hours)
        .await?
        .iter()
        .map(|row| {
            let mut v = counts_view(&row.key.environment, Timestamp(row.key.hour), &row.counts);
            v["featureName"] = json!(row.key.feature_name);
            v["appName"] = json!(row.key.app_name);
            v
        })
        .collect();
    Ok(axum::Json(json!({
        "version": 1,
        "maturity": "stable",
        "featureName": name,
        "data": data,
    })))
}

fn application_fields(a: &Application) -> Value {
    json!({
        "appName": a.app_name,
        "description": a.description,
        "url": a.url,
        "color": a.color,
        "icon": a.icon,
        "createdAt": a.created_at,
        "lastSeen": a.last_seen,
    })
}

#[utoipa::path(get, path = "/api/admin/metrics/applications", tag = "Admin: metrics", security(("unleash" = [])),
    summary = "List the applications whose SDKs registered",
    responses((status = 200, description = "The applications.", body = Object,
        example = json!({"applications": [{"appName": "checkout", "usage": [{"project": "default", "environments": ["development"]}]}], "total": 1}))))]
async fn applications(_: Admin, State(s): State<AppState>) -> ApiResult<impl IntoResponse> {
    let applications: Vec<Value> = s
        .service
        .list_applications()
        .await?
        .iter()
        .map(|o| {
            let mut v = application_fields(&o.application);
            v["usage"] = o
                .usage
                .iter()
                .map(|(project, environments)| {
                    json!({"project": project, "environments": environments})
                })
                .collect();
            v
        })
        .collect();
    Ok(axum::Json(
        json!({"applications": applications, "total": applications.len()}),
    ))
}

#[utoipa::path(get, path = "/api/admin/metrics/applications/{app}", tag = "Admin: metrics", security(("unleash" = [])),
    summary = "An application, with its instances and the flags it evaluated",
    responses(
        (status = 200, description = "The application: instances with SDK versions and when each was last seen.", body = Object),
        (status = 404, description = "No SDK registered that application."),
    ))]
async fn application(
    _: Admin,
    State(s): State<AppState>,
    Path(app): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let detail = s.service.get_application(&app).await?;
    let mut v = application_fields(&detail.application);
    v["strategies"] = json!(detail.application.strategies);
    v["instances"] = detail
        .instances
        .iter()
        .map(|i| {
            json!({
                "instanceId": i.instance_id,
                "environment": i.environment,
                "sdkVersion": i.sdk_version,
                "platformName": i.platform_name,
                "platformVersion": i.platform_version,
                "clientIp": i.client_ip,
                "createdAt": i.created_at,
                "lastSeen": i.last_seen,
            })
        })
        .collect();
    v["seenToggles"] = json!(detail.seen_features);
    v["links"] = json!({});
    Ok(axum::Json(v))
}
