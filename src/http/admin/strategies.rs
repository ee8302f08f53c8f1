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

#[utoipa::path(get, path = "/api/admin/projects/{project}/features/{feature}/environments/{environment}/strategies", tag = "Admin: strategies", security(("unleash" = [])),
    summary = "List a flag's strategies in an environment",
    responses(
        (status = 200, description = "The strategies, in evaluation order.", body = Object, example = json!([])),
        (status = 404, description = "No such flag or environment."),
    ))]
async fn list(
    _: Admin,
    State(s): State<AppState>,
    Path(p): EnvPath,
) -> ApiResult<impl IntoResponse> {
    Ok(axum::Json(s.service.list_strategies(&target(&p)).await?))
}

/// Unleash answers 200 (not 201) with the new strategy.
#[utoipa::path(post, path = "/api/admin/projects/{project}/features/{feature}/environments/{environment}/strategies", tag = "Admin: strategies", security(("unleash" = [])),
    summary = "Add a strategy",
    request_body(content = StrategyInput, description = "One of `default`, `flexibleRollout`, `userWithId`, `gradualRolloutUserId`, `gradualRolloutSessionId`, `gradualRolloutRandom`, `remoteAddress`, `applicationHostname`. Parameters are kept as strings; `rollout` is a whole number from 0 to 100.", example = json!({"name": "flexibleRollout", "parameters": {"rollout": "10", "stickiness": "userId", "groupId": "new-checkout-flow"}, "constraints": [{"contextName": "country", "operator": "IN", "values": ["NO", "SE"]}]})),
    responses(
        (status = 200, description = "The new strategy (200, as Unleash answers).", body = Object, example = json!({"id": "01J9Z5T3K8V6M2Q4R7W1X0Y9AB", "name": "flexibleRollout", "title": null, "disabled": false, "sortOrder": 0, "constraints": [{"contextName": "country", "operator": "IN", "values": ["NO", "SE"], "caseInsensitive": false, "inverted": false}], "parameters": {"rollout": "10", "stickiness": "userId", "groupId": "new-checkout-flow"}, "variants": [], "segments": []})),
        (status = 404, description = "No such flag, environment or segment."),
    ))]
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

#[utoipa::path(get, path = "/api/admin/projects/{project}/features/{feature}/environments/{environment}/strategies/{strategy}", tag = "Admin: strategies", security(("unleash" = [])),
    summary = "Get a strategy",
    responses(
        (status = 200, description = "The strategy.", body = Object, example = json!({"id": "01J9Z5T3K8V6M2Q4R7W1X0Y9AB", "name": "flexibleRollout", "title": null, "disabled": false, "sortOrder": 0, "constraints": [{"contextName": "country", "operator": "IN", "values": ["NO", "SE"], "caseInsensitive": false, "inverted": false}], "parameters": {"rollout": "10", "stickiness": "userId", "groupId": "new-checkout-flow"}, "variants": [], "segments": []})),
        (status = 404, description = "No such flag, environment or strategy."),
    ))]
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

#[utoipa::path(put, path = "/api/admin/projects/{project}/features/{feature}/environments/{environment}/strategies/{strategy}", tag = "Admin: strategies", security(("unleash" = [])),
    summary = "Replace a strategy",
    request_body(content = StrategyInput, description = "One of `default`, `flexibleRollout`, `userWithId`, `gradualRolloutUserId`, `gradualRolloutSessionId`, `gradualRolloutRandom`, `remoteAddress`, `applicationHostname`. Parameters are kept as strings; `rollout` is a whole number from 0 to 100."),
    responses(
        (status = 200, description = "The strategy as it is now.", body = Object),
        (status = 404, description = "No such flag, environment or strategy."),
    ))]
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

#[utoipa::path(patch, path = "/api/admin/projects/{project}/features/{feature}/environments/{environment}/strategies/{strategy}", tag = "Admin: strategies", security(("unleash" = [])),
    summary = "Change a strategy with a JSON Patch",
    request_body(content = Vec<crate::http::openapi::JsonPatchOperation>,
        example = json!([{"op": "replace", "path": "/parameters/rollout", "value": "50"}])),
    responses(
        (status = 200, description = "The strategy as it is now.", body = Object),
        (status = 404, description = "No such flag, environment or strategy."),
    ))]
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

#[utoipa::path(delete, path = "/api/admin/projects/{project}/features/{feature}/environments/{environment}/strategies/{strategy}", tag = "Admin: strategies", security(("unleash" = [])),
    summary = "Remove a strategy",
    responses(
        (status = 200, description = "Removed; no body."),
        (status = 404, description = "No such flag, environment or strategy."),
    ))]
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

#[utoipa::path(post, path = "/api/admin/projects/{project}/features/{feature}/environments/{environment}/strategies/set-sort-order", tag = "Admin: strategies", security(("unleash" = [])),
    summary = "Set the order strategies are evaluated in",
    request_body(content = Vec<SortOrder>, example = json!([{"id": "01J9Z5T3K8V6M2Q4R7W1X0Y9AB", "sortOrder": 0}])),
    responses(
        (status = 200, description = "Saved; no body."),
        (status = 404, description = "No such flag, environment or strategy."),
    ))]
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

#[utoipa::path(get, path = "/api/admin/projects/{project}/features/{feature}/environments/{environment}/variants", tag = "Admin: strategies", security(("unleash" = [])),
    summary = "Get a flag's variants in an environment",
    responses(
        (status = 200, description = "The variants, sorted by name.", body = Object,
            example = json!({"version": 1, "variants": [{"name": "blue", "weight": 500, "weightType": "variable", "stickiness": "default", "payload": {"type": "string", "value": "b"}}]})),
        (status = 404, description = "No such flag or environment."),
    ))]
async fn get_variants(
    _: Admin,
    State(s): State<AppState>,
    Path(p): EnvPath,
) -> ApiResult<impl IntoResponse> {
    Ok(axum::Json(variants_view(
        &s.service.get_variants(&target(&p)).await?,
    )))
}

#[utoipa::path(put, path = "/api/admin/projects/{project}/features/{feature}/environments/{environment}/variants", tag = "Admin: strategies", security(("unleash" = [])),
    summary = "Replace a flag's variants in an environment",
    request_body(content = Vec<VariantInput>, description = "Weights 0–1000: `fix` variants keep theirs, `variable` ones share what is left equally.",
        example = json!([{"name": "blue", "weightType": "variable", "stickiness": "default"}, {"name": "green", "weight": 200, "weightType": "fix"}])),
    responses(
        (status = 200, description = "The variants as they are now.", body = Object),
        (status = 404, description = "No such flag or environment."),
    ))]
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

#[utoipa::path(patch, path = "/api/admin/projects/{project}/features/{feature}/environments/{environment}/variants", tag = "Admin: strategies", security(("unleash" = [])),
    summary = "Change a flag's variants with a JSON Patch",
    request_body(content = Vec<crate::http::openapi::JsonPatchOperation>,
        example = json!([{"op": "add", "path": "/-", "value": {"name": "red", "weightType": "variable"}}])),
    responses(
        (status = 200, description = "The variants as they are now.", body = Object),
        (status = 404, description = "No such flag or environment."),
    ))]
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
