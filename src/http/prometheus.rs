//! Prometheus metrics: `GET /metrics` and Unleash's `GET /internal-backstage/prometheus`,
//! the same page in the text exposition format 0.0.4. What is measured and where it comes
//! from is `service::server_metrics`; this module checks the caller and writes the text.
//!
//! A scrape needs a token, as every endpoint but health, the public status page and
//! heartbeat pings does: an admin API token, or the dedicated `METRICS_TOKEN`
//! (`Authorization: Bearer <secret>`, compared in constant time).

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::domain::token::TokenKind;
use crate::http::AppState;
use crate::http::error::{Api, ApiError};
use crate::http::extract::presented_secret;
use crate::service::Service;
use crate::service::server_metrics::{Family, Kind, Value};

/// The text format's media type, as Prometheus asks for it.
pub const CONTENT_TYPE_0_0_4: &str = "text/plain; version=0.0.4; charset=utf-8";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/metrics", get(scrape))
        .route("/internal-backstage/prometheus", get(scrape))
}

#[utoipa::path(get, path = "/metrics", tag = "Metrics",
    security(("bearer" = []), ("unleash" = [])),
    summary = "Prometheus metrics",
    description = "Text exposition format 0.0.4: flags, rollouts, SDK usage, monitors, response times, incidents, kill-switch actions and HTTP latency by route. Scraped with `METRICS_TOKEN` as a bearer token, or an admin token. Unleash's path, `/internal-backstage/prometheus`, answers the same.",
    responses((status = 200, description = "The metrics.", body = String, content_type = "text/plain; version=0.0.4",
        example = "# TYPE feature_flag_enabled gauge\nfeature_flag_enabled{project=\"default\",flag_name=\"new-checkout-flow\",environment=\"production\"} 1\n")))]
async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    authorize(&state.service, &headers)?;
    let text = encode(&state.service.gather_metrics().await);
    let mut response = text.into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE_0_0_4));
    Ok(response)
}

/// `METRICS_TOKEN` or an admin token; no token or an unknown one is a 401, a client or
/// frontend token a 403.
fn authorize(service: &Service, headers: &HeaderMap) -> Result<(), ApiError> {
    let secret = presented_secret(headers).ok_or(ApiError::Unauthenticated(Api::Admin))?;
    if service.server_metrics().is_scrape_token(secret) {
        return Ok(());
    }
    match service.verify_token(secret) {
        Some(token) if token.kind == TokenKind::Admin => Ok(()),
        Some(_) => Err(ApiError::WrongTokenKind),
        None => Err(ApiError::Unauthenticated(Api::Admin)),
    }
}

/// Times every request into `http_request_duration_seconds`, labelled with the route
/// template the router matched (`unmatched` for none), never the raw path: paths can carry
/// token secrets (heartbeat pings, webhook receivers).
pub async fn record_request(
    State(service): State<Arc<Service>>,
    req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string());
    let response = next.run(req).await;
    service.server_metrics().observe_request(
        method.as_str(),
        route.as_deref().unwrap_or("unmatched"),
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// The families in the text exposition format 0.0.4: `# HELP` and `# TYPE` before each
/// family's samples, histograms as cumulative `_bucket{le=…}` series with `_sum` and
/// `_count`.
pub fn encode(families: &[Family]) -> String {
    let mut out = String::new();
    for family in families {
        let _ = writeln!(out, "# HELP {} {}", family.name, escape_help(family.help));
        let _ = writeln!(out, "# TYPE {} {}", family.name, family.kind.as_str());
        for sample in &family.samples {
            match (&sample.value, family.kind) {
                (Value::Number(v), Kind::Counter | Kind::Gauge) => {
                    line(&mut out, family.name, "", &sample.labels, None, *v);
                }
                (Value::Histogram(h), Kind::Histogram) => {
                    for (bound, n) in h.cumulative() {
                        line(
                            &mut out,
                            family.name,
                            "_bucket",
                            &sample.labels,
                            Some(&number(bound)),
                            n as f64,
                        );
                    }
                    let count = h.count() as f64;
                    line(
                        &mut out,
                        family.name,
                        "_bucket",
                        &sample.labels,
                        Some("+Inf"),
                        count,
                    );
                    line(&mut out, family.name, "_sum", &sample.labels, None, h.sum());
                    line(&mut out, family.name, "_count", &sample.labels, None, count);
                }
                // A value that does not fit its family's type is a bug; leave it out rather
                // than write a page Prometheus refuses.
                _ => tracing::error!(
                    metric = family.name,
                    "a sample does not match its metric type"
                ),
            }
        }
    }
    out
}

fn line(
    out: &mut String,
    name: &str,
    suffix: &str,
    labels: &[(&'static str, String)],
    le: Option<&str>,
    value: f64,
) {
    out.push_str(name);
    out.push_str(suffix);
    if !labels.is_empty() || le.is_some() {
        out.push('{');
        let all = labels
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .chain(le.map(|le| ("le", le)));
        for (i, (key, value)) in all.enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(key);
            out.push_str("=\"");
            out.push_str(&escape_label_value(value));
            out.push('"');
        }
        out.push('}');
    }
    out.push(' ');
    out.push_str(&number(value));
    out.push('\n');
}

/// A label value inside double quotes: backslash, double quote and line feed escaped.
pub fn escape_label_value(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            '\n' => escaped.push_str("\\n"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// A help text: backslash and line feed escaped (quotes stay as they are).
fn escape_help(help: &str) -> String {
    help.replace('\\', "\\\\").replace('\n', "\\n")
}

/// A sample value as Go's `ParseFloat` reads it: `+Inf`, `-Inf`, `NaN`, or the shortest
/// decimal that round-trips.
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::server_metrics::{Histogram, Sample};

    #[test]
    fn escapes_label_values_and_help() {
        assert_eq!(
            escape_label_value("a\"b\\c\nd"),
            "a\\\"b\\\\c\\nd".to_string()
        );
        assert_eq!(escape_help("x \\ \"y\"\nz"), "x \\\\ \"y\"\\nz");
    }

    #[test]
    fn writes_numbers_as_prometheus_reads_them() {
        assert_eq!(number(1.0), "1");
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(f64::NEG_INFINITY), "-Inf");
        assert_eq!(number(f64::NAN), "NaN");
    }

    #[test]
    fn writes_histograms_with_cumulative_buckets() {
        let mut h = Histogram::new(&[0.1, 1.0]);
        h.observe(0.05);
        h.observe(2.0);
        let families = vec![Family {
            name: "t_seconds",
            help: "Test.",
            kind: Kind::Histogram,
            samples: vec![Sample {
                labels: vec![("m", "a\"b".into())],
                value: Value::Histogram(h),
            }],
        }];
        assert_eq!(
            encode(&families),
            "# HELP t_seconds Test.\n# TYPE t_seconds histogram\n\
             t_seconds_bucket{m=\"a\\\"b\",le=\"0.1\"} 1\n\
             t_seconds_bucket{m=\"a\\\"b\",le=\"1\"} 1\n\
             t_seconds_bucket{m=\"a\\\"b\",le=\"+Inf\"} 2\n\
             t_seconds_sum{m=\"a\\\"b\"} 2.05\n\
             t_seconds_count{m=\"a\\\"b\"} 2\n"
        );
    }
}
