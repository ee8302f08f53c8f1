//! The server backend: PostgreSQL, for production and for several replicas sharing one database.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;

use crate::store::{Backend, Reader, Store, StoreError, Writer};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

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

    async fn write(&self) -> Result<Writer, StoreError> {
        Ok(Writer::new(self.pool.begin().await?, None))
    }

    async fn ready(&self) -> Result<bool, StoreError> {
        super::migrations_applied(&self.pool, &MIGRATOR).await
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
