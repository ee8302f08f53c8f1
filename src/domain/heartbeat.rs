//! Heartbeats (cron monitoring), configured through Better Stack's v2 heartbeat API
//! (`../shared/reference/uptime.md` §1.4). A job pings `/api/v1/heartbeat/<token>` every
//! `period` seconds; a ping that does not come within `period` + `grace` seconds of the last
//! one makes the heartbeat `down`. `/fail` and a non-zero `/<exit code>` report a failure.
//!
//! A heartbeat is stored as a monitor row of its own type (see `migrations/*/0007`), so it has
//! the monitors' status machine and incidents: pings and misses are [`ProbeResult`]s fed to
//! `Service::record_probe_result`, with no confirmation or recovery period.
//!
//! [`ProbeResult`]: crate::domain::probe::ProbeResult

use serde_json::{Map, Value};

use crate::domain::Timestamp;
use crate::domain::attributes::{FieldErrors, Fields, merged};
use crate::domain::probe::Cause;

/// Stored as `monitor.monitor_type`; no `MonitorType` has it, so monitor queries skip it.
pub const MONITOR_TYPE: &str = "heartbeat";

/// `period` bounds, seconds. Better Stack's minimum is 30 s; flagwatch allows 1 s, as it does
/// for `check_frequency`. Up to 31 days, for monthly jobs.
pub const PERIOD_SECS: (i64, i64) = (1, 31 * 86_400);
/// `grace` bounds, seconds.
pub const GRACE_SECS: (i64, i64) = (0, 31 * 86_400);
/// Better Stack's default `period` and `grace` (grace: about 20 % of the period).
pub const DEFAULT_PERIOD: i64 = 60;
pub const DEFAULT_GRACE: i64 = 0;

/// Accepted, stored and returned as given; no effect in flagwatch (no alerting, no groups, no
/// maintenance windows for heartbeats).
pub const PASS_THROUGH: &[&str] = &[
    "call",
    "sms",
    "email",
    "push",
    "critical_alert",
    "team_wait",
    "team_name",
    "heartbeat_group_id",
    "sort_index",
    "policy_id",
    "server_timezone",
    "maintenance_days",
    "maintenance_from",
    "maintenance_to",
    "maintenance_timezone",
];

/// Returned when not given, as Better Stack's defaults.
const PASS_THROUGH_DEFAULTS: &[(&str, Value)] = &[
    ("call", Value::Bool(false)),
    ("sms", Value::Bool(false)),
    ("email", Value::Bool(true)),
    ("push", Value::Bool(false)),
    ("critical_alert", Value::Bool(false)),
    ("team_wait", Value::Null),
    ("heartbeat_group_id", Value::Null),
    ("sort_index", Value::Null),
    ("policy_id", Value::Null),
];

/// Read-only attributes, ignored in input.
const READ_ONLY: &[&str] = &[
    "id",
    "url",
    "status",
    "paused_at",
    "created_at",
    "updated_at",
];

/// A validated heartbeat configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct HeartbeatSpec {
    pub name: String,
    /// Seconds between expected pings.
    pub period: i64,
    /// Seconds of lateness tolerated after `period`.
    pub grace: i64,
    pub paused: bool,
    /// The [`PASS_THROUGH`] attributes given, as given.
    pub extra: Map<String, Value>,
}

/// A stored heartbeat.
#[derive(Debug, Clone, PartialEq)]
pub struct Heartbeat {
    /// Its monitor id: incidents name it as their monitor.
    pub id: i64,
    pub spec: HeartbeatSpec,
    /// The secret in the ping URL.
    pub token: String,
    /// `pending` (never pinged), `up`, `down` or `paused`.
    pub status: String,
    pub paused_at: Option<Timestamp>,
    pub last_ping_at: Option<Timestamp>,
    pub missed_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl HeartbeatSpec {
    /// Validates `input` (the attributes a client sent). With `current`, `input` is a partial
    /// update: attributes given replace the current ones and the result is validated whole.
    pub fn parse(input: &Map<String, Value>, current: Option<&Self>) -> Result<Self, FieldErrors> {
        let merged_input;
        let input = match current {
            Some(current) => {
                merged_input = merged(current.attributes(), input, READ_ONLY);
                &merged_input
            }
            None => input,
        };
        let mut f = Fields::new(input);
        let name = match input.get("name") {
            Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
            None | Some(Value::Null | Value::String(_)) => {
                f.error("name", "can't be blank");
                String::new()
            }
            Some(_) => {
                f.error("name", "must be a string");
                String::new()
            }
        };
        let period = f.int_in("period", DEFAULT_PERIOD, PERIOD_SECS, "seconds");
        let grace = f.int_in("grace", DEFAULT_GRACE, GRACE_SECS, "seconds");
        let paused = f.bool("paused", false);
        let mut extra = Map::new();
        for &key in PASS_THROUGH {
            let Some(value) = input.get(key) else {
                continue;
            };
            let boolean = matches!(key, "call" | "sms" | "email" | "push" | "critical_alert");
            if boolean && !(value.is_boolean() || value.is_null()) {
                f.error(key, "must be true or false");
            } else {
                extra.insert(key.to_string(), value.clone());
            }
        }
        if f.errors.is_empty() {
            Ok(Self {
                name,
                period,
                grace,
                paused,
                extra,
            })
        } else {
            Err(f.errors)
        }
    }

    /// The writable attributes, as the API returns them.
    pub fn attributes(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("name".into(), self.name.clone().into());
        m.insert("period".into(), self.period.into());
        m.insert("grace".into(), self.grace.into());
        m.insert("paused".into(), self.paused.into());
        for (k, v) in PASS_THROUGH_DEFAULTS {
            m.insert((*k).to_string(), v.clone());
        }
        for (k, v) in &self.extra {
            m.insert(k.clone(), v.clone());
        }
        m
    }
}

impl Heartbeat {
    /// The public ping URL under `base` (`scheme://host`).
    pub fn ping_url(&self, base: &str) -> String {
        format!("{base}/api/v1/heartbeat/{}", self.token)
    }

    /// Every attribute, as Better Stack's API returns them; `url` is the ping URL under `base`.
    pub fn attributes(&self, base: &str) -> Map<String, Value> {
        let mut m = self.spec.attributes();
        m.insert("url".into(), self.ping_url(base).into());
        m.insert("status".into(), self.status.clone().into());
        let ts = |t: Option<Timestamp>| t.map_or(Value::Null, |t| t.to_rfc3339().into());
        m.insert("paused_at".into(), ts(self.paused_at));
        m.insert("created_at".into(), ts(Some(self.created_at)));
        m.insert("updated_at".into(), ts(Some(self.updated_at)));
        m
    }

    /// What the audit log records: the attributes and the id, without the ping URL (its token).
    pub fn audit_view(&self) -> Value {
        let mut m = self.attributes("");
        m.remove("url");
        m.insert("id".into(), self.id.into());
        Value::Object(m)
    }

    /// The missed-ping clock, as [`missed_ping`] needs it.
    pub fn clock(&self) -> PingClock {
        PingClock {
            period: self.spec.period,
            grace: self.spec.grace,
            last_ping_at: self.last_ping_at,
            missed_at: self.missed_at,
        }
    }
}

/// What a ping to the public URL reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ping {
    /// `/api/v1/heartbeat/<token>`, or `/<token>/0`.
    Success,
    /// `/<token>/fail` (`None`) or `/<token>/<exit code>` with a non-zero code.
    Failure(Option<i64>),
}

impl Ping {
    /// The path after the token: nothing, `fail`, or an exit code. `None` for anything else.
    pub fn parse(suffix: Option<&str>) -> Option<Self> {
        match suffix {
            None | Some("") => Some(Self::Success),
            Some("fail") => Some(Self::Failure(None)),
            Some(code) => match code.parse::<i64>().ok()? {
                0 => Some(Self::Success),
                code => Some(Self::Failure(Some(code))),
            },
        }
    }

    /// The cause a failure report is down with.
    pub fn cause(self) -> Option<Cause> {
        match self {
            Self::Success => None,
            Self::Failure(code) => Some(Cause::HeartbeatFailed(code)),
        }
    }
}

/// What the missed-ping decision needs to know about a heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PingClock {
    pub period: i64,
    pub grace: i64,
    pub last_ping_at: Option<Timestamp>,
    /// When a miss was last reported, if ever.
    pub missed_at: Option<Timestamp>,
}

/// Whether, at `now`, the heartbeat has missed a ping that has not been reported yet.
///
/// - Never pinged: no (it stays `pending`; the clock starts at the first ping, as Better
///   Stack's).
/// - Up to `period` + `grace` seconds after the last ping: no.
/// - Later: yes, once; then again each further `period` while no ping comes (a miss reported
///   at `m` is reported again from `m + period`).
pub fn missed_ping(clock: &PingClock, now: Timestamp) -> bool {
    let Some(last) = clock.last_ping_at else {
        return false;
    };
    let secs = |s: i64| s.max(0).saturating_mul(1000);
    let deadline = last
        .millis()
        .saturating_add(secs(clock.period))
        .saturating_add(secs(clock.grace));
    if now.millis() <= deadline {
        return false;
    }
    match clock.missed_at {
        // Reported since the last ping: again once a further period has gone by.
        Some(m) if m.millis() >= last.millis() => {
            now.millis() >= m.millis().saturating_add(secs(clock.period.max(1)))
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const T0: i64 = 1_700_000_000_000;

    fn at(secs: i64) -> Timestamp {
        Timestamp(T0 + secs * 1000)
    }

    fn clock(last: Option<i64>, missed: Option<i64>) -> PingClock {
        PingClock {
            period: 60,
            grace: 10,
            last_ping_at: last.map(at),
            missed_at: missed.map(at),
        }
    }

    #[test]
    fn missed_ping_decides_from_explicit_times() {
        let cases: &[(&str, PingClock, i64, bool)] = &[
            ("never pinged", clock(None, None), 10_000, false),
            ("within the period", clock(Some(0), None), 59, false),
            ("within the grace", clock(Some(0), None), 70, false),
            ("past period + grace", clock(Some(0), None), 71, true),
            ("already reported", clock(Some(0), Some(71)), 100, false),
            (
                "one period after the report",
                clock(Some(0), Some(71)),
                131,
                true,
            ),
            (
                "a miss reported before the last ping is old news",
                clock(Some(100), Some(71)),
                171,
                true,
            ),
            (
                "… but not before the new deadline",
                clock(Some(100), Some(71)),
                170,
                false,
            ),
        ];
        for (what, c, now, want) in cases {
            assert_eq!(missed_ping(c, at(*now)), *want, "{what}");
        }
    }

    #[test]
    fn zero_grace_and_one_second_periods() {
        let c = PingClock {
            period: 1,
            grace: 0,
            last_ping_at: Some(Timestamp(T0)),
            missed_at: None,
        };
        assert!(!missed_ping(&c, Timestamp(T0 + 1000)));
        assert!(missed_ping(&c, Timestamp(T0 + 1001)));
    }

    #[test]
    fn pings_parse_from_the_path() {
        assert_eq!(Ping::parse(None), Some(Ping::Success));
        assert_eq!(Ping::parse(Some("0")), Some(Ping::Success));
        assert_eq!(Ping::parse(Some("fail")), Some(Ping::Failure(None)));
        assert_eq!(Ping::parse(Some("1")), Some(Ping::Failure(Some(1))));
        assert_eq!(Ping::parse(Some("-1")), Some(Ping::Failure(Some(-1))));
        assert_eq!(Ping::parse(Some("nope")), None);
        assert_eq!(
            Ping::Failure(Some(2)).cause(),
            Some(Cause::HeartbeatFailed(Some(2)))
        );
    }

    #[test]
    fn specs_validate_and_merge() {
        let input = |v: Value| v.as_object().unwrap().clone();
        let spec = HeartbeatSpec::parse(
            &input(json!({"name": "backup", "period": 3600, "grace": 300, "call": true})),
            None,
        )
        .unwrap();
        assert_eq!((spec.period, spec.grace), (3600, 300));
        assert_eq!(spec.attributes()["call"], json!(true));
        assert_eq!(spec.attributes()["email"], json!(true));
        let errors = HeartbeatSpec::parse(
            &input(json!({"period": 0, "grace": -1, "sms": "yes"})),
            None,
        )
        .unwrap_err();
        let fields: Vec<_> = errors.iter().filter_map(|e| e.path.as_deref()).collect();
        assert_eq!(fields, ["name", "period", "grace", "sms"]);
        let updated =
            HeartbeatSpec::parse(&input(json!({"grace": 5, "url": "x"})), Some(&spec)).unwrap();
        assert_eq!((updated.name.as_str(), updated.grace), ("backup", 5));
        assert_eq!(updated.extra["call"], json!(true));
    }
}
