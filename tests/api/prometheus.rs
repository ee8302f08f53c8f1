//! Prometheus metrics: `/metrics` and Unleash's `/internal-backstage/prometheus`, read the way
//! Prometheus reads them. Every page is parsed with a full text-format parser
//! (openmetrics-parser, which checks types, label sets and histogram buckets and unescapes
//! label values), and the tests assert values: flags from the snapshot, monitors from their
//! check results, incidents and kill-switch actions from the event log (across a restart),
//! SDK usage, request durations by route template, and who may scrape.

use std::collections::BTreeMap;

use flagwatch::domain::Timestamp;
use openmetrics_parser::prometheus::parse_prometheus;
use openmetrics_parser::{HistogramValue, MetricsExposition, PrometheusType, PrometheusValue};
use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::helpers::{
    ADMIN, Backend, CLIENT_DEV, FRONTEND_DEV, TestApp, guarded_flag, probe_down, probe_up, send,
    standard_args,
};

const METRICS_SECRET: &str = "prometheus-scrape-secret-0123456789";

/// [`standard_args`] with a `METRICS_TOKEN`.
fn metrics_args() -> Vec<String> {
    let mut args = standard_args();
    args.extend(["--metrics-token".to_string(), METRICS_SECRET.to_string()]);
    args
}

/// One parsed scrape.
struct Scrape {
    text: String,
    parsed: MetricsExposition<PrometheusType, PrometheusValue>,
}

type Labels = BTreeMap<String, String>;

impl Scrape {
    /// Every sample of metric `name`, with its labels.
    fn samples(&self, name: &str) -> Vec<(Labels, PrometheusValue)> {
        let Some(family) = self.parsed.families.get(name) else {
            return Vec::new();
        };
        family
            .iter_samples()
            .map(|s| {
                let labels = s
                    .get_labelset()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                (labels, s.value.clone())
            })
            .collect()
    }

    /// The one sample of `name` carrying all of `labels` (others may be there too).
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<PrometheusValue> {
        let mut found: Vec<_> = self
            .samples(name)
            .into_iter()
            .filter(|(l, _)| {
                labels
                    .iter()
                    .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
            })
            .collect();
        assert!(
            found.len() <= 1,
            "{name}{labels:?} matches several samples: {found:?}"
        );
        found.pop().map(|(_, v)| v)
    }

    /// A gauge's or counter's value.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        match self.get(name, labels)? {
            PrometheusValue::Gauge(n) | PrometheusValue::Unknown(n) => Some(n.as_f64()),
            PrometheusValue::Counter(c) => Some(c.value.as_f64()),
            other => panic!("{name} is not a gauge or counter: {other:?}"),
        }
    }

    /// Like [`Scrape::value`], failing the test when the sample is missing.
    fn expect(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.value(name, labels)
            .unwrap_or_else(|| panic!("no sample {name}{labels:?} in\n{}", self.text))
    }

    fn histogram(&self, name: &str, labels: &[(&str, &str)]) -> Option<HistogramValue> {
        match self.get(name, labels)? {
            PrometheusValue::Histogram(h) => Some(h),
            other => panic!("{name} is not a histogram: {other:?}"),
        }
    }

    fn family_type(&self, name: &str) -> PrometheusType {
        self.parsed
            .families
            .get(name)
            .unwrap_or_else(|| panic!("no metric {name}"))
            .family_type
            .clone()
    }
}

/// `GET path` with `authorization` (a raw header value): the status, the content type and body.
async fn get(
    app: &TestApp,
    path: &str,
    authorization: Option<&str>,
) -> (StatusCode, String, String) {
    let resp = app
        .request(Method::GET, path, authorization)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let content_type = resp
        .headers()
        .get(CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, content_type, resp.text().await.unwrap())
}

/// Scrapes `/metrics` as an admin; fails the test unless the page parses.
async fn scrape(app: &TestApp) -> Scrape {
    scrape_at(app, "/metrics", ADMIN).await
}

async fn scrape_at(app: &TestApp, path: &str, authorization: &str) -> Scrape {
    let (status, content_type, text) = get(app, path, Some(authorization)).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let parsed = parse_prometheus(&text)
        .unwrap_or_else(|e| panic!("{path} is not valid Prometheus text ({e:?}):\n{text}"));
    Scrape { text, parsed }
}

fn flag(name: &str, env: &str) -> Vec<(&'static str, String)> {
    vec![
        ("flag_name", name.to_string()),
        ("environment", env.to_string()),
    ]
}

fn refs<'a>(labels: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    labels.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

both_backends!(
    scrapes_need_an_admin_token_or_the_metrics_token,
    args = metrics_args(),
    |app| {
        let bearer_secret = format!("Bearer {METRICS_SECRET}");
        for path in ["/metrics", "/internal-backstage/prometheus"] {
            // No token, or one nobody issued: 401.
            assert_eq!(get(app, path, None).await.0, StatusCode::UNAUTHORIZED);
            assert_eq!(
                get(app, path, Some("Bearer not-the-secret")).await.0,
                StatusCode::UNAUTHORIZED
            );
            // A valid token of the wrong kind: 403.
            assert_eq!(
                get(app, path, Some(CLIENT_DEV)).await.0,
                StatusCode::FORBIDDEN
            );
            assert_eq!(
                get(app, path, Some(FRONTEND_DEV)).await.0,
                StatusCode::FORBIDDEN
            );
            // An admin token or the metrics token: the page, in the 0.0.4 text format.
            let by_admin = scrape_at(app, path, ADMIN).await;
            let by_prometheus = scrape_at(app, path, &bearer_secret).await;
            scrape_at(app, path, METRICS_SECRET).await;
            for s in [&by_admin, &by_prometheus] {
                assert_eq!(
                    s.expect(
                        "flagwatch_build_info",
                        &[("version", env!("CARGO_PKG_VERSION"))]
                    ),
                    1.0
                );
                assert_eq!(s.expect("flagwatch_metrics_store_up", &[]), 1.0);
            }
        }
        // The metrics token opens nothing else.
        let (status, _) =
            send(app.request(Method::GET, "/api/admin/projects", Some(&bearer_secret))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
);

both_backends!(without_a_metrics_token_only_admins_scrape, |app| {
    let (status, _, _) = get(app, "/metrics", Some(&format!("Bearer {METRICS_SECRET}"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    scrape(app).await;
});

both_backends!(flag_gauges_follow_switches_and_rollouts, |app| {
    // Arrange: a flag with two rollout strategies in development, and one in another project.
    app.create_flag("checkout").await;
    let strategies =
        "/api/admin/projects/default/features/checkout/environments/development/strategies";
    for body in [
        json!({"name": "flexibleRollout", "parameters": {"rollout": "35", "stickiness": "default", "groupId": "checkout"}}),
        json!({"name": "gradualRolloutRandom", "parameters": {"percentage": "20"}}),
    ] {
        let (status, answer) = app.admin(Method::POST, strategies, Some(body)).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    app.create_project("payments").await;
    app.create_flag_in("payments", "pay-later").await;

    // Off everywhere at first: 0, and a rollout of 0.
    let s = scrape(app).await;
    assert_eq!(s.family_type("feature_flag_enabled"), PrometheusType::Gauge);
    let checkout_dev = [
        ("project", "default"),
        ("flag_name", "checkout"),
        ("environment", "development"),
    ];
    assert_eq!(s.expect("feature_flag_enabled", &checkout_dev), 0.0);
    assert_eq!(
        s.expect(
            "feature_flag_enabled",
            &[
                ("flag_name", "pay-later"),
                ("project", "payments"),
                ("environment", "production")
            ]
        ),
        0.0
    );
    let dev = flag("checkout", "development");
    assert_eq!(s.expect("feature_flag_rollout_percent", &refs(&dev)), 0.0);

    // Act: switched on. The rollout is the highest of its strategies'.
    app.switch("checkout", true).await;
    let s = scrape(app).await;
    assert_eq!(s.expect("feature_flag_enabled", &checkout_dev), 1.0);
    assert_eq!(s.expect("feature_flag_rollout_percent", &refs(&dev)), 35.0);
    let prod = flag("checkout", "production");
    assert_eq!(s.expect("feature_flag_rollout_percent", &refs(&prod)), 0.0);
    assert_eq!(
        s.expect(
            "feature_flag_enabled",
            &[("flag_name", "checkout"), ("environment", "production")]
        ),
        0.0
    );

    // And off again.
    app.switch("checkout", false).await;
    let s = scrape(app).await;
    assert_eq!(s.expect("feature_flag_enabled", &checkout_dev), 0.0);
    assert_eq!(s.expect("feature_flag_rollout_percent", &refs(&dev)), 0.0);
});

both_backends!(sdk_usage_shows_which_flags_sdks_evaluate, |app| {
    // Arrange
    app.create_enabled_flag("used-flag").await;
    app.create_flag("idle-flag").await;
    let now = Timestamp::now().to_rfc3339();
    let report = json!({
        "appName": "shop",
        "instanceId": "i-1",
        "bucket": {"start": now, "stop": now, "toggles": {
            "used-flag": {"yes": 3, "no": 1, "variants": {}},
            "no-such-flag": {"yes": 9, "no": 0, "variants": {}},
        }},
    });

    // Act
    let (status, body) = send(
        app.request(Method::POST, "/api/client/metrics", Some(CLIENT_DEV))
            .json(&report),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    app.service.flush_metrics().await.unwrap();

    // Assert
    let s = scrape(app).await;
    let used = flag("used-flag", "development");
    assert_eq!(s.expect("feature_flag_used", &refs(&used)), 1.0);
    let elsewhere = flag("used-flag", "production");
    assert_eq!(s.expect("feature_flag_used", &refs(&elsewhere)), 0.0);
    let idle = flag("idle-flag", "development");
    assert_eq!(s.expect("feature_flag_used", &refs(&idle)), 0.0);
    assert_eq!(
        s.family_type("feature_flag_evaluations_total"),
        PrometheusType::Counter
    );
    let mut yes = refs(&used);
    yes.push(("result", "yes"));
    assert_eq!(s.expect("feature_flag_evaluations_total", &yes), 3.0);
    let mut no = refs(&used);
    no.push(("result", "no"));
    assert_eq!(s.expect("feature_flag_evaluations_total", &no), 1.0);
    // Flags this server does not know are not counted (nor made into labels).
    assert!(!s.text.contains("no-such-flag"), "{}", s.text);
});

both_backends!(monitor_metrics_follow_check_results, |app| {
    // Arrange: a monitor whose name needs escaping in a label value.
    let name = r#"API "edge" \ eu-1"#;
    let id = app
        .create_monitor(json!({
            "monitor_type": "status",
            "url": "https://api.example.com/health",
            "pronounceable_name": name,
            "confirmation_period": 0,
            "recovery_period": 0,
        }))
        .await;
    let id_label = id.to_string();
    let this = [("monitor_id", id_label.as_str())];

    // Pending: no up/down yet, its status says so.
    let s = scrape(app).await;
    assert_eq!(s.value("monitor_up", &this), None);
    let mut pending = this.to_vec();
    pending.push(("status", "pending"));
    assert_eq!(s.expect("monitor_status", &pending), 1.0);
    assert_eq!(s.expect("incidents_total", &this), 0.0);
    // The label round-trips through escaping.
    let (labels, _) = s
        .samples("monitor_status")
        .into_iter()
        .find(|(l, _)| l["monitor_id"] == id_label)
        .unwrap();
    assert_eq!(labels["monitor"], name);
    assert_eq!(labels["type"], "status");

    // Act: three successful checks.
    let t0 = Timestamp::now().millis();
    for (i, ms) in [120, 80, 40].into_iter().enumerate() {
        app.feed(id, probe_up(ms), t0 + i as i64).await;
    }

    // Assert: up, and the response times are in the histogram.
    let s = scrape(app).await;
    assert_eq!(s.expect("monitor_up", &this), 1.0);
    let mut up = this.to_vec();
    up.push(("status", "up"));
    assert_eq!(s.expect("monitor_status", &up), 1.0);
    assert_eq!(s.expect("monitor_status", &pending), 0.0);
    assert_eq!(
        s.family_type("monitor_response_seconds"),
        PrometheusType::Histogram
    );
    let h = s
        .histogram("monitor_response_seconds", &[("monitor", name)])
        .unwrap_or_else(|| panic!("no histogram for {name:?} in\n{}", s.text));
    assert_eq!(h.count, Some(3));
    assert!((h.sum.unwrap().as_f64() - 0.24).abs() < 1e-9, "{h:?}");
    let at_most = |bound: f64| {
        h.buckets
            .iter()
            .find(|b| b.upper_bound == bound)
            .unwrap_or_else(|| panic!("no bucket {bound}: {h:?}"))
            .count
            .as_f64()
    };
    assert_eq!(at_most(0.05), 1.0);
    assert_eq!(at_most(0.1), 2.0);
    assert_eq!(at_most(0.25), 3.0);
    assert_eq!(at_most(f64::INFINITY), 3.0);

    // A failure takes it down (no confirmation period) and opens an incident.
    app.feed(id, probe_down(2_000), t0 + 10).await;
    let s = scrape(app).await;
    assert_eq!(s.expect("monitor_up", &this), 0.0);
    assert_eq!(s.expect("incidents_total", &this), 1.0);
    let h = s
        .histogram("monitor_response_seconds", &this)
        .expect("histogram");
    assert_eq!(h.count, Some(4), "the histogram grows with every result");
});

both_backends!(request_durations_are_labelled_by_route_template, |app| {
    // Arrange: requests to a route whose path holds a secret, an SDK poll and an unknown path.
    let heartbeat = app
        .create_heartbeat(json!({"name": "cron", "period": 3600, "grace": 0}))
        .await;
    let ping_path = app.ping_path(&heartbeat);
    let secret = ping_path.rsplit('/').next().unwrap().to_string();
    for _ in 0..2 {
        let (status, _, _) = get(app, &ping_path, None).await;
        assert_eq!(status, StatusCode::OK);
    }
    app.client_features().await;
    let (status, _, _) = get(app, "/no/such/path", Some(ADMIN)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Act
    let s = scrape(app).await;

    // Assert
    assert_eq!(
        s.family_type("http_request_duration_seconds"),
        PrometheusType::Histogram
    );
    let pings = s
        .histogram(
            "http_request_duration_seconds",
            &[
                ("method", "GET"),
                ("route", "/api/v1/heartbeat/{token}"),
                ("status", "2xx"),
            ],
        )
        .unwrap_or_else(|| panic!("no ping route in\n{}", s.text));
    assert_eq!(pings.count, Some(2));
    let polls = s
        .histogram(
            "http_request_duration_seconds",
            &[
                ("method", "GET"),
                ("route", "/api/client/features"),
                ("status", "2xx"),
            ],
        )
        .expect("the SDK poll");
    assert!(polls.count >= Some(1));
    let missing = s
        .histogram(
            "http_request_duration_seconds",
            &[("route", "unmatched"), ("status", "4xx")],
        )
        .expect("the unknown path");
    assert_eq!(missing.count, Some(1));
    // Only route templates, never a raw path: the ping secret appears nowhere.
    for (labels, _) in s.samples("http_request_duration_seconds") {
        let route = &labels["route"];
        assert!(route == "unmatched" || route.starts_with('/'), "{route}");
        assert!(!route.contains("/no/such"), "{route}");
    }
    assert!(
        !s.text.contains(&secret),
        "the ping token leaked:\n{}",
        s.text
    );
});

/// A guard on a heartbeat fires and recovers; the counters follow, and after a restart they
/// are still there (they are counted from the event log).
async fn kill_switch_counters_survive_a_restart(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    // Arrange
    app.create_enabled_flag("risky-feature").await;
    let heartbeat = app
        .create_heartbeat(json!({"name": "nightly \"import\"", "period": 3600, "grace": 0}))
        .await;
    let monitor: i64 = heartbeat["id"].as_str().unwrap().parse().unwrap();
    let ping_path = app.ping_path(&heartbeat);
    let ping = async |path: String| {
        let (status, _, _) = get(&app, &path, None).await;
        assert_eq!(status, StatusCode::OK);
    };
    ping(ping_path.clone()).await;
    app.create_guard(json!({
        "name": "import-guard",
        "signal": {"monitor_id": monitor},
        "flags": [guarded_flag("risky-feature")],
        "on_recovery": "re_enable",
    }))
    .await;
    let id_label = monitor.to_string();
    let this = [("monitor_id", id_label.as_str())];
    let disabled = [("action", "disabled"), ("guard", "import-guard")];
    let enabled = [("action", "enabled"), ("guard", "import-guard")];
    let risky = [
        ("flag_name", "risky-feature"),
        ("environment", "development"),
    ];

    let s = scrape(&app).await;
    assert_eq!(s.expect("monitor_up", &this), 1.0);
    assert_eq!(s.expect("incidents_total", &this), 0.0);
    assert_eq!(
        s.family_type("kill_switch_actions_total"),
        PrometheusType::Counter
    );
    assert_eq!(s.expect("kill_switch_actions_total", &disabled), 0.0);
    assert_eq!(s.expect("feature_flag_enabled", &risky), 1.0);

    // Act: the job reports a failure; the guard switches the flag off.
    ping(format!("{ping_path}/fail")).await;

    // Assert
    let s = scrape(&app).await;
    let mut heartbeat_labels = this.to_vec();
    heartbeat_labels.push(("type", "heartbeat"));
    assert_eq!(s.expect("monitor_up", &heartbeat_labels), 0.0);
    assert_eq!(s.expect("incidents_total", &this), 1.0);
    assert_eq!(s.expect("kill_switch_actions_total", &disabled), 1.0);
    assert_eq!(s.expect("kill_switch_actions_total", &enabled), 0.0);
    assert_eq!(s.expect("feature_flag_enabled", &risky), 0.0);
    // Heartbeats have no response times.
    assert_eq!(s.histogram("monitor_response_seconds", &this), None);

    // The job succeeds again: the guard switches the flag back on.
    ping(ping_path.clone()).await;
    let s = scrape(&app).await;
    assert_eq!(s.expect("monitor_up", &this), 1.0);
    assert_eq!(s.expect("kill_switch_actions_total", &enabled), 1.0);
    assert_eq!(s.expect("kill_switch_actions_total", &disabled), 1.0);
    assert_eq!(s.expect("feature_flag_enabled", &risky), 1.0);
    // Scraping again counts nothing twice.
    let again = scrape(&app).await;
    assert_eq!(again.expect("incidents_total", &this), 1.0);
    assert_eq!(again.expect("kill_switch_actions_total", &disabled), 1.0);

    // The counts as the store groups them (what a restarted server starts from once the
    // events are older than a minute).
    {
        let mut r = app.service.store().read().await.unwrap();
        let mut groups: Vec<_> = r
            .tallied_groups_before(Timestamp(i64::MAX))
            .await
            .unwrap()
            .into_iter()
            .map(|g| (g.event_type, g.created_by, g.count))
            .collect();
        groups.sort();
        assert_eq!(
            groups,
            vec![
                (
                    "feature-environment-disabled".into(),
                    "guard:import-guard".into(),
                    1
                ),
                (
                    "feature-environment-enabled".into(),
                    "guard:import-guard".into(),
                    1
                ),
                ("incident-opened".into(), format!("probe:{monitor}"), 1),
            ]
        );
        assert_eq!(r.tallied_events_after(0, 10).await.unwrap().len(), 3);
        let last = r.max_event_id().await.unwrap();
        assert!(r.tallied_events_after(last, 10).await.unwrap().is_empty());
    }

    // After a restart the totals are the same: they come from the event log.
    let db = app.stop_keeping_db().await;
    let app = TestApp::spawn_on(db, &standard_args()).await;
    let s = scrape(&app).await;
    assert_eq!(s.expect("incidents_total", &this), 1.0);
    assert_eq!(s.expect("kill_switch_actions_total", &disabled), 1.0);
    assert_eq!(s.expect("kill_switch_actions_total", &enabled), 1.0);
    app.stop().await;
}

mod kill_switch_counters_follow_guards_and_survive_a_restart {
    use super::*;

    #[tokio::test]
    async fn sqlite() {
        kill_switch_counters_survive_a_restart(Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn postgres() {
        kill_switch_counters_survive_a_restart(Backend::Postgres).await;
    }
}
