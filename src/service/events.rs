//! Reading the audit log.

use crate::domain::event::{Event, EventQuery};
use crate::service::{Result, Service};

pub type EventFilter = EventQuery;

impl Service {
    /// Events matching `filter`, newest first, with the number that match in all.
    pub async fn list_events(&self, filter: &EventFilter) -> Result<(Vec<Event>, i64)> {
        Ok(self.store.read().await?.events(filter).await?)
    }
}
