//! Segments: reusable constraint lists.

use crate::domain::event::{Actor, NewEvent, kind};
use crate::domain::segment::{Segment, SegmentInput, SegmentSpec};
use crate::service::{Result, Service, ServiceError};
use crate::store::Reader;

impl Service {
    /// Segments, each with the flags whose strategies use it.
    pub async fn list_segments(&self) -> Result<Vec<(Segment, Vec<String>)>> {
        let mut r = self.store.read().await?;
        let mut usage = r.segment_usage().await?;
        let segments = r.segments().await?;
        Ok(segments
            .into_iter()
            .map(|s| {
                let used = usage.remove(&s.id).unwrap_or_default();
                (s, used)
            })
            .collect())
    }

    pub async fn get_segment(&self, id: i64) -> Result<Segment> {
        require_segment(&mut self.store.read().await?, id).await
    }

    /// 204 if the name is free, 409 if taken.
    pub async fn validate_segment_name(&self, name: &str) -> Result<()> {
        match self.store.read().await?.segment_named(name).await? {
            Some(_) => Err(name_taken(name)),
            None => Ok(()),
        }
    }

    pub async fn create_segment(&self, actor: &Actor, input: SegmentInput) -> Result<Segment> {
        let spec = SegmentSpec::parse(input)?;
        let mut tx = self.store.write().await?;
        if let Some(project) = &spec.project {
            self.require_project(&mut tx, project).await?;
        }
        if tx.segment_named(&spec.name).await?.is_some() {
            return Err(name_taken(&spec.name));
        }
        let id = tx.insert_segment(&spec, &actor.name).await?;
        let segment = require_segment(&mut tx, id).await?;
        tx.append_event(&NewEvent::new(kind::SEGMENT_CREATED, actor).data(&segment))
            .await?;
        self.commit(tx).await?;
        Ok(segment)
    }

    pub async fn update_segment(
        &self,
        actor: &Actor,
        id: i64,
        input: SegmentInput,
    ) -> Result<Segment> {
        let spec = SegmentSpec::parse(input)?;
        let mut tx = self.store.write().await?;
        let before = require_segment(&mut tx, id).await?;
        if let Some(project) = &spec.project {
            self.require_project(&mut tx, project).await?;
        }
        if tx
            .segment_named(&spec.name)
            .await?
            .is_some_and(|other| other.id != id)
        {
            return Err(name_taken(&spec.name));
        }
        tx.update_segment(id, &spec).await?;
        let after = require_segment(&mut tx, id).await?;
        tx.append_event(
            &NewEvent::new(kind::SEGMENT_UPDATED, actor)
                .data(&after)
                .pre_data(&before),
        )
        .await?;
        self.commit(tx).await?;
        Ok(after)
    }

    /// Refused with 409 while a strategy uses the segment.
    pub async fn delete_segment(&self, actor: &Actor, id: i64) -> Result<()> {
        let mut tx = self.store.write().await?;
        let before = require_segment(&mut tx, id).await?;
        if let Some(flags) = tx.segment_usage().await?.remove(&id) {
            return Err(ServiceError::Conflict {
                name: "ConflictError",
                message: format!(
                    "Segment \"{}\" is in use by strategies of these flags: {}. Remove it from them first.",
                    before.name,
                    flags.join(", ")
                ),
            });
        }
        tx.delete_segment(id).await?;
        tx.append_event(&NewEvent::new(kind::SEGMENT_DELETED, actor).pre_data(&before))
            .await?;
        self.commit(tx).await
    }
}

async fn require_segment(r: &mut Reader, id: i64) -> Result<Segment> {
    r.segment(id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("Could not find segment with id {id}.")))
}

fn name_taken(name: &str) -> ServiceError {
    ServiceError::Conflict {
        name: "NameExistsError",
        message: format!("There is already a segment named \"{name}\""),
    }
}
