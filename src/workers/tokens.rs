//! Reloads the token list periodically, so a token created or revoked through another
//! replica takes effect here too.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::service::Service;

pub async fn run_token_refresh(
    service: Arc<Service>,
    every: Duration,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            _ = tick.tick() => {
                if let Err(e) = service.refresh_tokens().await {
                    tracing::warn!(error = %e, "could not reload API tokens; keeping the previous list");
                }
            }
        }
    }
}
