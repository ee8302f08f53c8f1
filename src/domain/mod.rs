//! Pure types and rules: what a flag, a strategy, a token or an event is, and how input
//! is parsed into them. No I/O here: no tokio, no sqlx, no axum.

pub mod attributes;
pub mod event;
pub mod feature;
pub mod guard;
pub mod heartbeat;
pub mod incident;
pub mod invalid;
pub mod metrics;
pub mod monitor;
pub mod name;
pub mod notification;
pub mod probe;
pub mod segment;
pub mod status_page;
pub mod strategy;
pub mod timestamp;
pub mod timezone;
pub mod token;
pub mod webhook;

pub use invalid::Invalid;
pub use timestamp::Timestamp;
