//! Flags: create, read, update, archive, and switch them per environment.

use serde_json::{Value, json};

use crate::domain::Timestamp;
use crate::domain::event::{Actor, NewEvent, kind};
use crate::domain::feature::{
    Feature, FeatureDependency, FeatureDependencyInput, FeatureInput, FeatureMetadata, Tag,
};
use crate::domain::name::parse_url_friendly;
use crate::domain::strategy::StrategySpec;
use crate::service::{Result, Service, ServiceError, apply_patch, from_patched, not_found_feature};
use crate::store::{FeatureFilter, Reader};

/// The body Unleash answers a create or update with, also the `feature-created` event's data.
pub fn feature_summary(f: &Feature) -> Value {
    json!({
        "name": f.name,
        "description": f.description,
        "type": f.feature_type,
        "project": f.project,
        "stale": f.stale,
        "createdAt": f.created_at,
        "impressionData": f.impression_data,
        "archived": f.archived_at.is_some(),
    })
}

impl Service {
    /// A live flag of `project`, or 404.
    pub(super) async fn require_feature(
        &self,
        r: &mut Reader,
        project: &str,
        name: &str,
    ) -> Result<Feature> {
        match r.feature(name).await? {
            Some(f) if f.project == project && f.archived_at.is_none() => Ok(f),
            _ => Err(not_found_feature(project, name)),
        }
    }

    pub async fn get_feature(&self, project: &str, name: &str) -> Result<Feature> {
        let mut r = self.store.read().await?;
        self.require_feature(&mut r, project, name).await
    }

    /// Live flags of a project, narrowed by `namePrefix` and `tag` (any of them).
    pub async fn list_features(
        &self,
        project: &str,
        name_prefix: Option<String>,
        tags: Vec<Tag>,
    ) -> Result<Vec<Feature>> {
        let mut r = self.store.read().await?;
        self.require_project(&mut r, project).await?;
        let filter = FeatureFilter {
            projects: Some(vec![project.to_string()]),
            name_prefix,
            tags,
            ..FeatureFilter::live()
        };
        Ok(r.features(&filter).await?)
    }

    pub async fn list_archived(&self, project: Option<&str>) -> Result<Vec<Feature>> {
        let filter = FeatureFilter {
            projects: project.map(|p| vec![p.to_string()]),
            archived: Some(true),
            ..FeatureFilter::default()
        };
        Ok(self.store.read().await?.features(&filter).await?)
    }

    /// 200 if `name` is free, 409 if a flag (live or archived) has it, 400 if it breaks the rule.
    pub async fn validate_feature_name(&self, name: &str) -> Result<()> {
        let name = parse_url_friendly("name", name)?;
        match self.store.read().await?.feature(&name).await? {
            Some(_) => Err(name_exists()),
            None => Ok(()),
        }
    }

    pub async fn create_feature(
        &self,
        actor: &Actor,
        project: &str,
        input: FeatureInput,
    ) -> Result<Feature> {
        let meta = FeatureMetadata::parse_new(&input)?;
        let tags = input.tags.unwrap_or_default();
        let mut tx = self.store.write().await?;
        self.require_project(&mut tx, project).await?;
        if tx.feature(&meta.name).await?.is_some() {
            return Err(name_exists());
        }
        tx.insert_feature(&meta, project, actor).await?;
        let created = tx
            .feature(&meta.name)
            .await?
            .ok_or_else(|| not_found_feature(project, &meta.name))?;
        tx.append_event(
            &NewEvent::new(kind::FEATURE_CREATED, actor)
                .feature(project, &meta.name)
                .data(feature_summary(&created)),
        )
        .await?;
        for tag in &tags {
            let tag = Tag::parse(&tag.tag_type, &tag.value)?;
            self.add_tag_in(&mut tx, actor, &created, &tag).await?;
        }
        let created = tx
            .feature(&meta.name)
            .await?
            .ok_or_else(|| not_found_feature(project, &meta.name))?;
        self.commit(tx).await?;
        Ok(created)
    }

    pub async fn update_feature(
        &self,
        actor: &Actor,
        project: &str,
        name: &str,
        input: FeatureInput,
    ) -> Result<Feature> {
        let mut tx = self.store.write().await?;
        let current = self.require_feature(&mut tx, project, name).await?;
        let before = current.metadata();
        let after = FeatureMetadata::parse_update(&before, &input)?;
        if after != before {
            tx.update_feature(&after).await?;
            let event = NewEvent::new(kind::FEATURE_METADATA_UPDATED, actor)
                .feature(project, name)
                .data(&after)
                .pre_data(&before);
            tx.append_event(&event).await?;
            if after.stale != before.stale {
                let stale = if after.stale {
                    kind::FEATURE_STALE_ON
                } else {
                    kind::FEATURE_STALE_OFF
                };
                tx.append_event(&NewEvent::new(stale, actor).feature(project, name))
                    .await?;
            }
        }
        let updated = self.require_feature(&mut tx, project, name).await?;
        self.commit(tx).await?;
        Ok(updated)
    }

    /// Applies an RFC 6902 patch to the flag's editable fields (`/description`, `/type`,
    /// `/stale`, `/impressionData`).
    pub async fn patch_feature(
        &self,
        actor: &Actor,
        project: &str,
        name: &str,
        patch: Value,
    ) -> Result<Feature> {
        let current = self.get_feature(project, name).await?;
        let doc = serde_json::to_value(current.metadata())
            .map_err(|e| ServiceError::Internal(e.into()))?;
        let input: FeatureInput = from_patched(apply_patch(doc, patch)?)?;
        self.update_feature(actor, project, name, input).await
    }

    pub async fn archive_features(
        &self,
        actor: &Actor,
        project: &str,
        names: &[String],
    ) -> Result<()> {
        let mut tx = self.store.write().await?;
        for name in names {
            self.require_feature(&mut tx, project, name).await?;
            tx.set_feature_archived(name, Some(Timestamp::now()))
                .await?;
            tx.append_event(&NewEvent::new(kind::FEATURE_ARCHIVED, actor).feature(project, name))
                .await?;
        }
        self.commit(tx).await
    }

    pub async fn revive_features(
        &self,
        actor: &Actor,
        project: Option<&str>,
        names: &[String],
    ) -> Result<()> {
        let mut tx = self.store.write().await?;
        for name in names {
            let feature = require_archived(&mut tx, project, name).await?;
            tx.set_feature_archived(name, None).await?;
            tx.append_event(
                &NewEvent::new(kind::FEATURE_REVIVED, actor).feature(&feature.project, name),
            )
            .await?;
        }
        self.commit(tx).await
    }

    /// Deletes archived flags for good; live flags must be archived first.
    pub async fn delete_archived(
        &self,
        actor: &Actor,
        project: Option<&str>,
        names: &[String],
    ) -> Result<()> {
        let mut tx = self.store.write().await?;
        for name in names {
            let feature = require_archived(&mut tx, project, name).await?;
            tx.delete_feature(name).await?;
            let event = NewEvent::new(kind::FEATURE_DELETED, actor)
                .feature(&feature.project, name)
                .pre_data(feature_summary(&feature));
            tx.append_event(&event).await?;
        }
        self.commit(tx).await
    }

    /// Switches a flag on or off in one environment. Switching on a flag with no strategies
    /// there first adds Unleash's default (flexibleRollout at 100 %). No change, no event.
    pub async fn set_enabled(
        &self,
        actor: &Actor,
        project: &str,
        name: &str,
        environment: &str,
        enabled: bool,
    ) -> Result<()> {
        let mut tx = self.store.write().await?;
        let feature = self.require_feature(&mut tx, project, name).await?;
        let Some(state) = feature.environment(environment) else {
            return Err(ServiceError::NotFound(format!(
                "Could not find environment {environment} for feature: {name}"
            )));
        };
        if enabled && state.strategies.iter().all(|s| s.disabled) {
            let strategy =
                StrategySpec::default_for(name).into_strategy(ulid::Ulid::new().to_string(), 0);
            tx.insert_strategy(name, environment, &strategy).await?;
            let event = NewEvent::new(kind::FEATURE_STRATEGY_ADD, actor)
                .feature(project, name)
                .environment(environment)
                .data(&strategy);
            tx.append_event(&event).await?;
        }
        if state.enabled != enabled {
            tx.set_feature_enabled(name, environment, enabled).await?;
            let event_type = if enabled {
                kind::FEATURE_ENVIRONMENT_ENABLED
            } else {
                kind::FEATURE_ENVIRONMENT_DISABLED
            };
            tx.append_event(
                &NewEvent::new(event_type, actor)
                    .feature(project, name)
                    .environment(environment),
            )
            .await?;
        }
        self.commit(tx).await
    }
}

/// Flag dependencies, with Unleash's rules: the parent is a live flag of the same project,
/// and chains are one level deep (a parent has no parent, a child is no parent).
impl Service {
    /// Names of the live flags that depend on `name`.
    pub async fn feature_children(&self, name: &str) -> Result<Vec<String>> {
        Ok(self.store.read().await?.feature_children(name).await?)
    }

    /// Makes `child` depend on the input's parent, replacing an existing dependency on that
    /// parent; dependencies on other parents stay. The same dependency again changes nothing.
    pub async fn add_dependency(
        &self,
        actor: &Actor,
        project: &str,
        child: &str,
        input: FeatureDependencyInput,
    ) -> Result<()> {
        let dependency = FeatureDependency::parse(child, &input)?;
        let mut tx = self.store.write().await?;
        let current = self.require_feature(&mut tx, project, child).await?;
        let parent = self
            .require_feature(&mut tx, project, &dependency.feature)
            .await?;
        if !tx.feature_children(child).await?.is_empty() {
            return Err(transitive(format!(
                "Transitive dependency detected: other flags depend on \"{child}\", so it cannot depend on a flag itself."
            )));
        }
        if !parent.dependencies.is_empty() {
            return Err(transitive(format!(
                "Transitive dependency detected: \"{}\" depends on a flag itself, so it cannot be a parent.",
                parent.name
            )));
        }
        let replaced = current
            .dependencies
            .iter()
            .find(|d| d.feature == dependency.feature);
        if replaced == Some(&dependency) {
            return Ok(());
        }
        let mut dependencies: Vec<FeatureDependency> = current
            .dependencies
            .iter()
            .filter(|d| d.feature != dependency.feature)
            .cloned()
            .collect();
        dependencies.push(dependency.clone());
        tx.set_feature_dependencies(child, &dependencies).await?;
        let mut event = NewEvent::new(kind::FEATURE_DEPENDENCY_ADDED, actor)
            .feature(project, child)
            .data(&dependency);
        if let Some(before) = replaced {
            event = event.pre_data(before);
        }
        tx.append_event(&event).await?;
        self.commit(tx).await
    }

    /// Drops `child`'s dependency on `parent`; none there, nothing changes.
    pub async fn remove_dependency(
        &self,
        actor: &Actor,
        project: &str,
        child: &str,
        parent: &str,
    ) -> Result<()> {
        let mut tx = self.store.write().await?;
        let current = self.require_feature(&mut tx, project, child).await?;
        let Some(removed) = current.dependencies.iter().find(|d| d.feature == parent) else {
            return Ok(());
        };
        let rest: Vec<FeatureDependency> = current
            .dependencies
            .iter()
            .filter(|d| d.feature != parent)
            .cloned()
            .collect();
        tx.set_feature_dependencies(child, &rest).await?;
        tx.append_event(
            &NewEvent::new(kind::FEATURE_DEPENDENCY_REMOVED, actor)
                .feature(project, child)
                .data(json!({ "feature": parent }))
                .pre_data(removed),
        )
        .await?;
        self.commit(tx).await
    }

    /// Drops every dependency of `child`; none there, nothing changes.
    pub async fn remove_dependencies(
        &self,
        actor: &Actor,
        project: &str,
        child: &str,
    ) -> Result<()> {
        let mut tx = self.store.write().await?;
        let current = self.require_feature(&mut tx, project, child).await?;
        if current.dependencies.is_empty() {
            return Ok(());
        }
        tx.set_feature_dependencies(child, &[]).await?;
        tx.append_event(
            &NewEvent::new(kind::FEATURE_DEPENDENCIES_REMOVED, actor)
                .feature(project, child)
                .pre_data(&current.dependencies),
        )
        .await?;
        self.commit(tx).await
    }
}

fn transitive(message: String) -> ServiceError {
    ServiceError::Conflict {
        name: "ConflictError",
        message,
    }
}

fn name_exists() -> ServiceError {
    ServiceError::Conflict {
        name: "NameExistsError",
        message: "A flag with that name already exists".into(),
    }
}

async fn require_archived(r: &mut Reader, project: Option<&str>, name: &str) -> Result<Feature> {
    match r.feature(name).await? {
        Some(f) if f.archived_at.is_some() && project.is_none_or(|p| p == f.project) => Ok(f),
        Some(f) if f.archived_at.is_none() => Err(ServiceError::Conflict {
            name: "ConflictError",
            message: format!("The flag \"{name}\" is not archived; archive it first."),
        }),
        _ => Err(ServiceError::NotFound(format!(
            "Could not find archived feature flag {name}"
        ))),
    }
}
