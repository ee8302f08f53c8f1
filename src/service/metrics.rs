//! What SDKs report: registrations and yes/no counts. Posts only add to an in-memory
//! [`MetricsAggregator`] (no database on the request path); `workers::metrics` flushes it to
//! the store every few seconds and once more on shutdown. Metrics are observations, not
//! configuration: they are written without events and never move the revision.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Mutex;

use crate::domain::Timestamp;
use crate::domain::metrics::{
    Application, ApplicationUsage, ClientInfo, ClientInstance, Counts, HOUR_MS, LastSeen,
    MetricHour, MetricKey, MetricsInput, MetricsReport, Registration, RegistrationInput, hour_of,
};
use crate::domain::token::ApiToken;
use crate::service::{Result, Service};

/// How many (flag, environment, application, hour) rows may wait for a flush. Beyond it new
/// rows are dropped (and the drop logged), so a misbehaving client cannot exhaust memory
/// while the database is away.
const MAX_PENDING_ROWS: usize = 100_000;
/// The same for instances and applications.
const MAX_PENDING_CLIENTS: usize = 10_000;

/// What has been reported since the last successful flush.
#[derive(Debug, Default)]
struct Pending {
    counts: HashMap<MetricKey, Counts>,
    /// Application → strategies from its latest registration (if any) and when it was seen.
    applications: HashMap<String, (Option<Vec<String>>, Timestamp)>,
    instances: HashMap<(String, String, String), ClientInstance>,
    usage: HashSet<ApplicationUsage>,
    /// Rows refused because the limits above were reached.
    dropped: u64,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.counts.is_empty()
            && self.applications.is_empty()
            && self.instances.is_empty()
            && self.usage.is_empty()
    }

    fn add_counts(&mut self, key: MetricKey, counts: &Counts) {
        if let Some(c) = self.counts.get_mut(&key) {
            c.add(counts);
        } else if self.counts.len() < MAX_PENDING_ROWS {
            self.counts.insert(key, counts.clone());
        } else {
            self.dropped += 1;
        }
    }

    fn see_application(&mut self, app: &str, strategies: Option<Vec<String>>, now: Timestamp) {
        if let Some((s, seen)) = self.applications.get_mut(app) {
            *seen = (*seen).max(now);
            if strategies.is_some() {
                *s = strategies;
            }
        } else if self.applications.len() < MAX_PENDING_CLIENTS {
            self.applications.insert(app.to_string(), (strategies, now));
        } else {
            self.dropped += 1;
        }
    }

    fn see_instance(&mut self, instance: ClientInstance) {
        let key = (
            instance.app_name.clone(),
            instance.instance_id.clone(),
            instance.environment.clone(),
        );
        if let Some(known) = self.instances.get_mut(&key) {
            merge_instance(known, instance);
        } else if self.instances.len() < MAX_PENDING_CLIENTS {
            self.instances.insert(key, instance);
        } else {
            self.dropped += 1;
        }
    }

    fn see_usage(&mut self, usage: ApplicationUsage) {
        if self.usage.len() < MAX_PENDING_CLIENTS || self.usage.contains(&usage) {
            self.usage.insert(usage);
        } else {
            self.dropped += 1;
        }
    }

    /// Folds `newer` (reported while a failed flush was running) into `self`.
    fn absorb(&mut self, newer: Self) {
        for (key, counts) in newer.counts {
            self.add_counts(key, &counts);
        }
        for (app, (strategies, seen)) in newer.applications {
            self.see_application(&app, strategies, seen);
        }
        for instance in newer.instances.into_values() {
            self.see_instance(instance);
        }
        for usage in newer.usage {
            self.see_usage(usage);
        }
        self.dropped += newer.dropped;
    }
}

/// `newer` wins where it says something; the first sighting is kept.
fn merge_instance(known: &mut ClientInstance, newer: ClientInstance) {
    known.sdk_version = newer.sdk_version.or(known.sdk_version.take());
    known.platform_name = newer.platform_name.or(known.platform_name.take());
    known.platform_version = newer.platform_version.or(known.platform_version.take());
    known.client_ip = newer.client_ip.or(known.client_ip.take());
    known.created_at = known.created_at.min(newer.created_at);
    known.last_seen = known.last_seen.max(newer.last_seen);
}

/// SDK reports since the last flush, summed per (flag, environment, application, hour).
#[derive(Debug, Default)]
pub struct MetricsAggregator {
    pending: Mutex<Pending>,
}

impl MetricsAggregator {
    fn with<R>(&self, f: impl FnOnce(&mut Pending) -> R) -> R {
        let mut pending = self
            .pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut pending)
    }

    fn take(&self) -> Pending {
        self.with(std::mem::take)
    }

    /// Puts back what a failed flush took, merged with what arrived meanwhile.
    fn restore(&self, mut failed: Pending) {
        self.with(|pending| {
            failed.absorb(std::mem::take(pending));
            *pending = failed;
        });
    }
}

/// Where a report came from, beyond its body.
#[derive(Debug, Clone, Default)]
pub struct Reporter {
    pub client_ip: Option<IpAddr>,
}

/// `GET /api/admin/client-metrics/features/{name}`: the last hour per environment and every
/// application that reported the flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureUsage {
    /// Per environment: the latest hour seen and the counts summed over the window (with the
    /// latest `last_seen` in it).
    pub last_hour: Vec<(String, Timestamp, Counts)>,
    pub seen_applications: Vec<String>,
}

/// An application with where it was used: project → environments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationOverview {
    pub application: Application,
    pub usage: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationDetail {
    pub application: Application,
    pub instances: Vec<ClientInstance>,
    pub seen_features: Vec<String>,
}

impl Service {
    /// Notes a registration (`POST /api/client/register`). Memory only; the environment and
    /// projects come from the SDK's token.
    pub fn register_client(
        &self,
        token: &ApiToken,
        input: RegistrationInput,
        from: &Reporter,
    ) -> Result<()> {
        let registration = Registration::parse(input)?;
        let now = Timestamp::now();
        self.metrics.with(|p| {
            see_client(p, token, &registration.client, from, now);
            p.see_application(
                &registration.client.app_name,
                Some(registration.strategies),
                now,
            );
        });
        Ok(())
    }

    /// Adds an SDK's counts (`POST /api/client/metrics`, `/api/frontend/client/metrics`).
    /// Memory only. Counts for flags this server does not know are dropped, as Unleash does.
    pub fn record_client_metrics(
        &self,
        token: &ApiToken,
        input: MetricsInput,
        from: &Reporter,
    ) -> Result<()> {
        let report = MetricsReport::parse(input)?;
        let now = Timestamp::now();
        let snapshot = self.snapshots.current();
        let known: HashSet<&str> = match &report.bucket {
            Some(b) if !b.toggles.is_empty() => snapshot
                .features()
                .iter()
                .map(|f| f.name.as_str())
                .collect(),
            _ => HashSet::new(),
        };
        self.metrics.with(|p| {
            see_client(p, token, &report.client, from, now);
            p.see_application(&report.client.app_name, None, now);
            let Some(bucket) = &report.bucket else {
                return;
            };
            let hour = hour_of(bucket.start);
            for (name, counts) in &bucket.toggles {
                if !known.contains(name.as_str()) || counts.is_zero() {
                    continue;
                }
                self.server_metrics.count_evaluations(
                    name,
                    &token.environment,
                    counts.yes,
                    counts.no,
                );
                let key = MetricKey {
                    feature_name: name.clone(),
                    environment: token.environment.clone(),
                    app_name: report.client.app_name.clone(),
                    hour,
                };
                // Last seen is when the report arrived, not the SDK's clock.
                let last_seen = counts.evaluated().then_some(now);
                p.add_counts(
                    key,
                    &Counts {
                        last_seen,
                        ..counts.clone()
                    },
                );
            }
        });
        Ok(())
    }

    /// Writes everything reported since the last flush in one transaction, without events.
    /// On failure the reports stay in memory for the next attempt. Returns how many rows of
    /// counts were written.
    pub async fn flush_metrics(&self) -> Result<usize> {
        let pending = self.metrics.take();
        if pending.dropped > 0 {
            tracing::warn!(
                dropped = pending.dropped,
                "SDK reports were dropped: too many waiting to be written"
            );
        }
        if pending.is_empty() {
            return Ok(0);
        }
        match self.write_observations(&pending).await {
            Ok(()) => Ok(pending.counts.len()),
            Err(e) => {
                self.metrics.restore(Pending {
                    dropped: 0,
                    ..pending
                });
                Err(e)
            }
        }
    }

    async fn write_observations(&self, pending: &Pending) -> Result<()> {
        let mut tx = self.store.record_observations().await?;
        // A fixed order, so two replicas flushing the same rows cannot deadlock.
        let mut counts: Vec<_> = pending.counts.iter().collect();
        counts.sort_unstable_by(|a, b| a.0.cmp(b.0));
        for (key, c) in counts {
            tx.add_metric_hour(key, c).await?;
        }
        let mut apps: Vec<_> = pending.applications.iter().collect();
        apps.sort_unstable_by(|a, b| a.0.cmp(b.0));
        for (app, (strategies, seen)) in apps {
            tx.upsert_application(app, strategies.as_deref(), *seen)
                .await?;
        }
        let mut instances: Vec<_> = pending.instances.iter().collect();
        instances.sort_unstable_by(|a, b| a.0.cmp(b.0));
        for (_, instance) in instances {
            tx.upsert_instance(instance).await?;
        }
        let mut usage: Vec<_> = pending.usage.iter().collect();
        usage.sort_unstable();
        for u in usage {
            tx.add_application_usage(u).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Counts per environment over the last hour (every hour bucket that overlaps it, so the
    /// numbers do not drop to zero at the turn of the hour), and the applications that ever
    /// reported `feature`. Unknown flags have none (as in Unleash, not a 404).
    pub async fn feature_usage(&self, feature: &str) -> Result<FeatureUsage> {
        self.flush_metrics().await?;
        let mut r = self.store.read().await?;
        let since = hour_of(Timestamp(Timestamp::now().millis() - HOUR_MS));
        let mut per_env: BTreeMap<String, (Timestamp, Counts)> = BTreeMap::new();
        for row in r.metric_hours(feature, since).await? {
            let (latest, counts) = per_env
                .entry(row.key.environment)
                .or_insert((Timestamp(row.key.hour), Counts::default()));
            *latest = (*latest).max(Timestamp(row.key.hour));
            counts.add(&row.counts);
        }
        Ok(FeatureUsage {
            last_hour: per_env
                .into_iter()
                .map(|(env, (hour, counts))| (env, hour, counts))
                .collect(),
            seen_applications: r.apps_seeing_feature(feature).await?,
        })
    }

    /// Every row of counts for `feature` whose hour overlaps the last `hours_back` hours,
    /// oldest first.
    pub async fn feature_metrics(&self, feature: &str, hours_back: i64) -> Result<Vec<MetricHour>> {
        self.flush_metrics().await?;
        let since = hour_of(Timestamp(Timestamp::now().millis() - hours_back * HOUR_MS));
        Ok(self
            .store
            .read()
            .await?
            .metric_hours(feature, since)
            .await?)
    }

    /// When each (flag, environment) was last seen evaluated, for one flag or (`None`) all:
    /// what is stored, updated with what is still waiting in memory. Read-only, so admin reads
    /// of flags never write.
    pub async fn last_seen(&self, feature: Option<&str>) -> Result<LastSeen> {
        // Memory first: a flush that runs in between moves rows from memory to the store,
        // so reading in this order never misses one.
        let waiting: Vec<((String, String), Timestamp)> = self.metrics.with(|pending| {
            pending
                .counts
                .iter()
                .filter(|(key, _)| feature.is_none_or(|f| f == key.feature_name))
                .filter_map(|(key, counts)| {
                    let at = counts.last_seen?;
                    Some(((key.feature_name.clone(), key.environment.clone()), at))
                })
                .collect()
        });
        let mut seen = self.store.read().await?.feature_last_seen(feature).await?;
        for (key, at) in waiting {
            let entry = seen.entry(key).or_insert(at);
            *entry = (*entry).max(at);
        }
        Ok(seen)
    }

    pub async fn list_applications(&self) -> Result<Vec<ApplicationOverview>> {
        self.flush_metrics().await?;
        let mut r = self.store.read().await?;
        let mut usage: HashMap<String, BTreeMap<String, Vec<String>>> = HashMap::new();
        for u in r.application_usage().await? {
            usage
                .entry(u.app_name)
                .or_default()
                .entry(u.project)
                .or_default()
                .push(u.environment);
        }
        Ok(r.applications()
            .await?
            .into_iter()
            .map(|application| ApplicationOverview {
                usage: usage.remove(&application.app_name).unwrap_or_default(),
                application,
            })
            .collect())
    }

    pub async fn get_application(&self, app_name: &str) -> Result<ApplicationDetail> {
        self.flush_metrics().await?;
        let mut r = self.store.read().await?;
        let application = r.application(app_name).await?.ok_or_else(|| {
            crate::service::ServiceError::NotFound(format!(
                "Could not find application with appName {app_name}"
            ))
        })?;
        Ok(ApplicationDetail {
            instances: r.instances(app_name).await?,
            seen_features: r.features_seen_by(app_name).await?,
            application,
        })
    }
}

/// The instance and the token's projects in its environment, as seen `now`.
fn see_client(
    p: &mut Pending,
    token: &ApiToken,
    client: &ClientInfo,
    from: &Reporter,
    now: Timestamp,
) {
    p.see_instance(ClientInstance {
        app_name: client.app_name.clone(),
        instance_id: client.instance_id.clone(),
        environment: token.environment.clone(),
        sdk_version: client.sdk_version.clone(),
        platform_name: client.platform_name.clone(),
        platform_version: client.platform_version.clone(),
        client_ip: from.client_ip.map(|ip| ip.to_string()),
        created_at: now,
        last_seen: now,
    });
    for project in &token.projects {
        p.see_usage(ApplicationUsage {
            app_name: client.app_name.clone(),
            project: project.clone(),
            environment: token.environment.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(feature: &str) -> MetricKey {
        MetricKey {
            feature_name: feature.into(),
            environment: "development".into(),
            app_name: "app".into(),
            hour: 0,
        }
    }

    fn counts(yes: i64, no: i64, variants: &[(&str, i64)]) -> Counts {
        Counts {
            yes,
            no,
            variants: variants.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            last_seen: None,
        }
    }

    fn seen_at(c: Counts, t: i64) -> Counts {
        Counts {
            last_seen: Some(Timestamp(t)),
            ..c
        }
    }

    #[test]
    fn the_latest_sighting_of_a_row_wins() {
        let agg = MetricsAggregator::default();
        agg.with(|p| {
            p.add_counts(key("f"), &seen_at(counts(1, 0, &[]), 20));
            p.add_counts(key("f"), &seen_at(counts(1, 0, &[]), 10));
            p.add_counts(key("f"), &counts(0, 0, &[("red", 1)]));
            p.add_counts(key("g"), &counts(0, 0, &[("red", 1)]));
        });
        let failed = agg.take();
        agg.with(|p| p.add_counts(key("f"), &seen_at(counts(0, 1, &[]), 15)));
        agg.restore(failed);
        let p = agg.take();
        assert_eq!(p.counts[&key("f")].last_seen, Some(Timestamp(20)));
        assert_eq!(p.counts[&key("g")].last_seen, None);
    }

    #[test]
    fn reports_for_the_same_row_add_up() {
        let agg = MetricsAggregator::default();
        agg.with(|p| {
            p.add_counts(key("f"), &counts(1, 2, &[("red", 1)]));
            p.add_counts(key("f"), &counts(3, 0, &[("red", 2), ("blue", 1)]));
        });
        let p = agg.take();
        assert_eq!(
            p.counts[&key("f")],
            counts(4, 2, &[("blue", 1), ("red", 3)])
        );
        assert!(agg.take().is_empty(), "taking empties the aggregate");
    }

    #[test]
    fn a_failed_flush_puts_its_reports_back_under_newer_ones() {
        let agg = MetricsAggregator::default();
        agg.with(|p| {
            p.add_counts(key("f"), &counts(1, 0, &[]));
            p.see_application("app", Some(vec!["default".into()]), Timestamp(10));
        });
        let failed = agg.take();
        agg.with(|p| {
            p.add_counts(key("f"), &counts(2, 0, &[]));
            p.see_application("app", None, Timestamp(20));
        });
        agg.restore(failed);
        let p = agg.take();
        assert_eq!(p.counts[&key("f")].yes, 3);
        assert_eq!(
            p.applications["app"],
            (Some(vec!["default".to_string()]), Timestamp(20))
        );
    }

    #[test]
    fn the_aggregate_is_bounded() {
        let mut p = Pending::default();
        for i in 0..=MAX_PENDING_ROWS {
            p.add_counts(key(&i.to_string()), &counts(1, 0, &[]));
        }
        assert_eq!(p.counts.len(), MAX_PENDING_ROWS);
        assert_eq!(p.dropped, 1);
    }
}
