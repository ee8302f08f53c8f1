//! The embedded backend: one SQLite file, WAL mode, writers serialised in-process.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use tokio::sync::Mutex;

use crate::store::{
    Backend, ObservationWriter, Reader, RevisionListener, Store, StoreError, Writer,
};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

pub struct SqliteStore {
    pool: AnyPool,
    /// SQLite allows one writer at a time; taking this first makes writers queue instead of
    /// failing with "database is locked".
    write_lock: Arc<Mutex<()>>,
}

impl SqliteStore {
    /// `url` is `sqlite:<path>`; the file is created if missing (`mode=rwc` is added).
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let url = if url.contains("mode=") {
            url.to_string()
        } else if url.contains('?') {
            format!("{url}&mode=rwc")
        } else {
            format!("{url}?mode=rwc")
        };
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    use sqlx::Executor;
                    conn.execute(
                        "pragma journal_mode = wal; pragma synchronous = normal; \
                         pragma busy_timeout = 5000; pragma foreign_keys = on;",
                    )
                    .await?;
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self {
            pool,
            write_lock: Arc::new(Mutex::new(())),
        })
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn read(&self) -> Result<Reader, StoreError> {
        Ok(Reader::new(self.pool.begin().await?))
    }

    async fn write(&self) -> Result<Writer, StoreError> {
        let exclusive = self.write_lock.clone().lock_owned().await;
        Ok(Writer::new(self.pool.begin().await?, Some(exclusive), None))
    }

    async fn record_observations(&self) -> Result<ObservationWriter, StoreError> {
        let exclusive = self.write_lock.clone().lock_owned().await;
        Ok(ObservationWriter::new(
            self.pool.begin().await?,
            Some(exclusive),
        ))
    }

    async fn ready(&self) -> Result<bool, StoreError> {
        super::migrations_applied(&self.pool, &MIGRATOR).await
    }

    /// One process owns the file; its own writes refresh its snapshot directly.
    fn listen(&self) -> Option<RevisionListener> {
        None
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
