//! The reads behind `/metrics` (service::server_metrics): each one is a step down an index or a
//! small table, so a scrape stays cheap however long the event log grows.

use sqlx::Row;

use crate::domain::Timestamp;
use crate::domain::event::kind;
use crate::store::StoreError;
use crate::store::query::Sql;
use crate::store::sql::Reader;

type Result<T> = std::result::Result<T, StoreError>;

/// A monitor or heartbeat as the metrics label it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorStatus {
    pub id: i64,
    pub name: String,
    /// `status`, `keyword`, `ping`, `tcp`, … or `heartbeat`.
    pub monitor_type: String,
    /// `pending`, `up`, `validating`, `down`, `paused` or `maintenance`.
    pub status: String,
}

/// One event the tally counts: an incident opened (`created_by` = `probe:<monitor id>`) or a
/// flag switched by a guard (`created_by` = `guard:<name>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TalliedEvent {
    pub id: i64,
    pub event_type: String,
    pub created_by: String,
}

/// Events of one type by one actor, counted in SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TalliedGroup {
    pub event_type: String,
    pub created_by: String,
    pub count: i64,
    /// The highest event id in the group.
    pub last_id: i64,
}

/// The events the tally counts, as a condition: every `incident-opened`, and the on/off
/// events whose actor is a guard.
fn tallied(sql: &mut Sql) {
    sql.push(" (type = ")
        .text(kind::INCIDENT_OPENED)
        .push(" or (type in (")
        .text(kind::FEATURE_ENVIRONMENT_DISABLED)
        .push(", ")
        .text(kind::FEATURE_ENVIRONMENT_ENABLED)
        .push(") and created_by like 'guard:%'))");
}

fn tallied_event(row: &sqlx::any::AnyRow) -> Result<TalliedEvent> {
    Ok(TalliedEvent {
        id: row.try_get("event_id")?,
        event_type: row.try_get("type")?,
        created_by: row.try_get("created_by")?,
    })
}

impl Reader {
    /// Every monitor and heartbeat with its status, by id.
    pub async fn monitor_statuses(&mut self) -> Result<Vec<MonitorStatus>> {
        let rows = sqlx::query(
            "select monitor_id, pronounceable_name, monitor_type, status from monitor order by monitor_id",
        )
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(MonitorStatus {
                    id: r.try_get("monitor_id")?,
                    name: r.try_get("pronounceable_name")?,
                    monitor_type: r.try_get("monitor_type")?,
                    status: r.try_get("status")?,
                })
            })
            .collect()
    }

    /// The highest event id, 0 for an empty log (the primary key's last entry).
    pub async fn max_event_id(&mut self) -> Result<i64> {
        let max: Option<i64> = sqlx::query_scalar("select max(event_id) from event")
            .fetch_one(&mut *self.tx)
            .await?;
        Ok(max.unwrap_or(0))
    }

    /// The tallied events written before `before`, counted per type and actor. Run once per
    /// process, when the tally starts (through `event_type_idx`).
    pub async fn tallied_groups_before(&mut self, before: Timestamp) -> Result<Vec<TalliedGroup>> {
        let mut sql = Sql::new(
            "select type, created_by, count(*) as n, max(event_id) as last_id from event where",
        );
        tallied(&mut sql);
        sql.push(" and created_at < ")
            .int(before.millis())
            .push(" group by type, created_by");
        let rows = sql.query().fetch_all(&mut *self.tx).await?;
        rows.iter()
            .map(|r| {
                Ok(TalliedGroup {
                    event_type: r.try_get("type")?,
                    created_by: r.try_get("created_by")?,
                    count: r.try_get("n")?,
                    last_id: r.try_get("last_id")?,
                })
            })
            .collect()
    }

    /// The tallied events written at or after `since`, one by one.
    pub async fn tallied_events_since(&mut self, since: Timestamp) -> Result<Vec<TalliedEvent>> {
        let mut sql = Sql::new("select event_id, type, created_by from event where");
        tallied(&mut sql);
        sql.push(" and created_at >= ")
            .int(since.millis())
            .push(" order by event_id");
        let rows = sql.query().fetch_all(&mut *self.tx).await?;
        rows.iter().map(tallied_event).collect()
    }

    /// Up to `limit` tallied events with an id above `after`, oldest first (a range of the
    /// primary key).
    pub async fn tallied_events_after(
        &mut self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<TalliedEvent>> {
        let mut sql = Sql::new("select event_id, type, created_by from event where event_id > ");
        sql.int(after).push(" and");
        tallied(&mut sql);
        sql.push(" order by event_id limit ").int(limit);
        let rows = sql.query().fetch_all(&mut *self.tx).await?;
        rows.iter().map(tallied_event).collect()
    }

    /// The (flag, environment) pairs an SDK reported evaluating at or after `since`, from the
    /// hour buckets that can hold such a report (`client_metric_hour_hour_idx`).
    pub async fn features_seen_since(&mut self, since: Timestamp) -> Result<Vec<(String, String)>> {
        let hour = since.millis() - since.millis().rem_euclid(3_600_000);
        let rows = sqlx::query(
            "select distinct feature_name, environment from client_metric_hour \
             where hour >= $1 and last_seen >= $2",
        )
        .bind(hour)
        .bind(since.millis())
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("feature_name")?, r.try_get("environment")?)))
            .collect()
    }
}
