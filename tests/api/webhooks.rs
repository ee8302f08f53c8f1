//! Better Stack incident webhooks: sources (secret shown once, stored hashed, rotated), the
//! receiver's answers (401/400 recording nothing, no_flags_mapped, duplicate, unknown events),
//! Basic auth, the tutorial's legacy path, a flood of concurrent deliveries with duplicates,
//! and flags switched off and on through guards by recorded payloads
//! (`tests/fixtures/betterstack/`).

use std::collections::HashMap;

use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{TestApp, guarded_flag, send};

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/betterstack/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

async fn create_source(app: &TestApp, body: Value) -> Value {
    let (status, body) = app
        .admin(Method::POST, "/api/admin/webhook-sources", Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

/// The receiver path from a source's `url`.
fn receiver(app: &TestApp, source: &Value) -> String {
    app.path_of(source["url"].as_str().unwrap())
}

/// Posts `body` as Better Stack does (JSON, no token).
async fn deliver(app: &TestApp, path: &str, body: &str) -> (StatusCode, Value) {
    deliver_with(app, path, body, &[]).await
}

async fn deliver_with(
    app: &TestApp,
    path: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, Value) {
    let mut rb = app
        .client
        .post(app.url(path))
        .header("content-type", "application/json")
        .body(body.to_string());
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    send(rb).await
}

/// (how many deliveries a source logged, the newest page).
async fn deliveries(app: &TestApp, source: &Value) -> (i64, Vec<Value>) {
    let (status, body) = app
        .admin(
            Method::GET,
            &format!(
                "/api/admin/webhook-sources/{}/deliveries?limit=1000",
                source["id"]
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (
        body["total"].as_i64().unwrap(),
        body["deliveries"].as_array().unwrap().clone(),
    )
}

async fn event_total(app: &TestApp) -> i64 {
    let (status, body) = app.admin(Method::GET, "/api/admin/events", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["totalEvents"].as_i64().unwrap()
}

async fn events_of(app: &TestApp, kind: &str) -> Vec<Value> {
    app.events_at(&format!(
        "/api/admin/search/events?type=IS:{kind}&limit=1000"
    ))
    .await
}

/// A guard on a Better Stack monitor (id or name) over one development flag.
async fn create_guard(app: &TestApp, name: &str, monitor: &str, flag: &str) -> Value {
    app.create_guard(json!({
        "name": name,
        "signal": {"betterstack_monitor": monitor},
        "flags": [guarded_flag(flag)],
        "on_recovery": "re_enable",
    }))
    .await
}

async fn disabled_events(app: &TestApp, flag: &str) -> Vec<Value> {
    app.flag_events(flag)
        .await
        .into_iter()
        .filter(|e| e["type"] == "feature-environment-disabled")
        .collect()
}

both_backends!(
    a_source_shows_its_secret_once_and_is_listed_without_it,
    |app| {
        let source =
            create_source(app, json!({"name": "better-stack", "kind": "betterstack"})).await;
        let secret = source["secret"].as_str().unwrap();
        assert!(secret.len() >= 32, "{source}");
        assert_eq!(
            source["url"],
            app.url(&format!("/api/webhooks/betterstack/{secret}"))
        );
        assert_eq!(source["name"], "better-stack");
        assert_eq!(source["kind"], "betterstack");
        assert_eq!(source["basic_auth"], Value::Null);
        assert_eq!(source["legacy_path"], false);

        // Behind a proxy the URL follows the forwarded scheme and host.
        let (status, proxied) = send(
            app.request(
                Method::POST,
                "/api/admin/webhook-sources",
                Some(crate::helpers::ADMIN),
            )
            .header("host", "flags.example.com")
            .header("x-forwarded-proto", "https")
            .json(&json!({"name": "proxied"})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{proxied}");
        assert!(
            proxied["url"]
                .as_str()
                .unwrap()
                .starts_with("https://flags.example.com/api/webhooks/betterstack/"),
            "{proxied}"
        );

        let (status, list) = app
            .admin(Method::GET, "/api/admin/webhook-sources", None)
            .await;
        assert_eq!(status, StatusCode::OK, "{list}");
        let listed = list["webhook_sources"].as_array().unwrap();
        assert_eq!(listed.len(), 2);
        let (status, one) = app
            .admin(
                Method::GET,
                &format!("/api/admin/webhook-sources/{}", source["id"]),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{one}");
        assert_eq!(one["name"], "better-stack");
        for shown in listed.iter().chain([&one]) {
            assert!(shown.get("secret").is_none(), "{shown}");
            assert!(shown.get("url").is_none(), "{shown}");
            assert!(!shown.to_string().contains(secret), "{shown}");
        }

        // The event says who created what, never the secret.
        let created = events_of(app, "webhook-source-created").await;
        assert_eq!(created.len(), 2);
        assert!(!created.iter().any(|e| e.to_string().contains(secret)));

        // Deleting: 204, then 404; the event keeps what was deleted.
        let path = format!("/api/admin/webhook-sources/{}", proxied["id"]);
        let (status, _) = app.admin(Method::DELETE, &path, None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, body) = app.admin(Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        let (status, _) = app.admin(Method::DELETE, &path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let deleted = events_of(app, "webhook-source-deleted").await;
        assert_eq!(deleted.len(), 1);
        assert_eq!(deleted[0]["preData"]["name"], "proxied");

        // Without an admin token: 401.
        let (status, _) = send(app.request(Method::GET, "/api/admin/webhook-sources", None)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
);

both_backends!(
    bad_source_input_is_refused_naming_the_field_and_changes_nothing,
    |app| {
        create_source(app, json!({"name": "taken"})).await;
        let before = event_total(app).await;
        for (body, field) in [
            (json!({}), "name"),
            (json!({"name": "  "}), "name"),
            (json!({"name": 5}), "name"),
            (json!({"name": "x", "kind": "pagerduty"}), "kind"),
            (
                json!({"name": "x", "basic_auth": "user:pass"}),
                "basic_auth",
            ),
            (
                json!({"name": "x", "basic_auth": {"username": "u"}}),
                "basic_auth.password",
            ),
            (json!({"name": "x", "legacy_path": "yes"}), "legacy_path"),
        ] {
            let (status, answer) = app
                .admin(
                    Method::POST,
                    "/api/admin/webhook-sources",
                    Some(body.clone()),
                )
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
            assert_eq!(answer["details"][0]["path"], field, "{body}: {answer}");
            let last = field.rsplit('.').next().unwrap();
            assert!(
                answer["details"][0]["message"]
                    .as_str()
                    .unwrap()
                    .contains(last),
                "{answer}"
            );
        }
        let (status, answer) = app
            .admin(
                Method::POST,
                "/api/admin/webhook-sources",
                Some(json!({"name": "x", "colour": "red"})),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        let (status, answer) = app
            .admin(
                Method::POST,
                "/api/admin/webhook-sources",
                Some(json!({"name": "taken"})),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{answer}");
        assert!(answer["message"].as_str().unwrap().contains("taken"));
        for path in [
            "/api/admin/webhook-sources/999",
            "/api/admin/webhook-sources/abc",
            "/api/admin/webhook-sources/999/deliveries",
        ] {
            let (status, answer) = app.admin(Method::GET, path, None).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {answer}");
        }
        let (status, _) = app
            .admin(
                Method::POST,
                "/api/admin/webhook-sources/999/rotate-secret",
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(event_total(app).await, before, "nothing was recorded");
        let (status, list) = app
            .admin(Method::GET, "/api/admin/webhook-sources", None)
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(list["webhook_sources"].as_array().unwrap().len(), 1);
    }
);

both_backends!(
    wrong_secrets_and_malformed_bodies_are_refused_and_record_nothing,
    |app| {
        let source = create_source(app, json!({"name": "bs"})).await;
        let path = receiver(app, &source);
        let events_before = event_total(app).await;

        // Unknown secret: 401 whatever the body.
        for wrong in [
            "/api/webhooks/betterstack/not-the-secret",
            &format!("{path}x"),
        ] {
            let (status, body) = deliver(app, wrong, &fixture("incident-started.json")).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
            let (status, _) = deliver(app, wrong, "not json").await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }

        // Malformed: 400 with a message saying what is wrong.
        for (body, says) in [
            ("not json", "not valid JSON"),
            ("", "empty"),
            ("[]", "object"),
            (r#"{"data": {"id": "1", "type": "incident"}}"#, "event"),
            (r#"{"event": 42}"#, "event"),
            (r#"{"event": "started", "data": "incident"}"#, "data"),
            (
                r#"{"event": "started", "data": {"id": {"x": 1}}}"#,
                "data.id",
            ),
            (
                r#"{"event": "started", "data": {"relationships": {"monitor": {"data": {"id": true}}}}}"#,
                "data.relationships.monitor.data.id",
            ),
            (
                r#"{"data": {"attributes": {"pronounceable_name": "api", "status": false}}}"#,
                "status",
            ),
        ] {
            let (status, answer) = deliver(app, &path, body).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
            let text = answer.to_string();
            assert!(text.contains(says), "{body}: {answer}");
        }

        // Too large: 413.
        let huge = format!(
            r#"{{"event": "started", "pad": "{}"}}"#,
            "x".repeat(1 << 20)
        );
        let (status, _) = deliver(app, &path, &huge).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

        assert_eq!(deliveries(app, &source).await.0, 0, "nothing logged");
        assert_eq!(event_total(app).await, events_before, "no event");
    }
);

both_backends!(
    deliveries_are_logged_once_and_redeliveries_are_duplicates,
    |app| {
        let source = create_source(app, json!({"name": "bs"})).await;
        let path = receiver(app, &source);

        // No guard names monitor 4: recorded, answered no_flags_mapped.
        let (status, body) = deliver(app, &path, &fixture("incident-started.json")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            body,
            json!({"status": "no_flags_mapped", "event": "started"})
        );
        let (total, log) = deliveries(app, &source).await;
        assert_eq!(total, 1);
        assert_eq!(log[0]["event"], "started");
        assert_eq!(log[0]["incident_id"], "1");
        assert_eq!(log[0]["monitor_id"], "4");
        assert_eq!(log[0]["monitor_name"], "Tesla.com homepage");
        assert_eq!(log[0]["outcome"], "no_flags_mapped");
        assert!(log[0]["received_at"].is_string());
        let received = events_of(app, "betterstack-webhook-received").await;
        assert_eq!(received.len(), 1);
        assert_eq!(received[0]["createdBy"], "webhook:bs");
        assert_eq!(received[0]["data"]["source"]["name"], "bs");
        assert_eq!(received[0]["data"]["event"], "started");
        assert_eq!(received[0]["data"]["incident"], "1");
        assert_eq!(received[0]["data"]["monitor"]["id"], "4");
        assert_eq!(received[0]["data"]["outcome"], "no_flags_mapped");

        // The same delivery again, even with its keys in another order: a duplicate, not logged.
        let events_before = event_total(app).await;
        let reordered: Value = serde_json::from_str(&fixture("incident-started.json")).unwrap();
        for body in [fixture("incident-started.json"), reordered.to_string()] {
            let (status, answer) = deliver(app, &path, &body).await;
            assert_eq!(status, StatusCode::OK, "{answer}");
            assert_eq!(answer, json!({"status": "duplicate", "event": "started"}));
        }
        assert_eq!(deliveries(app, &source).await.0, 1);
        assert_eq!(event_total(app).await, events_before);

        // Acknowledged and resolved are deliveries of their own; an undocumented event is
        // recorded and answered 200.
        for name in ["incident-acknowledged.json", "incident-resolved.json"] {
            let (status, answer) = deliver(app, &path, &fixture(name)).await;
            assert_eq!(status, StatusCode::OK, "{answer}");
            assert_eq!(answer["status"], "no_flags_mapped");
        }
        let comment = fixture("incident-started.json").replace("\"started\"", "\"comment\"");
        let (status, answer) = deliver(app, &path, &comment).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["event"], "comment");
        let (total, log) = deliveries(app, &source).await;
        assert_eq!(total, 4);
        let events: Vec<&str> = log.iter().map(|d| d["event"].as_str().unwrap()).collect();
        assert_eq!(events, ["comment", "resolved", "acknowledged", "started"]);

        // The tutorial's shape has no incident id: the same body is a duplicate while it is the
        // latest about its monitor, and a new failure after the monitor came back up.
        let down = fixture("tutorial-down.json");
        let up = fixture("tutorial-up.json");
        for (body, expected) in [
            (&down, "no_flags_mapped"),
            (&down, "duplicate"),
            (&up, "no_flags_mapped"),
            (&up, "duplicate"),
            (&down, "no_flags_mapped"),
            (&down, "duplicate"),
        ] {
            let (status, answer) = deliver(app, &path, body).await;
            assert_eq!(status, StatusCode::OK, "{answer}");
            assert_eq!(answer["status"], expected, "{body}");
        }
        let (total, log) = deliveries(app, &source).await;
        assert_eq!(total, 7);
        assert_eq!(log[0]["event"], "down");
        assert_eq!(log[0]["monitor_name"], "Tesla.com homepage");

        // Deleting the source deletes its log and stops its URL.
        let (status, _) = app
            .admin(
                Method::DELETE,
                &format!("/api/admin/webhook-sources/{}", source["id"]),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, _) = deliver(app, &path, &fixture("incident-started.json")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
);

both_backends!(a_source_with_basic_auth_needs_it, |app| {
    let source = create_source(
        app,
        json!({"name": "bs", "basic_auth": {"username": "better", "password": "s3cret:pw"}}),
    )
    .await;
    assert_eq!(source["basic_auth"], json!({"username": "better"}));
    assert!(!source.to_string().contains("s3cret"), "{source}");
    let path = receiver(app, &source);
    let basic = |user: &str, pass: &str| {
        use base64::Engine;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
        )
    };
    let body = fixture("incident-started.json");
    for auth in [
        None,
        Some(basic("better", "wrong")),
        Some(basic("other", "s3cret:pw")),
        Some("Bearer s3cret:pw".to_string()),
    ] {
        let headers: Vec<(&str, &str)> = auth
            .as_deref()
            .map(|a| vec![("authorization", a)])
            .unwrap_or_default();
        let (status, answer) = deliver_with(app, &path, &body, &headers).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{auth:?}: {answer}");
    }
    assert_eq!(deliveries(app, &source).await.0, 0);
    let right = basic("better", "s3cret:pw");
    let (status, answer) =
        deliver_with(app, &path, &body, &[("authorization", right.as_str())]).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(deliveries(app, &source).await.0, 1);

    // Basic auth alone, without the secret in the URL, is not enough.
    let (status, _) = deliver_with(
        app,
        "/api/webhooks/betterstack/guess",
        &body,
        &[("authorization", right.as_str())],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
});

both_backends!(rotating_the_secret_retires_the_old_url, |app| {
    let source = create_source(app, json!({"name": "bs"})).await;
    let old = receiver(app, &source);
    let (status, rotated) = app
        .admin(
            Method::POST,
            &format!("/api/admin/webhook-sources/{}/rotate-secret", source["id"]),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    assert_ne!(rotated["secret"], source["secret"]);
    assert_eq!(rotated["id"], source["id"]);
    let new = receiver(app, &rotated);
    assert_ne!(old, new);

    let (status, _) = deliver(app, &old, &fixture("incident-started.json")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, answer) = deliver(app, &new, &fixture("incident-started.json")).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let rotations = events_of(app, "webhook-source-secret-rotated").await;
    assert_eq!(rotations.len(), 1);
    assert!(
        !rotations[0]
            .to_string()
            .contains(rotated["secret"].as_str().unwrap())
    );
});

both_backends!(the_tutorial_path_works_for_sources_that_allow_it, |app| {
    let legacy = "/webhook/betteruptime";
    let down = fixture("tutorial-down.json");
    let (status, answer) = deliver(app, legacy, &down).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "no source allows it yet: {answer}"
    );

    let plain = create_source(app, json!({"name": "plain"})).await;
    let (status, _) = deliver(app, legacy, &down).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a source must opt in");

    let source = create_source(app, json!({"name": "moved", "legacy_path": true})).await;
    assert_eq!(source["legacy_url"], app.url(legacy));
    let with_creds = create_source(
        app,
        json!({"name": "moved-basic", "legacy_path": true,
               "basic_auth": {"username": "bu", "password": "bp"}}),
    )
    .await;
    let secret = source["secret"].as_str().unwrap();
    let basic = |user: &str, pass: &str| {
        use base64::Engine;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
        )
    };

    // Refused: nothing, a wrong secret, another source's secret that does not allow the path.
    let plain_secret = plain["secret"].as_str().unwrap();
    let wrong_basic = basic("bu", "nope");
    for headers in [
        vec![],
        vec![("x-webhook-secret", "wrong")],
        vec![("x-webhook-secret", plain_secret)],
        vec![("authorization", wrong_basic.as_str())],
    ] {
        let (status, answer) = deliver_with(app, legacy, &down, &headers).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{headers:?}: {answer}");
    }
    assert_eq!(deliveries(app, &source).await.0, 0);
    assert_eq!(deliveries(app, &with_creds).await.0, 0);

    // Accepted: the secret as a header, as a bearer token, as the Basic-auth password; a
    // source's own Basic auth. Each is logged against the source it matched.
    let bearer = format!("Bearer {secret}");
    let password = basic("anyone", secret);
    let own = basic("bu", "bp");
    for (i, header) in [
        ("x-webhook-secret", secret),
        ("authorization", bearer.as_str()),
        ("authorization", password.as_str()),
    ]
    .into_iter()
    .enumerate()
    {
        // A different monitor each time, so none is a duplicate of the last.
        let body = down.replace("Tesla.com homepage", &format!("monitor {i}"));
        let (status, answer) = deliver_with(app, legacy, &body, &[header]).await;
        assert_eq!(status, StatusCode::OK, "{header:?}: {answer}");
        assert_eq!(answer["status"], "no_flags_mapped");
    }
    let (status, answer) =
        deliver_with(app, legacy, &down, &[("authorization", own.as_str())]).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(deliveries(app, &source).await.0, 3);
    assert_eq!(deliveries(app, &with_creds).await.0, 1);
});

both_backends!(
    started_switches_the_guarded_flag_off_and_resolved_back_on,
    |app| {
        app.create_enabled_flag("new-checkout-flow").await;
        let guard = create_guard(app, "tesla", "4", "new-checkout-flow").await;
        let source = create_source(app, json!({"name": "bs"})).await;
        let path = receiver(app, &source);
        assert!(app.sdk_enabled("new-checkout-flow").await);

        let (status, answer) = deliver(app, &path, &fixture("incident-started.json")).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["status"], "processed", "{answer}");
        assert_eq!(answer["event"], "started");
        let acted = &answer["guards"][0];
        assert_eq!(acted["id"], guard["id"], "{answer}");
        assert_eq!(acted["name"], "tesla");
        assert!(acted["trip_id"].as_i64().is_some(), "{answer}");
        assert_eq!(
            acted["flags"],
            json!([{"project": "default", "feature": "new-checkout-flow", "environment": "development"}])
        );
        assert!(!app.sdk_enabled("new-checkout-flow").await, "switched off");
        let disabled = disabled_events(app, "new-checkout-flow").await;
        assert_eq!(disabled.len(), 1);
        assert_eq!(disabled[0]["createdBy"], "guard:tesla");

        // A redelivery does nothing; acknowledged is recorded only.
        let (_, answer) = deliver(app, &path, &fixture("incident-started.json")).await;
        assert_eq!(answer["status"], "duplicate");
        let (_, answer) = deliver(app, &path, &fixture("incident-acknowledged.json")).await;
        assert_eq!(answer["status"], "recorded", "{answer}");
        assert!(!app.sdk_enabled("new-checkout-flow").await);
        assert_eq!(disabled_events(app, "new-checkout-flow").await.len(), 1);

        // Resolved: re_enable switches it back on.
        let (status, answer) = deliver(app, &path, &fixture("incident-resolved.json")).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["status"], "processed", "{answer}");
        assert!(app.sdk_enabled("new-checkout-flow").await, "back on");

        let (_, log) = deliveries(app, &source).await;
        let outcomes: Vec<(&str, &str)> = log
            .iter()
            .map(|d| (d["event"].as_str().unwrap(), d["outcome"].as_str().unwrap()))
            .collect();
        assert_eq!(
            outcomes,
            [
                ("resolved", "processed"),
                ("acknowledged", "recorded"),
                ("started", "processed")
            ]
        );
        assert_eq!(log[2]["guards"][0]["name"], "tesla");
    }
);

both_backends!(the_tutorial_shape_switches_flags_by_monitor_name, |app| {
    app.create_enabled_flag("search-v2").await;
    // Names match whatever their case.
    create_guard(app, "by-name", "tesla.com HOMEPAGE", "search-v2").await;
    let source = create_source(app, json!({"name": "moved", "legacy_path": true})).await;
    let secret = source["secret"].as_str().unwrap().to_string();
    let headers = [("x-webhook-secret", secret.as_str())];

    let (status, answer) = deliver_with(
        app,
        "/webhook/betteruptime",
        &fixture("tutorial-down.json"),
        &headers,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["status"], "processed", "{answer}");
    assert!(!app.sdk_enabled("search-v2").await);

    let (status, answer) = deliver_with(
        app,
        "/webhook/betteruptime",
        &fixture("tutorial-up.json"),
        &headers,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["status"], "processed", "{answer}");
    assert!(app.sdk_enabled("search-v2").await);
});

both_backends!(
    a_flood_of_deliveries_with_duplicates_acts_once_per_delivery,
    |app| {
        app.create_enabled_flag("flood-flag").await;
        create_guard(app, "flooded", "guarded-monitor", "flood-flag").await;
        let source = create_source(app, json!({"name": "bs"})).await;
        let path = receiver(app, &source);

        // 200 incidents × {started, resolved} on unguarded monitors, plus one incident of the
        // guarded monitor started; each sent two or three times: 1,000 deliveries, 401 distinct.
        let template: Value = serde_json::from_str(&fixture("incident-started.json")).unwrap();
        let mut distinct: Vec<String> = Vec::new();
        for incident in 0..200 {
            for event in ["started", "resolved"] {
                let mut body = template.clone();
                body["event"] = json!(event);
                body["data"]["id"] = json!(format!("flood-{incident}"));
                body["data"]["relationships"]["monitor"]["data"]["id"] =
                    json!(format!("m-{}", incident % 17));
                distinct.push(body.to_string());
            }
        }
        let mut guarded = template.clone();
        guarded["data"]["id"] = json!("g-1");
        guarded["data"]["relationships"]["monitor"]["data"]["id"] = json!("guarded-monitor");
        // 5 copies of the guarded one, 3 of the first 195 others and 2 of the rest: 1,000.
        let mut bodies: Vec<String> = std::iter::repeat_n(guarded.to_string(), 5).collect();
        for (i, body) in distinct.iter().enumerate() {
            let copies = if i < 195 { 3 } else { 2 };
            bodies.extend(std::iter::repeat_n(body.clone(), copies));
        }
        // A fixed shuffle, so copies of one delivery are spread through the flood.
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in (1..bodies.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            bodies.swap(i, (state % (i as u64 + 1)) as usize);
        }
        assert_eq!(bodies.len(), 1000);
        let sent_distinct = {
            let mut seen = bodies.clone();
            seen.sort();
            seen.dedup();
            seen.len()
        };
        assert_eq!(sent_distinct, 401);

        // 256 in flight at a time: all 1,000 at once are absorbed the same, but need about
        // 2,000 sockets in this one process, more than a default descriptor limit of 1,024.
        let started = std::time::Instant::now();
        let answers: Vec<(StatusCode, Value)> = futures_util::stream::iter(bodies.iter())
            .map(|body| deliver(app, &path, body))
            .buffer_unordered(256)
            .collect()
            .await;
        let took = started.elapsed();
        let mut counts: HashMap<String, usize> = HashMap::new();
        for (status, answer) in &answers {
            assert_eq!(*status, StatusCode::OK, "{answer}");
            *counts
                .entry(answer["status"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        assert_eq!(counts.get("duplicate"), Some(&599), "{counts:?}");
        assert_eq!(counts.get("no_flags_mapped"), Some(&400), "{counts:?}");
        assert_eq!(counts.get("processed"), Some(&1), "{counts:?}");
        assert!(took.as_secs() < 30, "the flood took {took:?}");

        assert_eq!(deliveries(app, &source).await.0, 401);
        assert_eq!(
            events_of(app, "betterstack-webhook-received").await.len(),
            401
        );
        // The guarded monitor's incident acted once.
        assert!(!app.sdk_enabled("flood-flag").await);
        assert_eq!(disabled_events(app, "flood-flag").await.len(), 1);
    }
);

both_backends!(
    the_unique_index_refuses_a_second_delivery_with_the_same_key,
    |app| {
        use flagwatch::store::{StoreError, WebhookDelivery};
        let source = create_source(app, json!({"name": "bs"})).await;
        let delivery = WebhookDelivery {
            id: 0,
            source_id: source["id"].as_i64().unwrap(),
            dedup_key: "incident:1:started".into(),
            received_at: flagwatch::domain::Timestamp::now(),
            event: "started".into(),
            incident_id: Some("1".into()),
            monitor_id: Some("4".into()),
            monitor_name: None,
            outcome: "no_flags_mapped".into(),
            guards: json!([]),
        };
        // What the receiver relies on when two deliveries race past the duplicate check: the
        // second insert is a Conflict (answered "duplicate"), on both backends.
        let mut tx = app.service.store().write().await.unwrap();
        tx.insert_webhook_delivery(&delivery).await.unwrap();
        let second = tx.insert_webhook_delivery(&delivery).await;
        assert!(
            matches!(second, Err(StoreError::Conflict { .. })),
            "{second:?}"
        );
        drop(tx);
        assert_eq!(deliveries(app, &source).await.0, 0, "rolled back");
    }
);
