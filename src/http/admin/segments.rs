//! Segments.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::domain::segment::{Segment, SegmentInput};
use crate::http::AppState;
use crate::http::admin::NameBody;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Admin, Json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/segments", get(list).post(create))
        .route("/api/admin/segments/validate", post(validate))
        .route(
            "/api/admin/segments/{id}",
            get(get_one).put(update).delete(remove),
        )
}

fn view(s: &Segment, used_in: &[String]) -> Value {
    json!({
        "id": s.id, "name": s.name, "description": s.description, "project": s.project,
        "constraints": s.constraints, "createdBy": s.created_by, "createdAt": s.created_at,
        "usedInFeatures": used_in.len(), "usedInProjects": null,
    })
}

/// Segment ids are numbers; anything else names no segment.
fn segment_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::NotFound(format!("Could not find segment with id {raw}.")))
}

#[utoipa::path(get, path = "/api/admin/segments", tag = "Admin: segments", security(("unleash" = [])),
    summary = "List segments",
    responses((status = 200, description = "Every segment, with how many flags use it.", body = Object)))]
async fn list(_: Admin, State(s): State<AppState>) -> ApiResult<impl IntoResponse> {
    let segments: Vec<_> = s
        .service
        .list_segments()
        .await?
        .iter()
        .map(|(seg, used)| view(seg, used))
        .collect();
    Ok(axum::Json(json!({"segments": segments})))
}

#[utoipa::path(post, path = "/api/admin/segments", tag = "Admin: segments", security(("unleash" = [])),
    summary = "Create a segment",
    request_body(content = SegmentInput, example = json!({"name": "beta-testers", "constraints": [{"contextName": "userId", "operator": "IN", "values": ["u1", "u2"]}]})),
    responses(
        (status = 201, description = "Created.", body = Object, example = json!({"id": 1, "name": "beta-testers", "description": "People who asked for it", "project": null, "constraints": [{"contextName": "userId", "operator": "IN", "values": ["u1", "u2"], "caseInsensitive": false, "inverted": false}], "createdBy": "admin", "createdAt": "2026-01-01T00:00:00.000Z", "usedInFeatures": 0, "usedInProjects": null})),
        (status = 409, description = "A segment with that name exists."),
    ))]
async fn create(
    a: Admin,
    State(s): State<AppState>,
    Json(input): Json<SegmentInput>,
) -> ApiResult<impl IntoResponse> {
    let seg = s.service.create_segment(&a.actor, input).await?;
    Ok((StatusCode::CREATED, axum::Json(view(&seg, &[]))))
}

#[utoipa::path(get, path = "/api/admin/segments/{id}", tag = "Admin: segments", security(("unleash" = [])),
    summary = "Get a segment",
    responses(
        (status = 200, description = "The segment.", body = Object, example = json!({"id": 1, "name": "beta-testers", "description": "People who asked for it", "project": null, "constraints": [{"contextName": "userId", "operator": "IN", "values": ["u1", "u2"], "caseInsensitive": false, "inverted": false}], "createdBy": "admin", "createdAt": "2026-01-01T00:00:00.000Z", "usedInFeatures": 0, "usedInProjects": null})),
        (status = 404, description = "No such segment."),
    ))]
async fn get_one(
    _: Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(axum::Json(view(
        &s.service.get_segment(segment_id(&id)?).await?,
        &[],
    )))
}

/// Unleash answers 204 to PUT and DELETE.
#[utoipa::path(put, path = "/api/admin/segments/{id}", tag = "Admin: segments", security(("unleash" = [])),
    summary = "Replace a segment",
    request_body = SegmentInput,
    responses(
        (status = 204, description = "Saved."),
        (status = 404, description = "No such segment."),
        (status = 409, description = "Another segment has that name."),
    ))]
async fn update(
    a: Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
    Json(input): Json<SegmentInput>,
) -> ApiResult<StatusCode> {
    s.service
        .update_segment(&a.actor, segment_id(&id)?, input)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/admin/segments/{id}", tag = "Admin: segments", security(("unleash" = [])),
    summary = "Delete a segment",
    responses(
        (status = 204, description = "Deleted."),
        (status = 404, description = "No such segment."),
        (status = 409, description = "A strategy still uses it."),
    ))]
async fn remove(
    a: Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.service.delete_segment(&a.actor, segment_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/admin/segments/validate", tag = "Admin: segments", security(("unleash" = [])),
    summary = "Check that a segment name is free",
    request_body(content = crate::http::admin::NameBody, example = json!({"name": "beta-testers"})),
    responses(
        (status = 204, description = "The name can be used."),
        (status = 409, description = "A segment with that name exists."),
    ))]
async fn validate(
    _: Admin,
    State(s): State<AppState>,
    Json(body): Json<NameBody>,
) -> ApiResult<StatusCode> {
    s.service.validate_segment_name(&body.name).await?;
    Ok(StatusCode::NO_CONTENT)
}
