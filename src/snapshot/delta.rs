//! What changed between snapshots, for `/api/client/delta` and `/api/client/streaming`.
//!
//! Every time [`Snapshots`](super::Snapshots) publishes a new snapshot, [`DeltaLog::advance`]
//! compares it with the previous one, per environment, as an SDK sees it: a flag whose client
//! JSON (segments by id) changed or that appeared is a `feature-updated`, a flag that is gone
//! (archived or deleted) a `feature-removed`, a changed or new segment a `segment-updated`, a
//! deleted one a `segment-removed`. Each event's id is the revision of the snapshot it led
//! to. The last [`HISTORY_REVISIONS`] revisions that changed something are kept, so a client
//! can catch up from any revision inside that window; older (or unknown) revisions get a
//! `hydration` event: everything the client may see.
//!
//! Events are kept pre-serialised and stitched into `{"events":[…]}` per client, filtered to
//! the client's scope (token projects, `namePrefix`, `tag`).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, RwLock};

use bytes::Bytes;

use crate::domain::feature::{Feature, Tag};
use crate::snapshot::wire::{self, SegmentMode};
use crate::snapshot::{ClientQuery, Snapshot};

/// How many revisions that changed something are kept for catching up.
pub const HISTORY_REVISIONS: usize = 1000;

/// Hydration bodies cached per query for the current revision; the cache is emptied when it
/// holds more.
const MAX_CACHED_HYDRATIONS: usize = 64;

/// The view key for an environment no flag lists (every flag shows as disabled there).
const UNLISTED: &str = "";

/// What a client needs to be current.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delta {
    /// Nothing in the client's scope changed since its revision; `revision` is the newest.
    UpToDate { revision: i64 },
    /// `{"events":[…]}`: the changes since the client's revision, or one hydration event.
    /// `revision` is the newest revision the answer covers (the client's next event id).
    Events {
        revision: i64,
        hydration: bool,
        body: Bytes,
    },
}

/// One flag in one environment, as the delta API sends it.
#[derive(Debug)]
struct FeatureView {
    name: String,
    project: String,
    tags: Vec<Tag>,
    /// Segments the served (not disabled) strategies refer to.
    segments: BTreeSet<i64>,
    /// The `/api/client/features` JSON of the flag, segments by id.
    json: Bytes,
}

impl FeatureView {
    fn new(feature: &Feature, environment: &str, snapshot: &Snapshot) -> Self {
        let wire = wire::client_feature(
            feature,
            environment,
            &snapshot.segments,
            SegmentMode::Global,
        );
        let segments = feature
            .environment(environment)
            .map(|e| {
                e.strategies
                    .iter()
                    .filter(|s| !s.disabled)
                    .flat_map(|s| s.segments.iter().copied())
                    .collect()
            })
            .unwrap_or_default();
        Self {
            name: feature.name.clone(),
            project: feature.project.clone(),
            tags: feature.tags.clone(),
            segments,
            json: Bytes::from(serde_json::to_vec(&wire).unwrap_or_default()),
        }
    }

    /// Project and name prefix: whether the client may know of this flag at all.
    fn in_scope(query: &ClientQuery, name: &str, project: &str) -> bool {
        query
            .projects
            .as_ref()
            .is_none_or(|ps| ps.iter().any(|p| p == project))
            && query
                .name_prefix
                .as_ref()
                .is_none_or(|prefix| name.starts_with(prefix.as_str()))
    }

    fn tags_match(&self, query: &ClientQuery) -> bool {
        query.tags.is_empty() || query.tags.iter().any(|t| self.tags.contains(t))
    }

    fn served_to(&self, query: &ClientQuery) -> bool {
        Self::in_scope(query, &self.name, &self.project) && self.tags_match(query)
    }
}

type EnvView = BTreeMap<String, Arc<FeatureView>>;

/// Everything SDKs can see at one revision.
#[derive(Debug, Default)]
struct View {
    revision: i64,
    /// Environment → flag name → view. [`UNLISTED`] stands for environments no flag lists.
    envs: HashMap<String, EnvView>,
    /// Segment id → client JSON (`{id, name, constraints}`).
    segments: BTreeMap<i64, Bytes>,
}

impl View {
    fn env(&self, environment: &str) -> Option<&EnvView> {
        self.envs
            .get(environment)
            .or_else(|| self.envs.get(UNLISTED))
    }

    /// Segments the flags served to `query` refer to.
    fn referenced_segments(&self, query: &ClientQuery) -> BTreeSet<i64> {
        self.env(&query.environment)
            .into_iter()
            .flat_map(|env| env.values())
            .filter(|f| f.served_to(query))
            .flat_map(|f| f.segments.iter().copied())
            .collect()
    }
}

/// The changes one revision made.
#[derive(Debug, Default)]
struct Change {
    revision: i64,
    segments_updated: BTreeMap<i64, Bytes>,
    /// Flags gone, or moved out of a project: (name, project).
    removed: BTreeSet<(String, String)>,
    /// Per tracked environment (an entry for each, possibly empty): flags changed or new.
    updated: HashMap<String, Vec<Arc<FeatureView>>>,
    segments_removed: Vec<i64>,
}

impl Change {
    fn is_empty(&self) -> bool {
        self.segments_updated.is_empty()
            && self.removed.is_empty()
            && self.segments_removed.is_empty()
            && self.updated.values().all(Vec::is_empty)
    }

    fn updated_in(&self, environment: &str) -> &[Arc<FeatureView>] {
        self.updated
            .get(environment)
            .or_else(|| self.updated.get(UNLISTED))
            .map_or(&[], Vec::as_slice)
    }
}

#[derive(Debug)]
struct Inner {
    current: Arc<View>,
    /// A client at this revision or later can be answered with events.
    oldest: i64,
    changes: VecDeque<Change>,
    capacity: usize,
}

/// The recent history of changes, and the current state, as the delta API serves them.
#[derive(Debug)]
pub struct DeltaLog {
    inner: RwLock<Inner>,
    /// Hydration bodies for the current revision, per query.
    hydrations: Mutex<HashMap<ClientQuery, Bytes>>,
}

impl DeltaLog {
    /// Starts with `first` as the current state and no history.
    pub fn new(first: &Snapshot) -> Self {
        Self::with_capacity(first, HISTORY_REVISIONS)
    }

    /// As [`DeltaLog::new`], keeping at most `capacity` revisions (at least one).
    pub fn with_capacity(first: &Snapshot, capacity: usize) -> Self {
        let (view, _) = diff(&View::default(), None, first);
        Self {
            inner: RwLock::new(Inner {
                current: Arc::new(view),
                oldest: first.revision,
                changes: VecDeque::new(),
                capacity: capacity.max(1),
            }),
            hydrations: Mutex::new(HashMap::new()),
        }
    }

    /// The newest revision the log knows.
    pub fn revision(&self) -> i64 {
        self.read().current.revision
    }

    /// The oldest revision a client can catch up from with events.
    pub fn oldest(&self) -> i64 {
        self.read().oldest
    }

    /// Records the change from `prev` (the snapshot the log is at) to `next`. Called by
    /// `Snapshots` before it publishes `next`, one call at a time.
    pub(super) fn advance(&self, prev: &Snapshot, next: &Snapshot) {
        let current = self.read().current.clone();
        if next.revision == current.revision {
            return;
        }
        if next.revision < current.revision {
            // The revision went back (the database was replaced): the history means nothing
            // now, so every client hydrates.
            let (view, _) = diff(&View::default(), None, next);
            let mut inner = self
                .inner
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            inner.current = Arc::new(view);
            inner.oldest = next.revision;
            inner.changes.clear();
            drop(inner);
            self.clear_hydrations();
            return;
        }
        let (view, change) = diff(&current, Some(prev), next);
        let mut inner = self
            .inner
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        inner.current = Arc::new(view);
        if !change.is_empty() {
            inner.changes.push_back(change);
            while inner.changes.len() > inner.capacity {
                if let Some(dropped) = inner.changes.pop_front() {
                    inner.oldest = dropped.revision;
                }
            }
        }
        drop(inner);
        self.clear_hydrations();
    }

    fn clear_hydrations(&self) {
        self.hydrations
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clear();
    }

    /// What a client scoped to `query` that is at revision `since` needs. `None`, a revision
    /// older than the window or newer than the log → a hydration.
    pub fn since(&self, query: &ClientQuery, since: Option<i64>) -> Delta {
        let inner = self.read();
        let current = &inner.current;
        match since {
            Some(s) if s == current.revision => Delta::UpToDate {
                revision: current.revision,
            },
            Some(s) if s >= inner.oldest && s < current.revision => {
                match events_since(&inner, query, s) {
                    Some(body) => Delta::Events {
                        revision: current.revision,
                        hydration: false,
                        body,
                    },
                    None => Delta::UpToDate {
                        revision: current.revision,
                    },
                }
            }
            _ => Delta::Events {
                revision: current.revision,
                hydration: true,
                body: self.hydration(current, query),
            },
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn hydration(&self, view: &View, query: &ClientQuery) -> Bytes {
        let mut cache = self
            .hydrations
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(body) = cache.get(query) {
            return body.clone();
        }
        let body = hydration_body(view, query);
        if cache.len() >= MAX_CACHED_HYDRATIONS {
            cache.clear();
        }
        cache.insert(query.clone(), body.clone());
        body
    }
}

/// The new view for `next`, and what changed since `prev_view` (`prev`: the snapshot that view
/// was built from, to reuse what did not change).
fn diff(prev_view: &View, prev: Option<&Snapshot>, next: &Snapshot) -> (View, Change) {
    let prev_features: HashMap<&str, &Feature> = prev
        .map(|p| p.features.iter().map(|f| (f.name.as_str(), f)).collect())
        .unwrap_or_default();
    // Flags whose stored state is unchanged: their views can be reused as they are.
    let unchanged: HashSet<&str> = next
        .features
        .iter()
        .filter(|f| prev_features.get(f.name.as_str()) == Some(f))
        .map(|f| f.name.as_str())
        .collect();

    let mut environments: BTreeSet<&str> = prev_view.envs.keys().map(String::as_str).collect();
    environments.extend(
        next.features
            .iter()
            .flat_map(|f| f.environments.iter().map(|e| e.environment.name.as_str())),
    );
    environments.insert(UNLISTED);

    let mut change = Change {
        revision: next.revision,
        ..Change::default()
    };
    let mut envs = HashMap::new();
    let empty = EnvView::new();
    for environment in environments {
        let known = prev_view.envs.get(environment);
        // A newly listed environment was served as "unlisted" until now.
        let old = known
            .or_else(|| prev_view.envs.get(UNLISTED))
            .unwrap_or(&empty);
        let mut view = EnvView::new();
        let mut updated = Vec::new();
        for feature in &next.features {
            let before = old.get(&feature.name);
            if known.is_some()
                && unchanged.contains(feature.name.as_str())
                && let Some(before) = before
            {
                view.insert(feature.name.clone(), before.clone());
                continue;
            }
            let now = Arc::new(FeatureView::new(feature, environment, next));
            let newly_referenced: Vec<i64> = match before {
                None => {
                    updated.push(now.clone());
                    now.segments.iter().copied().collect()
                }
                Some(b) if b.json != now.json || b.tags != now.tags || b.project != now.project => {
                    if b.project != now.project {
                        change.removed.insert((b.name.clone(), b.project.clone()));
                    }
                    updated.push(now.clone());
                    now.segments.difference(&b.segments).copied().collect()
                }
                Some(_) => Vec::new(),
            };
            // A flag that starts using a segment brings the segment along, so a client that
            // never needed it before has it.
            for id in newly_referenced {
                if let Some(segment) = next.segments.get(&id)
                    && let Ok(json) = serde_json::to_vec(&wire::client_segment(segment))
                {
                    change.segments_updated.insert(id, Bytes::from(json));
                }
            }
            view.insert(feature.name.clone(), now);
        }
        for gone in old.values().filter(|f| !view.contains_key(&f.name)) {
            change
                .removed
                .insert((gone.name.clone(), gone.project.clone()));
        }
        change.updated.insert(environment.to_string(), updated);
        envs.insert(environment.to_string(), view);
    }

    let mut segments = BTreeMap::new();
    for (id, segment) in &next.segments {
        let json =
            Bytes::from(serde_json::to_vec(&wire::client_segment(segment)).unwrap_or_default());
        if prev_view.segments.get(id) != Some(&json) {
            change.segments_updated.insert(*id, json.clone());
        }
        segments.insert(*id, json);
    }
    change.segments_removed = prev_view
        .segments
        .keys()
        .filter(|id| !segments.contains_key(id))
        .copied()
        .collect();

    let view = View {
        revision: next.revision,
        envs,
        segments,
    };
    (view, change)
}

/// Appends JSON pieces separated by commas.
struct Events {
    out: Vec<u8>,
    count: usize,
}

impl Events {
    fn new() -> Self {
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(br#"{"events":["#);
        Self { out, count: 0 }
    }

    fn start(&mut self, event_id: i64, kind: &str) {
        if self.count > 0 {
            self.out.push(b',');
        }
        self.count += 1;
        self.out
            .extend_from_slice(format!(r#"{{"eventId":{event_id},"type":"{kind}""#).as_bytes());
    }

    fn field(&mut self, name: &str, json: &[u8]) {
        self.out
            .extend_from_slice(format!(r#","{name}":"#).as_bytes());
        self.out.extend_from_slice(json);
    }

    fn string_field(&mut self, name: &str, value: &str) {
        let quoted = serde_json::to_string(value).unwrap_or_else(|_| "\"\"".into());
        self.field(name, quoted.as_bytes());
    }

    fn end(&mut self) {
        self.out.push(b'}');
    }

    fn finish(mut self) -> Bytes {
        self.out.extend_from_slice(b"]}");
        Bytes::from(self.out)
    }
}

fn json_array<'a>(items: impl Iterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = vec![b'['];
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(item);
    }
    out.push(b']');
    out
}

fn hydration_body(view: &View, query: &ClientQuery) -> Bytes {
    let served: Vec<&Arc<FeatureView>> = view
        .env(&query.environment)
        .into_iter()
        .flat_map(|env| env.values())
        .filter(|f| f.served_to(query))
        .collect();
    let referenced: BTreeSet<i64> = served
        .iter()
        .flat_map(|f| f.segments.iter().copied())
        .collect();
    let mut events = Events::new();
    events.start(view.revision, "hydration");
    events.field(
        "features",
        &json_array(served.iter().map(|f| f.json.as_ref())),
    );
    events.field(
        "segments",
        &json_array(
            referenced
                .iter()
                .filter_map(|id| view.segments.get(id))
                .map(AsRef::as_ref),
        ),
    );
    events.end();
    events.finish()
}

/// The events after revision `since` that concern `query`, or `None` if there are none.
fn events_since(inner: &Inner, query: &ClientQuery, since: i64) -> Option<Bytes> {
    let mut events = Events::new();
    let mut referenced: Option<BTreeSet<i64>> = None;
    for change in inner.changes.iter().filter(|c| c.revision > since) {
        let id = change.revision;
        for (segment, json) in &change.segments_updated {
            // Only segments a flag served to this client uses now.
            let used = referenced
                .get_or_insert_with(|| inner.current.referenced_segments(query))
                .contains(segment);
            if used {
                events.start(id, "segment-updated");
                events.field("segment", json);
                events.end();
            }
        }
        for (name, project) in &change.removed {
            if FeatureView::in_scope(query, name, project) {
                removed(&mut events, id, name, project);
            }
        }
        for feature in change.updated_in(&query.environment) {
            if !FeatureView::in_scope(query, &feature.name, &feature.project) {
                continue;
            }
            if feature.tags_match(query) {
                events.start(id, "feature-updated");
                events.field("feature", &feature.json);
                events.end();
            } else {
                // Its tags no longer match the client's filter.
                removed(&mut events, id, &feature.name, &feature.project);
            }
        }
        for segment in &change.segments_removed {
            events.start(id, "segment-removed");
            events.field("segmentId", segment.to_string().as_bytes());
            events.end();
        }
    }
    (events.count > 0).then(|| events.finish())
}

fn removed(events: &mut Events, id: i64, name: &str, project: &str) {
    events.start(id, "feature-removed");
    events.string_field("featureName", name);
    events.string_field("project", project);
    events.end();
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use serde_json::{Value, json};
    use unleash_types::client_features::ClientFeaturesDelta;

    use super::*;
    use crate::domain::Timestamp;
    use crate::domain::feature::{Environment, FeatureEnvironment};
    use crate::domain::segment::Segment;
    use crate::domain::strategy::Strategy;

    fn env(name: &str, enabled: bool, segments: Vec<i64>) -> FeatureEnvironment {
        let strategy = Strategy {
            id: format!("s-{name}"),
            name: "default".into(),
            title: None,
            disabled: false,
            sort_order: 0,
            constraints: Vec::new(),
            parameters: BTreeMap::new(),
            variants: Vec::new(),
            segments,
        };
        FeatureEnvironment {
            environment: Environment {
                name: name.into(),
                env_type: "development".into(),
                sort_order: 1,
                enabled: true,
            },
            enabled,
            variants: Vec::new(),
            strategies: vec![strategy],
        }
    }

    fn feature(name: &str, project: &str, dev_on: bool, segments: Vec<i64>) -> Feature {
        Feature {
            name: name.into(),
            project: project.into(),
            feature_type: "release".into(),
            description: None,
            impression_data: false,
            stale: false,
            created_at: Timestamp(0),
            created_by: "test".into(),
            created_by_user_id: None,
            archived_at: None,
            environments: vec![
                env("development", dev_on, segments),
                env("production", false, Vec::new()),
            ],
            tags: Vec::new(),
            dependencies: Vec::new(),
        }
    }

    fn segment(id: i64, name: &str) -> Segment {
        Segment {
            id,
            name: name.into(),
            description: None,
            project: None,
            constraints: Vec::new(),
            created_by: "test".into(),
            created_at: Timestamp(0),
        }
    }

    fn snapshot(revision: i64, features: Vec<Feature>, segments: Vec<Segment>) -> Snapshot {
        Snapshot {
            revision,
            features,
            segments: segments.into_iter().map(|s| (s.id, s)).collect(),
            bodies: Mutex::new(HashMap::new()),
            engines: Mutex::new(HashMap::new()),
        }
    }

    fn query(environment: &str, projects: Option<Vec<&str>>) -> ClientQuery {
        ClientQuery {
            environment: environment.into(),
            projects: projects.map(|p| p.into_iter().map(String::from).collect()),
            name_prefix: None,
            tags: Vec::new(),
            segments: SegmentMode::Global,
        }
    }

    /// The body as JSON, after checking that Unleash's own types accept it.
    fn events(delta: &Delta) -> Vec<Value> {
        let Delta::Events { body, .. } = delta else {
            panic!("expected events, got {delta:?}")
        };
        let _: ClientFeaturesDelta = serde_json::from_slice(body).unwrap();
        let v: Value = serde_json::from_slice(body).unwrap();
        v["events"].as_array().unwrap().clone()
    }

    #[test]
    fn hydration_is_scoped_and_typed() {
        let s = snapshot(
            3,
            vec![
                feature("a", "default", true, vec![1]),
                feature("b", "other", true, vec![2]),
            ],
            vec![segment(1, "one"), segment(2, "two")],
        );
        let log = DeltaLog::new(&s);
        let d = log.since(&query("development", Some(vec!["default"])), None);
        let ev = events(&d);
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0]["type"], "hydration");
        assert_eq!(ev[0]["eventId"], 3);
        assert_eq!(ev[0]["features"].as_array().unwrap().len(), 1);
        assert_eq!(ev[0]["features"][0]["name"], "a");
        assert_eq!(ev[0]["features"][0]["enabled"], true);
        assert_eq!(
            ev[0]["features"][0]["strategies"][0]["segments"],
            json!([1])
        );
        assert_eq!(
            ev[0]["segments"],
            json!([{"id":1,"name":"one","constraints":[]}])
        );
        // Up to date: nothing to send.
        assert_eq!(
            log.since(&query("development", None), Some(3)),
            Delta::UpToDate { revision: 3 }
        );
        // An environment no flag lists still hydrates: every flag, disabled.
        let ev = events(&log.since(&query("staging", None), None));
        assert_eq!(ev[0]["features"].as_array().unwrap().len(), 2);
        assert_eq!(ev[0]["features"][0]["enabled"], false);
    }

    #[test]
    fn changes_become_events_per_environment_and_scope() {
        let s1 = snapshot(
            1,
            vec![
                feature("a", "default", true, vec![]),
                feature("b", "default", true, vec![]),
                feature("c", "other", true, vec![]),
            ],
            vec![segment(1, "one"), segment(2, "two")],
        );
        let log = DeltaLog::new(&s1);
        // 2: a switched off in development; c too (another project).
        let s2 = snapshot(
            2,
            vec![
                feature("a", "default", false, vec![]),
                feature("b", "default", true, vec![]),
                feature("c", "other", false, vec![]),
            ],
            vec![segment(1, "one"), segment(2, "two")],
        );
        log.advance(&s1, &s2);
        // 3: b archived; segment 1 renamed (unused); segment 2 deleted.
        let s3 = snapshot(
            3,
            vec![
                feature("a", "default", false, vec![]),
                feature("c", "other", false, vec![]),
            ],
            vec![segment(1, "uno")],
        );
        log.advance(&s2, &s3);
        // 4: a starts using segment 1 in development.
        let s4 = snapshot(
            4,
            vec![
                feature("a", "default", false, vec![1]),
                feature("c", "other", false, vec![]),
            ],
            vec![segment(1, "uno")],
        );
        log.advance(&s3, &s4);

        let dev = query("development", Some(vec!["default"]));
        let ev = events(&log.since(&dev, Some(1)));
        let kinds: Vec<(i64, &str)> = ev
            .iter()
            .map(|e| (e["eventId"].as_i64().unwrap(), e["type"].as_str().unwrap()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (2, "feature-updated"),
                // Renamed while unused, but a uses it now: sent.
                (3, "segment-updated"),
                (3, "feature-removed"),
                (3, "segment-removed"),
                // a starts using it: the segment comes along.
                (4, "segment-updated"),
                (4, "feature-updated"),
            ],
            "{ev:#?}"
        );
        assert_eq!(ev[0]["feature"]["name"], "a");
        assert_eq!(ev[0]["feature"]["enabled"], false);
        assert_eq!(ev[1]["segment"]["name"], "uno");
        assert_eq!(ev[2]["featureName"], "b");
        assert_eq!(ev[2]["project"], "default");
        assert_eq!(ev[3]["segmentId"], 2);
        assert_eq!(ev[4]["segment"]["id"], 1);
        assert_eq!(ev[5]["feature"]["strategies"][0]["segments"], json!([1]));

        // Production: a's change in development does not show; the archive does.
        let prod = query("production", Some(vec!["default"]));
        let ev = events(&log.since(&prod, Some(1)));
        let kinds: Vec<&str> = ev.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(kinds, vec!["feature-removed", "segment-removed"]);

        // From 3 on: only revision 4.
        let ev = events(&log.since(&dev, Some(3)));
        assert!(ev.iter().all(|e| e["eventId"] == 4));
        // A project the change did not touch: only the segment removal at 3.
        let other = query("production", Some(vec!["other"]));
        let ev = events(&log.since(&other, Some(2)));
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0]["type"], "segment-removed");
        assert_eq!(log.since(&other, Some(3)), Delta::UpToDate { revision: 4 });
    }

    #[test]
    fn too_old_or_unknown_revisions_hydrate() {
        let mut prev = snapshot(10, vec![feature("a", "default", true, vec![])], vec![]);
        let log = DeltaLog::with_capacity(&prev, 2);
        for revision in 11..=14 {
            let next = snapshot(
                revision,
                vec![feature("a", "default", revision % 2 == 0, vec![])],
                vec![],
            );
            log.advance(&prev, &next);
            prev = next;
        }
        assert_eq!(log.oldest(), 12);
        let q = query("development", None);
        let hydrated = |d: &Delta| {
            matches!(
                d,
                Delta::Events {
                    hydration: true,
                    ..
                }
            )
        };
        assert!(hydrated(&log.since(&q, Some(11))));
        assert!(hydrated(&log.since(&q, Some(99))));
        assert!(hydrated(&log.since(&q, None)));
        let ev = events(&log.since(&q, Some(12)));
        assert_eq!(ev.len(), 2);
        assert_eq!(ev[1]["eventId"], 14);
        assert_eq!(ev[1]["feature"]["enabled"], true);
    }

    #[test]
    fn a_revision_going_back_resets_the_history() {
        let s5 = snapshot(5, vec![feature("a", "default", true, vec![])], vec![]);
        let log = DeltaLog::new(&s5);
        let s6 = snapshot(6, vec![feature("a", "default", false, vec![])], vec![]);
        log.advance(&s5, &s6);
        let s2 = snapshot(2, vec![feature("b", "default", true, vec![])], vec![]);
        log.advance(&s6, &s2);
        assert_eq!((log.revision(), log.oldest()), (2, 2));
        let q = query("development", None);
        let ev = events(&log.since(&q, Some(5)));
        assert_eq!(ev[0]["type"], "hydration");
        assert_eq!(ev[0]["features"][0]["name"], "b");
        assert_eq!(log.since(&q, Some(2)), Delta::UpToDate { revision: 2 });
    }

    #[test]
    fn a_revision_that_changes_nothing_visible_is_no_event() {
        let s1 = snapshot(1, vec![feature("a", "default", true, vec![])], vec![]);
        let log = DeltaLog::new(&s1);
        let s2 = snapshot(2, vec![feature("a", "default", true, vec![])], vec![]);
        log.advance(&s1, &s2);
        assert_eq!(
            log.since(&query("development", None), Some(1)),
            Delta::UpToDate { revision: 2 }
        );
    }
}
