//! Uptime checks against real targets: one `ProbeTarget` in, one `ProbeResult` out.
//!
//! Every check runs under `tokio::time::timeout(target.timeout())` as a whole (connect, TLS,
//! request, reading the body), and a panic inside a dependency is caught and reported, so a
//! target that hangs, answers garbage or closes mid-response is a failed check with a cause,
//! never a stuck or crashed task. There is no scheduling and no storage here.
//!
//! Hold one [`Prober`] for the life of the process (the scheduler's job): it keeps the HTTP
//! clients and ICMP sockets that checks share. It is not a `static` on purpose: reqwest's pooled
//! connections and surge-ping's receive task belong to the tokio runtime that created them, and
//! tests run one runtime each.

mod dns;
mod http;
mod icmp;
mod tcp;
mod tls;
mod udp;

use std::io;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::time::Instant;

use futures_util::FutureExt;

use crate::domain::probe::{Cause, ProbeResult, ProbeTarget};

/// Runs checks; owns what checks share (connection pools, ICMP sockets), built lazily.
#[derive(Default)]
pub struct Prober {
    http: http::Clients,
    icmp: icmp::Clients,
}

impl Prober {
    pub fn new() -> Self {
        Self::default()
    }

    /// Check `target` once. Bounded by its timeout; never panics.
    #[tracing::instrument(skip_all, fields(probe.kind = target.kind()))]
    pub async fn check(&self, target: &ProbeTarget) -> ProbeResult {
        let started = Instant::now();
        let limit = target.timeout();
        let run = async {
            match target {
                ProbeTarget::Http(http) => http::check(&self.http, http, started).await,
                ProbeTarget::Tcp { host, port, .. } => tcp::check(host, *port, started).await,
                ProbeTarget::Udp {
                    host,
                    port,
                    payload,
                    expect_keyword,
                    ..
                } => udp::check(host, *port, payload, expect_keyword.as_deref(), started).await,
                ProbeTarget::Dns {
                    nameserver,
                    domain,
                    record_type,
                    expected,
                    timeout,
                } => {
                    let query = dns::Query {
                        nameserver,
                        domain,
                        record_type: *record_type,
                        expected: expected.as_deref(),
                        timeout: *timeout,
                    };
                    dns::check(&query, started).await
                }
                ProbeTarget::Icmp { host, timeout } => {
                    icmp::check(&self.icmp, host, *timeout, started).await
                }
            }
        };
        let result = match tokio::time::timeout(limit, AssertUnwindSafe(run).catch_unwind()).await {
            Ok(Ok(result)) => result,
            Ok(Err(_panic)) => ProbeResult::down(
                Cause::ProtocolError("the check panicked".into()),
                started.elapsed(),
                "internal error while checking (panic caught)",
            ),
            Err(_elapsed) => {
                // Datagram checks have no connection to time out: silence is "no reply".
                let cause = match target {
                    ProbeTarget::Udp { .. } | ProbeTarget::Icmp { .. } => Cause::NoReply,
                    _ => Cause::Timeout,
                };
                ProbeResult::down(
                    cause,
                    started.elapsed(),
                    format!("no complete answer within {} ms", limit.as_millis()),
                )
            }
        };
        tracing::debug!(up = result.up, cause = ?result.cause.as_ref().map(Cause::code), "probe checked");
        result
    }
}

/// Check `target` once with a throw-away [`Prober`]: nothing is reused between calls. Fine for
/// one-off checks ("test this monitor now"); the scheduler should hold a `Prober`.
pub async fn check(target: &ProbeTarget) -> ProbeResult {
    Prober::new().check(target).await
}

/// Resolve `host:port` with the system resolver; an IP literal skips the lookup.
async fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, Cause> {
    if let Ok(ip) = host.trim_matches(['[', ']']).parse::<std::net::IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    match tokio::net::lookup_host((host, port)).await {
        Ok(addrs) => {
            let addrs: Vec<_> = addrs.collect();
            if addrs.is_empty() {
                Err(Cause::DnsError(format!("{host} has no addresses")))
            } else {
                Ok(addrs)
            }
        }
        Err(e) => Err(Cause::DnsError(format!("{host}: {e}"))),
    }
}

/// The cause an I/O error stands for.
fn io_cause(e: &io::Error) -> Cause {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => Cause::ConnectionRefused,
        io::ErrorKind::TimedOut => Cause::Timeout,
        _ => Cause::ProtocolError(e.to_string()),
    }
}

/// `e` and its sources, outermost first, as one line.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let msg = s.to_string();
        if !out.contains(&msg) {
            out.push_str(": ");
            out.push_str(&msg);
        }
        source = s.source();
    }
    out
}
