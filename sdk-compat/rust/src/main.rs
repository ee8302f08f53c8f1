//! sdk-compat driver for the Rust SDK (crates.io `unleash-api-client`), unmodified.
//!
//! Reads the cases from $SDKCOMPAT_CASES and prints one JSON object per line on stdout (see
//! ../harness/main.py for the protocol); logs go to stderr.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{json, Value};
use unleash_api_client::client::{ClientBuilder, FeatureKey};
use unleash_api_client::{Client, Context};

/// The SDK wants an enum of known flags; this driver asks by name (`enable_string_features`).
#[derive(Debug, Clone, Copy)]
enum NoFeatures {}

impl FeatureKey for NoFeatures {
    fn name(self) -> &'static str {
        match self {}
    }
}

#[derive(Deserialize)]
struct Cases {
    flags: Vec<String>,
    users: Vec<User>,
    metrics_calls: Vec<MetricsCall>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct User {
    user_id: String,
    #[serde(default)]
    properties: HashMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MetricsCall {
    user_id: String,
    n: usize,
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"))
}

fn emit(out: &mut impl Write, v: Value) {
    writeln!(out, "{v}").expect("stdout");
}

fn context(user_id: &str, properties: HashMap<String, String>) -> Context {
    Context {
        user_id: Some(user_id.to_string()),
        properties,
        ..Default::default()
    }
}

#[tokio::main]
async fn main() {
    let cases: Cases =
        serde_json::from_str(&std::fs::read_to_string(env("SDKCOMPAT_CASES")).expect("read cases"))
            .expect("parse cases");
    let poll_ms: u64 = env("SDKCOMPAT_POLL_MS").parse().expect("SDKCOMPAT_POLL_MS");
    let toggle = env("SDKCOMPAT_TOGGLE_FLAG");
    let metrics_flag = env("SDKCOMPAT_METRICS_FLAG");
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());

    let started = Instant::now();
    // The SDK polls and posts metrics on the same interval.
    let client: Arc<Client<NoFeatures>> = Arc::new(
        ClientBuilder::default()
            .interval(poll_ms)
            .enable_string_features()
            .into_client(
                &format!("{}/api/", env("SDKCOMPAT_URL")),
                &env("SDKCOMPAT_APP_NAME"),
                "sdkcompat-rust-1",
                Some(env("SDKCOMPAT_CLIENT_TOKEN")),
            )
            .expect("client"),
    );
    if let Err(e) = client.register().await {
        eprintln!("register failed: {e}");
    }
    // flagwatch's clippy.toml (found up the tree) steers its own code to a supervisor; this
    // driver is a separate program.
    #[allow(clippy::disallowed_methods)]
    let poller = {
        let client = client.clone();
        tokio::spawn(async move { client.poll_for_updates().await })
    };

    let deadline = Instant::now() + Duration::from_secs(20);
    while !client.is_enabled_str(&toggle, None, false) {
        if Instant::now() > deadline {
            emit(
                &mut out,
                json!({"kind": "error", "message": "the SDK had no flags 20 s after start"}),
            );
            out.flush().ok();
            std::process::exit(1);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    emit(
        &mut out,
        json!({"kind": "ready", "ms": started.elapsed().as_millis() as u64}),
    );

    for user in &cases.users {
        let ctx = context(&user.user_id, user.properties.clone());
        for flag in &cases.flags {
            let enabled = client.is_enabled_str(flag, Some(&ctx), false);
            let v = client.get_variant_str(flag, &ctx);
            let payload = if v.payload.is_empty() {
                Value::Null
            } else {
                json!({"type": v.payload.get("type"), "value": v.payload.get("value")})
            };
            emit(
                &mut out,
                json!({"kind": "eval", "user": user.user_id, "flag": flag, "enabled": enabled,
                       "variant": {"name": v.name, "enabled": v.enabled, "payload": payload}}),
            );
        }
    }
    out.flush().ok();

    for call in &cases.metrics_calls {
        let ctx = context(&call.user_id, HashMap::new());
        for _ in 0..call.n {
            client.is_enabled_str(&metrics_flag, Some(&ctx), false);
        }
    }

    emit(&mut out, json!({"kind": "toggle-ready", "flag": toggle}));
    out.flush().ok();
    let watcher = context("toggle-watcher", HashMap::new());
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if !client.is_enabled_str(&toggle, Some(&watcher), false) {
            emit(&mut out, json!({"kind": "toggle-off"}));
            break;
        }
        if Instant::now() > deadline {
            emit(
                &mut out,
                json!({"kind": "toggle-timeout", "message":
                "flag still on in the SDK 15 s after the admin API switched it off"}),
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    out.flush().ok();

    // Metrics go out with the poll after the one that follows the counts: wait two intervals.
    tokio::time::sleep(Duration::from_millis(2 * poll_ms + 500)).await;
    client.stop_poll().await;
    poller.abort();
    emit(&mut out, json!({"kind": "done"}));
    out.flush().ok();
}
