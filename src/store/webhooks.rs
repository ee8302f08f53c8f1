//! Webhook sources and their delivery log (`migrations/*/0012_webhook_source.sql`).

use serde_json::Value;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::domain::Timestamp;
use crate::domain::webhook::WebhookSource;
use crate::store::StoreError;
use crate::store::query::Sql;
use crate::store::sql::{Reader, Writer, from_json, get_bool, to_json};

type Result<T> = std::result::Result<T, StoreError>;

const SOURCE_COLUMNS: &str = "webhook_source_id, name, kind, secret_hash, basic_username, \
     basic_password_hash, legacy_path, created_at, updated_at";

const DELIVERY_COLUMNS: &str = "webhook_delivery_id, webhook_source_id, dedup_key, received_at, \
     event, incident_id, monitor_id, monitor_name, outcome, guards";

/// One accepted delivery, as logged.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookDelivery {
    pub id: i64,
    pub source_id: i64,
    pub dedup_key: String,
    pub received_at: Timestamp,
    pub event: String,
    pub incident_id: Option<String>,
    pub monitor_id: Option<String>,
    pub monitor_name: Option<String>,
    /// `processed`, `recorded` or `no_flags_mapped`.
    pub outcome: String,
    /// What each guard did: `[{id, name, trip_id, flags}]`.
    pub guards: Value,
}

fn source_from(row: &AnyRow) -> Result<WebhookSource> {
    let username: Option<String> = row.try_get("basic_username")?;
    let password_hash: Option<String> = row.try_get("basic_password_hash")?;
    Ok(WebhookSource {
        id: row.try_get("webhook_source_id")?,
        name: row.try_get("name")?,
        kind: row.try_get("kind")?,
        secret_hash: row.try_get("secret_hash")?,
        basic_auth: username.zip(password_hash),
        legacy_path: get_bool(row, "legacy_path")?,
        created_at: Timestamp(row.try_get("created_at")?),
        updated_at: Timestamp(row.try_get("updated_at")?),
    })
}

fn delivery_from(row: &AnyRow) -> Result<WebhookDelivery> {
    Ok(WebhookDelivery {
        id: row.try_get("webhook_delivery_id")?,
        source_id: row.try_get("webhook_source_id")?,
        dedup_key: row.try_get("dedup_key")?,
        received_at: Timestamp(row.try_get("received_at")?),
        event: row.try_get("event")?,
        incident_id: row.try_get("incident_id")?,
        monitor_id: row.try_get("monitor_id")?,
        monitor_name: row.try_get("monitor_name")?,
        outcome: row.try_get("outcome")?,
        guards: from_json(row.try_get::<&str, _>("guards")?)?,
    })
}

impl Reader {
    /// Every source, oldest first.
    pub async fn webhook_sources(&mut self) -> Result<Vec<WebhookSource>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {SOURCE_COLUMNS} from webhook_source order by webhook_source_id"
        )))
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter().map(source_from).collect()
    }

    pub async fn webhook_source(&mut self, id: i64) -> Result<Option<WebhookSource>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {SOURCE_COLUMNS} from webhook_source where webhook_source_id = $1"
        )))
        .bind(id)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.as_ref().map(source_from).transpose()
    }

    pub async fn webhook_source_named(&mut self, name: &str) -> Result<Option<WebhookSource>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {SOURCE_COLUMNS} from webhook_source where name = $1"
        )))
        .bind(name)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.as_ref().map(source_from).transpose()
    }

    /// One page of a source's deliveries, newest first, and how many it has in all.
    pub async fn webhook_deliveries(
        &mut self,
        source_id: i64,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<WebhookDelivery>, i64)> {
        let total: i64 = sqlx::query_scalar(
            "select count(*) from webhook_delivery where webhook_source_id = $1",
        )
        .bind(source_id)
        .fetch_one(&mut *self.tx)
        .await?;
        let mut select = Sql::new(&format!(
            "select {DELIVERY_COLUMNS} from webhook_delivery where webhook_source_id = "
        ));
        select
            .int(source_id)
            .push(" order by webhook_delivery_id desc limit ")
            .int(limit)
            .push(" offset ")
            .int(offset);
        let rows = select.query().fetch_all(&mut *self.tx).await?;
        Ok((
            rows.iter().map(delivery_from).collect::<Result<_>>()?,
            total,
        ))
    }

    /// Whether a delivery with this key was already accepted through the source.
    pub async fn webhook_delivery_seen(&mut self, source_id: i64, dedup_key: &str) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "select count(*) from webhook_delivery where webhook_source_id = $1 and dedup_key = $2",
        )
        .bind(source_id)
        .bind(dedup_key)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(n > 0)
    }

    /// The latest delivery without an incident id (keyed by body) about the same monitor: one
    /// with the same monitor id, or the same name whatever its case (one payload may name a
    /// monitor by id and name, the next by name only). With neither, the latest that named
    /// no monitor either.
    pub async fn latest_body_keyed_delivery(
        &mut self,
        source_id: i64,
        monitor_id: Option<&str>,
        monitor_name: Option<&str>,
    ) -> Result<Option<WebhookDelivery>> {
        let mut select = Sql::new(&format!(
            "select {DELIVERY_COLUMNS} from webhook_delivery where webhook_source_id = "
        ));
        select
            .int(source_id)
            .push(" and incident_id is null and substr(dedup_key, 1, 5) = 'body:' and ");
        match (monitor_id, monitor_name) {
            (None, None) => {
                select.push("monitor_id is null and monitor_name is null");
            }
            (id, name) => {
                select.push("(1 = 0");
                if let Some(id) = id {
                    select.push(" or monitor_id = ").text(id);
                }
                if let Some(name) = name {
                    select
                        .push(" or lower(monitor_name) = lower(")
                        .text(name)
                        .push(")");
                }
                select.push(")");
            }
        }
        select.push(" order by webhook_delivery_id desc limit 1");
        let row = select.query().fetch_optional(&mut *self.tx).await?;
        row.as_ref().map(delivery_from).transpose()
    }
}

impl Writer {
    /// Stores a new source; returns its id.
    pub async fn insert_webhook_source(
        &mut self,
        source: &WebhookSource,
        now: Timestamp,
    ) -> Result<i64> {
        let (username, password_hash) = match &source.basic_auth {
            Some((u, p)) => (Some(u.as_str()), Some(p.as_str())),
            None => (None, None),
        };
        let q = sqlx::query(
            "insert into webhook_source (name, kind, secret_hash, basic_username, basic_password_hash, \
             legacy_path, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $7) \
             returning webhook_source_id",
        )
        .bind(&source.name)
        .bind(&source.kind)
        .bind(&source.secret_hash)
        .bind(username)
        .bind(password_hash)
        .bind(source.legacy_path)
        .bind(now.millis());
        self.insert_returning_id(q).await
    }

    /// Replaces a source's secret; false if there is no such source.
    pub async fn set_webhook_source_secret(
        &mut self,
        id: i64,
        secret_hash: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let q = sqlx::query(
            "update webhook_source set secret_hash = $2, updated_at = $3 where webhook_source_id = $1",
        )
        .bind(id)
        .bind(secret_hash)
        .bind(now.millis());
        Ok(self.execute(q).await? > 0)
    }

    /// Deletes a source and its delivery log; false if there is no such source.
    pub async fn delete_webhook_source(&mut self, id: i64) -> Result<bool> {
        // Explicitly rather than by cascade, as for flags: the log goes with its source.
        self.execute(
            sqlx::query("delete from webhook_delivery where webhook_source_id = $1").bind(id),
        )
        .await?;
        let q = sqlx::query("delete from webhook_source where webhook_source_id = $1").bind(id);
        Ok(self.execute(q).await? > 0)
    }

    /// Logs an accepted delivery. A second one with the same key for the same source is a
    /// unique violation ([`StoreError::Conflict`]): the caller's duplicate.
    pub async fn insert_webhook_delivery(&mut self, d: &WebhookDelivery) -> Result<i64> {
        let q = sqlx::query(
            "insert into webhook_delivery (webhook_source_id, dedup_key, received_at, event, \
             incident_id, monitor_id, monitor_name, outcome, guards) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning webhook_delivery_id",
        )
        .bind(d.source_id)
        .bind(&d.dedup_key)
        .bind(d.received_at.millis())
        .bind(&d.event)
        .bind(&d.incident_id)
        .bind(&d.monitor_id)
        .bind(&d.monitor_name)
        .bind(&d.outcome)
        .bind(to_json(&d.guards)?);
        self.insert_returning_id(q).await
    }
}
