//! SLA guards: thresholds on a monitor's availability, mean response time and incident count
//! over a sliding window, evaluated by the server itself. Results are fed through the service
//! with explicit timestamps and evaluations run at explicit times, so every window is exact;
//! one test leaves it to the server's own evaluation loop.

use std::time::{Duration, Instant};

use flagwatch::domain::Timestamp;
use flagwatch::domain::probe::{Cause, ProbeResult};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{CLIENT_DEV, TestApp, send, standard_args};

const BEARER: &str = "Bearer *:*.unleash-admin-api-token";
const MINUTE: i64 = 60_000;

/// Test servers whose own evaluation loop stays out of the way (once an hour).
fn manual_args() -> Vec<String> {
    let mut args = standard_args();
    args.extend(["--sla-evaluation-secs".to_string(), "3600".to_string()]);
    args
}

fn looping_args() -> Vec<String> {
    let mut args = standard_args();
    args.extend(["--sla-evaluation-secs".to_string(), "1".to_string()]);
    args
}

fn up(ms: u64) -> ProbeResult {
    ProbeResult::up(Duration::from_millis(ms), "200 OK").with_status_code(200)
}

fn down() -> ProbeResult {
    ProbeResult::down(
        Cause::StatusCode(503),
        Duration::from_millis(20),
        "503 Service Unavailable",
    )
    .with_status_code(503)
}

async fn create_monitor(app: &TestApp) -> i64 {
    let (status, body) = send(
        app.request(Method::POST, "/api/v2/monitors", Some(BEARER))
            .json(&json!({
                "monitor_type": "status",
                "url": "https://checkout.example.com/health",
                "pronounceable_name": "checkout-api",
                "confirmation_period": 0,
                "recovery_period": 0,
            })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["data"]["id"].as_str().unwrap().parse().unwrap()
}

async fn feed(app: &TestApp, id: i64, result: ProbeResult, at: i64) {
    app.service
        .record_probe_result(id, &result, Timestamp(at))
        .await
        .unwrap();
}

async fn evaluate(app: &TestApp, at: i64) {
    app.service.flush_probe_results().await.unwrap();
    app.service
        .evaluate_sla_guards(Timestamp(at))
        .await
        .unwrap();
}

async fn create_flag(app: &TestApp, name: &str) {
    let (status, body) = app
        .admin(
            Method::POST,
            "/api/admin/projects/default/features",
            Some(json!({"name": name})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn toggle(app: &TestApp, name: &str, on: bool) {
    let (status, body) = app
        .admin(
            Method::POST,
            &format!(
                "/api/admin/projects/default/features/{name}/environments/development/{}",
                if on { "on" } else { "off" }
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn sdk_enabled(app: &TestApp, name: &str) -> bool {
    let (_, body) = send(app.request(Method::GET, "/api/client/features", Some(CLIENT_DEV))).await;
    body["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("{name} is served: {body}"))["enabled"]
        .as_bool()
        .unwrap()
}

async fn create_guard(app: &TestApp, body: Value) -> i64 {
    let (status, body) = app
        .admin(Method::POST, "/api/admin/guards", Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_i64().unwrap()
}

async fn guard(app: &TestApp, id: i64) -> Value {
    let (status, body) = app
        .admin(Method::GET, &format!("/api/admin/guards/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

both_backends!(
    an_availability_breach_rolls_back_recently_enabled_flags,
    args = manual_args(),
    |app| {
        // The target is read from the event log: the flags a person switched on in development
        // within the last 24 hours.
        create_flag(app, "risky").await;
        create_flag(app, "fresh").await;
        create_flag(app, "never-on").await;
        toggle(app, "risky", true).await;
        let monitor = create_monitor(app).await;
        let id = create_guard(
        app,
        json!({
            "name": "auto-rollback",
            "signal": {"sla": {"monitor_id": monitor.to_string(), "window_minutes": 60, "availability_min": 99.5}},
            "flags": {"recently_enabled_hours": 24, "environment": "development"},
            "on_recovery": "re_enable",
        }),
    )
    .await;
        let now = Timestamp::now().millis();

        // Healthy: nothing happens.
        feed(app, monitor, up(100), now - 30 * MINUTE).await;
        evaluate(app, now - 29 * MINUTE).await;
        assert_eq!(guard(app, id).await["state"], "armed");
        assert!(sdk_enabled(app, "risky").await);

        // Down for five minutes of the last hour: 91.7 % < 99.5 %.
        feed(app, monitor, down(), now - 5 * MINUTE).await;
        evaluate(app, now).await;
        let g = guard(app, id).await;
        assert_eq!(g["state"], "tripped", "{g}");
        assert!(
            g["trip"]["reason"]
                .as_str()
                .unwrap()
                .contains("availability 91.67% < 99.5%"),
            "{g}"
        );
        assert!(!sdk_enabled(app, "risky").await);
        let (_, events) = app
            .admin(Method::GET, "/api/admin/events/risky", None)
            .await;
        assert_eq!(events["events"][0]["createdBy"], "guard:auto-rollback");
        assert_eq!(events["events"][0]["data"]["signal"], "sla");

        // During the breach a person switches `risky` back on and someone switches `fresh` on:
        // the next evaluation leaves the person's decision alone and rolls `fresh` back.
        toggle(app, "risky", true).await;
        toggle(app, "fresh", true).await;
        evaluate(app, now + MINUTE).await;
        assert!(
            sdk_enabled(app, "risky").await,
            "not overruled during the breach"
        );
        assert!(!sdk_enabled(app, "fresh").await);
        assert!(!sdk_enabled(app, "never-on").await);

        // The monitor recovers and the window slides past the incident: the guard recovers and
        // re-enables what it switched off and nobody touched.
        feed(app, monitor, up(100), now + 2 * MINUTE).await;
        evaluate(app, now + 70 * MINUTE).await;
        let g = guard(app, id).await;
        assert_eq!(g["state"], "armed", "{g}");
        assert_eq!(g["recent_trips"][0]["outcome"], "re_enabled");
        assert!(sdk_enabled(app, "fresh").await);
        assert!(sdk_enabled(app, "risky").await);
        assert!(!sdk_enabled(app, "never-on").await);
    }
);

both_backends!(
    response_time_and_incident_count_thresholds,
    args = manual_args(),
    |app| {
        create_flag(app, "slow-path").await;
        toggle(app, "slow-path", true).await;
        create_flag(app, "flappy-path").await;
        toggle(app, "flappy-path", true).await;
        let monitor = create_monitor(app).await;
        let slow = create_guard(
        app,
        json!({
            "name": "too-slow",
            "signal": {"sla": {"monitor_id": monitor, "window_minutes": 10, "response_time_max_ms": 2000}},
            "flags": [{"project": "default", "feature": "slow-path", "environment": "development"}],
        }),
    )
    .await;
        let flappy = create_guard(
        app,
        json!({
            "name": "too-many-incidents",
            "signal": {"sla": {"monitor_id": monitor, "window_minutes": 30, "incidents_max": 2}},
            "flags": [{"project": "default", "feature": "flappy-path", "environment": "development"}],
        }),
    )
    .await;
        let now = Timestamp::now().millis();
        for i in 0..5 {
            feed(app, monitor, up(1500), now - (8 - i) * MINUTE).await;
        }
        evaluate(app, now).await;
        assert_eq!(
            guard(app, slow).await["state"],
            "armed",
            "mean 1500 ms is within 2000"
        );
        for i in 0..5 {
            feed(app, monitor, up(4000), now + i * 1000).await;
        }
        evaluate(app, now + 10_000).await;
        let g = guard(app, slow).await;
        assert_eq!(g["state"], "tripped", "{g}");
        assert!(
            g["trip"]["reason"]
                .as_str()
                .unwrap()
                .contains("mean response time 2750 ms > 2000 ms"),
            "{g}"
        );
        assert!(!sdk_enabled(app, "slow-path").await);
        assert_eq!(guard(app, flappy).await["state"], "armed");

        // Three short incidents within half an hour.
        for k in 0..3 {
            feed(app, monitor, down(), now + (k * 2 + 1) * MINUTE).await;
            feed(app, monitor, up(100), now + (k * 2 + 2) * MINUTE).await;
        }
        evaluate(app, now + 7 * MINUTE).await;
        let g = guard(app, flappy).await;
        assert_eq!(g["state"], "tripped", "{g}");
        assert!(
            g["trip"]["reason"]
                .as_str()
                .unwrap()
                .contains("3 incidents > 2"),
            "{g}"
        );
        // keep_disabled: when the window is clean again the guard recovers, the flag stays off.
        evaluate(app, now + 60 * MINUTE).await;
        assert_eq!(guard(app, flappy).await["state"], "armed");
        assert!(!sdk_enabled(app, "flappy-path").await);
    }
);

both_backends!(
    the_server_evaluates_sla_guards_by_itself,
    args = looping_args(),
    |app| {
        create_flag(app, "guarded").await;
        toggle(app, "guarded", true).await;
        let monitor = create_monitor(app).await;
        create_guard(
        app,
        json!({
            "name": "availability",
            "signal": {"sla": {"monitor_id": monitor, "window_minutes": 60, "availability_min": 99.9}},
            "flags": [{"project": "default", "feature": "guarded", "environment": "development"}],
        }),
    )
    .await;
        let now = Timestamp::now().millis();
        feed(app, monitor, up(50), now - 20 * MINUTE).await;
        feed(app, monitor, down(), now - 10 * MINUTE).await;
        let start = Instant::now();
        while sdk_enabled(app, "guarded").await {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "the server never evaluated the SLA"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
);
