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

use clap::Parser;
use flagwatch::app::App;
use flagwatch::config::Config;
use flagwatch::service::Service;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use sqlx::Connection;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const ADMIN: &str = "*:*.unleash-admin-api-token";
pub const CLIENT_DEV: &str = "default:development.unleash-client-token";
pub const CLIENT_PROD: &str = "default:production.unleash-client-token";
pub const FRONTEND_DEV: &str = "default:development.unleash-frontend-token";

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
    use super::with_database;

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
