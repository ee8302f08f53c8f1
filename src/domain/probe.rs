//! What an uptime probe checks and what a check found. Pure: the checks themselves live in
//! `crate::probes`; building a `ProbeTarget` from a stored monitor (units, defaults) is the
//! monitor module's job.
//!
//! Timeouts are already `Duration`s here: Better Stack counts `request_timeout` in seconds for
//! HTTP monitors and in milliseconds for port monitors, and that conversion happens once, when a
//! monitor is turned into a target.

use std::fmt;
use std::time::Duration;

use url::Url;

use crate::domain::Timestamp;

/// One thing to check, with everything the check needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeTarget {
    /// `status`, `expected_status_code`, `keyword`, `keyword_absence`.
    Http(HttpTarget),
    /// `tcp`: the port accepts a connection.
    Tcp {
        host: String,
        port: u16,
        timeout: Duration,
    },
    /// `udp`: `payload` is sent, a reply must come back (containing `expect_keyword` if set).
    Udp {
        host: String,
        port: u16,
        payload: Vec<u8>,
        expect_keyword: Option<String>,
        timeout: Duration,
    },
    /// `dns`: `nameserver` answers a query for `domain`.
    Dns {
        nameserver: NameServer,
        domain: String,
        record_type: DnsRecordType,
        /// One of the answers must equal this (case-insensitive, trailing dot ignored).
        expected: Option<String>,
        timeout: Duration,
    },
    /// `ping`: ICMP echo.
    Icmp { host: String, timeout: Duration },
}

impl ProbeTarget {
    /// The whole check, including reading the body, must finish within this.
    pub fn timeout(&self) -> Duration {
        match self {
            Self::Http(http) => http.timeout,
            Self::Tcp { timeout, .. }
            | Self::Udp { timeout, .. }
            | Self::Dns { timeout, .. }
            | Self::Icmp { timeout, .. } => *timeout,
        }
    }

    /// Stable kind name, for metrics (`probe_checks_total{kind}`) and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Http(_) => "http",
            Self::Tcp { .. } => "tcp",
            Self::Udp { .. } => "udp",
            Self::Dns { .. } => "dns",
            Self::Icmp { .. } => "icmp",
        }
    }
}

/// An HTTP(S) check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpTarget {
    pub url: Url,
    pub method: HttpMethod,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    pub basic_auth: Option<BasicAuth>,
    pub follow_redirects: bool,
    /// Better Stack: "keep cookies across redirects". Each check starts with an empty jar that
    /// lives for that check only (its redirects); nothing is carried from one check to the next.
    pub remember_cookies: bool,
    pub verify_ssl: bool,
    pub timeout: Duration,
    pub expect: HttpExpectation,
    /// Warn (fail with `TlsExpiringSoon`) when the certificate expires within this many days.
    pub ssl_expiration_days: Option<u32>,
}

/// Methods Better Stack accepts for `http_method`, plus `DELETE` and `OPTIONS`, which the
/// monitor API accepts too (`domain::monitor::HTTP_METHODS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    Get,
    Head,
    Post,
    Put,
    Patch,
    Delete,
    Options,
}

impl HttpMethod {
    /// Case-insensitive: the API returns `"get"`, Terraform sends `"GET"`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_uppercase().as_str() {
            "GET" => Some(Self::Get),
            "HEAD" => Some(Self::Head),
            "POST" => Some(Self::Post),
            "PUT" => Some(Self::Put),
            "PATCH" => Some(Self::Patch),
            "DELETE" => Some(Self::Delete),
            "OPTIONS" => Some(Self::Options),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Head => "HEAD",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
            Self::Options => "OPTIONS",
        }
    }
}

/// HTTP Basic credentials. `Debug` hides the password: targets end up in logs.
#[derive(Clone, PartialEq, Eq)]
pub struct BasicAuth {
    pub username: String,
    pub password: String,
}

impl fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicAuth")
            .field("username", &self.username)
            .field("password", &"***")
            .finish()
    }
}

/// What makes an HTTP answer "up".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpExpectation {
    /// `status`: any 2xx.
    StatusOk,
    /// `expected_status_code`: one of these.
    StatusIn(Vec<u16>),
    /// `keyword`: a 2xx whose body contains this.
    Keyword(String),
    /// `keyword_absence`: a 2xx whose body does not contain this.
    KeywordAbsent(String),
}

impl HttpExpectation {
    /// Whether the body has to be read at all.
    pub fn needs_body(&self) -> bool {
        matches!(self, Self::Keyword(_) | Self::KeywordAbsent(_))
    }

    /// Judge a status code and (for keyword checks) the body.
    pub fn evaluate(&self, status: u16, body: &str) -> Result<(), Cause> {
        let two_xx = (200..300).contains(&status);
        match self {
            Self::StatusOk if two_xx => Ok(()),
            Self::StatusIn(codes) if codes.contains(&status) => Ok(()),
            Self::StatusOk | Self::StatusIn(_) => Err(Cause::StatusCode(status)),
            Self::Keyword(_) | Self::KeywordAbsent(_) if !two_xx => Err(Cause::StatusCode(status)),
            Self::Keyword(word) if body.contains(word.as_str()) => Ok(()),
            Self::Keyword(_) => Err(Cause::KeywordMissing),
            Self::KeywordAbsent(word) if body.contains(word.as_str()) => Err(Cause::KeywordPresent),
            Self::KeywordAbsent(_) => Ok(()),
        }
    }
}

/// A DNS server to ask: `host[:port]`, port 53 by default. IPv6 literals with a port need
/// brackets (`[::1]:5353`); a bare `::1` is taken as a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameServer {
    pub host: String,
    pub port: u16,
}

impl NameServer {
    pub const DEFAULT_PORT: u16 = 53;

    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        if s.is_empty() {
            return None;
        }
        if let Some(rest) = s.strip_prefix('[') {
            let (host, after) = rest.split_once(']')?;
            let port = match after {
                "" => Self::DEFAULT_PORT,
                p => p.strip_prefix(':')?.parse().ok()?,
            };
            return (!host.is_empty()).then(|| Self {
                host: host.to_owned(),
                port,
            });
        }
        match s.split_once(':') {
            // More than one colon and no brackets: a bare IPv6 address.
            Some((_, rest)) if rest.contains(':') => Some(Self {
                host: s.to_owned(),
                port: Self::DEFAULT_PORT,
            }),
            Some((host, port)) if !host.is_empty() => Some(Self {
                host: host.to_owned(),
                port: port.parse().ok()?,
            }),
            Some(_) => None,
            None => Some(Self {
                host: s.to_owned(),
                port: Self::DEFAULT_PORT,
            }),
        }
    }
}

impl fmt::Display for NameServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Record types a DNS monitor can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsRecordType {
    A,
    Aaaa,
    Cname,
    Mx,
    Txt,
    Ns,
}

impl DnsRecordType {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_uppercase().as_str() {
            "A" => Some(Self::A),
            "AAAA" => Some(Self::Aaaa),
            "CNAME" => Some(Self::Cname),
            "MX" => Some(Self::Mx),
            "TXT" => Some(Self::Txt),
            "NS" => Some(Self::Ns),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::A => "A",
            Self::Aaaa => "AAAA",
            Self::Cname => "CNAME",
            Self::Mx => "MX",
            Self::Txt => "TXT",
            Self::Ns => "NS",
        }
    }
}

/// What one check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeResult {
    pub up: bool,
    /// Set exactly when `up` is false.
    pub cause: Option<Cause>,
    /// Wall time of the whole check (HTTP: until the body was read); for ICMP, the echo
    /// round trip as surge-ping measured it.
    pub response_time: Duration,
    pub status_code: Option<u16>,
    /// Days until the TLS certificate expires, when it was looked at (negative: expired).
    pub tls_days_left: Option<i64>,
    /// A short human line: what answered, or what went wrong.
    pub detail: String,
}

impl ProbeResult {
    pub fn up(response_time: Duration, detail: impl Into<String>) -> Self {
        Self {
            up: true,
            cause: None,
            response_time,
            status_code: None,
            tls_days_left: None,
            detail: detail.into(),
        }
    }

    pub fn down(cause: Cause, response_time: Duration, detail: impl Into<String>) -> Self {
        Self {
            up: false,
            cause: Some(cause),
            response_time,
            status_code: None,
            tls_days_left: None,
            detail: detail.into(),
        }
    }

    pub fn with_status_code(mut self, code: u16) -> Self {
        self.status_code = Some(code);
        self
    }

    pub fn with_tls_days_left(mut self, days: Option<i64>) -> Self {
        self.tls_days_left = days;
        self
    }
}

/// Why a check failed. Names follow Better Stack's incident causes; `code()` is stable and is
/// what gets stored and returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    StatusCode(u16),
    Timeout,
    ConnectionRefused,
    DnsError(String),
    KeywordMissing,
    KeywordPresent,
    TlsError(String),
    TlsExpiringSoon(i64),
    ProtocolError(String),
    /// Neither a raw nor an unprivileged ICMP socket may be opened here: a configuration
    /// problem on our side, not the target being down.
    IcmpNotPermitted,
    NoReply,
    UnexpectedAnswer(String),
    /// A heartbeat's ping did not come within `period` + `grace` seconds.
    HeartbeatMissed,
    /// A heartbeat's job reported failure: `/fail` (`None`) or a non-zero exit code.
    HeartbeatFailed(Option<i64>),
}

impl Cause {
    pub fn code(&self) -> &'static str {
        match self {
            Self::StatusCode(_) => "status_code",
            Self::Timeout => "timeout",
            Self::ConnectionRefused => "connection_refused",
            Self::DnsError(_) => "dns_error",
            Self::KeywordMissing => "keyword_missing",
            Self::KeywordPresent => "keyword_present",
            Self::TlsError(_) => "tls_error",
            Self::TlsExpiringSoon(_) => "tls_expiring_soon",
            Self::ProtocolError(_) => "protocol_error",
            Self::IcmpNotPermitted => "icmp_not_permitted",
            Self::NoReply => "no_reply",
            Self::UnexpectedAnswer(_) => "unexpected_answer",
            Self::HeartbeatMissed => "heartbeat_missed",
            Self::HeartbeatFailed(_) => "heartbeat_failed",
        }
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::StatusCode(code) => write!(f, "unexpected HTTP status code {code}"),
            Self::Timeout => f.write_str("timed out"),
            Self::ConnectionRefused => f.write_str("connection refused"),
            Self::DnsError(e) => write!(f, "DNS error: {e}"),
            Self::KeywordMissing => f.write_str("required keyword not found in the response"),
            Self::KeywordPresent => f.write_str("forbidden keyword found in the response"),
            Self::TlsError(e) => write!(f, "TLS error: {e}"),
            Self::TlsExpiringSoon(days) if *days < 0 => {
                write!(f, "TLS certificate expired {} days ago", -days)
            }
            Self::TlsExpiringSoon(days) => write!(f, "TLS certificate expires in {days} days"),
            Self::ProtocolError(e) => write!(f, "protocol error: {e}"),
            Self::IcmpNotPermitted => f.write_str(
                "ICMP is not permitted for this process: run as root, grant CAP_NET_RAW, or allow \
                 unprivileged ping (sysctl net.ipv4.ping_group_range)",
            ),
            Self::NoReply => f.write_str("no reply"),
            Self::UnexpectedAnswer(got) => write!(f, "unexpected answer: {got}"),
            Self::HeartbeatMissed => {
                f.write_str("no heartbeat received within the period and grace")
            }
            Self::HeartbeatFailed(None) => f.write_str("the job reported a failure"),
            Self::HeartbeatFailed(Some(code)) => write!(f, "the job exited with code {code}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expectations_judge_status_and_body() {
        let cases: &[(HttpExpectation, u16, &str, Result<(), Cause>)] = &[
            (HttpExpectation::StatusOk, 204, "", Ok(())),
            (
                HttpExpectation::StatusOk,
                500,
                "",
                Err(Cause::StatusCode(500)),
            ),
            (
                HttpExpectation::StatusOk,
                302,
                "",
                Err(Cause::StatusCode(302)),
            ),
            (HttpExpectation::StatusIn(vec![200, 404]), 404, "", Ok(())),
            (
                HttpExpectation::StatusIn(vec![200]),
                201,
                "",
                Err(Cause::StatusCode(201)),
            ),
            (HttpExpectation::Keyword("ok".into()), 200, "all ok", Ok(())),
            (
                HttpExpectation::Keyword("ok".into()),
                200,
                "nope",
                Err(Cause::KeywordMissing),
            ),
            (
                HttpExpectation::Keyword("ok".into()),
                503,
                "ok",
                Err(Cause::StatusCode(503)),
            ),
            (
                HttpExpectation::KeywordAbsent("err".into()),
                200,
                "fine",
                Ok(()),
            ),
            (
                HttpExpectation::KeywordAbsent("err".into()),
                200,
                "an error",
                Err(Cause::KeywordPresent),
            ),
        ];
        for (expect, status, body, want) in cases {
            assert_eq!(
                &expect.evaluate(*status, body),
                want,
                "{expect:?} {status} {body:?}"
            );
        }
    }

    #[test]
    fn nameservers_parse_with_and_without_port() {
        let ns = |host: &str, port| {
            Some(NameServer {
                host: host.into(),
                port,
            })
        };
        assert_eq!(NameServer::parse("1.1.1.1"), ns("1.1.1.1", 53));
        assert_eq!(NameServer::parse("127.0.0.1:5353"), ns("127.0.0.1", 5353));
        assert_eq!(NameServer::parse("dns.example"), ns("dns.example", 53));
        assert_eq!(NameServer::parse("::1"), ns("::1", 53));
        assert_eq!(NameServer::parse("[::1]:5353"), ns("::1", 5353));
        assert_eq!(NameServer::parse("[::1]"), ns("::1", 53));
        assert_eq!(NameServer::parse(""), None);
        assert_eq!(NameServer::parse(":53"), None);
        assert_eq!(NameServer::parse("1.1.1.1:x"), None);
        assert_eq!(NameServer::parse("1.1.1.1:70000"), None);
        assert_eq!(NameServer::parse("[::1]x"), None);
    }

    #[test]
    fn record_types_and_methods_parse_case_insensitively() {
        assert_eq!(DnsRecordType::parse("aaaa"), Some(DnsRecordType::Aaaa));
        assert_eq!(DnsRecordType::parse("SOA"), None);
        assert_eq!(HttpMethod::parse("get"), Some(HttpMethod::Get));
        assert_eq!(HttpMethod::parse("DELETE"), Some(HttpMethod::Delete));
        assert_eq!(HttpMethod::parse("TRACE"), None);
    }

    #[test]
    fn cause_codes_are_stable_and_messages_readable() {
        assert_eq!(Cause::StatusCode(500).code(), "status_code");
        assert_eq!(Cause::IcmpNotPermitted.code(), "icmp_not_permitted");
        assert_eq!(
            Cause::TlsExpiringSoon(3).to_string(),
            "TLS certificate expires in 3 days"
        );
        assert_eq!(
            Cause::TlsExpiringSoon(-2).to_string(),
            "TLS certificate expired 2 days ago"
        );
    }

    #[test]
    fn basic_auth_debug_hides_the_password() {
        let auth = BasicAuth {
            username: "u".into(),
            password: "hunter2".into(),
        };
        assert!(!format!("{auth:?}").contains("hunter2"));
    }
}

/// One check result as kept in `probe_result` (raw, for the retention window).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeRecord {
    pub monitor_id: i64,
    pub checked_at: Timestamp,
    pub up: bool,
    pub response_ms: Option<i64>,
    pub cause_code: Option<&'static str>,
    pub status_code: Option<i64>,
}

/// Checks of one monitor within one bucket (a minute or an hour), as rolled up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rollup {
    pub checks: i64,
    pub ups: i64,
    pub response_ms_sum: i64,
    pub response_ms_max: i64,
}

impl Rollup {
    pub fn add(&mut self, r: &ProbeRecord) {
        let ms = r.response_ms.unwrap_or(0).max(0);
        self.checks += 1;
        self.ups += i64::from(r.up);
        self.response_ms_sum += ms;
        self.response_ms_max = self.response_ms_max.max(ms);
    }
}
