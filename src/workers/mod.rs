//! Long-running background tasks. Each runs under the [`Supervisor`], which cancels them on
//! shutdown and waits for them to finish.

use std::future::Future;
use std::time::Duration;

use tokio::time::{Instant, MissedTickBehavior};

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub mod heartbeats;
pub mod metrics;
pub mod notifications;
pub mod results;
pub mod scheduler;
pub mod sla_guards;
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

/// Runs `tick` every `every` (first after one period) until `cancel` fires. A slow tick delays
/// the next one rather than causing a burst.
pub async fn every<F, Fut>(every: Duration, cancel: &CancellationToken, mut tick: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut interval = tokio::time::interval_at(Instant::now() + every, every);
    interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = interval.tick() => tick().await,
        }
    }
}
