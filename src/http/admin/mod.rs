//! Unleash's admin API (`/api/admin/*`), for an admin token. Paths, bodies, status codes
//! and error bodies follow Unleash 8. The handler modules are visible to `http` for the
//! OpenAPI document (`http::openapi`), which names each handler.

pub(super) mod events;
pub(super) mod features;
pub(super) mod guards;
pub(super) mod metrics;
pub(super) mod notifications;
pub(super) mod projects;
pub(super) mod segments;
pub(super) mod strategies;
pub(super) mod tags;
pub(super) mod tokens;
mod views;
pub(super) mod webhook_sources;

use axum::Router;

use crate::http::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(projects::router())
        .merge(features::router())
        .merge(strategies::router())
        .merge(segments::router())
        .merge(tags::router())
        .merge(tokens::router())
        .merge(events::router())
        .merge(metrics::router())
        .merge(notifications::router())
        .merge(guards::router())
        .merge(webhook_sources::router())
}

/// The body of the `…/validate` routes: `{"name": "…"}`.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct NameBody {
    #[serde(default)]
    pub name: String,
}

/// Query-string pairs in order, keeping repeats (`tag=a&tag=b`).
pub(crate) fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default()
}

/// Every value given for `key`.
pub(crate) fn query_values(pairs: &[(String, String)], key: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .collect()
}
