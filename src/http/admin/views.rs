//! JSON shapes the admin API answers with, as Unleash 8 shapes them.

use serde_json::{Value, json};

use crate::domain::Timestamp;
use crate::domain::event::Actor;
use crate::domain::feature::{Feature, FeatureEnvironment};
use crate::domain::metrics::LastSeen;

/// Unleash shows a flag made with an admin token as its token user, not by the token's name.
fn created_by(f: &Feature) -> Value {
    let name = if f.created_by_user_id == Some(Actor::ADMIN_TOKEN_USER_ID) {
        "Unleash Admin Token User"
    } else {
        f.created_by.as_str()
    };
    json!({"id": f.created_by_user_id, "name": name, "imageUrl": ""})
}

/// When an SDK last reported evaluating `feature` in `environment`; `None` (`null`) if never.
fn seen(last_seen: &LastSeen, feature: &str, environment: &str) -> Option<Timestamp> {
    last_seen
        .get(&(feature.to_string(), environment.to_string()))
        .copied()
}

fn environment_detail(e: &FeatureEnvironment, last_seen: Option<Timestamp>) -> Value {
    json!({
        "name": e.environment.name,
        "lastSeenAt": last_seen,
        "enabled": e.enabled,
        "yes": 0,
        "no": 0,
        "type": e.environment.env_type,
        "sortOrder": e.environment.sort_order,
        "strategies": e.strategies,
        "variants": e.variants,
    })
}

/// `GET /api/admin/projects/{p}/features/{f}`. `lastSeenAt` is the latest over environments;
/// `children` are the live flags that depend on this one.
pub fn feature(f: &Feature, children: &[String], last_seen: &LastSeen) -> Value {
    let environments: Vec<(&FeatureEnvironment, Option<Timestamp>)> = f
        .environments
        .iter()
        .map(|e| (e, seen(last_seen, &f.name, &e.environment.name)))
        .collect();
    json!({
        "environments": environments
            .iter()
            .map(|(e, seen)| environment_detail(e, *seen))
            .collect::<Vec<_>>(),
        "lastSeenAt": environments.iter().filter_map(|(_, seen)| *seen).max(),
        "name": f.name,
        "impressionData": f.impression_data,
        "description": f.description,
        "project": f.project,
        "stale": f.stale,
        "createdAt": f.created_at,
        "createdBy": created_by(f),
        "type": f.feature_type,
        "archived": f.archived_at.is_some(),
        "archivedAt": f.archived_at,
        "tags": f.tags,
        "variants": [],
        "dependencies": f.dependencies,
        "children": children,
        "links": [],
        // Unleash lists everyone who changed the flag; we know the creator.
        "collaborators": {"users": [created_by(f)]},
    })
}

/// One entry of `GET /api/admin/projects/{p}/features`. Unleash leaves strategies out of
/// this list; we include them, since scripts read rollouts from it.
pub fn feature_list_item(f: &Feature, last_seen: &LastSeen) -> Value {
    let environments: Vec<Value> = f
        .environments
        .iter()
        .map(|e| {
            json!({
                "name": e.environment.name,
                "enabled": e.enabled,
                "type": e.environment.env_type,
                "sortOrder": e.environment.sort_order,
                "variantCount": e.variants.len(),
                "lastSeenAt": seen(last_seen, &f.name, &e.environment.name),
                "hasStrategies": !e.strategies.is_empty(),
                "hasEnabledStrategies": e.strategies.iter().any(|s| !s.disabled),
                "strategies": e.strategies,
            })
        })
        .collect();
    json!({
        "type": f.feature_type,
        "description": f.description,
        "favorite": false,
        "name": f.name,
        "project": f.project,
        "createdAt": f.created_at,
        "stale": f.stale,
        "impressionData": f.impression_data,
        "archivedAt": f.archived_at,
        "tags": f.tags,
        "environments": environments,
    })
}

/// `GET …/features/{f}/environments/{env}`.
pub fn feature_environment(feature: &str, e: &FeatureEnvironment, last_seen: &LastSeen) -> Value {
    json!({
        "name": e.environment.name,
        "environment": e.environment.name,
        "featureName": feature,
        "enabled": e.enabled,
        "type": e.environment.env_type,
        "sortOrder": e.environment.sort_order,
        "strategies": e.strategies,
        "variants": e.variants,
        "lastSeenAt": seen(last_seen, feature, &e.environment.name),
    })
}
