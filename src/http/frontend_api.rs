//! Unleash's frontend API for browser and mobile SDKs (`/api/frontend*`): flags evaluated on
//! the server for the caller's context, by the snapshot's unleash-yggdrasil engine for the
//! token's environment. Shapes follow Unleash 8; `/all` and `/features/{name}` follow
//! Unleash Edge.

use std::collections::HashMap;
use std::time::Duration;

use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Path, RawQuery, Request, State};
use axum::http::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, ETAG, HeaderName, IF_NONE_MATCH,
};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use serde_json::Value;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use unleash_types::client_features::{Context, Payload};
use unleash_yggdrasil::ResolvedToggle;

use crate::domain::Invalid;
use crate::domain::token::ApiToken;
use crate::http::AppState;
use crate::http::admin::query_pairs;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{FrontendToken, Json, PeerIp, is_json, parse_json, read_body};

pub fn router(cors_origins: &[String]) -> Router<AppState> {
    Router::new()
        .route(
            "/api/frontend",
            get(enabled_from_query).post(enabled_from_body),
        )
        .route("/api/frontend/all", get(all_from_query).post(all_from_body))
        .route(
            "/api/frontend/features/{name}",
            get(one_from_query).post(one_from_body),
        )
        // metrics are recorded by `client_metrics::frontend_metrics`
        .route(
            "/api/frontend/client/metrics",
            crate::http::client_metrics::frontend_metrics(),
        )
        .route("/api/frontend/client/register", post(register))
        .layer(cors(cors_origins))
}

/// Browsers call the frontend API across origins. `*` (the default) allows any origin
/// without credentials; a list allows those origins, with credentials, as Unleash's
/// `UNLEASH_FRONTEND_API_ORIGINS` does.
fn cors(origins: &[String]) -> CorsLayer {
    let layer = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([
            AUTHORIZATION,
            CONTENT_TYPE,
            IF_NONE_MATCH,
            HeaderName::from_static("unleash-appname"),
            HeaderName::from_static("unleash-instanceid"),
            HeaderName::from_static("unleash-connection-id"),
            HeaderName::from_static("unleash-sdk"),
            HeaderName::from_static("unleash-interval"),
            HeaderName::from_static("unleash-client-spec"),
        ])
        .expose_headers([ETAG])
        .max_age(Duration::from_secs(24 * 60 * 60));
    let origins: Vec<&str> = origins
        .iter()
        .map(|o| o.trim())
        .filter(|o| !o.is_empty())
        .collect();
    if origins.is_empty() || origins.contains(&"*") {
        return layer.allow_origin(Any);
    }
    let allowed: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| match HeaderValue::from_str(o.trim_end_matches('/')) {
            Ok(v) => Some(v),
            Err(_) => {
                tracing::warn!(origin = %o, "ignoring a frontend CORS origin that is not a valid header value");
                None
            }
        })
        .collect();
    layer
        .allow_origin(AllowOrigin::list(allowed))
        .allow_credentials(true)
}

/// `GET`: the context is the query string. `userId`, `sessionId`, `remoteAddress`,
/// `environment`, `appName` and `currentTime` are fields; `properties[name]=value` and any
/// other key are properties. Empty values are dropped.
fn context_from_query(raw: Option<&str>, caller: &PeerIp) -> Context {
    let mut context = empty_context();
    let mut properties = HashMap::new();
    for (key, value) in query_pairs(raw) {
        if value.is_empty() {
            continue;
        }
        match key.as_str() {
            "userId" => context.user_id = Some(value),
            "sessionId" => context.session_id = Some(value),
            "remoteAddress" => context.remote_address = Some(value),
            "environment" => context.environment = Some(value),
            "appName" => context.app_name = Some(value),
            "currentTime" => context.current_time = Some(value),
            _ => {
                let name = key
                    .strip_prefix("properties[")
                    .and_then(|k| k.strip_suffix(']'))
                    .unwrap_or(&key);
                if !name.is_empty() {
                    properties.insert(name.to_string(), value);
                }
            }
        }
    }
    if !properties.is_empty() {
        context.properties = Some(properties);
    }
    with_remote_address(context, caller)
}

fn empty_context() -> Context {
    Context {
        properties: None,
        ..Context::default()
    }
}

fn with_remote_address(mut context: Context, caller: &PeerIp) -> Context {
    if context.remote_address.as_deref().is_none_or(str::is_empty) {
        context.remote_address = caller.0.map(|ip| ip.to_string());
    }
    context
}

/// `POST`: the context is the body, `{"context": {...}}` (a bare context object is also
/// accepted). No body means an empty context; a body must be JSON (415 otherwise) and
/// well-formed (400).
struct BodyContext(Context);

impl<S: Send + Sync> FromRequest<S> for BodyContext {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let (mut parts, body) = req.into_parts();
        let caller = PeerIp::from_request_parts(&mut parts, state)
            .await
            .unwrap_or(PeerIp(None));
        let headers = parts.headers.clone();
        let bytes = read_body(Request::from_parts(parts, body), state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(with_remote_address(empty_context(), &caller)));
        }
        is_json(&headers)?;
        let context: Context = parse_json(&bytes)?;
        Ok(Self(with_remote_address(context, &caller)))
    }
}

#[derive(Serialize, utoipa::ToSchema)]
struct Toggles {
    toggles: Vec<Toggle>,
}

/// One evaluated flag, as Unleash sends it (`featureEnabled` is its deprecated duplicate of
/// `feature_enabled`).
#[derive(Serialize, utoipa::ToSchema)]
struct Toggle {
    name: String,
    enabled: bool,
    #[serde(rename = "impressionData")]
    impression_data: bool,
    variant: ToggleVariant,
}

#[derive(Serialize, utoipa::ToSchema)]
struct ToggleVariant {
    name: String,
    enabled: bool,
    feature_enabled: bool,
    #[serde(rename = "featureEnabled")]
    feature_enabled_camel: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::domain::strategy::Payload>)]
    payload: Option<Payload>,
}

impl Toggle {
    fn new(name: String, t: ResolvedToggle) -> Self {
        Self {
            name,
            enabled: t.enabled,
            impression_data: t.impression_data,
            variant: ToggleVariant {
                name: t.variant.name,
                enabled: t.variant.enabled,
                feature_enabled: t.variant.feature_enabled,
                feature_enabled_camel: t.variant.feature_enabled,
                payload: t.variant.payload,
            },
        }
    }
}

/// Every flag of the token's projects evaluated for `context`, sorted by name; only the
/// enabled ones unless `all`.
fn evaluate(s: &AppState, token: &ApiToken, context: &Context, all: bool) -> Vec<Toggle> {
    let snapshot = s.service.snapshots().current();
    let resolved = snapshot
        .engine(&token.environment)
        .resolve_all(context, &None)
        .unwrap_or_default();
    let mut toggles: Vec<Toggle> = resolved
        .into_iter()
        .filter(|(_, t)| (all || t.enabled) && token.covers_project(&t.project))
        .map(|(name, t)| Toggle::new(name, t))
        .collect();
    toggles.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    toggles
}

fn no_cache(body: impl Serialize) -> Response {
    let mut resp = axum::Json(body).into_response();
    resp.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

#[utoipa::path(get, path = "/api/frontend", tag = "Frontend API", security(("unleash" = [])),
    summary = "The flags that are on for a context",
    params(crate::http::openapi::ContextQuery),
    responses((status = 200, description = "The enabled flags of the token's projects, with their variant.", body = Toggles, example = json!({"toggles": [{"name": "new-checkout-flow", "enabled": true, "impressionData": true, "variant": {"name": "blue", "enabled": true, "feature_enabled": true, "featureEnabled": true, "payload": {"type": "string", "value": "b"}}}]}))))]
async fn enabled_from_query(
    FrontendToken(token): FrontendToken,
    State(s): State<AppState>,
    caller: PeerIp,
    RawQuery(q): RawQuery,
) -> Response {
    let context = context_from_query(q.as_deref(), &caller);
    no_cache(Toggles {
        toggles: evaluate(&s, &token, &context, false),
    })
}

#[utoipa::path(post, path = "/api/frontend", tag = "Frontend API", security(("unleash" = [])),
    summary = "The flags that are on for a context (context in the body)",
    request_body(content = Option<crate::http::openapi::UnleashContext>, description = "`{\"context\": {…}}`; no body is an empty context.",
        example = json!({"context": {"userId": "u-123", "properties": {"plan": "pro"}}})),
    responses((status = 200, description = "The enabled flags of the token's projects, with their variant.", body = Toggles, example = json!({"toggles": [{"name": "new-checkout-flow", "enabled": true, "impressionData": true, "variant": {"name": "blue", "enabled": true, "feature_enabled": true, "featureEnabled": true, "payload": {"type": "string", "value": "b"}}}]}))))]
async fn enabled_from_body(
    FrontendToken(token): FrontendToken,
    State(s): State<AppState>,
    BodyContext(context): BodyContext,
) -> Response {
    no_cache(Toggles {
        toggles: evaluate(&s, &token, &context, false),
    })
}

#[utoipa::path(get, path = "/api/frontend/all", tag = "Frontend API", security(("unleash" = [])),
    summary = "Every flag evaluated for a context, on or off",
    params(crate::http::openapi::ContextQuery),
    responses((status = 200, description = "Every flag of the token's projects.", body = Toggles)))]
async fn all_from_query(
    FrontendToken(token): FrontendToken,
    State(s): State<AppState>,
    caller: PeerIp,
    RawQuery(q): RawQuery,
) -> Response {
    let context = context_from_query(q.as_deref(), &caller);
    no_cache(Toggles {
        toggles: evaluate(&s, &token, &context, true),
    })
}

#[utoipa::path(post, path = "/api/frontend/all", tag = "Frontend API", security(("unleash" = [])),
    summary = "Every flag evaluated for a context, on or off (context in the body)",
    request_body(content = Option<crate::http::openapi::UnleashContext>, description = "`{\"context\": {…}}`; no body is an empty context.",
        example = json!({"context": {"userId": "u-123", "properties": {"plan": "pro"}}})),
    responses((status = 200, description = "Every flag of the token's projects.", body = Toggles)))]
async fn all_from_body(
    FrontendToken(token): FrontendToken,
    State(s): State<AppState>,
    BodyContext(context): BodyContext,
) -> Response {
    no_cache(Toggles {
        toggles: evaluate(&s, &token, &context, true),
    })
}

/// One flag, enabled or not; 404 if it does not exist or lies outside the token's projects.
fn evaluate_one(
    s: &AppState,
    token: &ApiToken,
    name: &str,
    context: &Context,
) -> ApiResult<Response> {
    s.service
        .snapshots()
        .current()
        .engine(&token.environment)
        .resolve(name, context, &None)
        .filter(|t| token.covers_project(&t.project))
        .map(|t| no_cache(Toggle::new(name.to_string(), t)))
        .ok_or_else(|| ApiError::NotFound(format!("Could not find feature flag {name}")))
}

#[utoipa::path(get, path = "/api/frontend/features/{name}", tag = "Frontend API", security(("unleash" = [])),
    summary = "One flag evaluated for a context",
    params(crate::http::openapi::ContextQuery),
    responses(
        (status = 200, description = "The flag, on or off.", body = Toggle, example = json!({"name": "new-checkout-flow", "enabled": true, "impressionData": true, "variant": {"name": "disabled", "enabled": false, "feature_enabled": true, "featureEnabled": true}})),
        (status = 404, description = "Unknown, or outside the token's projects."),
    ))]
async fn one_from_query(
    FrontendToken(token): FrontendToken,
    State(s): State<AppState>,
    caller: PeerIp,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    let context = context_from_query(q.as_deref(), &caller);
    evaluate_one(&s, &token, &name, &context)
}

#[utoipa::path(post, path = "/api/frontend/features/{name}", tag = "Frontend API", security(("unleash" = [])),
    summary = "One flag evaluated for a context (context in the body)",
    request_body(content = Option<crate::http::openapi::UnleashContext>, description = "`{\"context\": {…}}`; no body is an empty context.",
        example = json!({"context": {"userId": "u-123", "properties": {"plan": "pro"}}})),
    responses(
        (status = 200, description = "The flag, on or off.", body = Toggle, example = json!({"name": "new-checkout-flow", "enabled": true, "impressionData": true, "variant": {"name": "disabled", "enabled": false, "feature_enabled": true, "featureEnabled": true}})),
        (status = 404, description = "Unknown, or outside the token's projects."),
    ))]
async fn one_from_body(
    FrontendToken(token): FrontendToken,
    State(s): State<AppState>,
    Path(name): Path<String>,
    BodyContext(context): BodyContext,
) -> ApiResult<Response> {
    evaluate_one(&s, &token, &name, &context)
}

fn require_object(body: &Value) -> ApiResult<()> {
    if body.is_object() {
        Ok(())
    } else {
        Err(ApiError::bad_data(Invalid::new(
            "The request body must be a JSON object.",
        )))
    }
}

/// A no-op in Unleash too: checked and acknowledged with 200.
#[utoipa::path(post, path = "/api/frontend/client/register", tag = "Frontend API", security(("unleash" = [])),
    summary = "A browser SDK registers (accepted and ignored, as Unleash does)",
    request_body(content = Object, example = json!({"appName": "web", "instanceId": "browser-1", "sdkVersion": "unleash-client-js:3.7.0"})),
    responses((status = 200, description = "Acknowledged.")))]
async fn register(_: FrontendToken, Json(body): Json<Value>) -> ApiResult<StatusCode> {
    require_object(&body)?;
    Ok(StatusCode::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_keys_become_fields_or_properties() {
        let caller = PeerIp(Some(std::net::IpAddr::from([10, 0, 0, 7])));
        let c = context_from_query(
            Some(
                "userId=u1&appName=web&country=NO&properties%5Bage%5D=30&sessionId=&environment=prod",
            ),
            &caller,
        );
        assert_eq!(c.user_id.as_deref(), Some("u1"));
        assert_eq!(c.app_name.as_deref(), Some("web"));
        assert_eq!(c.environment.as_deref(), Some("prod"));
        assert_eq!(c.session_id, None, "empty values are dropped");
        assert_eq!(c.remote_address.as_deref(), Some("10.0.0.7"));
        let props = c.properties.unwrap();
        assert_eq!(props["country"], "NO");
        assert_eq!(props["age"], "30");
    }

    #[test]
    fn an_explicit_remote_address_wins_over_the_callers() {
        let caller = PeerIp(Some(std::net::IpAddr::from([10, 0, 0, 7])));
        let c = context_from_query(Some("remoteAddress=1.2.3.4"), &caller);
        assert_eq!(c.remote_address.as_deref(), Some("1.2.3.4"));
        let c = context_from_query(None, &PeerIp(None));
        assert_eq!(c.remote_address, None);
    }
}
