//! Webhook sources (receiver URLs, each with its own secret) and the Better Stack incident
//! deliveries that arrive through them.
//!
//! A delivery is acted on in one `Writer` transaction: the log row, what the guards watching
//! its monitor do (trip or recover, with their flags' events) and a
//! `betterstack-webhook-received` event commit together or not at all. Writers are serialised
//! (SQLite's lock, PostgreSQL's advisory lock), so the duplicate check inside the transaction
//! sees every delivery committed before; the unique index on (source, key) backs it up, and a
//! violation of it is answered as a duplicate too.

use rand::Rng;
use rand::distr::Alphanumeric;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use crate::domain::Timestamp;
use crate::domain::event::{Actor, NewEvent, kind};
use crate::domain::webhook::{Action, DedupKey, Delivery, SourceInput, SourceSpec, WebhookSource};
use crate::service::guards::{GuardCause, GuardOutcome};
use crate::service::tokens::hash_secret;
use crate::service::{Result, Service, ServiceError};
use crate::store::{Reader, StoreError, WebhookDelivery};

/// Characters of a source secret: base62, ~238 bits.
const SECRET_LEN: usize = 40;

/// Largest page of the delivery log.
pub const MAX_DELIVERIES_PER_PAGE: i64 = 1000;

/// Deliveries in their write transaction at once. Writers are serialised by the database
/// anyway; the rest of a flood queues here, where only the request timeout applies, instead of
/// for a pooled connection, whose wait times out after seconds (a 503).
const CONCURRENT_WRITES: usize = 4;

/// The queue deliveries wait in for their write transaction.
pub struct Intake(tokio::sync::Semaphore);

impl Default for Intake {
    fn default() -> Self {
        Self(tokio::sync::Semaphore::new(CONCURRENT_WRITES))
    }
}

/// A source as just created or given a new secret: the only time the secret is known.
pub struct IssuedSource {
    pub source: WebhookSource,
    pub secret: String,
}

/// One page of a source's delivery log, newest first.
pub struct DeliveryPage {
    pub deliveries: Vec<WebhookDelivery>,
    pub total: i64,
}

/// What a delivery came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiptStatus {
    /// Guards watch the monitor and the event trips or recovers them.
    Processed,
    /// Guards watch the monitor, but the event changes nothing (`acknowledged`, unknown).
    Recorded,
    /// No guard watches the monitor.
    NoFlagsMapped,
    /// Accepted before: nothing done again, nothing recorded.
    Duplicate,
}

impl ReceiptStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Processed => "processed",
            Self::Recorded => "recorded",
            Self::NoFlagsMapped => "no_flags_mapped",
            Self::Duplicate => "duplicate",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    pub status: ReceiptStatus,
    pub event: String,
    pub guards: Vec<GuardOutcome>,
}

/// Credentials a delivery to the legacy path (`POST /webhook/betteruptime`) presented.
#[derive(Debug, Default)]
pub struct LegacyCredentials<'a> {
    /// `X-Webhook-Secret` or `Authorization: Bearer`.
    pub secret: Option<&'a str>,
    /// `Authorization: Basic`, decoded.
    pub basic: Option<(&'a str, &'a str)>,
}

/// Who may deliver to the legacy path.
#[derive(Debug)]
pub enum LegacyMatch {
    /// No source allows the legacy path (404).
    NoSource,
    /// Some do, but none accepts these credentials (401).
    Refused,
    Source(WebhookSource),
}

fn new_secret() -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(SECRET_LEN)
        .map(char::from)
        .collect()
}

/// Hashes compared in constant time, so the time taken says nothing about a guess.
fn same_hash(stored: &str, presented: &str) -> bool {
    bool::from(stored.as_bytes().ct_eq(presented.as_bytes()))
}

/// Whether `presented` (from `Authorization: Basic`) is the source's Basic auth. A source
/// without Basic auth accepts anything.
pub fn basic_auth_ok(source: &WebhookSource, presented: Option<(&str, &str)>) -> bool {
    match (&source.basic_auth, presented) {
        (None, _) => true,
        (Some((user, password_hash)), Some((u, p))) => {
            // Both compared, always, so a right username takes no longer to refuse.
            let user_ok = same_hash(&hash_secret(user), &hash_secret(u));
            let password_ok = same_hash(password_hash, &hash_secret(p));
            user_ok & password_ok
        }
        (Some(_), None) => false,
    }
}

fn source_not_found(id: i64) -> ServiceError {
    ServiceError::NotFound(format!("There is no webhook source with id {id}."))
}

async fn require_source(r: &mut Reader, id: i64) -> Result<WebhookSource> {
    r.webhook_source(id)
        .await?
        .ok_or_else(|| source_not_found(id))
}

/// The delivery log's `guards`: what each guard did.
fn guards_json(outcomes: &[GuardOutcome]) -> Value {
    outcomes
        .iter()
        .map(|o| {
            json!({
                "id": o.guard_id,
                "name": o.guard_name,
                "trip_id": o.trip_id,
                "flags": o.changed,
            })
        })
        .collect()
}

impl Service {
    pub async fn list_webhook_sources(&self) -> Result<Vec<WebhookSource>> {
        Ok(self.store.read().await?.webhook_sources().await?)
    }

    pub async fn get_webhook_source(&self, id: i64) -> Result<WebhookSource> {
        require_source(&mut self.store.read().await?, id).await
    }

    /// A new source with a fresh secret, returned once.
    pub async fn create_webhook_source(
        &self,
        actor: &Actor,
        input: &SourceInput,
    ) -> Result<IssuedSource> {
        let spec = SourceSpec::parse(input)?;
        let secret = new_secret();
        let now = Timestamp::now();
        let mut source = WebhookSource {
            id: 0,
            name: spec.name,
            kind: spec.kind,
            secret_hash: hash_secret(&secret),
            basic_auth: spec
                .basic_auth
                .map(|b| (b.username, hash_secret(&b.password))),
            legacy_path: spec.legacy_path,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.store.write().await?;
        if tx.webhook_source_named(&source.name).await?.is_some() {
            return Err(name_taken(&source.name));
        }
        source.id = match tx.insert_webhook_source(&source, now).await {
            Err(StoreError::Conflict { .. }) => return Err(name_taken(&source.name)),
            other => other?,
        };
        tx.append_event(&NewEvent::new(kind::WEBHOOK_SOURCE_CREATED, actor).data(source.view()))
            .await?;
        self.commit(tx).await?;
        Ok(IssuedSource { source, secret })
    }

    pub async fn delete_webhook_source(&self, actor: &Actor, id: i64) -> Result<()> {
        let mut tx = self.store.write().await?;
        let before = require_source(&mut tx, id).await?;
        tx.delete_webhook_source(id).await?;
        tx.append_event(
            &NewEvent::new(kind::WEBHOOK_SOURCE_DELETED, actor).pre_data(before.view()),
        )
        .await?;
        self.commit(tx).await
    }

    /// Gives a source a new secret, returned once; the old one stops working at commit.
    pub async fn rotate_webhook_secret(&self, actor: &Actor, id: i64) -> Result<IssuedSource> {
        let secret = new_secret();
        let now = Timestamp::now();
        let mut tx = self.store.write().await?;
        require_source(&mut tx, id).await?;
        tx.set_webhook_source_secret(id, &hash_secret(&secret), now)
            .await?;
        let source = require_source(&mut tx, id).await?;
        tx.append_event(
            &NewEvent::new(kind::WEBHOOK_SOURCE_SECRET_ROTATED, actor).data(source.view()),
        )
        .await?;
        self.commit(tx).await?;
        Ok(IssuedSource { source, secret })
    }

    /// Page `offset / limit` of a source's deliveries, newest first.
    pub async fn webhook_deliveries(
        &self,
        id: i64,
        limit: i64,
        offset: i64,
    ) -> Result<DeliveryPage> {
        let mut r = self.store.read().await?;
        require_source(&mut r, id).await?;
        let (deliveries, total) = r
            .webhook_deliveries(id, limit.clamp(1, MAX_DELIVERIES_PER_PAGE), offset.max(0))
            .await?;
        Ok(DeliveryPage { deliveries, total })
    }

    /// The source whose receiver URL carries `secret`. Every source's hash is compared, in
    /// constant time.
    pub async fn webhook_source_for_secret(&self, secret: &str) -> Result<Option<WebhookSource>> {
        let presented = hash_secret(secret);
        let mut found = None;
        for source in self.store.read().await?.webhook_sources().await? {
            if same_hash(&source.secret_hash, &presented) {
                found = Some(source);
            }
        }
        Ok(found)
    }

    /// The source a delivery to the legacy path is for: one that allows the path and accepts
    /// the credentials (its secret in a header, its secret as a Basic-auth password, or its
    /// Basic auth).
    pub async fn legacy_webhook_source(
        &self,
        creds: &LegacyCredentials<'_>,
    ) -> Result<LegacyMatch> {
        let sources: Vec<WebhookSource> = self
            .store
            .read()
            .await?
            .webhook_sources()
            .await?
            .into_iter()
            .filter(|s| s.legacy_path)
            .collect();
        if sources.is_empty() {
            return Ok(LegacyMatch::NoSource);
        }
        let secret = creds.secret.map(hash_secret);
        let basic_password = creds.basic.map(|(_, p)| hash_secret(p));
        let mut found = None;
        for source in sources {
            let by_secret = secret
                .as_deref()
                .is_some_and(|h| same_hash(&source.secret_hash, h));
            let by_password = basic_password
                .as_deref()
                .is_some_and(|h| same_hash(&source.secret_hash, h));
            let by_basic = source.basic_auth.is_some() && basic_auth_ok(&source, creds.basic);
            if by_secret | by_password | by_basic {
                found = Some(source);
            }
        }
        Ok(found.map_or(LegacyMatch::Refused, LegacyMatch::Source))
    }

    /// Acts on one delivery received through `source` (already authenticated): logs it, trips
    /// or recovers the guards watching its monitor, and appends its event, in one transaction.
    /// `None` if the source was deleted in the meantime (the caller answers 401).
    #[tracing::instrument(skip_all, fields(webhook.source = source.id, webhook.event = %delivery.event))]
    pub async fn receive_betterstack(
        &self,
        source: &WebhookSource,
        delivery: &Delivery,
    ) -> Result<Option<Receipt>> {
        let duplicate = || {
            Ok(Some(Receipt {
                status: ReceiptStatus::Duplicate,
                event: delivery.event.clone(),
                guards: Vec::new(),
            }))
        };
        let _turn = self
            .webhook_intake
            .0
            .acquire()
            .await
            .map_err(|e| ServiceError::Internal(e.into()))?;
        let now = Timestamp::now();
        let mut tx = self.store.write().await?;
        let Some(source) = tx.webhook_source(source.id).await? else {
            return Ok(None);
        };
        let monitor_name = delivery
            .pronounceable_name
            .as_deref()
            .or(delivery.name.as_deref());
        let dedup_key = match delivery.dedup_key() {
            DedupKey::Incident(key) => {
                if tx.webhook_delivery_seen(source.id, &key).await? {
                    return duplicate();
                }
                key
            }
            DedupKey::Body(hash) => {
                let prefix = format!("body:{hash}:");
                let latest = tx
                    .latest_body_keyed_delivery(
                        source.id,
                        delivery.monitor_id.as_deref(),
                        monitor_name,
                    )
                    .await?;
                match latest {
                    Some(l) if l.dedup_key.starts_with(&prefix) => return duplicate(),
                    Some(l) => format!("{prefix}{}", l.id),
                    None => format!("{prefix}0"),
                }
            }
        };

        let guards = tx
            .guards_watching_betterstack(&delivery.monitor_keys())
            .await?;
        let cause = GuardCause {
            reason: delivery.reason(),
            incident_id: None,
            external_incident: delivery.incident_id.clone(),
            monitor: None,
            at: now,
        };
        let (status, outcomes) = match (guards.is_empty(), delivery.action) {
            (true, _) => (ReceiptStatus::NoFlagsMapped, Vec::new()),
            (false, Action::Trip) => (
                ReceiptStatus::Processed,
                self.trip_guards(&mut tx, &guards, &cause).await?,
            ),
            (false, Action::Recover) => (
                ReceiptStatus::Processed,
                self.recover_guards(&mut tx, &guards, &cause).await?,
            ),
            (false, Action::Record) => (ReceiptStatus::Recorded, Vec::new()),
        };
        let logged = WebhookDelivery {
            id: 0,
            source_id: source.id,
            dedup_key,
            received_at: now,
            event: delivery.event.clone(),
            incident_id: delivery.incident_id.clone(),
            monitor_id: delivery.monitor_id.clone(),
            monitor_name: monitor_name.map(str::to_string),
            outcome: status.as_str().to_string(),
            guards: guards_json(&outcomes),
        };
        let delivery_id = match tx.insert_webhook_delivery(&logged).await {
            // Taken by a concurrent delivery: dropping `tx` undoes whatever this one did.
            Err(StoreError::Conflict { .. }) => return duplicate(),
            other => other?,
        };
        let actor = Actor {
            name: format!("webhook:{}", source.name),
            user_id: None,
        };
        tx.append_event(
            &NewEvent::new(kind::BETTERSTACK_WEBHOOK_RECEIVED, &actor).data(json!({
                "source": {"id": source.id, "name": source.name},
                "delivery_id": delivery_id,
                "event": delivery.event,
                "incident": delivery.incident_id,
                "monitor": {"id": delivery.monitor_id, "name": monitor_name},
                "reason": cause.reason,
                "outcome": status.as_str(),
                "guards": logged.guards,
            })),
        )
        .await?;
        self.commit(tx).await?;
        Ok(Some(Receipt {
            status,
            event: delivery.event.clone(),
            guards: outcomes,
        }))
    }
}

fn name_taken(name: &str) -> ServiceError {
    ServiceError::Conflict {
        name: "NameExistsError",
        message: format!("A webhook source named \"{name}\" already exists."),
    }
}
