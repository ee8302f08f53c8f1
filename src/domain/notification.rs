//! What the kill switch tells people: one [`Notice`] per incident opened or resolved and per
//! automatic flag change, queued for every notification channel that asked for it and
//! delivered by `workers::notifications` (Slack, generic webhook, PagerDuty).
//!
//! Also here: a [`Channel`] (where notices go, parsed from the admin API's input by
//! [`ChannelSpec::parse`], with its secrets masked for display) and a [`Delivery`] (one notice
//! to one channel: the outbox row and its log).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::domain::guard::FlagRef;
use crate::domain::{Invalid, Timestamp};

/// Why a notice is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// A monitor went down and an incident was opened (or a guard without a flagwatch
    /// incident, e.g. an SLA breach or a Better Stack alert, tripped).
    IncidentOpened,
    /// The incident was resolved (or the guard's signal recovered).
    IncidentResolved,
    /// A guard switched flags off.
    FlagsDisabled,
    /// A guard switched flags back on (`on_recovery: re_enable`).
    FlagsEnabled,
}

impl NoticeKind {
    /// The `event` field of the generic webhook body.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::IncidentOpened => "incident.opened",
            Self::IncidentResolved => "incident.resolved",
            Self::FlagsDisabled => "flags.disabled",
            Self::FlagsEnabled => "flags.enabled",
        }
    }

    /// PagerDuty's `event_action`: everything that starts trouble triggers, the rest resolves.
    pub fn opens(self) -> bool {
        matches!(self, Self::IncidentOpened | Self::FlagsDisabled)
    }

    pub const ALL: [Self; 4] = [
        Self::IncidentOpened,
        Self::IncidentResolved,
        Self::FlagsDisabled,
        Self::FlagsEnabled,
    ];

    /// Reads [`Self::as_str`] (`incident.opened`) or the serde name (`incident_opened`).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().replace('_', ".");
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// A heading for people ("Incident opened").
    pub fn title(self) -> &'static str {
        match self {
            Self::IncidentOpened => "Incident opened",
            Self::IncidentResolved => "Incident resolved",
            Self::FlagsDisabled => "Flags switched off",
            Self::FlagsEnabled => "Flags switched back on",
        }
    }
}

/// The monitor a notice is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonitorRef {
    pub id: i64,
    pub name: String,
    /// The checked URL or host.
    pub target: String,
}

/// The incident a notice is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentRef {
    /// A flagwatch incident id, or a Better Stack incident id for alerts received by webhook.
    pub id: String,
    pub started_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
    pub cause: String,
}

/// The guard a notice is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardRef {
    pub id: i64,
    pub name: String,
}

/// One message, independent of the channel it goes to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    pub kind: NoticeKind,
    /// One line a person can act on ("checkout-api is down: connection refused").
    pub summary: String,
    pub monitor: Option<MonitorRef>,
    pub incident: Option<IncidentRef>,
    pub guard: Option<GuardRef>,
    /// The flags changed (for `flags.*`) or affected (for `incident.*`).
    pub flags: Vec<FlagRef>,
    pub at: Timestamp,
    /// One key per incident (or per guard trip without an incident): PagerDuty's `dedup_key`,
    /// so the trigger and the resolve of one incident meet in one alert.
    pub dedup_key: String,
}

// ==== Channels ===========================================================================

const MAX_NAME_CHARS: usize = 100;
const MAX_URL_CHARS: usize = 2048;
/// A webhook secret given by the caller must be at least this long (a generated one is 64).
pub const MIN_SECRET_CHARS: usize = 16;
const MAX_SECRET_CHARS: usize = 256;
/// PagerDuty integration (routing) keys are 32 characters.
pub const ROUTING_KEY_CHARS: usize = 32;
/// Where PagerDuty Events API v2 events go unless a channel says otherwise.
pub const PAGERDUTY_EVENTS_URL: &str = "https://events.pagerduty.com/v2/enqueue";
/// PagerDuty's limit on `dedup_key`.
pub const MAX_DEDUP_KEY_CHARS: usize = 255;
/// PagerDuty's limit on `payload.summary`.
pub const MAX_SUMMARY_CHARS: usize = 1024;

/// What shows in place of a secret.
const MASK: &str = "****";

/// Where a channel sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind {
    /// A Slack incoming webhook.
    Slack,
    /// Any URL, with a JSON body signed by HMAC-SHA256.
    Webhook,
    /// PagerDuty Events API v2.
    PagerDuty,
}

impl ChannelKind {
    pub const ALL: [Self; 3] = [Self::Slack, Self::Webhook, Self::PagerDuty];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Slack => "slack",
            Self::Webhook => "webhook",
            Self::PagerDuty => "pagerduty",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The settings a channel of this kind takes.
    fn settings(self) -> &'static [&'static str] {
        match self {
            Self::Slack => &["webhook_url"],
            Self::Webhook => &["url", "secret"],
            Self::PagerDuty => &["routing_key", "events_url", "severity"],
        }
    }
}

/// PagerDuty's `payload.severity` for the alerts a channel triggers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    Error,
    Warning,
    Info,
}

impl Severity {
    pub const ALL: [Self; 4] = [Self::Critical, Self::Error, Self::Warning, Self::Info];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Info => "info",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A channel's settings, secrets included: what is stored and what the sender needs. Shown
/// only through [`ChannelConfig::masked`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ChannelConfig {
    Slack {
        /// `https://hooks.slack.com/services/T…/B…/…`: its path is the secret.
        webhook_url: String,
    },
    Webhook {
        url: String,
        /// The HMAC-SHA256 key for `X-Flagwatch-Signature`.
        secret: String,
    },
    #[serde(rename = "pagerduty")]
    PagerDuty {
        /// The integration key of a PagerDuty service's Events API v2 integration.
        routing_key: String,
        events_url: String,
        severity: Severity,
    },
}

impl ChannelConfig {
    pub fn kind(&self) -> ChannelKind {
        match self {
            Self::Slack { .. } => ChannelKind::Slack,
            Self::Webhook { .. } => ChannelKind::Webhook,
            Self::PagerDuty { .. } => ChannelKind::PagerDuty,
        }
    }

    /// The settings with every secret masked: what the API shows and the audit log keeps.
    pub fn masked(&self) -> Value {
        match self {
            Self::Slack { webhook_url } => json!({"webhook_url": mask_url(webhook_url)}),
            Self::Webhook { url, secret } => json!({"url": url, "secret": mask_secret(secret)}),
            Self::PagerDuty {
                routing_key,
                events_url,
                severity,
            } => json!({
                "routing_key": mask_secret(routing_key),
                "events_url": events_url,
                "severity": severity.as_str(),
            }),
        }
    }
}

/// `****` and the last four characters of a long secret; only `****` for a short one.
pub fn mask_secret(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() >= MIN_SECRET_CHARS {
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{MASK}{tail}")
    } else {
        MASK.to_string()
    }
}

/// `https://hooks.slack.com/services/T0/B0/xyz` → `https://hooks.slack.com/****`.
pub fn mask_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => {
            let host = u.host_str().unwrap_or_default();
            match u.port() {
                Some(port) => format!("{}://{host}:{port}/{MASK}", u.scheme()),
                None => format!("{}://{host}/{MASK}", u.scheme()),
            }
        }
        Err(_) => MASK.to_string(),
    }
}

/// A stored channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    pub id: i64,
    pub name: String,
    pub config: ChannelConfig,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Channel {
    /// What the API returns and the events record: secrets masked.
    pub fn view(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "kind": self.config.kind().as_str(),
            "config": self.config.masked(),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }
}

/// A validated channel from the admin API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelSpec {
    pub name: String,
    pub config: ChannelConfig,
    /// The webhook secret is the generated one: the answer shows it, once.
    pub secret_generated: bool,
}

impl ChannelSpec {
    /// Parses `{"name", "kind", "config": {…}}`. With `current` (an update of a channel of
    /// the same kind), a secret left out or sent back masked, as a GET shows it, keeps its
    /// stored value. A webhook channel with no secret gets `new_secret`.
    pub fn parse(
        body: &Value,
        current: Option<&ChannelConfig>,
        new_secret: &str,
    ) -> Result<Self, Invalid> {
        let Value::Object(body) = body else {
            return Err(Invalid::new(
                "The body must be a JSON object: {\"name\", \"kind\", \"config\"}.",
            ));
        };
        let name = parse_name(body.get("name"))?;
        let kind = match body.get("kind") {
            Some(Value::String(s)) => ChannelKind::parse(s.trim()).ok_or_else(|| {
                Invalid::at(
                    "kind",
                    format!(
                        "\"kind\" must be one of slack, webhook, pagerduty. You provided \"{s}\"."
                    ),
                )
            })?,
            None | Some(Value::Null) => {
                return Err(Invalid::at(
                    "kind",
                    "\"kind\" is required: slack, webhook or pagerduty.",
                ));
            }
            Some(_) => {
                return Err(Invalid::at(
                    "kind",
                    "\"kind\" must be a string: slack, webhook or pagerduty.",
                ));
            }
        };
        let config = match body.get("config") {
            Some(Value::Object(config)) => config,
            None | Some(Value::Null) => {
                return Err(Invalid::at(
                    "config",
                    format!(
                        "\"config\" is required: an object with the {} channel's settings ({}).",
                        kind.as_str(),
                        kind.settings().join(", ")
                    ),
                ));
            }
            Some(_) => {
                return Err(Invalid::at("config", "\"config\" must be a JSON object."));
            }
        };
        if let Some(unknown) = config
            .keys()
            .find(|k| !kind.settings().contains(&k.as_str()))
        {
            return Err(Invalid::at(
                format!("config.{unknown}"),
                format!(
                    "\"config.{unknown}\" is not a setting of a {} channel (it takes {}).",
                    kind.as_str(),
                    kind.settings().join(", ")
                ),
            ));
        }
        let current = current.filter(|c| c.kind() == kind);
        let mut secret_generated = false;
        let config = match kind {
            ChannelKind::Slack => {
                let stored = match current {
                    Some(ChannelConfig::Slack { webhook_url }) => Some(webhook_url.as_str()),
                    _ => None,
                };
                let given = setting(config, "webhook_url")?;
                let webhook_url = match kept(given, stored, mask_url) {
                    Some(Kept::Stored(url)) => url,
                    Some(Kept::Given(url)) => parse_url("config.webhook_url", &url)?,
                    None => {
                        return Err(Invalid::at(
                            "config.webhook_url",
                            "\"config.webhook_url\" is required: the Slack incoming webhook URL.",
                        ));
                    }
                };
                ChannelConfig::Slack { webhook_url }
            }
            ChannelKind::Webhook => {
                let stored = match current {
                    Some(ChannelConfig::Webhook { secret, .. }) => Some(secret.as_str()),
                    _ => None,
                };
                let url = match setting(config, "url")? {
                    Some(url) => parse_url("config.url", &url)?,
                    None => match current {
                        Some(ChannelConfig::Webhook { url, .. }) => url.clone(),
                        _ => {
                            return Err(Invalid::at(
                                "config.url",
                                "\"config.url\" is required: the URL to POST notices to.",
                            ));
                        }
                    },
                };
                let secret = match kept(setting(config, "secret")?, stored, mask_secret) {
                    Some(Kept::Stored(secret)) => secret,
                    Some(Kept::Given(secret)) => parse_secret(&secret)?,
                    None => {
                        secret_generated = true;
                        new_secret.to_string()
                    }
                };
                ChannelConfig::Webhook { url, secret }
            }
            ChannelKind::PagerDuty => {
                let (stored_key, stored_url, stored_severity) = match current {
                    Some(ChannelConfig::PagerDuty {
                        routing_key,
                        events_url,
                        severity,
                    }) => (
                        Some(routing_key.as_str()),
                        Some(events_url),
                        Some(*severity),
                    ),
                    _ => (None, None, None),
                };
                let routing_key = match kept(
                    setting(config, "routing_key")?,
                    stored_key,
                    mask_secret,
                ) {
                    Some(Kept::Stored(key)) => key,
                    Some(Kept::Given(key)) => parse_routing_key(&key)?,
                    None => {
                        return Err(Invalid::at(
                            "config.routing_key",
                            "\"config.routing_key\" is required: the 32-character integration key of a PagerDuty Events API v2 integration.",
                        ));
                    }
                };
                let events_url = match setting(config, "events_url")? {
                    Some(url) => parse_url("config.events_url", &url)?,
                    None => stored_url
                        .cloned()
                        .unwrap_or_else(|| PAGERDUTY_EVENTS_URL.to_string()),
                };
                let severity = match setting(config, "severity")? {
                    Some(s) => Severity::parse(s.trim()).ok_or_else(|| {
                        Invalid::at(
                            "config.severity",
                            format!("\"config.severity\" must be one of critical, error, warning, info. You provided \"{s}\"."),
                        )
                    })?,
                    None => stored_severity.unwrap_or(Severity::Critical),
                };
                ChannelConfig::PagerDuty {
                    routing_key,
                    events_url,
                    severity,
                }
            }
        };
        Ok(Self {
            name,
            config,
            secret_generated,
        })
    }
}

fn parse_name(value: Option<&Value>) -> Result<String, Invalid> {
    let name = match value {
        Some(Value::String(s)) => s.trim(),
        None | Some(Value::Null) => {
            return Err(Invalid::at("name", "\"name\" is required."));
        }
        Some(_) => return Err(Invalid::at("name", "\"name\" must be a string.")),
    };
    if name.is_empty() {
        return Err(Invalid::at("name", "\"name\" is not allowed to be empty."));
    }
    let chars = name.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(Invalid::at(
            "name",
            format!(
                "\"name\" must be at most {MAX_NAME_CHARS} characters long. You provided {chars} characters."
            ),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(Invalid::at(
            "name",
            "\"name\" must not contain control characters.",
        ));
    }
    Ok(name.to_string())
}

/// A string setting; `null` counts as left out.
fn setting(config: &Map<String, Value>, key: &str) -> Result<Option<String>, Invalid> {
    match config.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Invalid::at(
            format!("config.{key}"),
            format!("\"config.{key}\" must be a string."),
        )),
    }
}

enum Kept {
    Stored(String),
    Given(String),
}

/// A secret setting on update: left out, or sent back as the API shows it, keeps the stored one.
fn kept(given: Option<String>, stored: Option<&str>, mask: fn(&str) -> String) -> Option<Kept> {
    match (given, stored) {
        (None, Some(stored)) => Some(Kept::Stored(stored.to_string())),
        (Some(given), Some(stored)) if given == mask(stored) || given == stored => {
            Some(Kept::Stored(stored.to_string()))
        }
        (Some(given), _) => Some(Kept::Given(given)),
        (None, None) => None,
    }
}

/// An `http://` or `https://` URL with a host. The value is never echoed: it may be a secret.
fn parse_url(field: &str, value: &str) -> Result<String, Invalid> {
    let value = value.trim();
    if value.is_empty() {
        return Err(Invalid::at(
            field,
            format!("\"{field}\" is not allowed to be empty."),
        ));
    }
    if value.chars().count() > MAX_URL_CHARS {
        return Err(Invalid::at(
            field,
            format!("\"{field}\" must be at most {MAX_URL_CHARS} characters long."),
        ));
    }
    match url::Url::parse(value) {
        Ok(u)
            if matches!(u.scheme(), "http" | "https")
                && u.host_str().is_some_and(|h| !h.is_empty()) =>
        {
            Ok(value.to_string())
        }
        Ok(_) => Err(Invalid::at(
            field,
            format!("\"{field}\" must be an http:// or https:// URL with a host."),
        )),
        Err(e) => Err(Invalid::at(
            field,
            format!("\"{field}\" must be a valid http:// or https:// URL ({e})."),
        )),
    }
}

fn parse_secret(value: &str) -> Result<String, Invalid> {
    let chars = value.chars().count();
    if !(MIN_SECRET_CHARS..=MAX_SECRET_CHARS).contains(&chars) {
        return Err(Invalid::at(
            "config.secret",
            format!(
                "\"config.secret\" must be {MIN_SECRET_CHARS} to {MAX_SECRET_CHARS} characters long (leave it out to have one generated). You provided {chars} characters."
            ),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(Invalid::at(
            "config.secret",
            "\"config.secret\" must not contain control characters.",
        ));
    }
    Ok(value.to_string())
}

fn parse_routing_key(value: &str) -> Result<String, Invalid> {
    let value = value.trim();
    let chars = value.chars().count();
    if chars != ROUTING_KEY_CHARS || !value.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(Invalid::at(
            "config.routing_key",
            format!(
                "\"config.routing_key\" must be a PagerDuty integration key: {ROUTING_KEY_CHARS} letters and digits. You provided {chars} characters."
            ),
        ));
    }
    Ok(value.to_string())
}

// ==== Deliveries =========================================================================

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Not sent yet, or to be tried again at `next_attempt_at`.
    Pending,
    Delivered,
    /// Given up: refused by the receiver (a 4xx other than 429) or out of attempts.
    Failed,
}

impl DeliveryStatus {
    pub const ALL: [Self; 3] = [Self::Pending, Self::Delivered, Self::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One notice for one channel: the outbox row and its log.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: i64,
    pub channel_id: i64,
    pub channel_name: String,
    pub notice: Notice,
    /// Queued by the channel's `/test` route.
    pub test: bool,
    pub status: DeliveryStatus,
    /// Requests started so far.
    pub attempts: i64,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    /// When a pending delivery is due; `None` once delivered or failed.
    pub next_attempt_at: Option<Timestamp>,
    pub delivered_at: Option<Timestamp>,
}

impl Delivery {
    /// What the delivery log shows.
    pub fn view(&self) -> Value {
        json!({
            "id": self.id,
            "channel_id": self.channel_id,
            "channel": self.channel_name,
            "notice_kind": self.notice.kind.as_str(),
            "summary": self.notice.summary,
            "dedup_key": self.notice.dedup_key,
            "test": self.test,
            "status": self.status.as_str(),
            "attempts": self.attempts,
            "last_status_code": self.last_status_code,
            "last_error": self.last_error,
            "created_at": self.created_at,
            "next_attempt_at": self.next_attempt_at,
            "delivered_at": self.delivered_at,
        })
    }
}

/// A pending delivery claimed by one sender under a lease (`lease_owner`, `lease_until` in
/// `notification_delivery`): what to send.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedDelivery {
    pub id: i64,
    pub channel: Channel,
    pub notice: Notice,
    pub test: bool,
    /// Attempts so far, this one included.
    pub attempts: i64,
}

/// What an attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryResult {
    Delivered {
        status_code: u16,
    },
    /// Try again at `at`.
    Retry {
        status_code: Option<u16>,
        error: String,
        at: Timestamp,
    },
    Failed {
        status_code: Option<u16>,
        error: String,
    },
}

/// Which deliveries the log shows, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryFilter {
    pub channel_id: Option<i64>,
    pub status: Option<DeliveryStatus>,
    pub limit: i64,
}

pub const DEFAULT_DELIVERY_LIMIT: i64 = 50;
pub const MAX_DELIVERY_LIMIT: i64 = 500;

impl DeliveryFilter {
    /// From query-string pairs: `channel_id`, `status` (pending, delivered, failed) and `limit`
    /// (1 to 500, default 50). Other parameters are ignored.
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, Invalid> {
        let mut filter = Self {
            channel_id: None,
            status: None,
            limit: DEFAULT_DELIVERY_LIMIT,
        };
        for (key, value) in pairs {
            match key.as_str() {
                "channel_id" => {
                    filter.channel_id =
                        Some(value.trim().parse().ok().filter(|id| *id > 0).ok_or_else(|| {
                            Invalid::at(
                                "channel_id",
                                format!("\"channel_id\" must be a channel id (a positive integer). You provided \"{value}\"."),
                            )
                        })?);
                }
                "status" => {
                    filter.status = Some(DeliveryStatus::parse(value.trim()).ok_or_else(|| {
                        Invalid::at(
                            "status",
                            format!("\"status\" must be one of pending, delivered, failed. You provided \"{value}\"."),
                        )
                    })?);
                }
                "limit" => {
                    filter.limit = value
                        .trim()
                        .parse()
                        .ok()
                        .filter(|n| (1..=MAX_DELIVERY_LIMIT).contains(n))
                        .ok_or_else(|| {
                            Invalid::at(
                                "limit",
                                format!("\"limit\" must be an integer from 1 to {MAX_DELIVERY_LIMIT}. You provided \"{value}\"."),
                            )
                        })?;
                }
                _ => {}
            }
        }
        Ok(filter)
    }
}

/// The optional body of `POST /api/admin/notification-channels/{id}/test`: which kind of
/// notice to send (default `incident.opened`), and optionally its dedup key and summary, so a
/// PagerDuty channel can be tried with a trigger and then a resolve of the same alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestNotice {
    pub kind: NoticeKind,
    pub dedup_key: Option<String>,
    pub summary: Option<String>,
}

impl TestNotice {
    pub fn parse(body: Option<&Value>) -> Result<Self, Invalid> {
        let mut test = Self {
            kind: NoticeKind::IncidentOpened,
            dedup_key: None,
            summary: None,
        };
        let body = match body {
            None | Some(Value::Null) => return Ok(test),
            Some(Value::Object(body)) => body,
            Some(_) => {
                return Err(Invalid::new(
                    "The body must be a JSON object: {\"kind\", \"dedup_key\", \"summary\"}, each optional.",
                ));
            }
        };
        let text = |key: &str| -> Result<Option<String>, Invalid> {
            match body.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
                Some(_) => Err(Invalid::at(key, format!("\"{key}\" must be a string."))),
            }
        };
        if let Some(kind) = text("kind")? {
            let known: Vec<_> = NoticeKind::ALL.iter().map(|k| k.as_str()).collect();
            test.kind = NoticeKind::parse(&kind).ok_or_else(|| {
                Invalid::at(
                    "kind",
                    format!(
                        "\"kind\" must be one of {}. You provided \"{kind}\".",
                        known.join(", ")
                    ),
                )
            })?;
        }
        if let Some(key) = text("dedup_key")? {
            let chars = key.chars().count();
            if chars == 0 || chars > MAX_DEDUP_KEY_CHARS {
                return Err(Invalid::at(
                    "dedup_key",
                    format!("\"dedup_key\" must be 1 to {MAX_DEDUP_KEY_CHARS} characters long."),
                ));
            }
            test.dedup_key = Some(key);
        }
        if let Some(summary) = text("summary")? {
            let chars = summary.chars().count();
            if chars == 0 || chars > MAX_SUMMARY_CHARS {
                return Err(Invalid::at(
                    "summary",
                    format!("\"summary\" must be 1 to {MAX_SUMMARY_CHARS} characters long."),
                ));
            }
            test.summary = Some(summary);
        }
        Ok(test)
    }

    /// The notice for `channel`; `unique` makes the default dedup key one of a kind.
    pub fn notice(&self, channel: &Channel, at: Timestamp, unique: &str) -> Notice {
        Notice {
            kind: self.kind,
            summary: self.summary.clone().unwrap_or_else(|| {
                format!(
                    "Test notification from flagwatch to the channel \"{}\" ({}).",
                    channel.name,
                    self.kind.title().to_lowercase()
                )
            }),
            monitor: None,
            incident: None,
            guard: None,
            flags: Vec::new(),
            at,
            dedup_key: self
                .dedup_key
                .clone()
                .unwrap_or_else(|| format!("flagwatch-test-{}-{unique}", channel.id)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0123456789abcdef0123456789ABCDEF";

    fn parse(body: &Value) -> Result<ChannelSpec, Invalid> {
        ChannelSpec::parse(body, None, "generated-secret-generated-secret")
    }

    #[test]
    fn parses_each_kind_with_defaults() {
        let slack = parse(&json!({"name": " ops ", "kind": "slack",
            "config": {"webhook_url": "https://hooks.slack.com/services/T0/B0/x"}}))
        .unwrap();
        assert_eq!(slack.name, "ops");
        assert_eq!(slack.config.kind(), ChannelKind::Slack);

        let hook = parse(
            &json!({"name": "h", "kind": "webhook", "config": {"url": "http://127.0.0.1:9/x"}}),
        )
        .unwrap();
        assert!(hook.secret_generated);
        assert_eq!(
            hook.config,
            ChannelConfig::Webhook {
                url: "http://127.0.0.1:9/x".into(),
                secret: "generated-secret-generated-secret".into()
            }
        );
        let given = parse(&json!({"name": "h", "kind": "webhook",
            "config": {"url": "https://e.com", "secret": "a-secret-of-16-chars"}}))
        .unwrap();
        assert!(!given.secret_generated);

        let pd = parse(&json!({"name": "p", "kind": "pagerduty", "config": {"routing_key": KEY}}))
            .unwrap();
        assert_eq!(
            pd.config,
            ChannelConfig::PagerDuty {
                routing_key: KEY.into(),
                events_url: PAGERDUTY_EVENTS_URL.into(),
                severity: Severity::Critical
            }
        );
    }

    #[test]
    fn bad_input_names_the_field() {
        let cases = [
            (json!([]), None),
            (json!({"kind": "slack", "config": {}}), Some("name")),
            (
                json!({"name": "", "kind": "slack", "config": {}}),
                Some("name"),
            ),
            (
                json!({"name": "x".repeat(101), "kind": "slack", "config": {}}),
                Some("name"),
            ),
            (
                json!({"name": "n", "kind": "email", "config": {}}),
                Some("kind"),
            ),
            (json!({"name": "n", "config": {}}), Some("kind")),
            (json!({"name": "n", "kind": "slack"}), Some("config")),
            (
                json!({"name": "n", "kind": "slack", "config": "x"}),
                Some("config"),
            ),
            (
                json!({"name": "n", "kind": "slack", "config": {}}),
                Some("config.webhook_url"),
            ),
            (
                json!({"name": "n", "kind": "slack", "config": {"webhook_url": "ftp://h/x"}}),
                Some("config.webhook_url"),
            ),
            (
                json!({"name": "n", "kind": "slack", "config": {"webhook_url": "not a url"}}),
                Some("config.webhook_url"),
            ),
            (
                json!({"name": "n", "kind": "slack", "config": {"webhook_url": 3}}),
                Some("config.webhook_url"),
            ),
            (
                json!({"name": "n", "kind": "slack", "config": {"webhookUrl": "https://h"}}),
                Some("config.webhookUrl"),
            ),
            (
                json!({"name": "n", "kind": "webhook", "config": {}}),
                Some("config.url"),
            ),
            (
                json!({"name": "n", "kind": "webhook", "config": {"url": "https://h", "secret": "short"}}),
                Some("config.secret"),
            ),
            (
                json!({"name": "n", "kind": "pagerduty", "config": {}}),
                Some("config.routing_key"),
            ),
            (
                json!({"name": "n", "kind": "pagerduty", "config": {"routing_key": "abc"}}),
                Some("config.routing_key"),
            ),
            (
                json!({"name": "n", "kind": "pagerduty", "config": {"routing_key": "0123456789abcdef0123456789abcde!"}}),
                Some("config.routing_key"),
            ),
            (
                json!({"name": "n", "kind": "pagerduty", "config": {"routing_key": KEY, "severity": "fatal"}}),
                Some("config.severity"),
            ),
            (
                json!({"name": "n", "kind": "pagerduty", "config": {"routing_key": KEY, "events_url": "mailto:x@y"}}),
                Some("config.events_url"),
            ),
        ];
        for (body, path) in cases {
            let e = parse(&body).unwrap_err();
            assert_eq!(e.path.as_deref(), path, "{body}: {e}");
        }
    }

    #[test]
    fn secret_urls_are_not_echoed_in_errors() {
        let e = parse(&json!({"name": "n", "kind": "slack",
            "config": {"webhook_url": "hooks.slack.com/services/T0/B0/SECRET"}}))
        .unwrap_err();
        assert!(!e.message.contains("SECRET"), "{e}");
    }

    #[test]
    fn masks_secrets_and_keeps_them_on_update_when_left_out_or_sent_back_masked() {
        let current = ChannelConfig::PagerDuty {
            routing_key: KEY.into(),
            events_url: "http://127.0.0.1:9/pd".into(),
            severity: Severity::Warning,
        };
        let masked = current.masked();
        assert_eq!(masked["routing_key"], "****CDEF");
        assert!(!masked.to_string().contains(KEY));

        for config in [json!({}), json!({"routing_key": "****CDEF"})] {
            let spec = ChannelSpec::parse(
                &json!({"name": "p", "kind": "pagerduty", "config": config}),
                Some(&current),
                "x",
            )
            .unwrap();
            assert_eq!(spec.config, current, "everything kept");
        }
        // Another kind starts afresh.
        assert!(
            ChannelSpec::parse(
                &json!({"name": "p", "kind": "slack", "config": {}}),
                Some(&current),
                "x"
            )
            .is_err()
        );

        let slack = ChannelConfig::Slack {
            webhook_url: "https://hooks.slack.com/services/T0/B0/xyz".into(),
        };
        assert_eq!(
            slack.masked(),
            json!({"webhook_url": "https://hooks.slack.com/****"})
        );
        assert_eq!(
            mask_url("http://127.0.0.1:8080/a/b"),
            "http://127.0.0.1:8080/****"
        );
        assert_eq!(mask_secret("short"), "****");
    }

    #[test]
    fn notice_kinds_read_both_spellings() {
        assert_eq!(
            NoticeKind::parse("incident.opened"),
            Some(NoticeKind::IncidentOpened)
        );
        assert_eq!(
            NoticeKind::parse("flags_enabled"),
            Some(NoticeKind::FlagsEnabled)
        );
        assert_eq!(NoticeKind::parse("incident"), None);
        for k in NoticeKind::ALL {
            let json = serde_json::to_value(k).unwrap();
            assert_eq!(serde_json::from_value::<NoticeKind>(json).unwrap(), k);
        }
    }

    #[test]
    fn delivery_filters_and_test_bodies_are_checked() {
        let pairs = |q: &str| -> Vec<(String, String)> { serde_urlencoded::from_str(q).unwrap() };
        let f = DeliveryFilter::parse(&pairs("channel_id=3&status=failed&limit=5")).unwrap();
        assert_eq!(
            f,
            DeliveryFilter {
                channel_id: Some(3),
                status: Some(DeliveryStatus::Failed),
                limit: 5
            }
        );
        for (q, field) in [
            ("channel_id=x", "channel_id"),
            ("status=sent", "status"),
            ("limit=0", "limit"),
            ("limit=501", "limit"),
        ] {
            let e = DeliveryFilter::parse(&pairs(q)).unwrap_err();
            assert_eq!(e.path.as_deref(), Some(field), "{q}");
        }

        assert_eq!(
            TestNotice::parse(None).unwrap().kind,
            NoticeKind::IncidentOpened
        );
        let t = TestNotice::parse(Some(
            &json!({"kind": "incident.resolved", "dedup_key": "k"}),
        ))
        .unwrap();
        assert_eq!(
            (t.kind, t.dedup_key.as_deref()),
            (NoticeKind::IncidentResolved, Some("k"))
        );
        for (body, field) in [
            (json!({"kind": "boom"}), "kind"),
            (json!({"dedup_key": "x".repeat(256)}), "dedup_key"),
            (json!({"summary": 1}), "summary"),
        ] {
            let e = TestNotice::parse(Some(&body)).unwrap_err();
            assert_eq!(e.path.as_deref(), Some(field), "{body}");
        }
    }
}
