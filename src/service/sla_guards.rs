//! SLA guards, evaluated continuously by `workers::sla_guards` (no cron job): over a sliding
//! window ending now, a monitor's availability (from its incidents), mean response time (from
//! the per-minute roll-ups of its check results) and number of incidents are compared with the
//! guard's thresholds. A breach fires the guard; a window back within every threshold recovers
//! it. While a breach lasts, each evaluation fires the guard again, which only reaches flags
//! its open trip does not hold yet (for a `recently_enabled_hours` target: flags switched on
//! since), so a person who switches a flag back on during the breach is not overruled.

use crate::domain::Timestamp;
use crate::domain::guard::{Guard, Signal, SlaThresholds};
use crate::service::guards::GuardCause;
use crate::service::incidents::monitor_ref;
use crate::service::{Result, Service};

const MINUTE_MS: i64 = 60_000;

/// What a monitor did over an SLA window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlaMeasure {
    /// Percent of the window not covered by incidents.
    pub availability: f64,
    /// Mean response time of the checks in the window; `None` without checks.
    pub mean_response_ms: Option<f64>,
    /// Incidents overlapping the window.
    pub incidents: i64,
}

impl SlaMeasure {
    /// The thresholds crossed, in words; empty when the SLA is met.
    pub fn breaches(&self, sla: &SlaThresholds) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(min) = sla.availability_min
            && self.availability < min
        {
            out.push(format!("availability {:.2}% < {min}%", self.availability));
        }
        if let (Some(max), Some(mean)) = (sla.response_time_max_ms, self.mean_response_ms)
            && mean > max as f64
        {
            out.push(format!("mean response time {mean:.0} ms > {max} ms"));
        }
        if let Some(max) = sla.incidents_max
            && self.incidents > max
        {
            out.push(format!("{} incidents > {max}", self.incidents));
        }
        out
    }
}

/// What one evaluation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SlaRound {
    pub evaluated: usize,
    pub tripped: usize,
    pub recovered: usize,
}

impl Service {
    /// The monitor's figures over the `window_minutes` before `now`.
    pub async fn measure_sla(&self, sla: &SlaThresholds, now: Timestamp) -> Result<SlaMeasure> {
        let from = Timestamp(now.millis() - sla.window_minutes * MINUTE_MS);
        let report = self
            .monitor_sla(sla.monitor_id, Some(from), None, now)
            .await?;
        let minutes = self
            .store
            .read()
            .await?
            .probe_rollup_minutes(sla.monitor_id, from)
            .await?;
        let (checks, sum) = minutes.iter().fold((0i64, 0i64), |(c, s), (_, r)| {
            (c + r.checks, s + r.response_ms_sum)
        });
        Ok(SlaMeasure {
            availability: report.availability,
            mean_response_ms: (checks > 0).then(|| sum as f64 / checks as f64),
            incidents: report.number_of_incidents,
        })
    }

    /// Evaluates every SLA guard at `now`, firing or recovering those whose state changed.
    /// One guard failing to evaluate (its monitor just deleted, say) does not stop the rest.
    pub async fn evaluate_sla_guards(&self, now: Timestamp) -> Result<SlaRound> {
        let guards = self.store.read().await?.sla_guards().await?;
        let mut round = SlaRound::default();
        for guard in &guards {
            match self.evaluate_sla_guard(guard, now).await {
                Ok(Some(true)) => round.tripped += 1,
                Ok(Some(false)) => round.recovered += 1,
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(guard = %guard.spec.name, error = %e, "could not evaluate an SLA guard");
                    continue;
                }
            }
            round.evaluated += 1;
        }
        Ok(round)
    }

    /// `Some(true)` if the guard fired a new trip, `Some(false)` if it recovered.
    async fn evaluate_sla_guard(&self, guard: &Guard, now: Timestamp) -> Result<Option<bool>> {
        let Signal::Sla(sla) = &guard.spec.signal else {
            return Ok(None);
        };
        let measure = self.measure_sla(sla, now).await?;
        let breaches = measure.breaches(sla);
        let tripped = self
            .store
            .read()
            .await?
            .open_trip(guard.id)
            .await?
            .is_some();
        if breaches.is_empty() && !tripped {
            return Ok(None);
        }

        let mut tx = self.store.write().await?;
        let monitor = monitor_ref(&mut tx, sla.monitor_id).await?;
        let cause = GuardCause {
            reason: if breaches.is_empty() {
                format!(
                    "SLA met again on {} over {} min",
                    monitor.name, sla.window_minutes
                )
            } else {
                format!(
                    "SLA breached on {} over {} min: {}",
                    monitor.name,
                    sla.window_minutes,
                    breaches.join(", ")
                )
            },
            incident_id: None,
            external_incident: None,
            monitor: Some(monitor),
            at: now,
        };
        let guards = std::slice::from_ref(guard);
        let result = if breaches.is_empty() {
            let done = self.recover_guards(&mut tx, guards, &cause).await?;
            (!done.is_empty()).then_some(false)
        } else {
            let done = self.trip_guards(&mut tx, guards, &cause).await?;
            done.iter().any(|o| o.new_trip).then_some(true)
        };
        self.commit(tx).await?;
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sla() -> SlaThresholds {
        SlaThresholds {
            monitor_id: 1,
            window_minutes: 60,
            availability_min: Some(99.5),
            response_time_max_ms: Some(2000),
            incidents_max: Some(2),
        }
    }

    #[test]
    fn a_met_sla_has_no_breaches() {
        let m = SlaMeasure {
            availability: 99.9,
            mean_response_ms: Some(150.0),
            incidents: 2,
        };
        assert!(m.breaches(&sla()).is_empty());
        // No checks in the window: response time says nothing.
        let quiet = SlaMeasure {
            mean_response_ms: None,
            ..m
        };
        assert!(quiet.breaches(&sla()).is_empty());
    }

    #[test]
    fn every_crossed_threshold_is_named() {
        let m = SlaMeasure {
            availability: 97.25,
            mean_response_ms: Some(2500.4),
            incidents: 3,
        };
        assert_eq!(
            m.breaches(&sla()),
            vec![
                "availability 97.25% < 99.5%".to_string(),
                "mean response time 2500 ms > 2000 ms".to_string(),
                "3 incidents > 2".to_string(),
            ]
        );
    }

    #[test]
    fn thresholds_left_out_are_not_checked() {
        let only_incidents = SlaThresholds {
            availability_min: None,
            response_time_max_ms: None,
            ..sla()
        };
        let m = SlaMeasure {
            availability: 10.0,
            mean_response_ms: Some(99_999.0),
            incidents: 1,
        };
        assert!(m.breaches(&only_incidents).is_empty());
    }
}
