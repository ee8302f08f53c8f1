//! JSON shapes the admin API answers with, as Unleash 8 shapes them.

use serde_json::{Value, json};

use crate::domain::event::Actor;
use crate::domain::feature::{Feature, FeatureEnvironment};

/// Unleash shows a flag made with an admin token as its token user, not by the token's name.
fn created_by(f: &Feature) -> Value {
    let name = if f.created_by_user_id == Some(Actor::ADMIN_TOKEN_USER_ID) {
        "Unleash Admin Token User"
    } else {
        f.created_by.as_str()
    };
    json!({"id": f.created_by_user_id, "name": name, "imageUrl": ""})
}

fn environment_detail(e: &FeatureEnvironment) -> Value {
    json!({
        "name": e.environment.name,
        "lastSeenAt": null,
        "enabled": e.enabled,
        "yes": 0,
        "no": 0,
        "type": e.environment.env_type,
        "sortOrder": e.environment.sort_order,
        "strategies": e.strategies,
        "variants": e.variants,
    })
}

/// `GET /api/admin/projects/{p}/features/{f}`.
pub fn feature(f: &Feature) -> Value {
    json!({
        "environments": f.environments.iter().map(environment_detail).collect::<Vec<_>>(),
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
        "dependencies": [],
        "children": [],
        "links": [],
        // Unleash lists everyone who changed the flag; we know the creator.
        "collaborators": {"users": [created_by(f)]},
    })
}

/// One entry of `GET /api/admin/projects/{p}/features`. Unleash leaves strategies out of
/// this list; we include them, since scripts read rollouts from it.
pub fn feature_list_item(f: &Feature) -> Value {
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
                "lastSeenAt": null,
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
pub fn feature_environment(feature: &str, e: &FeatureEnvironment) -> Value {
    json!({
        "name": e.environment.name,
        "environment": e.environment.name,
        "featureName": feature,
        "enabled": e.enabled,
        "type": e.environment.env_type,
        "sortOrder": e.environment.sort_order,
        "strategies": e.strategies,
        "variants": e.variants,
        "lastSeenAt": null,
    })
}
