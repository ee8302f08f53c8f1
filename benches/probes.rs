//! The probe scheduler under load: N HTTP monitors at a 10 s interval against a local target.
//!
//! `cargo bench --bench probes` starts, in this one process, a local HTTP target (axum on
//! 127.0.0.1, `/m/{n}` records when monitor `n`'s check arrived and answers 200 at once) and the
//! real server (port 0, a temporary SQLite file, the scheduler on), creates N `status` monitors
//! (`check_frequency` 10, `request_timeout` 5) pointing at `/m/{i}` through
//! `POST /api/v2/monitors`, 32 requests at a time, waits one interval after the last one was
//! created (every monitor's first check lands somewhere in its first interval), then measures for
//! `BENCH_SECS` seconds (default 30; at least two intervals).
//!
//! Reported per N (`BENCH_MONITORS=1000,10000` by default; each N runs in a child process of its
//! own so that its peak RSS is its own):
//! - checks/s achieved (arrivals at the target in the window) against scheduled (N / 10 s); the
//!   ratio is the headline figure;
//! - scheduling lag: for each monitor, every gap between two consecutive arrivals inside the
//!   window, minus the 10 s period, as an absolute value (the period's jitter), p50 / p99 / max
//!   in ms; and missed intervals (a gap of k periods counts k − 1, a monitor with no arrival in
//!   the window counts all of it);
//! - CPU time (utime + stime from /proc/self/stat) over the window, as cores used, and peak RSS
//!   (VmHWM from /proc/self/status). Both are for the whole process: the server, the target and
//!   the bench's bookkeeping. Monitor creation time is reported separately.
//!
//! Nothing here asserts on timing. Run without `--bench` (as `cargo test --benches` does), it is
//! a smoke test instead: 20 monitors at a 1 s interval for 3 s, failing only if the target saw
//! no checks.
#![allow(clippy::print_stdout)] // the report is the point
#![allow(clippy::disallowed_methods)] // the benchmark spawns the server and the target directly

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use common::{ADMIN, Server, quantile};
use futures_util::{StreamExt, TryStreamExt, stream};
use reqwest::header::AUTHORIZATION;
use reqwest::{Client, StatusCode};
use serde_json::json;
use tokio::net::TcpListener;

/// Monitor creations in flight at once.
const CREATE_CONCURRENCY: usize = 32;

struct Settings {
    monitors: Vec<usize>,
    period: Duration,
    warmup: Duration,
    measure: Duration,
    smoke: bool,
}

impl Settings {
    fn from_env() -> Self {
        let smoke = common::smoke_run();
        let secs = common::bench_secs(30.0);
        let monitors: Vec<usize> = std::env::var("BENCH_MONITORS")
            .ok()
            .map(|v| {
                v.split(',')
                    .filter_map(|n| n.trim().replace('_', "").parse().ok())
                    .filter(|n| (1..=100_000).contains(n))
                    .collect()
            })
            .filter(|v: &Vec<usize>| !v.is_empty())
            .unwrap_or_else(|| vec![1000, 10_000]);
        if smoke {
            Self {
                monitors: vec![20],
                period: Duration::from_secs(1),
                warmup: Duration::from_secs(1),
                measure: Duration::from_secs(3),
                smoke,
            }
        } else {
            let period = Duration::from_secs(10);
            Self {
                monitors,
                period,
                warmup: period,
                measure: Duration::from_secs_f64(secs).max(2 * period),
                smoke,
            }
        }
    }
}

/// When each monitor's checks reached the target, indexed by monitor number.
type Arrivals = Arc<Mutex<Vec<Vec<Instant>>>>;

async fn start_target(monitors: usize) -> anyhow::Result<(SocketAddr, Arrivals)> {
    let arrivals: Arrivals = Arc::new(Mutex::new(vec![Vec::new(); monitors]));
    let app = Router::new()
        .route(
            "/m/{n}",
            get(
                |State(a): State<Arrivals>, Path(n): Path<usize>| async move {
                    let now = Instant::now();
                    if let Ok(mut a) = a.lock()
                        && let Some(times) = a.get_mut(n)
                    {
                        times.push(now);
                    }
                    "ok"
                },
            ),
        )
        .with_state(arrivals.clone());
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .context("the target binds")?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((addr, arrivals))
}

async fn create_monitor(
    client: &Client,
    base: &str,
    target: SocketAddr,
    i: usize,
    period: Duration,
) -> anyhow::Result<()> {
    let resp = client
        .post(format!("{base}/api/v2/monitors"))
        .header(AUTHORIZATION, format!("Bearer {ADMIN}"))
        .json(&json!({
            "monitor_type": "status",
            "url": format!("http://{target}/m/{i}"),
            "pronounceable_name": format!("bench-{i:05}"),
            "check_frequency": period.as_secs(),
            "request_timeout": 5,
            "http_method": "get",
        }))
        .send()
        .await?;
    let status = resp.status();
    if status != StatusCode::CREATED {
        bail!(
            "create monitor {i}: {status} {}",
            resp.text().await.unwrap_or_default()
        );
    }
    Ok(())
}

/// utime + stime of this process, in seconds.
fn cpu_seconds() -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").context("/proc/self/stat")?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').context("/proc/self/stat format")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| -> anyhow::Result<f64> {
        Ok(fields
            .get(i)
            .context("/proc/self/stat fields")?
            .parse::<f64>()?)
    };
    // Field 14 is the 12th after the name (state is the 3rd field, index 0 here).
    Ok((ticks(11)? + ticks(12)?) / clock_ticks())
}

fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|t| *t > 0.0)
        .unwrap_or(100.0)
}

/// Peak resident set size of this process, in MiB.
fn peak_rss_mib() -> anyhow::Result<f64> {
    let status = std::fs::read_to_string("/proc/self/status").context("/proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .context("no VmHWM")?;
    let kib: f64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()?;
    Ok(kib / 1024.0)
}

/// What one run measured.
struct Outcome {
    monitors: usize,
    created_in: Duration,
    scheduled_per_sec: f64,
    achieved_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    gaps: usize,
    missed: usize,
    cores_used: f64,
    peak_rss_mib: f64,
}

fn summarise(
    arrivals: &[Vec<Instant>],
    from: Instant,
    to: Instant,
    period: Duration,
) -> (usize, Vec<f64>, usize) {
    let period_s = period.as_secs_f64();
    let window_s = (to - from).as_secs_f64();
    let (mut checks, mut lags, mut missed) = (0, Vec::new(), 0);
    for times in arrivals {
        let inside: Vec<Instant> = times
            .iter()
            .copied()
            .filter(|t| *t >= from && *t < to)
            .collect();
        checks += inside.len();
        if inside.is_empty() {
            missed += (window_s / period_s).floor() as usize;
            continue;
        }
        for pair in inside.windows(2) {
            let gap = (pair[1] - pair[0]).as_secs_f64();
            lags.push((gap - period_s).abs() * 1000.0);
            let periods = (gap / period_s).round() as usize;
            missed += periods.saturating_sub(1);
        }
    }
    lags.sort_unstable_by(f64::total_cmp);
    (checks, lags, missed)
}

async fn run_one(settings: &Settings, monitors: usize) -> anyhow::Result<Outcome> {
    let (target, arrivals) = start_target(monitors).await?;
    let server = Server::start(&["--probe-scheduler", "true"]).await?;
    let base = server.base.clone();
    let client = Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .context("an HTTP client")?;

    let creating = Instant::now();
    stream::iter(0..monitors)
        .map(|i| create_monitor(&client, &base, target, i, settings.period))
        .buffer_unordered(CREATE_CONCURRENCY)
        .try_collect::<()>()
        .await
        .context("creating the monitors")?;
    let created_in = creating.elapsed();

    tokio::time::sleep(settings.warmup).await;
    let cpu_before = cpu_seconds()?;
    let from = Instant::now();
    tokio::time::sleep(settings.measure).await;
    let to = Instant::now();
    let cpu_after = cpu_seconds()?;
    let peak_rss_mib = peak_rss_mib()?;

    let (checks, lags, missed) = {
        let arrivals = arrivals
            .lock()
            .map_err(|_| anyhow::anyhow!("the arrivals lock is poisoned"))?;
        summarise(&arrivals, from, to, settings.period)
    };
    let window = (to - from).as_secs_f64();

    server.stop().await?;

    Ok(Outcome {
        monitors,
        created_in,
        scheduled_per_sec: monitors as f64 / settings.period.as_secs_f64(),
        achieved_per_sec: checks as f64 / window,
        p50_ms: quantile(&lags, 0.50).unwrap_or(f64::NAN),
        p99_ms: quantile(&lags, 0.99).unwrap_or(f64::NAN),
        max_ms: lags.last().copied().unwrap_or(f64::NAN),
        gaps: lags.len(),
        missed,
        cores_used: (cpu_after - cpu_before) / window,
        peak_rss_mib,
    })
}

const HEADER: &str = "monitors  created in  scheduled/s  achieved/s  achieved/scheduled  lag p50  lag p99  lag max   gaps  missed  CPU (cores)  peak RSS";

fn row(o: &Outcome) -> String {
    format!(
        "{:>8}  {:>8.1} s  {:>11.1}  {:>10.1}  {:>18.3}  {:>4.0} ms  {:>4.0} ms  {:>4.0} ms  {:>5}  {:>6}  {:>11.2}  {:>5.0} MiB",
        o.monitors,
        o.created_in.as_secs_f64(),
        o.scheduled_per_sec,
        o.achieved_per_sec,
        o.achieved_per_sec / o.scheduled_per_sec,
        o.p50_ms,
        o.p99_ms,
        o.max_ms,
        o.gaps,
        o.missed,
        o.cores_used,
        o.peak_rss_mib,
    )
}

/// Prefix of the line a child process prints for its parent.
const ROW: &str = "PROBES-BENCH-ROW ";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::from_env();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let child = std::env::var_os("PROBES_BENCH_CHILD").is_some();

    if child || settings.monitors.len() == 1 {
        let monitors = settings.monitors[0];
        let outcome = run_one(&settings, monitors).await?;
        if child {
            println!("{ROW}{}", row(&outcome));
            return Ok(());
        }
        print_report(&settings, cores, &[row(&outcome)]);
        if settings.smoke {
            ensure!(
                outcome.achieved_per_sec > 0.0,
                "smoke run: the target saw no checks"
            );
        }
        return Ok(());
    }

    // One child process per N, so that each peak RSS is that run's own.
    let exe = std::env::current_exe().context("this benchmark's path")?;
    let mut rows = Vec::new();
    for &monitors in &settings.monitors {
        let out = std::process::Command::new(&exe)
            .args(std::env::args().skip(1))
            .env("BENCH_MONITORS", monitors.to_string())
            .env("PROBES_BENCH_CHILD", "1")
            .stderr(std::process::Stdio::inherit())
            .output()
            .with_context(|| format!("running N = {monitors}"))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        ensure!(
            out.status.success(),
            "N = {monitors} failed ({}): {stdout}",
            out.status
        );
        let line = stdout
            .lines()
            .find_map(|l| l.strip_prefix(ROW))
            .with_context(|| format!("N = {monitors}: no result in {stdout:?}"))?;
        rows.push(line.to_string());
    }
    print_report(&settings, cores, &rows);
    Ok(())
}

fn print_report(settings: &Settings, cores: usize, rows: &[String]) {
    println!();
    println!(
        "flagwatch probe scheduler benchmark{}: HTTP `status` monitors every {} s against a local \
         target, {:.0} s measured after a {:.0} s warm-up, SQLite, {cores} core(s).",
        if settings.smoke {
            " (SMOKE RUN without --bench: figures are meaningless)"
        } else {
            ""
        },
        settings.period.as_secs(),
        settings.measure.as_secs_f64(),
        settings.warmup.as_secs_f64(),
    );
    println!(
        "Lag = |gap between a monitor's consecutive checks − period|. CPU and peak RSS are the \
         whole bench process: server, target and bookkeeping together."
    );
    println!();
    println!("{HEADER}");
    for r in rows {
        println!("{r}");
    }
    println!();
}
