//! Unleash's admin API (`/api/admin/*`), for an admin token. Paths, bodies, status codes
//! and error bodies follow Unleash 8.

mod events;
mod features;
mod guards;
mod metrics;
mod notifications;
mod projects;
mod segments;
mod strategies;
mod tags;
mod tokens;
mod views;
mod webhook_sources;

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
#[derive(serde::Deserialize)]
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
