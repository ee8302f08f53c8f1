//! Every admin capability, end to end over HTTP: each write answers as Unleash does, is
//! visible to the very next read, and leaves its Unleash-named event in the audit log.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{ADMIN, CLIENT_DEV, CLIENT_PROD, FRONTEND_DEV, TestApp, send};

const FEATURES: &str = "/api/admin/projects/default/features";

fn feature_path(name: &str) -> String {
    format!("{FEATURES}/{name}")
}

fn env_path(name: &str, env: &str) -> String {
    format!("{FEATURES}/{name}/environments/{env}")
}

fn strategies_path(name: &str, env: &str) -> String {
    format!("{}/strategies", env_path(name, env))
}

async fn get_flag(app: &TestApp, name: &str) -> Value {
    let (status, body) = app.admin(Method::GET, &feature_path(name), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn environment<'a>(flag: &'a Value, env: &str) -> &'a Value {
    flag["environments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == env)
        .unwrap_or_else(|| panic!("no environment {env} in {flag}"))
}

async fn switch(app: &TestApp, name: &str, env: &str, on: bool) {
    let path = format!("{}/{}", env_path(name, env), if on { "on" } else { "off" });
    let (status, body) = app.admin(Method::POST, &path, None).await;
    assert_eq!((status, &body), (StatusCode::OK, &Value::Null), "{path}");
}

/// A flag's events, newest first, through the legacy `?feature=` listing.
async fn flag_events(app: &TestApp, name: &str) -> Vec<Value> {
    let (status, body) = app
        .admin(
            Method::GET,
            &format!("/api/admin/events?feature={name}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let events = body["events"].as_array().unwrap().clone();
    assert_eq!(body["totalEvents"], events.len(), "{body}");
    let ids: Vec<i64> = events.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    assert!(
        events.iter().all(|e| e["featureName"] == name),
        "only {name}'s events: {body}"
    );
    events
}

async fn flag_event_types(app: &TestApp, name: &str) -> Vec<String> {
    flag_events(app, name)
        .await
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

/// `GET /api/admin/search/events?{query}` → (events, total).
async fn search_events(app: &TestApp, query: &str) -> (Vec<Value>, i64) {
    let (status, body) = app
        .admin(
            Method::GET,
            &format!("/api/admin/search/events?{query}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    (
        body["events"].as_array().unwrap().clone(),
        body["total"].as_i64().unwrap(),
    )
}

fn names(list: &Value) -> Vec<String> {
    list["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect()
}

async fn list_names(app: &TestApp, query: &str) -> Vec<String> {
    let (status, body) = app
        .admin(Method::GET, &format!("{FEATURES}{query}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    assert_eq!(body["version"], 2);
    names(&body)
}

async fn archived_names(app: &TestApp) -> Vec<String> {
    let (status, body) = app
        .admin(Method::GET, "/api/admin/archive/features", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    names(&body)
}

both_backends!(projects_list_create_get_and_refuse_duplicates, |app| {
    let (status, body) = app.admin(Method::GET, "/api/admin/projects", None).await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = body["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["default"]);

    let (status, body) = app
        .admin(
            Method::POST,
            "/api/admin/projects",
            Some(json!({"id": "payments", "name": "Payments", "description": "Money flows"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        (&body["id"], &body["name"], &body["description"]),
        (
            &json!("payments"),
            &json!("Payments"),
            &json!("Money flows")
        )
    );

    let (status, body) = app
        .admin(Method::GET, "/api/admin/projects/payments", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["name"], "Payments");
    assert_eq!(body["featureCount"], 0);

    let (_, body) = app.admin(Method::GET, "/api/admin/projects", None).await;
    let payments = body["projects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "payments")
        .expect("the new project is listed at once");
    assert_eq!(payments["featureCount"], 0);

    let (status, body) = app
        .admin(
            Method::POST,
            "/api/admin/projects",
            Some(json!({"id": "payments", "name": "Again"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["name"], "NameExistsError");

    let (events, total) = search_events(app, "type=IS:project-created").await;
    assert_eq!(total, 1, "the refused duplicate left no event");
    assert_eq!(events[0]["project"], "payments");
    assert_eq!(events[0]["data"]["id"], "payments");

    // A flag created in the new project lives there, not in `default`.
    let (status, body) = app
        .admin(
            Method::POST,
            "/api/admin/projects/payments/features",
            Some(json!({"name": "pay-later"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["project"], "payments");
    let (_, body) = app
        .admin(Method::GET, "/api/admin/projects/payments/features", None)
        .await;
    assert_eq!(names(&body), ["pay-later"]);
    assert!(list_names(app, "").await.is_empty());
    // A flag is reached only through its own project.
    let (status, _) = app
        .admin(Method::GET, &feature_path("pay-later"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .admin(
            Method::POST,
            &format!("{}/on", env_path("pay-later", "development")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .admin(Method::DELETE, &feature_path("pay-later"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = app
        .admin(
            Method::GET,
            "/api/admin/projects/payments/features/pay-later",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(environment(&body, "development")["enabled"], false);
    assert_eq!(body["archived"], false);
    let (_, body) = app
        .admin(Method::GET, "/api/admin/projects/payments", None)
        .await;
    assert_eq!(body["featureCount"], 1);
    let (status, _) = app
        .admin(Method::GET, "/api/admin/projects/no-such-project", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
});

both_backends!(environments_exist_and_a_new_one_can_switch_flags, |app| {
    let (status, body) = app
        .admin(Method::GET, "/api/admin/environments", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let envs = body["environments"].as_array().unwrap();
    let summary: Vec<(String, i64, bool)> = envs
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_string(),
                e["sortOrder"].as_i64().unwrap(),
                e["enabled"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("development".to_string(), 2, true),
            ("production".to_string(), 3, true)
        ]
    );
    assert_eq!(envs[0]["type"], "development");
    assert_eq!(envs[1]["type"], "production");

    let (status, body) = app
        .admin(
            Method::POST,
            "/api/admin/environments",
            Some(json!({"name": "staging", "type": "test"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["name"], "staging");
    assert_eq!(body["type"], "test");
    assert_eq!(body["sortOrder"], 4, "after the last one");

    let (status, body) = app
        .admin(Method::GET, "/api/admin/environments/staging", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["enabled"], true);
    let (_, body) = app
        .admin(Method::GET, "/api/admin/environments", None)
        .await;
    let listed: Vec<&str> = body["environments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["development", "production", "staging"]);

    let (status, _) = app
        .admin(
            Method::POST,
            "/api/admin/environments",
            Some(json!({"name": "staging", "type": "test"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (events, total) = search_events(app, "type=IS:environment-created").await;
    assert_eq!(total, 1);
    assert_eq!(events[0]["environment"], "staging");

    app.create_flag("staged").await;
    let flag = get_flag(app, "staged").await;
    assert_eq!(environment(&flag, "staging")["enabled"], false);
    switch(app, "staged", "staging", true).await;
    let flag = get_flag(app, "staged").await;
    let staging = environment(&flag, "staging");
    assert_eq!(staging["enabled"], true);
    assert_eq!(staging["strategies"].as_array().unwrap().len(), 1);
    assert_eq!(environment(&flag, "development")["enabled"], false);
    assert_eq!(environment(&flag, "production")["enabled"], false);
    let (status, body) = app
        .admin(Method::GET, &env_path("staged", "staging"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["enabled"], true);

    let events = flag_events(app, "staged").await;
    assert_eq!(events[0]["type"], "feature-environment-enabled");
    assert_eq!(events[0]["environment"], "staging");
});

both_backends!(features_create_get_update_patch_and_refuse_renames, |app| {
    let created = app
        .create_flag_from(
            "default",
            json!({"name": "checkout", "description": "New checkout", "type": "experiment", "impressionData": true}),
        )
        .await;
    assert_eq!(created["name"], "checkout");
    assert_eq!(created["type"], "experiment");
    assert_eq!(created["project"], "default");

    let flag = get_flag(app, "checkout").await;
    assert_eq!(flag["description"], "New checkout");
    assert_eq!(flag["type"], "experiment");
    assert_eq!(flag["impressionData"], true);
    assert_eq!(flag["stale"], false);
    assert_eq!(flag["archived"], false);
    let envs: Vec<(&str, bool)> = flag["environments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap(), e["enabled"].as_bool().unwrap()))
        .collect();
    assert_eq!(envs, [("development", false), ("production", false)]);
    let events = flag_events(app, "checkout").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["type"], "feature-created");
    assert_eq!(events[0]["project"], "default");
    assert_eq!(events[0]["data"]["name"], "checkout");

    let (status, body) = app
        .admin(Method::POST, FEATURES, Some(json!({"name": "checkout"})))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    let (status, body) = app
        .admin(
            Method::PUT,
            &feature_path("checkout"),
            Some(json!({"name": "checkout", "description": "Better checkout", "type": "operational", "stale": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["description"], "Better checkout");
    assert_eq!(body["type"], "operational");
    assert_eq!(body["stale"], true);
    let flag = get_flag(app, "checkout").await;
    assert_eq!(
        (&flag["description"], &flag["type"], &flag["stale"]),
        (
            &json!("Better checkout"),
            &json!("operational"),
            &json!(true)
        )
    );
    assert_eq!(flag["impressionData"], true, "PUT keeps what it leaves out");
    let events = flag_events(app, "checkout").await;
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "feature-stale-on",
            "feature-metadata-updated",
            "feature-created"
        ]
    );
    assert_eq!(events[1]["data"]["description"], "Better checkout");
    assert_eq!(events[1]["data"]["type"], "operational");
    assert_eq!(events[1]["preData"]["description"], "New checkout");
    assert_eq!(events[1]["preData"]["type"], "experiment");

    // The same PUT again changes nothing and records nothing.
    let (status, _) = app
        .admin(
            Method::PUT,
            &feature_path("checkout"),
            Some(json!({"description": "Better checkout", "stale": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(flag_events(app, "checkout").await.len(), 3);

    let (status, body) = app
        .admin(
            Method::PATCH,
            &feature_path("checkout"),
            Some(json!([{"op": "replace", "path": "/description", "value": "Patched"}])),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["description"], "Patched");
    assert_eq!(get_flag(app, "checkout").await["description"], "Patched");
    let events = flag_events(app, "checkout").await;
    assert_eq!(events[0]["type"], "feature-metadata-updated");
    assert_eq!(events[0]["preData"]["description"], "Better checkout");
    assert_eq!(events[0]["data"]["description"], "Patched");

    let (status, body) = app
        .admin(
            Method::PUT,
            &feature_path("checkout"),
            Some(json!({"name": "renamed", "description": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = app
        .admin(
            Method::PATCH,
            &feature_path("checkout"),
            Some(json!([{"op": "replace", "path": "/name", "value": "renamed"}])),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = app.admin(Method::GET, &feature_path("renamed"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(get_flag(app, "checkout").await["description"], "Patched");
    assert_eq!(flag_events(app, "checkout").await.len(), 4);

    let (status, _) = app
        .admin(
            Method::PUT,
            &feature_path("checkout"),
            Some(json!({"stale": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(get_flag(app, "checkout").await["stale"], false);
    assert_eq!(
        flag_event_types(app, "checkout").await[..2],
        ["feature-stale-off", "feature-metadata-updated"]
    );
});

both_backends!(feature_lists_filter_by_name_prefix_and_tags, |app| {
    app.create_flag_from(
        "default",
        json!({"name": "web-login", "tags": [{"type": "simple", "value": "web"}]}),
    )
    .await;
    app.create_flag("web-logout").await;
    app.create_flag("web_x").await;
    app.create_flag("webby").await;
    app.create_flag("api-login").await;
    for (flag, value) in [("api-login", "api"), ("webby", "other")] {
        let (status, body) = app
            .admin(
                Method::POST,
                &format!("/api/admin/features/{flag}/tags"),
                Some(json!({"type": "simple", "value": value})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    assert_eq!(
        list_names(app, "").await,
        ["api-login", "web-login", "web-logout", "web_x", "webby"]
    );
    assert_eq!(
        list_names(app, "?namePrefix=web-").await,
        ["web-login", "web-logout"]
    );
    assert_eq!(
        list_names(app, "?namePrefix=web_").await,
        ["web_x"],
        "`_` is a literal, not a LIKE wildcard"
    );
    assert_eq!(
        list_names(app, "?namePrefix=web").await,
        ["web-login", "web-logout", "web_x", "webby"]
    );
    assert_eq!(list_names(app, "?tag=simple:web").await, ["web-login"]);
    assert_eq!(
        list_names(app, "?tag=simple:web&tag=simple:api").await,
        ["api-login", "web-login"],
        "repeated tags match any of them"
    );
    assert_eq!(
        list_names(app, "?namePrefix=web&tag=simple:api").await,
        Vec::<String>::new()
    );
    assert_eq!(
        list_names(app, "?namePrefix=web&tag=simple:other&tag=simple:api").await,
        ["webby"]
    );
    assert!(list_names(app, "?tag=simple:nothing").await.is_empty());

    let (_, body) = app.admin(Method::GET, FEATURES, None).await;
    let login = body["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "web-login")
        .unwrap();
    assert_eq!(login["tags"], json!([{"type": "simple", "value": "web"}]));
    let (events, total) = search_events(app, "type=IS:feature-tagged").await;
    assert_eq!(total, 3, "{events:?}");
});

both_backends!(tags_with_spaces_and_non_ascii_values, |app| {
    app.create_flag("intl").await;
    let resp = app
        .request(Method::POST, "/api/admin/features/intl/tags", Some(ADMIN))
        .json(&json!({"type": "simple", "value": "  café au lait  "}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let location = resp
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .map(str::to_string);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body,
        json!({"type": "simple", "value": "café au lait"}),
        "the answer shows the tag as stored"
    );
    assert_eq!(
        location.as_deref(),
        Some("/api/admin/features/intl/tags/simple/caf%C3%A9%20au%20lait")
    );
    let (_, tags) = app
        .admin(Method::GET, "/api/admin/features/intl/tags", None)
        .await;
    assert_eq!(
        tags["tags"],
        json!([{"type": "simple", "value": "café au lait"}])
    );
    assert_eq!(
        list_names(app, "?tag=simple:caf%C3%A9%20au%20lait").await,
        ["intl"]
    );

    let (status, _) = app
        .admin(Method::DELETE, location.as_deref().unwrap(), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, tags) = app
        .admin(Method::GET, "/api/admin/features/intl/tags", None)
        .await;
    assert_eq!(tags["tags"], json!([]));
    assert_eq!(
        flag_event_types(app, "intl").await,
        ["feature-untagged", "feature-tagged", "feature-created"]
    );
});

both_backends!(archive_revive_and_delete_one_flag, |app| {
    app.create_flag("old-flag").await;
    app.create_flag("live-flag").await;
    switch(app, "old-flag", "development", true).await;

    let (status, body) = app
        .admin(Method::DELETE, &feature_path("old-flag"), None)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let (status, _) = app
        .admin(Method::GET, &feature_path("old-flag"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(list_names(app, "").await, ["live-flag"]);
    assert_eq!(archived_names(app).await, ["old-flag"]);
    let (_, body) = app
        .admin(Method::GET, "/api/admin/archive/features/default", None)
        .await;
    assert_eq!(names(&body), ["old-flag"]);
    assert!(body["features"][0]["archivedAt"].is_string(), "{body}");
    assert_eq!(
        flag_event_types(app, "old-flag").await[0],
        "feature-archived"
    );

    // An archived flag still holds its name.
    let (status, _) = app
        .admin(Method::POST, FEATURES, Some(json!({"name": "old-flag"})))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // A live flag cannot be deleted.
    let (status, body) = app
        .admin(Method::DELETE, "/api/admin/archive/live-flag", None)
        .await;
    assert!(status.is_client_error(), "{status} {body}");
    get_flag(app, "live-flag").await;
    assert_eq!(
        flag_event_types(app, "live-flag").await,
        ["feature-created"]
    );

    let (status, body) = app
        .admin(Method::POST, "/api/admin/archive/revive/old-flag", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let revived = get_flag(app, "old-flag").await;
    assert_eq!(revived["archived"], false);
    assert_eq!(
        environment(&revived, "development")["strategies"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "reviving keeps the flag's strategies"
    );
    assert!(archived_names(app).await.is_empty());
    assert_eq!(list_names(app, "").await, ["live-flag", "old-flag"]);
    assert_eq!(
        flag_event_types(app, "old-flag").await[0],
        "feature-revived"
    );

    let (status, _) = app
        .admin(Method::DELETE, &feature_path("old-flag"), None)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (status, body) = app
        .admin(Method::DELETE, "/api/admin/archive/old-flag", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(archived_names(app).await.is_empty());
    let (status, _) = app
        .admin(Method::GET, &feature_path("old-flag"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let events = flag_events(app, "old-flag").await;
    assert_eq!(events[0]["type"], "feature-deleted");
    assert_eq!(events[0]["preData"]["name"], "old-flag");
    let (status, _) = app
        .admin(Method::DELETE, "/api/admin/archive/old-flag", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The name is free again once deleted.
    app.create_flag("old-flag").await;
    let reborn = get_flag(app, "old-flag").await;
    assert_eq!(environment(&reborn, "development")["enabled"], false);
    assert!(
        environment(&reborn, "development")["strategies"]
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing of the deleted flag survives: {reborn}"
    );
});

both_backends!(bulk_archive_revive_and_delete, |app| {
    for name in ["b1", "b2", "b3"] {
        app.create_flag(name).await;
    }
    let (status, body) = app
        .admin(
            Method::POST,
            "/api/admin/projects/default/archive",
            Some(json!({"features": ["b1", "b2"]})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(list_names(app, "").await, ["b3"]);
    assert_eq!(archived_names(app).await, ["b1", "b2"]);
    for name in ["b1", "b2"] {
        assert_eq!(flag_event_types(app, name).await[0], "feature-archived");
    }

    // All or nothing: one unknown name archives none of them.
    let (status, _) = app
        .admin(
            Method::POST,
            "/api/admin/projects/default/archive",
            Some(json!({"features": ["b3", "no-such-flag"]})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(list_names(app, "").await, ["b3"]);
    assert_eq!(flag_event_types(app, "b3").await, ["feature-created"]);

    let (status, body) = app
        .admin(
            Method::POST,
            "/api/admin/projects/default/revive",
            Some(json!({"features": ["b1"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(list_names(app, "").await, ["b1", "b3"]);
    assert_eq!(archived_names(app).await, ["b2"]);
    assert_eq!(flag_event_types(app, "b1").await[0], "feature-revived");

    let (status, body) = app
        .admin(
            Method::POST,
            "/api/admin/projects/default/delete",
            Some(json!({"features": ["b2"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(archived_names(app).await.is_empty());
    assert_eq!(flag_event_types(app, "b2").await[0], "feature-deleted");

    let (status, _) = app
        .admin(
            Method::POST,
            "/api/admin/projects/default/delete",
            Some(json!({"features": ["b3"]})),
        )
        .await;
    assert!(status.is_client_error(), "a live flag is not deleted");
    assert_eq!(list_names(app, "").await, ["b1", "b3"]);
});

both_backends!(switching_environments_on_and_off, |app| {
    app.create_flag("toggle").await;

    switch(app, "toggle", "development", true).await;
    let flag = get_flag(app, "toggle").await;
    let dev = environment(&flag, "development");
    assert_eq!(dev["enabled"], true);
    let strategies = dev["strategies"].as_array().unwrap();
    assert_eq!(strategies.len(), 1);
    assert_eq!(strategies[0]["name"], "flexibleRollout");
    assert_eq!(
        strategies[0]["parameters"],
        json!({"rollout": "100", "stickiness": "default", "groupId": "toggle"})
    );
    assert_eq!(strategies[0]["constraints"], json!([]));
    let events = flag_events(app, "toggle").await;
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "feature-environment-enabled",
            "feature-strategy-add",
            "feature-created"
        ]
    );
    assert_eq!(events[0]["environment"], "development");
    assert_eq!(events[1]["environment"], "development");
    assert_eq!(events[1]["data"]["id"], strategies[0]["id"]);
    assert_eq!(events[1]["data"]["parameters"]["rollout"], "100");

    // Off where it already is off: 200, and nothing recorded.
    switch(app, "toggle", "production", false).await;
    assert_eq!(flag_events(app, "toggle").await.len(), 3);
    assert_eq!(
        environment(&get_flag(app, "toggle").await, "production")["enabled"],
        false
    );

    // On where it already is on, with a strategy: nothing added, nothing recorded.
    switch(app, "toggle", "development", true).await;
    assert_eq!(flag_events(app, "toggle").await.len(), 3);

    switch(app, "toggle", "development", false).await;
    let flag = get_flag(app, "toggle").await;
    assert_eq!(environment(&flag, "development")["enabled"], false);
    assert_eq!(
        environment(&flag, "development")["strategies"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "switching off keeps the strategies"
    );
    let events = flag_events(app, "toggle").await;
    assert_eq!(events.len(), 4);
    assert_eq!(events[0]["type"], "feature-environment-disabled");
    assert_eq!(events[0]["environment"], "development");

    // On again with a strategy in place: no second default strategy.
    switch(app, "toggle", "development", true).await;
    let flag = get_flag(app, "toggle").await;
    assert_eq!(
        environment(&flag, "development")["strategies"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        flag_event_types(app, "toggle").await[..2],
        [
            "feature-environment-enabled",
            "feature-environment-disabled"
        ]
    );

    // A strategy added first is the one used; switching on adds none.
    let (status, added) = app
        .admin(
            Method::POST,
            &strategies_path("toggle", "production"),
            Some(json!({"name": "flexibleRollout", "parameters": {"rollout": "5"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{added}");
    switch(app, "toggle", "production", true).await;
    let flag = get_flag(app, "toggle").await;
    let prod = environment(&flag, "production");
    assert_eq!(prod["enabled"], true);
    assert_eq!(prod["strategies"].as_array().unwrap().len(), 1);
    assert_eq!(prod["strategies"][0]["id"], added["id"]);
    assert_eq!(
        flag_event_types(app, "toggle").await[..2],
        ["feature-environment-enabled", "feature-strategy-add"]
    );

    let (status, _) = app
        .admin(
            Method::POST,
            &format!("{}/on", env_path("toggle", "no-such-env")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
});

both_backends!(strategies_add_get_update_patch_sort_and_delete, |app| {
    app.create_flag("strat").await;
    let list_path = strategies_path("strat", "development");
    let one = |id: &Value| format!("{list_path}/{}", id.as_str().unwrap());

    let (status, s1) = app
        .admin(
            Method::POST,
            &list_path,
            Some(json!({"name": "flexibleRollout", "parameters": {"rollout": "25", "stickiness": "userId", "groupId": "g"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{s1}");
    assert!(s1["id"].as_str().is_some_and(|id| !id.is_empty()), "{s1}");
    assert_eq!(s1["sortOrder"], 0);
    assert_eq!(s1["parameters"]["rollout"], "25");
    let (status, listed) = app.admin(Method::GET, &list_path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed, json!([s1.clone()]));

    let (_, s2) = app
        .admin(Method::POST, &list_path, Some(json!({"name": "default"})))
        .await;
    let (_, s3) = app
        .admin(
            Method::POST,
            &list_path,
            Some(json!({"name": "userWithId", "parameters": {"userIds": "a,b"}})),
        )
        .await;
    assert_eq!((&s2["sortOrder"], &s3["sortOrder"]), (&json!(1), &json!(2)));
    let (status, got) = app.admin(Method::GET, &one(&s1["id"]), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, s1);
    let events = flag_events(app, "strat").await;
    assert_eq!(
        events
            .iter()
            .filter(|e| e["type"] == "feature-strategy-add")
            .map(|e| e["data"]["id"].clone())
            .collect::<Vec<_>>(),
        [s3["id"].clone(), s2["id"].clone(), s1["id"].clone()]
    );

    let (status, updated) = app
        .admin(
            Method::PUT,
            &one(&s1["id"]),
            Some(json!({"name": "flexibleRollout", "parameters": {"rollout": "50", "stickiness": "userId", "groupId": "g"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["id"], s1["id"]);
    assert_eq!(updated["parameters"]["rollout"], "50");
    assert_eq!(updated["sortOrder"], 0, "PUT keeps the position");
    let (_, got) = app.admin(Method::GET, &one(&s1["id"]), None).await;
    assert_eq!(got["parameters"]["rollout"], "50");
    let events = flag_events(app, "strat").await;
    assert_eq!(events[0]["type"], "feature-strategy-update");
    assert_eq!(events[0]["environment"], "development");
    assert_eq!(events[0]["data"]["parameters"]["rollout"], "50");
    assert_eq!(events[0]["preData"]["parameters"]["rollout"], "25");
    assert_eq!(events[0]["preData"]["id"], s1["id"]);

    let (status, patched) = app
        .admin(
            Method::PATCH,
            &one(&s1["id"]),
            Some(json!([
                {"op": "replace", "path": "/parameters/rollout", "value": "75"},
                {"op": "replace", "path": "/title", "value": "Most users"}
            ])),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["parameters"]["rollout"], "75");
    assert_eq!(patched["parameters"]["stickiness"], "userId");
    assert_eq!(patched["title"], "Most users");
    let (_, got) = app.admin(Method::GET, &one(&s1["id"]), None).await;
    assert_eq!(got, patched);
    let events = flag_events(app, "strat").await;
    assert_eq!(events[0]["type"], "feature-strategy-update");
    assert_eq!(events[0]["preData"]["parameters"]["rollout"], "50");
    assert_eq!(events[0]["data"]["title"], "Most users");

    let (status, body) = app
        .admin(
            Method::POST,
            &format!("{list_path}/set-sort-order"),
            Some(json!([
                {"id": s3["id"], "sortOrder": 0},
                {"id": s1["id"], "sortOrder": 1},
                {"id": s2["id"], "sortOrder": 2}
            ])),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, listed) = app.admin(Method::GET, &list_path, None).await;
    let ids: Vec<&Value> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["id"])
        .collect();
    assert_eq!(ids, [&s3["id"], &s1["id"], &s2["id"]]);
    let flag = get_flag(app, "strat").await;
    let in_flag: Vec<&Value> = environment(&flag, "development")["strategies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["id"])
        .collect();
    assert_eq!(in_flag, ids, "the flag shows the same order");
    let events = flag_events(app, "strat").await;
    assert_eq!(events[0]["type"], "strategy-order-changed");
    assert_eq!(events[0]["environment"], "development");

    let (status, _) = app.admin(Method::DELETE, &one(&s2["id"]), None).await;
    assert_eq!(status, StatusCode::OK);
    let (_, listed) = app.admin(Method::GET, &list_path, None).await;
    let ids: Vec<&Value> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["id"])
        .collect();
    assert_eq!(ids, [&s3["id"], &s1["id"]]);
    let (status, _) = app.admin(Method::GET, &one(&s2["id"]), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let events = flag_events(app, "strat").await;
    assert_eq!(events[0]["type"], "feature-strategy-remove");
    assert_eq!(events[0]["preData"]["id"], s2["id"]);
    assert_eq!(events[0]["environment"], "development");

    // Strategies belong to one environment.
    let (_, prod) = app
        .admin(Method::GET, &strategies_path("strat", "production"), None)
        .await;
    assert_eq!(prod, json!([]));
    let (status, _) = app
        .admin(
            Method::GET,
            &format!(
                "{}/{}",
                strategies_path("strat", "production"),
                s1["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
});

both_backends!(constraints_with_every_operator_round_trip_exactly, |app| {
    app.create_flag("constrained").await;
    let constraints = json!([
        {"contextName": "environment", "operator": "IN", "values": ["dev", "test"], "caseInsensitive": false, "inverted": false},
        {"contextName": "appName", "operator": "NOT_IN", "values": ["web", "sun-app"], "caseInsensitive": false, "inverted": true},
        {"contextName": "customField", "operator": "STR_STARTS_WITH", "values": ["some-string"], "caseInsensitive": true, "inverted": false},
        {"contextName": "email", "operator": "STR_ENDS_WITH", "values": ["@example.com", "@example.org"], "caseInsensitive": true, "inverted": true},
        {"contextName": "email", "operator": "STR_CONTAINS", "values": ["email"], "caseInsensitive": false, "inverted": false},
        {"contextName": "someValue", "operator": "NUM_EQ", "values": [], "value": "12", "caseInsensitive": false, "inverted": false},
        {"contextName": "someValue", "operator": "NUM_GT", "values": [], "value": "12.5", "caseInsensitive": false, "inverted": true},
        {"contextName": "someValue", "operator": "NUM_GTE", "values": [], "value": "-3", "caseInsensitive": false, "inverted": false},
        {"contextName": "someValue", "operator": "NUM_LT", "values": [], "value": "12", "caseInsensitive": false, "inverted": false},
        {"contextName": "someValue", "operator": "NUM_LTE", "values": [], "value": "0", "caseInsensitive": false, "inverted": false},
        {"contextName": "currentTime", "operator": "DATE_AFTER", "values": [], "value": "2022-01-29T13:00:00.000Z", "caseInsensitive": false, "inverted": false},
        {"contextName": "currentTime", "operator": "DATE_BEFORE", "values": [], "value": "2022-01-22T14:00:00.000+02:00", "caseInsensitive": false, "inverted": true},
        {"contextName": "version", "operator": "SEMVER_EQ", "values": [], "value": "1.2.2", "caseInsensitive": false, "inverted": false},
        {"contextName": "version", "operator": "SEMVER_GT", "values": [], "value": "1.2.2-beta.1", "caseInsensitive": false, "inverted": false},
        {"contextName": "version", "operator": "SEMVER_GTE", "values": [], "value": "1.2.2", "caseInsensitive": false, "inverted": true},
        {"contextName": "version", "operator": "SEMVER_LT", "values": [], "value": "2.0.0", "caseInsensitive": false, "inverted": false},
        {"contextName": "version", "operator": "SEMVER_LTE", "values": [], "value": "2.0.0", "caseInsensitive": false, "inverted": false},
        {"contextName": "userId", "operator": "REGEX", "values": [], "value": "^user\\d{3}$", "caseInsensitive": true, "inverted": false},
        {"contextName": "userId", "operator": "REGEX", "values": [], "value": "^[[:alpha:]]+$", "caseInsensitive": false, "inverted": true},
        {"contextName": "remoteAddress", "operator": "IN_CIDR", "values": ["127.0.0.1", "2001:db8::/32", "160.33.0.0/16"], "caseInsensitive": false, "inverted": false}
    ]);
    let operators: std::collections::BTreeSet<&str> = constraints
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["operator"].as_str().unwrap())
        .collect();
    assert_eq!(operators.len(), 19, "every operator the client spec uses");

    let path = strategies_path("constrained", "development");
    let (status, added) = app
        .admin(
            Method::POST,
            &path,
            Some(json!({"name": "default", "constraints": constraints})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{added}");
    assert_eq!(added["constraints"], constraints);
    let (_, got) = app
        .admin(
            Method::GET,
            &format!("{path}/{}", added["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(got["constraints"], constraints);
    let flag = get_flag(app, "constrained").await;
    assert_eq!(
        environment(&flag, "development")["strategies"][0]["constraints"],
        constraints
    );
    let events = flag_events(app, "constrained").await;
    assert_eq!(events[0]["data"]["constraints"], constraints);

    // What RE2-style engines cannot run is refused upstream, as the client spec expects.
    for regex in ["^(?=a)b$", "^(a)\\1$", "(regex"] {
        let (status, body) = app
            .admin(
                Method::POST,
                &path,
                Some(json!({"name": "default", "constraints": [{"contextName": "userId", "operator": "REGEX", "value": regex}]})),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{regex}: {body}");
    }
    let (_, listed) = app.admin(Method::GET, &path, None).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
});

both_backends!(
    strategy_variants_round_trip_with_normalised_weights,
    |app| {
        app.create_flag("variants").await;
        let path = strategies_path("variants", "development");
        let (status, added) = app
        .admin(
            Method::POST,
            &path,
            Some(json!({
                "name": "flexibleRollout",
                "parameters": {"rollout": "100"},
                "variants": [
                    {"name": "a", "weight": 0, "weightType": "variable", "stickiness": "default", "payload": {"type": "string", "value": "A"}},
                    {"name": "b", "weightType": "variable", "stickiness": "userId"},
                    {"name": "c", "weight": 100, "weightType": "fix", "stickiness": "default", "payload": {"type": "json", "value": "{\"k\":1}"}}
                ]
            })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{added}");
        let expected = json!([
            {"name": "a", "weight": 450, "weightType": "variable", "stickiness": "default", "payload": {"type": "string", "value": "A"}},
            {"name": "b", "weight": 450, "weightType": "variable", "stickiness": "userId"},
            {"name": "c", "weight": 100, "weightType": "fix", "stickiness": "default", "payload": {"type": "json", "value": "{\"k\":1}"}}
        ]);
        assert_eq!(added["variants"], expected);
        let one = format!("{path}/{}", added["id"].as_str().unwrap());
        let (_, got) = app.admin(Method::GET, &one, None).await;
        assert_eq!(got["variants"], expected);

        let (status, updated) = app
            .admin(
                Method::PUT,
                &one,
                Some(json!({
                    "name": "flexibleRollout",
                    "parameters": {"rollout": "100"},
                    "variants": [{"name": "x"}, {"name": "y"}, {"name": "z"}]
                })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{updated}");
        let weights: Vec<i64> = updated["variants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["weight"].as_i64().unwrap())
            .collect();
        assert_eq!(weights, [334, 333, 333]);
        assert_eq!(updated["variants"][0]["stickiness"], "default");
        let flag = get_flag(app, "variants").await;
        assert_eq!(
            environment(&flag, "development")["strategies"][0]["variants"],
            updated["variants"]
        );
        let events = flag_events(app, "variants").await;
        assert_eq!(events[0]["type"], "feature-strategy-update");
        assert_eq!(events[0]["preData"]["variants"], expected);
    }
);

both_backends!(feature_environment_variants_get_put_patch, |app| {
    app.create_flag("legacy-variants-flag").await;
    let path = format!(
        "{}/variants",
        env_path("legacy-variants-flag", "development")
    );
    let (status, body) = app.admin(Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"version": 1, "variants": []}));

    // The recorded Unleash exchange (legacy-variants/03): sorted by name, the variable
    // variants sharing what the fixed one leaves of 1000.
    let (status, body) = app
        .admin(
            Method::PUT,
            &path,
            Some(json!([
                {"name": "control", "weight": 500, "weightType": "variable", "stickiness": "default", "payload": {"type": "string", "value": "c"}},
                {"name": "treatment", "weight": 500, "weightType": "variable", "stickiness": "default", "payload": {"type": "number", "value": "42"}, "overrides": [{"contextName": "userId", "values": ["u1"]}]},
                {"name": "fixed", "weight": 200, "weightType": "fix", "stickiness": "default"}
            ])),
        )
        .await;
    let expected = json!({"version": 1, "variants": [
        {"name": "control", "weight": 400, "weightType": "variable", "stickiness": "default", "payload": {"type": "string", "value": "c"}},
        {"name": "fixed", "weight": 200, "weightType": "fix", "stickiness": "default"},
        {"name": "treatment", "weight": 400, "weightType": "variable", "stickiness": "default", "payload": {"type": "number", "value": "42"}, "overrides": [{"contextName": "userId", "values": ["u1"]}]}
    ]});
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, expected);
    let (_, got) = app.admin(Method::GET, &path, None).await;
    assert_eq!(got, expected);
    let flag = get_flag(app, "legacy-variants-flag").await;
    assert_eq!(
        environment(&flag, "development")["variants"],
        expected["variants"]
    );
    assert_eq!(environment(&flag, "production")["variants"], json!([]));
    let events = flag_events(app, "legacy-variants-flag").await;
    assert_eq!(events[0]["type"], "feature-environment-variants-updated");
    assert_eq!(events[0]["environment"], "development");
    assert_eq!(events[0]["data"]["variants"], expected["variants"]);
    assert_eq!(events[0]["preData"]["variants"], json!([]));

    // PATCH: drop the fixed variant; the rest share 1000 again.
    let (status, body) = app
        .admin(
            Method::PATCH,
            &path,
            Some(json!([{"op": "remove", "path": "/1"}])),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let summary: Vec<(String, i64)> = body["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["name"].as_str().unwrap().to_string(),
                v["weight"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [("control".to_string(), 500), ("treatment".to_string(), 500)]
    );
    assert_eq!(
        body["variants"][1]["overrides"],
        json!([{"contextName": "userId", "values": ["u1"]}])
    );
    let (_, got) = app.admin(Method::GET, &path, None).await;
    assert_eq!(got, body);
    let events = flag_events(app, "legacy-variants-flag").await;
    assert_eq!(events.len(), 3);
    assert_eq!(events[0]["type"], "feature-environment-variants-updated");
    assert_eq!(events[0]["preData"]["variants"], expected["variants"]);

    // PATCH that adds one: it goes in name order.
    let (status, body) = app
        .admin(
            Method::PATCH,
            &path,
            Some(json!([{"op": "add", "path": "/-", "value": {"name": "alpha", "weightType": "variable", "stickiness": "default"}}])),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let names: Vec<&str> = body["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alpha", "control", "treatment"]);
    let weights: i64 = body["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["weight"].as_i64().unwrap())
        .sum();
    assert_eq!(weights, 1000);
});

both_backends!(segments_crud_validate_and_use_in_strategies, |app| {
    let constraints = json!([{"contextName": "userId", "operator": "IN", "values": ["u1", "u2"], "caseInsensitive": false, "inverted": false}]);
    let (status, created) = app
        .admin(
            Method::POST,
            "/api/admin/segments",
            Some(json!({"name": "beta-users", "description": "Beta", "constraints": constraints})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_i64().expect("a numeric id");
    assert_eq!(created["constraints"], constraints);
    let segment_path = format!("/api/admin/segments/{id}");

    let (status, got) = app.admin(Method::GET, &segment_path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (&got["name"], &got["description"]),
        (&json!("beta-users"), &json!("Beta"))
    );
    assert_eq!(got["constraints"], constraints);
    let (_, list) = app.admin(Method::GET, "/api/admin/segments", None).await;
    assert_eq!(list["segments"].as_array().unwrap().len(), 1);
    assert_eq!(list["segments"][0]["id"], id);

    let (status, body) = app
        .admin(
            Method::POST,
            "/api/admin/segments/validate",
            Some(json!({"name": "beta-users"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, _) = app
        .admin(
            Method::POST,
            "/api/admin/segments/validate",
            Some(json!({"name": "still-free"})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app
        .admin(
            Method::POST,
            "/api/admin/segments",
            Some(json!({"name": "beta-users", "constraints": []})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);

    let new_constraints = json!([{"contextName": "userId", "operator": "IN", "values": ["u3"], "caseInsensitive": true, "inverted": false}]);
    let (status, body) = app
        .admin(
            Method::PUT,
            &segment_path,
            Some(json!({"name": "beta-users", "description": "Beta 2", "constraints": new_constraints})),
        )
        .await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let (_, got) = app.admin(Method::GET, &segment_path, None).await;
    assert_eq!(got["description"], "Beta 2");
    assert_eq!(got["constraints"], new_constraints);

    app.create_flag("segmented").await;
    let path = strategies_path("segmented", "development");
    let (status, strategy) = app
        .admin(
            Method::POST,
            &path,
            Some(json!({"name": "default", "segments": [id]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{strategy}");
    assert_eq!(strategy["segments"], json!([id]));
    let flag = get_flag(app, "segmented").await;
    assert_eq!(
        environment(&flag, "development")["strategies"][0]["segments"],
        json!([id])
    );
    let (_, list) = app.admin(Method::GET, "/api/admin/segments", None).await;
    assert_eq!(list["segments"][0]["usedInFeatures"], 1);

    let (status, _) = app
        .admin(
            Method::POST,
            &path,
            Some(json!({"name": "default", "segments": [id + 1000]})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "an unknown segment is refused"
    );

    let (status, _) = app.admin(Method::DELETE, &segment_path, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "still in use");
    let (status, _) = app
        .admin(
            Method::DELETE,
            &format!("{path}/{}", strategy["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app.admin(Method::DELETE, &segment_path, None).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let (status, _) = app.admin(Method::GET, &segment_path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (events, total) = search_events(
        app,
        "type=IS_ANY_OF:segment-created,segment-updated,segment-deleted",
    )
    .await;
    assert_eq!(total, 3);
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        ["segment-deleted", "segment-updated", "segment-created"]
    );
    assert_eq!(events[1]["data"]["description"], "Beta 2");
    assert_eq!(events[1]["preData"]["description"], "Beta");
    assert_eq!(events[0]["preData"]["id"], id);
});

both_backends!(tag_types_and_flag_tags, |app| {
    let (status, body) = app.admin(Method::GET, "/api/admin/tag-types", None).await;
    assert_eq!(status, StatusCode::OK);
    let type_names = |body: &Value| -> Vec<String> {
        body["tagTypes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(type_names(&body), ["simple"]);

    let (status, body) = app
        .admin(
            Method::POST,
            "/api/admin/tag-types",
            Some(json!({"name": "team", "description": "Owning team"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["name"], "team");
    let (_, body) = app.admin(Method::GET, "/api/admin/tag-types", None).await;
    assert_eq!(type_names(&body), ["simple", "team"]);
    let (status, _) = app
        .admin(
            Method::POST,
            "/api/admin/tag-types",
            Some(json!({"name": "team"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (events, total) = search_events(app, "type=IS:tag-type-created").await;
    assert_eq!(total, 1);
    assert_eq!(events[0]["data"]["name"], "team");

    app.create_flag("tagged").await;
    let tags_path = "/api/admin/features/tagged/tags";
    let resp = app
        .request(Method::POST, tags_path, Some(ADMIN))
        .json(&json!({"type": "simple", "value": "beta"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(
        resp.headers().get("location").and_then(|l| l.to_str().ok()),
        Some("/api/admin/features/tagged/tags/simple/beta")
    );
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body, json!({"type": "simple", "value": "beta"}));
    let (_, body) = app.admin(Method::GET, tags_path, None).await;
    assert_eq!(body["tags"], json!([{"type": "simple", "value": "beta"}]));

    let (status, body) = app
        .admin(
            Method::POST,
            tags_path,
            Some(json!({"type": "simple", "value": "beta"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, _) = app
        .admin(
            Method::POST,
            tags_path,
            Some(json!({"type": "no-such-type", "value": "beta"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, body) = app
        .admin(
            Method::PUT,
            tags_path,
            Some(json!({"addedTags": [{"type": "team", "value": "payments"}], "removedTags": [{"type": "simple", "value": "beta"}]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["tags"], json!([{"type": "team", "value": "payments"}]));
    assert_eq!(
        get_flag(app, "tagged").await["tags"],
        json!([{"type": "team", "value": "payments"}])
    );
    let (_, body) = app.admin(Method::GET, "/api/admin/tags", None).await;
    assert_eq!(body["tags"], json!([{"type": "team", "value": "payments"}]));

    let (status, _) = app
        .admin(
            Method::DELETE,
            "/api/admin/features/tagged/tags/team/payments",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = app.admin(Method::GET, tags_path, None).await;
    assert_eq!(body["tags"], json!([]));
    assert_eq!(
        list_names(app, "?tag=team:payments").await,
        Vec::<String>::new()
    );

    let events = flag_events(app, "tagged").await;
    let summary: Vec<(String, Value)> = events
        .iter()
        .map(|e| {
            let tag = if e["type"] == "feature-untagged" {
                e["preData"].clone()
            } else {
                e["data"].clone()
            };
            (e["type"].as_str().unwrap().to_string(), tag)
        })
        .collect();
    assert_eq!(
        summary[..4],
        [
            (
                "feature-untagged".to_string(),
                json!({"type": "team", "value": "payments"})
            ),
            (
                "feature-untagged".to_string(),
                json!({"type": "simple", "value": "beta"})
            ),
            (
                "feature-tagged".to_string(),
                json!({"type": "team", "value": "payments"})
            ),
            (
                "feature-tagged".to_string(),
                json!({"type": "simple", "value": "beta"})
            ),
        ]
    );
    assert_eq!(events.len(), 5, "plus feature-created");
});

both_backends!(
    api_tokens_create_update_delete_and_never_log_secrets,
    |app| {
        let (status, body) = app.admin(Method::GET, "/api/admin/api-tokens", None).await;
        assert_eq!(status, StatusCode::OK);
        let initial = body["tokens"].as_array().unwrap().len();
        assert_eq!(initial, 4, "the standard tokens: {body}");
        for secret in [ADMIN, CLIENT_DEV, CLIENT_PROD, FRONTEND_DEV] {
            assert!(
                !body.to_string().contains(secret),
                "a listing never shows a whole secret"
            );
        }

        let (status, client) = app
        .admin(
            Method::POST,
            "/api/admin/api-tokens",
            Some(json!({"tokenName": "ci-client", "type": "client", "environment": "development", "projects": ["default"]})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{client}");
        let client_secret = client["secret"].as_str().unwrap().to_string();
        assert!(
            client_secret.starts_with("default:development."),
            "{client_secret}"
        );
        assert!(
            client["type"] == "client" || client["type"] == "backend",
            "{client}"
        );
        assert_eq!(client["projects"], json!(["default"]));

        let (status, frontend) = app
        .admin(
            Method::POST,
            "/api/admin/api-tokens",
            Some(json!({"tokenName": "web", "type": "frontend", "environment": "production", "project": "default"})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{frontend}");
        let frontend_secret = frontend["secret"].as_str().unwrap().to_string();
        assert!(frontend_secret.starts_with("default:production."));
        assert_eq!(frontend["type"], "frontend");

        let (status, admin) = app
            .admin(
                Method::POST,
                "/api/admin/api-tokens",
                Some(json!({"tokenName": "ops", "type": "admin"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{admin}");
        let admin_secret = admin["secret"].as_str().unwrap().to_string();
        assert!(admin_secret.starts_with("*:*."), "{admin_secret}");
        assert_eq!(admin["type"], "admin");

        // The new admin token works the moment its creation has answered.
        let (status, _) =
            send(app.request(Method::GET, "/api/admin/projects", Some(&admin_secret))).await;
        assert_eq!(status, StatusCode::OK);
        // The others are not admin tokens.
        let (status, _) =
            send(app.request(Method::GET, "/api/admin/projects", Some(&client_secret))).await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        let (_, body) = app.admin(Method::GET, "/api/admin/api-tokens", None).await;
        let tokens = body["tokens"].as_array().unwrap();
        assert_eq!(tokens.len(), initial + 3);
        for name in ["ci-client", "web", "ops"] {
            assert!(tokens.iter().any(|t| t["tokenName"] == name), "{name}");
        }

        let (status, body) = app
            .admin(
                Method::PUT,
                &format!("/api/admin/api-tokens/{client_secret}"),
                Some(json!({"expiresAt": "2099-01-01T00:00:00.000Z"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (_, body) = app.admin(Method::GET, "/api/admin/api-tokens", None).await;
        let listed = body["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["tokenName"] == "ci-client")
            .unwrap()
            .clone();
        assert_eq!(listed["expiresAt"], "2099-01-01T00:00:00.000Z");

        let (status, _) = app
            .admin(
                Method::DELETE,
                &format!("/api/admin/api-tokens/{admin_secret}"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) =
            send(app.request(Method::GET, "/api/admin/projects", Some(&admin_secret))).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "a deleted token stops working at once"
        );
        let (_, body) = app.admin(Method::GET, "/api/admin/api-tokens", None).await;
        assert!(
            !body["tokens"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["tokenName"] == "ops")
        );
        // Deleting by id works too.
        let frontend_id = frontend["tokenId"].as_str().unwrap();
        let (status, _) = app
            .admin(
                Method::DELETE,
                &format!("/api/admin/api-tokens/{frontend_id}"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) =
            send(app.request(Method::GET, "/api/admin/projects", Some(&frontend_secret))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        let (events, total) = search_events(
            app,
            "type=IS_ANY_OF:api-token-created,api-token-updated,api-token-deleted&limit=100",
        )
        .await;
        let count = |t: &str| events.iter().filter(|e| e["type"] == t).count();
        assert_eq!(total, 4 + 3 + 1 + 2, "{events:?}");
        assert_eq!(
            (
                count("api-token-created"),
                count("api-token-updated"),
                count("api-token-deleted")
            ),
            (7, 1, 2)
        );
        let updated = events
            .iter()
            .find(|e| e["type"] == "api-token-updated")
            .unwrap();
        assert_eq!(updated["data"]["tokenName"], "ci-client");
        assert_eq!(updated["data"]["expiresAt"], "2099-01-01T00:00:00.000Z");
        assert_eq!(updated["preData"]["expiresAt"], Value::Null);

        // No secret, nor the random part of one, appears anywhere in the audit log.
        let (_, legacy) = app.admin(Method::GET, "/api/admin/events", None).await;
        let all = format!("{legacy}{}", json!(events));
        for secret in [
            client_secret.as_str(),
            frontend_secret.as_str(),
            admin_secret.as_str(),
            ADMIN,
            CLIENT_DEV,
            CLIENT_PROD,
            FRONTEND_DEV,
        ] {
            let key = secret.split_once('.').unwrap().1;
            assert!(!all.contains(secret), "{secret} is in the events");
            assert!(!all.contains(key), "the key of {secret} is in the events");
        }
    }
);

both_backends!(events_list_filter_and_page, |app| {
    app.create_flag("f1").await;
    app.create_flag("f2").await;
    let (status, _) = app
        .admin(
            Method::POST,
            "/api/admin/projects",
            Some(json!({"id": "other"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = app
        .admin(
            Method::POST,
            "/api/admin/projects/other/features",
            Some(json!({"name": "f3"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    switch(app, "f1", "development", true).await;
    switch(app, "f2", "development", true).await;
    let (status, _) = app
        .admin(
            Method::POST,
            "/api/admin/projects/other/features/f3/environments/development/on",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    switch(app, "f1", "production", true).await;

    let (status, body) = app
        .admin(
            Method::GET,
            "/api/admin/events?type=feature-environment-enabled",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let events = body["events"].as_array().unwrap();
    let seen: Vec<(&str, &str)> = events
        .iter()
        .map(|e| {
            assert_eq!(e["type"], "feature-environment-enabled");
            (
                e["featureName"].as_str().unwrap(),
                e["environment"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("f1", "production"),
            ("f3", "development"),
            ("f2", "development"),
            ("f1", "development")
        ],
        "newest first"
    );
    assert_eq!(body["totalEvents"], 4);
    for e in events {
        assert!(e["createdAt"].as_str().is_some_and(|t| t.ends_with('Z')));
        assert_eq!(e["createdBy"], "admin");
        assert_eq!(e["createdByUserId"], -42);
    }

    let (_, body) = app
        .admin(Method::GET, "/api/admin/events?project=other", None)
        .await;
    let events = body["events"].as_array().unwrap();
    let types: Vec<&str> = events
        .iter()
        .map(|e| {
            assert_eq!(e["project"], "other");
            e["type"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        types,
        [
            "feature-environment-enabled",
            "feature-strategy-add",
            "feature-created",
            "project-created"
        ]
    );

    let (status, body) = app.admin(Method::GET, "/api/admin/events/f1", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["toggleName"], "f1");
    let f1: Vec<Value> = body["events"].as_array().unwrap().clone();
    let types: Vec<&str> = f1.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "feature-environment-enabled",
            "feature-strategy-add",
            "feature-environment-enabled",
            "feature-strategy-add",
            "feature-created"
        ]
    );
    assert_eq!(body["totalEvents"], 5);

    let query = "type=IS_ANY_OF:feature-environment-enabled,feature-strategy-add&feature=IS:f1";
    let (all, total) = search_events(app, query).await;
    assert_eq!(total, 4);
    assert_eq!(all.len(), 4);
    let ids: Vec<&Value> = all.iter().map(|e| &e["id"]).collect();
    assert_eq!(
        ids,
        f1[..4].iter().map(|e| &e["id"]).collect::<Vec<_>>(),
        "the same events as the flag's own listing"
    );
    let (page, total) = search_events(app, &format!("{query}&limit=1&offset=1")).await;
    assert_eq!(total, 4, "total counts every match, not the page");
    assert_eq!(page.len(), 1);
    assert_eq!(page[0]["id"], all[1]["id"]);
    assert_eq!(page[0]["type"], "feature-strategy-add");
    assert_eq!(page[0]["environment"], "production");
    let mut paged = Vec::new();
    for offset in 0..4 {
        let (page, _) = search_events(app, &format!("{query}&limit=1&offset={offset}")).await;
        paged.push(page[0]["id"].clone());
    }
    assert_eq!(paged.iter().collect::<Vec<_>>(), ids);
    let (page, total) = search_events(app, &format!("{query}&limit=10&offset=4")).await;
    assert_eq!((page.len(), total), (0, 4));

    let (events, total) = search_events(app, "project=IS:other&environment=IS:development").await;
    assert_eq!(total, 2, "{events:?}");
    let (_, total) = search_events(app, "feature=IS_ANY_OF:f1,f2").await;
    assert_eq!(total, 5 + 3);
    let (_, total) = search_events(app, "type=IS:feature-created&from=IS:2000-01-01").await;
    assert_eq!(total, 3);
    let (_, total) = search_events(app, "type=IS:feature-created&to=IS:2000-01-01").await;
    assert_eq!(total, 0);
});

both_backends!(concurrent_admin_writes_all_land, |app| {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..12 {
        let rb = app
            .request(Method::POST, FEATURES, Some(ADMIN))
            .json(&json!({"name": format!("parallel-{i:02}")}));
        tasks.spawn(send(rb));
    }
    while let Some(done) = tasks.join_next().await {
        let (status, body) = done.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let listed = list_names(app, "?namePrefix=parallel-").await;
    assert_eq!(listed.len(), 12);
    let (_, total) = search_events(app, "type=IS:feature-created").await;
    assert_eq!(total, 12);
});
