//! Liveness and readiness, without a token.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::http::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
}

/// The process is up and serving HTTP (Unleash answers `{"health": "GOOD"}` here too).
#[utoipa::path(get, path = "/health", tag = "Health",
    responses((status = 200, description = "Serving.", body = Object,
        example = json!({"health": "GOOD"}))))]
async fn health() -> impl IntoResponse {
    Json(json!({"health": "GOOD"}))
}

/// The database answers and every migration is applied; 503 otherwise.
#[utoipa::path(get, path = "/ready", tag = "Health",
    responses(
        (status = 200, description = "Ready to serve.", body = Object,
            example = json!({"health": "GOOD", "database": "ok"})),
        (status = 503, description = "The database is unreachable or migrations are pending.",
            body = Object, example = json!({"health": "BAD", "database": "unreachable"})),
    ))]
async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    match state.service.store().ready().await {
        Ok(true) => (
            StatusCode::OK,
            Json(json!({"health": "GOOD", "database": "ok"})),
        ),
        Ok(false) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"health": "BAD", "database": "migrations pending"})),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"health": "BAD", "database": "unreachable"})),
            )
        }
    }
}
