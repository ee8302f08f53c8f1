//! Status pages: Better Stack's v2 status-page API and its resources (CRUD, 422/404, nothing
//! changed by a rejected request, an event per change), a monitor's daily uptime, and the
//! public page without a token: only the chosen resources, their status, uptime and incidents,
//! every configured string escaped.

use std::time::Duration;

use base64::Engine;
use flagwatch::domain::Timestamp;
use flagwatch::domain::probe::{Cause, ProbeResult};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{ADMIN, TestApp, probe_down, probe_up, send};

const DAY: i64 = 86_400_000;
const HOUR: i64 = 3_600_000;
const MINUTE: i64 = 60_000;

async fn create_page(app: &TestApp, body: Value) -> Value {
    let (status, answer) = app
        .bearer(Method::POST, "/api/v2/status-pages", Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    answer["data"].clone()
}

async fn add_resource(app: &TestApp, page: &str, body: Value) -> Value {
    let (status, answer) = app
        .bearer(
            Method::POST,
            &format!("/api/v2/status-pages/{page}/resources"),
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    answer["data"].clone()
}

/// GET without any token: status, content type, body text.
async fn public(app: &TestApp, path: &str) -> (StatusCode, String, String) {
    let resp = app.request(Method::GET, path, None).send().await.unwrap();
    let status = resp.status();
    let content_type = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, content_type, resp.text().await.unwrap())
}

async fn status_page_events(app: &TestApp) -> Vec<Value> {
    app.events_of_type("status-page-").await
}

fn created_at(data: &Value) -> i64 {
    Timestamp::parse(data["attributes"]["created_at"].as_str().unwrap())
        .unwrap()
        .millis()
}

/// The errors of a 422, by field.
fn field_errors(status: StatusCode, body: &Value) -> Vec<String> {
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let mut fields: Vec<String> = body["errors"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    fields.sort();
    fields
}

both_backends!(crud_with_resources_errors_and_events, |app| {
    let api = app
        .create_monitor(json!({"monitor_type": "status", "url": "https://api.example.com/health", "pronounceable_name": "API health"}))
        .await;
    let beat = app.create_heartbeat(json!({"name": "nightly"})).await;
    let beat_id: i64 = beat["id"].as_str().unwrap().parse().unwrap();

    // Create, in Better Stack's shape; what has no effect here is kept as given.
    let page = create_page(
        app,
        json!({"company_name": "Acme", "company_url": "https://acme.example.com",
               "subdomain": "acme", "timezone": "Amsterdam", "custom_domain": "status.acme.com",
               "subscribable": true}),
    )
    .await;
    let id = page["id"].as_str().unwrap().to_string();
    assert_eq!(page["type"], "status_page");
    let a = &page["attributes"];
    assert_eq!(a["company_name"], "Acme");
    assert_eq!(a["subdomain"], "acme");
    assert_eq!(a["timezone"], "Amsterdam");
    assert_eq!(a["history"], 90, "the default");
    assert_eq!(a["password_enabled"], false);
    assert_eq!(a["published"], true);
    assert_eq!(a["custom_domain"], "status.acme.com");
    assert_eq!(a["subscribable"], true);
    assert_eq!(a["aggregate_state"], "operational");
    let path = format!("/api/v2/status-pages/{id}");
    let (status, got) = app.bearer(Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["data"], page);

    // A list, paginated as Better Stack's.
    create_page(app, json!({"company_name": "Beta", "subdomain": "beta"})).await;
    let (status, listed) = app
        .bearer(Method::GET, "/api/v2/status-pages?per_page=1", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    assert_eq!(listed["data"][0]["id"], id.as_str());
    assert!(
        listed["pagination"]["next"]
            .as_str()
            .unwrap()
            .contains("page=2")
    );

    // PATCH changes only what it names.
    let (status, patched) = app
        .bearer(
            Method::PATCH,
            &path,
            Some(json!({"history": 30, "announcement": "Maintenance on Sunday"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    let p = &patched["data"]["attributes"];
    assert_eq!(p["history"], 30);
    assert_eq!(p["announcement"], "Maintenance on Sunday");
    assert_eq!(p["company_url"], "https://acme.example.com");
    assert_eq!(p["custom_domain"], "status.acme.com");

    // Resources: a monitor and a heartbeat, appended in order.
    let res_path = format!("{path}/resources");
    let r1 = add_resource(
        app,
        &id,
        json!({"resource_id": api, "resource_type": "Monitor", "public_name": "API", "position": 3}),
    )
    .await;
    assert_eq!(r1["type"], "status_page_resource");
    assert_eq!(r1["attributes"]["position"], 3);
    assert_eq!(r1["attributes"]["widget_type"], "history");
    assert_eq!(r1["attributes"]["status"], "not_monitored", "pending");
    assert_eq!(r1["attributes"]["availability"], 1.0);
    let r2 = add_resource(
        app,
        &id,
        json!({"resource_id": beat_id.to_string(), "resource_type": "Heartbeat", "public_name": "Backups",
               "explanation": "Nightly", "widget_type": "plain", "status_page_section_id": 7}),
    )
    .await;
    assert_eq!(r2["attributes"]["position"], 4, "after the last one");
    assert_eq!(
        r2["attributes"]["status_page_section_id"], 7,
        "kept as given"
    );
    let (status, listed) = app.bearer(Method::GET, &res_path, None).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let names: Vec<_> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["attributes"]["public_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["API", "Backups"]);

    // PATCH a resource: moved first.
    let r2_path = format!("{res_path}/{}", r2["id"].as_str().unwrap());
    let (status, moved) = app
        .bearer(
            Method::PATCH,
            &r2_path,
            Some(json!({"position": 0, "public_name": "Nightly backups"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["data"]["attributes"]["explanation"], "Nightly");
    let (_, listed) = app.bearer(Method::GET, &res_path, None).await;
    assert_eq!(
        listed["data"][0]["attributes"]["public_name"],
        "Nightly backups"
    );
    let (status, one) = app.bearer(Method::GET, &r2_path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["data"], moved["data"]);

    // Rejected requests: 422 by field, 404s, and nothing changes.
    let events_before = status_page_events(app).await.len();
    let page_before = app.bearer(Method::GET, &path, None).await.1;
    let resources_before = app.bearer(Method::GET, &res_path, None).await.1;
    let (status, body) = app
        .bearer(
            Method::POST,
            "/api/v2/status-pages",
            Some(json!({"timezone": "Atlantis", "history": 3})),
        )
        .await;
    assert_eq!(
        field_errors(status, &body),
        ["company_name", "history", "subdomain", "timezone"]
    );
    let (status, body) = app
        .bearer(
            Method::POST,
            "/api/v2/status-pages",
            Some(json!({"company_name": "X", "subdomain": "ACME"})),
        )
        .await;
    assert_eq!(field_errors(status, &body), ["subdomain"]);
    assert_eq!(body["errors"]["subdomain"][0], "has already been taken");
    let (status, body) = app
        .bearer(
            Method::PATCH,
            &path,
            Some(json!({"company_name": "Changed", "company_url": "javascript:alert(1)", "subdomain": "beta"})),
        )
        .await;
    assert_eq!(field_errors(status, &body), ["company_url"]);
    let (status, body) = app
        .bearer(
            Method::PATCH,
            &path,
            Some(json!({"company_name": "Changed", "subdomain": "beta"})),
        )
        .await;
    assert_eq!(field_errors(status, &body), ["subdomain"]);
    let (status, body) = app
        .bearer(
            Method::PATCH,
            &path,
            Some(json!({"password_enabled": true})),
        )
        .await;
    assert_eq!(field_errors(status, &body), ["password"]);
    for (bad, field) in [
        (
            json!({"resource_id": api, "public_name": "Again"}),
            "resource_id",
        ),
        (
            json!({"resource_id": 999_999, "public_name": "Nothing"}),
            "resource_id",
        ),
        (
            json!({"resource_id": beat_id, "public_name": "Typed wrong"}),
            "resource_id",
        ),
        (
            json!({"resource_id": api, "resource_type": "LogsChart", "public_name": "x"}),
            "resource_type",
        ),
        (json!({"resource_id": api}), "public_name"),
        (
            json!({"resource_id": api, "public_name": "x", "widget_type": "pie"}),
            "widget_type",
        ),
    ] {
        let (status, body) = app.bearer(Method::POST, &res_path, Some(bad.clone())).await;
        assert_eq!(field_errors(status, &body), [field], "{bad}");
    }
    let (status, body) = app
        .bearer(
            Method::PATCH,
            &r2_path,
            Some(json!({"resource_id": api, "resource_type": "Monitor"})),
        )
        .await;
    assert_eq!(
        field_errors(status, &body),
        ["resource_id"],
        "API is already on the page"
    );
    for (method, missing) in [
        (Method::GET, "/api/v2/status-pages/999999".to_string()),
        (Method::GET, "/api/v2/status-pages/abc".to_string()),
        (Method::PATCH, "/api/v2/status-pages/999999".to_string()),
        (Method::DELETE, "/api/v2/status-pages/999999".to_string()),
        (
            Method::GET,
            "/api/v2/status-pages/999999/resources".to_string(),
        ),
        (
            Method::POST,
            "/api/v2/status-pages/999999/resources".to_string(),
        ),
        (Method::GET, format!("{res_path}/999999")),
        (Method::PATCH, format!("{res_path}/999999")),
        (Method::DELETE, format!("{res_path}/999999")),
    ] {
        let body = matches!(method, Method::PATCH | Method::POST)
            .then(|| json!({"resource_id": api, "public_name": "x", "company_name": "x"}));
        let (status, answer) = app.bearer(method.clone(), &missing, body).await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{method} {missing}: {answer}"
        );
        assert_eq!(
            answer,
            json!({"errors": "Resource with provided ID was not found"})
        );
    }
    let (status, _) = send(app.request(Method::GET, "/api/v2/status-pages", None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = send(
        app.request(Method::POST, "/api/v2/status-pages", None)
            .json(&json!({"company_name": "Nope", "subdomain": "nope"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.bearer(Method::GET, &path, None).await.1, page_before);
    assert_eq!(
        app.bearer(Method::GET, &res_path, None).await.1,
        resources_before
    );
    assert_eq!(
        status_page_events(app).await.len(),
        events_before,
        "no events"
    );

    // Deleting a monitor a page shows removes it from the page, with an event.
    let (status, _) = app
        .bearer(Method::DELETE, &format!("/api/v2/monitors/{api}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, listed) = app.bearer(Method::GET, &res_path, None).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    let removed = &status_page_events(app).await[0];
    assert_eq!(removed["type"], "status-page-resource-deleted");
    assert_eq!(removed["data"]["reason"], "monitor deleted");
    assert_eq!(removed["preData"]["public_name"], "API");

    // DELETE a resource, then the page (its resources go with it).
    let (status, _) = app.bearer(Method::DELETE, &r2_path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.bearer(Method::GET, &r2_path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    add_resource(
        app,
        &id,
        json!({"resource_id": beat_id, "resource_type": "Heartbeat", "public_name": "B"}),
    )
    .await;
    let (status, _) = app.bearer(Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.bearer(Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.bearer(Method::GET, &res_path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let events = status_page_events(app).await;
    let types: Vec<_> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "status-page-deleted",
            "status-page-resource-created",
            "status-page-resource-deleted",
            "status-page-resource-deleted",
            "status-page-resource-updated",
            "status-page-resource-created",
            "status-page-resource-created",
            "status-page-updated",
            "status-page-created",
            "status-page-created",
        ],
        "newest first"
    );
    for e in &events {
        assert_eq!(e["featureName"], Value::Null, "{e}");
        assert_eq!(e["createdByUserId"], -42);
    }
    assert_eq!(events[0]["preData"]["subdomain"], "acme");
    assert_eq!(events[0]["preData"]["resources"][0]["public_name"], "B");
    assert_eq!(events[7]["preData"]["history"], 90);
    assert_eq!(events[7]["data"]["history"], 30);
    assert_eq!(events[4]["preData"]["public_name"], "Backups");
    assert_eq!(events[4]["data"]["public_name"], "Nightly backups");
    assert_eq!(events[2]["data"]["reason"], "removed");
    assert_eq!(events[3]["data"]["reason"], "monitor deleted");
});

both_backends!(daily_uptime_clips_incidents_per_day, |app| {
    let id = app
        .create_monitor(
            json!({"monitor_type": "status", "url": "https://api.example.com/health",
                                "confirmation_period": 0, "recovery_period": 0}),
        )
        .await;
    let (_, monitor) = app
        .bearer(Method::GET, &format!("/api/v2/monitors/{id}"), None)
        .await;
    let created = created_at(&monitor["data"]);

    // Just created: the days before today have no data; today is up so far.
    let (status, body) = app
        .bearer(
            Method::GET,
            &format!("/api/v2/monitors/{id}/uptime?days=3"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let days = body["data"].as_array().unwrap();
    assert_eq!(days.len(), 3);
    assert_eq!(
        days[0],
        json!({"date": days[0]["date"], "availability": null, "downtime_seconds": 0, "incidents": 0})
    );
    assert_eq!(days[2]["availability"], 100.0);
    assert_eq!(
        days[2]["date"],
        &Timestamp::now().to_rfc3339()[..10],
        "ends today (UTC)"
    );
    let (_, body) = app
        .bearer(Method::GET, &format!("/api/v2/monitors/{id}/uptime"), None)
        .await;
    assert_eq!(
        body["data"].as_array().unwrap().len(),
        90,
        "90 days by default"
    );
    for bad in ["days=0", "days=366", "days=x", "timezone=Atlantis"] {
        let (status, body) = app
            .bearer(
                Method::GET,
                &format!("/api/v2/monitors/{id}/uptime?{bad}"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
    let (status, _) = app
        .bearer(Method::GET, "/api/v2/monitors/999999/uptime", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) =
        send(app.request(Method::GET, &format!("/api/v2/monitors/{id}/uptime"), None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A crafted history after creation, seen from a "now" two days and 18 hours after the
    // first UTC midnight D0 that follows it: down 23:45–00:15 across D0+1's midnight, and down
    // since D0+2 12:00, still open.
    let d0 = created - created.rem_euclid(DAY) + DAY;
    app.feed(id, probe_up(10), d0 + HOUR).await;
    app.feed(id, probe_down(10), d0 + 23 * HOUR + 45 * MINUTE)
        .await;
    app.feed(id, probe_up(10), d0 + DAY + 15 * MINUTE).await;
    app.feed(id, probe_down(10), d0 + 2 * DAY + 12 * HOUR).await;
    let now = Timestamp(d0 + 2 * DAY + 18 * HOUR);
    let date = |t: i64| Timestamp(t).to_rfc3339()[..10].to_string();

    let days = app
        .service
        .monitor_uptime(id, 5, chrono_tz::Tz::UTC, now)
        .await
        .unwrap();
    let got: Vec<(String, Option<f64>, i64, i64)> = days
        .iter()
        .map(|d| {
            (
                d.date.to_string(),
                d.availability,
                d.downtime_seconds,
                d.incidents,
            )
        })
        .collect();
    let creation_day = 100.0; // up from creation to D0
    assert_eq!(
        got,
        vec![
            (date(d0 - 2 * DAY), None, 0, 0),
            (date(d0 - DAY), Some(creation_day), 0, 0),
            (date(d0), Some(98.9583), 900, 1),
            (date(d0 + DAY), Some(98.9583), 900, 1),
            (date(d0 + 2 * DAY), Some(66.6667), 6 * 3600, 1),
        ]
    );

    // In Tokyo (UTC+9, no daylight saving) the midnight-crossing incident is 08:45–09:15 of
    // one day, and the open one starts at 21:00, three hours before local midnight; "now" is
    // 03:00 the day after.
    let days = app
        .service
        .monitor_uptime(id, 4, chrono_tz::Tz::Asia__Tokyo, now)
        .await
        .unwrap();
    let got: Vec<(String, Option<f64>, i64, i64)> = days
        .iter()
        .map(|d| {
            (
                d.date.to_string(),
                d.availability,
                d.downtime_seconds,
                d.incidents,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (date(d0), Some(100.0), 0, 0),
            (date(d0 + DAY), Some(97.9167), 1800, 1),
            (date(d0 + 2 * DAY), Some(87.5), 3 * 3600, 1),
            (date(d0 + 3 * DAY), Some(0.0), 3 * 3600, 1),
        ]
    );

    // The SLA report, refactored onto the same arithmetic, agrees over the whole window.
    let sla = app
        .service
        .monitor_sla(id, Some(Timestamp(d0)), None, now)
        .await
        .unwrap();
    assert_eq!(sla.total_downtime, 1800 + 6 * 3600);
    assert_eq!(sla.number_of_incidents, 2);
});

both_backends!(the_public_page_shows_only_what_was_chosen, |app| {
    // Monitors with names and URLs that must never reach the public page.
    let api = app
        .create_monitor(
            json!({"monitor_type": "status", "url": "https://secret-a.internal.example/health",
                                "pronounceable_name": "Secret internal name A",
                                "confirmation_period": 0, "recovery_period": 0}),
        )
        .await;
    app.create_monitor(
        json!({"monitor_type": "status", "url": "https://hidden-b.internal.example/",
                              "pronounceable_name": "Hidden monitor B"}),
    )
    .await;
    let beat = app
        .create_heartbeat(json!({"name": "nightly-backup-job"}))
        .await;
    app.create_flag("top-secret-flag").await;
    let (_, monitor) = app
        .bearer(Method::GET, &format!("/api/v2/monitors/{api}"), None)
        .await;
    let created = created_at(&monitor["data"]);

    // No page yet: /status is a 404 page.
    let (status, content_type, html) = public(app, "/status").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(html.contains("id=\"status-page-not-found\""), "{html}");

    let page = create_page(
        app,
        json!({"company_name": "Acme <script>alert('name')</script>", "subdomain": "acme",
               "company_url": "https://acme.example.com/?a=1&b=2\"onmouseover=\"x",
               "announcement": "Upgrade <b>tonight</b> & \"tomorrow\""}),
    )
    .await;
    let page_id = page["id"].as_str().unwrap().to_string();
    add_resource(
        app,
        &page_id,
        json!({"resource_id": api, "public_name": "API <img src=x onerror=alert(1)>",
               "explanation": "REST & <i>GraphQL</i>"}),
    )
    .await;
    add_resource(
        app,
        &page_id,
        json!({"resource_id": beat["id"], "resource_type": "Heartbeat", "public_name": "Backups"}),
    )
    .await;

    // The heartbeat pings (up); the API fails with a 503, recovers, then times out (ongoing).
    let (status, _) = send(app.request(Method::GET, &app.ping_path(&beat), None)).await;
    assert_eq!(status, StatusCode::OK);
    app.feed(api, probe_down(10), created + 1).await;
    app.feed(api, probe_up(10), created + 2).await;
    app.feed(
        api,
        ProbeResult::down(
            Cause::Timeout,
            Duration::from_secs(30),
            "no answer from secret-a.internal.example",
        ),
        created + 3,
    )
    .await;

    let (status, content_type, html) = public(app, "/status").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let (status, _, by_slug) = public(app, "/status/acme").await;
    assert_eq!(status, StatusCode::OK);
    let strip_times = |s: &str| s.split("Updated").next().unwrap().to_string();
    assert_eq!(
        strip_times(&html),
        strip_times(&by_slug),
        "/status is the only page"
    );

    // The state, each resource with its status, uptime and bars.
    assert!(
        html.contains("data-aggregate-state=\"partial_outage\""),
        "{html}"
    );
    assert!(html.contains(">Partial outage</h1>"));
    assert!(html.contains("data-resource-type=\"Monitor\" data-status=\"downtime\""));
    assert!(html.contains("data-resource-type=\"Heartbeat\" data-status=\"operational\""));
    assert_eq!(html.matches("class=\"resource\"").count(), 2);
    assert_eq!(html.matches("data-days=\"90\"").count(), 2);
    assert_eq!(html.matches("<li class=\"uptime-bar").count(), 180);
    let uptimes: Vec<f64> = html
        .split("data-uptime=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(uptimes.len(), 2);
    assert!(
        uptimes[0] < 100.0,
        "the API has been down almost since it was created: {uptimes:?}"
    );
    assert_eq!(uptimes[1], 100.0);
    assert!(html.contains("title=\""), "each day has a tooltip");

    // Incident history: the ongoing timeout above the resolved 503, with public causes.
    let ongoing = html
        .find("data-state=\"ongoing\"")
        .expect("an ongoing incident");
    let resolved = html
        .find("data-state=\"resolved\"")
        .expect("a resolved incident");
    assert!(ongoing < resolved, "newest first");
    assert!(html[ongoing..resolved].contains("Timeout"));
    assert!(html[resolved..].contains("HTTP 503 error"));
    assert_eq!(html.matches("class=\"incident\"").count(), 2);

    // Every configured string is escaped.
    assert!(!html.contains("<script"), "no script at all");
    assert!(!html.contains("<img"));
    assert!(!html.contains("<b>"));
    assert!(!html.contains("<i>GraphQL"));
    assert!(html.contains("Acme &lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;"));
    assert!(html.contains("API &lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.contains("REST &amp; &lt;i&gt;GraphQL&lt;/i&gt;"));
    assert!(html.contains("Upgrade &lt;b&gt;tonight&lt;/b&gt; &amp; &quot;tomorrow&quot;"));
    assert!(
        html.contains("href=\"https://acme.example.com/?a=1&amp;b=2%22onmouseover=%22x\"")
            || html.contains(
                "href=\"https://acme.example.com/?a=1&amp;b=2&quot;onmouseover=&quot;x\""
            )
    );

    // Nothing that was not chosen: other monitors, internal names and URLs, check details,
    // flags, tokens.
    for secret in [
        "Secret internal name A",
        "secret-a.internal",
        "Hidden monitor B",
        "hidden-b",
        "nightly-backup-job",
        "top-secret-flag",
        "Service Unavailable",
        "unleash-admin-api-token",
        ADMIN,
    ] {
        assert!(!html.contains(secret), "{secret} is on the page");
    }

    // The same for machines.
    let (status, content_type, text) = public(app, "/status/acme.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("application/json"));
    let summary: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(summary["page"]["aggregate_state"], "partial_outage");
    assert_eq!(summary["resources"][0]["status"], "downtime");
    assert_eq!(summary["resources"][1]["public_name"], "Backups");
    assert_eq!(
        summary["resources"][1]["days"].as_array().unwrap().len(),
        90
    );
    assert_eq!(summary["incidents"][0]["status"], "ongoing");
    assert_eq!(summary["incidents"][1]["cause"], "HTTP 503 error");
    for secret in [
        "secret-a.internal",
        "Secret internal",
        "hidden-b",
        "nightly-backup-job",
    ] {
        assert!(!text.contains(secret), "{secret} is in the summary");
    }

    // Unknown pages are 404 pages; an unpublished page is unknown.
    let (status, content_type, html) = public(app, "/status/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(content_type.starts_with("text/html"));
    assert!(html.contains("Status page not found"));
    let (status, _, _) = public(app, "/status/nope.json").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Two published pages: /status lists them.
    let other = create_page(
        app,
        json!({"company_name": "Other <co>", "subdomain": "other", "theme": "dark"}),
    )
    .await;
    let (status, _, html) = public(app, "/status").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"status-page-index\""));
    assert!(html.contains("href=\"/status/acme\""));
    assert!(html.contains("href=\"/status/other\""));
    assert!(html.contains("Other &lt;co&gt;"));
    let (_, _, html) = public(app, "/status/other").await;
    assert!(html.contains("data-theme=\"dark\""));
    assert!(html.contains("No services are listed"));
    let other_path = format!("/api/v2/status-pages/{}", other["id"].as_str().unwrap());
    let (status, _) = app
        .bearer(
            Method::PATCH,
            &other_path,
            Some(json!({"published": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = public(app, "/status/other").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, _, html) = public(app, "/status").await;
    assert!(
        html.contains("data-slug=\"acme\""),
        "the one published page"
    );

    // A password-protected page answers HTTP Basic; the password is never shown or logged.
    let (status, _) = app
        .bearer(
            Method::PATCH,
            &other_path,
            Some(json!({"published": true, "password_enabled": true, "password": "correct horse"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let resp = app
        .request(Method::GET, "/status/other", None)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(
        resp.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic ")
    );
    let basic = |p: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("visitor:{p}"))
        )
    };
    let resp = app
        .request(Method::GET, "/status/other", Some(&basic("wrong")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let resp = app
        .request(
            Method::GET,
            "/status/other.json",
            Some(&basic("correct horse")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let (_, got) = app.bearer(Method::GET, &other_path, None).await;
    assert_eq!(got["data"]["attributes"]["password_enabled"], true);
    assert!(!got.to_string().contains("correct horse"));
    assert!(got["data"]["attributes"].get("password").is_none());
    let events = status_page_events(app).await;
    assert!(
        !Value::from(events.clone())
            .to_string()
            .contains("correct horse")
    );
    assert_eq!(events[0]["data"]["password_changed"], true);

    // The page's answers forbid scripts outright.
    let resp = app
        .request(Method::GET, "/status/acme", None)
        .send()
        .await
        .unwrap();
    let csp = resp.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
});
