//! Monitor leases (DESIGN.md, "Scaling out"): replicas with the scheduler on share the
//! monitors, each checked by one replica at a time; a dead replica's monitors are taken over
//! when its leases lapse, a stopped one's at once. One loopback HTTP target counts the
//! requests each monitor makes.
//!
//! Several replicas need PostgreSQL: without `TEST_DATABASE_URL` those tests return early
//! (the NOTE in the output says so). The single-replica tests run on both backends.

use std::collections::{BTreeMap, HashMap};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use flagwatch::domain::Timestamp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::Connection;
use tokio::net::TcpListener;

use crate::both_backends;
use crate::helpers::{TestApp, TestDb, scheduler_args, standard_args};

/// A loopback HTTP target: `/m/{n}` answers 200 and counts the requests for `n`.
struct Target {
    addr: SocketAddr,
    hits: Arc<Mutex<HashMap<u32, usize>>>,
}

impl Target {
    async fn start() -> Self {
        let hits = Arc::new(Mutex::new(HashMap::new()));
        let app =
            Router::new()
                .route(
                    "/m/{n}",
                    get(
                        |State(hits): State<Arc<Mutex<HashMap<u32, usize>>>>,
                         Path(n): Path<u32>| async move {
                            *hits.lock().unwrap().entry(n).or_insert(0) += 1;
                            "checked"
                        },
                    ),
                )
                .with_state(hits.clone());
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { addr, hits }
    }

    fn url(&self, n: u32) -> String {
        format!("http://{}/m/{n}", self.addr)
    }

    fn hits(&self, n: u32) -> usize {
        self.hits.lock().unwrap().get(&n).copied().unwrap_or(0)
    }

    /// Requests per target number over `window`.
    async fn count_over(&self, window: Duration, n: u32) -> Vec<usize> {
        let before: Vec<usize> = (0..n).map(|i| self.hits(i)).collect();
        tokio::time::sleep(window).await;
        (0..n).map(|i| self.hits(i) - before[i as usize]).collect()
    }
}

fn monitor(target: &Target, n: u32, every: i64) -> Value {
    json!({
        "monitor_type": "status",
        "url": target.url(n),
        "pronounceable_name": format!("Target {n}"),
        "check_frequency": every,
        "request_timeout": 2,
        "confirmation_period": 0,
        "recovery_period": 0,
    })
}

async fn create(app: &TestApp, attrs: Value) -> i64 {
    let (status, body) = app
        .admin(Method::POST, "/api/v2/monitors", Some(attrs))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["data"]["id"].as_str().unwrap().parse().unwrap()
}

/// `--probe-lease-secs secs` with the scheduler on.
fn leased(secs: u64) -> Vec<String> {
    let mut args = scheduler_args();
    args.extend(["--probe-lease-secs".to_string(), secs.to_string()]);
    args
}

/// The live leases, read through `app`'s store: holder → monitors held.
async fn holders(app: &TestApp) -> BTreeMap<String, Vec<i64>> {
    let mut reader = app.service.store().read().await.unwrap();
    let mut by_holder: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (id, holder) in reader.monitor_leases(Timestamp::now()).await.unwrap() {
        by_holder.entry(holder).or_default().push(id);
    }
    by_holder
}

/// Polls until `cond` holds; false if `within` passes first.
async fn eventually(within: Duration, mut cond: impl AsyncFnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if cond().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

const MONITORS: u32 = 6;

/// A database with `MONITORS` 1 s monitors created through a replica that does not check,
/// and handles on it for `replicas` more servers; the API replica comes back to be stopped
/// last (it drops the database).
async fn monitors_on_postgres(target: &Target, replicas: usize) -> Option<(TestApp, Vec<TestDb>)> {
    let mut dbs = TestDb::shared_postgres(replicas + 1).await?;
    let api = TestApp::spawn_on(dbs.remove(0), &standard_args()).await;
    for n in 0..MONITORS {
        create(&api, monitor(target, n, 1)).await;
    }
    Some((api, dbs))
}

#[tokio::test]
async fn two_replicas_share_the_monitors_and_check_each_once_per_interval() {
    let target = Target::start().await;
    let Some((api, mut dbs)) = monitors_on_postgres(&target, 2).await else {
        return;
    };
    let a = TestApp::spawn_on(dbs.remove(0), &leased(2)).await;
    let b = TestApp::spawn_on(dbs.remove(0), &leased(2)).await;

    // A starts with every monitor; once B is there, A gives back what exceeds its half at
    // its next round (every 2/3 s) and B claims it at its own.
    let shared = eventually(Duration::from_secs(6), async || {
        let held = holders(&api).await;
        held.len() == 2 && held.values().all(|ids| ids.len() == 3)
    })
    .await;
    assert!(
        shared,
        "the replicas did not split the monitors: {:?}",
        holders(&api).await
    );
    // A monitor handed over gets its first check within its first interval.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let counts = target.count_over(Duration::from_secs(4), MONITORS).await;
    for (n, count) in counts.iter().enumerate() {
        assert!(
            (3..=5).contains(count),
            "monitor {n} was checked {count} times in 4 s at 1 s intervals (twice as often means \
             both replicas check it): {counts:?}"
        );
    }
    assert_eq!(holders(&api).await.len(), 2, "still shared");

    b.stop_keeping_db().await;
    a.stop_keeping_db().await;
    api.stop().await;
}

#[tokio::test]
async fn a_dead_replicas_monitors_are_taken_over_when_its_leases_lapse() {
    let target = Target::start().await;
    let Some((api, mut dbs)) = monitors_on_postgres(&target, 1).await else {
        return;
    };
    // A replica that holds every monitor and then dies: its leases stay until they lapse.
    let lapse = Timestamp::now().millis() + 3000;
    let mut conn = sqlx::PgConnection::connect(dbs[0].url()).await.unwrap();
    sqlx::query("insert into monitor_lease_holder (holder, expires_at) values ('probe-dead', $1)")
        .bind(lapse)
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query(
        "insert into monitor_lease (monitor_id, holder, expires_at) \
         select monitor_id, 'probe-dead', $1 from monitor",
    )
    .bind(lapse)
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();

    let started = Instant::now();
    let a = TestApp::spawn_on(dbs.remove(0), &leased(2)).await;
    // While the dead replica's leases run, A checks nothing.
    let early = target
        .count_over(Duration::from_millis(2000), MONITORS)
        .await;
    assert!(
        early.iter().all(|&c| c == 0),
        "A checked monitors another replica held: {early:?}"
    );
    // Lapsed at 3 s; A's rounds are 2/3 s apart, then one 1 s interval.
    let taken_over = eventually(Duration::from_secs(5), async || {
        (0..MONITORS).all(|n| target.hits(n) > 0)
    })
    .await;
    assert!(
        taken_over,
        "not every monitor was checked {:?} after start: {:?}",
        started.elapsed(),
        (0..MONITORS).map(|n| target.hits(n)).collect::<Vec<_>>()
    );
    let held = holders(&api).await;
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held.values().next().unwrap().len(), MONITORS as usize);

    a.stop_keeping_db().await;
    api.stop().await;
}

#[tokio::test]
async fn a_clean_shutdown_hands_the_monitors_over_at_once() {
    let target = Target::start().await;
    let Some((api, mut dbs)) = monitors_on_postgres(&target, 2).await else {
        return;
    };
    // Leases of 9 s, renewed every 3 s: a hand-over within 4.5 s is not a lapse.
    let a = TestApp::spawn_on(dbs.remove(0), &leased(9)).await;
    let b = TestApp::spawn_on(dbs.remove(0), &leased(9)).await;
    let shared = eventually(Duration::from_secs(10), async || {
        holders(&api).await.len() == 2
    })
    .await;
    assert!(
        shared,
        "the replicas did not split the monitors: {:?}",
        holders(&api).await
    );

    b.stop_keeping_db().await;
    let stopped = Instant::now();
    let held = holders(&api).await;
    assert_eq!(held.len(), 1, "B's leases outlived its shutdown: {held:?}");

    let all_on_a = eventually(Duration::from_millis(4500), async || {
        holders(&api)
            .await
            .values()
            .next()
            .is_some_and(|ids| ids.len() == MONITORS as usize)
    })
    .await;
    assert!(
        all_on_a,
        "A did not take B's monitors over: {:?}",
        holders(&api).await
    );
    // And checks them: every monitor, within one more interval.
    let counts = target
        .count_over(Duration::from_millis(2500), MONITORS)
        .await;
    assert!(
        counts.iter().all(|&c| c >= 1),
        "not every monitor was checked after the hand-over: {counts:?}"
    );
    assert!(
        stopped.elapsed() < Duration::from_secs(9),
        "took a lease's length"
    );

    a.stop_keeping_db().await;
    api.stop().await;
}

both_backends!(
    one_replica_holds_every_monitor_and_checks_a_new_one_within_its_interval,
    args = scheduler_args(),
    |app| {
        let target = Target::start().await;
        let first = create(app, monitor(&target, 0, 1)).await;
        let created = Instant::now();
        // Claimed as soon as the scheduler hears of it: the first check comes within the
        // first (2 s) interval, not at the next lease round.
        let second = create(app, monitor(&target, 1, 2)).await;
        let checked = eventually(Duration::from_millis(2500), async || target.hits(1) > 0).await;
        assert!(
            checked,
            "the new 2 s monitor was not checked within {:?}",
            created.elapsed()
        );
        let held = holders(app).await;
        assert_eq!(held.len(), 1, "{held:?}");
        assert_eq!(held.values().next().unwrap(), &vec![first, second]);

        // Pausing a monitor lets its lease go at once.
        let (status, body) = app
            .admin(
                Method::PATCH,
                &format!("/api/v2/monitors/{second}"),
                Some(json!({"paused": true})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let released = eventually(Duration::from_secs(1), async || {
            holders(app).await.values().all(|ids| ids == &vec![first])
        })
        .await;
        assert!(released, "{:?}", holders(app).await);
    }
);

/// A clean stop releases every lease, on both backends: the next server finds none.
#[tokio::test]
async fn a_clean_stop_leaves_no_lease_behind() {
    for backend in [
        crate::helpers::Backend::Sqlite,
        crate::helpers::Backend::Postgres,
    ] {
        let Some(app) = TestApp::spawn_with(backend, &scheduler_args()).await else {
            continue;
        };
        let target = Target::start().await;
        create(&app, monitor(&target, 0, 1)).await;
        let claimed = eventually(Duration::from_secs(2), async || {
            holders(&app).await.len() == 1
        })
        .await;
        assert!(claimed, "the monitor was not leased");
        let db = app.stop_keeping_db().await;
        let next = TestApp::spawn_on(db, &standard_args()).await;
        assert!(
            holders(&next).await.is_empty(),
            "{:?}",
            holders(&next).await
        );
        next.stop().await;
    }
}
