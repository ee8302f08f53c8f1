//! The one error every parser in `domain` returns.

use std::fmt;

/// Input that breaks a rule. `path` names the offending field (`"name"`,
/// `"constraints[0].operator"`), `message` says what is wrong in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub path: Option<String>,
    pub message: String,
}

impl Invalid {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            path: None,
            message: message.into(),
        }
    }

    pub fn at(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: Some(path.into()),
            message: message.into(),
        }
    }

    /// Prefixes the path, so a nested parser's error names the full location.
    pub fn within(mut self, prefix: &str) -> Self {
        self.path = Some(match self.path {
            Some(p) if p.starts_with('[') => format!("{prefix}{p}"),
            Some(p) => format!("{prefix}.{p}"),
            None => prefix.to_string(),
        });
        self
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Invalid {}
