//! Better Stack's v2 monitor API: the tutorial's commands verbatim, CRUD with JSON:API
//! envelopes, PATCH semantics, filters, pagination, 422/404/401/403 and the audit events.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{ADMIN, BEARER, CLIENT_DEV, TestApp, send};

async fn create(app: &TestApp, body: Value) -> Value {
    let (status, body) = app
        .bearer(Method::POST, "/api/v2/monitors", Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["data"].clone()
}

async fn list_all(app: &TestApp) -> Vec<Value> {
    let (status, body) = app
        .bearer(Method::GET, "/api/v2/monitors?per_page=250", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].as_array().unwrap().clone()
}

both_backends!(tutorial_commands_work_verbatim, |app| {
    // curl -X POST .../api/v2/monitors -H "Authorization: Bearer <admin>" -H "Content-Type: application/json" -d '…'
    let first = app
        .request(Method::POST, "/api/v2/monitors", Some(BEARER))
        .header("Content-Type", "application/json")
        .body(r#"{"monitor_type": "status", "url": "https://api.example.com/health", "pronounceable_name": "Production API Health", "check_frequency": 30, "request_timeout": 15, "confirmation_period": 0, "http_method": "get", "expected_status_codes": [200], "regions": ["us", "eu", "ap"], "maintenance_from": null, "paused": false, "follow_redirects": true, "remember_cookies": false}"#);
    let (status, body) = send(first).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let data = &body["data"];
    assert!(data["id"].is_string(), "ids are strings: {body}");
    assert_eq!(data["type"], "monitor");
    let a = &data["attributes"];
    assert_eq!(a["monitor_type"], "status");
    assert_eq!(a["url"], "https://api.example.com/health");
    assert_eq!(a["pronounceable_name"], "Production API Health");
    assert_eq!(a["check_frequency"], 30);
    assert_eq!(a["request_timeout"], 15);
    assert_eq!(a["confirmation_period"], 0);
    assert_eq!(a["http_method"], "get");
    assert_eq!(a["expected_status_codes"], json!([200]));
    assert_eq!(
        a["regions"],
        json!(["us", "eu", "ap"]),
        "pass-through field kept"
    );
    assert_eq!(a["maintenance_from"], Value::Null);
    assert_eq!(a["paused"], false);
    assert_eq!(a["follow_redirects"], true);
    assert_eq!(a["remember_cookies"], false);
    assert_eq!(a["status"], "pending");
    assert!(a["created_at"].is_string() && a["updated_at"].is_string());

    let second = app
        .request(Method::POST, "/api/v2/monitors", Some(BEARER))
        .header("Content-Type", "application/json")
        .body(r#"{"monitor_type": "expected_status_code", "url": "https://api.example.com/v2/orders", "pronounceable_name": "Orders API Latency", "check_frequency": 60, "request_timeout": 5, "http_method": "get", "expected_status_codes": [200, 201]}"#);
    let (status, body) = send(second).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body["data"]["attributes"]["expected_status_codes"],
        json!([200, 201])
    );

    // curl -s .../api/v2/monitors -H "Authorization: Bearer <admin>" | python3 -m json.tool
    let (status, body) = send(app.request(Method::GET, "/api/v2/monitors", Some(BEARER))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let names: Vec<_> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            m["attributes"]["pronounceable_name"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(names, ["Production API Health", "Orders API Latency"]);
    let p = &body["pagination"];
    let base = app.url("/api/v2/monitors");
    assert_eq!(p["first"], format!("{base}?page=1"));
    assert_eq!(p["last"], format!("{base}?page=1"));
    assert_eq!(p["prev"], Value::Null);
    assert_eq!(p["next"], Value::Null);
});

both_backends!(crud_with_partial_updates_and_events, |app| {
    let created = create(
        app,
        json!({"monitor_type": "tcp", "url": "db.internal", "port": 5432, "request_timeout": 2000,
               "call": true, "policy_id": "123", "team_name": "ops"}),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_string();
    let a = &created["attributes"];
    assert_eq!(
        a["port"], "5432",
        "port is a string, as Better Stack returns it"
    );
    assert_eq!(a["request_timeout"], 2000, "milliseconds for tcp");
    assert_eq!(a["check_frequency"], 180, "Better Stack's default");
    assert_eq!(a["pronounceable_name"], "db.internal");
    assert_eq!(
        (
            a["call"].clone(),
            a["policy_id"].clone(),
            a["team_name"].clone()
        ),
        (json!(true), json!("123"), json!("ops"))
    );

    let path = format!("/api/v2/monitors/{id}");
    let (status, got) = app.bearer(Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["data"], created);

    // PATCH changes only what is given.
    let (status, patched) = app
        .bearer(
            Method::PATCH,
            &path,
            Some(json!({"check_frequency": 1, "pronounceable_name": "Primary DB", "paused": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    let p = &patched["data"]["attributes"];
    assert_eq!(p["check_frequency"], 1);
    assert_eq!(p["pronounceable_name"], "Primary DB");
    assert_eq!(p["paused"], true);
    assert_eq!(p["status"], "paused");
    assert!(p["paused_at"].is_string());
    for unchanged in [
        "url",
        "port",
        "request_timeout",
        "monitor_type",
        "call",
        "policy_id",
        "created_at",
    ] {
        assert_eq!(p[unchanged], a[unchanged], "{unchanged} unchanged");
    }
    let (_, got) = app.bearer(Method::GET, &path, None).await;
    assert_eq!(got["data"], patched["data"], "the update is stored");

    // Resuming makes it pending again; JSON:API-wrapped bodies are accepted too.
    let (status, resumed) = app
        .bearer(
            Method::PATCH,
            &path,
            Some(json!({"data": {"type": "monitor", "attributes": {"paused": false}}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{resumed}");
    assert_eq!(resumed["data"]["attributes"]["status"], "pending");
    assert_eq!(resumed["data"]["attributes"]["paused_at"], Value::Null);

    let (status, body) = app.bearer(Method::DELETE, &path, None).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let (status, body) = app.bearer(Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({"errors": "Resource with provided ID was not found"})
    );

    let events = app.events_of_type("monitor-").await;
    let types: Vec<_> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "monitor-deleted",
            "monitor-updated",
            "monitor-updated",
            "monitor-created"
        ],
        "newest first"
    );
    assert_eq!(
        events[3]["createdByUserId"], -42,
        "recorded as the admin token"
    );
    assert_eq!(events[3]["data"]["id"].to_string(), id);
    assert_eq!(events[0]["data"], Value::Null);
    assert_eq!(events[2]["preData"]["check_frequency"], 180);
    assert_eq!(events[2]["data"]["check_frequency"], 1);
    assert_eq!(events[0]["preData"]["pronounceable_name"], "Primary DB");
});

both_backends!(filters_and_pagination, |app| {
    for i in 0..5 {
        create(
            app,
            json!({"monitor_type": "status", "url": format!("https://s{}.example.com", i % 2),
                   "pronounceable_name": format!("svc {i}")}),
        )
        .await;
    }
    let (status, body) = app
        .bearer(
            Method::GET,
            "/api/v2/monitors?url=https://s1.example.com",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<_> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["attributes"]["pronounceable_name"].clone())
        .collect();
    assert_eq!(names, [json!("svc 1"), json!("svc 3")]);

    let (_, body) = app
        .bearer(
            Method::GET,
            "/api/v2/monitors?pronounceable_name=svc%204",
            None,
        )
        .await;
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    assert_eq!(body["data"][0]["attributes"]["pronounceable_name"], "svc 4");

    let (_, body) = app
        .bearer(Method::GET, "/api/v2/monitors?per_page=2&page=2", None)
        .await;
    let names: Vec<_> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["attributes"]["pronounceable_name"].clone())
        .collect();
    assert_eq!(names, [json!("svc 2"), json!("svc 3")]);
    let base = app.url("/api/v2/monitors");
    assert_eq!(
        body["pagination"]["first"],
        format!("{base}?page=1&per_page=2")
    );
    assert_eq!(
        body["pagination"]["last"],
        format!("{base}?page=3&per_page=2")
    );
    assert_eq!(
        body["pagination"]["prev"],
        format!("{base}?page=1&per_page=2")
    );
    assert_eq!(
        body["pagination"]["next"],
        format!("{base}?page=3&per_page=2")
    );

    let (_, body) = app
        .bearer(Method::GET, "/api/v2/monitors?per_page=2&page=3", None)
        .await;
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    assert_eq!(body["pagination"]["next"], Value::Null);

    let (status, body) = app
        .bearer(Method::GET, "/api/v2/monitors?page=0", None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["errors"].is_string());
});

both_backends!(invalid_input_is_422_and_changes_nothing, |app| {
    let kept = create(
        app,
        json!({"monitor_type": "status", "url": "https://ok.example.com"}),
    )
    .await;
    let before = list_all(app).await;
    let events_before = app.events_of_type("monitor-").await.len();

    let cases = [
        (
            json!({"monitor_type": "status", "url": "not a url"}),
            vec!["url"],
        ),
        (
            json!({"monitor_type": "status", "url": "ftp://example.com"}),
            vec!["url"],
        ),
        (
            json!({"monitor_type": "nope", "url": "https://example.com"}),
            vec!["monitor_type"],
        ),
        (json!({"url": "https://example.com"}), vec!["monitor_type"]),
        (json!({"monitor_type": "status"}), vec!["url"]),
        (
            json!({"monitor_type": "tcp", "url": "db.internal", "port": 70000}),
            vec!["port"],
        ),
        (
            json!({"monitor_type": "tcp", "url": "db.internal"}),
            vec!["port"],
        ),
        (
            json!({"monitor_type": "status", "url": "https://e.com", "check_frequency": 0}),
            vec!["check_frequency"],
        ),
        (
            json!({"monitor_type": "status", "url": "https://e.com", "request_timeout": 600}),
            vec!["request_timeout"],
        ),
        (
            json!({"monitor_type": "tcp", "url": "h", "port": "22", "request_timeout": 5}),
            vec!["request_timeout"],
        ),
        (
            json!({"monitor_type": "expected_status_code", "url": "https://e.com"}),
            vec!["expected_status_codes"],
        ),
        (
            json!({"monitor_type": "keyword", "url": "https://e.com"}),
            vec!["required_keyword"],
        ),
        (
            json!({"monitor_type": "status", "url": "https://e.com", "http_method": "brew"}),
            vec!["http_method"],
        ),
        (
            json!({"monitor_type": "status", "url": "https://e.com", "maintenance_from": "25:00:00", "maintenance_to": "01:00:00"}),
            vec!["maintenance_from"],
        ),
        (
            json!({"monitor_type": "status", "url": "https://e.com", "paused": "yes", "check_frequency": "often"}),
            vec!["check_frequency", "paused"],
        ),
    ];
    for (body, fields) in cases {
        let (status, answer) = app
            .bearer(Method::POST, "/api/v2/monitors", Some(body.clone()))
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body} → {answer}"
        );
        let errors = answer["errors"]
            .as_object()
            .unwrap_or_else(|| panic!("{answer}"));
        let mut named: Vec<_> = errors.keys().map(String::as_str).collect();
        named.sort_unstable();
        assert_eq!(named, fields, "{body} → {answer}");
        assert!(
            errors
                .values()
                .all(|v| v.as_array().is_some_and(|a| a.iter().all(Value::is_string)))
        );
    }

    // An invalid PATCH leaves the monitor as it was.
    let path = format!("/api/v2/monitors/{}", kept["id"].as_str().unwrap());
    let (status, answer) = app
        .bearer(
            Method::PATCH,
            &path,
            Some(json!({"check_frequency": -5, "url": "x y"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert!(answer["errors"]["check_frequency"].is_array() && answer["errors"]["url"].is_array());
    // Switching to tcp without a port or with an HTTP timeout in seconds is caught as a whole.
    let (status, answer) = app
        .bearer(
            Method::PATCH,
            &path,
            Some(json!({"monitor_type": "tcp", "url": "db"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert!(
        answer["errors"]["port"].is_array() && answer["errors"]["request_timeout"].is_array(),
        "{answer}"
    );

    // Malformed JSON: Better Stack's string error shape.
    let (status, answer) = send(
        app.request(Method::POST, "/api/v2/monitors", Some(BEARER))
            .header("Content-Type", "application/json")
            .body("{\"monitor_type\": "),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer["errors"].is_string(), "{answer}");

    assert_eq!(list_all(app).await, before, "nothing stored changed");
    assert_eq!(
        app.events_of_type("monitor-").await.len(),
        events_before,
        "no events"
    );
});

both_backends!(unknown_ids_and_tokens, |app| {
    for path in ["/api/v2/monitors/999", "/api/v2/monitors/abc"] {
        for method in [Method::GET, Method::DELETE] {
            let (status, body) = app.bearer(method, path, None).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
            assert_eq!(
                body,
                json!({"errors": "Resource with provided ID was not found"})
            );
        }
        let (status, _) = app
            .bearer(Method::PATCH, path, Some(json!({"paused": true})))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    let (status, _) = send(app.request(Method::GET, "/api/v2/monitors", None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) =
        send(app.request(Method::GET, "/api/v2/monitors", Some("Bearer nonsense"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = send(
        app.request(
            Method::POST,
            "/api/v2/monitors",
            Some(&format!("Bearer {CLIENT_DEV}")),
        )
        .json(&json!({"monitor_type": "status", "url": "https://e.com"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The raw token (no Bearer) works too, as on the rest of the server.
    let (status, _) = send(app.request(Method::GET, "/api/v2/monitors", Some(ADMIN))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(list_all(app).await.is_empty());
});

// `dns_record_type` (flagwatch extension, issue 4): dns monitors only, A by default.
both_backends!(dns_record_type_is_validated_stored_and_returned, |app| {
    let txt = create(
        app,
        json!({"monitor_type": "dns", "url": "127.0.0.1:5353", "request_body": "example.com",
               "dns_record_type": "txt", "required_keyword": "v=ok"}),
    )
    .await;
    assert_eq!(txt["attributes"]["dns_record_type"], "TXT", "{txt}");
    let plain = create(
        app,
        json!({"monitor_type": "dns", "url": "127.0.0.1", "request_body": "example.com"}),
    )
    .await;
    assert_eq!(plain["attributes"]["dns_record_type"], "A", "{plain}");
    let http = create(
        app,
        json!({"monitor_type": "status", "url": "https://e.com"}),
    )
    .await;
    assert!(http["attributes"]["dns_record_type"].is_null(), "{http}");

    let before = list_all(app).await;
    assert_eq!(before.len(), 3);
    let bad = [
        json!({"monitor_type": "dns", "url": "127.0.0.1", "request_body": "e.com", "dns_record_type": "SOA"}),
        json!({"monitor_type": "dns", "url": "127.0.0.1", "request_body": "e.com", "dns_record_type": 1}),
        json!({"monitor_type": "status", "url": "https://e.com", "dns_record_type": "A"}),
    ];
    for body in bad {
        let (status, answer) = app
            .bearer(Method::POST, "/api/v2/monitors", Some(body.clone()))
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body} → {answer}"
        );
        let errors = answer["errors"].as_object().unwrap();
        assert_eq!(
            errors.keys().collect::<Vec<_>>(),
            ["dns_record_type"],
            "{answer}"
        );
        assert!(errors["dns_record_type"][0].is_string(), "{answer}");
    }
    let txt_path = format!("/api/v2/monitors/{}", txt["id"].as_str().unwrap());
    let http_path = format!("/api/v2/monitors/{}", http["id"].as_str().unwrap());
    for (path, patch) in [
        (&txt_path, json!({"dns_record_type": "PTR"})),
        (&http_path, json!({"dns_record_type": "MX"})),
    ] {
        let (status, answer) = app.bearer(Method::PATCH, path, Some(patch)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert!(answer["errors"]["dns_record_type"].is_array(), "{answer}");
    }
    assert_eq!(list_all(app).await, before, "nothing stored changed");

    // PATCH changes it; turning the monitor into another type drops it.
    let (status, answer) = app
        .bearer(
            Method::PATCH,
            &txt_path,
            Some(json!({"dns_record_type": "mx"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["data"]["attributes"]["dns_record_type"], "MX");
    let (_, answer) = app.bearer(Method::GET, &txt_path, None).await;
    assert_eq!(answer["data"]["attributes"]["dns_record_type"], "MX");
    let (status, answer) = app
        .bearer(
            Method::PATCH,
            &txt_path,
            Some(json!({"monitor_type": "tcp", "url": "db.internal", "port": 5432})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(
        answer["data"]["attributes"]["dns_record_type"].is_null(),
        "{answer}"
    );
});
