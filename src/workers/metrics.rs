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
    super::every(every, &cancel, || async {
        if let Err(e) = service.flush_metrics().await {
            tracing::warn!(error = %e, "could not write SDK metrics; keeping them for the next attempt");
        }
    })
    .await;
    // The final flush: the supervisor runs this before the database is closed.
    service
        .flush_metrics()
        .await
        .context("could not write SDK metrics on shutdown; they are lost")?;
    Ok(())
}
