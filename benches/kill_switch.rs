//! The kill switch, timed: from a guarded target failing to its flag being off for SDKs.
//!
//! `cargo bench --bench kill_switch` starts, in this one process, a loopback HTTP target (axum on
//! 127.0.0.1; `/health` answers 200, or 500 while it is told to fail, and records when each
//! check arrived) and the real server (port 0, a temporary SQLite file, the scheduler on), then
//! creates through the API a flag switched on in `development`, an HTTP `status` monitor on the
//! target (`check_frequency` 1, `confirmation_period` 0, `recovery_period` 0) and a guard tying
//! them (`on_recovery: re_enable`). Two clients watch the flag the whole time, as SDKs would:
//! one polls `GET /api/client/features` every 5 ms with `If-None-Match` (a 304 unless something
//! changed), one holds `GET /api/client/streaming` (server-sent events) open.
//!
//! Each of `BENCH_TRIALS` trials (default 20) waits until the flag is on for both clients, then
//! makes the target fail at t0 and measures until the poller sees the flag off (t1) and until
//! the stream delivers it; then restores the target, and the guard switches the flag back on at
//! the next check. t0 is placed at an even spread of points of the check interval (trial i at
//! (i + ½)/N of the interval after the last check), as a real failure falls anywhere in it: the
//! wait for the next check is most of the figure, so every figure is also printed as a fraction
//! of `check_frequency`. Also reported: where the time goes (t0 → the failing check reaches the
//! target → the flag is off for the poller; the flag-off event's `createdAt` → the stream
//! delivers it), the recovery, and two baselines measured in the same run: the check interval
//! itself (gaps between consecutive checks at the target), and an admin switch-off reaching the
//! same two clients (the serving path alone, no probe).
//!
//! Nothing here asserts on timing; a wait that passes its deadline (10 s) is an error. Run
//! without `--bench` (as `cargo test --benches` does), it is a smoke run of 2 trials.
#![allow(clippy::print_stdout)] // the report is the point
#![allow(clippy::disallowed_methods)] // the benchmark spawns the server, the target and its clients

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, bail, ensure};
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use common::{ADMIN, BACKEND, Server, quantile};
use reqwest::header::{AUTHORIZATION, ETAG, IF_NONE_MATCH};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The guarded flag.
const FLAG: &str = "bench-kill-switch";
/// The flag the admin-path baseline switches.
const BASELINE_FLAG: &str = "bench-admin-switch";
const CHECK_FREQUENCY: Duration = Duration::from_secs(1);
const POLL_EVERY: Duration = Duration::from_millis(5);
/// Every wait's deadline.
const WAIT: Duration = Duration::from_secs(10);

// ------------------------------------------------------------------------------- the target

/// The monitored service: 200 on `/health`, or 500 while `failing`; remembers each check.
#[derive(Clone, Default)]
struct Target {
    failing: Arc<AtomicBool>,
    checks: Arc<Mutex<Vec<Instant>>>,
}

impl Target {
    async fn start(&self) -> anyhow::Result<SocketAddr> {
        let app = Router::new()
            .route(
                "/health",
                get(|State(t): State<Target>| async move {
                    if let Ok(mut checks) = t.checks.lock() {
                        checks.push(Instant::now());
                    }
                    if t.failing.load(Ordering::SeqCst) {
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::OK
                    }
                }),
            )
            .with_state(self.clone());
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .context("the target binds")?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(addr)
    }

    fn checks(&self) -> Vec<Instant> {
        self.checks.lock().map(|c| c.clone()).unwrap_or_default()
    }

    fn fail(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }
}

// ------------------------------------------------------------------------------- the clients

/// What a client last saw of its flag, and when it first saw it so.
#[derive(Clone, Copy, Debug)]
struct Seen {
    enabled: bool,
    at: Instant,
    wall: SystemTime,
    /// The streamed change's `eventId` (streaming only).
    event_id: Option<i64>,
}

type Watched = watch::Receiver<Option<Seen>>;

fn note(tx: &watch::Sender<Option<Seen>>, enabled: bool, event_id: Option<i64>) {
    tx.send_if_modified(|seen| {
        if seen.is_some_and(|s| s.enabled == enabled) {
            return false;
        }
        *seen = Some(Seen {
            enabled,
            at: Instant::now(),
            wall: SystemTime::now(),
            event_id,
        });
        true
    });
}

fn enabled_in(features: &Value, flag: &str) -> Option<bool> {
    features.as_array()?.iter().find(|f| f["name"] == flag)?["enabled"].as_bool()
}

/// An SDK polling `/api/client/features` every 5 ms with the ETag it was last given.
fn spawn_poller(client: &Client, base: &str, flag: &'static str) -> (JoinHandle<()>, Watched) {
    let (tx, rx) = watch::channel(None);
    let (client, url) = (client.clone(), format!("{base}/api/client/features"));
    let task = tokio::spawn(async move {
        let mut etag: Option<String> = None;
        loop {
            let mut rb = client.get(&url).header(AUTHORIZATION, BACKEND);
            if let Some(e) = &etag {
                rb = rb.header(IF_NONE_MATCH, e);
            }
            if let Ok(resp) = rb.send().await
                && resp.status() == StatusCode::OK
            {
                let tag = resp
                    .headers()
                    .get(ETAG)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                if let Ok(body) = resp.json::<Value>().await
                    && let Some(enabled) = enabled_in(&body["features"], flag)
                {
                    note(&tx, enabled, None);
                    etag = tag;
                }
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    });
    (task, rx)
}

/// An SDK in streaming mode: `unleash-connected` (hydration), then `unleash-updated` deltas.
fn spawn_stream(client: &Client, base: &str, flag: &'static str) -> (JoinHandle<()>, Watched) {
    let (tx, rx) = watch::channel(None);
    let (client, url) = (client.clone(), format!("{base}/api/client/streaming"));
    let task = tokio::spawn(async move {
        if let Err(e) = read_stream(&client, &url, flag, &tx).await {
            eprintln!("kill_switch bench: the stream ended: {e:#}");
        }
    });
    (task, rx)
}

async fn read_stream(
    client: &Client,
    url: &str,
    flag: &str,
    tx: &watch::Sender<Option<Seen>>,
) -> anyhow::Result<()> {
    let mut resp = client
        .get(url)
        .header(AUTHORIZATION, BACKEND)
        .header("Unleash-Client-Spec", "5.2.0")
        .header("Unleash-AppName", "kill-switch-bench")
        .send()
        .await?;
    ensure!(resp.status() == StatusCode::OK, "{}", resp.status());
    let mut buf: Vec<u8> = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        buf.extend_from_slice(&chunk);
        while let Some(end) = buf.windows(2).position(|w| w == b"\n\n") {
            let block: Vec<u8> = buf.drain(..end + 2).collect();
            let block = String::from_utf8_lossy(&block);
            let (mut event, mut data) = ("", String::new());
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    event = v.trim();
                } else if let Some(v) = line.strip_prefix("data:") {
                    if !data.is_empty() {
                        data.push('\n');
                    }
                    data.push_str(v.strip_prefix(' ').unwrap_or(v));
                }
            }
            if event != "unleash-connected" && event != "unleash-updated" {
                continue;
            }
            let data: Value = serde_json::from_str(&data).context("an SSE message's data")?;
            for e in data["events"].as_array().into_iter().flatten() {
                let enabled = match e["type"].as_str() {
                    Some("hydration") => enabled_in(&e["features"], flag),
                    Some("feature-updated") if e["feature"]["name"] == flag => {
                        e["feature"]["enabled"].as_bool()
                    }
                    _ => None,
                };
                if let Some(enabled) = enabled {
                    note(tx, enabled, e["eventId"].as_i64());
                }
            }
        }
    }
    bail!("the server closed the stream")
}

/// When the client saw `enabled` (first seen at `since` or later, if given), waiting at most
/// [`WAIT`].
async fn seen(
    rx: &mut Watched,
    enabled: bool,
    since: Option<Instant>,
    what: &str,
) -> anyhow::Result<Seen> {
    let waited = tokio::time::timeout(
        WAIT,
        rx.wait_for(|s| s.is_some_and(|s| s.enabled == enabled && since.is_none_or(|t| s.at >= t))),
    )
    .await
    .with_context(|| format!("timed out after {WAIT:?} waiting for {what}"))?
    .with_context(|| format!("{what}: the client stopped"))?;
    (*waited).context("a seen state")
}

/// The current state, if the client has seen the flag at all.
fn now_seen(rx: &Watched, enabled: bool) -> bool {
    rx.borrow().is_some_and(|s| s.enabled == enabled)
}

// ------------------------------------------------------------------------------- the API

async fn api(
    client: &Client,
    base: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> anyhow::Result<Value> {
    // The Better Stack monitor API takes the admin token as a bearer token.
    let token = if path.starts_with("/api/v2/") {
        format!("Bearer {ADMIN}")
    } else {
        ADMIN.to_string()
    };
    let mut rb = client
        .request(method.clone(), format!("{base}{path}"))
        .header(AUTHORIZATION, token);
    if let Some(body) = body {
        rb = rb.json(&body);
    }
    let resp = rb
        .send()
        .await
        .with_context(|| format!("{method} {path}"))?;
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    ensure!(status.is_success(), "{method} {path}: {status} {text}");
    Ok(if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).with_context(|| format!("{method} {path}: JSON"))?
    })
}

async fn create_flag(client: &Client, base: &str, name: &str) -> anyhow::Result<()> {
    let features = "/api/admin/projects/default/features";
    api(
        client,
        base,
        Method::POST,
        features,
        Some(json!({"name": name, "type": "kill-switch"})),
    )
    .await?;
    switch(client, base, name, true).await
}

async fn switch(client: &Client, base: &str, name: &str, on: bool) -> anyhow::Result<()> {
    let path = format!(
        "/api/admin/projects/default/features/{name}/environments/development/{}",
        if on { "on" } else { "off" }
    );
    api(client, base, Method::POST, &path, None).await.map(drop)
}

/// The newest `feature-environment-disabled` event of `flag`: (id, createdAt).
async fn last_disabled(
    client: &Client,
    base: &str,
    flag: &str,
) -> anyhow::Result<(i64, OffsetDateTime)> {
    let body = api(
        client,
        base,
        Method::GET,
        &format!("/api/admin/events/{flag}"),
        None,
    )
    .await?;
    let event = body["events"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["type"] == "feature-environment-disabled")
        .with_context(|| format!("{flag} has no feature-environment-disabled event"))?;
    let id = event["id"].as_i64().context("the event's id")?;
    let at = event["createdAt"]
        .as_str()
        .context("the event's createdAt")?;
    Ok((
        id,
        OffsetDateTime::parse(at, &Rfc3339).context("createdAt")?,
    ))
}

// ------------------------------------------------------------------------------- the run

/// One trial's figures.
struct Trial {
    /// t0 → the first check after it reaches the target.
    to_check: Duration,
    /// t0 → off in the poller.
    poll: Duration,
    /// The failing check → off in the poller.
    check_to_poll: Duration,
    /// t0 → off in the stream.
    stream: Duration,
    /// The flag-off event's createdAt → the stream delivered it (wall clock, ms).
    event_to_stream_ms: f64,
    /// The target restored → back on in the poller (the guard's re_enable).
    recovery: Duration,
}

struct Clients {
    poll: Watched,
    stream: Watched,
    tasks: Vec<JoinHandle<()>>,
}

impl Clients {
    fn watch(client: &Client, stream_client: &Client, base: &str, flag: &'static str) -> Self {
        let (p, poll) = spawn_poller(client, base, flag);
        let (s, stream) = spawn_stream(stream_client, base, flag);
        Self {
            poll,
            stream,
            tasks: vec![p, s],
        }
    }

    async fn both_see(
        &mut self,
        enabled: bool,
        since: Option<Instant>,
        what: &str,
    ) -> anyhow::Result<(Seen, Seen)> {
        let p = seen(
            &mut self.poll,
            enabled,
            since,
            &format!("the poller to see {what}"),
        )
        .await?;
        let s = seen(
            &mut self.stream,
            enabled,
            since,
            &format!("the stream to deliver {what}"),
        )
        .await?;
        Ok((p, s))
    }

    fn stop(self) {
        for t in self.tasks {
            t.abort();
        }
    }
}

async fn trial(
    i: usize,
    n: usize,
    target: &Target,
    clients: &mut Clients,
    client: &Client,
    base: &str,
) -> anyhow::Result<Trial> {
    if !(now_seen(&clients.poll, true) && now_seen(&clients.stream, true)) {
        clients
            .both_see(true, None, "the flag on before the trial")
            .await?;
    }
    // t0 at (i + ½)/n of the check interval after the last check.
    let last = *target
        .checks()
        .last()
        .context("no check reached the target yet")?;
    let mut t0 = last + CHECK_FREQUENCY.mul_f64((i as f64 + 0.5) / n as f64);
    while t0 < Instant::now() {
        t0 += CHECK_FREQUENCY;
    }
    tokio::time::sleep_until(t0.into()).await;
    let t0 = Instant::now();
    target.fail(true);
    let (poll, stream) = clients.both_see(false, Some(t0), "the flag off").await?;
    let check = target
        .checks()
        .into_iter()
        .find(|c| *c >= t0)
        .context("no check arrived after t0")?;
    let (event_id, created) = last_disabled(client, base, FLAG).await?;
    ensure!(
        stream.event_id == Some(event_id),
        "the stream's change is event {:?}, the flag-off event {event_id}",
        stream.event_id
    );
    let event_to_stream_ms =
        (OffsetDateTime::from(stream.wall) - created).as_seconds_f64() * 1000.0;

    let restored = Instant::now();
    target.fail(false);
    let (back, _) = clients
        .both_see(true, Some(restored), "the flag back on (re_enable)")
        .await?;
    Ok(Trial {
        to_check: check - t0,
        poll: poll.at - t0,
        check_to_poll: poll.at.saturating_duration_since(check),
        stream: stream.at - t0,
        event_to_stream_ms,
        recovery: back.at - restored,
    })
}

/// The admin path alone: switch-off answered → off in the poller and in the stream.
async fn admin_baseline(
    rounds: usize,
    clients: &mut Clients,
    client: &Client,
    base: &str,
) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
    let (mut poll, mut stream) = (Vec::new(), Vec::new());
    clients.both_see(true, None, "the baseline flag on").await?;
    for _ in 0..rounds {
        let t0 = Instant::now();
        switch(client, base, BASELINE_FLAG, false).await?;
        let (p, s) = clients
            .both_see(false, Some(t0), "the baseline flag off")
            .await?;
        poll.push((p.at - t0).as_secs_f64());
        stream.push((s.at - t0).as_secs_f64());
        let t = Instant::now();
        switch(client, base, BASELINE_FLAG, true).await?;
        clients
            .both_see(true, Some(t), "the baseline flag on")
            .await?;
    }
    Ok((poll, stream))
}

async fn wait_monitor_up(client: &Client, base: &str, id: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + WAIT;
    loop {
        let body = api(
            client,
            base,
            Method::GET,
            &format!("/api/v2/monitors/{id}"),
            None,
        )
        .await?;
        let status = body["data"]["attributes"]["status"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if status == "up" {
            return Ok(());
        }
        ensure!(
            Instant::now() < deadline,
            "monitor {id} is {status:?}, not up, after {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_unstable_by(f64::total_cmp);
    v
}

/// One row: median, p90, max in ms, and the median over check_frequency.
fn row(label: &str, secs: Vec<f64>) -> String {
    let v = sorted(secs);
    let q = |q: f64| quantile(&v, q).unwrap_or(f64::NAN);
    let freq = CHECK_FREQUENCY.as_secs_f64();
    format!(
        "{label:<62} {:>8.0} {:>8.0} {:>8.0} {:>9.3}× {:>6.3}×",
        q(0.5) * 1000.0,
        q(0.9) * 1000.0,
        q(1.0) * 1000.0,
        q(0.5) / freq,
        q(1.0) / freq,
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let smoke = common::smoke_run();
    let trials = if smoke {
        2
    } else {
        std::env::var("BENCH_TRIALS")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|n| (1..=1000).contains(n))
            .unwrap_or(20)
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    let target = Target::default();
    let target_addr = target.start().await?;
    let server = Server::start(&[
        "--probe-scheduler",
        "true",
        "--init-backend-api-tokens",
        BACKEND,
    ])
    .await?;
    let base = server.base.clone();
    let client = Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .context("an HTTP client")?;
    // No overall timeout: it would cut the stream.
    let stream_client = Client::builder().build().context("an HTTP client")?;

    create_flag(&client, &base, FLAG).await?;
    create_flag(&client, &base, BASELINE_FLAG).await?;
    let monitor = api(
        &client,
        &base,
        Method::POST,
        "/api/v2/monitors",
        Some(json!({
            "monitor_type": "status",
            "url": format!("http://{target_addr}/health"),
            "pronounceable_name": "kill-switch bench target",
            "check_frequency": CHECK_FREQUENCY.as_secs(),
            "confirmation_period": 0,
            "recovery_period": 0,
            "request_timeout": 2,
        })),
    )
    .await?;
    let monitor_id = monitor["data"]["id"]
        .as_str()
        .context("the monitor's id")?
        .to_string();
    api(
        &client,
        &base,
        Method::POST,
        "/api/admin/guards",
        Some(json!({
            "name": "bench",
            "signal": {"monitor_id": monitor_id},
            "flags": [{"project": "default", "feature": FLAG, "environment": "development"}],
            "on_recovery": "re_enable",
        })),
    )
    .await?;
    wait_monitor_up(&client, &base, &monitor_id).await?;

    let mut baseline_clients = Clients::watch(&client, &stream_client, &base, BASELINE_FLAG);
    let (admin_poll, admin_stream) =
        admin_baseline(trials, &mut baseline_clients, &client, &base).await?;
    baseline_clients.stop();

    let mut clients = Clients::watch(&client, &stream_client, &base, FLAG);
    let started = Instant::now();
    let mut results = Vec::new();
    for i in 0..trials {
        let t = trial(i, trials, &target, &mut clients, &client, &base)
            .await
            .with_context(|| format!("trial {}", i + 1))?;
        eprintln!(
            "trial {:>2}/{trials}: next check after {:>4.0} ms, off in /api/client/features after {:>5.0} ms, on the stream after {:>5.0} ms; back on after {:>5.0} ms",
            i + 1,
            t.to_check.as_secs_f64() * 1000.0,
            t.poll.as_secs_f64() * 1000.0,
            t.stream.as_secs_f64() * 1000.0,
            t.recovery.as_secs_f64() * 1000.0,
        );
        results.push(t);
    }
    let trials_took = started.elapsed();
    clients.stop();
    let checks = target.checks();
    server.stop().await?;

    let gaps: Vec<f64> = checks
        .windows(2)
        .map(|w| (w[1] - w[0]).as_secs_f64())
        .collect();
    let col = |f: &dyn Fn(&Trial) -> f64| results.iter().map(f).collect::<Vec<f64>>();
    let polled = sorted(col(&|t| t.poll.as_secs_f64()));
    let median = quantile(&polled, 0.5).unwrap_or(f64::NAN);

    println!();
    println!(
        "flagwatch kill-switch benchmark{}: {trials} trials; a guard (re_enable) on a flag, an HTTP \
         status monitor (check_frequency {} s, confirmation_period 0) on a loopback target that \
         answers 500 from t0; t0 spread evenly over the check interval; SQLite, {cores} core(s); \
         trials took {:.0} s.",
        if smoke {
            " (SMOKE RUN without --bench: figures are meaningless)"
        } else {
            ""
        },
        CHECK_FREQUENCY.as_secs(),
        trials_took.as_secs_f64(),
    );
    println!();
    println!(
        "{:<62} {:>8} {:>8} {:>8} {:>10} {:>7}",
        "ms", "median", "p90", "max", "median/cf", "max/cf"
    );
    println!(
        "{}",
        row(
            "(1) target fails → off in GET /api/client/features (5 ms polls)",
            col(&|t| t.poll.as_secs_f64())
        )
    );
    println!(
        "{}",
        row(
            "(2) target fails → off on /api/client/streaming (SSE)",
            col(&|t| t.stream.as_secs_f64())
        )
    );
    println!(
        "{}",
        row(
            "    of (1): target fails → the next check reaches it",
            col(&|t| t.to_check.as_secs_f64())
        )
    );
    println!(
        "{}",
        row(
            "    of (1): that check → off in /api/client/features",
            col(&|t| t.check_to_poll.as_secs_f64())
        )
    );
    println!(
        "{}",
        row(
            "    of (2): flag-off event createdAt → SSE update received",
            col(&|t| t.event_to_stream_ms / 1000.0)
        )
    );
    println!(
        "{}",
        row(
            "(3) target restored → back on in /api/client/features",
            col(&|t| t.recovery.as_secs_f64())
        )
    );
    println!(
        "{}",
        row(
            "(b1) baseline: check interval (gap between checks at target)",
            gaps
        )
    );
    println!(
        "{}",
        row(
            "(b2) baseline: admin switch-off → off in /api/client/features",
            admin_poll
        )
    );
    println!(
        "{}",
        row(
            "(b3) baseline: admin switch-off → off on the SSE stream",
            admin_stream
        )
    );
    println!();
    println!(
        "cf = check_frequency ({} s). Target: median of (1) under 1.5 s — {} ({:.0} ms).",
        CHECK_FREQUENCY.as_secs(),
        if median < 1.5 { "met" } else { "NOT met" },
        median * 1000.0
    );
    println!();
    Ok(())
}
