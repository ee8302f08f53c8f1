//! Strategies of a flag in one environment, and the flag's variants there.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::domain::strategy::{StrategyInput, VariantInput};
use crate::http::AppState;
use crate::http::error::ApiResult;
use crate::http::extract::{Admin, Json};
use crate::service::strategies::{SortOrder, Target};

type EnvPath = Path<(String, String, String)>;
type StrategyPath = Path<(String, String, String, String)>;

pub fn router() -> Router<AppState> {
    let env = "/api/admin/projects/{project}/features/{feature}/environments/{environment}";
    Router::new()
        .route(&format!("{env}/strategies"), get(list).post(add))
        .route(&format!("{env}/strategies/set-sort-order"), post(sort))
        .route(
            &format!("{env}/strategies/{{strategy}}"),
            get(get_one).put(update).patch(patch).delete(remove),
        )
        .route(
            &format!("{env}/variants"),
            get(get_variants).put(put_variants).patch(patch_variants),
        )
}

fn target((project, feature, environment): &(String, String, String)) -> Target<'_> {
    Target {
        project,
        feature,
        environment,
    }
}

async fn list(
    _: Admin,
    State(s): State<AppState>,
    Path(p): EnvPath,
) -> ApiResult<impl IntoResponse> {
    Ok(axum::Json(s.service.list_strategies(&target(&p)).await?))
}

/// Unleash answers 200 (not 201) with the new strategy.
async fn add(
    a: Admin,
    State(s): State<AppState>,
    Path(p): EnvPath,
    Json(input): Json<StrategyInput>,
) -> ApiResult<impl IntoResponse> {
    Ok(axum::Json(
        s.service.add_strategy(&a.actor, &target(&p), input).await?,
    ))
}

async fn get_one(
    _: Admin,
    State(s): State<AppState>,
    Path((project, feature, environment, id)): StrategyPath,
) -> ApiResult<impl IntoResponse> {
    let at = Target {
        project: &project,
        feature: &feature,
        environment: &environment,
    };
    Ok(axum::Json(s.service.get_strategy(&at, &id).await?))
}

async fn update(
    a: Admin,
    State(s): State<AppState>,
    Path((project, feature, environment, id)): StrategyPath,
    Json(input): Json<StrategyInput>,
) -> ApiResult<impl IntoResponse> {
    let at = Target {
        project: &project,
        feature: &feature,
        environment: &environment,
    };
    Ok(axum::Json(
        s.service.update_strategy(&a.actor, &at, &id, input).await?,
    ))
}

async fn patch(
    a: Admin,
    State(s): State<AppState>,
    Path((project, feature, environment, id)): StrategyPath,
    Json(ops): Json<Value>,
) -> ApiResult<impl IntoResponse> {
    let at = Target {
        project: &project,
        feature: &feature,
        environment: &environment,
    };
    Ok(axum::Json(
        s.service.patch_strategy(&a.actor, &at, &id, ops).await?,
    ))
}

async fn remove(
    a: Admin,
    State(s): State<AppState>,
    Path((project, feature, environment, id)): StrategyPath,
) -> ApiResult<StatusCode> {
    let at = Target {
        project: &project,
        feature: &feature,
        environment: &environment,
    };
    s.service.delete_strategy(&a.actor, &at, &id).await?;
    Ok(StatusCode::OK)
}

async fn sort(
    a: Admin,
    State(s): State<AppState>,
    Path(p): EnvPath,
    Json(order): Json<Vec<SortOrder>>,
) -> ApiResult<StatusCode> {
    s.service
        .sort_strategies(&a.actor, &target(&p), order)
        .await?;
    Ok(StatusCode::OK)
}

fn variants_view(variants: &[crate::domain::strategy::Variant]) -> Value {
    json!({"version": 1, "variants": variants})
}

async fn get_variants(
    _: Admin,
    State(s): State<AppState>,
    Path(p): EnvPath,
) -> ApiResult<impl IntoResponse> {
    Ok(axum::Json(variants_view(
        &s.service.get_variants(&target(&p)).await?,
    )))
}

async fn put_variants(
    a: Admin,
    State(s): State<AppState>,
    Path(p): EnvPath,
    Json(input): Json<Vec<VariantInput>>,
) -> ApiResult<impl IntoResponse> {
    Ok(axum::Json(variants_view(
        &s.service.set_variants(&a.actor, &target(&p), input).await?,
    )))
}

async fn patch_variants(
    a: Admin,
    State(s): State<AppState>,
    Path(p): EnvPath,
    Json(ops): Json<Value>,
) -> ApiResult<impl IntoResponse> {
    Ok(axum::Json(variants_view(
        &s.service.patch_variants(&a.actor, &target(&p), ops).await?,
    )))
}
