//! The web UI: hand-written HTML, CSS and ES modules from `ui/`, embedded in the binary at
//! compile time and served at `/` and `/ui/*`. It is a single-page app that calls the same
//! admin and monitor APIs as curl does, with the admin token the person signs in with (kept
//! in the tab's `sessionStorage`), so every change it makes goes through the service layer
//! and leaves the same events. It has no API of its own.
//!
//! Every answer carries a strong ETag (a SHA-256 of the file, computed once) with
//! `Cache-Control: no-cache`, so browsers revalidate and get a 304, and a strict
//! Content-Security-Policy: scripts, styles and fetches from this origin only, no inline code.
//! `/ui/<path>` that names no file is the app itself (history routing), unless it looks like
//! a file (a dot in its last segment), which is a 404.

use std::sync::OnceLock;

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, HeaderMap, HeaderValue,
    IF_NONE_MATCH, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

use crate::http::AppState;
use crate::http::error::ApiError;

/// No inline script or style, nothing from another origin; SVG is built in the DOM.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

struct Asset {
    /// Path under `/ui/` (and under `ui/` in the repository).
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($path:literal, $content_type:expr) => {
        Asset {
            path: $path,
            content_type: $content_type,
            body: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/ui/", $path)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// Every file of `ui/` (a test checks that none is missing).
const ASSETS: &[Asset] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("favicon.svg", "image/svg+xml"),
    asset!("js/main.js", JS),
    asset!("js/api.js", JS),
    asset!("js/dom.js", JS),
    asset!("js/format.js", JS),
    asset!("js/charts.js", JS),
    asset!("js/views/signin.js", JS),
    asset!("js/views/flags.js", JS),
    asset!("js/views/flag.js", JS),
    asset!("js/views/monitors.js", JS),
    asset!("js/views/monitor.js", JS),
    asset!("js/views/incidents.js", JS),
    asset!("js/views/guards.js", JS),
    asset!("js/views/channels.js", JS),
    asset!("js/views/events.js", JS),
    asset!("js/views/tokens.js", JS),
];

const INDEX: usize = 0;

/// `"<first 16 bytes of the SHA-256, hex>"` per asset, in [`ASSETS`] order.
fn etags() -> &'static [HeaderValue] {
    static ETAGS: OnceLock<Vec<HeaderValue>> = OnceLock::new();
    ETAGS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| {
                let digest = Sha256::digest(a.body);
                HeaderValue::from_str(&format!("\"{}\"", hex::encode(&digest[..16])))
                    .unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
            })
            .collect()
    })
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/ui", get(index))
        .route("/ui/", get(index))
        .route("/ui/{*path}", get(file))
}

#[utoipa::path(get, path = "/", tag = "Web UI",
    summary = "The web UI",
    description = "A single-page app that signs in with an admin token and calls the admin and monitor APIs. `/ui` and `/ui/` answer the same page.",
    responses(
        (status = 200, description = "The app's HTML page, with a strong ETag.", content_type = "text/html"),
        (status = 304, description = "Unchanged since `If-None-Match`."),
    ))]
async fn index(headers: HeaderMap) -> Response {
    serve(INDEX, &headers)
}

#[utoipa::path(get, path = "/ui/{path}", tag = "Web UI",
    summary = "A file of the web UI, or one of its pages",
    description = "A path naming a file of the UI answers it; any other path without a dot in its last segment answers the app's page (history routing).",
    responses(
        (status = 200, description = "The file, or the app's page.", content_type = "text/html"),
        (status = 304, description = "Unchanged since `If-None-Match`."),
        (status = 404, description = "No such file.", body = crate::http::openapi::UnleashError),
    ))]
async fn file(Path(path): Path<String>, headers: HeaderMap) -> Response {
    if let Some(i) = ASSETS.iter().position(|a| a.path == path) {
        return serve(i, &headers);
    }
    let last = path.rsplit('/').next().unwrap_or("");
    if last.contains('.') {
        return ApiError::NotFound(format!("There is no file /ui/{path}")).into_response();
    }
    serve(INDEX, &headers)
}

fn serve(i: usize, headers: &HeaderMap) -> Response {
    let asset = &ASSETS[i];
    let etag = &etags()[i];
    let fresh = headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim() == "*" || t.trim().trim_start_matches("W/") == etag)
        });
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = asset.body.into_response();
        r.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
        r
    };
    let h = response.headers_mut();
    h.insert(ETAG, etag.clone());
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file under `ui/` is embedded, and every embedded path exists.
    #[test]
    fn the_asset_table_lists_every_file_of_the_ui_directory() {
        fn walk(dir: &std::path::Path, root: &std::path::Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, root, out);
                } else {
                    let rel = path.strip_prefix(root).unwrap().to_string_lossy();
                    out.push(rel.replace('\\', "/"));
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui");
        let mut on_disk = Vec::new();
        walk(&root, &root, &mut on_disk);
        on_disk.sort();
        let mut embedded: Vec<String> = ASSETS.iter().map(|a| a.path.to_string()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
    }

    #[test]
    fn etags_differ_between_files() {
        let tags = etags();
        assert_eq!(tags.len(), ASSETS.len());
        assert_ne!(tags[0], tags[1]);
    }
}
