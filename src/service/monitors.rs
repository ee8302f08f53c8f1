//! Uptime monitors: their configuration (Better Stack's v2 monitor API). Checking them is
//! the probes' and the scheduler's business; this only stores what to check, and announces
//! each committed change ([`Service::subscribe_monitor_changes`]) so the scheduler picks it up
//! at once.

use tokio::sync::watch;

use crate::domain::Timestamp;
use crate::domain::event::{Actor, NewEvent, kind};
use crate::domain::monitor::{Monitor, MonitorInput, MonitorSpec, status};
use crate::service::notifications::unknown_channels;
use crate::service::{Result, Service, ServiceError};
use crate::store::{MonitorFilter, Reader};

/// Better Stack's page size bounds.
pub const DEFAULT_PER_PAGE: i64 = 50;
pub const MAX_PER_PAGE: i64 = 250;

/// One page of a monitor listing.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorPage {
    pub monitors: Vec<Monitor>,
    /// How many monitors match the filter in all.
    pub total: i64,
}

impl Service {
    /// Changes whenever a monitor was created, updated or deleted through this process (the
    /// value is a counter; only the change matters). Changes made through another replica are
    /// not announced here.
    pub fn subscribe_monitor_changes(&self) -> watch::Receiver<u64> {
        self.monitor_changes.subscribe()
    }

    fn announce_monitor_change(&self) {
        self.monitor_changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Every monitor, oldest first, for the scheduler.
    pub async fn all_monitors(&self) -> Result<Vec<Monitor>> {
        let (monitors, _) = self
            .store
            .read()
            .await?
            .monitors(&MonitorFilter::default(), i64::MAX, 0)
            .await?;
        Ok(monitors)
    }

    /// Page `page` (from 1) of `per_page` monitors matching `filter`, oldest first.
    pub async fn list_monitors(
        &self,
        filter: &MonitorFilter,
        page: i64,
        per_page: i64,
    ) -> Result<MonitorPage> {
        let per_page = per_page.clamp(1, MAX_PER_PAGE);
        let offset = page.max(1).saturating_sub(1).saturating_mul(per_page);
        let (monitors, total) = self
            .store
            .read()
            .await?
            .monitors(filter, per_page, offset)
            .await?;
        Ok(MonitorPage { monitors, total })
    }

    pub async fn get_monitor(&self, id: i64) -> Result<Monitor> {
        require_monitor(&mut self.store.read().await?, id).await
    }

    /// A new monitor, `pending` until its first check (`paused` if created paused).
    pub async fn create_monitor(&self, actor: &Actor, input: &MonitorInput) -> Result<Monitor> {
        let spec = MonitorSpec::parse(input, None).map_err(ServiceError::InvalidFields)?;
        let now = Timestamp::now();
        let (status, paused_at) = if spec.paused {
            (status::PAUSED, Some(now))
        } else {
            (status::PENDING, None)
        };
        let mut tx = self.store.write().await?;
        self.require_monitor_channels(&mut tx, &spec).await?;
        let id = tx.insert_monitor(&spec, status, paused_at, now).await?;
        let monitor = require_monitor(&mut tx, id).await?;
        tx.append_event(&NewEvent::new(kind::MONITOR_CREATED, actor).data(monitor.audit_view()))
            .await?;
        self.commit(tx).await?;
        self.announce_monitor_change();
        Ok(monitor)
    }

    /// Changes only the attributes given; the result is validated as a whole. Pausing sets
    /// the status to `paused`; resuming sets it back to `pending` until the next check.
    pub async fn update_monitor(
        &self,
        actor: &Actor,
        id: i64,
        input: &MonitorInput,
    ) -> Result<Monitor> {
        let mut tx = self.store.write().await?;
        let before = require_monitor(&mut tx, id).await?;
        let spec =
            MonitorSpec::parse(input, Some(&before.spec)).map_err(ServiceError::InvalidFields)?;
        self.require_monitor_channels(&mut tx, &spec).await?;
        let now = Timestamp::now();
        let (status, paused_at) = match (before.spec.paused, spec.paused) {
            (false, true) => (status::PAUSED, Some(now)),
            (true, false) => (status::PENDING, None),
            _ => (before.status.as_str(), before.paused_at),
        };
        tx.update_monitor(id, &spec, status, paused_at, now).await?;
        if before.spec.paused != spec.paused {
            // Checks before a pause say nothing about the monitor after it.
            tx.reset_monitor_streaks(id).await?;
        }
        let after = require_monitor(&mut tx, id).await?;
        tx.append_event(
            &NewEvent::new(kind::MONITOR_UPDATED, actor)
                .data(after.audit_view())
                .pre_data(before.audit_view()),
        )
        .await?;
        self.commit(tx).await?;
        self.announce_monitor_change();
        Ok(after)
    }

    pub async fn delete_monitor(&self, actor: &Actor, id: i64) -> Result<()> {
        let mut tx = self.store.write().await?;
        let before = require_monitor(&mut tx, id).await?;
        crate::service::guards::refuse_if_guarded(&mut tx, id).await?;
        // Status pages show it no more (not refused: a page is presentation, not a safeguard).
        crate::service::status_pages::remove_from_status_pages(&mut tx, actor, id).await?;
        tx.delete_monitor(id).await?;
        tx.append_event(&NewEvent::new(kind::MONITOR_DELETED, actor).pre_data(before.audit_view()))
            .await?;
        self.commit(tx).await?;
        self.announce_monitor_change();
        Ok(())
    }
}

impl Service {
    /// A monitor's `notification_channels` must name channels: else a field error (422).
    async fn require_monitor_channels(&self, r: &mut Reader, spec: &MonitorSpec) -> Result<()> {
        let missing = self
            .missing_channels(r, &spec.notification_channels)
            .await?;
        if missing.is_empty() {
            Ok(())
        } else {
            Err(ServiceError::InvalidFields(vec![unknown_channels(
                "notification_channels",
                &missing,
            )]))
        }
    }
}

async fn require_monitor(r: &mut Reader, id: i64) -> Result<Monitor> {
    r.monitor(id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(monitor_not_found(id)))
}

/// Better Stack's 404 message.
pub fn monitor_not_found(_id: impl std::fmt::Display) -> String {
    "Resource with provided ID was not found".to_string()
}
