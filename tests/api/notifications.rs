//! Notification channels and the delivery outbox, against real HTTP receivers on loopback that
//! record every request and answer what each test scripts: Slack's body, the webhook's HMAC
//! signature (recomputed here), PagerDuty's trigger and resolve of one alert, retries on
//! 500/429/timeouts with backoff and `Retry-After`, no retry on 400, the delivery log, secrets
//! masked, bad input refused with nothing changed, monitors naming channels, deliveries
//! surviving a restart, and two replicas sending each delivery once.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode as AxumStatus, Uri};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::both_backends;
use crate::helpers::{ADMIN, Backend, TestApp, TestDb, send, standard_args};

const ROUTING_KEY: &str = "R0uting0Key0For0Tests0123456789a";
const CHANNELS: &str = "/api/admin/notification-channels";

/// Fast retries and a one-second timeout, so the retry tests take a second or two.
fn fast_args() -> Vec<String> {
    let mut args = standard_args();
    args.extend(
        [
            "--notification-retry-base-ms",
            "50",
            "--notification-timeout-secs",
            "1",
            "--notification-max-attempts",
            "4",
        ]
        .map(String::from),
    );
    args
}

// ---- a scriptable receiver ---------------------------------------------------------------

#[derive(Debug, Clone)]
enum Reply {
    Status(u16),
    /// A status with a body (what Slack says when it refuses).
    StatusBody(u16, &'static str),
    /// 429 with `Retry-After: <secs>`.
    TooMany(u64),
    /// Never answers.
    Hang,
}

#[derive(Debug, Clone)]
struct Recorded {
    path: String,
    headers: HeaderMap,
    body: Bytes,
    at: Instant,
}

impl Recorded {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

struct Inner {
    script: VecDeque<Reply>,
    default: u16,
    requests: Vec<Recorded>,
}

/// An HTTP server on 127.0.0.1 that records each request and answers the next scripted reply
/// (then `default`).
struct Receiver {
    addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Receiver {
    async fn start(default: u16) -> Self {
        Self::start_on("127.0.0.1:0", default).await
    }

    async fn start_on(addr: &str, default: u16) -> Self {
        let inner = Arc::new(Mutex::new(Inner {
            script: VecDeque::new(),
            default,
            requests: Vec::new(),
        }));
        let state = inner.clone();
        let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
            let state = state.clone();
            async move {
                let reply = {
                    let mut inner = state.lock().unwrap();
                    inner.requests.push(Recorded {
                        path: uri.path().to_string(),
                        headers,
                        body,
                        at: Instant::now(),
                    });
                    inner
                        .script
                        .pop_front()
                        .unwrap_or(Reply::Status(inner.default))
                };
                respond(reply).await
            }
        });
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, inner, task }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.inner.lock().unwrap().script.extend(replies);
    }

    fn requests(&self) -> Vec<Recorded> {
        self.inner.lock().unwrap().requests.clone()
    }

    /// Waits until at least `n` requests arrived.
    async fn wait_for(&self, n: usize) -> Vec<Recorded> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let got = self.requests();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} requests, got {}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

async fn respond(reply: Reply) -> Response {
    let status = |code: u16| AxumStatus::from_u16(code).unwrap();
    match reply {
        Reply::Status(code) => (status(code), "ok").into_response(),
        Reply::StatusBody(code, body) => (status(code), body).into_response(),
        Reply::TooMany(secs) => (
            AxumStatus::TOO_MANY_REQUESTS,
            [("retry-after", secs.to_string())],
            "slow down",
        )
            .into_response(),
        Reply::Hang => {
            std::future::pending::<()>().await;
            unreachable!()
        }
    }
}

// ---- API helpers ---------------------------------------------------------------------------

/// Queues a test notice; returns the delivery id.
async fn send_test(app: &TestApp, channel: i64, body: Option<Value>) -> i64 {
    let (status, answer) = app
        .admin(Method::POST, &format!("{CHANNELS}/{channel}/test"), body)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["test"], true, "{answer}");
    answer["id"].as_i64().unwrap()
}

async fn deliveries(app: &TestApp, query: &str) -> Vec<Value> {
    let (status, body) = app
        .admin(
            Method::GET,
            &format!("/api/admin/notification-deliveries{query}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["deliveries"].as_array().unwrap().clone()
}

async fn delivery(app: &TestApp, id: i64) -> Value {
    deliveries(app, "?limit=500")
        .await
        .into_iter()
        .find(|d| d["id"] == id)
        .unwrap_or_else(|| panic!("delivery {id} is in the log"))
}

/// Polls the delivery log until delivery `id` is no longer pending.
async fn settled(app: &TestApp, id: i64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let d = delivery(app, id).await;
        if d["status"] != "pending" {
            return d;
        }
        assert!(Instant::now() < deadline, "still pending: {d}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn hmac_hex(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

// ---- the channel kinds -----------------------------------------------------------------------

both_backends!(
    slack_gets_a_text_and_a_coloured_attachment,
    args = fast_args(),
    |app| {
        let slack = Receiver::start(200).await;
        let hook = slack.url("/services/T000/B000/SlackPathSecret");
        let created = app
            .create_channel(
                json!({"name": "ops-slack", "kind": "slack", "config": {"webhook_url": hook}}),
            )
            .await;
        assert_eq!(created["kind"], "slack");
        assert_eq!(
            created["config"]["webhook_url"],
            slack.url("/****"),
            "the path is the secret: {created}"
        );
        let id = created["id"].as_i64().unwrap();

        let queued_at = Instant::now();
        let delivery_id = send_test(app, id, None).await;
        let got = slack.wait_for(1).await;
        assert!(
            got[0].at - queued_at < Duration::from_millis(500),
            "the worker was woken at once, not by its sweep: {:?}",
            got[0].at - queued_at
        );
        let d = settled(app, delivery_id).await;
        assert_eq!(d["status"], "delivered", "{d}");
        assert_eq!(d["attempts"], 1);
        assert_eq!(d["last_status_code"], 200);
        assert!(
            d["delivered_at"].is_string() && d["next_attempt_at"].is_null(),
            "{d}"
        );
        assert_eq!(d["channel"], "ops-slack");
        assert_eq!(d["channel_id"], id);
        assert_eq!(d["notice_kind"], "incident.opened");

        let r = &got[0];
        assert_eq!(r.path, "/services/T000/B000/SlackPathSecret");
        assert_eq!(r.header("content-type"), "application/json");
        let body = r.json();
        let text = body["text"].as_str().unwrap();
        assert!(
            text.starts_with("[test] :red_circle: Incident opened: Test notification"),
            "{text}"
        );
        let attachment = &body["attachments"][0];
        assert_eq!(attachment["color"], "#e01e5a");
        assert_eq!(attachment["blocks"][0]["type"], "section");
        assert_eq!(attachment["blocks"][0]["text"]["type"], "mrkdwn");

        // A recovery is green.
        let resolved = send_test(app, id, Some(json!({"kind": "incident.resolved"}))).await;
        assert_eq!(settled(app, resolved).await["status"], "delivered");
        assert_eq!(
            slack.requests()[1].json()["attachments"][0]["color"],
            "#2eb886"
        );

        // The audit log has the channel, without its secret.
        let events = app.events_of_type("notification-channel-").await;
        assert_eq!(events.len(), 1);
        assert_eq!(events[0]["type"], "notification-channel-created");
        assert_eq!(events[0]["createdBy"], "admin");
        assert!(
            !events[0].to_string().contains("SlackPathSecret"),
            "{}",
            events[0]
        );
    }
);

both_backends!(
    webhooks_are_signed_with_the_channel_secret,
    args = fast_args(),
    |app| {
        let receiver = Receiver::start(204).await;

        // No secret given: one is generated and shown this once.
        let created = app
            .create_channel(json!({"name": "hook", "kind": "webhook", "config": {"url": receiver.url("/hooks/flagwatch")}}))
            .await;
        let secret = created["config"]["secret"].as_str().unwrap().to_string();
        assert_eq!(secret.len(), 64, "{created}");
        assert_eq!(created["secret_generated"], true);
        let id = created["id"].as_i64().unwrap();
        let (_, shown) = app
            .admin(Method::GET, &format!("{CHANNELS}/{id}"), None)
            .await;
        assert_eq!(shown["config"]["secret"], format!("****{}", &secret[60..]));
        assert_eq!(shown["config"]["url"], receiver.url("/hooks/flagwatch"));
        let (_, list) = app.admin(Method::GET, CHANNELS, None).await;
        assert!(!list.to_string().contains(&secret), "{list}");

        let delivery_id = send_test(
            app,
            id,
            Some(json!({"kind": "flags.disabled", "summary": "3 flags switched off"})),
        )
        .await;
        let d = settled(app, delivery_id).await;
        assert_eq!(
            (d["status"].as_str(), d["last_status_code"].as_i64()),
            (Some("delivered"), Some(204))
        );
        let r = &receiver.requests()[0];
        assert_eq!(r.path, "/hooks/flagwatch");
        assert_eq!(r.header("x-flagwatch-event"), "flags.disabled");
        assert_eq!(r.header("x-flagwatch-delivery"), delivery_id.to_string());
        assert_eq!(
            r.header("x-flagwatch-signature"),
            format!("sha256={}", hmac_hex(&secret, &r.body)),
            "the HMAC of the exact body bytes"
        );
        let body = r.json();
        assert_eq!(body["event"], "flags.disabled");
        assert_eq!(body["delivery_id"], delivery_id);
        assert_eq!(body["test"], true);
        assert_eq!(body["summary"], "3 flags switched off");
        assert!(
            body["dedup_key"]
                .as_str()
                .unwrap()
                .starts_with(&format!("flagwatch-test-{id}-"))
        );
        assert_eq!(body["flags_affected"], json!([]));

        // A secret given is used, and never shown.
        let given = "a-shared-secret-of-some-length";
        let other = app
            .create_channel(json!({"name": "hook2", "kind": "webhook", "config": {"url": receiver.url("/two"), "secret": given}}))
            .await;
        assert_eq!(other["config"]["secret"], "****ngth");
        assert!(other.get("secret_generated").is_none());
        let d = send_test(app, other["id"].as_i64().unwrap(), None).await;
        settled(app, d).await;
        let r = &receiver.requests()[1];
        assert_eq!(
            r.header("x-flagwatch-signature"),
            format!("sha256={}", hmac_hex(given, &r.body))
        );
    }
);

both_backends!(
    pagerduty_triggers_then_resolves_one_alert,
    args = fast_args(),
    |app| {
        let pd = Receiver::start(202).await;
        let created = app
            .create_channel(json!({"name": "on-call", "kind": "pagerduty", "config": {
                "routing_key": ROUTING_KEY, "events_url": pd.url("/v2/enqueue"), "severity": "error"}}))
            .await;
        assert_eq!(created["config"]["routing_key"], "****789a");
        assert_eq!(created["config"]["severity"], "error");
        let id = created["id"].as_i64().unwrap();

        // The trigger fails once; its resolve, queued right behind it, must not overtake it.
        pd.script([Reply::Status(500)]);
        let trigger = send_test(
            app,
            id,
            Some(json!({"kind": "incident.opened", "dedup_key": "incident-7"})),
        )
        .await;
        let resolve = send_test(
            app,
            id,
            Some(json!({"kind": "incident.resolved", "dedup_key": "incident-7"})),
        )
        .await;
        let t = settled(app, trigger).await;
        let r = settled(app, resolve).await;
        assert_eq!(
            (t["status"].as_str(), t["attempts"].as_i64()),
            (Some("delivered"), Some(2)),
            "{t}"
        );
        assert_eq!(t["last_status_code"], 202);
        assert_eq!(
            (r["status"].as_str(), r["attempts"].as_i64()),
            (Some("delivered"), Some(1)),
            "{r}"
        );
        assert_eq!(r["dedup_key"], "incident-7");

        let got = pd.requests();
        let actions: Vec<String> = got
            .iter()
            .map(|r| r.json()["event_action"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(actions, ["trigger", "trigger", "resolve"], "in order");
        for req in &got {
            assert_eq!(req.path, "/v2/enqueue");
            let b = req.json();
            assert_eq!(b["routing_key"], ROUTING_KEY);
            assert_eq!(b["dedup_key"], "incident-7");
        }
        let trigger_body = got[1].json();
        let p = &trigger_body["payload"];
        assert!(
            p["summary"]
                .as_str()
                .unwrap()
                .starts_with("[test] Test notification"),
            "{p}"
        );
        assert_eq!(p["source"], "flagwatch");
        assert_eq!(p["severity"], "error");
        assert_eq!(p["custom_details"]["event"], "incident.opened");
        assert!(
            got[2].json().get("payload").is_none(),
            "a resolve needs no payload"
        );
    }
);

// ---- retries -----------------------------------------------------------------------------------

both_backends!(
    retries_500_and_429_with_backoff_then_delivers,
    args = fast_args(),
    |app| {
        let receiver = Receiver::start(200).await;
        let id = app
            .create_channel(json!({"name": "hook", "kind": "webhook", "config": {"url": receiver.url("/h"), "secret": "0123456789abcdef"}}))
            .await["id"]
        .as_i64()
        .unwrap();
        receiver.script([Reply::Status(500), Reply::TooMany(1)]);
        let delivery_id = send_test(app, id, None).await;
        let d = settled(app, delivery_id).await;
        assert_eq!(d["status"], "delivered", "{d}");
        assert_eq!(d["attempts"], 3, "two retries counted: {d}");
        assert_eq!(d["last_error"], Value::Null);

        let got = receiver.requests();
        assert_eq!(got.len(), 3);
        assert!(
            got[1].at - got[0].at >= Duration::from_millis(50),
            "backoff after the 500"
        );
        assert!(
            got[2].at - got[1].at >= Duration::from_millis(950),
            "Retry-After: 1 honoured: {:?}",
            got[2].at - got[1].at
        );
        // The same delivery every time: same id, same bytes, same signature.
        for r in &got[1..] {
            assert_eq!(
                r.header("x-flagwatch-delivery"),
                got[0].header("x-flagwatch-delivery")
            );
            assert_eq!(r.body, got[0].body);
            assert_eq!(
                r.header("x-flagwatch-signature"),
                got[0].header("x-flagwatch-signature")
            );
        }

        // While it was being retried, the log said why.
        receiver.script([Reply::StatusBody(503, "upstream busy"), Reply::Hang]);
        let second = send_test(app, id, None).await;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let d = delivery(app, second).await;
            if d["attempts"].as_i64() >= Some(1) && d["last_status_code"] == 503 {
                assert_eq!(d["status"], "pending");
                assert_eq!(d["last_error"], "HTTP 503: upstream busy");
                assert!(d["next_attempt_at"].is_string(), "{d}");
                break;
            }
            assert!(Instant::now() < deadline, "{d}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let d = settled(app, second).await;
        assert_eq!(
            d["status"], "delivered",
            "the hang timed out and was retried: {d}"
        );
        assert_eq!(d["attempts"], 3);
    }
);

both_backends!(
    a_receiver_that_hangs_times_out_and_is_retried,
    args = fast_args(),
    |app| {
        let receiver = Receiver::start(200).await;
        let id = app
            .create_channel(json!({"name": "slow", "kind": "slack", "config": {"webhook_url": receiver.url("/services/x")}}))
            .await["id"]
        .as_i64()
        .unwrap();
        receiver.script([Reply::Hang]);
        let delivery_id = send_test(app, id, None).await;
        let d = settled(app, delivery_id).await;
        assert_eq!(d["status"], "delivered", "{d}");
        assert_eq!(d["attempts"], 2);
        let got = receiver.requests();
        assert_eq!(got.len(), 2);
        assert!(
            got[1].at - got[0].at >= Duration::from_millis(1000),
            "the first request was given the whole timeout: {:?}",
            got[1].at - got[0].at
        );
    }
);

both_backends!(
    other_4xx_fail_at_once_and_5xx_give_up_after_the_last_attempt,
    args = fast_args(),
    |app| {
        let receiver = Receiver::start(200).await;
        let id = app
            .create_channel(json!({"name": "s", "kind": "slack", "config": {"webhook_url": receiver.url("/services/y")}}))
            .await["id"]
        .as_i64()
        .unwrap();

        receiver.script([Reply::StatusBody(400, "invalid_payload")]);
        let refused = send_test(app, id, None).await;
        let d = settled(app, refused).await;
        assert_eq!(d["status"], "failed", "{d}");
        assert_eq!(d["attempts"], 1);
        assert_eq!(d["last_status_code"], 400);
        assert_eq!(d["last_error"], "HTTP 400: invalid_payload");
        assert!(
            d["next_attempt_at"].is_null() && d["delivered_at"].is_null(),
            "{d}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(receiver.requests().len(), 1, "not retried");

        receiver.script([
            Reply::Status(503),
            Reply::Status(503),
            Reply::Status(502),
            Reply::Status(500),
        ]);
        let doomed = send_test(app, id, None).await;
        let d = settled(app, doomed).await;
        assert_eq!(d["status"], "failed", "{d}");
        assert_eq!(d["attempts"], 4, "--notification-max-attempts 4");
        assert_eq!(d["last_status_code"], 500);
        assert!(
            d["last_error"]
                .as_str()
                .unwrap()
                .contains("gave up after 4 attempts"),
            "{d}"
        );
        assert_eq!(receiver.requests().len(), 5);

        // Nobody listening: connection errors are retried, then given up, and say why.
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let nowhere = app
            .create_channel(json!({"name": "nowhere", "kind": "webhook", "config": {"url": format!("http://{closed}/x")}}))
            .await["id"]
        .as_i64()
        .unwrap();
        let lost = send_test(app, nowhere, None).await;
        let d = settled(app, lost).await;
        assert_eq!(
            (d["status"].as_str(), d["attempts"].as_i64()),
            (Some("failed"), Some(4)),
            "{d}"
        );
        assert!(d["last_status_code"].is_null());
        let error = d["last_error"].as_str().unwrap();
        assert!(error.contains("gave up after 4 attempts"), "{error}");
        assert!(
            !error.contains("http://"),
            "no URL in errors (a Slack URL is a secret): {error}"
        );

        // The log filters.
        let failed = deliveries(app, &format!("?channel_id={id}&status=failed")).await;
        assert_eq!(failed.len(), 2);
        let one = deliveries(app, "?status=failed&limit=1").await;
        assert_eq!(one.len(), 1);
        assert_eq!(one[0]["id"], lost, "newest first");
        let (status, body) = app
            .admin(
                Method::GET,
                &format!("{CHANNELS}/{id}/deliveries?status=failed"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["deliveries"].as_array().unwrap().len(), 2);
        assert!(deliveries(app, "?status=pending").await.is_empty());
    }
);

// ---- the admin API -----------------------------------------------------------------------------

both_backends!(
    bad_input_is_refused_and_changes_nothing,
    args = fast_args(),
    |app| {
        let receiver = Receiver::start(202).await;
        let created = app
            .create_channel(json!({"name": "pd", "kind": "pagerduty", "config": {"routing_key": ROUTING_KEY, "events_url": receiver.url("/e")}}))
            .await;
        let id = created["id"].as_i64().unwrap();
        let before = app.admin(Method::GET, CHANNELS, None).await;
        let events_before = app.events_of_type("notification-channel-").await.len();

        let url = receiver.url("/x");
        let bad = [
            (
                json!({"kind": "slack", "config": {"webhook_url": url}}),
                Some("name"),
            ),
            (
                json!({"name": "  ", "kind": "slack", "config": {"webhook_url": url}}),
                Some("name"),
            ),
            (
                json!({"name": "n", "kind": "email", "config": {}}),
                Some("kind"),
            ),
            (json!({"name": "n", "config": {}}), Some("kind")),
            (json!({"name": "n", "kind": "slack"}), Some("config")),
            (
                json!({"name": "n", "kind": "slack", "config": {}}),
                Some("config.webhook_url"),
            ),
            (
                json!({"name": "n", "kind": "slack", "config": {"webhook_url": "ftp://h/x"}}),
                Some("config.webhook_url"),
            ),
            (
                json!({"name": "n", "kind": "slack", "config": {"webhook_url": "hooks.slack.com/x"}}),
                Some("config.webhook_url"),
            ),
            (
                json!({"name": "n", "kind": "slack", "config": {"webhook_url": url, "channel": "#ops"}}),
                Some("config.channel"),
            ),
            (
                json!({"name": "n", "kind": "webhook", "config": {"url": "not a url"}}),
                Some("config.url"),
            ),
            (
                json!({"name": "n", "kind": "webhook", "config": {"url": url, "secret": "short"}}),
                Some("config.secret"),
            ),
            (
                json!({"name": "n", "kind": "pagerduty", "config": {}}),
                Some("config.routing_key"),
            ),
            (
                json!({"name": "n", "kind": "pagerduty", "config": {"routing_key": &ROUTING_KEY[1..]}}),
                Some("config.routing_key"),
            ),
            (
                json!({"name": "n", "kind": "pagerduty", "config": {"routing_key": ROUTING_KEY, "severity": "fatal"}}),
                Some("config.severity"),
            ),
            (
                json!({"name": "n", "kind": "pagerduty", "config": {"routing_key": ROUTING_KEY, "events_url": "file:///etc"}}),
                Some("config.events_url"),
            ),
            (json!([1, 2]), None),
        ];
        for (body, path) in &bad {
            let (status, answer) = app.admin(Method::POST, CHANNELS, Some(body.clone())).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
            assert_eq!(answer["name"], "BadDataError");
            assert_eq!(
                answer["details"][0]["path"].as_str(),
                *path,
                "{body}: {answer}"
            );
            assert!(answer["details"][0]["message"].is_string());
            // PUT refuses the same, but for a key left out of a PagerDuty channel: kept.
            if *path == Some("config.routing_key") && body["config"] == json!({}) {
                continue;
            }
            let (status, _) = app
                .admin(Method::PUT, &format!("{CHANNELS}/{id}"), Some(body.clone()))
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "PUT {body}");
        }
        let not_json = app
            .request(Method::POST, CHANNELS, Some(ADMIN))
            .header("Content-Type", "application/json")
            .body("{\"name\": ");
        assert_eq!(send(not_json).await.0, StatusCode::BAD_REQUEST);
        let text = app
            .request(Method::POST, CHANNELS, Some(ADMIN))
            .header("Content-Type", "text/plain")
            .body("{}");
        assert_eq!(send(text).await.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);

        // A taken name is a 409, on create and on rename.
        let (status, answer) = app
            .admin(
                Method::POST,
                CHANNELS,
                Some(json!({"name": "pd", "kind": "slack", "config": {"webhook_url": url}})),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{answer}");
        let other = app
            .create_channel(
                json!({"name": "other", "kind": "slack", "config": {"webhook_url": url}}),
            )
            .await;
        let other_id = other["id"].as_i64().unwrap();
        let (status, _) = app
            .admin(
                Method::PUT,
                &format!("{CHANNELS}/{other_id}"),
                Some(json!({"name": "pd", "kind": "slack", "config": {}})),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
        let (status, _) = app
            .admin(Method::DELETE, &format!("{CHANNELS}/{other_id}"), None)
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);

        // Unknown ids.
        for path in [
            format!("{CHANNELS}/999999"),
            format!("{CHANNELS}/abc"),
            format!("{CHANNELS}/{other_id}"),
        ] {
            assert_eq!(
                app.admin(Method::GET, &path, None).await.0,
                StatusCode::NOT_FOUND,
                "{path}"
            );
            assert_eq!(
                app.admin(Method::DELETE, &path, None).await.0,
                StatusCode::NOT_FOUND
            );
            let (status, _) = app
                .admin(
                    Method::PUT,
                    &path,
                    Some(json!({"name": "z", "kind": "slack", "config": {"webhook_url": url}})),
                )
                .await;
            assert_eq!(status, StatusCode::NOT_FOUND, "PUT {path}");
            assert_eq!(
                app.admin(Method::POST, &format!("{path}/test"), None)
                    .await
                    .0,
                StatusCode::NOT_FOUND
            );
            assert_eq!(
                app.admin(Method::GET, &format!("{path}/deliveries"), None)
                    .await
                    .0,
                StatusCode::NOT_FOUND
            );
        }
        let (status, _) = app
            .admin(
                Method::GET,
                "/api/admin/notification-deliveries?channel_id=999999",
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // Bad test bodies and log queries.
        for body in [
            json!({"kind": "boom"}),
            json!({"dedup_key": ""}),
            json!("x"),
        ] {
            let (status, answer) = app
                .admin(
                    Method::POST,
                    &format!("{CHANNELS}/{id}/test"),
                    Some(body.clone()),
                )
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        }
        for q in ["?status=sent", "?limit=0", "?limit=x", "?channel_id=-1"] {
            let (status, answer) = app
                .admin(
                    Method::GET,
                    &format!("/api/admin/notification-deliveries{q}"),
                    None,
                )
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{q}: {answer}");
        }
        assert!(
            deliveries(app, "").await.is_empty(),
            "no test notice was queued"
        );

        // No token, wrong token.
        let (status, _) = send(app.request(Method::GET, CHANNELS, None)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, _) =
            send(app.request(Method::GET, CHANNELS, Some(crate::helpers::CLIENT_DEV))).await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        // Nothing changed but the channel created and deleted on purpose.
        let after = app.admin(Method::GET, CHANNELS, None).await;
        assert_eq!(before, after);
        let events_after = app.events_of_type("notification-channel-").await;
        assert_eq!(
            events_after.len(),
            events_before + 2,
            "other: created and deleted"
        );
        let types: Vec<&str> = events_after
            .iter()
            .map(|e| e["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types[..2],
            [
                "notification-channel-deleted",
                "notification-channel-created"
            ]
        );
    }
);

both_backends!(
    secrets_stay_masked_and_survive_updates,
    args = fast_args(),
    |app| {
        let pd = Receiver::start(202).await;
        let created = app
            .create_channel(json!({"name": "pd", "kind": "pagerduty", "config": {"routing_key": ROUTING_KEY, "events_url": pd.url("/e")}}))
            .await;
        let id = created["id"].as_i64().unwrap();
        let path = format!("{CHANNELS}/{id}");

        // GET → edit → PUT, sending the masked key back: the key is kept.
        let (_, mut shown) = app.admin(Method::GET, &path, None).await;
        assert_eq!(shown["config"]["routing_key"], "****789a");
        shown["name"] = json!("pd-renamed");
        shown["config"]["severity"] = json!("warning");
        let (status, updated) = app.admin(Method::PUT, &path, Some(shown)).await;
        assert_eq!(status, StatusCode::OK, "{updated}");
        assert_eq!(updated["name"], "pd-renamed");
        assert_eq!(updated["config"]["severity"], "warning");
        assert_eq!(updated["config"]["routing_key"], "****789a");
        let d = send_test(app, id, None).await;
        settled(app, d).await;
        let sent = pd.requests()[0].json();
        assert_eq!(sent["routing_key"], ROUTING_KEY);
        assert_eq!(sent["payload"]["severity"], "warning");

        // Leaving it out keeps it too; a new one replaces it.
        let new_key = "NewRoutingKey0000000000000000000";
        let (status, _) = app
        .admin(Method::PUT, &path, Some(json!({"name": "pd-renamed", "kind": "pagerduty", "config": {"events_url": pd.url("/e")}})))
        .await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = app
        .admin(Method::PUT, &path, Some(json!({"name": "pd-renamed", "kind": "pagerduty", "config": {"routing_key": new_key, "events_url": pd.url("/e")}})))
        .await;
        assert_eq!(status, StatusCode::OK);
        let d = send_test(app, id, None).await;
        settled(app, d).await;
        assert_eq!(pd.requests()[1].json()["routing_key"], new_key);

        // Turned into a webhook channel, it gets a generated secret, shown in that answer only.
        let (status, hook) = app
        .admin(Method::PUT, &path, Some(json!({"name": "pd-renamed", "kind": "webhook", "config": {"url": pd.url("/w")}})))
        .await;
        assert_eq!(status, StatusCode::OK, "{hook}");
        let secret = hook["config"]["secret"].as_str().unwrap().to_string();
        assert_eq!(secret.len(), 64);

        // No answer after creation, and no event, carries a secret.
        let (_, list) = app.admin(Method::GET, CHANNELS, None).await;
        let (_, events) = app.admin(Method::GET, "/api/admin/events", None).await;
        for text in [list.to_string(), events.to_string()] {
            for secret in [ROUTING_KEY, new_key, secret.as_str()] {
                assert!(!text.contains(secret), "{secret} leaked: {text}");
            }
        }
        let updates = app.events_of_type("notification-channel-updated").await;
        assert_eq!(updates.len(), 4);
        assert_eq!(updates[0]["preData"]["kind"], "pagerduty");
        assert_eq!(updates[0]["data"]["kind"], "webhook");
    }
);

// ---- monitors name channels --------------------------------------------------------------------

both_backends!(
    monitors_name_channels_that_exist,
    args = fast_args(),
    |app| {
        let receiver = Receiver::start(200).await;
        let channel = app
            .create_channel(json!({"name": "ops", "kind": "slack", "config": {"webhook_url": receiver.url("/s")}}))
            .await["id"]
            .as_i64()
            .unwrap();

        // Unknown ids and wrong shapes are field errors (422), and create nothing.
        for channels in [
            json!([channel, 999_999]),
            json!("1"),
            json!([true]),
            json!([0]),
        ] {
            let (status, answer) = app
                .bearer(
                    Method::POST,
                    "/api/v2/monitors",
                    Some(json!({"monitor_type": "status", "url": "https://e.com", "notification_channels": channels})),
                )
                .await;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{channels}: {answer}"
            );
            assert!(
                answer["errors"]["notification_channels"][0].is_string(),
                "{answer}"
            );
        }
        let (_, list) = app.bearer(Method::GET, "/api/v2/monitors", None).await;
        assert_eq!(list["data"], json!([]));

        let (status, created) = app
            .bearer(
                Method::POST,
                "/api/v2/monitors",
                Some(
                    json!({"monitor_type": "status", "url": "https://e.com", "pronounceable_name": "E",
                        "notification_channels": [channel.to_string(), channel]}),
                ),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let monitor = created["data"]["id"].as_str().unwrap().to_string();
        assert_eq!(
            created["data"]["attributes"]["notification_channels"],
            json!([channel])
        );
        let plain = app
            .bearer(
                Method::POST,
                "/api/v2/monitors",
                Some(json!({"monitor_type": "status", "url": "https://f.com"})),
            )
            .await;
        assert_eq!(
            plain.1["data"]["attributes"]["notification_channels"],
            json!([])
        );

        // A channel a monitor names cannot be deleted.
        let (status, answer) = app
            .admin(Method::DELETE, &format!("{CHANNELS}/{channel}"), None)
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{answer}");
        assert!(
            answer["message"].as_str().unwrap().contains("\"E\""),
            "{answer}"
        );

        // PATCH: unknown refused (unchanged), then cleared; now the channel can go.
        let path = format!("/api/v2/monitors/{monitor}");
        let (status, _) = app
            .bearer(
                Method::PATCH,
                &path,
                Some(json!({"notification_channels": [424_242]})),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let (_, got) = app.bearer(Method::GET, &path, None).await;
        assert_eq!(
            got["data"]["attributes"]["notification_channels"],
            json!([channel])
        );
        let (status, got) = app
            .bearer(
                Method::PATCH,
                &path,
                Some(json!({"notification_channels": []})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{got}");
        assert_eq!(
            got["data"]["attributes"]["notification_channels"],
            json!([])
        );
        let (status, _) = app
            .admin(Method::DELETE, &format!("{CHANNELS}/{channel}"), None)
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
);

both_backends!(
    an_incident_notifies_the_monitors_channels_in_its_transaction,
    args = fast_args(),
    |app| {
        use flagwatch::domain::Timestamp;
        use flagwatch::domain::notification::{Notice, NoticeKind};
        use flagwatch::domain::probe::{Cause, ProbeResult};

        let pd = Receiver::start(202).await;
        let hook = Receiver::start(200).await;
        let pd_channel = app
            .create_channel(json!({"name": "pd", "kind": "pagerduty", "config": {"routing_key": ROUTING_KEY, "events_url": pd.url("/e")}}))
            .await["id"]
        .as_i64()
        .unwrap();
        let hook_channel = app
            .create_channel(
                json!({"name": "hook", "kind": "webhook", "config": {"url": hook.url("/h")}}),
            )
            .await["id"]
            .as_i64()
            .unwrap();
        let (status, created) = app
            .bearer(
                Method::POST,
                "/api/v2/monitors",
                Some(
                    json!({"monitor_type": "status", "url": "https://api.example.com/health",
                        "pronounceable_name": "API", "notification_channels": [pd_channel, hook_channel]}),
                ),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let monitor: i64 = created["data"]["id"].as_str().unwrap().parse().unwrap();

        // A notice queued in a transaction that rolls back is never sent.
        let notice = Notice {
            kind: NoticeKind::IncidentOpened,
            summary: "rolled back".into(),
            monitor: None,
            incident: None,
            guard: None,
            flags: Vec::new(),
            at: Timestamp::now(),
            dedup_key: "never".into(),
        };
        let mut w = app.service.store().write().await.unwrap();
        w.insert_delivery(hook_channel, &notice, Timestamp::now())
            .await
            .unwrap();
        assert!(w.queued_notices());
        drop(w);
        assert!(deliveries(app, "").await.is_empty());

        // Down: the incident's commit queues one notice per channel and wakes the worker.
        let down = ProbeResult::down(Cause::StatusCode(503), Duration::from_millis(5), "503")
            .with_status_code(503);
        let committed = Instant::now();
        app.service
            .record_probe_result(monitor, &down, Timestamp::now())
            .await
            .unwrap();
        let opened = hook.wait_for(1).await;
        assert!(
            opened[0].at - committed < Duration::from_millis(500),
            "sent within half a second of the commit: {:?}",
            opened[0].at - committed
        );
        let opened = opened[0].json();
        assert_eq!(opened["event"], "incident.opened");
        assert_eq!(opened["monitor"]["id"], monitor);
        assert_eq!(opened["monitor"]["name"], "API");
        assert_eq!(opened["test"], false);
        let incident = opened["incident"]["id"].clone();
        assert!(incident.is_string(), "{opened}");

        // Up: resolved, on both channels, with the same key as the trigger.
        let up = ProbeResult::up(Duration::from_millis(5), "200 OK").with_status_code(200);
        app.service
            .record_probe_result(monitor, &up, Timestamp::now())
            .await
            .unwrap();
        let resolved = hook.wait_for(2).await[1].json();
        assert_eq!(resolved["event"], "incident.resolved");
        assert_eq!(resolved["incident"]["id"], incident);
        assert!(resolved["incident"]["resolved_at"].is_string());
        let pd_got = pd.wait_for(2).await;
        let (trigger, resolve) = (pd_got[0].json(), pd_got[1].json());
        assert_eq!(trigger["event_action"], "trigger");
        assert_eq!(resolve["event_action"], "resolve");
        assert_eq!(trigger["dedup_key"], resolve["dedup_key"]);
        assert_eq!(trigger["dedup_key"], opened["dedup_key"]);
        assert_eq!(
            trigger["payload"]["source"],
            "https://api.example.com/health"
        );

        let log = deliveries(app, "?status=delivered").await;
        assert_eq!(log.len(), 4, "{log:?}");
        assert!(log.iter().all(|d| d["test"] == false && d["attempts"] == 1));
    }
);

// ---- shutdown, restart, replicas -----------------------------------------------------------------

/// A send in flight at shutdown is abandoned at the deadline (here at once: one second of
/// shutdown, a five-second request timeout), its lease released, and the delivery left pending;
/// the next server sends it.
async fn unsent_deliveries_survive_a_restart(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let mut args = standard_args();
    args.extend(
        [
            "--notification-timeout-secs",
            "5",
            "--shutdown-timeout-secs",
            "1",
            "--notification-retry-base-ms",
            "50",
        ]
        .map(String::from),
    );
    let app = TestApp::spawn_on(db, &args).await;
    let receiver = Receiver::start(200).await;
    let id = app
        .create_channel(
            json!({"name": "hook", "kind": "webhook", "config": {"url": receiver.url("/h")}}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    receiver.script([Reply::Hang]);
    let delivery_id = send_test(&app, id, None).await;
    receiver.wait_for(1).await; // in flight, hanging
    let db = app.stop_keeping_db().await;

    // Stopped: the delivery is pending, its lease released, one attempt counted.
    let store = flagwatch::store::connect(db.url()).await.unwrap();
    let mut r = store.read().await.unwrap();
    let d = r.notification_delivery(delivery_id).await.unwrap().unwrap();
    drop(r);
    store.close().await;
    assert_eq!(d.status.as_str(), "pending", "{d:?}");
    assert_eq!(d.attempts, 1);
    assert!(d.delivered_at.is_none());

    let app = TestApp::spawn_on(db, &fast_args()).await;
    let d = settled(&app, delivery_id).await;
    assert_eq!(d["status"], "delivered", "{d}");
    assert_eq!(d["attempts"], 2);
    let got = receiver.requests();
    assert_eq!(got.len(), 2);
    assert_eq!(
        got[0].header("x-flagwatch-delivery"),
        got[1].header("x-flagwatch-delivery")
    );
    app.stop().await;
}

#[tokio::test]
async fn unsent_deliveries_survive_a_restart_sqlite() {
    unsent_deliveries_survive_a_restart(Backend::Sqlite).await;
}

#[tokio::test]
async fn unsent_deliveries_survive_a_restart_postgres() {
    unsent_deliveries_survive_a_restart(Backend::Postgres).await;
}

/// Two replicas on one PostgreSQL both run the delivery worker: each delivery is claimed
/// under a lease by one of them and sent once.
#[tokio::test]
async fn replicas_send_each_delivery_once() {
    let Some(mut dbs) = TestDb::shared_postgres(2).await else {
        return;
    };
    let a = TestApp::spawn_on(dbs.remove(0), &fast_args()).await;
    let b = TestApp::spawn_on(dbs.remove(0), &fast_args()).await;
    let receiver = Receiver::start(200).await;
    let id = a
        .create_channel(
            json!({"name": "hook", "kind": "webhook", "config": {"url": receiver.url("/h")}}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    const N: usize = 30;
    let mut ids = Vec::new();
    for i in 0..N {
        let app = if i % 2 == 0 { &a } else { &b };
        ids.push(send_test(app, id, None).await);
    }
    for id in &ids {
        assert_eq!(settled(&a, *id).await["attempts"], 1);
    }
    let got = receiver.wait_for(N).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got_after = receiver.requests();
    assert_eq!(got_after.len(), got.len());
    let mut sent: Vec<String> = got_after
        .iter()
        .map(|r| r.header("x-flagwatch-delivery").to_string())
        .collect();
    sent.sort();
    sent.dedup();
    assert_eq!(sent.len(), N, "each delivery sent exactly once");
    assert_eq!(got_after.len(), N);
    b.stop_keeping_db().await;
    a.stop().await;
}
