//! API tokens. A secret is shown once, in the answer to its creation.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, put};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::domain::Timestamp;
use crate::domain::token::ApiToken;
use crate::http::AppState;
use crate::http::error::ApiResult;
use crate::http::extract::{Admin, Json};
use crate::service::TokenRequest;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/api-tokens", get(list).post(create))
        .route("/api/admin/api-tokens/{token}", put(update).delete(remove))
}

/// A token as listed: `secret` is only the recognisable prefix, since the whole secret is
/// not kept.
fn view(t: &ApiToken, secret: &str) -> Value {
    json!({
        "tokenId": t.id,
        "secret": secret,
        "tokenName": t.name,
        "type": t.kind.as_str(),
        "environment": t.environment,
        "project": if t.projects.len() == 1 { t.projects[0].clone() } else { "[]".to_string() },
        "projects": t.projects,
        "expiresAt": t.expires_at,
        "createdAt": t.created_at,
        "seenAt": null,
        "alias": null,
    })
}

#[utoipa::path(get, path = "/api/admin/api-tokens", tag = "Admin: tokens", security(("unleash" = [])),
    summary = "List API tokens",
    description = "Secrets are shown only by their first characters: the whole secret is not kept.",
    responses((status = 200, description = "Every token.", body = Object,
        example = json!({"tokens": [{"tokenId": 1, "secret": "*:*.unle…", "tokenName": "admin", "type": "admin", "environment": "*", "project": "[]", "projects": ["*"]}]}))))]
async fn list(_: Admin, State(s): State<AppState>) -> ApiResult<impl IntoResponse> {
    let tokens: Vec<_> = s
        .service
        .list_tokens()
        .await?
        .iter()
        .map(|t| view(t, &t.secret_prefix))
        .collect();
    Ok(axum::Json(json!({"tokens": tokens})))
}

#[utoipa::path(post, path = "/api/admin/api-tokens", tag = "Admin: tokens", security(("unleash" = [])),
    summary = "Create an API token",
    description = "The answer holds the whole secret, the only time it is shown.",
    request_body(content = TokenRequest, description = "`type` is `admin`, `backend` (or `client`) or `frontend`; backend and frontend tokens need an `environment` and `project` or `projects`.",
        example = json!({"tokenName": "checkout-service", "type": "backend", "environment": "development", "projects": ["default"]})),
    responses(
        (status = 201, description = "Created, with its secret.", body = Object, example = json!({"tokenId": 3, "secret": "default:development.4f9c2e…", "tokenName": "checkout-service", "type": "backend", "environment": "development", "project": "default", "projects": ["default"], "expiresAt": null, "createdAt": "2026-01-01T00:00:00.000Z", "seenAt": null, "alias": null})),
        (status = 404, description = "No such project or environment."),
    ))]
async fn create(
    a: Admin,
    State(s): State<AppState>,
    Json(req): Json<TokenRequest>,
) -> ApiResult<impl IntoResponse> {
    let issued = s.service.create_token(&a.actor, req).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(view(&issued.token, &issued.secret)),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct ExpiryBody {
    expires_at: Option<Timestamp>,
}

/// `{token}` is the token's id or its secret (Unleash's admin API uses the secret).
#[utoipa::path(put, path = "/api/admin/api-tokens/{token}", tag = "Admin: tokens", security(("unleash" = [])),
    summary = "Change when a token expires",
    request_body(content = ExpiryBody, example = json!({"expiresAt": "2027-01-01T00:00:00.000Z"})),
    responses(
        (status = 200, description = "The token as it is now.", body = Object),
        (status = 404, description = "No such token."),
    ))]
async fn update(
    a: Admin,
    State(s): State<AppState>,
    Path(token): Path<String>,
    Json(b): Json<ExpiryBody>,
) -> ApiResult<impl IntoResponse> {
    let t = s
        .service
        .set_token_expiry(&a.actor, &token, b.expires_at)
        .await?;
    Ok(axum::Json(view(&t, &t.secret_prefix)))
}

#[utoipa::path(delete, path = "/api/admin/api-tokens/{token}", tag = "Admin: tokens", security(("unleash" = [])),
    summary = "Delete a token",
    responses(
        (status = 200, description = "Deleted."),
        (status = 404, description = "No such token."),
    ))]
async fn remove(
    a: Admin,
    State(s): State<AppState>,
    Path(token): Path<String>,
) -> ApiResult<StatusCode> {
    s.service.delete_token(&a.actor, &token).await?;
    Ok(StatusCode::OK)
}
