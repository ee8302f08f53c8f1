//! What SDKs send about themselves: `POST /api/client/register` and `/api/client/metrics`
//! (server-side SDKs, 202), and `/api/frontend/client/metrics` (browser SDKs, 200 as Unleash
//! answers; routed by `frontend_api`). The handlers only add to memory; nothing here waits on
//! the database. The environment is always the token's.

use std::convert::Infallible;
use std::net::IpAddr;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{MethodRouter, post};

use crate::domain::metrics::{ClientInput, MetricsInput, RegistrationInput};
use crate::http::AppState;
use crate::http::error::ApiResult;
use crate::http::extract::{BodyLimit, ClientToken, FrontendToken, Json, PeerIp};
use crate::service::metrics::Reporter;

/// SDKs that report every flag they know send large bodies (Unleash/unleash-rust-sdk#75), so
/// metrics may be bigger than the server-wide limit.
pub const METRICS_BODY_LIMIT: usize = 5 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/client/register", post(register))
        .route("/api/client/metrics", large_bodies(post(metrics)))
}

/// `POST /api/frontend/client/metrics`, mounted by `frontend_api` (inside its CORS layer).
pub fn frontend_metrics() -> MethodRouter<AppState> {
    large_bodies(post(record_frontend_metrics))
}

fn large_bodies(route: MethodRouter<AppState>) -> MethodRouter<AppState> {
    route
        .layer::<_, Infallible>(DefaultBodyLimit::max(METRICS_BODY_LIMIT))
        .layer(axum::Extension(BodyLimit(METRICS_BODY_LIMIT)))
}

/// The caller's address: the first `X-Forwarded-For` hop when a proxy set one, else the peer.
/// Informational only (shown per instance), so a forged header harms nothing.
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let forwarded = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok());
        let PeerIp(peer) = PeerIp::from_request_parts(parts, state).await?;
        Ok(Self(forwarded.or(peer)))
    }
}

/// The Node SDK sends its version only in the `unleash-sdk` header, not in the metrics body.
fn with_sdk_header(mut client: ClientInput, headers: &HeaderMap) -> ClientInput {
    if client.sdk_version.is_none() {
        client.sdk_version = headers
            .get("unleash-sdk")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
    }
    client
}

#[utoipa::path(post, path = "/api/client/register", tag = "Client API", security(("unleash" = [])),
    summary = "An SDK instance registers",
    request_body(content = RegistrationInput, example = json!({"appName": "checkout", "instanceId": "checkout-1", "sdkVersion": "unleash-client-node:6.1.0", "strategies": ["default", "flexibleRollout"], "started": "2026-01-01T00:00:00.000Z", "interval": 15000})),
    responses((status = 202, description = "Recorded in memory; written to the database every `METRICS_FLUSH_SECS`.")))]
async fn register(
    ClientToken(token): ClientToken,
    State(s): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Json(mut input): Json<RegistrationInput>,
) -> ApiResult<StatusCode> {
    input.client = with_sdk_header(input.client, &headers);
    s.service
        .register_client(&token, input, &Reporter { client_ip: ip })?;
    Ok(StatusCode::ACCEPTED)
}

#[utoipa::path(post, path = "/api/client/metrics", tag = "Client API", security(("unleash" = [])),
    summary = "An SDK reports flag usage",
    description = "Bodies up to 5 MiB. Metrics are observations: no event, no revision change.",
    request_body(content = MetricsInput, example = json!({"appName": "checkout", "instanceId": "checkout-1", "bucket": {"start": "2026-01-01T00:00:00.000Z", "stop": "2026-01-01T00:01:00.000Z", "toggles": {"new-checkout-flow": {"yes": 12, "no": 3, "variants": {"blue": 12}}}}})),
    responses((status = 202, description = "Recorded in memory; written to the database every `METRICS_FLUSH_SECS`.")))]
async fn metrics(
    ClientToken(token): ClientToken,
    State(s): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Json(mut input): Json<MetricsInput>,
) -> ApiResult<StatusCode> {
    input.client = with_sdk_header(input.client, &headers);
    s.service
        .record_client_metrics(&token, input, &Reporter { client_ip: ip })?;
    Ok(StatusCode::ACCEPTED)
}

/// Browser SDKs' counts are recorded like server SDKs'; Unleash answers 200 here.
#[utoipa::path(post, path = "/api/frontend/client/metrics", tag = "Frontend API", security(("unleash" = [])),
    summary = "A browser SDK reports flag usage",
    request_body = MetricsInput,
    responses((status = 200, description = "Recorded (200, as Unleash answers here).")))]
async fn record_frontend_metrics(
    FrontendToken(token): FrontendToken,
    State(s): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Json(mut input): Json<MetricsInput>,
) -> ApiResult<StatusCode> {
    input.client = with_sdk_header(input.client, &headers);
    s.service
        .record_client_metrics(&token, input, &Reporter { client_ip: ip })?;
    Ok(StatusCode::OK)
}
