//! Monitor status and incidents: results fed through the service with explicit timestamps
//! (no clock, no sleeps) move the status machine; incidents open at `down` and resolve at
//! `up`, every transition is audited, `/api/v2/incidents` lists them, subscribers hear about
//! them, and the database refuses a second open incident for one monitor.

use flagwatch::domain::Timestamp;
use flagwatch::domain::event::{Actor, NewEvent};
use flagwatch::domain::incident::{NewIncident, Status};
use flagwatch::domain::probe::{Cause, ProbeResult};
use flagwatch::store::StoreError;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{TestApp, probe_down, probe_up, status_monitor};

const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

fn at(secs: i64) -> Timestamp {
    Timestamp(T0 + secs * 1000)
}

async fn create_monitor(app: &TestApp, confirmation: i64, recovery: i64) -> i64 {
    let mut attributes = status_monitor("API health", "https://api.example.com/health");
    attributes["confirmation_period"] = json!(confirmation);
    attributes["recovery_period"] = json!(recovery);
    app.create_monitor(attributes).await
}

async fn status_of(app: &TestApp, id: i64) -> String {
    let (status, body) = app
        .bearer(Method::GET, &format!("/api/v2/monitors/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"]["attributes"]["status"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn feed(app: &TestApp, id: i64, result: ProbeResult, secs: i64) -> Option<(Status, Status)> {
    app.feed(id, result, at(secs).0)
        .await
        .map(|c| (c.from, c.to))
}

both_backends!(a_monitor_goes_down_and_recovers_with_one_incident, |app| {
    let id = create_monitor(app, 60, 30).await;
    let mut changes = app.service.subscribe_status();
    use Status::*;

    assert_eq!(feed(app, id, probe_up(12), 0).await, Some((Pending, Up)));
    assert_eq!(feed(app, id, probe_down(40), 10).await, None, "confirming");
    assert_eq!(status_of(app, id).await, "up");
    assert_eq!(feed(app, id, probe_down(40), 40).await, None);
    assert_eq!(feed(app, id, probe_down(40), 70).await, Some((Up, Down)));
    assert_eq!(status_of(app, id).await, "down");
    assert_eq!(feed(app, id, probe_down(40), 80).await, None);
    assert_eq!(
        feed(app, id, probe_up(12), 90).await,
        Some((Down, Validating))
    );
    assert_eq!(
        feed(app, id, probe_down(40), 100).await,
        Some((Validating, Down))
    );
    assert_eq!(
        feed(app, id, probe_up(12), 110).await,
        Some((Down, Validating))
    );
    assert_eq!(feed(app, id, probe_up(12), 120).await, None);
    assert_eq!(status_of(app, id).await, "validating");
    assert_eq!(
        feed(app, id, probe_up(12), 140).await,
        Some((Validating, Up))
    );
    assert_eq!(status_of(app, id).await, "up");

    // Subscribers heard every transition, in order, with the cause at down.
    let mut heard = Vec::new();
    while let Ok(c) = changes.try_recv() {
        heard.push(c);
    }
    let pairs: Vec<_> = heard.iter().map(|c| (c.from, c.to)).collect();
    assert_eq!(
        pairs,
        [
            (Pending, Up),
            (Up, Down),
            (Down, Validating),
            (Validating, Down),
            (Down, Validating),
            (Validating, Up)
        ]
    );
    assert_eq!(heard[1].cause, Some(Cause::StatusCode(503)));
    assert_eq!(heard[1].at, at(70));
    let incident_id = heard[1].incident_id.expect("an incident opened at down");
    assert!(
        heard[1..]
            .iter()
            .all(|c| c.incident_id == Some(incident_id)),
        "one incident all along: {heard:?}"
    );

    // One incident, started when the monitor went down, resolved when it was up again.
    let (status, body) = app.bearer(Method::GET, "/api/v2/incidents", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{body}");
    let inc = &data[0];
    assert_eq!(inc["id"], incident_id.to_string());
    assert_eq!(inc["type"], "incident");
    assert_eq!(
        inc["relationships"]["monitor"]["data"]["id"],
        id.to_string()
    );
    assert_eq!(inc["relationships"]["monitor"]["data"]["type"], "monitor");
    let a = &inc["attributes"];
    assert_eq!(a["name"], "API health");
    assert_eq!(a["url"], "https://api.example.com/health");
    assert_eq!(a["cause"], "unexpected HTTP status code 503");
    assert_eq!(a["metadata"]["Response code"], "503");
    assert_eq!(a["metadata"]["Cause"], "status_code");
    assert_eq!(a["started_at"], at(70).to_rfc3339());
    assert_eq!(a["resolved_at"], at(140).to_rfc3339());
    assert_eq!(a["acknowledged_at"], Value::Null);
    assert_eq!(a["status"], "Resolved");
    assert!(body["pagination"]["first"].is_string(), "{body}");

    let (status, one) = app
        .bearer(
            Method::GET,
            &format!("/api/v2/incidents/{incident_id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert_eq!(&one["data"], inc);

    // Every transition and the incident's life are in the audit log, by the probe.
    let (status, body) = app.admin(Method::GET, "/api/admin/events", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let events: Vec<&Value> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            let t = e["type"].as_str().unwrap_or("");
            t == "monitor-status-changed" || t.starts_with("incident-")
        })
        .collect();
    let types: Vec<&str> = events
        .iter()
        .rev()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "monitor-status-changed",
            "monitor-status-changed",
            "incident-opened",
            "monitor-status-changed",
            "monitor-status-changed",
            "monitor-status-changed",
            "monitor-status-changed",
            "incident-resolved",
        ],
        "oldest first"
    );
    assert!(
        events
            .iter()
            .all(|e| e["createdBy"] == format!("probe:{id}")),
        "{events:?}"
    );
    let went_down = events
        .iter()
        .rev()
        .find(|e| e["type"] == "monitor-status-changed" && e["data"]["to"] == "down")
        .unwrap();
    assert_eq!(went_down["data"]["from"], "up");
    assert_eq!(went_down["data"]["cause_code"], "status_code");
});

both_backends!(
    confirmation_period_zero_is_down_at_the_first_failure,
    |app| {
        let id = create_monitor(app, 0, 0).await;
        use Status::*;
        assert_eq!(
            feed(app, id, probe_down(40), 0).await,
            Some((Pending, Down)),
            "pending straight to down"
        );
        assert_eq!(
            feed(app, id, probe_up(12), 5).await,
            Some((Down, Up)),
            "no recovery period"
        );
        assert_eq!(feed(app, id, probe_down(40), 10).await, Some((Up, Down)));

        // Two incidents; filters pick them apart.
        let list = |q: &'static str| async move {
            let (status, body) = app
                .bearer(Method::GET, &format!("/api/v2/incidents{q}"), None)
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body["data"].as_array().unwrap().clone()
        };
        assert_eq!(list("").await.len(), 2);
        let open = list("?resolved=false").await;
        assert_eq!(open.len(), 1);
        assert_eq!(open[0]["attributes"]["resolved_at"], Value::Null);
        assert_eq!(open[0]["attributes"]["status"], "Started");
        assert_eq!(list("?resolved=true").await.len(), 1);
        assert_eq!(list("?from=2026-01-01&to=2026-01-01").await.len(), 2);
        assert_eq!(list("?from=2026-01-02").await.len(), 0);
        assert_eq!(list("?to=2025-12-31").await.len(), 0);
        assert_eq!(list("?from=2026-01-01T00:00:05Z").await.len(), 1);
        let page = list("?per_page=1&page=2").await;
        assert_eq!(page.len(), 1);
        assert_eq!(
            page[0]["attributes"]["started_at"],
            at(0).to_rfc3339(),
            "newest first"
        );
        let other = create_monitor(app, 0, 0).await;
        let (_, body) = app
            .bearer(
                Method::GET,
                &format!("/api/v2/incidents?monitor_id={other}"),
                None,
            )
            .await;
        assert_eq!(body["data"], json!([]));

        // Bad queries and unknown ids.
        for q in [
            "?resolved=maybe",
            "?from=soon",
            "?monitor_id=x",
            "?from=2026-02-01&to=2026-01-01",
        ] {
            let (status, body) = app
                .bearer(Method::GET, &format!("/api/v2/incidents{q}"), None)
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{q}: {body}");
        }
        let (status, _) = app
            .bearer(Method::GET, "/api/v2/incidents/999999", None)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = app
            .request(Method::GET, "/api/v2/incidents", None)
            .send()
            .await
            .map(|r| (r.status(), ()))
            .unwrap();
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        // Results for an unknown monitor are refused; a paused monitor ignores them.
        assert!(
            app.service
                .record_probe_result(999_999, &probe_up(12), at(20))
                .await
                .is_err()
        );
        let (status, body) = app
            .bearer(
                Method::PATCH,
                &format!("/api/v2/monitors/{other}"),
                Some(json!({"paused": true})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(feed(app, other, probe_down(40), 30).await, None);
        assert_eq!(status_of(app, other).await, "paused");
    }
);

both_backends!(the_database_refuses_a_second_open_incident, |app| {
    let id = create_monitor(app, 0, 0).await;
    let store = app.service.store();
    let actor = Actor {
        name: "test".into(),
        user_id: None,
    };
    let incident = |secs| NewIncident {
        monitor_id: id,
        started_at: at(secs),
        cause_code: Some("timeout".into()),
        cause: "timed out".into(),
        response_status: None,
        response_detail: String::new(),
    };

    let mut w = store.write().await.unwrap();
    let first = w.open_incident(&incident(0)).await.unwrap();
    w.append_event(&NewEvent::new("incident-opened", &actor))
        .await
        .unwrap();
    w.commit().await.unwrap();

    let mut w = store.write().await.unwrap();
    match w.open_incident(&incident(10)).await {
        Err(StoreError::Conflict { .. }) => {}
        other => panic!("expected a conflict, got {other:?}"),
    }
    drop(w);

    // Once the first is resolved, another may open.
    let mut w = store.write().await.unwrap();
    assert!(w.resolve_incident(first, at(20)).await.unwrap());
    w.open_incident(&incident(30)).await.unwrap();
    w.append_event(&NewEvent::new("incident-resolved", &actor))
        .await
        .unwrap();
    w.commit().await.unwrap();
    let open = store
        .read()
        .await
        .unwrap()
        .monitor_state(id)
        .await
        .unwrap()
        .unwrap()
        .0
        .open_incident;
    assert!(open.is_some_and(|o| o != first));
});
