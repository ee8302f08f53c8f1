//! The configuration revision moves only for events that change what SDKs are served
//! (`domain::event::moves_revision`: events naming a flag, and segment events). A monitor's
//! life (created, updated, its status changes, an incident opening and resolving), heartbeats,
//! projects and tokens are audited but leave every SDK's ETag, every stream and every replica
//! alone; flag and segment changes still reach all of them. And the store answers the revision
//! from its partial index on both backends.

use std::time::Duration;

use flagwatch::domain::event::{Actor, NewEvent, kind};
use reqwest::header::{ETAG, IF_NONE_MATCH};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::Connection;

use crate::both_backends;
use crate::helpers::{
    Backend, CLIENT_DEV, TestApp, TestDb, probe_down, probe_up, standard_args, status_monitor,
};

const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

/// How long a stream or replica gets to show something it should not.
const QUIET: Duration = Duration::from_millis(500);

async fn admin_ok(app: &TestApp, method: Method, path: &str, body: Value) -> Value {
    let (status, body) = app.admin(method, path, Some(body)).await;
    assert!(status.is_success(), "{path}: {status} {body}");
    body
}

/// The client features ETag for the development token, segments by id.
async fn etag(app: &TestApp) -> String {
    let resp = app.sdk_get("/api/client/features").await;
    resp.headers()[ETAG].to_str().unwrap().to_string()
}

/// Whether the client API answers 304 to `etag`.
async fn still_matches(app: &TestApp, etag: &str) -> bool {
    let resp = app
        .request(Method::GET, "/api/client/features", Some(CLIENT_DEV))
        .header("Unleash-Client-Spec", "5.2.0")
        .header(IF_NONE_MATCH, etag)
        .send()
        .await
        .unwrap();
    resp.status() == StatusCode::NOT_MODIFIED
}

/// The newest event's id, and the newest id of an event about a flag or a segment.
async fn newest_ids(app: &TestApp) -> (i64, i64) {
    let events = app.events().await;
    let id = |e: &Value| e["id"].as_i64().unwrap();
    let newest = events.first().map(id).unwrap_or(0);
    let moving = events
        .iter()
        .find(|e| {
            !e["featureName"].is_null() || e["type"].as_str().unwrap().starts_with("segment-")
        })
        .map(id)
        .unwrap_or(0);
    (newest, moving)
}

/// `checkout` on in development with a strategy using segment `beta`; returns the segment id.
async fn flag_with_segment(app: &TestApp) -> i64 {
    let segment = admin_ok(
        app,
        Method::POST,
        "/api/admin/segments",
        json!({"name": "beta", "constraints": [
            {"contextName": "userId", "operator": "IN", "values": ["1"]}]}),
    )
    .await;
    let id = segment["id"].as_i64().unwrap();
    admin_ok(
        app,
        Method::POST,
        "/api/admin/projects/default/features",
        json!({"name": "checkout"}),
    )
    .await;
    admin_ok(
        app,
        Method::POST,
        "/api/admin/projects/default/features/checkout/environments/development/strategies",
        json!({"name": "default", "segments": [id]}),
    )
    .await;
    id
}

/// Everything audited that SDKs do not see: a monitor created and updated, going up, down (an
/// incident opens) and up again (it resolves); a heartbeat; a project; an API token. Checks
/// each of them left its events.
async fn changes_sdks_do_not_see(app: &TestApp, name: &str) {
    let monitor = app
        .create_monitor(status_monitor(name, "https://api.example.com/health"))
        .await;
    let (status, body) = app
        .bearer(
            Method::PATCH,
            &format!("/api/v2/monitors/{monitor}"),
            Some(json!({"pronounceable_name": format!("{name} (renamed)")})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for (secs, result) in [
        (0, probe_up(12)),
        (10, probe_down(40)),
        (20, probe_up(12)),
        (30, probe_up(12)),
        (40, probe_up(12)),
    ] {
        app.feed(monitor, result, T0 + secs * 1000).await;
    }
    app.create_heartbeat(json!({"name": format!("{name} backup"), "period": 86400, "grace": 3600}))
        .await;
    admin_ok(
        app,
        Method::POST,
        "/api/admin/projects",
        json!({"id": format!("{name}-project"), "name": "Not a flag"}),
    )
    .await;
    admin_ok(
        app,
        Method::POST,
        "/api/admin/api-tokens",
        json!({"tokenName": format!("{name}-sdk"), "type": "backend",
               "environment": "production", "projects": ["default"]}),
    )
    .await;

    let written: Vec<String> = app
        .events()
        .await
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect();
    for expected in [
        kind::MONITOR_CREATED,
        kind::MONITOR_UPDATED,
        kind::MONITOR_STATUS_CHANGED,
        kind::INCIDENT_OPENED,
        kind::INCIDENT_RESOLVED,
        kind::HEARTBEAT_CREATED,
        kind::PROJECT_CREATED,
        kind::API_TOKEN_CREATED,
    ] {
        assert!(
            written.iter().any(|t| t == expected),
            "no {expected} event: {written:?}"
        );
    }
}

/// A server-sent event: its name, id and data.
#[derive(Debug)]
struct Sse {
    event: String,
    id: Option<i64>,
    data: Value,
}

/// `/api/client/streaming` for the development token, read message by message.
struct Stream {
    resp: reqwest::Response,
    buf: String,
}

impl Stream {
    /// Connects and returns the stream with its `unleash-connected` message.
    async fn open(app: &TestApp) -> (Self, Sse) {
        let resp = app.sdk_get("/api/client/streaming").await;
        let mut stream = Self {
            resp,
            buf: String::new(),
        };
        let connected = stream
            .next(Duration::from_secs(5))
            .await
            .expect("unleash-connected");
        assert_eq!(connected.event, "unleash-connected", "{connected:?}");
        (stream, connected)
    }

    /// The next named event within `wait` (keep-alive comments skipped), if any.
    async fn next(&mut self, wait: Duration) -> Option<Sse> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let field = |name: &str| {
                    block
                        .lines()
                        .filter_map(|l| l.strip_prefix(name))
                        .map(|v| v.strip_prefix(' ').unwrap_or(v).to_string())
                        .collect::<Vec<_>>()
                };
                if let Some(event) = field("event:").pop() {
                    return Some(Sse {
                        event,
                        id: field("id:").pop().map(|id| id.parse().unwrap()),
                        data: serde_json::from_str(&field("data:").join("\n")).unwrap(),
                    });
                }
            }
            match tokio::time::timeout_at(deadline, self.resp.chunk()).await {
                Ok(Ok(Some(chunk))) => self.buf.push_str(std::str::from_utf8(&chunk).unwrap()),
                _ => return None,
            }
        }
    }

    /// The next `unleash-updated`: its id and the types of its events.
    async fn updated(&mut self) -> (i64, Vec<String>) {
        let m = self
            .next(Duration::from_secs(5))
            .await
            .expect("an update in time");
        assert_eq!(m.event, "unleash-updated", "{m:?}");
        let kinds = m.data["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["type"].as_str().unwrap().to_string())
            .collect();
        (m.id.unwrap(), kinds)
    }
}

both_backends!(only_flag_and_segment_changes_move_the_etag, |app| {
    let segment = flag_with_segment(app).await;
    let before = etag(app).await;
    let revision = app.service.snapshots().current().revision;
    assert_eq!(newest_ids(app).await, (revision, revision));
    assert!(before.contains(&format!(":{revision}:")), "{before}");
    let published = app.service.snapshots().subscribe();
    let (mut stream, connected) = Stream::open(app).await;
    assert_eq!(connected.id, Some(revision));

    changes_sdks_do_not_see(app, "api").await;
    // Even a reload (as the periodic check does) finds nothing new.
    app.service.snapshots().refresh().await.unwrap();

    let (newest, moving) = newest_ids(app).await;
    assert!(newest > revision, "the changes were audited");
    assert_eq!(moving, revision);
    assert_eq!(
        app.service.snapshots().current().revision,
        revision,
        "same revision"
    );
    assert!(
        !published.has_changed().unwrap(),
        "no new snapshot was published"
    );
    assert!(
        still_matches(app, &before).await,
        "an SDK polling with its ETag still gets 304"
    );
    assert_eq!(etag(app).await, before);
    if let Some(m) = stream.next(QUIET).await {
        panic!("the stream announced {m:?}");
    }

    // A flag switched on: a new ETag at that event, and the stream hears of it.
    admin_ok(
        app,
        Method::POST,
        "/api/admin/projects/default/features/checkout/environments/development/on",
        Value::Null,
    )
    .await;
    let (_, toggled) = newest_ids(app).await;
    assert!(toggled > newest);
    let after_toggle = etag(app).await;
    assert_ne!(after_toggle, before);
    assert!(
        after_toggle.contains(&format!(":{toggled}:")),
        "{after_toggle}"
    );
    assert!(!still_matches(app, &before).await);
    assert_eq!(app.service.snapshots().current().revision, toggled);
    assert_eq!(
        stream.updated().await,
        (toggled, vec!["feature-updated".into()])
    );

    // More monitor churn after it changes nothing again.
    changes_sdks_do_not_see(app, "db").await;
    assert_eq!(etag(app).await, after_toggle);

    // A segment the flag uses, updated: a new ETag, and a segment-updated on the stream.
    admin_ok(
        app,
        Method::PUT,
        &format!("/api/admin/segments/{segment}"),
        json!({"name": "beta", "constraints": [
            {"contextName": "userId", "operator": "IN", "values": ["1", "2"]}]}),
    )
    .await;
    let (_, updated) = newest_ids(app).await;
    let after_segment = etag(app).await;
    assert_ne!(after_segment, after_toggle);
    assert!(
        after_segment.contains(&format!(":{updated}:")),
        "{after_segment}"
    );
    assert_eq!(
        stream.updated().await,
        (updated, vec!["segment-updated".into()])
    );
});

both_backends!(
    commit_returns_a_revision_only_for_events_that_move_it,
    |app| {
        let store = app.service.store();
        let actor = Actor::system();
        let revision = || async { store.read().await.unwrap().revision().await.unwrap() };
        let start = revision().await;

        // Only events SDKs do not see: committed (and stored), but no revision, no announcement.
        let mut w = store.write().await.unwrap();
        let status = w
            .append_event(&NewEvent::new(kind::MONITOR_STATUS_CHANGED, &actor))
            .await
            .unwrap();
        w.append_event(&NewEvent::new(kind::ENVIRONMENT_CREATED, &actor).environment("qa"))
            .await
            .unwrap();
        assert_eq!(w.commit().await.unwrap(), None);
        assert!(status > start);
        assert_eq!(revision().await, start);

        // A segment event names no flag, and moves it.
        let mut w = store.write().await.unwrap();
        let segment = w
            .append_event(&NewEvent::new(kind::SEGMENT_DELETED, &actor))
            .await
            .unwrap();
        assert_eq!(w.commit().await.unwrap(), Some(segment));
        assert_eq!(revision().await, segment);

        // A flag event followed by others: the flag event is the revision.
        let mut w = store.write().await.unwrap();
        let flag = w
            .append_event(
                &NewEvent::new(kind::FEATURE_ENVIRONMENT_DISABLED, &actor)
                    .feature("default", "checkout")
                    .environment("production"),
            )
            .await
            .unwrap();
        let incident = w
            .append_event(&NewEvent::new(kind::INCIDENT_OPENED, &actor))
            .await
            .unwrap();
        assert!(incident > flag);
        assert_eq!(w.commit().await.unwrap(), Some(flag));
        assert_eq!(revision().await, flag);
    }
);

/// The revision query as the store runs it: `select max(event_id) from event where <the
/// condition of the index>` (a unit test in src/store/sql.rs holds the store to this text).
fn revision_query() -> String {
    let migration = include_str!("../../migrations/sqlite/0013_event_revision.sql");
    let sql: String = migration
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join(" ");
    let condition = sql
        .split_once(" where ")
        .and_then(|(_, c)| c.trim().strip_suffix(';'))
        .expect("a partial index");
    format!(
        "select max(event_id) from event where {}",
        condition.split_whitespace().collect::<Vec<_>>().join(" ")
    )
}

/// With a long log mostly of events that do not count, the planner answers the revision from
/// `event_revision_idx`, and the store's revision is the newest flag or segment event.
async fn revision_uses_the_partial_index(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let store = flagwatch::store::connect(db.url())
        .await
        .expect("store connects");
    let fill = |what: &str, n: i64| {
        format!(
            "insert into event (type, created_at, created_by, feature_name, tags) \
             select {what}, 0, 'test', {{feature}}, '[]' from \
             (with recursive n(i) as (select 1 union all select i + 1 from n where i < {n}) \
             select i from n) s"
        )
    };
    let statements = [
        fill("'feature-created'", 500).replace("{feature}", "'f' || i"),
        fill("'monitor-status-changed'", 5000).replace("{feature}", "null"),
        fill("'segment-updated'", 1).replace("{feature}", "null"),
        fill("'incident-opened'", 5000).replace("{feature}", "null"),
    ];
    let plan: String = match backend {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(db.url()).await.unwrap();
            for s in &statements {
                sqlx::query(sqlx::AssertSqlSafe(s.clone()))
                    .execute(&mut conn)
                    .await
                    .unwrap();
            }
            sqlx::query("analyze").execute(&mut conn).await.unwrap();
            let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "explain query plan {}",
                revision_query()
            )))
            .fetch_all(&mut conn)
            .await
            .unwrap();
            rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("\n")
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(db.url()).await.unwrap();
            for s in &statements {
                sqlx::query(sqlx::AssertSqlSafe(s.clone()))
                    .execute(&mut conn)
                    .await
                    .unwrap();
            }
            sqlx::query("analyze event")
                .execute(&mut conn)
                .await
                .unwrap();
            let rows: Vec<(String,)> =
                sqlx::query_as(sqlx::AssertSqlSafe(format!("explain {}", revision_query())))
                    .fetch_all(&mut conn)
                    .await
                    .unwrap();
            rows.into_iter().map(|r| r.0).collect::<Vec<_>>().join("\n")
        }
    };
    assert!(plan.contains("event_revision_idx"), "{backend:?}:\n{plan}");
    if backend == Backend::Sqlite {
        // SQLite's min/max optimisation: one lookup, not a scan of the index.
        assert!(plan.contains("SEARCH event USING"), "{plan}");
    } else {
        assert!(plan.contains("Index Only Scan Backward"), "{plan}");
    }
    // 500 flag events, 5,000 others, the segment event (5,501), 5,000 others.
    let revision = store.read().await.unwrap().revision().await.unwrap();
    assert_eq!(revision, 5501);
    store.close().await;
    db.drop_database().await;
}

#[tokio::test]
async fn revision_uses_the_partial_index_on_sqlite() {
    revision_uses_the_partial_index(Backend::Sqlite).await;
}

#[tokio::test]
async fn revision_uses_the_partial_index_on_postgres() {
    revision_uses_the_partial_index(Backend::Postgres).await;
}

/// Two replicas on one PostgreSQL: A's monitor churn sends no announcement and leaves B's
/// snapshot and stream alone; A's flag change is announced with its revision and reaches B
/// (which polls only once a minute) at once.
#[tokio::test]
async fn a_replica_follows_flag_changes_and_hears_nothing_of_monitors() {
    let Some(mut dbs) = TestDb::shared_postgres(2).await else {
        return; // PostgreSQL not configured; the harness has said so
    };
    let url = dbs[0].url().to_string();
    let a = TestApp::spawn_on(dbs.remove(0), &standard_args()).await;
    let mut args = standard_args();
    args.extend(["--snapshot-refresh-ms".to_string(), "60000".to_string()]);
    let b = TestApp::spawn_on(dbs.remove(0), &args).await;

    let mut announcements = sqlx::postgres::PgListener::connect(&url).await.unwrap();
    announcements.listen("flagwatch_revision").await.unwrap();
    flag_with_segment(&a).await;
    let created = newest_ids(&a).await.1;
    // The set-up's announcements: one per commit, the last at its revision.
    let mut last = None;
    while let Ok(n) = tokio::time::timeout(QUIET, announcements.recv()).await {
        last = Some(n.unwrap().payload().to_string());
    }
    assert_eq!(last, Some(created.to_string()));

    let (mut stream, _) = Stream::open(&b).await;
    // B's listener connects lazily; let it, and let B catch up with the set-up.
    tokio::time::sleep(Duration::from_millis(300)).await;
    b.service.snapshots().refresh().await.unwrap();
    assert_eq!(b.service.snapshots().current().revision, created);
    while stream.next(QUIET).await.is_some() {}
    let before = etag(&b).await;
    let published = b.service.snapshots().subscribe();

    changes_sdks_do_not_see(&a, "api").await;
    if let Ok(n) = tokio::time::timeout(QUIET, announcements.recv()).await {
        panic!("monitor events were announced: {n:?}");
    }
    b.service.snapshots().refresh().await.unwrap();
    assert_eq!(b.service.snapshots().current().revision, created);
    assert!(!published.has_changed().unwrap());
    assert!(still_matches(&b, &before).await);
    if let Some(m) = stream.next(QUIET).await {
        panic!("B's stream announced {m:?}");
    }

    admin_ok(
        &a,
        Method::POST,
        "/api/admin/projects/default/features/checkout/environments/development/on",
        Value::Null,
    )
    .await;
    let toggled = newest_ids(&a).await.1;
    let n = tokio::time::timeout(Duration::from_secs(1), announcements.recv())
        .await
        .expect("the flag change is announced")
        .unwrap();
    assert_eq!(n.payload(), toggled.to_string());
    assert_eq!(
        stream.updated().await,
        (toggled, vec!["feature-updated".into()]),
        "B's stream follows A's flag change"
    );
    assert_eq!(b.service.snapshots().current().revision, toggled);
    assert_eq!(etag(&b).await, etag(&a).await);
    assert!(!still_matches(&b, &before).await);

    drop(stream);
    b.stop_keeping_db().await;
    a.stop().await;
}
