//! The client API's JSON, shaped exactly as Unleash sends it (`GET /api/client/features`):
//! disabled flags included, strategy ids and titles left out, parameters as strings, and
//! `constraints`, `parameters` and `variants` always present.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::domain::feature::Feature;
use crate::domain::segment::Segment;
use crate::domain::strategy::{Constraint, Strategy, Variant};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientFeature<'a> {
    pub name: &'a str,
    #[serde(rename = "type")]
    pub feature_type: &'a str,
    pub enabled: bool,
    pub project: &'a str,
    pub stale: bool,
    pub strategies: Vec<ClientStrategy<'a>>,
    pub variants: &'a [Variant],
    pub description: Option<&'a str>,
    pub impression_data: bool,
    /// Left out when the flag has none, as Unleash does.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<ClientDependency<'a>>,
}

/// A parent flag: `variants` only when it names some.
#[derive(Serialize)]
pub struct ClientDependency<'a> {
    pub feature: &'a str,
    pub enabled: bool,
    #[serde(skip_serializing_if = "no_variants")]
    pub variants: &'a [String],
}

fn no_variants(v: &&[String]) -> bool {
    v.is_empty()
}

#[derive(Serialize)]
pub struct ClientStrategy<'a> {
    pub name: &'a str,
    pub constraints: Vec<&'a Constraint>,
    pub parameters: &'a BTreeMap<String, String>,
    pub variants: &'a [Variant],
    /// Only when segments are sent separately (`Unleash-Client-Spec` ≥ 4.2.0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segments: Option<&'a [i64]>,
}

#[derive(Serialize)]
pub struct ClientSegment<'a> {
    pub id: i64,
    pub name: &'a str,
    pub constraints: &'a [Constraint],
}

/// How segments travel: inlined into each strategy's constraints (older SDKs), or by id with
/// the segment list at the top level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SegmentMode {
    Inline,
    Global,
}

/// One flag as an SDK in `environment` sees it.
pub fn client_feature<'a>(
    feature: &'a Feature,
    environment: &str,
    segments: &'a BTreeMap<i64, Segment>,
    mode: SegmentMode,
) -> ClientFeature<'a> {
    let state = feature.environment(environment);
    let strategies = state
        .map(|s| {
            s.strategies
                .iter()
                .filter(|s| !s.disabled)
                .map(|s| client_strategy(s, segments, mode))
                .collect()
        })
        .unwrap_or_default();
    ClientFeature {
        name: &feature.name,
        feature_type: &feature.feature_type,
        enabled: state.is_some_and(|s| s.enabled),
        project: &feature.project,
        stale: feature.stale,
        strategies,
        variants: state.map_or(&[], |s| s.variants.as_slice()),
        description: feature.description.as_deref(),
        impression_data: feature.impression_data,
        dependencies: feature
            .dependencies
            .iter()
            .map(|d| ClientDependency {
                feature: &d.feature,
                enabled: d.enabled,
                variants: &d.variants,
            })
            .collect(),
    }
}

fn client_strategy<'a>(
    s: &'a Strategy,
    segments: &'a BTreeMap<i64, Segment>,
    mode: SegmentMode,
) -> ClientStrategy<'a> {
    let mut constraints: Vec<&Constraint> = s.constraints.iter().collect();
    if mode == SegmentMode::Inline {
        for id in &s.segments {
            if let Some(segment) = segments.get(id) {
                constraints.extend(segment.constraints.iter());
            }
        }
    }
    ClientStrategy {
        name: &s.name,
        constraints,
        parameters: &s.parameters,
        variants: &s.variants,
        segments: (mode == SegmentMode::Global && !s.segments.is_empty())
            .then_some(s.segments.as_slice()),
    }
}

pub fn client_segment(s: &Segment) -> ClientSegment<'_> {
    ClientSegment {
        id: s.id,
        name: &s.name,
        constraints: &s.constraints,
    }
}
