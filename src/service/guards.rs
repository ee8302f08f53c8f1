//! The kill switch: guards (CRUD) and what they do when their signal fails or recovers.
//!
//! Firing and recovering run inside the caller's `Writer` transaction: the transaction that
//! opens a monitor's incident (service::incidents), records a Better Stack webhook delivery
//! (service::webhooks) or records an SLA breach (service::sla_guards) is the one that switches
//! the flags off, so a crash can never leave an incident without its kill switch or the
//! other way round.
//!
//! The rules, in one place:
//! - A firing guard opens a *trip* (or continues its open one). Each of its flags that the
//!   trip does not hold yet is switched off if it is on (`disabled`, with a
//!   `feature-environment-disabled` event whose actor is `guard:<name>`), or recorded as
//!   `already_off`. A flag the trip holds is never switched off again, so a person who switches
//!   it back on during the incident is not overruled for the rest of that incident.
//! - On recovery the trip ends. With `re_enable`, a flag the trip switched off is switched back
//!   on only if its last on/off event is still the guard's own (nobody touched it since) and
//!   no other open trip holds it. `keep_disabled` and `notify_only` leave the flags as they are.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

use crate::domain::Timestamp;
use crate::domain::event::{Actor, NewEvent, kind};
use crate::domain::guard::{
    FlagAction, FlagRef, Guard, GuardInput, GuardSpec, OnRecovery, Target, Trip,
};
use crate::domain::notification::{GuardRef, IncidentRef, MonitorRef, Notice, NoticeKind};
use crate::service::{Result, Service, ServiceError, not_found_feature};
use crate::store::{Reader, Writer};

/// How many past trips a guard's detail shows.
const RECENT_TRIPS: i64 = 20;

/// What made guards fire or recover.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardCause {
    /// In words, for the events and the notices ("checkout-api is down: connection refused").
    pub reason: String,
    /// The flagwatch incident behind it (monitor guards).
    pub incident_id: Option<i64>,
    /// The Better Stack incident behind it (webhook guards). A recovery with an external id
    /// ends only trips opened for that incident (or for none).
    pub external_incident: Option<String>,
    /// The monitor, for notices.
    pub monitor: Option<MonitorRef>,
    pub at: Timestamp,
}

/// What one guard did.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardOutcome {
    pub guard_id: i64,
    pub guard_name: String,
    pub trip_id: i64,
    /// Flags switched off (firing) or back on (recovery) by this call.
    pub changed: Vec<FlagRef>,
    /// False when the guard was already tripped (the call continued its open trip).
    pub new_trip: bool,
}

/// A guard with its open trip and, on request, its history.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardView {
    pub guard: Guard,
    pub open_trip: Option<Trip>,
    pub recent_trips: Vec<Trip>,
}

/// One environment of a flag, as "why is this flag off?" answers it.
#[derive(Debug, Clone, PartialEq)]
pub struct FlagGuardState {
    pub environment: String,
    pub enabled: bool,
    /// The latest on/off event of the flag there.
    pub last_change: Option<crate::domain::event::Event>,
    /// Open trips holding it: `(guard name, trip)`.
    pub held_by: Vec<(String, Trip)>,
    /// Guards that name it.
    pub guards: Vec<String>,
}

fn guard_actor(guard: &Guard) -> Actor {
    Actor {
        name: format!("guard:{}", guard.spec.name),
        user_id: Some(Actor::SYSTEM_USER_ID),
    }
}

fn guard_not_found(id: i64) -> ServiceError {
    ServiceError::NotFound(format!("There is no guard with id {id}."))
}

/// The audit view of a guard (event data).
fn guard_data(guard: &Guard) -> Value {
    let mut data = GuardInput::from_spec(&guard.spec);
    data.insert("id".into(), json!(guard.id));
    Value::Object(data)
}

impl Service {
    pub async fn list_guards(&self) -> Result<Vec<GuardView>> {
        let mut r = self.store.read().await?;
        let mut views = Vec::new();
        for guard in r.guards().await? {
            let open_trip = r.open_trip(guard.id).await?;
            views.push(GuardView {
                guard,
                open_trip,
                recent_trips: Vec::new(),
            });
        }
        Ok(views)
    }

    pub async fn get_guard(&self, id: i64) -> Result<GuardView> {
        let mut r = self.store.read().await?;
        let guard = r.guard(id).await?.ok_or_else(|| guard_not_found(id))?;
        Ok(GuardView {
            open_trip: r.open_trip(id).await?,
            recent_trips: r.trips(id, RECENT_TRIPS).await?,
            guard,
        })
    }

    pub async fn create_guard(&self, actor: &Actor, input: &GuardInput) -> Result<GuardView> {
        let spec = GuardSpec::parse(input)?;
        let mut tx = self.store.write().await?;
        self.check_references(&mut tx, &spec, None).await?;
        let now = Timestamp::now();
        let id = tx.insert_guard(&spec, now).await?;
        let guard = Guard {
            id,
            spec,
            created_at: now,
            updated_at: now,
        };
        tx.append_event(&NewEvent::new(kind::GUARD_CREATED, actor).data(guard_data(&guard)))
            .await?;
        self.commit(tx).await?;
        self.get_guard(id).await
    }

    /// PUT: replaces the guard's configuration. An open trip stays open under the new rules.
    pub async fn replace_guard(
        &self,
        actor: &Actor,
        id: i64,
        input: &GuardInput,
    ) -> Result<GuardView> {
        let spec = GuardSpec::parse(input)?;
        self.store_guard_update(actor, id, spec).await
    }

    /// PATCH: the given top-level fields replace the stored ones.
    pub async fn patch_guard(
        &self,
        actor: &Actor,
        id: i64,
        patch: Map<String, Value>,
    ) -> Result<GuardView> {
        let current = {
            let mut r = self.store.read().await?;
            r.guard(id).await?.ok_or_else(|| guard_not_found(id))?
        };
        let mut merged = GuardInput::from_spec(&current.spec);
        for (key, value) in patch {
            merged.insert(key, value);
        }
        let input: GuardInput = serde_json::from_value(Value::Object(merged))
            .map_err(|e| crate::domain::Invalid::new(format!("The guard is not valid: {e}")))?;
        self.store_guard_update(actor, id, GuardSpec::parse(&input)?)
            .await
    }

    async fn store_guard_update(
        &self,
        actor: &Actor,
        id: i64,
        spec: GuardSpec,
    ) -> Result<GuardView> {
        let mut tx = self.store.write().await?;
        let before = tx.guard(id).await?.ok_or_else(|| guard_not_found(id))?;
        self.check_references(&mut tx, &spec, Some(id)).await?;
        let now = Timestamp::now();
        tx.update_guard(id, &spec, now).await?;
        let after = Guard {
            id,
            spec,
            created_at: before.created_at,
            updated_at: now,
        };
        tx.append_event(
            &NewEvent::new(kind::GUARD_UPDATED, actor)
                .data(guard_data(&after))
                .pre_data(guard_data(&before)),
        )
        .await?;
        self.commit(tx).await?;
        self.get_guard(id).await
    }

    /// Deletes a guard and its trips; the flags it switched off stay as they are.
    pub async fn delete_guard(&self, actor: &Actor, id: i64) -> Result<()> {
        let mut tx = self.store.write().await?;
        let before = tx.guard(id).await?.ok_or_else(|| guard_not_found(id))?;
        tx.delete_guard(id).await?;
        tx.append_event(&NewEvent::new(kind::GUARD_DELETED, actor).pre_data(guard_data(&before)))
            .await?;
        self.commit(tx).await
    }

    /// "Why is this flag off?": per environment, whether it is on, the last on/off event (a
    /// guard's names the guard, the incident and the reason), the open trips holding it and
    /// the guards naming it.
    pub async fn flag_guard_state(
        &self,
        project: &str,
        feature: &str,
    ) -> Result<Vec<FlagGuardState>> {
        let mut r = self.store.read().await?;
        let flag = self.require_feature(&mut r, project, feature).await?;
        let guards = r.guards().await?;
        let mut states = Vec::new();
        for env in &flag.environments {
            let environment = env.environment.name.clone();
            let last_change = match r.last_toggle_event(feature, &environment).await? {
                Some(id) => r.event(id).await?,
                None => None,
            };
            let naming = guards
                .iter()
                .filter(|g| match &g.spec.target {
                    Target::Flags(flags) => flags
                        .iter()
                        .any(|f| f.feature == feature && f.environment == environment),
                    Target::RecentlyEnabled { environment: e, .. } => *e == environment,
                })
                .map(|g| g.spec.name.clone())
                .collect();
            states.push(FlagGuardState {
                held_by: r.open_trips_holding(feature, &environment).await?,
                enabled: env.enabled,
                environment,
                last_change,
                guards: naming,
            });
        }
        Ok(states)
    }

    /// The flags guards switched off for each of `incidents`, as `(guard name, flag)`.
    pub async fn flags_disabled_by_incidents(
        &self,
        incidents: &[i64],
    ) -> Result<HashMap<i64, Vec<(String, FlagRef)>>> {
        let rows = self
            .store
            .read()
            .await?
            .flags_disabled_for_incidents(incidents)
            .await?;
        let mut by_incident: HashMap<i64, Vec<(String, FlagRef)>> = HashMap::new();
        for (incident, guard, flag) in rows {
            by_incident.entry(incident).or_default().push((guard, flag));
        }
        Ok(by_incident)
    }

    /// Fires `guards` inside `tx` (see the module docs for the rules) and queues their notices.
    pub(crate) async fn trip_guards(
        &self,
        tx: &mut Writer,
        guards: &[Guard],
        cause: &GuardCause,
    ) -> Result<Vec<GuardOutcome>> {
        let mut outcomes = Vec::with_capacity(guards.len());
        for guard in guards {
            let actor = guard_actor(guard);
            let open = tx.open_trip(guard.id).await?;
            let new_trip = open.is_none();
            let (trip_id, held, incident_id, external) = match &open {
                Some(trip) => (
                    trip.id,
                    trip.flags
                        .iter()
                        .map(|f| f.flag.clone())
                        .collect::<HashSet<_>>(),
                    trip.incident_id,
                    trip.external_incident.clone(),
                ),
                None => {
                    let id = tx
                        .start_trip(
                            guard.id,
                            cause.incident_id,
                            cause.external_incident.as_deref(),
                            &cause.reason,
                            cause.at,
                        )
                        .await?;
                    (
                        id,
                        HashSet::new(),
                        cause.incident_id,
                        cause.external_incident.clone(),
                    )
                }
            };
            let data = json!({
                "guard_id": guard.id,
                "guard": guard.spec.name,
                "trip_id": trip_id,
                "signal": guard.spec.signal.kind(),
                "incident_id": incident_id,
                "betterstack_incident_id": external,
                "reason": cause.reason,
            });

            let mut changed = Vec::new();
            for flag in target_flags(tx, guard, cause.at).await? {
                if held.contains(&flag) {
                    continue;
                }
                let Some(enabled) = flag_enabled(tx, &flag).await? else {
                    tracing::warn!(guard = %guard.spec.name, feature = %flag.feature,
                        environment = %flag.environment, "a guarded flag no longer exists; skipped");
                    continue;
                };
                if enabled {
                    tx.set_feature_enabled(&flag.feature, &flag.environment, false)
                        .await?;
                    let event_id = tx
                        .append_event(
                            &NewEvent::new(kind::FEATURE_ENVIRONMENT_DISABLED, &actor)
                                .feature(&flag.project, &flag.feature)
                                .environment(&flag.environment)
                                .data(&data),
                        )
                        .await?;
                    tx.add_trip_flag(trip_id, &flag, FlagAction::Disabled, Some(event_id))
                        .await?;
                    changed.push(flag);
                } else {
                    tx.add_trip_flag(trip_id, &flag, FlagAction::AlreadyOff, None)
                        .await?;
                }
            }

            if new_trip {
                let mut event = data.clone();
                event["flags_disabled"] = json!(changed);
                tx.append_event(&NewEvent::new(kind::GUARD_TRIPPED, &actor).data(event))
                    .await?;
            }
            if new_trip || !changed.is_empty() {
                let notice = Notice {
                    kind: NoticeKind::FlagsDisabled,
                    summary: if changed.is_empty() {
                        format!(
                            "Guard {} fired ({}); its flags were already off.",
                            guard.spec.name, cause.reason
                        )
                    } else {
                        format!(
                            "Guard {} switched off {} ({}).",
                            guard.spec.name,
                            flag_list(&changed),
                            cause.reason
                        )
                    },
                    monitor: cause.monitor.clone(),
                    incident: incident_ref(cause, incident_id, external.as_deref(), None),
                    guard: Some(GuardRef {
                        id: guard.id,
                        name: guard.spec.name.clone(),
                    }),
                    flags: changed.clone(),
                    at: cause.at,
                    dedup_key: dedup_key(guard.id, trip_id, incident_id, external.as_deref()),
                };
                self.queue_notice(tx, &guard.spec.channels, &notice).await?;
            }
            outcomes.push(GuardOutcome {
                guard_id: guard.id,
                guard_name: guard.spec.name.clone(),
                trip_id,
                changed,
                new_trip,
            });
        }
        Ok(outcomes)
    }

    /// Ends the open trips of `guards` inside `tx`, applying each guard's `on_recovery`, and
    /// queues their notices. Guards without an open trip are skipped.
    pub(crate) async fn recover_guards(
        &self,
        tx: &mut Writer,
        guards: &[Guard],
        cause: &GuardCause,
    ) -> Result<Vec<GuardOutcome>> {
        let mut outcomes = Vec::new();
        for guard in guards {
            let Some(trip) = tx.open_trip(guard.id).await? else {
                continue;
            };
            if let (Some(theirs), Some(ours)) = (&cause.external_incident, &trip.external_incident)
                && theirs != ours
            {
                // Another Better Stack incident of the same monitor resolved.
                continue;
            }
            let actor = guard_actor(guard);
            let policy = guard.spec.on_recovery;
            let data = json!({
                "guard_id": guard.id,
                "guard": guard.spec.name,
                "trip_id": trip.id,
                "signal": guard.spec.signal.kind(),
                "incident_id": trip.incident_id,
                "betterstack_incident_id": trip.external_incident,
                "reason": cause.reason,
                "on_recovery": policy.as_str(),
            });
            // Flags switched off by the trip and still off: re-enabled or kept for review.
            let mut changed = Vec::new();
            let mut kept = Vec::new();
            for held in trip
                .flags
                .iter()
                .filter(|f| f.action == FlagAction::Disabled)
            {
                let flag = &held.flag;
                if flag_enabled(tx, flag).await? != Some(false) {
                    continue; // switched back on by a person, or gone
                }
                let untouched = tx
                    .last_toggle_event(&flag.feature, &flag.environment)
                    .await?
                    == held.event_id;
                let held_elsewhere = tx
                    .open_trips_holding(&flag.feature, &flag.environment)
                    .await?
                    .iter()
                    .any(|(_, other)| other.id != trip.id);
                if policy == OnRecovery::ReEnable && untouched && !held_elsewhere {
                    tx.set_feature_enabled(&flag.feature, &flag.environment, true)
                        .await?;
                    tx.append_event(
                        &NewEvent::new(kind::FEATURE_ENVIRONMENT_ENABLED, &actor)
                            .feature(&flag.project, &flag.feature)
                            .environment(&flag.environment)
                            .data(&data),
                    )
                    .await?;
                    changed.push(flag.clone());
                } else {
                    kept.push(flag.clone());
                }
            }
            let outcome = match policy {
                OnRecovery::ReEnable => "re_enabled",
                OnRecovery::KeepDisabled => "kept_disabled",
                OnRecovery::NotifyOnly => "notified",
            };
            tx.end_trip(trip.id, cause.at, outcome).await?;
            let mut event = data.clone();
            event["outcome"] = json!(outcome);
            event["flags_enabled"] = json!(changed);
            event["flags_still_off"] = json!(kept);
            tx.append_event(&NewEvent::new(kind::GUARD_RECOVERED, &actor).data(event))
                .await?;

            let summary = match (changed.is_empty(), kept.is_empty()) {
                (false, _) => format!(
                    "Guard {} recovered ({}); switched {} back on.",
                    guard.spec.name,
                    cause.reason,
                    flag_list(&changed)
                ),
                (true, false) => format!(
                    "Guard {} recovered ({}); {} stay off for review.",
                    guard.spec.name,
                    cause.reason,
                    flag_list(&kept)
                ),
                (true, true) => format!("Guard {} recovered ({}).", guard.spec.name, cause.reason),
            };
            let notice = Notice {
                kind: if changed.is_empty() {
                    NoticeKind::IncidentResolved
                } else {
                    NoticeKind::FlagsEnabled
                },
                summary,
                monitor: cause.monitor.clone(),
                incident: incident_ref(
                    cause,
                    trip.incident_id,
                    trip.external_incident.as_deref(),
                    Some((trip.started_at, &trip.reason)),
                ),
                guard: Some(GuardRef {
                    id: guard.id,
                    name: guard.spec.name.clone(),
                }),
                flags: if changed.is_empty() {
                    kept
                } else {
                    changed.clone()
                },
                at: cause.at,
                dedup_key: dedup_key(
                    guard.id,
                    trip.id,
                    trip.incident_id,
                    trip.external_incident.as_deref(),
                ),
            };
            self.queue_notice(tx, &guard.spec.channels, &notice).await?;
            outcomes.push(GuardOutcome {
                guard_id: guard.id,
                guard_name: guard.spec.name.clone(),
                trip_id: trip.id,
                changed,
                new_trip: false,
            });
        }
        Ok(outcomes)
    }
}

impl Service {
    /// Everything a guard names must exist: its monitor, its flags and their environments, its
    /// channels. A name another guard has is a conflict.
    async fn check_references(
        &self,
        r: &mut Reader,
        spec: &GuardSpec,
        id: Option<i64>,
    ) -> Result<()> {
        if let Some(id) = self.missing_channels(r, &spec.channels).await?.first() {
            return Err(ServiceError::NotFound(format!(
                "There is no notification channel with id {id}."
            )));
        }
        if let Some(other) = r.guard_named(&spec.name).await?
            && Some(other.id) != id
        {
            return Err(ServiceError::Conflict {
                name: "NameExistsError",
                message: format!("A guard named \"{}\" already exists.", spec.name),
            });
        }
        if let Some(monitor_id) = spec.signal.monitor_id()
            && r.monitor(monitor_id).await?.is_none()
            && r.heartbeat(monitor_id).await?.is_none()
        {
            return Err(ServiceError::NotFound(format!(
                "There is no monitor with id {monitor_id}."
            )));
        }
        match &spec.target {
            Target::Flags(flags) => {
                for flag in flags {
                    let feature = match r.feature(&flag.feature).await? {
                        Some(f) if f.project == flag.project && f.archived_at.is_none() => f,
                        _ => return Err(not_found_feature(&flag.project, &flag.feature)),
                    };
                    if feature.environment(&flag.environment).is_none() {
                        return Err(environment_not_found(&flag.environment));
                    }
                }
            }
            Target::RecentlyEnabled { environment, .. } => {
                if r.environment(environment).await?.is_none() {
                    return Err(environment_not_found(environment));
                }
            }
        }
        Ok(())
    }
}

/// A monitor that guards read cannot be deleted: a kill switch must not vanish as a side
/// effect. 409 naming the guards.
pub(super) async fn refuse_if_guarded(r: &mut Reader, monitor_id: i64) -> Result<()> {
    let guards = r.guards_reading_monitor(monitor_id).await?;
    if guards.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = guards
        .iter()
        .map(|g| format!("\"{}\"", g.spec.name))
        .collect();
    Err(ServiceError::Conflict {
        name: "ConflictError",
        message: format!(
            "Monitor {monitor_id} is the signal of guard {}; delete the guard or point it elsewhere first.",
            names.join(", ")
        ),
    })
}

fn environment_not_found(name: &str) -> ServiceError {
    ServiceError::NotFound(format!("There is no environment named \"{name}\"."))
}

/// The flags a firing guard acts on now.
async fn target_flags(r: &mut Reader, guard: &Guard, at: Timestamp) -> Result<Vec<FlagRef>> {
    match &guard.spec.target {
        Target::Flags(flags) => Ok(flags.clone()),
        Target::RecentlyEnabled { hours, environment } => {
            let since = Timestamp(at.millis() - hours * 3_600_000);
            Ok(r.recently_enabled(environment, since).await?)
        }
    }
}

/// Whether the flag is on in its environment; `None` if the flag (live, in that project) or
/// the environment is gone.
async fn flag_enabled(r: &mut Reader, flag: &FlagRef) -> Result<Option<bool>> {
    Ok(match r.feature(&flag.feature).await? {
        Some(f) if f.project == flag.project && f.archived_at.is_none() => {
            f.environment(&flag.environment).map(|e| e.enabled)
        }
        _ => None,
    })
}

fn flag_list(flags: &[FlagRef]) -> String {
    flags
        .iter()
        .map(|f| format!("{} in {}", f.feature, f.environment))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One key per incident, so PagerDuty's trigger and resolve meet: the flagwatch incident, the
/// Better Stack incident, or else the trip.
fn dedup_key(guard_id: i64, trip_id: i64, incident: Option<i64>, external: Option<&str>) -> String {
    match (incident, external) {
        (Some(id), _) => format!("flagwatch-incident-{id}"),
        (None, Some(ext)) => format!("flagwatch-betterstack-{ext}"),
        (None, None) => format!("flagwatch-guard-{guard_id}-trip-{trip_id}"),
    }
}

fn incident_ref(
    cause: &GuardCause,
    incident: Option<i64>,
    external: Option<&str>,
    started: Option<(Timestamp, &str)>,
) -> Option<IncidentRef> {
    let id = incident
        .map(|i| i.to_string())
        .or_else(|| external.map(str::to_string))?;
    let (started_at, reason) = started.unwrap_or((cause.at, cause.reason.as_str()));
    Some(IncidentRef {
        id,
        started_at,
        resolved_at: started.map(|_| cause.at),
        cause: reason.to_string(),
    })
}
