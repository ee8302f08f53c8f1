//! The OpenAPI document of every route (`GET /api/openapi.json`) and a page to read it
//! (`GET /api/docs`). Neither needs a token: they describe the API, they serve no data.
//!
//! The document is generated from the `#[utoipa::path]` attribute on each handler, gathered
//! by [`ApiDoc`]. What every operation of an API has in common is added here once, by
//! [`document`], so the attributes state only what is particular to a route:
//! - every `{name}` of a path is declared as a path parameter (a string, described by
//!   [`path_parameter`]) unless the attribute declares it itself;
//! - the errors an API answers the same way everywhere: 401/403 where a token is checked,
//!   400/413/415 where a JSON body is read, 503 where the database is needed; and every error
//!   response without a body of its own gets the error shape of its API (Unleash's or
//!   Better Stack's);
//! - operation ids are `<tag>_<handler>`, unique;
//! - a summary longer than a line moves to the description.
//!
//! `tests/api/openapi.rs` compares the document's (method, path) pairs with every
//! `.route(…)` in `src/http`, so a route added without its attribute fails the tests.
//!
//! The page is hand-written HTML, CSS and JavaScript (`openapi/`), embedded in the binary and
//! served from this origin only: no CDN, no inline code, nothing fetched but the document.

use std::collections::HashSet;
use std::sync::OnceLock;

use axum::Router;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, HeaderValue, REFERRER_POLICY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::http::AppState;

/// The security schemes, by the names the `security(...)` of the attributes use.
const UNLEASH: &str = "unleash";
const BEARER: &str = "bearer";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "flagwatch",
        description = "Feature flags for unmodified Unleash SDKs, uptime monitoring in Better Stack's shape, and a kill switch that turns a failing monitor into flags switched off. Unleash's admin, client and frontend APIs keep Unleash's paths, bodies and errors; the monitor, heartbeat, incident and status-page APIs keep Better Stack's."
    ),
    modifiers(&SecuritySchemes),
    paths(
        crate::http::admin::projects::list_projects,
        crate::http::admin::projects::get_project,
        crate::http::admin::projects::create_project,
        crate::http::admin::projects::list_environments,
        crate::http::admin::projects::get_environment,
        crate::http::admin::projects::create_environment,
        crate::http::admin::features::list,
        crate::http::admin::features::create,
        crate::http::admin::features::get_one,
        crate::http::admin::features::update,
        crate::http::admin::features::patch,
        crate::http::admin::features::archive,
        crate::http::admin::features::add_dependency,
        crate::http::admin::features::remove_dependency,
        crate::http::admin::features::remove_dependencies,
        crate::http::admin::features::get_environment,
        crate::http::admin::features::switch_on,
        crate::http::admin::features::switch_off,
        crate::http::admin::features::validate,
        crate::http::admin::features::archive_many,
        crate::http::admin::features::revive_many,
        crate::http::admin::features::delete_many,
        crate::http::admin::features::list_archived,
        crate::http::admin::features::list_archived_in_project,
        crate::http::admin::features::revive_one,
        crate::http::admin::features::delete_one,
        crate::http::admin::strategies::list,
        crate::http::admin::strategies::add,
        crate::http::admin::strategies::get_one,
        crate::http::admin::strategies::update,
        crate::http::admin::strategies::patch,
        crate::http::admin::strategies::remove,
        crate::http::admin::strategies::sort,
        crate::http::admin::strategies::get_variants,
        crate::http::admin::strategies::put_variants,
        crate::http::admin::strategies::patch_variants,
        crate::http::admin::segments::list,
        crate::http::admin::segments::create,
        crate::http::admin::segments::get_one,
        crate::http::admin::segments::update,
        crate::http::admin::segments::remove,
        crate::http::admin::segments::validate,
        crate::http::admin::tags::list_types,
        crate::http::admin::tags::create_type,
        crate::http::admin::tags::list_tags,
        crate::http::admin::tags::feature_tags,
        crate::http::admin::tags::add,
        crate::http::admin::tags::update,
        crate::http::admin::tags::remove,
        crate::http::admin::tokens::list,
        crate::http::admin::tokens::create,
        crate::http::admin::tokens::update,
        crate::http::admin::tokens::remove,
        crate::http::admin::events::list,
        crate::http::admin::events::for_feature,
        crate::http::admin::events::search,
        crate::http::admin::metrics::feature_usage,
        crate::http::admin::metrics::feature_raw,
        crate::http::admin::metrics::applications,
        crate::http::admin::metrics::application,
        crate::http::client_api::features,
        crate::http::client_api::feature,
        crate::http::streaming::delta,
        crate::http::streaming::streaming,
        crate::http::client_metrics::register,
        crate::http::client_metrics::metrics,
        crate::http::client_metrics::record_frontend_metrics,
        crate::http::frontend_api::enabled_from_query,
        crate::http::frontend_api::enabled_from_body,
        crate::http::frontend_api::all_from_query,
        crate::http::frontend_api::all_from_body,
        crate::http::frontend_api::one_from_query,
        crate::http::frontend_api::one_from_body,
        crate::http::frontend_api::register,
        crate::http::ofrep::single,
        crate::http::ofrep::bulk,
        crate::http::monitors::list,
        crate::http::monitors::create,
        crate::http::monitors::get_one,
        crate::http::monitors::update,
        crate::http::monitors::remove,
        crate::http::monitors::sla,
        crate::http::monitors::response_times,
        crate::http::heartbeats::list,
        crate::http::heartbeats::create,
        crate::http::heartbeats::get_one,
        crate::http::heartbeats::update,
        crate::http::heartbeats::remove,
        crate::http::heartbeats::ping,
        crate::http::heartbeats::ping_outcome,
        crate::http::incidents::list,
        crate::http::incidents::get_one,
        crate::http::status_pages::list,
        crate::http::status_pages::create,
        crate::http::status_pages::get_one,
        crate::http::status_pages::update,
        crate::http::status_pages::remove,
        crate::http::status_pages::list_resources,
        crate::http::status_pages::create_resource,
        crate::http::status_pages::get_resource,
        crate::http::status_pages::update_resource,
        crate::http::status_pages::remove_resource,
        crate::http::status_pages::uptime,
        crate::http::status_pages::public_index,
        crate::http::status_pages::public_page,
        crate::http::admin::guards::list,
        crate::http::admin::guards::create,
        crate::http::admin::guards::get_one,
        crate::http::admin::guards::replace,
        crate::http::admin::guards::patch,
        crate::http::admin::guards::remove,
        crate::http::admin::guards::flag_state,
        crate::http::admin::webhook_sources::list,
        crate::http::admin::webhook_sources::create,
        crate::http::admin::webhook_sources::get_one,
        crate::http::admin::webhook_sources::remove,
        crate::http::admin::webhook_sources::rotate,
        crate::http::admin::webhook_sources::deliveries,
        crate::http::webhooks::receive,
        crate::http::webhooks::receive_legacy,
        crate::http::admin::notifications::list,
        crate::http::admin::notifications::create,
        crate::http::admin::notifications::get_one,
        crate::http::admin::notifications::update,
        crate::http::admin::notifications::remove,
        crate::http::admin::notifications::test,
        crate::http::admin::notifications::channel_deliveries,
        crate::http::admin::notifications::deliveries,
        crate::http::health::health,
        crate::http::health::ready,
        crate::http::prometheus::scrape,
        crate::http::ui::index,
        crate::http::ui::file,
        document_json,
        page,
        page_script,
        page_style,
    ),
    components(schemas(UnleashError, UnleashErrorDetail, TokenError, BetterStackError)),
    tags(
        (name = "Admin: projects and environments", description = "Projects and environments (`/api/admin`, admin token)."),
        (name = "Admin: flags", description = "Flags: create, read, update, archive, switch per environment, dependencies (`/api/admin`, admin token)."),
        (name = "Admin: strategies", description = "Activation strategies and variants of a flag in one environment."),
        (name = "Admin: segments", description = "Reusable lists of constraints."),
        (name = "Admin: tags", description = "Tag types and the tags of flags."),
        (name = "Admin: tokens", description = "API tokens. A secret is shown once, when the token is created."),
        (name = "Admin: events", description = "The event log: every change, with who made it."),
        (name = "Admin: metrics", description = "What SDKs reported: flag usage and applications."),
        (name = "Client API", description = "For server-side SDKs, with a backend token: every flag of the token's environment, answered from memory."),
        (name = "Frontend API", description = "For browser and mobile SDKs, with a frontend token: flags evaluated on the server for the caller's context."),
        (name = "OFREP", description = "The OpenFeature Remote Evaluation Protocol, for OpenFeature providers (frontend or backend token)."),
        (name = "Monitors", description = "Better Stack's monitor API (`/api/v2/monitors`), admin token as `Authorization: Bearer …`."),
        (name = "Heartbeats", description = "Better Stack's heartbeat API, and the ping URLs a job calls (no token: the URL is the secret)."),
        (name = "Incidents", description = "Better Stack's incident API: incidents opened by monitors and heartbeats."),
        (name = "Status pages", description = "Better Stack's status-page API, and the public pages at `/status` (no token)."),
        (name = "Kill switch: guards", description = "Guards switch flags off when a monitor fails, a Better Stack alert arrives or an SLA is missed."),
        (name = "Webhooks", description = "Better Stack incident webhooks: the sources (admin API) and the receiver URLs."),
        (name = "Notifications", description = "Notification channels (Slack, signed webhooks, PagerDuty) and their delivery log."),
        (name = "Health", description = "Liveness and readiness, no token."),
        (name = "Metrics", description = "Prometheus metrics."),
        (name = "Web UI", description = "The web UI's page and files (no token; the UI signs in with an admin token)."),
        (name = "API reference", description = "This document and the page that shows it (no token)."),
    )
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            UNLEASH,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "An API token as Unleash SDKs and scripts send it, `Authorization: <token>` \
                 (`Bearer <token>` works too). Admin tokens (`*:*.<secret>`) for `/api/admin`, \
                 backend tokens (`<project>:<environment>.<secret>`) for `/api/client`, frontend \
                 tokens for `/api/frontend`.",
            ))),
        );
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An admin token as Better Stack's API takes its token: \
                         `Authorization: Bearer *:*.<secret>`. `/metrics` also takes the \
                         `METRICS_TOKEN` secret.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "ofrepApiKey",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-API-Key",
                "OFREP: a frontend or backend token, instead of `Authorization`.",
            ))),
        );
        components.add_security_scheme(
            "webhookSecret",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Webhook-Secret",
                "A webhook source's secret, for `POST /webhook/betteruptime` (which has no secret \
                 in its path); `Authorization: Bearer <secret>` works too.",
            ))),
        );
        components.add_security_scheme(
            "webhookBasic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "Webhook sources created with `basic_auth` also check these credentials.",
                    ))
                    .build(),
            ),
        );
    }
}

/// Unleash's error body: what the admin, client and frontend APIs answer for a refused request.
#[derive(ToSchema)]
#[schema(example = json!({
    "name": "BadDataError",
    "message": "Request validation failed: your request body or params contain invalid data. Refer to the `details` list for more information.",
    "details": [{"message": "\"name\" is required.", "path": "name"}]
}))]
pub struct UnleashError {
    /// `BadDataError`, `NotFoundError`, `NameExistsError`, `ConflictError`, `NoAccessError`,
    /// `ContentTypeError`, `ContentTooLargeError`, `ServiceUnavailableError`…
    pub name: String,
    pub message: String,
    pub details: Vec<UnleashErrorDetail>,
}

/// One problem with a request; `path` names the field when there is one.
#[derive(ToSchema)]
pub struct UnleashErrorDetail {
    pub message: String,
    pub path: Option<String>,
}

/// A refused token: `{message}`. What every API answers for a token of the wrong kind (403),
/// and the client and frontend APIs for a missing or unknown one (401), as Unleash does.
#[derive(ToSchema)]
#[schema(example = json!({"message": "invalid token: expected a different token type for this endpoint"}))]
pub struct TokenError {
    pub message: String,
}

/// Better Stack's error body: `{"errors": {"field": ["message"]}}` for invalid fields (422),
/// `{"errors": "message"}` otherwise.
#[derive(ToSchema)]
#[schema(example = json!({"errors": {"url": ["url is required"]}}))]
pub struct BetterStackError {
    #[schema(value_type = Object)]
    pub errors: Value,
}

/// One RFC 6902 JSON Patch operation, as the `PATCH` routes of the admin API take them.
#[derive(ToSchema)]
#[schema(example = json!({"op": "replace", "path": "/description", "value": "New text"}))]
pub struct JsonPatchOperation {
    /// `add`, `remove`, `replace`, `move`, `copy` or `test`.
    pub op: String,
    /// A JSON Pointer to the field, e.g. `/description` or `/0/weight`.
    pub path: String,
    /// The value for `add`, `replace` and `test`.
    #[schema(value_type = Option<Value>)]
    pub value: Option<Value>,
    /// The source pointer for `move` and `copy`.
    pub from: Option<String>,
}

/// An Unleash context, what the frontend API evaluates flags for: the fields Unleash names,
/// and `properties` for the rest.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase", example = json!({"userId": "u-123", "sessionId": "s-9", "properties": {"plan": "pro"}}))]
#[allow(dead_code)] // describes the wire; the handlers read unleash-types' `Context`
pub struct UnleashContext {
    user_id: Option<String>,
    session_id: Option<String>,
    /// The caller's address when left out.
    remote_address: Option<String>,
    environment: Option<String>,
    app_name: Option<String>,
    /// RFC 3339; now when left out.
    current_time: Option<String>,
    properties: Option<std::collections::BTreeMap<String, String>>,
}

/// The frontend API's `GET` context: the query string. Any key not listed here is a property
/// too (`?plan=pro` is `properties[plan]=pro`); empty values are dropped.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
#[allow(dead_code)] // describes the query string; the handlers read it as pairs
pub struct ContextQuery {
    user_id: Option<String>,
    session_id: Option<String>,
    /// The caller's address when left out.
    remote_address: Option<String>,
    environment: Option<String>,
    app_name: Option<String>,
    /// RFC 3339; now when left out.
    current_time: Option<String>,
    /// `properties[name]=value`.
    #[param(style = DeepObject, explode)]
    properties: Option<std::collections::BTreeMap<String, String>>,
}

/// The client API's filters, as Unleash's.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
#[allow(dead_code)] // describes the query string; the handlers read it as pairs
pub struct ClientFilters {
    /// Only these projects (repeatable); only within the token's own projects.
    project: Option<Vec<String>>,
    /// Only flags whose name starts with this.
    name_prefix: Option<String>,
    /// `type:value` (repeatable; a flag with any of them matches).
    tag: Option<Vec<String>>,
}

/// Better Stack's paging of lists; answers carry `pagination` links (`first`, `last`, `prev`,
/// `next`).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // describes the query string; the handlers read it as pairs
pub struct Paging {
    /// From 1; default 1.
    page: Option<i64>,
    /// Default 50, at most 250.
    per_page: Option<i64>,
}

/// The document, built once: the attributes' operations with the conventions of the module
/// header applied.
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_else(|_| json!({}));
        apply_conventions(&mut doc);
        doc
    })
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// What an operation's security says about the API it belongs to.
#[derive(PartialEq)]
enum Shape {
    /// Unleash's error bodies (admin, client, frontend APIs).
    Unleash,
    /// Better Stack's error bodies (`/api/v2`).
    BetterStack,
    /// Its own errors, all declared by its attribute (OFREP, webhooks, public pages).
    Own,
}

/// Paths a handler answers besides the one its attribute names (one attribute per handler):
/// (alias, documented path, the alias's operation id, its summary if it differs).
const ALIASES: [(&str, &str, &str, Option<&str>); 4] = [
    ("/ui", "/", "index_ui", None),
    ("/ui/", "/", "index_ui_slash", None),
    ("/status/", "/status", "public_index_slash", None),
    (
        "/internal-backstage/prometheus",
        "/metrics",
        "scrape_unleash_path",
        Some("Prometheus metrics, at Unleash's path"),
    ),
];

fn apply_conventions(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (alias, documented, id, summary) in ALIASES {
        let Some(mut item) = paths.get(documented).cloned() else {
            continue;
        };
        for op in item
            .as_object_mut()
            .into_iter()
            .flat_map(|i| i.values_mut())
        {
            if let Some(op) = op.as_object_mut() {
                op.insert("operationId".into(), json!(id));
                if let Some(summary) = summary {
                    op.insert("summary".into(), json!(summary));
                }
            }
        }
        paths.insert(alias.to_string(), item);
    }
    let mut seen_ids = HashSet::new();
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for method in METHODS {
            let Some(op) = item.get_mut(method).and_then(Value::as_object_mut) else {
                continue;
            };
            // One attribute may serve GET and POST (heartbeat pings); only POST reads a body.
            if method == "get" {
                op.remove("requestBody");
            }
            declare_path_parameters(path, op);
            add_shared_errors(path, op);
            name_operation(method, op, &mut seen_ids);
            tidy_summary(op);
        }
    }
}

fn declare_path_parameters(path: &str, op: &mut Map<String, Value>) {
    let names: Vec<&str> = path
        .split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .collect();
    let params = op
        .entry("parameters")
        .or_insert_with(|| Value::Array(Vec::new()));
    let Some(params) = params.as_array_mut() else {
        return;
    };
    for (i, name) in names.into_iter().enumerate() {
        let declared = params
            .iter()
            .any(|p| p["in"] == "path" && p["name"] == name);
        if !declared {
            params.insert(
                i,
                json!({
                    "name": name,
                    "in": "path",
                    "required": true,
                    "description": path_parameter(path, name),
                    "schema": {"type": "string"},
                }),
            );
        }
    }
    if params.is_empty() {
        op.remove("parameters");
    }
}

/// What a path parameter is, from its name and the path it is in.
pub fn path_parameter(path: &str, name: &str) -> &'static str {
    let after = |segment: &str| path.contains(&format!("/{segment}/{{{name}}}"));
    match name {
        "project" => "Project id, e.g. `default`.",
        "feature" | "key" => "Flag name.",
        "environment" => "Environment name, e.g. `development`.",
        "strategy" => "Strategy id.",
        "parent" => "Name of the parent flag.",
        "tag_type" => "Tag type, e.g. `simple`.",
        "value" => "Tag value.",
        "app" => "Application name (`appName`, as the SDK registered it).",
        "slug" => "The status page's `subdomain`.",
        "resource_id" => "Status page resource id.",
        "outcome" => "`fail`, or an exit code: `0` reports success, anything else a failure.",
        "secret" => "The source's secret, shown once when the source was created.",
        "path" => "Any path under `/ui/`: a file of the UI, or a page of the app.",
        "name" if after("environments") => "Environment name.",
        "name" => "Flag name.",
        "token" if path.starts_with("/api/v1/heartbeat") => {
            "The heartbeat's ping token (its `url` ends with it)."
        }
        "token" => "The token's id, or its whole secret.",
        "id" if after("monitors") => "Monitor id.",
        "id" if after("heartbeats") => "Heartbeat id.",
        "id" if after("incidents") => "Incident id.",
        "id" if after("status-pages") => "Status page id.",
        "id" if after("guards") => "Guard id.",
        "id" if after("segments") => "Segment id.",
        "id" if after("notification-channels") => "Notification channel id.",
        "id" if after("webhook-sources") => "Webhook source id.",
        _ => "Identifies the resource.",
    }
}

/// The APIs in Better Stack's shape (their token-checked routes).
const BETTER_STACK_TAGS: [&str; 4] = ["Monitors", "Heartbeats", "Incidents", "Status pages"];

fn shape(op: &Map<String, Value>) -> Shape {
    let schemes: Vec<&str> = op
        .get("security")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .flat_map(|r| r.keys().map(String::as_str))
        .collect();
    if schemes.contains(&BEARER) && op_tags(op).iter().any(|t| BETTER_STACK_TAGS.contains(t)) {
        Shape::BetterStack
    } else if schemes.contains(&UNLEASH) {
        Shape::Unleash
    } else {
        Shape::Own
    }
}

fn op_tags(op: &Map<String, Value>) -> Vec<&str> {
    op.get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// Answered from the in-memory snapshot: no database, so no 503.
const SNAPSHOT_TAGS: [&str; 2] = ["Client API", "Frontend API"];

fn add_shared_errors(path: &str, op: &mut Map<String, Value>) {
    let shape = shape(op);
    if shape == Shape::Own {
        return;
    }
    let schema = match shape {
        Shape::BetterStack => "#/components/schemas/BetterStackError",
        _ => "#/components/schemas/UnleashError",
    };
    let has_body = op.contains_key("requestBody");
    let needs_database = !op_tags(op).iter().any(|t| SNAPSHOT_TAGS.contains(t));
    let token_error = "#/components/schemas/TokenError";
    // The SDK-facing APIs answer a missing token with a bare `{message}`, as Unleash does.
    let sdk_facing = op_tags(op).iter().any(|t| SNAPSHOT_TAGS.contains(t));
    let mut shared: Vec<(&str, &str, &str)> = vec![
        (
            "401",
            "No token, or one that is unknown or expired.",
            if sdk_facing { token_error } else { schema },
        ),
        (
            "403",
            "A token of another kind than this API takes.",
            token_error,
        ),
    ];
    if has_body {
        shared.push((
            "400",
            "The body is not valid JSON or not of the expected shape; the error names the field.",
            schema,
        ));
        shared.push(("413", "The body is larger than `MAX_BODY_BYTES`.", schema));
        shared.push(("415", "The body is not `application/json`.", schema));
    }
    if needs_database && path.starts_with("/api/") {
        shared.push((
            "503",
            "The database is unreachable; nothing was changed.",
            schema,
        ));
    }
    let responses = op
        .entry("responses")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(responses) = responses.as_object_mut() else {
        return;
    };
    for (status, description, body) in shared {
        responses.entry(status).or_insert_with(|| {
            json!({
                "description": description,
                "content": {"application/json": {"schema": {"$ref": body}}},
            })
        });
    }
    // Every error is in the API's error shape, unless the attribute says otherwise.
    for (status, response) in responses.iter_mut() {
        if (status.starts_with('4') || status.starts_with('5'))
            && let Some(response) = response.as_object_mut()
        {
            response
                .entry("content")
                .or_insert_with(|| json!({"application/json": {"schema": {"$ref": schema}}}));
        }
    }
}

/// `<tag>_<handler>` in snake case; the method is added when that is not yet unique.
fn name_operation(method: &str, op: &mut Map<String, Value>, seen: &mut HashSet<String>) {
    let handler = op
        .get("operationId")
        .and_then(Value::as_str)
        .unwrap_or(method)
        .to_string();
    let tag = op_tags(op).first().map_or("api", |t| t).to_string();
    let mut slug = String::new();
    for c in tag.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('_') {
            slug.push('_');
        }
    }
    let mut id = format!("{}_{handler}", slug.trim_end_matches('_'));
    if seen.contains(&id) {
        id = format!("{id}_{method}");
    }
    let mut n = 2;
    let base = id.clone();
    while seen.contains(&id) {
        id = format!("{base}_{n}");
        n += 1;
    }
    seen.insert(id.clone());
    op.insert("operationId".into(), Value::String(id));
}

/// Doc comments wrap: the summary is one line, and a long one becomes the description.
fn tidy_summary(op: &mut Map<String, Value>) {
    let Some(summary) = op.get("summary").and_then(Value::as_str) else {
        return;
    };
    let summary = summary.split_whitespace().collect::<Vec<_>>().join(" ");
    let description = op
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_string();
    if summary.chars().count() <= 90 {
        op.insert("summary".into(), Value::String(summary));
        return;
    }
    let short = summary
        .split_inclusive(". ")
        .next()
        .unwrap_or(&summary)
        .trim()
        .trim_end_matches('.')
        .to_string();
    let short = if short.chars().count() <= 90 {
        short
    } else {
        let mut cut: String = short.chars().take(87).collect();
        if let Some(space) = cut.rfind(' ') {
            cut.truncate(space);
        }
        format!("{cut}…")
    };
    let description = if description.is_empty() {
        summary
    } else {
        format!("{summary}\n\n{description}")
    };
    op.insert("summary".into(), Value::String(short));
    op.insert("description".into(), Value::String(description));
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/openapi.json", get(document_json))
        .route("/api/docs", get(page))
        .route("/api/docs/docs.js", get(page_script))
        .route("/api/docs/docs.css", get(page_style))
}

/// The OpenAPI 3.1 document of every route of this server.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "API reference",
    responses((status = 200, description = "The OpenAPI document (this one).", body = Object))
)]
async fn document_json() -> Response {
    static BODY: OnceLock<String> = OnceLock::new();
    let body = BODY.get_or_init(|| document().to_string());
    let mut response = body.as_str().into_response();
    let h = response.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// Scripts and styles from this origin only, fetches to it only; nothing inline.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// The API reference: every operation of `/api/openapi.json` by tag, with a search box.
#[utoipa::path(
    get,
    path = "/api/docs",
    tag = "API reference",
    responses((status = 200, description = "An HTML page.", content_type = "text/html"))
)]
async fn page() -> Response {
    asset(
        "text/html; charset=utf-8",
        include_str!("openapi/docs.html"),
    )
}

/// The API reference page's script.
#[utoipa::path(
    get,
    path = "/api/docs/docs.js",
    tag = "API reference",
    responses((status = 200, description = "JavaScript.", content_type = "text/javascript"))
)]
async fn page_script() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("openapi/docs.js"),
    )
}

/// The API reference page's style sheet.
#[utoipa::path(
    get,
    path = "/api/docs/docs.css",
    tag = "API reference",
    responses((status = 200, description = "CSS.", content_type = "text/css"))
)]
async fn page_style() -> Response {
    asset("text/css; charset=utf-8", include_str!("openapi/docs.css"))
}
