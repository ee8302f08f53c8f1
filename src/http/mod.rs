//! The wire: axum routers, extractors and the error mapping. Handlers parse the request,
//! call one `service` function and shape the answer; they never touch the database.

pub mod admin;
mod client_api;
pub mod error;
pub mod extract;
mod health;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::http::error::ApiError;
use crate::http::extract::BodyLimit;
use crate::service::Service;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub service: Arc<Service>,
}

pub struct HttpConfig {
    /// Largest request body accepted, in bytes; bigger ones get 413.
    pub max_body_bytes: usize,
    /// How long one request may take before it is answered with 408.
    pub request_timeout: Duration,
}

pub fn router(state: AppState, config: &HttpConfig) -> Router {
    Router::new()
        .merge(health::router())
        .merge(admin::router())
        .merge(client_api::router())
        .fallback(not_found)
        .with_state(state)
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(axum::Extension(BodyLimit(config.max_body_bytes)))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            config.request_timeout,
        ))
        .layer(CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| -> Response {
                ApiError::Internal(anyhow::anyhow!("a request handler panicked")).into_response()
            },
        ))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                // The route template, not the raw path: paths can carry token secrets.
                let route = req
                    .extensions()
                    .get::<axum::extract::MatchedPath>()
                    .map_or("unmatched", |p| p.as_str())
                    .to_string();
                tracing::info_span!("request", http.method = %req.method(), http.route = %route)
            }),
        )
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(format!("There is no route {}", uri.path()))
}
