//! SLA guards: thresholds on a monitor's availability, mean response time and incident count
//! over a sliding window, evaluated by the server itself. Results are fed through the service
//! with explicit timestamps and evaluations run at explicit times, so every window is exact;
//! one test leaves it to the server's own evaluation loop.

use std::time::Duration;

use flagwatch::domain::Timestamp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{
    TestApp, guarded_flag, probe_down, probe_up, standard_args, status_monitor, wait_for,
};

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

async fn create_monitor(app: &TestApp) -> i64 {
    app.create_monitor(status_monitor(
        "checkout-api",
        "https://checkout.example.com/health",
    ))
    .await
}

async fn evaluate(app: &TestApp, at: i64) {
    app.service.flush_probe_results().await.unwrap();
    app.service
        .evaluate_sla_guards(Timestamp(at))
        .await
        .unwrap();
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
        app.create_flag("risky").await;
        app.create_flag("fresh").await;
        app.create_flag("never-on").await;
        app.switch("risky", true).await;
        let monitor = create_monitor(app).await;
        let id = app
            .create_guard(json!({
                "name": "auto-rollback",
                "signal": {"sla": {"monitor_id": monitor.to_string(), "window_minutes": 60, "availability_min": 99.5}},
                "flags": {"recently_enabled_hours": 24, "environment": "development"},
                "on_recovery": "re_enable",
            }))
            .await["id"]
            .as_i64()
            .unwrap();
        let now = Timestamp::now().millis();

        // Healthy: nothing happens.
        app.feed(monitor, probe_up(100), now - 30 * MINUTE).await;
        evaluate(app, now - 29 * MINUTE).await;
        assert_eq!(guard(app, id).await["state"], "armed");
        assert!(app.sdk_enabled("risky").await);

        // Down for five minutes of the last hour: 91.7 % < 99.5 %.
        app.feed(monitor, probe_down(20), now - 5 * MINUTE).await;
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
        assert!(!app.sdk_enabled("risky").await);
        let (_, events) = app
            .admin(Method::GET, "/api/admin/events/risky", None)
            .await;
        assert_eq!(events["events"][0]["createdBy"], "guard:auto-rollback");
        assert_eq!(events["events"][0]["data"]["signal"], "sla");

        // During the breach a person switches `risky` back on and someone switches `fresh` on:
        // the next evaluation leaves the person's decision alone and rolls `fresh` back.
        app.switch("risky", true).await;
        app.switch("fresh", true).await;
        evaluate(app, now + MINUTE).await;
        assert!(
            app.sdk_enabled("risky").await,
            "not overruled during the breach"
        );
        assert!(!app.sdk_enabled("fresh").await);
        assert!(!app.sdk_enabled("never-on").await);

        // The monitor recovers and the window slides past the incident: the guard recovers and
        // re-enables what it switched off and nobody touched.
        app.feed(monitor, probe_up(100), now + 2 * MINUTE).await;
        evaluate(app, now + 70 * MINUTE).await;
        let g = guard(app, id).await;
        assert_eq!(g["state"], "armed", "{g}");
        assert_eq!(g["recent_trips"][0]["outcome"], "re_enabled");
        assert!(app.sdk_enabled("fresh").await);
        assert!(app.sdk_enabled("risky").await);
        assert!(!app.sdk_enabled("never-on").await);
    }
);

both_backends!(
    response_time_and_incident_count_thresholds,
    args = manual_args(),
    |app| {
        app.create_enabled_flag("slow-path").await;
        app.create_enabled_flag("flappy-path").await;
        let monitor = create_monitor(app).await;
        let slow = app
            .create_guard(json!({
                "name": "too-slow",
                "signal": {"sla": {"monitor_id": monitor, "window_minutes": 10, "response_time_max_ms": 2000}},
                "flags": [guarded_flag("slow-path")],
            }))
            .await["id"]
            .as_i64()
            .unwrap();
        let flappy = app
            .create_guard(json!({
                "name": "too-many-incidents",
                "signal": {"sla": {"monitor_id": monitor, "window_minutes": 30, "incidents_max": 2}},
                "flags": [guarded_flag("flappy-path")],
            }))
            .await["id"]
            .as_i64()
            .unwrap();
        let now = Timestamp::now().millis();
        for i in 0..5 {
            app.feed(monitor, probe_up(1500), now - (8 - i) * MINUTE)
                .await;
        }
        evaluate(app, now).await;
        assert_eq!(
            guard(app, slow).await["state"],
            "armed",
            "mean 1500 ms is within 2000"
        );
        for i in 0..5 {
            app.feed(monitor, probe_up(4000), now + i * 1000).await;
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
        assert!(!app.sdk_enabled("slow-path").await);
        assert_eq!(guard(app, flappy).await["state"], "armed");

        // Three short incidents within half an hour.
        for k in 0..3 {
            app.feed(monitor, probe_down(20), now + (k * 2 + 1) * MINUTE)
                .await;
            app.feed(monitor, probe_up(100), now + (k * 2 + 2) * MINUTE)
                .await;
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
        assert!(!app.sdk_enabled("flappy-path").await);
    }
);

both_backends!(
    the_server_evaluates_sla_guards_by_itself,
    args = looping_args(),
    |app| {
        app.create_enabled_flag("guarded").await;
        let monitor = create_monitor(app).await;
        app
            .create_guard(json!({
                "name": "availability",
                "signal": {"sla": {"monitor_id": monitor, "window_minutes": 60, "availability_min": 99.9}},
                "flags": [guarded_flag("guarded")],
            }))
            .await["id"]
            .as_i64()
            .unwrap();
        let now = Timestamp::now().millis();
        app.feed(monitor, probe_up(50), now - 20 * MINUTE).await;
        app.feed(monitor, probe_down(20), now - 10 * MINUTE).await;
        wait_for(
            "the server to evaluate the SLA",
            Duration::from_secs(10),
            async || !app.sdk_enabled("guarded").await,
        )
        .await;
    }
);
