//! Notification channels (Slack, generic webhook, PagerDuty) and the outbox of deliveries.
//!
//! A notice is queued by [`Service::queue_notice`] inside the transaction of the change it
//! reports: one delivery row per channel, so it is sent if and only if the change commits and
//! a crash after the commit loses nothing. [`Service::commit`] then wakes the delivery worker
//! (`workers::notifications`), which claims due deliveries under a lease, sends them and
//! records each attempt here, through the store's `ObservationWriter`: delivery bookkeeping
//! has no event. Channels themselves are configuration, with an event per change.

use std::time::Duration;

use tokio::sync::Notify;

use crate::domain::event::{Actor, NewEvent, kind};
use crate::domain::notification::{
    Channel, ChannelSpec, ClaimedDelivery, Delivery, DeliveryFilter, DeliveryResult, Notice,
    TestNotice,
};
use crate::domain::{Invalid, Timestamp};
use crate::service::{Result, Service, ServiceError};
use crate::store::{Reader, Writer};

/// Wakes the delivery worker after a commit that queued notices (or a test notice).
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    queued: Notify,
}

impl Outbox {
    /// Stores a wake-up if the worker is busy: it looks again as soon as it waits next.
    pub(crate) fn wake(&self) {
        self.queued.notify_one();
    }
}

/// A channel just created, and its generated webhook secret: shown once, in the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedChannel {
    pub channel: Channel,
    pub generated_secret: Option<String>,
}

impl Service {
    /// Queues `notice` for each of `channels` inside `tx`, so it is sent if and only if the
    /// change it reports commits. Unknown channel ids are skipped; a channel named twice gets
    /// it once.
    pub(crate) async fn queue_notice(
        &self,
        tx: &mut Writer,
        channels: &[i64],
        notice: &Notice,
    ) -> Result<()> {
        let mut wanted = channels.to_vec();
        wanted.sort_unstable();
        wanted.dedup();
        let existing = tx.existing_notification_channels(&wanted).await?;
        let now = Timestamp::now();
        for id in wanted.into_iter().filter(|id| existing.contains(id)) {
            tx.insert_delivery(id, notice, now).await?;
        }
        Ok(())
    }

    /// The channels a monitor names for its incidents (none for an unknown monitor).
    pub(crate) async fn monitor_channels(
        &self,
        tx: &mut Writer,
        monitor_id: i64,
    ) -> Result<Vec<i64>> {
        Ok(tx
            .monitor_notification_channels(monitor_id)
            .await?
            .unwrap_or_default())
    }

    /// The ids among `ids` that name no channel, for callers that refuse them (a monitor's
    /// `notification_channels`, a guard's `channels`).
    pub(crate) async fn missing_channels(&self, r: &mut Reader, ids: &[i64]) -> Result<Vec<i64>> {
        let existing = r.existing_notification_channels(ids).await?;
        Ok(ids
            .iter()
            .copied()
            .filter(|id| !existing.contains(id))
            .collect())
    }

    /// Resolves when a commit queued notices: the delivery worker's wake-up. Cancel-safe.
    pub async fn notices_queued(&self) {
        self.outbox.queued.notified().await;
    }

    pub async fn list_channels(&self) -> Result<Vec<Channel>> {
        Ok(self.store.read().await?.notification_channels().await?)
    }

    pub async fn get_channel(&self, id: i64) -> Result<Channel> {
        require_channel(&mut self.store.read().await?, id).await
    }

    /// Creates a channel from `{"name", "kind", "config"}`. A webhook channel given no secret
    /// gets a random one, returned here and never again.
    pub async fn create_channel(
        &self,
        actor: &Actor,
        body: &serde_json::Value,
    ) -> Result<CreatedChannel> {
        let secret = new_secret();
        let spec = ChannelSpec::parse(body, None, &secret)?;
        let mut tx = self.store.write().await?;
        if tx.notification_channel_named(&spec.name).await?.is_some() {
            return Err(name_taken(&spec.name));
        }
        let id = tx
            .insert_notification_channel(&spec, Timestamp::now())
            .await?;
        let channel = require_channel(&mut tx, id).await?;
        tx.append_event(
            &NewEvent::new(kind::NOTIFICATION_CHANNEL_CREATED, actor).data(channel.view()),
        )
        .await?;
        self.commit(tx).await?;
        Ok(CreatedChannel {
            channel,
            generated_secret: spec.secret_generated.then_some(secret),
        })
    }

    /// Replaces a channel's name, kind and settings. Secrets left out (or sent back masked, as
    /// a GET shows them) keep their stored values.
    pub async fn update_channel(
        &self,
        actor: &Actor,
        id: i64,
        body: &serde_json::Value,
    ) -> Result<CreatedChannel> {
        let secret = new_secret();
        let mut tx = self.store.write().await?;
        let before = require_channel(&mut tx, id).await?;
        let spec = ChannelSpec::parse(body, Some(&before.config), &secret)?;
        if tx
            .notification_channel_named(&spec.name)
            .await?
            .is_some_and(|other| other.id != id)
        {
            return Err(name_taken(&spec.name));
        }
        tx.update_notification_channel(id, &spec, Timestamp::now())
            .await?;
        let after = require_channel(&mut tx, id).await?;
        tx.append_event(
            &NewEvent::new(kind::NOTIFICATION_CHANNEL_UPDATED, actor)
                .data(after.view())
                .pre_data(before.view()),
        )
        .await?;
        self.commit(tx).await?;
        Ok(CreatedChannel {
            channel: after,
            generated_secret: spec.secret_generated.then_some(secret),
        })
    }

    /// Refused with 409 while a monitor or a guard names the channel. Its delivery log goes
    /// with it.
    pub async fn delete_channel(&self, actor: &Actor, id: i64) -> Result<()> {
        let mut tx = self.store.write().await?;
        let before = require_channel(&mut tx, id).await?;
        let users = tx.notification_channel_users(id).await?;
        if !users.is_empty() {
            return Err(ServiceError::Conflict {
                name: "ConflictError",
                message: format!(
                    "Notification channel \"{}\" is in use by {}. Remove it from them first.",
                    before.name,
                    users.join(", ")
                ),
            });
        }
        tx.delete_notification_channel(id).await?;
        tx.append_event(
            &NewEvent::new(kind::NOTIFICATION_CHANNEL_DELETED, actor).pre_data(before.view()),
        )
        .await?;
        self.commit(tx).await
    }

    /// Queues a test notice for channel `id` and returns its delivery. Nothing changes, so
    /// there is no event; the delivery log shows it, marked `test`.
    pub async fn test_channel(
        &self,
        id: i64,
        body: Option<&serde_json::Value>,
    ) -> Result<Delivery> {
        let test = TestNotice::parse(body)?;
        let channel = self.get_channel(id).await?;
        let now = Timestamp::now();
        let notice = test.notice(&channel, now, &ulid::Ulid::new().to_string().to_lowercase());
        let mut tx = self.store.record_observations().await?;
        let delivery_id = tx.insert_test_delivery(channel.id, &notice, now).await?;
        tx.commit().await?;
        self.outbox.wake();
        self.store
            .read()
            .await?
            .notification_delivery(delivery_id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(channel_not_found(id)))
    }

    /// The delivery log, newest first. A `channel_id` that names no channel is a 404.
    pub async fn list_deliveries(&self, filter: &DeliveryFilter) -> Result<Vec<Delivery>> {
        let mut r = self.store.read().await?;
        if let Some(id) = filter.channel_id {
            require_channel(&mut r, id).await?;
        }
        Ok(r.notification_deliveries(filter).await?)
    }

    // ---- for workers::notifications -----------------------------------------------------

    /// Claims up to `limit` due deliveries for `owner` for `lease`; see the store's
    /// `claim_deliveries` for what is due.
    pub async fn claim_deliveries(
        &self,
        owner: &str,
        limit: i64,
        lease: Duration,
    ) -> Result<Vec<ClaimedDelivery>> {
        let now = Timestamp::now();
        let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
        let until = Timestamp(now.millis().saturating_add(lease_ms));
        let mut tx = self.store.record_observations().await?;
        let claimed = tx.claim_deliveries(owner, now, until, limit).await?;
        tx.commit().await?;
        Ok(claimed)
    }

    /// Records how an attempt ended. False when `owner`'s lease had run out and another
    /// sender took the delivery over (nothing is recorded then).
    pub async fn finish_delivery(
        &self,
        id: i64,
        owner: &str,
        result: &DeliveryResult,
    ) -> Result<bool> {
        let mut tx = self.store.record_observations().await?;
        let done = tx
            .finish_delivery(id, owner, result, Timestamp::now())
            .await?;
        tx.commit().await?;
        Ok(done)
    }

    /// Lets go of `owner`'s leases on `ids`, so they are sent at the next start (or by
    /// another replica) without waiting for the leases to run out.
    pub async fn release_deliveries(&self, owner: &str, ids: &[i64]) -> Result<u64> {
        let mut tx = self.store.record_observations().await?;
        let n = tx.release_deliveries(owner, ids, Timestamp::now()).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// When a pending delivery next becomes due (or a lease on one runs out), after now.
    pub async fn next_delivery_due(&self) -> Result<Option<Timestamp>> {
        Ok(self
            .store
            .read()
            .await?
            .next_notification_due(Timestamp::now())
            .await?)
    }

    /// Deletes delivered and failed deliveries created more than `retention_days` ago.
    pub async fn prune_deliveries(&self, retention_days: u32) -> Result<u64> {
        let cutoff = Timestamp::now().millis() - i64::from(retention_days) * 86_400_000;
        let mut tx = self.store.record_observations().await?;
        let n = tx.prune_deliveries(Timestamp(cutoff)).await?;
        tx.commit().await?;
        Ok(n)
    }
}

async fn require_channel(r: &mut Reader, id: i64) -> Result<Channel> {
    r.notification_channel(id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(channel_not_found(id)))
}

pub fn channel_not_found(id: impl std::fmt::Display) -> String {
    format!("Could not find notification channel with id {id}.")
}

fn name_taken(name: &str) -> ServiceError {
    ServiceError::Conflict {
        name: "NameExistsError",
        message: format!("There is already a notification channel named \"{name}\"."),
    }
}

/// 32 random bytes, hex: a webhook signing secret.
fn new_secret() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// The field error for channel ids that name no channel (a monitor's
/// `notification_channels`).
pub(crate) fn unknown_channels(field: &str, missing: &[i64]) -> Invalid {
    let ids: Vec<String> = missing.iter().map(i64::to_string).collect();
    Invalid::at(
        field,
        format!(
            "names no notification channel: {} (create it with POST /api/admin/notification-channels)",
            ids.join(", ")
        ),
    )
}
