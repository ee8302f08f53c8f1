//! Heartbeats (cron monitoring): Better Stack's v2 heartbeat API (CRUD, 422/404/401, events),
//! the public ping URL (no token; GET/POST/HEAD; `/fail` and `/<exit code>`), incidents
//! opened and resolved by pings, and the worker that finds missed pings.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{TestApp, send, wait_for};

/// A request with no token at all.
async fn ping(app: &TestApp, method: Method, path: &str) -> StatusCode {
    app.client
        .request(method, app.url(path))
        .send()
        .await
        .unwrap()
        .status()
}

async fn status_of(app: &TestApp, id: &str) -> String {
    let (status, body) = app
        .bearer(Method::GET, &format!("/api/v2/heartbeats/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"]["attributes"]["status"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn incidents(app: &TestApp, id: &str) -> Vec<Value> {
    let (status, body) = app
        .bearer(
            Method::GET,
            &format!("/api/v2/incidents?monitor_id={id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].as_array().unwrap().clone()
}

both_backends!(crud_in_better_stacks_shape_with_events, |app| {
    let created = app
        .create_heartbeat(
            json!({"name": "Nightly backup", "period": 86400, "grace": 3600, "call": true,
               "heartbeat_group_id": "7", "sort_index": 2}),
        )
        .await;
    assert_eq!(created["type"], "heartbeat");
    let id = created["id"].as_str().unwrap().to_string();
    let a = &created["attributes"];
    assert_eq!(a["name"], "Nightly backup");
    assert_eq!(a["period"], 86400);
    assert_eq!(a["grace"], 3600);
    assert_eq!(a["call"], true);
    assert_eq!(a["sms"], false);
    assert_eq!(a["email"], true);
    assert_eq!(a["push"], false);
    assert_eq!(a["team_wait"], Value::Null);
    assert_eq!(a["heartbeat_group_id"], "7");
    assert_eq!(a["sort_index"], 2);
    assert_eq!(a["paused"], false);
    assert_eq!(a["status"], "pending");
    assert!(a["created_at"].is_string() && a["updated_at"].is_string());
    let url = a["url"].as_str().unwrap();
    let prefix = app.url("/api/v1/heartbeat/");
    let token = url
        .strip_prefix(&prefix)
        .expect("ping URL under /api/v1/heartbeat/");
    assert!(
        token.len() >= 20 && token.chars().all(|c| c.is_ascii_alphanumeric()),
        "{token}"
    );
    let other = app
        .create_heartbeat(json!({"name": "other", "period": 60}))
        .await;
    assert_ne!(
        other["attributes"]["url"], a["url"],
        "every heartbeat has its own token"
    );

    // Read, list (heartbeats are not monitors), update, delete.
    let (status, body) = app
        .bearer(Method::GET, &format!("/api/v2/heartbeats/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"], created);
    let (status, body) = app.bearer(Method::GET, "/api/v2/heartbeats", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    assert_eq!(
        body["pagination"]["first"],
        app.url("/api/v2/heartbeats?page=1")
    );
    let (status, body) = app.bearer(Method::GET, "/api/v2/monitors", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"], json!([]), "heartbeats are not monitors");
    let (status, _) = app
        .bearer(Method::GET, &format!("/api/v2/monitors/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, body) = app
        .bearer(
            Method::PATCH,
            &format!("/api/v2/heartbeats/{id}"),
            Some(json!({"grace": 600, "url": "ignored", "status": "up"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let a = &body["data"]["attributes"];
    assert_eq!(a["grace"], 600);
    assert_eq!(a["period"], 86400, "the rest is kept");
    assert_eq!(a["name"], "Nightly backup");
    assert_eq!(a["url"], url, "the ping URL does not change");
    assert_eq!(a["status"], "pending", "read-only");

    let (status, body) = app
        .bearer(
            Method::PATCH,
            &format!("/api/v2/heartbeats/{id}"),
            Some(json!({"paused": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["attributes"]["status"], "paused");

    let (status, body) = app
        .bearer(Method::DELETE, &format!("/api/v2/heartbeats/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, _) = app
        .bearer(Method::GET, &format!("/api/v2/heartbeats/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        ping(app, Method::GET, &format!("/api/v1/heartbeat/{token}")).await,
        StatusCode::NOT_FOUND,
        "a deleted heartbeat's URL is gone"
    );

    // Events, newest first; the token is not in the audit log.
    let events = app.events_of_type("heartbeat-").await;
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "heartbeat-deleted",
            "heartbeat-updated",
            "heartbeat-updated",
            "heartbeat-created",
            "heartbeat-created"
        ]
    );
    assert_eq!(events[1]["data"]["paused"], true);
    assert_eq!(events[1]["preData"]["paused"], false);
    assert_eq!(events[0]["preData"]["name"], "Nightly backup");
    let log = serde_json::to_string(&events).unwrap();
    assert!(
        !log.contains(token),
        "the ping token is kept out of the audit log"
    );
});

both_backends!(bad_input_changes_nothing, |app| {
    for (body, fields) in [
        (json!({"period": 60}), vec!["name"]),
        (json!({"name": "x", "period": 0}), vec!["period"]),
        (json!({"name": "x", "period": "soon"}), vec!["period"]),
        (
            json!({"name": "x", "period": 60, "grace": -1}),
            vec!["grace"],
        ),
        (
            json!({"name": "", "period": 99_999_999, "grace": 99_999_999, "paused": "no"}),
            vec!["name", "period", "grace", "paused"],
        ),
        (json!({"name": "x", "sms": "yes"}), vec!["sms"]),
    ] {
        let (status, resp) = app
            .bearer(Method::POST, "/api/v2/heartbeats", Some(body.clone()))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {resp}");
        let errors = resp["errors"].as_object().unwrap();
        let mut got: Vec<&str> = errors.keys().map(String::as_str).collect();
        got.sort_unstable();
        let mut want = fields.clone();
        want.sort_unstable();
        assert_eq!(got, want, "{body}: {resp}");
        assert!(errors.values().all(|v| v[0].is_string()), "{resp}");
    }
    let (status, body) = app.bearer(Method::GET, "/api/v2/heartbeats", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"], json!([]), "nothing was stored");
    assert!(app.events_of_type("heartbeat-").await.is_empty());

    let created = app
        .create_heartbeat(json!({"name": "job", "period": 30, "grace": 5}))
        .await;
    let id = created["id"].as_str().unwrap();
    let (status, resp) = app
        .bearer(
            Method::PATCH,
            &format!("/api/v2/heartbeats/{id}"),
            Some(json!({"period": -5, "name": "renamed"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{resp}");
    assert!(resp["errors"]["period"].is_array(), "{resp}");
    let (_, after) = app
        .bearer(Method::GET, &format!("/api/v2/heartbeats/{id}"), None)
        .await;
    assert_eq!(after["data"], created, "a refused update changes nothing");

    // Unknown ids, no token, the wrong token kind.
    for (method, body) in [
        (Method::GET, None),
        (Method::PATCH, Some(json!({"grace": 1}))),
        (Method::DELETE, None),
    ] {
        for path in ["/api/v2/heartbeats/999999", "/api/v2/heartbeats/nope"] {
            let (status, resp) = app.bearer(method.clone(), path, body.clone()).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {resp}");
            assert!(resp["errors"].is_string(), "{resp}");
        }
    }
    // A monitor's id is not a heartbeat's.
    let (status, monitor) = app
        .bearer(
            Method::POST,
            "/api/v2/monitors",
            Some(json!({"monitor_type": "status", "url": "https://example.com"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{monitor}");
    let monitor_id = monitor["data"]["id"].as_str().unwrap();
    let (status, _) = app
        .bearer(
            Method::GET,
            &format!("/api/v2/heartbeats/{monitor_id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    for (method, path) in [
        (Method::GET, "/api/v2/heartbeats".to_string()),
        (Method::POST, "/api/v2/heartbeats".to_string()),
        (Method::GET, format!("/api/v2/heartbeats/{id}")),
        (Method::DELETE, format!("/api/v2/heartbeats/{id}")),
    ] {
        let status = ping(app, method.clone(), &path).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}");
    }
    let (status, _) = send(app.request(
        Method::GET,
        "/api/v2/heartbeats",
        Some("Bearer default:development.unleash-client-token"),
    ))
    .await;
    assert!(
        status == StatusCode::FORBIDDEN || status == StatusCode::UNAUTHORIZED,
        "{status}"
    );
    let (_, after) = app
        .bearer(Method::GET, &format!("/api/v2/heartbeats/{id}"), None)
        .await;
    assert_eq!(after["data"], created, "still there");
});

both_backends!(pings_drive_status_and_incidents, |app| {
    let created = app
        .create_heartbeat(json!({"name": "cron", "period": 3600, "grace": 60}))
        .await;
    let id = created["id"].as_str().unwrap().to_string();
    let path = app.ping_path(&created);
    assert_eq!(status_of(app, &id).await, "pending");

    // No token needed; GET, POST and HEAD all count.
    assert_eq!(ping(app, Method::GET, &path).await, StatusCode::OK);
    assert_eq!(status_of(app, &id).await, "up");
    assert_eq!(ping(app, Method::POST, &path).await, StatusCode::OK);
    assert_eq!(ping(app, Method::HEAD, &path).await, StatusCode::OK);
    assert_eq!(
        ping(app, Method::GET, &format!("{path}/0")).await,
        StatusCode::OK
    );
    assert_eq!(status_of(app, &id).await, "up");
    assert!(incidents(app, &id).await.is_empty());

    // `/fail`: down, with an incident.
    assert_eq!(
        ping(app, Method::GET, &format!("{path}/fail")).await,
        StatusCode::OK
    );
    assert_eq!(status_of(app, &id).await, "down");
    let open = incidents(app, &id).await;
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0]["attributes"]["status"], "Started");
    assert_eq!(open[0]["attributes"]["cause"], "the job reported a failure");
    assert_eq!(
        open[0]["attributes"]["metadata"]["Cause"],
        "heartbeat_failed"
    );

    // A later ping brings it up and resolves the incident.
    assert_eq!(ping(app, Method::POST, &path).await, StatusCode::OK);
    assert_eq!(status_of(app, &id).await, "up");
    let list = incidents(app, &id).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["attributes"]["status"], "Resolved");

    // A non-zero exit code, POSTed with the job's output: down, the code as the cause.
    let resp = app
        .client
        .post(app.url(&format!("{path}/1")))
        .body("pg_dump: error: connection refused")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(status_of(app, &id).await, "down");
    let list = incidents(app, &id).await;
    assert_eq!(list.len(), 2);
    let newest = &list[0]["attributes"];
    assert_eq!(newest["cause"], "the job exited with code 1");
    assert_eq!(
        newest["response_content"],
        "pg_dump: error: connection refused"
    );
    assert_eq!(newest["status"], "Started");
    assert_eq!(ping(app, Method::HEAD, &path).await, StatusCode::OK);
    assert_eq!(status_of(app, &id).await, "up");
    assert!(
        incidents(app, &id)
            .await
            .iter()
            .all(|i| i["attributes"]["status"] == "Resolved")
    );

    // Status changes are audited like a monitor's.
    let (_, body) = app.admin(Method::GET, "/api/admin/events", None).await;
    let changes = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["type"] == "monitor-status-changed"
                && e["data"]["monitor_id"] == json!(id.parse::<i64>().unwrap())
        })
        .count();
    assert_eq!(changes, 5, "pending→up, up→down, down→up, up→down, down→up");

    // Unknown tokens and outcomes are 404s; a paused heartbeat ignores pings.
    for bad in [
        "/api/v1/heartbeat/nope".to_string(),
        "/api/v1/heartbeat/nope/fail".to_string(),
        format!("{path}/maybe"),
    ] {
        assert_eq!(
            ping(app, Method::GET, &bad).await,
            StatusCode::NOT_FOUND,
            "{bad}"
        );
        assert_eq!(
            ping(app, Method::POST, &bad).await,
            StatusCode::NOT_FOUND,
            "{bad}"
        );
    }
    let (status, _) = app
        .bearer(
            Method::PATCH,
            &format!("/api/v2/heartbeats/{id}"),
            Some(json!({"paused": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        ping(app, Method::GET, &format!("{path}/fail")).await,
        StatusCode::OK
    );
    assert_eq!(status_of(app, &id).await, "paused");
    let (status, _) = app
        .bearer(
            Method::PATCH,
            &format!("/api/v2/heartbeats/{id}"),
            Some(json!({"paused": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        status_of(app, &id).await,
        "pending",
        "resumed: waits for a first ping"
    );
});

both_backends!(missed_pings_make_it_down_via_the_worker, |app| {
    let created = app
        .create_heartbeat(json!({"name": "every second", "period": 1, "grace": 0}))
        .await;
    let id = created["id"].as_str().unwrap().to_string();
    let path = app.ping_path(&created);
    let never = app
        .create_heartbeat(json!({"name": "never pinged", "period": 1, "grace": 0}))
        .await;

    assert_eq!(ping(app, Method::GET, &path).await, StatusCode::OK);
    assert_eq!(status_of(app, &id).await, "up");

    // No more pings: the worker (every second) reports it down within period + grace + a tick.
    wait_for(
        "the worker to report it down",
        Duration::from_secs(10),
        async || status_of(app, &id).await == "down",
    )
    .await;
    let list = incidents(app, &id).await;
    assert_eq!(list.len(), 1, "{list:?}");
    let incident_id = list[0]["id"].clone();
    let a = &list[0]["attributes"];
    assert_eq!(
        a["cause"],
        "no heartbeat received within the period and grace"
    );
    assert_eq!(a["metadata"]["Cause"], "heartbeat_missed");
    assert_eq!(a["status"], "Started");

    // Still missing: no second incident; a ping resolves the one open.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(incidents(app, &id).await.len(), 1);
    assert_eq!(ping(app, Method::GET, &path).await, StatusCode::OK);
    // (Only the incident: with a 1 s period the worker may find it missing again soon.)
    let resolved = incidents(app, &id)
        .await
        .into_iter()
        .find(|i| i["id"] == incident_id)
        .unwrap();
    assert_eq!(resolved["attributes"]["status"], "Resolved", "{resolved}");

    // Never pinged: the clock has not started, as Better Stack's.
    let never_id = never["id"].as_str().unwrap();
    assert_eq!(status_of(app, never_id).await, "pending");
});
