//! The server's own metrics, for Prometheus (`/metrics`); not to be confused with
//! `service::metrics`, what SDKs report. [`Service::gather_metrics`] collects them per scrape
//! as metric families; `http::prometheus` writes them in the text format.
//!
//! Where each value comes from, chosen so a scrape stays cheap and the numbers stay right
//! across restarts and replicas:
//! - Flags (`feature_flag_enabled`, `feature_flag_rollout_percent`): the in-memory snapshot.
//! - Monitors (`monitor_up`, `monitor_status`): one read of the `monitor` table (one row each).
//! - `incidents_total`, `kill_switch_actions_total`: counted from the event log, which every
//!   replica shares and which survives restarts, by an [`EventTally`] that reads only the
//!   events it has not seen yet (a primary-key range), so every replica reports the same
//!   cluster-wide totals.
//! - `feature_flag_used`: the SDK reports of the last hour (`client_metric_hour`'s hour index).
//! - `monitor_response_seconds`, `http_request_duration_seconds`,
//!   `feature_flag_evaluations_total`: observed in memory by this replica as results,
//!   requests and SDK reports come in; they start at zero with the process, as Prometheus
//!   counters and histograms may, and sum across replicas.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::domain::Timestamp;
use crate::domain::event::kind;
use crate::domain::feature::FeatureEnvironment;
use crate::service::Service;
use crate::store::{MonitorStatus, Reader, StoreError, TalliedEvent};

/// Bucket bounds of `http_request_duration_seconds`: SDK polls answered from the snapshot take
/// well under a millisecond, admin writes a few.
pub const HTTP_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Bucket bounds of `monitor_response_seconds`: from a LAN ping to a check near its timeout.
pub const CHECK_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// How recent an SDK's report of a flag must be for `feature_flag_used` to be 1.
pub const USED_WITHIN: Duration = Duration::from_secs(3600);

/// How long a transaction may keep an event id it took before committing it: the tally
/// re-reads events this young, so one committed out of id order is still counted once.
const SETTLE: Duration = Duration::from_secs(60);

/// Events read per query while the tally catches up.
const TALLY_PAGE: i64 = 5000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
            Self::Histogram => "histogram",
        }
    }
}

/// One metric: its name, help line, type and samples (one per label set).
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    pub name: &'static str,
    pub help: &'static str,
    pub kind: Kind,
    pub samples: Vec<Sample>,
}

impl Family {
    fn new(name: &'static str, kind: Kind, help: &'static str) -> Self {
        Self {
            name,
            help,
            kind,
            samples: Vec::new(),
        }
    }

    fn push(&mut self, labels: Vec<(&'static str, String)>, value: f64) {
        self.samples.push(Sample {
            labels,
            value: Value::Number(value),
        });
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Label names and raw (unescaped) values.
    pub labels: Vec<(&'static str, String)>,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Number(f64),
    Histogram(Histogram),
}

/// Observations counted into fixed buckets, as Prometheus histograms are.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    bounds: &'static [f64],
    /// Observations per bucket (not cumulative); one more than `bounds`, the last for +Inf.
    counts: Vec<u64>,
    sum: f64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: vec![0; bounds.len() + 1],
            sum: 0.0,
        }
    }

    pub fn observe(&mut self, value: f64) {
        let i = self
            .bounds
            .iter()
            .position(|b| value <= *b)
            .unwrap_or(self.bounds.len());
        self.counts[i] += 1;
        self.sum += value;
    }

    /// `(upper bound, observations ≤ it)` for each finite bound, cumulative as exposed.
    pub fn cumulative(&self) -> impl Iterator<Item = (f64, u64)> + '_ {
        let mut seen = 0;
        self.bounds.iter().zip(&self.counts).map(move |(bound, n)| {
            seen += n;
            (*bound, seen)
        })
    }

    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    pub fn sum(&self) -> f64 {
        self.sum
    }
}

/// `http_request_duration_seconds`' labels.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct HttpKey {
    method: &'static str,
    route: String,
    status: &'static str,
}

/// The in-memory half of the metrics, kept by the service for the life of the process.
pub struct ServerMetrics {
    started: SystemTime,
    /// SHA-256 of `METRICS_TOKEN`, if one is configured.
    scrape_token: RwLock<Option<[u8; 32]>>,
    http: Mutex<HashMap<HttpKey, Histogram>>,
    /// Monitor id → its check response times.
    checks: Mutex<HashMap<i64, Histogram>>,
    /// (flag, environment) → [yes, no] evaluations SDKs reported to this replica.
    evaluations: Mutex<HashMap<(String, String), [u64; 2]>>,
    tally: tokio::sync::Mutex<EventTally>,
    /// The monitors as last read, to label the response histograms while the database is away.
    monitors: Mutex<Vec<MonitorStatus>>,
}

impl Default for ServerMetrics {
    fn default() -> Self {
        Self {
            started: SystemTime::now(),
            scrape_token: RwLock::new(None),
            http: Mutex::default(),
            checks: Mutex::default(),
            evaluations: Mutex::default(),
            tally: tokio::sync::Mutex::default(),
            monitors: Mutex::default(),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn sha256(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

impl ServerMetrics {
    /// Sets the dedicated scrape secret (`METRICS_TOKEN`); `None` or blank: admin tokens only.
    /// Only its hash is kept.
    pub fn set_scrape_token(&self, secret: Option<&str>) {
        let hash = secret.map(str::trim).filter(|s| !s.is_empty()).map(sha256);
        *self
            .scrape_token
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = hash;
    }

    /// Whether `secret` is the scrape secret, compared in constant time (as hashes, so the
    /// comparison does not reveal the secret's length either).
    pub fn is_scrape_token(&self, secret: &str) -> bool {
        let expected = *self
            .scrape_token
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        expected.is_some_and(|e| bool::from(e.ct_eq(&sha256(secret))))
    }

    /// Counts one answered request: `route` is the matched route template (never the raw
    /// path, which can carry secrets), `status` the HTTP status code.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, took: Duration) {
        let key = HttpKey {
            method: method_label(method),
            route: route.to_string(),
            status: status_class(status),
        };
        lock(&self.http)
            .entry(key)
            .or_insert_with(|| Histogram::new(HTTP_BUCKETS))
            .observe(took.as_secs_f64());
    }

    /// Counts one check result of monitor `monitor_id` that took `took`.
    pub fn observe_check(&self, monitor_id: i64, took: Duration) {
        lock(&self.checks)
            .entry(monitor_id)
            .or_insert_with(|| Histogram::new(CHECK_BUCKETS))
            .observe(took.as_secs_f64());
    }

    /// Adds an SDK's yes/no evaluation counts for a flag in an environment.
    pub fn count_evaluations(&self, flag: &str, environment: &str, yes: i64, no: i64) {
        let mut evaluations = lock(&self.evaluations);
        let counts = evaluations
            .entry((flag.to_string(), environment.to_string()))
            .or_default();
        counts[0] = counts[0].saturating_add(yes.max(0).unsigned_abs());
        counts[1] = counts[1].saturating_add(no.max(0).unsigned_abs());
    }
}

/// A method as a label: the standard ones by name, anything else as `other` (so a client
/// cannot grow the label set).
fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE",
    ];
    KNOWN.into_iter().find(|m| *m == method).unwrap_or("other")
}

fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// Running totals of incidents opened and flags switched by guards, counted from the event
/// log without re-reading it: after a first count (grouped in SQL), each refresh reads only
/// the events above a watermark.
///
/// Event ids are taken when a transaction inserts and become visible when it commits. Writers
/// are serialised today (SQLite's lock, PostgreSQL's advisory lock), so ids appear in order,
/// but the tally does not rely on it: should an event appear below ids already read, it is
/// still counted, once. The watermark therefore trails:
/// it moves to the highest id seen `SETTLE` ago, and the events above it that were already
/// counted are remembered (`recent`) so that reading them again does not count them twice.
#[derive(Debug, Default)]
struct EventTally {
    loaded: bool,
    /// Every tallied event at or below it has been counted.
    watermark: i64,
    /// Counted events above the watermark.
    recent: BTreeSet<i64>,
    /// (highest event id, when it was read): once `SETTLE` has passed, nothing committed
    /// later can have a lower id.
    checkpoints: VecDeque<(i64, Instant)>,
    /// Monitor id → incidents opened.
    incidents: BTreeMap<i64, u64>,
    /// (action, guard name) → flags switched.
    kill_switch: BTreeMap<(&'static str, String), u64>,
}

impl EventTally {
    fn count(&mut self, event_type: &str, created_by: &str, n: u64) {
        if event_type == kind::INCIDENT_OPENED {
            if let Some(id) = created_by
                .strip_prefix("probe:")
                .and_then(|id| id.parse().ok())
            {
                *self.incidents.entry(id).or_default() += n;
            }
            return;
        }
        let action = match event_type {
            kind::FEATURE_ENVIRONMENT_DISABLED => "disabled",
            kind::FEATURE_ENVIRONMENT_ENABLED => "enabled",
            _ => return,
        };
        if let Some(guard) = created_by.strip_prefix("guard:") {
            *self
                .kill_switch
                .entry((action, guard.to_string()))
                .or_default() += n;
        }
    }

    fn count_event(&mut self, e: &TalliedEvent) {
        self.count(&e.event_type, &e.created_by, 1);
    }

    /// Brings the totals up to what `r` sees; `now` and `wall` are the same moment.
    async fn refresh(
        &mut self,
        r: &mut Reader,
        now: Instant,
        wall: Timestamp,
    ) -> Result<(), StoreError> {
        if !self.loaded {
            // Events older than SETTLE are final: count them in SQL. Younger ones are
            // counted one by one and remembered, as later refreshes may see them again.
            let settle_ms = i64::try_from(SETTLE.as_millis()).unwrap_or(i64::MAX);
            let cutoff = Timestamp(wall.millis().saturating_sub(settle_ms));
            let mut fresh = Self::default();
            for g in r.tallied_groups_before(cutoff).await? {
                fresh.count(&g.event_type, &g.created_by, g.count.unsigned_abs());
                fresh.watermark = fresh.watermark.max(g.last_id);
            }
            for e in r.tallied_events_since(cutoff).await? {
                if e.id > fresh.watermark {
                    fresh.recent.insert(e.id);
                }
                fresh.count_event(&e);
            }
            fresh.loaded = true;
            *self = fresh;
        }
        let max = r.max_event_id().await?;
        if self.checkpoints.back().is_none_or(|(id, _)| *id < max) {
            self.checkpoints.push_back((max, now));
        }
        let mut after = self.watermark;
        loop {
            let page = r.tallied_events_after(after, TALLY_PAGE).await?;
            for e in &page {
                if self.recent.insert(e.id) {
                    self.count_event(e);
                }
                after = e.id;
            }
            if i64::try_from(page.len()).unwrap_or(i64::MAX) < TALLY_PAGE {
                break;
            }
        }
        while let Some((id, at)) = self.checkpoints.front().copied() {
            if now.duration_since(at) < SETTLE {
                break;
            }
            self.watermark = self.watermark.max(id);
            self.checkpoints.pop_front();
        }
        self.recent = self.recent.split_off(&(self.watermark + 1));
        Ok(())
    }
}

/// What a scrape read from the database.
struct Stored {
    monitors: Vec<MonitorStatus>,
    guards: Vec<String>,
    seen: HashSet<(String, String)>,
}

impl Service {
    /// The server's own metrics (the in-process ones, [`ServerMetrics`]).
    pub fn server_metrics(&self) -> &ServerMetrics {
        &self.server_metrics
    }

    /// Every metric, as of now. Never fails: while the database is away the metrics read from
    /// it are left out (and `flagwatch_metrics_store_up` is 0), the rest are served.
    pub async fn gather_metrics(&self) -> Vec<Family> {
        let wall = Timestamp::now();
        let stored = match self.read_for_metrics(wall).await {
            Ok(stored) => {
                *lock(&self.server_metrics.monitors) = stored.monitors.clone();
                Some(stored)
            }
            Err(e) => {
                tracing::warn!(error = %e, "metrics: the database could not be read; serving the in-memory metrics only");
                None
            }
        };
        let mut families = self.flag_families(stored.as_ref());
        families.extend(self.monitor_families(stored.as_ref()).await);
        families.extend(self.http_families());
        families.extend(process_families(self.server_metrics.started));
        let mut store_up = Family::new(
            "flagwatch_metrics_store_up",
            Kind::Gauge,
            "1 if this scrape could read the database, 0 if the metrics read from it were left out.",
        );
        store_up.push(vec![], if stored.is_some() { 1.0 } else { 0.0 });
        families.push(store_up);
        families
    }

    async fn read_for_metrics(&self, wall: Timestamp) -> Result<Stored, StoreError> {
        let mut r = self.store.read().await?;
        let monitors = r.monitor_statuses().await?;
        let guards = r.guards().await?.into_iter().map(|g| g.spec.name).collect();
        let within = i64::try_from(USED_WITHIN.as_millis()).unwrap_or(i64::MAX);
        let seen = r
            .features_seen_since(Timestamp(wall.millis().saturating_sub(within)))
            .await?
            .into_iter()
            .collect();
        self.server_metrics
            .tally
            .lock()
            .await
            .refresh(&mut r, Instant::now(), wall)
            .await?;
        Ok(Stored {
            monitors,
            guards,
            seen,
        })
    }

    fn flag_families(&self, stored: Option<&Stored>) -> Vec<Family> {
        let snapshot = self.snapshots.current();
        let mut revision = Family::new(
            "flagwatch_revision",
            Kind::Gauge,
            "The configuration revision (highest flag or segment event id) this replica serves.",
        );
        revision.push(vec![], snapshot.revision as f64);
        let mut enabled = Family::new(
            "feature_flag_enabled",
            Kind::Gauge,
            "1 if the flag is switched on in the environment, 0 if off.",
        );
        let mut rollout = Family::new(
            "feature_flag_rollout_percent",
            Kind::Gauge,
            "Rollout percentage SDKs are served: the highest of the flag's enabled flexibleRollout, gradualRollout* and default (100) strategies; 100 when it is on with no strategy, 0 when off. Constraints and segments are not taken into account.",
        );
        let mut used = Family::new(
            "feature_flag_used",
            Kind::Gauge,
            "1 if an SDK reported evaluating the flag in the environment within the last hour, else 0.",
        );
        for f in snapshot.features() {
            for e in &f.environments {
                let env = &e.environment.name;
                enabled.push(
                    vec![
                        ("project", f.project.clone()),
                        ("flag_name", f.name.clone()),
                        ("environment", env.clone()),
                    ],
                    if e.enabled { 1.0 } else { 0.0 },
                );
                if let Some(percent) = rollout_percent(e) {
                    rollout.push(
                        vec![("flag_name", f.name.clone()), ("environment", env.clone())],
                        percent,
                    );
                }
                if let Some(stored) = stored {
                    let key = (f.name.clone(), env.clone());
                    let seen = stored.seen.contains(&key);
                    used.push(
                        vec![("flag_name", key.0), ("environment", key.1)],
                        if seen { 1.0 } else { 0.0 },
                    );
                }
            }
        }
        let mut evaluations = Family::new(
            "feature_flag_evaluations_total",
            Kind::Counter,
            "Flag evaluations SDKs reported to this replica since it started, by result.",
        );
        let mut counted: Vec<_> = lock(&self.server_metrics.evaluations)
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        counted.sort_unstable();
        for ((flag, env), [yes, no]) in counted {
            for (result, n) in [("yes", yes), ("no", no)] {
                evaluations.push(
                    vec![
                        ("flag_name", flag.clone()),
                        ("environment", env.clone()),
                        ("result", result.to_string()),
                    ],
                    n as f64,
                );
            }
        }
        let mut families = vec![revision, enabled, rollout];
        if stored.is_some() {
            families.push(used);
        }
        families.push(evaluations);
        families
    }

    async fn monitor_families(&self, stored: Option<&Stored>) -> Vec<Family> {
        let mut families = Vec::new();
        let monitors = match stored {
            Some(s) => s.monitors.clone(),
            None => lock(&self.server_metrics.monitors).clone(),
        };
        let labels = |m: &MonitorStatus| {
            vec![
                ("monitor", m.name.clone()),
                ("monitor_id", m.id.to_string()),
                ("type", m.monitor_type.clone()),
            ]
        };
        if stored.is_some() {
            let mut up = Family::new(
                "monitor_up",
                Kind::Gauge,
                "1 if the monitor is up, 0 if down or validating (its incident is still open); absent while pending, paused or in maintenance (see monitor_status).",
            );
            let mut status = Family::new(
                "monitor_status",
                Kind::Gauge,
                "1 for the monitor's current status (pending, up, validating, down, paused, maintenance), 0 for the others.",
            );
            for m in &monitors {
                match m.status.as_str() {
                    "up" => up.push(labels(m), 1.0),
                    "down" | "validating" => up.push(labels(m), 0.0),
                    _ => {}
                }
                for s in [
                    "pending",
                    "up",
                    "validating",
                    "down",
                    "paused",
                    "maintenance",
                ] {
                    let mut l = labels(m);
                    l.push(("status", s.to_string()));
                    status.push(l, if m.status == s { 1.0 } else { 0.0 });
                }
            }
            families.push(up);
            families.push(status);
        }

        let mut response = Family::new(
            "monitor_response_seconds",
            Kind::Histogram,
            "Response times of the checks this replica ran or received, per monitor (heartbeats have none).",
        );
        {
            let mut checks = lock(&self.server_metrics.checks);
            // Monitors deleted since are dropped, so their series end.
            if stored.is_some() {
                let live: HashSet<i64> = monitors.iter().map(|m| m.id).collect();
                checks.retain(|id, _| live.contains(id));
            }
            for m in monitors.iter().filter(|m| m.monitor_type != "heartbeat") {
                if let Some(h) = checks.get(&m.id) {
                    response.samples.push(Sample {
                        labels: vec![
                            ("monitor", m.name.clone()),
                            ("monitor_id", m.id.to_string()),
                        ],
                        value: Value::Histogram(h.clone()),
                    });
                }
            }
        }
        families.push(response);

        let tally = self.server_metrics.tally.lock().await;
        if tally.loaded {
            let mut incidents = Family::new(
                "incidents_total",
                Kind::Counter,
                "Incidents opened for the monitor, ever (counted from the shared event log: the same on every replica).",
            );
            for m in &monitors {
                let n = tally.incidents.get(&m.id).copied().unwrap_or(0);
                incidents.push(
                    vec![
                        ("monitor", m.name.clone()),
                        ("monitor_id", m.id.to_string()),
                    ],
                    n as f64,
                );
            }
            let mut actions = Family::new(
                "kill_switch_actions_total",
                Kind::Counter,
                "Flags switched off (action=\"disabled\") or back on (action=\"enabled\") by a guard, ever (counted from the shared event log: the same on every replica).",
            );
            let mut counted = tally.kill_switch.clone();
            // Every current guard has its series from the start, so the first action shows as an increase.
            for guard in stored.map(|s| s.guards.as_slice()).unwrap_or_default() {
                for action in ["disabled", "enabled"] {
                    counted.entry((action, guard.clone())).or_default();
                }
            }
            for ((action, guard), n) in counted {
                actions.push(
                    vec![("action", action.to_string()), ("guard", guard)],
                    n as f64,
                );
            }
            families.push(incidents);
            families.push(actions);
        }
        families
    }

    fn http_families(&self) -> Vec<Family> {
        let mut duration = Family::new(
            "http_request_duration_seconds",
            Kind::Histogram,
            "Time to answer a request (to the response head), by method, route template and status class.",
        );
        let mut requests: Vec<_> = lock(&self.server_metrics.http)
            .iter()
            .map(|(k, h)| (k.clone(), h.clone()))
            .collect();
        requests.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for (key, h) in requests {
            duration.samples.push(Sample {
                labels: vec![
                    ("method", key.method.to_string()),
                    ("route", key.route),
                    ("status", key.status.to_string()),
                ],
                value: Value::Histogram(h),
            });
        }
        vec![duration]
    }
}

/// What SDKs are served as the flag's rollout in one environment (see the help text of
/// `feature_flag_rollout_percent`); `None` when only strategies without a percentage
/// (user ids, IP addresses, host names, custom ones) are enabled.
pub fn rollout_percent(e: &FeatureEnvironment) -> Option<f64> {
    if !e.enabled {
        return Some(0.0);
    }
    let active: Vec<_> = e.strategies.iter().filter(|s| !s.disabled).collect();
    if active.is_empty() {
        return Some(100.0);
    }
    active
        .iter()
        .filter_map(|s| {
            let parameter = match s.name.as_str() {
                "default" => return Some(100.0),
                "flexibleRollout" => "rollout",
                "gradualRolloutUserId" | "gradualRolloutSessionId" | "gradualRolloutRandom" => {
                    "percentage"
                }
                _ => return None,
            };
            s.parameters
                .get(parameter)
                .and_then(|p| p.trim().parse::<f64>().ok())
                .filter(|p| p.is_finite())
                .map(|p| p.clamp(0.0, 100.0))
        })
        .reduce(f64::max)
}

/// `flagwatch_build_info` and, on Linux, the usual `process_*` metrics from `/proc/self`.
fn process_families(started: SystemTime) -> Vec<Family> {
    let mut build = Family::new(
        "flagwatch_build_info",
        Kind::Gauge,
        "Always 1; the version of the running flagwatch.",
    );
    build.push(
        vec![("version", env!("CARGO_PKG_VERSION").to_string())],
        1.0,
    );
    let mut families = vec![build];
    let mut start = Family::new(
        "process_start_time_seconds",
        Kind::Gauge,
        "Start time of the process since the Unix epoch, in seconds.",
    );
    start.push(
        vec![],
        started
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64(),
    );
    families.push(start);
    families.extend(linux_process_families());
    families
}

/// CPU time, memory and file descriptors, read from `/proc/self`; nothing elsewhere.
fn linux_process_families() -> Vec<Family> {
    let mut families = Vec::new();
    // utime and stime are fields 14 and 15 of /proc/self/stat, in USER_HZ ticks (100 a second
    // on every Linux architecture); the command name before them may hold spaces, so count
    // from the closing parenthesis.
    if let Ok(stat) = std::fs::read_to_string("/proc/self/stat")
        && let Some((_, rest)) = stat.rsplit_once(')')
    {
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
        if let (Some(user), Some(system)) = (ticks(11), ticks(12)) {
            let mut cpu = Family::new(
                "process_cpu_seconds_total",
                Kind::Counter,
                "Total user and system CPU time spent in seconds.",
            );
            cpu.push(vec![], (user + system) / 100.0);
            families.push(cpu);
        }
    }
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        let kib = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
                .map(|k| k * 1024.0)
        };
        for (key, name, help) in [
            (
                "VmRSS:",
                "process_resident_memory_bytes",
                "Resident memory size in bytes.",
            ),
            (
                "VmSize:",
                "process_virtual_memory_bytes",
                "Virtual memory size in bytes.",
            ),
        ] {
            if let Some(bytes) = kib(key) {
                let mut f = Family::new(name, Kind::Gauge, help);
                f.push(vec![], bytes);
                families.push(f);
            }
        }
    }
    if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
        let mut open = Family::new(
            "process_open_fds",
            Kind::Gauge,
            "Number of open file descriptors.",
        );
        open.push(vec![], fds.count() as f64);
        families.push(open);
    }
    if let Ok(limits) = std::fs::read_to_string("/proc/self/limits")
        && let Some(max) = limits
            .lines()
            .find(|l| l.starts_with("Max open files"))
            .and_then(|l| l.split_whitespace().nth(3))
            .and_then(|v| v.parse::<f64>().ok())
    {
        let mut f = Family::new(
            "process_max_fds",
            Kind::Gauge,
            "Maximum number of open file descriptors.",
        );
        f.push(vec![], max);
        families.push(f);
    }
    families
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::feature::Environment;
    use crate::domain::strategy::Strategy;

    fn env(enabled: bool, strategies: Vec<(&str, &str, &str, bool)>) -> FeatureEnvironment {
        FeatureEnvironment {
            environment: Environment {
                name: "development".into(),
                env_type: "development".into(),
                sort_order: 1,
                enabled: true,
            },
            enabled,
            variants: vec![],
            strategies: strategies
                .into_iter()
                .map(|(name, key, value, disabled)| Strategy {
                    id: name.into(),
                    name: name.into(),
                    title: None,
                    disabled,
                    sort_order: 0,
                    constraints: vec![],
                    parameters: [(key.to_string(), value.to_string())].into(),
                    variants: vec![],
                    segments: vec![],
                })
                .collect(),
        }
    }

    #[test]
    fn rollout_is_the_highest_enabled_percentage() {
        assert_eq!(rollout_percent(&env(false, vec![])), Some(0.0));
        assert_eq!(rollout_percent(&env(true, vec![])), Some(100.0));
        assert_eq!(
            rollout_percent(&env(
                true,
                vec![
                    ("flexibleRollout", "rollout", "25", false),
                    ("gradualRolloutRandom", "percentage", "40", false),
                    ("flexibleRollout", "rollout", "90", true),
                    ("userWithId", "userIds", "a,b", false),
                ]
            )),
            Some(40.0)
        );
        assert_eq!(
            rollout_percent(&env(true, vec![("userWithId", "userIds", "a", false)])),
            None
        );
        assert_eq!(
            rollout_percent(&env(true, vec![("default", "", "", false)])),
            Some(100.0)
        );
        assert_eq!(
            rollout_percent(&env(
                false,
                vec![("flexibleRollout", "rollout", "50", false)]
            )),
            Some(0.0)
        );
    }

    #[test]
    fn histograms_are_cumulative() {
        let mut h = Histogram::new(&[0.1, 1.0]);
        for v in [0.05, 0.1, 0.5, 3.0] {
            h.observe(v);
        }
        assert_eq!(h.cumulative().collect::<Vec<_>>(), vec![(0.1, 2), (1.0, 3)]);
        assert_eq!(h.count(), 4);
        assert!((h.sum() - 3.65).abs() < 1e-9);
    }

    #[test]
    fn scrape_token_is_compared_as_configured() {
        let m = ServerMetrics::default();
        assert!(!m.is_scrape_token("s3cret"));
        m.set_scrape_token(Some("  s3cret "));
        assert!(m.is_scrape_token("s3cret"));
        assert!(!m.is_scrape_token("s3cre"));
        m.set_scrape_token(Some(" "));
        assert!(!m.is_scrape_token(""));
    }

    #[test]
    fn labels_stay_bounded() {
        assert_eq!(method_label("GET"), "GET");
        assert_eq!(method_label("BREW"), "other");
        assert_eq!(status_class(204), "2xx");
        assert_eq!(status_class(503), "5xx");
    }

    #[test]
    fn tally_counts_incidents_per_monitor_and_guard_actions() {
        let mut t = EventTally::default();
        t.count(kind::INCIDENT_OPENED, "probe:7", 2);
        t.count(kind::INCIDENT_OPENED, "someone", 1);
        t.count(kind::FEATURE_ENVIRONMENT_DISABLED, "guard:g", 3);
        t.count(kind::FEATURE_ENVIRONMENT_ENABLED, "guard:g", 1);
        t.count(kind::FEATURE_ENVIRONMENT_DISABLED, "admin", 5);
        assert_eq!(t.incidents, BTreeMap::from([(7, 2)]));
        assert_eq!(
            t.kill_switch,
            BTreeMap::from([
                (("disabled", "g".to_string()), 3),
                (("enabled", "g".to_string()), 1)
            ])
        );
    }
}
