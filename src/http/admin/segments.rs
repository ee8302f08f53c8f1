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

async fn create(
    a: Admin,
    State(s): State<AppState>,
    Json(input): Json<SegmentInput>,
) -> ApiResult<impl IntoResponse> {
    let seg = s.service.create_segment(&a.actor, input).await?;
    Ok((StatusCode::CREATED, axum::Json(view(&seg, &[]))))
}

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

async fn remove(
    a: Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.service.delete_segment(&a.actor, segment_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn validate(
    _: Admin,
    State(s): State<AppState>,
    Json(body): Json<NameBody>,
) -> ApiResult<StatusCode> {
    s.service.validate_segment_name(&body.name).await?;
    Ok(StatusCode::NO_CONTENT)
}
