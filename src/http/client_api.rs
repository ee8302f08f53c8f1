//! Unleash's client API for server-side SDKs, answered from the in-memory snapshot only.

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::{
    ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::compression::CompressionLayer;

use crate::domain::Invalid;
use crate::domain::feature::Tag;
use crate::domain::token::ApiToken;
use crate::http::AppState;
use crate::http::admin::{query_pairs, query_values};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::ClientToken;
use crate::snapshot::{ClientQuery, SegmentMode};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/client/features", get(features))
        .route("/api/client/features/{name}", get(feature))
        .layer(CompressionLayer::new())
}

/// SDKs that declare spec 4.2.0 or later get segments by id; older ones get them inlined.
fn segment_mode(headers: &HeaderMap) -> ApiResult<SegmentMode> {
    let Some(raw) = headers.get("unleash-client-spec") else {
        return Ok(SegmentMode::Inline);
    };
    let version = raw
        .to_str()
        .ok()
        .and_then(|v| semver::Version::parse(v.trim()).ok())
        .ok_or_else(|| {
            ApiError::bad_data(Invalid::at(
                "Unleash-Client-Spec",
                "Invalid SemVer in the Unleash-Client-Spec header",
            ))
        })?;
    Ok(if version >= semver::Version::new(4, 2, 0) {
        SegmentMode::Global
    } else {
        SegmentMode::Inline
    })
}

/// The token decides the environment; it also decides the projects, unless it covers all of
/// them, in which case `?project=` may narrow them.
pub(super) fn client_query(
    token: &ApiToken,
    headers: &HeaderMap,
    raw_query: Option<&str>,
) -> ApiResult<ClientQuery> {
    let pairs = query_pairs(raw_query);
    let asked = query_values(&pairs, "project");
    let projects = if !token.all_projects() {
        Some(token.projects.clone())
    } else if asked.is_empty() {
        None
    } else {
        Some(asked)
    };
    let tags = query_values(&pairs, "tag")
        .iter()
        .map(|t| Tag::parse_filter(t))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ClientQuery {
        environment: token.environment.clone(),
        projects,
        name_prefix: query_values(&pairs, "namePrefix")
            .into_iter()
            .next()
            .filter(|p| !p.is_empty()),
        tags,
        segments: segment_mode(headers)?,
    }
    .normalised())
}

fn json(status: StatusCode, body: bytes::Bytes) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    resp
}

/// `GET /api/client/features`: 304 with an empty body when `If-None-Match` equals the ETag.
#[utoipa::path(get, path = "/api/client/features", tag = "Client API", security(("unleash" = [])),
    summary = "Every flag of the token's environment and projects",
    description = "Answered from memory. Strong ETag `\"<queryHash>:<revision>:v1\"`, the same on every replica; gzip when asked.",
    params(
        crate::http::openapi::ClientFilters,
        ("If-None-Match" = Option<String>, Header, description = "The ETag of the copy the SDK has."),
        ("Unleash-Client-Spec" = Option<String>, Header, description = "The SDK's client specification version; 4.2.0 or later gets segments by id, older ones inlined."),
    ),
    responses(
        (status = 200, description = "The flags, disabled ones included, in Unleash's shape.", body = Object, example = json!({"version": 2, "features": [{"name": "new-checkout-flow", "type": "release", "description": "The new checkout", "project": "default", "enabled": true, "stale": false, "impressionData": true, "strategies": [{"name": "flexibleRollout", "constraints": [], "parameters": {"rollout": "10", "stickiness": "userId", "groupId": "new-checkout-flow"}, "variants": []}], "variants": [], "dependencies": []}], "query": {"environment": "development", "inlineSegmentConstraints": false}, "segments": [], "meta": {"revisionId": 12, "etag": "\"76d8bb0e:12:v1\"", "queryHash": "76d8bb0e"}})),
        (status = 304, description = "Unchanged since `If-None-Match`; empty body."),
        (status = 400, description = "A `tag` filter or `Unleash-Client-Spec` that cannot be read."),
    ))]
async fn features(
    ClientToken(token): ClientToken,
    State(s): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    let query = client_query(&token, &headers, q.as_deref())?;
    let snapshot = s.service.snapshots().current();
    let body = snapshot.client_features(&query);
    if headers
        .get(IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == body.etag.as_bytes())
    {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    let gzip = accepts_gzip(&headers);
    let mut resp = json(
        StatusCode::OK,
        if gzip { body.gzip() } else { body.json.clone() },
    );
    let h = resp.headers_mut();
    if gzip {
        h.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    h.insert(VARY, HeaderValue::from_static("accept-encoding"));
    if let Ok(etag) = HeaderValue::from_str(&body.etag) {
        h.insert(ETAG, etag);
    }
    Ok(resp)
}

/// Whether `Accept-Encoding` lists gzip (and does not refuse it with `q=0`).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused =
                parts.any(|p| p.replace(' ', "") == "q=0" || p.replace(' ', "") == "q=0.0");
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

#[utoipa::path(get, path = "/api/client/features/{name}", tag = "Client API", security(("unleash" = [])),
    summary = "One flag of the token's environment",
    params(("Unleash-Client-Spec" = Option<String>, Header, description = "The SDK's client specification version; 4.2.0 or later gets segments by id, older ones inlined.")),
    responses(
        (status = 200, description = "The flag, in Unleash's shape.", body = Object),
        (status = 404, description = "Unknown, or outside the token's projects."),
    ))]
async fn feature(
    ClientToken(token): ClientToken,
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    let query = client_query(&token, &headers, None)?;
    let body = s
        .service
        .snapshots()
        .current()
        .client_feature(&query, &name)
        .ok_or_else(|| ApiError::NotFound(format!("Could not find feature flag {name}")))?;
    Ok(json(StatusCode::OK, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(accept: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(ACCEPT_ENCODING, HeaderValue::from_str(accept).unwrap());
        h
    }

    #[test]
    fn gzip_is_used_only_when_accepted() {
        assert!(accepts_gzip(&with("gzip")));
        assert!(accepts_gzip(&with("deflate, gzip;q=0.8, br")));
        assert!(accepts_gzip(&with("*")));
        assert!(!accepts_gzip(&with("gzip;q=0")));
        assert!(!accepts_gzip(&with("br, deflate")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }
}
