//! Guards and their trips (migrations/*/0010_guard.sql).

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::domain::Timestamp;
use crate::domain::event::kind;
use crate::domain::guard::{
    FlagAction, FlagRef, Guard, GuardSpec, OnRecovery, Signal, SlaThresholds, Target, Trip,
    TripFlag,
};
use crate::store::StoreError;
use crate::store::query::Sql;
use crate::store::sql::{Reader, Writer, from_json, to_json};

type Result<T> = std::result::Result<T, StoreError>;

const GUARD_COLUMNS: &str = "guard_id, name, signal_kind, monitor_id, betterstack_monitor, sla, \
     target, on_recovery, channels, created_at, updated_at";

const TRIP_COLUMNS: &str =
    "trip_id, guard_id, incident_id, external_incident, reason, started_at, ended_at, outcome";

/// The SLA thresholds as stored: the signal's monitor id lives in its own column.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredSla {
    window_minutes: i64,
    availability_min: Option<f64>,
    response_time_max_ms: Option<i64>,
    incidents_max: Option<i64>,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
enum StoredTarget {
    Flags(Vec<FlagRef>),
    Recent {
        recently_enabled_hours: i64,
        environment: String,
    },
}

fn guard_from(row: &AnyRow) -> Result<Guard> {
    let kind: String = row.try_get("signal_kind")?;
    let monitor_id: Option<i64> = row.try_get("monitor_id")?;
    let corrupt = |what: &str| StoreError::from(anyhow::anyhow!("stored guard: {what}"));
    let signal = match kind.as_str() {
        "monitor" => Signal::Monitor(monitor_id.ok_or_else(|| corrupt("no monitor"))?),
        "betterstack" => Signal::BetterStack(
            row.try_get::<Option<String>, _>("betterstack_monitor")?
                .ok_or_else(|| corrupt("no Better Stack monitor"))?,
        ),
        "sla" => {
            let sla: StoredSla = from_json(
                &row.try_get::<Option<String>, _>("sla")?
                    .ok_or_else(|| corrupt("no SLA"))?,
            )?;
            Signal::Sla(SlaThresholds {
                monitor_id: monitor_id.ok_or_else(|| corrupt("no monitor"))?,
                window_minutes: sla.window_minutes,
                availability_min: sla.availability_min,
                response_time_max_ms: sla.response_time_max_ms,
                incidents_max: sla.incidents_max,
            })
        }
        other => return Err(corrupt(&format!("signal kind {other}"))),
    };
    let target = match from_json::<StoredTarget>(row.try_get::<&str, _>("target")?)? {
        StoredTarget::Flags(flags) => Target::Flags(flags),
        StoredTarget::Recent {
            recently_enabled_hours,
            environment,
        } => Target::RecentlyEnabled {
            hours: recently_enabled_hours,
            environment,
        },
    };
    let on_recovery: String = row.try_get("on_recovery")?;
    Ok(Guard {
        id: row.try_get("guard_id")?,
        spec: GuardSpec {
            name: row.try_get("name")?,
            signal,
            target,
            on_recovery: OnRecovery::parse(&on_recovery)
                .ok_or_else(|| corrupt(&format!("on_recovery {on_recovery}")))?,
            channels: from_json(row.try_get::<&str, _>("channels")?)?,
        },
        created_at: Timestamp(row.try_get("created_at")?),
        updated_at: Timestamp(row.try_get("updated_at")?),
    })
}

fn trip_from(row: &AnyRow) -> Result<Trip> {
    Ok(Trip {
        id: row.try_get("trip_id")?,
        guard_id: row.try_get("guard_id")?,
        incident_id: row.try_get("incident_id")?,
        external_incident: row.try_get("external_incident")?,
        reason: row.try_get("reason")?,
        started_at: Timestamp(row.try_get("started_at")?),
        ended_at: row.try_get::<Option<i64>, _>("ended_at")?.map(Timestamp),
        outcome: row.try_get("outcome")?,
        flags: Vec::new(),
    })
}

/// The columns a spec is stored in, in `GUARD_COLUMNS` order from `signal_kind` to `channels`.
struct GuardRow {
    signal_kind: &'static str,
    monitor_id: Option<i64>,
    betterstack_monitor: Option<String>,
    sla: Option<String>,
    target: String,
    on_recovery: &'static str,
    channels: String,
}

impl GuardRow {
    fn from_spec(spec: &GuardSpec) -> Result<Self> {
        let sla = match &spec.signal {
            Signal::Sla(s) => Some(to_json(&StoredSla {
                window_minutes: s.window_minutes,
                availability_min: s.availability_min,
                response_time_max_ms: s.response_time_max_ms,
                incidents_max: s.incidents_max,
            })?),
            _ => None,
        };
        let target = match &spec.target {
            Target::Flags(flags) => StoredTarget::Flags(flags.clone()),
            Target::RecentlyEnabled { hours, environment } => StoredTarget::Recent {
                recently_enabled_hours: *hours,
                environment: environment.clone(),
            },
        };
        Ok(Self {
            signal_kind: spec.signal.kind(),
            monitor_id: spec.signal.monitor_id(),
            betterstack_monitor: match &spec.signal {
                Signal::BetterStack(m) => Some(m.clone()),
                _ => None,
            },
            sla,
            target: to_json(&target)?,
            on_recovery: spec.on_recovery.as_str(),
            channels: to_json(&spec.channels)?,
        })
    }
}

impl Reader {
    /// Guards matching `condition` (a `where` clause over `guard`, its values bound), by id.
    async fn select_guards(&mut self, condition: impl FnOnce(&mut Sql)) -> Result<Vec<Guard>> {
        let mut sql = Sql::new(&format!("select {GUARD_COLUMNS} from guard where "));
        condition(&mut sql);
        sql.push(" order by guard_id");
        let rows = sql.query().fetch_all(&mut *self.tx).await?;
        rows.iter().map(guard_from).collect()
    }

    pub async fn guards(&mut self) -> Result<Vec<Guard>> {
        self.select_guards(|sql| {
            sql.push("1 = 1");
        })
        .await
    }

    pub async fn guard(&mut self, id: i64) -> Result<Option<Guard>> {
        let guards = self
            .select_guards(|sql| {
                sql.push("guard_id = ").int(id);
            })
            .await?;
        Ok(guards.into_iter().next())
    }

    pub async fn guard_named(&mut self, name: &str) -> Result<Option<Guard>> {
        let guards = self
            .select_guards(|sql| {
                sql.push("name = ").text(name);
            })
            .await?;
        Ok(guards.into_iter().next())
    }

    /// Guards whose signal is the monitor itself going down.
    pub async fn guards_watching_monitor(&mut self, monitor_id: i64) -> Result<Vec<Guard>> {
        self.select_guards(|sql| {
            sql.push("signal_kind = 'monitor' and monitor_id = ")
                .int(monitor_id);
        })
        .await
    }

    /// Every guard that reads the monitor in any way (its signal or its SLA).
    pub async fn guards_reading_monitor(&mut self, monitor_id: i64) -> Result<Vec<Guard>> {
        self.select_guards(|sql| {
            sql.push("monitor_id = ").int(monitor_id);
        })
        .await
    }

    /// Guards on a Better Stack monitor named by any of `keys` (its id or its pronounceable
    /// name; names compare case-insensitively).
    pub async fn guards_watching_betterstack(&mut self, keys: &[String]) -> Result<Vec<Guard>> {
        let keys: Vec<String> = keys.iter().map(|k| k.trim().to_lowercase()).collect();
        self.select_guards(|sql| {
            sql.push("signal_kind = 'betterstack' and ")
                .any_of("lower(betterstack_monitor)", &keys);
        })
        .await
    }

    pub async fn sla_guards(&mut self) -> Result<Vec<Guard>> {
        self.select_guards(|sql| {
            sql.push("signal_kind = 'sla'");
        })
        .await
    }

    /// The guard's open trip, with its flags.
    pub async fn open_trip(&mut self, guard_id: i64) -> Result<Option<Trip>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {TRIP_COLUMNS} from guard_trip where guard_id = $1 and ended_at is null"
        )))
        .bind(guard_id)
        .fetch_optional(&mut *self.tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut trip = trip_from(&row)?;
        trip.flags = self.trip_flags(trip.id).await?;
        Ok(Some(trip))
    }

    /// The guard's latest trips, newest first, with their flags.
    pub async fn trips(&mut self, guard_id: i64, limit: i64) -> Result<Vec<Trip>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {TRIP_COLUMNS} from guard_trip where guard_id = $1 order by trip_id desc limit $2"
        )))
        .bind(guard_id)
        .bind(limit)
        .fetch_all(&mut *self.tx)
        .await?;
        let mut trips = rows.iter().map(trip_from).collect::<Result<Vec<_>>>()?;
        for trip in &mut trips {
            trip.flags = self.trip_flags(trip.id).await?;
        }
        Ok(trips)
    }

    async fn trip_flags(&mut self, trip_id: i64) -> Result<Vec<TripFlag>> {
        let rows = sqlx::query(
            "select project, feature_name, environment, action, event_id from guard_trip_flag \
             where trip_id = $1 order by feature_name, environment",
        )
        .bind(trip_id)
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter()
            .map(|row| {
                let action: String = row.try_get("action")?;
                Ok(TripFlag {
                    flag: FlagRef {
                        project: row.try_get("project")?,
                        feature: row.try_get("feature_name")?,
                        environment: row.try_get("environment")?,
                    },
                    action: FlagAction::parse(&action).ok_or_else(|| {
                        StoreError::from(anyhow::anyhow!("stored trip flag action {action}"))
                    })?,
                    event_id: row.try_get("event_id")?,
                })
            })
            .collect()
    }

    /// Open trips (of any guard) holding the flag in the environment: `(guard name, trip)`.
    pub async fn open_trips_holding(
        &mut self,
        feature: &str,
        environment: &str,
    ) -> Result<Vec<(String, Trip)>> {
        let rows = sqlx::query(
            "select g.name as guard_name, t.trip_id, t.guard_id, t.incident_id, t.external_incident, \
             t.reason, t.started_at, t.ended_at, t.outcome \
             from guard_trip t join guard g on g.guard_id = t.guard_id \
             join guard_trip_flag f on f.trip_id = t.trip_id \
             where t.ended_at is null and f.feature_name = $1 and f.environment = $2 \
             order by t.trip_id",
        )
        .bind(feature)
        .bind(environment)
        .fetch_all(&mut *self.tx)
        .await?;
        let mut held = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut trip = trip_from(row)?;
            trip.flags = self.trip_flags(trip.id).await?;
            held.push((row.try_get("guard_name")?, trip));
        }
        Ok(held)
    }

    /// The flags guards switched off for any of `incidents`: `(incident id, guard name, flag)`,
    /// in switching order.
    pub async fn flags_disabled_for_incidents(
        &mut self,
        incidents: &[i64],
    ) -> Result<Vec<(i64, String, FlagRef)>> {
        let mut sql = Sql::new(
            "select t.incident_id, g.name as guard_name, f.project, f.feature_name, f.environment \
             from guard_trip_flag f join guard_trip t on t.trip_id = f.trip_id \
             join guard g on g.guard_id = t.guard_id where f.action = 'disabled' and ",
        );
        sql.push("t.incident_id in (");
        for (i, id) in incidents.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.int(*id);
        }
        if incidents.is_empty() {
            sql.push("null");
        }
        sql.push(") order by f.event_id");
        let rows = sql.query().fetch_all(&mut *self.tx).await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("incident_id")?,
                    row.try_get("guard_name")?,
                    FlagRef {
                        project: row.try_get("project")?,
                        feature: row.try_get("feature_name")?,
                        environment: row.try_get("environment")?,
                    },
                ))
            })
            .collect()
    }

    /// The id of the latest `feature-environment-enabled`/`-disabled` event of the flag in the
    /// environment: who switched it last.
    pub async fn last_toggle_event(
        &mut self,
        feature: &str,
        environment: &str,
    ) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(
            "select max(event_id) from event where feature_name = $1 and environment = $2 \
             and type in ($3, $4)",
        )
        .bind(feature)
        .bind(environment)
        .bind(kind::FEATURE_ENVIRONMENT_ENABLED)
        .bind(kind::FEATURE_ENVIRONMENT_DISABLED)
        .fetch_one(&mut *self.tx)
        .await?)
    }

    /// Flags a person (not a guard) switched on in `environment` since `since`, oldest first.
    pub async fn recently_enabled(
        &mut self,
        environment: &str,
        since: Timestamp,
    ) -> Result<Vec<FlagRef>> {
        let rows = sqlx::query(
            "select project, feature_name, min(event_id) as first_id from event \
             where type = $1 and environment = $2 and created_at >= $3 \
             and feature_name is not null and project is not null \
             and substr(created_by, 1, 6) <> 'guard:' \
             group by project, feature_name order by first_id",
        )
        .bind(kind::FEATURE_ENVIRONMENT_ENABLED)
        .bind(environment)
        .bind(since.millis())
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(FlagRef {
                    project: row.try_get("project")?,
                    feature: row.try_get("feature_name")?,
                    environment: environment.to_string(),
                })
            })
            .collect()
    }
}

impl Writer {
    pub async fn insert_guard(&mut self, spec: &GuardSpec, now: Timestamp) -> Result<i64> {
        let row = GuardRow::from_spec(spec)?;
        let q = sqlx::query(
            "insert into guard (name, signal_kind, monitor_id, betterstack_monitor, sla, target, \
             on_recovery, channels, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) returning guard_id",
        )
        .bind(&spec.name)
        .bind(row.signal_kind)
        .bind(row.monitor_id)
        .bind(row.betterstack_monitor)
        .bind(row.sla)
        .bind(row.target)
        .bind(row.on_recovery)
        .bind(row.channels)
        .bind(now.millis());
        self.insert_returning_id(q).await
    }

    pub async fn update_guard(
        &mut self,
        id: i64,
        spec: &GuardSpec,
        now: Timestamp,
    ) -> Result<bool> {
        let row = GuardRow::from_spec(spec)?;
        let q = sqlx::query(
            "update guard set name = $2, signal_kind = $3, monitor_id = $4, betterstack_monitor = $5, \
             sla = $6, target = $7, on_recovery = $8, channels = $9, updated_at = $10 \
             where guard_id = $1",
        )
        .bind(id)
        .bind(&spec.name)
        .bind(row.signal_kind)
        .bind(row.monitor_id)
        .bind(row.betterstack_monitor)
        .bind(row.sla)
        .bind(row.target)
        .bind(row.on_recovery)
        .bind(row.channels)
        .bind(now.millis());
        Ok(self.execute(q).await? > 0)
    }

    pub async fn delete_guard(&mut self, id: i64) -> Result<bool> {
        let q = sqlx::query("delete from guard where guard_id = $1").bind(id);
        Ok(self.execute(q).await? > 0)
    }

    /// Opens a trip; a second open trip for the guard is refused by `guard_trip_one_open`.
    pub async fn start_trip(
        &mut self,
        guard_id: i64,
        incident_id: Option<i64>,
        external_incident: Option<&str>,
        reason: &str,
        at: Timestamp,
    ) -> Result<i64> {
        let q = sqlx::query(
            "insert into guard_trip (guard_id, incident_id, external_incident, reason, started_at) \
             values ($1, $2, $3, $4, $5) returning trip_id",
        )
        .bind(guard_id)
        .bind(incident_id)
        .bind(external_incident)
        .bind(reason)
        .bind(at.millis());
        self.insert_returning_id(q).await
    }

    pub async fn add_trip_flag(
        &mut self,
        trip_id: i64,
        flag: &FlagRef,
        action: FlagAction,
        event_id: Option<i64>,
    ) -> Result<()> {
        let q = sqlx::query(
            "insert into guard_trip_flag (trip_id, project, feature_name, environment, action, event_id) \
             values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(trip_id)
        .bind(&flag.project)
        .bind(&flag.feature)
        .bind(&flag.environment)
        .bind(action.as_str())
        .bind(event_id);
        self.execute(q).await.map(drop)
    }

    pub async fn end_trip(&mut self, trip_id: i64, at: Timestamp, outcome: &str) -> Result<bool> {
        let q = sqlx::query(
            "update guard_trip set ended_at = $2, outcome = $3 where trip_id = $1 and ended_at is null",
        )
        .bind(trip_id)
        .bind(at.millis())
        .bind(outcome);
        Ok(self.execute(q).await? > 0)
    }
}
