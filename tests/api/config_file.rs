//! Config as code: a file given with `--config` at start-up, or applied by `flagwatch apply`
//! (run here as a real process), declares projects, segments, flags, channels, monitors,
//! guards and tokens. Applied again it changes nothing; changed, exactly the change is made,
//! with its event; invalid, it stops the start and nothing is stored. TOML and YAML alike.

use std::path::{Path, PathBuf};
use std::process::Output;

use clap::Parser;
use flagwatch::app::App;
use flagwatch::config::Config;
use flagwatch::domain::Timestamp;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{ADMIN, Backend, TestApp, TestDb, probe_down, standard_args};

const ACTOR: &str = "config:flagwatch.toml";
/// The backend token the test file declares (its secret in the file: a server in this
/// process cannot be given environment variables).
const DECLARED_BACKEND: &str = "checkout:production.declared-backend-token";
/// The example file's tokens, passed to `flagwatch apply` through environment variables.
const EXAMPLE_BACKEND: &str = "checkout:production.example-backend-token";

/// Runs `scenario` as two tests, `name::sqlite` and `name::postgres` (the latter skipped
/// without `TEST_DATABASE_URL`).
macro_rules! on_both_backends {
    ($name:ident, $scenario:ident) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$scenario(crate::helpers::Backend::Sqlite).await;
            }

            #[tokio::test]
            async fn postgres() {
                super::$scenario(crate::helpers::Backend::Postgres).await;
            }
        }
    };
}

/// One of everything, with the first strategy's rollout at `rollout` %.
fn declared(rollout: u32) -> String {
    format!(
        r#"
[[projects]]
id = "checkout"
name = "Checkout"

[[segments]]
name = "beta-testers"
constraints = [{{ context_name = "userId", operator = "IN", values = ["1", "2"] }}]

[[flags]]
name = "new-checkout-flow"
project = "checkout"
description = "The one-page checkout."

[flags.environments.production]
enabled = true
variants = [{{ name = "blue" }}, {{ name = "green", payload = {{ type = "string", value = "g" }} }}]

[[flags.environments.production.strategies]]
name = "flexibleRollout"
parameters = {{ rollout = {rollout}, stickiness = "userId" }}
constraints = [{{ context_name = "region", operator = "IN", values = ["eu"] }}]

[[flags.environments.production.strategies]]
name = "default"
segments = ["beta-testers"]

[[flags]]
name = "checkout-recommendations"
project = "checkout"
type = "kill-switch"

[flags.environments.production]
enabled = true
strategies = [{{ name = "flexibleRollout", parameters = {{ rollout = 100 }} }}]

[[channels]]
name = "ops-webhook"
kind = "webhook"
url = "http://127.0.0.1:9/notices"
secret = "a-signing-secret-of-some-length"

[[monitors]]
pronounceable_name = "recommender-api"
monitor_type = "status"
url = "http://127.0.0.1:9/health"
check_frequency = 30
notification_channels = ["ops-webhook"]

[[guards]]
name = "recommender-down"
monitor = "recommender-api"
flags = [{{ project = "checkout", feature = "checkout-recommendations", environment = "production" }}]
on_recovery = "re_enable"
channels = ["ops-webhook"]

[[tokens]]
name = "checkout-backend"
type = "backend"
secret = "{DECLARED_BACKEND}"
"#
    )
}

/// A temporary folder for config files.
struct Files(tempfile::TempDir);

impl Files {
    fn new() -> Self {
        Self(tempfile::tempdir().unwrap())
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

/// The standard test arguments plus `--config path`.
fn with_config(path: &Path) -> Vec<String> {
    let mut args = standard_args();
    args.extend(["--config".to_string(), path.display().to_string()]);
    args
}

/// How many events the log holds.
async fn event_total(app: &TestApp) -> i64 {
    let (status, body) = app.admin(Method::GET, "/api/admin/events", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["totalEvents"].as_i64().unwrap()
}

/// The events written by `actor`, newest first.
async fn events_by(app: &TestApp, actor: &str) -> Vec<Value> {
    let (status, body) = app
        .admin(
            Method::GET,
            &format!("/api/admin/search/events?createdBy=IS:{actor}&limit=1000"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["events"].as_array().unwrap().clone()
}

/// `/api/client/features` as an SDK with `token` gets it: the body and the ETag.
async fn client_features(app: &TestApp, token: &str) -> (Value, String) {
    let resp = app
        .request(Method::GET, "/api/client/features", Some(token))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let etag = resp.headers()["etag"].to_str().unwrap().to_string();
    (resp.json().await.unwrap(), etag)
}

fn served<'a>(features: &'a Value, name: &str) -> &'a Value {
    features["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("{name} is served: {features}"))
}

async fn get(app: &TestApp, path: &str) -> Value {
    let (status, body) = app.bearer(Method::GET, path, None).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

on_both_backends!(
    a_server_started_with_a_config_file_has_everything_declared,
    everything_declared
);
async fn everything_declared(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let files = Files::new();
    let path = files.write("flagwatch.toml", &declared(25));
    let app = TestApp::spawn_on(db, &with_config(&path)).await;

    // The flag, per environment, through the admin API.
    let flag = get(
        &app,
        "/api/admin/projects/checkout/features/new-checkout-flow",
    )
    .await;
    assert_eq!(flag["description"], "The one-page checkout.");
    let production = flag["environments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "production")
        .unwrap();
    assert_eq!(production["enabled"], true);
    let strategies = production["strategies"].as_array().unwrap();
    assert_eq!(strategies.len(), 2, "{production}");
    assert_eq!(strategies[0]["parameters"]["rollout"], "25");
    assert_eq!(strategies[0]["parameters"]["stickiness"], "userId");
    assert_eq!(strategies[0]["constraints"][0]["values"][0], "eu");
    let segments = get(&app, "/api/admin/segments").await;
    let segment_id = segments["segments"][0]["id"].clone();
    assert_eq!(segments["segments"][0]["name"], "beta-testers");
    assert_eq!(strategies[1]["segments"][0], segment_id);
    assert_eq!(production["variants"].as_array().unwrap().len(), 2);

    // What an SDK with the declared token is served.
    let (features, _) = client_features(&app, DECLARED_BACKEND).await;
    let f = served(&features, "new-checkout-flow");
    assert_eq!(f["enabled"], true);
    assert_eq!(f["strategies"][0]["parameters"]["rollout"], "25");
    assert_eq!(f["variants"][1]["payload"]["value"], "g");
    assert_eq!(
        served(&features, "checkout-recommendations")["enabled"],
        true
    );

    // The channel, the monitor naming it, the guard naming both.
    let channels = get(&app, "/api/admin/notification-channels").await;
    let channel = &channels["channels"][0];
    assert_eq!(channel["name"], "ops-webhook");
    let channel_id = channel["id"].as_i64().unwrap();
    let monitors = get(&app, "/api/v2/monitors").await;
    let monitor = &monitors["data"][0];
    assert_eq!(
        monitor["attributes"]["pronounceable_name"],
        "recommender-api"
    );
    assert_eq!(monitor["attributes"]["check_frequency"], 30);
    assert_eq!(
        monitor["attributes"]["notification_channels"],
        serde_json::json!([channel_id])
    );
    let guards = get(&app, "/api/admin/guards").await;
    let guard = &guards["guards"][0];
    assert_eq!(guard["name"], "recommender-down");
    assert_eq!(guard["signal"]["monitor_id"], monitor["id"]);
    assert_eq!(guard["channels"], serde_json::json!([channel_id]));
    assert_eq!(guard["on_recovery"], "re_enable");
    assert_eq!(guard["flags"][0]["feature"], "checkout-recommendations");

    // Every change has its event, by the file.
    let types: Vec<String> = events_by(&app, ACTOR)
        .await
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect();
    for expected in [
        "project-created",
        "segment-created",
        "feature-created",
        "feature-strategy-add",
        "feature-environment-variants-updated",
        "feature-environment-enabled",
        "notification-channel-created",
        "monitor-created",
        "guard-created",
        "api-token-created",
    ] {
        assert!(
            types.iter().any(|t| t == expected),
            "{expected} in {types:?}"
        );
    }
    app.stop().await;
}

on_both_backends!(
    restarting_with_the_same_file_writes_no_event,
    same_file_twice
);
async fn same_file_twice(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let files = Files::new();
    let path = files.write("flagwatch.toml", &declared(25));
    let app = TestApp::spawn_on(db, &with_config(&path)).await;
    let events = event_total(&app).await;
    let (_, etag) = client_features(&app, DECLARED_BACKEND).await;
    let db = app.stop_keeping_db().await;

    let app = TestApp::spawn_on(db, &with_config(&path)).await;
    assert_eq!(event_total(&app).await, events);
    let (_, etag_after) = client_features(&app, DECLARED_BACKEND).await;
    assert_eq!(etag_after, etag, "the SDKs' revision did not move");
    app.stop().await;
}

on_both_backends!(
    changing_a_rollout_in_the_file_makes_exactly_that_change,
    changed_rollout
);
async fn changed_rollout(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let files = Files::new();
    let path = files.write("flagwatch.toml", &declared(25));
    let app = TestApp::spawn_on(db, &with_config(&path)).await;
    let events = event_total(&app).await;
    let db = app.stop_keeping_db().await;

    files.write("flagwatch.toml", &declared(60));
    let app = TestApp::spawn_on(db, &with_config(&path)).await;
    assert_eq!(event_total(&app).await, events + 1);
    let newest = &app.events().await[0];
    assert_eq!(newest["type"], "feature-strategy-update", "{newest}");
    assert_eq!(newest["createdBy"], ACTOR);
    assert_eq!(newest["featureName"], "new-checkout-flow");
    assert_eq!(newest["environment"], "production");
    assert_eq!(newest["preData"]["parameters"]["rollout"], "25");
    assert_eq!(newest["data"]["parameters"]["rollout"], "60");
    let (features, _) = client_features(&app, DECLARED_BACKEND).await;
    let f = served(&features, "new-checkout-flow");
    assert_eq!(f["strategies"][0]["parameters"]["rollout"], "60");
    app.stop().await;
}

on_both_backends!(
    a_flag_a_guard_switched_off_is_not_switched_back_on_by_a_restart,
    guarded_flag_stays_off
);
async fn guarded_flag_stays_off(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let files = Files::new();
    let path = files.write("flagwatch.toml", &declared(25));
    let app = TestApp::spawn_on(db, &with_config(&path)).await;
    let monitors = get(&app, "/api/v2/monitors").await;
    let monitor: i64 = monitors["data"][0]["id"].as_str().unwrap().parse().unwrap();
    let change = app
        .feed(monitor, probe_down(40), Timestamp::now().millis())
        .await;
    assert!(change.is_some(), "the monitor went down");
    let (features, _) = client_features(&app, DECLARED_BACKEND).await;
    assert_eq!(
        served(&features, "checkout-recommendations")["enabled"],
        false
    );
    let events = event_total(&app).await;
    let db = app.stop_keeping_db().await;

    // The file says "on", the guard said "off": the guard's decision stands.
    let app = TestApp::spawn_on(db, &with_config(&path)).await;
    assert_eq!(event_total(&app).await, events);
    let (features, _) = client_features(&app, DECLARED_BACKEND).await;
    assert_eq!(
        served(&features, "checkout-recommendations")["enabled"],
        false
    );

    // A person switches it back on; the file agrees, and the next start changes nothing.
    app.switch_in("checkout", "checkout-recommendations", "production", true)
        .await;
    let events = event_total(&app).await;
    let db = app.stop_keeping_db().await;
    let app = TestApp::spawn_on(db, &with_config(&path)).await;
    assert_eq!(event_total(&app).await, events);
    app.stop().await;
}

on_both_backends!(
    an_invalid_file_stops_the_start_and_nothing_is_stored,
    invalid_files
);
async fn invalid_files(backend: Backend) {
    let project_first = "[[projects]]\nid = \"checkout\"\n";
    let cases = [
        (
            "a syntax error",
            format!("{project_first}[[flags]]\nname = \"f\"\nenabeld = true\n"),
            vec![
                "flagwatch.toml, line 5, column 1",
                "unknown field `enabeld`",
            ],
        ),
        (
            "a guard naming a monitor the file does not declare",
            format!(
                "{project_first}[[flags]]\nname = \"f\"\nproject = \"checkout\"\n\
                 [[guards]]\nname = \"g\"\nmonitor = \"payments-api\"\n\
                 flags = [{{ project = \"checkout\", feature = \"f\", environment = \"production\" }}]\n"
            ),
            vec![
                "is not valid, so nothing was applied",
                "guard \"g\": monitor \"payments-api\" is not declared in this file",
            ],
        ),
        (
            "a threshold out of range",
            format!(
                "{project_first}[[flags]]\nname = \"f\"\nproject = \"checkout\"\n\
                 [[monitors]]\npronounceable_name = \"api\"\nmonitor_type = \"status\"\nurl = \"http://127.0.0.1:9/\"\n\
                 [[guards]]\nname = \"g\"\nsla = {{ monitor = \"api\", availability_min = 150 }}\n\
                 flags = [{{ project = \"checkout\", feature = \"f\", environment = \"production\" }}]\n"
            ),
            vec!["guard \"g\": signal.sla.availability_min", "at most 100"],
        ),
        (
            "an environment neither declared nor stored",
            format!(
                "{project_first}[[flags]]\nname = \"f\"\nproject = \"checkout\"\n\
                 [flags.environments.qa]\nenabled = true\n"
            ),
            vec![
                "does not fit what the database holds, so nothing was applied",
                "flag \"f\": environment \"qa\" is neither declared in the file nor stored",
            ],
        ),
    ];
    for (case, text, expected) in cases {
        let Some(db) = TestDb::create(backend).await else {
            return;
        };
        let files = Files::new();
        let path = files.write("flagwatch.toml", &text);
        let mut args: Vec<String> = ["flagwatch", "--port", "0", "--host", "127.0.0.1"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        args.extend(["--database-url".to_string(), db.url().to_string()]);
        args.extend(with_config(&path));
        let Err(e) = App::build(Config::parse_from(args)).await else {
            panic!("{case}: the server started");
        };
        let message = format!("{e:#}");
        for fragment in expected {
            assert!(message.contains(fragment), "{case}: {message}");
        }

        // Nothing of the file is stored: not even the project it declares first.
        let app = TestApp::spawn_on(db, &standard_args()).await;
        let (_, projects) = app.admin(Method::GET, "/api/admin/projects", None).await;
        let ids: Vec<&str> = projects["projects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["default"], "{case}");
        assert!(events_by(&app, ACTOR).await.is_empty(), "{case}");
        let monitors = get(&app, "/api/v2/monitors").await;
        assert_eq!(monitors["data"], serde_json::json!([]), "{case}");
        app.stop().await;
    }
}

// ---- `flagwatch apply`, as a process ---------------------------------------------------

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

/// `flagwatch apply <args>` against `database_url`, with the example's secrets in its
/// environment (the admin token is the test suite's, so [`TestApp::admin`] works).
async fn flagwatch_apply(database_url: &str, args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_flagwatch"))
        .arg("apply")
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("LOG_LEVEL", "warn")
        .env_remove("FLAGWATCH_CONFIG")
        .env(
            "SLACK_WEBHOOK_URL",
            "https://hooks.slack.com/services/T0/B0/example",
        )
        .env("FLAGWATCH_WEBHOOK_SECRET", "an-example-signing-secret")
        .env("FLAGWATCH_CLIENT_TOKEN", EXAMPLE_BACKEND)
        .env("FLAGWATCH_ADMIN_TOKEN", ADMIN)
        .output()
        .await
        .expect("flagwatch runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The server's arguments on a database `flagwatch apply` filled: no `INIT_*` tokens (the
/// file's are there), no probes.
fn after_apply_args() -> Vec<String> {
    vec!["--probe-scheduler".into(), "false".into()]
}

on_both_backends!(the_apply_command_applies_reports_and_exits, apply_command);
async fn apply_command(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let toml = example("flagwatch.toml");
    let file = toml.to_str().unwrap();

    let first = flagwatch_apply(db.url(), &[file]).await;
    let out = stdout(&first);
    assert!(first.status.success(), "{out}\n{}", stderr(&first));
    assert!(
        out.lines().any(|l| l.starts_with("flag ")
            && l.contains("checkout/new-checkout-flow")
            && l.ends_with("created")),
        "{out}"
    );
    assert!(
        out.contains("- production: strategy 1 (flexibleRollout) added"),
        "{out}"
    );
    assert!(
        out.ends_with("applied flagwatch.toml: 13 created, 0 updated, 0 unchanged\n"),
        "{out}"
    );

    // Again: nothing to do.
    let again = flagwatch_apply(db.url(), &[file]).await;
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stdout(&again).ends_with("applied flagwatch.toml: 0 created, 0 updated, 13 unchanged\n"),
        "{}",
        stdout(&again)
    );

    // A dry run of a change says what it would do, and does nothing.
    let files = Files::new();
    let text = std::fs::read_to_string(&toml).unwrap();
    let changed = files.write(
        "flagwatch.toml",
        &text.replace("rollout = 25", "rollout = 40"),
    );
    let dry = flagwatch_apply(db.url(), &["--dry-run", changed.to_str().unwrap()]).await;
    let out = stdout(&dry);
    assert!(dry.status.success(), "{}", stderr(&dry));
    assert!(
        out.lines().any(|l| l.starts_with("flag ")
            && l.contains("checkout/new-checkout-flow")
            && l.ends_with("would be updated")),
        "{out}"
    );
    assert!(
        out.contains("- production: strategy 1 (flexibleRollout) updated"),
        "{out}"
    );
    assert!(
        out.ends_with("0 would be created, 1 would be updated, 12 unchanged\n"),
        "{out}"
    );

    // An invalid file: exit status 2, the problem on stderr, nothing on stdout.
    let bad = files.write(
        "bad.toml",
        "[[guards]]\nname = \"g\"\nmonitor = \"nope\"\nflags = [{ feature = \"x\", environment = \"production\" }]\n",
    );
    let invalid = flagwatch_apply(db.url(), &[bad.to_str().unwrap()]).await;
    assert_eq!(invalid.status.code(), Some(2));
    assert!(stdout(&invalid).is_empty());
    assert!(
        stderr(&invalid).contains("guard \"g\": monitor \"nope\" is not declared in this file"),
        "{}",
        stderr(&invalid)
    );
    let unreadable = flagwatch_apply(db.url(), &["no-such-file.yaml"]).await;
    assert_eq!(unreadable.status.code(), Some(2));
    assert!(stderr(&unreadable).contains("cannot read the config file no-such-file.yaml"));

    // The server on that database has it all, the dry run's change not made.
    let app = TestApp::spawn_on(db, &after_apply_args()).await;
    let (features, _) = client_features(&app, EXAMPLE_BACKEND).await;
    let f = served(&features, "new-checkout-flow");
    assert_eq!(f["enabled"], true);
    assert_eq!(f["strategies"][0]["parameters"]["rollout"], "25");
    let guards = get(&app, "/api/admin/guards").await;
    assert_eq!(guards["guards"].as_array().unwrap().len(), 2);
    let events = events_by(&app, ACTOR).await;
    assert!(events.iter().any(|e| e["type"] == "guard-created"));
    assert!(
        events
            .iter()
            .all(|e| e["type"] != "feature-strategy-update")
    );
    app.stop().await;
}

on_both_backends!(yaml_and_toml_give_the_same_result, yaml_and_toml);
async fn yaml_and_toml(backend: Backend) {
    let (Some(db_toml), Some(db_yaml)) =
        (TestDb::create(backend).await, TestDb::create(backend).await)
    else {
        return;
    };
    let toml = flagwatch_apply(
        db_toml.url(),
        &[example("flagwatch.toml").to_str().unwrap()],
    )
    .await;
    let yaml = flagwatch_apply(
        db_yaml.url(),
        &[example("flagwatch.yaml").to_str().unwrap()],
    )
    .await;
    assert!(toml.status.success(), "{}", stderr(&toml));
    assert!(yaml.status.success(), "{}", stderr(&yaml));
    assert_eq!(
        stdout(&yaml).replace("flagwatch.yaml", "flagwatch.toml"),
        stdout(&toml)
    );

    let a = TestApp::spawn_on(db_toml, &after_apply_args()).await;
    let b = TestApp::spawn_on(db_yaml, &after_apply_args()).await;
    assert_eq!(
        client_features(&a, EXAMPLE_BACKEND).await.0,
        client_features(&b, EXAMPLE_BACKEND).await.0
    );
    for path in [
        "/api/v2/monitors",
        "/api/admin/guards",
        "/api/admin/notification-channels",
        "/api/admin/segments",
        "/api/admin/projects/checkout/features/new-checkout-flow",
        "/api/admin/projects/checkout/features/checkout-recommendations",
    ] {
        assert_eq!(
            without_times(get(&a, path).await),
            without_times(get(&b, path).await),
            "{path}"
        );
    }
    let types = |events: Vec<Value>| -> Vec<Value> {
        events.into_iter().map(|e| e["type"].clone()).collect()
    };
    assert_eq!(
        types(events_by(&a, "config:flagwatch.toml").await),
        types(events_by(&b, "config:flagwatch.yaml").await)
    );
    a.stop().await;
    b.stop().await;
}

/// `v` without what differs between the two databases: timestamps, strategy ids, and the
/// actor, which names the file.
fn without_times(mut v: Value) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::String(s) if s == "config:flagwatch.yaml" => {
                *s = "config:flagwatch.toml".into();
            }
            Value::Object(map) => {
                map.retain(|k, _| {
                    !matches!(
                        k.as_str(),
                        "created_at"
                            | "updated_at"
                            | "createdAt"
                            | "updatedAt"
                            | "last_checked_at"
                            | "pagination"
                    )
                });
                if map.contains_key("parameters") && map.contains_key("sortOrder") {
                    map.remove("id");
                }
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut v);
    v
}
