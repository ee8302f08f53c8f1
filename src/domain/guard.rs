//! Guards: the kill switch's configuration. A guard ties a signal (a flagwatch monitor, a
//! Better Stack monitor reporting through a webhook, or an SLA threshold on a monitor) to the
//! flags to switch off when the signal fails, and says what to do when it recovers.
//!
//! A guard that fires opens a *trip*: the record of which flags it switched off, for which
//! incident and why. Within one trip a flag is switched off at most once, so a person who
//! switches it back on during the incident is not overruled; on recovery only the flags the
//! trip itself switched off, and that nobody has touched since, are switched back on.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::domain::{Invalid, Timestamp};

/// Longest SLA window: thirty days.
pub const MAX_WINDOW_MINUTES: i64 = 30 * 24 * 60;
/// Longest look-back for `recently_enabled_hours`: thirty days.
pub const MAX_RECENT_HOURS: i64 = 30 * 24;
const MAX_NAME_CHARS: usize = 100;
const MAX_FLAGS: usize = 1000;

/// One flag in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FlagRef {
    pub project: String,
    pub feature: String,
    pub environment: String,
}

/// SLA thresholds over a sliding window; any one crossed trips the guard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlaThresholds {
    pub monitor_id: i64,
    pub window_minutes: i64,
    /// Minimum availability in percent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability_min: Option<f64>,
    /// Maximum mean response time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_time_max_ms: Option<i64>,
    /// Maximum number of incidents started within the window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incidents_max: Option<i64>,
}

/// What a guard listens to.
#[derive(Debug, Clone, PartialEq)]
pub enum Signal {
    /// A flagwatch monitor (or heartbeat): trips when it goes down, after its confirmation
    /// period, in the transaction that opens the incident.
    Monitor(i64),
    /// A Better Stack monitor, by id or pronounceable name, as its incident webhooks name it.
    BetterStack(String),
    /// An SLA on a flagwatch monitor, evaluated continuously.
    Sla(SlaThresholds),
}

impl Signal {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Monitor(_) => "monitor",
            Self::BetterStack(_) => "betterstack",
            Self::Sla(_) => "sla",
        }
    }

    /// The flagwatch monitor the signal reads, if any.
    pub fn monitor_id(&self) -> Option<i64> {
        match self {
            Self::Monitor(id) => Some(*id),
            Self::Sla(sla) => Some(sla.monitor_id),
            Self::BetterStack(_) => None,
        }
    }

    pub fn to_json(&self) -> Value {
        match self {
            Self::Monitor(id) => json!({"monitor_id": id.to_string()}),
            Self::BetterStack(monitor) => json!({"betterstack_monitor": monitor}),
            Self::Sla(sla) => {
                let mut v = serde_json::to_value(sla).unwrap_or(Value::Null);
                v["monitor_id"] = Value::String(sla.monitor_id.to_string());
                json!({ "sla": v })
            }
        }
    }
}

/// Which flags a guard switches off.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Flags(Vec<FlagRef>),
    /// The flags switched on in `environment` within the last `hours`, read from the event
    /// log when the guard trips (SLA guards only).
    RecentlyEnabled {
        hours: i64,
        environment: String,
    },
}

impl Target {
    pub fn to_json(&self) -> Value {
        match self {
            Self::Flags(flags) => json!(flags),
            Self::RecentlyEnabled { hours, environment } => {
                json!({"recently_enabled_hours": hours, "environment": environment})
            }
        }
    }
}

/// What happens to the flags a guard switched off when its signal recovers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnRecovery {
    /// They stay off until a person switches them on (the default: someone should look).
    #[default]
    KeepDisabled,
    /// The flags this guard switched off, and nobody touched since, are switched back on.
    ReEnable,
    /// Nothing changes; the recovery is only announced on the guard's channels.
    NotifyOnly,
}

impl OnRecovery {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::KeepDisabled => "keep_disabled",
            Self::ReEnable => "re_enable",
            Self::NotifyOnly => "notify_only",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::KeepDisabled, Self::ReEnable, Self::NotifyOnly]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

/// A guard's configuration, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardSpec {
    pub name: String,
    pub signal: Signal,
    pub target: Target,
    pub on_recovery: OnRecovery,
    /// Notification channel ids told about its trips and recoveries.
    pub channels: Vec<i64>,
}

/// A stored guard.
#[derive(Debug, Clone, PartialEq)]
pub struct Guard {
    pub id: i64,
    pub spec: GuardSpec,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What a trip did to one flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagAction {
    /// The guard switched it off (its event id is kept).
    Disabled,
    /// It was already off; the guard holds it but will not switch it on.
    AlreadyOff,
}

impl FlagAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disabled => "disabled",
            Self::AlreadyOff => "already_off",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "disabled" => Some(Self::Disabled),
            "already_off" => Some(Self::AlreadyOff),
            _ => None,
        }
    }
}

/// One flag held by a trip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TripFlag {
    #[serde(flatten)]
    pub flag: FlagRef,
    pub action: FlagAction,
    /// The `feature-environment-disabled` event the guard wrote.
    pub event_id: Option<i64>,
}

/// A guard having fired: open until its signal recovers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trip {
    pub id: i64,
    pub guard_id: i64,
    /// The flagwatch incident that opened it (monitor guards).
    pub incident_id: Option<i64>,
    /// The Better Stack incident id (webhook guards).
    pub external_incident: Option<String>,
    pub reason: String,
    pub started_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    /// How it ended: `re_enabled`, `kept_disabled`, `notified` or `guard_deleted`.
    pub outcome: Option<String>,
    pub flags: Vec<TripFlag>,
}

/// The JSON a client sends to create or replace a guard. `flags` holds either a list of
/// flags or, for SLA guards, a `recently_enabled_hours` target (`target` is an alias).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "checkout",
    "signal": {"monitor_id": "12"},
    "flags": [{"project": "default", "feature": "new-checkout-flow", "environment": "production"}],
    "on_recovery": "keep_disabled",
    "channels": [1]
}))]
pub struct GuardInput {
    /// Required: what people call the guard (its actor is `guard:<name>`).
    #[schema(value_type = Option<String>)]
    pub name: Option<Value>,
    /// Required: `{"monitor_id": "…"}`, `{"betterstack_monitor": "…"}` or
    /// `{"sla": {"monitor_id", "window_minutes", "availability_min", "response_time_max_ms",
    /// "incidents_max"}}`.
    #[schema(value_type = Option<Object>)]
    pub signal: Option<Value>,
    /// Required: `[{"project", "feature", "environment"}]`, or for SLA guards
    /// `{"recently_enabled_hours": n}` (`target` is an alias).
    #[serde(alias = "target")]
    #[schema(value_type = Option<Value>)]
    pub flags: Option<Value>,
    /// `keep_disabled` (default), `re_enable` or `notify_only`.
    #[schema(value_type = Option<String>)]
    pub on_recovery: Option<Value>,
    /// Ids of notification channels told about each trip and recovery.
    #[schema(value_type = Option<Vec<i64>>)]
    pub channels: Option<Value>,
}

impl GuardInput {
    /// The input a stored guard would be created from, for PATCH to merge into.
    pub fn from_spec(spec: &GuardSpec) -> Map<String, Value> {
        let mut map = Map::new();
        map.insert("name".into(), json!(spec.name));
        map.insert("signal".into(), spec.signal.to_json());
        map.insert("flags".into(), spec.target.to_json());
        map.insert("on_recovery".into(), json!(spec.on_recovery.as_str()));
        map.insert("channels".into(), json!(spec.channels));
        map
    }
}

impl GuardSpec {
    /// Checks the shape and the numbers; whether the monitor, flags, environments and
    /// channels exist is the service's job (a 404, not a 400).
    pub fn parse(input: &GuardInput) -> Result<Self, Invalid> {
        let name = match &input.name {
            Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
            Some(Value::String(_)) | None | Some(Value::Null) => {
                return Err(Invalid::at("name", "\"name\" is required."));
            }
            Some(_) => return Err(Invalid::at("name", "\"name\" must be a string.")),
        };
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(Invalid::at(
                "name",
                format!("\"name\" must be at most {MAX_NAME_CHARS} characters long."),
            ));
        }
        let signal = parse_signal(input.signal.as_ref())?;
        let target = parse_target(input.flags.as_ref())?;
        if matches!(target, Target::RecentlyEnabled { .. }) && !matches!(signal, Signal::Sla(_)) {
            return Err(Invalid::at(
                "flags",
                "A \"recently_enabled_hours\" target is only for SLA guards; list the flags for other signals.",
            ));
        }
        let on_recovery = match &input.on_recovery {
            None | Some(Value::Null) => OnRecovery::default(),
            Some(Value::String(s)) => OnRecovery::parse(s).ok_or_else(|| {
                Invalid::at(
                    "on_recovery",
                    format!(
                        "\"on_recovery\" must be one of keep_disabled, re_enable, notify_only (got \"{s}\")."
                    ),
                )
            })?,
            Some(_) => {
                return Err(Invalid::at(
                    "on_recovery",
                    "\"on_recovery\" must be a string.",
                ));
            }
        };
        let channels = parse_channels(input.channels.as_ref())?;
        Ok(Self {
            name,
            signal,
            target,
            on_recovery,
            channels,
        })
    }
}

/// Better Stack ids are strings in JSON; numbers are accepted too.
fn parse_id(field: &str, value: Option<&Value>) -> Result<i64, Invalid> {
    let id = match value {
        Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
        Some(Value::Number(n)) => n.as_i64(),
        None | Some(Value::Null) => {
            return Err(Invalid::at(field, format!("\"{field}\" is required.")));
        }
        Some(_) => None,
    };
    id.filter(|id| *id > 0).ok_or_else(|| {
        Invalid::at(
            field,
            format!("\"{field}\" must be a monitor id (a positive integer or its string)."),
        )
    })
}

fn parse_signal(value: Option<&Value>) -> Result<Signal, Invalid> {
    const SHAPE: &str = "\"signal\" must be one of {\"monitor_id\": \"…\"}, {\"betterstack_monitor\": \"…\"} or {\"sla\": {…}}.";
    let Some(Value::Object(map)) = value else {
        return Err(Invalid::at("signal", SHAPE));
    };
    if map.len() != 1 {
        return Err(Invalid::at("signal", SHAPE));
    }
    if let Some(id) = map.get("monitor_id") {
        return Ok(Signal::Monitor(
            parse_id("monitor_id", Some(id)).map_err(|e| e.within("signal"))?,
        ));
    }
    if let Some(bs) = map.get("betterstack_monitor") {
        let name = match bs {
            Value::String(s) if !s.trim().is_empty() => s.trim().to_string(),
            Value::Number(n) => n.to_string(),
            _ => {
                return Err(Invalid::at(
                    "signal.betterstack_monitor",
                    "\"betterstack_monitor\" must be a Better Stack monitor id or pronounceable name.",
                ));
            }
        };
        return Ok(Signal::BetterStack(name));
    }
    if let Some(sla) = map.get("sla") {
        return parse_sla(sla)
            .map(Signal::Sla)
            .map_err(|e| e.within("signal.sla"));
    }
    Err(Invalid::at("signal", SHAPE))
}

fn parse_sla(value: &Value) -> Result<SlaThresholds, Invalid> {
    let Value::Object(map) = value else {
        return Err(Invalid::new("\"sla\" must be an object."));
    };
    const KNOWN: [&str; 5] = [
        "monitor_id",
        "window_minutes",
        "availability_min",
        "response_time_max_ms",
        "incidents_max",
    ];
    if let Some(unknown) = map.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(Invalid::at(
            unknown.clone(),
            format!("\"{unknown}\" is not an SLA setting."),
        ));
    }
    let monitor_id = parse_id("monitor_id", map.get("monitor_id"))?;
    let int = |field: &str| -> Result<Option<i64>, Invalid> {
        match map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_i64()
                .or_else(|| v.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
                .map(Some)
                .ok_or_else(|| Invalid::at(field, format!("\"{field}\" must be an integer."))),
        }
    };
    let window_minutes = int("window_minutes")?.unwrap_or(60);
    if !(1..=MAX_WINDOW_MINUTES).contains(&window_minutes) {
        return Err(Invalid::at(
            "window_minutes",
            format!("\"window_minutes\" must be between 1 and {MAX_WINDOW_MINUTES}."),
        ));
    }
    let availability_min = match map.get("availability_min") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let pct = v.as_f64().ok_or_else(|| {
                Invalid::at("availability_min", "\"availability_min\" must be a number.")
            })?;
            if !(pct > 0.0 && pct <= 100.0) {
                return Err(Invalid::at(
                    "availability_min",
                    "\"availability_min\" is a percentage: more than 0, at most 100.",
                ));
            }
            Some(pct)
        }
    };
    let response_time_max_ms = int("response_time_max_ms")?;
    if response_time_max_ms.is_some_and(|ms| ms <= 0) {
        return Err(Invalid::at(
            "response_time_max_ms",
            "\"response_time_max_ms\" must be more than 0.",
        ));
    }
    let incidents_max = int("incidents_max")?;
    if incidents_max.is_some_and(|n| n < 0) {
        return Err(Invalid::at(
            "incidents_max",
            "\"incidents_max\" must be 0 or more.",
        ));
    }
    if availability_min.is_none() && response_time_max_ms.is_none() && incidents_max.is_none() {
        return Err(Invalid::new(
            "An SLA needs at least one threshold: availability_min, response_time_max_ms or incidents_max.",
        ));
    }
    Ok(SlaThresholds {
        monitor_id,
        window_minutes,
        availability_min,
        response_time_max_ms,
        incidents_max,
    })
}

fn parse_target(value: Option<&Value>) -> Result<Target, Invalid> {
    match value {
        Some(Value::Array(items)) => {
            if items.is_empty() {
                return Err(Invalid::at(
                    "flags",
                    "\"flags\" must name at least one flag.",
                ));
            }
            if items.len() > MAX_FLAGS {
                return Err(Invalid::at(
                    "flags",
                    format!("A guard can hold at most {MAX_FLAGS} flags."),
                ));
            }
            let mut flags = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let flag = parse_flag(item).map_err(|e| e.within(&format!("flags[{i}]")))?;
                if !flags.contains(&flag) {
                    flags.push(flag);
                }
            }
            Ok(Target::Flags(flags))
        }
        Some(Value::Object(map)) => {
            let hours = map.get("recently_enabled_hours").and_then(Value::as_i64);
            let environment = map.get("environment").and_then(Value::as_str);
            match (hours, environment) {
                (Some(hours), Some(env)) if map.len() == 2 => {
                    if !(1..=MAX_RECENT_HOURS).contains(&hours) {
                        return Err(Invalid::at(
                            "flags.recently_enabled_hours",
                            format!(
                                "\"recently_enabled_hours\" must be between 1 and {MAX_RECENT_HOURS}."
                            ),
                        ));
                    }
                    Ok(Target::RecentlyEnabled {
                        hours,
                        environment: env.to_string(),
                    })
                }
                _ => Err(Invalid::at(
                    "flags",
                    "A target object must be {\"recently_enabled_hours\": <hours>, \"environment\": \"<name>\"}.",
                )),
            }
        }
        _ => Err(Invalid::at(
            "flags",
            "\"flags\" must be a list of {\"project\", \"feature\", \"environment\"} or a {\"recently_enabled_hours\", \"environment\"} target.",
        )),
    }
}

fn parse_flag(value: &Value) -> Result<FlagRef, Invalid> {
    let Value::Object(map) = value else {
        return Err(Invalid::new(
            "Each flag must be {\"project\", \"feature\", \"environment\"}.",
        ));
    };
    let text = |field: &str, default: Option<&str>| -> Result<String, Invalid> {
        match map.get(field) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            None | Some(Value::Null) if default.is_some() => {
                Ok(default.unwrap_or_default().to_string())
            }
            _ => Err(Invalid::at(
                field,
                format!("\"{field}\" is required and must be a non-empty string."),
            )),
        }
    };
    if let Some(unknown) = map
        .keys()
        .find(|k| !["project", "feature", "environment"].contains(&k.as_str()))
    {
        return Err(Invalid::at(
            unknown.clone(),
            format!("\"{unknown}\" is not a flag field (project, feature, environment)."),
        ));
    }
    Ok(FlagRef {
        project: text("project", Some("default"))?,
        feature: text("feature", None)?,
        environment: text("environment", None)?,
    })
}

fn parse_channels(value: Option<&Value>) -> Result<Vec<i64>, Invalid> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => {
            let mut ids = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let id = parse_id("channels", Some(item)).map_err(|_| {
                    Invalid::at(
                        format!("channels[{i}]"),
                        "Each channel must be a notification channel id.",
                    )
                })?;
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            Ok(ids)
        }
        Some(_) => Err(Invalid::at(
            "channels",
            "\"channels\" must be a list of notification channel ids.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: Value) -> Result<GuardSpec, Invalid> {
        GuardSpec::parse(&serde_json::from_value(v).unwrap())
    }

    #[test]
    fn a_monitor_guard_defaults_to_keep_disabled() {
        let spec = parse(json!({
            "name": "checkout",
            "signal": {"monitor_id": "12"},
            "flags": [{"feature": "new-checkout", "environment": "production"}],
        }))
        .unwrap();
        assert_eq!(spec.signal, Signal::Monitor(12));
        assert_eq!(spec.on_recovery, OnRecovery::KeepDisabled);
        assert_eq!(
            spec.target,
            Target::Flags(vec![FlagRef {
                project: "default".into(),
                feature: "new-checkout".into(),
                environment: "production".into()
            }])
        );
    }

    #[test]
    fn an_sla_guard_may_target_recently_enabled_flags() {
        let spec = parse(json!({
            "name": "rollback",
            "signal": {"sla": {"monitor_id": 3, "window_minutes": 60, "availability_min": 99.5}},
            "flags": {"recently_enabled_hours": 24, "environment": "production"},
            "on_recovery": "notify_only",
        }))
        .unwrap();
        assert!(matches!(spec.signal, Signal::Sla(ref s) if s.availability_min == Some(99.5)));
        assert_eq!(
            spec.target,
            Target::RecentlyEnabled {
                hours: 24,
                environment: "production".into()
            }
        );
    }

    #[test]
    fn bad_thresholds_name_the_field() {
        for (sla, field) in [
            (
                json!({"monitor_id": 1, "availability_min": 120}),
                "availability_min",
            ),
            (
                json!({"monitor_id": 1, "availability_min": 0}),
                "availability_min",
            ),
            (
                json!({"monitor_id": 1, "response_time_max_ms": -5}),
                "response_time_max_ms",
            ),
            (
                json!({"monitor_id": 1, "incidents_max": -1}),
                "incidents_max",
            ),
            (
                json!({"monitor_id": 1, "window_minutes": 0, "incidents_max": 1}),
                "window_minutes",
            ),
            (json!({"monitor_id": 1, "availability": 99}), "availability"),
        ] {
            let err = parse(json!({
                "name": "g", "signal": {"sla": sla}, "flags": [{"feature": "f", "environment": "e"}],
            }))
            .unwrap_err();
            assert_eq!(
                err.path.as_deref(),
                Some(format!("signal.sla.{field}").as_str()),
                "{err}"
            );
        }
        let err = parse(json!({
            "name": "g", "signal": {"sla": {"monitor_id": 1}}, "flags": [{"feature": "f", "environment": "e"}],
        }))
        .unwrap_err();
        assert!(err.message.contains("at least one threshold"), "{err}");
    }

    #[test]
    fn shapes_are_checked() {
        let flags = json!([{"feature": "f", "environment": "e"}]);
        for body in [
            json!({"signal": {"monitor_id": "1"}, "flags": flags}),
            json!({"name": "g", "signal": {"monitor_id": "x"}, "flags": flags}),
            json!({"name": "g", "signal": {"monitor_id": "1", "sla": {}}, "flags": flags}),
            json!({"name": "g", "signal": {"monitor_id": "1"}, "flags": []}),
            json!({"name": "g", "signal": {"monitor_id": "1"}, "flags": [{"feature": "f"}]}),
            json!({"name": "g", "signal": {"monitor_id": "1"}, "flags": {"recently_enabled_hours": 2, "environment": "e"}}),
            json!({"name": "g", "signal": {"monitor_id": "1"}, "flags": flags, "on_recovery": "maybe"}),
            json!({"name": "g", "signal": {"monitor_id": "1"}, "flags": flags, "channels": ["a"]}),
        ] {
            assert!(parse(body.clone()).is_err(), "accepted {body}");
        }
    }

    #[test]
    fn a_spec_round_trips_through_its_input() {
        let spec = parse(json!({
            "name": "g",
            "signal": {"sla": {"monitor_id": "4", "incidents_max": 2}},
            "flags": [{"project": "p", "feature": "f", "environment": "e"}],
            "on_recovery": "re_enable",
            "channels": [3],
        }))
        .unwrap();
        let again = parse(Value::Object(GuardInput::from_spec(&spec))).unwrap();
        assert_eq!(spec, again);
    }
}
