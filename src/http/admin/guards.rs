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

async fn create(
    a: Admin,
    State(s): State<AppState>,
    Json(input): Json<GuardInput>,
) -> ApiResult<impl IntoResponse> {
    let guard = s.service.create_guard(&a.actor, &input).await?;
    Ok((StatusCode::CREATED, axum::Json(view(&guard, true))))
}

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
