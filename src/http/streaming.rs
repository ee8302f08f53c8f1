//! Unleash's delta client APIs for server-side SDKs, answered from the snapshot's
//! [`DeltaLog`](crate::snapshot::DeltaLog) only:
//!
//! - `GET /api/client/delta`: `If-None-Match: "<eventId>"` → 304 when nothing in the token's
//!   scope changed since, the events since otherwise, a hydration event without it (or when
//!   it is older than the kept history). `ETag: "<eventId>"`.
//! - `GET /api/client/streaming`: server-sent events. First `unleash-connected` (a hydration,
//!   or with `Last-Event-ID` the events missed since), then `unleash-updated` whenever a new
//!   snapshot changes something in scope, a `keep-alive` comment when idle. Each message's
//!   `id` is the revision it brings the client to. Streams end when the server shuts down or
//!   the token stops being valid.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::header::{CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tower_http::compression::CompressionLayer;

use crate::domain::token::TokenKind;
use crate::http::AppState;
use crate::http::client_api::client_query;
use crate::http::error::ApiResult;
use crate::http::extract::{ClientToken, presented_secret};
use crate::service::Service;
use crate::snapshot::{ClientQuery, Delta, SegmentMode, Snapshot};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/client/delta",
            get(delta).layer(CompressionLayer::new()),
        )
        .route("/api/client/streaming", get(streaming))
}

/// The client's scope, as for `/api/client/features`; deltas always carry segments by id.
fn delta_query(
    token: &crate::domain::token::ApiToken,
    headers: &HeaderMap,
    raw_query: Option<&str>,
) -> ApiResult<ClientQuery> {
    let mut query = client_query(token, headers, raw_query)?;
    query.segments = SegmentMode::Global;
    Ok(query)
}

/// `"12"`, `12` or `W/"12"` → 12. Anything else is no revision (→ hydration).
fn event_id(value: &HeaderValue) -> Option<i64> {
    let first = value.to_str().ok()?.split(',').next()?.trim();
    let tag = first.strip_prefix("W/").unwrap_or(first);
    tag.trim_matches('"').parse().ok()
}

#[utoipa::path(get, path = "/api/client/delta", tag = "Client API", security(("unleash" = [])),
    summary = "What changed since the SDK's revision (polling)",
    description = "ETag `\"<revision>\"`. Hydration (every flag) when the SDK has none or is too far behind.",
    params(
        crate::http::openapi::ClientFilters,
        ("If-None-Match" = Option<String>, Header, description = "The revision the SDK has, as the ETag it got."),
    ),
    responses(
        (status = 200, description = "`feature-updated`, `feature-removed`, `segment-updated`, `segment-removed` events, or a `hydration` event.", body = Object,
            example = json!({"events": [{"eventId": 13, "type": "feature-updated", "feature": {"name": "new-checkout-flow", "enabled": false}}]})),
        (status = 304, description = "Nothing changed."),
    ))]
async fn delta(
    ClientToken(token): ClientToken,
    State(s): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    let query = delta_query(&token, &headers, q.as_deref())?;
    let since = headers.get(IF_NONE_MATCH).and_then(event_id);
    match s.service.snapshots().delta().since(&query, since) {
        Delta::UpToDate { .. } => Ok(StatusCode::NOT_MODIFIED.into_response()),
        Delta::Events { revision, body, .. } => {
            let mut resp = (StatusCode::OK, body).into_response();
            let headers = resp.headers_mut();
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            );
            if let Ok(etag) = HeaderValue::from_str(&format!("\"{revision}\"")) {
                headers.insert(ETAG, etag);
            }
            Ok(resp)
        }
    }
}

/// One open stream's state between messages.
struct Stream {
    first: Option<Event>,
    changes: watch::Receiver<Arc<Snapshot>>,
    /// The revision the client has been brought to.
    cursor: i64,
    query: ClientQuery,
    service: Arc<Service>,
    secret: String,
    shutdown: CancellationToken,
}

fn message(name: &str, revision: i64, body: &[u8]) -> Event {
    Event::default()
        .event(name)
        .id(revision.to_string())
        .data(String::from_utf8_lossy(body))
}

impl Stream {
    /// The token may have been deleted or expired since the stream opened.
    fn still_authorised(&self) -> bool {
        self.service
            .verify_token(&self.secret)
            .is_some_and(|t| t.kind == TokenKind::Backend)
    }

    /// The next message: the first one, then one per snapshot that changes something in
    /// scope. `None` ends the stream.
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Self)> {
        if let Some(first) = self.first.take() {
            return Some((Ok(first), self));
        }
        loop {
            tokio::select! {
                biased;
                () = self.shutdown.cancelled() => return None,
                changed = self.changes.changed() => {
                    if changed.is_err() || !self.still_authorised() {
                        return None;
                    }
                    let delta = self.service.snapshots().delta().since(&self.query, Some(self.cursor));
                    match delta {
                        Delta::UpToDate { revision } => self.cursor = revision,
                        Delta::Events { revision, body, .. } => {
                            self.cursor = revision;
                            let event = message("unleash-updated", revision, &body);
                            return Some((Ok(event), self));
                        }
                    }
                }
            }
        }
    }
}

#[utoipa::path(get, path = "/api/client/streaming", tag = "Client API", security(("unleash" = [])),
    summary = "Server-sent events: every change the moment it commits",
    description = "`unleash-connected` first (hydration, or what was missed since `Last-Event-ID`), then `unleash-updated` with deltas; a `keep-alive` comment every `STREAMING_KEEPALIVE_SECS`.",
    params(
        crate::http::openapi::ClientFilters,
        ("Last-Event-ID" = Option<String>, Header, description = "The revision the SDK has."),
    ),
    responses((status = 200, description = "An event stream that ends when the token is deleted or the server stops.", content_type = "text/event-stream")))]
async fn streaming(
    ClientToken(token): ClientToken,
    State(s): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    let query = delta_query(&token, &headers, q.as_deref())?;
    let since = headers.get("last-event-id").and_then(event_id);
    let snapshots = s.service.snapshots();
    // Subscribe before reading the log, so no snapshot published in between is missed.
    let changes = snapshots.subscribe();
    let (cursor, first) = match snapshots.delta().since(&query, since) {
        Delta::UpToDate { revision } => (
            revision,
            message("unleash-connected", revision, br#"{"events":[]}"#),
        ),
        Delta::Events { revision, body, .. } => {
            (revision, message("unleash-connected", revision, &body))
        }
    };
    let state = Stream {
        first: Some(first),
        changes,
        cursor,
        query,
        service: s.service.clone(),
        secret: presented_secret(&headers).unwrap_or_default().to_string(),
        shutdown: s.shutdown.clone(),
    };
    let events = futures_util::stream::unfold(state, Stream::next);
    let mut resp = Sse::new(events)
        .keep_alive(
            KeepAlive::new()
                .interval(s.streaming_keepalive)
                .text("keep-alive"),
        )
        .into_response();
    // Ask reverse proxies (nginx) not to buffer the stream.
    resp.headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_event_ids_quoted_or_not() {
        let id = |s: &str| event_id(&HeaderValue::from_str(s).unwrap());
        assert_eq!(id("\"12\""), Some(12));
        assert_eq!(id("12"), Some(12));
        assert_eq!(id("W/\"12\""), Some(12));
        assert_eq!(id("\"12\", \"13\""), Some(12));
        assert_eq!(id("\"76d8bb0e:10:v1\""), None);
        assert_eq!(id(""), None);
    }
}
