//! What the benchmarks share (`mod common;` in each): the real server started in-process on a
//! temporary SQLite file, the `--bench` switch and `BENCH_SECS`, and quantiles.
//!
//! It lives in `benches/common/mod.rs`, not `benches/common.rs`, so that cargo does not take it
//! for a benchmark of its own.
#![allow(dead_code)] // each benchmark uses a part of it

use anyhow::Context;
use clap::Parser;
use flagwatch::app::App;
use flagwatch::config::Config;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The admin token every benchmark's server starts with.
pub const ADMIN: &str = "*:*.bench-admin";
/// The backend (SDK) token the benchmarks that need one start their server with.
pub const BACKEND: &str = "default:development.bench-client";

/// Without `--bench` (as `cargo test --benches` runs them), a benchmark is a short smoke run.
pub fn smoke_run() -> bool {
    !std::env::args().any(|a| a == "--bench")
}

/// `BENCH_SECS` when it is a sensible number of seconds, else `default`.
pub fn bench_secs(default: f64) -> f64 {
    std::env::var("BENCH_SECS")
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0 && *s < 3600.0)
        .unwrap_or(default)
}

/// The server, running in this process on port 0 and a fresh SQLite file, logs off, with the
/// admin token [`ADMIN`].
pub struct Server {
    /// `http://127.0.0.1:<port>`
    pub base: String,
    stop: oneshot::Sender<()>,
    handle: JoinHandle<anyhow::Result<()>>,
    db: tempfile::TempDir,
}

impl Server {
    /// Starts it with these further command-line arguments (`--probe-scheduler true`, tokens…).
    pub async fn start(args: &[&str]) -> anyhow::Result<Self> {
        let db = tempfile::tempdir().context("a temporary directory")?;
        let url = format!("sqlite:{}", db.path().join("flagwatch.db").display());
        let mut argv = vec![
            "flagwatch",
            "--port",
            "0",
            "--host",
            "127.0.0.1",
            "--database-url",
            &url,
            "--log-level",
            "off",
            "--init-admin-api-tokens",
            ADMIN,
        ];
        argv.extend_from_slice(args);
        let app = App::build(Config::parse_from(argv))
            .await
            .context("the server starts")?;
        let base = format!("http://{}", app.local_addr());
        let (stop, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(app.run(async move {
            let _ = rx.await;
        }));
        Ok(Self {
            base,
            stop,
            handle,
            db,
        })
    }

    /// Shuts it down gracefully and removes its database.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.handle
            .await
            .context("the server task")?
            .context("the server stops")?;
        drop(self.db);
        Ok(())
    }
}

/// The `q` quantile (0..=1, nearest rank) of an ascending slice; `None` if it is empty.
pub fn quantile<T: Copy>(sorted: &[T], q: f64) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    Some(sorted[i])
}
