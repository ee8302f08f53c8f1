//! Heartbeats (cron monitoring): their configuration (Better Stack's v2 heartbeat API), the
//! pings jobs send to their public URL, and the missed pings the worker finds. Pings and
//! misses are check results fed to [`Service::record_probe_result`], so status changes and
//! incidents are the monitors' own (a heartbeat is a monitor row, `migrations/*/0007`).

use std::time::Duration;

use rand::Rng;
use rand::distr::Alphanumeric;
use serde_json::{Map, Value};

use crate::domain::Timestamp;
use crate::domain::event::{Actor, NewEvent, kind};
use crate::domain::heartbeat::{Heartbeat, HeartbeatSpec, Ping, missed_ping};
use crate::domain::monitor::status;
use crate::domain::probe::{Cause, ProbeResult};
use crate::service::incidents::StatusChange;
use crate::service::monitors::{MAX_PER_PAGE, monitor_not_found};
use crate::service::{Result, Service, ServiceError};
use crate::store::Reader;

/// Characters of a ping token: base62, ~143 bits.
const TOKEN_LEN: usize = 24;

/// A failure report's output kept as the incident's detail, at most this many characters.
const MAX_OUTPUT_CHARS: usize = 500;

/// One page of a heartbeat listing.
#[derive(Debug, Clone, PartialEq)]
pub struct HeartbeatPage {
    pub heartbeats: Vec<Heartbeat>,
    pub total: i64,
}

fn new_token() -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(TOKEN_LEN)
        .map(char::from)
        .collect()
}

impl Service {
    /// Page `page` (from 1) of `per_page` heartbeats, oldest first.
    pub async fn list_heartbeats(&self, page: i64, per_page: i64) -> Result<HeartbeatPage> {
        let per_page = per_page.clamp(1, MAX_PER_PAGE);
        let offset = page.max(1).saturating_sub(1).saturating_mul(per_page);
        let (heartbeats, total) = self
            .store
            .read()
            .await?
            .heartbeats(per_page, offset)
            .await?;
        Ok(HeartbeatPage { heartbeats, total })
    }

    pub async fn get_heartbeat(&self, id: i64) -> Result<Heartbeat> {
        require_heartbeat(&mut self.store.read().await?, id).await
    }

    /// A new heartbeat with a fresh ping token, `pending` until its first ping (`paused` if
    /// created paused).
    pub async fn create_heartbeat(
        &self,
        actor: &Actor,
        input: &Map<String, Value>,
    ) -> Result<Heartbeat> {
        let spec = HeartbeatSpec::parse(input, None).map_err(ServiceError::InvalidFields)?;
        let now = Timestamp::now();
        let (status, paused_at) = if spec.paused {
            (status::PAUSED, Some(now))
        } else {
            (status::PENDING, None)
        };
        let mut tx = self.store.write().await?;
        let id = tx
            .insert_heartbeat(&spec, &new_token(), status, paused_at, now)
            .await?;
        let heartbeat = require_heartbeat(&mut tx, id).await?;
        tx.append_event(
            &NewEvent::new(kind::HEARTBEAT_CREATED, actor).data(heartbeat.audit_view()),
        )
        .await?;
        self.commit(tx).await?;
        Ok(heartbeat)
    }

    /// Changes only the attributes given. Pausing sets the status to `paused`; resuming sets
    /// it to `pending` and restarts the clock: the heartbeat waits for a new first ping.
    pub async fn update_heartbeat(
        &self,
        actor: &Actor,
        id: i64,
        input: &Map<String, Value>,
    ) -> Result<Heartbeat> {
        let mut tx = self.store.write().await?;
        let before = require_heartbeat(&mut tx, id).await?;
        let spec =
            HeartbeatSpec::parse(input, Some(&before.spec)).map_err(ServiceError::InvalidFields)?;
        let now = Timestamp::now();
        let paused_changed = before.spec.paused != spec.paused;
        let (status, paused_at) = match (before.spec.paused, spec.paused) {
            (false, true) => (status::PAUSED, Some(now)),
            (true, false) => (status::PENDING, None),
            _ => (before.status.as_str(), before.paused_at),
        };
        tx.update_heartbeat(id, &spec, status, paused_at, paused_changed, now)
            .await?;
        if paused_changed {
            tx.reset_monitor_streaks(id).await?;
        }
        let after = require_heartbeat(&mut tx, id).await?;
        tx.append_event(
            &NewEvent::new(kind::HEARTBEAT_UPDATED, actor)
                .data(after.audit_view())
                .pre_data(before.audit_view()),
        )
        .await?;
        self.commit(tx).await?;
        Ok(after)
    }

    pub async fn delete_heartbeat(&self, actor: &Actor, id: i64) -> Result<()> {
        let mut tx = self.store.write().await?;
        let before = require_heartbeat(&mut tx, id).await?;
        crate::service::guards::refuse_if_guarded(&mut tx, id).await?;
        crate::service::status_pages::remove_from_status_pages(&mut tx, actor, id).await?;
        tx.delete_heartbeat(id).await?;
        tx.append_event(
            &NewEvent::new(kind::HEARTBEAT_DELETED, actor).pre_data(before.audit_view()),
        )
        .await?;
        self.commit(tx).await
    }

    /// A ping to `/api/v1/heartbeat/<token>[/fail|/<exit code>]` at `at`, with the job's
    /// `output` (a POST body; kept as the incident's detail on failure). An unknown token is
    /// a 404. A paused heartbeat ignores pings.
    pub async fn record_heartbeat_ping(
        &self,
        token: &str,
        ping: Ping,
        output: &str,
        at: Timestamp,
    ) -> Result<Option<StatusChange>> {
        let heartbeat = self
            .store
            .read()
            .await?
            .heartbeat_by_token(token)
            .await?
            .ok_or_else(|| ServiceError::NotFound(monitor_not_found(token)))?;
        if heartbeat.spec.paused {
            return Ok(None);
        }
        let mut obs = self.store.record_observations().await?;
        obs.record_heartbeat_ping(heartbeat.id, at).await?;
        obs.commit().await?;
        let output: String = output
            .chars()
            .filter(|c| *c != '\0')
            .take(MAX_OUTPUT_CHARS)
            .collect();
        let result = match ping.cause() {
            None => ProbeResult::up(Duration::ZERO, "ping received"),
            Some(cause) => {
                let detail = if output.trim().is_empty() {
                    cause.to_string()
                } else {
                    output
                };
                ProbeResult::down(cause, Duration::ZERO, detail)
            }
        };
        self.record_probe_result(heartbeat.id, &result, at).await
    }

    /// Reports every heartbeat whose ping is overdue at `now` as down (cause
    /// [`Cause::HeartbeatMissed`]), once per period while it stays missing (see
    /// [`missed_ping`]). Returns how many were reported. Safe to run on several replicas at
    /// once: each miss is claimed in the database before it is reported.
    pub async fn check_missed_heartbeats(&self, now: Timestamp) -> Result<usize> {
        let overdue = self.store.read().await?.overdue_heartbeats(now).await?;
        let mut reported = 0;
        for heartbeat in overdue {
            if !missed_ping(&heartbeat.clock(), now) {
                continue;
            }
            let mut obs = self.store.record_observations().await?;
            let claimed = obs
                .claim_heartbeat_miss(heartbeat.id, &heartbeat, now)
                .await?;
            obs.commit().await?;
            if !claimed {
                continue;
            }
            let last = heartbeat
                .last_ping_at
                .map_or_else(|| "never".to_string(), Timestamp::to_rfc3339);
            let result = ProbeResult::down(
                Cause::HeartbeatMissed,
                Duration::ZERO,
                format!(
                    "no ping since {last} (period {} s, grace {} s)",
                    heartbeat.spec.period, heartbeat.spec.grace
                ),
            );
            match self.record_probe_result(heartbeat.id, &result, now).await {
                Ok(_) => reported += 1,
                // Deleted in between: nothing to report.
                Err(ServiceError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(reported)
    }
}

async fn require_heartbeat(r: &mut Reader, id: i64) -> Result<Heartbeat> {
    r.heartbeat(id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(monitor_not_found(id)))
}
