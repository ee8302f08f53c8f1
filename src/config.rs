//! Settings, from flags or environment variables (`flagwatch --help` lists them all).

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::service::tokens::InitTokens;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// The command line: `flagwatch [SETTINGS]` runs the server, `flagwatch apply FILE` applies a
/// config file and exits. The server's settings are [`Config`], which also parses on its own
/// (`Config::parse_from`, as the tests build servers).
#[derive(Parser)]
#[command(
    name = "flagwatch",
    version,
    about = "A feature-flag server for unmodified Unleash SDKs, with uptime probes that switch flags off when services fail."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Apply a config file (TOML or YAML) to the database, print what changed, and exit.
    ///
    /// Uses DATABASE_URL like the server (which need not run). Prints each declared object as
    /// created, updated or unchanged. Exits 0 when applied, 2 when the file cannot be read, is
    /// invalid or does not fit the database (nothing is written), 1 when the database fails.
    Apply(ApplyArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ApplyArgs {
    /// The file: `.toml`, `.yaml` or `.yml`.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Check the file against the database and print what would change, changing nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Clone, Parser)]
#[command(
    name = "flagwatch",
    version,
    about = "A feature-flag server for unmodified Unleash SDKs, with uptime probes that switch flags off when services fail."
)]
pub struct Config {
    /// Port to listen on (0 picks a free one).
    #[arg(long, env = "PORT", default_value_t = 4242)]
    pub port: u16,

    /// Address to listen on.
    #[arg(long, env = "HOST", default_value = "0.0.0.0")]
    pub host: IpAddr,

    /// `sqlite:<file>` (created if missing) or `postgres://user:pass@host/db`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite:flagwatch.db",
        global = true
    )]
    pub database_url: String,

    /// A config file (TOML or YAML) declaring projects, flags, monitors, channels, guards and
    /// tokens, applied at start-up before serving; an invalid file stops the start.
    #[arg(long = "config", env = "FLAGWATCH_CONFIG", value_name = "FILE")]
    pub config_file: Option<PathBuf>,

    /// Admin tokens to create on first start, comma-separated, e.g. `*:*.some-secret`.
    /// Like every INIT_* list, used only while the database holds no token at all.
    #[arg(
        long,
        env = "INIT_ADMIN_API_TOKENS",
        value_delimiter = ',',
        default_value = ""
    )]
    pub init_admin_api_tokens: Vec<String>,

    /// Backend (server-side SDK) tokens to create on first start, e.g. `default:development.secret`.
    #[arg(
        long,
        env = "INIT_BACKEND_API_TOKENS",
        value_delimiter = ',',
        default_value = ""
    )]
    pub init_backend_api_tokens: Vec<String>,

    /// Unleash's older name for INIT_BACKEND_API_TOKENS; both lists are used.
    #[arg(
        long,
        env = "INIT_CLIENT_API_TOKENS",
        value_delimiter = ',',
        default_value = ""
    )]
    pub init_client_api_tokens: Vec<String>,

    /// Frontend (browser SDK) tokens to create on first start.
    #[arg(
        long,
        env = "INIT_FRONTEND_API_TOKENS",
        value_delimiter = ',',
        default_value = ""
    )]
    pub init_frontend_api_tokens: Vec<String>,

    /// Log filter: a level (`info`, `debug`) or a tracing directive (`flagwatch=debug,tower_http=info`).
    #[arg(long, env = "LOG_LEVEL", default_value = "info", global = true)]
    pub log_level: String,

    /// Log format.
    #[arg(
        long,
        env = "LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,

    /// Largest request body accepted, in bytes (larger ones get 413).
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Seconds a request may take before it is answered with 408.
    #[arg(long, env = "REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,

    /// Seconds to let in-flight requests and background tasks finish on shutdown.
    #[arg(long, env = "SHUTDOWN_TIMEOUT_SECS", default_value_t = 10)]
    pub shutdown_timeout_secs: u64,

    /// Milliseconds between checks for changes written through other replicas.
    #[arg(long, env = "SNAPSHOT_REFRESH_MS", default_value_t = 1000)]
    pub snapshot_refresh_ms: u64,

    /// PostgreSQL: LISTEN for changes other replicas commit and reload at once. Set to false
    /// where LISTEN cannot work (e.g. behind PgBouncer in transaction mode); polling remains.
    #[arg(long, env = "PG_LISTEN", default_value_t = true, action = clap::ArgAction::Set)]
    pub pg_listen: bool,

    /// Seconds between reloads of the token list, so tokens created on another replica work here.
    #[arg(long, env = "TOKEN_REFRESH_SECS", default_value_t = 10)]
    pub token_refresh_secs: u64,

    /// Origins browsers may call the frontend API (`/api/frontend*`) from, comma-separated
    /// (`https://app.example.com,https://admin.example.com`), or `*` for any.
    #[arg(
        long,
        env = "FRONTEND_CORS_ORIGINS",
        value_delimiter = ',',
        default_value = "*"
    )]
    pub frontend_cors_origins: Vec<String>,

    /// Seconds between keep-alive comments on an idle `/api/client/streaming` connection.
    #[arg(long, env = "STREAMING_KEEPALIVE_SECS", default_value_t = 30)]
    pub streaming_keepalive_secs: u64,

    /// Seconds between writes of the SDK metrics collected in memory (also written on shutdown).
    #[arg(long, env = "METRICS_FLUSH_SECS", default_value_t = 10)]
    pub metrics_flush_secs: u64,

    /// Run the monitor checks (the probe scheduler). Replicas that run it share the monitors
    /// under leases; set to false on replicas that should only serve the API.
    #[arg(long, env = "PROBE_SCHEDULER", default_value_t = true, action = clap::ArgAction::Set)]
    pub probe_scheduler: bool,

    /// Monitor checks in flight at once, across all monitors.
    #[arg(long, env = "PROBE_CONCURRENCY", default_value_t = 256)]
    pub probe_concurrency: usize,

    /// Seconds a replica's lease on a monitor runs (renewed every third of that): replicas
    /// with the scheduler on share the monitors, and a dead replica's are checked by another
    /// within about this long.
    #[arg(long, env = "PROBE_LEASE_SECS", default_value_t = 30)]
    pub probe_lease_secs: u64,

    /// Seconds between evaluations of SLA guards (their windows slide continuously).
    #[arg(long, env = "SLA_EVALUATION_SECS", default_value_t = 10)]
    pub sla_evaluation_secs: u64,

    /// Days raw check results (and their per-minute roll-ups) are kept; hourly roll-ups are kept for good.
    #[arg(long, env = "PROBE_RESULTS_RETENTION_DAYS", default_value_t = 7)]
    pub probe_results_retention_days: u32,

    /// Seconds one notification request (Slack, webhook, PagerDuty) may take before it counts
    /// as timed out and is retried.
    #[arg(long, env = "NOTIFICATION_TIMEOUT_SECS", default_value_t = 10)]
    pub notification_timeout_secs: u64,

    /// Milliseconds before the first retry of a notification; each further retry waits twice
    /// as long (at most 15 minutes), unless the receiver sent `Retry-After`.
    #[arg(long, env = "NOTIFICATION_RETRY_BASE_MS", default_value_t = 2000)]
    pub notification_retry_base_ms: u64,

    /// Attempts per notification (the first included) before it is marked failed.
    #[arg(long, env = "NOTIFICATION_MAX_ATTEMPTS", default_value_t = 12)]
    pub notification_max_attempts: u32,

    /// Notification requests in flight at once.
    #[arg(long, env = "NOTIFICATION_CONCURRENCY", default_value_t = 16)]
    pub notification_concurrency: usize,

    /// Days delivered and failed notifications stay in the delivery log.
    #[arg(long, env = "NOTIFICATION_LOG_RETENTION_DAYS", default_value_t = 30)]
    pub notification_log_retention_days: u32,

    /// A bearer secret Prometheus can scrape `/metrics` with (`Authorization: Bearer <it>`),
    /// instead of an admin token; it grants nothing else. Unset: admin tokens only.
    #[arg(long, env = "METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
}

impl Config {
    pub fn init_tokens(&self) -> InitTokens {
        let clean = |v: &[String]| -> Vec<String> {
            v.iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let mut backend = clean(&self.init_backend_api_tokens);
        backend.extend(clean(&self.init_client_api_tokens));
        InitTokens {
            admin: clean(&self.init_admin_api_tokens),
            backend,
            frontend: clean(&self.init_frontend_api_tokens),
        }
    }

    pub fn shutdown_timeout(&self) -> Duration {
        Duration::from_secs(self.shutdown_timeout_secs)
    }
}

/// Never prints token secrets or the database password.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("database_url", &redact_url(&self.database_url))
            .field("log_level", &self.log_level)
            .field("log_format", &self.log_format)
            .field("max_body_bytes", &self.max_body_bytes)
            .finish_non_exhaustive()
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((credentials, host)) = rest.rsplit_once('@') else {
        return url.to_string();
    };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_database_passwords() {
        assert_eq!(
            redact_url("postgres://u:pw@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite:flagwatch.db"), "sqlite:flagwatch.db");
    }

    #[test]
    fn client_tokens_count_as_backend_tokens() {
        let c = Config::parse_from([
            "flagwatch",
            "--init-client-api-tokens",
            "default:development.a, default:production.b",
            "--init-backend-api-tokens",
            "default:development.c",
        ]);
        let t = c.init_tokens();
        assert_eq!(
            t.backend,
            vec![
                "default:development.c",
                "default:development.a",
                "default:production.b"
            ]
        );
        assert!(t.admin.is_empty());
    }
}
