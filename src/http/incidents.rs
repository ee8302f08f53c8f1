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
use crate::domain::incident::{Incident, IncidentFilter};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::extract::Admin;
use crate::http::monitors::{BsError, BsResult, base_url, query_error};
use crate::service::monitors::{DEFAULT_PER_PAGE, MAX_PER_PAGE, monitor_not_found};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v2/incidents", get(list))
        .route("/api/v2/incidents/{id}", get(get_one))
}

/// Better Stack keeps `response_content` only when it is short.
const MAX_RESPONSE_CONTENT: usize = 500;

fn resource(i: &Incident) -> Value {
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

async fn list(
    _: Admin,
    State(s): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
) -> BsResult<Response> {
    let pairs = crate::http::admin::query_pairs(uri.query());
    let last_value = |key: &str| {
        pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    let number = |key: &str, default: i64| -> Result<i64, BsError> {
        match last_value(key) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| query_error(format!("{key} must be a positive integer"))),
        }
    };
    let page = number("page", 1)?;
    let per_page = number("per_page", DEFAULT_PER_PAGE)?.min(MAX_PER_PAGE);
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

    let last = ((found.total + per_page - 1) / per_page).max(1);
    let link = |p: i64| -> String {
        let mut query: Vec<(&str, String)> = vec![("page", p.to_string())];
        if per_page != DEFAULT_PER_PAGE {
            query.push(("per_page", per_page.to_string()));
        }
        for key in ["monitor_id", "from", "to", "resolved"] {
            if let Some(v) = last_value(key) {
                query.push((key, v));
            }
        }
        let query = serde_urlencoded::to_string(&query).unwrap_or_default();
        format!("{}/api/v2/incidents?{query}", base_url(&headers))
    };
    let data: Vec<Value> = found.incidents.iter().map(resource).collect();
    let body = json!({
        "data": data,
        "pagination": {
            "first": link(1),
            "last": link(last),
            "prev": (page > 1).then(|| link((page - 1).min(last))),
            "next": (page < last).then(|| link(page + 1)),
        },
    });
    Ok(axum::Json(body).into_response())
}

async fn get_one(
    _: Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> BsResult<Response> {
    let id: i64 = id
        .parse()
        .map_err(|_| BsError::from(ApiError::NotFound(monitor_not_found(&id))))?;
    let incident = s.service.get_incident(id).await?;
    Ok(axum::Json(json!({"data": resource(&incident)})).into_response())
}
