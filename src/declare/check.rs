//! Checking a file on its own, before any database is touched: names unique within their
//! kind, references by name pointing into the file, secrets read from the environment, and
//! every object put through the same domain parser the API uses (with stand-in ids where
//! the database would give them), so a bad rollout or threshold is found here and not half
//! way through applying. Every problem is reported, not only the first.
//!
//! Also here: turning the file's types into the inputs the service takes, once the ids are
//! known (`check` passes stand-ins, `apply` the real ones).

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Map, Value, json};

use crate::declare::file::{
    ChannelDecl, ConstraintDecl, EnvironmentDecl, FileDecl, FlagDecl, GuardDecl, ProjectDecl,
    SegmentDecl, StrategyDecl, VariantDecl,
};
use crate::domain::Invalid;
use crate::domain::feature::{FeatureInput, FeatureMetadata};
use crate::domain::guard::{GuardInput, GuardSpec};
use crate::domain::monitor::{MonitorInput, MonitorSpec, PASS_THROUGH};
use crate::domain::name::parse_url_friendly;
use crate::domain::notification::ChannelSpec;
use crate::domain::segment::{SegmentInput, SegmentSpec};
use crate::domain::strategy::{
    ConstraintInput, Override, Payload, StrategyInput, StrategySpec, VariantInput, parse_variants,
};
use crate::domain::token::{TokenKind, TokenScope};

/// A file that passed every check that needs no database. Holds resolved secrets, so it has
/// no `Debug`.
pub struct Declaration {
    pub(super) source: String,
    pub(super) environments: Vec<EnvironmentDecl>,
    pub(super) projects: Vec<ProjectDecl>,
    pub(super) segments: Vec<SegmentDecl>,
    pub(super) flags: Vec<FlagDecl>,
    pub(super) channels: Vec<ChannelPlan>,
    pub(super) monitors: Vec<MonitorPlan>,
    pub(super) guards: Vec<GuardDecl>,
    pub(super) tokens: Vec<TokenPlan>,
}

impl Declaration {
    /// The file's name, as the actor of every change names it (`config:<source>`).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the file declares API tokens (start-up then generates no admin token).
    pub fn declares_tokens(&self) -> bool {
        !self.tokens.is_empty()
    }
}

/// A channel: its API body (`{"name", "kind", "config"}`), secrets resolved.
pub(super) struct ChannelPlan {
    pub name: String,
    pub body: Value,
}

/// A monitor: its attributes without `notification_channels`, the password resolved.
pub(super) struct MonitorPlan {
    pub name: String,
    pub attributes: Map<String, Value>,
    /// Channel names; `None` when the file leaves them out.
    pub channels: Option<Vec<String>>,
}

/// A token, its secret resolved and its scope read from it.
pub(super) struct TokenPlan {
    pub name: String,
    pub kind: TokenKind,
    pub secret: String,
    pub scope: TokenScope,
}

/// The attributes a monitor in the file may have: Better Stack's writable ones, the
/// pass-through ones, and `auth_password_env`.
const MONITOR_ATTRIBUTES: &[&str] = &[
    "url",
    "pronounceable_name",
    "monitor_type",
    "check_frequency",
    "request_timeout",
    "confirmation_period",
    "recovery_period",
    "http_method",
    "request_headers",
    "request_body",
    "expected_status_codes",
    "required_keyword",
    "dns_record_type",
    "follow_redirects",
    "remember_cookies",
    "verify_ssl",
    "ssl_expiration",
    "port",
    "auth_username",
    "auth_password",
    "auth_password_env",
    "paused",
    "maintenance_from",
    "maintenance_to",
    "maintenance_timezone",
    "maintenance_days",
    "notification_channels",
];

/// What is wrong, one line per problem, each naming the object.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn add(&mut self, at: &str, message: impl std::fmt::Display) {
        self.0.push(format!("{at}: {message}"));
    }

    fn invalid(&mut self, at: &str, e: &Invalid) {
        self.add(at, describe(e));
    }
}

/// An `Invalid` in words, with the field it names.
pub(super) fn describe(e: &Invalid) -> String {
    match &e.path {
        Some(path) => format!("{path}: {}", e.message),
        None => e.message.clone(),
    }
}

/// Checks `file`; `source` names it. `env` reads environment variables (`std::env::var` but
/// for tests).
pub(super) fn check(
    file: FileDecl,
    source: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Declaration, Vec<String>> {
    let mut p = Problems::default();

    let mut seen = HashSet::new();
    for e in &file.environments {
        let at = format!("environment \"{}\"", e.name);
        if let Err(err) = parse_url_friendly("name", &e.name) {
            p.invalid(&at, &err);
        }
        if e.env_type.trim().is_empty() {
            p.add(
                &at,
                "\"type\" must not be empty (development, test or production)",
            );
        }
        if !seen.insert(e.name.as_str()) {
            p.add(&at, "declared twice");
        }
    }

    let mut seen = HashSet::new();
    for project in &file.projects {
        let at = format!("project \"{}\"", project.id);
        if let Err(err) = parse_url_friendly("id", &project.id) {
            p.invalid(&at, &err);
        }
        if !seen.insert(project.id.as_str()) {
            p.add(&at, "declared twice");
        }
    }

    let segment_ids = stand_in_ids(file.segments.iter().map(|s| s.name.as_str()));
    let mut seen = HashSet::new();
    for s in &file.segments {
        let at = format!("segment \"{}\"", s.name);
        if let Err(err) = SegmentSpec::parse(segment_input(s)) {
            p.invalid(&at, &err);
        }
        if !seen.insert(s.name.as_str()) {
            p.add(&at, "declared twice");
        }
    }

    let mut seen = HashSet::new();
    for flag in &file.flags {
        let at = format!("flag \"{}\"", flag.name);
        if !seen.insert(flag.name.as_str()) {
            p.add(
                &at,
                "declared twice (flag names are unique across projects)",
            );
        }
        check_flag(&mut p, &at, flag, &segment_ids);
    }

    let mut channels = Vec::new();
    let mut seen = HashSet::new();
    for c in &file.channels {
        let at = format!("channel \"{}\"", c.name);
        if !seen.insert(c.name.clone()) {
            p.add(&at, "declared twice");
        }
        match channel_body(c, env) {
            Ok(body) => {
                // A stand-in for the secret a webhook channel without one is given.
                if let Err(err) = ChannelSpec::parse(&body, None, &"0".repeat(64)) {
                    p.invalid(&at, &err);
                }
                channels.push(ChannelPlan {
                    name: c.name.clone(),
                    body,
                });
            }
            Err(message) => p.add(&at, message),
        }
    }
    let channel_ids = stand_in_ids(channels.iter().map(|c| c.name.as_str()));

    let mut monitors = Vec::new();
    let mut seen = HashSet::new();
    for (i, attributes) in file.monitors.into_iter().enumerate() {
        let Some(plan) = check_monitor(&mut p, i, attributes, &channel_ids, env) else {
            continue;
        };
        if !seen.insert(plan.name.clone()) {
            p.add(
                &format!("monitor \"{}\"", plan.name),
                "declared twice (monitors are matched by pronounceable_name, which must be unique in the file)",
            );
        }
        monitors.push(plan);
    }
    let monitor_ids = stand_in_ids(monitors.iter().map(|m| m.name.as_str()));

    let mut seen = HashSet::new();
    for g in &file.guards {
        let at = format!("guard \"{}\"", g.name);
        if !seen.insert(g.name.as_str()) {
            p.add(&at, "declared twice");
        }
        check_guard(&mut p, &at, g, &monitor_ids, &channel_ids);
    }

    let mut tokens: Vec<TokenPlan> = Vec::new();
    let mut seen = HashSet::new();
    for t in &file.tokens {
        let at = format!("token \"{}\"", t.name);
        if t.name.trim().is_empty() {
            p.add(&at, "\"name\" must not be empty");
        }
        if !seen.insert(t.name.as_str()) {
            p.add(&at, "declared twice");
        }
        let kind = match TokenKind::parse(&t.kind) {
            Ok(kind) => kind,
            Err(err) => {
                p.invalid(&at, &err);
                continue;
            }
        };
        let secret = match secret_value("secret", t.secret.as_deref(), t.secret_env.as_deref(), env)
        {
            Ok(Some(secret)) => secret,
            Ok(None) => {
                p.add(
                    &at,
                    "give its secret as \"secret_env\" (an environment variable's name) or \"secret\"",
                );
                continue;
            }
            Err(message) => {
                p.add(&at, message);
                continue;
            }
        };
        let scope = match TokenScope::parse_secret(&secret).and_then(|scope| {
            scope.check_for(kind)?;
            Ok(scope)
        }) {
            Ok(scope) => scope,
            Err(err) => {
                p.invalid(&at, &err);
                continue;
            }
        };
        if tokens.iter().any(|other| other.secret == secret) {
            p.add(&at, "has the same secret as another token in the file");
        }
        tokens.push(TokenPlan {
            name: t.name.clone(),
            kind,
            secret,
            scope,
        });
    }

    if !p.0.is_empty() {
        return Err(p.0);
    }
    Ok(Declaration {
        source: source.to_string(),
        environments: file.environments,
        projects: file.projects,
        segments: file.segments,
        flags: file.flags,
        channels,
        monitors,
        guards: file.guards,
        tokens,
    })
}

/// Ids 1, 2, … for the names of one kind, standing in for the database's.
fn stand_in_ids<'a>(names: impl Iterator<Item = &'a str>) -> HashMap<String, i64> {
    names
        .zip(1..)
        .map(|(name, id)| (name.to_string(), id))
        .collect()
}

fn check_flag(p: &mut Problems, at: &str, flag: &FlagDecl, segment_ids: &HashMap<String, i64>) {
    if let Err(err) = FeatureMetadata::parse_new(&feature_input(flag)) {
        p.invalid(at, &err);
    }
    if let Some(project) = &flag.project
        && let Err(err) = parse_url_friendly("project", project)
    {
        p.invalid(at, &err);
    }
    for (env, decl) in &flag.environments {
        let at = format!("{at}, environment \"{env}\"");
        if let Some(strategies) = &decl.strategies {
            for (i, s) in strategies.iter().enumerate() {
                let at = format!("{at}, strategies[{i}]");
                let mut known = true;
                for name in &s.segments {
                    if !segment_ids.contains_key(name) {
                        p.add(
                            &at,
                            format!("segment \"{name}\" is not declared in this file"),
                        );
                        known = false;
                    }
                }
                if known
                    && let Err(err) =
                        StrategySpec::parse(strategy_input(s, segment_ids), &flag.name)
                {
                    p.invalid(&at, &err);
                }
            }
            if decl.enabled == Some(true) && strategies.iter().all(|s| s.disabled == Some(true)) {
                p.add(
                    &at,
                    "is switched on with no active strategy: switching on adds Unleash's default strategy (100 % flexibleRollout), which the next apply would remove again. Give a strategy, or leave \"strategies\" out",
                );
            }
        }
        if let Some(variants) = &decl.variants
            && let Err(err) = parse_variants(variant_inputs(variants), true)
        {
            p.invalid(&at, &err);
        }
    }
}

fn check_monitor(
    p: &mut Problems,
    index: usize,
    mut attributes: Map<String, Value>,
    channel_ids: &HashMap<String, i64>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<MonitorPlan> {
    let name = match attributes.get("pronounceable_name") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        _ => {
            p.add(
                &format!("monitors[{index}]"),
                "\"pronounceable_name\" is required: monitors are matched by it",
            );
            return None;
        }
    };
    let at = format!("monitor \"{name}\"");
    let mut ok = true;
    for key in attributes.keys() {
        if !MONITOR_ATTRIBUTES.contains(&key.as_str()) && !PASS_THROUGH.contains(&key.as_str()) {
            p.add(&at, format!("\"{key}\" is not a monitor attribute"));
            ok = false;
        }
    }
    let channels = match attributes.remove("notification_channels") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => {
            let mut names = Vec::new();
            for item in items {
                match item {
                    Value::String(n) if channel_ids.contains_key(&n) => names.push(n),
                    Value::String(n) => {
                        p.add(
                            &at,
                            format!("notification channel \"{n}\" is not declared in this file"),
                        );
                        ok = false;
                    }
                    _ => {
                        p.add(
                            &at,
                            "\"notification_channels\" must be a list of channel names",
                        );
                        ok = false;
                    }
                }
            }
            Some(names)
        }
        Some(_) => {
            p.add(
                &at,
                "\"notification_channels\" must be a list of channel names",
            );
            ok = false;
            None
        }
    };
    let given = attributes.get("auth_password").and_then(Value::as_str);
    let from_env = match attributes.get("auth_password_env") {
        None => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => {
            p.add(
                &at,
                "\"auth_password_env\" must be an environment variable's name",
            );
            return None;
        }
    };
    match secret_value("auth_password", given, from_env, env) {
        Ok(Some(password)) => {
            attributes.remove("auth_password_env");
            attributes.insert("auth_password".into(), Value::String(password));
        }
        Ok(None) => {}
        Err(message) => {
            p.add(&at, message);
            ok = false;
        }
    }
    let plan = MonitorPlan {
        name,
        attributes,
        channels,
    };
    if ok && let Err(errors) = MonitorSpec::parse(&monitor_input(&plan, channel_ids), None) {
        for err in &errors {
            p.invalid(&at, err);
        }
    }
    ok.then_some(plan)
}

fn check_guard(
    p: &mut Problems,
    at: &str,
    g: &GuardDecl,
    monitor_ids: &HashMap<String, i64>,
    channel_ids: &HashMap<String, i64>,
) {
    let signals = [
        g.monitor.is_some(),
        g.betterstack_monitor.is_some(),
        g.sla.is_some(),
    ];
    if signals.iter().filter(|s| **s).count() != 1 {
        p.add(
            at,
            "give exactly one signal: \"monitor\" (a monitor's pronounceable_name), \"betterstack_monitor\" or \"sla\"",
        );
        return;
    }
    if g.flags.is_some() == g.recently_enabled.is_some() {
        p.add(
            at,
            "give exactly one target: \"flags\" (a list of {project, feature, environment}) or \"recently_enabled\" (SLA guards)",
        );
        return;
    }
    let mut known = true;
    for monitor in g.monitor.iter().chain(g.sla.iter().map(|s| &s.monitor)) {
        if !monitor_ids.contains_key(monitor) {
            p.add(
                at,
                format!(
                    "monitor \"{monitor}\" is not declared in this file (guards name monitors by their pronounceable_name)"
                ),
            );
            known = false;
        }
    }
    for channel in g.channels.iter().flatten() {
        if !channel_ids.contains_key(channel) {
            p.add(
                at,
                format!("notification channel \"{channel}\" is not declared in this file"),
            );
            known = false;
        }
    }
    if known {
        let input = guard_input(g, monitor_ids, channel_ids, None);
        if let Err(err) = GuardSpec::parse(&input) {
            p.invalid(at, &err);
        }
    }
}

/// A secret from the file or from the environment variable named by `<field>_env`.
fn secret_value(
    field: &str,
    given: Option<&str>,
    from_env: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<String>, String> {
    match (given, from_env) {
        (Some(_), Some(_)) => Err(format!("give \"{field}\" or \"{field}_env\", not both")),
        (Some(value), None) => Ok(Some(value.to_string())),
        (None, Some(var)) => match env(var).filter(|v| !v.is_empty()) {
            Some(value) => Ok(Some(value)),
            None => Err(format!(
                "the environment variable {var} (\"{field}_env\") is not set"
            )),
        },
        (None, None) => Ok(None),
    }
}

/// The admin API's body for a channel, secrets read.
fn channel_body(c: &ChannelDecl, env: &dyn Fn(&str) -> Option<String>) -> Result<Value, String> {
    let mut config = Map::new();
    let mut put = |key: &str, value: Option<String>| {
        if let Some(v) = value {
            config.insert(key.to_string(), Value::String(v));
        }
    };
    put(
        "webhook_url",
        secret_value(
            "webhook_url",
            c.webhook_url.as_deref(),
            c.webhook_url_env.as_deref(),
            env,
        )?,
    );
    put("url", c.url.clone());
    put(
        "secret",
        secret_value("secret", c.secret.as_deref(), c.secret_env.as_deref(), env)?,
    );
    put(
        "routing_key",
        secret_value(
            "routing_key",
            c.routing_key.as_deref(),
            c.routing_key_env.as_deref(),
            env,
        )?,
    );
    put("events_url", c.events_url.clone());
    put("severity", c.severity.clone());
    Ok(json!({"name": c.name, "kind": c.kind, "config": config}))
}

// ---- from the file's types to the service's inputs ---------------------------------------

pub(super) fn feature_input(flag: &FlagDecl) -> FeatureInput {
    FeatureInput {
        name: Some(flag.name.clone()),
        description: flag.description.clone(),
        feature_type: flag.flag_type.clone(),
        impression_data: flag.impression_data,
        stale: flag.stale,
        tags: None,
    }
}

pub(super) fn segment_input(s: &SegmentDecl) -> SegmentInput {
    SegmentInput {
        name: Some(s.name.clone()),
        description: s.description.clone(),
        project: s.project.clone(),
        constraints: Some(s.constraints.iter().map(constraint_input).collect()),
    }
}

fn constraint_input(c: &ConstraintDecl) -> ConstraintInput {
    ConstraintInput {
        context_name: Some(c.context_name.clone()),
        operator: Some(c.operator.clone()),
        values: Some(c.values.clone()),
        value: c.value.clone(),
        case_insensitive: c.case_insensitive,
        inverted: c.inverted,
    }
}

/// Segment names become ids through `segment_ids` (names missing there are dropped: `check`
/// reports them first).
pub(super) fn strategy_input(
    s: &StrategyDecl,
    segment_ids: &HashMap<String, i64>,
) -> StrategyInput {
    StrategyInput {
        name: Some(s.name.clone()),
        title: s.title.clone(),
        disabled: s.disabled,
        sort_order: None,
        constraints: Some(s.constraints.iter().map(constraint_input).collect()),
        parameters: Some(
            s.parameters
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<BTreeMap<_, _>>(),
        ),
        variants: Some(variant_inputs(&s.variants)),
        segments: Some(
            s.segments
                .iter()
                .filter_map(|name| segment_ids.get(name).copied())
                .collect(),
        ),
    }
}

pub(super) fn variant_inputs(variants: &[VariantDecl]) -> Vec<VariantInput> {
    variants
        .iter()
        .map(|v| VariantInput {
            name: Some(v.name.clone()),
            weight: v.weight.clone(),
            weight_type: v.weight_type.clone(),
            stickiness: v.stickiness.clone(),
            payload: v.payload.as_ref().map(|p| Payload {
                payload_type: p.payload_type.clone(),
                value: p.value.clone(),
            }),
            overrides: Some(
                v.overrides
                    .iter()
                    .map(|o| Override {
                        context_name: o.context_name.clone(),
                        values: o.values.clone(),
                    })
                    .collect(),
            ),
        })
        .collect()
}

/// The monitor's attributes with its channels as ids (and no `notification_channels` when
/// the file leaves them out, so an update keeps the stored ones).
pub(super) fn monitor_input(
    plan: &MonitorPlan,
    channel_ids: &HashMap<String, i64>,
) -> MonitorInput {
    let mut attributes = plan.attributes.clone();
    if let Some(names) = &plan.channels {
        let ids: Vec<i64> = names
            .iter()
            .filter_map(|n| channel_ids.get(n).copied())
            .collect();
        attributes.insert("notification_channels".into(), json!(ids));
    }
    MonitorInput(attributes)
}

/// The guard as the API takes it. `stored` is the guard's current input: what the file leaves
/// out (`on_recovery`, `channels`) keeps its stored value.
pub(super) fn guard_input(
    g: &GuardDecl,
    monitor_ids: &HashMap<String, i64>,
    channel_ids: &HashMap<String, i64>,
    stored: Option<&Map<String, Value>>,
) -> GuardInput {
    let id = |name: &str| monitor_ids.get(name).copied().unwrap_or(0).to_string();
    let signal = if let Some(m) = &g.monitor {
        json!({"monitor_id": id(m)})
    } else if let Some(bs) = &g.betterstack_monitor {
        json!({"betterstack_monitor": bs})
    } else if let Some(sla) = &g.sla {
        let mut v = Map::new();
        v.insert("monitor_id".into(), Value::String(id(&sla.monitor)));
        for (key, value) in [
            ("window_minutes", &sla.window_minutes),
            ("availability_min", &sla.availability_min),
            ("response_time_max_ms", &sla.response_time_max_ms),
            ("incidents_max", &sla.incidents_max),
        ] {
            if let Some(value) = value {
                v.insert(key.into(), value.clone());
            }
        }
        json!({ "sla": v })
    } else {
        Value::Null
    };
    let flags = match (&g.flags, &g.recently_enabled) {
        (Some(flags), _) => json!(
            flags
                .iter()
                .map(|f| json!({
                    "project": f.project.as_deref().unwrap_or("default"),
                    "feature": f.feature,
                    "environment": f.environment,
                }))
                .collect::<Vec<_>>()
        ),
        (None, Some(r)) => {
            json!({"recently_enabled_hours": r.hours, "environment": r.environment})
        }
        (None, None) => Value::Null,
    };
    let kept = |key: &str| stored.and_then(|s| s.get(key)).cloned();
    GuardInput {
        name: Some(Value::String(g.name.clone())),
        signal: Some(signal),
        flags: Some(flags),
        on_recovery: g
            .on_recovery
            .clone()
            .map(Value::String)
            .or_else(|| kept("on_recovery")),
        channels: match &g.channels {
            Some(names) => Some(json!(
                names
                    .iter()
                    .filter_map(|n| channel_ids.get(n).copied())
                    .collect::<Vec<_>>()
            )),
            None => kept("channels"),
        },
    }
}
