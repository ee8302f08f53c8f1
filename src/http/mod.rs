//! The wire: axum routers, extractors and the error mapping. Handlers parse the request,
//! call one `service` function and shape the answer; they never touch the database.

pub mod admin;
mod client_api;
mod client_metrics;
pub mod error;
pub mod extract;
mod frontend_api;
mod health;
mod heartbeats;
mod incidents;
mod monitors;
mod ofrep;
pub mod openapi;
mod prometheus;
mod status_page_html;
mod status_pages;
mod streaming;
mod ui;
mod webhooks;

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
    /// Cancelled when the server starts shutting down; ends streams that never end by themselves.
    pub shutdown: tokio_util::sync::CancellationToken,
    /// How often an idle `/api/client/streaming` connection gets a keep-alive comment.
    pub streaming_keepalive: Duration,
}

pub struct HttpConfig {
    /// Largest request body accepted, in bytes; bigger ones get 413.
    pub max_body_bytes: usize,
    /// How long one request may take before it is answered with 408.
    pub request_timeout: Duration,
    /// Origins allowed to call `/api/frontend*` from a browser; `*` for any.
    pub frontend_cors_origins: Vec<String>,
}

pub fn router(state: AppState, config: &HttpConfig) -> Router {
    let service = state.service.clone();
    Router::new()
        .merge(health::router())
        .merge(admin::router())
        .merge(client_api::router())
        .merge(frontend_api::router(&config.frontend_cors_origins))
        .merge(ofrep::router())
        .merge(streaming::router())
        .merge(client_metrics::router())
        .merge(monitors::router())
        .merge(incidents::router())
        .merge(heartbeats::router())
        .merge(status_pages::router())
        .merge(webhooks::router())
        .merge(ui::router())
        .merge(prometheus::router())
        .merge(openapi::router())
        .fallback(not_found)
        .with_state(state)
        .layer(axum::middleware::from_fn(refuse_unreadable_uri))
        .layer(axum::middleware::from_fn(explain_method_not_allowed))
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
        .layer(axum::middleware::from_fn_with_state(
            service,
            prometheus::record_request,
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

/// Refuses URLs no name can be read from, in Unleash's error shape: a `%00` (PostgreSQL text
/// cannot hold U+0000, so it would reach the database only as an error) or a path that is
/// not UTF-8 once percent-decoded (which axum would refuse in plain text).
async fn refuse_unreadable_uri(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let uri = req.uri();
    let problem = if uri.path().contains("%00") || uri.query().is_some_and(|q| q.contains("%00")) {
        Some("The URL cannot contain the NUL character (%00).")
    } else if percent_encoding::percent_decode_str(uri.path())
        .decode_utf8()
        .is_err()
    {
        Some("The URL path is not valid UTF-8 once percent-decoded.")
    } else {
        None
    };
    match problem {
        Some(message) => ApiError::bad_data(crate::domain::Invalid::new(message)).into_response(),
        None => next.run(req).await,
    }
}

/// A known path with a method it does not take: axum's bare 405, given Unleash's error
/// shape (a response rather than a method fallback, so CORS preflights still reach the
/// layers of the routes they are for).
async fn explain_method_not_allowed(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let response = next.run(req).await;
    let bare = response.status() == StatusCode::METHOD_NOT_ALLOWED
        && !response
            .headers()
            .contains_key(axum::http::header::CONTENT_TYPE);
    if !bare {
        return response;
    }
    let message = format!("{method} is not allowed on {path}");
    let body = serde_json::json!({
        "name": "MethodNotAllowedError",
        "message": message,
        "details": [{"message": message}],
    });
    let (parts, _) = response.into_parts();
    let mut explained = (StatusCode::METHOD_NOT_ALLOWED, axum::Json(body)).into_response();
    if let Some(allow) = parts.headers.get(axum::http::header::ALLOW) {
        explained
            .headers_mut()
            .insert(axum::http::header::ALLOW, allow.clone());
    }
    explained
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(format!("There is no route {}", uri.path()))
}
