//! The test harness: a real flagwatch server on port 0, on a fresh SQLite file or a fresh
//! PostgreSQL database, spoken to over HTTP.
//!
//! PostgreSQL runs when `TEST_DATABASE_URL` points at a server (a new database is created
//! per test and dropped after). Without it the PostgreSQL half of each test is skipped, and
//! the run says so on stderr; with `FLAGWATCH_REQUIRE_POSTGRES=1` a missing URL fails instead.
#![allow(dead_code)] // not every test module uses every helper

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use clap::Parser;
use flagwatch::app::App;
use flagwatch::config::Config;
use flagwatch::domain::Timestamp;
use flagwatch::domain::probe::{Cause, ProbeResult};
use flagwatch::service::Service;
use flagwatch::service::incidents::StatusChange;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::Connection;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const ADMIN: &str = "*:*.unleash-admin-api-token";
pub const CLIENT_DEV: &str = "default:development.unleash-client-token";
pub const CLIENT_PROD: &str = "default:production.unleash-client-token";
pub const FRONTEND_DEV: &str = "default:development.unleash-frontend-token";
/// [`ADMIN`] as Better Stack's API takes it: the whole `Authorization` header value.
pub const BEARER: &str = "Bearer *:*.unleash-admin-api-token";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where a test's database lives, and how to clean it up.
pub enum TestDb {
    Sqlite {
        _dir: tempfile::TempDir,
        url: String,
    },
    Postgres {
        admin_url: String,
        name: String,
        url: String,
    },
}

impl TestDb {
    /// A fresh, empty database, or `None` when PostgreSQL is not configured (and not required).
    pub async fn create(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite:{}", dir.path().join("flagwatch.db").display());
                Some(Self::Sqlite { _dir: dir, url })
            }
            Backend::Postgres => {
                let Some(admin_url) = postgres_url() else {
                    announce_postgres_skipped();
                    return None;
                };
                let name = format!(
                    "flagwatch_test_{}",
                    ulid::Ulid::new().to_string().to_lowercase()
                );
                let mut conn = sqlx::PgConnection::connect(&admin_url)
                    .await
                    .expect("connect to TEST_DATABASE_URL");
                sqlx::query(sqlx::AssertSqlSafe(format!("create database {name}")))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                let url = with_database(&admin_url, &name);
                Some(Self::Postgres {
                    admin_url,
                    name,
                    url,
                })
            }
        }
    }

    pub fn url(&self) -> &str {
        match self {
            Self::Sqlite { url, .. } | Self::Postgres { url, .. } => url,
        }
    }

    /// A fresh PostgreSQL database with a handle on it for each of `n` servers (replicas), or
    /// `None` when PostgreSQL is not configured. Stop all servers but one with
    /// [`TestApp::stop_keeping_db`]: the one stopped with [`TestApp::stop`] drops it.
    pub async fn shared_postgres(n: usize) -> Option<Vec<Self>> {
        let Self::Postgres {
            admin_url,
            name,
            url,
        } = Self::create(Backend::Postgres).await?
        else {
            unreachable!("a PostgreSQL database")
        };
        Some(
            (0..n)
                .map(|_| Self::Postgres {
                    admin_url: admin_url.clone(),
                    name: name.clone(),
                    url: url.clone(),
                })
                .collect(),
        )
    }

    /// The same database reached through another URL (a proxy, say); it is still created and
    /// dropped through the original server.
    pub fn with_url(self, new_url: String) -> Self {
        match self {
            Self::Sqlite { _dir, .. } => Self::Sqlite { _dir, url: new_url },
            Self::Postgres {
                admin_url, name, ..
            } => Self::Postgres {
                admin_url,
                name,
                url: new_url,
            },
        }
    }

    pub async fn drop_database(&self) {
        if let Self::Postgres {
            admin_url, name, ..
        } = self
            && let Ok(mut conn) = sqlx::PgConnection::connect(admin_url).await
        {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "drop database if exists {name} with (force)"
            )))
            .execute(&mut conn)
            .await;
        }
    }
}

fn postgres_url() -> Option<String> {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("FLAGWATCH_REQUIRE_POSTGRES").is_err(),
                "FLAGWATCH_REQUIRE_POSTGRES is set but TEST_DATABASE_URL is not"
            );
            None
        }
    }
}

/// Written straight to stderr (not through the test's captured output) so it shows in the run.
fn announce_postgres_skipped() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "\nNOTE: TEST_DATABASE_URL is not set, so the PostgreSQL half of every test was SKIPPED \
             (the SQLite half ran). Set TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres to run it.\n"
        );
    });
}

/// `postgres://u@h:5432/postgres` → `postgres://u@h:5432/<name>`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let base = match base[after_scheme..].find('/') {
        Some(i) => &base[..after_scheme + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub service: Arc<Service>,
    pub backend: Backend,
    db: TestDb,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<anyhow::Result<()>>>,
}

/// The tokens every test server starts with, as in the recorded Unleash session. The probe
/// scheduler is off: tests that create monitors feed results themselves, and must not race
/// real checks ([`scheduler_args`] turns it on).
pub fn standard_args() -> Vec<String> {
    [
        "--init-admin-api-tokens",
        ADMIN,
        "--init-client-api-tokens",
        &format!("{CLIENT_DEV},{CLIENT_PROD}"),
        "--init-frontend-api-tokens",
        FRONTEND_DEV,
        "--probe-scheduler",
        "false",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// [`standard_args`] with the probe scheduler running.
pub fn scheduler_args() -> Vec<String> {
    let mut args = standard_args();
    if let Some(i) = args.iter().position(|a| a == "--probe-scheduler") {
        args[i + 1] = "true".into();
    }
    args
}

impl TestApp {
    /// Starts a server with the standard tokens, or `None` if the backend is not available.
    pub async fn spawn(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, &standard_args()).await
    }

    /// Starts a server with extra command-line arguments (port, host and database are set here).
    pub async fn spawn_with(backend: Backend, extra: &[String]) -> Option<Self> {
        let db = TestDb::create(backend).await?;
        Some(Self::spawn_on(db, extra).await)
    }

    /// Starts a server on an existing database, e.g. one a stopped server left behind
    /// ([`TestApp::stop_keeping_db`]), with extra command-line arguments.
    pub async fn spawn_on(db: TestDb, extra: &[String]) -> Self {
        let backend = match db {
            TestDb::Sqlite { .. } => Backend::Sqlite,
            TestDb::Postgres { .. } => Backend::Postgres,
        };
        let mut args: Vec<String> = [
            "flagwatch",
            "--port",
            "0",
            "--host",
            "127.0.0.1",
            "--database-url",
            db.url(),
            "--log-level",
            "warn",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend_from_slice(extra);
        let config = Config::parse_from(args);
        flagwatch::telemetry::init(&test_log_level(), config.log_format);
        let app = App::build(config).await.expect("server starts");
        let addr = app.local_addr();
        let service = app.service();
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(app.run(async move {
            let _ = rx.await;
        }));
        Self {
            addr,
            client: reqwest::Client::new(),
            service,
            backend,
            db,
            shutdown: Some(tx),
            handle: Some(handle),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A request with a token (raw, as Unleash SDKs send it).
    pub fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let rb = self.client.request(method, self.url(path));
        match token {
            Some(t) => rb.header("Authorization", t),
            None => rb,
        }
    }

    /// Sends a JSON body (or none) with the admin token; returns status and JSON body
    /// (`Value::Null` when the body is empty).
    pub async fn admin(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut rb = self.request(method, path, Some(ADMIN));
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        send(rb).await
    }

    pub async fn stop(self) {
        self.stop_keeping_db().await.drop_database().await;
    }

    /// Stops the server and hands back its database, to start another server on it.
    pub async fn stop_keeping_db(mut self) -> TestDb {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(handle) = self.handle.take() {
            handle
                .await
                .expect("server task")
                .expect("server stops cleanly");
        }
        self.db
    }
}

/// The admin and Better Stack APIs, as the tests drive them: each helper checks the status it
/// expects (the answer in the message) and hands back what the test needs.
impl TestApp {
    /// Like [`TestApp::admin`], with the admin token as Better Stack's API takes it
    /// ([`BEARER`]).
    pub async fn bearer(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut rb = self.request(method, path, Some(BEARER));
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        send(rb).await
    }

    /// The path of one of this server's URLs (a ping URL, a webhook receiver).
    pub fn path_of(&self, url: &str) -> String {
        url.strip_prefix(&self.url(""))
            .unwrap_or_else(|| panic!("{url} is under the server's address"))
            .to_string()
    }

    /// Creates a flag in `project` from `body` (which names it): 201, the answer.
    pub async fn create_flag_from(&self, project: &str, body: Value) -> Value {
        let (status, answer) = self
            .admin(
                Method::POST,
                &format!("/api/admin/projects/{project}/features"),
                Some(body),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        answer
    }

    /// Creates flag `name` in `project`, off everywhere.
    pub async fn create_flag_in(&self, project: &str, name: &str) {
        self.create_flag_from(project, json!({"name": name})).await;
    }

    /// Creates flag `name` in the default project, off everywhere.
    pub async fn create_flag(&self, name: &str) {
        self.create_flag_in("default", name).await;
    }

    /// Creates flag `name` in the default project and switches it on in development.
    pub async fn create_enabled_flag(&self, name: &str) {
        self.create_flag(name).await;
        self.switch(name, true).await;
    }

    /// Switches flag `name` of `project` on or off in `env`: 200.
    pub async fn switch_in(&self, project: &str, name: &str, env: &str, on: bool) {
        let path = format!(
            "/api/admin/projects/{project}/features/{name}/environments/{env}/{}",
            if on { "on" } else { "off" }
        );
        let (status, body) = self.admin(Method::POST, &path, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// Switches flag `name` of the default project on or off in development.
    pub async fn switch(&self, name: &str, on: bool) {
        self.switch_in("default", name, "development", on).await;
    }

    /// Adds a 100 % `flexibleRollout` strategy to flag `name` of `project` in development: 200.
    pub async fn add_rollout(&self, project: &str, name: &str) {
        let (status, body) = self
            .admin(
                Method::POST,
                &format!(
                    "/api/admin/projects/{project}/features/{name}/environments/development/strategies"
                ),
                Some(json!({"name": "flexibleRollout", "parameters": {"rollout": "100"}})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// Creates project `id` (named `id` too): 201.
    pub async fn create_project(&self, id: &str) {
        let (status, body) = self
            .admin(
                Method::POST,
                "/api/admin/projects",
                Some(json!({"id": id, "name": id})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    /// `/api/client/features` as an SDK with the development token gets it: 200, the body.
    pub async fn client_features(&self) -> Value {
        let (status, body) =
            send(self.request(Method::GET, "/api/client/features", Some(CLIENT_DEV))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// Flag `name` as an SDK with the development token sees it; fails if it is not served.
    pub async fn client_feature(&self, name: &str) -> Value {
        let body = self.client_features().await;
        body["features"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .unwrap_or_else(|| panic!("{name} is served: {body}"))
            .clone()
    }

    /// Whether an SDK with the development token sees flag `name` enabled.
    pub async fn sdk_enabled(&self, name: &str) -> bool {
        self.client_feature(name).await["enabled"]
            .as_bool()
            .unwrap()
    }

    /// `GET path` as a current SDK sends it (the development token, `Unleash-Client-Spec:
    /// 5.2.0`, so segments come by id): 200, the response unread (a stream stays open).
    pub async fn sdk_get(&self, path: &str) -> reqwest::Response {
        let resp = self
            .request(Method::GET, path, Some(CLIENT_DEV))
            .header("Unleash-Client-Spec", "5.2.0")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        resp
    }

    /// The events listed at `path` (an events or event search URL of the admin API): 200.
    pub async fn events_at(&self, path: &str) -> Vec<Value> {
        let (status, body) = self.admin(Method::GET, path, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["events"].as_array().unwrap().clone()
    }

    /// The event log, newest first.
    pub async fn events(&self) -> Vec<Value> {
        self.events_at("/api/admin/events").await
    }

    /// The events in the log whose type starts with `prefix` (`"monitor-"`), newest first.
    pub async fn events_of_type(&self, prefix: &str) -> Vec<Value> {
        self.events()
            .await
            .into_iter()
            .filter(|e| e["type"].as_str().unwrap_or("").starts_with(prefix))
            .collect()
    }

    /// Flag `name`'s events (`/api/admin/events/{name}`), newest first.
    pub async fn flag_events(&self, name: &str) -> Vec<Value> {
        self.events_at(&format!("/api/admin/events/{name}")).await
    }

    /// Creates a monitor through Better Stack's API from its attributes: 201, its id.
    pub async fn create_monitor(&self, attributes: Value) -> i64 {
        let (status, body) = self
            .bearer(Method::POST, "/api/v2/monitors", Some(attributes))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["data"]["id"].as_str().unwrap().parse().unwrap()
    }

    /// Creates a heartbeat through Better Stack's API from its attributes: 201, its `data`.
    pub async fn create_heartbeat(&self, attributes: Value) -> Value {
        let (status, body) = self
            .bearer(Method::POST, "/api/v2/heartbeats", Some(attributes))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["data"].clone()
    }

    /// A heartbeat's ping path (`/api/v1/heartbeat/<token>`), from the `url` attribute of its
    /// `data`.
    pub fn ping_path(&self, heartbeat: &Value) -> String {
        self.path_of(heartbeat["attributes"]["url"].as_str().unwrap())
    }

    /// Feeds a check result for `monitor` at `at_ms` (Unix milliseconds) straight to the
    /// service; the status change it made, if any.
    pub async fn feed(
        &self,
        monitor: i64,
        result: ProbeResult,
        at_ms: i64,
    ) -> Option<StatusChange> {
        self.service
            .record_probe_result(monitor, &result, Timestamp(at_ms))
            .await
            .unwrap()
    }

    /// Creates a guard: 201, the guard.
    pub async fn create_guard(&self, body: Value) -> Value {
        let (status, answer) = self
            .admin(Method::POST, "/api/admin/guards", Some(body))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        answer
    }

    /// Creates a notification channel: 201, the channel.
    pub async fn create_channel(&self, body: Value) -> Value {
        let (status, answer) = self
            .admin(Method::POST, "/api/admin/notification-channels", Some(body))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        answer
    }
}

/// Better Stack attributes of a `status` monitor of `url` named `name` that goes down at the
/// first failed check and up at the first good one (no confirmation or recovery period).
pub fn status_monitor(name: &str, url: &str) -> Value {
    json!({
        "monitor_type": "status",
        "url": url,
        "pronounceable_name": name,
        "confirmation_period": 0,
        "recovery_period": 0,
    })
}

/// A guard's entry for flag `name` of the default project in development.
pub fn guarded_flag(name: &str) -> Value {
    json!({"project": "default", "feature": name, "environment": "development"})
}

/// A successful check that took `ms`: `200 OK`.
pub fn probe_up(ms: u64) -> ProbeResult {
    ProbeResult::up(Duration::from_millis(ms), "200 OK").with_status_code(200)
}

/// A failed check that took `ms`: `503 Service Unavailable`.
pub fn probe_down(ms: u64) -> ProbeResult {
    ProbeResult::down(
        Cause::StatusCode(503),
        Duration::from_millis(ms),
        "503 Service Unavailable",
    )
    .with_status_code(503)
}

/// Polls `check` every 50 ms until it holds (true) or `within` has passed (false); it is
/// always asked at least once.
pub async fn poll_until(within: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls `check` until it holds; fails the test, naming `what`, if `within` passes first.
pub async fn wait_for(what: &str, within: Duration, check: impl AsyncFnMut() -> bool) {
    assert!(
        poll_until(within, check).await,
        "timed out after {within:?} waiting for {what}"
    );
}

pub async fn send(rb: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let resp = rb.send().await.expect("request sent");
    let status = resp.status();
    let text = resp.text().await.expect("body read");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}

fn test_log_level() -> String {
    std::env::var("TEST_LOG").unwrap_or_else(|_| "off".into())
}

/// Runs the body once on SQLite and once on PostgreSQL, as two tests:
/// `name::sqlite` and `name::postgres`; with `args = …`, on servers started with those
/// command-line arguments instead of [`standard_args`].
#[macro_export]
macro_rules! both_backends {
    ($name:ident, |$app:ident| $body:block) => {
        $crate::both_backends!($name, args = $crate::helpers::standard_args(), |$app| $body);
    };
    ($name:ident, args = $args:expr, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($app: &$crate::helpers::TestApp) $body

            #[tokio::test]
            async fn sqlite() {
                let app = $crate::helpers::TestApp::spawn_with($crate::helpers::Backend::Sqlite, &$args).await.expect("sqlite");
                run(&app).await;
                app.stop().await;
            }

            #[tokio::test]
            async fn postgres() {
                let Some(app) = $crate::helpers::TestApp::spawn_with($crate::helpers::Backend::Postgres, &$args).await else {
                    return;
                };
                run(&app).await;
                app.stop().await;
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::{ADMIN, BEARER, with_database};

    #[test]
    fn bearer_is_the_admin_token() {
        assert_eq!(BEARER, format!("Bearer {ADMIN}"));
    }

    #[test]
    fn swaps_the_database_name_in_a_url() {
        assert_eq!(
            with_database("postgres://p@h:5432/postgres", "t1"),
            "postgres://p@h:5432/t1"
        );
        assert_eq!(
            with_database("postgres://p@h/postgres?sslmode=disable", "t1"),
            "postgres://p@h/t1?sslmode=disable"
        );
        assert_eq!(with_database("postgres://p@h", "t1"), "postgres://p@h/t1");
    }
}
