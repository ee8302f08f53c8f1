//! Applying a checked file: first against what the database holds (a flag in another project,
//! an unknown environment, two stored monitors with one name … and nothing is written), then
//! object by object in dependency order — environments, projects, segments, flags, channels,
//! monitors, guards, tokens — each through the same `Service` call the API makes, so each
//! change is committed with the same events, by the actor `config:<file>`.
//!
//! Each object is compared with what is stored first and the service is called only for what
//! differs: an object already as declared is left alone and writes no event, so applying the
//! same file twice changes nothing the second time.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use crate::declare::DeclareError;
use crate::declare::check::{
    Declaration, describe, feature_input, guard_input, monitor_input, segment_input,
    strategy_input, variant_inputs,
};
use crate::declare::file::{FlagDecl, GuardDecl, StrategyDecl};
use crate::declare::report::{Change, Outcome, Report};
use crate::domain::Invalid;
use crate::domain::event::Actor;
use crate::domain::feature::{Feature, FeatureEnvironment, FeatureMetadata, Project};
use crate::domain::guard::{Guard, GuardInput, GuardSpec, Target as GuardTarget};
use crate::domain::monitor::{Monitor, MonitorSpec};
use crate::domain::notification::{Channel, ChannelConfig, ChannelSpec};
use crate::domain::segment::{Segment, SegmentSpec};
use crate::domain::strategy::{Strategy, StrategySpec, Variant, parse_variants};
use crate::domain::token::{ApiToken, TokenKind};
use crate::service::projects::{EnvironmentInput, ProjectInput};
use crate::service::strategies::Target;
use crate::service::tokens::hash_secret;
use crate::service::{Service, ServiceError};

/// What the database holds, read once before anything is written.
struct Stored {
    environments: HashSet<String>,
    projects: HashMap<String, Project>,
    segments: HashMap<String, Segment>,
    /// Live flags.
    flags: HashMap<String, Feature>,
    archived: HashMap<String, Feature>,
    channels: HashMap<String, Channel>,
    /// By `pronounceable_name`; several monitors may share one.
    monitors: HashMap<String, Vec<Monitor>>,
    guards: HashMap<String, Guard>,
    /// By secret hash.
    tokens: HashMap<String, ApiToken>,
}

impl Stored {
    async fn read(service: &Service) -> Result<Self, ServiceError> {
        let projects: HashMap<String, Project> = service
            .list_projects()
            .await?
            .into_iter()
            .map(|(p, _)| (p.id.clone(), p))
            .collect();
        let mut flags = HashMap::new();
        for project in projects.keys() {
            for f in service.list_features(project, None, Vec::new()).await? {
                flags.insert(f.name.clone(), f);
            }
        }
        let mut monitors: HashMap<String, Vec<Monitor>> = HashMap::new();
        for m in service.all_monitors().await? {
            monitors
                .entry(m.spec.pronounceable_name.clone())
                .or_default()
                .push(m);
        }
        Ok(Self {
            environments: service
                .list_environments()
                .await?
                .into_iter()
                .map(|e| e.name)
                .collect(),
            projects,
            segments: service
                .list_segments()
                .await?
                .into_iter()
                .map(|(s, _)| (s.name.clone(), s))
                .collect(),
            flags,
            archived: service
                .list_archived(None)
                .await?
                .into_iter()
                .map(|f| (f.name.clone(), f))
                .collect(),
            channels: service
                .list_channels()
                .await?
                .into_iter()
                .map(|c| (c.name.clone(), c))
                .collect(),
            monitors,
            guards: service
                .list_guards()
                .await?
                .into_iter()
                .map(|v| (v.guard.spec.name.clone(), v.guard))
                .collect(),
            tokens: service
                .list_tokens()
                .await?
                .into_iter()
                .map(|t| (t.secret_hash.clone(), t))
                .collect(),
        })
    }
}

/// Reads the stored state, refuses a file that does not fit it, then applies (or, with
/// `dry_run`, only compares).
pub(super) async fn run(
    service: &Service,
    d: &Declaration,
    dry_run: bool,
) -> Result<Report, DeclareError> {
    let stored = Stored::read(service).await.map_err(DeclareError::State)?;
    let problems = conflicts(d, &stored);
    if !problems.is_empty() {
        return Err(DeclareError::Conflicts {
            path: d.source.clone(),
            problems,
        });
    }
    let mut a = Applier {
        service,
        actor: Actor {
            name: format!("config:{}", d.source),
            user_id: Some(Actor::SYSTEM_USER_ID),
        },
        dry_run,
        report: Report::new(&d.source, dry_run),
        segment_ids: HashMap::new(),
        channel_ids: HashMap::new(),
        monitor_ids: HashMap::new(),
        stand_ins: 0,
    };
    match a.all(d, &stored).await {
        Ok(()) => Ok(a.report),
        Err(Failed { object, source }) => Err(DeclareError::Apply {
            report: Box::new(a.report),
            object,
            source,
        }),
    }
}

/// What does not fit the stored state, one line each.
fn conflicts(d: &Declaration, s: &Stored) -> Vec<String> {
    let mut problems = Vec::new();
    let environment_known =
        |name: &str| s.environments.contains(name) || d.environments.iter().any(|e| e.name == name);
    let project_known =
        |id: &str| s.projects.contains_key(id) || d.projects.iter().any(|p| p.id == id);

    for seg in &d.segments {
        if let Some(project) = &seg.project
            && !project_known(project)
        {
            problems.push(format!(
                "segment \"{}\": project \"{project}\" is neither declared in the file nor stored",
                seg.name
            ));
        }
    }
    for flag in &d.flags {
        let project = project_of(flag);
        let at = format!("flag \"{}\"", flag.name);
        if !project_known(project) {
            problems.push(format!(
                "{at}: project \"{project}\" is neither declared in the file nor stored"
            ));
        }
        for env in flag.environments.keys() {
            if !environment_known(env) {
                problems.push(format!(
                    "{at}: environment \"{env}\" is neither declared in the file nor stored"
                ));
            }
        }
        if let Some(f) = s.flags.get(&flag.name)
            && f.project != project
        {
            problems.push(format!(
                "{at}: a flag of that name exists in project \"{}\"; flags cannot move between projects",
                f.project
            ));
        }
        if let Some(f) = s.archived.get(&flag.name) {
            problems.push(format!(
                "{at}: a flag of that name is archived (in project \"{}\"); revive or delete it first",
                f.project
            ));
        }
    }
    for m in &d.monitors {
        if let Some(found) = s.monitors.get(&m.name)
            && found.len() > 1
        {
            let ids: Vec<String> = found.iter().map(|m| m.id.to_string()).collect();
            problems.push(format!(
                "monitor \"{}\": {} stored monitors have that pronounceable_name (ids {}); rename or delete all but one",
                m.name,
                found.len(),
                ids.join(", ")
            ));
        }
    }
    for g in &d.guards {
        let at = format!("guard \"{}\"", g.name);
        for f in g.flags.iter().flatten() {
            let project = f.project.as_deref().unwrap_or("default");
            let declared = d.flags.iter().find(|d| d.name == f.feature);
            let exists = match declared {
                Some(d) => project_of(d) == project,
                None => s
                    .flags
                    .get(&f.feature)
                    .is_some_and(|s| s.project == project),
            };
            if !exists {
                problems.push(format!(
                    "{at}: flag \"{}\" of project \"{project}\" is neither declared in the file nor stored",
                    f.feature
                ));
            }
            if !environment_known(&f.environment) {
                problems.push(format!(
                    "{at}: environment \"{}\" is neither declared in the file nor stored",
                    f.environment
                ));
            }
        }
        if let Some(r) = &g.recently_enabled
            && !environment_known(&r.environment)
        {
            problems.push(format!(
                "{at}: environment \"{}\" is neither declared in the file nor stored",
                r.environment
            ));
        }
    }
    for t in &d.tokens {
        let at = format!("token \"{}\"", t.name);
        if let Some(stored) = s.tokens.get(&hash_secret(&t.secret))
            && stored.kind != t.kind
        {
            problems.push(format!(
                "{at}: its secret belongs to a stored {} token, not a {} one",
                stored.kind.as_str(),
                t.kind.as_str()
            ));
        }
        if t.kind != TokenKind::Admin {
            if !environment_known(&t.scope.environment) {
                problems.push(format!(
                    "{at}: environment \"{}\" (from the secret) is neither declared in the file nor stored",
                    t.scope.environment
                ));
            }
            if t.scope.project != "*" && !project_known(&t.scope.project) {
                problems.push(format!(
                    "{at}: project \"{}\" (from the secret) is neither declared in the file nor stored",
                    t.scope.project
                ));
            }
        }
    }
    problems
}

fn project_of(flag: &FlagDecl) -> &str {
    flag.project.as_deref().unwrap_or("default")
}

/// A service call that failed, and the object it was for.
struct Failed {
    object: String,
    source: ServiceError,
}

type Step<T = ()> = Result<T, Failed>;

struct Applier<'a> {
    service: &'a Service,
    actor: Actor,
    dry_run: bool,
    report: Report,
    /// Ids by name of what the file declares, as stored (or, in a dry run, stand-ins for
    /// what would be created).
    segment_ids: HashMap<String, i64>,
    channel_ids: HashMap<String, i64>,
    monitor_ids: HashMap<String, i64>,
    stand_ins: i64,
}

/// Turns a service result into a step of object `what`.
fn at<T>(what: &str, result: Result<T, ServiceError>) -> Step<T> {
    result.map_err(|source| Failed {
        object: what.to_string(),
        source,
    })
}

/// A domain parse that `check` already passed, failing here only if stored state makes it
/// fail (a monitor's stored attributes merged with the file's, say).
fn parsed<T>(what: &str, result: Result<T, Invalid>) -> Step<T> {
    at(what, result.map_err(ServiceError::Invalid))
}

impl Applier<'_> {
    /// An id for an object a dry run would create: positive (the parsers insist), and far
    /// from any real one, so it compares unequal to every stored reference.
    fn stand_in(&mut self) -> i64 {
        self.stand_ins += 1;
        i64::MAX - self.stand_ins
    }

    fn record(&mut self, kind: &'static str, name: String, outcome: Outcome, details: Vec<String>) {
        self.report.changes.push(Change {
            kind,
            name,
            outcome,
            details,
        });
    }

    async fn all(&mut self, d: &Declaration, s: &Stored) -> Step {
        self.environments(d, s).await?;
        self.projects(d, s).await?;
        self.segments(d, s).await?;
        for flag in &d.flags {
            self.flag(flag, s).await?;
        }
        self.channels(d, s).await?;
        self.monitors(d, s).await?;
        for g in &d.guards {
            self.guard(g, s).await?;
        }
        self.tokens(d, s).await
    }

    /// Environments are created if missing; a stored one is left as it is.
    async fn environments(&mut self, d: &Declaration, s: &Stored) -> Step {
        for e in &d.environments {
            let what = format!("environment \"{}\"", e.name);
            if s.environments.contains(&e.name) {
                self.record("environment", e.name.clone(), Outcome::Unchanged, vec![]);
                continue;
            }
            if !self.dry_run {
                let input = EnvironmentInput {
                    name: Some(e.name.clone()),
                    env_type: Some(e.env_type.clone()),
                    sort_order: e.sort_order,
                    enabled: e.enabled,
                };
                at(
                    &what,
                    self.service.create_environment(&self.actor, input).await,
                )?;
            }
            self.record("environment", e.name.clone(), Outcome::Created, vec![]);
        }
        Ok(())
    }

    /// Projects are created if missing; flagwatch has no project update, so a stored one's
    /// name and description stay.
    async fn projects(&mut self, d: &Declaration, s: &Stored) -> Step {
        for p in &d.projects {
            let what = format!("project \"{}\"", p.id);
            if let Some(stored) = s.projects.get(&p.id) {
                let mut notes = Vec::new();
                let name_differs = p.name.as_ref().is_some_and(|n| *n != stored.name);
                let description_differs = p
                    .description
                    .as_ref()
                    .is_some_and(|d| Some(d) != stored.description.as_ref());
                if name_differs || description_differs {
                    notes.push(
                        "its stored name and description differ from the file's and are kept (projects are only created)"
                            .into(),
                    );
                }
                self.record("project", p.id.clone(), Outcome::Unchanged, notes);
                continue;
            }
            if !self.dry_run {
                let input = ProjectInput {
                    id: Some(p.id.clone()),
                    name: p.name.clone(),
                    description: p.description.clone(),
                };
                at(&what, self.service.create_project(&self.actor, input).await)?;
            }
            self.record("project", p.id.clone(), Outcome::Created, vec![]);
        }
        Ok(())
    }

    async fn segments(&mut self, d: &Declaration, s: &Stored) -> Step {
        for seg in &d.segments {
            let what = format!("segment \"{}\"", seg.name);
            let input = segment_input(seg);
            let spec = parsed(&what, SegmentSpec::parse(input.clone()))?;
            match s.segments.get(&seg.name) {
                Some(stored) => {
                    let mut changed = Vec::new();
                    if spec.description != stored.description {
                        changed.push("description");
                    }
                    if spec.project != stored.project {
                        changed.push("project");
                    }
                    if spec.constraints != stored.constraints {
                        changed.push("constraints");
                    }
                    self.segment_ids.insert(seg.name.clone(), stored.id);
                    if changed.is_empty() {
                        self.record("segment", seg.name.clone(), Outcome::Unchanged, vec![]);
                        continue;
                    }
                    if !self.dry_run {
                        at(
                            &what,
                            self.service
                                .update_segment(&self.actor, stored.id, input)
                                .await,
                        )?;
                    }
                    let details = vec![format!("{} changed", changed.join(", "))];
                    self.record("segment", seg.name.clone(), Outcome::Updated, details);
                }
                None => {
                    let id = if self.dry_run {
                        self.stand_in()
                    } else {
                        at(&what, self.service.create_segment(&self.actor, input).await)?.id
                    };
                    self.segment_ids.insert(seg.name.clone(), id);
                    self.record("segment", seg.name.clone(), Outcome::Created, vec![]);
                }
            }
        }
        Ok(())
    }

    async fn flag(&mut self, flag: &FlagDecl, s: &Stored) -> Step {
        let project = project_of(flag);
        let what = format!("flag \"{}\"", flag.name);
        let input = feature_input(flag);
        let mut details = Vec::new();
        let mut changed = false;
        let existing = s.flags.get(&flag.name);
        match existing {
            Some(before) => {
                let before = before.metadata();
                let after = parsed(&what, FeatureMetadata::parse_update(&before, &input))?;
                if after != before {
                    changed = true;
                    details.push(format!("{} changed", metadata_changes(&before, &after)));
                    if !self.dry_run {
                        at(
                            &what,
                            self.service
                                .update_feature(&self.actor, project, &flag.name, input)
                                .await,
                        )?;
                    }
                }
            }
            None => {
                if !self.dry_run {
                    at(
                        &what,
                        self.service
                            .create_feature(&self.actor, project, input)
                            .await,
                    )?;
                }
            }
        }
        // Read again: it may be new, and environments may be new since `Stored` was read.
        let current = if self.dry_run {
            existing.cloned()
        } else {
            Some(at(
                &what,
                self.service.get_feature(project, &flag.name).await,
            )?)
        };
        for (env, decl) in &flag.environments {
            let state = current.as_ref().and_then(|f| f.environment(env)).cloned();
            let target = Target {
                project,
                feature: &flag.name,
                environment: env,
            };
            if let Some(strategies) = &decl.strategies {
                changed |= self
                    .strategies(&what, &target, state.as_ref(), strategies, &mut details)
                    .await?;
            }
            if let Some(variants) = &decl.variants {
                let mut wanted = parsed(&what, parse_variants(variant_inputs(variants), true))?;
                wanted.sort_by(|a, b| a.name.cmp(&b.name));
                let before: &[Variant] = state.as_ref().map_or(&[], |s| s.variants.as_slice());
                if wanted != before {
                    changed = true;
                    details.push(if wanted.is_empty() {
                        format!("{env}: variants removed")
                    } else {
                        let names: Vec<&str> = wanted.iter().map(|v| v.name.as_str()).collect();
                        format!("{env}: variants set ({})", names.join(", "))
                    });
                    if !self.dry_run {
                        at(
                            &what,
                            self.service
                                .set_variants(&self.actor, &target, variant_inputs(variants))
                                .await,
                        )?;
                    }
                }
            }
            if let Some(enabled) = decl.enabled {
                let is_on = state.as_ref().is_some_and(|s| s.enabled);
                if enabled == is_on {
                    continue;
                }
                if enabled
                    && existing.is_some()
                    && let Some(guard) = self
                        .switched_off_by(&what, project, &flag.name, env)
                        .await?
                {
                    details.push(format!(
                        "{env}: left off: {guard} switched it off; switch it on through the API once someone has looked"
                    ));
                    continue;
                }
                changed = true;
                let adds_default = enabled
                    && decl.strategies.is_none()
                    && state
                        .as_ref()
                        .is_none_or(|s| s.strategies.iter().all(|st| st.disabled));
                details.push(match (enabled, adds_default) {
                    (true, true) => format!(
                        "{env}: switched on (with Unleash's default strategy, 100 % flexibleRollout)"
                    ),
                    (true, false) => format!("{env}: switched on"),
                    (false, _) => format!("{env}: switched off"),
                });
                if !self.dry_run {
                    at(
                        &what,
                        self.service
                            .set_enabled(&self.actor, project, &flag.name, env, enabled)
                            .await,
                    )?;
                }
            }
        }
        let outcome = match (existing, changed) {
            (None, _) => Outcome::Created,
            (Some(_), true) => Outcome::Updated,
            (Some(_), false) => Outcome::Unchanged,
        };
        self.record("flag", format!("{project}/{}", flag.name), outcome, details);
        Ok(())
    }

    /// Brings one environment's strategies to the file's list: the i-th stored strategy is
    /// updated to the i-th declared one where they differ, extra declared ones are added and
    /// extra stored ones removed. True if anything changed.
    async fn strategies(
        &mut self,
        what: &str,
        target: &Target<'_>,
        state: Option<&FeatureEnvironment>,
        declared: &[StrategyDecl],
        details: &mut Vec<String>,
    ) -> Step<bool> {
        let env = target.environment;
        let current: &[Strategy] = state.map_or(&[], |s| s.strategies.as_slice());
        let mut changed = false;
        for i in 0..declared.len().max(current.len()) {
            let n = i + 1;
            match (current.get(i), declared.get(i)) {
                (Some(before), Some(decl)) => {
                    let input = strategy_input(decl, &self.segment_ids);
                    let spec = parsed(what, StrategySpec::parse(input.clone(), target.feature))?;
                    let after = spec.into_strategy(before.id.clone(), before.sort_order);
                    if &after == before {
                        continue;
                    }
                    changed = true;
                    details.push(format!("{env}: strategy {n} ({}) updated", after.name));
                    if !self.dry_run {
                        at(
                            what,
                            self.service
                                .update_strategy(&self.actor, target, &before.id, input)
                                .await,
                        )?;
                    }
                }
                (None, Some(decl)) => {
                    changed = true;
                    details.push(format!("{env}: strategy {n} ({}) added", decl.name));
                    if !self.dry_run {
                        let input = strategy_input(decl, &self.segment_ids);
                        at(
                            what,
                            self.service.add_strategy(&self.actor, target, input).await,
                        )?;
                    }
                }
                (Some(before), None) => {
                    changed = true;
                    details.push(format!("{env}: strategy {n} ({}) removed", before.name));
                    if !self.dry_run {
                        at(
                            what,
                            self.service
                                .delete_strategy(&self.actor, target, &before.id)
                                .await,
                        )?;
                    }
                }
                (None, None) => {}
            }
        }
        Ok(changed)
    }

    /// The guard (`guard:<name>`) whose automatic switch-off is the flag's last on/off change
    /// in `env`, if any. The file does not switch such a flag back on: that is a person's
    /// decision (or the guard's own, with `re_enable`), not a restart's.
    async fn switched_off_by(
        &self,
        what: &str,
        project: &str,
        feature: &str,
        env: &str,
    ) -> Step<Option<String>> {
        let states = at(what, self.service.flag_guard_state(project, feature).await)?;
        Ok(states
            .into_iter()
            .find(|s| s.environment == env && !s.enabled)
            .and_then(|s| s.last_change)
            .filter(|e| e.created_by.starts_with("guard:"))
            .map(|e| e.created_by))
    }

    async fn channels(&mut self, d: &Declaration, s: &Stored) -> Step {
        for c in &d.channels {
            let what = format!("channel \"{}\"", c.name);
            match s.channels.get(&c.name) {
                Some(stored) => {
                    self.channel_ids.insert(c.name.clone(), stored.id);
                    // A webhook channel whose file gives no secret keeps the stored one.
                    let spec = parsed(
                        &what,
                        ChannelSpec::parse(&c.body, Some(&stored.config), "unused"),
                    )?;
                    if spec.config == stored.config {
                        self.record("channel", c.name.clone(), Outcome::Unchanged, vec![]);
                        continue;
                    }
                    let details = vec![channel_changes(&stored.config, &spec.config)];
                    if !self.dry_run {
                        at(
                            &what,
                            self.service
                                .update_channel(&self.actor, stored.id, &c.body)
                                .await,
                        )?;
                    }
                    self.record("channel", c.name.clone(), Outcome::Updated, details);
                }
                None => {
                    let mut details = Vec::new();
                    let id = if self.dry_run {
                        self.stand_in()
                    } else {
                        let created = at(
                            &what,
                            self.service.create_channel(&self.actor, &c.body).await,
                        )?;
                        if created.generated_secret.is_some() {
                            details.push(
                                "a signing secret was generated (not shown: give \"secret_env\" to choose it)"
                                    .into(),
                            );
                        }
                        created.channel.id
                    };
                    self.channel_ids.insert(c.name.clone(), id);
                    self.record("channel", c.name.clone(), Outcome::Created, details);
                }
            }
        }
        Ok(())
    }

    async fn monitors(&mut self, d: &Declaration, s: &Stored) -> Step {
        for m in &d.monitors {
            let what = format!("monitor \"{}\"", m.name);
            let input = monitor_input(m, &self.channel_ids);
            match s.monitors.get(&m.name).and_then(|found| found.first()) {
                Some(stored) => {
                    self.monitor_ids.insert(m.name.clone(), stored.id);
                    let after =
                        MonitorSpec::parse(&input, Some(&stored.spec)).map_err(|errors| {
                            Failed {
                                object: what.clone(),
                                source: ServiceError::InvalidFields(errors),
                            }
                        })?;
                    if after == stored.spec {
                        self.record("monitor", m.name.clone(), Outcome::Unchanged, vec![]);
                        continue;
                    }
                    let details = vec![format!(
                        "{} changed",
                        changed_keys(&stored.spec.attributes(), &after.attributes())
                    )];
                    if !self.dry_run {
                        at(
                            &what,
                            self.service
                                .update_monitor(&self.actor, stored.id, &input)
                                .await,
                        )?;
                    }
                    self.record("monitor", m.name.clone(), Outcome::Updated, details);
                }
                None => {
                    let id = if self.dry_run {
                        self.stand_in()
                    } else {
                        at(
                            &what,
                            self.service.create_monitor(&self.actor, &input).await,
                        )?
                        .id
                    };
                    self.monitor_ids.insert(m.name.clone(), id);
                    self.record("monitor", m.name.clone(), Outcome::Created, vec![]);
                }
            }
        }
        Ok(())
    }

    async fn guard(&mut self, g: &GuardDecl, s: &Stored) -> Step {
        let what = format!("guard \"{}\"", g.name);
        let stored = s.guards.get(&g.name);
        let kept: Option<Map<String, Value>> = stored.map(|g| GuardInput::from_spec(&g.spec));
        let input = guard_input(g, &self.monitor_ids, &self.channel_ids, kept.as_ref());
        match stored {
            Some(stored) => {
                let after = parsed(&what, GuardSpec::parse(&input))?;
                if after == stored.spec {
                    self.record("guard", g.name.clone(), Outcome::Unchanged, vec![]);
                    return Ok(());
                }
                let details = vec![format!("{} changed", guard_changes(&stored.spec, &after))];
                if !self.dry_run {
                    at(
                        &what,
                        self.service
                            .replace_guard(&self.actor, stored.id, &input)
                            .await,
                    )?;
                }
                self.record("guard", g.name.clone(), Outcome::Updated, details);
            }
            None => {
                if !self.dry_run {
                    at(&what, self.service.create_guard(&self.actor, &input).await)?;
                }
                self.record("guard", g.name.clone(), Outcome::Created, vec![]);
            }
        }
        Ok(())
    }

    /// Tokens are matched by their secret: one already stored is left as it is (its name
    /// too); a new secret is a new token. Nothing is deleted, so a rotated secret's old token
    /// stays until deleted through the API.
    async fn tokens(&mut self, d: &Declaration, s: &Stored) -> Step {
        for t in &d.tokens {
            let what = format!("token \"{}\"", t.name);
            if let Some(stored) = s.tokens.get(&hash_secret(&t.secret)) {
                let notes = if stored.name == t.name {
                    vec![]
                } else {
                    vec![format!("stored under the name \"{}\"", stored.name)]
                };
                self.record("token", t.name.clone(), Outcome::Unchanged, notes);
                continue;
            }
            if !self.dry_run {
                at(
                    &what,
                    self.service
                        .create_token_with_secret(&self.actor, &t.name, t.kind, &t.secret)
                        .await,
                )?;
            }
            self.record("token", t.name.clone(), Outcome::Created, vec![]);
        }
        Ok(())
    }
}

fn metadata_changes(before: &FeatureMetadata, after: &FeatureMetadata) -> String {
    let mut fields = Vec::new();
    if before.description != after.description {
        fields.push("description");
    }
    if before.feature_type != after.feature_type {
        fields.push("type");
    }
    if before.impression_data != after.impression_data {
        fields.push("impression_data");
    }
    if before.stale != after.stale {
        fields.push("stale");
    }
    fields.join(", ")
}

/// The attribute names whose values differ (never the values: some are secrets).
fn changed_keys(before: &Map<String, Value>, after: &Map<String, Value>) -> String {
    let mut keys: Vec<&str> = before
        .keys()
        .chain(after.keys())
        .filter(|k| before.get(*k) != after.get(*k))
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys.join(", ")
}

fn channel_changes(before: &ChannelConfig, after: &ChannelConfig) -> String {
    if before.kind() != after.kind() {
        return format!(
            "kind changed ({} → {})",
            before.kind().as_str(),
            after.kind().as_str()
        );
    }
    let as_map = |c| match serde_json::to_value(c) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    format!("{} changed", changed_keys(&as_map(before), &as_map(after)))
}

fn guard_changes(before: &GuardSpec, after: &GuardSpec) -> String {
    let mut fields = Vec::new();
    if before.signal != after.signal {
        fields.push("signal");
    }
    if before.target != after.target {
        fields.push(match after.target {
            GuardTarget::Flags(_) => "flags",
            GuardTarget::RecentlyEnabled { .. } => "recently_enabled",
        });
    }
    if before.on_recovery != after.on_recovery {
        fields.push("on_recovery");
    }
    if before.channels != after.channels {
        fields.push("channels");
    }
    fields.join(", ")
}

/// For the apply error: the problems of one failed call, in words.
pub(super) fn service_error_text(e: &ServiceError) -> String {
    match e {
        ServiceError::Invalid(i) => describe(i),
        ServiceError::InvalidFields(fields) => {
            fields.iter().map(describe).collect::<Vec<_>>().join("; ")
        }
        other => other.to_string(),
    }
}
