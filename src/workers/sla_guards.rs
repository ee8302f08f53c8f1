//! Evaluates SLA guards continuously (see `service::sla_guards`): every tick, each SLA guard's
//! window is measured and the guard fires or recovers when its state changed.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::domain::Timestamp;
use crate::service::Service;

pub async fn run_sla_guards(
    service: Arc<Service>,
    every: Duration,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    super::every(every, &cancel, || async {
        match service.evaluate_sla_guards(Timestamp::now()).await {
            Ok(round) if round.tripped + round.recovered > 0 => tracing::info!(
                tripped = round.tripped,
                recovered = round.recovered,
                "SLA guards changed state"
            ),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "could not evaluate SLA guards; trying again next tick")
            }
        }
    })
    .await;
    Ok(())
}
