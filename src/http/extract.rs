//! Request extractors: JSON bodies with Unleash's error answers, and the token checks that
//! guard each API.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use crate::domain::Invalid;
use crate::domain::event::Actor;
use crate::domain::token::{ApiToken, TokenKind};
use crate::http::AppState;
use crate::http::error::{Api, ApiError};

/// The request-body limit in force, for the 413 message.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// A JSON body. Wrong content type → 415, over the limit → 413, malformed or mistyped → 400
/// naming the field.
pub struct Json<T>(pub T);

/// Accepts `application/json` and `…+json`; anything else (or nothing) is a 415.
pub fn is_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let ct = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence == "application/json" || essence.ends_with("+json") {
        Ok(())
    } else {
        Err(ApiError::UnsupportedContentType(if ct.is_empty() {
            "none".into()
        } else {
            ct.into()
        }))
    }
}

impl<S, T> FromRequest<S> for Json<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        is_json(req.headers())?;
        let bytes = read_body(req, state).await?;
        parse_json(&bytes).map(Json)
    }
}

/// Reads the whole body: over the limit → 413 naming it, unreadable → 400.
pub async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    let limit = req.extensions().get::<BodyLimit>().map_or(0, |l| l.0);
    Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge(limit)
        } else {
            ApiError::bad_data(Invalid::new(format!(
                "The request body could not be read: {e}"
            )))
        }
    })
}

/// The address of the connection's peer (IPv4-mapped IPv6 shown as IPv4). Not taken from
/// `X-Forwarded-For`: it feeds the `remoteAddress` strategy, which a header must not fool.
pub struct PeerIp(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for PeerIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>();
        Ok(Self(peer.map(|c| c.0.ip().to_canonical())))
    }
}

/// Decodes JSON, naming the offending field when the shape is wrong.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_data(Invalid::new(
            "The request body is empty; a JSON document was expected.",
        )));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let parsed = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = if inner.is_syntax() || inner.is_eof() {
            format!("The request body is not valid JSON: {inner}")
        } else if path == "." || path.is_empty() {
            format!("The request body does not have the expected shape: {inner}")
        } else {
            format!("The request body does not have the expected shape at \"{path}\": {inner}")
        };
        match path.as_str() {
            "." | "" => ApiError::bad_data(Invalid::new(message)),
            _ => ApiError::bad_data(Invalid::at(path, message)),
        }
    })?;
    refuse_nul_characters(bytes)?;
    Ok(parsed)
}

/// PostgreSQL text cannot hold U+0000, so no stored string may contain it, on either backend.
fn refuse_nul_characters(bytes: &[u8]) -> Result<(), ApiError> {
    // A raw NUL byte is already invalid JSON; only the `\u0000` escape can smuggle one in.
    if !bytes.windows(6).any(|w| w == b"\\u0000") {
        return Ok(());
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_data(Invalid::new(format!(
            "The request body is not valid JSON: {e}"
        )))
    })?;
    match nul_path(&value, String::new()) {
        Some(path) => {
            let message = "Text cannot contain the NUL character (\\u0000).";
            Err(ApiError::bad_data(if path.is_empty() {
                Invalid::new(message)
            } else {
                Invalid::at(path, message)
            }))
        }
        None => Ok(()),
    }
}

/// Where the first string (or key) holding U+0000 is, as `a.b[2]`.
fn nul_path(value: &serde_json::Value, at: String) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::String(s) => s.contains('\0').then_some(at),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| nul_path(v, format!("{at}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let here = if at.is_empty() {
                k.clone()
            } else {
                format!("{at}.{k}")
            };
            if k.contains('\0') {
                Some(here)
            } else {
                nul_path(v, here)
            }
        }),
        _ => None,
    }
}

/// The secret from `Authorization`, with or without a `Bearer ` prefix.
pub fn presented_secret(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let secret = match value.split_once(char::is_whitespace) {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ if value.eq_ignore_ascii_case("bearer") => "",
        _ => value,
    };
    (!secret.is_empty()).then_some(secret)
}

fn authenticate(
    parts: &Parts,
    state: &AppState,
    api: Api,
    allowed: &[TokenKind],
) -> Result<ApiToken, ApiError> {
    let secret = presented_secret(&parts.headers).ok_or(ApiError::Unauthenticated(api))?;
    let token = state
        .service
        .verify_token(secret)
        .ok_or(ApiError::Unauthenticated(api))?;
    if allowed.contains(&token.kind) {
        Ok(token)
    } else {
        Err(ApiError::WrongTokenKind)
    }
}

/// A caller holding an admin token; `actor` is what its changes are recorded as.
pub struct Admin {
    pub actor: Actor,
    pub token: ApiToken,
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = authenticate(parts, state, Api::Admin, &[TokenKind::Admin])?;
        Ok(Self {
            actor: Actor::admin_token(&token.name),
            token,
        })
    }
}

/// A server-side SDK's token (`/api/client/*`).
pub struct ClientToken(pub ApiToken);

impl FromRequestParts<AppState> for ClientToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        authenticate(parts, state, Api::Client, &[TokenKind::Backend]).map(Self)
    }
}

/// A browser or mobile SDK's token (`/api/frontend*`).
pub struct FrontendToken(pub ApiToken);

impl FromRequestParts<AppState> for FrontendToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        authenticate(parts, state, Api::Frontend, &[TokenKind::Frontend]).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_raw_and_bearer_tokens() {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, "*:*.secret".parse().unwrap());
        assert_eq!(presented_secret(&h), Some("*:*.secret"));
        h.insert(AUTHORIZATION, "Bearer *:*.secret".parse().unwrap());
        assert_eq!(presented_secret(&h), Some("*:*.secret"));
        h.insert(AUTHORIZATION, "bearer   ".parse().unwrap());
        assert_eq!(presented_secret(&h), None);
    }

    #[test]
    fn json_errors_name_the_field() {
        #[derive(Debug, serde::Deserialize)]
        struct Body {
            #[allow(dead_code)]
            n: i64,
        }
        let Err(ApiError::BadData(d)) = parse_json::<Body>(br#"{"n": "x"}"#) else {
            panic!()
        };
        assert_eq!(d[0].path.as_deref(), Some("n"));
        assert!(matches!(
            parse_json::<Body>(b"{\"n\": "),
            Err(ApiError::BadData(_))
        ));
        assert!(matches!(parse_json::<Body>(b""), Err(ApiError::BadData(_))));
    }
}
