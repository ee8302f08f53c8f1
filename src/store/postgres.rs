//! The server backend: PostgreSQL, for production and for several replicas sharing one database.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;

use crate::store::{Backend, ObservationWriter, Reader, Store, StoreError, Writer};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// The advisory-lock key that serialises configuration writers ("flagwatch" in ASCII, truncated).
const WRITER_LOCK: i64 = 0x666c_6167_7761_7463;

pub struct PgStore {
    pool: AnyPool,
}

impl PgStore {
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let pool = AnyPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool })
    }
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn read(&self) -> Result<Reader, StoreError> {
        Ok(Reader::new(self.pool.begin().await?))
    }

    /// Writers take one transaction-scoped advisory lock, so they commit in the order their
    /// event ids were allocated. Without it a writer holding a lower id could commit after one
    /// holding a higher id, and a replica that had already seen the higher revision would never
    /// reload for the lower one.
    async fn write(&self) -> Result<Writer, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("select pg_advisory_xact_lock($1)")
            .bind(WRITER_LOCK)
            .execute(&mut *tx)
            .await?;
        Ok(Writer::new(tx, None))
    }

    async fn record_observations(&self) -> Result<ObservationWriter, StoreError> {
        Ok(ObservationWriter::new(self.pool.begin().await?, None))
    }

    async fn ready(&self) -> Result<bool, StoreError> {
        super::migrations_applied(&self.pool, &MIGRATOR).await
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
