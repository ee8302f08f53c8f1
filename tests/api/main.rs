//! The integration tests: one binary, each module a capability. Every test starts the real
//! server on port 0 and talks HTTP to it, on SQLite and (with `TEST_DATABASE_URL`) PostgreSQL.
#![allow(clippy::disallowed_methods)] // tests spawn the server task directly
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod admin_api;
mod auth;
mod bad_input;
mod client_api;
mod config_file;
mod conformance;
mod dependencies;
mod failure;
mod frontend;
mod golden;
mod guards;
mod heartbeats;
mod helpers;
mod incidents;
mod leases;
mod metrics;
mod monitors;
mod notifications;
mod openapi;
mod prometheus;
mod replicas;
mod revision;
mod scheduler;
mod sla;
mod sla_guards;
mod status_pages;
mod store_contract;
mod streaming;
mod tutorial;
mod webhooks;
