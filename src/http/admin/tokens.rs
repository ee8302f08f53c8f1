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

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExpiryBody {
    expires_at: Option<Timestamp>,
}

/// `{token}` is the token's id or its secret (Unleash's admin API uses the secret).
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

async fn remove(
    a: Admin,
    State(s): State<AppState>,
    Path(token): Path<String>,
) -> ApiResult<StatusCode> {
    s.service.delete_token(&a.actor, &token).await?;
    Ok(StatusCode::OK)
}
