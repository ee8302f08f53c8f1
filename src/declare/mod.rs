//! Config as code: a TOML or YAML file that declares environments, projects, segments, flags,
//! notification channels, monitors, guards and API tokens, applied at start-up (`--config`)
//! or by `flagwatch apply FILE`.
//!
//! The file says what must exist; it never deletes. Applying is three steps, and the first
//! two write nothing: [`Declaration::load`] reads and checks the file on its own (syntax with
//! line and column, names, references by name, secrets from the environment, every value
//! through the API's own parsers); [`apply`] then checks it against the stored state, and
//! only then changes what differs, object by object, through the `Service` calls the API
//! uses, so every change has the API's events, by the actor `config:<file name>`.
//!
//! Matching: environments, segments, channels and guards by name, projects by id, flags by
//! name (in their project), monitors by `pronounceable_name` (unique in the file), tokens by
//! secret. What the file leaves out of an object keeps its stored value.

mod apply;
mod check;
pub mod command;
mod file;
mod report;

use std::path::Path;

pub use check::Declaration;
pub use report::{Change, Outcome, Report};

use crate::service::{Service, ServiceError};

#[derive(Debug, thiserror::Error)]
pub enum DeclareError {
    #[error("cannot read the config file {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the config file {path} must end in .toml, .yaml or .yml")]
    Format { path: String },
    #[error("{path}, {message}")]
    Syntax { path: String, message: String },
    #[error("{path} is not valid, so nothing was applied:\n{}", bullets(.problems))]
    Invalid { path: String, problems: Vec<String> },
    #[error(
        "{path} does not fit what the database holds, so nothing was applied:\n{}",
        bullets(.problems)
    )]
    Conflicts { path: String, problems: Vec<String> },
    #[error("could not read the stored state")]
    State(#[source] ServiceError),
    /// A change was refused part way: `report` holds what was applied before it.
    #[error(
        "applying {} stopped at {object}: {}; the changes before it were applied, the rest were not",
        report.source,
        apply::service_error_text(.source)
    )]
    Apply {
        report: Box<Report>,
        object: String,
        #[source]
        source: ServiceError,
    },
}

impl DeclareError {
    /// True when the file itself is at fault and nothing was written.
    pub fn is_invalid_file(&self) -> bool {
        matches!(
            self,
            Self::Read { .. }
                | Self::Format { .. }
                | Self::Syntax { .. }
                | Self::Invalid { .. }
                | Self::Conflicts { .. }
        )
    }
}

fn bullets(problems: &[String]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl Declaration {
    /// Reads and checks the file at `path`: TOML for `.toml`, YAML for `.yaml`/`.yml`.
    /// Secrets named by `*_env` keys are read from the environment now.
    pub fn load(path: &Path) -> Result<Self, DeclareError> {
        let shown = path.display().to_string();
        let format = file::Format::of(path).ok_or_else(|| DeclareError::Format {
            path: shown.clone(),
        })?;
        let text = std::fs::read_to_string(path).map_err(|source| DeclareError::Read {
            path: shown.clone(),
            source,
        })?;
        let source = path
            .file_name()
            .map_or_else(|| shown.clone(), |n| n.to_string_lossy().into_owned());
        Self::parse(&text, format, &source, &|var| std::env::var(var).ok()).map_err(|e| match e {
            // Name the file as given, not only its name.
            DeclareError::Syntax { message, .. } => DeclareError::Syntax {
                path: shown.clone(),
                message,
            },
            DeclareError::Invalid { problems, .. } => DeclareError::Invalid {
                path: shown.clone(),
                problems,
            },
            other => other,
        })
    }

    fn parse(
        text: &str,
        format: file::Format,
        source: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, DeclareError> {
        let decl = file::parse(text, format).map_err(|message| DeclareError::Syntax {
            path: source.to_string(),
            message,
        })?;
        check::check(decl, source, env).map_err(|problems| DeclareError::Invalid {
            path: source.to_string(),
            problems,
        })
    }
}

/// Checks `declaration` against the stored state and applies what differs; with `dry_run`,
/// only reports what would change.
pub async fn apply(
    service: &Service,
    declaration: &Declaration,
    dry_run: bool,
) -> Result<Report, DeclareError> {
    apply::run(service, declaration, dry_run).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str, env: &[(&str, &str)]) -> Result<Declaration, DeclareError> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Declaration::parse(text, file::Format::Toml, "flagwatch.toml", &move |var| {
            env.iter().find(|(k, _)| k == var).map(|(_, v)| v.clone())
        })
    }

    fn problems(text: &str) -> Vec<String> {
        match load(text, &[]) {
            Err(DeclareError::Invalid { problems, .. }) => problems,
            Err(e) => panic!("not a validation error: {e}"),
            Ok(_) => panic!("valid"),
        }
    }

    #[test]
    fn a_guard_must_name_a_monitor_of_the_file() {
        let p = problems(
            r#"
[[flags]]
name = "f"
[[guards]]
name = "g"
monitor = "nope"
flags = [{ feature = "f", environment = "production" }]
"#,
        );
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with("guard \"g\": monitor \"nope\" is not declared"),
            "{p:?}"
        );
    }

    #[test]
    fn values_go_through_the_apis_parsers() {
        let p = problems(
            r#"
[[monitors]]
pronounceable_name = "api"
monitor_type = "status"
url = "https://example.com"
check_frequency = 0
[[guards]]
name = "sla"
sla = { monitor = "api", availability_min = 150 }
recently_enabled = { hours = 24, environment = "production" }
[[flags]]
name = "f"
[flags.environments.production]
strategies = [{ name = "flexibleRollout", parameters = { rollout = 101 } }]
"#,
        );
        let all = p.join("\n");
        assert!(
            all.contains(
                "flag \"f\", environment \"production\", strategies[0]: parameters.rollout"
            ),
            "{all}"
        );
        assert!(
            all.contains("monitor \"api\": check_frequency: must be between"),
            "{all}"
        );
        assert!(
            all.contains("guard \"sla\": signal.sla.availability_min"),
            "{all}"
        );
    }

    #[test]
    fn secrets_come_from_the_environment() {
        let text = r#"
[[tokens]]
name = "backend"
type = "backend"
secret_env = "FW_TOKEN"
"#;
        let Err(DeclareError::Invalid { problems: p, .. }) = load(text, &[]) else {
            panic!("a missing variable is an error");
        };
        assert!(p[0].contains("FW_TOKEN"), "{p:?}");
        let d = load(text, &[("FW_TOKEN", "default:development.abc")])
            .ok()
            .unwrap();
        assert!(d.declares_tokens());
        assert_eq!(d.tokens[0].secret, "default:development.abc");
        // An admin secret for a backend token is refused, and the message shows no secret.
        let e = load(text, &[("FW_TOKEN", "*:*.very-secret-key")])
            .err()
            .unwrap();
        assert!(!e.to_string().contains("very-secret-key"), "{e}");
    }

    #[test]
    fn the_example_file_is_valid() {
        let env = [
            (
                "SLACK_WEBHOOK_URL",
                "https://hooks.slack.com/services/T0/B0/x",
            ),
            ("FLAGWATCH_WEBHOOK_SECRET", "a-webhook-signing-secret"),
            ("FLAGWATCH_CLIENT_TOKEN", "checkout:production.abc"),
            ("FLAGWATCH_ADMIN_TOKEN", "*:*.abc"),
        ];
        let d = load(include_str!("../../examples/flagwatch.toml"), &env)
            .map_err(|e| e.to_string())
            .unwrap();
        assert_eq!(d.monitors.len(), 2);
        assert!(d.declares_tokens());
    }

    #[test]
    fn names_are_unique_and_switching_on_needs_a_strategy() {
        let p = problems(
            r#"
[[flags]]
name = "f"
[flags.environments.production]
enabled = true
strategies = []
[[flags]]
name = "f"
"#,
        );
        let all = p.join("\n");
        assert!(all.contains("flag \"f\": declared twice"), "{all}");
        assert!(
            all.contains("is switched on with no active strategy"),
            "{all}"
        );
    }
}
