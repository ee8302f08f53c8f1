//! `dns`: ask one nameserver, and only it, for one record type.
//!
//! The resolver is built per check from the monitor's nameserver alone: no `/etc/resolv.conf`,
//! no hosts file, no cache (`cache_size = 0`), one attempt, so every check really asks the
//! server. Building it is cheap (no I/O until the query).

use std::net::IpAddr;
use std::time::{Duration, Instant};

use hickory_resolver::Resolver;
use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts};
use hickory_resolver::net::NetError;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::{RData, RecordType};

use super::resolve;
use crate::domain::probe::{Cause, DnsRecordType, NameServer, ProbeResult};

pub(super) struct Query<'a> {
    pub nameserver: &'a NameServer,
    pub domain: &'a str,
    pub record_type: DnsRecordType,
    pub expected: Option<&'a str>,
    pub timeout: Duration,
}

pub(super) async fn check(query: &Query<'_>, started: Instant) -> ProbeResult {
    let down = |cause, detail: String| ProbeResult::down(cause, started.elapsed(), detail);
    let server = query.nameserver;
    // A nameserver given by name is looked up with the system resolver, once per check.
    let ip: IpAddr = match resolve(&server.host, server.port).await {
        Ok(addrs) => addrs[0].ip(),
        Err(cause) => return down(cause, format!("could not resolve nameserver {server}")),
    };
    let mut ns = NameServerConfig::udp_and_tcp(ip);
    for connection in &mut ns.connections {
        connection.port = server.port;
    }
    let mut opts = ResolverOpts::default();
    opts.cache_size = 0;
    opts.attempts = 1;
    opts.timeout = query.timeout;
    opts.use_hosts_file = ResolveHosts::Never;
    let resolver = match Resolver::builder_with_config(
        ResolverConfig::from_name_servers(vec![ns]),
        TokioRuntimeProvider::default(),
    )
    .with_options(opts)
    .build()
    {
        Ok(resolver) => resolver,
        Err(e) => {
            return down(
                Cause::DnsError(e.to_string()),
                "could not build resolver".into(),
            );
        }
    };
    // Fully qualified, so no search domain is appended.
    let name = if query.domain.ends_with('.') {
        query.domain.to_owned()
    } else {
        format!("{}.", query.domain)
    };
    let rtype = record_type(query.record_type);
    let lookup = match resolver.lookup(name.as_str(), rtype).await {
        Ok(lookup) => lookup,
        Err(e) => return down(net_cause(&e), format!("{rtype} {name} at {server}: {e}")),
    };
    let answers: Vec<String> = lookup
        .answers()
        .iter()
        .filter(|record| record.record_type() == rtype)
        .map(|record| render(&record.data))
        .collect();
    let shown = answers.join(", ");
    if answers.is_empty() {
        return down(
            Cause::DnsError(format!("no {rtype} records for {name}")),
            format!("{server} answered without {rtype} records"),
        );
    }
    match query.expected {
        Some(want) if !answers.iter().any(|got| same_answer(got, want)) => down(
            Cause::UnexpectedAnswer(shown.clone()),
            format!("expected {want:?}, {server} answered {shown}"),
        ),
        _ => ProbeResult::up(started.elapsed(), format!("{rtype} {name}: {shown}")),
    }
}

fn record_type(t: DnsRecordType) -> RecordType {
    match t {
        DnsRecordType::A => RecordType::A,
        DnsRecordType::Aaaa => RecordType::AAAA,
        DnsRecordType::Cname => RecordType::CNAME,
        DnsRecordType::Mx => RecordType::MX,
        DnsRecordType::Txt => RecordType::TXT,
        DnsRecordType::Ns => RecordType::NS,
    }
}

/// An answer as a user would write it in `expected`.
fn render(data: &RData) -> String {
    match data {
        RData::A(a) => a.0.to_string(),
        RData::AAAA(aaaa) => aaaa.0.to_string(),
        RData::CNAME(name) => name.0.to_string(),
        RData::NS(name) => name.0.to_string(),
        RData::MX(mx) => mx.exchange.to_string(),
        RData::TXT(txt) => txt
            .txt_data
            .iter()
            .map(|part| String::from_utf8_lossy(part))
            .collect(),
        other => other.to_string(),
    }
}

/// Names compare case-insensitively and with or without the root dot; IPs and text exactly
/// after trimming.
fn same_answer(got: &str, want: &str) -> bool {
    let norm = |s: &str| s.trim().trim_end_matches('.').to_ascii_lowercase();
    norm(got) == norm(want)
}

fn net_cause(e: &NetError) -> Cause {
    match e {
        NetError::Timeout => Cause::Timeout,
        e if e.is_nx_domain() => Cause::DnsError("NXDOMAIN".into()),
        e if e.is_no_records_found() => Cause::DnsError("no records".into()),
        NetError::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            Cause::ConnectionRefused
        }
        e => Cause::DnsError(e.to_string()),
    }
}
