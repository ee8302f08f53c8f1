//! Long-running background tasks. Each runs under the [`Supervisor`], which cancels them on
//! shutdown and waits for them to finish.

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub mod metrics;
pub mod snapshot;
pub mod tokens;

#[derive(Default)]
pub struct Supervisor {
    tracker: TaskTracker,
    cancel: CancellationToken,
}

impl Supervisor {
    /// Starts a named task; `f` gets a token that is cancelled when the server shuts down.
    pub fn spawn<F, Fut>(&self, name: &'static str, f: F)
    where
        F: FnOnce(CancellationToken) -> Fut,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let fut = f(self.cancel.child_token());
        self.tracker.spawn(async move {
            match fut.await {
                Ok(()) => tracing::debug!(task = name, "task stopped"),
                Err(e) => tracing::error!(task = name, error = ?e, "task failed"),
            }
        });
    }

    /// Cancels every task and waits up to `deadline` for them to finish.
    pub async fn shutdown(&self, deadline: Duration) {
        self.cancel.cancel();
        self.tracker.close();
        if tokio::time::timeout(deadline, self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("background tasks did not stop in time");
        }
    }
}
