//! The Better Stack incident webhook receiver: `POST /api/webhooks/betterstack/{secret}` for a
//! source created through the admin API (plus its Basic auth, when it has one), and
//! `POST /webhook/betteruptime`, the tutorial middleware's URL, for sources that allow it.
//!
//! A delivery that fails authentication gets 401 before its body is read; a body that is not
//! a Better Stack webhook gets 400; neither records anything. The request span records the
//! route template, never the secret.

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use serde_json::{Value, json};

use crate::domain::webhook::{Delivery, WebhookSource};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::extract::read_body;
use crate::service::webhooks::{
    LegacyCredentials, LegacyMatch, Receipt, ReceiptStatus, basic_auth_ok,
};

/// The tutorial middleware's path, kept for teams moving from it.
pub const LEGACY_PATH: &str = "/webhook/betteruptime";

/// The receiver path carrying a source's secret.
pub fn receiver_path(secret: &str) -> String {
    format!("/api/webhooks/betterstack/{secret}")
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/webhooks/betterstack/{secret}", post(receive))
        .route(LEGACY_PATH, post(receive_legacy))
}

/// A refused delivery. `basic` adds the `WWW-Authenticate` challenge a Basic-auth client
/// expects.
fn unauthorized(message: &str, basic: bool) -> Response {
    let body = json!({
        "name": "AuthenticationRequired",
        "message": message,
        "details": [{"message": message}],
    });
    let mut response = (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
    if basic {
        response.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"flagwatch webhooks\""),
        );
    }
    response
}

/// `Authorization: Basic <base64 of user:password>`, decoded.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, encoded) = value.split_once(char::is_whitespace)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// `X-Webhook-Secret: <secret>`, else `Authorization: Bearer <secret>`.
fn header_secret(headers: &HeaderMap) -> Option<&str> {
    if let Some(secret) = headers
        .get("x-webhook-secret")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        return Some(secret);
    }
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    match value.split_once(char::is_whitespace) {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => {
            Some(rest.trim()).filter(|s| !s.is_empty())
        }
        _ => None,
    }
}

#[utoipa::path(post, path = "/api/webhooks/betterstack/{secret}", tag = "Webhooks",
    security((), ("webhookBasic" = [])),
    summary = "Receive a Better Stack incident webhook",
    description = "The secret in the path authenticates the delivery (plus HTTP Basic auth for a source created with `basic_auth`). Idempotent: a redelivery acts once.",
    request_body(content = Object, description = "Better Stack's incident webhook (or the tutorial middleware's shape: `data.attributes.pronounceable_name` with a `status` of `down`/`up`).",
        example = json!({"event": "started", "data": {"id": "1", "type": "incident", "attributes": {"name": "checkout-api", "url": "https://checkout.example.com", "cause": "Status 503", "started_at": "2026-01-01T00:00:00Z"}, "relationships": {"monitor": {"data": {"id": "4", "type": "monitor"}}}}})),
    responses(
        (status = 200, description = "`status` is `processed` (guards fired or recovered; `guards` lists them and the flags they switched), `recorded` (nothing to change), `no_flags_mapped` (no guard names the monitor) or `duplicate` (already accepted).", body = Object,
            example = json!({"status": "processed", "event": "started", "guards": [{"id": 1, "name": "checkout", "trip_id": 9, "flags": [{"project": "default", "feature": "new-checkout-flow", "environment": "production"}]}]})),
        (status = 400, description = "Not a Better Stack webhook (the message names what is wrong); nothing is recorded.", body = crate::http::openapi::UnleashError),
        (status = 413, description = "Larger than `MAX_BODY_BYTES`.", body = crate::http::openapi::UnleashError),
        (status = 401, description = "Unknown secret, or the source's Basic auth missing or wrong; nothing is recorded.", body = crate::http::openapi::UnleashError),
    ))]
async fn receive(
    State(s): State<AppState>,
    Path(secret): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let Some(source) = s.service.webhook_source_for_secret(&secret).await? else {
        return Ok(unauthorized(
            "Unknown webhook URL: the secret in it belongs to no webhook source.",
            false,
        ));
    };
    let basic = basic_credentials(req.headers());
    let presented = basic.as_ref().map(|(u, p)| (u.as_str(), p.as_str()));
    if !basic_auth_ok(&source, presented) {
        return Ok(unauthorized(
            "This webhook source requires Basic auth (Better Stack's auth_username and auth_password); it was missing or wrong.",
            true,
        ));
    }
    deliver(&s, &source, req).await
}

#[utoipa::path(post, path = "/webhook/betteruptime", tag = "Webhooks",
    security(("webhookSecret" = []), ("webhookBasic" = [])),
    summary = "Receive a Better Stack webhook at the tutorial middleware's URL",
    description = "For sources created with `legacy_path: true`. The path has no secret, so the delivery presents one: `X-Webhook-Secret`, `Authorization: Bearer`, the Basic-auth password, or the source's own Basic auth.",
    request_body(content = Object, description = "Better Stack's incident webhook (or the tutorial middleware's shape: `data.attributes.pronounceable_name` with a `status` of `down`/`up`).",
        example = json!({"event": "started", "data": {"id": "1", "type": "incident", "attributes": {"name": "checkout-api", "url": "https://checkout.example.com", "cause": "Status 503", "started_at": "2026-01-01T00:00:00Z"}, "relationships": {"monitor": {"data": {"id": "4", "type": "monitor"}}}}})),
    responses(
        (status = 200, description = "`status` is `processed` (guards fired or recovered; `guards` lists them and the flags they switched), `recorded` (nothing to change), `no_flags_mapped` (no guard names the monitor) or `duplicate` (already accepted).", body = Object,
            example = json!({"status": "processed", "event": "started", "guards": [{"id": 1, "name": "checkout", "trip_id": 9, "flags": [{"project": "default", "feature": "new-checkout-flow", "environment": "production"}]}]})),
        (status = 400, description = "Not a Better Stack webhook (the message names what is wrong); nothing is recorded.", body = crate::http::openapi::UnleashError),
        (status = 413, description = "Larger than `MAX_BODY_BYTES`.", body = crate::http::openapi::UnleashError),
        (status = 401, description = "No source's secret or Basic auth was presented; nothing is recorded.", body = crate::http::openapi::UnleashError),
        (status = 404, description = "No source accepts deliveries here.", body = crate::http::openapi::UnleashError),
    ))]
async fn receive_legacy(State(s): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let basic = basic_credentials(req.headers());
    let creds = LegacyCredentials {
        secret: header_secret(req.headers()),
        basic: basic.as_ref().map(|(u, p)| (u.as_str(), p.as_str())),
    };
    let source = match s.service.legacy_webhook_source(&creds).await? {
        LegacyMatch::NoSource => {
            return Err(ApiError::NotFound(format!(
                "No webhook source accepts deliveries at {LEGACY_PATH}; create one with \"legacy_path\": true."
            )));
        }
        LegacyMatch::Refused => {
            return Ok(unauthorized(
                "Send the webhook source's secret as X-Webhook-Secret, as Authorization: Bearer, or as the Basic-auth password (or the source's Basic auth).",
                true,
            ));
        }
        LegacyMatch::Source(source) => source,
    };
    deliver(&s, &source, req).await
}

/// Reads and parses the body (400 if it is not a Better Stack webhook), then acts on it.
async fn deliver(s: &AppState, source: &WebhookSource, req: Request) -> Result<Response, ApiError> {
    let body = read_body(req, s).await?;
    let delivery = Delivery::parse(&body)?;
    match s.service.receive_betterstack(source, &delivery).await? {
        Some(receipt) => Ok(axum::Json(receipt_view(&receipt)).into_response()),
        None => Ok(unauthorized(
            "The webhook source was deleted while the delivery was received.",
            false,
        )),
    }
}

fn receipt_view(r: &Receipt) -> Value {
    let mut view = json!({"status": r.status.as_str(), "event": r.event});
    if r.status == ReceiptStatus::Processed {
        view["guards"] = r
            .guards
            .iter()
            .map(|g| {
                json!({
                    "id": g.guard_id,
                    "name": g.guard_name,
                    "trip_id": g.trip_id,
                    "flags": g.changed,
                })
            })
            .collect();
    }
    view
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_basic_auth_and_header_secrets() {
        let mut h = HeaderMap::new();
        // "user:pa:ss" — the first colon ends the username.
        h.insert(AUTHORIZATION, "Basic dXNlcjpwYTpzcw==".parse().unwrap());
        assert_eq!(basic_credentials(&h), Some(("user".into(), "pa:ss".into())));
        assert_eq!(header_secret(&h), None);
        h.insert(AUTHORIZATION, "Basic !!!".parse().unwrap());
        assert_eq!(basic_credentials(&h), None);
        h.insert(AUTHORIZATION, "Bearer abc".parse().unwrap());
        assert_eq!(header_secret(&h), Some("abc"));
        assert_eq!(basic_credentials(&h), None);
        h.insert("x-webhook-secret", " xyz ".parse().unwrap());
        assert_eq!(header_secret(&h), Some("xyz"));
    }
}
