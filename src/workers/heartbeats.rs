//! Finds heartbeats whose pings stopped: every tick, each heartbeat whose last ping is older
//! than `period` + `grace` is reported down (cause `heartbeat_missed`), once per period while
//! the pings stay missing. The decision is `domain::heartbeat::missed_ping`; the reporting is
//! `Service::check_missed_heartbeats`.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::domain::Timestamp;
use crate::service::Service;

/// How often overdue heartbeats are looked for; a miss is reported at most this late.
pub const CHECK_EVERY: Duration = Duration::from_secs(1);

pub async fn run_heartbeat_check(
    service: Arc<Service>,
    every: Duration,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    super::every(every, &cancel, || async {
        match service.check_missed_heartbeats(Timestamp::now()).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(missed = n, "heartbeats reported missed"),
            Err(e) => {
                tracing::warn!(error = %e, "could not check heartbeats; trying again next tick")
            }
        }
    })
    .await;
    Ok(())
}
