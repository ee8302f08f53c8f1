//! Use cases: the only code that changes state. Each public function parses its input into
//! domain types, checks it against what is stored, and makes one store transaction that
//! writes the change together with its event rows, then brings the SDK snapshot up to the
//! new revision before answering, so a caller's next read sees its own write.

mod events;
pub mod features;
pub mod guards;
pub mod heartbeats;
mod import;
pub mod incidents;
pub mod leases;
pub mod metrics;
pub mod monitors;
pub mod notifications;
pub mod probe_results;
pub mod projects;
mod segments;
pub mod server_metrics;
mod sla_guards;
pub mod status_pages;
pub mod strategies;
mod tags;
pub mod tokens;
pub mod webhooks;

use std::sync::Arc;

use crate::domain::Invalid;
use crate::snapshot::Snapshots;
use crate::store::{Store, StoreError, Writer};

pub use events::EventFilter;
pub use tokens::{IssuedToken, TokenCache, TokenRequest};

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    Invalid(#[from] Invalid),
    /// Several fields are wrong at once (Better Stack's API reports them all).
    #[error("{}", .0.first().map(|i| i.message.as_str()).unwrap_or("invalid input"))]
    InvalidFields(Vec<Invalid>),
    #[error("{0}")]
    NotFound(String),
    /// `name` is Unleash's error name (`NameExistsError`, `ConflictError`…).
    #[error("{message}")]
    Conflict { name: &'static str, message: String },
    #[error("{0}")]
    Forbidden(String),
    #[error("the database is unavailable")]
    Unavailable(#[source] StoreError),
    #[error(transparent)]
    Internal(anyhow::Error),
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) => Self::Unavailable(e),
            StoreError::Conflict { constraint } => Self::Conflict {
                name: "ConflictError",
                message: format!("The change conflicts with stored data ({constraint})."),
            },
            e => Self::Internal(anyhow::Error::new(e)),
        }
    }
}

pub type Result<T> = std::result::Result<T, ServiceError>;

pub struct Service {
    store: Arc<dyn Store>,
    snapshots: Arc<Snapshots>,
    tokens: TokenCache,
    /// SDK reports waiting to be flushed to the store.
    metrics: metrics::MetricsAggregator,
    /// Monitor status changes, sent after commit (see [`Service::subscribe_status`]).
    status_changes: tokio::sync::broadcast::Sender<incidents::StatusChange>,
    /// Bumped after each committed monitor create/update/delete (see
    /// [`Service::subscribe_monitor_changes`]).
    monitor_changes: tokio::sync::watch::Sender<u64>,
    /// Check results waiting to be written by `workers::results`.
    probe_results: probe_results::ResultBuffer,
    /// Wakes `workers::notifications` when a commit queued notices.
    outbox: notifications::Outbox,
    /// Webhook deliveries being written at once (see [`webhooks::Intake`]).
    webhook_intake: webhooks::Intake,
    /// The server's own Prometheus metrics (see [`server_metrics`]).
    server_metrics: server_metrics::ServerMetrics,
}

impl Service {
    pub async fn new(store: Arc<dyn Store>) -> Result<Arc<Self>> {
        let snapshots = Snapshots::load(store.clone()).await?;
        let service = Arc::new(Self {
            store,
            snapshots,
            tokens: TokenCache::default(),
            metrics: metrics::MetricsAggregator::default(),
            status_changes: incidents::status_channel(),
            monitor_changes: tokio::sync::watch::Sender::new(0),
            probe_results: probe_results::ResultBuffer::default(),
            outbox: notifications::Outbox::default(),
            webhook_intake: webhooks::Intake::default(),
            server_metrics: server_metrics::ServerMetrics::default(),
        });
        service.refresh_tokens().await?;
        Ok(service)
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The read model SDK-facing APIs answer from.
    pub fn snapshots(&self) -> &Arc<Snapshots> {
        &self.snapshots
    }

    /// Commits `tx` and, if it moved the revision (wrote a flag or segment event, see
    /// `domain::event::moves_revision`), brings the snapshot up to the new revision. A
    /// failed reload is logged, not returned: the change is committed, and the periodic
    /// refresh will pick it up.
    async fn commit(&self, tx: Writer) -> Result<()> {
        let queued_notices = tx.queued_notices();
        let revision = tx.commit().await?;
        if queued_notices {
            self.outbox.wake();
        }
        if let Some(revision) = revision
            && let Err(e) = self.snapshots.refresh_to(revision).await
        {
            tracing::warn!(error = %e, revision, "committed, but the snapshot could not be reloaded yet");
        }
        Ok(())
    }
}

fn not_found_feature(project: &str, feature: &str) -> ServiceError {
    ServiceError::NotFound(format!(
        "There's no feature named \"{feature}\" in project \"{project}\"."
    ))
}

/// Applies an RFC 6902 JSON Patch to `doc`, turning a failed patch into a 400.
fn apply_patch(mut doc: serde_json::Value, patch: serde_json::Value) -> Result<serde_json::Value> {
    let patch: json_patch::Patch = serde_json::from_value(patch).map_err(|e| {
        Invalid::new(format!(
            "The body must be a JSON Patch (RFC 6902) array of operations: {e}"
        ))
    })?;
    json_patch::patch(&mut doc, &patch)
        .map_err(|e| Invalid::new(format!("The patch cannot be applied: {e}")))?;
    Ok(doc)
}

/// Decodes a patched document back into an input type, as a 400 if it no longer fits.
fn from_patched<T: serde::de::DeserializeOwned>(doc: serde_json::Value) -> Result<T> {
    serde_json::from_value(doc)
        .map_err(|e| Invalid::new(format!("The patched document is not valid: {e}")).into())
}
