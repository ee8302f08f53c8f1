//! Tag types and the tags on flags.

use crate::domain::event::{Actor, NewEvent, kind};
use crate::domain::feature::{Feature, Tag};
use crate::domain::name::parse_url_friendly;
use crate::service::{Result, Service, ServiceError};
use crate::store::{Reader, Writer};

/// A tag type: name, description, icon.
pub type TagType = (String, Option<String>, Option<String>);

impl Service {
    pub async fn list_tag_types(&self) -> Result<Vec<TagType>> {
        Ok(self.store.read().await?.tag_types().await?)
    }

    pub async fn create_tag_type(
        &self,
        actor: &Actor,
        name: &str,
        description: Option<&str>,
        icon: Option<&str>,
    ) -> Result<TagType> {
        let name = parse_url_friendly("name", name)?;
        let mut tx = self.store.write().await?;
        if tx.tag_type_exists(&name).await? {
            return Err(ServiceError::Conflict {
                name: "NameExistsError",
                message: format!("There is already a tag type named \"{name}\""),
            });
        }
        tx.insert_tag_type(&name, description, icon).await?;
        let data = serde_json::json!({"name": name, "description": description, "icon": icon});
        tx.append_event(&NewEvent::new(kind::TAG_TYPE_CREATED, actor).data(data))
            .await?;
        self.commit(tx).await?;
        Ok((
            name,
            description.map(str::to_string),
            icon.map(str::to_string),
        ))
    }

    pub async fn list_tags(&self) -> Result<Vec<Tag>> {
        Ok(self.store.read().await?.tags().await?)
    }

    pub async fn feature_tags(&self, feature: &str) -> Result<Vec<Tag>> {
        Ok(require_live(&mut self.store.read().await?, feature)
            .await?
            .tags)
    }

    /// Tags a flag; 409 if it already carries the tag. Returns the tag as stored (trimmed).
    pub async fn add_tag(&self, actor: &Actor, feature: &str, tag: &Tag) -> Result<Tag> {
        let tag = Tag::parse(&tag.tag_type, &tag.value)?;
        let mut tx = self.store.write().await?;
        let f = require_live(&mut tx, feature).await?;
        if f.tags.contains(&tag) {
            return Err(ServiceError::Conflict {
                name: "FeatureHasTagError",
                message: format!(
                    "{feature} already has the tag {}:{}",
                    tag.tag_type, tag.value
                ),
            });
        }
        self.add_tag_in(&mut tx, actor, &f, &tag).await?;
        self.commit(tx).await?;
        Ok(tag)
    }

    /// Adds and removes tags in one change; returns the flag's tags afterwards.
    pub async fn update_tags(
        &self,
        actor: &Actor,
        feature: &str,
        added: &[Tag],
        removed: &[Tag],
    ) -> Result<Vec<Tag>> {
        let mut tx = self.store.write().await?;
        let f = require_live(&mut tx, feature).await?;
        for tag in added {
            let tag = Tag::parse(&tag.tag_type, &tag.value)?;
            if !f.tags.contains(&tag) {
                self.add_tag_in(&mut tx, actor, &f, &tag).await?;
            }
        }
        for tag in removed {
            remove_tag_in(&mut tx, actor, &f, tag).await?;
        }
        let tags = require_live(&mut tx, feature).await?.tags;
        self.commit(tx).await?;
        Ok(tags)
    }

    /// Removing a tag the flag does not have is not an error (Unleash answers 200 too).
    pub async fn remove_tag(&self, actor: &Actor, feature: &str, tag: &Tag) -> Result<()> {
        let mut tx = self.store.write().await?;
        let f = require_live(&mut tx, feature).await?;
        remove_tag_in(&mut tx, actor, &f, tag).await?;
        self.commit(tx).await
    }

    pub(super) async fn add_tag_in(
        &self,
        tx: &mut Writer,
        actor: &Actor,
        f: &Feature,
        tag: &Tag,
    ) -> Result<()> {
        if !tx.tag_type_exists(&tag.tag_type).await? {
            return Err(ServiceError::NotFound(format!(
                "Could not find tag type \"{}\".",
                tag.tag_type
            )));
        }
        if tx.insert_feature_tag(&f.name, tag).await? {
            tx.append_event(
                &NewEvent::new(kind::FEATURE_TAGGED, actor)
                    .feature(&f.project, &f.name)
                    .data(tag),
            )
            .await?;
        }
        Ok(())
    }
}

/// Tags are stored trimmed (see `Tag::parse`), so the one to remove is matched trimmed too.
async fn remove_tag_in(tx: &mut Writer, actor: &Actor, f: &Feature, tag: &Tag) -> Result<()> {
    let tag = &Tag {
        tag_type: tag.tag_type.trim().to_string(),
        value: tag.value.trim().to_string(),
    };
    if tx.delete_feature_tag(&f.name, tag).await? {
        tx.append_event(
            &NewEvent::new(kind::FEATURE_UNTAGGED, actor)
                .feature(&f.project, &f.name)
                .pre_data(tag),
        )
        .await?;
    }
    Ok(())
}

async fn require_live(r: &mut Reader, feature: &str) -> Result<Feature> {
    match r.feature(feature).await? {
        Some(f) if f.archived_at.is_none() => Ok(f),
        _ => Err(ServiceError::NotFound(format!(
            "Could not find feature flag {feature}"
        ))),
    }
}
