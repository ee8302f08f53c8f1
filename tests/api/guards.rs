//! The kill switch: guards tie a monitor to flags. When the monitor goes down its flags are
//! switched off in the transaction that opens the incident, with an event naming the guard,
//! the incident and the reason; on recovery the guard's policy applies. Heartbeats (monitors
//! whose `/fail` ping takes them down at once) make most of these deterministic; one test runs
//! the probe scheduler against a real HTTP service that is stopped and started.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::both_backends;
use crate::helpers::{CLIENT_DEV, TestApp, guarded_flag, scheduler_args, send, wait_for};

/// A heartbeat (a monitor an HTTP ping takes up or down) and its ping path.
async fn heartbeat(app: &TestApp, name: &str) -> (i64, String) {
    let heartbeat = app
        .create_heartbeat(json!({"name": name, "period": 3600, "grace": 0}))
        .await;
    let id = heartbeat["id"].as_str().unwrap().parse().unwrap();
    (id, app.ping_path(&heartbeat))
}

/// The guard most tests start from: `checkout` over new-checkout-flow, on monitor `monitor`,
/// with the default recovery policy.
fn checkout_guard(monitor: i64) -> Value {
    json!({
        "name": "checkout",
        "signal": {"monitor_id": monitor.to_string()},
        "flags": [guarded_flag("new-checkout-flow")],
    })
}

async fn ping(app: &TestApp, path: &str) {
    let status = app.client.get(app.url(path)).send().await.unwrap().status();
    assert_eq!(status, StatusCode::OK);
}

async fn guards(app: &TestApp) -> Value {
    let (status, body) = app.admin(Method::GET, "/api/admin/guards", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

both_backends!(guards_are_created_listed_changed_and_deleted, |app| {
    app.create_enabled_flag("new-checkout-flow").await;
    let (monitor, _) = heartbeat(app, "checkout-job").await;

    let created = app.create_guard(checkout_guard(monitor)).await;
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["on_recovery"], "keep_disabled", "the default");
    assert_eq!(created["state"], "armed");
    assert_eq!(
        created["signal"],
        json!({"monitor_id": monitor.to_string()})
    );
    assert_eq!(created["flags"], json!([guarded_flag("new-checkout-flow")]));

    let listed = guards(app).await;
    assert_eq!(listed["guards"].as_array().unwrap().len(), 1);
    assert_eq!(listed["guards"][0]["name"], "checkout");

    // PATCH changes the fields given; PUT replaces the whole guard.
    let (status, patched) = app
        .admin(
            Method::PATCH,
            &format!("/api/admin/guards/{id}"),
            Some(json!({"on_recovery": "re_enable"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["on_recovery"], "re_enable");
    assert_eq!(patched["name"], "checkout");
    let (status, replaced) = app
        .admin(
            Method::PUT,
            &format!("/api/admin/guards/{id}"),
            Some(json!({
                "name": "checkout-sla",
                "signal": {"sla": {"monitor_id": monitor, "window_minutes": 30, "availability_min": 99.5}},
                "flags": {"recently_enabled_hours": 24, "environment": "development"},
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(replaced["on_recovery"], "keep_disabled");
    assert_eq!(
        replaced["signal"]["sla"],
        json!({"monitor_id": monitor.to_string(), "window_minutes": 30, "availability_min": 99.5})
    );

    // A monitor a guard reads cannot be deleted.
    let heartbeat_path = format!("/api/v2/heartbeats/{monitor}");
    let (status, body) = app.bearer(Method::DELETE, &heartbeat_path, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.to_string().contains("checkout-sla"), "{body}");

    // Every change left an event.
    let (_, events) = app
        .admin(Method::GET, "/api/admin/events?type=guard-created", None)
        .await;
    assert_eq!(events["events"][0]["data"]["name"], "checkout");
    let (_, events) = app
        .admin(Method::GET, "/api/admin/events?type=guard-updated", None)
        .await;
    assert_eq!(events["events"].as_array().unwrap().len(), 2);
    assert_eq!(events["events"][0]["preData"]["name"], "checkout");

    let (status, _) = app
        .admin(Method::DELETE, &format!("/api/admin/guards/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = app
        .admin(Method::GET, &format!("/api/admin/guards/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (_, events) = app
        .admin(Method::GET, "/api/admin/events?type=guard-deleted", None)
        .await;
    assert_eq!(events["events"][0]["preData"]["name"], "checkout-sla");
    // Now the heartbeat can go.
    let (status, body) = app.bearer(Method::DELETE, &heartbeat_path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
});

both_backends!(bad_guards_are_refused_and_change_nothing, |app| {
    app.create_enabled_flag("new-checkout-flow").await;
    let (monitor, _) = heartbeat(app, "checkout-job").await;
    let good = checkout_guard(monitor);
    app.create_guard(good.clone()).await;
    let before = guards(app).await;

    let with = |key: &str, value: Value| {
        let mut body = good.clone();
        body[key] = value;
        body["name"] = json!("another");
        body
    };
    let cases: Vec<(Value, StatusCode, &str)> = vec![
        (
            with("signal", json!({"monitor_id": "999999"})),
            StatusCode::NOT_FOUND,
            "monitor",
        ),
        (
            with("flags", json!([guarded_flag("no-such-flag")])),
            StatusCode::NOT_FOUND,
            "no-such-flag",
        ),
        (
            with(
                "flags",
                json!([{"project": "default", "feature": "new-checkout-flow", "environment": "mars"}]),
            ),
            StatusCode::NOT_FOUND,
            "mars",
        ),
        (
            with(
                "flags",
                json!({"recently_enabled_hours": 2, "environment": "development"}),
            ),
            StatusCode::BAD_REQUEST,
            "SLA",
        ),
        (
            with(
                "signal",
                json!({"sla": {"monitor_id": monitor, "availability_min": 101}}),
            ),
            StatusCode::BAD_REQUEST,
            "availability_min",
        ),
        (
            with(
                "signal",
                json!({"sla": {"monitor_id": monitor, "response_time_max_ms": 0}}),
            ),
            StatusCode::BAD_REQUEST,
            "response_time_max_ms",
        ),
        (
            with(
                "signal",
                json!({"sla": {"monitor_id": monitor, "incidents_max": -2}}),
            ),
            StatusCode::BAD_REQUEST,
            "incidents_max",
        ),
        (
            with("signal", json!({"sla": {"monitor_id": monitor}})),
            StatusCode::BAD_REQUEST,
            "threshold",
        ),
        (
            with("on_recovery", json!("later")),
            StatusCode::BAD_REQUEST,
            "on_recovery",
        ),
        (
            with("signal", json!("monitor 1")),
            StatusCode::BAD_REQUEST,
            "signal",
        ),
        (with("flags", json!([])), StatusCode::BAD_REQUEST, "flags"),
        (
            with("surprise", json!(1)),
            StatusCode::BAD_REQUEST,
            "surprise",
        ),
        (
            {
                let mut b = good.clone();
                b["name"] = json!("checkout");
                b
            },
            StatusCode::CONFLICT,
            "already exists",
        ),
    ];
    for (body, status, needle) in cases {
        let (got, answer) = app
            .admin(Method::POST, "/api/admin/guards", Some(body.clone()))
            .await;
        assert_eq!(got, status, "{body} → {answer}");
        assert!(
            answer.to_string().contains(needle),
            "{body} → {answer} should mention {needle}"
        );
    }
    let (status, answer) = send(
        app.request(
            Method::POST,
            "/api/admin/guards",
            Some(crate::helpers::ADMIN),
        )
        .header("content-type", "application/json")
        .body("{not json"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");

    // A bad update changes nothing either.
    let id = before["guards"][0]["id"].as_i64().unwrap();
    let (status, answer) = app
        .admin(
            Method::PATCH,
            &format!("/api/admin/guards/{id}"),
            Some(json!({"flags": [guarded_flag("no-such-flag")]})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    let (status, _) = app
        .admin(Method::GET, "/api/admin/guards/not-a-number", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(guards(app).await, before);
    let (_, events) = app
        .admin(Method::GET, "/api/admin/events?type=guard-created", None)
        .await;
    assert_eq!(events["events"].as_array().unwrap().len(), 1);
    let (_, events) = app
        .admin(Method::GET, "/api/admin/events?type=guard-updated", None)
        .await;
    assert_eq!(events["events"].as_array().unwrap().len(), 0);

    // No admin token, no guards.
    let (status, _) = send(app.request(Method::GET, "/api/admin/guards", Some(CLIENT_DEV))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
});

both_backends!(
    a_monitor_going_down_switches_its_flags_off_and_keep_disabled_keeps_them_off,
    |app| {
        app.create_enabled_flag("new-checkout-flow").await;
        app.create_enabled_flag("unrelated").await;
        let (monitor, ping_path) = heartbeat(app, "checkout-job").await;
        ping(app, &ping_path).await;
        let guard = app.create_guard(checkout_guard(monitor)).await;
        let guard_id = guard["id"].as_i64().unwrap();
        assert!(app.sdk_enabled("new-checkout-flow").await);

        ping(app, &format!("{ping_path}/fail")).await;

        // The incident and the flag change are one transaction: by the time the ping answered,
        // both are visible.
        assert!(!app.sdk_enabled("new-checkout-flow").await);
        assert!(app.sdk_enabled("unrelated").await, "only the guarded flag");
        let (_, incidents) = app
            .bearer(
                Method::GET,
                &format!("/api/v2/incidents?monitor_id={monitor}"),
                None,
            )
            .await;
        assert_eq!(
            incidents["data"][0]["attributes"]["flags_disabled"],
            json!([{"guard": "checkout", "project": "default", "feature": "new-checkout-flow", "environment": "development"}]),
            "the incident names the flags its guards switched off"
        );
        let incident_id: i64 = incidents["data"][0]["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();

        // Why is it off? The flag's events say: the guard, the incident, the reason.
        let events = app.flag_events("new-checkout-flow").await;
        let off = &events[0];
        assert_eq!(off["type"], "feature-environment-disabled");
        assert_eq!(off["createdBy"], "guard:checkout");
        assert_eq!(off["environment"], "development");
        assert_eq!(off["data"]["guard_id"], guard_id);
        assert_eq!(off["data"]["incident_id"], incident_id);
        assert!(
            off["data"]["reason"]
                .as_str()
                .unwrap()
                .contains("checkout-job is down"),
            "{off}"
        );
        // … and so does the one-call view.
        let (status, why) = app
            .admin(
                Method::GET,
                "/api/admin/projects/default/features/new-checkout-flow/kill-switch",
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{why}");
        let dev = why["environments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["environment"] == "development")
            .unwrap();
        assert_eq!(dev["enabled"], false);
        assert_eq!(dev["last_change"]["createdBy"], "guard:checkout");
        assert_eq!(dev["held_by"][0]["guard"], "checkout");
        assert_eq!(dev["held_by"][0]["incident_id"], incident_id);
        assert_eq!(dev["guards"], json!(["checkout"]));
        let (_, g) = app
            .admin(Method::GET, &format!("/api/admin/guards/{guard_id}"), None)
            .await;
        assert_eq!(g["state"], "tripped");
        assert_eq!(g["trip"]["flags"][0]["action"], "disabled");

        // Up again: keep_disabled leaves the flag off for a person to review.
        ping(app, &ping_path).await;
        assert!(!app.sdk_enabled("new-checkout-flow").await);
        let (_, g) = app
            .admin(Method::GET, &format!("/api/admin/guards/{guard_id}"), None)
            .await;
        assert_eq!(g["state"], "armed");
        assert_eq!(g["recent_trips"][0]["outcome"], "kept_disabled");
        let (_, recovered) = app
            .admin(Method::GET, "/api/admin/events?type=guard-recovered", None)
            .await;
        assert_eq!(
            recovered["events"][0]["data"]["flags_still_off"][0]["feature"],
            "new-checkout-flow"
        );

        // One admin call turns it back on.
        app.switch("new-checkout-flow", true).await;
        assert!(app.sdk_enabled("new-checkout-flow").await);
    }
);

both_backends!(
    re_enable_restores_only_what_the_guard_switched_off_and_respects_people,
    |app| {
        app.create_enabled_flag("flag-a").await;
        app.create_enabled_flag("flag-b").await;
        app.create_flag("flag-c").await;
        let (monitor, ping_path) = heartbeat(app, "payments-job").await;
        ping(app, &ping_path).await;
        app.create_guard(json!({
            "name": "payments",
            "signal": {"monitor_id": monitor},
            "flags": [guarded_flag("flag-a"), guarded_flag("flag-b"), guarded_flag("flag-c")],
            "on_recovery": "re_enable",
        }))
        .await;

        ping(app, &format!("{ping_path}/fail")).await;
        assert!(!app.sdk_enabled("flag-a").await);
        assert!(!app.sdk_enabled("flag-b").await);
        assert!(!app.sdk_enabled("flag-c").await);
        assert_eq!(
            app.flag_events("flag-c").await[0]["type"],
            "feature-created",
            "an already-off flag gets no event"
        );

        // A person switches flag-b back on during the incident: the guard does not overrule
        // them, however many more failures come in.
        app.switch("flag-b", true).await;
        for _ in 0..3 {
            ping(app, &format!("{ping_path}/fail")).await;
        }
        assert!(app.sdk_enabled("flag-b").await);
        assert!(!app.sdk_enabled("flag-a").await);

        // A person also switches flag-a on and off again: it is theirs now, not the guard's.
        app.create_enabled_flag("flag-d").await;
        let (_, g) = app.admin(Method::GET, "/api/admin/guards", None).await;
        let guard_id = g["guards"][0]["id"].as_i64().unwrap();
        let (status, body) = app
        .admin(
            Method::PATCH,
            &format!("/api/admin/guards/{guard_id}"),
            Some(json!({"flags": [guarded_flag("flag-a"), guarded_flag("flag-b"), guarded_flag("flag-c"), guarded_flag("flag-d")]})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(
            app.sdk_enabled("flag-d").await,
            "a changed guard does not fire by itself"
        );

        // Recovery: flag-a (switched off by the guard, untouched since) comes back; flag-b is on
        // already; flag-c was off before the incident and stays off.
        ping(app, &ping_path).await;
        assert!(app.sdk_enabled("flag-a").await);
        assert!(app.sdk_enabled("flag-b").await);
        assert!(!app.sdk_enabled("flag-c").await);
        let a = app.flag_events("flag-a").await;
        assert_eq!(a[0]["type"], "feature-environment-enabled");
        assert_eq!(a[0]["createdBy"], "guard:payments");
        let b = app.flag_events("flag-b").await;
        assert_eq!(
            b[0]["createdBy"], "admin",
            "the person's change stands: {}",
            b[0]
        );

        // Next incident: the flag a person touched during the last one is fair game again.
        app.switch("flag-a", false).await;
        app.switch("flag-a", true).await;
        ping(app, &format!("{ping_path}/fail")).await;
        assert!(!app.sdk_enabled("flag-a").await);
        assert!(!app.sdk_enabled("flag-b").await);
        assert!(!app.sdk_enabled("flag-d").await);
        // Switched on and off by a person during this incident: not the guard's to restore.
        app.switch("flag-a", true).await;
        app.switch("flag-a", false).await;
        ping(app, &ping_path).await;
        assert!(
            !app.sdk_enabled("flag-a").await,
            "a person switched it off last"
        );
        assert!(app.sdk_enabled("flag-b").await);
        assert!(app.sdk_enabled("flag-d").await);
    }
);

both_backends!(
    two_guards_on_one_flag_restore_it_only_when_both_recover,
    |app| {
        app.create_enabled_flag("shared").await;
        let (first, first_ping) = heartbeat(app, "first").await;
        let (second, second_ping) = heartbeat(app, "second").await;
        ping(app, &first_ping).await;
        ping(app, &second_ping).await;
        for (name, monitor) in [("first", first), ("second", second)] {
            app
                .create_guard(json!({"name": name, "signal": {"monitor_id": monitor}, "flags": [guarded_flag("shared")], "on_recovery": "re_enable"}))
                .await;
        }
        ping(app, &format!("{first_ping}/fail")).await;
        ping(app, &format!("{second_ping}/fail")).await;
        assert!(!app.sdk_enabled("shared").await);
        ping(app, &first_ping).await;
        assert!(
            !app.sdk_enabled("shared").await,
            "the second guard still holds it"
        );
        ping(app, &second_ping).await;
        // The second guard found it already off, so it is not the second guard's to restore and
        // the first guard has ended its trip: it stays off for a person.
        assert!(!app.sdk_enabled("shared").await);
    }
);

/// A loopback HTTP service that can be stopped and started again on the same port.
struct Service {
    addr: SocketAddr,
    task: Option<JoinHandle<()>>,
}

impl Service {
    async fn start() -> Self {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut service = Self { addr, task: None };
        service.serve(listener);
        service
    }

    fn serve(&mut self, listener: TcpListener) {
        let app = Router::new().route("/health", get(|| async { "ok" }));
        self.task = Some(tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        }));
    }

    fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }

    async fn restart(&mut self) {
        let listener = TcpListener::bind(self.addr).await.unwrap();
        self.serve(listener);
    }
}

both_backends!(
    a_real_service_stopping_and_starting_drives_the_kill_switch,
    args = scheduler_args(),
    |app| {
        let mut service = Service::start().await;
        app.create_enabled_flag("new-checkout-flow").await;
        let monitor = app
            .create_monitor(json!({
                "monitor_type": "status",
                "url": format!("http://{}/health", service.addr),
                "pronounceable_name": "checkout-api",
                "check_frequency": 1,
                "confirmation_period": 0,
                "recovery_period": 0,
                "request_timeout": 2,
            }))
            .await
            .to_string();
        let guard = app
            .create_guard(json!({
                "name": "checkout",
                "signal": {"monitor_id": monitor},
                "flags": [guarded_flag("new-checkout-flow")],
                "on_recovery": "re_enable",
            }))
            .await;
        let monitor_status = async || {
            let (_, body) = app
                .bearer(Method::GET, &format!("/api/v2/monitors/{monitor}"), None)
                .await;
            body["data"]["attributes"]["status"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        };
        wait_for(
            "the monitor to come up",
            Duration::from_secs(10),
            async || monitor_status().await == "up",
        )
        .await;

        service.stop();
        wait_for("the flag to go off", Duration::from_secs(10), async || {
            !app.sdk_enabled("new-checkout-flow").await
        })
        .await;
        let events = app.flag_events("new-checkout-flow").await;
        assert_eq!(events[0]["createdBy"], "guard:checkout");
        assert_eq!(events[0]["data"]["guard_id"], guard["id"]);
        assert!(
            events[0]["data"]["reason"]
                .as_str()
                .unwrap()
                .starts_with("checkout-api is down"),
            "{}",
            events[0]
        );

        service.restart().await;
        wait_for(
            "the flag to come back",
            Duration::from_secs(10),
            async || app.sdk_enabled("new-checkout-flow").await,
        )
        .await;
        assert_eq!(
            app.flag_events("new-checkout-flow").await[0]["createdBy"],
            "guard:checkout"
        );
        service.stop();
    }
);

/// A webhook receiver on loopback that records `(X-Flagwatch-Event, body)` of each request.
async fn recording_receiver() -> (
    SocketAddr,
    std::sync::Arc<std::sync::Mutex<Vec<(String, Value)>>>,
) {
    use axum::http::HeaderMap;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    let app = Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let record = record.clone();
            async move {
                let event = headers
                    .get("x-flagwatch-event")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                record
                    .lock()
                    .unwrap()
                    .push((event, serde_json::from_str(&body).unwrap()));
                StatusCode::OK
            }
        }),
    );
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, seen)
}

both_backends!(a_guard_tells_its_channels_what_it_did, |app| {
    let (addr, seen) = recording_receiver().await;
    let channel = app
        .create_channel(json!({"name": "ops", "kind": "webhook", "config": {"url": format!("http://{addr}/hook")}}))
        .await;
    app.create_enabled_flag("new-checkout-flow").await;
    let (monitor, ping_path) = heartbeat(app, "checkout-job").await;
    ping(app, &ping_path).await;
    app.create_guard(json!({
        "name": "checkout",
        "signal": {"monitor_id": monitor},
        "flags": [guarded_flag("new-checkout-flow")],
        "on_recovery": "re_enable",
        "channels": [channel["id"]],
    }))
    .await;

    ping(app, &format!("{ping_path}/fail")).await;
    ping(app, &ping_path).await;
    wait_for("both notices", Duration::from_secs(10), async || {
        seen.lock().unwrap().len() >= 2
    })
    .await;
    let seen = seen.lock().unwrap().clone();
    let (event, off) = &seen[0];
    assert_eq!(event, "flags.disabled", "{off}");
    assert_eq!(off["guard"]["name"], "checkout");
    assert_eq!(
        off["flags_affected"],
        json!([guarded_flag("new-checkout-flow")])
    );
    assert!(
        off["summary"]
            .as_str()
            .unwrap()
            .contains("switched off new-checkout-flow"),
        "{off}"
    );
    let (event, on) = &seen[1];
    assert_eq!(event, "flags.enabled", "{on}");
    assert_eq!(
        on["flags_affected"],
        json!([guarded_flag("new-checkout-flow")])
    );
    assert_eq!(on["dedup_key"], off["dedup_key"], "one key per incident");
});
