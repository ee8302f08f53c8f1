//! Guards (the kill switch) and "why is this flag off?". flagwatch's own API, in the admin
//! API's conventions: admin token, Unleash-shaped errors, snake_case fields as in the issue
//! that specified it.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::{Map, Value, json};

use crate::domain::guard::{GuardInput, Trip};
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Admin, Json};
use crate::service::guards::{FlagGuardState, GuardView};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/guards", get(list).post(create))
        .route(
            "/api/admin/guards/{id}",
            get(get_one).put(replace).patch(patch).delete(remove),
        )
        .route(
            "/api/admin/projects/{project}/features/{feature}/kill-switch",
            get(flag_state),
        )
}

fn trip_view(t: &Trip) -> Value {
    json!({
        "id": t.id,
        "incident_id": t.incident_id,
        "betterstack_incident_id": t.external_incident,
        "reason": t.reason,
        "started_at": t.started_at,
        "ended_at": t.ended_at,
        "outcome": t.outcome,
        "flags": t.flags,
    })
}

fn view(v: &GuardView, with_history: bool) -> Value {
    let g = &v.guard;
    let mut out = json!({
        "id": g.id,
        "name": g.spec.name,
        "signal": g.spec.signal.to_json(),
        "flags": g.spec.target.to_json(),
        "on_recovery": g.spec.on_recovery.as_str(),
        "channels": g.spec.channels,
        "state": if v.open_trip.is_some() { "tripped" } else { "armed" },
        "trip": v.open_trip.as_ref().map(trip_view),
        "created_at": g.created_at,
        "updated_at": g.updated_at,
    });
    if with_history {
        out["recent_trips"] = v.recent_trips.iter().map(trip_view).collect();
    }
    out
}

/// Guard ids are numbers; anything else names no guard.
fn guard_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::NotFound(format!("There is no guard with id {raw}.")))
}

#[utoipa::path(get, path = "/api/admin/guards", tag = "Kill switch: guards", security(("unleash" = [])),
    summary = "List guards",
    responses((status = 200, description = "Every guard, with its `state` (`armed` or `tripped`) and open `trip`.", body = Object)))]
async fn list(_: Admin, State(s): State<AppState>) -> ApiResult<impl IntoResponse> {
    let guards: Vec<Value> = s
        .service
        .list_guards()
        .await?
        .iter()
        .map(|g| view(g, false))
        .collect();
    Ok(axum::Json(json!({ "guards": guards })))
}

#[utoipa::path(post, path = "/api/admin/guards", tag = "Kill switch: guards", security(("unleash" = [])),
    summary = "Create a guard",
    request_body = GuardInput,
    responses(
        (status = 201, description = "Created.", body = Object, example = json!({"id": 1, "name": "checkout", "signal": {"monitor_id": "12"}, "flags": [{"project": "default", "feature": "new-checkout-flow", "environment": "production"}], "on_recovery": "keep_disabled", "channels": [1], "state": "armed", "trip": null, "created_at": "2026-01-01T00:00:00.000Z", "updated_at": "2026-01-01T00:00:00.000Z", "recent_trips": []})),
        (status = 404, description = "No such monitor, flag, environment or channel."),
        (status = 409, description = "Another guard has that name."),
    ))]
async fn create(
    a: Admin,
    State(s): State<AppState>,
    Json(input): Json<GuardInput>,
) -> ApiResult<impl IntoResponse> {
    let guard = s.service.create_guard(&a.actor, &input).await?;
    Ok((StatusCode::CREATED, axum::Json(view(&guard, true))))
}

#[utoipa::path(get, path = "/api/admin/guards/{id}", tag = "Kill switch: guards", security(("unleash" = [])),
    summary = "Get a guard, with its recent trips",
    responses(
        (status = 200, description = "The guard.", body = Object, example = json!({"id": 1, "name": "checkout", "signal": {"monitor_id": "12"}, "flags": [{"project": "default", "feature": "new-checkout-flow", "environment": "production"}], "on_recovery": "keep_disabled", "channels": [1], "state": "armed", "trip": null, "created_at": "2026-01-01T00:00:00.000Z", "updated_at": "2026-01-01T00:00:00.000Z", "recent_trips": []})),
        (status = 404, description = "No such guard."),
    ))]
async fn get_one(
    _: Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(axum::Json(view(
        &s.service.get_guard(guard_id(&id)?).await?,
        true,
    )))
}

#[utoipa::path(put, path = "/api/admin/guards/{id}", tag = "Kill switch: guards", security(("unleash" = [])),
    summary = "Replace a guard",
    request_body = GuardInput,
    responses(
        (status = 200, description = "The guard as it is now.", body = Object),
        (status = 404, description = "No such guard, monitor, flag, environment or channel."),
        (status = 409, description = "Another guard has that name."),
    ))]
async fn replace(
    a: Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
    Json(input): Json<GuardInput>,
) -> ApiResult<impl IntoResponse> {
    let guard = s
        .service
        .replace_guard(&a.actor, guard_id(&id)?, &input)
        .await?;
    Ok(axum::Json(view(&guard, true)))
}

#[utoipa::path(patch, path = "/api/admin/guards/{id}", tag = "Kill switch: guards", security(("unleash" = [])),
    summary = "Change some of a guard's fields",
    request_body(content = Object, description = "The fields of a guard to replace, as in `GuardInput`; the others are kept.",
        example = json!({"on_recovery": "re_enable"})),
    responses(
        (status = 200, description = "The guard as it is now.", body = Object),
        (status = 404, description = "No such guard, monitor, flag, environment or channel."),
        (status = 409, description = "Another guard has that name."),
    ))]
async fn patch(
    a: Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
    Json(fields): Json<Map<String, Value>>,
) -> ApiResult<impl IntoResponse> {
    let guard = s
        .service
        .patch_guard(&a.actor, guard_id(&id)?, fields)
        .await?;
    Ok(axum::Json(view(&guard, true)))
}

#[utoipa::path(delete, path = "/api/admin/guards/{id}", tag = "Kill switch: guards", security(("unleash" = [])),
    summary = "Delete a guard",
    description = "Its flags stay as they are.",
    responses(
        (status = 204, description = "Deleted."),
        (status = 404, description = "No such guard."),
    ))]
async fn remove(
    a: Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.service.delete_guard(&a.actor, guard_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn flag_state_view(st: &FlagGuardState) -> Value {
    json!({
        "environment": st.environment,
        "enabled": st.enabled,
        "last_change": st.last_change,
        "held_by": st.held_by.iter().map(|(guard, trip)| {
            let mut t = trip_view(trip);
            t["guard"] = json!(guard);
            t["guard_id"] = json!(trip.guard_id);
            t
        }).collect::<Vec<_>>(),
        "guards": st.guards,
    })
}

/// "Why is this flag off?": per environment, the last on/off change (for a guard's, its actor
/// `guard:<name>` and data naming the guard, the incident and the reason), the guards' open
/// trips holding the flag, and the guards that name it.
#[utoipa::path(get, path = "/api/admin/projects/{project}/features/{feature}/kill-switch", tag = "Kill switch: guards", security(("unleash" = [])),
    summary = "Why is this flag off?",
    description = "Per environment: whether the flag is on, its last on/off change (for a guard's: the guard, the incident and the reason), the open trips holding it and the guards that name it.",
    responses(
        (status = 200, description = "The flag's kill-switch state.", body = Object,
            example = json!({"project": "default", "feature": "new-checkout-flow", "environments": [{"environment": "production", "enabled": false, "last_change": {"type": "feature-environment-disabled", "createdBy": "guard:checkout"}, "held_by": [], "guards": ["checkout"]}]})),
        (status = 404, description = "No such flag in that project."),
    ))]
async fn flag_state(
    _: Admin,
    State(s): State<AppState>,
    Path((project, feature)): Path<(String, String)>,
) -> ApiResult<impl IntoResponse> {
    let states = s.service.flag_guard_state(&project, &feature).await?;
    Ok(axum::Json(json!({
        "project": project,
        "feature": feature,
        "environments": states.iter().map(flag_state_view).collect::<Vec<_>>(),
    })))
}
