//! Projects and environments.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Router, response::IntoResponse};
use serde_json::json;

use crate::domain::feature::Environment;
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Admin, Json};
use crate::service::projects::{EnvironmentInput, ProjectInput};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/admin/projects",
            get(list_projects).post(create_project),
        )
        .route("/api/admin/projects/{project}", get(get_project))
        .route(
            "/api/admin/environments",
            get(list_environments).post(create_environment),
        )
        .route("/api/admin/environments/{name}", get(get_environment))
}

#[utoipa::path(get, path = "/api/admin/projects", tag = "Admin: projects and environments", security(("unleash" = [])),
    summary = "List projects",
    responses((status = 200, description = "Every project, with its number of flags.", body = Object,
        example = json!({"version": 1, "projects": [{"id": "default", "name": "Default", "description": "Default project", "featureCount": 3}]}))))]
async fn list_projects(_: Admin, State(s): State<AppState>) -> ApiResult<impl IntoResponse> {
    let projects: Vec<_> = s
        .service
        .list_projects()
        .await?
        .into_iter()
        .map(|(p, count)| {
            json!({"id": p.id, "name": p.name, "description": p.description, "createdAt": p.created_at,
                   "featureCount": count, "memberCount": 0, "health": 100, "favorite": false, "mode": "open"})
        })
        .collect();
    Ok(axum::Json(json!({"version": 1, "projects": projects})))
}

#[utoipa::path(get, path = "/api/admin/projects/{project}", tag = "Admin: projects and environments", security(("unleash" = [])),
    summary = "Get a project, with its environments and flags",
    responses(
        (status = 200, description = "The project.", body = Object),
        (status = 404, description = "No such project."),
    ))]
async fn get_project(
    _: Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let project = s.service.get_project(&id).await?;
    let features = s.service.list_features(&id, None, vec![]).await?;
    let last_seen = s.service.last_seen(None).await?;
    let environments: Vec<_> = s
        .service
        .list_environments()
        .await?
        .into_iter()
        .map(|e| json!({"environment": e.name}))
        .collect();
    Ok(axum::Json(json!({
        "id": project.id, "name": project.name, "description": project.description,
        "createdAt": project.created_at, "health": 100, "featureCount": features.len(),
        "environments": environments,
        "features": features
            .iter()
            .map(|f| super::views::feature_list_item(f, &last_seen))
            .collect::<Vec<_>>(),
    })))
}

#[utoipa::path(post, path = "/api/admin/projects", tag = "Admin: projects and environments", security(("unleash" = [])),
    summary = "Create a project",
    request_body = ProjectInput,
    responses(
        (status = 201, description = "Created.", body = Object,
            example = json!({"id": "payments", "name": "Payments", "description": null, "createdAt": "2026-01-01T00:00:00.000Z"})),
        (status = 409, description = "A project with that id exists."),
    ))]
async fn create_project(
    a: Admin,
    State(s): State<AppState>,
    Json(input): Json<ProjectInput>,
) -> ApiResult<impl IntoResponse> {
    let p = s.service.create_project(&a.actor, input).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(
            json!({"id": p.id, "name": p.name, "description": p.description, "createdAt": p.created_at}),
        ),
    ))
}

fn environment_view(e: &Environment) -> serde_json::Value {
    json!({"name": e.name, "type": e.env_type, "enabled": e.enabled, "sortOrder": e.sort_order, "protected": false})
}

#[utoipa::path(get, path = "/api/admin/environments", tag = "Admin: projects and environments", security(("unleash" = [])),
    summary = "List environments",
    responses((status = 200, description = "Every environment.", body = Object,
        example = json!({"version": 1, "environments": [{"name": "development", "type": "development", "enabled": true, "sortOrder": 100, "protected": false}]}))))]
async fn list_environments(_: Admin, State(s): State<AppState>) -> ApiResult<impl IntoResponse> {
    let envs: Vec<_> = s
        .service
        .list_environments()
        .await?
        .iter()
        .map(environment_view)
        .collect();
    Ok(axum::Json(json!({"version": 1, "environments": envs})))
}

#[utoipa::path(get, path = "/api/admin/environments/{name}", tag = "Admin: projects and environments", security(("unleash" = [])),
    summary = "Get an environment",
    responses(
        (status = 200, description = "The environment.", body = Object),
        (status = 404, description = "No such environment."),
    ))]
async fn get_environment(
    _: Admin,
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let envs = s.service.list_environments().await?;
    let env = envs.iter().find(|e| e.name == name).ok_or_else(|| {
        ApiError::NotFound(format!("Could not find environment with name: {name}"))
    })?;
    Ok(axum::Json(environment_view(env)))
}

#[utoipa::path(post, path = "/api/admin/environments", tag = "Admin: projects and environments", security(("unleash" = [])),
    summary = "Create an environment",
    request_body = EnvironmentInput,
    responses(
        (status = 201, description = "Created.", body = Object),
        (status = 409, description = "An environment with that name exists."),
    ))]
async fn create_environment(
    a: Admin,
    State(s): State<AppState>,
    Json(input): Json<EnvironmentInput>,
) -> ApiResult<impl IntoResponse> {
    let env = s.service.create_environment(&a.actor, input).await?;
    Ok((StatusCode::CREATED, axum::Json(environment_view(&env))))
}
