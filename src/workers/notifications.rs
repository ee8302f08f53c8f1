//! The delivery worker: sends the notices queued in the outbox (`service::notifications`).
//!
//! - It looks for due deliveries when a commit queued some (the service wakes it at once), when
//!   a send finishes (a slot is free, or the next notice of the same incident may go), when the
//!   next retry is due, and every `sweep_every` in any case (deliveries queued through another
//!   replica, leases of a replica that died).
//! - A delivery is claimed under a lease (an `UPDATE … WHERE` the lease has run out, counting
//!   the attempt), so when several replicas run this worker each delivery is sent by one of
//!   them; a replica that dies mid-send leaves it to the others once its lease runs out.
//! - At most `concurrency` requests are in flight, each bounded by the sender's timeout.
//!   Each outcome goes through [`RetryPolicy::decide`]: delivered, retried later, or failed.
//! - It never holds a transaction while sending, and the kill switch never waits for it: the
//!   commit that queued a notice is all a guard waits for.
//! - On shutdown it stops claiming, gives the requests in flight until `drain` to finish, then
//!   abandons the rest and releases their leases: what is unsent stays pending for the next
//!   start.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::domain::Timestamp;
use crate::domain::notification::{ClaimedDelivery, DeliveryResult};
use crate::notify::{self, RetryPolicy, Sender};
use crate::service::Service;

/// How the worker runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotificationConfig {
    /// Requests in flight at once (at least 1).
    pub concurrency: usize,
    pub retry: RetryPolicy,
    /// Bounds each request; the lease on a claimed delivery outlasts it.
    pub timeout: Duration,
    /// Look for due deliveries at least this often, unwoken.
    pub sweep_every: Duration,
    /// On shutdown, how long requests in flight may take to finish.
    pub drain: Duration,
    /// Delivered and failed deliveries are deleted after this many days.
    pub retention_days: u32,
}

impl NotificationConfig {
    /// A claim holds for the request's timeout plus a margin for recording the outcome.
    fn lease(&self) -> Duration {
        self.timeout.saturating_mul(2) + Duration::from_secs(30)
    }
}

const PRUNE_EVERY: Duration = Duration::from_secs(3600);

pub async fn run_notifications(
    service: Arc<Service>,
    sender: Arc<Sender>,
    config: NotificationConfig,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    // Identifies this process's leases; a restarted process is another owner.
    let owner = format!("flagwatch-{}", ulid::Ulid::new().to_string().to_lowercase());
    let concurrency = config.concurrency.max(1);
    let sweep_every = config.sweep_every.max(Duration::from_millis(100));
    let mut in_flight: JoinSet<()> = JoinSet::new();
    // Delivery id by task id, to release what is abandoned at shutdown.
    let mut sending: HashMap<tokio::task::Id, i64> = HashMap::new();
    let mut next_prune = Instant::now();

    loop {
        if Instant::now() >= next_prune {
            next_prune = Instant::now() + PRUNE_EVERY;
            match service.prune_deliveries(config.retention_days.max(1)).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(rows = n, "deleted old notification deliveries"),
                Err(e) => {
                    tracing::warn!(error = %e, "could not delete old notification deliveries")
                }
            }
        }

        // Claim what fits; when every slot is taken, a finished send brings us back here.
        let free = concurrency.saturating_sub(in_flight.len());
        if free > 0 {
            let limit = i64::try_from(free).unwrap_or(i64::MAX);
            match service
                .claim_deliveries(&owner, limit, config.lease())
                .await
            {
                Ok(batch) => {
                    for delivery in batch {
                        let id = delivery.id;
                        let task = send_one(
                            service.clone(),
                            sender.clone(),
                            config.retry,
                            owner.clone(),
                            delivery,
                        );
                        let handle = in_flight.spawn(task);
                        sending.insert(handle.id(), id);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not claim notification deliveries; trying again shortly");
                }
            }
        }

        // When to look again unwoken: the next retry or lease expiry, or the sweep.
        let mut wake = Instant::now() + sweep_every;
        if in_flight.len() < concurrency {
            match service.next_delivery_due().await {
                Ok(Some(at)) => {
                    let wait = u64::try_from(at.millis() - Timestamp::now().millis()).unwrap_or(0);
                    wake = wake.min(Instant::now() + Duration::from_millis(wait));
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "could not read when notifications are due"),
            }
        }

        tokio::select! {
            biased;
            () = cancel.cancelled() => break,
            Some(joined) = in_flight.join_next_with_id(), if !in_flight.is_empty() => {
                match joined {
                    Ok((id, ())) => {
                        sending.remove(&id);
                    }
                    Err(e) => {
                        // The lease runs out and the delivery is tried again.
                        sending.remove(&e.id());
                        tracing::error!(error = %e, "a notification send task failed");
                    }
                }
            }
            () = service.notices_queued(), if in_flight.len() < concurrency => {}
            () = tokio::time::sleep_until(wake) => {}
        }
    }

    // Shutdown: no new claims; let what is in flight finish, up to the drain deadline.
    let drained = tokio::time::timeout(config.drain, async {
        while let Some(joined) = in_flight.join_next_with_id().await {
            let id = match joined {
                Ok((id, ())) => id,
                Err(e) => e.id(),
            };
            sending.remove(&id);
        }
    })
    .await;
    if drained.is_err() {
        in_flight.abort_all();
        while in_flight.join_next().await.is_some() {}
        let abandoned: Vec<i64> = sending.into_values().collect();
        tracing::info!(
            deliveries = abandoned.len(),
            "abandoned notification sends still in flight; they stay pending"
        );
        if let Err(e) = service.release_deliveries(&owner, &abandoned).await {
            tracing::warn!(error = %e, "could not release abandoned notification deliveries; they are sent once their lease runs out");
        }
    }
    Ok(())
}

/// Sends one claimed delivery and records the outcome.
async fn send_one(
    service: Arc<Service>,
    sender: Arc<Sender>,
    retry: RetryPolicy,
    owner: String,
    delivery: ClaimedDelivery,
) {
    let result = if delivery.attempts > retry.max_attempts {
        // Claimed again after a sender stopped mid-attempt too often: do not send again.
        DeliveryResult::Failed {
            status_code: None,
            error: format!(
                "gave up after {} attempts (the last ones were interrupted)",
                retry.max_attempts
            ),
        }
    } else {
        let attempt = sender.send(&notify::outgoing(&delivery)).await;
        retry.decide(&attempt, delivery.attempts, Timestamp::now())
    };
    // Never the channel's URL or secrets: the delivery and channel ids say which.
    let span = (delivery.id, delivery.channel.id, delivery.attempts);
    match &result {
        DeliveryResult::Delivered { status_code } => tracing::debug!(
            delivery = span.0,
            channel = span.1,
            attempt = span.2,
            status = status_code,
            "notification delivered"
        ),
        DeliveryResult::Retry { error, at, .. } => tracing::info!(
            delivery = span.0,
            channel = span.1,
            attempt = span.2,
            error = %error,
            retry_at = %at.to_rfc3339(),
            "notification not delivered; will retry"
        ),
        DeliveryResult::Failed { error, .. } => tracing::warn!(
            delivery = span.0,
            channel = span.1,
            attempt = span.2,
            error = %error,
            "notification failed; giving up"
        ),
    }
    match service.finish_delivery(delivery.id, &owner, &result).await {
        Ok(true) => {}
        Ok(false) => tracing::warn!(
            delivery = delivery.id,
            "the lease on a notification delivery ran out before its outcome was recorded; another sender has it"
        ),
        Err(e) => tracing::warn!(
            delivery = delivery.id,
            error = %e,
            "could not record a notification attempt; it is tried again once its lease runs out"
        ),
    }
}
