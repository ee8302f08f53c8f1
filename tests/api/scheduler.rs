//! The probe scheduler against real loopback targets: a monitor created through the API is
//! checked every `check_frequency` seconds, its status follows the target (with an incident
//! while it is down), and pausing or deleting it stops its checks at once. Intervals are 1 s
//! and every wait has a deadline.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode as AxumStatus;
use axum::routing::get;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::both_backends;
use crate::helpers::{TestApp, scheduler_args};

/// Long enough for a 1 s monitor's first (jittered) check and the next one.
const DEADLINE: Duration = Duration::from_secs(6);

/// An HTTP target whose answer a test can flip, counting the requests it gets.
struct Target {
    addr: SocketAddr,
    status: Arc<AtomicU16>,
    hits: Arc<AtomicUsize>,
}

#[derive(Clone)]
struct TargetState {
    status: Arc<AtomicU16>,
    hits: Arc<AtomicUsize>,
}

impl Target {
    async fn start() -> Self {
        let status = Arc::new(AtomicU16::new(200));
        let hits = Arc::new(AtomicUsize::new(0));
        let app = Router::new()
            .route(
                "/health",
                get(|State(s): State<TargetState>| async move {
                    s.hits.fetch_add(1, Ordering::SeqCst);
                    let code = AxumStatus::from_u16(s.status.load(Ordering::SeqCst)).unwrap();
                    (code, "checked")
                }),
            )
            .with_state(TargetState {
                status: status.clone(),
                hits: hits.clone(),
            });
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { addr, status, hits }
    }

    fn url(&self) -> String {
        format!("http://{}/health", self.addr)
    }

    fn answer(&self, code: u16) {
        self.status.store(code, Ordering::SeqCst);
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

async fn create(app: &TestApp, attrs: Value) -> i64 {
    let (status, body) = app
        .admin(Method::POST, "/api/v2/monitors", Some(attrs))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["data"]["id"].as_str().unwrap().parse().unwrap()
}

fn http_monitor(url: &str) -> Value {
    json!({
        "monitor_type": "status",
        "url": url,
        "pronounceable_name": "Loopback target",
        "check_frequency": 1,
        "request_timeout": 2,
        "confirmation_period": 0,
        "recovery_period": 0,
    })
}

async fn monitor(app: &TestApp, id: i64) -> Value {
    let (status, body) = app
        .admin(Method::GET, &format!("/api/v2/monitors/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"]["attributes"].clone()
}

/// Polls the monitor until its status is `want`, or fails at the deadline.
async fn wait_for_status(app: &TestApp, id: i64, want: &str) {
    let started = Instant::now();
    loop {
        let attrs = monitor(app, id).await;
        if attrs["status"] == want {
            return;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "monitor {id} not {want} after {DEADLINE:?}: {attrs}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn incidents(app: &TestApp, id: i64) -> Vec<Value> {
    let (status, body) = app
        .admin(
            Method::GET,
            &format!("/api/v2/incidents?monitor_id={id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].as_array().unwrap().clone()
}

/// Asserts the target gets no request over ~2 check intervals (after one that may have been
/// in flight when the change was made).
async fn assert_no_more_checks(target: &Target) {
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = target.hits();
    tokio::time::sleep(Duration::from_millis(2300)).await;
    assert_eq!(target.hits(), before, "checks went on");
}

both_backends!(
    a_monitor_follows_its_target_down_and_up,
    args = scheduler_args(),
    |app| {
        let target = Target::start().await;
        let id = create(app, http_monitor(&target.url())).await;
        wait_for_status(app, id, "up").await;
        assert!(monitor(app, id).await["last_checked_at"].is_string());
        assert!(incidents(app, id).await.is_empty());

        target.answer(500);
        wait_for_status(app, id, "down").await;
        let open = incidents(app, id).await;
        assert_eq!(open.len(), 1, "{open:?}");
        let a = &open[0]["attributes"];
        assert_eq!(a["status"], "Started", "{a}");
        assert_eq!(a["cause"], "unexpected HTTP status code 500", "{a}");
        assert_eq!(a["metadata"]["Cause"], "status_code", "{a}");
        assert_eq!(a["metadata"]["Response code"], "500", "{a}");

        target.answer(200);
        wait_for_status(app, id, "up").await;
        let resolved = incidents(app, id).await;
        assert_eq!(resolved.len(), 1, "{resolved:?}");
        assert_eq!(resolved[0]["attributes"]["status"], "Resolved");
        assert!(resolved[0]["attributes"]["resolved_at"].is_string());
    }
);

both_backends!(
    pausing_or_deleting_a_monitor_stops_its_checks,
    args = scheduler_args(),
    |app| {
        let paused = Target::start().await;
        let deleted = Target::start().await;
        let p = create(app, http_monitor(&paused.url())).await;
        let d = create(app, http_monitor(&deleted.url())).await;
        wait_for_status(app, p, "up").await;
        wait_for_status(app, d, "up").await;

        let (status, body) = app
            .admin(
                Method::PATCH,
                &format!("/api/v2/monitors/{p}"),
                Some(json!({"paused": true})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = app
            .admin(Method::DELETE, &format!("/api/v2/monitors/{d}"), None)
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

        let (before_p, before_d) = (paused.hits(), deleted.hits());
        tokio::join!(
            assert_no_more_checks(&paused),
            assert_no_more_checks(&deleted)
        );
        assert!(before_p >= 1 && before_d >= 1);
        assert_eq!(monitor(app, p).await["status"], "paused");

        // Resuming schedules it again.
        let (status, body) = app
            .admin(
                Method::PATCH,
                &format!("/api/v2/monitors/{p}"),
                Some(json!({"paused": false})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let resumed_at = paused.hits();
        wait_for_status(app, p, "up").await;
        assert!(paused.hits() > resumed_at);
    }
);

both_backends!(
    an_edit_takes_effect_at_once,
    args = scheduler_args(),
    |app| {
        let old = Target::start().await;
        let new = Target::start().await;
        new.answer(503);
        let id = create(app, http_monitor(&old.url())).await;
        wait_for_status(app, id, "up").await;

        let (status, body) = app
            .admin(
                Method::PATCH,
                &format!("/api/v2/monitors/{id}"),
                Some(json!({"url": new.url()})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        wait_for_status(app, id, "down").await;
        assert!(new.hits() >= 1);
        assert_no_more_checks(&old).await;
    }
);

both_backends!(
    a_refused_tcp_port_is_down_with_connection_refused,
    args = scheduler_args(),
    |app| {
        // A port that was just free: nothing listens on it.
        let port = {
            let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
            listener.local_addr().unwrap().port()
        };
        let id = create(
            app,
            json!({
                "monitor_type": "tcp",
                "url": "127.0.0.1",
                "port": port.to_string(),
                "check_frequency": 1,
                "request_timeout": 1000,
                "confirmation_period": 0,
            }),
        )
        .await;
        wait_for_status(app, id, "down").await;
        let open = incidents(app, id).await;
        assert_eq!(open.len(), 1, "{open:?}");
        assert_eq!(
            open[0]["attributes"]["metadata"]["Cause"],
            "connection_refused"
        );
        assert_eq!(open[0]["attributes"]["cause"], "connection refused");
    }
);

/// Shutdown does not wait for checks in flight: a check of a target that never answers (30 s
/// timeout) is abandoned.
#[tokio::test]
async fn shutdown_abandons_checks_in_flight() {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            held.push(socket); // accepted, never answered
        }
    });
    let app = TestApp::spawn_with(crate::helpers::Backend::Sqlite, &scheduler_args())
        .await
        .unwrap();
    let mut attrs = http_monitor(&format!("http://{addr}/hang"));
    attrs["request_timeout"] = json!(30);
    create(&app, attrs).await;
    let started = Instant::now();
    while accepted.load(Ordering::SeqCst) == 0 {
        assert!(started.elapsed() < DEADLINE, "the target was never checked");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stopping = Instant::now();
    app.stop().await;
    assert!(
        stopping.elapsed() < Duration::from_secs(3),
        "shutdown took {:?}",
        stopping.elapsed()
    );
}
