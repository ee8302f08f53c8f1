//! Unleash's client specification (`tests/fixtures/client-specification`, every file its
//! `index.json` lists) run against the server end to end. For each file a fresh server gets
//! the file's `state`; then
//! 1. `GET /api/client/features` must serve that state back (modulo the normalisations below),
//! 2. every `tests` entry: the frontend API's `enabled` for the flag equals `expectedResult`,
//! 3. every `variantTests` entry: its variant (name, enabled, payload, feature_enabled) does.
//!
//! All cases run; failures are collected and reported together at the end, by file, case and
//! description.
//!
//! How a state gets in. Through the admin API wherever it can express it: segments
//! (`POST /api/admin/segments`, created in id order so the ids match), flags, strategies with
//! constraints, parameters, variants and segments, flag variants (`PUT …/variants`), on/off, in
//! `development`, in the flag's own project. Through `Service::import_client_state` — a
//! test-only entry point that writes with events but skips the admin API's input rules —
//! for what the admin API cannot express or rightly refuses:
//! - dependencies (no admin endpoint);
//! - names that are not URL-friendly (18: UTF-8 names);
//! - unknown operators (13: `NOT_A_VALID_OPERATOR`);
//! - variant weights that do not add up to 1000 (the admin API spreads `variable` weights over
//!   1000 and refuses `fix` weights that do not fill it; the specification uses 1, 33, 25…,
//!   and which variant a user gets depends on the total);
//! - constraint values the admin API refuses (`EXPECTED_ADMIN_REFUSALS`: a semver with a
//!   leading `v`, regexes Rust's regex crate cannot compile) — the admin API is tried first;
//! - the delta files 19 and 20: `hydration`, `feature-updated` and `segment-updated` events
//!   are imported in order; `feature-removed` archives through the admin API, which is what
//!   makes Unleash emit it.
//!
//! One flag cannot be stored at all: 15's `F9.withMissingSegment` refers to segment 404, which
//! the state does not define. A strategy's segments must exist (a foreign key, and the admin
//! API's 404), so both paths refuse it; the flag is then absent, and an SDK treats an absent
//! flag as off, which is what the case expects. It is left out of the state comparison.
//!
//! Normalisations before comparing served and expected state (both parsed into
//! `unleash_types::client_features`): `version`, `query` and `meta` are ignored; a missing
//! `type` is `release`, `stale`/`impressionData` false, `project` `default`, `description`
//! none; missing `strategies`, `variants`, `constraints`, `parameters`, strategy `segments`
//! and constraint `values` are empty; strategy `sortOrder` is dropped; `flexibleRollout` gets
//! `stickiness: default` and `groupId: <flag>`, the gradual rollouts `groupId: <flag>`, as
//! the admin API adds them; variants get `weightType: variable` and `stickiness: default`,
//! empty `overrides` are dropped; dependencies get `enabled: true` and `variants: []` and
//! are sorted by parent; only segments some served strategy uses are compared (the client
//! API sends only those, as Unleash does).
//!
//! The checks call the frontend API from 127.0.0.2: the frontend API defaults
//! `remoteAddress` to the caller's IP, as Unleash's does, and the cases that leave it out
//! expect no match for 127.0.0.1.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use unleash_types::client_features::{
    ClientFeature, ClientFeatures, ClientFeaturesDelta, Constraint, DeltaEvent, FeatureDependency,
    Operator, Segment, Strategy, StrategyVariant, Variant, WeightType,
};

use crate::helpers::{Backend, CLIENT_DEV, FRONTEND_DEV, TestApp, send};

const ENV: &str = "development";
const ENABLED_CHECKS: usize = 227;
const VARIANT_CHECKS: usize = 52;

/// Flags whose strategies the admin API refuses (rightly), so they are imported instead.
const EXPECTED_ADMIN_REFUSALS: &[(&str, &str)] = &[
    (
        "14-constraint-semver-operators.json",
        "F8.invalidSemverWithLeadingV",
    ),
    (
        "21-regex-constraint-operators.json",
        "invalid-regex-defaults-to-false",
    ),
    ("21-regex-constraint-operators.json", "R90.reject_lookahead"),
    (
        "21-regex-constraint-operators.json",
        "R91.reject_backreference",
    ),
];

fn spec_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/client-specification/specifications")
}

#[derive(Default)]
struct Tally {
    enabled: usize,
    enabled_passed: usize,
    variant: usize,
    variant_passed: usize,
    failures: Vec<String>,
    /// How each file's state got in, where it was not the admin API: (file, how) → flags.
    notes: BTreeMap<(String, String), Vec<String>>,
}

impl Tally {
    fn note(&mut self, file: &str, how: impl Into<String>, flag: &str) {
        self.notes
            .entry((file.to_string(), how.into()))
            .or_default()
            .push(flag.to_string());
    }
}

/// The tokens the checks use: the standard ones, or all-project ones when a flag lives
/// outside `default`.
struct Tokens {
    client: String,
    frontend: String,
}

/// What the server should serve once the state is in.
struct Expected {
    features: Vec<ClientFeature>,
    segments: Vec<Segment>,
    /// Ask for segments by id (`Unleash-Client-Spec: 5.2.0`).
    uses_segments: bool,
}

async fn run(backend: Backend) {
    let files: Vec<String> = serde_json::from_str(
        &std::fs::read_to_string(spec_dir().join("index.json")).expect("index.json"),
    )
    .expect("index.json lists files");
    let caller = reqwest::Client::builder()
        .local_address(IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    let mut tally = Tally::default();
    for file in &files {
        let case: Value =
            serde_json::from_str(&std::fs::read_to_string(spec_dir().join(file)).unwrap())
                .unwrap_or_else(|e| panic!("{file}: {e}"));
        let Some(app) = TestApp::spawn(backend).await else {
            return; // PostgreSQL not configured: helpers already said so
        };
        run_case(&app, &caller, file, &case, &mut tally).await;
        app.stop().await;
    }
    let notes: Vec<String> = tally
        .notes
        .iter()
        .map(|((file, how), flags)| format!("{file}: {how}: {}", flags.join(", ")))
        .collect();
    let _ = writeln!(
        std::io::stderr(),
        "\nclient specification on {backend:?}: {} of {} enabled checks and {} of {} variant checks passed ({} files)\n  {}",
        tally.enabled_passed,
        tally.enabled,
        tally.variant_passed,
        tally.variant,
        files.len(),
        notes.join("\n  "),
    );
    if tally.enabled != ENABLED_CHECKS {
        tally.failures.push(format!(
            "ran {} enabled checks, the specification has {ENABLED_CHECKS}",
            tally.enabled
        ));
    }
    if tally.variant != VARIANT_CHECKS {
        tally.failures.push(format!(
            "ran {} variant checks, the specification has {VARIANT_CHECKS}",
            tally.variant
        ));
    }
    assert!(
        tally.failures.is_empty(),
        "{} client-specification failures on {backend:?}:\n{}",
        tally.failures.len(),
        tally.failures.join("\n")
    );
}

async fn run_case(
    app: &TestApp,
    caller: &reqwest::Client,
    file: &str,
    case: &Value,
    tally: &mut Tally,
) {
    let name = case["name"].as_str().unwrap_or(file).to_string();
    let state = &case["state"];
    let expected = if state.get("events").is_some() {
        let delta: ClientFeaturesDelta = serde_json::from_value(state.clone())
            .unwrap_or_else(|e| panic!("{file}: delta state: {e}"));
        apply_delta(app, file, &delta, tally).await
    } else {
        let full: ClientFeatures =
            serde_json::from_value(state.clone()).unwrap_or_else(|e| panic!("{file}: state: {e}"));
        write_state(app, file, full, tally).await
    };
    let tokens = tokens_for(app, &expected.features).await;
    check_state(app, file, &name, &expected, &tokens, tally).await;

    for t in case["tests"].as_array().into_iter().flatten() {
        tally.enabled += 1;
        let label = format!(
            "{file} / {name} / {}",
            t["description"].as_str().unwrap_or("?")
        );
        let toggle = t["toggleName"].as_str().unwrap_or_default();
        let want = t["expectedResult"].as_bool().unwrap_or(false);
        match evaluate(app, caller, &tokens, &t["context"], toggle).await {
            Ok(got) => {
                let enabled = got.is_some_and(|t| t["enabled"] == true);
                if enabled == want {
                    tally.enabled_passed += 1;
                } else {
                    tally
                        .failures
                        .push(format!("{label}: enabled {enabled}, expected {want}"));
                }
            }
            Err(e) => tally.failures.push(format!("{label}: {e}")),
        }
    }
    for t in case["variantTests"].as_array().into_iter().flatten() {
        tally.variant += 1;
        let label = format!(
            "{file} / {name} / {}",
            t["description"].as_str().unwrap_or("?")
        );
        let toggle = t["toggleName"].as_str().unwrap_or_default();
        let want = &t["expectedResult"];
        match evaluate(app, caller, &tokens, &t["context"], toggle).await {
            Ok(got) => {
                let variant = got.map_or_else(
                    || json!({"name": "disabled", "enabled": false, "feature_enabled": false}),
                    |t| t["variant"].clone(),
                );
                let same = ["name", "enabled", "payload", "feature_enabled"]
                    .iter()
                    .all(|k| variant.get(k) == want.get(k));
                if same {
                    tally.variant_passed += 1;
                } else {
                    tally
                        .failures
                        .push(format!("{label}: variant {variant}, expected {want}"));
                }
            }
            Err(e) => tally.failures.push(format!("{label}: {e}")),
        }
    }
}

/// The flag as `POST /api/frontend/all` evaluates it for `context`; `None` when the answer
/// does not list it (SDKs then treat it as off).
async fn evaluate(
    app: &TestApp,
    caller: &reqwest::Client,
    tokens: &Tokens,
    context: &Value,
    toggle: &str,
) -> Result<Option<Value>, String> {
    let rb = caller
        .post(app.url("/api/frontend/all"))
        .header("Authorization", &tokens.frontend)
        .json(&json!({ "context": context }));
    let (status, body) = send(rb).await;
    if status != StatusCode::OK {
        return Err(format!("POST /api/frontend/all answered {status}: {body}"));
    }
    Ok(body["toggles"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["name"] == toggle)
        .cloned())
}

/// All-project tokens when some flag lives outside `default`, which the standard tokens
/// cannot see.
async fn tokens_for(app: &TestApp, features: &[ClientFeature]) -> Tokens {
    if features
        .iter()
        .all(|f| f.project.as_deref().unwrap_or("default") == "default")
    {
        return Tokens {
            client: CLIENT_DEV.into(),
            frontend: FRONTEND_DEV.into(),
        };
    }
    let secret = |kind: &'static str| async move {
        let body = json!({"tokenName": format!("conformance-{kind}"), "type": kind, "environment": ENV, "projects": ["*"]});
        let (status, body) = app
            .admin(Method::POST, "/api/admin/api-tokens", Some(body))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["secret"].as_str().unwrap().to_string()
    };
    let client = secret("client").await;
    let frontend = secret("frontend").await;
    Tokens { client, frontend }
}

fn url_friendly(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.!~*'()".contains(c))
}

fn weights_fill_1000<T>(variants: &[T], weight: impl Fn(&T) -> i32) -> bool {
    variants.is_empty() || variants.iter().map(weight).sum::<i32>() == 1000
}

/// Why the admin API cannot express this flag, if it cannot.
fn import_reason(f: &ClientFeature) -> Option<String> {
    if f.dependencies.as_ref().is_some_and(|d| !d.is_empty()) {
        return Some("dependencies (no admin endpoint)".into());
    }
    if !url_friendly(&f.name) {
        return Some("a name that is not URL-friendly".into());
    }
    if !weights_fill_1000(f.variants.as_deref().unwrap_or_default(), |v| v.weight) {
        return Some("flag variant weights that do not add up to 1000".into());
    }
    for s in f.strategies.iter().flatten() {
        if !weights_fill_1000(s.variants.as_deref().unwrap_or_default(), |v| v.weight) {
            return Some("strategy variant weights that do not add up to 1000".into());
        }
        if let Some(c) = s
            .constraints
            .iter()
            .flatten()
            .find(|c| matches!(c.operator, Operator::Unknown(_)))
        {
            return Some(format!("an unknown operator ({:?})", c.operator));
        }
    }
    None
}

fn missing_segment(f: &ClientFeature, known: &BTreeSet<i32>) -> Option<i32> {
    f.strategies
        .iter()
        .flatten()
        .flat_map(|s| s.segments.iter().flatten())
        .find(|id| !known.contains(id))
        .copied()
}

async fn import(
    app: &TestApp,
    features: &[ClientFeature],
    segments: &[Segment],
) -> Result<(), String> {
    app.service
        .import_client_state(ENV, features, segments)
        .await
        .map_err(|e| format!("import refused: {e}"))
}

async fn write_state(app: &TestApp, file: &str, state: ClientFeatures, t: &mut Tally) -> Expected {
    let mut segments = state.segments.clone().unwrap_or_default();
    segments.sort_by_key(|s| s.id);
    for s in &segments {
        let body = json!({"name": format!("segment-{}", s.id), "constraints": s.constraints});
        let (status, body) = app
            .admin(Method::POST, "/api/admin/segments", Some(body))
            .await;
        if status != StatusCode::CREATED || body["id"] != s.id {
            t.failures.push(format!(
                "{file}: creating segment {} through the admin API answered {status}: {body}",
                s.id
            ));
        }
    }
    let known: BTreeSet<i32> = segments.iter().map(|s| s.id).collect();
    let uses_segments = !segments.is_empty()
        || state
            .features
            .iter()
            .flat_map(|f| f.strategies.iter().flatten())
            .any(|s| s.segments.as_ref().is_some_and(|ids| !ids.is_empty()));
    let mut features = Vec::new();
    for f in state.features {
        if let Some(id) = missing_segment(&f, &known) {
            match import(app, std::slice::from_ref(&f), &[]).await {
                Err(e) => t.note(
                    file,
                    format!("not stored, a strategy refers to missing segment {id} ({e}); absent, so off"),
                    &f.name,
                ),
                Ok(()) => t.failures.push(format!(
                    "{file}: {} refers to missing segment {id}, yet the import stored it",
                    f.name
                )),
            }
            continue;
        }
        if let Some(reason) = import_reason(&f) {
            match import(app, std::slice::from_ref(&f), &[]).await {
                Ok(()) => t.note(file, format!("imported ({reason})"), &f.name),
                Err(e) => t.failures.push(format!("{file}: {}: {e}", f.name)),
            }
        } else {
            admin_write(app, file, &f, t).await;
        }
        features.push(f);
    }
    Expected {
        features,
        segments,
        uses_segments,
    }
}

async fn ensure_project(app: &TestApp, project: &str) {
    let (status, _) = app
        .admin(Method::GET, &format!("/api/admin/projects/{project}"), None)
        .await;
    if status == StatusCode::NOT_FOUND {
        let (status, body) = app
            .admin(
                Method::POST,
                "/api/admin/projects",
                Some(json!({"id": project, "name": project})),
            )
            .await;
        assert!(status.is_success(), "creating project {project}: {body}");
    }
}

/// Variants as the admin API takes them: `fix` weights keep the numbers as given (they add
/// up to 1000, or the flag was imported instead).
fn fixed_variants(variants: Value) -> Value {
    let mut variants = variants;
    for v in variants.as_array_mut().into_iter().flatten() {
        v["weightType"] = json!("fix");
        if v.get("stickiness").is_none_or(Value::is_null) {
            v["stickiness"] = json!("default");
        }
    }
    variants
}

async fn admin_write(app: &TestApp, file: &str, f: &ClientFeature, t: &mut Tally) {
    let project = f.project.as_deref().unwrap_or("default");
    ensure_project(app, project).await;
    let mut body = json!({"name": f.name});
    if let Some(d) = &f.description {
        body["description"] = json!(d);
    }
    if let Some(ty) = &f.feature_type {
        body["type"] = json!(ty);
    }
    if let Some(i) = f.impression_data {
        body["impressionData"] = json!(i);
    }
    if let Some(s) = f.stale {
        body["stale"] = json!(s);
    }
    let (status, answer) = app
        .admin(
            Method::POST,
            &format!("/api/admin/projects/{project}/features"),
            Some(body),
        )
        .await;
    if status != StatusCode::CREATED {
        t.failures.push(format!(
            "{file}: creating {} answered {status}: {answer}",
            f.name
        ));
        return;
    }
    let base = format!(
        "/api/admin/projects/{project}/features/{}/environments/{ENV}",
        f.name
    );
    let strategies = f.strategies.clone().unwrap_or_default();
    for s in &strategies {
        let mut body = json!({
            "name": s.name,
            "parameters": s.parameters.clone().unwrap_or_default(),
            "constraints": s.constraints.clone().unwrap_or_default(),
            "segments": s.segments.clone().unwrap_or_default(),
        });
        if let Some(v) = s.variants.as_ref().filter(|v| !v.is_empty()) {
            body["variants"] = fixed_variants(serde_json::to_value(v).unwrap());
        }
        let (status, answer) = app
            .admin(Method::POST, &format!("{base}/strategies"), Some(body))
            .await;
        if status == StatusCode::BAD_REQUEST && EXPECTED_ADMIN_REFUSALS.contains(&(file, &f.name)) {
            let why = answer["details"][0]["message"].as_str().unwrap_or_default();
            match import(app, std::slice::from_ref(f), &[]).await {
                Ok(()) => t.note(
                    file,
                    format!("imported, the admin API refuses: {why}"),
                    &f.name,
                ),
                Err(e) => t.failures.push(format!("{file}: {}: {e}", f.name)),
            }
            return;
        }
        if status != StatusCode::OK {
            t.failures.push(format!(
                "{file}: adding a {} strategy to {} answered {status}: {answer}",
                s.name, f.name
            ));
            return;
        }
    }
    if let Some(v) = f.variants.as_ref().filter(|v| !v.is_empty()) {
        let body = fixed_variants(serde_json::to_value(v).unwrap());
        let (status, answer) = app
            .admin(Method::PUT, &format!("{base}/variants"), Some(body))
            .await;
        if status != StatusCode::OK {
            t.failures.push(format!(
                "{file}: setting variants of {} answered {status}: {answer}",
                f.name
            ));
        }
    }
    if f.enabled {
        let (status, answer) = app.admin(Method::POST, &format!("{base}/on"), None).await;
        if status != StatusCode::OK {
            t.failures.push(format!(
                "{file}: switching {} on answered {status}: {answer}",
                f.name
            ));
        }
        if strategies.is_empty() {
            // Switching on added Unleash's default strategy; the state has none.
            let (_, listed) = app
                .admin(Method::GET, &format!("{base}/strategies"), None)
                .await;
            for s in listed.as_array().into_iter().flatten() {
                let id = s["id"].as_str().unwrap_or_default();
                let (status, answer) = app
                    .admin(Method::DELETE, &format!("{base}/strategies/{id}"), None)
                    .await;
                if !status.is_success() {
                    t.failures.push(format!(
                        "{file}: removing the default strategy of {} answered {status}: {answer}",
                        f.name
                    ));
                }
            }
        }
    }
}

/// Applies delta events in order: imports for hydration and updates, the admin API for
/// removals.
async fn apply_delta(
    app: &TestApp,
    file: &str,
    delta: &ClientFeaturesDelta,
    t: &mut Tally,
) -> Expected {
    for event in &delta.events {
        let result = match event {
            DeltaEvent::Hydration {
                features, segments, ..
            } => import(app, features, segments).await,
            DeltaEvent::FeatureUpdated { feature, .. } => {
                import(app, std::slice::from_ref(feature), &[]).await
            }
            DeltaEvent::SegmentUpdated { segment, .. } => {
                import(app, &[], std::slice::from_ref(segment)).await
            }
            DeltaEvent::FeatureRemoved {
                feature_name,
                project,
                ..
            } => {
                let path = format!("/api/admin/projects/{project}/features/{feature_name}");
                match app.admin(Method::DELETE, &path, None).await {
                    (s, _) if s.is_success() => Ok(()),
                    (s, body) => Err(format!("archiving answered {s}: {body}")),
                }
            }
            DeltaEvent::SegmentRemoved { segment_id, .. } => {
                let path = format!("/api/admin/segments/{segment_id}");
                match app.admin(Method::DELETE, &path, None).await {
                    (s, _) if s.is_success() => Ok(()),
                    (s, body) => Err(format!("deleting the segment answered {s}: {body}")),
                }
            }
        };
        if let Err(e) = result {
            t.failures
                .push(format!("{file}: event {}: {e}", event.get_event_id()));
        }
    }
    t.note(
        file,
        "events applied in order (imports; removals through the admin API)",
        &format!("{} events", delta.events.len()),
    );
    let state = ClientFeatures::create_from_delta(delta);
    Expected {
        uses_segments: true,
        segments: state.segments.unwrap_or_default(),
        features: state.features,
    }
}

async fn check_state(
    app: &TestApp,
    file: &str,
    name: &str,
    expected: &Expected,
    tokens: &Tokens,
    t: &mut Tally,
) {
    let mut rb = app.request(Method::GET, "/api/client/features", Some(&tokens.client));
    if expected.uses_segments {
        rb = rb.header("Unleash-Client-Spec", "5.2.0");
    }
    let (status, body) = send(rb).await;
    if status != StatusCode::OK {
        t.failures.push(format!(
            "{file} / {name}: client API answered {status}: {body}"
        ));
        return;
    }
    let served: ClientFeatures = match serde_json::from_value(body.clone()) {
        Ok(s) => s,
        Err(e) => {
            t.failures.push(format!(
                "{file} / {name}: the client API's body does not parse as ClientFeatures ({e}): {body}"
            ));
            return;
        }
    };
    let by_name = |features: &[ClientFeature]| -> BTreeMap<String, Value> {
        features
            .iter()
            .map(|f| {
                let v = serde_json::to_value(normalise_feature(f.clone())).unwrap();
                (f.name.clone(), v)
            })
            .collect()
    };
    let want = by_name(&expected.features);
    let got = by_name(&served.features);
    for flag in want.keys().chain(got.keys()).collect::<BTreeSet<_>>() {
        match (want.get(flag), got.get(flag)) {
            (Some(w), Some(g)) if w != g => t.failures.push(format!(
                "{file} / {name}: the client API serves {flag} as\n    {g}\n  expected\n    {w}"
            )),
            (Some(_), None) => t.failures.push(format!(
                "{file} / {name}: the client API does not serve {flag}"
            )),
            (None, Some(_)) => t.failures.push(format!(
                "{file} / {name}: the client API serves {flag}, which the state does not have"
            )),
            _ => {}
        }
    }
    if expected.uses_segments {
        let used: BTreeSet<i32> = expected
            .features
            .iter()
            .flat_map(|f| f.strategies.iter().flatten())
            .flat_map(|s| s.segments.iter().flatten().copied())
            .collect();
        let segments = |list: &[Segment], keep: &dyn Fn(i32) -> bool| -> Value {
            let mut list: Vec<Segment> = list
                .iter()
                .filter(|s| keep(s.id))
                .cloned()
                .map(|mut s| {
                    s.constraints = s
                        .constraints
                        .into_iter()
                        .map(normalise_constraint)
                        .collect();
                    s
                })
                .collect();
            list.sort_by_key(|s| s.id);
            serde_json::to_value(list).unwrap()
        };
        let want = segments(&expected.segments, &|id| used.contains(&id));
        let got = segments(served.segments.as_deref().unwrap_or_default(), &|_| true);
        if want != got {
            t.failures.push(format!(
                "{file} / {name}: the client API serves segments\n    {got}\n  expected\n    {want}"
            ));
        }
    }
}

fn normalise_feature(mut f: ClientFeature) -> ClientFeature {
    let name = f.name.clone();
    f.feature_type = Some(f.feature_type.unwrap_or_else(|| "release".into()));
    f.description = f.description.filter(|d| !d.is_empty());
    f.created_at = None;
    f.last_seen_at = None;
    f.stale = Some(f.stale.unwrap_or(false));
    f.impression_data = Some(f.impression_data.unwrap_or(false));
    f.project = Some(f.project.unwrap_or_else(|| "default".into()));
    f.strategies = Some(
        f.strategies
            .unwrap_or_default()
            .into_iter()
            .map(|s| normalise_strategy(&name, s))
            .collect(),
    );
    f.variants = Some(
        f.variants
            .unwrap_or_default()
            .into_iter()
            .map(normalise_variant)
            .collect(),
    );
    let mut dependencies: Vec<FeatureDependency> = f
        .dependencies
        .unwrap_or_default()
        .into_iter()
        .map(|d| FeatureDependency {
            enabled: Some(d.enabled.unwrap_or(true)),
            variants: Some(d.variants.unwrap_or_default()),
            feature: d.feature,
        })
        .collect();
    dependencies.sort_by(|a, b| a.feature.cmp(&b.feature));
    f.dependencies = Some(dependencies);
    f
}

fn normalise_strategy(feature: &str, mut s: Strategy) -> Strategy {
    s.sort_order = None;
    let mut segments = s.segments.unwrap_or_default();
    segments.sort_unstable();
    segments.dedup();
    s.segments = Some(segments);
    s.constraints = Some(
        s.constraints
            .unwrap_or_default()
            .into_iter()
            .map(normalise_constraint)
            .collect(),
    );
    let mut parameters = s.parameters.unwrap_or_default();
    match s.name.as_str() {
        "flexibleRollout" => {
            parameters
                .entry("stickiness".into())
                .or_insert_with(|| "default".into());
            parameters
                .entry("groupId".into())
                .or_insert_with(|| feature.into());
        }
        "gradualRolloutUserId" | "gradualRolloutSessionId" => {
            parameters
                .entry("groupId".into())
                .or_insert_with(|| feature.into());
        }
        _ => {}
    }
    s.parameters = Some(parameters);
    s.variants = Some(
        s.variants
            .unwrap_or_default()
            .into_iter()
            .map(|v| StrategyVariant {
                stickiness: Some(v.stickiness.unwrap_or_else(|| "default".into())),
                ..v
            })
            .collect(),
    );
    s
}

fn normalise_constraint(mut c: Constraint) -> Constraint {
    c.values = Some(c.values.unwrap_or_default());
    c
}

fn normalise_variant(mut v: Variant) -> Variant {
    v.weight_type = Some(v.weight_type.unwrap_or(WeightType::Variable));
    v.stickiness = Some(v.stickiness.unwrap_or_else(|| "default".into()));
    v.overrides = v.overrides.filter(|o| !o.is_empty());
    v
}

mod client_specification {
    use super::*;

    #[tokio::test]
    async fn sqlite() {
        run(Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn postgres() {
        run(Backend::Postgres).await;
    }
}
