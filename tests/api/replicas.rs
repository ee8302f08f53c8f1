//! Several replicas on one PostgreSQL (DESIGN.md, "Scaling out"): a change written through one
//! reaches SDKs connected to another at once, announced by LISTEN/NOTIFY, and still arrives by
//! periodic polling when announcements are switched off (`--pg-listen=false`).
//!
//! PostgreSQL only; without `TEST_DATABASE_URL` these tests return early.

use std::time::Duration;

use serde_json::Value;

use crate::helpers::{TestApp, TestDb, poll_until, standard_args};

fn args(extra: &[&str]) -> Vec<String> {
    let mut args = standard_args();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

async fn flag_names(app: &TestApp) -> Vec<String> {
    app.client_features().await["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["name"].as_str().map(String::from))
        .collect()
}

/// Polls `app`'s client API until it lists `flag`; returns false if `within` passes first.
async fn sees_flag(app: &TestApp, flag: &str, within: Duration) -> bool {
    poll_until(within, async || {
        flag_names(app).await.iter().any(|n| n == flag)
    })
    .await
}

/// Reads `/api/client/streaming` until an `unleash-updated` message names `flag`.
async fn streamed_update_names(resp: &mut reqwest::Response, flag: &str, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    let mut buf = String::new();
    loop {
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let updated = block.lines().any(|l| l == "event: unleash-updated");
            let data = block
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .collect::<String>();
            if updated
                && let Ok(data) = serde_json::from_str::<Value>(data.trim())
                && data["events"]
                    .as_array()
                    .is_some_and(|es| es.iter().any(|e| e["feature"]["name"] == flag))
            {
                return true;
            }
        }
        match tokio::time::timeout_at(deadline, resp.chunk()).await {
            Ok(Ok(Some(chunk))) => buf.push_str(std::str::from_utf8(&chunk).unwrap()),
            _ => return false,
        }
    }
}

#[tokio::test]
async fn a_write_through_one_replica_reaches_another_at_once() {
    let Some(mut dbs) = TestDb::shared_postgres(2).await else {
        return;
    };
    let a = TestApp::spawn_on(dbs.remove(0), &standard_args()).await;
    // B polls once a minute: only a notification explains seeing the change within a second.
    let b = TestApp::spawn_on(dbs.remove(0), &args(&["--snapshot-refresh-ms", "60000"])).await;
    let mut stream = b.sdk_get("/api/client/streaming").await;
    // The listener connects lazily; give it a moment so the first write is not the one
    // that races its LISTEN.
    tokio::time::sleep(Duration::from_millis(300)).await;

    a.create_flag("from-a").await;

    assert!(
        sees_flag(&b, "from-a", Duration::from_secs(1)).await,
        "B did not see A's write within 1 s: {:?}",
        flag_names(&b).await
    );
    assert!(
        streamed_update_names(&mut stream, "from-a", Duration::from_secs(1)).await,
        "B's stream did not announce A's write"
    );
    // And the other way round.
    b.create_flag("from-b").await;
    assert!(sees_flag(&a, "from-b", Duration::from_secs(1)).await);
    drop(stream);
    b.stop_keeping_db().await;
    a.stop().await;
}

#[tokio::test]
async fn with_listening_off_replicas_still_catch_up_by_polling() {
    let Some(mut dbs) = TestDb::shared_postgres(3).await else {
        return;
    };
    let a = TestApp::spawn_on(dbs.remove(0), &standard_args()).await;
    let polling = TestApp::spawn_on(
        dbs.remove(0),
        &args(&["--pg-listen=false", "--snapshot-refresh-ms", "200"]),
    )
    .await;
    // Neither listening nor polling within the test: proves the flag switches LISTEN off.
    let deaf = TestApp::spawn_on(
        dbs.remove(0),
        &args(&["--pg-listen", "false", "--snapshot-refresh-ms", "60000"]),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    a.create_flag("polled").await;

    assert!(
        sees_flag(&polling, "polled", Duration::from_secs(5)).await,
        "polling did not pick up A's write"
    );
    assert!(
        !sees_flag(&deaf, "polled", Duration::from_secs(1)).await,
        "a replica with --pg-listen=false reloaded without polling"
    );
    deaf.stop_keeping_db().await;
    polling.stop_keeping_db().await;
    a.stop().await;
}
