//! Token rules: admin tokens on the admin API; client/backend tokens only on /api/client/*;
//! frontend tokens only on /api/frontend*. Missing or unknown token → 401, wrong kind → 403,
//! with Unleash's bodies; a `Bearer ` prefix is accepted. Created tokens are shown once,
//! work at once and stop working when deleted or expired. INIT_* tokens apply only to an
//! empty database; with none configured the binary prints one generated admin token, to
//! stdout and never to the log. SIGTERM stops the server cleanly.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use flagwatch::app::App;
use flagwatch::config::Config;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{
    ADMIN, Backend, CLIENT_DEV, CLIENT_PROD, FRONTEND_DEV, TestApp, TestDb, send,
};

const FEATURES: &str = "/api/admin/projects/default/features";
const LOGIN: &str = "You must log in to use Unleash. Your request had no authorization header, so we could not authorize you. Try logging in at /auth/simple/login";
const WRONG_KIND: &str = "invalid token: expected a different token type for this endpoint";

async fn status_with(app: &TestApp, token: Option<&str>) -> (StatusCode, Value) {
    send(app.request(Method::GET, FEATURES, token)).await
}

fn assert_login_required(status: StatusCode, body: &Value) {
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    // Golden 43, without its random `id`.
    assert_eq!(
        body,
        &json!({
            "name": "AuthenticationRequired",
            "message": LOGIN,
            "details": [{"message": LOGIN}],
            "path": "/auth/simple/login",
            "type": "password",
            "defaultHidden": false,
        })
    );
}

both_backends!(admin_api_takes_only_admin_tokens, |app| {
    let (status, body) = status_with(app, None).await;
    assert_login_required(status, &body);
    for unknown in [
        "*:*.not-a-real-token",
        "default:development.nope",
        "",
        "Bearer",
        "Bearer ",
        "Basic YWRtaW46dW5sZWFzaDRhbGw=",
        "*:*.unleash-admin-api-token-but-longer",
        "*:*.unleash-admin-api-toke",
    ] {
        let (status, body) = status_with(app, Some(unknown)).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "token {unknown:?}: {body}"
        );
        assert_eq!(body["name"], "AuthenticationRequired", "{unknown:?}");
    }
    // Golden 46, and the same for every non-admin kind.
    for other in [CLIENT_DEV, CLIENT_PROD, FRONTEND_DEV] {
        let (status, body) = status_with(app, Some(other)).await;
        assert_eq!(
            (status, body),
            (StatusCode::FORBIDDEN, json!({"message": WRONG_KIND})),
            "{other}"
        );
    }
    for admin in [
        ADMIN.to_string(),
        format!("Bearer {ADMIN}"),
        format!("bearer {ADMIN}"),
        format!("BEARER   {ADMIN}"),
        format!("  {ADMIN}  "),
    ] {
        let (status, body) = status_with(app, Some(&admin)).await;
        assert_eq!(status, StatusCode::OK, "{admin:?}: {body}");
        assert!(body["features"].is_array());
    }

    // Writes are refused before their body is even looked at, and change nothing.
    let (_, events_before) = app.admin(Method::GET, "/api/admin/events", None).await;
    let writes = [
        (
            Method::POST,
            FEATURES.to_string(),
            json!({"name": "sneaky"}),
        ),
        (
            Method::POST,
            FEATURES.to_string(),
            json!("not even an object"),
        ),
        (
            Method::POST,
            "/api/admin/api-tokens".to_string(),
            json!({"tokenName": "x", "type": "admin"}),
        ),
        (
            Method::POST,
            "/api/admin/segments".to_string(),
            json!({"name": "sneaky"}),
        ),
        (
            Method::POST,
            "/api/admin/projects".to_string(),
            json!({"id": "sneaky"}),
        ),
    ];
    for (method, path, body) in &writes {
        let rb = app.request(method.clone(), path, None).json(body);
        let (status, answer) = send(rb).await;
        assert_login_required(status, &answer);
        for other in [CLIENT_DEV, FRONTEND_DEV] {
            let rb = app.request(method.clone(), path, Some(other)).json(body);
            let (status, answer) = send(rb).await;
            assert_eq!(
                (status, answer),
                (StatusCode::FORBIDDEN, json!({"message": WRONG_KIND}))
            );
        }
        // Even a body the server cannot read gets the 401 first.
        let rb = app
            .request(method.clone(), path, None)
            .header("Content-Type", "text/plain")
            .body("{");
        let (status, answer) = send(rb).await;
        assert_login_required(status, &answer);
    }
    let (_, events_after) = app.admin(Method::GET, "/api/admin/events", None).await;
    assert_eq!(events_before["totalEvents"], events_after["totalEvents"]);
    let (_, features) = app.admin(Method::GET, FEATURES, None).await;
    assert_eq!(features["features"], json!([]));

    // Every admin route is guarded, not just the feature list.
    for path in [
        "/api/admin/projects",
        "/api/admin/environments",
        "/api/admin/segments",
        "/api/admin/tag-types",
        "/api/admin/tags",
        "/api/admin/api-tokens",
        "/api/admin/events",
        "/api/admin/search/events",
        "/api/admin/archive/features",
        "/api/admin/projects/default/features/x/environments/development/strategies",
    ] {
        let (status, body) = send(app.request(Method::GET, path, None)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}: {body}");
        let (status, body) = send(app.request(Method::GET, path, Some(CLIENT_DEV))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
        let (status, body) = send(app.request(Method::GET, path, Some(ADMIN))).await;
        assert!(
            status == StatusCode::OK || status == StatusCode::NOT_FOUND,
            "{path}: {status} {body}"
        );
    }

    // The probes need no token.
    let (status, body) = send(app.request(Method::GET, "/health", None)).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"health": "GOOD"})));
    let (status, body) = send(app.request(Method::GET, "/ready", None)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["health"], "GOOD");
});

const SDK_401: &str = "This endpoint requires an API token. Please add an authorization header to your request with a valid token";

both_backends!(client_api_takes_only_backend_tokens, |app| {
    let get = |path: &str, token: Option<&str>| send(app.request(Method::GET, path, token));
    // Goldens 44 and 45: a bare `{message}`, no Unleash error name.
    for token in [
        None,
        Some("default:development.nope"),
        Some(""),
        Some("Bearer "),
    ] {
        let (status, body) = get("/api/client/features", token).await;
        assert_eq!(
            (status, body),
            (StatusCode::UNAUTHORIZED, json!({"message": SDK_401})),
            "{token:?}"
        );
    }
    // Goldens 47 and 48.
    for token in [FRONTEND_DEV, ADMIN] {
        let (status, body) = get("/api/client/features", Some(token)).await;
        assert_eq!(
            (status, body),
            (StatusCode::FORBIDDEN, json!({"message": WRONG_KIND})),
            "{token}"
        );
        let (status, _) = get("/api/client/features/anything", Some(token)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{token}");
    }
    for token in [
        CLIENT_DEV.to_string(),
        CLIENT_PROD.to_string(),
        format!("Bearer {CLIENT_DEV}"),
        format!("bearer {CLIENT_PROD}"),
    ] {
        let (status, body) = get("/api/client/features", Some(&token)).await;
        assert_eq!(status, StatusCode::OK, "{token}: {body}");
        assert!(body["features"].is_array(), "{body}");
    }
    // The token check comes before the lookup: no token, no hint whether a flag exists.
    let (status, body) = get("/api/client/features/does-not-exist", None).await;
    assert_eq!(
        (status, body),
        (StatusCode::UNAUTHORIZED, json!({"message": SDK_401}))
    );
    let (status, _) = get("/api/client/features/does-not-exist", Some(CLIENT_DEV)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A backend token created through the admin API works there at once; deleted, it stops.
    let (status, created) = app
        .admin(
            Method::POST,
            "/api/admin/api-tokens",
            Some(json!({"tokenName": "sdk", "type": "backend", "environment": "production", "projects": ["default"]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.starts_with("default:production."), "{secret}");
    assert_eq!(
        get("/api/client/features", Some(secret)).await.0,
        StatusCode::OK
    );
    let (status, _) = app
        .admin(
            Method::DELETE,
            &format!(
                "/api/admin/api-tokens/{}",
                created["tokenId"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = get("/api/client/features", Some(secret)).await;
    assert_eq!(
        (status, body),
        (StatusCode::UNAUTHORIZED, json!({"message": SDK_401}))
    );
});

both_backends!(frontend_api_takes_only_frontend_tokens, |app| {
    let get = |path: &str, token: Option<&str>| send(app.request(Method::GET, path, token));
    for path in ["/api/frontend", "/api/frontend/all"] {
        for token in [None, Some("default:development.nope"), Some("Bearer ")] {
            let (status, body) = get(path, token).await;
            assert_eq!(
                (status, body),
                (StatusCode::UNAUTHORIZED, json!({"message": SDK_401})),
                "{path} {token:?}"
            );
        }
        // Golden 21 (a client token), and an admin token likewise.
        for token in [CLIENT_DEV, ADMIN] {
            let (status, body) = get(path, Some(token)).await;
            assert_eq!(
                (status, body),
                (StatusCode::FORBIDDEN, json!({"message": WRONG_KIND})),
                "{path} {token}"
            );
        }
        for token in [FRONTEND_DEV.to_string(), format!("Bearer {FRONTEND_DEV}")] {
            let (status, body) = get(path, Some(&token)).await;
            assert_eq!(status, StatusCode::OK, "{path} {token}: {body}");
            assert!(body["toggles"].is_array(), "{body}");
        }
    }
});

/// The part of a secret after `project:environment.`.
fn key_of(secret: &str) -> &str {
    secret.split_once('.').map_or(secret, |(_, key)| key)
}

both_backends!(
    created_tokens_are_shown_once_and_stop_working_when_deleted_or_expired,
    |app| {
        let (status, created) = app
            .admin(
                Method::POST,
                "/api/admin/api-tokens",
                Some(json!({"tokenName": "ci-admin", "type": "admin"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let secret = created["secret"].as_str().unwrap().to_string();
        let id = created["tokenId"].as_str().unwrap().to_string();
        assert!(secret.starts_with("*:*."), "{secret}");
        let key = key_of(&secret).to_string();
        assert!(
            key.len() >= 32,
            "the key is long enough not to be guessed: {secret}"
        );
        assert_eq!(created["type"], "admin");
        assert_eq!(created["tokenName"], "ci-admin");

        // Shown once: the list, and the audit log, only ever show a prefix.
        let (_, list) = app.admin(Method::GET, "/api/admin/api-tokens", None).await;
        let listed = list["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["tokenId"] == id.as_str())
            .unwrap_or_else(|| panic!("token {id} not listed: {list}"))
            .clone();
        let shown = listed["secret"].as_str().unwrap();
        assert!(shown.starts_with("*:*."), "{shown}");
        assert_ne!(shown, secret);
        assert!(!shown.contains(&key), "the list shows the key: {shown}");
        assert!(!list.to_string().contains(&key), "{list}");
        let (_, events) = app.admin(Method::GET, "/api/admin/events", None).await;
        assert!(
            !events.to_string().contains(&key),
            "an event holds the secret"
        );
        let (_, search) = app
            .admin(Method::GET, "/api/admin/search/events", None)
            .await;
        assert!(!search.to_string().contains(&key));

        // It works at once, raw or with Bearer.
        assert_eq!(status_with(app, Some(&secret)).await.0, StatusCode::OK);
        assert_eq!(
            status_with(app, Some(&format!("Bearer {secret}"))).await.0,
            StatusCode::OK
        );
        // Only the whole secret works.
        assert_eq!(
            status_with(app, Some(&secret[..secret.len() - 1])).await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            status_with(app, Some(shown)).await.0,
            StatusCode::UNAUTHORIZED
        );

        // Tokens of other kinds are refused on the admin API, from the start.
        for (kind, prefix) in [
            ("client", "default:development."),
            ("backend", "default:development."),
            ("frontend", "default:development."),
        ] {
            let (status, t) = app
            .admin(
                Method::POST,
                "/api/admin/api-tokens",
                Some(json!({"tokenName": format!("sdk-{kind}"), "type": kind, "environment": "development", "projects": ["default"]})),
            )
            .await;
            assert_eq!(status, StatusCode::CREATED, "{t}");
            let s = t["secret"].as_str().unwrap();
            assert!(s.starts_with(prefix), "{kind}: {s}");
            let (status, body) = status_with(app, Some(s)).await;
            assert_eq!(
                (status, body),
                (StatusCode::FORBIDDEN, json!({"message": WRONG_KIND})),
                "{kind}"
            );
        }

        // Deleted: 401 straight away.
        let (status, body) = app
            .admin(Method::DELETE, &format!("/api/admin/api-tokens/{id}"), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = status_with(app, Some(&secret)).await;
        assert_login_required(status, &body);
        let (_, list) = app.admin(Method::GET, "/api/admin/api-tokens", None).await;
        assert!(
            list["tokens"]
                .as_array()
                .unwrap()
                .iter()
                .all(|t| t["tokenId"] != id.as_str()),
            "{list}"
        );

        // Expired: 401 as soon as its expiry is in the past; back when it is lifted.
        let (status, created) = app
        .admin(
            Method::POST,
            "/api/admin/api-tokens",
            Some(json!({"tokenName": "short-lived", "type": "admin", "expiresAt": "2999-01-01T00:00:00Z"})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let secret = created["secret"].as_str().unwrap().to_string();
        let id = created["tokenId"].as_str().unwrap().to_string();
        assert_eq!(status_with(app, Some(&secret)).await.0, StatusCode::OK);
        let (status, body) = app
            .admin(
                Method::PUT,
                &format!("/api/admin/api-tokens/{id}"),
                Some(json!({"expiresAt": "2020-01-01T00:00:00Z"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["expiresAt"], "2020-01-01T00:00:00.000Z");
        let (status, body) = status_with(app, Some(&secret)).await;
        assert_login_required(status, &body);
        let (status, body) = app
            .admin(
                Method::PUT,
                &format!("/api/admin/api-tokens/{id}"),
                Some(json!({"expiresAt": null})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(status_with(app, Some(&secret)).await.0, StatusCode::OK);

        // Unleash's admin API names tokens by their secret: that works too, and is never echoed.
        let (status, body) = app
            .admin(
                Method::PUT,
                &format!("/api/admin/api-tokens/{secret}"),
                Some(json!({"expiresAt": "2020-01-01T00:00:00Z"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(!body.to_string().contains(key_of(&secret)), "{body}");
        assert_eq!(
            status_with(app, Some(&secret)).await.0,
            StatusCode::UNAUTHORIZED
        );

        // The standard admin token still works throughout.
        assert_eq!(status_with(app, Some(ADMIN)).await.0, StatusCode::OK);
    }
);

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

async fn init_tokens_apply_only_to_an_empty_database(backend: Backend) {
    const A: &str = "*:*.first-start-admin-token";
    const B: &str = "*:*.second-start-admin-token";
    const CLIENT_B: &str = "default:development.second-start-client-token";
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let app = TestApp::spawn_on(db, &args(&["--init-admin-api-tokens", A])).await;
    assert_eq!(status_with(&app, Some(A)).await.0, StatusCode::OK);
    assert_eq!(
        status_with(&app, Some(ADMIN)).await.0,
        StatusCode::UNAUTHORIZED
    );
    let db = app.stop_keeping_db().await;

    let app = TestApp::spawn_on(
        db,
        &args(&[
            "--init-admin-api-tokens",
            B,
            "--init-client-api-tokens",
            CLIENT_B,
        ]),
    )
    .await;
    let (status, body) = status_with(&app, Some(B)).await;
    assert_login_required(status, &body);
    let (status, body) = status_with(&app, Some(A)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, list) = send(app.request(Method::GET, "/api/admin/api-tokens", Some(A))).await;
    assert_eq!(list["tokens"].as_array().unwrap().len(), 1, "{list}");
    let db = app.stop_keeping_db().await;

    // With nothing configured on a database that has tokens, nothing is generated either.
    let app = TestApp::spawn_on(db, &[]).await;
    let (_, list) = send(app.request(Method::GET, "/api/admin/api-tokens", Some(A))).await;
    assert_eq!(list["tokens"].as_array().unwrap().len(), 1, "{list}");
    app.stop().await;
}

#[tokio::test]
async fn init_tokens_apply_only_to_an_empty_database_sqlite() {
    init_tokens_apply_only_to_an_empty_database(Backend::Sqlite).await;
}

#[tokio::test]
async fn init_tokens_apply_only_to_an_empty_database_postgres() {
    init_tokens_apply_only_to_an_empty_database(Backend::Postgres).await;
}

/// A malformed INIT token stops the start-up with a message naming the setting, and leaves
/// the database without tokens (so a corrected start can still create them).
async fn malformed_init_tokens_stop_the_start(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    for (flag, bad) in [
        (
            "--init-admin-api-tokens",
            "default:development.not-admin-shaped",
        ),
        ("--init-client-api-tokens", "no-scope-at-all"),
        ("--init-frontend-api-tokens", "default:*.all-envs"),
    ] {
        let config = Config::parse_from([
            "flagwatch",
            "--port",
            "0",
            "--host",
            "127.0.0.1",
            "--database-url",
            db.url(),
            "--init-admin-api-tokens",
            "*:*.fine-admin-token",
            flag,
            bad,
        ]);
        let Err(e) = App::build(config).await else {
            panic!("{flag}={bad} was accepted");
        };
        let text = format!("{e:#}");
        assert!(text.contains("_API_TOKENS"), "{flag}: {text}");
    }
    let app = TestApp::spawn_on(db, &args(&["--init-admin-api-tokens", ADMIN])).await;
    assert_eq!(status_with(&app, Some(ADMIN)).await.0, StatusCode::OK);
    assert_eq!(
        status_with(&app, Some("*:*.fine-admin-token")).await.0,
        StatusCode::UNAUTHORIZED,
        "a failed start left a token behind"
    );
    app.stop().await;
}

#[tokio::test]
async fn malformed_init_tokens_stop_the_start_sqlite() {
    malformed_init_tokens_stop_the_start(Backend::Sqlite).await;
}

#[tokio::test]
async fn malformed_init_tokens_stop_the_start_postgres() {
    malformed_init_tokens_stop_the_start(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------------------
// The real binary.

/// Output a child writes, collected by a reader thread.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<String>>);

impl Captured {
    fn collect(&self, stream: impl Read + Send + 'static) {
        let sink = self.0.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { break };
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
    }

    fn text(&self) -> String {
        self.0.lock().unwrap().clone()
    }
}

/// The flagwatch binary, killed if a test fails before stopping it.
struct Binary {
    child: Child,
    addr: SocketAddr,
    stdout: Captured,
    stderr: Captured,
}

const DEADLINE: Duration = Duration::from_secs(30);

impl Binary {
    /// Starts the binary on `database_url` with a clean environment (no INIT_* variables)
    /// plus `env`, JSON logs, and waits until it logs the address it listens on.
    fn start(database_url: &str, env: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_flagwatch"));
        cmd.env_clear()
            .args(["--port", "0", "--host", "127.0.0.1", "--log-format", "json"])
            .args(["--database-url", database_url])
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start the flagwatch binary");
        let stdout = Captured::default();
        let stderr = Captured::default();
        stdout.collect(child.stdout.take().unwrap());
        stderr.collect(child.stderr.take().unwrap());
        let started = Instant::now();
        let addr = loop {
            let logs = stderr.text();
            let listening = logs
                .lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .find(|l| l["message"] == "flagwatch listening");
            if let Some(line) = listening {
                break line["addr"].as_str().unwrap().parse().unwrap();
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!("flagwatch exited with {status} before listening:\n{logs}");
            }
            assert!(
                started.elapsed() < DEADLINE,
                "flagwatch did not start in time:\n{logs}"
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        Self {
            child,
            addr,
            stdout,
            stderr,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        let mut rb = reqwest::Client::new().get(self.url(path));
        if let Some(t) = token {
            rb = rb.header("Authorization", t);
        }
        send(rb).await
    }

    /// Sends SIGTERM and waits (at most 10 s) for the process to exit.
    fn terminate(&mut self) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "flagwatch did not exit within 10 s of SIGTERM:\n{}",
                self.stderr.text()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Output is read by threads; after exit, wait until they have drained the pipes.
    fn final_output(&self) -> (String, String) {
        let started = Instant::now();
        loop {
            let out = (self.stdout.text(), self.stderr.text());
            if Arc::strong_count(&self.stdout.0) == 1 && Arc::strong_count(&self.stderr.0) == 1
                || started.elapsed() > Duration::from_secs(5)
            {
                return out;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn sqlite_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite:{}", dir.path().join("flagwatch.db").display())
}

/// Lines of stdout that are a bare admin secret.
fn printed_secrets(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("*:*.") && !l.contains(' '))
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn binary_prints_a_generated_admin_token_once_and_never_logs_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(&dir);

    let mut first = Binary::start(&db, &[]);
    let (status, _) = first.get("/health", None).await;
    assert_eq!(status, StatusCode::OK);
    let stdout = first.stdout.text();
    let secrets = printed_secrets(&stdout);
    assert_eq!(
        secrets.len(),
        1,
        "exactly one secret line on stdout:\n{stdout}"
    );
    let secret = secrets[0].clone();
    assert!(key_of(&secret).len() >= 32, "{secret}");
    assert!(
        stdout.contains("INIT_ADMIN_API_TOKENS='*:*.<your-secret>'"),
        "stdout says how to choose your own:\n{stdout}"
    );
    let (status, body) = first.get(FEATURES, Some(&secret)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = first.get(FEATURES, Some(&format!("Bearer {secret}"))).await;
    assert_eq!(status, StatusCode::OK);
    let exit = first.terminate();
    assert!(exit.success(), "{exit}");
    let (_, logs) = first.final_output();
    assert!(logs.contains("flagwatch listening"), "{logs}");
    assert!(
        !logs.contains(key_of(&secret)),
        "the log holds the secret:\n{logs}"
    );

    // A restart on the same database prints nothing, and the secret still works.
    let mut second = Binary::start(&db, &[]);
    let (status, _) = second.get(FEATURES, Some(&secret)).await;
    assert_eq!(status, StatusCode::OK);
    let exit = second.terminate();
    assert!(exit.success(), "{exit}");
    let (stdout, logs) = second.final_output();
    assert!(printed_secrets(&stdout).is_empty(), "{stdout}");
    assert!(!stdout.contains("*:*."), "{stdout}");
    assert!(!logs.contains(key_of(&secret)), "{logs}");
}

#[tokio::test]
async fn binary_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Binary::start(&sqlite_url(&dir), &[("INIT_ADMIN_API_TOKENS", ADMIN)]);
    let (status, body) = server.get("/health", None).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"health": "GOOD"})));
    let (status, body) = server.get("/ready", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = server.get(FEATURES, Some(ADMIN)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        printed_secrets(&server.stdout.text()).is_empty(),
        "INIT tokens were given, so none is generated"
    );

    let exit = server.terminate();
    assert_eq!(exit.code(), Some(0), "{exit}");
    let (_, logs) = server.final_output();
    let messages: Vec<String> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|l| l["message"].as_str().map(str::to_string))
        .collect();
    assert!(messages.iter().any(|m| m == "shutting down"), "{logs}");
    assert!(messages.iter().any(|m| m == "stopped"), "{logs}");
}

#[tokio::test]
async fn binary_never_logs_token_secrets_even_at_debug() {
    const SECRET: &str = "*:*.zq-debug-admin-secret-7f3a9c";
    const CLIENT: &str = "default:development.zq-debug-client-secret-81bd";
    const WRONG: &str = "*:*.zq-wrong-guess-secret-44e1";
    let dir = tempfile::tempdir().unwrap();
    let mut server = Binary::start(
        &sqlite_url(&dir),
        &[
            ("LOG_LEVEL", "debug"),
            ("INIT_ADMIN_API_TOKENS", SECRET),
            ("INIT_CLIENT_API_TOKENS", CLIENT),
        ],
    );
    let client = reqwest::Client::new();
    let call = |method: Method, path: &str, token: &str, body: Option<Value>| {
        let mut rb = client
            .request(method, server.url(path))
            .header("Authorization", token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        send(rb)
    };
    let (status, _) = call(Method::GET, FEATURES, SECRET, None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(
        Method::POST,
        FEATURES,
        &format!("Bearer {SECRET}"),
        Some(json!({"name": "logged-flag"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = call(Method::GET, FEATURES, WRONG, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = call(Method::GET, FEATURES, CLIENT, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, created) = call(
        Method::POST,
        "/api/admin/api-tokens",
        SECRET,
        Some(json!({"tokenName": "made-at-debug", "type": "admin"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let made = created["secret"].as_str().unwrap().to_string();
    let (status, _) = call(Method::GET, "/api/admin/events", &made, None).await;
    assert_eq!(status, StatusCode::OK);
    // Naming a token by its secret in the path: the route template is logged, not the path.
    let (status, _) = call(
        Method::PUT,
        &format!("/api/admin/api-tokens/{made}"),
        SECRET,
        Some(json!({"expiresAt": "2020-01-01T00:00:00Z"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(
        Method::DELETE,
        &format!("/api/admin/api-tokens/{made}"),
        SECRET,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let exit = server.terminate();
    assert!(exit.success(), "{exit}");
    let (_, logs) = server.final_output();
    assert!(
        logs.contains("\"level\":\"DEBUG\""),
        "debug logging was on, so the check means something:\n{logs}"
    );
    for secret in [SECRET, CLIENT, WRONG, made.as_str()] {
        let key = key_of(secret);
        assert!(!logs.contains(key), "the log holds {key}:\n{logs}");
    }
}
