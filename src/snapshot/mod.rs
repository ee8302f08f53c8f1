//! The read model SDKs are served from. A [`Snapshot`] holds every live flag and segment as
//! of one revision; client-API bodies are serialised from it once per (revision, query) and
//! kept, so a poll costs a map lookup. [`Snapshots`] swaps in a new snapshot when the
//! revision moves: right after a local write (read-your-writes) and on a periodic check that
//! picks up writes made by other replicas.

pub mod delta;
pub mod wire;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use sha2::{Digest, Sha256};
use tokio::sync::watch;
use unleash_yggdrasil::{EngineState, UpdateMessage};

use crate::domain::feature::{Feature, Tag};
use crate::domain::segment::Segment;
use crate::store::{FeatureFilter, Store, StoreError};

pub use delta::{Delta, DeltaLog};
pub use wire::SegmentMode;

/// What an SDK asked for, after its token's scope is applied.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientQuery {
    pub environment: String,
    /// `None`: every project.
    pub projects: Option<Vec<String>>,
    pub name_prefix: Option<String>,
    pub tags: Vec<Tag>,
    pub segments: SegmentMode,
}

impl ClientQuery {
    /// Sorts and de-duplicates the lists, so equal queries hash and cache alike.
    pub fn normalised(mut self) -> Self {
        if let Some(p) = &mut self.projects {
            p.sort();
            p.dedup();
        }
        self.tags.sort();
        self.tags.dedup();
        self
    }

    /// Eight hex digits identifying the query: the same on every replica.
    fn hash(&self) -> String {
        let canonical = format!(
            "{}|{:?}|{:?}|{:?}|{:?}",
            self.environment, self.projects, self.name_prefix, self.tags, self.segments
        );
        hex::encode(&Sha256::digest(canonical.as_bytes())[..4])
    }

    fn matches(&self, f: &Feature) -> bool {
        self.projects
            .as_ref()
            .is_none_or(|ps| ps.contains(&f.project))
            && self
                .name_prefix
                .as_ref()
                .is_none_or(|prefix| f.name.starts_with(prefix.as_str()))
            && (self.tags.is_empty() || self.tags.iter().any(|t| f.tags.contains(t)))
    }
}

/// A serialised `/api/client/features` answer and its strong ETag.
#[derive(Debug)]
pub struct ClientBody {
    pub etag: String,
    pub json: Bytes,
    /// The same body gzipped, made on the first request that accepts gzip.
    gzip: std::sync::OnceLock<Bytes>,
}

impl ClientBody {
    fn new(etag: String, json: Bytes) -> Self {
        Self {
            etag,
            json,
            gzip: std::sync::OnceLock::new(),
        }
    }

    /// The body gzipped, compressed once per revision and query rather than per request.
    pub fn gzip(&self) -> Bytes {
        self.gzip
            .get_or_init(|| {
                use std::io::Write;
                let mut encoder =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                // Writing to a Vec cannot fail.
                let _ = encoder.write_all(&self.json);
                Bytes::from(encoder.finish().unwrap_or_default())
            })
            .clone()
    }
}

pub struct Snapshot {
    pub revision: i64,
    features: Vec<Feature>,
    segments: BTreeMap<i64, Segment>,
    bodies: Mutex<HashMap<ClientQuery, Arc<ClientBody>>>,
    /// One evaluation engine per environment, built on first use.
    engines: Mutex<HashMap<String, Arc<EngineState>>>,
}

impl Snapshot {
    /// Reads every live flag and segment, and the revision they belong to, in one transaction.
    pub async fn load(store: &dyn Store) -> Result<Self, StoreError> {
        let mut r = store.read().await?;
        let revision = r.revision().await?;
        let features = r.features(&FeatureFilter::live()).await?;
        let segments = r.segments().await?.into_iter().map(|s| (s.id, s)).collect();
        Ok(Self {
            revision,
            features,
            segments,
            bodies: Mutex::new(HashMap::new()),
            engines: Mutex::new(HashMap::new()),
        })
    }

    pub fn features(&self) -> &[Feature] {
        &self.features
    }

    pub fn feature(&self, name: &str) -> Option<&Feature> {
        self.features.iter().find(|f| f.name == name)
    }

    /// The `/api/client/features` body for `query`, serialised on first use.
    pub fn client_features(&self, query: &ClientQuery) -> Arc<ClientBody> {
        let mut bodies = self
            .bodies
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(body) = bodies.get(query) {
            return body.clone();
        }
        let body = Arc::new(self.serialise(query));
        bodies.insert(query.clone(), body.clone());
        body
    }

    /// The evaluation engine (unleash-yggdrasil, the one Unleash's SDKs share) for every flag
    /// in `environment`, fed the same JSON an SDK would get.
    pub fn engine(&self, environment: &str) -> Arc<EngineState> {
        let mut engines = self
            .engines
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(engine) = engines.get(environment) {
            return engine.clone();
        }
        let query = ClientQuery {
            environment: environment.to_string(),
            projects: None,
            name_prefix: None,
            tags: Vec::new(),
            segments: SegmentMode::Global,
        };
        let engine = EngineState::default();
        match serde_json::from_slice(&self.serialise(&query).json) {
            Ok(features) => {
                if let Some(warnings) = engine.take_state(UpdateMessage::FullResponse(features)) {
                    tracing::warn!(
                        environment,
                        ?warnings,
                        "some flags could not be compiled and evaluate to off"
                    );
                }
            }
            Err(e) => {
                tracing::error!(environment, error = %e, "client features did not parse for the evaluation engine")
            }
        }
        let engine = Arc::new(engine);
        engines.insert(environment.to_string(), engine.clone());
        engine
    }

    /// One flag as `/api/client/features/{name}` shows it.
    pub fn client_feature(&self, query: &ClientQuery, name: &str) -> Option<Bytes> {
        let feature = self.feature(name).filter(|f| query.matches(f))?;
        let wire =
            wire::client_feature(feature, &query.environment, &self.segments, query.segments);
        serde_json::to_vec(&wire).ok().map(Bytes::from)
    }

    fn serialise(&self, query: &ClientQuery) -> ClientBody {
        let features: Vec<_> = self
            .features
            .iter()
            .filter(|f| query.matches(f))
            .map(|f| wire::client_feature(f, &query.environment, &self.segments, query.segments))
            .collect();
        let hash = query.hash();
        let etag = format!("\"{hash}:{}:v1\"", self.revision);
        let mut q = serde_json::json!({
            "environment": query.environment,
            "inlineSegmentConstraints": query.segments == SegmentMode::Inline,
        });
        if let Some(projects) = &query.projects {
            q["project"] = serde_json::json!(projects);
        }
        if let Some(prefix) = &query.name_prefix {
            q["namePrefix"] = serde_json::json!(prefix);
        }
        if !query.tags.is_empty() {
            let tags: Vec<String> = query
                .tags
                .iter()
                .map(|t| format!("{}:{}", t.tag_type, t.value))
                .collect();
            q["tag"] = serde_json::json!(tags);
        }
        let mut body = serde_json::json!({
            "version": 2,
            "features": features,
            "query": q,
            "meta": {"revisionId": self.revision, "etag": etag, "queryHash": hash},
        });
        if query.segments == SegmentMode::Global {
            // Only segments some served strategy uses, as Unleash does.
            let used: std::collections::BTreeSet<i64> = self
                .features
                .iter()
                .filter(|f| query.matches(f))
                .filter_map(|f| f.environment(&query.environment))
                .flat_map(|e| e.strategies.iter().flat_map(|s| s.segments.iter().copied()))
                .collect();
            let segments: Vec<_> = used
                .iter()
                .filter_map(|id| self.segments.get(id))
                .map(wire::client_segment)
                .collect();
            body["segments"] = serde_json::json!(segments);
        }
        let json = serde_json::to_vec(&body).unwrap_or_default();
        ClientBody::new(etag, Bytes::from(json))
    }
}

/// The current snapshot, and the means to replace it.
pub struct Snapshots {
    store: Arc<dyn Store>,
    current: watch::Sender<Arc<Snapshot>>,
    /// What changed between recent snapshots (`/api/client/delta`, `/api/client/streaming`).
    delta: DeltaLog,
    /// One reload at a time; a reload that finds the revision unchanged does nothing.
    reload: tokio::sync::Mutex<()>,
}

impl Snapshots {
    pub async fn load(store: Arc<dyn Store>) -> Result<Arc<Self>, StoreError> {
        let first = Snapshot::load(store.as_ref()).await?;
        Ok(Arc::new(Self {
            store,
            delta: DeltaLog::new(&first),
            current: watch::Sender::new(Arc::new(first)),
            reload: tokio::sync::Mutex::new(()),
        }))
    }

    pub fn current(&self) -> Arc<Snapshot> {
        self.current.borrow().clone()
    }

    /// Wakes whenever a new snapshot is published.
    pub fn subscribe(&self) -> watch::Receiver<Arc<Snapshot>> {
        self.current.subscribe()
    }

    /// Recent changes, as the delta and streaming APIs serve them. Always at least as new as
    /// the snapshot subscribers were woken for.
    pub fn delta(&self) -> &DeltaLog {
        &self.delta
    }

    /// Makes sure the snapshot is at least at `revision` (after a local commit).
    pub async fn refresh_to(&self, revision: i64) -> Result<(), StoreError> {
        if self.current().revision >= revision {
            return Ok(());
        }
        self.refresh().await
    }

    /// Reloads if the store's revision moved since the current snapshot.
    pub async fn refresh(&self) -> Result<(), StoreError> {
        let _one_at_a_time = self.reload.lock().await;
        let stored = self.store.read().await?.revision().await?;
        if stored == self.current().revision {
            return Ok(());
        }
        let next = Snapshot::load(self.store.as_ref()).await?;
        tracing::debug!(
            revision = next.revision,
            flags = next.features.len(),
            "new snapshot"
        );
        self.delta.advance(&self.current(), &next);
        self.current.send_replace(Arc::new(next));
        Ok(())
    }
}
