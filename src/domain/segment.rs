//! Segments: named, reusable lists of constraints that strategies refer to by id.

use serde::{Deserialize, Serialize};

use crate::domain::strategy::{Constraint, ConstraintInput, parse_constraints};
use crate::domain::{Invalid, Timestamp};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Segment {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub project: Option<String>,
    pub constraints: Vec<Constraint>,
    pub created_by: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SegmentInput {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub project: Option<String>,
    #[serde(default)]
    pub constraints: Option<Vec<ConstraintInput>>,
}

/// A validated segment without its identity.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentSpec {
    pub name: String,
    pub description: Option<String>,
    pub project: Option<String>,
    pub constraints: Vec<Constraint>,
}

impl SegmentSpec {
    pub fn parse(input: SegmentInput) -> Result<Self, Invalid> {
        let name = input
            .name
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .ok_or_else(|| Invalid::at("name", "\"name\" is required and must not be empty."))?;
        if name.chars().count() > 100 {
            return Err(Invalid::at(
                "name",
                "\"name\" must be at most 100 characters long.",
            ));
        }
        Ok(Self {
            name,
            description: input.description.filter(|d| !d.is_empty()),
            project: input.project.filter(|p| !p.is_empty()),
            constraints: parse_constraints(input.constraints.unwrap_or_default())?,
        })
    }
}
