//! Check history: results fed through the service with explicit timestamps are buffered, written
//! in one batch by `flush_probe_results` (raw rows and roll-ups), served by
//! `/api/v2/monitors/{id}/response-times`, and pruned after the retention window; the SLA report
//! `/api/v2/monitors/{id}/sla` sums incident durations clipped to the window.

use flagwatch::domain::Timestamp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{TestApp, probe_down, probe_up, status_monitor};

const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

async fn create_monitor(app: &TestApp) -> i64 {
    app.create_monitor(status_monitor(
        "API health",
        "https://api.example.com/health",
    ))
    .await
}

async fn raw_count(app: &TestApp, id: i64) -> i64 {
    let mut read = app.service.store().read().await.unwrap();
    read.probe_result_count(id).await.unwrap()
}

async fn response_times(app: &TestApp, id: i64) -> Vec<Value> {
    let (status, body) = app
        .bearer(
            Method::GET,
            &format!("/api/v2/monitors/{id}/response-times"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["id"], id.to_string());
    assert_eq!(body["data"]["type"], "monitor_response_times");
    let regions = body["data"]["attributes"]["regions"].as_array().unwrap();
    assert_eq!(regions.len(), 1, "{body}");
    assert_eq!(regions[0]["region"], "local");
    regions[0]["response_times"].as_array().unwrap().clone()
}

async fn sla(app: &TestApp, id: i64, query: &str) -> Value {
    let (status, body) = app
        .bearer(
            Method::GET,
            &format!("/api/v2/monitors/{id}/sla?{query}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["id"], id.to_string());
    assert_eq!(body["data"]["type"], "monitor_sla");
    body["data"]["attributes"].clone()
}

both_backends!(results_are_batched_rolled_up_and_pruned, |app| {
    let id = create_monitor(app).await;
    let now = Timestamp::now().millis();
    let minute = now - now.rem_euclid(60_000) - 10 * 60_000;
    let day = 86_400_000;

    app.feed(id, probe_up(100), now - 8 * day).await; // past the retention window
    app.feed(id, probe_up(100), now - 2 * day).await; // kept, but older than 24 h
    app.feed(id, probe_up(12), minute + 1_000).await;
    app.feed(id, probe_down(40), minute + 20_000).await;
    app.feed(id, probe_up(30), minute + 61_000).await;
    app.feed(id, probe_up(50), minute + 119_000).await;

    // Nothing is written until the batch is flushed.
    assert_eq!(raw_count(app, id).await, 0);
    assert!(response_times(app, id).await.is_empty());
    assert_eq!(app.service.flush_probe_results().await.unwrap(), 6);
    assert_eq!(app.service.flush_probe_results().await.unwrap(), 0);
    assert_eq!(raw_count(app, id).await, 6);

    let points = response_times(app, id).await;
    assert_eq!(
        points,
        vec![
            json!({"at": Timestamp(minute).to_rfc3339(), "response_time": 0.026}),
            json!({"at": Timestamp(minute + 60_000).to_rfc3339(), "response_time": 0.04}),
        ]
    );

    // A second batch for the same minute adds to its roll-up.
    app.feed(id, probe_up(60), minute + 150_000).await;
    app.feed(id, probe_up(10), minute + 30_000).await;
    assert_eq!(app.service.flush_probe_results().await.unwrap(), 2);
    let points = response_times(app, id).await;
    assert_eq!(points.len(), 3, "{points:?}");
    assert_eq!(points[0]["response_time"], json!(62.0 / 3.0 / 1000.0));
    assert_eq!(points[2]["response_time"], json!(0.06));

    // Retention: raw results older than 7 days before "now" go; the rest stay.
    let deleted = app
        .service
        .prune_probe_results(Timestamp(now), 7)
        .await
        .unwrap();
    assert_eq!(deleted, 2, "one raw row and its minute roll-up");
    assert_eq!(raw_count(app, id).await, 7);
    // With a later "now", everything but the last week's is gone.
    app.service
        .prune_probe_results(Timestamp(now + 6 * day), 7)
        .await
        .unwrap();
    assert_eq!(raw_count(app, id).await, 6);

    let (status, _) = app
        .bearer(Method::GET, "/api/v2/monitors/999999/response-times", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
});

both_backends!(sla_sums_incidents_clipped_to_the_window, |app| {
    let id = create_monitor(app).await;
    let s = |secs: i64| T0 + secs * 1000;
    // Jan 1: up, down 02:00–02:05 (300 s), down again from 23:55 until Jan 2 00:10.
    app.feed(id, probe_up(10), s(3_600)).await;
    app.feed(id, probe_down(10), s(7_200)).await;
    app.feed(id, probe_up(10), s(7_500)).await;
    app.feed(id, probe_down(10), s(86_100)).await;
    app.feed(id, probe_up(10), s(87_000)).await;
    // Jan 4: down from midnight and never back up.
    app.feed(id, probe_down(10), s(3 * 86_400)).await;

    let jan1 = sla(app, id, "from=2026-01-01&to=2026-01-01").await;
    assert_eq!(
        jan1,
        json!({
            "availability": 99.3056,
            "total_downtime": 600,
            "number_of_incidents": 2,
            "longest_incident": 300,
            "average_incident": 300,
        })
    );
    let jan2 = sla(app, id, "from=2026-01-02&to=2026-01-02").await;
    assert_eq!(jan2["total_downtime"], 600);
    assert_eq!(jan2["number_of_incidents"], 1);
    let both = sla(app, id, "from=2026-01-01&to=2026-01-02").await;
    assert_eq!(
        both,
        json!({
            "availability": 99.3056,
            "total_downtime": 1200,
            "number_of_incidents": 2,
            "longest_incident": 900,
            "average_incident": 600,
        })
    );
    let quiet = sla(app, id, "from=2026-01-03&to=2026-01-03").await;
    assert_eq!(quiet["availability"], 100.0);
    assert_eq!(quiet["total_downtime"], 0);
    assert_eq!(quiet["number_of_incidents"], 0);
    // The open incident counts until now, clipped to the window.
    let open = sla(app, id, "from=2026-01-04&to=2026-01-04").await;
    assert_eq!(open["availability"], 0.0);
    assert_eq!(open["total_downtime"], 86_400);
    assert_eq!(open["number_of_incidents"], 1);

    for bad in [
        "from=2026-13-01&to=2026-01-02",
        "from=2026-01-01T00:00:00Z",
        "from=yesterday",
        "from=2026-01-02&to=2026-01-01",
    ] {
        let (status, body) = app
            .bearer(
                Method::GET,
                &format!("/api/v2/monitors/{id}/sla?{bad}"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(body["errors"].is_string(), "{body}");
    }
    let (status, _) = app
        .bearer(
            Method::GET,
            "/api/v2/monitors/999999/sla?from=2026-01-01&to=2026-01-01",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
});
