//! Check results → monitor status → incidents. Each result goes through the status machine
//! (`domain::incident::evaluate`); a status change is written with its incident and its
//! events in one `Writer` transaction and then announced to subscribers
//! ([`Service::subscribe_status`]); a result that changes no status is bookkeeping (streaks,
//! last check time) and goes through the store's `ObservationWriter`, with no event. Every
//! result is also queued for the batched history writes (`service::probe_results`).

use serde_json::json;
use tokio::sync::broadcast;

use crate::domain::Timestamp;
use crate::domain::event::{Actor, NewEvent, kind};
use crate::domain::incident::{
    Incident, IncidentFilter, MonitorState, NewIncident, Observation, Policy, Status, Transition,
    evaluate,
};
use crate::domain::notification::{IncidentRef, MonitorRef, Notice, NoticeKind};
use crate::domain::probe::{Cause, ProbeResult};
use crate::service::guards::GuardCause;
use crate::service::monitors::{MAX_PER_PAGE, monitor_not_found};
use crate::service::{Result, Service, ServiceError};
use crate::store::{Reader, Writer};

/// How many status changes a slow subscriber may fall behind before it misses some
/// (it then gets `RecvError::Lagged`).
pub const STATUS_CHANNEL_CAPACITY: usize = 1024;

/// A committed status change, as subscribers (the kill switch) see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub monitor_id: i64,
    pub from: Status,
    pub to: Status,
    /// The failure behind a change to `down`.
    pub cause: Option<Cause>,
    /// When the check that caused it ran.
    pub at: Timestamp,
    /// The incident opened, continued or resolved by this change.
    pub incident_id: Option<i64>,
}

/// One page of an incident listing.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentPage {
    pub incidents: Vec<Incident>,
    /// How many incidents match the filter in all.
    pub total: i64,
}

/// The sender half, created with the service.
pub(super) fn status_channel() -> broadcast::Sender<StatusChange> {
    broadcast::channel(STATUS_CHANNEL_CAPACITY).0
}

/// Better Stack's `response_content` is only kept when short.
const MAX_DETAIL_CHARS: usize = 500;

impl Service {
    /// Every status change committed from now on, in commit order per monitor.
    pub fn subscribe_status(&self) -> broadcast::Receiver<StatusChange> {
        self.status_changes.subscribe()
    }

    /// Feeds one check result, taken at `at`, through the monitor's status machine. Returns the
    /// status change it caused, if any. A paused monitor or one in maintenance ignores results;
    /// an unknown monitor is a 404 (it may have been deleted while being checked).
    pub async fn record_probe_result(
        &self,
        monitor_id: i64,
        result: &ProbeResult,
        at: Timestamp,
    ) -> Result<Option<StatusChange>> {
        let obs = Observation::from_probe(result, at);
        let response_ms = i64::try_from(result.response_time.as_millis()).ok();

        // Most results change nothing: decide on a read, write the bookkeeping without an event.
        let (state, policy) = self.monitor_state(monitor_id).await?;
        // History (raw results, roll-ups) is written in batches by workers::results.
        if !matches!(state.status, Status::Paused | Status::Maintenance) {
            self.buffer_probe_result(monitor_id, result, at);
            self.server_metrics
                .observe_check(monitor_id, result.response_time);
        }
        let (next, transition) = evaluate(&state, &policy, &obs);
        if transition.is_none() {
            self.record_check(monitor_id, &state, &next, at, response_ms)
                .await?;
            return Ok(None);
        }

        // A status change: decide again inside the transaction that writes it, in case another
        // result for this monitor was committed in between.
        let mut tx = self.store.write().await?;
        let (state, policy) = tx
            .monitor_state(monitor_id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(monitor_not_found(monitor_id)))?;
        let (mut next, transition) = evaluate(&state, &policy, &obs);
        let Some(transition) = transition else {
            drop(tx);
            self.record_check(monitor_id, &state, &next, at, response_ms)
                .await?;
            return Ok(None);
        };

        let actor = Actor {
            name: format!("probe:{monitor_id}"),
            user_id: None,
        };
        let cause = match &transition {
            Transition::Down { cause } => cause.clone(),
            _ => None,
        };
        let mut incident_event = None;
        match &transition {
            Transition::Down { cause } if next.open_incident.is_none() => {
                let detail: String = result.detail.chars().take(MAX_DETAIL_CHARS).collect();
                let incident = NewIncident {
                    monitor_id,
                    started_at: at,
                    cause_code: cause.as_ref().map(|c| c.code().to_string()),
                    cause: cause
                        .as_ref()
                        .map_or_else(|| "check failed".to_string(), ToString::to_string),
                    response_status: result.status_code.map(i64::from),
                    response_detail: detail,
                };
                let id = tx.open_incident(&incident).await?;
                next.open_incident = Some(id);
                let opened = IncidentRef {
                    id: id.to_string(),
                    started_at: at,
                    resolved_at: None,
                    cause: incident.cause.clone(),
                };
                self.apply_kill_switch(&mut tx, monitor_id, id, opened, at)
                    .await?;
                incident_event = Some(NewEvent::new(kind::INCIDENT_OPENED, &actor).data(json!({
                    "id": id,
                    "monitor_id": monitor_id,
                    "started_at": at,
                    "cause": incident.cause,
                    "cause_code": incident.cause_code,
                    "response_status": incident.response_status,
                })));
            }
            Transition::Recovered => {
                if let Some(id) = state.open_incident {
                    tx.resolve_incident(id, at).await?;
                    if let Some(started) = tx.incident(id).await? {
                        let resolved = IncidentRef {
                            id: id.to_string(),
                            started_at: started.started_at,
                            resolved_at: Some(at),
                            cause: started.cause,
                        };
                        self.apply_kill_switch(&mut tx, monitor_id, id, resolved, at)
                            .await?;
                    }
                    incident_event =
                        Some(NewEvent::new(kind::INCIDENT_RESOLVED, &actor).data(json!({
                            "id": id,
                            "monitor_id": monitor_id,
                            "resolved_at": at,
                        })));
                }
            }
            _ => {}
        }
        let incident_id = next.open_incident.or(state.open_incident);
        tx.set_monitor_state(monitor_id, &next, at, response_ms)
            .await?;
        tx.append_event(
            &NewEvent::new(kind::MONITOR_STATUS_CHANGED, &actor).data(json!({
                "monitor_id": monitor_id,
                "from": state.status.as_str(),
                "to": next.status.as_str(),
                "cause": cause.as_ref().map(ToString::to_string),
                "cause_code": cause.as_ref().map(Cause::code),
                "at": at,
                "incident_id": incident_id,
            })),
        )
        .await?;
        if let Some(event) = incident_event {
            tx.append_event(&event).await?;
        }
        self.commit(tx).await?;

        let change = StatusChange {
            monitor_id,
            from: state.status,
            to: next.status,
            cause,
            at,
            incident_id,
        };
        // No receiver is not an error: nobody is listening yet.
        let _ = self.status_changes.send(change.clone());
        Ok(Some(change))
    }

    /// The kill switch, in the transaction that opens or resolves incident `id`: the
    /// monitor's guards fire (`incident.resolved_at` unset) or recover, and the monitor's
    /// channels get the incident notice, naming the flags the guards switched.
    async fn apply_kill_switch(
        &self,
        tx: &mut Writer,
        monitor_id: i64,
        id: i64,
        incident: IncidentRef,
        at: Timestamp,
    ) -> Result<()> {
        let monitor = monitor_ref(tx, monitor_id).await?;
        let opened = incident.resolved_at.is_none();
        let cause = GuardCause {
            reason: if opened {
                format!("{} is down: {}", monitor.name, incident.cause)
            } else {
                format!("{} is up again", monitor.name)
            },
            incident_id: Some(id),
            external_incident: None,
            monitor: Some(monitor.clone()),
            at,
        };
        let guards = tx.guards_watching_monitor(monitor_id).await?;
        let outcomes = if opened {
            self.trip_guards(tx, &guards, &cause).await?
        } else {
            self.recover_guards(tx, &guards, &cause).await?
        };
        let notice = Notice {
            kind: if opened {
                NoticeKind::IncidentOpened
            } else {
                NoticeKind::IncidentResolved
            },
            summary: cause.reason,
            incident: Some(incident),
            monitor: Some(monitor),
            guard: None,
            flags: outcomes.into_iter().flat_map(|o| o.changed).collect(),
            at,
            dedup_key: format!("flagwatch-incident-{id}"),
        };
        let channels = self.monitor_channels(tx, monitor_id).await?;
        self.queue_notice(tx, &channels, &notice).await
    }

    async fn monitor_state(&self, monitor_id: i64) -> Result<(MonitorState, Policy)> {
        self.store
            .read()
            .await?
            .monitor_state(monitor_id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(monitor_not_found(monitor_id)))
    }

    /// A result that moved no status: only the streaks and the last check are written.
    async fn record_check(
        &self,
        monitor_id: i64,
        before: &MonitorState,
        next: &MonitorState,
        at: Timestamp,
        response_ms: Option<i64>,
    ) -> Result<()> {
        if matches!(before.status, Status::Paused | Status::Maintenance) {
            return Ok(());
        }
        let mut tx = self.store.record_observations().await?;
        tx.record_monitor_check(
            monitor_id,
            next.failing_since,
            next.succeeding_since,
            at,
            response_ms,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Page `page` (from 1) of `per_page` incidents matching `filter`, newest first.
    pub async fn list_incidents(
        &self,
        filter: &IncidentFilter,
        page: i64,
        per_page: i64,
    ) -> Result<IncidentPage> {
        let per_page = per_page.clamp(1, MAX_PER_PAGE);
        let offset = page.max(1).saturating_sub(1).saturating_mul(per_page);
        let (incidents, total) = self
            .store
            .read()
            .await?
            .incidents(filter, per_page, offset)
            .await?;
        Ok(IncidentPage { incidents, total })
    }

    pub async fn get_incident(&self, id: i64) -> Result<Incident> {
        self.store
            .read()
            .await?
            .incident(id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(monitor_not_found(id)))
    }
}

/// The monitor (or heartbeat) as notices name it.
pub(super) async fn monitor_ref(r: &mut Reader, monitor_id: i64) -> Result<MonitorRef> {
    if let Some(m) = r.monitor(monitor_id).await? {
        let name = if m.spec.pronounceable_name.is_empty() {
            m.spec.url.clone()
        } else {
            m.spec.pronounceable_name.clone()
        };
        return Ok(MonitorRef {
            id: monitor_id,
            name,
            target: m.spec.url,
        });
    }
    match r.heartbeat(monitor_id).await? {
        Some(h) => Ok(MonitorRef {
            id: monitor_id,
            name: h.spec.name,
            target: "heartbeat".to_string(),
        }),
        None => Err(ServiceError::NotFound(monitor_not_found(monitor_id))),
    }
}
