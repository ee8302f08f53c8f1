//! What an apply did (or, with `--dry-run`, would do), object by object.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
}

/// One object of the file and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// `environment`, `project`, `segment`, `flag`, `channel`, `monitor`, `guard`, `token`.
    pub kind: &'static str,
    pub name: String,
    pub outcome: Outcome,
    /// What changed, in words ("production: strategy 1 (flexibleRollout) updated"), and
    /// anything left alone on purpose ("production: left off: guard \"x\" holds it").
    pub details: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The file's name.
    pub source: String,
    /// Nothing was written: the outcomes say what an apply would do.
    pub dry_run: bool,
    /// In the order applied.
    pub changes: Vec<Change>,
}

impl Report {
    pub fn new(source: &str, dry_run: bool) -> Self {
        Self {
            source: source.to_string(),
            dry_run,
            changes: Vec::new(),
        }
    }

    pub fn count(&self, outcome: Outcome) -> usize {
        self.changes.iter().filter(|c| c.outcome == outcome).count()
    }

    /// Whether anything was (or would be) created or updated.
    pub fn changed(&self) -> bool {
        self.changes.iter().any(|c| c.outcome != Outcome::Unchanged)
    }

    /// The outcome of object `name` of `kind`, if the file declares it.
    pub fn outcome(&self, kind: &str, name: &str) -> Option<Outcome> {
        self.changes
            .iter()
            .find(|c| c.kind == kind && c.name == name)
            .map(|c| c.outcome)
    }

    fn word(&self, outcome: Outcome) -> &'static str {
        match (outcome, self.dry_run) {
            (Outcome::Created, false) => "created",
            (Outcome::Updated, false) => "updated",
            (Outcome::Created, true) => "would be created",
            (Outcome::Updated, true) => "would be updated",
            (Outcome::Unchanged, _) => "unchanged",
        }
    }

    /// "2 created, 1 updated, 7 unchanged".
    pub fn totals(&self) -> String {
        format!(
            "{} {}, {} {}, {} unchanged",
            self.count(Outcome::Created),
            self.word(Outcome::Created),
            self.count(Outcome::Updated),
            self.word(Outcome::Updated),
            self.count(Outcome::Unchanged),
        )
    }

    /// Logs the objects created or updated, and the totals (start-up's summary).
    pub fn log(&self) {
        for c in self
            .changes
            .iter()
            .filter(|c| c.outcome != Outcome::Unchanged)
        {
            tracing::info!(
                config = %self.source,
                kind = c.kind,
                name = %c.name,
                outcome = self.word(c.outcome),
                details = %c.details.join("; "),
                "config file applied"
            );
        }
        tracing::info!(config = %self.source, totals = %self.totals(), "config file applied");
    }
}

/// One line per object, its details indented under it, then the totals.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .changes
            .iter()
            .map(|c| c.name.chars().count())
            .max()
            .unwrap_or(0)
            .min(48);
        for c in &self.changes {
            writeln!(
                f,
                "{:<11} {:<width$}  {}",
                c.kind,
                c.name,
                self.word(c.outcome)
            )?;
            for d in &c.details {
                writeln!(f, "{:<11}   - {d}", "")?;
            }
        }
        let verb = if self.dry_run {
            "dry run of"
        } else {
            "applied"
        };
        write!(f, "{verb} {}: {}", self.source, self.totals())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_each_object_and_the_totals() {
        let mut r = Report::new("flagwatch.toml", false);
        r.changes.push(Change {
            kind: "flag",
            name: "checkout/new-checkout".into(),
            outcome: Outcome::Updated,
            details: vec!["production: strategy 1 (flexibleRollout) updated".into()],
        });
        r.changes.push(Change {
            kind: "monitor",
            name: "checkout-api".into(),
            outcome: Outcome::Unchanged,
            details: vec![],
        });
        let text = r.to_string();
        assert!(
            text.contains("flag        checkout/new-checkout  updated"),
            "{text}"
        );
        assert!(text.contains("- production: strategy 1 (flexibleRollout) updated"));
        assert!(text.ends_with("applied flagwatch.toml: 0 created, 1 updated, 1 unchanged"));
        assert!(r.changed());
        r.dry_run = true;
        assert!(r.to_string().contains("would be updated"));
    }
}
