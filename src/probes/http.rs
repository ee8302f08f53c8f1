//! `status`, `expected_status_code`, `keyword`, `keyword_absence`: one HTTP(S) request with
//! reqwest, the body read (up to `MAX_BODY`), then the expectation judged.
//!
//! Connection reuse: one `reqwest::Client` per (`follow_redirects`, `verify_ssl`) pair, because
//! those are client-wide settings in reqwest; each is built on first use and then shared by every
//! monitor with the same pair, so checks against the same host reuse pooled keep-alive
//! connections. reqwest's own timeout is not set: the whole check is already bounded by the
//! caller's `tokio::time::timeout`.
//!
//! `remember_cookies`: the cookie jar is client-wide too, and sharing one across monitors would
//! leak cookies between them, so such a check gets its own client and an empty jar that lives
//! for that check (cookies set by a redirect are sent to its target). Those checks do not reuse
//! connections. A jar per monitor, kept across checks, would need the scheduler to own it.

use std::error::Error as StdError;
use std::io;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use reqwest::cookie::Jar;
use reqwest::redirect::Policy;
use tokio_rustls::rustls;

use super::{error_chain, tls};
use crate::domain::probe::{Cause, HttpMethod, HttpTarget, ProbeResult};

/// Bodies are read up to this much for keyword checks; the rest is not downloaded.
const MAX_BODY: usize = 4 * 1024 * 1024;
/// Redirects followed when `follow_redirects` is on (browsers stop around 20).
const MAX_REDIRECTS: usize = 10;
const SECONDS_PER_DAY: i64 = 86_400;

type Shared = OnceLock<Result<reqwest::Client, String>>;

/// The shared clients, indexed by `follow_redirects * 2 + verify_ssl`.
#[derive(Default)]
pub(super) struct Clients {
    shared: [Shared; 4],
}

impl Clients {
    fn get(&self, target: &HttpTarget) -> Result<reqwest::Client, String> {
        let (follow, verify) = (target.follow_redirects, target.verify_ssl);
        if target.remember_cookies {
            return build(follow, verify, Some(Arc::new(Jar::default())))
                .map_err(|e| error_chain(&e));
        }
        let slot = &self.shared[usize::from(follow) * 2 + usize::from(verify)];
        slot.get_or_init(|| build(follow, verify, None).map_err(|e| error_chain(&e)))
            .clone()
    }
}

fn build(follow: bool, verify: bool, jar: Option<Arc<Jar>>) -> reqwest::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("flagwatch-probe/", env!("CARGO_PKG_VERSION")))
        .redirect(if follow {
            Policy::limited(MAX_REDIRECTS)
        } else {
            Policy::none()
        })
        .danger_accept_invalid_certs(!verify);
    if let Some(jar) = jar {
        builder = builder.cookie_provider(jar);
    }
    builder.build()
}

pub(super) async fn check(clients: &Clients, target: &HttpTarget, started: Instant) -> ProbeResult {
    // The expiry handshake runs alongside the request, inside the same overall timeout.
    let expiry = async {
        let days = target.ssl_expiration_days?;
        if target.url.scheme() != "https" {
            return None;
        }
        let host = target.url.host_str()?.trim_matches(['[', ']']);
        let port = target.url.port_or_known_default().unwrap_or(443);
        Some((days, tls::seconds_left(host, port).await))
    };
    let (result, expiry) = tokio::join!(request(clients, target, started), expiry);
    let Some((days, expiry)) = expiry else {
        return result;
    };
    match expiry {
        Ok(seconds) => {
            let days_left = seconds.div_euclid(SECONDS_PER_DAY);
            let result = result.with_tls_days_left(Some(days_left));
            if result.up && seconds < i64::from(days) * SECONDS_PER_DAY {
                let detail = format!("{}; certificate expires in {days_left} days", result.detail);
                ProbeResult {
                    up: false,
                    cause: Some(Cause::TlsExpiringSoon(days_left)),
                    detail,
                    ..result
                }
            } else {
                result
            }
        }
        // The site answered, so its TLS works; not knowing the date is not an outage.
        Err(cause) => ProbeResult {
            detail: format!("{}; certificate expiry unknown ({cause})", result.detail),
            ..result
        },
    }
}

async fn request(clients: &Clients, target: &HttpTarget, started: Instant) -> ProbeResult {
    let down = |cause, detail: String| ProbeResult::down(cause, started.elapsed(), detail);
    let client = match clients.get(target) {
        Ok(client) => client,
        Err(e) => {
            return down(
                Cause::ProtocolError(e),
                "could not build the HTTP client".into(),
            );
        }
    };
    let mut request = client.request(method(target.method), target.url.clone());
    for (name, value) in &target.headers {
        request = request.header(name, value);
    }
    if let Some(body) = &target.body {
        request = request.body(body.clone());
    }
    if let Some(auth) = &target.basic_auth {
        request = request.basic_auth(&auth.username, Some(&auth.password));
    }
    let response = match request.send().await {
        Ok(response) => response,
        Err(e) => return down(request_cause(&e), error_chain(&e)),
    };
    let status = response.status().as_u16();
    let body = match read_body(response).await {
        Ok(body) => body,
        Err(e) => {
            let detail = format!("HTTP {status}, body cut off: {}", error_chain(&e));
            return down(request_cause(&e), detail).with_status_code(status);
        }
    };
    let elapsed = started.elapsed();
    let detail = format!("HTTP {status}, {} body bytes", body.len());
    let result = match target
        .expect
        .evaluate(status, &String::from_utf8_lossy(&body))
    {
        Ok(()) => ProbeResult::up(elapsed, detail),
        Err(cause) => ProbeResult::down(cause, elapsed, detail),
    };
    result.with_status_code(status)
}

fn method(method: HttpMethod) -> reqwest::Method {
    match method {
        HttpMethod::Get => reqwest::Method::GET,
        HttpMethod::Head => reqwest::Method::HEAD,
        HttpMethod::Post => reqwest::Method::POST,
        HttpMethod::Put => reqwest::Method::PUT,
        HttpMethod::Patch => reqwest::Method::PATCH,
        HttpMethod::Delete => reqwest::Method::DELETE,
        HttpMethod::Options => reqwest::Method::OPTIONS,
    }
}

/// The body, up to `MAX_BODY`. Reading it is part of the check: a server that closes before
/// the announced length is a failure, and the connection goes back to the pool only when read.
async fn read_body(mut response: reqwest::Response) -> reqwest::Result<Vec<u8>> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = MAX_BODY - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= MAX_BODY {
            break;
        }
    }
    Ok(body)
}

/// Map a reqwest error to a cause by looking through its sources: refused connections and
/// rustls errors are recognised by type, DNS failures by hyper-util's "dns error" message.
fn request_cause(e: &reqwest::Error) -> Cause {
    let mut source: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(cause) = typed_cause(err) {
            return cause;
        }
        source = err.source();
    }
    let chain = error_chain(e);
    if e.is_timeout() {
        Cause::Timeout
    } else if chain.contains("dns error") {
        Cause::DnsError(chain)
    } else {
        Cause::ProtocolError(chain)
    }
}

/// hyper-rustls wraps rustls errors in an `io::Error` inside another `io::Error`, and
/// `io::Error::source()` skips the wrapped error itself, so unwrap them by hand.
fn typed_cause(err: &(dyn StdError + 'static)) -> Option<Cause> {
    if let Some(tls) = err.downcast_ref::<rustls::Error>() {
        return Some(Cause::TlsError(tls.to_string()));
    }
    let io = err.downcast_ref::<io::Error>()?;
    if io.kind() == io::ErrorKind::ConnectionRefused {
        return Some(Cause::ConnectionRefused);
    }
    let inner: &(dyn StdError + 'static) = io.get_ref()?;
    typed_cause(inner)
}
