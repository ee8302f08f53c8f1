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
    super::every(every, &cancel, || async {
        if let Err(e) = service.refresh_tokens().await {
            tracing::warn!(error = %e, "could not reload API tokens; keeping the previous list");
        }
    })
    .await;
    Ok(())
}
