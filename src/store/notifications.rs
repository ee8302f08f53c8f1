//! Notification channels and the outbox of deliveries (`migrations/*/0011_notification.sql`).
//!
//! Channels are configuration: written through the [`Writer`], with an event. A delivery is
//! inserted in the transaction of the change it reports ([`Writer::insert_delivery`]), so it
//! exists if and only if that change commits; sending it is bookkeeping, written through the
//! [`ObservationWriter`] with no event: claiming it under a lease, recording each attempt.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::domain::Timestamp;
use crate::domain::notification::{
    Channel, ChannelConfig, ChannelSpec, ClaimedDelivery, Delivery, DeliveryFilter, DeliveryResult,
    DeliveryStatus, Notice,
};
use crate::store::StoreError;
use crate::store::query::Sql;
use crate::store::sql::{ObservationWriter, Reader, Writer, from_json, get_bool, to_json};

type Result<T> = std::result::Result<T, StoreError>;

fn channel_from(row: &AnyRow) -> Result<Channel> {
    let config: ChannelConfig = from_json(row.try_get::<&str, _>("config")?)?;
    Ok(Channel {
        id: row.try_get("channel_id")?,
        name: row.try_get("name")?,
        config,
        created_at: Timestamp(row.try_get("created_at")?),
        updated_at: Timestamp(row.try_get("updated_at")?),
    })
}

const DELIVERY_SELECT: &str = "select d.delivery_id, d.channel_id, c.name as channel_name, d.notice, \
     d.test, d.status, d.attempts, d.last_status_code, d.last_error, d.created_at, d.next_attempt_at, \
     d.delivered_at from notification_delivery d join notification_channel c on c.channel_id = d.channel_id";

fn delivery_from(row: &AnyRow) -> Result<Delivery> {
    let status: String = row.try_get("status")?;
    Ok(Delivery {
        id: row.try_get("delivery_id")?,
        channel_id: row.try_get("channel_id")?,
        channel_name: row.try_get("channel_name")?,
        notice: from_json(row.try_get::<&str, _>("notice")?)?,
        test: get_bool(row, "test")?,
        status: DeliveryStatus::parse(&status)
            .ok_or_else(|| anyhow::anyhow!("stored delivery status {status:?} is unknown"))?,
        attempts: row.try_get("attempts")?,
        last_status_code: row.try_get("last_status_code")?,
        last_error: row.try_get("last_error")?,
        created_at: Timestamp(row.try_get("created_at")?),
        next_attempt_at: row
            .try_get::<Option<i64>, _>("next_attempt_at")?
            .map(Timestamp),
        delivered_at: row
            .try_get::<Option<i64>, _>("delivered_at")?
            .map(Timestamp),
    })
}

/// A pending delivery, due at once.
const INSERT_DELIVERY: &str = "insert into notification_delivery (channel_id, notice_kind, dedup_key, \
     notice, test, status, attempts, created_at, next_attempt_at) \
     values ($1, $2, $3, $4, $5, 'pending', 0, $6, $6)";

/// [`INSERT_DELIVERY`] (with or without a `returning` clause) with its values bound.
fn insert_delivery_query(
    sql: &'static str,
    channel_id: i64,
    notice: &Notice,
    test: bool,
    now: Timestamp,
) -> Result<sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments>> {
    Ok(sqlx::query(sql)
        .bind(channel_id)
        .bind(notice.kind.as_str())
        .bind(notice.dedup_key.clone())
        .bind(to_json(notice)?)
        .bind(test)
        .bind(now.millis()))
}

/// A JSON list of ids as stored in a text column; unreadable text reads as none.
fn id_list(text: &str) -> Vec<i64> {
    serde_json::from_str(text).unwrap_or_default()
}

impl Reader {
    /// Every channel, oldest first.
    pub async fn notification_channels(&mut self) -> Result<Vec<Channel>> {
        let rows = sqlx::query("select * from notification_channel order by channel_id")
            .fetch_all(&mut *self.tx)
            .await?;
        rows.iter().map(channel_from).collect()
    }

    pub async fn notification_channel(&mut self, id: i64) -> Result<Option<Channel>> {
        let row = sqlx::query("select * from notification_channel where channel_id = $1")
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(channel_from).transpose()
    }

    pub async fn notification_channel_named(&mut self, name: &str) -> Result<Option<Channel>> {
        let row = sqlx::query("select * from notification_channel where name = $1")
            .bind(name)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(channel_from).transpose()
    }

    /// The ids among `ids` that name a channel.
    pub async fn existing_notification_channels(&mut self, ids: &[i64]) -> Result<Vec<i64>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new("select channel_id from notification_channel where channel_id in (");
        for (i, id) in ids.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.int(*id);
        }
        sql.push(")");
        let rows = sql.query().fetch_all(&mut *self.tx).await?;
        rows.iter().map(|r| Ok(r.try_get("channel_id")?)).collect()
    }

    /// What names channel `id`: monitors (and heartbeats) and guards, in words
    /// (`monitor 3 "API"`), for the message refusing its deletion.
    pub async fn notification_channel_users(&mut self, id: i64) -> Result<Vec<String>> {
        let mut users = Vec::new();
        let rows = sqlx::query(
            "select monitor_id, monitor_type, pronounceable_name, notification_channels from monitor \
             where notification_channels <> '[]' order by monitor_id",
        )
        .fetch_all(&mut *self.tx)
        .await?;
        for row in rows {
            if id_list(row.try_get::<&str, _>("notification_channels")?).contains(&id) {
                let kind: String = row.try_get("monitor_type")?;
                let kind = if kind == "heartbeat" {
                    "heartbeat"
                } else {
                    "monitor"
                };
                users.push(format!(
                    "{kind} {} \"{}\"",
                    row.try_get::<i64, _>("monitor_id")?,
                    row.try_get::<String, _>("pronounceable_name")?
                ));
            }
        }
        // Guards (migrations/*/0010_guard.sql) keep their channels as a JSON list too.
        let rows = sqlx::query(
            "select guard_id, name, channels from guard where channels <> '[]' order by guard_id",
        )
        .fetch_all(&mut *self.tx)
        .await?;
        for row in rows {
            if id_list(row.try_get::<&str, _>("channels")?).contains(&id) {
                users.push(format!(
                    "guard {} \"{}\"",
                    row.try_get::<i64, _>("guard_id")?,
                    row.try_get::<String, _>("name")?
                ));
            }
        }
        Ok(users)
    }

    /// The channels a monitor (or heartbeat) names; `None` if there is no such monitor.
    pub async fn monitor_notification_channels(
        &mut self,
        monitor_id: i64,
    ) -> Result<Option<Vec<i64>>> {
        let row = sqlx::query("select notification_channels from monitor where monitor_id = $1")
            .bind(monitor_id)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.map(|r| Ok(id_list(r.try_get::<&str, _>("notification_channels")?)))
            .transpose()
    }

    /// The delivery log, newest first.
    pub async fn notification_deliveries(
        &mut self,
        filter: &DeliveryFilter,
    ) -> Result<Vec<Delivery>> {
        let mut sql = Sql::new(DELIVERY_SELECT);
        sql.push(" where 1 = 1");
        if let Some(channel) = filter.channel_id {
            sql.push(" and d.channel_id = ").int(channel);
        }
        if let Some(status) = filter.status {
            sql.push(" and d.status = ").text(status.as_str());
        }
        sql.push(" order by d.delivery_id desc limit ")
            .int(filter.limit);
        let rows = sql.query().fetch_all(&mut *self.tx).await?;
        rows.iter().map(delivery_from).collect()
    }

    pub async fn notification_delivery(&mut self, id: i64) -> Result<Option<Delivery>> {
        let mut sql = Sql::new(DELIVERY_SELECT);
        sql.push(" where d.delivery_id = ").int(id);
        let row = sql.query().fetch_optional(&mut *self.tx).await?;
        row.as_ref().map(delivery_from).transpose()
    }

    /// The next time after `now` a pending delivery becomes due or its lease runs out, if any:
    /// when the delivery worker should look again without being woken.
    pub async fn next_notification_due(&mut self, now: Timestamp) -> Result<Option<Timestamp>> {
        let at: Option<i64> = sqlx::query_scalar(
            "select min(t) from (select case when lease_until is not null and lease_until > next_attempt_at \
             then lease_until else next_attempt_at end as t from notification_delivery \
             where status = 'pending') due where t > $1",
        )
        .bind(now.millis())
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(at.map(Timestamp))
    }
}

impl Writer {
    /// Stores a new channel; returns its id.
    pub async fn insert_notification_channel(
        &mut self,
        spec: &ChannelSpec,
        now: Timestamp,
    ) -> Result<i64> {
        let q = sqlx::query(
            "insert into notification_channel (name, kind, config, created_at, updated_at) \
             values ($1, $2, $3, $4, $4)",
        )
        .bind(spec.name.clone())
        .bind(spec.config.kind().as_str())
        .bind(to_json(&spec.config)?)
        .bind(now.millis());
        self.execute(q).await?;
        // Names are unique; `returning` would bypass the write count that commit checks.
        let id: i64 =
            sqlx::query_scalar("select channel_id from notification_channel where name = $1")
                .bind(spec.name.clone())
                .fetch_one(&mut *self.reader.tx)
                .await?;
        Ok(id)
    }

    /// False if there is no such channel.
    pub async fn update_notification_channel(
        &mut self,
        id: i64,
        spec: &ChannelSpec,
        now: Timestamp,
    ) -> Result<bool> {
        let q = sqlx::query(
            "update notification_channel set name = $2, kind = $3, config = $4, updated_at = $5 \
             where channel_id = $1",
        )
        .bind(id)
        .bind(spec.name.clone())
        .bind(spec.config.kind().as_str())
        .bind(to_json(&spec.config)?)
        .bind(now.millis());
        Ok(self.execute(q).await? > 0)
    }

    /// Deletes the channel and its deliveries; false if there is no such channel.
    pub async fn delete_notification_channel(&mut self, id: i64) -> Result<bool> {
        let q = sqlx::query("delete from notification_channel where channel_id = $1").bind(id);
        Ok(self.execute(q).await? > 0)
    }

    /// Queues `notice` for channel `channel_id`, due at once, in this transaction.
    pub async fn insert_delivery(
        &mut self,
        channel_id: i64,
        notice: &Notice,
        now: Timestamp,
    ) -> Result<()> {
        let q = insert_delivery_query(INSERT_DELIVERY, channel_id, notice, false, now)?;
        self.execute(q).await?;
        self.queued_notices = true;
        Ok(())
    }

    /// Whether this transaction queued a delivery: the delivery worker should be woken once it
    /// commits.
    pub fn queued_notices(&self) -> bool {
        self.queued_notices
    }
}

impl ObservationWriter {
    /// Queues a test notice for a channel (`POST …/{id}/test`): no change to report, so no
    /// event. Returns the delivery's id.
    pub async fn insert_test_delivery(
        &mut self,
        channel_id: i64,
        notice: &Notice,
        now: Timestamp,
    ) -> Result<i64> {
        static SQL: std::sync::LazyLock<String> =
            std::sync::LazyLock::new(|| format!("{INSERT_DELIVERY} returning delivery_id"));
        let row = insert_delivery_query(SQL.as_str(), channel_id, notice, true, now)?
            .fetch_one(&mut *self.tx)
            .await?;
        Ok(row.try_get("delivery_id")?)
    }

    /// Claims up to `limit` due deliveries for `owner` until `lease_until`, counting an attempt
    /// for each, and returns them. A delivery is due when it is pending, its time has come, no
    /// other sender holds an unexpired lease on it, and no earlier delivery of the same notice
    /// key to the same channel is still pending (so a PagerDuty resolve never overtakes its
    /// trigger). The lease condition is repeated in the outer `where`: when two replicas race
    /// for a row, PostgreSQL re-checks it against the winner's update and the loser skips it.
    pub async fn claim_deliveries(
        &mut self,
        owner: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
    ) -> Result<Vec<ClaimedDelivery>> {
        let rows = sqlx::query(
            "update notification_delivery set lease_owner = $1, lease_until = $2, attempts = attempts + 1 \
             where status = 'pending' and next_attempt_at <= $3 and (lease_until is null or lease_until <= $3) \
             and delivery_id in (select d.delivery_id from notification_delivery d \
               where d.status = 'pending' and d.next_attempt_at <= $3 \
               and (d.lease_until is null or d.lease_until <= $3) \
               and not exists (select 1 from notification_delivery e where e.channel_id = d.channel_id \
                 and e.dedup_key = d.dedup_key and e.status = 'pending' and e.delivery_id < d.delivery_id) \
               order by d.next_attempt_at, d.delivery_id limit $4) \
             returning delivery_id",
        )
        .bind(owner.to_string())
        .bind(lease_until.millis())
        .bind(now.millis())
        .bind(limit)
        .fetch_all(&mut *self.tx)
        .await?;
        let ids: Vec<i64> = rows
            .iter()
            .map(|r| r.try_get("delivery_id"))
            .collect::<std::result::Result<_, _>>()?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(
            "select d.delivery_id, d.notice, d.test, d.attempts, c.channel_id, c.name, c.config, \
             c.created_at, c.updated_at from notification_delivery d \
             join notification_channel c on c.channel_id = d.channel_id where d.delivery_id in (",
        );
        for (i, id) in ids.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.int(*id);
        }
        sql.push(") order by d.delivery_id");
        let rows = sql.query().fetch_all(&mut *self.tx).await?;
        rows.iter()
            .map(|row| {
                Ok(ClaimedDelivery {
                    id: row.try_get("delivery_id")?,
                    channel: channel_from(row)?,
                    notice: from_json(row.try_get::<&str, _>("notice")?)?,
                    test: get_bool(row, "test")?,
                    attempts: row.try_get("attempts")?,
                })
            })
            .collect()
    }

    /// Records how an attempt ended and lets go of the lease. False when `owner` no longer
    /// holds it (the lease ran out and another sender took the delivery over): nothing changes.
    pub async fn finish_delivery(
        &mut self,
        id: i64,
        owner: &str,
        result: &DeliveryResult,
        now: Timestamp,
    ) -> Result<bool> {
        let q = match result {
            DeliveryResult::Delivered { status_code } => sqlx::query(
                "update notification_delivery set status = 'delivered', last_status_code = $3, \
                 last_error = null, delivered_at = $4, next_attempt_at = null, lease_owner = null, \
                 lease_until = null where delivery_id = $1 and lease_owner = $2",
            )
            .bind(id)
            .bind(owner.to_string())
            .bind(i64::from(*status_code))
            .bind(now.millis()),
            DeliveryResult::Retry {
                status_code,
                error,
                at,
            } => sqlx::query(
                "update notification_delivery set last_status_code = $3, last_error = $4, \
                 next_attempt_at = $5, lease_owner = null, lease_until = null \
                 where delivery_id = $1 and lease_owner = $2",
            )
            .bind(id)
            .bind(owner.to_string())
            .bind(status_code.map(i64::from))
            .bind(error.clone())
            .bind(at.millis()),
            DeliveryResult::Failed { status_code, error } => sqlx::query(
                "update notification_delivery set status = 'failed', last_status_code = $3, \
                 last_error = $4, next_attempt_at = null, lease_owner = null, lease_until = null \
                 where delivery_id = $1 and lease_owner = $2",
            )
            .bind(id)
            .bind(owner.to_string())
            .bind(status_code.map(i64::from))
            .bind(error.clone()),
        };
        Ok(q.execute(&mut *self.tx).await?.rows_affected() > 0)
    }

    /// Lets go of `owner`'s leases on `ids` (sends abandoned at shutdown), due again at once.
    pub async fn release_deliveries(
        &mut self,
        owner: &str,
        ids: &[i64],
        now: Timestamp,
    ) -> Result<u64> {
        if ids.is_empty() {
            return Ok(0);
        }
        let mut sql = Sql::new(
            "update notification_delivery set lease_owner = null, lease_until = null, next_attempt_at = ",
        );
        sql.int(now.millis())
            .push(" where status = 'pending' and lease_owner = ")
            .text(owner)
            .push(" and delivery_id in (");
        for (i, id) in ids.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.int(*id);
        }
        sql.push(")");
        Ok(sql.query().execute(&mut *self.tx).await?.rows_affected())
    }

    /// Deletes delivered and failed deliveries created before `before`.
    pub async fn prune_deliveries(&mut self, before: Timestamp) -> Result<u64> {
        let done = sqlx::query(
            "delete from notification_delivery where status <> 'pending' and created_at < $1",
        )
        .bind(before.millis())
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected())
    }
}
