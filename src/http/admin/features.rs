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

async fn create(
    a: Admin,
    State(s): State<AppState>,
    Path(project): Path<String>,
    Json(input): Json<FeatureInput>,
) -> ApiResult<impl IntoResponse> {
    let f = s.service.create_feature(&a.actor, &project, input).await?;
    Ok((StatusCode::CREATED, axum::Json(feature_summary(&f))))
}

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

async fn validate(
    _: Admin,
    State(s): State<AppState>,
    Json(body): Json<NameBody>,
) -> ApiResult<StatusCode> {
    s.service.validate_feature_name(&body.name).await?;
    Ok(StatusCode::OK)
}

#[derive(Deserialize)]
struct FeaturesBody {
    features: Vec<String>,
}

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

async fn list_archived(_: Admin, State(s): State<AppState>) -> ApiResult<impl IntoResponse> {
    Ok(axum::Json(archived_view(
        &s.service.list_archived(None).await?,
        &s.service.last_seen(None).await?,
    )))
}

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
