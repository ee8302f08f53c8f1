//! The server backend: PostgreSQL, for production and for several replicas sharing one database.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::postgres::PgListener;

use crate::store::{
    Backend, ObservationWriter, Reader, RevisionListener, Store, StoreError, Writer,
};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// The advisory-lock key that serialises configuration writers ("flagwatch" in ASCII, truncated).
const WRITER_LOCK: i64 = 0x666c_6167_7761_7463;

/// Writers that moved the revision announce the new one here when they commit; replicas LISTEN
/// on it.
const REVISION_CHANNEL: &str = "flagwatch_revision";

/// How long a listener that lost its connection waits before connecting again.
const LISTEN_RETRY: Duration = Duration::from_secs(5);

pub struct PgStore {
    pool: AnyPool,
    /// Kept for the listener, which needs a connection of its own outside the pool.
    url: String,
}

impl PgStore {
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let pool = AnyPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self {
            pool,
            url: url.to_string(),
        })
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
        Ok(Writer::new(tx, None, Some(REVISION_CHANNEL)))
    }

    async fn record_observations(&self) -> Result<ObservationWriter, StoreError> {
        Ok(ObservationWriter::new(self.pool.begin().await?, None))
    }

    async fn ready(&self) -> Result<bool, StoreError> {
        super::migrations_applied(&self.pool, &MIGRATOR).await
    }

    /// A dedicated connection LISTENing on the revision channel. `PgListener` reconnects by
    /// itself when the connection drops cleanly (reported here as `None`: announcements may have
    /// been missed); on any other error the listener is dropped and rebuilt after a pause.
    fn listen(&self) -> Option<RevisionListener> {
        struct State {
            url: String,
            listener: Option<PgListener>,
            failed: bool,
        }
        let state = State {
            url: self.url.clone(),
            listener: None,
            failed: false,
        };
        let changes = futures_util::stream::unfold(state, |mut s| async move {
            let listener = match s.listener.as_mut() {
                Some(l) => l,
                None => {
                    if s.failed {
                        tokio::time::sleep(LISTEN_RETRY).await;
                    }
                    let connected = async {
                        let mut l = PgListener::connect(&s.url).await?;
                        l.listen(REVISION_CHANNEL).await?;
                        Ok::<_, sqlx::Error>(l)
                    }
                    .await;
                    match connected {
                        Ok(l) => {
                            let reconnected = std::mem::replace(&mut s.failed, false);
                            if reconnected {
                                // Changes committed while disconnected were not announced.
                                return Some((
                                    Ok(None),
                                    State {
                                        listener: Some(l),
                                        ..s
                                    },
                                ));
                            }
                            s.listener.insert(l)
                        }
                        Err(e) => {
                            s.failed = true;
                            return Some((Err(e.into()), s));
                        }
                    }
                }
            };
            let change = match listener.try_recv().await {
                Ok(Some(n)) => Ok(n.payload().parse::<i64>().ok()),
                Ok(None) => Ok(None),
                Err(e) => {
                    s.listener = None;
                    s.failed = true;
                    Err(e.into())
                }
            };
            Some((change, s))
        });
        Some(RevisionListener::new(changes))
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
