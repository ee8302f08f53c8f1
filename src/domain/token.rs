//! API tokens: who may call what. Unleash's token syntax is `<project>:<environment>.<secret>`.

use serde::Serialize;

use crate::domain::{Invalid, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    /// Everything under `/api/admin` (and, later, the monitor API).
    Admin,
    /// Server-side SDKs: `/api/client/*`. Unleash's deprecated name for it is `client`.
    Backend,
    /// Browser and mobile SDKs: `/api/frontend*`.
    Frontend,
}

impl TokenKind {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        match s.to_ascii_lowercase().as_str() {
            "admin" => Ok(Self::Admin),
            "client" | "backend" => Ok(Self::Backend),
            "frontend" => Ok(Self::Frontend),
            _ => Err(Invalid::at(
                "type",
                format!(
                    "\"type\" must be one of \"client\", \"backend\", \"frontend\", \"admin\"; \"{s}\" is not."
                ),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Backend => "backend",
            Self::Frontend => "frontend",
        }
    }
}

/// A stored token. The secret itself is never kept; `secret_prefix` is enough to recognise it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: String,
    pub secret_hash: String,
    pub secret_prefix: String,
    pub name: String,
    pub kind: TokenKind,
    /// `*` for admin tokens.
    pub environment: String,
    /// `["*"]` for all projects.
    pub projects: Vec<String>,
    pub expires_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

impl ApiToken {
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expires_at.is_some_and(|e| e <= now)
    }

    pub fn all_projects(&self) -> bool {
        self.projects.iter().any(|p| p == "*")
    }

    pub fn covers_project(&self, project: &str) -> bool {
        self.all_projects() || self.projects.iter().any(|p| p == project)
    }
}

/// The scope a token string declares: `default:development.abc` → (`default`, `development`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenScope {
    pub project: String,
    pub environment: String,
}

impl TokenScope {
    /// Reads the scope out of a secret. Secrets without the `project:env.` shape are refused,
    /// since the scope would otherwise be a guess.
    pub fn parse_secret(secret: &str) -> Result<Self, Invalid> {
        let shape = || {
            Invalid::new(format!(
                "A token looks like \"<project>:<environment>.<secret>\" (\"*:*.<secret>\" for admin tokens); \"{}\" does not.",
                prefix_of(secret)
            ))
        };
        let (project, rest) = secret.split_once(':').ok_or_else(shape)?;
        let (environment, key) = rest.split_once('.').ok_or_else(shape)?;
        if project.is_empty() || environment.is_empty() || key.is_empty() {
            return Err(shape());
        }
        Ok(Self {
            project: project.into(),
            environment: environment.into(),
        })
    }

    /// Checks the scope suits the kind, by Unleash's rule: admin tokens are `*:*`; the others
    /// name one environment.
    pub fn check_for(&self, kind: TokenKind) -> Result<(), Invalid> {
        match kind {
            TokenKind::Admin if self.project != "*" || self.environment != "*" => Err(
                Invalid::new("Admin tokens must have the form \"*:*.<secret>\"."),
            ),
            TokenKind::Backend | TokenKind::Frontend if self.environment == "*" => {
                Err(Invalid::new(format!(
                    "A {} token must name one environment, not \"*\".",
                    kind.as_str()
                )))
            }
            _ => Ok(()),
        }
    }
}

/// What a token may be listed as: the scope and the first few characters of the key.
pub fn prefix_of(secret: &str) -> String {
    let head: String = match secret.split_once('.') {
        Some((scope, key)) => format!("{scope}.{}", key.chars().take(4).collect::<String>()),
        None => secret.chars().take(6).collect(),
    };
    format!("{head}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_scope_from_unleash_token_syntax() {
        let s = TokenScope::parse_secret("default:development.unleash-client-token").unwrap();
        assert_eq!(
            (s.project.as_str(), s.environment.as_str()),
            ("default", "development")
        );
        assert!(
            TokenScope::parse_secret("*:*.x")
                .unwrap()
                .check_for(TokenKind::Admin)
                .is_ok()
        );
        assert!(
            TokenScope::parse_secret("default:*.x")
                .unwrap()
                .check_for(TokenKind::Backend)
                .is_err()
        );
        assert!(
            TokenScope::parse_secret("default:dev.x")
                .unwrap()
                .check_for(TokenKind::Admin)
                .is_err()
        );
        assert!(TokenScope::parse_secret("no-scope").is_err());
        assert!(TokenScope::parse_secret("a:b.").is_err());
    }

    #[test]
    fn prefixes_never_show_the_whole_key() {
        assert_eq!(prefix_of("*:*.unleash-admin-api-token"), "*:*.unle…");
        assert!(!prefix_of("plain-secret-value").contains("value"));
    }
}
