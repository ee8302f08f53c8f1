//! What SDKs report about themselves: a registration (`POST /api/client/register`) and a
//! metrics bucket (`POST /api/client/metrics`). The input types accept what real SDKs send
//! (Node, Python, browser); `parse` turns them into checked values.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::domain::{Invalid, Timestamp};

pub const HOUR_MS: i64 = 60 * 60 * 1000;

/// The start of the hour `t` falls in, as epoch milliseconds.
pub fn hour_of(t: Timestamp) -> i64 {
    t.millis().div_euclid(HOUR_MS) * HOUR_MS
}

/// A point in time as SDKs send it: an RFC 3339 string, or a unix time as a number (seconds,
/// or milliseconds when it is too large to be seconds).
#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum InputTime {
    Text(String),
    Number(f64),
}

impl InputTime {
    fn parse(&self, path: &str) -> Result<Timestamp, Invalid> {
        match self {
            Self::Text(s) => Timestamp::parse(s)
                .ok_or_else(|| Invalid::at(path, format!("\"{s}\" is not an RFC 3339 date-time."))),
            // 1e11 seconds is the year 5138; anything larger is milliseconds.
            Self::Number(n) if n.is_finite() && n.abs() < 1e11 => {
                Ok(Timestamp((n * 1000.0) as i64))
            }
            Self::Number(n) if n.is_finite() && n.abs() < 1e14 => Ok(Timestamp(*n as i64)),
            Self::Number(n) => Err(Invalid::at(path, format!("{n} is not a unix time."))),
        }
    }
}

/// The fields both bodies share. Unknown fields (`sdkFlavor`, `impactMetrics`…) are ignored.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientInput {
    pub app_name: Option<String>,
    pub instance_id: Option<String>,
    pub connection_id: Option<String>,
    pub sdk_version: Option<String>,
    pub platform_name: Option<String>,
    pub platform_version: Option<String>,
    pub yggdrasil_version: Option<String>,
    pub spec_version: Option<String>,
}

/// `POST /api/client/register`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationInput {
    #[serde(flatten)]
    pub client: ClientInput,
    /// Seconds in Unleash's schema; the Node SDK sends milliseconds. Informational.
    pub interval: Option<f64>,
    pub started: Option<InputTime>,
    pub strategies: Option<Vec<String>>,
}

/// `POST /api/client/metrics`. `bucket` may be null (an SDK with nothing to report).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MetricsInput {
    #[serde(flatten)]
    pub client: ClientInput,
    pub bucket: Option<BucketInput>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct BucketInput {
    pub start: InputTime,
    pub stop: InputTime,
    pub toggles: BTreeMap<String, ToggleInput>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ToggleInput {
    #[serde(default)]
    pub yes: i64,
    #[serde(default)]
    pub no: i64,
    pub variants: Option<BTreeMap<String, i64>>,
}

/// Who is reporting: an instance of an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo {
    pub app_name: String,
    /// `"default"` when the SDK sends none, as Unleash does.
    pub instance_id: String,
    pub sdk_version: Option<String>,
    pub platform_name: Option<String>,
    pub platform_version: Option<String>,
}

impl ClientInfo {
    fn parse(input: ClientInput) -> Result<Self, Invalid> {
        let app_name = non_empty(input.app_name)
            .ok_or_else(|| Invalid::at("appName", "\"appName\" is required."))?;
        Ok(Self {
            app_name,
            instance_id: non_empty(input.instance_id).unwrap_or_else(|| "default".into()),
            sdk_version: non_empty(input.sdk_version),
            platform_name: non_empty(input.platform_name),
            platform_version: non_empty(input.platform_version),
        })
    }
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub client: ClientInfo,
    pub strategies: Vec<String>,
    pub started: Option<Timestamp>,
}

impl Registration {
    pub fn parse(input: RegistrationInput) -> Result<Self, Invalid> {
        Ok(Self {
            client: ClientInfo::parse(input.client)?,
            strategies: input.strategies.unwrap_or_default(),
            started: input.started.map(|t| t.parse("started")).transpose()?,
        })
    }
}

/// Yes/no counts and variant counts for one flag. All counts are non-negative.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub yes: i64,
    pub no: i64,
    pub variants: BTreeMap<String, i64>,
    /// When the server last received a report that evaluated the flag (yes + no > 0); `None`
    /// for counts as an SDK sends them, and for rows written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<Timestamp>,
}

impl Counts {
    /// Adds `other` in, saturating rather than overflowing; the later `last_seen` wins.
    pub fn add(&mut self, other: &Self) {
        self.yes = self.yes.saturating_add(other.yes);
        self.no = self.no.saturating_add(other.no);
        for (name, n) in &other.variants {
            let v = self.variants.entry(name.clone()).or_insert(0);
            *v = v.saturating_add(*n);
        }
        self.last_seen = self.last_seen.max(other.last_seen);
    }

    pub fn is_zero(&self) -> bool {
        self.yes == 0 && self.no == 0 && self.variants.values().all(|n| *n == 0)
    }

    /// Whether the flag was evaluated at all: variant counts alone do not count as a sighting.
    pub fn evaluated(&self) -> bool {
        self.yes > 0 || self.no > 0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    pub start: Timestamp,
    pub stop: Timestamp,
    pub toggles: BTreeMap<String, Counts>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsReport {
    pub client: ClientInfo,
    pub bucket: Option<Bucket>,
}

impl MetricsReport {
    pub fn parse(input: MetricsInput) -> Result<Self, Invalid> {
        let client = ClientInfo::parse(input.client)?;
        let bucket = input
            .bucket
            .map(|b| parse_bucket(b).map_err(|e| e.within("bucket")))
            .transpose()?;
        Ok(Self { client, bucket })
    }
}

fn parse_bucket(b: BucketInput) -> Result<Bucket, Invalid> {
    let start = b.start.parse("start")?;
    let stop = b.stop.parse("stop")?;
    let mut toggles = BTreeMap::new();
    for (name, t) in b.toggles {
        let path = format!("toggles.{name}");
        let count = |field: &str, n: i64| {
            if n < 0 {
                Err(Invalid::at(
                    format!("{path}.{field}"),
                    format!("Counts cannot be negative; \"{field}\" is {n}."),
                ))
            } else {
                Ok(n)
            }
        };
        let mut variants = BTreeMap::new();
        for (variant, n) in t.variants.unwrap_or_default() {
            variants.insert(variant.clone(), count(&format!("variants.{variant}"), n)?);
        }
        let counts = Counts {
            yes: count("yes", t.yes)?,
            no: count("no", t.no)?,
            variants,
            last_seen: None,
        };
        if !name.is_empty() {
            toggles.insert(name, counts);
        }
    }
    Ok(Bucket {
        start,
        stop,
        toggles,
    })
}

/// One row of counts: a flag in an environment, reported by an application, in one hour.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MetricKey {
    pub feature_name: String,
    pub environment: String,
    pub app_name: String,
    /// Start of the hour, epoch milliseconds.
    pub hour: i64,
}

/// When each (flag, environment) was last seen evaluated by an SDK: the latest
/// [`Counts::last_seen`] over its rows. Pairs never seen are absent.
pub type LastSeen = HashMap<(String, String), Timestamp>;

/// Counts as stored, for one [`MetricKey`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricHour {
    pub key: MetricKey,
    pub counts: Counts,
}

/// An application SDKs have reported as. `description`, `url`, `color` and `icon` are
/// Unleash's display fields, not set by flagwatch yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    pub app_name: String,
    pub description: Option<String>,
    pub url: Option<String>,
    pub color: Option<String>,
    pub icon: Option<String>,
    pub strategies: Vec<String>,
    pub created_at: Timestamp,
    pub last_seen: Timestamp,
}

/// Which project (from the SDK's token; `*` for all) an application used in an environment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ApplicationUsage {
    pub app_name: String,
    pub project: String,
    pub environment: String,
}

/// One running SDK of an application, in one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInstance {
    pub app_name: String,
    pub instance_id: String,
    pub environment: String,
    pub sdk_version: Option<String>,
    pub platform_name: Option<String>,
    pub platform_version: Option<String>,
    pub client_ip: Option<String>,
    pub created_at: Timestamp,
    pub last_seen: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(body: serde_json::Value) -> Result<MetricsReport, Invalid> {
        MetricsReport::parse(serde_json::from_value(body).unwrap())
    }

    #[test]
    fn accepts_what_the_node_and_python_sdks_send() {
        let r = metrics(serde_json::json!({
            "appName": "a", "instanceId": "i", "connectionId": "c", "yggdrasilVersion": null,
            "bucket": {"start": "2026-11-24T18:50:12.971057398Z", "stop": "2026-11-24T18:50:15.987Z",
                       "toggles": {"f": {"yes": 1, "no": 2, "variants": {"red": 1}}, "g": {"no": 4, "variants": null}}}
        }))
        .unwrap();
        let b = r.bucket.unwrap();
        assert_eq!(
            b.start,
            Timestamp::parse("2026-11-24T18:50:12.971Z").unwrap()
        );
        assert_eq!(b.toggles["f"].variants["red"], 1);
        assert_eq!((b.toggles["g"].yes, b.toggles["g"].no), (0, 4));
        let reg = Registration::parse(
            serde_json::from_value(serde_json::json!({
                "appName": "py", "started": "2026-11-24T18:50:12.973784+00:00", "interval": 3, "strategies": []
            }))
            .unwrap(),
        )
        .unwrap();
        assert_eq!(reg.client.instance_id, "default");
        assert!(reg.started.is_some());
    }

    #[test]
    fn started_may_be_unix_seconds_or_milliseconds() {
        let t = |n: f64| InputTime::Number(n).parse("started").unwrap();
        assert_eq!(t(1_700_000_000.0), Timestamp(1_700_000_000_000));
        assert_eq!(t(1_700_000_000_123.0), Timestamp(1_700_000_000_123));
    }

    #[test]
    fn refuses_a_missing_app_name_and_negative_counts() {
        let e = metrics(serde_json::json!({"appName": " "})).unwrap_err();
        assert_eq!(e.path.as_deref(), Some("appName"));
        let e = metrics(
            serde_json::json!({"appName": "a", "bucket": {"start": "2026-01-01T00:00:00Z",
            "stop": "2026-01-01T00:00:10Z", "toggles": {"f": {"yes": -1, "no": 0}}}}),
        )
        .unwrap_err();
        assert_eq!(e.path.as_deref(), Some("bucket.toggles.f.yes"));
        let e = metrics(
            serde_json::json!({"appName": "a", "bucket": {"start": "2026-01-01T00:00:00Z",
            "stop": "2026-01-01T00:00:10Z", "toggles": {"f": {"variants": {"v": -2}}}}}),
        )
        .unwrap_err();
        assert_eq!(e.path.as_deref(), Some("bucket.toggles.f.variants.v"));
    }

    #[test]
    fn hours_start_on_the_hour() {
        assert_eq!(hour_of(Timestamp(HOUR_MS * 5 + 1234)), HOUR_MS * 5);
        assert_eq!(hour_of(Timestamp(-1)), -HOUR_MS);
    }
}
