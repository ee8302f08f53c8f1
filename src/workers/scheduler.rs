//! The probe scheduler: checks every active monitor every `check_frequency` seconds and feeds
//! each result to [`Service::record_probe_result`].
//!
//! - One task per monitor, in a `JoinSet` this task owns: a monitor's checks run one after the
//!   other and never overlap; a check that outlasts the interval skips the ticks it missed.
//! - A monitor's first check comes at a random point of its first interval, so monitors loaded
//!   together (at start-up, or created in bulk) spread over the interval instead of firing at
//!   once.
//! - At most `concurrency` checks run at a time across all monitors (a semaphore); a check
//!   waiting for a slot is late, not lost.
//! - Each check is bounded by its target's timeout plus a margin (the prober already bounds
//!   it; the margin is the backstop), and the result is recorded with the time it ended.
//! - Paused monitors get no task. A monitor inside its maintenance window skips its checks.
//! - The monitor list is re-read whenever the service announces a monitor change
//!   ([`Service::subscribe_monitor_changes`]) and every `reload_every` in any case (changes
//!   made through another replica, a missed read). A monitor whose configuration changed gets
//!   a new task; one deleted or paused loses its task at once, abandoning a check in flight.
//! - Leases ([`Service::claim_monitor_leases`]): a monitor gets a task only while this
//!   replica holds its lease, so replicas sharing a database each check their share and a
//!   monitor is checked by one of them at a time. A lease round runs at start, right after
//!   every re-read of the monitor list (a new or changed monitor is claimed at once, not at
//!   the next round) and every third of the lease; a monitor whose lease is lost loses its
//!   task. A failed round keeps the current tasks (the database may be down: probes keep
//!   running) until a round succeeds. On shutdown the leases are released, so other replicas
//!   take the monitors over at their next round instead of when the leases lapse.
//! - Errors are logged and never stop the scheduler. On cancellation every task stops at its
//!   next await point: in-flight checks are dropped, not waited for.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use crate::domain::Timestamp;
use crate::domain::monitor::{Monitor, MonitorSpec};
use crate::domain::probe::{Cause, ProbeResult, ProbeTarget};
use crate::probes::Prober;
use crate::service::{Service, ServiceError};

/// How the scheduler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchedulerConfig {
    /// Checks in flight at once, across all monitors (at least 1).
    pub concurrency: usize,
    /// Re-read the monitor list at least this often, announcements or not.
    pub reload_every: Duration,
    /// Added to a target's own timeout to bound a whole check.
    pub check_margin: Duration,
    /// How long a monitor's lease runs; it is renewed every third of that.
    pub lease: Duration,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        Self {
            concurrency: 256,
            reload_every: Duration::from_secs(30),
            check_margin: Duration::from_secs(2),
            lease: Duration::from_secs(30),
        }
    }
}

/// What the per-monitor tasks share.
struct Shared {
    service: Arc<Service>,
    prober: Arc<Prober>,
    slots: Semaphore,
    check_margin: Duration,
}

/// A scheduled monitor: the configuration its task was started with, and how to stop it.
struct Scheduled {
    spec: MonitorSpec,
    /// `None` when the monitor cannot be checked (its target is invalid): no task, and the
    /// warning is not repeated on every reload.
    stop: Option<CancellationToken>,
}

pub async fn run_scheduler(
    service: Arc<Service>,
    prober: Arc<Prober>,
    config: SchedulerConfig,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let mut changes = service.subscribe_monitor_changes();
    let shared = Arc::new(Shared {
        service,
        prober,
        slots: Semaphore::new(config.concurrency.max(1)),
        check_margin: config.check_margin,
    });
    let mut tasks = JoinSet::new();
    let mut scheduled = HashMap::new();
    let every = config.reload_every.max(Duration::from_secs(1));
    let mut fallback = tokio::time::interval_at(Instant::now() + every, every);
    fallback.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut announcements = true;
    // Identifies this process's leases; a restarted process is another holder.
    let leases = Leases {
        holder: format!("probe-{}", ulid::Ulid::new().to_string().to_lowercase()),
        lease: config.lease.max(Duration::from_secs(1)),
    };
    let renew_every = leases.lease / 3;
    let mut renewals = tokio::time::interval_at(Instant::now() + renew_every, renew_every);
    renewals.set_missed_tick_behavior(MissedTickBehavior::Delay);
    if let Err(e) = shared.service.reset_stale_monitor_leases().await {
        tracing::warn!(error = %e, "could not clear the monitor leases a previous process left");
    }
    // The active monitors as last read, and those of them whose lease this replica holds.
    let mut active = HashMap::new();
    let mut held = HashSet::new();

    let mut read = true;
    'rounds: loop {
        if read && let Some(monitors) = read_active(&shared).await {
            active = monitors;
        }
        claim(&shared, &leases, &active, &mut held).await;
        sync(&shared, &active, &held, &mut scheduled, &mut tasks, &cancel);
        // Re-read the monitors (true) or only renew the leases (false).
        read = loop {
            tokio::select! {
                biased;
                () = cancel.cancelled() => break 'rounds,
                changed = changes.changed(), if announcements => {
                    if changed.is_ok() {
                        break true;
                    }
                    // The service is gone; only the periodic reload is left.
                    announcements = false;
                }
                _ = fallback.tick() => break true,
                _ = renewals.tick() => break false,
                Some(joined) = tasks.join_next() => {
                    if let Err(e) = joined
                        && e.is_panic()
                    {
                        tracing::error!(error = %e, "a monitor's check task panicked; it restarts at the next lease round");
                    }
                }
            }
        };
    }

    // Every task's token is a child of `cancel`: they are all stopping. Wait for them, then
    // hand the monitors over.
    while tasks.join_next().await.is_some() {}
    if let Err(e) = shared.service.release_monitor_leases(&leases.holder).await {
        tracing::warn!(error = %e, "could not release the monitor leases; other replicas take them over when they lapse");
    }
    Ok(())
}

/// This replica's name as a lease holder, and how long its leases run.
struct Leases {
    holder: String,
    lease: Duration,
}

/// The stored monitors that are not paused, or `None` (logged) when they cannot be read.
async fn read_active(shared: &Arc<Shared>) -> Option<HashMap<i64, Monitor>> {
    match shared.service.all_monitors().await {
        Ok(monitors) => Some(
            monitors
                .into_iter()
                .filter(|m| !m.spec.paused)
                .map(|m| (m.id, m))
                .collect(),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "could not read the monitors to check; keeping the current schedule");
            None
        }
    }
}

/// One lease round over `active`. A failed round keeps `held` as it was (minus monitors no
/// longer active) until one succeeds.
async fn claim(
    shared: &Arc<Shared>,
    leases: &Leases,
    active: &HashMap<i64, Monitor>,
    held: &mut HashSet<i64>,
) {
    let wanted: Vec<i64> = active.keys().copied().collect();
    match shared
        .service
        .claim_monitor_leases(&leases.holder, &wanted, leases.lease)
        .await
    {
        Ok(ids) => *held = ids.into_iter().collect(),
        Err(e) => {
            tracing::warn!(error = %e, "could not renew the monitor leases; checking the monitors held until a round succeeds");
            held.retain(|id| active.contains_key(id));
        }
    }
}

/// Brings the task set in line with the active monitors this replica holds.
fn sync(
    shared: &Arc<Shared>,
    active: &HashMap<i64, Monitor>,
    held: &HashSet<i64>,
    scheduled: &mut HashMap<i64, Scheduled>,
    tasks: &mut JoinSet<()>,
    cancel: &CancellationToken,
) {
    let mine = |id: &i64| held.contains(id).then(|| active.get(id)).flatten();
    scheduled.retain(|id, entry| {
        let keep = mine(id).is_some_and(|m| m.spec == entry.spec);
        if !keep && let Some(stop) = &entry.stop {
            stop.cancel();
        }
        keep
    });
    // A task that ended by itself (it panicked) is started again.
    scheduled.retain(|_, entry| entry.stop.as_ref().is_none_or(|s| !s.is_cancelled()));

    for id in held {
        let Some(monitor) = active.get(id) else {
            continue;
        };
        let id = *id;
        let Entry::Vacant(slot) = scheduled.entry(id) else {
            continue;
        };
        let stop = match monitor.probe_target() {
            Ok(target) => {
                let stop = cancel.child_token();
                let every = Duration::from_secs(
                    u64::try_from(monitor.spec.check_frequency)
                        .unwrap_or(1)
                        .max(1),
                );
                let task = MonitorTask {
                    id,
                    target,
                    spec: monitor.spec.clone(),
                    every,
                    first: Instant::now() + jitter(every),
                };
                tasks.spawn(task.run(shared.clone(), stop.clone()));
                Some(stop)
            }
            Err(e) => {
                tracing::warn!(monitor.id = id, field = ?e.path, error = %e, "this monitor cannot be checked; fix its configuration");
                None
            }
        };
        slot.insert(Scheduled {
            spec: monitor.spec.clone(),
            stop,
        });
    }
}

/// A random delay within the first interval.
fn jitter(every: Duration) -> Duration {
    let millis = u64::try_from(every.as_millis()).unwrap_or(u64::MAX).max(1);
    Duration::from_millis(rand::random_range(0..millis))
}

/// One monitor's checks, one after the other.
struct MonitorTask {
    id: i64,
    target: ProbeTarget,
    spec: MonitorSpec,
    every: Duration,
    first: Instant,
}

impl MonitorTask {
    async fn run(self, shared: Arc<Shared>, stop: CancellationToken) {
        // Marks the task as gone for the next reload if it ends for any other reason.
        let _stopped = stop.clone().drop_guard();
        let mut ticks = tokio::time::interval_at(self.first, self.every);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                biased;
                () = stop.cancelled() => return,
                _ = ticks.tick() => {}
            }
            // A window validation would refuse (stored before it) does not skip checks.
            if self.spec.in_maintenance(Timestamp::now()) == Ok(true) {
                continue;
            }
            let checked = async {
                let _slot = shared.slots.acquire().await;
                let limit = self.target.timeout() + shared.check_margin;
                let started = std::time::Instant::now();
                match tokio::time::timeout(limit, shared.prober.check(&self.target)).await {
                    Ok(result) => result,
                    Err(_) => ProbeResult::down(
                        Cause::Timeout,
                        started.elapsed(),
                        format!("the check did not finish within {} ms", limit.as_millis()),
                    ),
                }
            };
            let result = tokio::select! {
                biased;
                () = stop.cancelled() => return,
                result = checked => result,
            };
            let recorded = tokio::select! {
                biased;
                () = stop.cancelled() => return,
                recorded = shared.service.record_probe_result(self.id, &result, Timestamp::now()) => recorded,
            };
            match recorded {
                Ok(Some(change)) => tracing::info!(
                    monitor.id = self.id,
                    from = %change.from,
                    to = %change.to,
                    cause = change.cause.as_ref().map(Cause::code),
                    "monitor status changed"
                ),
                Ok(None) => {}
                // Deleted while being checked: the next reload stops this task.
                Err(ServiceError::NotFound(_)) => {
                    tracing::debug!(monitor.id = self.id, "checked a monitor that is gone");
                }
                Err(e) => {
                    tracing::warn!(monitor.id = self.id, error = %e, "could not record a check result");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_the_first_interval() {
        for secs in [1, 30, 86_400] {
            let every = Duration::from_secs(secs);
            for _ in 0..100 {
                assert!(jitter(every) < every);
            }
        }
    }
}
