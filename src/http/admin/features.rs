//! Flags: create, read, update, archive, and switch them per environment.

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::domain::feature::{FeatureDependencyInput, FeatureInput, Tag};
use crate::domain::metrics::LastSeen;
use crate::http::AppState;
use crate::http::admin::NameBody;
use crate::http::admin::{query_pairs, query_values, views};
use crate::http::error::ApiResult;
use crate::http::extract::{Admin, Json};
use crate::service::features::feature_summary;
use crate::service::strategies::Target;

pub fn router() -> Router<AppState> {
    let feature = "/api/admin/projects/{project}/features/{feature}";
    Router::new()
        .route(
            "/api/admin/projects/{project}/features",
            get(list).post(create),
        )
        .route(
            feature,
            get(get_one).put(update).patch(patch).delete(archive),
        )
        .route(
            &format!("{feature}/environments/{{environment}}"),
            get(get_environment),
        )
        .route(
            &format!("{feature}/environments/{{environment}}/on"),
            post(switch_on),
        )
        .route(
            &format!("{feature}/environments/{{environment}}/off"),
            post(switch_off),
        )
        .route(
            &format!("{feature}/dependencies"),
            post(add_dependency).delete(remove_dependencies),
        )
        .route(
            &format!("{feature}/dependencies/{{parent}}"),
            delete(remove_dependency),
        )
        .route("/api/admin/features/validate", post(validate))
        .route("/api/admin/projects/{project}/archive", post(archive_many))
        .route("/api/admin/projects/{project}/revive", post(revive_many))
        .route("/api/admin/projects/{project}/delete", post(delete_many))
        .route("/api/admin/archive/features", get(list_archived))
        .route(
            "/api/admin/archive/features/{project}",
            get(list_archived_in_project),
        )
        .route("/api/admin/archive/revive/{feature}", post(revive_one))
        .route("/api/admin/archive/{feature}", delete(delete_one))
}

/// `?namePrefix=…&tag=type:value` (tags repeatable, any of them).
#[utoipa::path(get, path = "/api/admin/projects/{project}/features", tag = "Admin: flags", security(("unleash" = [])),
    summary = "List a project's flags",
    params(
        ("namePrefix" = Option<String>, Query, description = "Only flags whose name starts with this."),
        ("tag" = Option<Vec<String>>, Query, description = "`type:value`; repeatable, a flag with any of them matches."),
    ),
    responses(
        (status = 200, description = "The flags, each with its environments and their strategies.", body = Object,
            example = json!({"version": 2, "features": [{"name": "new-checkout-flow", "type": "release", "project": "default", "stale": false, "environments": [{"name": "development", "enabled": true, "hasStrategies": true, "strategies": []}]}]})),
        (status = 404, description = "No such project."),
    ))]
async fn list(
    _: Admin,
    State(s): State<AppState>,
    Path(project): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<impl IntoResponse> {
    let pairs = query_pairs(q.as_deref());
    let tags = query_values(&pairs, "tag")
        .iter()
        .map(|t| Tag::parse_filter(t))
        .collect::<Result<Vec<_>, _>>()?;
    let prefix = query_values(&pairs, "namePrefix")
        .into_iter()
        .next()
        .filter(|p| !p.is_empty());
    let features = s.service.list_features(&project, prefix, tags).await?;
    let last_seen = s.service.last_seen(None).await?;
    let features: Vec<Value> = features
        .iter()
        .map(|f| views::feature_list_item(f, &last_seen))
        .collect();
    Ok(axum::Json(json!({"version": 2, "features": features})))
}

#[utoipa::path(post, path = "/api/admin/projects/{project}/features", tag = "Admin: flags", security(("unleash" = [])),
    summary = "Create a flag",
    request_body(content = FeatureInput, description = "`name` is required; `type` defaults to `release`.",
        example = json!({"name": "new-checkout-flow", "description": "The new checkout", "type": "release", "impressionData": true})),
    responses(
        (status = 201, description = "Created.", body = Object,
            example = json!({"name": "new-checkout-flow", "description": "The new checkout", "type": "release", "project": "default", "stale": false, "createdAt": "2026-01-01T00:00:00.000Z", "impressionData": true, "archived": false})),
        (status = 404, description = "No such project."),
        (status = 409, description = "A flag with that name exists (archived ones included)."),
    ))]
async fn create(
    a: Admin,
    State(s): State<AppState>,
    Path(project): Path<String>,
    Json(input): Json<FeatureInput>,
) -> ApiResult<impl IntoResponse> {
    let f = s.service.create_feature(&a.actor, &project, input).await?;
    Ok((StatusCode::CREATED, axum::Json(feature_summary(&f))))
}

#[utoipa::path(get, path = "/api/admin/projects/{project}/features/{feature}", tag = "Admin: flags", security(("unleash" = [])),
    summary = "Get a flag, with every environment, strategy and variant",
    responses(
        (status = 200, description = "The flag.", body = Object, example = json!({"name": "new-checkout-flow", "description": "The new checkout", "type": "release", "project": "default", "stale": false, "impressionData": true, "archived": false, "createdAt": "2026-01-01T00:00:00.000Z", "environments": [{"name": "development", "enabled": true, "type": "development", "sortOrder": 100, "strategies": [], "variants": []}], "tags": [], "dependencies": [], "children": []})),
        (status = 404, description = "No such flag in that project."),
    ))]
async fn get_one(
    _: Admin,
    State(s): State<AppState>,
    Path((project, feature)): Path<(String, String)>,
) -> ApiResult<impl IntoResponse> {
    let f = s.service.get_feature(&project, &feature).await?;
    let last_seen = s.service.last_seen(Some(&feature)).await?;
    let children = s.service.feature_children(&feature).await?;
    Ok(axum::Json(views::feature(&f, &children, &last_seen)))
}

#[utoipa::path(put, path = "/api/admin/projects/{project}/features/{feature}", tag = "Admin: flags", security(("unleash" = [])),
    summary = "Update a flag's description, type, stale and impression data",
    request_body(content = FeatureInput, description = "What is left out is kept; the name cannot change."),
    responses(
        (status = 200, description = "The flag as it is now.", body = Object),
        (status = 404, description = "No such flag in that project."),
    ))]
async fn update(
    a: Admin,
    State(s): State<AppState>,
    Path((project, feature)): Path<(String, String)>,
    Json(input): Json<FeatureInput>,
) -> ApiResult<impl IntoResponse> {
    let f = s
        .service
        .update_feature(&a.actor, &project, &feature, input)
        .await?;
    let last_seen = s.service.last_seen(Some(&feature)).await?;
    let children = s.service.feature_children(&feature).await?;
    Ok(axum::Json(views::feature(&f, &children, &last_seen)))
}

#[utoipa::path(patch, path = "/api/admin/projects/{project}/features/{feature}", tag = "Admin: flags", security(("unleash" = [])),
    summary = "Change a flag with a JSON Patch",
    request_body(content = Vec<crate::http::openapi::JsonPatchOperation>, description = "RFC 6902 operations on the flag's fields (`/description`, `/type`, `/stale`, `/impressionData`).",
        example = json!([{"op": "replace", "path": "/description", "value": "Now for everyone"}])),
    responses(
        (status = 200, description = "The flag as it is now.", body = Object),
        (status = 404, description = "No such flag in that project."),
    ))]
async fn patch(
    a: Admin,
    State(s): State<AppState>,
    Path((project, feature)): Path<(String, String)>,
    Json(ops): Json<Value>,
) -> ApiResult<impl IntoResponse> {
    let f = s
        .service
        .patch_feature(&a.actor, &project, &feature, ops)
        .await?;
    let last_seen = s.service.last_seen(Some(&feature)).await?;
    let children = s.service.feature_children(&feature).await?;
    Ok(axum::Json(views::feature(&f, &children, &last_seen)))
}

/// Unleash archives on DELETE and answers 202.
#[utoipa::path(delete, path = "/api/admin/projects/{project}/features/{feature}", tag = "Admin: flags", security(("unleash" = [])),
    summary = "Archive a flag",
    responses(
        (status = 202, description = "Archived: SDKs no longer get it; it can be revived."),
        (status = 404, description = "No such flag in that project."),
    ))]
async fn archive(
    a: Admin,
    State(s): State<AppState>,
    Path((project, feature)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    s.service
        .archive_features(&a.actor, &project, &[feature])
        .await?;
    Ok(StatusCode::ACCEPTED)
}

/// Unleash answers the dependency routes with 200 and no body.
#[utoipa::path(post, path = "/api/admin/projects/{project}/features/{feature}/dependencies", tag = "Admin: flags", security(("unleash" = [])),
    summary = "Make a flag depend on a parent flag",
    description = "The parent must be in the same project, one level deep; replaces a dependency on that parent.",
    request_body(content = FeatureDependencyInput, example = json!({"feature": "payments-v2", "enabled": true, "variants": ["blue"]})),
    responses(
        (status = 200, description = "Saved; no body."),
        (status = 404, description = "No such flag or parent."),
        (status = 409, description = "The parent has a parent itself, or depends on this flag."),
    ))]
async fn add_dependency(
    a: Admin,
    State(s): State<AppState>,
    Path((project, feature)): Path<(String, String)>,
    Json(input): Json<FeatureDependencyInput>,
) -> ApiResult<StatusCode> {
    s.service
        .add_dependency(&a.actor, &project, &feature, input)
        .await?;
    Ok(StatusCode::OK)
}

#[utoipa::path(delete, path = "/api/admin/projects/{project}/features/{feature}/dependencies/{parent}", tag = "Admin: flags", security(("unleash" = [])),
    summary = "Remove a flag's dependency on one parent",
    responses(
        (status = 200, description = "Removed; no body."),
        (status = 404, description = "No such flag."),
    ))]
async fn remove_dependency(
    a: Admin,
    State(s): State<AppState>,
    Path((project, feature, parent)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    s.service
        .remove_dependency(&a.actor, &project, &feature, &parent)
        .await?;
    Ok(StatusCode::OK)
}

#[utoipa::path(delete, path = "/api/admin/projects/{project}/features/{feature}/dependencies", tag = "Admin: flags", security(("unleash" = [])),
    summary = "Remove all of a flag's dependencies",
    responses(
        (status = 200, description = "Removed; no body."),
        (status = 404, description = "No such flag."),
    ))]
async fn remove_dependencies(
    a: Admin,
    State(s): State<AppState>,
    Path((project, feature)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    s.service
        .remove_dependencies(&a.actor, &project, &feature)
        .await?;
    Ok(StatusCode::OK)
}

#[utoipa::path(get, path = "/api/admin/projects/{project}/features/{feature}/environments/{environment}", tag = "Admin: flags", security(("unleash" = [])),
    summary = "Get a flag in one environment",
    responses(
        (status = 200, description = "Whether it is on there, its strategies and variants.", body = Object,
            example = json!({"name": "production", "environment": "production", "featureName": "new-checkout-flow", "enabled": false, "type": "production", "sortOrder": 200, "strategies": [], "variants": [], "lastSeenAt": null})),
        (status = 404, description = "No such flag or environment."),
    ))]
async fn get_environment(
    _: Admin,
    State(s): State<AppState>,
    Path((project, feature, environment)): Path<(String, String, String)>,
) -> ApiResult<impl IntoResponse> {
    let at = Target {
        project: &project,
        feature: &feature,
        environment: &environment,
    };
    let state = s.service.feature_environment(&at).await?;
    let last_seen = s.service.last_seen(Some(&feature)).await?;
    Ok(axum::Json(views::feature_environment(
        &feature, &state, &last_seen,
    )))
}

#[utoipa::path(post, path = "/api/admin/projects/{project}/features/{feature}/environments/{environment}/on", tag = "Admin: flags", security(("unleash" = [])),
    summary = "Switch a flag on in an environment",
    description = "With no enabled strategy there, `flexibleRollout` at 100 % is added first. Switching to the state it is in changes nothing and records no event.",
    responses(
        (status = 200, description = "On; no body."),
        (status = 404, description = "No such flag or environment."),
    ))]
async fn switch_on(
    a: Admin,
    State(s): State<AppState>,
    Path((project, feature, environment)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    s.service
        .set_enabled(&a.actor, &project, &feature, &environment, true)
        .await?;
    Ok(StatusCode::OK)
}

#[utoipa::path(post, path = "/api/admin/projects/{project}/features/{feature}/environments/{environment}/off", tag = "Admin: flags", security(("unleash" = [])),
    summary = "Switch a flag off in an environment",
    responses(
        (status = 200, description = "Off; no body."),
        (status = 404, description = "No such flag or environment."),
    ))]
async fn switch_off(
    a: Admin,
    State(s): State<AppState>,
    Path((project, feature, environment)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    s.service
        .set_enabled(&a.actor, &project, &feature, &environment, false)
        .await?;
    Ok(StatusCode::OK)
}

#[utoipa::path(post, path = "/api/admin/features/validate", tag = "Admin: flags", security(("unleash" = [])),
    summary = "Check that a flag name is valid and free",
    request_body(content = NameBody, example = json!({"name": "new-checkout-flow"})),
    responses(
        (status = 200, description = "The name can be used; no body."),
        (status = 409, description = "A flag with that name exists."),
    ))]
async fn validate(
    _: Admin,
    State(s): State<AppState>,
    Json(body): Json<NameBody>,
) -> ApiResult<StatusCode> {
    s.service.validate_feature_name(&body.name).await?;
    Ok(StatusCode::OK)
}

#[derive(Deserialize, utoipa::ToSchema)]
struct FeaturesBody {
    features: Vec<String>,
}

#[utoipa::path(post, path = "/api/admin/projects/{project}/archive", tag = "Admin: flags", security(("unleash" = [])),
    summary = "Archive several flags of a project",
    request_body(content = FeaturesBody, example = json!({"features": ["old-banner", "old-search"]})),
    responses(
        (status = 202, description = "Archived."),
        (status = 404, description = "No such project or flag."),
    ))]
async fn archive_many(
    a: Admin,
    State(s): State<AppState>,
    Path(project): Path<String>,
    Json(b): Json<FeaturesBody>,
) -> ApiResult<StatusCode> {
    s.service
        .archive_features(&a.actor, &project, &b.features)
        .await?;
    Ok(StatusCode::ACCEPTED)
}

#[utoipa::path(post, path = "/api/admin/projects/{project}/revive", tag = "Admin: flags", security(("unleash" = [])),
    summary = "Revive several archived flags of a project",
    request_body(content = FeaturesBody),
    responses(
        (status = 200, description = "Revived, switched off everywhere."),
        (status = 404, description = "No such archived flag in that project."),
    ))]
async fn revive_many(
    a: Admin,
    State(s): State<AppState>,
    Path(project): Path<String>,
    Json(b): Json<FeaturesBody>,
) -> ApiResult<StatusCode> {
    s.service
        .revive_features(&a.actor, Some(&project), &b.features)
        .await?;
    Ok(StatusCode::OK)
}

#[utoipa::path(post, path = "/api/admin/projects/{project}/delete", tag = "Admin: flags", security(("unleash" = [])),
    summary = "Delete several archived flags of a project for good",
    request_body(content = FeaturesBody),
    responses(
        (status = 200, description = "Deleted."),
        (status = 404, description = "No such archived flag in that project."),
    ))]
async fn delete_many(
    a: Admin,
    State(s): State<AppState>,
    Path(project): Path<String>,
    Json(b): Json<FeaturesBody>,
) -> ApiResult<StatusCode> {
    s.service
        .delete_archived(&a.actor, Some(&project), &b.features)
        .await?;
    Ok(StatusCode::OK)
}

fn archived_view(features: &[crate::domain::feature::Feature], last_seen: &LastSeen) -> Value {
    let features: Vec<Value> = features
        .iter()
        .map(|f| views::feature_list_item(f, last_seen))
        .collect();
    json!({"version": 1, "features": features})
}

#[utoipa::path(get, path = "/api/admin/archive/features", tag = "Admin: flags", security(("unleash" = [])),
    summary = "List archived flags",
    responses((status = 200, description = "Archived flags of every project.", body = Object,
        example = json!({"version": 1, "features": [{"name": "old-banner", "project": "default", "archivedAt": "2026-01-02T00:00:00.000Z"}]}))))]
async fn list_archived(_: Admin, State(s): State<AppState>) -> ApiResult<impl IntoResponse> {
    Ok(axum::Json(archived_view(
        &s.service.list_archived(None).await?,
        &s.service.last_seen(None).await?,
    )))
}

#[utoipa::path(get, path = "/api/admin/archive/features/{project}", tag = "Admin: flags", security(("unleash" = [])),
    summary = "List a project's archived flags",
    responses((status = 200, description = "Archived flags of the project.", body = Object)))]
async fn list_archived_in_project(
    _: Admin,
    State(s): State<AppState>,
    Path(project): Path<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(axum::Json(archived_view(
        &s.service.list_archived(Some(&project)).await?,
        &s.service.last_seen(None).await?,
    )))
}

#[utoipa::path(post, path = "/api/admin/archive/revive/{feature}", tag = "Admin: flags", security(("unleash" = [])),
    summary = "Revive an archived flag",
    responses(
        (status = 200, description = "Revived, switched off everywhere."),
        (status = 404, description = "No such archived flag."),
    ))]
async fn revive_one(
    a: Admin,
    State(s): State<AppState>,
    Path(feature): Path<String>,
) -> ApiResult<StatusCode> {
    s.service
        .revive_features(&a.actor, None, &[feature])
        .await?;
    Ok(StatusCode::OK)
}

#[utoipa::path(delete, path = "/api/admin/archive/{feature}", tag = "Admin: flags", security(("unleash" = [])),
    summary = "Delete an archived flag for good",
    responses(
        (status = 200, description = "Deleted."),
        (status = 404, description = "No such archived flag."),
    ))]
async fn delete_one(
    a: Admin,
    State(s): State<AppState>,
    Path(feature): Path<String>,
) -> ApiResult<StatusCode> {
    s.service
        .delete_archived(&a.actor, None, &[feature])
        .await?;
    Ok(StatusCode::OK)
}
