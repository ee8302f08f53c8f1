//! Check results as history: every result the status machine sees is also pushed into an
//! in-memory buffer ([`ResultBuffer`], bounded) that `workers::results` writes every second in
//! one `ObservationWriter` transaction (raw rows plus per-minute and per-hour roll-ups), with
//! no event. Raw results and minute roll-ups older than the retention window are deleted by
//! the same worker; hour roll-ups are kept. The SLA and response-time reports read from here.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use crate::domain::Timestamp;
use crate::domain::probe::{ProbeRecord, ProbeResult, Rollup};
use crate::service::monitors::monitor_not_found;
use crate::service::{Result, Service, ServiceError};
use crate::store::{RollupTable, StoreError};

/// Results held in memory at most; beyond this, new results are dropped (and logged) until a
/// flush makes room. At 10,000 monitors checked every 10 s this is a minute of results.
pub const MAX_BUFFERED_RESULTS: usize = 100_000;

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// Results waiting to be written.
#[derive(Default)]
pub(super) struct ResultBuffer {
    pending: Mutex<Vec<ProbeRecord>>,
    /// Results dropped since the last warning.
    dropped: Mutex<u64>,
}

impl ResultBuffer {
    fn push(&self, record: ProbeRecord) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if pending.len() >= MAX_BUFFERED_RESULTS {
            drop(pending);
            let mut dropped = self.dropped.lock().unwrap_or_else(|e| e.into_inner());
            if *dropped == 0 {
                tracing::warn!(
                    cap = MAX_BUFFERED_RESULTS,
                    "check results are not being written fast enough; dropping new ones"
                );
            }
            *dropped += 1;
            return;
        }
        pending.push(record);
    }

    fn take(&self) -> Vec<ProbeRecord> {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Puts back a batch that could not be written, ahead of newer results, within the cap.
    fn put_back(&self, mut batch: Vec<ProbeRecord>) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let room = MAX_BUFFERED_RESULTS.saturating_sub(pending.len());
        if batch.len() > room {
            tracing::warn!(
                dropped = batch.len() - room,
                "check results could not be kept for another attempt; dropping the oldest"
            );
            batch.drain(..batch.len() - room);
        }
        batch.append(&mut pending);
        *pending = batch;
    }

    fn report_dropped(&self) {
        let mut dropped = self.dropped.lock().unwrap_or_else(|e| e.into_inner());
        if *dropped > 0 {
            tracing::warn!(
                dropped = *dropped,
                "check results were dropped because the buffer was full"
            );
            *dropped = 0;
        }
    }
}

/// Better Stack's availability summary over a window; durations in seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Sla {
    /// Percentage of the window not covered by incidents.
    pub availability: f64,
    pub total_downtime: i64,
    pub number_of_incidents: i64,
    pub longest_incident: i64,
    pub average_incident: i64,
}

impl Sla {
    /// The summary over `[start, end)` of the incidents `spans` (`(started_at, resolved_at)`,
    /// `resolved_at` `None` while open): downtime is the sum of the incidents' durations
    /// clipped to the window, an open incident counting until `now`. Spans that do not
    /// overlap the window are left out, so one read of a long range serves many windows
    /// (`service::status_pages` cuts it into days).
    pub(crate) fn over(
        spans: &[(Timestamp, Option<Timestamp>)],
        start: Timestamp,
        end: Timestamp,
        now: Timestamp,
    ) -> Self {
        let durations: Vec<i64> = spans
            .iter()
            .filter(|(started, resolved)| *started < end && resolved.is_none_or(|r| r > start))
            .map(|(started, resolved)| {
                let stop = resolved.unwrap_or(now).min(end);
                (stop.millis() - (*started).max(start).millis()).max(0)
            })
            .collect();
        let window = (end.millis() - start.millis()).max(0);
        let down: i64 = durations.iter().sum();
        let availability = if window == 0 {
            100.0
        } else {
            // Four decimals: 99.9999 must not read as 100.
            let pct = 100.0 * (window - down.min(window)) as f64 / window as f64;
            (pct * 10_000.0).round() / 10_000.0
        };
        let count = durations.len() as i64;
        let secs = |ms: i64| ms / 1000;
        Self {
            availability,
            total_downtime: secs(down),
            number_of_incidents: count,
            longest_incident: secs(durations.iter().copied().max().unwrap_or(0)),
            average_incident: if count == 0 { 0 } else { secs(down / count) },
        }
    }
}

/// The average response time of the checks in one minute.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseTime {
    pub at: Timestamp,
    /// Seconds.
    pub response_time: f64,
}

impl Service {
    /// Queues a result for the next batch (see [`Service::flush_probe_results`]).
    pub(super) fn buffer_probe_result(&self, monitor_id: i64, result: &ProbeResult, at: Timestamp) {
        self.probe_results.push(ProbeRecord {
            monitor_id,
            checked_at: at,
            up: result.up,
            response_ms: i64::try_from(result.response_time.as_millis()).ok(),
            cause_code: result.cause.as_ref().map(|c| c.code()),
            status_code: result.status_code.map(i64::from),
        });
    }

    /// Writes the buffered results in one transaction: raw rows and roll-up upserts. Results
    /// of monitors deleted meanwhile are skipped. On failure the batch is kept for the next
    /// attempt. Returns how many results were written.
    pub async fn flush_probe_results(&self) -> Result<usize> {
        self.probe_results.report_dropped();
        let batch = self.probe_results.take();
        if batch.is_empty() {
            return Ok(0);
        }
        match self.write_probe_results(&batch).await {
            Ok(n) => Ok(n),
            Err(e) => {
                self.probe_results.put_back(batch);
                Err(e.into())
            }
        }
    }

    async fn write_probe_results(
        &self,
        batch: &[ProbeRecord],
    ) -> std::result::Result<usize, StoreError> {
        let mut minutes: BTreeMap<(i64, i64), Rollup> = BTreeMap::new();
        let mut hours: BTreeMap<(i64, i64), Rollup> = BTreeMap::new();
        let ids: Vec<i64> = batch
            .iter()
            .map(|r| r.monitor_id)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut tx = self.store.record_observations().await?;
        let existing: BTreeSet<i64> = tx.existing_monitors(&ids).await?.into_iter().collect();
        let mut written = 0;
        for r in batch.iter().filter(|r| existing.contains(&r.monitor_id)) {
            tx.insert_probe_result(r).await?;
            let t = r.checked_at.millis();
            minutes
                .entry((r.monitor_id, t - t.rem_euclid(MINUTE_MS)))
                .or_default()
                .add(r);
            hours
                .entry((r.monitor_id, t - t.rem_euclid(HOUR_MS)))
                .or_default()
                .add(r);
            written += 1;
        }
        // In key order, so concurrent flushes (replicas) lock rows in the same order.
        for ((id, bucket), rollup) in &minutes {
            tx.add_probe_rollup(RollupTable::Minute, *id, *bucket, rollup)
                .await?;
        }
        for ((id, bucket), rollup) in &hours {
            tx.add_probe_rollup(RollupTable::Hour, *id, *bucket, rollup)
                .await?;
        }
        tx.commit().await?;
        Ok(written)
    }

    /// Deletes raw results and minute roll-ups older than `retention_days` before `now`.
    /// Returns how many rows were deleted.
    pub async fn prune_probe_results(&self, now: Timestamp, retention_days: u32) -> Result<u64> {
        let before = Timestamp(now.millis() - i64::from(retention_days) * DAY_MS);
        let mut tx = self.store.record_observations().await?;
        let n = tx.prune_probe_results(before).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Availability of monitor `id` over `[from, to)` (both default: the monitor's creation
    /// and `now`; `to` is cut at `now`), from its incidents: downtime is the sum of incident
    /// durations clipped to the window, an open incident counting until `now`.
    pub async fn monitor_sla(
        &self,
        id: i64,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<Sla> {
        let mut read = self.store.read().await?;
        let monitor = read
            .monitor(id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(monitor_not_found(id)))?;
        let start = from.unwrap_or(monitor.created_at);
        let end = to.map_or(now, |t| t.min(now));
        let spans = if end > start {
            read.incident_spans(id, start, end).await?
        } else {
            Vec::new()
        };
        Ok(Sla::over(&spans, start, end, now))
    }

    /// Average response time per minute of monitor `id` over the 24 hours before `now`, from
    /// the minute roll-ups, oldest first.
    pub async fn response_times(&self, id: i64, now: Timestamp) -> Result<Vec<ResponseTime>> {
        let mut read = self.store.read().await?;
        if read.monitor(id).await?.is_none() {
            return Err(ServiceError::NotFound(monitor_not_found(id)));
        }
        let since = Timestamp(now.millis() - DAY_MS);
        let rows = read.probe_rollup_minutes(id, since).await?;
        Ok(rows
            .into_iter()
            .filter(|(_, r)| r.checks > 0)
            .map(|(at, r)| ResponseTime {
                at,
                response_time: r.response_ms_sum as f64 / r.checks as f64 / 1000.0,
            })
            .collect())
    }
}
