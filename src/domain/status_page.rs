//! Public status pages, configured through Better Stack's v2 status-page API
//! (`../shared/reference/uptime.md` §1.6): a page ([`StatusPageSpec`]) and the monitors and
//! heartbeats it shows ([`ResourceSpec`]). Field names, defaults and the read-only `status`,
//! `availability` and `aggregate_state` values are Better Stack's.
//!
//! Attributes that act here: `company_name`, `company_url` (the page's back link),
//! `subdomain` (the slug: `/status/<subdomain>`), `timezone` (days and times on the page),
//! `history` (days of history), `announcement` (a plain-text notice), `published` (an
//! unpublished page is not shown), `hide_from_search_engines`, `theme` (light or dark) and
//! `password_enabled`/`password` (HTTP Basic). The others ([`PAGE_PASS_THROUGH`]) are accepted
//! with a light type check, stored as given and returned unchanged, as the monitor API does.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::domain::attributes::{FieldErrors, Fields, merged};
use crate::domain::{Timestamp, timezone};

/// Better Stack's status-page attributes that have no effect here.
pub const PAGE_PASS_THROUGH: &[&str] = &[
    "custom_domain",
    "contact_url",
    "logo_url",
    "dark_logo_url",
    "min_incident_length",
    "subscribable",
    "require_sso",
    "ip_allowlist",
    "design",
    "layout",
    "navigation_links",
    "announcement_embed_visible",
    "announcement_embed_link",
    "announcement_embed_custom_css",
    "automatic_reports",
    "whitelabeled",
    "custom_css",
    "custom_javascript",
    "google_analytics_id",
    "status_page_group_id",
    "team_name",
];

/// Better Stack's status-page-resource attributes that have no effect here.
pub const RESOURCE_PASS_THROUGH: &[&str] = &[
    "status_page_section_id",
    "mark_as_down_for",
    "mark_as_degraded_for",
    "fixed_position",
];

const PAGE_READ_ONLY: &[&str] = &["id", "aggregate_state", "created_at", "updated_at"];
const RESOURCE_READ_ONLY: &[&str] = &[
    "id",
    "status",
    "availability",
    "status_page_id",
    "created_at",
    "updated_at",
];

/// Days of history: Better Stack's bounds, and the default (the familiar 90-day bars).
pub const HISTORY_DAYS: (i64, i64) = (7, 365);
pub const DEFAULT_HISTORY: i64 = 90;

const MAX_NAME_CHARS: usize = 255;
const MAX_URL_CHARS: usize = 2_048;
const MAX_TEXT_CHARS: usize = 5_000;

/// A validated status page configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusPageSpec {
    pub company_name: String,
    /// An `http(s)://` URL, or `None`.
    pub company_url: Option<String>,
    /// The slug, lower case: a DNS label (letters, digits, inner hyphens; 1–63).
    pub subdomain: String,
    /// As given: a Rails zone name or an IANA id that [`timezone::resolve`] knows.
    pub timezone: String,
    pub history: i64,
    pub announcement: Option<String>,
    pub published: bool,
    pub hide_from_search_engines: bool,
    /// `light` or `dark`.
    pub theme: String,
    pub password_enabled: bool,
    /// The [`PAGE_PASS_THROUGH`] attributes given, as given.
    pub extra: Map<String, Value>,
}

/// A stored status page.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusPage {
    pub id: i64,
    pub spec: StatusPageSpec,
    /// `sha256$<salt>$<hex>` of the password, if one was set ([`hash_password`]).
    pub password_hash: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What a page shows, Better Stack's `resource_type`s that flagwatch has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceType {
    Monitor,
    Heartbeat,
}

impl ResourceType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Monitor => "Monitor",
            Self::Heartbeat => "Heartbeat",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Monitor, Self::Heartbeat]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

/// Better Stack's `widget_type`. `plain` shows the status alone; the others show the status
/// with the daily history bars (flagwatch draws no intraday or response-time widget).
pub const WIDGET_TYPES: &[&str] = &["plain", "history", "intraday_history", "response_times"];

/// A validated resource of a page.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceSpec {
    pub resource_type: ResourceType,
    /// The monitor's (or heartbeat's) id. Whether it exists, with that type, is the service's
    /// check.
    pub resource_id: i64,
    pub public_name: String,
    pub explanation: Option<String>,
    /// Order on the page, ascending; `None` on create: after the last one.
    pub position: Option<i64>,
    /// One of [`WIDGET_TYPES`].
    pub widget_type: String,
    /// The [`RESOURCE_PASS_THROUGH`] attributes given, as given.
    pub extra: Map<String, Value>,
}

/// A stored resource; its `spec.position` is always set.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusPageResource {
    pub id: i64,
    pub status_page_id: i64,
    pub spec: ResourceSpec,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl StatusPageResource {
    pub fn position(&self) -> i64 {
        self.spec.position.unwrap_or(0)
    }

    /// Whether the page draws daily history bars for it.
    pub fn shows_history(&self) -> bool {
        self.spec.widget_type != "plain"
    }
}

/// Better Stack's resource `status`, from the monitor's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceStatus {
    /// Paused, or not checked yet.
    NotMonitored,
    Operational,
    Maintenance,
    /// Back up, but still `validating` (the incident is not resolved yet).
    Degraded,
    Downtime,
}

impl ResourceStatus {
    pub fn from_monitor_status(status: &str) -> Self {
        match status {
            "up" => Self::Operational,
            "down" => Self::Downtime,
            "validating" => Self::Degraded,
            "maintenance" => Self::Maintenance,
            _ => Self::NotMonitored,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotMonitored => "not_monitored",
            Self::Operational => "operational",
            Self::Maintenance => "maintenance",
            Self::Degraded => "degraded",
            Self::Downtime => "downtime",
        }
    }

    /// What the public page says.
    pub fn label(self) -> &'static str {
        match self {
            Self::NotMonitored => "No data",
            Self::Operational => "Operational",
            Self::Maintenance => "Maintenance",
            Self::Degraded => "Degraded",
            Self::Downtime => "Downtime",
        }
    }
}

/// Better Stack's page `aggregate_state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregateState {
    Operational,
    DegradedPerformance,
    PartialOutage,
    MajorOutage,
}

impl AggregateState {
    /// Any resource down: a major outage if every monitored one is, a partial outage
    /// otherwise; any degraded: degraded performance; else operational (resources not
    /// monitored or in maintenance do not count).
    pub fn of(statuses: &[ResourceStatus]) -> Self {
        let monitored: Vec<_> = statuses
            .iter()
            .filter(|s| {
                !matches!(
                    s,
                    ResourceStatus::NotMonitored | ResourceStatus::Maintenance
                )
            })
            .collect();
        let down = monitored
            .iter()
            .filter(|s| ***s == ResourceStatus::Downtime)
            .count();
        if down > 0 && down == monitored.len() {
            Self::MajorOutage
        } else if down > 0 {
            Self::PartialOutage
        } else if monitored.iter().any(|s| **s == ResourceStatus::Degraded) {
            Self::DegradedPerformance
        } else {
            Self::Operational
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Operational => "operational",
            Self::DegradedPerformance => "degraded_performance",
            Self::PartialOutage => "partial_outage",
            Self::MajorOutage => "major_outage",
        }
    }

    /// The page's banner.
    pub fn headline(self) -> &'static str {
        match self {
            Self::Operational => "All systems operational",
            Self::DegradedPerformance => "Degraded performance",
            Self::PartialOutage => "Partial outage",
            Self::MajorOutage => "Major outage",
        }
    }
}

/// A DNS label: 1–63 of `a-z`, `0-9`, `-`, not starting or ending with `-`.
fn is_dns_label(s: &str) -> bool {
    (1..=63).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// An absolute `http(s)://` URL with a host: what may go into the page's `href`.
pub fn is_web_url(s: &str) -> bool {
    url::Url::parse(s)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
}

impl StatusPageSpec {
    /// Validates `input` (the attributes a client sent). With `current`, `input` is a partial
    /// update and the result is validated as a whole. `has_password`: a password is stored.
    /// Returns the spec and the new password, if one was given (write-only: hash it).
    pub fn parse(
        input: &Map<String, Value>,
        current: Option<&Self>,
        has_password: bool,
    ) -> Result<(Self, Option<String>), FieldErrors> {
        let merged_input;
        let attrs = match current {
            Some(c) => {
                merged_input = merged(c.attributes(), input, PAGE_READ_ONLY);
                &merged_input
            }
            None => input,
        };
        let mut f = Fields::new(attrs);
        let company_name = f.required_text("company_name", MAX_NAME_CHARS);
        let company_url = f.text("company_url", MAX_URL_CHARS);
        if let Some(u) = &company_url
            && !is_web_url(u)
        {
            f.error("company_url", "must be an http:// or https:// URL");
        }
        let subdomain = f.required_text("subdomain", 63).to_ascii_lowercase();
        if !subdomain.is_empty() && !is_dns_label(&subdomain) {
            f.error(
                "subdomain",
                "must be 1 to 63 letters, digits or hyphens, not starting or ending with a hyphen",
            );
        }
        let timezone = f.text("timezone", 100).unwrap_or_else(|| "UTC".into());
        if timezone::resolve(&timezone).is_none() {
            f.error(
                "timezone",
                "is not a time zone (a Rails name such as \"Amsterdam\" or an IANA id such as \"Europe/Amsterdam\")",
            );
        }
        let history = match f.int("history") {
            None => DEFAULT_HISTORY,
            Some(n) if (HISTORY_DAYS.0..=HISTORY_DAYS.1).contains(&n) => n,
            Some(_) => {
                f.error(
                    "history",
                    format!(
                        "must be between {} and {} days",
                        HISTORY_DAYS.0, HISTORY_DAYS.1
                    ),
                );
                DEFAULT_HISTORY
            }
        };
        let announcement = f.text("announcement", MAX_TEXT_CHARS);
        let published = f.bool("published", true);
        let hide_from_search_engines = f.bool("hide_from_search_engines", false);
        let theme = match f.get("theme") {
            None => "light".to_string(),
            Some(Value::String(t)) if matches!(t.as_str(), "light" | "dark") => t.clone(),
            Some(_) => {
                f.error("theme", "must be light or dark");
                "light".to_string()
            }
        };
        let password_enabled = f.bool("password_enabled", false);
        // Write-only: read from what the client sent, never from the stored attributes.
        let password = match input.get("password") {
            None | Some(Value::Null) => None,
            Some(Value::String(p)) if !p.is_empty() && p.chars().count() <= MAX_NAME_CHARS => {
                Some(p.clone())
            }
            Some(Value::String(p)) if p.is_empty() => {
                f.error("password", "can't be blank");
                None
            }
            Some(Value::String(_)) => {
                f.error(
                    "password",
                    format!("is too long (at most {MAX_NAME_CHARS} characters)"),
                );
                None
            }
            Some(_) => {
                f.error("password", "must be a string");
                None
            }
        };
        if password_enabled
            && password.is_none()
            && !has_password
            && f.errors
                .iter()
                .all(|e| e.path.as_deref() != Some("password"))
        {
            f.error("password", "can't be blank when password_enabled is true");
        }
        let extra = f.pass_through(PAGE_PASS_THROUGH);
        if !f.errors.is_empty() {
            return Err(f.errors);
        }
        Ok((
            Self {
                company_name,
                company_url,
                subdomain,
                timezone,
                history,
                announcement,
                published,
                hide_from_search_engines,
                theme,
                password_enabled,
                extra,
            },
            password,
        ))
    }

    /// The writable attributes as the API returns them (never the password).
    pub fn attributes(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("company_name".into(), self.company_name.clone().into());
        m.insert("company_url".into(), self.company_url.clone().into());
        m.insert("subdomain".into(), self.subdomain.clone().into());
        m.insert("timezone".into(), self.timezone.clone().into());
        m.insert("history".into(), self.history.into());
        m.insert("announcement".into(), self.announcement.clone().into());
        m.insert("published".into(), self.published.into());
        m.insert(
            "hide_from_search_engines".into(),
            self.hide_from_search_engines.into(),
        );
        m.insert("theme".into(), self.theme.clone().into());
        m.insert("password_enabled".into(), self.password_enabled.into());
        for (k, v) in &self.extra {
            m.insert(k.clone(), v.clone());
        }
        m
    }

    /// The zone days and times are shown in (UTC if the stored name no longer resolves).
    pub fn zone(&self) -> chrono_tz::Tz {
        timezone::resolve(&self.timezone).unwrap_or(chrono_tz::Tz::UTC)
    }
}

impl StatusPage {
    /// Every attribute but `aggregate_state` (the service adds it), as the API returns them.
    pub fn attributes(&self) -> Map<String, Value> {
        let mut m = self.spec.attributes();
        m.insert("created_at".into(), self.created_at.to_rfc3339().into());
        m.insert("updated_at".into(), self.updated_at.to_rfc3339().into());
        m
    }

    /// What the audit log records: the attributes and the id, never the password.
    pub fn audit_view(&self) -> Value {
        let mut m = self.attributes();
        m.insert("id".into(), self.id.into());
        Value::Object(m)
    }

    /// Whether the public page asks for a password, and `given` is it.
    pub fn password_accepts(&self, given: &str) -> bool {
        self.password_hash
            .as_deref()
            .is_some_and(|stored| password_matches(stored, given))
    }
}

/// `sha256$<salt>$<hex of SHA-256(salt || password)>`; `salt` should be random.
pub fn hash_password(salt: &str, password: &str) -> String {
    let digest = Sha256::digest(format!("{salt}{password}").as_bytes());
    format!("sha256${salt}${}", hex::encode(digest))
}

/// Whether `given` is the password `stored` ([`hash_password`]) was made from; constant time.
pub fn password_matches(stored: &str, given: &str) -> bool {
    use subtle::ConstantTimeEq;
    let mut parts = stored.splitn(3, '$');
    let (Some("sha256"), Some(salt), Some(_)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    hash_password(salt, given)
        .as_bytes()
        .ct_eq(stored.as_bytes())
        .into()
}

impl ResourceSpec {
    /// Validates `input`; with `current`, as a partial update validated as a whole.
    pub fn parse(input: &Map<String, Value>, current: Option<&Self>) -> Result<Self, FieldErrors> {
        let merged_input;
        let attrs = match current {
            Some(c) => {
                merged_input = merged(c.attributes(), input, RESOURCE_READ_ONLY);
                &merged_input
            }
            None => input,
        };
        let mut f = Fields::new(attrs);
        let resource_type = match f.get("resource_type") {
            None => ResourceType::Monitor,
            Some(Value::String(s)) => ResourceType::parse(s).unwrap_or_else(|| {
                f.error(
                    "resource_type",
                    "must be Monitor or Heartbeat (the resource types flagwatch has)",
                );
                ResourceType::Monitor
            }),
            Some(_) => {
                f.error("resource_type", "must be a string");
                ResourceType::Monitor
            }
        };
        let resource_id = match f.get("resource_id") {
            None => {
                f.error("resource_id", "can't be blank");
                0
            }
            Some(_) => f.int("resource_id").unwrap_or(0),
        };
        let public_name = f.required_text("public_name", MAX_NAME_CHARS);
        let explanation = f.text("explanation", MAX_TEXT_CHARS);
        let position = match f.int("position") {
            Some(p) if p < 0 => {
                f.error("position", "must be 0 or more");
                None
            }
            p => p,
        };
        let widget_type = match f.get("widget_type") {
            None => "history".to_string(),
            Some(Value::String(w)) if WIDGET_TYPES.contains(&w.as_str()) => w.clone(),
            Some(_) => {
                f.error(
                    "widget_type",
                    format!("must be one of: {}", WIDGET_TYPES.join(", ")),
                );
                "history".to_string()
            }
        };
        let extra = f.pass_through(RESOURCE_PASS_THROUGH);
        if !f.errors.is_empty() {
            return Err(f.errors);
        }
        Ok(Self {
            resource_type,
            resource_id,
            public_name,
            explanation,
            position,
            widget_type,
            extra,
        })
    }

    /// The writable attributes, as the API returns them.
    pub fn attributes(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("resource_id".into(), self.resource_id.into());
        m.insert("resource_type".into(), self.resource_type.as_str().into());
        m.insert("public_name".into(), self.public_name.clone().into());
        m.insert("explanation".into(), self.explanation.clone().into());
        m.insert("position".into(), self.position.into());
        m.insert("widget_type".into(), self.widget_type.clone().into());
        for (k, v) in &self.extra {
            m.insert(k.clone(), v.clone());
        }
        m
    }
}

impl StatusPageResource {
    /// What the audit log records: the attributes, the id and the page's id.
    pub fn audit_view(&self) -> Value {
        let mut m = self.spec.attributes();
        m.insert("id".into(), self.id.into());
        m.insert("status_page_id".into(), self.status_page_id.into());
        Value::Object(m)
    }
}

/// The calendar day `at` falls on in `zone`.
pub fn local_date(zone: chrono_tz::Tz, at: Timestamp) -> chrono::NaiveDate {
    chrono::DateTime::from_timestamp_millis(at.millis())
        .unwrap_or_default()
        .with_timezone(&zone)
        .date_naive()
}

/// The first instant of `date` in `zone`: its midnight, or, where a daylight-saving change
/// skips midnight, the first local time after it that exists.
pub fn start_of_day(zone: chrono_tz::Tz, date: chrono::NaiveDate) -> Timestamp {
    use chrono::TimeZone;
    let midnight = date.and_time(chrono::NaiveTime::MIN);
    (0..=24 * 4)
        .map(|quarter| midnight + chrono::Duration::minutes(15 * quarter))
        .find_map(|local| zone.from_local_datetime(&local).earliest())
        .map_or_else(
            || Timestamp(midnight.and_utc().timestamp_millis()),
            |t| Timestamp(t.timestamp_millis()),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    fn paths(errors: &FieldErrors) -> Vec<&str> {
        errors.iter().filter_map(|e| e.path.as_deref()).collect()
    }

    #[test]
    fn a_page_needs_a_name_and_a_slug_and_takes_better_stack_defaults() {
        let (spec, password) = StatusPageSpec::parse(
            &obj(json!({"company_name": " Acme ", "subdomain": "Acme-Status"})),
            None,
            false,
        )
        .unwrap();
        assert_eq!(spec.company_name, "Acme");
        assert_eq!(spec.subdomain, "acme-status");
        assert_eq!(spec.timezone, "UTC");
        assert_eq!(spec.history, 90);
        assert!(spec.published);
        assert_eq!(password, None);

        let errors = StatusPageSpec::parse(&obj(json!({})), None, false).unwrap_err();
        assert_eq!(paths(&errors), ["company_name", "subdomain"]);
    }

    #[test]
    fn bad_fields_are_all_reported() {
        let errors = StatusPageSpec::parse(
            &obj(json!({
                "company_name": 3, "subdomain": "-x", "company_url": "javascript:alert(1)",
                "timezone": "Atlantis", "history": 3, "theme": "pink", "published": "yes",
                "password_enabled": true,
            })),
            None,
            false,
        )
        .unwrap_err();
        assert_eq!(
            paths(&errors),
            [
                "company_name",
                "company_url",
                "subdomain",
                "timezone",
                "history",
                "published",
                "theme",
                "password"
            ]
        );
    }

    #[test]
    fn a_patch_keeps_what_it_does_not_name_and_the_password_is_write_only() {
        let (spec, _) = StatusPageSpec::parse(
            &obj(json!({"company_name": "Acme", "subdomain": "acme", "custom_domain": "status.acme.com"})),
            None,
            false,
        )
        .unwrap();
        let (patched, password) = StatusPageSpec::parse(
            &obj(json!({"history": 30, "password_enabled": true, "password": "s3cret"})),
            Some(&spec),
            false,
        )
        .unwrap();
        assert_eq!(patched.company_name, "Acme");
        assert_eq!(patched.history, 30);
        assert_eq!(patched.extra["custom_domain"], "status.acme.com");
        assert_eq!(password.as_deref(), Some("s3cret"));
        assert!(!patched.attributes().contains_key("password"));
        // Enabled with a password already stored: none needed.
        assert!(StatusPageSpec::parse(&obj(json!({})), Some(&patched), true).is_ok());
    }

    #[test]
    fn passwords_are_salted_hashes_compared_whole() {
        let stored = hash_password("abc", "pw");
        assert!(password_matches(&stored, "pw"));
        assert!(!password_matches(&stored, "pw "));
        assert!(!password_matches(&hash_password("abd", "pw"), "x"));
        assert!(!password_matches("plain", "plain"));
    }

    #[test]
    fn resources_name_a_monitor_or_heartbeat_with_a_public_name() {
        let spec = ResourceSpec::parse(
            &obj(json!({"resource_id": "12", "public_name": "API"})),
            None,
        )
        .unwrap();
        assert_eq!(spec.resource_type, ResourceType::Monitor);
        assert_eq!(spec.resource_id, 12);
        assert_eq!(spec.widget_type, "history");
        assert_eq!(spec.position, None);
        let errors = ResourceSpec::parse(
            &obj(json!({"resource_type": "LogsChart", "widget_type": "pie", "position": -1})),
            None,
        )
        .unwrap_err();
        assert_eq!(
            paths(&errors),
            [
                "resource_type",
                "resource_id",
                "public_name",
                "position",
                "widget_type"
            ]
        );
    }

    #[test]
    fn days_start_at_local_midnight_even_when_daylight_saving_skips_it() {
        let amsterdam = chrono_tz::Tz::Europe__Amsterdam;
        let date = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        // Winter: UTC+1.
        assert_eq!(
            start_of_day(amsterdam, date("2026-01-02")),
            Timestamp::parse("2026-01-01T23:00:00Z").unwrap()
        );
        assert_eq!(
            local_date(amsterdam, Timestamp::parse("2026-01-01T23:30:00Z").unwrap()),
            date("2026-01-02")
        );
        // Santiago skips 00:00–01:00 when its summer time starts (2026-09-06).
        let santiago = chrono_tz::Tz::America__Santiago;
        assert_eq!(
            start_of_day(santiago, date("2026-09-06")),
            Timestamp::parse("2026-09-06T04:00:00Z").unwrap()
        );
    }

    #[test]
    fn the_aggregate_state_follows_the_worst_monitored_resource() {
        use ResourceStatus::*;
        assert_eq!(AggregateState::of(&[]), AggregateState::Operational);
        assert_eq!(
            AggregateState::of(&[Operational, NotMonitored]),
            AggregateState::Operational
        );
        assert_eq!(
            AggregateState::of(&[Operational, Degraded]),
            AggregateState::DegradedPerformance
        );
        assert_eq!(
            AggregateState::of(&[Operational, Downtime]),
            AggregateState::PartialOutage
        );
        assert_eq!(
            AggregateState::of(&[Downtime, NotMonitored]),
            AggregateState::MajorOutage
        );
    }
}
