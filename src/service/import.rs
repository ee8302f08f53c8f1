//! Loading a state written in the client API's own JSON (`unleash-types`' `ClientFeature` and
//! `Segment`), for the client-specification conformance tests (`tests/api/conformance.rs`).
//!
//! Not reachable over HTTP. It exists because the specification's cases deliberately contain
//! what the admin API refuses or rewrites, as Unleash's does, and these input rules — only
//! these — are skipped here:
//! - names need not be URL-friendly;
//! - constraint operators may be unknown, and single values need not parse (a semver with a
//!   leading `v`, a regex with look-ahead);
//! - strategy parameters are taken as given (no percentage check, no `groupId`/`stickiness`
//!   defaults), as are variant weights (not spread over 1000);
//! - flag dependencies as given: the admin endpoint refuses a missing parent, a parent in
//!   another project, a self-dependency and chains deeper than one level, which the
//!   specification's cases contain on purpose.
//!
//! Everything else holds as for any write: strategy names must be known and flag types valid,
//! the environment and every referenced segment must exist, a flag keeps its project, and
//! each change is written with its event (actor: the system user) in one transaction.

use std::collections::BTreeMap;

use unleash_types::client_features as wire;

use crate::domain::event::{Actor, NewEvent, kind};
use crate::domain::feature::{FeatureDependency, FeatureMetadata, Project, parse_feature_type};
use crate::domain::segment::SegmentSpec;
use crate::domain::strategy::{
    Constraint, KNOWN_STRATEGIES, Operator, Override, Payload, Strategy, Variant, WeightType,
};
use crate::domain::{Invalid, Timestamp};
use crate::service::features::feature_summary;
use crate::service::{Result, Service, ServiceError};
use crate::store::Writer;

impl Service {
    /// Writes `segments`, then `features` into `environment`, as given: a flag that exists is
    /// brought to the given state there (metadata, strategies, variants, dependencies, on/off);
    /// a missing project is created. A segment keeps the id it is given: one that exists is
    /// updated, a new one must receive that id from the database (true for ids 1, 2, … written
    /// in order into an empty one), or the import fails and writes nothing.
    pub async fn import_client_state(
        &self,
        environment: &str,
        features: &[wire::ClientFeature],
        segments: &[wire::Segment],
    ) -> Result<()> {
        let actor = Actor::system();
        let mut tx = self.store.write().await?;
        if tx.environment(environment).await?.is_none() {
            return Err(ServiceError::NotFound(format!(
                "Could not find environment {environment}"
            )));
        }
        for segment in segments {
            import_segment(&mut tx, &actor, segment).await?;
        }
        for feature in features {
            import_feature(&mut tx, &actor, environment, feature).await?;
        }
        self.commit(tx).await
    }
}

async fn import_segment(tx: &mut Writer, actor: &Actor, s: &wire::Segment) -> Result<()> {
    let id = i64::from(s.id);
    let constraints: Vec<Constraint> = s.constraints.iter().map(constraint).collect();
    match tx.segment(id).await? {
        Some(before) if before.constraints == constraints => {}
        Some(before) => {
            let spec = SegmentSpec {
                name: before.name.clone(),
                description: before.description.clone(),
                project: before.project.clone(),
                constraints,
            };
            tx.update_segment(id, &spec).await?;
            let after = tx.segment(id).await?;
            tx.append_event(
                &NewEvent::new(kind::SEGMENT_UPDATED, actor)
                    .data(&after)
                    .pre_data(&before),
            )
            .await?;
        }
        None => {
            let spec = SegmentSpec {
                name: format!("segment-{id}"),
                description: None,
                project: None,
                constraints,
            };
            let given = tx.insert_segment(&spec, &actor.name).await?;
            if given != id {
                return Err(ServiceError::Conflict {
                    name: "ConflictError",
                    message: format!(
                        "Segment {id} cannot be imported: the database gave the new segment id {given}."
                    ),
                });
            }
            let created = tx.segment(id).await?;
            tx.append_event(&NewEvent::new(kind::SEGMENT_CREATED, actor).data(&created))
                .await?;
        }
    }
    Ok(())
}

async fn import_feature(
    tx: &mut Writer,
    actor: &Actor,
    environment: &str,
    f: &wire::ClientFeature,
) -> Result<()> {
    let project = f.project.as_deref().unwrap_or("default");
    if tx.project(project).await?.is_none() {
        let p = Project {
            id: project.to_string(),
            name: project.to_string(),
            description: None,
            created_at: Timestamp::now(),
        };
        tx.insert_project(&p).await?;
        tx.append_event(
            &NewEvent::new(kind::PROJECT_CREATED, actor)
                .project(project)
                .data(&p),
        )
        .await?;
    }

    let meta = FeatureMetadata {
        name: f.name.clone(),
        description: f.description.clone().filter(|d| !d.is_empty()),
        feature_type: parse_feature_type(f.feature_type.as_deref())?,
        impression_data: f.impression_data.unwrap_or(false),
        stale: f.stale.unwrap_or(false),
    };
    let existing = match tx.feature(&f.name).await? {
        Some(e) if e.archived_at.is_some() || e.project != project => {
            return Err(ServiceError::Conflict {
                name: "ConflictError",
                message: format!(
                    "The flag \"{}\" exists in project \"{}\"{}; it cannot be imported into \"{project}\".",
                    e.name,
                    e.project,
                    if e.archived_at.is_some() {
                        " (archived)"
                    } else {
                        ""
                    }
                ),
            });
        }
        Some(e) => {
            if e.metadata() != meta {
                tx.update_feature(&meta).await?;
                tx.append_event(
                    &NewEvent::new(kind::FEATURE_METADATA_UPDATED, actor)
                        .feature(project, &f.name)
                        .data(&meta)
                        .pre_data(e.metadata()),
                )
                .await?;
            }
            e
        }
        None => {
            tx.insert_feature(&meta, project, actor).await?;
            let created = tx
                .feature(&f.name)
                .await?
                .ok_or_else(|| crate::service::not_found_feature(project, &f.name))?;
            tx.append_event(
                &NewEvent::new(kind::FEATURE_CREATED, actor)
                    .feature(project, &f.name)
                    .data(feature_summary(&created)),
            )
            .await?;
            created
        }
    };
    let state = existing.environment(environment).cloned();
    let event = |event_type| {
        NewEvent::new(event_type, actor)
            .feature(project, &f.name)
            .environment(environment)
    };

    let strategies: Vec<Strategy> = f
        .strategies
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, s)| strategy(s, i as i64))
        .collect();
    for s in &strategies {
        if !KNOWN_STRATEGIES.contains(&s.name.as_str()) {
            return Err(Invalid::at(
                "strategies",
                format!("Unknown strategy \"{}\" on flag \"{}\".", s.name, f.name),
            )
            .into());
        }
        for id in &s.segments {
            if tx.segment(*id).await?.is_none() {
                return Err(ServiceError::NotFound(format!(
                    "Could not find segment with id {id}."
                )));
            }
        }
    }
    let current = state.as_ref().map_or(&[][..], |s| s.strategies.as_slice());
    if !same_strategies(current, &strategies) {
        for before in current {
            tx.delete_strategy(&before.id).await?;
            tx.append_event(&event(kind::FEATURE_STRATEGY_REMOVE).pre_data(before))
                .await?;
        }
        for s in &strategies {
            tx.insert_strategy(&f.name, environment, s).await?;
            tx.append_event(&event(kind::FEATURE_STRATEGY_ADD).data(s))
                .await?;
        }
    }

    let variants: Vec<Variant> = f.variants.iter().flatten().map(variant).collect();
    let before = state.as_ref().map_or(&[][..], |s| s.variants.as_slice());
    if before != variants.as_slice() {
        tx.set_feature_variants(&f.name, environment, &variants)
            .await?;
        tx.append_event(
            &event(kind::FEATURE_ENVIRONMENT_VARIANTS_UPDATED)
                .data(serde_json::json!({ "variants": variants }))
                .pre_data(serde_json::json!({ "variants": before })),
        )
        .await?;
    }

    if state.as_ref().is_some_and(|s| s.enabled) != f.enabled {
        tx.set_feature_enabled(&f.name, environment, f.enabled)
            .await?;
        tx.append_event(&event(if f.enabled {
            kind::FEATURE_ENVIRONMENT_ENABLED
        } else {
            kind::FEATURE_ENVIRONMENT_DISABLED
        }))
        .await?;
    }

    let dependencies: Vec<FeatureDependency> = f
        .dependencies
        .iter()
        .flatten()
        .map(|d| FeatureDependency {
            feature: d.feature.clone(),
            enabled: d.enabled.unwrap_or(true),
            variants: d.variants.clone().unwrap_or_default(),
        })
        .collect();
    let mut sorted = dependencies.clone();
    sorted.sort_by(|a, b| a.feature.cmp(&b.feature));
    if existing.dependencies != sorted {
        tx.set_feature_dependencies(&f.name, &dependencies).await?;
        let changed = |event_type| NewEvent::new(event_type, actor).feature(project, &f.name);
        if !existing.dependencies.is_empty() {
            tx.append_event(
                &changed(kind::FEATURE_DEPENDENCIES_REMOVED).pre_data(&existing.dependencies),
            )
            .await?;
        }
        for d in &dependencies {
            tx.append_event(&changed(kind::FEATURE_DEPENDENCY_ADDED).data(d))
                .await?;
        }
    }
    Ok(())
}

/// Equal but for the ids, which a write gives anew.
fn same_strategies(a: &[Strategy], b: &[Strategy]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            Strategy {
                id: String::new(),
                ..x.clone()
            } == Strategy {
                id: String::new(),
                ..y.clone()
            }
        })
}

fn strategy(s: &wire::Strategy, sort_order: i64) -> Strategy {
    let mut segments: Vec<i64> = s
        .segments
        .iter()
        .flatten()
        .map(|id| i64::from(*id))
        .collect();
    segments.sort_unstable();
    segments.dedup();
    Strategy {
        id: ulid::Ulid::new().to_string(),
        name: s.name.clone(),
        title: None,
        disabled: false,
        sort_order,
        constraints: s.constraints.iter().flatten().map(constraint).collect(),
        parameters: s
            .parameters
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<BTreeMap<_, _>>(),
        variants: s
            .variants
            .iter()
            .flatten()
            .map(|v| Variant {
                name: v.name.clone(),
                weight: i64::from(v.weight),
                weight_type: WeightType::Variable,
                stickiness: v.stickiness.clone().unwrap_or_else(|| "default".into()),
                payload: v.payload.as_ref().map(payload),
                overrides: Vec::new(),
            })
            .collect(),
        segments,
    }
}

fn variant(v: &wire::Variant) -> Variant {
    Variant {
        name: v.name.clone(),
        weight: i64::from(v.weight),
        weight_type: match v.weight_type {
            Some(wire::WeightType::Fix) => WeightType::Fix,
            _ => WeightType::Variable,
        },
        stickiness: v.stickiness.clone().unwrap_or_else(|| "default".into()),
        payload: v.payload.as_ref().map(payload),
        overrides: v
            .overrides
            .iter()
            .flatten()
            .map(|o| Override {
                context_name: o.context_name.clone(),
                values: o.values.clone(),
            })
            .collect(),
    }
}

fn payload(p: &wire::Payload) -> Payload {
    Payload {
        payload_type: p.payload_type.clone(),
        value: p.value.clone(),
    }
}

fn constraint(c: &wire::Constraint) -> Constraint {
    Constraint {
        context_name: c.context_name.clone(),
        operator: operator(&c.operator),
        values: c.values.clone().unwrap_or_default(),
        value: c.value.clone(),
        case_insensitive: c.case_insensitive,
        inverted: c.inverted,
    }
}

fn operator(op: &wire::Operator) -> Operator {
    use wire::Operator as W;
    match op {
        W::NotIn => Operator::NotIn,
        W::In => Operator::In,
        W::StrEndsWith => Operator::StrEndsWith,
        W::StrStartsWith => Operator::StrStartsWith,
        W::StrContains => Operator::StrContains,
        W::NumEq => Operator::NumEq,
        W::NumGt => Operator::NumGt,
        W::NumGte => Operator::NumGte,
        W::NumLt => Operator::NumLt,
        W::NumLte => Operator::NumLte,
        W::DateAfter => Operator::DateAfter,
        W::DateBefore => Operator::DateBefore,
        W::SemverEq => Operator::SemverEq,
        W::SemverLt => Operator::SemverLt,
        W::SemverGt => Operator::SemverGt,
        W::SemverLte => Operator::SemverLte,
        W::SemverGte => Operator::SemverGte,
        W::InCidr => Operator::InCidr,
        W::RegexMatch => Operator::Regex,
        W::Unknown(name) => Operator::Unknown(name.clone()),
    }
}
