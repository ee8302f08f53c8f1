//! Persistence. One [`Store`] trait, two backends: SQLite (the embedded default) and
//! PostgreSQL. Callers get a [`Reader`] for consistent reads or a [`Writer`] for a change;
//! a `Writer` commits only if every change it made is accompanied by an event row.
//!
//! The SQL itself is written once, in the subset both dialects share, and runs through
//! sqlx's `Any` driver (`sql.rs`); what differs — connection set-up, migrations, how writers
//! are serialised — lives in `sqlite.rs` and `postgres.rs`.

mod guards;
mod leases;
mod notifications;
mod postgres;
mod query;
mod server_metrics;
mod sql;
mod sqlite;
mod status_pages;
mod webhooks;

use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use futures_util::{Stream, StreamExt};

pub use postgres::PgStore;
pub use server_metrics::{MonitorStatus, TalliedEvent, TalliedGroup};
pub use sql::{FeatureFilter, MonitorFilter, ObservationWriter, Reader, RollupTable, Writer};
pub use sqlite::SqliteStore;
pub use status_pages::{PublicIncident, Watched};
pub use webhooks::WebhookDelivery;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique or foreign-key constraint refused the write; `constraint` names it when known.
    #[error("constraint violated: {constraint}")]
    Conflict { constraint: String },
    /// The database cannot be reached (connection refused, pool timed out).
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// A write without an event, or an event without a write: a bug, refused at commit.
    #[error("refused to commit: {0}")]
    Unaudited(&'static str),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::Database(db)
                if db.is_unique_violation() || db.is_foreign_key_violation() =>
            {
                Self::Conflict {
                    constraint: db.constraint().unwrap_or_else(|| db.message()).to_string(),
                }
            }
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_) => Self::Unavailable(e),
            e => Self::Other(anyhow::Error::new(e)),
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        Self::Other(anyhow::Error::new(e).context("stored JSON does not decode"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    fn backend(&self) -> Backend;

    /// A read-only view; rolled back when dropped.
    async fn read(&self) -> Result<Reader, StoreError>;

    /// A transaction for one change and its events.
    async fn write(&self) -> Result<Writer, StoreError>;

    /// A transaction for what SDKs report (metrics, applications, instances). It writes no
    /// events, so it never moves the revision; see [`ObservationWriter`].
    async fn record_observations(&self) -> Result<ObservationWriter, StoreError>;

    /// Whether the database answers and every migration this binary knows is applied.
    async fn ready(&self) -> Result<bool, StoreError>;

    /// Wakes when another process sharing the database commits a change, or `None` when this
    /// backend cannot tell (SQLite: one process). Connects lazily, on the first wait.
    fn listen(&self) -> Option<RevisionListener>;

    async fn close(&self);
}

/// Announcements of changes other writers committed (PostgreSQL LISTEN/NOTIFY), so a replica
/// can reload at once instead of at its next periodic check.
pub struct RevisionListener {
    changes: Pin<Box<dyn Stream<Item = Result<Option<i64>, StoreError>> + Send>>,
}

impl RevisionListener {
    fn new(changes: impl Stream<Item = Result<Option<i64>, StoreError>> + Send + 'static) -> Self {
        Self {
            changes: Box::pin(changes),
        }
    }

    /// The next change: `Some(revision)` for a commit announced at that revision, `None` when
    /// announcements may have been missed (after a reconnect), so the caller should check.
    /// An error means the listener is not connected; waiting again retries after a pause.
    /// Cancel-safe: dropping the future loses nothing.
    pub async fn changed(&mut self) -> Result<Option<i64>, StoreError> {
        match self.changes.next().await {
            Some(change) => change,
            None => Err(StoreError::Other(anyhow::anyhow!("the listener stopped"))),
        }
    }
}

/// Connects to `url` (`sqlite:…` or `postgres://…`), applies migrations and returns the store.
pub async fn connect(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    sqlx::any::install_default_drivers();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::connect(url).await?))
    } else if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(url).await?))
    } else {
        anyhow::bail!(
            "DATABASE_URL must start with sqlite: or postgres:// (got a URL with another scheme)"
        )
    }
}

/// True when the database answers and holds every migration `migrator` embeds.
async fn migrations_applied(
    pool: &sqlx::AnyPool,
    migrator: &sqlx::migrate::Migrator,
) -> Result<bool, StoreError> {
    let latest = migrator.iter().map(|m| m.version).max().unwrap_or(0);
    let applied: Option<i64> =
        sqlx::query_scalar("select max(version) from _sqlx_migrations where success = true")
            .fetch_one(pool)
            .await?;
    Ok(applied.unwrap_or(0) >= latest)
}
