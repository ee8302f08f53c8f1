//! The OpenFeature Remote Evaluation Protocol (OFREP, `open-feature/protocol` v0.3.0) for
//! OpenFeature providers: `POST /ofrep/v1/evaluate/flags/{key}` and the bulk
//! `POST /ofrep/v1/evaluate/flags`, evaluated like the frontend API, by the snapshot's
//! unleash-yggdrasil engine for the token's environment.
//!
//! Any frontend or backend token works, sent as `Authorization: [Bearer] <token>` or
//! `X-API-Key`. Errors are OFREP's: 401/403 without a body, 400/404 as
//! `{key, errorCode, errorDetails}`.

use std::collections::{BTreeMap, HashMap};

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::header::{ETAG, IF_NONE_MATCH};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use unleash_types::client_features::{Context, Payload};
use unleash_yggdrasil::ResolvedToggle;

use crate::domain::token::{ApiToken, TokenKind};
use crate::http::AppState;
use crate::http::extract::presented_secret;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ofrep/v1/evaluate/flags", post(bulk))
        .route("/ofrep/v1/evaluate/flags/{key}", post(single))
}

/// A frontend or backend token. OFREP wants bare 401/403 answers.
struct OfrepToken(ApiToken);

impl FromRequestParts<AppState> for OfrepToken {
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, StatusCode> {
        let secret = presented_secret(&parts.headers)
            .or_else(|| {
                parts
                    .headers
                    .get("x-api-key")
                    .and_then(|v| v.to_str().ok())
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
            })
            .ok_or(StatusCode::UNAUTHORIZED)?;
        let token = s
            .service
            .verify_token(secret)
            .ok_or(StatusCode::UNAUTHORIZED)?;
        match token.kind {
            TokenKind::Frontend | TokenKind::Backend => Ok(Self(token)),
            _ => Err(StatusCode::FORBIDDEN),
        }
    }
}

/// An OFREP error answer; `key` only for the single-flag endpoint.
struct Failure {
    status: StatusCode,
    key: Option<String>,
    code: &'static str,
    details: String,
}

fn failure(status: StatusCode, key: Option<&str>, code: &'static str, details: String) -> Failure {
    Failure {
        status,
        key: key.map(str::to_string),
        code,
        details,
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let mut body = json!({"errorCode": self.code, "errorDetails": self.details});
        if let Some(key) = self.key {
            body["key"] = json!(key);
        }
        (self.status, axum::Json(body)).into_response()
    }
}

/// The evaluation context from `{"context": {...}}`: `targetingKey` is the `userId` (an
/// explicit `userId` wins), the Unleash context fields stay fields, everything else becomes
/// a property. No body means an empty context.
fn parse_context(
    key: Option<&str>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Context, Failure> {
    let bytes = body.map_err(|e| {
        failure(
            e.status(),
            key,
            "GENERAL",
            format!("The request body could not be read: {e}"),
        )
    })?;
    let mut context = Context {
        properties: None,
        ..Context::default()
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(context);
    }
    let parse_error =
        |details: String| failure(StatusCode::BAD_REQUEST, key, "PARSE_ERROR", details);
    let body: Value = serde_json::from_slice(&bytes)
        .map_err(|e| parse_error(format!("The request body is not valid JSON: {e}")))?;
    let Value::Object(mut body) = body else {
        return Err(parse_error(
            "The request body must be a JSON object: {\"context\": {...}}.".into(),
        ));
    };
    let fields = match body.remove("context") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(fields)) => fields,
        Some(_) => {
            return Err(failure(
                StatusCode::BAD_REQUEST,
                key,
                "INVALID_CONTEXT",
                "\"context\" must be a JSON object.".into(),
            ));
        }
    };
    let mut targeting_key = None;
    let mut properties = HashMap::new();
    for (name, value) in fields {
        if name == "properties"
            && let Value::Object(inner) = &value
        {
            for (k, v) in inner {
                if let Some(v) = text(v) {
                    properties.insert(k.clone(), v);
                }
            }
            continue;
        }
        let Some(value) = text(&value) else { continue };
        match name.as_str() {
            "targetingKey" => targeting_key = Some(value),
            "userId" => context.user_id = Some(value),
            "sessionId" => context.session_id = Some(value),
            "remoteAddress" => context.remote_address = Some(value),
            "environment" => context.environment = Some(value),
            "appName" => context.app_name = Some(value),
            "currentTime" => context.current_time = Some(value),
            _ => {
                properties.insert(name, value);
            }
        }
    }
    if context.user_id.is_none() {
        context.user_id = targeting_key;
    }
    if !properties.is_empty() {
        context.properties = Some(properties);
    }
    Ok(context)
}

/// A context value as the string Unleash compares: scalars as written, objects and arrays
/// as JSON; `null` is no value.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(_) | Value::Bool(_) | Value::Array(_) | Value::Object(_) => {
            Some(v.to_string())
        }
    }
}

/// One flag's evaluation. `enabled_in_environment` false gives reason `DISABLED`.
fn evaluation(key: &str, enabled_in_environment: bool, t: &ResolvedToggle) -> Value {
    if !enabled_in_environment {
        return json!({"key": key, "value": false, "variant": "disabled", "reason": "DISABLED", "metadata": {}});
    }
    if t.enabled && t.variant.enabled {
        let value = t
            .variant
            .payload
            .as_ref()
            .map_or_else(|| json!(t.variant.name), payload_value);
        return json!({"key": key, "value": value, "variant": t.variant.name, "reason": "SPLIT", "metadata": {}});
    }
    let variant = if t.enabled { "enabled" } else { "disabled" };
    json!({"key": key, "value": t.enabled, "variant": variant, "reason": "TARGETING_MATCH", "metadata": {}})
}

/// `json` payloads as the JSON they hold, `number` as a number, the rest as strings; a value
/// that does not parse as its type stays a string.
fn payload_value(p: &Payload) -> Value {
    let raw = p.value.as_str();
    match p.payload_type.as_str() {
        "json" => serde_json::from_str(raw).unwrap_or_else(|_| json!(raw)),
        "number" => {
            let n = raw.trim();
            n.parse::<i64>()
                .map(Value::from)
                .ok()
                .or_else(|| {
                    n.parse::<f64>()
                        .ok()
                        .and_then(serde_json::Number::from_f64)
                        .map(Value::Number)
                })
                .unwrap_or_else(|| json!(raw))
        }
        _ => json!(raw),
    }
}

#[utoipa::path(post, path = "/ofrep/v1/evaluate/flags/{key}", tag = "OFREP", security(("unleash" = []), ("ofrepApiKey" = [])),
    summary = "Evaluate one flag",
    request_body(content = Option<Object>, description = "`{\"context\": {…}}`: `targetingKey` is the user id (an explicit `userId` wins); `sessionId`, `remoteAddress`, `environment`, `appName`, `currentTime` are Unleash fields; anything else is a property. No body is an empty context.",
        example = json!({"context": {"targetingKey": "u-123", "plan": "pro"}})),
    responses(
        (status = 200, description = "The evaluation. Reasons: `TARGETING_MATCH`, `SPLIT`, `DISABLED`.", body = Object,
            example = json!({"key": "new-checkout-flow", "value": true, "reason": "TARGETING_MATCH", "variant": "enabled", "metadata": {}})),
        (status = 400, description = "`PARSE_ERROR` or `INVALID_CONTEXT`.", body = Object,
            example = json!({"key": "new-checkout-flow", "errorCode": "PARSE_ERROR", "errorDetails": "The request body is not valid JSON: …"})),
        (status = 401, description = "No token, or an unknown one; no body."),
        (status = 403, description = "Not a frontend or backend token; no body."),
        (status = 404, description = "`FLAG_NOT_FOUND`.", body = Object,
            example = json!({"key": "nope", "errorCode": "FLAG_NOT_FOUND", "errorDetails": "There is no flag named \"nope\"."})),
    ))]
async fn single(
    OfrepToken(token): OfrepToken,
    State(s): State<AppState>,
    Path(key): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let context = match parse_context(Some(&key), body) {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let snapshot = s.service.snapshots().current();
    let enabled = snapshot
        .feature(&key)
        .filter(|f| token.covers_project(&f.project))
        .map(|f| f.environment(&token.environment).is_some_and(|e| e.enabled));
    let resolved = enabled.and_then(|enabled| {
        snapshot
            .engine(&token.environment)
            .resolve(&key, &context, &None)
            .map(|t| (enabled, t))
    });
    match resolved {
        Some((enabled, t)) => axum::Json(evaluation(&key, enabled, &t)).into_response(),
        None => failure(
            StatusCode::NOT_FOUND,
            Some(&key),
            "FLAG_NOT_FOUND",
            format!("There is no flag named \"{key}\"."),
        )
        .into_response(),
    }
}

/// Every flag the token may see, sorted by name. The ETag covers the token's scope, the
/// context and the snapshot revision, so a provider polling with `If-None-Match` gets 304
/// until a flag changes or its context does.
#[utoipa::path(post, path = "/ofrep/v1/evaluate/flags", tag = "OFREP", security(("unleash" = []), ("ofrepApiKey" = [])),
    summary = "Evaluate every flag the token may see",
    description = "With an ETag over the token's scope, the context and the revision: `If-None-Match` gets 304 until a flag or the context changes.",
    request_body(content = Option<Object>, description = "`{\"context\": {…}}`: `targetingKey` is the user id (an explicit `userId` wins); `sessionId`, `remoteAddress`, `environment`, `appName`, `currentTime` are Unleash fields; anything else is a property. No body is an empty context.",
        example = json!({"context": {"targetingKey": "u-123", "plan": "pro"}})),
    params(("If-None-Match" = Option<String>, Header, description = "The ETag of the last answer.")),
    responses(
        (status = 200, description = "`{flags: [evaluation…]}`, sorted by key.", body = Object,
            example = json!({"flags": [{"key": "new-checkout-flow", "value": true, "reason": "TARGETING_MATCH", "variant": "enabled", "metadata": {}}]})),
        (status = 304, description = "Unchanged since `If-None-Match`."),
        (status = 400, description = "`PARSE_ERROR` or `INVALID_CONTEXT`.", body = Object),
        (status = 401, description = "No token, or an unknown one; no body."),
        (status = 403, description = "Not a frontend or backend token; no body."),
    ))]
async fn bulk(
    OfrepToken(token): OfrepToken,
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let context = match parse_context(None, body) {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let snapshot = s.service.snapshots().current();
    let etag = bulk_etag(&token, &context, snapshot.revision);
    let matches = headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|v| v.trim() == etag);
    let etag_header = HeaderValue::from_str(&etag).ok();
    if matches {
        let mut resp = StatusCode::NOT_MODIFIED.into_response();
        if let Some(v) = etag_header {
            resp.headers_mut().insert(ETAG, v);
        }
        return resp;
    }
    let enabled: HashMap<&str, bool> = snapshot
        .features()
        .iter()
        .map(|f| {
            let on = f.environment(&token.environment).is_some_and(|e| e.enabled);
            (f.name.as_str(), on)
        })
        .collect();
    let mut resolved: Vec<(String, ResolvedToggle)> = snapshot
        .engine(&token.environment)
        .resolve_all(&context, &None)
        .unwrap_or_default()
        .into_iter()
        .filter(|(_, t)| token.covers_project(&t.project))
        .collect();
    resolved.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let flags: Vec<Value> = resolved
        .iter()
        .map(|(name, t)| {
            let on = enabled.get(name.as_str()).copied().unwrap_or(false);
            evaluation(name, on, t)
        })
        .collect();
    let mut resp = axum::Json(json!({ "flags": flags })).into_response();
    if let Some(v) = etag_header {
        resp.headers_mut().insert(ETAG, v);
    }
    resp
}

/// `"<16 hex digits>:<revision>"`, strong and the same on every replica.
fn bulk_etag(token: &ApiToken, context: &Context, revision: i64) -> String {
    let mut projects = token.projects.clone();
    projects.sort();
    let properties: BTreeMap<&String, &String> = context.properties.iter().flatten().collect();
    let canonical = json!({
        "environment": token.environment,
        "projects": projects,
        "userId": context.user_id,
        "sessionId": context.session_id,
        "remoteAddress": context.remote_address,
        "environmentField": context.environment,
        "appName": context.app_name,
        "currentTime": context.current_time,
        "properties": properties,
    });
    let digest = Sha256::digest(canonical.to_string().as_bytes());
    format!("\"{}:{revision}\"", hex::encode(&digest[..8]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(body: &str) -> Result<Context, StatusCode> {
        parse_context(Some("f"), Ok(Bytes::from(body.to_string()))).map_err(|e| e.status)
    }

    #[test]
    fn targeting_key_is_the_user_id_and_other_keys_are_properties() {
        let c = context(
            r#"{"context": {"targetingKey": "u1", "email": "a@b.c", "age": 30, "sessionId": "s"}}"#,
        )
        .unwrap();
        assert_eq!(c.user_id.as_deref(), Some("u1"));
        assert_eq!(c.session_id.as_deref(), Some("s"));
        let p = c.properties.unwrap();
        assert_eq!(p["email"], "a@b.c");
        assert_eq!(p["age"], "30");
        let c = context(r#"{"context": {"targetingKey": "t", "userId": "u"}}"#).unwrap();
        assert_eq!(c.user_id.as_deref(), Some("u"));
    }

    #[test]
    fn bad_bodies_are_parse_errors_and_bad_contexts_invalid() {
        assert_eq!(context("{nope").unwrap_err(), StatusCode::BAD_REQUEST);
        assert_eq!(context("[]").unwrap_err(), StatusCode::BAD_REQUEST);
        assert_eq!(
            context(r#"{"context": "x"}"#).unwrap_err(),
            StatusCode::BAD_REQUEST
        );
        assert!(context("").is_ok());
        assert!(context(r#"{"context": null}"#).is_ok());
    }

    #[test]
    fn payloads_are_typed() {
        let p = |t: &str, v: &str| Payload {
            payload_type: t.into(),
            value: v.into(),
        };
        assert_eq!(payload_value(&p("json", r#"{"a":1}"#)), json!({"a": 1}));
        assert_eq!(payload_value(&p("number", "42")), json!(42));
        assert_eq!(payload_value(&p("number", "1.5")), json!(1.5));
        assert_eq!(payload_value(&p("string", "42")), json!("42"));
        assert_eq!(payload_value(&p("csv", "a,b")), json!("a,b"));
        assert_eq!(payload_value(&p("json", "{bad")), json!("{bad"));
    }
}
