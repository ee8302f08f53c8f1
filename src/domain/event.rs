//! The audit log. Every change appends events named as Unleash names them, in the same
//! transaction as the change; the highest id among the events that change what SDKs are
//! served ([`moves_revision`]) is the configuration revision.

use serde::Serialize;
use serde_json::Value;

use crate::domain::Timestamp;

/// Who made a change. Unleash shows `createdBy` as a name and `createdByUserId` as a number;
/// admin tokens act as user -42, the system as -1337.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub name: String,
    pub user_id: Option<i64>,
}

impl Actor {
    pub const ADMIN_TOKEN_USER_ID: i64 = -42;
    pub const SYSTEM_USER_ID: i64 = -1337;

    pub fn system() -> Self {
        Self {
            name: "unleash_system_user".into(),
            user_id: Some(Self::SYSTEM_USER_ID),
        }
    }

    pub fn admin_token(token_name: &str) -> Self {
        Self {
            name: token_name.to_string(),
            user_id: Some(Self::ADMIN_TOKEN_USER_ID),
        }
    }
}

pub mod kind {
    pub const FEATURE_CREATED: &str = "feature-created";
    pub const FEATURE_METADATA_UPDATED: &str = "feature-metadata-updated";
    pub const FEATURE_ARCHIVED: &str = "feature-archived";
    pub const FEATURE_REVIVED: &str = "feature-revived";
    pub const FEATURE_DELETED: &str = "feature-deleted";
    pub const FEATURE_STALE_ON: &str = "feature-stale-on";
    pub const FEATURE_STALE_OFF: &str = "feature-stale-off";
    pub const FEATURE_ENVIRONMENT_ENABLED: &str = "feature-environment-enabled";
    pub const FEATURE_ENVIRONMENT_DISABLED: &str = "feature-environment-disabled";
    pub const FEATURE_STRATEGY_ADD: &str = "feature-strategy-add";
    pub const FEATURE_STRATEGY_UPDATE: &str = "feature-strategy-update";
    pub const FEATURE_STRATEGY_REMOVE: &str = "feature-strategy-remove";
    pub const STRATEGY_ORDER_CHANGED: &str = "strategy-order-changed";
    pub const FEATURE_ENVIRONMENT_VARIANTS_UPDATED: &str = "feature-environment-variants-updated";
    pub const FEATURE_DEPENDENCY_ADDED: &str = "feature-dependency-added";
    pub const FEATURE_DEPENDENCY_REMOVED: &str = "feature-dependency-removed";
    pub const FEATURE_DEPENDENCIES_REMOVED: &str = "feature-dependencies-removed";
    pub const FEATURE_TAGGED: &str = "feature-tagged";
    pub const FEATURE_UNTAGGED: &str = "feature-untagged";
    pub const TAG_TYPE_CREATED: &str = "tag-type-created";
    pub const SEGMENT_CREATED: &str = "segment-created";
    pub const SEGMENT_UPDATED: &str = "segment-updated";
    pub const SEGMENT_DELETED: &str = "segment-deleted";
    pub const PROJECT_CREATED: &str = "project-created";
    pub const ENVIRONMENT_CREATED: &str = "environment-created";
    pub const API_TOKEN_CREATED: &str = "api-token-created";
    pub const API_TOKEN_UPDATED: &str = "api-token-updated";
    pub const API_TOKEN_DELETED: &str = "api-token-deleted";
    pub const MONITOR_CREATED: &str = "monitor-created";
    pub const MONITOR_UPDATED: &str = "monitor-updated";
    pub const MONITOR_DELETED: &str = "monitor-deleted";
    pub const MONITOR_STATUS_CHANGED: &str = "monitor-status-changed";
    pub const INCIDENT_OPENED: &str = "incident-opened";
    pub const INCIDENT_RESOLVED: &str = "incident-resolved";
    pub const HEARTBEAT_CREATED: &str = "heartbeat-created";
    pub const HEARTBEAT_UPDATED: &str = "heartbeat-updated";
    pub const HEARTBEAT_DELETED: &str = "heartbeat-deleted";
    pub const NOTIFICATION_CHANNEL_CREATED: &str = "notification-channel-created";
    pub const NOTIFICATION_CHANNEL_UPDATED: &str = "notification-channel-updated";
    pub const NOTIFICATION_CHANNEL_DELETED: &str = "notification-channel-deleted";
    pub const GUARD_CREATED: &str = "guard-created";
    pub const GUARD_UPDATED: &str = "guard-updated";
    pub const GUARD_DELETED: &str = "guard-deleted";
    /// A guard fired: its trip opened (the flags it switched off have their own events).
    pub const GUARD_TRIPPED: &str = "guard-tripped";
    /// A guard's signal recovered and its trip ended, with the `on_recovery` outcome.
    pub const GUARD_RECOVERED: &str = "guard-recovered";
    pub const WEBHOOK_SOURCE_CREATED: &str = "webhook-source-created";
    pub const WEBHOOK_SOURCE_DELETED: &str = "webhook-source-deleted";
    pub const WEBHOOK_SOURCE_SECRET_ROTATED: &str = "webhook-source-secret-rotated";
    /// A Better Stack delivery accepted (not a duplicate), with what it did.
    pub const BETTERSTACK_WEBHOOK_RECEIVED: &str = "betterstack-webhook-received";
    pub const STATUS_PAGE_CREATED: &str = "status-page-created";
    pub const STATUS_PAGE_UPDATED: &str = "status-page-updated";
    pub const STATUS_PAGE_DELETED: &str = "status-page-deleted";
    pub const STATUS_PAGE_RESOURCE_CREATED: &str = "status-page-resource-created";
    pub const STATUS_PAGE_RESOURCE_UPDATED: &str = "status-page-resource-updated";
    /// Removed through the API, or with its monitor (`data.reason` says which).
    pub const STATUS_PAGE_RESOURCE_DELETED: &str = "status-page-resource-deleted";
}

/// Event types that change what SDKs are served although they name no flag: segments, whose
/// constraints SDKs get inlined into the strategies that use them or listed beside them.
pub const REVISION_TYPES_WITHOUT_FEATURE: [&str; 3] = [
    kind::SEGMENT_CREATED,
    kind::SEGMENT_UPDATED,
    kind::SEGMENT_DELETED,
];

/// Whether an event moves the configuration revision, the number in every SDK's ETag and
/// the id of every streaming/delta update: the one place that decides it.
///
/// As Unleash's `getMaxRevisionId`: events about a flag (a `feature_name`) and segment
/// events. Nothing else changes the client API's output, which is built from live flags and
/// segments only (`snapshot::Snapshot`): not projects (a token or `?project=` only selects
/// flags by their project), not environments (a flag with no state in an environment is
/// served disabled there, exactly as in one that does not exist yet), not tag types or API
/// tokens (the token picks the query, the snapshot answers it), and not monitors, incidents,
/// heartbeats, guards or notification bookkeeping. Were those to count, every SDK would
/// download every flag again, and every stream would wake, on each monitor status change.
/// So an event that does not change a flag must not set `feature_name` (put the flag in its
/// `data`); a flag change by anyone (a person, a guard) sets it.
///
/// The store's revision query, and the partial index it runs on
/// (`migrations/*/0013_event_revision.sql`), say the same in SQL; a test keeps them in step.
pub fn moves_revision(event_type: &str, feature_name: Option<&str>) -> bool {
    feature_name.is_some() || REVISION_TYPES_WITHOUT_FEATURE.contains(&event_type)
}

/// An event about to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub event_type: &'static str,
    pub actor: Actor,
    pub project: Option<String>,
    pub feature_name: Option<String>,
    pub environment: Option<String>,
    pub data: Option<Value>,
    pub pre_data: Option<Value>,
}

impl NewEvent {
    pub fn new(event_type: &'static str, actor: &Actor) -> Self {
        Self {
            event_type,
            actor: actor.clone(),
            project: None,
            feature_name: None,
            environment: None,
            data: None,
            pre_data: None,
        }
    }

    pub fn feature(mut self, project: &str, feature: &str) -> Self {
        self.project = Some(project.to_string());
        self.feature_name = Some(feature.to_string());
        self
    }

    pub fn project(mut self, project: &str) -> Self {
        self.project = Some(project.to_string());
        self
    }

    pub fn environment(mut self, environment: &str) -> Self {
        self.environment = Some(environment.to_string());
        self
    }

    pub fn data(mut self, data: impl Serialize) -> Self {
        self.data = serde_json::to_value(data).ok();
        self
    }

    pub fn pre_data(mut self, pre_data: impl Serialize) -> Self {
        self.pre_data = serde_json::to_value(pre_data).ok();
        self
    }
}

/// A stored event, shaped as Unleash's event schema.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub id: i64,
    #[serde(rename = "type")]
    pub event_type: String,
    pub created_by: String,
    pub created_at: Timestamp,
    pub created_by_user_id: Option<i64>,
    pub data: Option<Value>,
    pub pre_data: Option<Value>,
    pub tags: Vec<Value>,
    pub feature_name: Option<String>,
    pub project: Option<String>,
    pub environment: Option<String>,
}

/// Which events to read, newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventQuery {
    pub types: Vec<String>,
    pub features: Vec<String>,
    pub projects: Vec<String>,
    pub environments: Vec<String>,
    pub created_by: Vec<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub offset: i64,
    pub limit: i64,
}
