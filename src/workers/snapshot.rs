//! Reloads the snapshot when the store's revision moves, so SDKs connected to this replica see
//! changes written through another one: at once when the store announces them (PostgreSQL
//! LISTEN/NOTIFY), and on a periodic check in any case, which is the fallback when
//! announcements are lost or unavailable.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use crate::snapshot::Snapshots;
use crate::store::RevisionListener;

pub async fn run_snapshot_refresh(
    snapshots: Arc<Snapshots>,
    every: Duration,
    mut listener: Option<RevisionListener>,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let mut interval = tokio::time::interval_at(Instant::now() + every, every);
    interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
    // Whether the listener's last wait failed: logged once per outage, not once per retry.
    let mut listener_down = false;
    loop {
        let announced = async {
            match listener.as_mut() {
                Some(l) => l.changed().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            () = cancel.cancelled() => return Ok(()),
            _ = interval.tick() => {}
            change = announced => match change {
                Ok(revision) => {
                    if listener_down {
                        listener_down = false;
                        tracing::info!("listening for changes from other replicas again");
                    }
                    if revision.is_some_and(|r| r <= snapshots.current().revision) {
                        continue; // our own write, or one already loaded
                    }
                }
                Err(e) => {
                    if !listener_down {
                        listener_down = true;
                        tracing::warn!(error = %e, every_ms = every.as_millis(), "not listening for changes from other replicas; checking periodically until it reconnects");
                    }
                    continue;
                }
            },
        }
        if let Err(e) = snapshots.refresh().await {
            tracing::warn!(error = %e, "could not refresh the snapshot; still serving the previous one");
        }
    }
}
