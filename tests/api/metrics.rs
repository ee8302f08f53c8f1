//! What SDKs report (`/api/client/register`, `/api/client/metrics`) and how the admin API
//! shows it: counts per flag and environment, applications and their instances.

use std::path::PathBuf;

use flagwatch::domain::Timestamp;
use reqwest::header::{CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{
    ADMIN, Backend, CLIENT_DEV, CLIENT_PROD, FRONTEND_DEV, TestApp, send, standard_args,
};

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/unleash-golden")
}

/// A register or metrics request from the recordings.
struct RecordedPost {
    path: String,
    headers: Vec<(String, String)>,
    body: Value,
}

/// Every register and metrics request the recordings hold.
fn recorded_posts() -> Vec<RecordedPost> {
    let mut posts = Vec::new();
    for file in ["37-client-register.json", "38-client-metrics.json"] {
        let text = std::fs::read_to_string(golden_dir().join(file)).unwrap();
        let step: Value = serde_json::from_str(&text).unwrap();
        let req = &step["request"];
        posts.push(RecordedPost {
            path: req["path"].as_str().unwrap().to_string(),
            headers: headers_of(&req["headers"]),
            body: req["body"].clone(),
        });
    }
    for file in ["sdk/node-sdk-traffic.jsonl", "sdk/python-sdk-traffic.jsonl"] {
        let text = std::fs::read_to_string(golden_dir().join(file)).unwrap();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let entry: Value = serde_json::from_str(line).unwrap();
            if entry["method"] == "POST" {
                posts.push(RecordedPost {
                    path: entry["path"].as_str().unwrap().to_string(),
                    headers: headers_of(&entry["req_headers"]),
                    body: entry["req_body"].clone(),
                });
            }
        }
    }
    posts
}

/// The recorded headers worth replaying (not Host, Content-Length and the like).
fn headers_of(recorded: &Value) -> Vec<(String, String)> {
    recorded
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            k == "authorization" || k.starts_with("unleash-") || k == "user-agent"
        })
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect()
}

async fn post(app: &TestApp, path: &str, token: &str, body: &Value) -> (StatusCode, Value) {
    send(app.request(Method::POST, path, Some(token)).json(body)).await
}

/// A metrics body from `app_name` with one bucket starting now.
fn metrics_body(app_name: &str, toggles: &Value) -> Value {
    let now = Timestamp::now().to_rfc3339();
    json!({"appName": app_name, "instanceId": "i-1", "bucket": {"start": now, "stop": now, "toggles": toggles}})
}

/// Waits out the last seconds of an hour, so counts posted by a test land in one hour bucket
/// that is still "the last hour" when the test reads it.
async fn not_at_the_turn_of_the_hour() {
    let into_hour = Timestamp::now().millis().rem_euclid(3_600_000);
    if into_hour > 3_590_000 {
        tokio::time::sleep(std::time::Duration::from_millis(
            (3_600_000 - into_hour + 500) as u64,
        ))
        .await;
    }
}

both_backends!(recorded_sdk_registrations_and_metrics_are_accepted, |app| {
    let posts = recorded_posts();
    assert_eq!(posts.len(), 10, "2 golden steps + 8 SDK posts");
    for RecordedPost {
        path,
        headers,
        body,
    } in &posts
    {
        let mut rb = app.request(Method::POST, path, None).json(body);
        for (k, v) in headers {
            rb = rb.header(k, v);
        }
        let (status, resp) = send(rb).await;
        assert_eq!(
            (status, resp),
            (StatusCode::ACCEPTED, Value::Null),
            "{path} {body}"
        );
    }

    let (status, body) = app
        .admin(Method::GET, "/api/admin/metrics/applications", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let names: Vec<&str> = body["applications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["appName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["golden", "unleash-ref-node", "unleash-ref-python"]);

    let (status, node) = app
        .admin(
            Method::GET,
            "/api/admin/metrics/applications/unleash-ref-node",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{node}");
    assert_eq!(node["strategies"].as_array().unwrap().len(), 8);
    // The recording ran once with a development and once with a production token.
    let instances = node["instances"].as_array().unwrap();
    let mut environments: Vec<&str> = instances
        .iter()
        .map(|i| i["environment"].as_str().unwrap())
        .collect();
    environments.sort_unstable();
    assert_eq!(environments, ["development", "production"], "{node}");
    for i in instances {
        assert_eq!(i["instanceId"], "ref-node-1");
        assert_eq!(i["sdkVersion"], "unleash-node-sdk:6.12.1");
        assert_eq!(i["platformName"], "node");
        assert_eq!(i["clientIp"], "127.0.0.1");
    }
});

both_backends!(counts_add_up_per_flag_and_environment, |app| {
    not_at_the_turn_of_the_hour().await;
    app.create_flag("metrics-flag").await;
    let toggles = |yes: i64, no: i64, variants: Value| json!({"metrics-flag": {"yes": yes, "no": no, "variants": variants}, "unknown-flag": {"yes": 9, "no": 9}});

    // Arrange: two posts in development, one flush between them, one post in production.
    let body = metrics_body("checkout", &toggles(5, 3, json!({"red": 2})));
    assert_eq!(
        post(app, "/api/client/metrics", CLIENT_DEV, &body).await.0,
        StatusCode::ACCEPTED
    );
    app.service.flush_metrics().await.unwrap();
    let body = metrics_body("checkout", &toggles(1, 1, json!({"red": 1, "blue": 4})));
    assert_eq!(
        post(app, "/api/client/metrics", CLIENT_DEV, &body).await.0,
        StatusCode::ACCEPTED
    );
    let body = metrics_body("checkout", &toggles(7, 0, json!({})));
    assert_eq!(
        post(app, "/api/client/metrics", CLIENT_PROD, &body).await.0,
        StatusCode::ACCEPTED
    );
    // A second application, in development.
    let body = metrics_body("billing", &toggles(2, 0, json!({})));
    assert_eq!(
        post(app, "/api/client/metrics", CLIENT_DEV, &body).await.0,
        StatusCode::ACCEPTED
    );

    // Act
    let (status, usage) = app
        .admin(
            Method::GET,
            "/api/admin/client-metrics/features/metrics-flag",
            None,
        )
        .await;

    // Assert
    assert_eq!(status, StatusCode::OK, "{usage}");
    assert_eq!(usage["version"], 1);
    assert_eq!(usage["maturity"], "stable");
    assert_eq!(usage["featureName"], "metrics-flag");
    assert_eq!(usage["seenApplications"], json!(["billing", "checkout"]));
    let last_hour = usage["lastHourUsage"].as_array().unwrap();
    assert_eq!(last_hour.len(), 2, "{usage}");
    let dev = &last_hour[0];
    assert_eq!(dev["environment"], "development");
    assert_eq!(
        (dev["yes"].as_i64(), dev["no"].as_i64()),
        (Some(8), Some(4))
    );
    assert_eq!(dev["variants"], json!({"red": 3, "blue": 4}));
    assert!(dev["timestamp"].as_str().unwrap().ends_with(":00:00.000Z"));
    let prod = &last_hour[1];
    assert_eq!(prod["environment"], "production");
    assert_eq!(
        (prod["yes"].as_i64(), prod["no"].as_i64()),
        (Some(7), Some(0))
    );

    let (status, raw) = app
        .admin(
            Method::GET,
            "/api/admin/client-metrics/features/metrics-flag/raw?hoursBack=24",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{raw}");
    let rows: Vec<(String, String, i64, i64)> = raw["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["featureName"], "metrics-flag");
            (
                r["environment"].as_str().unwrap().to_string(),
                r["appName"].as_str().unwrap().to_string(),
                r["yes"].as_i64().unwrap(),
                r["no"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("development".into(), "billing".into(), 2, 0),
            ("development".into(), "checkout".into(), 6, 4),
            ("production".into(), "checkout".into(), 7, 0),
        ]
    );

    // Flags the server does not know are not recorded.
    let (_, unknown) = app
        .admin(
            Method::GET,
            "/api/admin/client-metrics/features/unknown-flag/raw",
            None,
        )
        .await;
    assert_eq!(unknown["data"], json!([]));

    for bad in ["0", "169", "x", "-1"] {
        let (status, body) = app
            .admin(
                Method::GET,
                &format!("/api/admin/client-metrics/features/metrics-flag/raw?hoursBack={bad}"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "hoursBack={bad}: {body}");
    }
});

/// The `lastSeenAt` of `environment` in a flag view, parsed; `None` when it is `null`.
fn last_seen_in(view: &Value, environment: &str) -> Option<Timestamp> {
    let env = view["environments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == environment)
        .unwrap_or_else(|| panic!("no {environment} in {view}"));
    parse_seen(&env["lastSeenAt"])
}

/// A `lastSeenAt` value: RFC 3339 or `null`.
fn parse_seen(v: &Value) -> Option<Timestamp> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(Timestamp::parse(s).unwrap_or_else(|| panic!("bad time {s}"))),
        other => panic!("lastSeenAt is {other}"),
    }
}

/// Asserts `seen` lies in [`from`, `to`], give or take a clock tick.
fn assert_between(seen: Option<Timestamp>, from: Timestamp, to: Timestamp) {
    let seen = seen.expect("lastSeenAt is set");
    assert!(
        from.millis() - 1 <= seen.millis() && seen.millis() <= to.millis() + 1,
        "{} is not within {}..{}",
        seen.to_rfc3339(),
        from.to_rfc3339(),
        to.to_rfc3339()
    );
}

both_backends!(last_seen_is_when_an_sdk_last_reported_a_flag, |app| {
    not_at_the_turn_of_the_hour().await;
    app.create_flag("seen-flag").await;
    let feature = "/api/admin/projects/default/features/seen-flag";
    let get = |path: String| async move {
        let (status, body) = app.admin(Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body
    };
    let listed = |list: &Value| {
        list["features"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == "seen-flag")
            .cloned()
            .unwrap_or_else(|| panic!("seen-flag in {list}"))
    };

    // Never reported: null everywhere.
    let view = get(feature.to_string()).await;
    assert_eq!(view["lastSeenAt"], Value::Null, "{view}");
    for env in ["development", "production"] {
        assert_eq!(last_seen_in(&view, env), None, "{view}");
    }
    let list = get("/api/admin/projects/default/features".into()).await;
    assert_eq!(last_seen_in(&listed(&list), "production"), None);

    // Development reports the flag without evaluating it (only variant counts): still unseen.
    let body = metrics_body(
        "checkout",
        &json!({"seen-flag": {"yes": 0, "no": 0, "variants": {"red": 1}}}),
    );
    assert_eq!(
        post(app, "/api/client/metrics", CLIENT_DEV, &body).await.0,
        StatusCode::ACCEPTED
    );
    let body = metrics_body("checkout", &json!({"seen-flag": {"yes": 0, "no": 0}}));
    assert_eq!(
        post(app, "/api/client/metrics", CLIENT_DEV, &body).await.0,
        StatusCode::ACCEPTED
    );
    // Production evaluates it. No explicit flush: the admin reads flush first.
    let before = Timestamp::now();
    let body = metrics_body("checkout", &json!({"seen-flag": {"yes": 3, "no": 1}}));
    assert_eq!(
        post(app, "/api/client/metrics", CLIENT_PROD, &body).await.0,
        StatusCode::ACCEPTED
    );
    let after = Timestamp::now();

    let view = get(feature.to_string()).await;
    let prod = last_seen_in(&view, "production");
    assert_between(prod, before, after);
    assert!(
        (Timestamp::now().millis() - prod.unwrap().millis()).abs() < 5_000,
        "{view}"
    );
    assert_eq!(last_seen_in(&view, "development"), None, "{view}");
    assert_eq!(
        parse_seen(&view["lastSeenAt"]),
        prod,
        "the latest of all environments"
    );

    let env_view = get(format!("{feature}/environments/production")).await;
    assert_eq!(parse_seen(&env_view["lastSeenAt"]), prod, "{env_view}");
    let env_view = get(format!("{feature}/environments/development")).await;
    assert_eq!(env_view["lastSeenAt"], Value::Null, "{env_view}");

    let list = get("/api/admin/projects/default/features".into()).await;
    let item = listed(&list);
    assert_eq!(last_seen_in(&item, "production"), prod, "{item}");
    assert_eq!(last_seen_in(&item, "development"), None, "{item}");

    let usage = get("/api/admin/client-metrics/features/seen-flag".into()).await;
    let hour = |env: &str| {
        usage["lastHourUsage"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["environment"] == env)
            .cloned()
            .unwrap_or_else(|| panic!("{env} in {usage}"))
    };
    assert_eq!(
        parse_seen(&hour("production")["lastSeenAt"]),
        prod,
        "{usage}"
    );
    assert_eq!(hour("development")["lastSeenAt"], Value::Null, "{usage}");

    // A later report moves it forward, after a flush to the same stored row; a report without
    // evaluations afterwards does not move it back.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let before = Timestamp::now();
    let body = metrics_body("checkout", &json!({"seen-flag": {"yes": 0, "no": 2}}));
    assert_eq!(
        post(app, "/api/client/metrics", CLIENT_PROD, &body).await.0,
        StatusCode::ACCEPTED
    );
    let after = Timestamp::now();
    app.service.flush_metrics().await.unwrap();
    let body = metrics_body(
        "checkout",
        &json!({"seen-flag": {"yes": 0, "no": 0, "variants": {"red": 1}}}),
    );
    assert_eq!(
        post(app, "/api/client/metrics", CLIENT_PROD, &body).await.0,
        StatusCode::ACCEPTED
    );
    let view = get(feature.to_string()).await;
    let later = last_seen_in(&view, "production");
    assert_between(later, before, after);
    assert!(later > prod, "{view}");
    assert_eq!(last_seen_in(&view, "development"), None, "{view}");
});

both_backends!(applications_list_their_instances_and_sdk_versions, |app| {
    app.create_flag("seen-flag").await;
    let register = |instance: &str| {
        json!({"appName": "shop", "instanceId": instance, "sdkVersion": "unleash-client-go:4.1.0",
               "strategies": ["default", "flexibleRollout"], "started": 1_700_000_000, "interval": 15,
               "platformName": "go", "platformVersion": "1.23"})
    };
    for token in [CLIENT_DEV, CLIENT_PROD] {
        let (status, body) = post(app, "/api/client/register", token, &register("i-1")).await;
        assert_eq!((status, body), (StatusCode::ACCEPTED, Value::Null));
    }
    // The Node SDK names its version only in a header.
    let body = json!({"appName": "shop", "instanceId": "i-2", "bucket": {"start": Timestamp::now().to_rfc3339(),
        "stop": Timestamp::now().to_rfc3339(), "toggles": {"seen-flag": {"yes": 1, "no": 0}}}});
    let (status, _) = send(
        app.request(Method::POST, "/api/client/metrics", Some(CLIENT_DEV))
            .header("unleash-sdk", "unleash-node-sdk:6.12.1")
            .json(&body),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);

    let (status, list) = app
        .admin(Method::GET, "/api/admin/metrics/applications", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let shop = &list["applications"][0];
    assert_eq!(shop["appName"], "shop");
    assert_eq!(
        shop["usage"],
        json!([{"project": "default", "environments": ["development", "production"]}])
    );
    for field in ["description", "url", "color", "icon"] {
        assert!(shop.get(field).is_some(), "{field} in {shop}");
    }

    let (status, detail) = app
        .admin(Method::GET, "/api/admin/metrics/applications/shop", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(detail["appName"], "shop");
    assert_eq!(detail["strategies"], json!(["default", "flexibleRollout"]));
    assert_eq!(detail["seenToggles"], json!(["seen-flag"]));
    assert_eq!(detail["links"], json!({}));
    let mut instances: Vec<(String, String, String)> = detail["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            assert!(i["lastSeen"].is_string(), "{i}");
            (
                i["instanceId"].as_str().unwrap().to_string(),
                i["environment"].as_str().unwrap().to_string(),
                i["sdkVersion"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    instances.sort();
    assert_eq!(
        instances,
        [
            (
                "i-1".into(),
                "development".into(),
                "unleash-client-go:4.1.0".into()
            ),
            (
                "i-1".into(),
                "production".into(),
                "unleash-client-go:4.1.0".into()
            ),
            (
                "i-2".into(),
                "development".into(),
                "unleash-node-sdk:6.12.1".into()
            ),
        ]
    );

    let (status, body) = app
        .admin(Method::GET, "/api/admin/metrics/applications/nobody", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["name"], "NotFoundError");
});

/// A metrics body of about `n` bytes, counting made-up flags.
fn metrics_of_size(n: usize) -> Vec<u8> {
    use std::fmt::Write;
    let now = Timestamp::now().to_rfc3339();
    let mut body = format!(
        r#"{{"appName":"big","instanceId":"i-1","bucket":{{"start":"{now}","stop":"{now}","toggles":{{"#
    );
    let mut i = 0;
    while body.len() < n - 64 {
        if i > 0 {
            body.push(',');
        }
        write!(body, r#""flag-{i:08}":{{"yes":1,"no":2,"variants":{{}}}}"#).unwrap();
        i += 1;
    }
    body.push_str("}}}");
    body.into_bytes()
}

both_backends!(metrics_bodies_up_to_5_mib_are_accepted, |app| {
    let four = metrics_of_size(4 * 1024 * 1024);
    assert!(four.len() > 4 * 1024 * 1024 - 1024 && four.len() < 5 * 1024 * 1024);
    let six = metrics_of_size(6 * 1024 * 1024);
    assert!(six.len() > 5 * 1024 * 1024);
    let send_raw = |path: &str, token: &str, body: Vec<u8>| {
        send(
            app.request(Method::POST, path, Some(token))
                .header(CONTENT_TYPE, "application/json")
                .body(body),
        )
    };

    let (status, body) = send_raw("/api/client/metrics", CLIENT_DEV, four.clone()).await;
    assert_eq!((status, body), (StatusCode::ACCEPTED, Value::Null));
    let (status, body) = send_raw("/api/frontend/client/metrics", FRONTEND_DEV, four.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, body) = send_raw("/api/client/metrics", CLIENT_DEV, six.clone()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["name"], "ContentTooLargeError");
    assert!(
        body["message"].as_str().unwrap().contains("5242880"),
        "{body}"
    );
    let (status, _) = send_raw("/api/frontend/client/metrics", FRONTEND_DEV, six).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    // Everywhere else the limit stays 1 MiB.
    let (status, _) = send_raw("/api/client/register", CLIENT_DEV, four).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
});

both_backends!(bad_reports_are_refused_and_record_nothing, |app| {
    app.create_flag("guarded").await;
    let now = Timestamp::now().to_rfc3339();
    let bad_metrics = [
        json!({"instanceId": "i", "bucket": {"start": now, "stop": now, "toggles": {"guarded": {"yes": 1, "no": 0}}}}),
        json!({"appName": "", "bucket": {"start": now, "stop": now, "toggles": {"guarded": {"yes": 1, "no": 0}}}}),
        json!({"appName": "a", "bucket": {"start": now, "stop": now, "toggles": {"guarded": {"yes": -1, "no": 0}}}}),
        json!({"appName": "a", "bucket": {"start": now, "stop": now, "toggles": {"guarded": {"yes": 1, "no": 0, "variants": {"v": -3}}}}}),
        json!({"appName": "a", "bucket": {"start": now, "stop": now, "toggles": {"guarded": {"yes": "1", "no": 0}}}}),
        json!({"appName": "a", "bucket": {"start": "yesterday", "stop": now, "toggles": {"guarded": {"yes": 1, "no": 0}}}}),
        json!({"appName": "a", "bucket": {"start": now, "stop": now}}),
        json!({"appName": 42}),
        json!([1, 2]),
    ];
    for body in &bad_metrics {
        let (status, resp) = post(app, "/api/client/metrics", CLIENT_DEV, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} → {resp}");
        assert_eq!(resp["name"], "BadDataError", "{resp}");
    }
    let bad_registrations = [
        json!({"instanceId": "i", "strategies": []}),
        json!({"appName": "a", "started": "not a date"}),
        json!({"appName": "a", "strategies": "default"}),
    ];
    for body in &bad_registrations {
        let (status, resp) = post(app, "/api/client/register", CLIENT_DEV, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} → {resp}");
    }
    let (status, resp) = send(
        app.request(Method::POST, "/api/client/metrics", Some(CLIENT_DEV))
            .header(CONTENT_TYPE, "application/json")
            .body("{\"appName\": \"a\", "),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{resp}");
    assert_eq!(resp["name"], "BadDataError");

    // Tokens: none → 401, the wrong kind → 403.
    let good = metrics_body("a", &json!({"guarded": {"yes": 1, "no": 0}}));
    let (status, _) = send(
        app.request(Method::POST, "/api/client/metrics", None)
            .json(&good),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    for (path, token) in [
        ("/api/client/metrics", ADMIN),
        ("/api/client/metrics", FRONTEND_DEV),
        ("/api/client/register", FRONTEND_DEV),
        ("/api/frontend/client/metrics", CLIENT_DEV),
    ] {
        let (status, body) = post(app, path, token, &good).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
    }

    let (_, apps) = app
        .admin(Method::GET, "/api/admin/metrics/applications", None)
        .await;
    assert_eq!(apps["applications"], json!([]));
    let (_, raw) = app
        .admin(
            Method::GET,
            "/api/admin/client-metrics/features/guarded/raw",
            None,
        )
        .await;
    assert_eq!(raw["data"], json!([]));
});

both_backends!(metrics_do_not_move_the_configuration_revision, |app| {
    app.create_flag("steady").await;
    let features = |etag: Option<String>| {
        let mut rb = app.request(Method::GET, "/api/client/features", Some(CLIENT_DEV));
        if let Some(e) = etag {
            rb = rb.header(IF_NONE_MATCH, e);
        }
        rb.send()
    };
    let resp = features(None).await.unwrap();
    let etag = resp.headers()[ETAG].to_str().unwrap().to_string();
    let (_, events) = app.admin(Method::GET, "/api/admin/events", None).await;
    let revision = app.service.snapshots().current().revision;

    let register = json!({"appName": "steady-app", "strategies": ["default"]});
    assert_eq!(
        post(app, "/api/client/register", CLIENT_DEV, &register)
            .await
            .0,
        StatusCode::ACCEPTED
    );
    let body = metrics_body("steady-app", &json!({"steady": {"yes": 3, "no": 1}}));
    assert_eq!(
        post(app, "/api/client/metrics", CLIENT_DEV, &body).await.0,
        StatusCode::ACCEPTED
    );
    assert!(
        app.service.flush_metrics().await.unwrap() > 0,
        "something was written"
    );
    app.service.snapshots().refresh().await.unwrap();

    assert_eq!(app.service.snapshots().current().revision, revision);
    let resp = features(Some(etag.clone())).await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
    let resp = features(None).await.unwrap();
    assert_eq!(resp.headers()[ETAG].to_str().unwrap(), etag);
    let (_, after) = app.admin(Method::GET, "/api/admin/events", None).await;
    assert_eq!(after["totalEvents"], events["totalEvents"]);
});

/// Posts metrics to a server that would not flush for an hour, stops it, and reads them back
/// through a new server on the same database.
async fn check_shutdown_flush(backend: Backend) {
    let mut args = standard_args();
    args.extend(["--metrics-flush-secs".to_string(), "3600".to_string()]);
    let Some(app) = TestApp::spawn_with(backend, &args).await else {
        return;
    };
    not_at_the_turn_of_the_hour().await;
    app.create_flag("last-words").await;
    let register = json!({"appName": "leaving", "instanceId": "pod-1", "sdkVersion": "unleash-client-java:9.0.0"});
    assert_eq!(
        post(&app, "/api/client/register", CLIENT_PROD, &register)
            .await
            .0,
        StatusCode::ACCEPTED
    );
    let body = metrics_body("leaving", &json!({"last-words": {"yes": 11, "no": 2}}));
    assert_eq!(
        post(&app, "/api/client/metrics", CLIENT_PROD, &body)
            .await
            .0,
        StatusCode::ACCEPTED
    );

    let db = app.stop_keeping_db().await;
    let app = TestApp::spawn_on(db, &standard_args()).await;

    let (status, usage) = app
        .admin(
            Method::GET,
            "/api/admin/client-metrics/features/last-words",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{usage}");
    assert_eq!(usage["seenApplications"], json!(["leaving"]));
    let prod = &usage["lastHourUsage"][0];
    assert_eq!(prod["environment"], "production");
    assert_eq!(
        (prod["yes"].as_i64(), prod["no"].as_i64()),
        (Some(11), Some(2))
    );
    let (status, detail) = app
        .admin(Method::GET, "/api/admin/metrics/applications/leaving", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    let pod = detail["instances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["instanceId"] == "pod-1")
        .unwrap();
    assert_eq!(pod["sdkVersion"], "unleash-client-java:9.0.0");
    assert_eq!(pod["environment"], "production");
    app.stop().await;
}

mod unflushed_metrics_are_written_on_shutdown {
    use super::*;

    #[tokio::test]
    async fn sqlite() {
        check_shutdown_flush(Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn postgres() {
        check_shutdown_flush(Backend::Postgres).await;
    }
}
