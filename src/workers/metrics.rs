//! Flushes the SDK reports aggregated in memory to the store every few seconds, and once more
//! when the server shuts down, so what SDKs reported before a SIGTERM is not lost.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::service::Service;

pub async fn run_metrics_flush(
    service: Arc<Service>,
    every: Duration,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = tick.tick() => {
                if let Err(e) = service.flush_metrics().await {
                    tracing::warn!(error = %e, "could not write SDK metrics; keeping them for the next attempt");
                }
            }
        }
    }
    // The final flush: the supervisor runs this before the database is closed.
    service
        .flush_metrics()
        .await
        .context("could not write SDK metrics on shutdown; they are lost")?;
    Ok(())
}
