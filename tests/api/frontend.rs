//! The frontend API (`/api/frontend*`) and OFREP (`/ofrep/v1/*`): the answers a real Unleash
//! recorded (`tests/fixtures/unleash-golden/`, files 19–21, 32–36 and
//! legacy-variants/06–08) reproduced on the same state, token scoping, CORS, and OFREP's
//! single, bulk and error answers.

use std::collections::BTreeMap;
use std::path::PathBuf;

use reqwest::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS,
    CACHE_CONTROL, ETAG, IF_NONE_MATCH,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{ADMIN, Backend, CLIENT_DEV, FRONTEND_DEV, TestApp, send, standard_args};

fn golden(file: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/unleash-golden")
        .join(file);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Sends a recording's request as recorded (method, path, headers, body).
async fn send_recorded(app: &TestApp, recording: &Value) -> reqwest::Response {
    let request = &recording["request"];
    let method = Method::from_bytes(request["method"].as_str().unwrap().as_bytes()).unwrap();
    let mut rb = app
        .client
        .request(method, app.url(request["path"].as_str().unwrap()));
    for (name, value) in request["headers"].as_object().unwrap() {
        rb = rb.header(name.as_str(), value.as_str().unwrap());
    }
    if !request["body"].is_null() {
        rb = rb.body(request["body"].to_string());
    }
    rb.send().await.unwrap()
}

/// Replays admin recordings, each of which must succeed as it did on Unleash.
async fn replay(app: &TestApp, files: &[&str]) {
    for file in files {
        let recording = golden(file);
        let resp = send_recorded(app, &recording).await;
        let status = resp.status();
        assert!(
            status.is_success() && status.as_u16() == recording["status"],
            "{file}: {status} {}",
            resp.text().await.unwrap()
        );
    }
}

fn toggles_by_name(body: &Value) -> BTreeMap<String, Value> {
    body["toggles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap().to_string(), t.clone()))
        .collect()
}

/// The recorded frontend request gets the recorded toggles: the same flags with the same
/// `enabled`, `impressionData` and variant (name, enabled, payload, feature_enabled,
/// featureEnabled). flagwatch sorts them by name; Unleash lists them in creation order.
async fn reproduce(app: &TestApp, file: &str) {
    let recording = golden(file);
    let resp = send_recorded(app, &recording).await;
    assert_eq!(resp.status().as_u16(), recording["status"], "{file}");
    assert_eq!(
        resp.headers()[CACHE_CONTROL],
        recording["headers"]["cache-control"].as_str().unwrap(),
        "{file}"
    );
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        toggles_by_name(&body),
        toggles_by_name(&recording["body"]),
        "{file}: ours {body}"
    );
    let names: Vec<&str> = body["toggles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted, "{file}: toggles are sorted by name");
}

both_backends!(frontend_answers_match_the_unleash_recordings, |app| {
    replay(
        app,
        &[
            "01-create-feature.json",
            "02-enable-development.json",
            "03-add-strategy-production.json",
            "06-enable-production.json",
            "07-disable-production.json",
        ],
    )
    .await;
    reproduce(app, "19-frontend-get.json").await;
    reproduce(app, "20-frontend-post.json").await;

    // A client (backend) token on the frontend API: 403 with Unleash's message.
    let recording = golden("21-frontend-with-client-token.json");
    let resp = send_recorded(app, &recording).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(resp.json::<Value>().await.unwrap(), recording["body"]);

    // Segment, constrained strategy with strategy variants, and a default strategy.
    replay(
        app,
        &[
            "22-create-segment.json",
            "23-create-feature-2.json",
            "24-add-constrained-strategy.json",
            "25-add-default-strategy.json",
            "27-enable-feature-2-dev.json",
        ],
    )
    .await;
    for file in [
        "32-frontend-get-after-flag2.json",
        "33-frontend-post-after-flag2-u2.json",
        "34-frontend-post-after-flag2-u3.json",
        "35-frontend-post-after-flag2-nobody.json",
        "36-frontend-post-after-flag2.json",
    ] {
        reproduce(app, file).await;
    }

    // Flag-level (legacy) variants with a fixed weight and an override.
    replay(
        app,
        &[
            "legacy-variants/01-lv-create.json",
            "legacy-variants/02-lv-enable-dev.json",
            "legacy-variants/03-lv-put-env-variants.json",
        ],
    )
    .await;
    for file in [
        "legacy-variants/06-lv-frontend-u1.json",
        "legacy-variants/07-lv-frontend-u7.json",
        "legacy-variants/08-lv-frontend-u8.json",
    ] {
        reproduce(app, file).await;
    }
});

/// Flag `name` in `project` with a 100 % rollout in development, switched on there if
/// `enabled`.
async fn create_flag(app: &TestApp, project: &str, name: &str, enabled: bool) {
    app.create_flag_in(project, name).await;
    app.add_rollout(project, name).await;
    if enabled {
        app.switch_in(project, name, "development", true).await;
    }
}

async fn frontend(app: &TestApp, method: Method, path: &str, token: &str) -> (StatusCode, Value) {
    let mut rb = app.request(method.clone(), path, Some(token));
    if method == Method::POST {
        rb = rb.json(&json!({"context": {"userId": "u1"}}));
    }
    send(rb).await
}

fn names(body: &Value) -> Vec<String> {
    toggles_by_name(body).into_keys().collect()
}

async fn create_token(app: &TestApp, environment: &str, projects: &[&str]) -> String {
    let (status, body) = app
        .admin(
            Method::POST,
            "/api/admin/api-tokens",
            Some(json!({"tokenName": format!("frontend-{environment}-{}", projects.join("-")), "type": "frontend", "environment": environment, "projects": projects})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["secret"].as_str().unwrap().to_string()
}

both_backends!(
    frontend_answers_are_scoped_and_all_shows_disabled_flags,
    |app| {
        create_flag(app, "default", "on-flag", true).await;
        create_flag(app, "default", "off-flag", false).await;
        let (status, body) = app
            .admin(
                Method::POST,
                "/api/admin/projects",
                Some(json!({"id": "other", "name": "Other"})),
            )
            .await;
        assert!(status.is_success(), "{body}");
        create_flag(app, "other", "other-flag", true).await;

        for method in [Method::GET, Method::POST] {
            let (status, body) = frontend(app, method.clone(), "/api/frontend", FRONTEND_DEV).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(
                names(&body),
                ["on-flag"],
                "{method}: enabled flags of default only"
            );

            let (status, body) =
                frontend(app, method.clone(), "/api/frontend/all", FRONTEND_DEV).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(
                names(&body),
                ["off-flag", "on-flag"],
                "{method}: /all adds disabled flags"
            );
            let off = &toggles_by_name(&body)["off-flag"];
            assert_eq!(off["enabled"], false);
            assert_eq!(
                off["variant"],
                json!({"name": "disabled", "enabled": false, "feature_enabled": false, "featureEnabled": false})
            );

            let (status, body) = frontend(
                app,
                method.clone(),
                "/api/frontend/features/on-flag",
                FRONTEND_DEV,
            )
            .await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(body["name"], "on-flag");
            assert_eq!(body["enabled"], true);
            let (status, body) = frontend(
                app,
                method.clone(),
                "/api/frontend/features/off-flag",
                FRONTEND_DEV,
            )
            .await;
            assert_eq!((status, &body["enabled"]), (StatusCode::OK, &json!(false)));
            for unknown in [
                "/api/frontend/features/nope",
                "/api/frontend/features/other-flag",
            ] {
                let (status, body) = frontend(app, method.clone(), unknown, FRONTEND_DEV).await;
                assert_eq!(status, StatusCode::NOT_FOUND, "{method} {unknown}: {body}");
                assert_eq!(body["name"], "NotFoundError");
            }
        }

        // A token for project "other" sees that project only; an all-projects token sees all.
        let other = create_token(app, "development", &["other"]).await;
        let (_, body) = frontend(app, Method::GET, "/api/frontend/all", &other).await;
        assert_eq!(names(&body), ["other-flag"]);
        let all = create_token(app, "development", &["*"]).await;
        let (_, body) = frontend(app, Method::GET, "/api/frontend/all", &all).await;
        assert_eq!(names(&body), ["off-flag", "on-flag", "other-flag"]);
        // The token's environment decides: nothing is on in production.
        let production = create_token(app, "production", &["*"]).await;
        let (_, body) = frontend(app, Method::GET, "/api/frontend", &production).await;
        assert!(names(&body).is_empty(), "{body}");
        let (_, body) = frontend(app, Method::GET, "/api/frontend/all", &production).await;
        assert_eq!(names(&body), ["off-flag", "on-flag", "other-flag"]);
    }
);

both_backends!(frontend_tokens_and_bodies_are_checked, |app| {
    create_flag(app, "default", "on-flag", true).await;
    let message = "This endpoint requires an API token. Please add an authorization header to your request with a valid token";
    for path in [
        "/api/frontend",
        "/api/frontend/all",
        "/api/frontend/features/on-flag",
    ] {
        let (status, body) = send(app.request(Method::GET, path, None)).await;
        assert_eq!(
            (status, body),
            (StatusCode::UNAUTHORIZED, json!({"message": message})),
            "{path}"
        );
        for token in [CLIENT_DEV, ADMIN] {
            let (status, body) = send(app.request(Method::GET, path, Some(token))).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
            assert_eq!(
                body,
                json!({"message": "invalid token: expected a different token type for this endpoint"})
            );
        }
    }
    // POST without a body is an empty context; malformed or non-JSON bodies are refused.
    let (status, body) = send(app.request(Method::POST, "/api/frontend", Some(FRONTEND_DEV))).await;
    assert_eq!(
        (status, names(&body)),
        (StatusCode::OK, vec!["on-flag".to_string()])
    );
    let rb = app
        .request(Method::POST, "/api/frontend", Some(FRONTEND_DEV))
        .header("Content-Type", "application/json")
        .body("{\"context\": ");
    let (status, body) = send(rb).await;
    assert_eq!(
        (status, &body["name"]),
        (StatusCode::BAD_REQUEST, &json!("BadDataError"))
    );
    let rb = app
        .request(Method::POST, "/api/frontend", Some(FRONTEND_DEV))
        .json(&json!({"context": "u1"}));
    assert_eq!(send(rb).await.0, StatusCode::BAD_REQUEST);
    let rb = app
        .request(Method::POST, "/api/frontend", Some(FRONTEND_DEV))
        .header("Content-Type", "text/plain")
        .body("userId=u1");
    assert_eq!(send(rb).await.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // Metrics and registration are acknowledged with 200, malformed bodies refused.
    let metrics = json!({"appName": "web", "instanceId": "browser", "bucket": {"start": "2026-01-01T10:00:00Z", "stop": "2026-01-01T10:01:00Z", "toggles": {"on-flag": {"yes": 3, "no": 1, "variants": {}}}}});
    for (path, body) in [
        ("/api/frontend/client/metrics", metrics),
        (
            "/api/frontend/client/register",
            json!({"appName": "web", "instanceId": "browser", "sdkVersion": "unleash-client-js:3.7.0", "environment": "development", "interval": 15000, "started": "2026-01-01T10:00:00Z"}),
        ),
    ] {
        let rb = app
            .request(Method::POST, path, Some(FRONTEND_DEV))
            .json(&body);
        assert_eq!(send(rb).await.0, StatusCode::OK, "{path}");
        let rb = app
            .request(Method::POST, path, Some(FRONTEND_DEV))
            .header("Content-Type", "application/json")
            .body("{\"appName\": ");
        assert_eq!(send(rb).await.0, StatusCode::BAD_REQUEST, "{path}");
        let rb = app
            .request(Method::POST, path, Some(CLIENT_DEV))
            .json(&body);
        assert_eq!(send(rb).await.0, StatusCode::FORBIDDEN, "{path}");
        let rb = app.request(Method::POST, path, None).json(&body);
        assert_eq!(send(rb).await.0, StatusCode::UNAUTHORIZED, "{path}");
    }
});

both_backends!(the_caller_ip_is_the_default_remote_address, |app| {
    app.create_flag("office-only").await;
    let (status, body) = app
        .admin(
            Method::POST,
            "/api/admin/projects/default/features/office-only/environments/development/strategies",
            Some(json!({"name": "remoteAddress", "parameters": {"IPs": "127.0.0.1"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.switch("office-only", true).await;
    // The test client calls from 127.0.0.1.
    let (_, body) = frontend(app, Method::GET, "/api/frontend", FRONTEND_DEV).await;
    assert_eq!(names(&body), ["office-only"]);
    let (_, body) = frontend(
        app,
        Method::GET,
        "/api/frontend?remoteAddress=10.1.1.1",
        FRONTEND_DEV,
    )
    .await;
    assert!(names(&body).is_empty());
});

both_backends!(
    a_flag_switched_off_is_off_in_the_next_frontend_answer,
    |app| {
        create_flag(app, "default", "kill-me", true).await;
        let (_, body) = frontend(app, Method::GET, "/api/frontend", FRONTEND_DEV).await;
        assert_eq!(names(&body), ["kill-me"]);
        app.switch("kill-me", false).await;
        let (_, body) = frontend(app, Method::GET, "/api/frontend", FRONTEND_DEV).await;
        assert!(names(&body).is_empty(), "{body}");
        let (_, body) = frontend(
            app,
            Method::POST,
            "/api/frontend/features/kill-me",
            FRONTEND_DEV,
        )
        .await;
        assert_eq!(body["enabled"], false);
        let rb = app
            .request(
                Method::POST,
                "/ofrep/v1/evaluate/flags/kill-me",
                Some(FRONTEND_DEV),
            )
            .json(&json!({"context": {"targetingKey": "u1"}}));
        let (_, body) = send(rb).await;
        assert_eq!(body["reason"], "DISABLED");
    }
);

async fn preflight(app: &TestApp, path: &str, origin: &str) -> reqwest::Response {
    app.client
        .request(Method::OPTIONS, app.url(path))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization, content-type, unleash-appname",
        )
        .send()
        .await
        .unwrap()
}

both_backends!(
    cors_allows_any_origin_on_the_frontend_api_by_default,
    |app| {
        for path in [
            "/api/frontend",
            "/api/frontend/all",
            "/api/frontend/features/x",
            "/api/frontend/client/metrics",
        ] {
            let resp = preflight(app, path, "https://app.example.com").await;
            assert!(resp.status().is_success(), "{path}: {}", resp.status());
            assert_eq!(resp.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], "*", "{path}");
            let allowed = resp.headers()[ACCESS_CONTROL_ALLOW_HEADERS]
                .to_str()
                .unwrap()
                .to_lowercase();
            for h in ["authorization", "content-type", "unleash-appname"] {
                assert!(allowed.contains(h), "{path}: {allowed}");
            }
        }
        let resp = app
            .request(Method::GET, "/api/frontend", Some(FRONTEND_DEV))
            .header("Origin", "https://app.example.com")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        assert_eq!(
            resp.headers()[ACCESS_CONTROL_EXPOSE_HEADERS]
                .to_str()
                .unwrap()
                .to_lowercase(),
            "etag"
        );
        // Only the frontend API: the client API is for servers.
        let resp = app
            .request(Method::GET, "/api/client/features", Some(CLIENT_DEV))
            .header("Origin", "https://app.example.com")
            .send()
            .await
            .unwrap();
        assert!(resp.headers().get(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    }
);

#[tokio::test]
async fn cors_origins_can_be_limited() {
    let mut args = standard_args();
    args.extend([
        "--frontend-cors-origins".to_string(),
        "https://app.example.com,https://admin.example.com".to_string(),
    ]);
    let app = TestApp::spawn_with(Backend::Sqlite, &args).await.unwrap();
    let resp = preflight(&app, "/api/frontend", "https://admin.example.com").await;
    assert_eq!(
        resp.headers()[ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://admin.example.com"
    );
    let resp = preflight(&app, "/api/frontend", "https://evil.example.com").await;
    assert!(resp.headers().get(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    app.stop().await;
}

/// A flag with a 50/50 split of a JSON and a number payload in `development`.
async fn create_variant_flag(app: &TestApp) {
    app.create_flag("banner").await;
    let (status, body) = app
        .admin(
            Method::POST,
            "/api/admin/projects/default/features/banner/environments/development/strategies",
            Some(json!({"name": "flexibleRollout", "parameters": {"rollout": "100"}, "variants": [
                {"name": "red", "weight": 500, "stickiness": "default", "payload": {"type": "json", "value": "{\"color\":\"red\"}"}},
                {"name": "big", "weight": 500, "stickiness": "default", "payload": {"type": "number", "value": "42"}},
            ]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.switch("banner", true).await;
}

async fn ofrep(app: &TestApp, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
    send(app.request(Method::POST, path, token).json(&body)).await
}

both_backends!(ofrep_evaluates_single_flags, |app| {
    create_flag(app, "default", "on-flag", true).await;
    create_flag(app, "default", "off-flag", false).await;
    create_variant_flag(app).await;
    let ctx = json!({"context": {"targetingKey": "user-1", "country": "NO"}});

    let (status, body) = ofrep(
        app,
        "/ofrep/v1/evaluate/flags/on-flag",
        Some(FRONTEND_DEV),
        ctx.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"key": "on-flag", "value": true, "variant": "enabled", "reason": "TARGETING_MATCH", "metadata": {}})
    );
    let (_, body) = ofrep(
        app,
        "/ofrep/v1/evaluate/flags/off-flag",
        Some(CLIENT_DEV),
        ctx.clone(),
    )
    .await;
    assert_eq!(
        body,
        json!({"key": "off-flag", "value": false, "variant": "disabled", "reason": "DISABLED", "metadata": {}})
    );

    // The variant decides the value, typed by its payload; the same one the frontend API gives.
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..40 {
        let user = format!("user-{i}");
        let (_, body) = ofrep(
            app,
            "/ofrep/v1/evaluate/flags/banner",
            Some(FRONTEND_DEV),
            json!({"context": {"targetingKey": user}}),
        )
        .await;
        assert_eq!(body["reason"], "SPLIT");
        let (_, fe) = frontend_for(app, &user).await;
        let variant = &toggles_by_name(&fe)["banner"]["variant"];
        assert_eq!(body["variant"], variant["name"], "{user}");
        match body["variant"].as_str().unwrap() {
            "red" => assert_eq!(body["value"], json!({"color": "red"})),
            "big" => assert_eq!(body["value"], json!(42)),
            other => panic!("unexpected variant {other}"),
        }
        seen.insert(body["variant"].as_str().unwrap().to_string());
    }
    assert_eq!(seen.len(), 2, "both variants occur");

    // Errors.
    let (status, body) = ofrep(
        app,
        "/ofrep/v1/evaluate/flags/nope",
        Some(FRONTEND_DEV),
        ctx.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        (&body["key"], &body["errorCode"]),
        (&json!("nope"), &json!("FLAG_NOT_FOUND"))
    );
    assert!(body["errorDetails"].is_string());
    let rb = app
        .request(
            Method::POST,
            "/ofrep/v1/evaluate/flags/on-flag",
            Some(FRONTEND_DEV),
        )
        .header("Content-Type", "application/json")
        .body("{\"context\": {");
    let (status, body) = send(rb).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        (&body["key"], &body["errorCode"]),
        (&json!("on-flag"), &json!("PARSE_ERROR"))
    );
    let (status, body) = ofrep(
        app,
        "/ofrep/v1/evaluate/flags/on-flag",
        Some(FRONTEND_DEV),
        json!({"context": ["u1"]}),
    )
    .await;
    assert_eq!(
        (status, &body["errorCode"]),
        (StatusCode::BAD_REQUEST, &json!("INVALID_CONTEXT"))
    );

    // Authentication: bearer or X-API-Key, frontend or backend tokens; bare 401/403.
    let (status, body) = ofrep(app, "/ofrep/v1/evaluate/flags/on-flag", None, ctx.clone()).await;
    assert_eq!((status, body), (StatusCode::UNAUTHORIZED, Value::Null));
    let (status, body) = ofrep(
        app,
        "/ofrep/v1/evaluate/flags/on-flag",
        Some("default:development.wrong"),
        ctx.clone(),
    )
    .await;
    assert_eq!((status, body), (StatusCode::UNAUTHORIZED, Value::Null));
    let (status, body) = ofrep(
        app,
        "/ofrep/v1/evaluate/flags/on-flag",
        Some(ADMIN),
        ctx.clone(),
    )
    .await;
    assert_eq!((status, body), (StatusCode::FORBIDDEN, Value::Null));
    let rb = app
        .request(
            Method::POST,
            "/ofrep/v1/evaluate/flags/on-flag",
            Some(&format!("Bearer {CLIENT_DEV}")),
        )
        .json(&ctx);
    assert_eq!(send(rb).await.1["value"], true);
    let rb = app
        .client
        .post(app.url("/ofrep/v1/evaluate/flags/on-flag"))
        .header("X-API-Key", FRONTEND_DEV)
        .json(&ctx);
    assert_eq!(send(rb).await.1["value"], true);
});

async fn frontend_for(app: &TestApp, user: &str) -> (StatusCode, Value) {
    let rb = app
        .request(Method::POST, "/api/frontend/all", Some(FRONTEND_DEV))
        .json(&json!({"context": {"userId": user}}));
    send(rb).await
}

both_backends!(ofrep_bulk_evaluation_has_an_etag, |app| {
    create_flag(app, "default", "on-flag", true).await;
    create_flag(app, "default", "off-flag", false).await;
    let ctx = json!({"context": {"targetingKey": "u1"}});
    let bulk = |token: &'static str, body: Value, etag: Option<String>| {
        let mut rb = app
            .request(Method::POST, "/ofrep/v1/evaluate/flags", Some(token))
            .json(&body);
        if let Some(etag) = etag {
            rb = rb.header(IF_NONE_MATCH, etag);
        }
        rb.send()
    };
    let resp = bulk(FRONTEND_DEV, ctx.clone(), None).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let etag = resp.headers()[ETAG].to_str().unwrap().to_string();
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && !etag.starts_with("W/"),
        "{etag}"
    );
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body,
        json!({"flags": [
            {"key": "off-flag", "value": false, "variant": "disabled", "reason": "DISABLED", "metadata": {}},
            {"key": "on-flag", "value": true, "variant": "enabled", "reason": "TARGETING_MATCH", "metadata": {}},
        ]})
    );

    // Same context, nothing changed: 304 without a body.
    let resp = bulk(FRONTEND_DEV, ctx.clone(), Some(etag.clone()))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(resp.headers()[ETAG], etag.as_str());
    assert!(resp.text().await.unwrap().is_empty());
    // Another context or a flag change: a new answer.
    let resp = bulk(
        FRONTEND_DEV,
        json!({"context": {"targetingKey": "u2"}}),
        Some(etag.clone()),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    app.switch("off-flag", true).await;
    let resp = bulk(FRONTEND_DEV, ctx.clone(), Some(etag.clone()))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_ne!(resp.headers()[ETAG], etag.as_str());
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["flags"][0]["value"], true, "{body}");

    // Errors: no key in bulk error bodies.
    let rb = app
        .request(Method::POST, "/ofrep/v1/evaluate/flags", Some(FRONTEND_DEV))
        .header("Content-Type", "application/json")
        .body("nope");
    let (status, body) = send(rb).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errorCode"], "PARSE_ERROR");
    assert!(body.get("key").is_none());
    let (status, body) = send(
        app.request(Method::POST, "/ofrep/v1/evaluate/flags", None)
            .json(&ctx),
    )
    .await;
    assert_eq!((status, body), (StatusCode::UNAUTHORIZED, Value::Null));
});
