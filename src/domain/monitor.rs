//! Uptime monitors, configured through Better Stack's v2 monitor API: field names, units and
//! defaults as Better Stack has them (see `../shared/reference/uptime.md` §1.2).
//!
//! A monitor's configuration is a [`MonitorSpec`], parsed from the JSON attributes a client
//! sends ([`MonitorInput`]). Fields the probes act on are typed and validated here; fields
//! that only matter to Better Stack (regions, call/sms/email/push alerting, policy ids, team
//! name…) are accepted with a light type check, stored as they came and returned unchanged
//! ([`PASS_THROUGH`]); they have no effect in flagwatch. Unknown fields are ignored, as Better
//! Stack ignores them; read-only ones (`id`, `status`, timestamps) cannot be written.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use crate::domain::attributes::FieldErrors;
use crate::domain::attributes::{Fields, merged};
use crate::domain::probe::{
    BasicAuth, DnsRecordType, HttpExpectation, HttpMethod, HttpTarget, NameServer, ProbeTarget,
};
use crate::domain::{Invalid, Timestamp, timezone};
use chrono::{Datelike, Timelike};

/// Better Stack's monitor types that flagwatch can check. `smtp`, `pop`, `imap` and
/// `playwright` are refused rather than accepted and never checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MonitorType {
    /// The response must be 2xx.
    Status,
    /// The status code must be one of `expected_status_codes`.
    ExpectedStatusCode,
    /// The body must contain `required_keyword`.
    Keyword,
    /// The body must not contain `required_keyword`.
    KeywordAbsence,
    /// ICMP echo to the host in `url`.
    Ping,
    /// A TCP connection to `url`:`port` must open.
    Tcp,
    /// `request_body` sent to `url`:`port` must get a reply containing `required_keyword`.
    Udp,
    /// The nameserver in `url` (host[:port]) must answer a query for the domain in `request_body`.
    Dns,
}

impl MonitorType {
    pub const ALL: [Self; 8] = [
        Self::Status,
        Self::ExpectedStatusCode,
        Self::Keyword,
        Self::KeywordAbsence,
        Self::Ping,
        Self::Tcp,
        Self::Udp,
        Self::Dns,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Status => "status",
            Self::ExpectedStatusCode => "expected_status_code",
            Self::Keyword => "keyword",
            Self::KeywordAbsence => "keyword_absence",
            Self::Ping => "ping",
            Self::Tcp => "tcp",
            Self::Udp => "udp",
            Self::Dns => "dns",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// HTTP(S) checks: `request_timeout` is in seconds. For the others it is in milliseconds.
    pub fn is_http(self) -> bool {
        matches!(
            self,
            Self::Status | Self::ExpectedStatusCode | Self::Keyword | Self::KeywordAbsence
        )
    }
}

impl fmt::Display for MonitorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A header sent with HTTP checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestHeader {
    pub name: String,
    pub value: String,
}

/// Better Stack's pass-through attributes: accepted, stored and returned, with no effect here.
pub const PASS_THROUGH: &[&str] = &[
    "regions",
    "call",
    "sms",
    "email",
    "push",
    "critical_alert",
    "policy_id",
    "expiration_policy_id",
    "monitor_group_id",
    "team_wait",
    "team_name",
    "domain_expiration",
    "ip_version",
    "proxy_host",
    "proxy_port",
    "sort_index",
    "playwright_script",
    "scenario_name",
    "environment_variables",
    "checks_version",
    "additional_info",
];

/// Attributes clients may read but not write; ignored in input.
const READ_ONLY: &[&str] = &[
    "id",
    "status",
    "paused_at",
    "last_checked_at",
    "created_at",
    "updated_at",
];

pub const HTTP_METHODS: &[&str] = &["get", "head", "post", "put", "patch", "delete", "options"];
pub const DAYS: &[&str] = &["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Bounds. `check_frequency` goes down to 1 s (Better Stack's minimum is 30 s).
pub const MAX_PERIOD_SECS: i64 = 86_400;
pub const HTTP_TIMEOUT_SECS: (i64, i64) = (1, 60);
pub const PORT_TIMEOUT_MS: (i64, i64) = (100, 60_000);
/// Better Stack's allowed `ssl_expiration` / `domain_expiration` values; -1 disables.
pub const EXPIRATION_DAYS: &[i64] = &[-1, 1, 2, 3, 7, 14, 30, 60];

/// What a client sent: the `attributes` of a create or update, as a JSON object. Parsed by
/// [`MonitorSpec::parse`], so wrong types become field errors rather than a decode failure.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct MonitorInput(pub Map<String, Value>);

/// A validated monitor configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorSpec {
    pub monitor_type: MonitorType,
    /// An `http(s)://` URL for HTTP types; a bare host (dns: host[:port]) otherwise.
    pub url: String,
    pub pronounceable_name: String,
    /// Seconds between checks, ≥ 1.
    pub check_frequency: i64,
    /// Seconds for HTTP types, milliseconds for ping/tcp/udp/dns (as Better Stack).
    pub request_timeout: i64,
    /// Seconds of continuous failure before the monitor is `down`.
    pub confirmation_period: i64,
    /// Seconds of continuous success before a `down` monitor is `up` again.
    pub recovery_period: i64,
    /// Lower case, as Better Stack's API returns it.
    pub http_method: String,
    pub request_headers: Vec<RequestHeader>,
    /// The HTTP body; the UDP payload; the domain a DNS check queries.
    pub request_body: String,
    pub expected_status_codes: Vec<u16>,
    pub required_keyword: Option<String>,
    /// The record type a dns monitor queries (flagwatch extension: Better Stack has none);
    /// `A` unless given, `None` for every other monitor type.
    pub dns_record_type: Option<DnsRecordType>,
    pub follow_redirects: bool,
    pub remember_cookies: bool,
    pub verify_ssl: bool,
    /// Days before certificate expiry to warn; `None` or -1: no warning.
    pub ssl_expiration: Option<i64>,
    pub port: Option<u16>,
    pub auth_username: Option<String>,
    pub auth_password: Option<String>,
    pub paused: bool,
    /// `HH:MM:SS`, in `maintenance_timezone`; both or neither.
    pub maintenance_from: Option<String>,
    pub maintenance_to: Option<String>,
    pub maintenance_timezone: String,
    pub maintenance_days: Vec<String>,
    /// The [`PASS_THROUGH`] attributes given, as given.
    pub extra: Map<String, Value>,
    /// Notification channel ids told about this monitor's incidents (flagwatch extension:
    /// Better Stack has none). Whether they exist is the service's check.
    pub notification_channels: Vec<i64>,
}

/// A stored monitor.
#[derive(Debug, Clone, PartialEq)]
pub struct Monitor {
    pub id: i64,
    pub spec: MonitorSpec,
    /// `pending` (no check yet), `paused`, `maintenance`, `up`, `validating` or `down`.
    pub status: String,
    pub paused_at: Option<Timestamp>,
    pub last_checked_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

pub mod status {
    pub const PENDING: &str = "pending";
    pub const PAUSED: &str = "paused";
}

impl MonitorSpec {
    /// Validates `input` into a configuration. With `current`, `input` is a partial update
    /// (PATCH): the attributes given replace the current ones, the rest stay as they are,
    /// and the result is validated as a whole. Every problem found is reported, by field.
    pub fn parse(input: &MonitorInput, current: Option<&Self>) -> Result<Self, FieldErrors> {
        let given = &input.0;
        let merged_input;
        let input = match current {
            Some(current) => {
                merged_input = merged(current.attributes(), &input.0, READ_ONLY);
                &merged_input
            }
            None => &input.0,
        };
        let mut f = Fields::new(input);

        let monitor_type = match f.get("monitor_type") {
            None => {
                f.error("monitor_type", "can't be blank");
                None
            }
            Some(Value::String(s)) => {
                let t = MonitorType::parse(s);
                if t.is_none() {
                    let known: Vec<_> = MonitorType::ALL.iter().map(|t| t.as_str()).collect();
                    f.error(
                        "monitor_type",
                        format!(
                            "is not a monitor type flagwatch checks (one of: {})",
                            known.join(", ")
                        ),
                    );
                }
                t
            }
            Some(_) => {
                f.error("monitor_type", "must be a string");
                None
            }
        };

        let url = f.string("url").map(|u| u.trim().to_string());
        match (&url, monitor_type) {
            (None, _) => f.error("url", "can't be blank"),
            (Some(u), _) if u.is_empty() => f.error("url", "can't be blank"),
            (Some(u), Some(t)) => {
                if let Err(message) = check_url(u, t) {
                    f.error("url", message);
                }
            }
            (Some(_), None) => {}
        }
        let url = url.unwrap_or_default();

        let pronounceable_name = f
            .string("pronounceable_name")
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| url.clone());

        let check_frequency = f.int_in("check_frequency", 180, (1, MAX_PERIOD_SECS), "seconds");
        let request_timeout = match monitor_type {
            Some(t) if t.is_http() => f.int_in("request_timeout", 30, HTTP_TIMEOUT_SECS, "seconds"),
            Some(_) => f.int_in(
                "request_timeout",
                5_000,
                PORT_TIMEOUT_MS,
                "milliseconds (ping, tcp, udp and dns timeouts are in milliseconds)",
            ),
            None => f.int("request_timeout").unwrap_or(0),
        };
        let confirmation_period =
            f.int_in("confirmation_period", 0, (0, MAX_PERIOD_SECS), "seconds");
        let recovery_period = f.int_in("recovery_period", 0, (0, MAX_PERIOD_SECS), "seconds");

        let http_method = match f.string("http_method") {
            None => "get".to_string(),
            Some(m) => {
                let m = m.to_ascii_lowercase();
                if !HTTP_METHODS.contains(&m.as_str()) {
                    f.error(
                        "http_method",
                        format!("must be one of: {}", HTTP_METHODS.join(", ")),
                    );
                }
                m
            }
        };

        let request_headers = parse_headers(&mut f);
        let request_body = f.string("request_body").unwrap_or_default();

        let expected_status_codes = match f.get("expected_status_codes") {
            None => Vec::new(),
            Some(Value::Array(items)) => {
                let codes: Vec<Option<u16>> = items
                    .iter()
                    .map(|v| {
                        v.as_i64()
                            .filter(|c| (100..=599).contains(c))
                            .and_then(|c| u16::try_from(c).ok())
                    })
                    .collect();
                if codes.iter().any(Option::is_none) {
                    f.error(
                        "expected_status_codes",
                        "must be HTTP status codes (integers from 100 to 599)",
                    );
                }
                codes.into_iter().flatten().collect()
            }
            Some(_) => {
                f.error(
                    "expected_status_codes",
                    "must be an array of HTTP status codes",
                );
                Vec::new()
            }
        };
        if monitor_type == Some(MonitorType::ExpectedStatusCode) && expected_status_codes.is_empty()
        {
            f.error(
                "expected_status_codes",
                "can't be blank for an expected_status_code monitor",
            );
        }

        let required_keyword = f.string("required_keyword").filter(|k| !k.is_empty());
        if let Some(t @ (MonitorType::Keyword | MonitorType::KeywordAbsence | MonitorType::Udp)) =
            monitor_type
            && required_keyword.is_none()
        {
            f.error(
                "required_keyword",
                format!("can't be blank for a {t} monitor"),
            );
        }
        if monitor_type == Some(MonitorType::Dns) && request_body.trim().is_empty() {
            f.error(
                "request_body",
                "can't be blank for a dns monitor (it is the domain to query)",
            );
        }
        let dns_record_type = parse_dns_record_type(&mut f, given, monitor_type);

        let follow_redirects = f.bool("follow_redirects", true);
        let remember_cookies = f.bool("remember_cookies", true);
        let verify_ssl = f.bool("verify_ssl", true);
        let ssl_expiration = f.int("ssl_expiration");
        if let Some(days) = ssl_expiration
            && !EXPIRATION_DAYS.contains(&days)
        {
            f.error(
                "ssl_expiration",
                "must be one of 1, 2, 3, 7, 14, 30, 60 (days), or -1 to disable",
            );
        }

        let port = match f.get("port") {
            None => None,
            Some(v) => {
                let parsed = match v {
                    Value::Number(n) => n.as_u64(),
                    Value::String(s) => s.trim().parse::<u64>().ok(),
                    _ => None,
                };
                match parsed.filter(|p| (1..=65_535).contains(p)) {
                    Some(p) => u16::try_from(p).ok(),
                    None => {
                        f.error("port", "must be a port number from 1 to 65535");
                        None
                    }
                }
            }
        };
        if let Some(t @ (MonitorType::Tcp | MonitorType::Udp)) = monitor_type
            && port.is_none()
            && !f.errors.iter().any(|e| e.path.as_deref() == Some("port"))
        {
            f.error("port", format!("can't be blank for a {t} monitor"));
        }

        let auth_username = f.string("auth_username").filter(|s| !s.is_empty());
        let auth_password = f.string("auth_password").filter(|s| !s.is_empty());
        let paused = f.bool("paused", false);

        let maintenance_from = f.string("maintenance_from");
        let maintenance_to = f.string("maintenance_to");
        let maintenance_from =
            maintenance_from.and_then(|t| check_time(&mut f, "maintenance_from", &t));
        let maintenance_to = maintenance_to.and_then(|t| check_time(&mut f, "maintenance_to", &t));
        match (&maintenance_from, &maintenance_to) {
            (Some(_), None) if f.get("maintenance_to").is_none() => f.error(
                "maintenance_to",
                "can't be blank when maintenance_from is set",
            ),
            (None, Some(_)) if f.get("maintenance_from").is_none() => f.error(
                "maintenance_from",
                "can't be blank when maintenance_to is set",
            ),
            _ => {}
        }
        let maintenance_timezone = f
            .string("maintenance_timezone")
            .map(|z| z.trim().to_string())
            .filter(|z| !z.is_empty())
            .unwrap_or_else(|| "UTC".to_string());
        if timezone::resolve(&maintenance_timezone).is_none() {
            f.error(
                "maintenance_timezone",
                "is not a known time zone (a Rails zone name such as \"Amsterdam\", or an IANA id such as \"Europe/Amsterdam\")",
            );
        }
        let maintenance_days = match f.string_list("maintenance_days") {
            None => DAYS.iter().map(|d| d.to_string()).collect(),
            Some(days) => {
                let days: Vec<String> = days.iter().map(|d| d.to_ascii_lowercase()).collect();
                if days.iter().any(|d| !DAYS.contains(&d.as_str())) {
                    f.error(
                        "maintenance_days",
                        format!("must be a subset of: {}", DAYS.join(", ")),
                    );
                }
                days
            }
        };

        let extra = parse_pass_through(&mut f);
        let notification_channels = parse_channel_ids(&mut f);

        match monitor_type {
            Some(monitor_type) if f.errors.is_empty() => Ok(Self {
                monitor_type,
                url,
                pronounceable_name,
                check_frequency,
                request_timeout,
                confirmation_period,
                recovery_period,
                http_method,
                request_headers,
                request_body,
                expected_status_codes,
                required_keyword,
                dns_record_type,
                follow_redirects,
                remember_cookies,
                verify_ssl,
                ssl_expiration,
                port,
                auth_username,
                auth_password,
                paused,
                maintenance_from,
                maintenance_to,
                maintenance_timezone,
                maintenance_days,
                extra,
                notification_channels,
            }),
            _ => Err(f.errors),
        }
    }

    /// The writable attributes, as the API sends them (`port` as a string, like Better Stack).
    pub fn attributes(&self) -> Map<String, Value> {
        let mut m = Map::new();
        let mut put = |k: &str, v: Value| {
            m.insert(k.to_string(), v);
        };
        put("url", self.url.clone().into());
        put("pronounceable_name", self.pronounceable_name.clone().into());
        put("monitor_type", self.monitor_type.as_str().into());
        put("check_frequency", self.check_frequency.into());
        put("request_timeout", self.request_timeout.into());
        put("confirmation_period", self.confirmation_period.into());
        put("recovery_period", self.recovery_period.into());
        put("http_method", self.http_method.clone().into());
        put(
            "request_headers",
            serde_json::to_value(&self.request_headers).unwrap_or(Value::Null),
        );
        put("request_body", self.request_body.clone().into());
        put(
            "expected_status_codes",
            self.expected_status_codes.clone().into(),
        );
        put("required_keyword", self.required_keyword.clone().into());
        put(
            "dns_record_type",
            self.dns_record_type.map(DnsRecordType::as_str).into(),
        );
        put("follow_redirects", self.follow_redirects.into());
        put("remember_cookies", self.remember_cookies.into());
        put("verify_ssl", self.verify_ssl.into());
        put("ssl_expiration", self.ssl_expiration.into());
        put("port", self.port.map(|p| p.to_string()).into());
        put("auth_username", self.auth_username.clone().into());
        put("auth_password", self.auth_password.clone().into());
        put("paused", self.paused.into());
        put("maintenance_from", self.maintenance_from.clone().into());
        put("maintenance_to", self.maintenance_to.clone().into());
        put(
            "maintenance_timezone",
            self.maintenance_timezone.clone().into(),
        );
        put("maintenance_days", self.maintenance_days.clone().into());
        put(
            "notification_channels",
            self.notification_channels.clone().into(),
        );
        for (k, v) in &self.extra {
            m.insert(k.clone(), v.clone());
        }
        m
    }
}

impl Monitor {
    /// Every attribute, writable and read-only, as Better Stack's API returns them.
    pub fn attributes(&self) -> Map<String, Value> {
        let mut m = self.spec.attributes();
        m.insert("status".into(), self.status.clone().into());
        let ts = |t: Option<Timestamp>| t.map_or(Value::Null, |t| t.to_rfc3339().into());
        m.insert("paused_at".into(), ts(self.paused_at));
        m.insert("last_checked_at".into(), ts(self.last_checked_at));
        m.insert("created_at".into(), ts(Some(self.created_at)));
        m.insert("updated_at".into(), ts(Some(self.updated_at)));
        m
    }

    /// What the audit log records: the attributes and the id, without the Basic-auth password.
    pub fn audit_view(&self) -> Value {
        let mut m = self.attributes();
        m.insert("id".into(), self.id.into());
        if self.spec.auth_password.is_some() {
            m.insert("auth_password".into(), "[redacted]".into());
        }
        Value::Object(m)
    }
}

impl MonitorSpec {
    /// What a check of this monitor does, in the probes' terms. Units are converted here, once:
    /// `request_timeout` is seconds for HTTP types and milliseconds for ping/tcp/udp/dns, as in
    /// Better Stack. DNS monitors query `url` (host[:port]) for the domain in `request_body`,
    /// for `dns_record_type` records (A by default), and compare the answers with
    /// `required_keyword` when one is set. An error names the attribute that cannot be checked.
    pub fn probe_target(&self) -> Result<ProbeTarget, Invalid> {
        let t = self.monitor_type;
        let timeout = u64::try_from(self.request_timeout.max(1))
            .map_err(|_| Invalid::at("request_timeout", "must be positive"))?;
        let timeout = if t.is_http() {
            Duration::from_secs(timeout)
        } else {
            Duration::from_millis(timeout)
        };
        let host = || self.url.trim().to_string();
        let port = || {
            self.port
                .ok_or_else(|| Invalid::at("port", format!("can't be blank for a {t} monitor")))
        };
        Ok(match t {
            MonitorType::Status
            | MonitorType::ExpectedStatusCode
            | MonitorType::Keyword
            | MonitorType::KeywordAbsence => {
                let keyword = || {
                    self.required_keyword.clone().ok_or_else(|| {
                        Invalid::at(
                            "required_keyword",
                            format!("can't be blank for a {t} monitor"),
                        )
                    })
                };
                let expect = match t {
                    MonitorType::ExpectedStatusCode => {
                        HttpExpectation::StatusIn(self.expected_status_codes.clone())
                    }
                    MonitorType::Keyword => HttpExpectation::Keyword(keyword()?),
                    MonitorType::KeywordAbsence => HttpExpectation::KeywordAbsent(keyword()?),
                    _ => HttpExpectation::StatusOk,
                };
                ProbeTarget::Http(HttpTarget {
                    url: url::Url::parse(self.url.trim())
                        .map_err(|e| Invalid::at("url", format!("must be a valid URL ({e})")))?,
                    method: HttpMethod::parse(&self.http_method).ok_or_else(|| {
                        Invalid::at(
                            "http_method",
                            format!("{} is not a method flagwatch sends", self.http_method),
                        )
                    })?,
                    headers: self
                        .request_headers
                        .iter()
                        .map(|h| (h.name.clone(), h.value.clone()))
                        .collect(),
                    body: (!self.request_body.is_empty()).then(|| self.request_body.clone()),
                    basic_auth: self.auth_username.as_ref().map(|username| BasicAuth {
                        username: username.clone(),
                        password: self.auth_password.clone().unwrap_or_default(),
                    }),
                    follow_redirects: self.follow_redirects,
                    remember_cookies: self.remember_cookies,
                    verify_ssl: self.verify_ssl,
                    timeout,
                    expect,
                    ssl_expiration_days: self
                        .ssl_expiration
                        .filter(|d| *d > 0)
                        .and_then(|d| u32::try_from(d).ok()),
                })
            }
            MonitorType::Tcp => ProbeTarget::Tcp {
                host: host(),
                port: port()?,
                timeout,
            },
            MonitorType::Udp => ProbeTarget::Udp {
                host: host(),
                port: port()?,
                payload: self.request_body.clone().into_bytes(),
                expect_keyword: self.required_keyword.clone(),
                timeout,
            },
            MonitorType::Dns => ProbeTarget::Dns {
                nameserver: NameServer::parse(&self.url)
                    .ok_or_else(|| Invalid::at("url", "must be host or host:port"))?,
                domain: match self.request_body.trim() {
                    "" => {
                        return Err(Invalid::at(
                            "request_body",
                            "can't be blank for a dns monitor (it is the domain to query)",
                        ));
                    }
                    domain => domain.to_string(),
                },
                record_type: self.dns_record_type.unwrap_or(DnsRecordType::A),
                expected: self.required_keyword.clone(),
                timeout,
            },
            MonitorType::Ping => ProbeTarget::Icmp {
                host: host(),
                timeout,
            },
        })
    }

    /// Whether `at` is inside the monitor's maintenance window (`maintenance_from` ≤ time of
    /// day < `maintenance_to` on one of `maintenance_days`; a window with `from` after `to`
    /// runs overnight, and each side counts on its own day, so an overnight window needs both
    /// days listed, as Better Stack says). `Ok(false)` when no window is set.
    ///
    /// The window is evaluated in `maintenance_timezone` (a Rails zone name or an IANA id,
    /// daylight saving time included). An unknown zone (validation refuses it, so only a
    /// monitor stored before that could have one) is an error, and the caller decides.
    pub fn in_maintenance(&self, at: Timestamp) -> Result<bool, Invalid> {
        let (Some(from), Some(to)) = (&self.maintenance_from, &self.maintenance_to) else {
            return Ok(false);
        };
        let Some(zone) = timezone::resolve(&self.maintenance_timezone) else {
            return Err(Invalid::at(
                "maintenance_timezone",
                format!("{} is not a known time zone", self.maintenance_timezone),
            ));
        };
        let secs = |hms: &str| -> Option<i64> {
            let mut parts = hms.split(':').map(|p| p.parse::<i64>().ok());
            let (h, m, s) = (parts.next()??, parts.next()??, parts.next().flatten());
            Some(h * 3600 + m * 60 + s.unwrap_or(0))
        };
        let (Some(from), Some(to)) = (secs(from), secs(to)) else {
            return Err(Invalid::at("maintenance_from", "must be HH:MM:SS"));
        };
        let Some(utc) = chrono::DateTime::from_timestamp_millis(at.0) else {
            return Ok(false);
        };
        let local = utc.with_timezone(&zone);
        let now = i64::from(local.num_seconds_from_midnight());
        // DAYS starts on Monday.
        let weekday = DAYS[local.weekday().num_days_from_monday() as usize];
        if !self.maintenance_days.iter().any(|d| d == weekday) {
            return Ok(false);
        }
        Ok(if from <= to {
            from <= now && now < to
        } else {
            now >= from || now < to
        })
    }
}

impl Monitor {
    /// See [`MonitorSpec::probe_target`].
    pub fn probe_target(&self) -> Result<ProbeTarget, Invalid> {
        self.spec.probe_target()
    }
}

fn check_url(url: &str, t: MonitorType) -> Result<(), String> {
    if url.chars().any(char::is_whitespace) {
        return Err("must not contain whitespace".into());
    }
    if t.is_http() {
        let parsed =
            reqwest::Url::parse(url).map_err(|e| format!("must be a valid http(s) URL ({e})"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err("must be an http:// or https:// URL".into());
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err("must name a host".into());
        }
        return Ok(());
    }
    // ping, tcp, udp, dns: a bare host; dns also takes host:port (or [v6]:port).
    if url.contains("://") || url.contains('/') {
        return Err(format!(
            "must be a bare host name or IP address for a {t} monitor, not a URL"
        ));
    }
    let host = if t == MonitorType::Dns {
        split_port(url).ok_or_else(|| "must be host or host:port".to_string())?
    } else {
        url
    };
    let valid_name = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if valid_name || host.parse::<std::net::IpAddr>().is_ok() {
        Ok(())
    } else {
        Err("must be a host name or IP address".into())
    }
}

/// `host:port` → `host`; `[v6]:port` → `v6`; a bare host or IPv6 address as is.
fn split_port(s: &str) -> Option<&str> {
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return match after {
            "" => Some(host),
            p => p.strip_prefix(':')?.parse::<u16>().ok().map(|_| host),
        };
    }
    if s.parse::<std::net::Ipv6Addr>().is_ok() {
        return Some(s);
    }
    match s.rsplit_once(':') {
        Some((host, port)) => port.parse::<u16>().ok().map(|_| host),
        None => Some(s),
    }
}

/// `HH:MM` or `HH:MM:SS`, normalised to `HH:MM:SS`.
fn check_time(f: &mut Fields<'_>, key: &str, t: &str) -> Option<String> {
    let parts: Vec<&str> = t.trim().split(':').collect();
    let nums: Option<Vec<u32>> = parts
        .iter()
        .map(|p| (p.len() == 2).then(|| p.parse().ok()).flatten())
        .collect();
    match nums.as_deref() {
        Some([h, m]) if *h < 24 && *m < 60 => Some(format!("{h:02}:{m:02}:00")),
        Some([h, m, s]) if *h < 24 && *m < 60 && *s < 60 => Some(format!("{h:02}:{m:02}:{s:02}")),
        _ => {
            f.error(key, "must be a time of day, HH:MM:SS");
            None
        }
    }
}

fn parse_headers(f: &mut Fields<'_>) -> Vec<RequestHeader> {
    const KEY: &str = "request_headers";
    let Some(value) = f.get(KEY) else {
        return Vec::new();
    };
    let Value::Array(items) = value else {
        f.error(KEY, "must be an array of {\"name\", \"value\"} objects");
        return Vec::new();
    };
    let mut headers = Vec::new();
    for item in items {
        let name = item.get("name").and_then(Value::as_str);
        let value = item.get("value").and_then(Value::as_str);
        match (name, value) {
            (Some(n), Some(v))
                if !n.is_empty()
                    && n.bytes().all(|b| b.is_ascii_graphic() && b != b':')
                    && !v.contains(['\r', '\n']) =>
            {
                headers.push(RequestHeader {
                    name: n.to_string(),
                    value: v.to_string(),
                });
            }
            _ => {
                f.error(
                    KEY,
                    "must be an array of {\"name\", \"value\"} objects with valid header names and single-line values",
                );
                return Vec::new();
            }
        }
    }
    headers
}

/// `dns_record_type`: for dns monitors, one of A, AAAA, CNAME, MX, TXT, NS (any case; A when not
/// given). Refused on other types only when the client sent it (`given`), so a PATCH that turns a
/// dns monitor into another type drops the stored one.
fn parse_dns_record_type(
    f: &mut Fields<'_>,
    given: &Map<String, Value>,
    monitor_type: Option<MonitorType>,
) -> Option<DnsRecordType> {
    const KEY: &str = "dns_record_type";
    if monitor_type != Some(MonitorType::Dns) {
        if monitor_type.is_some() && given.get(KEY).is_some_and(|v| !v.is_null()) {
            f.error(KEY, "is only for dns monitors");
        }
        return None;
    }
    match f.string(KEY) {
        None => Some(DnsRecordType::A),
        Some(s) => {
            let t = DnsRecordType::parse(s.trim());
            if t.is_none() {
                f.error(KEY, "must be one of: A, AAAA, CNAME, MX, TXT, NS");
            }
            t
        }
    }
}

/// `notification_channels`: a list of channel ids (numbers, or numeric strings as Better
/// Stack sends ids), duplicates dropped.
fn parse_channel_ids(f: &mut Fields<'_>) -> Vec<i64> {
    const KEY: &str = "notification_channels";
    const MAX_CHANNELS: usize = 100;
    let Some(value) = f.get(KEY) else {
        return Vec::new();
    };
    let ids: Option<Vec<i64>> = match value {
        Value::Array(items) => items
            .iter()
            .map(|v| match v {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            })
            .map(|id| id.filter(|id| *id > 0))
            .collect(),
        _ => None,
    };
    match ids {
        Some(ids) if ids.len() > MAX_CHANNELS => {
            f.error(
                KEY,
                format!("must name at most {MAX_CHANNELS} notification channels"),
            );
            Vec::new()
        }
        Some(ids) => {
            let mut seen = std::collections::HashSet::new();
            ids.into_iter().filter(|id| seen.insert(*id)).collect()
        }
        None => {
            f.error(KEY, "must be an array of notification channel ids");
            Vec::new()
        }
    }
}

fn parse_pass_through(f: &mut Fields<'_>) -> Map<String, Value> {
    let mut extra = Map::new();
    for &key in PASS_THROUGH {
        let Some(value) = f.input.get(key) else {
            continue;
        };
        let ok = match key {
            "call" | "sms" | "email" | "push" | "critical_alert" => {
                value.is_boolean() || value.is_null()
            }
            "regions" => {
                value.is_null()
                    || value
                        .as_array()
                        .is_some_and(|a| a.iter().all(Value::is_string))
            }
            _ => true,
        };
        if ok {
            extra.insert(key.to_string(), value.clone());
        } else if value.is_array() || key == "regions" {
            f.error(key, "must be an array of strings");
        } else {
            f.error(key, "must be true or false");
        }
    }
    extra
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn input(v: Value) -> MonitorInput {
        serde_json::from_value(v).unwrap()
    }

    fn fields(errors: &FieldErrors) -> Vec<&str> {
        errors.iter().filter_map(|e| e.path.as_deref()).collect()
    }

    #[test]
    fn applies_better_stack_defaults() {
        let spec = MonitorSpec::parse(
            &input(json!({"monitor_type": "status", "url": "https://example.com"})),
            None,
        )
        .unwrap();
        assert_eq!(spec.check_frequency, 180);
        assert_eq!(spec.request_timeout, 30);
        assert_eq!(spec.http_method, "get");
        assert_eq!(spec.pronounceable_name, "https://example.com");
        assert!(spec.follow_redirects && spec.verify_ssl);
        assert_eq!(spec.maintenance_days.len(), 7);
    }

    #[test]
    fn timeouts_are_milliseconds_for_port_types() {
        let ok = json!({"monitor_type": "tcp", "url": "db.internal", "port": "5432", "request_timeout": 2000});
        assert_eq!(
            MonitorSpec::parse(&input(ok), None)
                .unwrap()
                .request_timeout,
            2000
        );
        let seconds = json!({"monitor_type": "tcp", "url": "db.internal", "port": 5432, "request_timeout": 5});
        assert_eq!(
            fields(&MonitorSpec::parse(&input(seconds), None).unwrap_err()),
            ["request_timeout"]
        );
    }

    #[test]
    fn reports_every_bad_field() {
        let bad = json!({"monitor_type": "tcp", "url": "http://x/", "port": 70000, "check_frequency": 0, "paused": "yes"});
        let errors = MonitorSpec::parse(&input(bad), None).unwrap_err();
        assert_eq!(
            fields(&errors),
            ["url", "check_frequency", "port", "paused"]
        );
        let errors = MonitorSpec::parse(&input(json!({"monitor_type": "smtp"})), None).unwrap_err();
        assert_eq!(fields(&errors), ["monitor_type", "url"]);
    }

    #[test]
    fn partial_updates_keep_the_rest() {
        let spec = MonitorSpec::parse(
            &input(
                json!({"monitor_type": "status", "url": "https://a.example", "regions": ["us"]}),
            ),
            None,
        )
        .unwrap();
        let updated = MonitorSpec::parse(
            &input(json!({"check_frequency": 30, "status": "up"})),
            Some(&spec),
        )
        .unwrap();
        assert_eq!(updated.check_frequency, 30);
        assert_eq!(updated.url, "https://a.example");
        assert_eq!(updated.extra["regions"], json!(["us"]));
    }

    #[test]
    fn dns_takes_a_nameserver_with_a_port() {
        let ok =
            json!({"monitor_type": "dns", "url": "127.0.0.1:5353", "request_body": "example.com"});
        assert!(MonitorSpec::parse(&input(ok), None).is_ok());
        let no_domain = json!({"monitor_type": "dns", "url": "1.1.1.1"});
        assert_eq!(
            fields(&MonitorSpec::parse(&input(no_domain), None).unwrap_err()),
            ["request_body"]
        );
    }

    fn spec(v: Value) -> MonitorSpec {
        MonitorSpec::parse(&input(v), None).unwrap()
    }

    #[test]
    fn http_monitors_become_http_targets_with_timeouts_in_seconds() {
        let target = spec(json!({
            "monitor_type": "expected_status_code", "url": "https://a.example/health",
            "expected_status_codes": [200, 201], "request_timeout": 15, "http_method": "POST",
            "request_body": "{}", "auth_username": "u", "auth_password": "p",
            "request_headers": [{"name": "X-A", "value": "1"}], "ssl_expiration": 14,
        }))
        .probe_target()
        .unwrap();
        let ProbeTarget::Http(http) = target else {
            panic!("{target:?}")
        };
        assert_eq!(http.timeout, Duration::from_secs(15));
        assert_eq!(http.expect, HttpExpectation::StatusIn(vec![200, 201]));
        assert_eq!(http.method, HttpMethod::Post);
        assert_eq!(http.body.as_deref(), Some("{}"));
        assert_eq!(http.basic_auth.unwrap().password, "p");
        assert_eq!(http.headers, [("X-A".to_string(), "1".to_string())]);
        assert_eq!(http.ssl_expiration_days, Some(14));

        let expect = |v: Value| match spec(v).probe_target().unwrap() {
            ProbeTarget::Http(http) => http.expect,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            expect(json!({"monitor_type": "status", "url": "http://a.example"})),
            HttpExpectation::StatusOk
        );
        assert_eq!(
            expect(json!({"monitor_type": "keyword", "url": "http://a", "required_keyword": "ok"})),
            HttpExpectation::Keyword("ok".into())
        );
        assert_eq!(
            expect(
                json!({"monitor_type": "keyword_absence", "url": "http://a", "required_keyword": "err"})
            ),
            HttpExpectation::KeywordAbsent("err".into())
        );
    }

    #[test]
    fn port_monitors_become_targets_with_timeouts_in_milliseconds() {
        let ms = Duration::from_millis(1500);
        assert_eq!(
            spec(json!({"monitor_type": "tcp", "url": "db.internal", "port": "5432", "request_timeout": 1500}))
                .probe_target()
                .unwrap(),
            ProbeTarget::Tcp { host: "db.internal".into(), port: 5432, timeout: ms }
        );
        assert_eq!(
            spec(json!({"monitor_type": "udp", "url": "10.0.0.1", "port": 53, "request_timeout": 1500,
                        "request_body": "ping", "required_keyword": "pong"}))
                .probe_target()
                .unwrap(),
            ProbeTarget::Udp {
                host: "10.0.0.1".into(),
                port: 53,
                payload: b"ping".to_vec(),
                expect_keyword: Some("pong".into()),
                timeout: ms,
            }
        );
        assert_eq!(
            spec(json!({"monitor_type": "dns", "url": "127.0.0.1:5353", "request_body": " example.com ",
                        "request_timeout": 1500}))
                .probe_target()
                .unwrap(),
            ProbeTarget::Dns {
                nameserver: NameServer { host: "127.0.0.1".into(), port: 5353 },
                domain: "example.com".into(),
                record_type: DnsRecordType::A,
                expected: None,
                timeout: ms,
            }
        );
        assert_eq!(
            spec(json!({"monitor_type": "ping", "url": "127.0.0.1"}))
                .probe_target()
                .unwrap(),
            ProbeTarget::Icmp {
                host: "127.0.0.1".into(),
                timeout: Duration::from_millis(5000)
            }
        );
    }

    #[test]
    fn dns_record_type_reaches_the_probe_target() {
        let dns = |extra: Value| {
            let mut v = json!({"monitor_type": "dns", "url": "127.0.0.1", "request_body": "e.com"});
            v.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            MonitorSpec::parse(&input(v), None)
        };
        let record_type = |spec: MonitorSpec| match spec.probe_target().unwrap() {
            ProbeTarget::Dns { record_type, .. } => record_type,
            other => panic!("{other:?}"),
        };
        assert_eq!(record_type(dns(json!({})).unwrap()), DnsRecordType::A);
        for (given, want) in [
            ("txt", DnsRecordType::Txt),
            ("AAAA", DnsRecordType::Aaaa),
            ("Cname", DnsRecordType::Cname),
            ("mx", DnsRecordType::Mx),
            ("NS", DnsRecordType::Ns),
        ] {
            let spec = dns(json!({"dns_record_type": given})).unwrap();
            assert_eq!(spec.dns_record_type, Some(want));
            assert_eq!(spec.attributes()["dns_record_type"], want.as_str());
            assert_eq!(record_type(spec), want);
        }
        let errors = dns(json!({"dns_record_type": "SOA"})).unwrap_err();
        assert_eq!(fields(&errors), ["dns_record_type"]);
        let errors = MonitorSpec::parse(
            &input(json!({"monitor_type": "ping", "url": "h", "dns_record_type": "A"})),
            None,
        )
        .unwrap_err();
        assert_eq!(fields(&errors), ["dns_record_type"]);
    }

    #[test]
    fn maintenance_windows_are_per_day_and_may_run_overnight() {
        // 2026-01-05 was a Monday.
        let monday = |h: i64, m: i64| Timestamp(1_767_571_200_000 + (h * 3600 + m * 60) * 1000);
        let window = |from: &str, to: &str, days: Value| {
            spec(
                json!({"monitor_type": "status", "url": "http://a", "maintenance_from": from,
                        "maintenance_to": to, "maintenance_days": days}),
            )
        };
        let none = spec(json!({"monitor_type": "status", "url": "http://a"}));
        assert_eq!(none.in_maintenance(monday(1, 0)), Ok(false));

        let night = window("01:00:00", "02:30:00", json!(["mon"]));
        assert_eq!(night.in_maintenance(monday(0, 59)), Ok(false));
        assert_eq!(night.in_maintenance(monday(1, 0)), Ok(true));
        assert_eq!(night.in_maintenance(monday(2, 29)), Ok(true));
        assert_eq!(night.in_maintenance(monday(2, 30)), Ok(false));
        assert_eq!(
            night.in_maintenance(monday(24 + 1, 0)),
            Ok(false),
            "tuesday"
        );

        let overnight = window("23:00:00", "01:00:00", json!(["mon", "tue"]));
        assert_eq!(overnight.in_maintenance(monday(23, 30)), Ok(true));
        assert_eq!(
            overnight.in_maintenance(monday(24, 30)),
            Ok(true),
            "tuesday 00:30"
        );
        assert_eq!(overnight.in_maintenance(monday(12, 0)), Ok(false));
        let monday_only = window("23:00:00", "01:00:00", json!(["mon"]));
        assert_eq!(monday_only.in_maintenance(monday(23, 30)), Ok(true));
        assert_eq!(
            monday_only.in_maintenance(monday(24, 30)),
            Ok(false),
            "tuesday not listed"
        );

        let mut elsewhere = night;
        elsewhere.maintenance_timezone = "Atlantis".into();
        assert!(elsewhere.in_maintenance(monday(1, 0)).is_err());
    }

    #[test]
    fn maintenance_windows_follow_their_time_zone_and_its_daylight_saving_time() {
        let hour = 3_600_000;
        // 2026-01-05 and 2026-07-06 were Mondays (00:00 UTC); Amsterdam is UTC+1 in winter
        // and UTC+2 in summer.
        let winter = |h: i64| Timestamp(1_767_571_200_000 + h * hour);
        let summer = |h: i64| Timestamp(1_783_296_000_000 + h * hour);
        let window = |zone: &str, days: Value| {
            spec(json!({"monitor_type": "status", "url": "http://a",
                        "maintenance_from": "22:00:00", "maintenance_to": "02:00:00",
                        "maintenance_timezone": zone, "maintenance_days": days}))
        };
        let every_day = json!(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]);
        let amsterdam = window("Amsterdam", every_day.clone());
        // 20:30 UTC: 21:30 in winter (outside), 22:30 in summer (inside).
        let half = |t: Timestamp| Timestamp(t.0 + hour / 2);
        assert_eq!(amsterdam.in_maintenance(half(winter(20))), Ok(false));
        assert_eq!(amsterdam.in_maintenance(half(summer(20))), Ok(true));
        // 00:30 UTC: 01:30 in winter (inside), 02:30 in summer (outside).
        assert_eq!(amsterdam.in_maintenance(half(winter(0))), Ok(true));
        assert_eq!(amsterdam.in_maintenance(half(summer(0))), Ok(false));
        // 21:00 UTC is 22:00 in winter, the window's first second.
        assert_eq!(amsterdam.in_maintenance(winter(21)), Ok(true));
        assert_eq!(amsterdam.in_maintenance(winter(20)), Ok(false));

        // The day is Amsterdam's: Sunday 23:30 UTC is Monday 00:30 there.
        let monday_only = window("Amsterdam", json!(["mon"]));
        assert_eq!(monday_only.in_maintenance(half(winter(-1))), Ok(true));
        assert_eq!(
            window("UTC", json!(["mon"])).in_maintenance(half(winter(-1))),
            Ok(false),
            "still Sunday in UTC"
        );
        // Monday 23:30 UTC is Tuesday 00:30 in Amsterdam, and Tuesday is not listed.
        assert_eq!(monday_only.in_maintenance(half(winter(23))), Ok(false));

        let iana = window("Europe/Amsterdam", every_day.clone());
        assert_eq!(iana.maintenance_timezone, "Europe/Amsterdam");
        assert_eq!(iana.in_maintenance(half(summer(20))), Ok(true));
        let new_york = window("Eastern Time (US & Canada)", every_day);
        // 03:00 UTC is 22:00 in New York (UTC-5) on the Sunday before.
        assert_eq!(new_york.in_maintenance(winter(3)), Ok(true));
        assert_eq!(new_york.in_maintenance(winter(2)), Ok(false));
    }

    #[test]
    fn unknown_maintenance_time_zones_are_refused() {
        let bad = json!({"monitor_type": "status", "url": "http://a",
                         "maintenance_timezone": "Atlantis"});
        let errors = MonitorSpec::parse(&input(bad), None).unwrap_err();
        assert_eq!(fields(&errors), ["maintenance_timezone"]);
    }
}
