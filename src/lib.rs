//! flagwatch: a feature-flag server that Unleash SDKs can talk to unchanged, with built-in
//! uptime probes that switch flags off when the services behind them fail.
//!
//! Reading order: `domain` (what things are) → `store` (how they persist) → `service`
//! (the only code that changes them) → `http` (the wire). `app` wires it all together.

/// Pure types and rules: flags, strategies, tokens, events.
pub mod domain;
/// Use cases: the only writers.
pub mod service;
/// The in-memory read model SDKs are served from.
pub mod snapshot;
/// Persistence: one `Store` trait, SQLite and PostgreSQL behind it.
pub mod store;

/// Wiring and the server's lifecycle.
pub mod app;
/// Settings from flags and environment variables.
pub mod config;
/// Config as code: a TOML or YAML file of flags, monitors, guards… applied through `service`.
pub mod declare;
/// The wire: axum routers and extractors.
pub mod http;
/// Sending notices: Slack, signed webhook and PagerDuty bodies, one HTTP client, the retry policy.
pub mod notify;
/// Uptime checks: HTTP, TCP, UDP, DNS and ICMP against real targets; no scheduling, no storage.
pub mod probes;
/// Logging.
pub mod telemetry;
/// Background tasks and their supervisor.
pub mod workers;
