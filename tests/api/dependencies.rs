//! Flag dependencies through the admin API (`…/features/{child}/dependencies`): adding,
//! replacing and removing them with their events, Unleash's rules refused with nothing
//! changed, the admin flag view's `dependencies` and `children`, and the SDK-facing APIs
//! serving and evaluating them.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{FRONTEND_DEV, TestApp, send};

fn feature_path(project: &str, name: &str) -> String {
    format!("/api/admin/projects/{project}/features/{name}")
}

fn dependencies_path(project: &str, child: &str) -> String {
    format!("{}/dependencies", feature_path(project, child))
}

/// `POST …/dependencies`: status and body.
async fn add(app: &TestApp, project: &str, child: &str, body: Value) -> (StatusCode, Value) {
    app.admin(Method::POST, &dependencies_path(project, child), Some(body))
        .await
}

async fn add_ok(app: &TestApp, child: &str, body: Value) {
    let answer = add(app, "default", child, body.clone()).await;
    assert_eq!(answer, (StatusCode::OK, Value::Null), "{child} ← {body}");
}

async fn remove(app: &TestApp, child: &str, parent: Option<&str>) -> (StatusCode, Value) {
    let path = match parent {
        Some(p) => format!("{}/{p}", dependencies_path("default", child)),
        None => dependencies_path("default", child),
    };
    app.admin(Method::DELETE, &path, None).await
}

async fn get_flag(app: &TestApp, name: &str) -> Value {
    let (status, body) = app
        .admin(Method::GET, &feature_path("default", name), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// The admin view's `(dependencies, children)`.
async fn relations(app: &TestApp, name: &str) -> (Value, Value) {
    let flag = get_flag(app, name).await;
    (flag["dependencies"].clone(), flag["children"].clone())
}

/// A flag's events, newest first.
async fn flag_events(app: &TestApp, name: &str) -> Vec<Value> {
    app.events_at(&format!("/api/admin/events?feature={name}"))
        .await
}

async fn flag_event_types(app: &TestApp, name: &str) -> Vec<String> {
    flag_events(app, name)
        .await
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

both_backends!(
    dependencies_are_added_replaced_and_removed_with_events,
    |app| {
        for name in ["parent", "parent2", "child", "child2"] {
            app.create_flag_in("default", name).await;
        }
        assert_eq!(relations(app, "child").await, (json!([]), json!([])));

        add_ok(app, "child", json!({"feature": "parent", "enabled": false})).await;
        assert_eq!(
            relations(app, "child").await,
            (
                json!([{"feature": "parent", "enabled": false, "variants": []}]),
                json!([])
            )
        );
        assert_eq!(
            relations(app, "parent").await,
            (json!([]), json!(["child"]))
        );

        // The same parent again replaces the dependency; `enabled` defaults to true.
        add_ok(
            app,
            "child",
            json!({"feature": "parent", "variants": ["blue"]}),
        )
        .await;
        assert_eq!(
            relations(app, "child").await.0,
            json!([{"feature": "parent", "enabled": true, "variants": ["blue"]}])
        );
        // Exactly the same dependency again changes nothing and records nothing.
        let before = flag_events(app, "child").await.len();
        add_ok(
            app,
            "child",
            json!({"feature": "parent", "variants": ["blue"]}),
        )
        .await;
        assert_eq!(flag_events(app, "child").await.len(), before);

        // Another parent is added next to the first, listed by parent name.
        add_ok(app, "child", json!({"feature": "parent2"})).await;
        add_ok(app, "child2", json!({"feature": "parent"})).await;
        assert_eq!(
            relations(app, "child").await.0,
            json!([
                {"feature": "parent", "enabled": true, "variants": ["blue"]},
                {"feature": "parent2", "enabled": true, "variants": []},
            ])
        );
        assert_eq!(relations(app, "parent").await.1, json!(["child", "child2"]));
        assert_eq!(relations(app, "parent2").await.1, json!(["child"]));

        // One dependency.
        assert_eq!(
            remove(app, "child", Some("parent2")).await,
            (StatusCode::OK, Value::Null)
        );
        assert_eq!(
            relations(app, "child").await.0,
            json!([{"feature": "parent", "enabled": true, "variants": ["blue"]}])
        );
        assert_eq!(relations(app, "parent2").await.1, json!([]));
        // Removing what is not there answers 200 and records nothing.
        let before = flag_events(app, "child").await.len();
        assert_eq!(
            remove(app, "child", Some("parent2")).await,
            (StatusCode::OK, Value::Null)
        );
        assert_eq!(flag_events(app, "child").await.len(), before);

        // All of them.
        assert_eq!(
            remove(app, "child2", None).await,
            (StatusCode::OK, Value::Null)
        );
        assert_eq!(relations(app, "child2").await.0, json!([]));
        assert_eq!(relations(app, "parent").await.1, json!(["child"]));
        assert_eq!(
            remove(app, "child2", None).await,
            (StatusCode::OK, Value::Null)
        );

        assert_eq!(
            flag_event_types(app, "child").await,
            [
                "feature-dependency-removed",
                "feature-dependency-added",
                "feature-dependency-added",
                "feature-dependency-added",
                "feature-created",
            ]
        );
        let events = flag_events(app, "child").await;
        assert_eq!(events[0]["data"], json!({"feature": "parent2"}));
        assert_eq!(
            events[0]["preData"],
            json!({"feature": "parent2", "enabled": true, "variants": []})
        );
        assert_eq!(
            events[1]["data"],
            json!({"feature": "parent2", "enabled": true, "variants": []})
        );
        assert_eq!(
            events[2]["data"],
            json!({"feature": "parent", "enabled": true, "variants": ["blue"]})
        );
        assert_eq!(
            events[2]["preData"],
            json!({"feature": "parent", "enabled": false, "variants": []})
        );
        assert_eq!(
            events[3]["data"],
            json!({"feature": "parent", "enabled": false, "variants": []})
        );
        assert!(events[3]["preData"].is_null(), "{}", events[3]);
        for e in &events[..4] {
            assert_eq!(e["project"], "default", "{e}");
            assert_eq!(e["createdByUserId"], -42, "{e}");
        }
        assert_eq!(
            flag_event_types(app, "child2").await,
            [
                "feature-dependencies-removed",
                "feature-dependency-added",
                "feature-created",
            ]
        );
        let removed = &flag_events(app, "child2").await[0];
        assert_eq!(
            removed["preData"],
            json!([{"feature": "parent", "enabled": true, "variants": []}])
        );
        // The parents' own logs are untouched.
        assert_eq!(flag_event_types(app, "parent").await, ["feature-created"]);
    }
);

both_backends!(
    the_rules_are_refused_with_unleash_errors_and_nothing_changes,
    |app| {
        app.create_project("other").await;
        for name in ["a", "b", "c", "archived"] {
            app.create_flag_in("default", name).await;
        }
        app.create_flag_in("other", "x").await;
        add_ok(app, "b", json!({"feature": "a"})).await;
        let (status, _) = app
            .admin(Method::DELETE, &feature_path("default", "archived"), None)
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);

        let logs = async || {
            let mut all = Vec::new();
            for name in ["a", "b", "c", "x"] {
                all.push(flag_events(app, name).await.len());
            }
            all
        };
        let views = async || {
            let mut all = Vec::new();
            for name in ["a", "b", "c"] {
                all.push(relations(app, name).await);
            }
            all
        };
        let (logs_before, views_before) = (logs().await, views().await);

        // 400: the body is wrong on its face.
        for (child, body, path) in [
            ("a", json!({"feature": "a"}), Some("feature")),
            ("c", json!({}), Some("feature")),
            ("c", json!({"feature": ""}), Some("feature")),
            (
                "c",
                json!({"feature": "a", "variants": [""]}),
                Some("variants[0]"),
            ),
            ("c", json!({"feature": "a", "enabled": "yes"}), None),
        ] {
            let (status, err) = add(app, "default", child, body.clone()).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{child} ← {body}: {err}");
            assert_eq!(err["name"], "BadDataError", "{err}");
            if let Some(path) = path {
                assert_eq!(err["details"][0]["path"], path, "{err}");
            }
        }
        let (_, err) = add(app, "default", "a", json!({"feature": "a"})).await;
        assert_eq!(
            err["details"][0]["message"],
            "A feature flag cannot depend on itself."
        );

        // 404: the child or the parent is not a live flag of the project.
        for (project, child, parent) in [
            ("default", "c", "missing"),
            ("default", "c", "x"),
            ("default", "c", "archived"),
            ("default", "missing", "a"),
            ("default", "x", "a"),
            ("other", "x", "a"),
            ("nowhere", "c", "a"),
        ] {
            let (status, err) = add(app, project, child, json!({"feature": parent})).await;
            assert_eq!(
                status,
                StatusCode::NOT_FOUND,
                "{project}/{child} ← {parent}: {err}"
            );
            assert_eq!(err["name"], "NotFoundError", "{err}");
            assert_eq!(err["details"][0]["message"], err["message"], "{err}");
        }
        for path in [
            dependencies_path("default", "missing"),
            format!("{}/a", dependencies_path("default", "missing")),
            dependencies_path("default", "x"),
        ] {
            let (status, err) = app.admin(Method::DELETE, &path, None).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {err}");
            assert_eq!(err["name"], "NotFoundError", "{err}");
        }

        // 409: one level only — a parent cannot have a parent, a child cannot be a parent.
        for (child, parent) in [("c", "b"), ("a", "c")] {
            let (status, err) = add(app, "default", child, json!({"feature": parent})).await;
            assert_eq!(status, StatusCode::CONFLICT, "{child} ← {parent}: {err}");
            assert_eq!(err["name"], "ConflictError", "{err}");
            assert!(
                err["message"]
                    .as_str()
                    .unwrap()
                    .starts_with("Transitive dependency detected"),
                "{err}"
            );
        }

        assert_eq!(logs().await, logs_before);
        assert_eq!(views().await, views_before);
        assert_eq!(
            views_before[0],
            (json!([]), json!(["b"])),
            "a is b's parent"
        );
    }
);

/// `enabled` of `name` in `POST /api/frontend/all` (which lists disabled flags too).
async fn frontend_enabled(app: &TestApp, name: &str) -> bool {
    let rb = app
        .request(Method::POST, "/api/frontend/all", Some(FRONTEND_DEV))
        .json(&json!({"context": {"userId": "u1"}}));
    let (status, body) = send(rb).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["toggles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {body}"))["enabled"]
        .as_bool()
        .unwrap()
}

both_backends!(
    sdks_get_the_dependency_and_evaluate_the_child_by_its_parent,
    |app| {
        for name in ["parent", "child"] {
            app.create_flag_in("default", name).await;
            app.add_rollout("default", name).await;
            app.switch(name, true).await;
        }
        assert!(
            app.client_feature("child")
                .await
                .get("dependencies")
                .is_none()
        );
        assert!(frontend_enabled(app, "child").await);

        add_ok(app, "child", json!({"feature": "parent"})).await;
        assert_eq!(
            app.client_feature("child").await["dependencies"],
            json!([{"feature": "parent", "enabled": true}])
        );
        assert!(frontend_enabled(app, "child").await, "parent on → child on");
        app.switch("parent", false).await;
        assert!(
            !frontend_enabled(app, "child").await,
            "parent off → child off"
        );
        app.switch("parent", true).await;
        assert!(
            frontend_enabled(app, "child").await,
            "parent on again → child on"
        );

        // A dependency on the parent being off, as for a kill switch.
        add_ok(app, "child", json!({"feature": "parent", "enabled": false})).await;
        assert_eq!(
            app.client_feature("child").await["dependencies"],
            json!([{"feature": "parent", "enabled": false}])
        );
        assert!(
            !frontend_enabled(app, "child").await,
            "parent on → child off"
        );
        app.switch("parent", false).await;
        assert!(
            frontend_enabled(app, "child").await,
            "parent off → child on"
        );

        // Variant names travel to SDKs.
        add_ok(
            app,
            "child",
            json!({"feature": "parent", "variants": ["blue"]}),
        )
        .await;
        assert_eq!(
            app.client_feature("child").await["dependencies"],
            json!([{"feature": "parent", "enabled": true, "variants": ["blue"]}])
        );

        // Removed, the child stands on its own again.
        assert_eq!(remove(app, "child", None).await.0, StatusCode::OK);
        assert!(
            app.client_feature("child")
                .await
                .get("dependencies")
                .is_none()
        );
        assert!(frontend_enabled(app, "child").await);
    }
);
