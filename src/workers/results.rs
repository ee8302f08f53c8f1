//! Writes the check results buffered in memory every second (one transaction per batch: raw
//! rows and roll-ups), once more when the server shuts down, and once a minute deletes raw
//! results and minute roll-ups older than the retention window.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::domain::Timestamp;
use crate::service::Service;

pub const FLUSH_EVERY: Duration = Duration::from_secs(1);
pub const PRUNE_EVERY: Duration = Duration::from_secs(60);

pub async fn run_results_flush(
    service: Arc<Service>,
    retention_days: u32,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let mut next_prune = Instant::now() + PRUNE_EVERY;
    super::every(FLUSH_EVERY, &cancel, || {
        let service = service.clone();
        let prune = Instant::now() >= next_prune;
        if prune {
            next_prune = Instant::now() + PRUNE_EVERY;
        }
        async move {
            if let Err(e) = service.flush_probe_results().await {
                tracing::warn!(error = %e, "could not write check results; keeping them for the next attempt");
            }
            if prune {
                match service
                    .prune_probe_results(Timestamp::now(), retention_days)
                    .await
                {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(rows = n, "deleted old check results"),
                    Err(e) => tracing::warn!(error = %e, "could not delete old check results"),
                }
            }
        }
    })
    .await;
    // The final flush: the supervisor runs this before the database is closed.
    service
        .flush_probe_results()
        .await
        .context("could not write check results on shutdown; they are lost")?;
    Ok(())
}
