//! Strategies of a flag in one environment, and the flag's variants there.

use serde::Deserialize;
use serde_json::Value;

use crate::domain::event::{Actor, NewEvent, kind};
use crate::domain::feature::{Feature, FeatureEnvironment};
use crate::domain::strategy::{
    Strategy, StrategyInput, StrategySpec, Variant, VariantInput, parse_variants,
};
use crate::service::{Result, Service, ServiceError, apply_patch, from_patched};
use crate::store::Reader;

/// One entry of `POST …/strategies/set-sort-order`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SortOrder {
    pub id: String,
    pub sort_order: i64,
}

/// Where a strategy lives: the flag, and the environment the path names.
pub struct Target<'a> {
    pub project: &'a str,
    pub feature: &'a str,
    pub environment: &'a str,
}

impl Service {
    async fn require_environment(
        &self,
        r: &mut Reader,
        at: &Target<'_>,
    ) -> Result<(Feature, FeatureEnvironment)> {
        let feature = self.require_feature(r, at.project, at.feature).await?;
        let state = feature
            .environment(at.environment)
            .cloned()
            .ok_or_else(|| {
                ServiceError::NotFound(format!(
                    "Could not find environment {} for feature: {}",
                    at.environment, at.feature
                ))
            })?;
        Ok((feature, state))
    }

    /// Segment ids must exist; a strategy pointing at a missing segment would switch off.
    async fn check_segments(&self, r: &mut Reader, spec: &StrategySpec) -> Result<()> {
        for id in &spec.segments {
            if r.segment(*id).await?.is_none() {
                return Err(ServiceError::NotFound(format!(
                    "Could not find segment with id {id}."
                )));
            }
        }
        Ok(())
    }

    pub async fn feature_environment(&self, at: &Target<'_>) -> Result<FeatureEnvironment> {
        let mut r = self.store.read().await?;
        Ok(self.require_environment(&mut r, at).await?.1)
    }

    pub async fn list_strategies(&self, at: &Target<'_>) -> Result<Vec<Strategy>> {
        Ok(self.feature_environment(at).await?.strategies)
    }

    pub async fn get_strategy(&self, at: &Target<'_>, id: &str) -> Result<Strategy> {
        let state = self.feature_environment(at).await?;
        find_strategy(&state, id).cloned()
    }

    pub async fn add_strategy(
        &self,
        actor: &Actor,
        at: &Target<'_>,
        input: StrategyInput,
    ) -> Result<Strategy> {
        let spec = StrategySpec::parse(input, at.feature)?;
        let mut tx = self.store.write().await?;
        let (_, state) = self.require_environment(&mut tx, at).await?;
        self.check_segments(&mut tx, &spec).await?;
        let next_order = state
            .strategies
            .iter()
            .map(|s| s.sort_order.saturating_add(1))
            .max()
            .unwrap_or(0);
        let strategy = spec.into_strategy(ulid::Ulid::new().to_string(), next_order);
        tx.insert_strategy(at.feature, at.environment, &strategy)
            .await?;
        let event = NewEvent::new(kind::FEATURE_STRATEGY_ADD, actor)
            .feature(at.project, at.feature)
            .environment(at.environment)
            .data(&strategy);
        tx.append_event(&event).await?;
        self.commit(tx).await?;
        Ok(strategy)
    }

    pub async fn update_strategy(
        &self,
        actor: &Actor,
        at: &Target<'_>,
        id: &str,
        input: StrategyInput,
    ) -> Result<Strategy> {
        let spec = StrategySpec::parse(input, at.feature)?;
        let mut tx = self.store.write().await?;
        let (_, state) = self.require_environment(&mut tx, at).await?;
        let before = find_strategy(&state, id)?.clone();
        self.check_segments(&mut tx, &spec).await?;
        let after = spec.into_strategy(before.id.clone(), before.sort_order);
        if after != before {
            tx.update_strategy(&after).await?;
            let event = NewEvent::new(kind::FEATURE_STRATEGY_UPDATE, actor)
                .feature(at.project, at.feature)
                .environment(at.environment)
                .data(&after)
                .pre_data(&before);
            tx.append_event(&event).await?;
        }
        self.commit(tx).await?;
        Ok(after)
    }

    pub async fn patch_strategy(
        &self,
        actor: &Actor,
        at: &Target<'_>,
        id: &str,
        patch: Value,
    ) -> Result<Strategy> {
        let current = self.get_strategy(at, id).await?;
        let input: StrategyInput = from_patched(apply_patch(current.to_input_json(), patch)?)?;
        self.update_strategy(actor, at, id, input).await
    }

    pub async fn delete_strategy(&self, actor: &Actor, at: &Target<'_>, id: &str) -> Result<()> {
        let mut tx = self.store.write().await?;
        let (_, state) = self.require_environment(&mut tx, at).await?;
        let before = find_strategy(&state, id)?.clone();
        tx.delete_strategy(id).await?;
        let event = NewEvent::new(kind::FEATURE_STRATEGY_REMOVE, actor)
            .feature(at.project, at.feature)
            .environment(at.environment)
            .pre_data(&before);
        tx.append_event(&event).await?;
        self.commit(tx).await
    }

    pub async fn sort_strategies(
        &self,
        actor: &Actor,
        at: &Target<'_>,
        order: Vec<SortOrder>,
    ) -> Result<()> {
        let mut tx = self.store.write().await?;
        let (_, state) = self.require_environment(&mut tx, at).await?;
        let mut changed = Vec::new();
        for entry in &order {
            let current = find_strategy(&state, &entry.id)?;
            if current.sort_order != entry.sort_order {
                tx.set_strategy_sort_order(&entry.id, entry.sort_order)
                    .await?;
                changed.push(serde_json::json!({"id": entry.id, "sortOrder": entry.sort_order}));
            }
        }
        if !changed.is_empty() {
            let event = NewEvent::new(kind::STRATEGY_ORDER_CHANGED, actor)
                .feature(at.project, at.feature)
                .environment(at.environment)
                .data(&changed);
            tx.append_event(&event).await?;
        }
        self.commit(tx).await
    }

    pub async fn get_variants(&self, at: &Target<'_>) -> Result<Vec<Variant>> {
        Ok(self.feature_environment(at).await?.variants)
    }

    /// Replaces the flag's variants in one environment. Weights are spread as Unleash does
    /// and the list is kept sorted by name.
    pub async fn set_variants(
        &self,
        actor: &Actor,
        at: &Target<'_>,
        inputs: Vec<VariantInput>,
    ) -> Result<Vec<Variant>> {
        let mut variants = parse_variants(inputs, true)?;
        variants.sort_by(|a, b| a.name.cmp(&b.name));
        let mut tx = self.store.write().await?;
        let (_, state) = self.require_environment(&mut tx, at).await?;
        if state.variants != variants {
            tx.set_feature_variants(at.feature, at.environment, &variants)
                .await?;
            let event = NewEvent::new(kind::FEATURE_ENVIRONMENT_VARIANTS_UPDATED, actor)
                .feature(at.project, at.feature)
                .environment(at.environment)
                .data(serde_json::json!({"variants": variants}))
                .pre_data(serde_json::json!({"variants": state.variants}));
            tx.append_event(&event).await?;
        }
        self.commit(tx).await?;
        Ok(variants)
    }

    pub async fn patch_variants(
        &self,
        actor: &Actor,
        at: &Target<'_>,
        patch: Value,
    ) -> Result<Vec<Variant>> {
        let current = self.get_variants(at).await?;
        let doc = serde_json::to_value(&current).map_err(|e| ServiceError::Internal(e.into()))?;
        let inputs: Vec<VariantInput> = from_patched(apply_patch(doc, patch)?)?;
        self.set_variants(actor, at, inputs).await
    }
}

fn find_strategy<'a>(state: &'a FeatureEnvironment, id: &str) -> Result<&'a Strategy> {
    state
        .strategies
        .iter()
        .find(|s| s.id == id)
        .ok_or_else(|| ServiceError::NotFound(format!("Could not find strategy with id {id}")))
}
