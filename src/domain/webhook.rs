//! Incoming webhooks: the sources they arrive through (a receiver URL with its own secret) and
//! Better Stack's incident deliveries, parsed from whichever shape they come in.
//!
//! Shapes accepted (see `../shared/reference/uptime.md` §2):
//! - Better Stack's documented incident webhook: `{"event": "started" | "acknowledged" |
//!   "resolved" | …, "data": {"id", "type": "incident", "attributes": {"name", "url", "cause",
//!   "started_at", …}, "relationships": {"monitor": {"data": {"id"}}}}}`;
//! - the tutorial middleware's shape: `data.attributes.pronounceable_name` with a `status` of
//!   `down`/`up`, in `data.attributes.status` or at the top level;
//! - the variants to tolerate: ids as numbers, statuses in Better Stack's API capitals
//!   (`Started`, `Resolved`), dotted event names (`incident.started`), a heartbeat instead of a
//!   monitor, `type: "monitor" | "endpoint"`, and events nobody documented (`reopened`,
//!   `comment`, …), which are recorded and change nothing.

use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::domain::{Invalid, Timestamp};

/// The only kind of source so far.
pub const KIND_BETTERSTACK: &str = "betterstack";

const MAX_NAME_CHARS: usize = 100;
/// Ids, event names and monitor names longer than this are not Better Stack's.
const MAX_KEY_CHARS: usize = 255;
/// Free text (cause, URL) is kept up to this many characters.
const MAX_TEXT_CHARS: usize = 500;

/// A stored webhook source. The secret and the Basic-auth password are kept only as SHA-256
/// hashes, and never serialised.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookSource {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub secret_hash: String,
    /// Basic auth every delivery must carry, as (username, SHA-256 of the password).
    pub basic_auth: Option<(String, String)>,
    /// Deliveries are also accepted at `POST /webhook/betteruptime` (the tutorial's URL).
    pub legacy_path: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl WebhookSource {
    /// What an admin sees and what events record: no secret, no password hash.
    pub fn view(&self) -> Value {
        serde_json::json!({
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "basic_auth": self.basic_auth.as_ref().map(|(user, _)| serde_json::json!({"username": user})),
            "legacy_path": self.legacy_path,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }
}

/// The body of `POST /api/admin/webhook-sources`, fields kept raw so each error names its field.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "better-stack", "kind": "betterstack"}))]
pub struct SourceInput {
    /// Required, unique.
    #[schema(value_type = Option<String>)]
    pub name: Option<Value>,
    /// `betterstack` (the default and only kind).
    #[schema(value_type = Option<String>)]
    pub kind: Option<Value>,
    /// `{"username", "password"}`: deliveries must also carry these as HTTP Basic auth.
    #[schema(value_type = Option<Object>)]
    pub basic_auth: Option<Value>,
    /// Also accept deliveries at `POST /webhook/betteruptime` (the tutorial middleware's URL).
    #[schema(value_type = Option<bool>)]
    pub legacy_path: Option<Value>,
}

/// A new source's configuration, validated. The password is still in clear here: the service
/// hashes it before anything is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceSpec {
    pub name: String,
    pub kind: String,
    pub basic_auth: Option<BasicAuth>,
    pub legacy_path: bool,
}

#[derive(Clone, PartialEq)]
pub struct BasicAuth {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicAuth")
            .field("username", &self.username)
            .field("password", &"…")
            .finish()
    }
}

impl SourceSpec {
    pub fn parse(input: &SourceInput) -> Result<Self, Invalid> {
        let name = match &input.name {
            Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
            None | Some(Value::Null) | Some(Value::String(_)) => {
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
        no_nul("name", &name)?;
        let kind = match &input.kind {
            None | Some(Value::Null) => KIND_BETTERSTACK.to_string(),
            Some(Value::String(s)) if s == KIND_BETTERSTACK => s.clone(),
            Some(Value::String(s)) => {
                return Err(Invalid::at(
                    "kind",
                    format!("\"kind\" must be \"{KIND_BETTERSTACK}\" (got \"{s}\")."),
                ));
            }
            Some(_) => return Err(Invalid::at("kind", "\"kind\" must be a string.")),
        };
        let basic_auth = match &input.basic_auth {
            None | Some(Value::Null) => None,
            Some(Value::Object(map)) => Some(parse_basic_auth(map)?),
            Some(_) => {
                return Err(Invalid::at(
                    "basic_auth",
                    "\"basic_auth\" must be an object {\"username\": \"…\", \"password\": \"…\"} or null.",
                ));
            }
        };
        let legacy_path = match &input.legacy_path {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(Invalid::at(
                    "legacy_path",
                    "\"legacy_path\" must be true or false.",
                ));
            }
        };
        Ok(Self {
            name,
            kind,
            basic_auth,
            legacy_path,
        })
    }
}

fn parse_basic_auth(map: &Map<String, Value>) -> Result<BasicAuth, Invalid> {
    if let Some(other) = map
        .keys()
        .find(|k| !matches!(k.as_str(), "username" | "password"))
    {
        return Err(Invalid::at(
            format!("basic_auth.{other}"),
            format!("\"basic_auth\" takes only \"username\" and \"password\" (got \"{other}\")."),
        ));
    }
    let field = |key: &str| -> Result<String, Invalid> {
        let path = format!("basic_auth.{key}");
        match map.get(key) {
            Some(Value::String(s)) if !s.is_empty() => {
                if s.chars().count() > MAX_KEY_CHARS {
                    return Err(Invalid::at(
                        path,
                        format!("\"{key}\" must be at most {MAX_KEY_CHARS} characters long."),
                    ));
                }
                no_nul(&path, s)?;
                Ok(s.clone())
            }
            None | Some(Value::Null) | Some(Value::String(_)) => {
                Err(Invalid::at(path, format!("\"{key}\" is required.")))
            }
            Some(_) => Err(Invalid::at(path, format!("\"{key}\" must be a string."))),
        }
    };
    let username = field("username")?;
    if username.contains(':') {
        // Basic auth sends `username:password`; the first colon ends the username.
        return Err(Invalid::at(
            "basic_auth.username",
            "\"username\" cannot contain a colon (Basic auth separates it from the password with one).",
        ));
    }
    let password = field("password")?;
    Ok(BasicAuth { username, password })
}

fn no_nul(path: &str, s: &str) -> Result<(), Invalid> {
    if s.contains('\0') {
        Err(Invalid::at(
            path,
            "Text cannot contain the NUL character (\\u0000).",
        ))
    } else {
        Ok(())
    }
}

/// What a delivery asks of the guards watching its monitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// `started`, `reopened`, `down`: switch their flags off.
    Trip,
    /// `resolved`, `up`: apply their recovery policy.
    Recover,
    /// `acknowledged` and anything else: recorded, nothing changes.
    Record,
}

/// What one event word means; `None` for words we do not know.
fn action_of(event: &str) -> Option<Action> {
    match event {
        "started" | "reopened" | "down" => Some(Action::Trip),
        "resolved" | "up" => Some(Action::Recover),
        "acknowledged" => Some(Action::Record),
        _ => None,
    }
}

/// `Started` → `started`, `incident.resolved` → `resolved`; other words lower-cased as they are.
fn normalise_event(raw: &str) -> String {
    let lower = raw.trim().to_lowercase();
    for prefix in ["incident.", "incident_", "on_incident_"] {
        if let Some(rest) = lower.strip_prefix(prefix)
            && !rest.is_empty()
        {
            return rest.to_string();
        }
    }
    lower
}

/// One Better Stack delivery, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// The event word, normalised (`started`, `down`, `comment`…).
    pub event: String,
    pub action: Action,
    /// Better Stack's incident id, when the payload carries one.
    pub incident_id: Option<String>,
    /// Better Stack's monitor (or heartbeat) id.
    pub monitor_id: Option<String>,
    /// `attributes.pronounceable_name` (a monitor's name).
    pub pronounceable_name: Option<String>,
    /// `attributes.name` (an incident's name is its monitor's name).
    pub name: Option<String>,
    pub cause: Option<String>,
    pub url: Option<String>,
    /// The event's own timestamp attribute (`resolved_at` for `resolved`…), as sent.
    pub event_at: Option<String>,
    /// SHA-256 of the body with its object keys sorted: the same delivery hashes the same
    /// however a sender orders its keys.
    pub body_hash: String,
}

/// What makes a redelivery the same delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DedupKey {
    /// The payload names its incident: the incident, the event and the event's own timestamp
    /// when there is one, so an incident resolved, reopened and resolved again is two
    /// resolutions, and a redelivery of either is a duplicate.
    Incident(String),
    /// No incident id (the tutorial's shape): the body's hash. The same body is a duplicate
    /// only while it is still the latest delivery about its monitor; after a different one
    /// (`down` then `up`), the same `down` again is a new failure.
    Body(String),
}

impl Delivery {
    /// Parses a body. Not JSON, not an object, no event and no status, or a field of the
    /// wrong type: an [`Invalid`] naming the field.
    pub fn parse(body: &[u8]) -> Result<Self, Invalid> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(Invalid::new(
                "The request body is empty; a Better Stack webhook (JSON) was expected.",
            ));
        }
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| Invalid::new(format!("The request body is not valid JSON: {e}")))?;
        let Value::Object(root) = &value else {
            return Err(Invalid::new(
                "The request body must be a JSON object with an \"event\" (or a \"status\").",
            ));
        };
        let data = object(root, "data", "data")?;
        let attributes = match data {
            Some(d) => object(d, "attributes", "data.attributes")?,
            None => None,
        };
        let attr = |key: &str| -> Option<&Value> { attributes.and_then(|a| a.get(key)) };

        let event = key_text(root.get("event"), "event")?;
        let status = match key_text(root.get("status"), "status")? {
            Some(s) => Some(s),
            None => key_text(attr("status"), "data.attributes.status")?,
        };
        let known = |word: &Option<String>| {
            word.as_deref()
                .map(normalise_event)
                .filter(|w| action_of(w).is_some())
        };
        // A known event wins, then a known status; an unknown word is kept to be recorded.
        let event = known(&event)
            .or_else(|| known(&status))
            .or_else(|| event.as_deref().map(normalise_event))
            .or_else(|| status.as_deref().map(normalise_event))
            .ok_or_else(|| {
                Invalid::at(
                    "event",
                    "The body has no \"event\" (Better Stack's incident webhook) and no \"status\" (\"down\"/\"up\").",
                )
            })?;
        let action = action_of(&event).unwrap_or(Action::Record);

        let data_type = match data {
            Some(d) => key_text(d.get("type"), "data.type")?.map(|t| t.to_lowercase()),
            None => None,
        };
        let data_id = match data {
            Some(d) => id(d.get("id"), "data.id")?,
            None => None,
        };
        let related = |what: &str| -> Result<Option<String>, Invalid> {
            let Some(d) = data else { return Ok(None) };
            let Some(rels) = object(d, "relationships", "data.relationships")? else {
                return Ok(None);
            };
            let path = format!("data.relationships.{what}");
            let Some(rel) = object(rels, what, &path)? else {
                return Ok(None);
            };
            let path = format!("{path}.data");
            let Some(inner) = object(rel, "data", &path)? else {
                return Ok(None);
            };
            id(inner.get("id"), &format!("{path}.id"))
        };
        let related_monitor = match related("monitor")? {
            Some(m) => Some(m),
            None => related("heartbeat")?,
        };
        // `data` is the incident when it says so, or when it points at a monitor; otherwise
        // (`type: "monitor"`, the tutorial's shape) it is the monitor itself.
        let data_is_incident = match data_type.as_deref() {
            Some("incident") => true,
            Some("monitor" | "endpoint" | "heartbeat") => false,
            _ => related_monitor.is_some(),
        };
        let (incident_id, monitor_id) = if data_is_incident {
            (data_id, related_monitor)
        } else {
            (None, related_monitor.or(data_id))
        };
        // The flat shape of Better Stack's incident-log exporter names them at the top.
        let incident_id = match incident_id {
            Some(i) => Some(i),
            None => id(root.get("incident_id"), "incident_id")?,
        };
        let monitor_id = match monitor_id {
            Some(m) => Some(m),
            None => id(root.get("monitor_id"), "monitor_id")?,
        };

        let pronounceable_name = key_text(
            attr("pronounceable_name"),
            "data.attributes.pronounceable_name",
        )?;
        let name = key_text(attr("name"), "data.attributes.name")?;
        let cause = match free_text(attr("cause"), "data.attributes.cause")? {
            Some(c) => Some(c),
            None => free_text(root.get("cause"), "cause")?,
        };
        let url = free_text(attr("url"), "data.attributes.url")?;
        let event_at = key_text(
            attr(&format!("{event}_at")),
            &format!("data.attributes.{event}_at"),
        )
        .ok()
        .flatten();

        Ok(Self {
            event,
            action,
            incident_id,
            monitor_id,
            pronounceable_name,
            name,
            cause,
            url,
            event_at,
            body_hash: hex::encode(Sha256::digest(canonical(&value).as_bytes())),
        })
    }

    /// The monitor as people know it: its name, else its id.
    pub fn monitor_label(&self) -> Option<&str> {
        self.pronounceable_name
            .as_deref()
            .or(self.name.as_deref())
            .or(self.monitor_id.as_deref())
    }

    /// What a guard's `betterstack_monitor` may equal for this delivery: the monitor id and
    /// its names (matched case-insensitively by the store).
    pub fn monitor_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = Vec::new();
        for k in [&self.monitor_id, &self.pronounceable_name, &self.name]
            .into_iter()
            .flatten()
        {
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
        keys
    }

    pub fn dedup_key(&self) -> DedupKey {
        match &self.incident_id {
            Some(incident) => {
                let mut key = format!("incident:{incident}:{}", self.event);
                if let Some(at) = &self.event_at {
                    key.push(':');
                    key.push_str(at);
                }
                DedupKey::Incident(key)
            }
            None => DedupKey::Body(self.body_hash.clone()),
        }
    }

    /// One line for the guards' events and notices.
    pub fn reason(&self) -> String {
        let monitor = self.monitor_label().unwrap_or("an unnamed monitor");
        let incident = self
            .incident_id
            .as_deref()
            .map(|i| format!(", incident {i}"))
            .unwrap_or_default();
        match self.action {
            Action::Trip => {
                let cause = self
                    .cause
                    .as_deref()
                    .map(|c| format!(": {c}"))
                    .unwrap_or_default();
                format!(
                    "Better Stack reports {monitor} down ({}{incident}){cause}",
                    self.event
                )
            }
            Action::Recover => {
                format!(
                    "Better Stack reports {monitor} up ({}{incident})",
                    self.event
                )
            }
            Action::Record => format!("Better Stack: {} for {monitor}{incident}", self.event),
        }
    }
}

/// The body with object keys sorted at every level, for hashing.
fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let inner: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), canonical(v)))
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(canonical).collect();
            format!("[{}]", inner.join(","))
        }
        scalar => scalar.to_string(),
    }
}

/// `map[key]` as an object; absent or null is `None`, anything else an error at `path`.
fn object<'a>(
    map: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a Map<String, Value>>, Invalid> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(Invalid::at(path, format!("\"{path}\" must be an object."))),
    }
}

/// A short string used to match or key on: trimmed, empty is absent, bounded, no NUL.
fn key_text(value: Option<&Value>, path: &str) -> Result<Option<String>, Invalid> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            let s = s.trim();
            if s.is_empty() {
                return Ok(None);
            }
            if s.chars().count() > MAX_KEY_CHARS {
                return Err(Invalid::at(
                    path,
                    format!("\"{path}\" must be at most {MAX_KEY_CHARS} characters long."),
                ));
            }
            no_nul(path, s)?;
            Ok(Some(s.to_string()))
        }
        Some(_) => Err(Invalid::at(path, format!("\"{path}\" must be a string."))),
    }
}

/// Better Stack ids are strings; integers are accepted too.
fn id(value: Option<&Value>, path: &str) -> Result<Option<String>, Invalid> {
    match value {
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(Some(n.to_string())),
        Some(Value::Number(_)) => Err(Invalid::at(
            path,
            format!("\"{path}\" must be a string or an integer."),
        )),
        Some(Value::String(_)) | None | Some(Value::Null) => key_text(value, path),
        Some(_) => Err(Invalid::at(
            path,
            format!("\"{path}\" must be a string or an integer."),
        )),
    }
}

/// Free text kept for people (cause, URL): NULs dropped, cut at [`MAX_TEXT_CHARS`].
fn free_text(value: Option<&Value>, path: &str) -> Result<Option<String>, Invalid> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            let s: String = s
                .chars()
                .filter(|c| *c != '\0')
                .take(MAX_TEXT_CHARS)
                .collect();
            Ok((!s.trim().is_empty()).then_some(s))
        }
        Some(_) => Err(Invalid::at(path, format!("\"{path}\" must be a string."))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: &Value) -> Result<Delivery, Invalid> {
        Delivery::parse(v.to_string().as_bytes())
    }

    /// Better Stack's documented incident payload (uptime.md §2.2) with `event` set.
    fn documented(event: &str) -> Value {
        json!({
            "event": event,
            "data": {
                "id": "1",
                "type": "incident",
                "attributes": {
                    "name": "Tesla.com homepage",
                    "url": "https://tesla.com",
                    "http_method": "get",
                    "cause": "Error 500",
                    "started_at": "2020-10-21T10:51:28.151Z",
                    "acknowledged_at": "2020-02-25T17:38:45.768Z",
                    "resolved_at": null,
                    "response_content": null,
                    "response_url": null,
                    "screenshot_url": null
                },
                "relationships": {"monitor": {"data": {"id": "4", "type": "monitor"}}}
            }
        })
    }

    #[test]
    fn reads_the_documented_incident_payload() {
        let d = parse(&documented("started")).unwrap();
        assert_eq!(d.event, "started");
        assert_eq!(d.action, Action::Trip);
        assert_eq!(d.incident_id.as_deref(), Some("1"));
        assert_eq!(d.monitor_id.as_deref(), Some("4"));
        assert_eq!(d.name.as_deref(), Some("Tesla.com homepage"));
        assert_eq!(d.cause.as_deref(), Some("Error 500"));
        assert_eq!(d.url.as_deref(), Some("https://tesla.com"));
        assert_eq!(d.monitor_keys(), vec!["4", "Tesla.com homepage"]);
        assert_eq!(
            d.dedup_key(),
            DedupKey::Incident("incident:1:started:2020-10-21T10:51:28.151Z".into())
        );
        assert!(d.reason().contains("Tesla.com homepage"), "{}", d.reason());
        assert!(d.reason().contains("Error 500"));

        let ack = parse(&documented("acknowledged")).unwrap();
        assert_eq!(ack.action, Action::Record);
        assert_eq!(
            ack.dedup_key(),
            DedupKey::Incident("incident:1:acknowledged:2020-02-25T17:38:45.768Z".into())
        );
        let resolved = parse(&documented("resolved")).unwrap();
        assert_eq!(resolved.action, Action::Recover);
        // resolved_at is null in this example: the key is the incident and the event.
        assert_eq!(
            resolved.dedup_key(),
            DedupKey::Incident("incident:1:resolved".into())
        );
    }

    #[test]
    fn a_second_resolution_of_a_reopened_incident_is_a_new_delivery() {
        let mut first = documented("resolved");
        first["data"]["attributes"]["resolved_at"] = json!("2020-10-21T11:00:00Z");
        let mut second = documented("resolved");
        second["data"]["attributes"]["resolved_at"] = json!("2020-10-21T12:00:00Z");
        assert_ne!(
            parse(&first).unwrap().dedup_key(),
            parse(&second).unwrap().dedup_key()
        );
        assert_eq!(
            parse(&first).unwrap().dedup_key(),
            parse(&first).unwrap().dedup_key()
        );
    }

    #[test]
    fn reads_the_tutorial_shape_with_the_status_in_either_place() {
        let nested = parse(&json!({"data": {"attributes": {
            "pronounceable_name": "Production API Health", "status": "down"}}}))
        .unwrap();
        assert_eq!(nested.event, "down");
        assert_eq!(nested.action, Action::Trip);
        assert_eq!(nested.incident_id, None);
        assert_eq!(nested.monitor_keys(), vec!["Production API Health"]);
        assert!(matches!(nested.dedup_key(), DedupKey::Body(_)));

        let top = parse(&json!({"status": "up", "data": {"attributes": {
            "pronounceable_name": "Production API Health"}}}))
        .unwrap();
        assert_eq!(top.action, Action::Recover);

        // A monitor object: its id is the monitor's, not an incident's.
        let typed = parse(
            &json!({"data": {"id": 42, "type": "monitor", "attributes": {
            "pronounceable_name": "api", "status": "Down"}}}),
        )
        .unwrap();
        assert_eq!(typed.monitor_id.as_deref(), Some("42"));
        assert_eq!(typed.incident_id, None);
        assert_eq!(typed.action, Action::Trip);
    }

    #[test]
    fn tolerates_the_variants() {
        // Ids as numbers.
        let mut numeric = documented("started");
        numeric["data"]["id"] = json!(1);
        numeric["data"]["relationships"]["monitor"]["data"]["id"] = json!(4);
        let d = parse(&numeric).unwrap();
        assert_eq!(
            (d.incident_id.as_deref(), d.monitor_id.as_deref()),
            (Some("1"), Some("4"))
        );

        // The API's status capitals, and no event.
        let mut status_only = documented("x");
        status_only.as_object_mut().unwrap().remove("event");
        status_only["data"]["attributes"]["status"] = json!("Resolved");
        assert_eq!(parse(&status_only).unwrap().action, Action::Recover);

        // Dotted names (the incident-log exporter), flat, with ids at the top.
        let flat = parse(
            &json!({"dt": "2024-01-01T00:00:00Z", "event": "incident.started",
            "message": "down", "monitor_id": 7, "incident_id": "99"}),
        )
        .unwrap();
        assert_eq!(flat.event, "started");
        assert_eq!(flat.monitor_id.as_deref(), Some("7"));
        assert_eq!(flat.incident_id.as_deref(), Some("99"));

        // A heartbeat's incident.
        let mut heartbeat = documented("started");
        heartbeat["data"]["relationships"] =
            json!({"heartbeat": {"data": {"id": "12", "type": "heartbeat"}}});
        assert_eq!(parse(&heartbeat).unwrap().monitor_id.as_deref(), Some("12"));

        // Reopened trips; unknown and validating are recorded.
        assert_eq!(parse(&documented("reopened")).unwrap().action, Action::Trip);
        let comment = parse(&documented("comment")).unwrap();
        assert_eq!(
            (comment.event.as_str(), comment.action),
            ("comment", Action::Record)
        );
        assert_eq!(
            parse(&documented("Validating")).unwrap().action,
            Action::Record
        );

        // An unknown event with a known status: the status decides.
        let mut both = documented("monitor_status_changed");
        both["data"]["attributes"]["status"] = json!("down");
        assert_eq!(parse(&both).unwrap().action, Action::Trip);
    }

    #[test]
    fn refuses_malformed_bodies_naming_the_field() {
        for (body, path) in [
            (&b"not json"[..], None),
            (b"", None),
            (b"[1, 2]", None),
            (br#"{"data": {"id": "1"}}"#, Some("event")),
            (br#"{"event": 5}"#, Some("event")),
            (br#"{"event": "started", "data": "x"}"#, Some("data")),
            (
                br#"{"event": "started", "data": {"attributes": []}}"#,
                Some("data.attributes"),
            ),
            (
                br#"{"event": "started", "data": {"id": true}}"#,
                Some("data.id"),
            ),
            (
                br#"{"event": "started", "data": {"id": 1.5}}"#,
                Some("data.id"),
            ),
            (
                br#"{"event": "started", "data": {"relationships": {"monitor": {"data": {"id": []}}}}}"#,
                Some("data.relationships.monitor.data.id"),
            ),
            (
                br#"{"data": {"attributes": {"status": 1}}}"#,
                Some("data.attributes.status"),
            ),
            (
                br#"{"event": "started", "data": {"attributes": {"pronounceable_name": 3}}}"#,
                Some("data.attributes.pronounceable_name"),
            ),
            (br#"{"event": "start\u0000ed"}"#, Some("event")),
        ] {
            let err = Delivery::parse(body).unwrap_err();
            assert_eq!(
                err.path.as_deref(),
                path,
                "{}: {err}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn the_body_hash_ignores_key_order() {
        let a = Delivery::parse(br#"{"status": "down", "data": {"attributes": {"name": "x", "pronounceable_name": "api"}}}"#).unwrap();
        let b = Delivery::parse(br#"{"data": {"attributes": {"pronounceable_name": "api", "name": "x"}}, "status": "down"}"#).unwrap();
        assert_eq!(a.body_hash, b.body_hash);
        let c = Delivery::parse(
            br#"{"status": "up", "data": {"attributes": {"pronounceable_name": "api"}}}"#,
        )
        .unwrap();
        assert_ne!(a.body_hash, c.body_hash);
    }

    #[test]
    fn parses_sources_naming_the_bad_field() {
        let input = |v: Value| -> SourceInput { serde_json::from_value(v).unwrap() };
        let spec = SourceSpec::parse(&input(json!({"name": " bs ", "kind": "betterstack",
            "basic_auth": {"username": "u", "password": "p"}, "legacy_path": true})))
        .unwrap();
        assert_eq!(spec.name, "bs");
        assert!(spec.legacy_path);
        assert_eq!(spec.basic_auth.as_ref().unwrap().username, "u");
        assert!(
            !format!("{spec:?}").contains("\"p\""),
            "the password is not in Debug"
        );
        assert_eq!(
            SourceSpec::parse(&input(json!({"name": "x"})))
                .unwrap()
                .kind,
            KIND_BETTERSTACK
        );
        for (v, path) in [
            (json!({}), "name"),
            (json!({"name": ""}), "name"),
            (json!({"name": 1}), "name"),
            (json!({"name": "x".repeat(101)}), "name"),
            (json!({"name": "x", "kind": "pagerduty"}), "kind"),
            (json!({"name": "x", "basic_auth": "u:p"}), "basic_auth"),
            (
                json!({"name": "x", "basic_auth": {"password": "p"}}),
                "basic_auth.username",
            ),
            (
                json!({"name": "x", "basic_auth": {"username": "u"}}),
                "basic_auth.password",
            ),
            (
                json!({"name": "x", "basic_auth": {"username": "a:b", "password": "p"}}),
                "basic_auth.username",
            ),
            (
                json!({"name": "x", "basic_auth": {"username": "u", "password": "p", "x": 1}}),
                "basic_auth.x",
            ),
            (json!({"name": "x", "legacy_path": "yes"}), "legacy_path"),
        ] {
            let err = SourceSpec::parse(&input(v.clone())).unwrap_err();
            assert_eq!(err.path.as_deref(), Some(path), "{v}: {err}");
        }
    }
}
