//! Throughput and latency of the SDK-facing APIs against the admin flag list, which reads the
//! database and is the baseline every figure is divided by.
//!
//! `cargo bench --bench sdk_api` starts the real server in-process (port 0, a temporary SQLite
//! file), creates 1,000 flags through the admin API, then runs each scenario with `BENCH_CLIENTS`
//! concurrent clients (default 16) for `BENCH_SECS` seconds (default 3) after a short warm-up.
//! Server and clients share the machine's cores, so absolute figures say little; the ratio to
//! the baseline, measured in the same run, is the figure to compare across machines.
//!
//! Nothing here asserts on timing. Run without `--bench` (as `cargo test --benches` does), it
//! is a smoke test instead: 50 flags, a fraction of a second per scenario, and a non-zero exit
//! only if a request got an unexpected answer.
#![allow(clippy::print_stdout)] // the report is the point
#![allow(clippy::disallowed_methods)] // the benchmark spawns the server and its clients directly

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use common::{ADMIN, BACKEND, Server, quantile};
use futures_util::{StreamExt, TryStreamExt, stream};
use reqwest::header::{ACCEPT_ENCODING, AUTHORIZATION, CONTENT_ENCODING, ETAG, IF_NONE_MATCH};
use reqwest::{Client, RequestBuilder, StatusCode};
use serde_json::json;
use tokio::task::JoinSet;

const FRONTEND: &str = "default:development.bench-frontend";

/// Builds the `n`-th request of a scenario (`n` varies the user and the flag).
type MakeRequest = Arc<dyn Fn(u64) -> RequestBuilder + Send + Sync>;

struct Scenario {
    label: &'static str,
    expect: StatusCode,
    request: MakeRequest,
}

struct Settings {
    flags: usize,
    clients: usize,
    warmup: Duration,
    measure: Duration,
    smoke: bool,
}

impl Settings {
    fn from_env() -> Self {
        let smoke = common::smoke_run();
        let secs = common::bench_secs(3.0);
        let clients = std::env::var("BENCH_CLIENTS")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|c| (1..=1024).contains(c))
            .unwrap_or(16);
        if smoke {
            Self {
                flags: 50,
                clients: clients.min(4),
                warmup: Duration::from_millis(50),
                measure: Duration::from_millis(200),
                smoke,
            }
        } else {
            Self {
                flags: 1000,
                clients,
                warmup: Duration::from_secs_f64((secs / 6.0).min(0.5)),
                measure: Duration::from_secs_f64(secs),
                smoke,
            }
        }
    }
}

/// What one scenario measured.
struct Outcome {
    requests: usize,
    errors: usize,
    bytes: usize,
    elapsed: Duration,
    p50: Duration,
    p99: Duration,
}

impl Outcome {
    fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }
}

/// One client: sends requests back to back until the deadline, timing each.
struct Sample {
    latencies: Vec<Duration>,
    errors: usize,
    bytes: usize,
}

async fn client_loop(
    request: MakeRequest,
    expect: StatusCode,
    deadline: Instant,
    first: u64,
    step: u64,
) -> Sample {
    let mut sample = Sample {
        latencies: Vec::with_capacity(16 * 1024),
        errors: 0,
        bytes: 0,
    };
    let mut n = first;
    while Instant::now() < deadline {
        let started = Instant::now();
        let ok = match request(n).send().await {
            Ok(resp) => {
                let status = resp.status();
                match resp.bytes().await {
                    Ok(body) => {
                        sample.bytes += body.len();
                        status == expect
                    }
                    Err(_) => false,
                }
            }
            Err(_) => false,
        };
        sample.latencies.push(started.elapsed());
        if !ok {
            sample.errors += 1;
        }
        n += step;
    }
    sample
}

async fn run_for(scenario: &Scenario, clients: usize, duration: Duration) -> Outcome {
    let started = Instant::now();
    let deadline = started + duration;
    let mut set = JoinSet::new();
    for c in 0..clients {
        set.spawn(client_loop(
            scenario.request.clone(),
            scenario.expect,
            deadline,
            c as u64,
            clients as u64,
        ));
    }
    let mut latencies = Vec::new();
    let (mut errors, mut bytes) = (0, 0);
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(s) => {
                latencies.extend(s.latencies);
                errors += s.errors;
                bytes += s.bytes;
            }
            Err(_) => errors += 1,
        }
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    let pick = |q: f64| quantile(&latencies, q).unwrap_or(Duration::ZERO);
    Outcome {
        requests: latencies.len(),
        errors,
        bytes,
        elapsed,
        p50: pick(0.50),
        p99: pick(0.99),
    }
}

fn flag_name(i: usize) -> String {
    format!("bench-flag-{i:04}")
}

/// Creates a flag with a `flexibleRollout` strategy and one constraint in development, and
/// switches it on there when `i` is even.
async fn seed_flag(client: &Client, base: &str, i: usize) -> anyhow::Result<()> {
    let name = flag_name(i);
    let features = format!("{base}/api/admin/projects/default/features");
    let send = |rb: RequestBuilder, expect: StatusCode, what: &'static str| async move {
        let resp = rb.header(AUTHORIZATION, ADMIN).send().await?;
        let status = resp.status();
        if status != expect {
            bail!("{what}: {status} {}", resp.text().await.unwrap_or_default());
        }
        Ok(())
    };
    send(
        client
            .post(&features)
            .json(&json!({"name": name, "type": "release", "description": "benchmark flag"})),
        StatusCode::CREATED,
        "create flag",
    )
    .await?;
    send(
        client
            .post(format!(
                "{features}/{name}/environments/development/strategies"
            ))
            .json(&json!({
                "name": "flexibleRollout",
                "parameters": {"rollout": "50", "stickiness": "userId", "groupId": name},
                "constraints": [{
                    "contextName": "plan",
                    "operator": "IN",
                    "values": ["pro", "enterprise"],
                    "caseInsensitive": false,
                    "inverted": false
                }]
            })),
        StatusCode::OK,
        "add strategy",
    )
    .await?;
    if i.is_multiple_of(2) {
        send(
            client.post(format!("{features}/{name}/environments/development/on")),
            StatusCode::OK,
            "switch on",
        )
        .await?;
    }
    Ok(())
}

/// One request answered as expected, returning the response for a closer look.
async fn probe(
    rb: RequestBuilder,
    expect: StatusCode,
    label: &str,
) -> anyhow::Result<reqwest::Response> {
    let resp = rb.send().await.with_context(|| format!("{label}: send"))?;
    ensure!(
        resp.status() == expect,
        "{label}: expected {expect}, got {}",
        resp.status()
    );
    Ok(resp)
}

fn header(resp: &reqwest::Response, name: reqwest::header::HeaderName) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn scenarios(
    client: &Client,
    base: &str,
    etag: &str,
    delta_etag: &str,
    flags: usize,
) -> Vec<Scenario> {
    let get = |path: &str, token: &'static str| -> MakeRequest {
        let (client, url) = (client.clone(), format!("{base}{path}"));
        Arc::new(move |_| client.get(&url).header(AUTHORIZATION, token))
    };
    let with =
        |make: MakeRequest, name: reqwest::header::HeaderName, value: String| -> MakeRequest {
            Arc::new(move |n| make(n).header(name.clone(), value.as_str()))
        };
    let frontend: MakeRequest = {
        let (client, url) = (client.clone(), format!("{base}/api/frontend"));
        Arc::new(move |n| {
            client.post(&url).header(AUTHORIZATION, FRONTEND).json(
                &json!({"context": {"userId": format!("user-{n}"), "properties": {"plan": "pro"}}}),
            )
        })
    };
    let ofrep: MakeRequest = {
        let (client, base) = (client.clone(), base.to_string());
        Arc::new(move |n| {
            let key = flag_name(n as usize % flags);
            client
                .post(format!("{base}/ofrep/v1/evaluate/flags/{key}"))
                .header(AUTHORIZATION, format!("Bearer {FRONTEND}"))
                .json(&json!({"context": {"targetingKey": format!("user-{n}"), "plan": "pro"}}))
        })
    };
    let features = get("/api/client/features", BACKEND);
    vec![
        Scenario {
            label: "(a) GET /api/admin/projects/default/features  [baseline, database]",
            expect: StatusCode::OK,
            request: get("/api/admin/projects/default/features", ADMIN),
        },
        Scenario {
            label: "(b) GET /api/client/features  200",
            expect: StatusCode::OK,
            request: features.clone(),
        },
        Scenario {
            label: "(c) GET /api/client/features  200, gzip",
            expect: StatusCode::OK,
            request: with(features.clone(), ACCEPT_ENCODING, "gzip".into()),
        },
        Scenario {
            label: "(d) GET /api/client/features  304, If-None-Match",
            expect: StatusCode::NOT_MODIFIED,
            request: with(features, IF_NONE_MATCH, etag.to_string()),
        },
        Scenario {
            label: "(e) POST /api/frontend  userId, all flags evaluated",
            expect: StatusCode::OK,
            request: frontend,
        },
        Scenario {
            label: "(f) POST /ofrep/v1/evaluate/flags/{key}  one flag",
            expect: StatusCode::OK,
            request: ofrep,
        },
        Scenario {
            label: "(g) GET /api/client/delta  304, current ETag",
            expect: StatusCode::NOT_MODIFIED,
            request: with(
                get("/api/client/delta", BACKEND),
                IF_NONE_MATCH,
                delta_etag.to_string(),
            ),
        },
    ]
}

fn latency(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.0} µs")
    } else if us < 100_000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{:.0} ms", us / 1000.0)
    }
}

fn size(bytes: f64) -> String {
    if bytes < 10_000.0 {
        format!("{bytes:.0} B")
    } else {
        format!("{:.0} KiB", bytes / 1024.0)
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::from_env();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let server = Server::start(&[
        "--init-backend-api-tokens",
        BACKEND,
        "--init-frontend-api-tokens",
        FRONTEND,
    ])
    .await?;
    let base = server.base.clone();
    let client = Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .context("an HTTP client")?;

    let seeding = Instant::now();
    stream::iter(0..settings.flags)
        .map(|i| seed_flag(&client, &base, i))
        .buffer_unordered(16)
        .try_collect::<()>()
        .await
        .context("seeding the flags")?;
    let seeded_in = seeding.elapsed();

    // Check every scenario answers as expected once, and collect the ETags the 304s need.
    let resp = probe(
        client
            .get(format!("{base}/api/client/features"))
            .header(AUTHORIZATION, BACKEND),
        StatusCode::OK,
        "client features",
    )
    .await?;
    let etag = header(&resp, ETAG).context("client features: no ETag")?;
    let body: serde_json::Value = resp.json().await.context("client features: JSON")?;
    let served = body["features"].as_array().map_or(0, Vec::len);
    ensure!(
        served == settings.flags,
        "client features: {served} flags, expected {}",
        settings.flags
    );
    let resp = probe(
        client
            .get(format!("{base}/api/client/features"))
            .header(AUTHORIZATION, BACKEND)
            .header(ACCEPT_ENCODING, "gzip"),
        StatusCode::OK,
        "client features, gzip",
    )
    .await?;
    ensure!(
        header(&resp, CONTENT_ENCODING).as_deref() == Some("gzip"),
        "client features: not gzipped when asked"
    );
    let resp = probe(
        client
            .get(format!("{base}/api/client/delta"))
            .header(AUTHORIZATION, BACKEND),
        StatusCode::OK,
        "client delta",
    )
    .await?;
    let delta_etag = header(&resp, ETAG).context("client delta: no ETag")?;

    let scenarios = scenarios(&client, &base, &etag, &delta_etag, settings.flags);
    for s in &scenarios {
        probe((s.request)(0), s.expect, s.label).await?;
    }

    println!();
    println!(
        "flagwatch SDK API benchmark{}: {} flags on SQLite, {} concurrent clients, {:.1} s per \
         scenario after {:.1} s warm-up, {cores} core(s) shared by server and clients.",
        if settings.smoke {
            " (SMOKE RUN without --bench: figures are meaningless)"
        } else {
            ""
        },
        settings.flags,
        settings.clients,
        settings.measure.as_secs_f64(),
        settings.warmup.as_secs_f64(),
    );
    println!(
        "Absolute figures depend on the machine and its load; compare the ratios to the baseline \
         (a), measured in the same run. Seeding took {:.1} s (not a figure).",
        seeded_in.as_secs_f64()
    );
    println!();
    let width = scenarios.iter().map(|s| s.label.len()).max().unwrap_or(0);
    println!(
        "{:<width$}  {:>9}  {:>9}  {:>9}  {:>9}  {:>8}  {:>6}",
        "scenario", "req/s", "p50", "p99", "× (a)", "body", "errors"
    );
    let mut baseline = None;
    let mut errors = 0;
    for s in &scenarios {
        run_for(s, settings.clients, settings.warmup).await;
        let o = run_for(s, settings.clients, settings.measure).await;
        let rate = o.per_second();
        let base_rate = *baseline.get_or_insert(rate);
        errors += o.errors;
        println!(
            "{:<width$}  {:>9.0}  {:>9}  {:>9}  {:>9}  {:>8}  {:>6}",
            s.label,
            rate,
            latency(o.p50),
            latency(o.p99),
            format!("{:.1}×", rate / base_rate.max(f64::EPSILON)),
            size(o.bytes as f64 / o.requests.max(1) as f64),
            o.errors,
        );
    }
    println!();

    server.stop().await?;

    if errors > 0 {
        println!("{errors} request(s) got an unexpected answer (see the errors column).");
        if settings.smoke {
            bail!("smoke run: {errors} unexpected answer(s)");
        }
    }
    Ok(())
}
