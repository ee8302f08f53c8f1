//! What we promise when the database goes away (DESIGN.md, "Failure behaviour"): the SDK-facing
//! APIs keep answering from the last snapshot, admin calls answer 503 with a clear message,
//! `/ready` says so, and everything recovers by itself when the database is back.
//!
//! PostgreSQL only: the server reaches it through a TCP proxy in this test, which is cut and
//! restored at will.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;
use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::helpers::{Backend, FRONTEND_DEV, TestApp, TestDb, send, standard_args};

/// A TCP proxy to PostgreSQL that can be cut (every connection dropped, new ones refused).
struct Proxy {
    port: u16,
    up: Arc<watch::Sender<bool>>,
}

impl Proxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(watch::Sender::new(true));
        let state = up.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let mut up = state.subscribe();
                if !*up.borrow() {
                    continue; // dropped: the server sees the connection closed at once
                }
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = copy_bidirectional(&mut client, &mut server) => {}
                        _ = up.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Self { port, up }
    }

    fn set(&self, up: bool) {
        self.up.send_replace(up);
    }
}

/// `postgres://user@host:5432/db` → (`host:5432`, the URL with `127.0.0.1:<port>` instead).
fn through_proxy(url: &str, port: u16) -> (String, String) {
    let after_scheme = url.find("://").unwrap() + 3;
    let authority_start = url[after_scheme..]
        .find('@')
        .map_or(after_scheme, |i| after_scheme + i + 1);
    let authority_end = url[authority_start..]
        .find('/')
        .map_or(url.len(), |i| authority_start + i);
    let upstream = url[authority_start..authority_end].to_string();
    let proxied = format!(
        "{}127.0.0.1:{port}{}",
        &url[..authority_start],
        &url[authority_end..]
    );
    (upstream, proxied)
}

#[tokio::test]
async fn sdk_apis_keep_answering_and_admin_writes_get_503_while_the_database_is_down() {
    let Some(db) = TestDb::create(Backend::Postgres).await else {
        return; // PostgreSQL not configured; the harness has said so
    };
    let (upstream, _) = through_proxy(db.url(), 0);
    let proxy = Proxy::start(upstream).await;
    let (_, proxied) = through_proxy(db.url(), proxy.port);
    let db = db.with_url(proxied);
    let mut args = standard_args();
    args.extend(["--snapshot-refresh-ms", "100"].map(String::from));
    let app = TestApp::spawn_on(db, &args).await;

    // Arrange: one flag, on in development.
    app.create_enabled_flag("checkout").await;
    let before = app.client_features().await;

    // Act: the database goes away.
    proxy.set(false);

    // Assert: SDKs are still served, from the snapshot.
    let during = app.client_features().await;
    assert_eq!(during, before);
    let (status, frontend) =
        send(app.request(Method::GET, "/api/frontend?userId=u1", Some(FRONTEND_DEV))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(frontend["toggles"][0]["name"], "checkout");

    // Admin writes and reads answer 503 with Unleash's error body, in bounded time.
    let started = Instant::now();
    let (status, body) = app
        .admin(
            Method::POST,
            "/api/admin/projects/default/features",
            Some(json!({"name": "while-down"})),
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["name"], "ServiceUnavailableError");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("database is unavailable"),
        "{body}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    let (status, _) = app
        .admin(
            Method::GET,
            "/api/admin/projects/default/features/checkout",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let (status, ready) = send(app.request(Method::GET, "/ready", None)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{ready}");
    let (status, _) = send(app.request(Method::GET, "/health", None)).await;
    assert_eq!(status, StatusCode::OK, "the process itself is alive");

    // The database comes back: everything recovers without a restart.
    proxy.set(true);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, _) = app
            .admin(
                Method::POST,
                "/api/admin/projects/default/features",
                Some(json!({"name": "after"})),
            )
            .await;
        if status == StatusCode::CREATED {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "writes did not recover: last status {status}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, _) = send(app.request(Method::GET, "/ready", None)).await;
    assert_eq!(status, StatusCode::OK);
    let features = app.client_features().await;
    let names: Vec<&str> = features["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["after", "checkout"],
        "the write made while down was refused, not half-applied"
    );
    app.stop().await;
}

#[test]
fn proxy_urls_swap_only_the_authority() {
    let (upstream, proxied) = through_proxy(
        "postgres://postgres@127.0.0.1:5432/t1?sslmode=disable",
        9999,
    );
    assert_eq!(upstream, "127.0.0.1:5432");
    assert_eq!(
        proxied,
        "postgres://postgres@127.0.0.1:9999/t1?sslmode=disable"
    );
    let (upstream, proxied) = through_proxy("postgres://db.local/t1", 1);
    assert_eq!(
        (upstream.as_str(), proxied.as_str()),
        ("db.local", "postgres://127.0.0.1:1/t1")
    );
}
