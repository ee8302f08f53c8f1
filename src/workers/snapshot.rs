//! Checks the store's revision periodically and reloads the snapshot when it moved, so SDKs
//! connected to this replica see changes written through another one.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::snapshot::Snapshots;

pub async fn run_snapshot_refresh(
    snapshots: Arc<Snapshots>,
    every: Duration,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    super::every(every, &cancel, || async {
        if let Err(e) = snapshots.refresh().await {
            tracing::warn!(error = %e, "could not refresh the snapshot; still serving the previous one");
        }
    })
    .await;
    Ok(())
}
