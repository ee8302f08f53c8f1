//! Better Stack's v2 incidents API (`/api/v2/incidents`), read-only, for an admin token.
//! Incidents are opened and resolved by the status machine, not through the API. Shapes as
//! `../shared/reference/uptime.md` §1.5: `{"data": {"id", "type": "incident", "attributes",
//! "relationships": {"monitor": {"data": {"id", "type": "monitor"}}}}}`; lists add
//! `pagination`. Attributes flagwatch has no use for (acknowledgement, escalation, alerting)
//! are present and `null`/`false`, as Better Stack returns them for an untouched incident.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::http::header::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use crate::domain::Timestamp;
use crate::domain::guard::FlagRef;
use crate::domain::incident::{Incident, IncidentFilter};
use crate::http::AppState;
use crate::http::extract::Admin;
use crate::http::monitors::{BsError, BsQuery, BsResult, paginated, query_error, resource_id};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v2/incidents", get(list))
        .route("/api/v2/incidents/{id}", get(get_one))
}

/// Better Stack keeps `response_content` only when it is short.
const MAX_RESPONSE_CONTENT: usize = 500;

/// `flags_disabled` (a flagwatch extension): the flags guards switched off for the incident.
fn resource(i: &Incident, flags_disabled: &[(String, FlagRef)]) -> Value {
    let ts = |t: Option<Timestamp>| t.map_or(Value::Null, |t| t.to_rfc3339().into());
    let mut metadata = Map::new();
    if let Some(code) = i.response_status {
        metadata.insert("Response code".into(), code.to_string().into());
    }
    if let Some(cause) = &i.cause_code {
        metadata.insert("Cause".into(), cause.clone().into());
    }
    let response_content = (i.response_detail.len() < MAX_RESPONSE_CONTENT
        && !i.response_detail.is_empty())
    .then(|| i.response_detail.clone());
    json!({
        "id": i.id.to_string(),
        "type": "incident",
        "attributes": {
            "name": i.monitor_name,
            "url": i.monitor_url,
            "http_method": i.http_method,
            "cause": i.cause,
            "incident_group_id": null,
            "started_at": ts(Some(i.started_at)),
            "acknowledged_at": null,
            "acknowledged_by": null,
            "resolved_at": ts(i.resolved_at),
            "resolved_by": i.resolved_at.map(|_| "flagwatch"),
            "status": if i.resolved_at.is_some() { "Resolved" } else { "Started" },
            "team_name": null,
            "response_content": response_content,
            "response_options": null,
            "response_url": i.monitor_url,
            "screenshot_url": null,
            "origin_url": null,
            "escalation_policy_id": null,
            "call": false,
            "sms": false,
            "email": false,
            "push": false,
            "regions": null,
            "metadata": metadata,
            "flags_disabled": flags_disabled.iter().map(|(guard, f)| json!({
                "guard": guard,
                "project": f.project,
                "feature": f.feature,
                "environment": f.environment,
            })).collect::<Vec<_>>(),
        },
        "relationships": {
            "monitor": {"data": {"id": i.monitor_id.to_string(), "type": "monitor"}},
        },
    })
}

/// `from`/`to` as Better Stack takes them (`YYYY-MM-DD`), or RFC 3339. A plain-date `to`
/// includes that whole day.
fn parse_time(key: &str, raw: &str, end_of_day: bool) -> Result<Timestamp, BsError> {
    let t = Timestamp::parse(raw.trim()).ok_or_else(|| {
        query_error(format!(
            "{key} must be a date (YYYY-MM-DD) or an RFC 3339 date-time"
        ))
    })?;
    let plain_date = raw.trim().len() == 10;
    Ok(if end_of_day && plain_date {
        Timestamp(t.millis() + 86_400_000)
    } else {
        t
    })
}

#[utoipa::path(get, path = "/api/v2/incidents", tag = "Incidents", security(("bearer" = [])),
    summary = "List incidents, newest first",
    params(
        ("monitor_id" = Option<i64>, Query, description = "Only this monitor's (or heartbeat's)."),
        ("from" = Option<String>, Query, description = "`YYYY-MM-DD` or RFC 3339."),
        ("to" = Option<String>, Query, description = "`YYYY-MM-DD` (including that day) or RFC 3339."),
        ("resolved" = Option<bool>, Query, description = "Only resolved (`true`) or open (`false`) ones."),
        crate::http::openapi::Paging,
    ),
    responses(
        (status = 200, description = "A page of incidents; `flags_disabled` (a flagwatch extension) lists the flags guards switched off.", body = Object,
            example = json!({"data": [{"id": "3", "type": "incident", "attributes": {"name": "Production API Health", "url": "https://api.example.com/health", "http_method": "GET", "cause": "Status 503", "started_at": "2026-01-01T00:00:00Z", "resolved_at": null, "status": "Started", "metadata": {"Response code": "503"}, "flags_disabled": [{"guard": "checkout", "project": "default", "feature": "new-checkout-flow", "environment": "production"}]}, "relationships": {"monitor": {"data": {"id": "1", "type": "monitor"}}}}], "pagination": {"first": "http://localhost:4242/api/v2/incidents?page=1", "last": "http://localhost:4242/api/v2/incidents?page=1", "prev": null, "next": null}})),
        (status = 400, description = "A filter that cannot be read."),
    ))]
async fn list(
    _: Admin,
    State(s): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
) -> BsResult<Response> {
    let q = BsQuery::new(&uri);
    let last_value = |key: &str| q.last(key);
    let (page, per_page) = q.paging()?;
    let monitor_id = last_value("monitor_id")
        .map(|v| {
            v.trim()
                .parse::<i64>()
                .map_err(|_| query_error("monitor_id must be a monitor id (an integer)".into()))
        })
        .transpose()?;
    let from = last_value("from")
        .map(|v| parse_time("from", &v, false))
        .transpose()?;
    let to = last_value("to")
        .map(|v| parse_time("to", &v, true))
        .transpose()?;
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(query_error(
            "The data range is invalid: from must not be after to".into(),
        ));
    }
    let resolved = match last_value("resolved").as_deref().map(str::trim) {
        None | Some("") => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => return Err(query_error("resolved must be true or false".into())),
    };
    let filter = IncidentFilter {
        monitor_id,
        from,
        to,
        resolved,
    };
    let found = s.service.list_incidents(&filter, page, per_page).await?;

    let ids: Vec<i64> = found.incidents.iter().map(|i| i.id).collect();
    let flags = s.service.flags_disabled_by_incidents(&ids).await?;
    let data: Vec<Value> = found
        .incidents
        .iter()
        .map(|i| resource(i, flags.get(&i.id).map_or(&[], Vec::as_slice)))
        .collect();
    let filters: Vec<(&str, String)> = ["monitor_id", "from", "to", "resolved"]
        .into_iter()
        .filter_map(|key| last_value(key).map(|v| (key, v)))
        .collect();
    Ok(paginated(
        &headers,
        "/api/v2/incidents",
        &data,
        (page, per_page, found.total),
        &filters,
    ))
}

#[utoipa::path(get, path = "/api/v2/incidents/{id}", tag = "Incidents", security(("bearer" = [])),
    summary = "Get an incident",
    responses(
        (status = 200, description = "The incident.", body = Object, example = json!({"data": {"id": "3", "type": "incident", "attributes": {"name": "Production API Health", "url": "https://api.example.com/health", "http_method": "GET", "cause": "Status 503", "started_at": "2026-01-01T00:00:00Z", "resolved_at": null, "status": "Started", "metadata": {"Response code": "503"}, "flags_disabled": [{"guard": "checkout", "project": "default", "feature": "new-checkout-flow", "environment": "production"}]}, "relationships": {"monitor": {"data": {"id": "1", "type": "monitor"}}}}})),
        (status = 404, description = "No such incident."),
    ))]
async fn get_one(
    _: Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> BsResult<Response> {
    let id = resource_id(&id)?;
    let incident = s.service.get_incident(id).await?;
    let flags = s.service.flags_disabled_by_incidents(&[id]).await?;
    let flags = flags.get(&id).map_or(&[][..], Vec::as_slice);
    Ok(axum::Json(json!({"data": resource(&incident, flags)})).into_response())
}
