//! The file's schema, one set of serde types for TOML and YAML, and reading it.
//!
//! Every table refuses keys it does not know, so a typo is an error with its line and column
//! rather than a setting silently left out. Monitors are the exception in shape only: they
//! take Better Stack's attributes as they are (checked against that list in `check`).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value};

/// The whole file. Every section is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileDecl {
    #[serde(default)]
    pub environments: Vec<EnvironmentDecl>,
    #[serde(default)]
    pub projects: Vec<ProjectDecl>,
    #[serde(default)]
    pub segments: Vec<SegmentDecl>,
    #[serde(default)]
    pub flags: Vec<FlagDecl>,
    #[serde(default)]
    pub channels: Vec<ChannelDecl>,
    /// Better Stack monitor attributes, plus `auth_password_env`; `notification_channels`
    /// holds channel names.
    #[serde(default)]
    pub monitors: Vec<Map<String, Value>>,
    #[serde(default)]
    pub guards: Vec<GuardDecl>,
    #[serde(default)]
    pub tokens: Vec<TokenDecl>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentDecl {
    pub name: String,
    #[serde(rename = "type")]
    pub env_type: String,
    #[serde(default, alias = "sortOrder")]
    pub sort_order: Option<i64>,
    #[serde(default)]
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectDecl {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentDecl {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub project: Option<String>,
    #[serde(default)]
    pub constraints: Vec<ConstraintDecl>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlagDecl {
    pub name: String,
    /// `default` when left out.
    #[serde(default)]
    pub project: Option<String>,
    #[serde(default, rename = "type")]
    pub flag_type: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default, alias = "impressionData")]
    pub impression_data: Option<bool>,
    #[serde(default)]
    pub stale: Option<bool>,
    /// By environment name.
    #[serde(default)]
    pub environments: BTreeMap<String, FlagEnvironmentDecl>,
}

/// A flag in one environment. What is left out is left as it is.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlagEnvironmentDecl {
    #[serde(default)]
    pub enabled: Option<bool>,
    /// When given, the whole list, in order.
    #[serde(default)]
    pub strategies: Option<Vec<StrategyDecl>>,
    /// When given, the whole list.
    #[serde(default)]
    pub variants: Option<Vec<VariantDecl>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrategyDecl {
    pub name: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub disabled: Option<bool>,
    /// Values may be strings or numbers (`rollout = 25`).
    #[serde(default)]
    pub parameters: BTreeMap<String, Value>,
    #[serde(default)]
    pub constraints: Vec<ConstraintDecl>,
    /// Segment names, declared in the same file.
    #[serde(default)]
    pub segments: Vec<String>,
    #[serde(default)]
    pub variants: Vec<VariantDecl>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConstraintDecl {
    #[serde(alias = "contextName")]
    pub context_name: String,
    pub operator: String,
    #[serde(default)]
    pub values: Vec<Value>,
    #[serde(default)]
    pub value: Option<Value>,
    #[serde(default, alias = "caseInsensitive")]
    pub case_insensitive: Option<bool>,
    #[serde(default)]
    pub inverted: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariantDecl {
    pub name: String,
    #[serde(default)]
    pub weight: Option<Value>,
    #[serde(default, alias = "weightType")]
    pub weight_type: Option<String>,
    #[serde(default)]
    pub stickiness: Option<String>,
    #[serde(default)]
    pub payload: Option<PayloadDecl>,
    #[serde(default)]
    pub overrides: Vec<OverrideDecl>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayloadDecl {
    #[serde(rename = "type")]
    pub payload_type: String,
    pub value: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverrideDecl {
    #[serde(alias = "contextName")]
    pub context_name: String,
    pub values: Vec<String>,
}

/// A notification channel. Each secret may come from the file or, better, from an
/// environment variable (`*_env`), never both.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelDecl {
    pub name: String,
    pub kind: String,
    #[serde(default)]
    pub webhook_url: Option<String>,
    #[serde(default)]
    pub webhook_url_env: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub secret: Option<String>,
    #[serde(default)]
    pub secret_env: Option<String>,
    #[serde(default)]
    pub routing_key: Option<String>,
    #[serde(default)]
    pub routing_key_env: Option<String>,
    #[serde(default)]
    pub events_url: Option<String>,
    #[serde(default)]
    pub severity: Option<String>,
}

/// Never shows a secret (a Slack webhook URL is one).
impl std::fmt::Debug for ChannelDecl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelDecl")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("webhook_url_env", &self.webhook_url_env)
            .field("url", &self.url)
            .field("secret_env", &self.secret_env)
            .field("routing_key_env", &self.routing_key_env)
            .field("events_url", &self.events_url)
            .field("severity", &self.severity)
            .finish_non_exhaustive()
    }
}

/// A guard. Exactly one signal (`monitor`, `betterstack_monitor` or `sla`) and one target
/// (`flags` or `recently_enabled`). Monitors and channels are named as in this file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardDecl {
    pub name: String,
    /// A monitor's `pronounceable_name`.
    #[serde(default)]
    pub monitor: Option<String>,
    #[serde(default)]
    pub betterstack_monitor: Option<String>,
    #[serde(default)]
    pub sla: Option<SlaDecl>,
    #[serde(default)]
    pub flags: Option<Vec<FlagRefDecl>>,
    #[serde(default)]
    pub recently_enabled: Option<RecentlyEnabledDecl>,
    #[serde(default)]
    pub on_recovery: Option<String>,
    /// Channel names.
    #[serde(default)]
    pub channels: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaDecl {
    /// A monitor's `pronounceable_name`.
    pub monitor: String,
    #[serde(default)]
    pub window_minutes: Option<Value>,
    #[serde(default)]
    pub availability_min: Option<Value>,
    #[serde(default)]
    pub response_time_max_ms: Option<Value>,
    #[serde(default)]
    pub incidents_max: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlagRefDecl {
    /// `default` when left out.
    #[serde(default)]
    pub project: Option<String>,
    pub feature: String,
    pub environment: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecentlyEnabledDecl {
    pub hours: i64,
    pub environment: String,
}

/// An API token. Its secret, in Unleash's syntax (`<project>:<environment>.<key>`,
/// `*:*.<key>` for admin tokens), comes from the file (`secret`) or from an environment
/// variable (`secret_env`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenDecl {
    pub name: String,
    /// `client`/`backend`, `frontend` or `admin`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub secret: Option<String>,
    #[serde(default)]
    pub secret_env: Option<String>,
}

/// Never shows the secret.
impl std::fmt::Debug for TokenDecl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenDecl")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("secret_env", &self.secret_env)
            .finish_non_exhaustive()
    }
}

/// The two formats, told apart by the file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Toml,
    Yaml,
}

impl Format {
    pub fn of(path: &Path) -> Option<Self> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("toml") => Some(Self::Toml),
            Some("yaml" | "yml") => Some(Self::Yaml),
            _ => None,
        }
    }
}

/// Parses `text`; the error names the line and column, in words.
pub fn parse(text: &str, format: Format) -> Result<FileDecl, String> {
    if text.trim().is_empty() {
        return Ok(FileDecl::default());
    }
    match format {
        Format::Toml => toml::from_str(text).map_err(|e| {
            let message = e.message().trim_end();
            match e.span() {
                Some(span) => {
                    let (line, column) = line_column(text, span.start);
                    format!("line {line}, column {column}: {message}")
                }
                None => message.to_string(),
            }
        }),
        // A document of comments only is YAML's null: nothing declared.
        Format::Yaml => yaml_serde::from_str::<Option<FileDecl>>(text)
            .map(Option::unwrap_or_default)
            .map_err(|e| {
                let message = e.to_string();
                // The message ends with "at line L column C" when the parser knows where; say it
                // first, as for TOML.
                match e.location() {
                    Some(at) => {
                        let suffix = format!(" at line {} column {}", at.line(), at.column());
                        let message = message.strip_suffix(&suffix).unwrap_or(&message);
                        format!("line {}, column {}: {message}", at.line(), at.column())
                    }
                    None => message,
                }
            }),
    }
}

/// 1-based line and column (in characters) of byte `offset`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_follow_the_extension() {
        assert_eq!(
            Format::of(Path::new("a/flagwatch.toml")),
            Some(Format::Toml)
        );
        assert_eq!(Format::of(Path::new("f.YAML")), Some(Format::Yaml));
        assert_eq!(Format::of(Path::new("f.yml")), Some(Format::Yaml));
        assert_eq!(Format::of(Path::new("f.json")), None);
        assert_eq!(Format::of(Path::new("flagwatch")), None);
    }

    #[test]
    fn toml_and_yaml_read_into_the_same_declaration() {
        let toml = r#"
[[flags]]
name = "f"
[flags.environments.production]
enabled = true
strategies = [{ name = "flexibleRollout", parameters = { rollout = 25 } }]
"#;
        let yaml = r#"
flags:
  - name: f
    environments:
      production:
        enabled: true
        strategies:
          - name: flexibleRollout
            parameters: { rollout: 25 }
"#;
        let a = parse(toml, Format::Toml).unwrap();
        let b = parse(yaml, Format::Yaml).unwrap();
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        let env = &a.flags[0].environments["production"];
        assert_eq!(env.enabled, Some(true));
        let strategies = env.strategies.as_ref().unwrap();
        assert_eq!(strategies[0].parameters["rollout"], serde_json::json!(25));
    }

    #[test]
    fn errors_name_the_line_and_column() {
        let e = parse("[[flags]]\nname = \"f\"\nenabeld = true\n", Format::Toml).unwrap_err();
        assert!(e.starts_with("line 3, column 1: "), "{e}");
        assert!(e.contains("enabeld"), "{e}");
        let e = parse("flags:\n  - name: f\n    enabeld: true\n", Format::Yaml).unwrap_err();
        assert!(e.starts_with("line 3, column 5: "), "{e}");
        assert!(e.contains("enabeld"), "{e}");
        let e = parse("flags = [\n", Format::Toml).unwrap_err();
        assert!(e.starts_with("line "), "{e}");
    }

    #[test]
    fn the_example_files_say_the_same() {
        let mut toml = parse(include_str!("../../examples/flagwatch.toml"), Format::Toml).unwrap();
        let mut yaml = parse(include_str!("../../examples/flagwatch.yaml"), Format::Yaml).unwrap();
        // Attribute order is the parser's business.
        let sorted = |d: &mut FileDecl| -> Vec<BTreeMap<String, Value>> {
            std::mem::take(&mut d.monitors)
                .into_iter()
                .map(|m| m.into_iter().collect())
                .collect()
        };
        assert_eq!(sorted(&mut toml), sorted(&mut yaml));
        assert_eq!(format!("{toml:?}"), format!("{yaml:?}"));
        assert_eq!(toml.flags.len(), 2);
        assert_eq!(toml.guards.len(), 2);
    }

    #[test]
    fn an_empty_file_declares_nothing() {
        let d = parse("\n# nothing yet\n", Format::Yaml).unwrap();
        assert!(d.flags.is_empty() && d.tokens.is_empty());
        let d = parse("", Format::Toml).unwrap();
        assert!(d.projects.is_empty());
    }
}
