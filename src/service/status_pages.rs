//! Public status pages: their configuration (Better Stack's v2 status-page API and its
//! resources), the daily uptime history they draw, and what the public page shows.
//!
//! A page shows only its resources (monitors and heartbeats, under their public names) and
//! their incidents, with a public cause made from the incident's cause code: never a monitor's
//! name, URL or check detail. Deleting a monitor removes it from every page it is on, in the
//! same transaction, with a `status-page-resource-deleted` event per page (`data.reason` is
//! `monitor deleted`): a page is presentation, so it does not hold a monitor back the way a
//! guard does.
//!
//! Daily uptime ([`Service::monitor_uptime`], and the bars on the page) cuts the last N days,
//! in a time zone, out of the monitor's incidents with the SLA report's own arithmetic
//! ([`Sla::over`]): each day's availability is over the part of the day the monitor existed
//! (and, for today, until now); a day before the monitor was created has no data (`None`).
//! An incident across midnight counts on both days, each with its own part.

use std::collections::HashMap;

use chrono::NaiveDate;
use chrono_tz::Tz;
use rand::Rng;
use rand::distr::Alphanumeric;
use serde_json::{Map, Value, json};

use crate::domain::Timestamp;
use crate::domain::event::{Actor, NewEvent, kind};
use crate::domain::heartbeat;
use crate::domain::status_page::{
    AggregateState, ResourceSpec, ResourceStatus, ResourceType, StatusPage, StatusPageResource,
    StatusPageSpec, hash_password, local_date, start_of_day,
};
use crate::domain::{Invalid, timezone};
use crate::service::monitors::{MAX_PER_PAGE, monitor_not_found};
use crate::service::probe_results::Sla;
use crate::service::{Result, Service, ServiceError};
use crate::store::{PublicIncident, Reader, Watched, Writer};

/// Days `GET /api/v2/monitors/{id}/uptime` gives by default, and at most.
pub const DEFAULT_UPTIME_DAYS: u32 = 90;
pub const MAX_UPTIME_DAYS: u32 = 365;

/// Bars drawn per resource at most, whatever the page's `history`.
pub const MAX_BARS: i64 = 90;

/// Incidents the public page lists at most.
const MAX_PUBLIC_INCIDENTS: i64 = 50;

/// One day of a monitor's uptime.
#[derive(Debug, Clone, PartialEq)]
pub struct DayUptime {
    /// The calendar day, in the time zone asked for.
    pub date: NaiveDate,
    /// Percentage of the day (of the part the monitor existed) not covered by incidents, to
    /// four decimals; `None` for a day before the monitor existed.
    pub availability: Option<f64>,
    pub downtime_seconds: i64,
    /// Incidents overlapping the day.
    pub incidents: i64,
}

/// One page of a status-page listing.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusPageList {
    pub pages: Vec<(StatusPage, AggregateState)>,
    pub total: i64,
}

/// A resource as the API shows it, with Better Stack's read-only `status` and
/// `availability` (a fraction, 0.0–1.0, over the page's history window).
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceView {
    pub resource: StatusPageResource,
    pub status: ResourceStatus,
    pub availability: f64,
}

/// What the public page of a status page shows.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicPage {
    pub page: StatusPage,
    pub aggregate: AggregateState,
    pub resources: Vec<PublicResource>,
    /// Newest first.
    pub incidents: Vec<PublicIncidentView>,
    /// Days the bars cover (`history`, at most [`MAX_BARS`]).
    pub bar_days: i64,
    pub generated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PublicResource {
    /// The resource's id (not the monitor's).
    pub id: i64,
    pub public_name: String,
    pub explanation: Option<String>,
    pub resource_type: ResourceType,
    pub status: ResourceStatus,
    /// Percentage over the page's `history` window; `None` if the monitor has no history yet.
    pub uptime: Option<f64>,
    /// Whether the page draws its bars (`widget_type` other than `plain`).
    pub shows_history: bool,
    /// The last `bar_days` days, oldest first.
    pub days: Vec<DayUptime>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PublicIncidentView {
    /// The resource's public name.
    pub resource: String,
    pub started_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
    /// Until resolved, or until now.
    pub duration_seconds: i64,
    /// Said for the public: from the cause code, never the check's detail.
    pub cause: String,
}

/// The uptime of each of the last `days` days in `zone`, oldest first, ending with today
/// (until `now`), from the incidents `spans` of a monitor created at `created_at`.
pub(crate) fn daily_uptime(
    spans: &[(Timestamp, Option<Timestamp>)],
    created_at: Timestamp,
    days: i64,
    zone: Tz,
    now: Timestamp,
) -> Vec<DayUptime> {
    let today = local_date(zone, now);
    (0..days)
        .rev()
        .filter_map(|back| today.checked_sub_days(chrono::Days::new(back as u64)))
        .map(|date| {
            let start = start_of_day(zone, date).max(created_at);
            let end = date
                .succ_opt()
                .map_or(now, |next| start_of_day(zone, next))
                .min(now);
            if start >= end {
                return DayUptime {
                    date,
                    availability: None,
                    downtime_seconds: 0,
                    incidents: 0,
                };
            }
            let sla = Sla::over(spans, start, end, now);
            DayUptime {
                date,
                availability: Some(sla.availability),
                downtime_seconds: sla.total_downtime,
                incidents: sla.number_of_incidents,
            }
        })
        .collect()
}

/// The first instant of the window covering the last `days` days in `zone`, today included.
fn window_start(zone: Tz, days: i64, now: Timestamp) -> Timestamp {
    let today = local_date(zone, now);
    let first = today
        .checked_sub_days(chrono::Days::new(days.saturating_sub(1).max(0) as u64))
        .unwrap_or(today);
    start_of_day(zone, first)
}

/// A page's uptime history for one monitor: the daily bars and the percentage over the
/// whole `history` window, from one read of its incidents.
async fn history_of(
    r: &mut Reader,
    monitor_id: i64,
    created_at: Timestamp,
    page: &StatusPage,
    bar_days: i64,
    now: Timestamp,
) -> Result<(Vec<DayUptime>, Option<f64>)> {
    let zone = page.spec.zone();
    let start = window_start(zone, page.spec.history.max(bar_days), now);
    let spans = r.incident_spans(monitor_id, start, now).await?;
    let days = daily_uptime(&spans, created_at, bar_days, zone, now);
    let from = start.max(created_at);
    let uptime = (from < now).then(|| Sla::over(&spans, from, now, now).availability);
    Ok((days, uptime))
}

/// Better Stack's public wording of a cause code (the detail may name hosts; this never does).
pub fn public_cause(code: Option<&str>, response_status: Option<i64>) -> String {
    match code {
        Some("status_code") => match response_status {
            Some(s) => format!("HTTP {s} error"),
            None => "HTTP error".into(),
        },
        Some("timeout") => "Timeout".into(),
        Some("connection_refused") => "Connection refused".into(),
        Some("dns_error") => "DNS resolution failed".into(),
        Some("keyword_missing" | "keyword_present" | "unexpected_answer") => {
            "Unexpected response".into()
        }
        Some("tls_error") => "TLS/SSL error".into(),
        Some("tls_expiring_soon") => "TLS certificate expiring".into(),
        Some("protocol_error") => "Protocol error".into(),
        Some("no_reply") => "No reply".into(),
        Some("heartbeat_missed") => "Missed heartbeat".into(),
        Some("heartbeat_failed") => "Job reported a failure".into(),
        _ => "Check failed".into(),
    }
}

fn page_not_found() -> ServiceError {
    ServiceError::NotFound(monitor_not_found(""))
}

async fn require_page(r: &mut Reader, id: i64) -> Result<StatusPage> {
    r.status_page(id).await?.ok_or_else(page_not_found)
}

async fn require_resource(r: &mut Reader, page_id: i64, id: i64) -> Result<StatusPageResource> {
    r.status_page_resource(page_id, id)
        .await?
        .ok_or_else(page_not_found)
}

fn field_error(key: &str, message: impl Into<String>) -> ServiceError {
    ServiceError::InvalidFields(vec![Invalid::at(key, message)])
}

fn new_salt() -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(16)
        .map(char::from)
        .collect()
}

/// A subdomain another page has is a field error, as Better Stack answers it.
async fn require_free_subdomain(
    r: &mut Reader,
    spec: &StatusPageSpec,
    id: Option<i64>,
) -> Result<()> {
    match r.status_page_by_subdomain(&spec.subdomain).await? {
        Some(other) if Some(other.id) != id => {
            Err(field_error("subdomain", "has already been taken"))
        }
        _ => Ok(()),
    }
}

/// The resource's monitor must exist, be of its `resource_type`, and not be on the page yet.
async fn require_target(
    r: &mut Reader,
    page_id: i64,
    spec: &ResourceSpec,
    id: Option<i64>,
) -> Result<()> {
    let what = match spec.resource_type {
        ResourceType::Monitor => "monitor",
        ResourceType::Heartbeat => "heartbeat",
    };
    let Some(watched) = r.watched(spec.resource_id).await? else {
        return Err(field_error(
            "resource_id",
            format!("is not the id of a {what}"),
        ));
    };
    let is_heartbeat = watched.monitor_type == heartbeat::MONITOR_TYPE;
    if is_heartbeat != (spec.resource_type == ResourceType::Heartbeat) {
        let hint = if is_heartbeat {
            "is a heartbeat: set resource_type to Heartbeat"
        } else {
            "is a monitor: set resource_type to Monitor"
        };
        return Err(field_error("resource_id", hint));
    }
    let taken = r
        .status_page_resources(page_id)
        .await?
        .iter()
        .any(|other| other.spec.resource_id == spec.resource_id && Some(other.id) != id);
    if taken {
        return Err(field_error("resource_id", "is already on this status page"));
    }
    Ok(())
}

/// Removes monitor (or heartbeat) `monitor_id` from every status page that shows it, in the
/// caller's transaction, with a `status-page-resource-deleted` event for each. Called when the
/// monitor is deleted.
pub(super) async fn remove_from_status_pages(
    tx: &mut Writer,
    actor: &Actor,
    monitor_id: i64,
) -> Result<()> {
    for resource in tx.resources_showing(monitor_id).await? {
        tx.delete_status_page_resource(resource.id).await?;
        tx.append_event(
            &NewEvent::new(kind::STATUS_PAGE_RESOURCE_DELETED, actor)
                .data(
                    json!({"reason": "monitor deleted", "status_page_id": resource.status_page_id}),
                )
                .pre_data(resource.audit_view()),
        )
        .await?;
    }
    Ok(())
}

impl Service {
    /// The resources' monitors' statuses, and the page's aggregate state.
    async fn aggregate_of(&self, r: &mut Reader, page_id: i64) -> Result<AggregateState> {
        let mut statuses = Vec::new();
        for resource in r.status_page_resources(page_id).await? {
            let watched = r.watched(resource.spec.resource_id).await?;
            statuses.push(status_of(watched.as_ref()));
        }
        Ok(AggregateState::of(&statuses))
    }

    /// Page `page` (from 1) of `per_page` status pages, oldest first, with their states.
    pub async fn list_status_pages(&self, page: i64, per_page: i64) -> Result<StatusPageList> {
        let per_page = per_page.clamp(1, MAX_PER_PAGE);
        let offset = page.max(1).saturating_sub(1).saturating_mul(per_page);
        let mut read = self.store.read().await?;
        let (pages, total) = read.status_pages(per_page, offset).await?;
        let mut with_state = Vec::with_capacity(pages.len());
        for p in pages {
            let state = self.aggregate_of(&mut read, p.id).await?;
            with_state.push((p, state));
        }
        Ok(StatusPageList {
            pages: with_state,
            total,
        })
    }

    pub async fn get_status_page(&self, id: i64) -> Result<(StatusPage, AggregateState)> {
        let mut read = self.store.read().await?;
        let page = require_page(&mut read, id).await?;
        let state = self.aggregate_of(&mut read, id).await?;
        Ok((page, state))
    }

    pub async fn create_status_page(
        &self,
        actor: &Actor,
        input: &Map<String, Value>,
    ) -> Result<(StatusPage, AggregateState)> {
        let (spec, password) =
            StatusPageSpec::parse(input, None, false).map_err(ServiceError::InvalidFields)?;
        let hash = password.map(|p| hash_password(&new_salt(), &p));
        let mut tx = self.store.write().await?;
        require_free_subdomain(&mut tx, &spec, None).await?;
        let id = tx
            .insert_status_page(&spec, hash.as_deref(), Timestamp::now())
            .await?;
        let page = require_page(&mut tx, id).await?;
        tx.append_event(&NewEvent::new(kind::STATUS_PAGE_CREATED, actor).data(page.audit_view()))
            .await?;
        self.commit(tx).await?;
        Ok((page, AggregateState::Operational))
    }

    /// Changes only the attributes given; the result is validated as a whole. A `password`
    /// given replaces the stored one.
    pub async fn update_status_page(
        &self,
        actor: &Actor,
        id: i64,
        input: &Map<String, Value>,
    ) -> Result<(StatusPage, AggregateState)> {
        let mut tx = self.store.write().await?;
        let before = require_page(&mut tx, id).await?;
        let (spec, password) =
            StatusPageSpec::parse(input, Some(&before.spec), before.password_hash.is_some())
                .map_err(ServiceError::InvalidFields)?;
        require_free_subdomain(&mut tx, &spec, Some(id)).await?;
        let hash = password.map(|p| hash_password(&new_salt(), &p));
        tx.update_status_page(id, &spec, hash.as_deref(), Timestamp::now())
            .await?;
        let after = require_page(&mut tx, id).await?;
        let mut data = after.audit_view();
        if hash.is_some() {
            // That it changed, never what to.
            data["password_changed"] = true.into();
        }
        tx.append_event(
            &NewEvent::new(kind::STATUS_PAGE_UPDATED, actor)
                .data(data)
                .pre_data(before.audit_view()),
        )
        .await?;
        let state = self.aggregate_of(&mut tx, id).await?;
        self.commit(tx).await?;
        Ok((after, state))
    }

    /// Deletes the page and its resources (one event, listing them).
    pub async fn delete_status_page(&self, actor: &Actor, id: i64) -> Result<()> {
        let mut tx = self.store.write().await?;
        let before = require_page(&mut tx, id).await?;
        let resources: Vec<Value> = tx
            .status_page_resources(id)
            .await?
            .iter()
            .map(StatusPageResource::audit_view)
            .collect();
        tx.delete_status_page(id).await?;
        let mut pre = before.audit_view();
        pre["resources"] = resources.into();
        tx.append_event(&NewEvent::new(kind::STATUS_PAGE_DELETED, actor).pre_data(pre))
            .await?;
        self.commit(tx).await
    }

    /// A resource with its status and its availability over the page's history window.
    async fn resource_view(
        &self,
        r: &mut Reader,
        page: &StatusPage,
        resource: StatusPageResource,
        now: Timestamp,
    ) -> Result<ResourceView> {
        let watched = r.watched(resource.spec.resource_id).await?;
        let availability = match &watched {
            Some(w) => {
                let (_, uptime) =
                    history_of(r, resource.spec.resource_id, w.created_at, page, 0, now).await?;
                uptime.map_or(1.0, |pct| (pct * 10_000.0).round() / 1_000_000.0)
            }
            None => 1.0,
        };
        Ok(ResourceView {
            status: status_of(watched.as_ref()),
            resource,
            availability,
        })
    }

    /// A page's resources in the order it shows them.
    pub async fn list_status_page_resources(&self, page_id: i64) -> Result<Vec<ResourceView>> {
        let mut read = self.store.read().await?;
        let page = require_page(&mut read, page_id).await?;
        let now = Timestamp::now();
        let mut views = Vec::new();
        for resource in read.status_page_resources(page_id).await? {
            views.push(self.resource_view(&mut read, &page, resource, now).await?);
        }
        Ok(views)
    }

    pub async fn get_status_page_resource(&self, page_id: i64, id: i64) -> Result<ResourceView> {
        let mut read = self.store.read().await?;
        let page = require_page(&mut read, page_id).await?;
        let resource = require_resource(&mut read, page_id, id).await?;
        self.resource_view(&mut read, &page, resource, Timestamp::now())
            .await
    }

    /// Adds a monitor or heartbeat to the page (at the end unless `position` is given).
    pub async fn create_status_page_resource(
        &self,
        actor: &Actor,
        page_id: i64,
        input: &Map<String, Value>,
    ) -> Result<ResourceView> {
        let mut tx = self.store.write().await?;
        let page = require_page(&mut tx, page_id).await?;
        let spec = ResourceSpec::parse(input, None).map_err(ServiceError::InvalidFields)?;
        require_target(&mut tx, page_id, &spec, None).await?;
        let position = match spec.position {
            Some(p) => p,
            None => tx.next_resource_position(page_id).await?,
        };
        let now = Timestamp::now();
        let id = tx
            .insert_status_page_resource(page_id, &spec, position, now)
            .await?;
        let resource = require_resource(&mut tx, page_id, id).await?;
        tx.append_event(
            &NewEvent::new(kind::STATUS_PAGE_RESOURCE_CREATED, actor).data(resource.audit_view()),
        )
        .await?;
        let view = self.resource_view(&mut tx, &page, resource, now).await?;
        self.commit(tx).await?;
        Ok(view)
    }

    pub async fn update_status_page_resource(
        &self,
        actor: &Actor,
        page_id: i64,
        id: i64,
        input: &Map<String, Value>,
    ) -> Result<ResourceView> {
        let mut tx = self.store.write().await?;
        let page = require_page(&mut tx, page_id).await?;
        let before = require_resource(&mut tx, page_id, id).await?;
        let spec =
            ResourceSpec::parse(input, Some(&before.spec)).map_err(ServiceError::InvalidFields)?;
        require_target(&mut tx, page_id, &spec, Some(id)).await?;
        let now = Timestamp::now();
        tx.update_status_page_resource(id, &spec, spec.position.unwrap_or(before.position()), now)
            .await?;
        let after = require_resource(&mut tx, page_id, id).await?;
        tx.append_event(
            &NewEvent::new(kind::STATUS_PAGE_RESOURCE_UPDATED, actor)
                .data(after.audit_view())
                .pre_data(before.audit_view()),
        )
        .await?;
        let view = self.resource_view(&mut tx, &page, after, now).await?;
        self.commit(tx).await?;
        Ok(view)
    }

    pub async fn delete_status_page_resource(
        &self,
        actor: &Actor,
        page_id: i64,
        id: i64,
    ) -> Result<()> {
        let mut tx = self.store.write().await?;
        require_page(&mut tx, page_id).await?;
        let before = require_resource(&mut tx, page_id, id).await?;
        tx.delete_status_page_resource(id).await?;
        tx.append_event(
            &NewEvent::new(kind::STATUS_PAGE_RESOURCE_DELETED, actor)
                .data(json!({"reason": "removed", "status_page_id": page_id}))
                .pre_data(before.audit_view()),
        )
        .await?;
        self.commit(tx).await
    }

    /// Monitor `id`'s uptime on each of the last `days` days in `zone`, oldest first, ending
    /// with today (until `now`). Days before the monitor was created have no data.
    pub async fn monitor_uptime(
        &self,
        id: i64,
        days: u32,
        zone: Tz,
        now: Timestamp,
    ) -> Result<Vec<DayUptime>> {
        let mut read = self.store.read().await?;
        let monitor = read
            .monitor(id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(monitor_not_found(id)))?;
        let days = i64::from(days.clamp(1, MAX_UPTIME_DAYS));
        let start = window_start(zone, days, now);
        let spans = read.incident_spans(id, start, now).await?;
        Ok(daily_uptime(&spans, monitor.created_at, days, zone, now))
    }

    /// Published pages, oldest first, with their states: what `/status` lists.
    pub async fn published_status_pages(&self) -> Result<Vec<(StatusPage, AggregateState)>> {
        let mut read = self.store.read().await?;
        let pages = read.published_status_pages().await?;
        let mut with_state = Vec::with_capacity(pages.len());
        for p in pages {
            let state = self.aggregate_of(&mut read, p.id).await?;
            with_state.push((p, state));
        }
        Ok(with_state)
    }

    /// The published page at `/status/<subdomain>`, if there is one.
    pub async fn published_status_page(&self, subdomain: &str) -> Result<Option<StatusPage>> {
        let page = self
            .store
            .read()
            .await?
            .status_page_by_subdomain(&subdomain.to_ascii_lowercase())
            .await?;
        Ok(page.filter(|p| p.spec.published))
    }

    /// Everything the public page of `page` shows, as of `now`.
    pub async fn public_status_page(&self, page: StatusPage, now: Timestamp) -> Result<PublicPage> {
        let mut read = self.store.read().await?;
        let bar_days = page.spec.history.min(MAX_BARS);
        let mut resources = Vec::new();
        let mut statuses = Vec::new();
        let mut names: HashMap<i64, String> = HashMap::new();
        for resource in read.status_page_resources(page.id).await? {
            let monitor_id = resource.spec.resource_id;
            let watched = read.watched(monitor_id).await?;
            let status = status_of(watched.as_ref());
            let (days, uptime) = match &watched {
                Some(w) => {
                    history_of(&mut read, monitor_id, w.created_at, &page, bar_days, now).await?
                }
                None => (Vec::new(), None),
            };
            statuses.push(status);
            names.insert(monitor_id, resource.spec.public_name.clone());
            resources.push(PublicResource {
                id: resource.id,
                shows_history: resource.shows_history(),
                public_name: resource.spec.public_name,
                explanation: resource.spec.explanation,
                resource_type: resource.spec.resource_type,
                status,
                uptime,
                days,
            });
        }
        let since = window_start(page.spec.zone(), page.spec.history, now);
        let ids: Vec<i64> = names.keys().copied().collect();
        let incidents = read
            .public_incidents(&ids, since, MAX_PUBLIC_INCIDENTS)
            .await?
            .into_iter()
            .map(|i: PublicIncident| PublicIncidentView {
                resource: names.get(&i.monitor_id).cloned().unwrap_or_default(),
                started_at: i.started_at,
                resolved_at: i.resolved_at,
                duration_seconds: (i.resolved_at.unwrap_or(now).millis() - i.started_at.millis())
                    .max(0)
                    / 1000,
                cause: public_cause(i.cause_code.as_deref(), i.response_status),
            })
            .collect();
        Ok(PublicPage {
            aggregate: AggregateState::of(&statuses),
            page,
            resources,
            incidents,
            bar_days,
            generated_at: now,
        })
    }
}

fn status_of(watched: Option<&Watched>) -> ResourceStatus {
    watched.map_or(ResourceStatus::NotMonitored, |w| {
        ResourceStatus::from_monitor_status(&w.status)
    })
}

/// A `timezone` query value: a Rails zone name or an IANA id.
pub fn parse_zone(name: &str) -> Option<Tz> {
    timezone::resolve(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    #[test]
    fn days_clip_incidents_at_local_midnight_and_mark_days_before_creation() {
        let spans = [
            // 30 minutes across UTC midnight.
            (t("2026-01-01T23:45:00Z"), Some(t("2026-01-02T00:15:00Z"))),
            // Open since 12:00 on the last day.
            (t("2026-01-03T12:00:00Z"), None),
        ];
        let now = t("2026-01-03T18:00:00Z");
        let days = daily_uptime(&spans, t("2026-01-01T12:00:00Z"), 4, Tz::UTC, now);
        let dates: Vec<String> = days.iter().map(|d| d.date.to_string()).collect();
        assert_eq!(
            dates,
            ["2025-12-31", "2026-01-01", "2026-01-02", "2026-01-03"]
        );
        assert_eq!(days[0].availability, None);
        // Jan 1: existed 12 h, down 15 min.
        assert_eq!(days[1].downtime_seconds, 900);
        assert_eq!(days[1].incidents, 1);
        assert_eq!(days[1].availability, Some(97.9167));
        // Jan 2: down 15 min of 24 h.
        assert_eq!(days[2].downtime_seconds, 900);
        assert_eq!(days[2].availability, Some(98.9583));
        // Jan 3, until now: down 6 h of 18 h.
        assert_eq!(days[3].downtime_seconds, 6 * 3600);
        assert_eq!(days[3].availability, Some(66.6667));

        // In Amsterdam (UTC+1) the first incident falls within Jan 2 alone.
        let days = daily_uptime(
            &spans,
            t("2026-01-01T12:00:00Z"),
            4,
            Tz::Europe__Amsterdam,
            now,
        );
        assert_eq!(days[1].incidents, 0);
        assert_eq!(days[2].downtime_seconds, 1800);
        assert_eq!(days[2].incidents, 1);
    }

    #[test]
    fn causes_are_said_without_details() {
        assert_eq!(
            public_cause(Some("status_code"), Some(503)),
            "HTTP 503 error"
        );
        assert_eq!(
            public_cause(Some("dns_error"), None),
            "DNS resolution failed"
        );
        assert_eq!(public_cause(None, None), "Check failed");
    }
}
