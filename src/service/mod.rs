//! Use cases: the only code that changes state. Each public function parses its input into
//! domain types, checks it against what is stored, and makes one store transaction that
//! writes the change together with its event rows. Readers of the revision (the client API's
//! snapshot, from issue 3 on) are told after every commit.

mod events;
pub mod features;
pub mod projects;
mod segments;
pub mod strategies;
mod tags;
pub mod tokens;

use std::sync::Arc;

use tokio::sync::watch;

use crate::domain::Invalid;
use crate::store::{Store, StoreError, Writer};

pub use events::EventFilter;
pub use tokens::{IssuedToken, TokenCache, TokenRequest};

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    Invalid(#[from] Invalid),
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
    revision: watch::Sender<i64>,
    tokens: TokenCache,
}

impl Service {
    pub async fn new(store: Arc<dyn Store>) -> Result<Arc<Self>> {
        let revision = store.read().await?.revision().await?;
        let tokens = TokenCache::default();
        let service = Arc::new(Self {
            store,
            revision: watch::Sender::new(revision),
            tokens,
        });
        service.refresh_tokens().await?;
        Ok(service)
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The latest configuration revision this replica has committed or seen.
    pub fn subscribe_revision(&self) -> watch::Receiver<i64> {
        self.revision.subscribe()
    }

    /// Commits `tx` and, if it wrote events, announces the new revision.
    async fn commit(&self, tx: Writer) -> Result<()> {
        if let Some(revision) = tx.commit().await? {
            self.revision.send_if_modified(|current| {
                let newer = revision > *current;
                if newer {
                    *current = revision;
                }
                newer
            });
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
